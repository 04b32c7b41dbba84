"""The Setup tab: what the chosen strategy does, its parameters (a :class:`SchemaForm` rendered
from its JSON Schema) and the backtest's settings; together, what a backtest request needs.

The tab keeps what its forms last said (``values``, ``valid``, ``parts``) and lets their
``Changed`` messages bubble on to the screen, which handles them after it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.markup import escape
from textual.widgets import Static, TabPane

from kash_tui.domains.strategy import StrategyError, StrategyInfo
from kash_tui.domains.trading import BacktestRequest
from kash_tui.tui.widgets.schema_form import SchemaForm
from kash_tui.tui.widgets.strategies.settings_form import BacktestParts, BacktestSettingsForm

CHOOSE = "Choose a strategy on the left: ↑↓ then Enter."


class SetupTab(TabPane):
    """The strategy's parameters beside (from 120 columns) or above the backtest settings."""

    SCOPED_CSS = False  # the layout follows the screen's -wide class
    DEFAULT_CSS = """
    SetupTab #setup-scroll { height: 1fr; }
    SetupTab #strategy-about {
        height: auto;
        padding: 0 1;
        color: $text-muted;
    }
    SetupTab #setup-columns { height: auto; layout: vertical; }
    .-wide SetupTab #setup-columns { layout: horizontal; }
    SetupTab #params-box, SetupTab #settings-box {
        height: auto;
        padding: 0 1;
        border: round $border-blurred;
        border-title-color: $text-muted;
    }
    .-wide SetupTab #params-box, .-wide SetupTab #settings-box { width: 1fr; }
    SetupTab #params-box:focus-within, SetupTab #settings-box:focus-within {
        border: round $border;
        border-title-color: $text;
    }
    SetupTab .hint { color: $text-muted; height: auto; padding: 0 1; }
    """

    def __init__(self, *, symbol: str, timeframe: str, size_pct: float) -> None:
        super().__init__("Setup", id="tab-setup")
        self._symbol, self._timeframe, self._size_pct = symbol, timeframe, size_pct
        self.strategy_id: str | None = None  # the strategy whose form is shown
        self.values: dict[str, Any] = {}  # what its form last said, and whether it was valid
        self.valid = False
        self.parts: BacktestParts | None = None  # the checked settings, None while one is wrong

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="setup-scroll"):
            yield Static(CHOOSE, id="strategy-about", markup=False)
            with Horizontal(id="setup-columns"):
                params = Vertical(id="params-box")
                params.border_title = "Parameters"
                with params:
                    yield Static("No strategy chosen yet.", classes="hint", markup=False)
                settings = BacktestSettingsForm(
                    symbol=self._symbol, timeframe=self._timeframe, size_pct=self._size_pct,
                    id="settings-box",
                )
                settings.border_title = "Backtest"
                yield settings

    @property
    def settings(self) -> BacktestSettingsForm:
        return self.query_one(BacktestSettingsForm)

    @property
    def form(self) -> SchemaForm | None:
        """The parameters' form, or None while no strategy is chosen."""
        found = self.query("#params-box SchemaForm").results(SchemaForm)
        return next(iter(found), None)

    async def show_strategy(
        self,
        info: StrategyInfo | None,
        values: Mapping[str, Any] | None = None,
        validator: Callable[[dict[str, Any]], object] | None = None,
    ) -> None:
        """Recompose the parameters for ``info`` (``None``: no strategy); ``validator`` takes
        the parameters or raises the strategy's refusal."""
        box = self.query_one("#params-box", Vertical)
        about = self.query_one("#strategy-about", Static)
        self.strategy_id = info.id if info else None
        self.values, self.valid = {}, False
        await box.remove_children()
        if info is None:
            box.border_title = "Parameters"
            about.update(CHOOSE)
            await box.mount(Static("No strategy chosen yet.", classes="hint", markup=False))
            return
        box.border_title = f"Parameters of {escape(info.name)}"
        about.update(f"{info.name} ({info.id}, default timeframe {info.default_timeframe}): "
                     f"{info.description}")
        await box.mount(
            SchemaForm(
                info.params_schema,
                values=values,
                validator=validator,
                refusals=(StrategyError,),
                id=f"form-{info.id}",
            )
        )

    @on(SchemaForm.Changed)
    def _params_changed(self, event: SchemaForm.Changed) -> None:
        if self.strategy_id is None or event.form is not self.form:
            event.stop()  # a form on its way out
            return
        self.values, self.valid = dict(event.values), event.valid

    @on(BacktestSettingsForm.Changed)
    def _settings_changed(self, event: BacktestSettingsForm.Changed) -> None:
        self.parts = event.parts

    def follow_params(self, params: Mapping[str, Any]) -> None:
        """Put ``params`` (chosen elsewhere: the chart, a reopened run) into the form, unless
        it shows them already."""
        form = self.form
        if form is not None and {k: self.values.get(k) for k in params} != dict(params):
            form.set_values(dict(params))

    def problem(self) -> str | None:
        """What is missing before a backtest can run, or None."""
        if self.strategy_id is None:
            return "Choose a strategy on the left (↑↓, Enter)."
        if not self.valid:
            return "Fix the parameters to run."
        if self.parts is None:
            return "Fix the backtest settings to run."
        return None

    def request(self, portfolio_id: int | None) -> BacktestRequest | None:
        """The backtest set up here, filed under ``portfolio_id``; None while one is wrong."""
        parts = self.parts
        if self.problem() is not None or parts is None or self.strategy_id is None:
            return None
        return BacktestRequest(
            symbol=parts.symbol,
            strategy_id=self.strategy_id,
            timeframe=parts.timeframe,
            params=dict(self.values),
            start=parts.start,
            end=parts.end,
            settings=parts.settings,
            portfolio_id=portfolio_id,
        )


__all__ = ["SetupTab"]
