"""The action ids a user can remap in the config file's ``[keymap]`` table."""

from __future__ import annotations

from typing import ClassVar

from rich.cells import cell_len
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Footer, Static


class KeymapScreen(ModalScreen[None]):
    """The action ids a user can remap in the config file's ``[keymap]`` table."""

    BINDINGS: ClassVar = [
        Binding("escape,q", "close", "Close", id="keymap_close", tooltip="Close this list"),
    ]

    def __init__(self) -> None:
        super().__init__(classes="kash-modal")

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide"):
            yield Static("Keys you can remap", classes="dialog-title")
            yield Static(
                'In the config file: [keymap] then one line per action, e.g. go_chart = "c".',
                classes="dialog-detail", markup=False,
            )
            yield DataTable(id="keymap-table", cursor_type="row", zebra_stripes=True)
        yield Footer(show_command_palette=False)

    def on_mount(self) -> None:
        from kash_tui.tui.keymap import all_bindings
        from kash_tui.tui.places import PLACES

        for place in PLACES.values():  # every place's bindings, also those not opened yet
            place.load()
        overrides = getattr(self.app, "_keymap_overrides", {})
        table = self.query_one(DataTable)
        rows = [
            (binding_id, overrides.get(binding_id, binding.key),
             binding.tooltip or binding.description)
            for binding_id, binding in sorted(all_bindings().items())
        ]
        # "What it does" gets the width that is left and wraps in it (cut at 80 columns before)
        id_w = max(cell_len(r[0]) for r in rows) if rows else 10
        keys_w = min(16, max(cell_len(r[1]) for r in rows)) if rows else 6
        room = self.app.size.width - 4 - 2 - 2 * 3  # dialog border+padding, scrollbar, cells
        text_w = max(24, room - id_w - keys_w)
        table.add_column("Action id", width=id_w)
        table.add_column("Keys", width=keys_w)
        table.add_column("What it does", width=text_w)
        for binding_id, keys, what in rows:
            table.add_row(binding_id, Text(keys, overflow="fold"), Text(what), height=None)
        table.focus()

    def action_close(self) -> None:
        self.dismiss(None)


__all__ = ["KeymapScreen"]
