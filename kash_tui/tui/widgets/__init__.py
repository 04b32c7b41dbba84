"""Reusable Kash widgets. They import only textual, rich, numpy and the standard library."""

from kash_tui.tui.widgets.candles import CandleChart, ChartData, LowerPanel, Marker, Series

__all__ = ["CandleChart", "ChartData", "LowerPanel", "Marker", "Series"]
