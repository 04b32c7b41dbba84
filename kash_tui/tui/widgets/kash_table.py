"""The row-cursor table the places list things in (workspaces, portfolios, orders, ...)."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.widgets import DataTable


class KashTable(DataTable):
    """A row-cursor table that keeps its cursor on the same row key across reloads."""

    COLUMNS: ClassVar[tuple[str, ...]] = ()

    def __init__(self, *, id: str, title: str) -> None:  # noqa: A002
        super().__init__(id=id, cursor_type="row", zebra_stripes=False)
        self.border_title = title
        self.add_columns(*self.COLUMNS)

    @property
    def highlighted_key(self) -> str | None:
        if self.row_count == 0:
            return None
        try:
            row_key, _ = self.coordinate_to_cell_key(self.cursor_coordinate)
        except Exception:  # noqa: BLE001 - no row under the cursor
            return None
        return row_key.value

    def reload(self, rows: list[tuple[str, tuple[object, ...]]], keep: str | None) -> None:
        """Replace the rows (key, cells); put the cursor back on ``keep`` if it is still there."""
        self.clear()
        for key, cells in rows:  # a str cell would be read as markup: "Swing [old]"
            self.add_row(*(Text(c) if isinstance(c, str) else c for c in cells), key=key)
        self.point_at(keep)

    def point_at(self, key: str | None) -> None:
        if key is None or self.row_count == 0:
            return
        try:
            index = self.get_row_index(key)
        except Exception:  # noqa: BLE001 - the row is gone
            return
        self.move_cursor(row=index, animate=False)


__all__ = ["KashTable"]
