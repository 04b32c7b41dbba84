"""The parity panel: a deployment against the backtest of exactly the bars it saw. Signals
matched, missed and extra (with what the deployment did), each live fill against the
backtest's fill of the same signal (slippage per unit and in money, and the total), P&L live
against backtest, and the report's notes: what to act on."""

from __future__ import annotations

from decimal import Decimal

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from kash_tui.domains.deployment import ParityReport, SignalMatch

_STATUS_STYLE = {SignalMatch.MATCHED: "green", SignalMatch.MISSED: "bold yellow",
                 SignalMatch.EXTRA: "bold red"}


def _price(value: float | Decimal | None) -> str:
    if value is None:
        return "-"
    return f"{round(float(value), 4) + 0.0:,.4f}".rstrip("0").rstrip(".")  # no "-0"


def _qty(value: float | Decimal | None) -> str:
    if value is None:
        return "-"
    if isinstance(value, Decimal):
        return f"{value.normalize():f}"
    return f"{value:g}"


def _money(value: float | None) -> str:
    return "-" if value is None else f"{round(value, 2) + 0.0:,.2f}"  # no "-0.00"


def parity_lines(r: ParityReport) -> Text:
    """The report as text for the panel (it wraps at the panel's width)."""
    out = Text()
    first = f"{r.first_live_bar:%m-%d %H:%M}" if r.first_live_bar else "-"
    last = f"{r.last_bar:%m-%d %H:%M}" if r.last_bar else "-"
    out.append(f"{r.strategy_id} on {r.symbol} {r.timeframe}: {r.bars} bars replayed, "
               f"{r.live_bars} followed live ({first} to {last} UTC)\n", style="dim")
    out.append("Signals: ", style="bold")
    out.append(f"{r.matched} matched", style="green")
    out.append(", ")
    out.append(f"{r.missed} missed", style="bold yellow" if r.missed else "")
    out.append(", ")
    out.append(f"{r.extra} extra", style="bold red" if r.extra else "")
    out.append("\n")
    for s in r.signals:
        out.append(f"  {s.bar_at:%m-%d %H:%M} {s.side:<4} ")
        out.append(f"{s.status.value.upper():<7}", style=_STATUS_STYLE.get(s.status, ""))
        out.append(f" {s.live_action}\n" if s.live_action else "\n")
    out.append("Fills ", style="bold")
    out.append("(live against backtest; slippage above 0 is worse)\n", style="dim")
    if not r.fills:
        out.append("  No fills to compare.\n", style="dim")
    for f in r.fills:
        per = _price(f.slippage_per_unit)
        cost = _money(f.slippage_cost)
        out.append(f"  {f.signal_bar_at:%m-%d %H:%M} {f.side:<4} live {_qty(f.live_qty)} @ "
                   f"{_price(f.live_price)}  backtest {_qty(f.backtest_qty)} @ "
                   f"{_price(f.backtest_price)}  slippage {per}/unit = {cost}\n")
    out.append("Slippage in total: ", style="bold")
    out.append(f"{_money(r.total_slippage)}\n",
               style="bold red" if r.total_slippage > 0 else "")
    out.append("P&L: ", style="bold")
    out.append(f"live {_money(r.live_pnl)}, backtest {_money(r.backtest_pnl)}\n")
    if r.notes:
        out.append("What to look at:\n", style="bold")
        for note in r.notes:
            out.append(f"- {note}\n")
    out.rstrip()
    return out


class ParityPanel(VerticalScroll, can_focus=True):
    """The report of the deployment on screen, or why there is none yet."""

    DEFAULT_CSS = """
    ParityPanel { height: 1fr; background: $surface; padding: 0 1; }
    ParityPanel > #parity-text { height: auto; }
    """

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self.report: ParityReport | None = None

    def compose(self) -> ComposeResult:
        yield Static("Choose a deployment to compare it with its backtest.", id="parity-text",
                     markup=False)

    @property
    def text(self) -> Static:
        return self.query_one("#parity-text", Static)

    def show(self, report: ParityReport | None, message: str = "") -> None:
        self.report = report
        self.text.update(parity_lines(report) if report is not None else message)


__all__ = ["ParityPanel", "parity_lines"]
