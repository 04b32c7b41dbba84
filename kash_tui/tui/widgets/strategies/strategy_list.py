"""The registered strategies, name over description, then those that failed to load (greyed,
with their reason and file:line; they cannot be chosen). Enter posts
:class:`StrategyList.StrategyChosen`."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import PurePath

from rich.text import Text
from textual import on
from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from kash_tui.domains.strategy import StrategyFailure, StrategyInfo

FAILED_PREFIX = "failed:"


class StrategyList(OptionList):
    """The strategies to choose from; the highlight follows the chosen one."""

    DEFAULT_CSS = """
    StrategyList {
        height: 1fr;
        border: round $border-blurred;
        border-title-color: $text-muted;
        background: $surface;
    }
    StrategyList:focus {
        border: round $border;
        border-title-color: $text;
    }
    """

    class StrategyChosen(Message):
        """The user chose ``strategy_id`` (Enter or a click)."""

        def __init__(self, strategy_list: StrategyList, strategy_id: str) -> None:
            super().__init__()
            self.strategy_list = strategy_list
            self.strategy_id = strategy_id

        @property
        def control(self) -> StrategyList:
            return self.strategy_list

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self.border_title = "Strategies"
        self.infos: list[StrategyInfo] = []
        self.failures: list[StrategyFailure] = []

    def show(self, infos: Sequence[StrategyInfo], keep: str | None,
             failures: Sequence[StrategyFailure] = ()) -> None:
        """List ``infos`` and then ``failures``; highlight ``keep`` (else the one highlighted
        before, else the first)."""
        self.infos, self.failures = list(infos), list(failures)
        highlighted = self.highlighted_option.id if self.highlighted_option else None
        self.clear_options()
        self.add_options(
            Option(Text.assemble((info.name, "bold"), "\n", (info.description, "dim")),
                   id=info.id)
            for info in infos
        )
        self.add_options(
            Option(failure_text(f), id=f"{FAILED_PREFIX}{i}:{f.name}", disabled=True)
            for i, f in enumerate(failures)
        )
        keep = keep or highlighted
        if keep is not None and keep in {i.id for i in infos}:
            self.highlighted = self.get_option_index(keep)
        elif infos:
            self.highlighted = 0

    def info(self, strategy_id: str | None) -> StrategyInfo | None:
        return next((i for i in self.infos if i.id == strategy_id), None)

    def param_order(self, strategy_id: str) -> list[str]:
        """The strategy's parameter names in its schema's order (stored runs sort them)."""
        info = self.info(strategy_id)
        return list(info.params_schema.get("properties", {})) if info else []

    def highlight(self, strategy_id: str) -> None:
        self.highlighted = self.get_option_index(strategy_id)

    @on(OptionList.OptionSelected)
    def _selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option_id is not None:
            self.post_message(self.StrategyChosen(self, event.option_id))


def failure_text(failure: StrategyFailure) -> Text:
    """A failed strategy as the list shows it: greyed, its reason and where (file:line)."""
    where = failure.source
    if failure.file is not None:
        where = PurePath(failure.file).name + (f":{failure.line}" if failure.line else "")
    return Text.assemble((f"{failure.name} (failed)", "bold"), "\n",
                         (failure.reason, "italic"), "\n", (where, "underline"), style="dim")


__all__ = ["StrategyList", "failure_text"]

