"""Donchian breakout: buy on a close above the highest high of the entry channel, sell on a close
below the lowest low of the exit channel.

Channels on bar ``i`` are made of the bars BEFORE it, the current bar excluded (the classic
definition, and the only one that can trigger: a close can never exceed a high that includes its
own bar):

- ``upper[i] = max(high[i-entry_period .. i-1])``, ``lower[i] = min(low[i-exit_period .. i-1])``;
- BUY on every bar where ``close[i] > upper[i]`` (a new breakout);
- SELL on every bar where ``close[i] < lower[i]``.

A bar cannot be both (both channels hold bar ``i-1``, whose low is below its high). The first
signal can come at bar ``min(entry_period, exit_period)``. Repeated buys while long are ignored by
the backtest (one position at a time), as are sells while flat.
"""

from __future__ import annotations

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from kash_tui.domains.strategy.indicators import highest, lowest
from kash_tui.domains.strategy.service import OHLCV, SELL, Indicator, IndicatorCache
from kash_tui.domains.strategy.base import ParameterizedStrategy


class DonchianParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, title="Donchian breakout parameters")

    entry_period: int = Field(
        default=20,
        ge=2,
        le=500,
        title="Entry channel",
        description="Buy on a close above the highest high of this many previous bars.",
    )
    exit_period: int = Field(
        default=10,
        ge=2,
        le=500,
        title="Exit channel",
        description="Sell on a close below the lowest low of this many previous bars.",
    )


def _previous(x: np.ndarray) -> np.ndarray:
    """``x`` one bar later: the value at ``i`` is ``x[i-1]`` (NaN at bar 0)."""
    out = np.empty_like(x)
    out[:1] = np.nan
    out[1:] = x[:-1]
    return out


class DonchianBreakout(ParameterizedStrategy):
    id = "donchian_breakout"
    name = "Donchian breakout"
    description = (
        "Buys on a close above the highest high of the previous entry-channel bars, "
        "sells on a close below the lowest low of the previous exit-channel bars."
    )
    default_timeframe = "1Day"
    Params = DonchianParams

    @property
    def params(self) -> DonchianParams:
        return self._params  # type: ignore[return-value]

    def _channels(self, bars: OHLCV) -> tuple[np.ndarray, np.ndarray]:
        high = np.asarray(bars.high, dtype=np.float64)
        low = np.asarray(bars.low, dtype=np.float64)
        return (
            _previous(highest(high, self.params.entry_period)),
            _previous(lowest(low, self.params.exit_period)),
        )

    def generate_signals(self, bars: OHLCV) -> np.ndarray:
        upper, lower = self._channels(bars)
        return self._signals(np.asarray(bars.close, dtype=np.float64), upper, lower)

    def generate_signals_cached(self, bars: OHLCV, cache: IndicatorCache) -> np.ndarray:
        """As ``generate_signals``; each channel comes from ``cache`` (one per period)."""
        n_in, n_out = self.params.entry_period, self.params.exit_period
        upper = cache.get(
            ("highest", "high", n_in),
            lambda: highest(np.asarray(bars.high, dtype=np.float64), n_in),
        )
        lower = cache.get(
            ("lowest", "low", n_out),
            lambda: lowest(np.asarray(bars.low, dtype=np.float64), n_out),
        )
        close = np.asarray(bars.close, dtype=np.float64)
        return self._signals(close, _previous(upper), _previous(lower))

    @staticmethod
    def _signals(close: np.ndarray, upper: np.ndarray, lower: np.ndarray) -> np.ndarray:
        signals = (close > upper).view(np.int8).copy()
        signals[close < lower] = SELL
        return signals

    def indicators(self, bars: OHLCV) -> list[Indicator]:
        upper, lower = self._channels(bars)
        n_in, n_out = self.params.entry_period, self.params.exit_period
        return [
            Indicator(
                name=f"Upper({n_in})", values=upper, panel="price",
                description=f"Highest high of the {n_in} bars before each bar: buy above it.",
            ),
            Indicator(
                name=f"Lower({n_out})", values=lower, panel="price",
                description=f"Lowest low of the {n_out} bars before each bar: sell below it.",
            ),
        ]
