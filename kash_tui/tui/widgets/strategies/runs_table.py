"""Stored backtest runs and walk-forwards (``wfN``), newest first, one row each. Enter reopens
one."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from rich.text import Text
from textual.widgets import DataTable

from kash_tui.domains.trading import BacktestRun, WalkForwardRun
from kash_tui.tui.format import format_metric, params_text
from kash_tui.tui.widgets.results import cursor_row_key


class RunsTable(DataTable):
    """Stored runs, newest first. Enter reopens one."""

    COLUMNS = ("Run", "Strategy", "Return %", "Sharpe", "Max DD %", "Trips", "Symbol", "TF",
               "Parameters")

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        self.add_columns(*self.COLUMNS)

    def show(self, runs: list[BacktestRun],
             order: Callable[[str], Sequence[str]] = lambda _sid: (),
             walks: Sequence[WalkForwardRun] = ()) -> None:
        """``runs`` and ``walks`` (keyed ``wfN``; their figures are out of sample), newest
        first."""
        keep = self.highlighted_key
        self.clear()
        rows: list[Any] = sorted([*runs, *walks], key=lambda r: r.created_at, reverse=True)
        for run in rows[:500]:
            m = run.metrics
            if isinstance(run, WalkForwardRun):
                name, key = f"wf{run.id}", f"wf{run.id}"
                anchored = " anchored" if run.anchored else ""
                what = (f"walk-forward: {run.window_count} windows of {run.train} + "
                        f"{run.test}{anchored}, by {run.rank_by}")
            else:
                name, key = f"#{run.id}", str(run.id)
                what = params_text(run.params, order(run.strategy_id))
            self.add_row(
                Text(name, justify="right"), run.strategy_id,
                Text(format_metric(m.total_return_pct), justify="right"),
                Text(format_metric(m.sharpe), justify="right"),
                Text(format_metric(m.max_drawdown_pct), justify="right"),
                Text(str(m.round_trips), justify="right"),
                run.symbol, run.timeframe, what,
                key=key,
            )
        if keep is not None:
            try:
                self.move_cursor(row=self.get_row_index(keep), animate=False)
            except Exception:  # noqa: BLE001 - the run is gone
                pass

    @property
    def highlighted_key(self) -> str | None:
        return cursor_row_key(self)


__all__ = ["RunsTable"]
