"""The places of Kash, one module each: ``workspaces``, ``chart``, ``strategies``, ``orders``,
``options``. A place module imports no other place (see :mod:`kash_tui.tui.places`, which holds
the registry and the base screen, and :mod:`kash_tui.tui.navigation`).

The names below are the old import location of the base, kept while code still imports them
from here.
"""

from __future__ import annotations

from kash_tui.tui.format import percent
from kash_tui.tui.places import FIRST_PLACE, NARROW, PLACES, TINY, Place, PlaceScreen
from kash_tui.tui.widgets.header import KashHeader, PlaceTab

__all__ = [
    "FIRST_PLACE", "NARROW", "PLACES", "TINY", "KashHeader", "Place", "PlaceScreen", "PlaceTab",
    "percent",
]
