"""Kash's themes: TOML data files in ``themes/`` turned into Textual ``Theme`` objects.

A theme file holds the fields of :class:`textual.theme.Theme` (``name``, ``primary``, ``dark``,
``ansi``, ...) and an optional ``[variables]`` table. A broken file is skipped with a sentence
for the user; it never stops Kash from starting. ``kash-16`` uses only the 16 ANSI colours.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from dataclasses import fields
from pathlib import Path

from textual.theme import Theme

DEFAULT_THEME = "kash-dark"
LAST_RESORT_THEME = "textual-dark"  # Textual's own: always there if kash-dark itself is broken

_COLOUR_FIELDS = (
    "primary", "secondary", "warning", "error", "success", "accent",
    "foreground", "background", "surface", "panel", "boost",
)
_FIELDS = {f.name for f in fields(Theme)}


class ThemeFileError(Exception):
    """A theme file cannot be used; the message says which file and what to fix."""


def theme_from_data(data: dict[str, object], source: str) -> Theme:
    """Build and check a theme from a parsed TOML table; raises :class:`ThemeFileError`."""
    unknown = sorted(set(data) - _FIELDS)
    if unknown:
        raise ThemeFileError(
            f"Theme file {source} has unknown key(s) {', '.join(unknown)}; "
            f"use only {', '.join(sorted(_FIELDS))}."
        )
    for key in ("name", "primary"):
        if not isinstance(data.get(key), str) or not str(data[key]).strip():
            raise ThemeFileError(f"Theme file {source} needs a {key!r} text value.")
    for key in _COLOUR_FIELDS:
        if key in data and not isinstance(data[key], str):
            raise ThemeFileError(f"Theme file {source}: {key!r} must be a colour in quotes.")
    for key in ("dark", "ansi"):
        if key in data and not isinstance(data[key], bool):
            raise ThemeFileError(f"Theme file {source}: {key!r} must be true or false.")
    variables = data.get("variables", {})
    if not isinstance(variables, dict) or not all(
        isinstance(v, str) for v in variables.values()
    ):
        raise ThemeFileError(f"Theme file {source}: [variables] must map names to text values.")
    if data.get("ansi"):  # Textual's CSS needs these two in every ANSI theme
        variables = {"ansi-background": "ansi_black", "ansi-foreground": "ansi_white",
                     **variables}
        data = {**data, "variables": variables}
    try:
        theme = Theme(**data)  # type: ignore[arg-type]
        theme.to_color_system().generate()  # parses every colour: fail here, not mid-paint
    except Exception as exc:  # noqa: BLE001 - ColorParseError, TypeError, ValueError
        raise ThemeFileError(f"Theme file {source} is unusable: {exc}; fix or delete it.") from None
    return theme


def load_theme_file(path: Path) -> Theme:
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ThemeFileError(
            f"Theme file {path} is not valid TOML ({exc}); fix or delete it."
        ) from None
    except OSError as exc:
        raise ThemeFileError(f"Cannot read theme file {path}: {exc.strerror}.") from None
    return theme_from_data(data, str(path))


def load_themes(folders: Iterable[Path]) -> tuple[list[Theme], list[str]]:
    """Every ``*.toml`` theme in ``folders`` (sorted by file name) and a sentence per bad file."""
    themes: list[Theme] = []
    problems: list[str] = []
    for folder in folders:
        if not folder.is_dir():
            continue
        for path in sorted(folder.glob("*.toml")):
            try:
                themes.append(load_theme_file(path))
            except ThemeFileError as exc:
                problems.append(str(exc))
    return themes, problems


def theme_folders() -> list[Path]:
    """Where themes come from: those shipped with Kash, then the user's own
    (``<config folder>/themes/*.toml``). Not via kash_tui.config: that imports pydantic,
    which must not delay the first paint."""
    import platformdirs

    from kash_tui.resources import themes_dir

    return [themes_dir(), Path(platformdirs.user_config_dir("kash")) / "themes"]


def fallback_theme(available: Iterable[str]) -> str:
    names = set(available)
    return DEFAULT_THEME if DEFAULT_THEME in names else LAST_RESORT_THEME
