"""Reading OHLCV CSV files as common data vendors export them.

Header (case-insensitive): a time column named ``Date``, ``Datetime``, ``Timestamp`` or ``Time``,
then ``Open, High, Low, Close, Volume`` in any order; other columns (``Adj Close``) are ignored.
Date-only values are the session date in the instrument's zone (midnight there, as Alpaca stamps
daily bars); naive date-times are wall-clock times in that zone; values with an offset or ``Z``
keep it; all-digit values are Unix epoch seconds, milliseconds or nanoseconds.
"""

from __future__ import annotations

import csv
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np

from kash_tui.domains.market.service import MarketError, RowProblem

TIME_COLUMNS = ("date", "datetime", "timestamp", "time")
PRICE_COLUMNS = ("open", "high", "low", "close", "volume")
_PROGRESS_EVERY = 100_000


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


def _header_map(header: list[str], path: Path) -> tuple[int, dict[str, int]]:
    names = [h.strip().lower().lstrip("\ufeff") for h in header]
    time_idx = next((names.index(c) for c in TIME_COLUMNS if c in names), None)
    if time_idx is None:
        raise MarketError(
            f"{path.name} has no Date column; the header needs Date (or Datetime/Timestamp), "
            "Open, High, Low, Close, Volume."
        )
    cols: dict[str, int] = {}
    for col in PRICE_COLUMNS:
        if col not in names:
            raise MarketError(
                f"{path.name} has no {col.capitalize()} column; the header needs Date, Open, "
                "High, Low, Close, Volume."
            )
        cols[col] = names.index(col)
    return time_idx, cols


def _parse_epoch(text: str) -> int:
    value = int(text)
    if abs(value) >= 10**17:
        return value // 1_000_000_000
    if abs(value) >= 10**11:
        return value // 1000
    return value


_FORMATS = ("%m/%d/%Y", "%m/%d/%Y %H:%M", "%m/%d/%Y %H:%M:%S", "%Y%m%d")


def _parse_one(text: str, zone: ZoneInfo) -> int:
    """One time value to UTC epoch seconds; raises ValueError with a short reason."""
    t = text.strip()
    if not t:
        raise ValueError("the date is missing")
    if t.isdigit() and len(t) != 8:
        return _parse_epoch(t)
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
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=zone)
    return int(dt.astimezone(UTC).timestamp())


def _fast_times(values: list[str], zone: ZoneInfo) -> np.ndarray | None:
    """Vectorised path for naive ISO dates/date-times (the common case); None if not possible."""
    sample = values[0].strip() if values else ""
    if not sample or sample[-1] == "Z" or "+" in sample[10:] or sample.isdigit():
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            local = np.array(values, dtype="datetime64[s]").astype(np.int64)
    except (ValueError, DeprecationWarning, UserWarning):
        return None
    # Wall-clock time in the zone -> UTC: look the offset up once per distinct local hour.
    hours = local // 3600
    unique_hours, inverse = np.unique(hours, return_inverse=True)
    offsets = np.empty(unique_hours.shape[0], dtype=np.int64)
    for i, h in enumerate(unique_hours.tolist()):
        naive = datetime.fromtimestamp(h * 3600, tz=UTC).replace(tzinfo=None)
        off = naive.replace(tzinfo=zone).utcoffset()
        offsets[i] = int(off.total_seconds()) if off is not None else 0
    return local - offsets[inverse]


def _to_floats(values: list[str]) -> np.ndarray | None:
    try:
        return np.array(values, dtype=np.float64)
    except ValueError:
        return None


def parse_csv(
    path: Path,
    tz: str,
    progress: Callable[[int, int], None] | None = None,
) -> ParsedBars:
    """Read and check every row; bad rows are reported with their line numbers."""
    zone = ZoneInfo(tz)
    try:
        fh = path.open(newline="", encoding="utf-8-sig")
    except FileNotFoundError:
        raise MarketError(f"There is no file {path}; check the path.") from None
    except IsADirectoryError:
        raise MarketError(f"{path} is a folder, not a CSV file; give the file's path.") from None
    except OSError as exc:
        raise MarketError(f"Cannot read {path} ({exc.strerror}); check its permissions.") from None
    total_bytes = max(path.stat().st_size, 1)
    with fh:
        reader = csv.reader(fh)
        try:
            header = next(reader)
        except StopIteration:
            raise MarketError(f"{path.name} is empty; export the bars with a header row.") from None
        except (csv.Error, UnicodeDecodeError):
            raise MarketError(f"{path.name} is not a readable CSV text file.") from None
        time_idx, cols = _header_map(header, path)
        width = max(time_idx, *cols.values()) + 1
        lines: list[int] = []
        times: list[str] = []
        columns: dict[str, list[str]] = {c: [] for c in PRICE_COLUMNS}
        problems: list[RowProblem] = []
        col_items = list(cols.items())
        try:
            for row in reader:
                line = reader.line_num
                if not row or (len(row) == 1 and not row[0].strip()):
                    continue
                if len(row) < width:
                    problems.append(RowProblem(line, f"has {len(row)} fields, expected {width}"))
                    continue
                lines.append(line)
                times.append(row[time_idx])
                for name, idx in col_items:
                    columns[name].append(row[idx])
                if progress is not None and len(lines) % _PROGRESS_EVERY == 0:
                    progress(min(fh.tell(), total_bytes), total_bytes)
        except (csv.Error, UnicodeDecodeError) as exc:
            raise MarketError(
                f"{path.name} line {reader.line_num} cannot be read as CSV ({exc}); fix the file."
            ) from None
    if progress is not None:
        progress(total_bytes, total_bytes)
    return _check_rows(lines, times, columns, zone, problems)


def _check_rows(
    lines: list[int],
    times: list[str],
    columns: dict[str, list[str]],
    zone: ZoneInfo,
    problems: list[RowProblem],
) -> ParsedBars:
    n = len(lines)
    short_rows = len(problems)
    line_arr = np.asarray(lines, dtype=np.int64)
    bad = np.zeros(n, dtype=bool)
    reasons: dict[int, str] = {}

    def mark(index: int, reason: str) -> None:
        if not bad[index]:
            bad[index] = True
            reasons[index] = reason

    values: dict[str, np.ndarray] = {}
    for name, raw in columns.items():
        arr = _to_floats(raw)
        if arr is None:
            arr = np.full(n, np.nan)
            for i, text in enumerate(raw):
                try:
                    arr[i] = float(text)
                except ValueError:
                    t = text.strip()
                    mark(i, f"{name.capitalize()} is missing" if not t
                         else f"{name.capitalize()} {t!r} is not a number")
        for i in np.flatnonzero(~np.isfinite(arr)).tolist():
            mark(i, f"{name.capitalize()} {raw[i].strip()!r} is not a finite number")
        values[name] = arr

    for i in np.flatnonzero(values["high"] < values["low"]).tolist():
        mark(i, f"High {values['high'][i]:g} is below Low {values['low'][i]:g}")
    for i in np.flatnonzero(values["volume"] < 0).tolist():
        mark(i, f"Volume {values['volume'][i]:g} is negative")
    for name in ("open", "high", "low", "close"):
        for i in np.flatnonzero(values[name] <= 0).tolist():
            mark(i, f"{name.capitalize()} {values[name][i]:g} is not a positive price")

    ts = _fast_times(times, zone) if n else np.empty(0, dtype=np.int64)
    if ts is None:
        ts = np.zeros(n, dtype=np.int64)
        for i, text in enumerate(times):
            try:
                ts[i] = _parse_one(text, zone)
            except (ValueError, OverflowError, OSError) as exc:
                mark(i, str(exc) if str(exc) else f"{text!r} is not a date")

    # The same time twice: the later line is the bad one.
    good_idx = np.flatnonzero(~bad)
    if good_idx.size:
        order = good_idx[np.argsort(ts[good_idx], kind="stable")]
        dup = np.flatnonzero(np.diff(ts[order]) == 0)
        for k in dup.tolist():
            first, second = sorted((int(order[k]), int(order[k + 1])))
            mark(second, f"has the same time as line {line_arr[first]}")

    for i, reason in reasons.items():
        problems.append(RowProblem(int(line_arr[i]), reason))
    problems.sort(key=lambda p: p.line)

    keep = ~bad
    order = np.argsort(ts[keep], kind="stable")
    return ParsedBars(
        ts=ts[keep][order],
        open=values["open"][keep][order],
        high=values["high"][keep][order],
        low=values["low"][keep][order],
        close=values["close"][keep][order],
        volume=values["volume"][keep][order],
        rows_read=n + short_rows,
        problems=tuple(problems),
    )
