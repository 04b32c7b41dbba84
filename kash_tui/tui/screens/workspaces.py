"""Workspaces: the workspaces (left), the portfolios of the highlighted one and the broker
connections (right). Each list has its own keys, shown in the footer while it has the focus.

The screen renders the app's ``catalog`` and changes it only through services, in a thread
worker (``app.call_service``); the app re-reads the catalog after each change.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from rich.cells import cell_len
from rich.text import Text
from textual import on
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.events import Resize
from textual.markup import escape
from textual.widget import Widget
from textual.widgets import DataTable, Static

from kash_tui.domains.connection import ConnectionModel
from kash_tui.domains.workspace import Portfolio, Workspace
from kash_tui.tui.format import fit, percent
from kash_tui.tui.modals.confirm import ConfirmModal
from kash_tui.tui.modals.connection_form import ConnectionForm
from kash_tui.tui.modals.name_form import NameForm
from kash_tui.tui.modals.portfolio_form import PortfolioForm
from kash_tui.tui.places import PlaceScreen
from kash_tui.tui.widgets.kash_table import KashTable

CURRENT = "●"


class WorkspaceTable(KashTable):
    COLUMNS = ("Name", "Portfolios")
    BINDINGS: ClassVar = [
        Binding("n", "screen.new_workspace", "New workspace", id="workspace_new",
                tooltip="Create a workspace"),
        Binding("r", "screen.rename_workspace", "Rename", id="workspace_rename",
                tooltip="Rename the highlighted workspace"),
        Binding("d,delete", "screen.delete_workspace", "Delete", id="workspace_delete",
                tooltip="Delete the highlighted workspace and its portfolios (asks first)"),
        Binding("u", "screen.use_workspace", "Use", id="workspace_use",
                tooltip="Make the highlighted workspace the current one"),
    ]


class PortfolioTable(KashTable):
    COLUMNS = ("Name", "Mode", "Size %", "Connection")
    BINDINGS: ClassVar = [
        Binding("enter,u", "screen.use_portfolio", "Use", id="portfolio_use",
                tooltip="Make the highlighted portfolio the current one (shown in the header)"),
        Binding("n", "screen.new_portfolio", "New portfolio", id="portfolio_new",
                tooltip="Create a portfolio in this workspace"),
        Binding("e", "screen.edit_portfolio", "Edit", id="portfolio_edit",
                tooltip="Edit the highlighted portfolio"),
        Binding("d,delete", "screen.delete_portfolio", "Delete", id="portfolio_delete",
                tooltip="Delete the highlighted portfolio (asks first)"),
    ]


class ConnectionTable(KashTable):
    COLUMNS = ("Name", "Account", "Live trading", "Keys")
    BINDINGS: ClassVar = [
        Binding("n,a", "screen.add_connection", "Add connection", id="connection_add",
                tooltip="Add an Alpaca paper or live connection (stores no secret)"),
        Binding("d,delete", "screen.remove_connection", "Remove", id="connection_remove",
                tooltip="Remove the highlighted connection (asks first)"),
    ]


def _hint(widget_id: str) -> Static:
    hint = Static("", id=widget_id, classes="empty-hint", markup=False)
    hint.display = False
    return hint


class WorkspacesScreen(PlaceScreen):
    PLACE = "workspaces"
    # The workspace highlighted on the left, whose portfolios show on the right (view state).
    shown_workspace_id: int | None = None
    _watching = False

    def compose_body(self) -> Iterator[Widget]:
        with Horizontal(id="ws-columns"):
            with Vertical(id="ws-left"):
                yield WorkspaceTable(id="workspaces", title="Workspaces")
                yield _hint("workspaces-hint")
            with Vertical(id="ws-right"):
                with Vertical(id="portfolios-pane"):
                    yield PortfolioTable(id="portfolios", title="Portfolios")
                    yield _hint("portfolios-hint")
                with Vertical(id="connections-pane"):
                    yield ConnectionTable(id="connections", title="Broker connections")
                    yield _hint("connections-hint")
                    detail = Static("", id="connection-detail", classes="detail-line",
                                    markup=False)
                    detail.display = False
                    yield detail

    def on_services_ready(self) -> None:
        if not self._watching:
            self._watching = True
            self.watch(self.app, "catalog", self._render_catalog)
            self.watch(self.app, "selection", self._render_catalog)
        if self.focused is None:
            self.query_one("#workspaces", WorkspaceTable).focus()
        self.call_after_refresh(self._render_catalog)  # names cut to the laid-out widths

    def on_resize(self, _event: Resize) -> None:
        if self._watching:
            self.call_after_refresh(self._render_catalog)

    # -- rendering ----------------------------------------------------------------------------

    def _render_catalog(self, _value: object = None) -> None:
        catalog = self.kash.catalog
        selection = self.kash.selection
        table = self.query_one("#workspaces", WorkspaceTable)
        # the Portfolios column stays in the panel: a long name is cut to the room left
        # (the room less the Portfolios column, the cells' padding and the "● " mark)
        name_cells = max(6, table.scrollable_content_region.width - 12 - 2 - 2)
        keep = table.highlighted_key
        if keep is None and selection.workspace_id is not None:
            keep = str(selection.workspace_id)
        table.reload(
            [
                (str(w.id), (self._named(fit(w.name, name_cells),
                                         w.id == selection.workspace_id),
                             w.portfolio_count))
                for w in catalog.workspaces
            ],
            keep,
        )
        self._set_hint(
            "workspaces-hint",
            "" if catalog.workspaces
            else f"No workspaces yet: press {self.kash.key_label('workspace_new', 'n')} to "
            "create one.",
        )
        highlighted = table.highlighted_key
        self.shown_workspace_id = int(highlighted) if highlighted else None
        self._render_portfolios()
        self._render_connections(catalog.connections)
        self.refresh_bindings()

    def _render_portfolios(self) -> None:
        catalog = self.kash.catalog
        current = self.kash.selection.portfolio_id
        workspace = catalog.workspace(self.shown_workspace_id)
        table = self.query_one("#portfolios", PortfolioTable)
        table.border_title = (f"Portfolios in {escape(workspace.name)}" if workspace
                              else "Portfolios")
        portfolios = catalog.portfolios_of(self.shown_workspace_id)
        keep = table.highlighted_key or (str(current) if current is not None else None)
        # Mode, Size % and Connection stay in the panel; long names are cut with …
        connection_cells = max([10, *(cell_len(fit(p.connection_name or "none", 16))
                                      for p in portfolios)])
        name_cells = max(10, table.scrollable_content_region.width - (8 + 2) - (6 + 2)
                         - (connection_cells + 2) - 2 - 2)
        table.reload(
            [
                (
                    str(p.id),
                    (
                        self._named(fit(p.name, name_cells), p.id == current),
                        self._mode_text(p),
                        Text(percent(p.position_size_pct), justify="right"),
                        fit(p.connection_name or "none", 16),
                    ),
                )
                for p in portfolios
            ],
            keep,
        )
        if workspace is None:
            hint = ""
        elif not portfolios:
            key = self.kash.key_label("portfolio_new", "n")
            hint = f"No portfolios in {workspace.name}: press {key} here to create one."
        else:
            hint = ""
        self._set_hint("portfolios-hint", hint)

    def _render_connections(self, connections: tuple[ConnectionModel, ...]) -> None:
        table = self.query_one("#connections", ConnectionTable)
        table.reload(
            [
                (
                    c.name,
                    (
                        c.name,
                        c.environment.value,
                        ("enabled" if c.live_enabled else "off") if c.is_live else "n/a",
                        "keyring" if c.keyring_entry else "env vars",
                    ),
                )
                for c in connections
            ],
            table.highlighted_key,
        )
        self._show_connection_detail()
        self._set_hint(
            "connections-hint",
            ""
            if connections
            else "No broker connections. Backtests need none; press "
            f"{self.kash.key_label('connection_add', 'n,a')} here to add an Alpaca paper account.",
        )

    def _show_connection_detail(self) -> None:
        """Where the highlighted connection's keys are (never the keys) and its live state."""
        connection = self.highlighted_connection()
        if connection is None:
            text = ""
        else:
            if connection.keyring_entry:
                keys = f"keyring entry {connection.keyring_entry!r}"
            else:
                keys = f"${connection.key_env} and ${connection.secret_env}"
            text = f"{connection.name}: keys from {keys}"
            if connection.is_live and not connection.live_enabled:
                text += f"; live trading off until kash connection enable-live {connection.name}"
        self._set_hint("connection-detail", text)

    @on(DataTable.RowHighlighted, "#connections")
    def _connection_highlighted(self, _event: DataTable.RowHighlighted) -> None:
        self._show_connection_detail()
        self.refresh_bindings()

    @on(DataTable.RowHighlighted, "#portfolios")
    def _portfolio_highlighted(self, _event: DataTable.RowHighlighted) -> None:
        self.refresh_bindings()

    @staticmethod
    def _named(name: str, current: bool) -> Text:
        """The name, marked when it is the current workspace or portfolio."""
        if current:
            return Text.assemble((f"{CURRENT} ", "bold"), (name, "bold"))
        return Text(f"  {name}")

    @staticmethod
    def _mode_text(portfolio: Portfolio) -> Text:
        return Text(portfolio.mode.value, style="bold" if portfolio.mode.value == "LIVE" else "")

    def _set_hint(self, hint_id: str, text: str) -> None:
        hint = self.query_one(f"#{hint_id}", Static)
        hint.update(text)
        hint.display = bool(text)

    # -- what is highlighted ------------------------------------------------------------------

    @on(DataTable.RowHighlighted, "#workspaces")
    def _workspace_highlighted(self, event: DataTable.RowHighlighted) -> None:
        key = event.row_key.value
        workspace_id = int(key) if key else None
        if workspace_id != self.shown_workspace_id:
            self.shown_workspace_id = workspace_id
            self.query_one("#portfolios", PortfolioTable).move_cursor(row=0, animate=False)
            self._render_portfolios()
        self.refresh_bindings()

    @on(DataTable.RowSelected, "#workspaces")
    def _workspace_selected(self, event: DataTable.RowSelected) -> None:
        self.query_one("#portfolios", PortfolioTable).focus()

    def highlighted_workspace(self) -> Workspace | None:
        return self.kash.catalog.workspace(self.shown_workspace_id)

    def highlighted_portfolio(self) -> Portfolio | None:
        key = self.query_one("#portfolios", PortfolioTable).highlighted_key
        return self.kash.catalog.portfolio(int(key)) if key else None

    def highlighted_connection(self) -> ConnectionModel | None:
        return self.kash.catalog.connection(
            self.query_one("#connections", ConnectionTable).highlighted_key
        )

    def _point_at(self, table_id: str, key: str | None, *, focus: bool = True) -> None:
        table = self.query_one(f"#{table_id}", KashTable)
        table.point_at(key)
        if focus:
            table.focus()

    # -- workspaces ---------------------------------------------------------------------------

    def action_new_workspace(self) -> None:
        form = NameForm(
            "New workspace",
            kind="workspace",
            save=lambda provider, name: provider.workspace.create_workspace(name),
            save_label="Create",
        )
        self.app.push_screen(form, self._workspace_saved)

    def action_rename_workspace(self) -> None:
        workspace = self.highlighted_workspace()
        if workspace is None:
            return
        old = workspace.name
        form = NameForm(
            f"Rename workspace {old}",
            kind="workspace",
            initial=old,
            save=lambda provider, name: provider.workspace.rename_workspace(old, name),
            save_label="Rename",
        )
        self.app.push_screen(form, self._workspace_saved)

    def _workspace_saved(self, workspace: Workspace | None) -> None:
        if workspace is not None:
            self._point_at("workspaces", str(workspace.id))

    def action_delete_workspace(self) -> None:
        workspace = self.highlighted_workspace()
        if workspace is None:
            return
        count = workspace.portfolio_count
        detail = (
            f"Its {count} portfolio{'s' if count != 1 else ''} will be deleted with it."
            if count
            else "It holds no portfolios."
        )
        name = workspace.name

        def answer(yes: bool | None) -> None:
            if yes:
                self.kash.call_service(
                    lambda provider: provider.workspace.delete_workspace(name, force=True),
                    done=lambda _n: self.notify(f"Deleted workspace {name}.", timeout=3),
                )

        self.app.push_screen(ConfirmModal(f"Delete workspace {name}?", detail), answer)

    def action_use_workspace(self) -> None:
        workspace = self.highlighted_workspace()
        if workspace is not None:
            self.kash.use_workspace(workspace.id)

    # -- portfolios ---------------------------------------------------------------------------

    def action_new_portfolio(self) -> None:
        workspace = self.highlighted_workspace()
        if workspace is None:
            key = self.kash.key_label("workspace_new", "n")
            self.notify(f"Create a workspace first: press {key} in the workspace list.",
                        timeout=4)
            return
        form = PortfolioForm(workspace.name, self.kash.catalog.connections)
        self.app.push_screen(form, self._portfolio_saved)

    def action_edit_portfolio(self) -> None:
        workspace, portfolio = self.highlighted_workspace(), self.highlighted_portfolio()
        if workspace is None or portfolio is None:
            return
        form = PortfolioForm(workspace.name, self.kash.catalog.connections, portfolio)
        self.app.push_screen(form, self._portfolio_saved)

    def _portfolio_saved(self, portfolio: Portfolio | None) -> None:
        if portfolio is not None:
            self._point_at("portfolios", str(portfolio.id))
            if self.kash.current_portfolio is None:
                self.kash.use_portfolio(portfolio.id)

    def action_delete_portfolio(self) -> None:
        portfolio = self.highlighted_portfolio()
        if portfolio is None:
            return
        name, workspace = portfolio.name, portfolio.workspace_name

        def answer(yes: bool | None) -> None:
            if yes:
                self.kash.call_service(
                    lambda provider: provider.workspace.delete_portfolio(name, workspace),
                    done=lambda _r: self.notify(f"Deleted portfolio {name}.", timeout=3),
                )

        self.app.push_screen(
            ConfirmModal(
                f"Delete portfolio {name}?",
                f"A {portfolio.mode.value} portfolio in workspace {workspace}.",
            ),
            answer,
        )

    def action_use_portfolio(self) -> None:
        portfolio = self.highlighted_portfolio()
        if portfolio is not None:
            self.kash.use_portfolio(portfolio.id)

    # -- connections --------------------------------------------------------------------------

    def action_add_connection(self) -> None:
        def added(connection: ConnectionModel | None) -> None:
            if connection is not None:
                self._point_at("connections", connection.name)

        self.app.push_screen(ConnectionForm(), added)

    def action_remove_connection(self) -> None:
        connection = self.highlighted_connection()
        if connection is None:
            return
        name = connection.name

        def answer(yes: bool | None) -> None:
            if yes:
                self.kash.call_service(
                    lambda provider: provider.connection.remove(name),
                    done=lambda _r: self.notify(f"Removed connection {name}.", timeout=3),
                )

        self.app.push_screen(
            ConfirmModal(
                f"Remove connection {name}?",
                "Kash forgets where its keys are; the keys themselves are not touched.",
                confirm_label="Remove",
            ),
            answer,
        )

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        needs = {
            "rename_workspace": self.highlighted_workspace,
            "delete_workspace": self.highlighted_workspace,
            "use_workspace": self.highlighted_workspace,
            "edit_portfolio": self.highlighted_portfolio,
            "delete_portfolio": self.highlighted_portfolio,
            "use_portfolio": self.highlighted_portfolio,
            "remove_connection": self.highlighted_connection,
        }
        if action in needs:
            try:
                return needs[action]() is not None or None
            except Exception:  # noqa: BLE001 - before compose
                return None
        return True
