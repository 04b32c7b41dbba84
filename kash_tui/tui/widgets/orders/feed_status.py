"""The status line under the Orders place's tables: how fresh the account on screen is."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.widgets import Static

from kash_tui.tui.widgets.orders import clock

if TYPE_CHECKING:
    from kash_tui.domains.trading import FeedStatus

STALE_AFTER_SECONDS = 30.0
"""Data older than this is marked as stale on the status line."""

LABELS = {
    "connecting": "Connecting…",
    "streaming": "● Live (stream)",
    "polling": "● Live (polling)",
    "reconnecting": "⟳ Reconnecting",
    "down": "✕ Down",
    "stopped": "Stopped",
}
LEVELS = {"streaming": "-ok", "polling": "-ok", "connecting": "-warn",
          "reconnecting": "-warn", "down": "-down"}


def status_text(
    feed: FeedStatus | None, *, problem: str = "", backtest_label: str = "",
    connecting: bool = False,
) -> tuple[str, str]:
    """The status line and its class (-ok, -warn, -down or '').

    ``problem``: why the watch could not start; ``backtest_label``: a backtest run is shown
    (read-only); ``connecting``: a watch is starting and has said nothing yet.
    """
    if backtest_label:
        return (f"Backtest {backtest_label} · read-only: orders go through a paper "
                "or live portfolio", "")
    if problem:
        return f"✕ Not connected · {problem} Press r to try again.", "-down"
    if feed is None:
        return ("Connecting to the broker…", "-warn") if connecting else ("", "")
    state = feed.state.value
    parts = [LABELS.get(state, state)]
    level = LEVELS.get(state, "")
    if feed.updated_at is not None:
        seconds = max(0.0, (clock.now() - feed.updated_at).total_seconds())
        parts.append(clock.age_text(seconds))
        if seconds > STALE_AFTER_SECONDS and level == "-ok":
            level = "-warn"
    else:
        parts.append("no data yet")
    if feed.attempts:
        parts.append(f"attempt {feed.attempts}")
    if feed.message:
        parts.append(feed.message)
    return " · ".join(parts), level


class FeedStatusLine(Static):
    """``● Live (stream) · updated 3 s ago``, coloured by how healthy the feed is."""

    DEFAULT_CSS = """
    FeedStatusLine { height: auto; max-height: 3; padding: 0 1; color: $text-muted; }
    FeedStatusLine.-ok { color: $text-success; }
    FeedStatusLine.-warn { color: $text-warning; }
    FeedStatusLine.-down { color: $text-error; text-style: bold; }
    """

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__("", id=id, markup=False)  # a broker's sentence may hold [brackets]

    def show(
        self, feed: FeedStatus | None, *, problem: str = "", backtest_label: str = "",
        connecting: bool = False,
    ) -> None:
        """See :func:`status_text`."""
        text, level = status_text(feed, problem=problem, backtest_label=backtest_label,
                                  connecting=connecting)
        self.update(text)
        self.remove_class("-ok", "-warn", "-down")
        if level:
            self.add_class(level)


__all__ = ["STALE_AFTER_SECONDS", "FeedStatusLine", "status_text"]
