"""Under the Strategies tabs: Run and Sweep, a progress bar while one works, and a status line
saying what is going on (or why nothing can run). The buttons run the screen's actions; the
bar knows what is running (``busy``) and why the last run failed (``error``)."""

from __future__ import annotations

from collections.abc import Callable

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Button, ProgressBar, Static


class RunBar(Horizontal):
    """Run, Sweep, progress and status."""

    DEFAULT_CSS = """
    RunBar {
        height: auto;
        background: $panel;
    }
    RunBar Button { margin-right: 1; }
    RunBar #run-progress { width: auto; margin-right: 1; }
    RunBar #run-status {
        width: 1fr;
        height: auto;
        max-height: 3;
        color: $text-muted;
    }
    RunBar #run-status.-error { color: $text-error; }
    """

    def __init__(self, *, run_key: str, sweep_key: str, walk_key: str = "",
                 id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self._run_key, self._sweep_key, self._walk_key = run_key, sweep_key, walk_key
        self.busy: str | None = None  # "backtest", "sweep", "walk-forward"... while one runs
        self.error = ""  # why the last run failed

    def compose(self) -> ComposeResult:
        yield Button(f"Run ({self._run_key})", id="run-button", compact=True, variant="primary",
                     disabled=True, action="screen.run_backtest")
        yield Button(f"Sweep ({self._sweep_key})", id="sweep-button", compact=True, disabled=True,
                     action="screen.sweep")
        progress = ProgressBar(id="run-progress", show_eta=False)
        progress.display = False
        yield progress
        yield Static("", id="run-status", markup=False)

    @property
    def progress_bar(self) -> ProgressBar:
        return self.query_one(ProgressBar)

    def can_run(self, can: bool) -> None:
        for button in self.query(Button).results(Button):
            button.disabled = not can

    def say(self, text: str, *, error: bool | None = None) -> None:
        """Show ``text``; ``error`` colours it as an error or not (``None``: as it was)."""
        status = self.query_one("#run-status", Static)
        if error is not None:
            status.set_class(error, "-error")
        status.update(text)

    def show_state(self, problem: str | None) -> None:
        """Run and Sweep enabled when nothing stands in the way (``problem`` is None); the
        status says the last run's error (while idle), else the problem, else the keys."""
        self.can_run(problem is None)
        if self.busy is None and self.error:
            self.say(self.error, error=True)
        elif problem is None:
            walk = f", {self._walk_key} walks forward" if self._walk_key else ""
            self.say(f"Ready: {self._run_key} runs the backtest, {self._sweep_key} sweeps"
                     f"{walk}.", error=False)
        else:
            self.say(problem, error=False)

    def start(self, busy: str) -> Callable[[int, int], None]:
        """``busy`` (what runs) starts: the bar shows, empty; the returned
        ``progress(done, total)`` may be called from a worker thread."""
        self.busy, self.error = busy, ""
        bar = self.progress_bar
        bar.update(total=None, progress=0)
        bar.display = True
        app = self.app

        def progress(done: int, total: int) -> None:  # in the worker thread
            app.call_from_thread(bar.update, total=total, progress=done)

        return progress

    def finish(self, error: str = "") -> None:
        """Nothing runs any more; ``error`` stays in the status until the next start."""
        self.busy, self.error = None, error
        self.progress_bar.display = False


__all__ = ["RunBar"]
