"""What the places share beyond the workspace/portfolio selection: the symbol and timeframe on
screen, the chosen strategy with its parameters, and the backtest being looked at.

The chart draws the strategy's indicators and the backtest's fills; the strategies place runs
backtests on the chart's symbol. One :class:`Workbench` per app, reached with
:func:`workbench(app)`; a place subscribes to :attr:`Workbench.changed` (a Textual ``Signal``)
and re-reads what it needs. Values are plain value objects from the domains' public types.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any
from weakref import WeakKeyDictionary

from textual.signal import Signal

if TYPE_CHECKING:
    from textual.app import App
    from textual.timer import Timer

    from kash_tui.domains.trading import BacktestReport

DEFAULT_SYMBOL = "DEMOA"
DEFAULT_TIMEFRAME = "1Day"


@dataclass(frozen=True)
class MarketView:
    symbol: str = DEFAULT_SYMBOL
    timeframe: str = DEFAULT_TIMEFRAME


@dataclass(frozen=True)
class StrategyChoice:
    """A strategy and parameters that passed its schema (what the chart overlays)."""

    strategy_id: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class WorkbenchState:
    market: MarketView = MarketView()
    strategy: StrategyChoice | None = None
    backtest: BacktestReport | None = None
    """The run on screen; the chart marks its fills when symbol and timeframe match."""


class Workbench:
    """The shared state and its change signal. Only the UI thread touches it."""

    def __init__(self, app: App) -> None:
        self.state = WorkbenchState()
        self.changed: Signal[WorkbenchState] = Signal(app, "workbench-changed")
        self._app = app
        self._pending: Timer | None = None

    def _set(self, state: WorkbenchState, settle: float = 0.0) -> None:
        """Take ``state``; publish it now, or (``settle`` > 0) once no change came for that
        many seconds. ``state`` is readable at once either way."""
        if state == self.state:
            return
        self.state = state
        if self._pending is not None:
            self._pending.stop()
            self._pending = None
        if settle > 0:
            self._pending = self._app.set_timer(settle, self._publish_pending)
        else:
            self.changed.publish(state)

    def _publish_pending(self) -> None:
        self._pending = None
        self.changed.publish(self.state)

    def show_market(self, symbol: str, timeframe: str | None = None) -> None:
        market = MarketView(symbol.upper(), timeframe or self.state.market.timeframe)
        self._set(replace(self.state, market=market))

    def show_timeframe(self, timeframe: str) -> None:
        self._set(replace(self.state, market=replace(self.state.market, timeframe=timeframe)))

    def choose_strategy(self, choice: StrategyChoice | None, *, settle: float = 0.0) -> None:
        """The strategy the chart overlays. A form being typed in passes ``settle`` (seconds):
        the chart then recomputes the indicators once the typing pauses, not per keystroke."""
        self._set(replace(self.state, strategy=choice), settle)

    def show_backtest(self, report: BacktestReport | None) -> None:
        """Show a run: the chart switches to its symbol and timeframe and marks its fills."""
        if report is None:
            self._set(replace(self.state, backtest=None))
            return
        run = report.run
        self._set(
            replace(
                self.state,
                backtest=report,
                market=MarketView(run.symbol, run.timeframe),
                strategy=StrategyChoice(run.strategy_id, dict(run.params)),
            )
        )


def workbench(app: App) -> Workbench:
    found = getattr(app, "_kash_workbench", None)
    if found is None:
        found = Workbench(app)
        app._kash_workbench = found  # noqa: SLF001
    return found


# -- what the chart found stored -------------------------------------------------------------

StoredSeries = dict[str, tuple[str, ...]]
"""Symbol -> the timeframes stored for it, shortest first."""

# What the chart place last learned is stored, per app (read by the palette commands and by
# whoever puts a symbol on the workbench).
_STORED: WeakKeyDictionary[App, StoredSeries] = WeakKeyDictionary()


def stored_series(app: App) -> StoredSeries | None:
    """The symbols and timeframes the chart last found stored, or None before its first load."""
    return _STORED.get(app)


def remember_stored_series(app: App, stored: StoredSeries) -> None:
    """What the chart just found stored (on the UI thread)."""
    _STORED[app] = stored


def timeframe_to_show(stored: tuple[str, ...] | None, current: str) -> str:
    """Keep ``current`` when the symbol has it; else its daily bars, else its first timeframe."""
    if not stored or current in stored:
        return current
    return "1Day" if "1Day" in stored else stored[0]
