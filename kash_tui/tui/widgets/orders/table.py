"""What the Orders place's tables share: number columns and widths measured as rows load."""

from __future__ import annotations

from typing import Any

from rich.cells import cell_len
from rich.text import Text

from kash_tui.tui.widgets.kash_table import KashTable


def columns(*labels: str) -> tuple[Any, ...]:
    """Column labels; a label ending in ``>`` is a number column, its label right-aligned."""
    return tuple(
        Text(label[:-1], justify="right") if label.endswith(">") else label for label in labels
    )


def signed(value: Any, text: str) -> Text:
    """A number cell green above zero, red below."""
    style = "green" if value and value > 0 else "red" if value and value < 0 else ""
    return Text(text, style=style, justify="right")


def right(text: str) -> Text:
    return Text(text, justify="right")


class MeasuredTable(KashTable):
    """A table that sizes its columns to the rows as they are loaded, not on the next idle: a
    reload (many per minute while watching) never shows columns cut to their labels."""

    def reload(self, rows: list[tuple[str, tuple[object, ...]]], keep: str | None) -> None:
        super().reload(rows, keep)
        columns = list(self.columns.values())
        for _key, cells in rows:
            for column, cell in zip(columns, cells, strict=False):
                width = cell.cell_len if isinstance(cell, Text) else cell_len(str(cell))
                if width > column.content_width:
                    column.content_width = width
        self.refresh(layout=True)


__all__ = ["MeasuredTable", "columns", "right", "signed"]
