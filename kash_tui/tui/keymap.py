"""Remappable keys: every Kash ``Binding`` has an ``id``; ``[keymap]`` in the config file maps
ids to keys (``go_chart = "c"``, ``portfolio_new = "n,insert"``) and the app applies it with
``App.set_keymap``. An id Kash does not know is reported to the user, never a crash.

Keys that terminals or tmux swallow are never the only way to reach an action.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from textual.binding import Binding
from textual.dom import DOMNode

# Keys a terminal multiplexer, the tty driver or many terminals take before Kash sees them.
SWALLOWED_KEYS = frozenset(
    {"ctrl+enter", "ctrl+b", "ctrl+s", "ctrl+o", "ctrl+z", "ctrl+a", "ctrl+backslash"}
)


def _all_subclasses(root: type) -> Iterable[type]:
    seen: set[type] = set()
    stack = [root]
    while stack:
        cls = stack.pop()
        for sub in cls.__subclasses__():
            if sub not in seen:
                seen.add(sub)
                stack.append(sub)
                yield sub


def all_bindings() -> dict[str, Binding]:
    """Every binding with an id declared by a widget, screen or app class imported so far.

    Import the screens first (the app loads every place before checking the keymap).
    """
    found: dict[str, Binding] = {}
    for cls in (DOMNode, *_all_subclasses(DOMNode)):
        for binding in cls.__dict__.get("BINDINGS", ()):
            if isinstance(binding, Binding) and binding.id:
                found.setdefault(binding.id, binding)
    return found


def known_binding_ids() -> set[str]:
    return set(all_bindings())


def keymap_problems(keymap: Mapping[str, str], known: set[str]) -> list[str]:
    """One sentence per keymap entry Kash cannot apply."""
    problems: list[str] = []
    unknown = sorted(k for k in keymap if k not in known)
    if unknown:
        problems.append(
            f"The keymap in the config file names unknown action id(s) {', '.join(unknown)}; "
            "they were ignored. The palette command 'Keys: action ids for the keymap' lists them."
        )
    empty = sorted(k for k, v in keymap.items() if k in known and not str(v).strip())
    if empty:
        problems.append(
            f"The keymap gives no key for {', '.join(empty)}; those actions keep their defaults."
        )
    return problems


def usable_keymap(keymap: Mapping[str, str]) -> dict[str, str]:
    """The entries ``set_keymap`` can take (empty values dropped, spaces trimmed)."""
    cleaned: dict[str, str] = {}
    for binding_id, keys in keymap.items():
        text = ",".join(part.strip() for part in str(keys).split(",") if part.strip())
        if text:
            cleaned[binding_id] = text
    return cleaned


def only_swallowed_keys(binding: Binding) -> bool:
    """True when every key of ``binding`` is one a terminal or tmux may never deliver."""
    keys = [k.strip() for k in binding.key.split(",") if k.strip()]
    return all(k in SWALLOWED_KEYS for k in keys)
