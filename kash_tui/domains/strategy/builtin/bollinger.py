"""Bollinger band reversion: buy when the close comes back inside the bands from below, sell at
the middle band or at the upper band.

Bands on bar ``i`` (as TA-Lib's ``BBANDS`` with a simple moving average): ``middle =
SMA(close, period)``, ``upper/lower = middle +/- num_std * sd`` where ``sd`` is the population
standard deviation (``ddof=0``) of the same ``period`` closes. With ``target`` the band chosen by
``exit`` (``middle`` or ``upper``), and the bands defined on bars ``i-1`` and ``i`` (the first
signal can come at bar ``period``):

- SELL when the close reaches the target from below: ``close[i-1] < target[i-1]`` and
  ``close[i] >= target[i]``;
- BUY when the close is back inside from below the lower band: ``close[i-1] < lower[i-1]`` and
  ``close[i] >= lower[i]``, unless the same close already reached the target (then that bar is a
  SELL, so a buy never waits for a target it is already past).

A close within ``1e-10`` of a band (relative) counts as on it, not below: on a flat stretch the
close equals the middle band in exact arithmetic, and float rounding alone must not fire signals.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from kash_tui.domains.strategy.indicators import sma, stddev
from kash_tui.domains.strategy.service import OHLCV, SELL, Indicator, IndicatorCache
from kash_tui.domains.strategy.base import ParameterizedStrategy, close_prices

_EQUAL_RELATIVE = 1e-10


class BollingerParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, title="Bollinger band parameters")

    period: int = Field(
        default=20,
        ge=2,
        le=200,
        title="Period",
        description="Closes in the moving average and the standard deviation.",
    )
    num_std: float = Field(
        default=2.0,
        ge=0.5,
        le=5.0,
        multiple_of=0.1,
        allow_inf_nan=False,
        title="Band width",
        description="Standard deviations from the middle band to the upper and lower bands.",
    )
    exit: Literal["middle", "upper"] = Field(
        default="middle",
        title="Sell at",
        description="Sell when the close reaches the middle band (the average) or the upper band.",
    )


def _previous(x: np.ndarray) -> np.ndarray:
    """``x`` one bar later: the value at ``i`` is ``x[i-1]`` (False at bar 0)."""
    out = np.zeros_like(x)
    out[1:] = x[:-1]
    return out


def _below(close: np.ndarray, band: np.ndarray) -> np.ndarray:
    """Close under the band by more than rounding (False where the band is undefined)."""
    return close < band - np.abs(band) * _EQUAL_RELATIVE


def _at_or_above(close: np.ndarray, band: np.ndarray) -> np.ndarray:
    return close >= band - np.abs(band) * _EQUAL_RELATIVE


class BollingerReversion(ParameterizedStrategy):
    id = "bollinger_reversion"
    name = "Bollinger band reversion"
    description = (
        "Buys when the close comes back inside the Bollinger bands from below the lower band, "
        "sells when it reaches the middle (or upper) band."
    )
    default_timeframe = "1Day"
    Params = BollingerParams

    @property
    def params(self) -> BollingerParams:
        return self._params  # type: ignore[return-value]

    def _bands(self, middle: np.ndarray, sd: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        width = sd * self.params.num_std
        return middle + width, middle - width

    def generate_signals(self, bars: OHLCV) -> np.ndarray:
        close = close_prices(bars)
        middle = sma(close, self.params.period)
        return self._signals(close, middle, stddev(close, self.params.period, mean=middle))

    def generate_signals_cached(self, bars: OHLCV, cache: IndicatorCache) -> np.ndarray:
        """As ``generate_signals``; the average and the deviation of each period come from
        ``cache`` (the average is the one SMA crossover shares), so a sweep of the band width
        and the exit computes them once."""
        close = close_prices(bars)
        n = self.params.period
        middle = cache.get(("sma", "close", n), lambda: sma(close, n))
        sd = cache.get(("stddev", "close", n), lambda: stddev(close, n, mean=middle))
        return self._signals(close, middle, sd)

    def _signals(self, close: np.ndarray, middle: np.ndarray, sd: np.ndarray) -> np.ndarray:
        upper, lower = self._bands(middle, sd)
        target = middle if self.params.exit == "middle" else upper
        was_below_target = _previous(_below(close, target))
        sell = was_below_target & _at_or_above(close, target)
        back_inside = _previous(_below(close, lower)) & _at_or_above(close, lower)
        buy = back_inside & _below(close, target)
        signals = buy.view(np.int8).copy()
        signals[sell] = SELL
        return signals

    def indicators(self, bars: OHLCV) -> list[Indicator]:
        close = close_prices(bars)
        p = self.params
        middle = sma(close, p.period)
        upper, lower = self._bands(middle, stddev(close, p.period, mean=middle))
        k = f"{p.num_std:g}"
        return [
            Indicator(
                name="BB up", values=upper, panel="price",
                description=f"Upper band: the {p.period}-close average plus {k} deviations.",
            ),
            Indicator(
                name=f"BB mid({p.period})", values=middle, panel="price",
                description=f"Middle band: simple moving average of the last {p.period} closes.",
            ),
            Indicator(
                name="BB low", values=lower, panel="price",
                description=f"Lower band: the {p.period}-close average minus {k} deviations.",
            ),
        ]
