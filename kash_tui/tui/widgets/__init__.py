"""Kash's widgets, one per module, re-exported here. They import only textual, rich, numpy,
the standard library and :mod:`kash_tui.tui.format`; none calls a service or imports a place.

The re-exports are lazy (PEP 562): importing one light widget (the header, at the first paint)
does not import numpy with the chart's.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kash_tui.tui.widgets.candles import CandleChart, ChartData, LowerPanel, Marker, Series
    from kash_tui.tui.widgets.chain_table import ChainTable
    from kash_tui.tui.widgets.chart_header import ChartHeader
    from kash_tui.tui.widgets.header import KashHeader, PlaceTab
    from kash_tui.tui.widgets.kash_table import KashTable

_HOMES = {
    "CandleChart": "candles",
    "ChainTable": "chain_table",
    "ChartHeader": "chart_header",
    "ChartData": "candles",
    "LowerPanel": "candles",
    "Marker": "candles",
    "Series": "candles",
    "KashHeader": "header",
    "KashTable": "kash_table",
    "PlaceTab": "header",
}

__all__ = sorted(_HOMES)


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{home}"), name)
    globals()[name] = value
    return value
