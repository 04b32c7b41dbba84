"""Built-in strategies: one module each. To add one, write its module and list it here.

Listed by id and place, not imported: a backtest imports only the module of the strategy it
runs (each module builds a pydantic model, and six of them cost more than the backtest of
10,000 bars). ``tests/unit/test_strategies.py`` checks that every id here is the id its class
declares.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kash_tui.domains.strategy.service import StrategyFactory

BUILTINS: dict[str, str] = {
    "sma_crossover": "sma_crossover:SmaCrossover",
    "mfi": "mfi:MoneyFlowIndex",
    "rsi_reversion": "rsi_reversion:RsiReversion",
    "bollinger_reversion": "bollinger:BollingerReversion",
    "macd": "macd:MacdCrossover",
    "donchian_breakout": "donchian:DonchianBreakout",
}
"""Strategy id -> ``module:Class`` inside this package."""


def builtin_factory(strategy_id: str) -> StrategyFactory:
    """The class of the built-in ``strategy_id`` (imports its module)."""
    module, _, name = BUILTINS[strategy_id].partition(":")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)


def __getattr__(name: str) -> Any:  # noqa: ANN401
    if name == "BUILTIN_FACTORIES":  # every built-in class, in the order listed
        return tuple(builtin_factory(strategy_id) for strategy_id in BUILTINS)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
