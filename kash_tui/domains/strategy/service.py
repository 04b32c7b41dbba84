"""Strategy domain, public face: what a strategy is, what it returns, and the registry of them.

A strategy turns bars into signals and chart indicators. It is pure: no I/O, no clock, no state
between calls, and the signal at bar ``i`` uses bars ``0..i`` only (a backtest then fills it at
the open of bar ``i + 1``). Its parameters are a pydantic model whose JSON Schema is what the UI
renders and validates against.

Runs of one strategy with many parameter sets over the same bars (a sweep) can share indicator
arrays: a strategy that also implements ``CachedSignals`` takes each indicator from an
``IndicatorCache`` kept for the series, so e.g. SMA(20) is computed once for every pair that
uses it. Sharing is the strategy's own decision, made in its own code.

This module imports only the standard library and numpy.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Final, Protocol, runtime_checkable

import numpy as np

BUY: Final = 1
SELL: Final = -1

TIMEFRAMES: Final = ("1Min", "5Min", "15Min", "30Min", "1Hour", "4Hour", "1Day", "1Week")
"""The timeframes a strategy may name as its default (Alpaca's spelling)."""

PANELS: Final = ("price", "lower")
"""Where an indicator is drawn: over the candles, or in its own panel below them."""

STYLES: Final = ("line", "histogram")
"""How an indicator is drawn: a line, or bars up and down from zero (a lower panel only)."""


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
    are horizontal reference lines in that panel (e.g. MFI's 20 and 80). Lower indicators with
    the same non-empty ``group`` share one panel, named by the first of them (MACD's line, its
    signal line and histogram). ``style`` is ``"line"``, or ``"histogram"`` for bars from zero
    (lower panels only). Compared by identity: numpy arrays have no single truth value.
    """

    name: str
    values: np.ndarray
    panel: str
    levels: tuple[float, ...] = ()
    description: str = ""
    group: str = ""
    style: str = "line"

    def __post_init__(self) -> None:
        if self.panel not in PANELS:
            raise ValueError(f"panel must be one of {', '.join(PANELS)} (got {self.panel!r}).")
        if self.style not in STYLES:
            raise ValueError(f"style must be one of {', '.join(STYLES)} (got {self.style!r}).")
        if self.style == "histogram" and self.panel != "lower":
            raise ValueError(f"{self.name}: a histogram is drawn in a lower panel only.")


@dataclass(frozen=True)
class StrategyInfo:
    """What a strategy is, for listings (`kash strategies`, the strategy picker)."""

    id: str
    name: str
    description: str
    default_timeframe: str
    params_schema: dict[str, Any] = field(hash=False)
    source: str = "built-in"
    """Where it came from: ``built-in``, ``entry point NAME (DIST)`` or ``file``."""
    file: str | None = None
    """The file that defines it (a strategies-folder file or an entry point's module)."""


@dataclass(frozen=True)
class StrategyFailure:
    """A strategy that could not be loaded: its file failed to import, raised, or broke the
    contract (duplicate id, bad schema, signals of the wrong length or type). Listed next to
    the loaded ones; it never stops Kash from starting."""

    name: str
    """The strategy's id when it got that far, else the file's or entry point's name."""
    source: str
    """``file`` or ``entry point NAME (DIST)``."""
    reason: str
    """One sentence: what is wrong and what to do."""
    file: str | None = None
    line: int | None = None

    @property
    def where(self) -> str:
        """``path:line`` (or the path, or the source) for messages."""
        if self.file is None:
            return self.source
        return f"{self.file}:{self.line}" if self.line else self.file


class CheckVerdict(StrEnum):
    PASS = "pass"
    WARN = "warn"
    FAIL = "fail"


@dataclass(frozen=True)
class CheckResult:
    """The verdict of one check (``look-ahead``, ``determinism``, ``shape``, ``schema``,
    ``speed``) with one sentence saying why, and any further lines."""

    name: str
    verdict: CheckVerdict
    summary: str
    details: tuple[str, ...] = ()


@dataclass(frozen=True)
class CheckReport:
    """What ``StrategyService.check`` found, on which data."""

    strategy_id: str
    params: dict[str, Any] = field(hash=False)
    data: str
    """What the checks ran on, e.g. ``synthetic random walk (seed 20261204), 100,000 bars``."""
    synthetic: bool
    bar_count: int
    results: tuple[CheckResult, ...]

    @property
    def passed(self) -> bool:
        """No check failed (warnings allowed)."""
        return all(r.verdict is not CheckVerdict.FAIL for r in self.results)


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


class IndicatorCache:
    """Indicator arrays of ONE bar series, each computed once and shared by every strategy run
    over that series (a sweep runs one strategy with many parameter sets).

    A strategy asks with ``get(key, compute)``. The key names the indicator and every input
    that changes its values, beginning with the function's name, e.g. ``("sma", "close", 20)``
    (the series itself is implied: a cache belongs to one series). On a miss ``compute()``
    builds the array. Arrays handed out are read-only, since every run shares them.

    Safe to share between threads: two threads missing the same key at once both compute it and
    the first result is kept. Arrays past ``max_bytes`` in total are computed but not kept, so a
    huge grid on a long series degrades to recomputing instead of running out of memory. A
    cache pickles empty: a copy sent to another process starts cold and fills its own.
    """

    DEFAULT_MAX_BYTES: Final = 512 * 1024 * 1024

    def __init__(self, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self._max_bytes = max_bytes
        self._arrays: dict[Hashable, np.ndarray] = {}
        self._nbytes = 0
        self._lock = threading.Lock()

    def get(self, key: Hashable, compute: Callable[[], np.ndarray]) -> np.ndarray:
        """The array stored under ``key``, computed by ``compute()`` the first time."""
        found = self._arrays.get(key)
        if found is not None:
            return found
        array = np.asarray(compute())
        array.flags.writeable = False
        with self._lock:
            found = self._arrays.get(key)
            if found is not None:
                return found
            if self._nbytes + array.nbytes <= self._max_bytes:
                self._arrays[key] = array
                self._nbytes += array.nbytes
        return array

    def __len__(self) -> int:
        return len(self._arrays)

    @property
    def nbytes(self) -> int:
        """Bytes held by the kept arrays."""
        return self._nbytes

    def __reduce__(self) -> tuple[type[IndicatorCache], tuple[int]]:
        return (IndicatorCache, (self._max_bytes,))


@runtime_checkable
class CachedSignals(Protocol):
    """Optional for a ``Strategy``: its signals computed through an ``IndicatorCache``.

    ``generate_signals_cached(bars, cache)`` returns exactly what ``generate_signals(bars)``
    returns (same values, same dtype), taking every indicator it can share from ``cache``.
    Callers that run a strategy many times over the same bars (sweeps) use it when a strategy
    has it and fall back to ``generate_signals`` otherwise; a strategy without it still works.
    """

    def generate_signals_cached(self, bars: OHLCV, cache: IndicatorCache) -> np.ndarray: ...


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

    def failures(self) -> list[StrategyFailure]:
        """The strategies that could not be loaded, in the order they were found."""
        ...

    def reload(self) -> None:
        """Read the entry points and the strategies folders again (a changed file is imported
        afresh); the built-ins and strategies registered in code stay."""
        ...

    def check(
        self,
        strategy_id: str,
        params: Mapping[str, Any] | None = None,
        *,
        bars: OHLCV | None = None,
        data: str = "",
        progress: Callable[[int, int], None] | None = None,
    ) -> CheckReport:
        """Run the checks (look-ahead, determinism, shape, schema, speed) on the strategy with
        ``params``, over ``bars`` (described by ``data``) or, without them, over a deterministic
        synthetic series of 100,000 bars. Raises ``StrategyError`` for an unknown id or invalid
        parameters. ``progress(done, total)`` counts checks."""
        ...
