"""What makes a name unusable in a terminal, in words: shared by the domains that check names
(workspaces, portfolios, connections) and the forms that check them as the user types.
Standard library only; imports nothing of Kash."""

from __future__ import annotations


def unprintable(text: str) -> str | None:
    """What in ``text`` a terminal cannot show as a name, in words; None when all is printable."""
    for ch in text:
        if ch in "\r\n":
            return "a line break"
        if ch == "\t":
            return "a tab"
        if ch == "\x1b":
            return "an escape code (ESC, as in terminal colours)"
        if not ch.isprintable():
            return f"the unprintable character U+{ord(ch):04X}"
    return None
