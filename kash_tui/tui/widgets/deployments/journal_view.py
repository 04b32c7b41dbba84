"""The journal of one deployment: every event with its time (UTC, as the header says, the same
as ``kash deploy log`` and the runner's log file), oldest at the top, newest at the
bottom. It follows new entries while it is scrolled to the end; scrolled up, it stays where the
reader is (End follows again)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC

from rich.table import Table
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


KIND_WIDTH = 13
"""Columns of the event kind; longer kinds (``risk_check_failed``) wrap within them."""
TIME_WIDTH = 14
"""``03-04 14:31:00``: month-day and the time of day in UTC."""
HEADER = ("Time (UTC)", "Event", "What happened")


def _grid(kind_style: str) -> Table:
    row = Table.grid(padding=(0, 1), expand=True)
    row.add_column(width=TIME_WIDTH, no_wrap=True, style="dim")
    row.add_column(width=KIND_WIDTH, style=kind_style, overflow="fold")
    row.add_column(ratio=1, overflow="fold")
    return row


def journal_header() -> Table:
    """The journal's column header, which names the time zone of its times (UTC)."""
    row = _grid("bold")
    row.add_row(*(Text(h, style="bold") for h in HEADER))
    return row


def journal_line(entry: JournalEntry) -> Table:
    """``03-04 14:31:00 signal        Buy signal at the close 101.2 (...).``: time (UTC), kind
    and the sentence, which wraps under itself (not under the time)."""
    row = _grid(_KIND_STYLE.get(entry.kind, ""))
    at = entry.at.astimezone(UTC) if entry.at.tzinfo is not None else entry.at
    row.add_row(f"{at:%m-%d %H:%M:%S}", entry.kind.value.replace("_", " "),
                Text(entry.message))
    return row


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


__all__ = ["HEADER", "KIND_WIDTH", "MAX_LINES", "JournalView", "journal_header", "journal_line"]
