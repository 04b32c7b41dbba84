"""The strategy registry: built-ins, strategies registered in code, and those the loader finds
(entry points and the strategies folders), with the ones that failed to load.

The base class strategies share lives in :mod:`kash_tui.domains.strategy.base` (public: user
files import it through :mod:`kash_tui.strategy_api`); its names are re-exported here for the
built-in modules that import them from this module.
"""

from __future__ import annotations

import builtins
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kash_tui.domains.strategy.base import (
    ParameterizedStrategy,
    close_prices,
    crossing_signals,
    describe_validation_error,
)
from kash_tui.domains.strategy.service import (
    OHLCV,
    TIMEFRAMES,
    CheckReport,
    Strategy,
    StrategyError,
    StrategyFactory,
    StrategyFailure,
    StrategyInfo,
)

__all__ = [
    "ParameterizedStrategy",
    "StrategyRegistry",
    "close_prices",
    "crossing_signals",
    "describe_validation_error",
]


@dataclass(frozen=True)
class _Entry:
    factory: StrategyFactory
    source: str = "built-in"
    file: str | None = None


class StrategyRegistry:
    """``StrategyService`` over an in-memory, per-instance table of factories.

    ``factories`` (the built-ins) and whatever is ``register``-ed stay for the registry's life;
    with ``folders`` (and ``entry_points``) the loader adds what it finds there, again on every
    ``reload``. Thread-safe: a reload builds the new table aside and swaps it in.
    """

    def __init__(
        self,
        factories: Iterable[StrategyFactory] = (),
        *,
        lazy: Mapping[str, Callable[[], StrategyFactory]] | None = None,
        folders: Sequence[Path] = (),
        entry_points: bool = False,
    ) -> None:
        self._lock = threading.RLock()
        self._fixed: dict[str, _Entry] = {}
        self._lazy: dict[str, Callable[[], StrategyFactory]] = dict(lazy or {})
        """Built-ins by id, imported when first asked for (a backtest imports one module)."""
        self._loaded: dict[str, _Entry] = {}
        self._failures: list[StrategyFailure] = []
        self._folders = tuple(folders)
        self._entry_points = entry_points
        self._found = not (self._folders or self._entry_points)
        """Whether the loader has looked in the folders and entry points (it does when a
        strategy that is not a built-in, the list or the failures are first asked for)."""
        for factory in factories:
            self.register(factory)

    def register(self, factory: StrategyFactory) -> None:
        strategy = factory()
        with self._lock:
            if (strategy.id in self._fixed or strategy.id in self._loaded
                    or strategy.id in self._lazy):
                raise StrategyError(
                    f"A strategy with id '{strategy.id}' is already registered; "
                    "give the new strategy a different id."
                )
            self._admit(strategy, factory)

    def _admit(self, strategy: Strategy, factory: StrategyFactory) -> None:
        if strategy.default_timeframe not in TIMEFRAMES:
            raise StrategyError(
                f"Strategy '{strategy.id}' has default_timeframe "
                f"'{strategy.default_timeframe}'; use one of {', '.join(TIMEFRAMES)}."
            )
        self._fixed[strategy.id] = _Entry(factory)

    def _builtin(self, strategy_id: str) -> _Entry | None:
        """The entry of a built-in or registered strategy, importing a lazy one now."""
        with self._lock:
            entry = self._fixed.get(strategy_id)
            if entry is not None or strategy_id not in self._lazy:
                return entry
            factory = self._lazy.pop(strategy_id)()
            strategy = factory()
            if strategy.id != strategy_id:
                raise StrategyError(
                    f"The built-in listed as '{strategy_id}' declares the id '{strategy.id}'."
                )
            self._admit(strategy, factory)
            return self._fixed[strategy_id]

    def _find(self) -> None:
        """Every lazy built-in imported, and the folders and entry points looked at once."""
        for strategy_id in builtins.list(self._lazy):
            self._builtin(strategy_id)
        if not self._found:
            with self._lock:
                if not self._found:
                    self.reload()

    def reload(self) -> None:
        from kash_tui.domains.strategy.loader import load_strategies

        with self._lock:
            taken = [*self._fixed, *self._lazy]
        result = load_strategies(self._folders, taken=taken, entry_points=self._entry_points)
        loaded = {}
        for item in result.loaded:
            strategy_id = item.factory().id
            loaded[strategy_id] = _Entry(item.factory, item.source, item.file)
        with self._lock:
            self._loaded, self._failures = loaded, builtins.list(result.failures)
            self._found = True

    def failures(self) -> builtins.list[StrategyFailure]:
        self._find()
        with self._lock:
            return builtins.list(self._failures)

    def _entries(self) -> dict[str, _Entry]:
        self._find()
        with self._lock:
            return {**self._loaded, **self._fixed}

    def list(self) -> builtins.list[StrategyInfo]:
        infos = []
        entries = self._entries()
        for strategy_id in sorted(entries):
            entry = entries[strategy_id]
            strategy = entry.factory()
            infos.append(
                StrategyInfo(
                    id=strategy.id,
                    name=strategy.name,
                    description=strategy.description,
                    default_timeframe=strategy.default_timeframe,
                    params_schema=strategy.params_schema(),
                    source=entry.source,
                    file=entry.file,
                )
            )
        return infos

    def get(self, strategy_id: str) -> Strategy:
        entry = self._builtin(strategy_id) or self._entries().get(strategy_id)
        if entry is None:
            failed = next((f for f in self.failures() if f.name == strategy_id), None)
            if failed is not None:
                raise StrategyError(
                    f"Strategy '{strategy_id}' failed to load ({failed.where}): {failed.reason}"
                )
            raise StrategyError(
                f"Unknown strategy '{strategy_id}'; run `kash strategies` to list them."
            )
        return entry.factory()

    def create_with_params(self, strategy_id: str, params: Mapping[str, Any]) -> Strategy:
        return self.get(strategy_id).with_params(params)

    def check(
        self,
        strategy_id: str,
        params: Mapping[str, Any] | None = None,
        *,
        bars: OHLCV | None = None,
        data: str = "",
        progress: Callable[[int, int], None] | None = None,
    ) -> CheckReport:
        from kash_tui.domains.strategy.checks import run_checks

        strategy = self.create_with_params(strategy_id, params or {})
        return run_checks(strategy, bars=bars, data=data, progress=progress)
