"""The market service on SQLite and PostgreSQL: CSV import, the bars cache, demo data."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from kash_tui.config import Settings
from kash_tui.domains.market import (
    NS_PER_SECOND,
    AssetClass,
    CsvRejected,
    MarketError,
    NoBarsError,
    Timeframe,
)
from kash_tui.provider import ServiceProvider

HEADER = "Date,Open,High,Low,Close,Volume"


@pytest.fixture
def kash(db_url: str) -> Iterator[ServiceProvider]:
    """A prepared provider without demo data (imports start from nothing)."""
    provider = ServiceProvider(Settings(database_url=db_url, demo_data=False))
    provider.prepare()
    try:
        yield provider
    finally:
        provider.close()


def _csv(tmp_path: Path, text: str, name: str = "bars.csv") -> Path:
    path = tmp_path / name
    path.write_text(text.lstrip("\n"), encoding="utf-8")
    return path


def _utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def _times(series) -> list[datetime]:  # noqa: ANN001
    return [series.time(i) for i in range(len(series))]


DAILY = """
Date,Open,High,Low,Close,Volume
2024-01-02,10,11,9,10.5,1000
2024-01-03,10.5,12,10,11.5,2000
2024-01-04,11.5,12.5,11,12,3000
"""


# -- reading CSV files -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "header",
    [
        "Date,Open,High,Low,Close,Volume",
        "date,open,high,low,close,volume",
        "DATE,OPEN,HIGH,LOW,CLOSE,VOLUME",
        "Datetime,Open,High,Low,Close,Volume",
        "timestamp,open,high,low,close,volume",
        "Time,Open,High,Low,Close,Volume",
        " Date , Open , High , Low , Close , Volume ",
    ],
)
def test_header_is_case_insensitive_and_accepts_time_column_names(
    kash: ServiceProvider, tmp_path: Path, header: str
) -> None:
    path = _csv(tmp_path, f"{header}\n2024-01-02,10,11,9,10.5,1000\n")
    report = kash.market.import_csv(path, "abc")
    assert (report.symbol, report.stored, report.new) == ("ABC", 1, 1)
    bars = kash.market.load_bars("ABC", Timeframe.DAY_1)
    assert (bars.open[0], bars.high[0], bars.low[0], bars.close[0], bars.volume[0]) == (
        10.0, 11.0, 9.0, 10.5, 1000.0,
    )


def test_columns_in_any_order_and_extra_columns_ignored(
    kash: ServiceProvider, tmp_path: Path
) -> None:
    path = _csv(tmp_path, "Volume,Close,Adj Close,Low,High,Open,Date\n500,20,19.5,18,21,19,2024-03-01\n")
    kash.market.import_csv(path, "XYZ")
    bars = kash.market.load_bars("XYZ", Timeframe.DAY_1)
    assert (bars.open[0], bars.high[0], bars.low[0], bars.close[0], bars.volume[0]) == (
        19.0, 21.0, 18.0, 20.0, 500.0,
    )


def test_date_only_rows_are_midnight_new_york(kash: ServiceProvider, tmp_path: Path) -> None:
    path = _csv(tmp_path, f"{HEADER}\n2024-01-02,1,2,0.5,1.5,10\n2024-07-02,1,2,0.5,1.5,10\n")
    kash.market.import_csv(path, "NY")
    bars = kash.market.load_bars("NY", Timeframe.DAY_1)
    # winter EST (UTC-5), summer EDT (UTC-4)
    assert _times(bars) == [_utc(2024, 1, 2, 5), _utc(2024, 7, 2, 4)]
    assert bars.tz == "America/New_York"
    assert kash.market.get_instrument("NY").exchange_tz == "America/New_York"


def test_naive_intraday_times_are_new_york_wall_clock(kash: ServiceProvider, tmp_path: Path) -> None:
    path = _csv(
        tmp_path,
        "Datetime,Open,High,Low,Close,Volume\n"
        "2024-01-02 09:30:00,1,2,0.5,1.5,10\n"
        "2024-01-02 09:31,1,2,0.5,1.5,10\n"
        "2024-07-02T09:30:00,1,2,0.5,1.5,10\n",
    )
    kash.market.import_csv(path, "NY", timeframe=Timeframe.MIN_1)
    bars = kash.market.load_bars("NY", Timeframe.MIN_1)
    assert _times(bars) == [
        _utc(2024, 1, 2, 14, 30), _utc(2024, 1, 2, 14, 31), _utc(2024, 7, 2, 13, 30),
    ]


def test_times_with_z_or_an_offset_keep_it(kash: ServiceProvider, tmp_path: Path) -> None:
    path = _csv(
        tmp_path,
        "timestamp,open,high,low,close,volume\n"
        "2024-01-02T09:30:00Z,1,2,0.5,1.5,10\n"
        "2024-01-02T09:31:00Z,1,2,0.5,1.5,10\n",
    )
    kash.market.import_csv(path, "ZED", timeframe=Timeframe.MIN_1)
    assert _times(kash.market.load_bars("ZED", Timeframe.MIN_1)) == [
        _utc(2024, 1, 2, 9, 30), _utc(2024, 1, 2, 9, 31),
    ]

    path = _csv(tmp_path, "timestamp,open,high,low,close,volume\n"
                "2024-01-02T09:30:00-05:00,1,2,0.5,1.5,10\n", "off.csv")
    kash.market.import_csv(path, "OFF", timeframe=Timeframe.MIN_1)
    assert _times(kash.market.load_bars("OFF", Timeframe.MIN_1)) == [_utc(2024, 1, 2, 14, 30)]


def test_zone_option_and_crypto_default_to_utc(kash: ServiceProvider, tmp_path: Path) -> None:
    path = _csv(tmp_path, f"{HEADER}\n2024-01-02,1,2,0.5,1.5,10\n")
    kash.market.import_csv(path, "UTCX", tz="UTC")
    assert _times(kash.market.load_bars("UTCX", Timeframe.DAY_1)) == [_utc(2024, 1, 2)]

    kash.market.import_csv(path, "BTC/USD", asset_class=AssetClass.CRYPTO)
    bars = kash.market.load_bars("btc/usd", Timeframe.DAY_1)
    assert _times(bars) == [_utc(2024, 1, 2)]
    assert bars.asset_class is AssetClass.CRYPTO

    with pytest.raises(MarketError, match="Unknown time zone"):
        kash.market.import_csv(path, "BAD", tz="Mars/Olympus")


def test_reimporting_overlapping_data_updates_instead_of_duplicating(
    kash: ServiceProvider, tmp_path: Path
) -> None:
    first = kash.market.import_csv(_csv(tmp_path, DAILY), "ABC")
    assert (first.stored, first.new) == (3, 3)

    overlap = _csv(
        tmp_path,
        f"{HEADER}\n"
        "2024-01-03,10.5,12,10,99.25,2000\n"  # corrected close
        "2024-01-04,11.5,12.5,11,12,3000\n"
        "2024-01-05,12,13,11.5,12.5,4000\n",
        "overlap.csv",
    )
    second = kash.market.import_csv(overlap, "ABC")
    assert (second.stored, second.new) == (3, 1)

    bars = kash.market.load_bars("ABC", Timeframe.DAY_1)
    assert len(bars) == 4
    assert bars.close.tolist() == [10.5, 99.25, 12.0, 12.5]
    (summary,) = kash.market.list_data()
    assert (summary.symbol, summary.count) == ("ABC", 4)

    again = kash.market.import_csv(overlap, "ABC")  # the same file twice: nothing new
    assert again.new == 0
    assert len(kash.market.load_bars("ABC", Timeframe.DAY_1)) == 4


BAD = """
Date,Open,High,Low,Close,Volume
2024-01-02,10,11,9,10.5,1000
2024-01-03,abc,12,10,11.5,2000
2024-01-04,11.5,12.5,11,12,3000
2024-01-05,12,11,13,12,100
2024-01-06,12,13,11,12,-5
not-a-date,12,13,11,12,100
2024-01-04,11.5,12.5,11,12,3000
2024-01-09,12,13
"""


def test_bad_rows_are_listed_by_line_and_nothing_is_stored(
    kash: ServiceProvider, tmp_path: Path
) -> None:
    with pytest.raises(CsvRejected) as err:
        kash.market.import_csv(_csv(tmp_path, BAD), "ABC")
    lines = [p.line for p in err.value.problems]
    assert lines == [3, 5, 6, 7, 8, 9]
    message = str(err.value)
    assert "nothing was imported" in message
    assert "line 3" in message and "--skip-bad-rows" in message
    reasons = {p.line: p.reason for p in err.value.problems}
    assert "Open" in reasons[3]
    assert "below Low" in reasons[5]
    assert "negative" in reasons[6]
    assert "line 4" in reasons[8]  # the same time twice
    assert "fields" in reasons[9]

    assert kash.market.list_data() == []
    with pytest.raises(NoBarsError):
        kash.market.load_bars("ABC", Timeframe.DAY_1)


def test_rejected_import_leaves_existing_bars_untouched(
    kash: ServiceProvider, tmp_path: Path
) -> None:
    kash.market.import_csv(_csv(tmp_path, DAILY), "ABC")
    before = kash.market.load_bars("ABC", Timeframe.DAY_1)
    bad = _csv(tmp_path, f"{HEADER}\n2024-01-02,1,1,1,1,1\n2024-01-03,x,1,1,1,1\n", "bad.csv")
    with pytest.raises(CsvRejected):
        kash.market.import_csv(bad, "ABC")
    after = kash.market.load_bars("ABC", Timeframe.DAY_1)
    assert after.close.tolist() == before.close.tolist() == [10.5, 11.5, 12.0]


def test_skip_bad_rows_stores_the_good_ones(kash: ServiceProvider, tmp_path: Path) -> None:
    report = kash.market.import_csv(_csv(tmp_path, BAD), "ABC", skip_bad_rows=True)
    assert [p.line for p in report.skipped] == [3, 5, 6, 7, 8, 9]
    assert (report.stored, report.new) == (2, 2)
    bars = kash.market.load_bars("ABC", Timeframe.DAY_1)
    assert _times(bars) == [_utc(2024, 1, 2, 5), _utc(2024, 1, 4, 5)]


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("", "empty"),
        ("Open,High,Low,Close,Volume\n1,2,0.5,1,1\n", "no Date column"),
        ("Date,Open,High,Low,Close\n2024-01-02,1,2,0.5,1\n", "no Volume column"),
        (f"{HEADER}\n", "no usable rows"),
    ],
)
def test_unusable_files_are_refused(
    kash: ServiceProvider, tmp_path: Path, text: str, match: str
) -> None:
    with pytest.raises(MarketError, match=match):
        kash.market.import_csv(_csv(tmp_path, text), "ABC")
    assert kash.market.list_data() == []


def test_missing_file_is_refused(kash: ServiceProvider, tmp_path: Path) -> None:
    with pytest.raises(MarketError, match="no file"):
        kash.market.import_csv(tmp_path / "nope.csv", "ABC")
    with pytest.raises(MarketError, match="not a valid symbol"):
        kash.market.import_csv(_csv(tmp_path, DAILY), "bad symbol!")


def test_symbol_stored_in_another_zone_is_refused(kash: ServiceProvider, tmp_path: Path) -> None:
    path = _csv(tmp_path, DAILY)
    kash.market.import_csv(path, "ABC")
    with pytest.raises(MarketError, match="stored as us_equity in America/New_York"):
        kash.market.import_csv(path, "ABC", tz="Europe/London")
    assert len(kash.market.load_bars("ABC", Timeframe.DAY_1)) == 3


# -- loading bars ----------------------------------------------------------------------------


def test_load_bars_returns_numpy_arrays(kash: ServiceProvider, tmp_path: Path) -> None:
    kash.market.import_csv(_csv(tmp_path, DAILY), "ABC")
    bars = kash.market.load_bars("ABC", Timeframe.DAY_1)
    assert len(bars) == 3
    assert isinstance(bars.timestamps, np.ndarray) and bars.timestamps.dtype == np.int64
    for arr in (bars.open, bars.high, bars.low, bars.close, bars.volume):
        assert isinstance(arr, np.ndarray) and arr.dtype == np.float64 and arr.shape == (3,)
    assert bars.timestamps.tolist() == [
        int(_utc(2024, 1, d, 5).timestamp()) * NS_PER_SECOND for d in (2, 3, 4)
    ]
    assert bars.first == _utc(2024, 1, 2, 5) and bars.last == _utc(2024, 1, 4, 5)
    assert bars.volume.tolist() == [1000.0, 2000.0, 3000.0]


def test_load_bars_last_and_range(kash: ServiceProvider, tmp_path: Path) -> None:
    kash.market.import_csv(_csv(tmp_path, DAILY), "ABC")
    last_two = kash.market.load_bars("ABC", Timeframe.DAY_1, last=2)
    assert _times(last_two) == [_utc(2024, 1, 3, 5), _utc(2024, 1, 4, 5)]  # oldest first
    assert last_two.close.tolist() == [11.5, 12.0]
    assert len(kash.market.load_bars("ABC", Timeframe.DAY_1, last=100)) == 3

    # start and end are inclusive
    ranged = kash.market.load_bars(
        "ABC", Timeframe.DAY_1, start=_utc(2024, 1, 3, 5), end=_utc(2024, 1, 4, 5)
    )
    assert ranged.close.tolist() == [11.5, 12.0]
    assert kash.market.load_bars("ABC", Timeframe.DAY_1, start=_utc(2024, 1, 3)).close.tolist() == [
        11.5, 12.0,
    ]
    assert kash.market.load_bars("ABC", Timeframe.DAY_1, end=_utc(2024, 1, 3)).close.tolist() == [
        10.5,
    ]


def test_no_bars_errors(kash: ServiceProvider, tmp_path: Path) -> None:
    kash.market.import_csv(_csv(tmp_path, DAILY), "ABC")
    with pytest.raises(NoBarsError, match="no bars for NOPE"):
        kash.market.load_bars("NOPE", Timeframe.DAY_1)
    with pytest.raises(NoBarsError, match="no 1Min bars for ABC"):
        kash.market.load_bars("ABC", Timeframe.MIN_1)
    with pytest.raises(NoBarsError, match="in that period"):
        kash.market.load_bars("ABC", Timeframe.DAY_1, start=_utc(2030, 1, 1), end=_utc(2030, 2, 1))
    with pytest.raises(MarketError, match="after the end"):
        kash.market.load_bars("ABC", Timeframe.DAY_1, start=_utc(2024, 2, 1), end=_utc(2024, 1, 1))
    with pytest.raises(MarketError, match="positive"):
        kash.market.load_bars("ABC", Timeframe.DAY_1, last=0)


def test_timeframes_and_search(kash: ServiceProvider, tmp_path: Path) -> None:
    path = _csv(tmp_path, DAILY)
    kash.market.import_csv(path, "ABC")
    kash.market.import_csv(path, "ABC", timeframe=Timeframe.HOUR_1)
    assert kash.market.timeframes_for("abc") == [Timeframe.HOUR_1, Timeframe.DAY_1]
    assert [i.symbol for i in kash.market.search_symbols("ab")] == ["ABC"]
    with pytest.raises(NoBarsError):
        kash.market.timeframes_for("NOPE")


def test_unknown_timeframe_text_is_refused() -> None:
    assert Timeframe.parse("1day") is Timeframe.DAY_1
    with pytest.raises(MarketError, match="Unknown timeframe '2Day'"):
        Timeframe.parse("2Day")


# -- demo data -------------------------------------------------------------------------------


def _demo(url: str) -> ServiceProvider:
    provider = ServiceProvider(Settings(database_url=url))
    provider.prepare()
    return provider


def test_demo_data_is_seeded_once(db_url: str) -> None:
    kash = _demo(db_url)
    try:
        stored = {(d.symbol, d.timeframe): d for d in kash.market.list_data()}
        for key in [
            ("DEMOA", Timeframe.DAY_1),
            ("DEMOA", Timeframe.MIN_1),
            ("DEMOB", Timeframe.DAY_1),
            ("DEMOCOIN/USD", Timeframe.DAY_1),
        ]:
            assert key in stored, key
            assert stored[key].source == "demo"
            assert stored[key].count > 100
        assert stored[("DEMOCOIN/USD", Timeframe.DAY_1)].asset_class is AssetClass.CRYPTO
        assert "not real" in kash.market.get_instrument("DEMOA").name
        counts = {k: v.count for k, v in stored.items()}
        minute = kash.market.load_bars("DEMOA", Timeframe.MIN_1, last=1)
        assert minute.high[0] >= minute.low[0]
    finally:
        kash.close()

    again = _demo(db_url)
    try:
        assert {(d.symbol, d.timeframe): d.count for d in again.market.list_data()} == counts
    finally:
        again.close()


def test_demo_data_is_deterministic(db_url: str, tmp_path: Path) -> None:
    other_url = f"sqlite:///{tmp_path / 'other.db'}"
    one, two = _demo(db_url), _demo(other_url)
    try:
        for symbol, tf in [("DEMOA", Timeframe.DAY_1), ("DEMOA", Timeframe.MIN_1),
                           ("DEMOB", Timeframe.DAY_1), ("DEMOCOIN/USD", Timeframe.DAY_1)]:
            a, b = one.market.load_bars(symbol, tf), two.market.load_bars(symbol, tf)
            for field in ("timestamps", "open", "high", "low", "close", "volume"):
                np.testing.assert_array_equal(getattr(a, field), getattr(b, field))
            assert np.all(a.high >= a.low)
            assert np.all(a.volume >= 0)
    finally:
        one.close()
        two.close()


def test_demo_seed_never_overwrites_a_users_own_symbol(db_url: str, tmp_path: Path) -> None:
    # a user imported their own DEMOB before Kash ever seeded demo data
    kash = ServiceProvider(Settings(database_url=db_url, demo_data=False))
    kash.prepare()
    kash.market.import_csv(_csv(tmp_path, DAILY), "DEMOB")
    kash.close()

    seeded = _demo(db_url)
    try:
        bars = seeded.market.load_bars("DEMOB", Timeframe.DAY_1)
        assert bars.close.tolist() == [10.5, 11.5, 12.0]
        assert seeded.market.get_instrument("DEMOB").source == "csv"
        assert len(seeded.market.load_bars("DEMOA", Timeframe.DAY_1)) > 100
    finally:
        seeded.close()


# -- bars at real size: chunked storage seen from the service ---------------------------------

BIG_START = int(_utc(2024, 1, 1).timestamp())
CHUNK_SECONDS = 60 * 8192  # one stored chunk of 1Min bars (buckets aligned on the epoch)


def _minute_series(count: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``count`` 1Min timestamps (epoch s) with gaps (nights, weekends, random holes) and their
    open/high/low/close/volume as a (5, n) array of floats that print exactly."""
    rng = np.random.default_rng(seed)
    steps = np.where(rng.random(count) < 0.002, rng.integers(60, 4000, count), 1)
    ts = BIG_START + 60 * np.cumsum(steps)
    close = np.round(100 * np.exp(np.cumsum(rng.normal(0, 0.001, count))), 4)
    open_ = np.round(close * (1 + rng.normal(0, 0.0005, count)), 4)
    high = np.maximum(open_, close) + 0.25
    low = np.minimum(open_, close) - 0.25
    volume = rng.integers(0, 5000, count).astype(np.float64)
    return ts.astype(np.int64), np.stack([open_, high, low, close, volume])


def _minute_csv(path: Path, ts: np.ndarray, values: np.ndarray) -> Path:
    stamps = np.datetime_as_string(ts.astype("datetime64[s]"))
    cols = [c.tolist() for c in values]
    lines = [f"{t},{o!r},{h!r},{lo!r},{c!r},{v!r}"
             for t, o, h, lo, c, v in zip(stamps.tolist(), *cols, strict=True)]
    path.write_text("Datetime,Open,High,Low,Close,Volume\n" + "\n".join(lines) + "\n",
                    encoding="utf-8")
    return path


def _assert_bars(series, ts: np.ndarray, values: np.ndarray) -> None:  # noqa: ANN001
    assert np.array_equal(series.timestamps, ts * NS_PER_SECOND)
    for got, want in zip((series.open, series.high, series.low, series.close, series.volume),
                         values, strict=True):
        assert np.array_equal(got, want)


def test_bars_at_real_size_across_every_chunk_edge(kash: ServiceProvider, tmp_path: Path) -> None:
    ts, values = _minute_series(120_000, seed=7)
    report = kash.market.import_csv(_minute_csv(tmp_path / "a.csv", ts, values), "BIG",
                                    timeframe=Timeframe.MIN_1, tz="UTC")
    assert (report.stored, report.new) == (len(ts), len(ts))
    edges = np.arange((ts[0] // CHUNK_SECONDS + 1) * CHUNK_SECONDS, ts[-1], CHUNK_SECONDS)
    assert len(edges) >= 10  # the series spans many stored chunks

    # re-import an overlapping range crossing several chunk edges: new values win, gaps in the
    # old data are filled by the new bars, nothing is duplicated
    lo, hi = int(np.searchsorted(ts, edges[2] - 5000)), int(np.searchsorted(ts, edges[6] + 7000))
    re_ts = np.union1d(ts[lo:hi], np.arange(ts[lo], ts[hi - 1], 60 * 7))  # adds timestamps
    re_values = np.stack([
        np.full(len(re_ts), 50.5), np.full(len(re_ts), 51.0), np.full(len(re_ts), 49.75),
        np.round(np.linspace(50.0, 51.0, len(re_ts)), 6), np.full(len(re_ts), 7.0),
    ])
    again = kash.market.import_csv(_minute_csv(tmp_path / "b.csv", re_ts, re_values), "BIG",
                                   timeframe=Timeframe.MIN_1, tz="UTC")
    added = np.setdiff1d(re_ts, ts)
    assert again.stored == len(re_ts) and again.new == len(added) > 0
    want_ts = np.union1d(ts, re_ts)
    want = np.empty((5, len(want_ts)))
    want[:, np.searchsorted(want_ts, ts)] = values
    want[:, np.searchsorted(want_ts, re_ts)] = re_values

    # appends after the last bar: one into the last chunk, then some into new chunks
    tail_ts = np.array([want_ts[-1] + 60, *(want_ts[-1] + CHUNK_SECONDS + 60 * np.arange(1, 4))])
    tail = np.stack([np.full(4, 60.0), np.full(4, 61.0), np.full(4, 59.0),
                     np.array([60.25, 60.5, 60.75, 61.0]), np.full(4, 3.0)])
    for k in range(4):
        step = kash.market.import_csv(
            _minute_csv(tmp_path / f"t{k}.csv", tail_ts[k : k + 1], tail[:, k : k + 1]), "BIG",
            timeframe=Timeframe.MIN_1, tz="UTC")
        assert step.new == 1
    want_ts = np.concatenate([want_ts, tail_ts])
    want = np.concatenate([want, tail], axis=1)

    full = kash.market.load_bars("BIG", Timeframe.MIN_1)
    _assert_bars(full, want_ts, want)
    (summary,) = kash.market.list_data()
    assert summary.count == len(want_ts)
    assert (summary.first, summary.last) == (full.first, full.last)

    def when(seconds: int) -> datetime:
        return datetime.fromtimestamp(int(seconds), tz=UTC)

    def expect(start: int | None, end: int | None, last: int | None = None):  # noqa: ANN202
        a = 0 if start is None else int(np.searchsorted(want_ts, start, "left"))
        b = len(want_ts) if end is None else int(np.searchsorted(want_ts, end, "right"))
        if last is not None:
            a = max(a, b - last)
        return want_ts[a:b], want[:, a:b]

    # ranges starting, ending and lying exactly at, just before and just after chunk edges
    edges = np.arange((want_ts[0] // CHUNK_SECONDS + 1) * CHUNK_SECONDS, want_ts[-1],
                      CHUNK_SECONDS)
    for edge in edges.tolist():
        for start, end in ((edge - 60, edge + 60), (edge, edge), (edge - 1, edge),
                           (edge, edge + CHUNK_SECONDS), (edge - CHUNK_SECONDS - 60, edge - 1)):
            got_ts, got_values = expect(start, end)
            if len(got_ts) == 0:
                with pytest.raises(NoBarsError):
                    kash.market.load_bars("BIG", Timeframe.MIN_1, when(start), when(end))
                continue
            _assert_bars(kash.market.load_bars("BIG", Timeframe.MIN_1, when(start), when(end)),
                         got_ts, got_values)
    # the newest N bars across chunk edges, with and without a range
    in_last_chunk = int((want_ts >= want_ts[-1] // CHUNK_SECONDS * CHUNK_SECONDS).sum())
    for last in (1, in_last_chunk, in_last_chunk + 1, 8192 + 5, 50_000, len(want_ts) + 10):
        _assert_bars(kash.market.load_bars("BIG", Timeframe.MIN_1, last=last),
                     *expect(None, None, last))
    mid = int(edges[len(edges) // 2])
    for last in (3, 9000, 30_000):
        _assert_bars(kash.market.load_bars("BIG", Timeframe.MIN_1, end=when(mid), last=last),
                     *expect(None, mid, last))
        _assert_bars(
            kash.market.load_bars("BIG", Timeframe.MIN_1, when(mid - 20_000), when(mid + 30),
                                  last=last),
            *expect(mid - 20_000, mid + 30, last))

    # progress while loading reaches the total
    seen: list[tuple[int, int]] = []
    kash.market.load_bars("BIG", Timeframe.MIN_1, progress=lambda d, t: seen.append((d, t)))
    assert seen and seen[-1][0] == seen[-1][1] >= len(want_ts)


def test_a_rejected_reimport_leaves_every_chunk_as_it_was(
    kash: ServiceProvider, tmp_path: Path
) -> None:
    ts, values = _minute_series(30_000, seed=3)
    kash.market.import_csv(_minute_csv(tmp_path / "a.csv", ts, values), "BIG",
                           timeframe=Timeframe.MIN_1, tz="UTC")
    bad = values[:, 1000:20_000].copy()
    bad[3] = 1.0
    bad[1, -1] = 0.5  # the last row's high below its low: the whole import is refused
    with pytest.raises(MarketError):
        kash.market.import_csv(_minute_csv(tmp_path / "b.csv", ts[1000:20_000], bad), "BIG",
                               timeframe=Timeframe.MIN_1, tz="UTC")
    _assert_bars(kash.market.load_bars("BIG", Timeframe.MIN_1), ts, values)
