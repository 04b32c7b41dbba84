"""Strategy domain, public face: what a strategy is, what it returns, and the registry of them.

A strategy turns bars into signals and chart indicators. It is pure: no I/O, no clock, no state
between calls, and the signal at bar ``i`` uses bars ``0..i`` only (a backtest then fills it at
the open of bar ``i + 1``). Its parameters are a pydantic model whose JSON Schema is what the UI
renders and validates against.

This module imports only the standard library and numpy.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Protocol, runtime_checkable

import numpy as np

BUY: Final = 1
SELL: Final = -1

TIMEFRAMES: Final = ("1Min", "5Min", "15Min", "30Min", "1Hour", "4Hour", "1Day", "1Week")
"""The timeframes a strategy may name as its default (Alpaca's spelling)."""

PANELS: Final = ("price", "lower")
"""Where an indicator is drawn: over the candles, or in its own panel below them."""


class StrategyError(Exception):
    """A problem the user can fix: an unknown strategy id or invalid parameters.

    The message is one readable sentence that names the field and says what is expected, e.g.
    ``short_period must be less than long_period (got 50 and 20).``
    """


class OHLCV(Protocol):
    """Bars as aligned float64 arrays, oldest first. Market's bar series satisfies this."""

    @property
    def open(self) -> np.ndarray: ...

    @property
    def high(self) -> np.ndarray: ...

    @property
    def low(self) -> np.ndarray: ...

    @property
    def close(self) -> np.ndarray: ...

    @property
    def volume(self) -> np.ndarray: ...


@dataclass(frozen=True, eq=False)
class Indicator:
    """A line to draw with the chart: one float64 value per bar, NaN where undefined.

    ``panel`` is ``"price"`` (overlays the candles) or ``"lower"`` (its own panel); ``levels``
    are horizontal reference lines in that panel (e.g. MFI's 20 and 80). Compared by identity:
    numpy arrays have no single truth value.
    """

    name: str
    values: np.ndarray
    panel: str
    levels: tuple[float, ...] = ()
    description: str = ""

    def __post_init__(self) -> None:
        if self.panel not in PANELS:
            raise ValueError(f"panel must be one of {', '.join(PANELS)} (got {self.panel!r}).")


@dataclass(frozen=True)
class StrategyInfo:
    """What a strategy is, for listings (`kash strategies`, the strategy picker)."""

    id: str
    name: str
    description: str
    default_timeframe: str
    params_schema: dict[str, Any] = field(hash=False)


@runtime_checkable
class Strategy(Protocol):
    """A trading strategy with its current parameters. Instances are immutable."""

    @property
    def id(self) -> str:
        """Stable identifier used on the command line and in stored runs, e.g. ``sma_crossover``."""
        ...

    @property
    def name(self) -> str:
        """Display name, e.g. ``SMA crossover``."""
        ...

    @property
    def description(self) -> str: ...

    @property
    def default_timeframe(self) -> str:
        """One of ``TIMEFRAMES``."""
        ...

    @property
    def params(self) -> Any:
        """The current parameters: a frozen pydantic model instance (``params.model_dump()``)."""
        ...

    def params_schema(self) -> dict[str, Any]:
        """JSON Schema of the parameters: each field has title, description, default, bounds;
        cross-field rules are listed under ``"x-rules"``."""
        ...

    def with_params(self, params: Mapping[str, Any]) -> Strategy:
        """A new strategy with ``params`` applied over the current ones (keys left out keep their
        value). Raises ``StrategyError`` for unknown keys, wrong types, out-of-range values and
        broken cross-field rules."""
        ...

    def generate_signals(self, bars: OHLCV) -> np.ndarray:
        """int8 array aligned with ``bars``: ``BUY`` (+1), ``SELL`` (-1) or 0. The value at bar
        ``i`` uses data up to and including bar ``i``'s close only."""
        ...

    def indicators(self, bars: OHLCV) -> list[Indicator]:
        """The lines the strategy trades on, aligned with ``bars``."""
        ...


StrategyFactory = Callable[[], Strategy]
"""Builds a strategy with its default parameters."""


class StrategyService(Protocol):
    """The registry of strategies Kash knows."""

    def register(self, factory: StrategyFactory) -> None:
        """Add a strategy. Raises ``StrategyError`` if its id is already registered."""
        ...

    def list(self) -> list[StrategyInfo]:
        """Every registered strategy, sorted by id."""
        ...

    def get(self, strategy_id: str) -> Strategy:
        """The strategy with its default parameters. Raises ``StrategyError`` for an unknown id."""
        ...

    def create_with_params(self, strategy_id: str, params: Mapping[str, Any]) -> Strategy:
        """The strategy with ``params`` over its defaults. Raises ``StrategyError``."""
        ...
