"""Help (``?``, or "Help" in the palette): the keys of the place you are in and the keys that
work everywhere, read from the bindings that are active right now.

Nothing here is a hard-coded list: the rows come from the screen's active bindings (so they
follow the focus, the user's ``[keymap]`` and what the place allows at the moment). A key a text
field would type (a letter, a digit) is not listed while a field has the focus: the field takes it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Footer, Static

if TYPE_CHECKING:
    from textual.app import App


@dataclass(frozen=True)
class KeyRow:
    """One action and the keys that run it where the user is."""

    keys: tuple[str, ...]
    action: str
    detail: str
    enabled: bool = True


def key_rows(app: App, screen: Screen) -> tuple[list[KeyRow], list[KeyRow]]:
    """``(here, everywhere)``: Kash's actions active on ``screen`` with their keys as shown in
    the footer; ``everywhere`` are the app's own (places, help, palette, quit), in the order
    the app declares them, one row per place whatever the keys."""
    groups: dict[tuple[bool, str], tuple[list[str], Binding, bool]] = {}
    for key, active in screen.active_bindings.items():
        binding = active.binding
        if not binding.id:
            continue  # Textual's own editing and scrolling keys
        global_ = active.node is app
        group = (global_, binding.description if global_ else binding.action)
        keys, first, enabled = groups.get(group, ([], binding, False))
        shown = app.get_key_display(Binding(key, ""))
        if shown not in keys:
            keys.append(shown)
        groups[group] = (keys, first, enabled or active.enabled)
    order = [b.id for b in getattr(type(app), "BINDINGS", ()) if isinstance(b, Binding)]
    here: list[KeyRow] = []
    everywhere: list[tuple[int, KeyRow]] = []
    for (global_, _name), (keys, binding, enabled) in groups.items():
        keys.sort(key=_key_order)
        row = KeyRow(tuple(keys), binding.description, binding.tooltip or "", enabled)
        if global_:
            rank = order.index(binding.id) if binding.id in order else len(order)
            everywhere.append((rank, row))
        else:
            here.append(row)
    everywhere.sort(key=lambda item: item[0])
    return here, [row for _rank, row in everywhere]


def _key_order(shown: str) -> tuple[int, str]:
    """F-keys, then keys with a modifier (they work from a text field too), then plain keys."""
    if len(shown) > 1 and shown[0] in "fF" and shown[1:].isdigit():
        return (0, shown.zfill(3))
    plain = len(shown) == 1 or "+" not in shown and not shown.startswith("^")
    return (2 if plain else 1, shown)


def keys_table(rows: list[KeyRow]) -> Table:
    table = Table.grid(padding=(0, 2), expand=True)
    table.add_column("keys", no_wrap=True, style="bold")
    table.add_column("action", no_wrap=True)
    table.add_column("detail", ratio=1, style="dim")
    for row in rows:
        style = "" if row.enabled else "dim"
        table.add_row(
            Text(", ".join(row.keys), style=style),
            Text(row.action + ("" if row.enabled else " (not now)"), style=style),
            Text(row.detail),
        )
    return table


class HelpScreen(ModalScreen[None]):
    """The keys of the screen under it, and the global ones."""

    AUTO_FOCUS = "#help-body"  # arrows, PgDn and End scroll a list taller than the screen

    BINDINGS: ClassVar = [
        Binding("escape,q,question_mark", "close", "Close", id="help_close",
                tooltip="Close the help"),
    ]

    def __init__(self, under: Screen) -> None:
        super().__init__(classes="kash-modal")
        self.under = under
        # read now, while ``under`` is the current screen: what its keys do there
        self.here, self.everywhere = key_rows(under.app, under)

    def compose(self) -> ComposeResult:
        from kash_tui.tui.places import PLACES

        app = self.app
        place = PLACES.get(getattr(self.under, "PLACE", ""))
        where = place.title if place is not None else "this screen"
        here, everywhere = self.here, self.everywhere
        key_label = getattr(app, "key_label", None)
        with Vertical(classes="dialog", id="help-dialog"):
            yield Static(f"Keys in {where}", classes="dialog-title", markup=False)
            with VerticalScroll(id="help-body"):
                if here:
                    yield Static(keys_table(here), id="help-here")
                else:
                    yield Static("No keys of its own here.", classes="help-note", markup=False)
                yield Static("Everywhere", classes="help-section", markup=False)
                yield Static(keys_table(everywhere), id="help-everywhere")
                if key_label is not None:
                    palette = key_label("command_palette", "ctrl+p")
                    notes = (
                        "Letters and digits type into a text field when one has the focus; "
                        "F-keys work everywhere, and so does Alt+number in terminals that "
                        "report it (kitty, WezTerm, foot, Ghostty).",
                        f"{palette} opens the palette: type a few letters of any action "
                        "('backtest', 'sweep', 'order', 'theme', 'help').",
                        "Keys are remapped in the config file's [keymap] table; the palette "
                        "command 'Keys: action ids for the keymap' lists the ids.",
                    )
                    for note in notes:
                        yield Static(note, classes="help-note", markup=False)
        yield Footer(show_command_palette=False)

    def action_close(self) -> None:
        self.dismiss(None)


__all__ = ["HelpScreen", "KeyRow", "key_rows", "keys_table"]
