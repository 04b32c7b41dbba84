"""Strategy domain: strategies, their parameters and indicators, and the registry of them.

Public names come from ``service``; ``create_strategy_service`` is the one way to get a registry.
The base class for writing a strategy is public in ``base`` (users import it through
:mod:`kash_tui.strategy_api`); the loader of user strategies is ``loader``, the checks ``checks``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from kash_tui.domains.strategy.service import (
    BUY,
    OHLCV,
    CheckReport,
    CheckResult,
    CheckVerdict,
    PANELS,
    SELL,
    STYLES,
    TIMEFRAMES,
    CachedSignals,
    Indicator,
    IndicatorCache,
    Strategy,
    StrategyError,
    StrategyFactory,
    StrategyFailure,
    StrategyInfo,
    StrategyService,
)

__all__ = [
    "BUY",
    "OHLCV",
    "PANELS",
    "SELL",
    "STYLES",
    "TIMEFRAMES",
    "CachedSignals",
    "CheckReport",
    "CheckResult",
    "CheckVerdict",
    "Indicator",
    "IndicatorCache",
    "Strategy",
    "StrategyError",
    "StrategyFactory",
    "StrategyFailure",
    "StrategyInfo",
    "StrategyService",
    "create_strategy_service",
]


def create_strategy_service(
    folders: Sequence[Path] = (), *, entry_points: bool = False
) -> StrategyService:
    """A registry holding the built-in strategies; each call returns a new, independent one.

    With ``folders`` (the strategies folders, see ``kash_tui.config.strategy_folders``) and
    ``entry_points=True`` it also loads the strategies of installed packages (entry-point group
    ``kash.strategies``) and the ``*.py`` files in those folders, now and on ``reload()``; one
    that fails is listed by ``failures()`` and never raises here.
    """
    from functools import partial

    from kash_tui.domains.strategy.builtin import BUILTINS, builtin_factory
    from kash_tui.domains.strategy.service_impl import StrategyRegistry

    return StrategyRegistry(
        lazy={strategy_id: partial(builtin_factory, strategy_id) for strategy_id in BUILTINS},
        folders=folders, entry_points=entry_points,
    )
