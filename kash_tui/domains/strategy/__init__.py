"""Strategy domain: strategies, their parameters and indicators, and the registry of them.

Public names come from ``service``; ``create_strategy_service`` is the one way to get a registry.
"""

from __future__ import annotations

from kash_tui.domains.strategy.service import (
    BUY,
    OHLCV,
    PANELS,
    SELL,
    TIMEFRAMES,
    CachedSignals,
    Indicator,
    IndicatorCache,
    Strategy,
    StrategyError,
    StrategyFactory,
    StrategyInfo,
    StrategyService,
)

__all__ = [
    "BUY",
    "OHLCV",
    "PANELS",
    "SELL",
    "TIMEFRAMES",
    "CachedSignals",
    "Indicator",
    "IndicatorCache",
    "Strategy",
    "StrategyError",
    "StrategyFactory",
    "StrategyInfo",
    "StrategyService",
    "create_strategy_service",
]


def create_strategy_service() -> StrategyService:
    """A registry holding the built-in strategies; each call returns a new, independent one."""
    from kash_tui.domains.strategy.builtin import BUILTIN_FACTORIES
    from kash_tui.domains.strategy.service_impl import StrategyRegistry

    return StrategyRegistry(BUILTIN_FACTORIES)
