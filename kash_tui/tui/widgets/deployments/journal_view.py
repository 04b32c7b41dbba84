"""The journal of one deployment: every event with its time, oldest at the top, newest at the
bottom. It follows new entries while it is scrolled to the end; scrolled up, it stays where the
reader is (End follows again)."""

from __future__ import annotations

from collections.abc import Iterable

from rich.text import Text
from textual.widgets import RichLog

from kash_tui.domains.deployment import EventKind, JournalEntry

MAX_LINES = 5_000
"""Journal lines kept on screen (the journal itself keeps everything: ``kash deploy log``)."""

_KIND_STYLE = {
    EventKind.SIGNAL: "bold cyan", EventKind.ORDER_SENT: "bold", EventKind.FILL: "bold green",
    EventKind.SKIP: "yellow", EventKind.RISK_CHECK_FAILED: "bold yellow",
    EventKind.STALE: "yellow", EventKind.GAP: "yellow", EventKind.BROKER_ERROR: "bold red",
    EventKind.HALT: "bold red", EventKind.FAILED: "bold red", EventKind.CANCEL: "red",
    EventKind.BAR: "dim",
}


def journal_line(entry: JournalEntry) -> Text:
    """``03-04 14:31:00 signal   Buy signal at the close 101.2 (...).``"""
    line = Text(f"{entry.at:%m-%d %H:%M:%S} ", style="dim")
    line.append(f"{entry.kind.value:<12} ", style=_KIND_STYLE.get(entry.kind, ""))
    line.append(entry.message)
    return line


class JournalView(RichLog):
    """The journal lines; :meth:`add` appends entries newer than the last one shown."""

    DEFAULT_CSS = """
    JournalView { height: 1fr; background: $surface; }
    """

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(wrap=True, markup=False, max_lines=MAX_LINES, auto_scroll=True, id=id)
        self.last_id: int | None = None
        self.deployment: str | None = None

    def start(self, deployment: str | None) -> None:
        """Show another deployment's journal (empty until :meth:`add`)."""
        self.deployment = deployment
        self.last_id = None
        self.clear()

    def add(self, entries: Iterable[JournalEntry]) -> int:
        """Append the entries after the last one shown; follow them when at the end."""
        follow = self.is_vertical_scroll_end or self.max_scroll_y == 0
        count = 0
        for entry in entries:
            if self.last_id is not None and entry.id <= self.last_id:
                continue
            self.write(journal_line(entry), scroll_end=follow)
            self.last_id = entry.id
            count += 1
        return count


__all__ = ["MAX_LINES", "JournalView", "journal_line"]
