"""The places of Kash, one module (or package) each: ``workspaces``, ``chart``, ``strategies``,
``orders``, ``options``. A place imports no other place (the ``tui-places-independent``
import-linter contract): the registry and the base screen are :mod:`kash_tui.tui.places`, the
ways to another place :mod:`kash_tui.tui.navigation`.
"""
