"""SMA crossover: buy when the fast simple moving average crosses above the slow one.

Rules, on bar ``i`` with ``fast = SMA(close, short_period)`` and ``slow = SMA(close,
long_period)``, both defined on bars ``i-1`` and ``i``:

- BUY when ``fast[i] > slow[i]`` and ``fast[i-1] <= slow[i-1]``;
- SELL when ``fast[i] < slow[i]`` and ``fast[i-1] >= slow[i-1]``.

The averages count as equal when they differ by at most ``1e-10`` of the slow one: on a flat
stretch they are equal in exact arithmetic, and float rounding alone must not fire crossovers.
The first signal can come at bar ``long_period`` (the slow SMA needs ``long_period`` closes, and a
crossing needs the bar before).
"""

from __future__ import annotations

from typing import Self

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from kash_tui.domains.strategy.indicators import sma
from kash_tui.domains.strategy.service import OHLCV, Indicator, IndicatorCache
from kash_tui.domains.strategy.service_impl import (
    ParameterizedStrategy,
    close_prices,
    crossing_signals,
)

_EQUAL_RELATIVE = 1e-10


class SmaCrossoverParams(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        title="SMA crossover parameters",
        json_schema_extra={"x-rules": ["short_period < long_period"]},
    )

    short_period: int = Field(
        default=10,
        ge=2,
        le=500,
        title="Short period",
        description="Bars in the fast moving average.",
    )
    long_period: int = Field(
        default=30,
        ge=3,
        le=1000,
        title="Long period",
        description="Bars in the slow moving average; must be more than the short period.",
    )

    @model_validator(mode="after")
    def _short_below_long(self) -> Self:
        if self.short_period >= self.long_period:
            raise ValueError(
                "short_period must be less than long_period "
                f"(got {self.short_period} and {self.long_period})"
            )
        return self


def crossover_signals(fast: np.ndarray, slow: np.ndarray, *, reuse: bool = False) -> np.ndarray:
    """int8 signals for two aligned moving averages, by the rules in the module docstring.

    With ``reuse=True`` the two arrays serve as scratch space and are overwritten (saves two
    fresh arrays, which cost more than the arithmetic on long series); never with shared ones.
    """
    spread = np.subtract(fast, slow, out=fast if reuse else None)
    band = np.abs(slow, out=slow if reuse else None)
    band *= _EQUAL_RELATIVE
    above, at_or_below = spread > band, spread <= band
    np.negative(band, out=band)
    below, at_or_above = spread < band, spread >= band
    return crossing_signals(above, at_or_below, below, at_or_above)


class SmaCrossover(ParameterizedStrategy):
    id = "sma_crossover"
    name = "SMA crossover"
    description = (
        "Buys when the short simple moving average of the close crosses above the long one, "
        "sells when it crosses below."
    )
    default_timeframe = "1Day"
    Params = SmaCrossoverParams

    @property
    def params(self) -> SmaCrossoverParams:
        return self._params  # type: ignore[return-value]

    def generate_signals(self, bars: OHLCV) -> np.ndarray:
        close = close_prices(bars)
        fast = sma(close, self.params.short_period)
        slow = sma(close, self.params.long_period)
        return crossover_signals(fast, slow, reuse=True)

    def generate_signals_cached(self, bars: OHLCV, cache: IndicatorCache) -> np.ndarray:
        """As ``generate_signals``; each SMA comes from ``cache`` (one per period per series)."""
        fast = _cached_sma(bars, cache, self.params.short_period)
        slow = _cached_sma(bars, cache, self.params.long_period)
        return crossover_signals(fast, slow)

    def indicators(self, bars: OHLCV) -> list[Indicator]:
        close = close_prices(bars)
        short, long = self.params.short_period, self.params.long_period
        return [
            Indicator(
                name=f"SMA({short})",
                values=sma(close, short),
                panel="price",
                description=f"Simple moving average of the last {short} closes.",
            ),
            Indicator(
                name=f"SMA({long})",
                values=sma(close, long),
                panel="price",
                description=f"Simple moving average of the last {long} closes.",
            ),
        ]


def _cached_sma(bars: OHLCV, cache: IndicatorCache, period: int) -> np.ndarray:
    return cache.get(("sma", "close", period), lambda: sma(close_prices(bars), period))
