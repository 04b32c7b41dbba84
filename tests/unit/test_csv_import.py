"""The CSV reader on its own: the fast column-wise path and the csv-module fallback agree, line
numbers stay right (header, blank lines, CRLF, BOM, quoting), progress is reported by bytes at
every block boundary, and bad data is refused with a reason: times out of range, one day
written three ways, absurd prices and volumes."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from kash_tui.domains.market import MarketError, Timeframe
from kash_tui.domains.market.bar_checks import bar_problems
from kash_tui.domains.market.csv_import import BLOCK_BYTES, parse_csv

NY = "America/New_York"
HEADER = "Date,Open,High,Low,Close,Volume"


def _write(tmp_path: Path, text: str | bytes, name: str = "bars.csv") -> Path:
    path = tmp_path / name
    if isinstance(text, str):
        path.write_bytes(text.encode("utf-8"))
    else:
        path.write_bytes(text)
    return path


def _epoch(*args: int) -> int:
    return int(datetime(*args, tzinfo=UTC).timestamp())


def _problems(parsed) -> dict[int, str]:  # noqa: ANN001
    return {p.line: p.reason for p in parsed.problems}


def minute_rows(n: int) -> list[str]:
    """``n`` good minute rows, naive wall-clock times of 390-minute sessions from 09:30 on
    2024-01-02, one session a day (never in the hour a clock change skips)."""
    k = np.arange(n)
    first = np.datetime64("2024-01-02T09:30:00")
    stamps = first + (k // 390).astype("timedelta64[D]") + (k % 390).astype("timedelta64[m]")
    times = np.datetime_as_string(stamps, unit="s")
    return [f"{t},{100 + k % 7}.25,{101 + k % 7}.5,{99 + k % 7}.75,{100 + k % 5}.5,{100 + k}"
            for k, t in enumerate(times.tolist())]


# -- the fast path and the fallback read the same values ----------------------------------


ROWS = [
    "2024-01-02 09:30:00,10,11,9,10.5,1000",
    "2024-01-02 09:31:00,10.5,12,10,11.5,2000",
    "2024-07-02 09:30:00,11.5,12.5,11,12,3000",
]


def test_quoted_file_reads_like_the_plain_one(tmp_path: Path) -> None:
    plain = parse_csv(_write(tmp_path, "\n".join([HEADER, *ROWS]) + "\n"), NY)
    quoted_rows = ['"' + r.replace(",", '","') + '"' for r in ROWS]
    quoted = parse_csv(_write(tmp_path, "\n".join([HEADER, *quoted_rows]) + "\n", "q.csv"), NY)
    for name in ("ts", "open", "high", "low", "close", "volume"):
        assert getattr(quoted, name).tolist() == getattr(plain, name).tolist()
    assert plain.ts.tolist() == [_epoch(2024, 1, 2, 14, 30), _epoch(2024, 1, 2, 14, 31),
                                 _epoch(2024, 7, 2, 13, 30)]
    assert plain.close.tolist() == [10.5, 11.5, 12.0]
    assert plain.problems == quoted.problems == ()


def test_a_quoted_field_with_a_comma_is_one_field(tmp_path: Path) -> None:
    text = f'{HEADER},Note\n2024-01-02,10,11,9,10.5,1000,"split, not"\n2024-01-03,1,2,0.5,1,1,x\n'
    parsed = parse_csv(_write(tmp_path, text), NY)
    assert parsed.close.tolist() == [10.5, 1.0]
    assert parsed.problems == ()


def test_a_quote_after_the_first_block_switches_to_the_csv_reader(tmp_path: Path) -> None:
    rows = minute_rows(BLOCK_BYTES // 50 + 1000)
    rows[-1] = '"' + rows[-1].replace(",", '","') + '"'
    rows.append("2024-12-31 09:30:00,oops,2,0.5,1,1")
    parsed = parse_csv(_write(tmp_path, "\n".join([HEADER, *rows]) + "\n"), NY)
    assert _problems(parsed) == {len(rows) + 1: "Open 'oops' is not a number"}
    assert parsed.ts.shape[0] == len(rows) - 1


# -- line numbers ----------------------------------------------------------------------------


BAD_LINES = (
    f"{HEADER}\n"
    "2024-01-02,10,11,9,10.5,1000\n"  # 2
    "\n"  # 3 blank
    "2024-01-03,abc,12,10,11.5,2000\n"  # 4
    "   \n"  # 5 blank (spaces)
    "2024-01-04,11.5,12.5,11,12,3000\n"  # 6
    "2024-01-05,12,11,13,12,100\n"  # 7 high below low
    "2024-01-06,12,13\n"  # 8 short
    "2024-01-07,,13,11,12,100\n"  # 9 missing open
    "not-a-date,12,13,11,12,100\n"  # 10
    "2024-01-04,11.5,12.5,11,12,3000\n"  # 11 same day as 6
)
EXPECTED = {
    4: "Open 'abc' is not a number",
    7: "High 11 is below Low 13",
    8: "has 3 fields, expected 6",
    9: "Open is missing",
    10: "'not-a-date' is not a date",
    11: "has the same day as line 6",
}


@pytest.mark.parametrize(
    "encode",
    [
        pytest.param(lambda t: t.encode(), id="lf"),
        pytest.param(lambda t: t.replace("\n", "\r\n").encode(), id="crlf"),
        pytest.param(lambda t: b"\xef\xbb\xbf" + t.encode(), id="bom"),
        pytest.param(lambda t: b"\xef\xbb\xbf" + t.replace("\n", "\r\n").encode(), id="bom-crlf"),
        pytest.param(lambda t: t.replace("\n", "\r").encode(), id="cr-only"),
        pytest.param(lambda t: t.rstrip("\n").encode(), id="no-final-newline"),
        pytest.param(lambda t: t.replace("2024-01-02,10,", '"2024-01-02","10",').encode(),
                     id="quoted"),
    ],
)
def test_problems_name_the_physical_line(tmp_path: Path, encode) -> None:  # noqa: ANN001
    parsed = parse_csv(_write(tmp_path, encode(BAD_LINES)), NY, timeframe=Timeframe.DAY_1)
    assert _problems(parsed) == EXPECTED
    assert parsed.close.tolist() == [10.5, 12.0]
    assert parsed.rows_read == 8  # blank lines are not rows


def test_line_numbers_are_right_in_a_later_block(tmp_path: Path) -> None:
    rows = minute_rows(3 * BLOCK_BYTES // 50)
    rows[100_000] = rows[100_000].replace(".25,", ".25x,", 1)  # a bad Open, block 2
    rows.insert(150_000, "")  # a blank line, block 3 (shifts later lines by one)
    rows[-1] = rows[-1].rsplit(",", 1)[0] + ",-3"  # negative volume, last block
    text = "\r\n".join([HEADER, *rows]) + "\r\n"
    parsed = parse_csv(_write(tmp_path, b"\xef\xbb\xbf" + text.encode()), NY)
    problems = _problems(parsed)
    assert sorted(problems) == [100_002, len(rows) + 1]
    assert "Open" in problems[100_002] and "is not a number" in problems[100_002]
    assert problems[len(rows) + 1] == "Volume -3 is negative"
    assert parsed.ts.shape[0] == len(rows) - 3
    assert bool(np.all(np.diff(parsed.ts) > 0))


def test_a_long_file_matches_the_row_by_row_reading(tmp_path: Path) -> None:
    """The column-wise path and the csv module agree on 200,000 rows (quoting one field
    sends the whole file through the csv module)."""
    rows = minute_rows(200_000)
    fast = parse_csv(_write(tmp_path, "\n".join([HEADER, *rows]) + "\n"), NY)
    rows[0] = '"' + rows[0].replace(",", '","') + '"'
    slow = parse_csv(_write(tmp_path, "\n".join([HEADER, *rows]) + "\n", "slow.csv"), NY)
    assert slow.problems == fast.problems == ()
    for name in ("ts", "open", "high", "low", "close", "volume"):
        assert np.array_equal(getattr(fast, name), getattr(slow, name)), name
    assert fast.ts[0] == _epoch(2024, 1, 2, 14, 30)


def test_unusual_numbers_and_times_read_as_python_reads_them(tmp_path: Path) -> None:
    text = (
        "timestamp,open,high,low,close,volume\n"
        "2024-01-02T09:30:00Z, 1.5 ,2e0,0.5,1.25,1_000\n"
        "2024-01-02T09:31:00-05:00,1,2,0.5,1,0\n"
        "1704206000,1,2,0.5,1,0\n"
        "1704206100000,1,2,0.5,1,0\n"
        "01/03/2024 09:30,1,2,0.5,1,0\n"
    )
    parsed = parse_csv(_write(tmp_path, text), NY, timeframe=Timeframe.MIN_1)
    assert parsed.problems == ()
    assert parsed.ts.tolist() == sorted([
        _epoch(2024, 1, 2, 9, 30), _epoch(2024, 1, 2, 14, 31), 1704206000, 1704206100,
        _epoch(2024, 1, 3, 14, 30),
    ])
    assert parsed.open[0] == 1.5 and parsed.volume[0] == 1000.0


# -- progress by bytes -----------------------------------------------------------------------


def _sized_file(tmp_path: Path, size: int) -> Path:
    """A valid CSV of exactly ``size`` bytes (the last volume is padded with zeros)."""
    rows = [HEADER]
    used = len(HEADER) + 1
    for row in minute_rows(size // 40):
        if used + len(row) + 1 > size - 60:
            break
        rows.append(row)
        used += len(row) + 1
    last = "2030-01-02T09:30:00,1,2,0.5,1,"
    pad = size - used - len(last) - 2  # the digit "1" and the newline
    rows.append(last + "0" * pad + "1")
    path = _write(tmp_path, "\n".join(rows) + "\n", f"s{size}.csv")
    assert path.stat().st_size == size
    return path


@pytest.mark.parametrize(
    "size",
    [1_000, BLOCK_BYTES - 1, BLOCK_BYTES, BLOCK_BYTES + 1, 2 * BLOCK_BYTES, 2 * BLOCK_BYTES + 1],
    ids=["small", "block-1", "block", "block+1", "2blocks", "2blocks+1"],
)
def test_progress_is_reported_by_bytes_at_every_block(tmp_path: Path, size: int) -> None:
    path = _sized_file(tmp_path, size)
    calls: list[tuple[int, int]] = []
    parsed = parse_csv(path, NY, lambda done, total: calls.append((done, total)))
    assert parsed.problems == ()
    assert calls[-1] == (size, size)
    assert all(total == size for _done, total in calls)
    done = [d for d, _t in calls]
    assert done == sorted(set(done))  # forward only, never the same twice
    blocks = -(-size // BLOCK_BYTES)
    assert len(calls) in (blocks, blocks + 1)  # one per block read (+ the last line's rest)
    assert all(0 < d for d in done)


def test_progress_of_a_quoted_file_goes_forward_to_the_end(tmp_path: Path) -> None:
    rows = ['"' + r.replace(",", '","') + '"' for r in minute_rows(200_000)]
    path = _write(tmp_path, "\n".join([HEADER, *rows]) + "\n")
    size = path.stat().st_size
    calls: list[tuple[int, int]] = []
    parsed = parse_csv(path, NY, lambda done, total: calls.append((done, total)))
    assert parsed.ts.shape[0] == 200_000 and parsed.problems == ()
    done = [d for d, _t in calls]
    assert done == sorted(set(done)) and len(done) >= 3  # more than "nothing, then all"
    assert calls[-1] == (size, size)


# -- bad data --------------------------------------------------------------------------------


def test_times_outside_the_sane_range_are_refused(tmp_path: Path) -> None:
    text = (
        f"{HEADER}\n"
        "99999999999999999999,1,2,0.5,1,1\n"  # 20 digits: read as nanoseconds, year 5138
        "1704153600,1,2,0.5,1,1\n"
        "1899-12-31,1,2,0.5,1,1\n"
        "2200-01-01T00:00:00Z,1,2,0.5,1,1\n"
        "2199-12-31T23:59:59Z,1,2,0.5,1,1\n"
        "999999999999999999999999,1,2,0.5,1,1\n"
    )
    parsed = parse_csv(_write(tmp_path, text), NY, timeframe=Timeframe.MIN_1)
    problems = _problems(parsed)
    assert sorted(problems) == [2, 4, 5, 7]
    assert "'99999999999999999999' (5138-" in problems[2]
    for line in (2, 4, 5, 7):
        assert "outside the range Kash accepts, 1900-01-01 to 2200-01-01 UTC" in problems[line]
    assert parsed.ts.tolist() == [1704153600, _epoch(2200, 1, 1) - 1]


def test_a_whole_file_of_dates_numpy_would_misread_goes_row_by_row(tmp_path: Path) -> None:
    text = f"{HEADER}\n20240102,1,2,0.5,1,1\n20240103,1,2,0.5,1,1\n"
    parsed = parse_csv(_write(tmp_path, text), NY, timeframe=Timeframe.DAY_1)
    assert parsed.problems == ()
    assert parsed.ts.tolist() == [_epoch(2024, 1, 2, 5), _epoch(2024, 1, 3, 5)]


def test_one_day_written_three_ways_is_one_daily_bar(tmp_path: Path) -> None:
    text = (
        f"{HEADER}\n"
        "2024-01-02,10,11,9,10.5,1000\n"
        "2024-01-02T00:00+00:00,10,11,9,10.5,1000\n"
        "2024-01-02T12:00Z,10,11,9,10.5,1000\n"
        "2024-01-03T21:00:00-05:00,10,11,9,10.5,1000\n"
    )
    path = _write(tmp_path, text)
    parsed = parse_csv(path, NY, timeframe=Timeframe.DAY_1)
    assert _problems(parsed) == {3: "has the same day as line 2", 4: "has the same day as line 2"}
    # every row is its session date at midnight in New York
    assert parsed.ts.tolist() == [_epoch(2024, 1, 2, 5), _epoch(2024, 1, 3, 5)]

    weekly = parse_csv(path, NY, timeframe=Timeframe.WEEK_1)
    assert sorted(_problems(weekly)) == [3, 4]
    minutes = parse_csv(path, NY, timeframe=Timeframe.MIN_1)  # intraday: three times
    assert minutes.problems == ()
    assert minutes.ts.shape[0] == 4


@pytest.mark.parametrize(
    ("tz", "rows", "midnights"),
    [
        (NY, ["2024-07-02T13:30:00Z", "1720051200"], [(2024, 7, 2, 4), (2024, 7, 4, 4)]),
        ("UTC", ["2024-01-02T23:59:59", "2024-01-03T00:00:01+05:00"],
         [(2024, 1, 2), (2024, 1, 3)]),
        ("Asia/Tokyo", ["2024-01-02"], [(2024, 1, 1, 15)]),
    ],
)
def test_daily_rows_are_midnight_of_the_date_as_written(
    tmp_path: Path, tz: str, rows: list[str], midnights: list[tuple[int, ...]]
) -> None:
    text = "\n".join([HEADER, *(f"{r},1,2,0.5,1,1" for r in rows)]) + "\n"
    parsed = parse_csv(_write(tmp_path, text), tz, timeframe=Timeframe.DAY_1)
    assert parsed.problems == ()
    assert parsed.ts.tolist() == [_epoch(*m) for m in midnights]


@pytest.mark.parametrize(
    ("row", "words"),
    [
        ("1e308,1e308,1,1e308,1", "Open 1e+308 is not below 1e+12, the largest price Kash accepts"),
        ("1,1e12,1,1,1", "High 1e+12 is not below 1e+12, the largest price Kash accepts"),
        ("1,2,0.5,1,1e15", "Volume 1e+15 is not below 1e+15, the largest volume Kash accepts"),
        ("1,2,1e-13,1,1", "Low 1e-13 is below 1e-12, the smallest price Kash accepts"),
        ("1,2,0.5,0,1", "Close 0 is not a positive price"),
        ("1,inf,0.5,1,1", "High inf is not a finite number"),
        ("1,2,0.5,nan,1", "Close nan is not a finite number"),
        ("1,2,0.5,1,-1", "Volume -1 is negative"),
    ],
)
def test_absurd_prices_and_volumes_are_refused(tmp_path: Path, row: str, words: str) -> None:
    text = f"{HEADER}\n2024-01-02,1,2,0.5,1,1\n2024-01-03,{row}\n"
    parsed = parse_csv(_write(tmp_path, text), NY)
    assert _problems(parsed) == {3: words}
    assert parsed.ts.shape[0] == 1


def test_largest_accepted_values_pass(tmp_path: Path) -> None:
    text = f"{HEADER}\n2024-01-02,999999999999,999999999999,1e-12,5,999999999999999\n"
    parsed = parse_csv(_write(tmp_path, text), NY)
    assert parsed.problems == ()


def test_bar_problems_is_the_one_check_for_every_source() -> None:
    ts = np.array([_epoch(2024, 1, 2), _epoch(2024, 1, 3), 10**11], dtype=np.int64)
    one = np.ones(3)
    close = np.array([1.0, 0.0, 1.0])
    found = bar_problems(one, one * 2, one / 2, close, one, ts)
    assert found == {
        1: "Close 0 is not a positive price",
        2: "the time 5138-11-16 09:46 UTC is outside the range Kash accepts, "
           "1900-01-01 to 2200-01-01 UTC",
    }


# -- unreadable files ------------------------------------------------------------------------


def test_bytes_that_are_not_utf8_name_their_line(tmp_path: Path) -> None:
    text = (f"{HEADER}\n2024-01-02,1,2,0.5,1,1\n").encode() + b"2024-01-03,\xff,2,0.5,1,1\n"
    with pytest.raises(MarketError, match=r"line 3 is not UTF-8 text"):
        parse_csv(_write(tmp_path, text), NY)


@pytest.mark.parametrize("text", [b"", b"\xef\xbb\xbf"], ids=["empty", "bom-only"])
def test_empty_file_is_refused(tmp_path: Path, text: bytes) -> None:
    with pytest.raises(MarketError, match="is empty"):
        parse_csv(_write(tmp_path, text), NY)


@pytest.mark.parametrize("word", ["now", "today", "NaT"])
def test_words_numpy_reads_as_times_are_not_dates(tmp_path: Path, word: str) -> None:
    path = _write(tmp_path, "Date,Open,High,Low,Close,Volume\n2024-01-02,1,2,0.5,1.5,10\n"
                            f"{word},1,2,0.5,1.5,10\n2024-01-04,1,2,0.5,1.5,10\n")
    parsed = parse_csv(path, "America/New_York", timeframe=Timeframe.parse("1Day"))
    assert [p.line for p in parsed.problems] == [3]
    assert "is not a date" in parsed.problems[0].reason
    assert len(parsed.ts) == 2
