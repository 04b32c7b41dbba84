"""Values as the screens show them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from kash_tui.tui.format import when


def test_when_says_the_year_of_an_older_time() -> None:
    now = datetime.now(UTC)
    assert when(now) == now.astimezone().strftime("%H:%M:%S")
    older = datetime(2019, 3, 14, 14, 3, tzinfo=UTC)
    assert when(older) == older.astimezone().strftime("%Y-%m-%d")
    if now.astimezone().timetuple().tm_yday > 2:  # earlier this year: month, day and time
        earlier = now - timedelta(days=1, hours=1)
        assert when(earlier) == earlier.astimezone().strftime("%m-%d %H:%M")
    assert when(None) == "–"
