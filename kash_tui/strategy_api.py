"""What a strategy file imports: the stable, public face for writing your own strategies.

::

    from kash_tui.strategy_api import BUY, SELL, OHLCV, Indicator, ParameterizedStrategy, indicators

Everything here keeps its name and meaning across Kash versions; anything else of ``kash_tui``
is internal and may change. ``docs/strategies.md`` walks through writing one and lists the rules
(``kash strategies new NAME`` writes a template, ``kash strategies check ID`` checks one).

- ``ParameterizedStrategy``: the base class (see :mod:`kash_tui.domains.strategy.base` for the
  contract); ``BUY`` (+1) and ``SELL`` (-1): the signal values (0 is no signal);
- ``OHLCV``: the bars a strategy gets (``open``, ``high``, ``low``, ``close``, ``volume``:
  aligned float64 numpy arrays, oldest first); ``Indicator``: a line to draw with the chart;
- ``indicators``: Kash's vectorised numpy indicators (``sma``, ``ema``, ``rsi``, ``macd``,
  ``bollinger_bands``, ``highest``, ``lowest``, ``stddev``, ``mfi``, ...), NaN until defined;
- ``crossing_signals``: int8 signals from crossings (see its docstring); ``close_prices``;
- ``IndicatorCache`` and ``CachedSignals``: optional, to share indicators across a sweep;
- ``StrategyError``: raise it from a validator for a message the user sees as it is;
- ``TIMEFRAMES``: the names ``default_timeframe`` may take.
"""

from __future__ import annotations

from kash_tui.domains.strategy import indicators
from kash_tui.domains.strategy.base import (
    ParameterizedStrategy,
    close_prices,
    crossing_signals,
)
from kash_tui.domains.strategy.service import (
    BUY,
    OHLCV,
    SELL,
    TIMEFRAMES,
    CachedSignals,
    Indicator,
    IndicatorCache,
    StrategyError,
)

__all__ = [
    "BUY",
    "OHLCV",
    "SELL",
    "TIMEFRAMES",
    "CachedSignals",
    "Indicator",
    "IndicatorCache",
    "ParameterizedStrategy",
    "StrategyError",
    "close_prices",
    "crossing_signals",
    "indicators",
]
