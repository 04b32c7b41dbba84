"""Reading OHLCV CSV files as common data vendors export them.

Header (case-insensitive): a time column named ``Date``, ``Datetime``, ``Timestamp`` or ``Time``,
then ``Open, High, Low, Close, Volume`` in any order; other columns (``Adj Close``) are ignored.
Date-only values are the session date in the instrument's zone (midnight there, as Alpaca stamps
daily bars); naive date-times are wall-clock times in that zone; values with an offset or ``Z``
keep it; all-digit values are Unix epoch seconds, milliseconds or nanoseconds.

Daily and longer bars (``1Day``, ``1Week``) are dates: each row becomes its session date, the
calendar date *as written* (in the value's own offset; UTC for epoch numbers), stamped at
midnight in the instrument's zone. ``2024-01-02``, ``2024-01-02T00:00+00:00`` and
``2024-01-02T12:00Z`` are one day, and two rows for one day are refused ("has the same day as
line N").

Rows are refused, each with its line number, when a field is missing or not a number, a row has
too few fields, the time is not a date or lies outside 1900-01-01 to 2200-01-01 UTC, two rows
have the same time (day), or the bar breaks the bounds of :mod:`.bar_checks` (the same checks
bars from Alpaca pass): prices finite, at least 1e-12 and below 1e12, high not below low,
volume not negative and below 1e15.

How it reads: the file is read in blocks of 4 MiB cut at a line end (progress is reported after
each block, by bytes). A block without quotes is parsed column-wise: ``str.split`` into lines,
numpy's C tokenizer (``np.loadtxt``) for the five numbers, numpy ``datetime64`` for the times.
A block with a bad row is re-read row by row to name each problem. A file with quotes or bare
carriage returns is read with the standard library's ``csv`` module instead. Line numbers count
every physical line (the header is line 1; blank lines, CRLF and a UTF-8 BOM are handled).
"""

from __future__ import annotations

import csv
import io
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import BinaryIO
from zoneinfo import ZoneInfo

import numpy as np

from kash_tui.domains.market.bar_checks import MAX_TIME, MIN_TIME, bar_problems, out_of_range_reason
from kash_tui.domains.market.service import MarketError, RowProblem, Timeframe

TIME_COLUMNS = ("date", "datetime", "timestamp", "time")
PRICE_COLUMNS = ("open", "high", "low", "close", "volume")
BLOCK_BYTES = 4 << 20
"""Bytes read (and parsed) at a time; progress is reported after each block."""
_TIME_SLICE = 65_536  # times are parsed in slices, so one odd value only slows its own slice
_CSV_PROGRESS_ROWS = 65_536
_BOM = b"\xef\xbb\xbf"
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_DAY = 86_400


@dataclass(frozen=True)
class ParsedBars:
    """Good rows, sorted by time; ``ts`` is UTC epoch seconds."""

    ts: np.ndarray
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray
    rows_read: int
    problems: tuple[RowProblem, ...]


@dataclass
class _Rows:
    """Data rows of one block: line numbers, the five numbers, parsed times, first reasons."""

    lines: np.ndarray  # int64 line numbers
    values: np.ndarray  # float64 (5, n): one row per name in PRICE_COLUMNS
    utc: np.ndarray  # int64 UTC epoch seconds
    day: np.ndarray  # int64 days since 1970-01-01 of the date as written
    reasons: dict[int, str]  # index in this block -> first reason the row is bad


class _NeedsCsvModule(Exception):
    """The fast reader met quoting or bare CR line ends: read the file with ``csv``."""


class _Layout:
    """Where the columns are, from the header."""

    def __init__(self, header: list[str], path: Path) -> None:
        names = [h.strip().lower().lstrip("\ufeff") for h in header]
        time_idx = next((names.index(c) for c in TIME_COLUMNS if c in names), None)
        if time_idx is None:
            raise MarketError(
                f"{path.name} has no Date column; the header needs Date (or Datetime/Timestamp), "
                "Open, High, Low, Close, Volume."
            )
        cols: list[int] = []
        for col in PRICE_COLUMNS:
            if col not in names:
                raise MarketError(
                    f"{path.name} has no {col.capitalize()} column; the header needs Date, Open, "
                    "High, Low, Close, Volume."
                )
            cols.append(names.index(col))
        self.time_idx = time_idx
        self.cols = tuple(cols)
        self.width = max(time_idx, *cols) + 1


# -- times -----------------------------------------------------------------------------------


def _parse_epoch(text: str) -> int:
    value = int(text)
    if abs(value) >= 10**17:
        return value // 1_000_000_000
    if abs(value) >= 10**11:
        return value // 1000
    return value


_FORMATS = ("%m/%d/%Y", "%m/%d/%Y %H:%M", "%m/%d/%Y %H:%M:%S", "%Y%m%d")


def _parse_one(text: str, zone: ZoneInfo) -> tuple[int, int]:
    """One time value to (UTC epoch seconds, day as written); ValueError with a short reason."""
    t = text.strip()
    if not t:
        raise ValueError("the date is missing")
    if t.isdigit() and len(t) != 8:
        utc = _parse_epoch(t)
        if not MIN_TIME <= utc < MAX_TIME:
            raise ValueError(out_of_range_reason(utc, t))
        return utc, utc // _DAY
    try:
        dt = datetime.fromisoformat(t.replace("Z", "+00:00") if t.endswith("Z") else t)
    except ValueError:
        for fmt in _FORMATS:
            try:
                dt = datetime.strptime(t, fmt)
                break
            except ValueError:
                continue
        else:
            raise ValueError(f"{t!r} is not a date") from None
    day = dt.date().toordinal() - _EPOCH_ORDINAL
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=zone)
    try:
        utc = int(dt.astimezone(UTC).timestamp())
    except (OverflowError, ValueError):  # year 1 or 9999 moved across midnight
        raise ValueError(f"{t!r} is outside the range Kash accepts, 1900-01-01 to 2200-01-01 "
                         "UTC") from None
    if not MIN_TIME <= utc < MAX_TIME:
        raise ValueError(out_of_range_reason(utc, t))
    return utc, day


def _zone_to_utc(local: np.ndarray, zone: ZoneInfo) -> np.ndarray:
    """Wall-clock seconds in ``zone`` to UTC: the offset is looked up once per local hour."""
    if zone.key == "UTC":
        return local
    hours = local // 3600
    unique_hours, inverse = np.unique(hours, return_inverse=True)
    offsets = np.empty(unique_hours.shape[0], dtype=np.int64)
    for i, h in enumerate(unique_hours.tolist()):
        naive = datetime(1970, 1, 1) + timedelta(hours=h)
        off = naive.replace(tzinfo=zone).utcoffset()
        offsets[i] = int(off.total_seconds()) if off is not None else 0
    return local - offsets[inverse.reshape(-1)]


def _datetime64(values: list[str]) -> np.ndarray:
    """ISO values to int64 seconds; ValueError for anything numpy would only guess at."""
    # numpy also reads the words "now" and "today" (and "NaT") as times: every ISO value
    # starts with a digit, so one comparison of the extremes sends words to the slow path
    if values and (min(values)[:1] < "0" or max(values)[:1] > "9"):
        raise ValueError("a value that does not start with a digit")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # numpy's deprecated offset parsing: not the fast path
        try:
            return np.array(values, dtype="datetime64[s]").astype(np.int64)
        except (DeprecationWarning, UserWarning, TypeError) as exc:
            raise ValueError(str(exc)) from None


def _offset_seconds(suffix: str) -> int:
    """``+05:30`` -> 19800; ValueError for anything else."""
    if len(suffix) != 6 or suffix[0] not in "+-" or suffix[3] != ":":
        raise ValueError(suffix)
    hh, mm = int(suffix[1:3]), int(suffix[4:6])
    seconds = hh * 3600 + mm * 60
    return -seconds if suffix[0] == "-" else seconds


def _fast_times(values: list[str], zone: ZoneInfo) -> tuple[np.ndarray, np.ndarray]:
    """Vectorised (UTC seconds, day as written) for values shaped like the first one; raises
    ValueError when they are not (the caller then parses them one by one)."""
    sample = values[0]
    if sample.isdigit() and len(sample) != 8:  # epoch seconds, ms or ns
        if any(len(v) == 8 for v in values):
            raise ValueError("a YYYYMMDD value among epoch numbers")
        try:
            raw = np.array(values, dtype=np.int64)
        except OverflowError as exc:
            raise ValueError(str(exc)) from None
        big = np.abs(raw)
        utc = np.where(big >= 10**17, raw // 1_000_000_000, np.where(big >= 10**11, raw // 1000,
                                                                        raw))
        return utc, utc // _DAY
    if len(sample) > 10 and (sample[-1] == "Z" or sample[-6] in "+-"):
        if all(v[-1:] == "Z" for v in values):
            local = _datetime64([v[:-1] for v in values])
            return local, local // _DAY
        table: dict[str, int] = {}
        offsets = np.empty(len(values), dtype=np.int64)
        cores: list[str] = []
        for i, v in enumerate(values):
            if v[-1:] == "Z":
                cores.append(v[:-1])
                offsets[i] = 0
                continue
            suffix = v[-6:]
            off = table.get(suffix)
            if off is None:
                off = table[suffix] = _offset_seconds(suffix)
            cores.append(v[:-6])
            offsets[i] = off
        local = _datetime64(cores)
        return local - offsets, local // _DAY
    local = _datetime64(values)
    # NaT or a far year: kept out of range (the caller looks at those one by one)
    inside = np.clip(local, MIN_TIME - 2 * _DAY, MAX_TIME + 2 * _DAY)
    return _zone_to_utc(inside, zone), local // _DAY


def _parse_times(values: list[str], zone: ZoneInfo, reasons: dict[int, str],
                 base: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(UTC seconds, day as written) of every value; a value that is not a sane date gets a
    reason at ``base + its index`` (its seconds are then meaningless)."""
    n = len(values)
    utc = np.zeros(n, dtype=np.int64)
    day = np.zeros(n, dtype=np.int64)
    for start in range(0, n, _TIME_SLICE):
        part = values[start:start + _TIME_SLICE]
        try:
            u, d = _fast_times(part, zone)
            # NaT (an empty value), a number numpy read as a year, ...: look at those one by one
            odd = np.flatnonzero((u < MIN_TIME) | (u >= MAX_TIME)).tolist()
        except (ValueError, OverflowError):
            u = np.zeros(len(part), dtype=np.int64)
            d = np.zeros(len(part), dtype=np.int64)
            odd = range(len(part))
        for k in odd:
            try:
                u[k], d[k] = _parse_one(part[k], zone)
            except (ValueError, OverflowError, OSError) as exc:
                reasons.setdefault(base + start + k, str(exc) or f"{part[k]!r} is not a date")
        utc[start:start + len(part)] = u
        day[start:start + len(part)] = d
    return utc, day


def _midnights(days: np.ndarray, zone: ZoneInfo) -> np.ndarray:
    """Midnight in ``zone`` of each day (days since 1970-01-01), as UTC epoch seconds."""
    unique_days, inverse = np.unique(days, return_inverse=True)
    stamps = np.empty(unique_days.shape[0], dtype=np.int64)
    for i, d in enumerate(unique_days.tolist()):
        midnight = datetime.combine(date.fromordinal(d + _EPOCH_ORDINAL), datetime.min.time(),
                                    tzinfo=zone)
        stamps[i] = int(midnight.timestamp())
    return stamps[inverse.reshape(-1)]


# -- numbers ---------------------------------------------------------------------------------


def _numbers(texts: list[str], name: str, reasons: dict[int, str], base: int) -> np.ndarray:
    try:
        return np.array(texts, dtype=np.float64)
    except ValueError:
        pass
    arr = np.full(len(texts), np.nan)
    for i, text in enumerate(texts):
        try:
            arr[i] = float(text)
        except ValueError:
            t = text.strip()
            reasons.setdefault(base + i, f"{name.capitalize()} is missing" if not t
                               else f"{name.capitalize()} {t!r} is not a number")
    return arr


def _rows_from_fields(
    rows: list[list[str]], lines: list[int], layout: _Layout, zone: ZoneInfo
) -> _Rows:
    """Rows already split into fields (each has at least ``layout.width`` of them)."""
    reasons: dict[int, str] = {}
    values = np.empty((len(PRICE_COLUMNS), len(rows)), dtype=np.float64)
    for j, (name, idx) in enumerate(zip(PRICE_COLUMNS, layout.cols, strict=True)):
        values[j] = _numbers([r[idx] for r in rows], name, reasons, 0)
    utc, day = _parse_times([r[layout.time_idx] for r in rows], zone, reasons)
    return _Rows(np.asarray(lines, dtype=np.int64), values, utc, day, reasons)


# -- reading ---------------------------------------------------------------------------------


class _Progress:
    """Reports (bytes done, total) and never goes backwards."""

    def __init__(self, callback: Callable[[int, int], None] | None, total: int) -> None:
        self.callback = callback
        self.total = total
        self.done = -1

    def __call__(self, done: int) -> None:
        done = min(max(done, 0), self.total)
        if self.callback is not None and done > self.done:
            self.done = done
            self.callback(done, self.total)


def _undecodable(path: Path, line: int) -> MarketError:
    return MarketError(
        f"{path.name} line {line} is not UTF-8 text; save the file as CSV UTF-8 and import it "
        "again."
    )


def _block_rows(lines: list[str], first_line: int, layout: _Layout, zone: ZoneInfo,
                problems: list[RowProblem]) -> _Rows:
    """The rows of one block of unquoted lines (no line ends), ``first_line`` being the line
    number of ``lines[0]``."""
    n = len(lines)
    if n and "" not in lines:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error")
                values = np.loadtxt(lines, delimiter=",", usecols=layout.cols, dtype=np.float64,
                                    comments=None, ndmin=2)
        except (ValueError, UserWarning):
            values = None
        if values is not None and values.shape[0] == n:  # no line skipped: numbers line up
            if layout.time_idx == 0:
                times = [line.partition(",")[0] for line in lines]
            else:
                times = [line.split(",", layout.time_idx + 1)[layout.time_idx] for line in lines]
            reasons: dict[int, str] = {}
            utc, day = _parse_times(times, zone, reasons)
            numbers = np.arange(first_line, first_line + n, dtype=np.int64)
            return _Rows(numbers, np.ascontiguousarray(values.T), utc, day, reasons)
    # a blank line, a short row or a value that is not a number: row by row, to say which
    kept: list[list[str]] = []
    kept_lines: list[int] = []
    for k, line in enumerate(lines):
        row = line.split(",")
        if len(row) == 1 and not row[0].strip():
            continue
        if len(row) < layout.width:
            problems.append(RowProblem(first_line + k,
                                       f"has {len(row)} fields, expected {layout.width}"))
            continue
        kept.append(row)
        kept_lines.append(first_line + k)
    return _rows_from_fields(kept, kept_lines, layout, zone)


def _read_fast(fh: BinaryIO, path: Path, zone: ZoneInfo, progress: _Progress,
               problems: list[RowProblem]) -> tuple[_Layout, list[_Rows]]:
    layout: _Layout | None = None
    blocks: list[_Rows] = []
    carry = b""
    done = 0
    next_line = 1
    first = True
    while True:
        block = fh.read(BLOCK_BYTES)
        if done == 0 and block.startswith(_BOM):
            block = block[len(_BOM):]
            done = len(_BOM)
        done += len(block)
        data = carry + block if carry else block
        if block:
            cut = data.rfind(b"\n") + 1
            if cut == 0:  # no line end yet: read on
                carry = data
                continue
            data, carry = data[:cut], data[cut:]
        elif not data and not first:
            break
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise _undecodable(path, next_line + data.count(b"\n", 0, exc.start)) from None
        if '"' in text:
            raise _NeedsCsvModule
        if "\r" in text:
            text = text.replace("\r\n", "\n")
            if "\r" in text:
                raise _NeedsCsvModule
        lines = text.split("\n")
        if lines[-1] == "":
            lines.pop()
        if first:
            first = False
            if not lines:
                raise MarketError(f"{path.name} is empty; export the bars with a header row.")
            layout = _Layout(lines[0].split(","), path)
            lines = lines[1:]
            next_line = 2
        assert layout is not None
        blocks.append(_block_rows(lines, next_line, layout, zone, problems))
        next_line += len(lines)
        progress(done)
        if not block:
            break
    assert layout is not None
    return layout, blocks


def _read_with_csv(fh: BinaryIO, path: Path, zone: ZoneInfo, progress: _Progress,
                   problems: list[RowProblem]) -> tuple[_Layout, list[_Rows]]:
    """The standard library's csv reader, for quoted fields and bare CR line ends."""
    fh.seek(0)
    data = fh.read()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _undecodable(path, data.count(b"\n", 0, exc.start) + 1) from None
    del data
    size = max(len(text), 1)
    stream = io.StringIO(text, newline="")
    reader = csv.reader(stream)
    try:
        header = next(reader)
    except StopIteration:
        raise MarketError(f"{path.name} is empty; export the bars with a header row.") from None
    except csv.Error:
        raise MarketError(f"{path.name} is not a readable CSV text file.") from None
    layout = _Layout(header, path)
    blocks: list[_Rows] = []
    rows: list[list[str]] = []
    lines: list[int] = []
    try:
        for row in reader:
            line = reader.line_num
            if not row or (len(row) == 1 and not row[0].strip()):
                continue
            if len(row) < layout.width:
                problems.append(RowProblem(line, f"has {len(row)} fields, expected {layout.width}"))
                continue
            rows.append(row)
            lines.append(line)
            if len(rows) == _CSV_PROGRESS_ROWS:
                blocks.append(_rows_from_fields(rows, lines, layout, zone))
                rows, lines = [], []
                progress(int(progress.total * stream.tell() / size))
    except csv.Error as exc:
        raise MarketError(
            f"{path.name} line {reader.line_num} cannot be read as CSV ({exc}); fix the file."
        ) from None
    blocks.append(_rows_from_fields(rows, lines, layout, zone))
    return layout, blocks


def parse_csv(
    path: Path,
    tz: str,
    progress: Callable[[int, int], None] | None = None,
    timeframe: Timeframe | None = None,
) -> ParsedBars:
    """Read and check every row; bad rows are reported with their line numbers.

    ``progress(bytes done, bytes total)`` is called after each block read and parsed, and once
    with (total, total) at the end. ``timeframe`` of a day or longer makes every row its
    session date (see the module docstring)."""
    zone = ZoneInfo(tz)
    try:
        fh = path.open("rb")
    except FileNotFoundError:
        raise MarketError(f"There is no file {path}; check the path.") from None
    except IsADirectoryError:
        raise MarketError(f"{path} is a folder, not a CSV file; give the file's path.") from None
    except OSError as exc:
        raise MarketError(f"Cannot read {path} ({exc.strerror}); check its permissions.") from None
    daily = timeframe is not None and Timeframe(timeframe).seconds >= _DAY
    with fh:
        reporter = _Progress(progress, max(path.stat().st_size, 1))
        problems: list[RowProblem] = []
        try:
            _layout, blocks = _read_fast(fh, path, zone, reporter, problems)
        except _NeedsCsvModule:
            problems = []
            _layout, blocks = _read_with_csv(fh, path, zone, reporter, problems)
    reporter(reporter.total)
    return _check_rows(blocks, zone, problems, daily=daily)


# -- checking --------------------------------------------------------------------------------


def _check_rows(
    blocks: list[_Rows], zone: ZoneInfo, problems: list[RowProblem], *, daily: bool
) -> ParsedBars:
    short_rows = len(problems)
    reasons: dict[int, str] = {}
    offset = 0
    for b in blocks:
        for i, reason in b.reasons.items():
            reasons[offset + i] = reason
        offset += b.lines.shape[0]
    n = offset
    if blocks:
        line_arr = np.concatenate([b.lines for b in blocks])
        values = np.concatenate([b.values for b in blocks], axis=1)
        utc = np.concatenate([b.utc for b in blocks])
        day = np.concatenate([b.day for b in blocks])
    else:
        line_arr = utc = day = np.empty(0, dtype=np.int64)
        values = np.empty((len(PRICE_COLUMNS), 0))
    del blocks
    bad = np.zeros(n, dtype=bool)
    if reasons:
        bad[np.fromiter(reasons, dtype=np.int64, count=len(reasons))] = True
    cols = dict(zip(PRICE_COLUMNS, values, strict=True))  # contiguous rows of one array

    # the number problems of the row parsers come first, then the bounds, then the time
    found = bar_problems(cols["open"], cols["high"], cols["low"], cols["close"], cols["volume"],
                         None, skip=bad)
    for i, reason in found.items():
        reasons[i] = reason
        bad[i] = True

    ts = utc
    if daily and n:
        ts = utc.copy()
        good = np.flatnonzero(~bad)
        ts[good] = _midnights(day[good], zone)

    # The same time (day) twice: every later line names the first one.
    in_order = not bad.any() and bool(np.all(ts[1:] > ts[:-1]))  # the usual file: nothing to do
    good_idx = np.flatnonzero(~bad) if not in_order else np.empty(0, dtype=np.int64)
    if good_idx.size > 1:
        order = good_idx[np.argsort(ts[good_idx], kind="stable")]
        sorted_ts = ts[order]
        repeat = np.flatnonzero(sorted_ts[1:] == sorted_ts[:-1]) + 1
        if repeat.size:
            starts = np.flatnonzero(np.r_[True, sorted_ts[1:] != sorted_ts[:-1]])
            run_first = order[starts[np.searchsorted(starts, repeat, side="right") - 1]]
            what = "day" if daily else "time"
            for k, first in zip(repeat.tolist(), run_first.tolist(), strict=True):
                i = int(order[k])
                reasons[i] = f"has the same {what} as line {line_arr[first]}"
                bad[i] = True

    problems.extend(RowProblem(int(line_arr[i]), reason) for i, reason in reasons.items())
    problems.sort(key=lambda p: p.line)

    if in_order:
        return ParsedBars(ts=ts, open=cols["open"], high=cols["high"], low=cols["low"],
                          close=cols["close"], volume=cols["volume"], rows_read=n + short_rows,
                          problems=tuple(problems))
    keep = ~bad
    order = np.argsort(ts[keep], kind="stable")
    return ParsedBars(
        ts=ts[keep][order],
        open=cols["open"][keep][order],
        high=cols["high"][keep][order],
        low=cols["low"][keep][order],
        close=cols["close"][keep][order],
        volume=cols["volume"][keep][order],
        rows_read=n + short_rows,
        problems=tuple(problems),
    )
