"""MACD crossover: buy when the MACD line crosses above its signal line, sell when it crosses below.

Lines, as TA-Lib's ``MACD``: ``macd = EMA(close, fast) - EMA(close, slow)`` with both EMAs
started at bar ``slow - 1`` (the slow one seeded with the mean of the first ``slow`` closes, the
fast one with the mean of the ``fast`` closes ending there); ``signal = EMA(macd, signal)``
seeded with the mean of its first ``signal`` values; ``histogram = macd - signal``. All three
exist from bar ``slow + signal - 2``. Rules on bar ``i``, with both bars defined:

- BUY when ``histogram[i] > 0`` and ``histogram[i-1] <= 0`` (the MACD crosses above the signal
  line); with ``above_zero_only``, only when the MACD is above zero on that bar as well;
- SELL when ``histogram[i] < 0`` and ``histogram[i-1] >= 0`` (it crosses below).

The lines count as equal when they differ by at most ``1e-10`` of the close: on a flat stretch
both converge to the same value, and float rounding alone must not fire crossings.
"""

from __future__ import annotations

from typing import Self

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from kash_tui.domains.strategy.indicators import macd
from kash_tui.domains.strategy.service import OHLCV, Indicator, IndicatorCache
from kash_tui.domains.strategy.base import (
    ParameterizedStrategy,
    close_prices,
    crossing_signals,
)

_EQUAL_RELATIVE = 1e-10


class MacdParams(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        title="MACD parameters",
        json_schema_extra={"x-rules": ["fast_period < slow_period"]},
    )

    fast_period: int = Field(
        default=12,
        ge=2,
        le=200,
        title="Fast period",
        description="Closes in the fast EMA.",
    )
    slow_period: int = Field(
        default=26,
        ge=3,
        le=400,
        title="Slow period",
        description="Closes in the slow EMA; must be more than the fast period.",
    )
    signal_period: int = Field(
        default=9,
        ge=2,
        le=200,
        title="Signal period",
        description="Values of the MACD line in its EMA, the signal line.",
    )
    above_zero_only: bool = Field(
        default=False,
        title="Only above zero",
        description="Take a buy crossing only while the MACD is above zero (the trend is up).",
    )

    @model_validator(mode="after")
    def _fast_below_slow(self) -> Self:
        if self.fast_period >= self.slow_period:
            raise ValueError(
                "fast_period must be less than slow_period "
                f"(got {self.fast_period} and {self.slow_period})"
            )
        return self


class MacdCrossover(ParameterizedStrategy):
    id = "macd"
    name = "MACD crossover"
    description = (
        "Buys when the MACD line crosses above its signal line (optionally only above zero), "
        "sells when it crosses below."
    )
    default_timeframe = "1Day"
    Params = MacdParams

    @property
    def params(self) -> MacdParams:
        return self._params  # type: ignore[return-value]

    def _lines(self, bars: OHLCV) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        p = self.params
        return macd(close_prices(bars), p.fast_period, p.slow_period, p.signal_period)

    def generate_signals(self, bars: OHLCV) -> np.ndarray:
        line, _, histogram = self._lines(bars)
        return self._crossings(close_prices(bars), line, histogram)

    def generate_signals_cached(self, bars: OHLCV, cache: IndicatorCache) -> np.ndarray:
        """As ``generate_signals``; the lines of each (fast, slow, signal) come from ``cache``,
        so sweeping ``above_zero_only`` computes them once."""
        p = self.params
        key = ("macd", "close", p.fast_period, p.slow_period, p.signal_period)
        line = cache.get((*key, "line"), lambda: self._lines(bars)[0])
        histogram = cache.get((*key, "histogram"), lambda: self._lines(bars)[2])
        return self._crossings(close_prices(bars), line, histogram)

    def _crossings(
        self, close: np.ndarray, line: np.ndarray, histogram: np.ndarray
    ) -> np.ndarray:
        band = np.abs(close) * _EQUAL_RELATIVE
        above = histogram > band
        if self.params.above_zero_only:
            above &= line > 0.0
        return crossing_signals(above, histogram <= band, histogram < -band, histogram >= -band)

    def indicators(self, bars: OHLCV) -> list[Indicator]:
        p = self.params
        line, signal, histogram = self._lines(bars)
        spec = f"{p.fast_period},{p.slow_period},{p.signal_period}"
        return [
            Indicator(
                name=f"MACD({spec})", values=line, panel="lower", levels=(0.0,), group="macd",
                description=f"EMA({p.fast_period}) minus EMA({p.slow_period}) of the close.",
            ),
            Indicator(
                name="Signal", values=signal, panel="lower", group="macd",
                description=f"EMA({p.signal_period}) of the MACD line.",
            ),
            Indicator(
                name="Hist", values=histogram, panel="lower", group="macd", style="histogram",
                description="MACD minus signal: above zero while the MACD is above its signal.",
            ),
        ]
