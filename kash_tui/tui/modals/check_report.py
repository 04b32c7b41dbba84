"""The checks of a strategy (look-ahead, determinism, shape, schema, speed): a verdict per check
with its sentence, on which data they ran. The Strategies place opens it when the checks end."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Footer, Static

if TYPE_CHECKING:
    from kash_tui.domains.strategy import CheckReport

class CheckReportScreen(ModalScreen[None]):
    """What ``StrategyService.check`` found, one check per block."""

    BINDINGS: ClassVar = [
        Binding("escape,q,enter", "close", "Close", id="check_report_close",
                tooltip="Close the check results"),
    ]

    DEFAULT_CSS = """
    CheckReportScreen #check-dialog { width: 100; height: 90%; }
    CheckReportScreen #check-body { height: 1fr; }
    CheckReportScreen .check-row { height: auto; margin-bottom: 1; }
    CheckReportScreen .check-verdict { width: 6; }
    CheckReportScreen .check-verdict.-pass { color: $success; text-style: bold; }
    CheckReportScreen .check-verdict.-warn { color: $warning; text-style: bold; }
    CheckReportScreen .check-verdict.-fail { color: $error; text-style: bold; }
    CheckReportScreen .check-text { width: 1fr; height: auto; }
    CheckReportScreen #check-verdict { text-style: bold; margin-bottom: 1; }
    CheckReportScreen #check-verdict.-failed { color: $text-error; }
    """

    def __init__(self, name: str, report: CheckReport) -> None:
        super().__init__(classes="kash-modal")
        self.strategy_name = name
        self.report = report

    def compose(self) -> ComposeResult:
        report = self.report
        with Vertical(classes="dialog", id="check-dialog"):
            yield Static(f"Checks of {self.strategy_name}", classes="dialog-title", markup=False)
            yield Static(f"On {report.data}.", classes="dialog-detail", markup=False)
            yield Static(self.verdict(), id="check-verdict", markup=False,
                         classes="" if report.passed else "-failed")
            with VerticalScroll(id="check-body"):
                for result in report.results:
                    text = Text.assemble((result.name, "bold"), ": ", result.summary)
                    for detail in result.details:
                        text.append(f"\n{detail}", style="dim")
                    with Horizontal(classes="check-row"):
                        yield Static(result.verdict.value.upper(),
                                     classes=f"check-verdict -{result.verdict.value}")
                        yield Static(text, classes="check-text")
        yield Footer(show_command_palette=False)

    def verdict(self) -> str:
        failed = [r.name for r in self.report.results if r.verdict.value == "fail"]
        warned = [r.name for r in self.report.results if r.verdict.value == "warn"]
        if failed:
            return f"Failed: {', '.join(failed)}."
        if warned:
            return f"Passed, with warnings: {', '.join(warned)}."
        return "Passed every check."

    def on_mount(self) -> None:
        self.query_one("#check-body").focus()

    def action_close(self) -> None:
        self.dismiss(None)


__all__ = ["CheckReportScreen"]
