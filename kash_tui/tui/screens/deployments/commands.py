"""The Deployments place's palette commands, from anywhere: start a new deployment, halt every
deployment of the workspace (asked first). They act through the place's screen."""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from typing import TYPE_CHECKING

from kash_tui.tui.commands import PaletteCommand, palette_command
from kash_tui.tui.screens.deployments.screen import DeploymentsScreen

if TYPE_CHECKING:
    from kash_tui.tui.app import KashApp


def _on_deployments(app: KashApp, action: str) -> None:
    app.action_switch_place(DeploymentsScreen.PLACE)

    def run() -> None:
        screen = app.screen
        if isinstance(screen, DeploymentsScreen) and screen._body_mounted:  # noqa: SLF001
            screen.run_action(action)

    app.call_after_refresh(run)


@palette_command
def deployment_commands(app: KashApp) -> Iterator[PaletteCommand]:
    new_key = app.key_label("deployments.new", "n")
    halt_key = app.key_label("deployments.halt_all", "K")
    yield PaletteCommand("New deployment", partial(_on_deployments, app, "new_deployment"),
                         f"A strategy trading a PAPER or LIVE portfolio (key {new_key} under "
                         "Deployments)", "deploy start live paper trade bot")
    yield PaletteCommand("Halt all deployments", partial(_on_deployments, app, "halt_all"),
                         f"Kill switch: every deployment of the workspace stops and its open "
                         f"orders are cancelled, after a question (key {halt_key} under "
                         "Deployments)", "kill switch stop cancel emergency")


__all__ = ["deployment_commands"]
