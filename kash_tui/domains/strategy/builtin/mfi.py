"""Money Flow Index: buy when money flow recovers from oversold, sell when it fades from overbought.

Rules, on bar ``i`` with ``m = MFI(high, low, close, volume, period)`` defined on bars ``i-1``
and ``i`` (the first signal can come at bar ``period + 1``):

- BUY when MFI crosses up through ``oversold``: ``m[i-1] <= oversold < m[i]``;
- SELL when MFI crosses down through ``overbought``: ``m[i-1] >= overbought > m[i]``.

MFI follows TA-Lib: a window without any money flow (no price move or no volume for ``period``
bars) reads 0, so the first bar with flow after such a stretch can read as a crossing up through
``oversold``.
"""

from __future__ import annotations

from typing import Self

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from kash_tui.domains.strategy.indicators import mfi
from kash_tui.domains.strategy.service import OHLCV, Indicator, IndicatorCache
from kash_tui.domains.strategy.service_impl import ParameterizedStrategy, crossing_signals


class MfiParams(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        title="Money Flow Index parameters",
        json_schema_extra={"x-rules": ["oversold < overbought"]},
    )

    period: int = Field(
        default=14,
        ge=2,
        le=200,
        title="Period",
        description="Bars of money flow in the index.",
    )
    oversold: float = Field(
        default=20.0,
        ge=0.0,
        le=100.0,
        allow_inf_nan=False,
        title="Oversold level",
        description="Buy when the MFI crosses up through this level.",
    )
    overbought: float = Field(
        default=80.0,
        ge=0.0,
        le=100.0,
        allow_inf_nan=False,
        title="Overbought level",
        description="Sell when the MFI crosses down through this level; above oversold.",
    )

    @model_validator(mode="after")
    def _oversold_below_overbought(self) -> Self:
        if self.oversold >= self.overbought:
            raise ValueError(
                "oversold must be less than overbought "
                f"(got {self.oversold:g} and {self.overbought:g})"
            )
        return self


class MoneyFlowIndex(ParameterizedStrategy):
    id = "mfi"
    name = "Money Flow Index"
    description = (
        "Buys when the volume-weighted Money Flow Index crosses up through the oversold level, "
        "sells when it crosses down through the overbought level."
    )
    default_timeframe = "1Day"
    Params = MfiParams

    @property
    def params(self) -> MfiParams:
        return self._params  # type: ignore[return-value]

    def _mfi(self, bars: OHLCV) -> np.ndarray:
        return mfi(bars.high, bars.low, bars.close, bars.volume, self.params.period)

    def generate_signals(self, bars: OHLCV) -> np.ndarray:
        return self._crossings(self._mfi(bars))

    def generate_signals_cached(self, bars: OHLCV, cache: IndicatorCache) -> np.ndarray:
        """As ``generate_signals``; the MFI of each period comes from ``cache``, so a sweep of
        the levels computes it once."""
        return self._crossings(cache.get(("mfi", self.params.period), lambda: self._mfi(bars)))

    def _crossings(self, m: np.ndarray) -> np.ndarray:
        oversold, overbought = self.params.oversold, self.params.overbought
        return crossing_signals(m > oversold, m <= oversold, m < overbought, m >= overbought)

    def indicators(self, bars: OHLCV) -> list[Indicator]:
        p = self.params
        return [
            Indicator(
                name=f"MFI({p.period})",
                values=self._mfi(bars),
                panel="lower",
                levels=(p.oversold, p.overbought),
                description=(
                    f"Money Flow Index over {p.period} bars, 0 to 100; "
                    f"oversold below {p.oversold:g}, overbought above {p.overbought:g}."
                ),
            )
        ]
