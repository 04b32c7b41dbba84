"""Robustness scores of sweep cells and walk-forward windows, checked by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from kash_tui.domains.trading import Span, TradingError, parse_rank_by
from kash_tui.domains.trading.research import Window, add_months, plan_windows, robustness


def test_robustness_on_a_hand_checked_grid() -> None:
    # a 3 x 3 grid (rows: first parameter, columns: second); the centre was skipped as invalid
    # and the cell (1, 2) has no defined metric:
    #     1   2   3
    #     4   x   .
    #     6   7   8
    cells = [(0, 0), (0, 1), (0, 2), (1, 0), (1, 2), (2, 0), (2, 1), (2, 2)]
    values = [1.0, 2.0, 3.0, 4.0, None, 6.0, 7.0, 8.0]
    got = robustness((3, 3), cells, values)
    assert got == [
        (1.0, 2.0, 3),   # 1: itself, 2, 4 (the skipped centre is nobody's neighbour)
        (1.0, 2.5, 4),   # 2: 1, 2, 3, 4 (the undefined cell is left out)
        (2.0, 2.5, 2),   # 3: 2, 3
        (1.0, 4.0, 5),   # 4: 1, 2, 4, 6, 7
        (None, None, 0),  # undefined itself
        (4.0, 6.0, 3),   # 6: 4, 6, 7
        (4.0, 6.5, 4),   # 7: 4, 6, 7, 8
        (7.0, 7.5, 2),   # 8: 7, 8
    ]


def test_robustness_ignores_axes_of_one_value_and_matches_brute_force() -> None:
    rng = np.random.default_rng(7)
    shape = (4, 1, 5, 3)
    cells = [c for c in np.ndindex(*shape) if rng.random() > 0.2]
    values = [float(v) if rng.random() > 0.1 else None for v in rng.normal(size=len(cells))]
    got = robustness(shape, cells, values)
    for (cell, value), (worst, median, count) in zip(zip(cells, values), got, strict=True):
        if value is None:
            assert (worst, median, count) == (None, None, 0)
            continue
        hood = [v for c, v in zip(cells, values) if v is not None
                and max(abs(a - b) for a, b in zip(c, cell)) <= 1]
        assert (worst, median, count) == (min(hood), float(np.median(hood)), len(hood))


def test_rank_by_reads_robust_metrics() -> None:
    assert parse_rank_by("sharpe") == ("sharpe", False)
    assert parse_rank_by("robust:total_return_pct") == ("total_return_pct", True)
    with pytest.raises(TradingError, match="robust:METRIC"):
        parse_rank_by("robust:luck")


DAY = 86_400 * 1_000_000_000


def _days(n: int, start: datetime = datetime(2020, 1, 1, tzinfo=UTC)) -> np.ndarray:
    return int(start.timestamp()) * 1_000_000_000 + DAY * np.arange(n, dtype=np.int64)


def test_windows_in_bars_rolling_and_anchored() -> None:
    ts = _days(100)
    # train 30, test 20: tests start at 30, 50, 70, 90; the last ends at the last bar (100)
    assert plan_windows(ts, Span(bars=30), Span(bars=20), anchored=False) == [
        Window(0, 30, 50), Window(20, 50, 70), Window(40, 70, 90), Window(60, 90, 100)]
    assert plan_windows(ts, Span(bars=30), Span(bars=20), anchored=True) == [
        Window(0, 30, 50), Window(0, 50, 70), Window(0, 70, 90), Window(0, 90, 100)]
    assert plan_windows(ts, Span(bars=100), Span(bars=20), anchored=False) == []


def test_windows_in_calendar_time() -> None:
    ts = _days(100)  # 2020-01-01 .. 2020-04-09, one bar a day
    # train 1 month: the first test starts 2020-02-01 (bar 31); tests of 2 weeks follow
    # (bars 45, 59, 73, 87); rolling training parts start a month before each test start:
    # 2020-01-01 (0), 2020-01-15 (14), 2020-01-29 (28), 2020-02-14 (44), 2020-02-28 (58)
    assert plan_windows(ts, Span.parse("1m"), Span.parse("2w"), anchored=False) == [
        Window(0, 31, 45), Window(14, 45, 59), Window(28, 59, 73), Window(44, 73, 87),
        Window(58, 87, 100)]
    # bars missing (a weekend gap): a boundary falls on the first bar at or after it
    gappy = np.delete(ts, [31, 32])  # 2020-02-01 and 02-02 missing: the test starts 02-03
    assert plan_windows(gappy, Span.parse("1m"), Span.parse("1y"), anchored=True) == [
        Window(0, 31, 98)]


def test_calendar_months_clamp_to_the_month_end() -> None:
    assert add_months(datetime(2020, 1, 31, tzinfo=UTC), 1) == datetime(2020, 2, 29, tzinfo=UTC)
    assert add_months(datetime(2021, 3, 31, tzinfo=UTC), -1) == datetime(2021, 2, 28, tzinfo=UTC)
    assert add_months(datetime(2020, 6, 15, tzinfo=UTC), 24) == datetime(2022, 6, 15, tzinfo=UTC)


@pytest.mark.parametrize(("text", "span"), [
    ("5000", Span(bars=5000)), ("250b", Span(bars=250)), ("90d", Span(days=90)),
    ("12w", Span(days=84)), ("6m", Span(months=6)), ("2y", Span(months=24)), (" 2Y ", Span(months=24)),
])
def test_lengths_parse(text: str, span: Span) -> None:
    assert Span.parse(text) == span
    assert Span.parse(span.spec) == span


@pytest.mark.parametrize("text", ["", "0", "-5", "2x", "1.5y", "y", "6 months"])
def test_bad_lengths_are_one_sentence(text: str) -> None:
    with pytest.raises(TradingError, match=r"^--train .* is not a length; give a number of bars"):
        Span.parse(text, "--train")
