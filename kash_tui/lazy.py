"""Modules imported on first use.

The ORM side of a domain (its ``repo`` and ``entities``, which import SQLAlchemy) is needed by
most of a service's methods but not by the hot paths (loading bars, storing a backtest), which
run on raw connections. A service module names them with :func:`lazy_module` at run time and
imports them for real under ``TYPE_CHECKING``, so type checkers and import-linter still see the
dependency.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any


class _LazyModule:
    """Stands for a module; the first attribute read imports it (importlib's module locks make
    that safe from several threads at once)."""

    def __init__(self, name: str) -> None:
        self._name = name
        self._module: ModuleType | None = None

    def __getattr__(self, attr: str) -> Any:  # noqa: ANN401
        module = self._module
        if module is None:
            module = self._module = importlib.import_module(self._name)
        return getattr(module, attr)

    def __repr__(self) -> str:
        state = "imported" if self._module is not None else "not imported yet"
        return f"<lazy module {self._name!r} ({state})>"


def lazy_module(name: str) -> Any:  # noqa: ANN401
    """A stand-in for the module ``name`` that imports it when first used."""
    return _LazyModule(name)
