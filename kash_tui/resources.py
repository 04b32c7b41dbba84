"""Where the files that ship with Kash live, in a wheel and in a source checkout.

A built wheel carries ``migrations/`` and ``themes/`` inside the package (as ``_migrations`` and
``_themes``, see ``pyproject.toml``); a source checkout has them at the repository root.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def _shipped(packaged: str, top_level: str) -> Path:
    inside = _PACKAGE / packaged
    if inside.is_dir():
        return inside
    return _PACKAGE.parent / top_level


def migrations_dir() -> Path:
    return _shipped("_migrations", "migrations")


def themes_dir() -> Path:
    return _shipped("_themes", "themes")
