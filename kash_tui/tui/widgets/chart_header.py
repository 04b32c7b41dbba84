"""The chart's header line: symbol and timeframe, zone, bars, strategy, run, and the keys."""

from __future__ import annotations

from typing import ClassVar

from rich.cells import cell_len
from rich.text import Text
from textual.widget import Widget


class ChartHeader(Widget):
    """``DEMOA 1Day · America/New_York · 2,608 bars · sma_crossover(...) · run #3: 24 fills``.

    Parameters lose their names when the full line does not fit.
    """

    DEFAULT_CSS = """
    ChartHeader {
        height: 1;
        padding: 0 1;
        text-wrap: nowrap;
        text-overflow: ellipsis;
        color: $text-muted;
        background: $surface;
    }
    ChartHeader > .chart-header--symbol { color: $text; text-style: bold; }
    ChartHeader > .chart-header--problem { color: $text-warning; }
    ChartHeader > .chart-header--key { color: $text-accent; text-style: bold; }
    """
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "chart-header--symbol", "chart-header--problem", "chart-header--key",
    }

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self.title = ""
        self.parts: list[str] = []
        self.strategy: tuple[str, str] = ("", "")
        self.tail: list[str] = []
        self.problem = ""
        self.hints: list[tuple[str, str]] = []
        """(key, what it does), shown at the right when the line has room."""

    def show(
        self,
        title: str,
        parts: list[str] | None = None,
        *,
        strategy: tuple[str, str] = ("", ""),
        tail: list[str] | None = None,
        problem: str = "",
    ) -> None:
        self.title, self.parts = title, list(parts or [])
        self.strategy, self.tail, self.problem = strategy, list(tail or []), problem
        self.refresh()

    def line(self, compact: bool) -> str:
        words = [*self.parts]
        strategy = self.strategy[1 if compact else 0]
        if strategy:
            words.append(strategy)
        words += self.tail
        if self.problem:
            words.append(self.problem)
        return " · ".join([self.title, *words]) if self.title else " · ".join(words)

    def render(self) -> Text:
        width = self.content_size.width
        compact = cell_len(self.line(False)) > width > 0
        text = Text(no_wrap=True, overflow="ellipsis", end="")
        text.append(self.title, self.get_component_rich_style("chart-header--symbol"))
        rest = self.line(compact)[len(self.title):]
        if self.problem and rest.endswith(self.problem):
            text.append(rest[: -len(self.problem)])
            text.append(self.problem, self.get_component_rich_style("chart-header--problem"))
        else:
            text.append(rest)
        hints = Text(end="")
        for key, label in self.hints:
            hints.append("  " if hints else "")
            hints.append(key, self.get_component_rich_style("chart-header--key"))
            hints.append(f" {label}")
        room = width - text.cell_len - hints.cell_len
        if self.hints and room >= 3:
            text.append(" " * room)
            text.append_text(hints)
        return text


__all__ = ["ChartHeader"]
