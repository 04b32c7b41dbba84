"""``kash data import`` and ``kash data list`` through the installed binary, and imports of
more than 100,000 rows through the CLI's ``main`` in the test process."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from tests.cli.outcome import as_json, ok, refused

from kash_tui.cli import main




DAILY = (
    "Date,Open,High,Low,Close,Volume\n"
    "2024-01-02,10,11,9,10.5,1000\n"
    "2024-01-03,10.5,12,10,11.5,2000\n"
    "2024-01-04,11.5,12.5,11,12,3000\n"
)
BAD = (
    "Date,Open,High,Low,Close,Volume\n"
    "2024-01-02,10,11,9,10.5,1000\n"
    "2024-01-03,oops,12,10,11.5,2000\n"
    "2024-01-04,11.5,12.5,11,12,3000\n"
    "2024-01-05,12,11,13,12,100\n"
)


def _file(tmp_path: Path, text: str, name: str = "bars.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _listed(run_kash, db: str) -> dict[tuple[str, str], dict]:  # noqa: ANN001
    return {(d["symbol"], d["timeframe"]): d for d in as_json(run_kash("data", "list", "--json",
                                                                        "--db", db))}


def test_fresh_database_lists_the_demo_data(run_kash, sqlite_db_url: str) -> None:  # noqa: ANN001
    listed = _listed(run_kash, sqlite_db_url)
    for key in [("DEMOA", "1Day"), ("DEMOA", "1Min"), ("DEMOB", "1Day"), ("DEMOCOIN/USD", "1Day")]:
        assert listed[key]["source"] == "demo"
    out = ok(run_kash("data", "list", "--db", sqlite_db_url)).stdout
    assert out.splitlines()[0].split()[:2] == ["SYMBOL", "TIMEFRAME"]
    assert "DEMOA" in out


def test_import_then_reimport_overlapping(run_kash, db_url: str, tmp_path: Path) -> None:  # noqa: ANN001
    out = ok(run_kash("data", "import", _file(tmp_path, DAILY), "--symbol", "abc", "--db",
                      db_url)).stdout
    assert "Stored 3 1Day bars for ABC (3 new, 0 updated)" in out
    assert "2024-01-02 05:00 to 2024-01-04 05:00 UTC" in out
    entry = _listed(run_kash, db_url)[("ABC", "1Day")]
    assert (entry["count"], entry["source"], entry["asset_class"]) == (3, "csv", "us_equity")
    assert entry["first"].startswith("2024-01-02T05:00:00")

    overlap = _file(tmp_path, "Date,Open,High,Low,Close,Volume\n"
                    "2024-01-04,11.5,12.5,11,12,3000\n2024-01-05,12,13,11.5,12.5,4000\n",
                    "more.csv")
    report = as_json(run_kash("data", "import", overlap, "--symbol", "ABC", "--json", "--db",
                              db_url))
    assert (report["symbol"], report["stored"], report["new"]) == ("ABC", 2, 1)
    assert _listed(run_kash, db_url)[("ABC", "1Day")]["count"] == 4


def test_intraday_import_with_timeframe_and_zone(run_kash, sqlite_db_url: str, tmp_path: Path) -> None:  # noqa: ANN001,E501
    path = _file(tmp_path, "Datetime,Open,High,Low,Close,Volume\n"
                 "2024-01-02 09:30:00,1,2,0.5,1.5,10\n2024-01-02 09:31:00,1,2,0.5,1.5,10\n")
    out = ok(run_kash("data", "import", path, "--symbol", "NYC", "--timeframe", "1min",
                      "--db", sqlite_db_url)).stdout
    assert "2024-01-02 14:30 to 2024-01-02 14:31 UTC" in out
    out = ok(run_kash("data", "import", path, "--symbol", "LDN", "--timeframe", "1Min",
                      "--tz", "Europe/London", "--db", sqlite_db_url)).stdout
    assert "2024-01-02 09:30 to 2024-01-02 09:31 UTC" in out


def test_bad_csv_is_refused_and_nothing_is_stored(run_kash, sqlite_db_url: str, tmp_path: Path) -> None:  # noqa: ANN001,E501
    before = _listed(run_kash, sqlite_db_url)
    line = refused(run_kash("data", "import", _file(tmp_path, BAD), "--symbol", "ABC", "--db",
                            sqlite_db_url))
    assert "2 bad row(s)" in line and "nothing was imported" in line
    assert "line 3" in line and "line 5" in line
    assert "--skip-bad-rows" in line
    assert _listed(run_kash, sqlite_db_url) == before


def test_skip_bad_rows_imports_the_good_ones(run_kash, sqlite_db_url: str, tmp_path: Path) -> None:  # noqa: ANN001,E501
    out = ok(run_kash("data", "import", _file(tmp_path, BAD), "--symbol", "ABC",
                      "--skip-bad-rows", "--db", sqlite_db_url)).stdout
    assert "Stored 2 1Day bars for ABC" in out
    assert "skipped line 3:" in out and "skipped line 5:" in out
    assert _listed(run_kash, sqlite_db_url)[("ABC", "1Day")]["count"] == 2


@pytest.mark.parametrize(
    ("text", "extra", "words"),
    [
        (DAILY, ("--timeframe", "2Day"), "Unknown timeframe"),
        (DAILY, ("--asset-class", "bond"), "Unknown asset class"),
        (DAILY, ("--tz", "Mars/Olympus"), "Unknown time zone"),
        (DAILY, ("--symbol", "not a symbol!"), "not a valid symbol"),
        ("Open,High,Low,Close,Volume\n1,2,0.5,1,1\n", (), "no Date column"),
        ("", (), "is empty"),
        ("Date,Open,High,Low,Close,Volume\n", (), "no usable rows"),
    ],
    ids=["timeframe", "asset-class", "zone", "symbol", "no-date-column", "empty", "header-only"],
)
def test_unusable_imports_are_refused(
    run_kash, sqlite_db_url: str, tmp_path: Path, text: str, extra: tuple[str, ...], words: str  # noqa: ANN001,E501
) -> None:
    args = ["data", "import", _file(tmp_path, text)]
    if "--symbol" not in extra:
        args += ["--symbol", "ABC"]
    line = refused(run_kash(*args, *extra, "--db", sqlite_db_url))
    assert words in line
    listed = _listed(run_kash, sqlite_db_url)
    assert all(d["source"] == "demo" for d in listed.values())


def test_missing_file_and_missing_symbol(run_kash, sqlite_db_url: str, tmp_path: Path) -> None:  # noqa: ANN001,E501
    line = refused(run_kash("data", "import", tmp_path / "nope.csv", "--symbol", "ABC", "--db",
                            sqlite_db_url))
    assert "no file" in line
    line = refused(run_kash("data", "import", _file(tmp_path, DAILY), "--db", sqlite_db_url))
    assert "--symbol" in line
    assert "needs a command" in refused(run_kash("--db", sqlite_db_url, "data"))


def test_data_list_json_is_plain_json(run_kash, sqlite_db_url: str, tmp_path: Path) -> None:  # noqa: ANN001,E501
    ok(run_kash("data", "import", _file(tmp_path, DAILY), "--symbol", "ABC", "--db",
                sqlite_db_url))
    raw = ok(run_kash("data", "list", "--json", "--db", sqlite_db_url)).stdout
    items = json.loads(raw)
    abc = next(d for d in items if d["symbol"] == "ABC")
    assert set(abc) >= {"symbol", "timeframe", "asset_class", "exchange_tz", "source", "first",
                        "last", "count"}
    assert abc["exchange_tz"] == "America/New_York"


# -- real sizes and bad data -----------------------------------------------------------------


def _minute_csv(path: Path, rows: int) -> Path:
    """``rows`` minute bars, 390 a day from 09:30 New York wall-clock time."""
    k = np.arange(rows)
    stamps = (np.datetime64("2020-01-02T09:30:00") + (k // 390).astype("timedelta64[D]")
              + (k % 390).astype("timedelta64[m]"))
    times = np.datetime_as_string(stamps, unit="s").tolist()
    body = "\n".join(f"{t},{100 + i % 9}.5,{102 + i % 9}.25,{99 + i % 9}.75,{101 + i % 9},{i}"
                     for i, t in enumerate(times))
    path.write_text(f"Datetime,Open,High,Low,Close,Volume\n{body}\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("rows", [99_999, 100_000, 100_001])
def test_import_around_100000_rows_in_process(
    sqlite_db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], rows: int
) -> None:
    """100,000 rows used to end in "unexpected error (OSError)" (a file position asked for in
    the middle of the csv reader's loop, where the progress callback fired)."""
    path = _minute_csv(tmp_path / "big.csv", rows)
    code = main(["data", "import", str(path), "--symbol", "BIG", "--timeframe", "1Min",
                 "--json", "--db", sqlite_db_url])
    out, err = capsys.readouterr()
    assert (code, err) == (0, "")
    report = json.loads(out)
    assert (report["stored"], report["new"], report["rows_read"]) == (rows, rows, rows)
    assert report["first"].startswith("2020-01-02T14:30:00")

    assert main(["data", "list", "--json", "--db", sqlite_db_url]) == 0
    listed = {(d["symbol"], d["timeframe"]): d for d in json.loads(capsys.readouterr().out)}
    assert listed[("BIG", "1Min")]["count"] == rows


def test_a_bad_row_deep_in_a_big_file_is_refused_by_line(
    sqlite_db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _minute_csv(tmp_path / "big.csv", 150_000)
    lines = path.read_text(encoding="utf-8").split("\n")
    lines[123_456] = lines[123_456].rsplit(",", 2)[0] + ",0,5"  # Close 0 on line 123,457
    path.write_text("\n".join(lines), encoding="utf-8")
    code = main(["data", "import", str(path), "--symbol", "BIG", "--timeframe", "1Min",
                 "--db", sqlite_db_url])
    out, err = capsys.readouterr()
    assert code == 2
    assert err.startswith("kash: big.csv has 1 bad row(s), so nothing was imported: "
                          "line 123457: Close 0 is not a positive price;"), err
    assert "Traceback" not in out + err
    assert main(["data", "list", "--json", "--db", sqlite_db_url]) == 0
    assert "BIG" not in capsys.readouterr().out


@pytest.mark.parametrize(
    ("rows", "words"),
    [
        (["2024-01-02,10,11,9,10.5,1000", "2024-01-02T00:00+00:00,10,11,9,10.5,1000",
          "2024-01-02T12:00Z,10,11,9,10.5,1000"],
         ["line 3: has the same day as line 2", "line 4: has the same day as line 2"]),
        (["99999999999999999999,10,11,9,10.5,1000"],
         ["line 2: the time '99999999999999999999' (5138-11-16 09:46 UTC) is outside the "
          "range Kash accepts, 1900-01-01 to 2200-01-01 UTC"]),
        (["2024-01-02,1e308,1e308,9,10.5,1000"],
         ["line 2: Open 1e+308 is not below 1e+12, the largest price Kash accepts"]),
        (["2024-01-02,10,11,9,10.5,1e16"],
         ["line 2: Volume 1e+16 is not below 1e+15, the largest volume Kash accepts"]),
    ],
    ids=["one-day-three-ways", "year-5138", "price-1e308", "volume-1e16"],
)
def test_bad_data_is_refused_with_a_line_numbered_reason(
    run_kash, sqlite_db_url: str, tmp_path: Path, rows: list[str], words: list[str]  # noqa: ANN001
) -> None:
    good = "2024-01-10,10,11,9,10.5,1000"
    text = "Date,Open,High,Low,Close,Volume\n" + "\n".join([*rows, good]) + "\n"
    line = refused(run_kash("data", "import", _file(tmp_path, text), "--symbol", "ABC", "--db",
                            sqlite_db_url))
    assert "nothing was imported" in line
    for word in words:
        assert word in line
    assert ("ABC", "1Day") not in _listed(run_kash, sqlite_db_url)

    out = ok(run_kash("data", "import", _file(tmp_path, text), "--symbol", "ABC",
                      "--skip-bad-rows", "--db", sqlite_db_url)).stdout
    assert f"Stored {len(rows) - len(words) + 1} 1Day bars for ABC" in out  # the good rows
    for word in words:
        assert f"skipped {word}" in out
