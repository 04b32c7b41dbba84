"""The clock and the time words of the Orders place.

The widgets read these names from this module when they render (``clock.when(...)``), so a test
can fix the time shown in one place: ``monkeypatch.setattr(clock, "when", ...)``.
"""

from __future__ import annotations

from datetime import UTC, datetime

from kash_tui.tui.format import age_text, when


def now() -> datetime:
    """The clock of the status line (tests replace it)."""
    return datetime.now(UTC)


__all__ = ["age_text", "now", "when"]
