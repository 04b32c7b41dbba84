"""Built-in strategies: one module each. To add one, write its module and list it here."""

from __future__ import annotations

from kash_tui.domains.strategy.builtin.bollinger import BollingerReversion
from kash_tui.domains.strategy.builtin.donchian import DonchianBreakout
from kash_tui.domains.strategy.builtin.macd import MacdCrossover
from kash_tui.domains.strategy.builtin.mfi import MoneyFlowIndex
from kash_tui.domains.strategy.builtin.rsi_reversion import RsiReversion
from kash_tui.domains.strategy.builtin.sma_crossover import SmaCrossover
from kash_tui.domains.strategy.service import StrategyFactory

BUILTIN_FACTORIES: tuple[StrategyFactory, ...] = (
    SmaCrossover,
    MoneyFlowIndex,
    RsiReversion,
    BollingerReversion,
    MacdCrossover,
    DonchianBreakout,
)
