"""RSI mean reversion: buy when the RSI recovers from oversold, sell when it fades from overbought.

Rules, on bar ``i`` with ``r = RSI(close, period)`` (Wilder's, as TA-Lib computes it) defined on
bars ``i-1`` and ``i`` (the first signal can come at bar ``period + 1``):

- BUY when the RSI crosses up through ``oversold``: ``r[i-1] <= oversold < r[i]``;
- SELL when the RSI crosses down through ``overbought``: ``r[i-1] >= overbought > r[i]``.

Wilder's RSI: ``100 * avg_gain / (avg_gain + avg_loss)`` over the close-to-close changes, both
averages seeded with the mean of the first ``period`` changes and then smoothed as
``avg = (avg * (period - 1) + change) / period``. As in TA-Lib, a start without any change
reads 0, so the first move up after it can read as a crossing up through ``oversold``.
"""

from __future__ import annotations

from typing import Self

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from kash_tui.domains.strategy.indicators import rsi
from kash_tui.domains.strategy.service import OHLCV, Indicator, IndicatorCache
from kash_tui.domains.strategy.base import (
    ParameterizedStrategy,
    close_prices,
    crossing_signals,
)


class RsiReversionParams(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        title="RSI mean reversion parameters",
        json_schema_extra={"x-rules": ["oversold < overbought"]},
    )

    period: int = Field(
        default=14,
        ge=2,
        le=200,
        title="RSI period",
        description="Closes in Wilder's RSI (14 is Wilder's own choice).",
    )
    oversold: float = Field(
        default=30.0,
        ge=0.0,
        le=100.0,
        allow_inf_nan=False,
        title="Oversold level",
        description="Buy when the RSI crosses up through this level.",
    )
    overbought: float = Field(
        default=70.0,
        ge=0.0,
        le=100.0,
        allow_inf_nan=False,
        title="Overbought level",
        description="Sell when the RSI crosses down through this level; above oversold.",
    )

    @model_validator(mode="after")
    def _oversold_below_overbought(self) -> Self:
        if self.oversold >= self.overbought:
            raise ValueError(
                "oversold must be less than overbought "
                f"(got {self.oversold:g} and {self.overbought:g})"
            )
        return self


class RsiReversion(ParameterizedStrategy):
    id = "rsi_reversion"
    name = "RSI mean reversion"
    description = (
        "Buys when Wilder's RSI crosses up through the oversold level, "
        "sells when it crosses down through the overbought level."
    )
    default_timeframe = "1Day"
    Params = RsiReversionParams

    @property
    def params(self) -> RsiReversionParams:
        return self._params  # type: ignore[return-value]

    def _rsi(self, bars: OHLCV) -> np.ndarray:
        return rsi(close_prices(bars), self.params.period)

    def generate_signals(self, bars: OHLCV) -> np.ndarray:
        return self._crossings(self._rsi(bars))

    def generate_signals_cached(self, bars: OHLCV, cache: IndicatorCache) -> np.ndarray:
        """As ``generate_signals``; the RSI of each period comes from ``cache``."""
        return self._crossings(
            cache.get(("rsi", "close", self.params.period), lambda: self._rsi(bars))
        )

    def _crossings(self, r: np.ndarray) -> np.ndarray:
        oversold, overbought = self.params.oversold, self.params.overbought
        return crossing_signals(r > oversold, r <= oversold, r < overbought, r >= overbought)

    def indicators(self, bars: OHLCV) -> list[Indicator]:
        p = self.params
        return [
            Indicator(
                name=f"RSI({p.period})",
                values=self._rsi(bars),
                panel="lower",
                levels=(p.oversold, p.overbought),
                description=(
                    f"Wilder's RSI over {p.period} closes, 0 to 100; "
                    f"oversold below {p.oversold:g}, overbought above {p.overbought:g}."
                ),
            )
        ]
