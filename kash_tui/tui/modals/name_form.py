"""A form with one name: create or rename a workspace."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from textual.app import ComposeResult
from textual.widgets import Input

from kash_tui.tui.modals.form import FormModal, ServiceCall, name_problem

if TYPE_CHECKING:
    from kash_tui.provider import ServiceProviderProtocol

T = TypeVar("T")


class NameForm(FormModal[T]):
    """One name: create or rename a workspace."""

    def __init__(
        self,
        title: str,
        *,
        kind: str,
        save: Callable[[ServiceProviderProtocol, str], T],
        initial: str = "",
        save_label: str = "Save",
    ) -> None:
        super().__init__(title)
        self.kind = kind
        self.initial = initial
        self._save = save
        self.SAVE_LABEL = save_label  # type: ignore[misc]

    def compose_fields(self) -> ComposeResult:
        yield from self.field(
            "Name", Input(self.initial, placeholder=f"{self.kind} name", id="name", compact=True)
        )

    def problems(self) -> dict[str, str]:
        problem = name_problem(self.kind, self.text("name"))
        return {"name": problem} if problem else {}

    def service_call(self) -> ServiceCall:
        name, save = self.text("name").strip(), self._save
        return lambda provider: save(provider, name)


__all__ = ["NameForm"]
