"""``kash strategies``, ``kash backtest`` (single runs and sweeps) and ``kash runs`` through the
installed binary."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from kash_tui.config import Settings
from kash_tui.domains.market import Timeframe
from kash_tui.domains.trading import BacktestRequest
from kash_tui.provider import ServiceProvider
from tests.cli.outcome import as_json, ok, refused

ISO_Z = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
BACKTEST = ("backtest", "--symbol", "DEMOA", "--strategy", "sma_crossover")
SWEEP = "short_period=5:50:5,long_period=20:200:20"




def _iso(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


# A hand-checkable daily series (see tests/integration/test_backtest_service.py): closes 100 on
# bars 0..29, 110 on 30..44, 90 on 45..54, 100 on 55..59, open = close - 1. With SMA(2)/SMA(4)
# it buys on bar 30, sells on 45 and buys on 55.
START_DAY = datetime(2023, 1, 1, tzinfo=UTC)
SMA_2_4 = '{"short_period": 2, "long_period": 4}'


def _hand_close(k: int) -> float:
    return 100.0 if k < 30 else 110.0 if k < 45 else 90.0 if k < 55 else 100.0


def _hand_csv(tmp_path: Path, bars: int = 60) -> Path:
    lines = ["Date,Open,High,Low,Close,Volume"]
    for k in range(bars):
        c = _hand_close(k)
        o = c - 1.0
        lines.append(f"{START_DAY + timedelta(days=k):%Y-%m-%d},{o},{c + 1},{o - 1},{c},500")
    path = tmp_path / "hand.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# -- a database with one stored run, copied for each test that needs one ---------------------


@pytest.fixture(scope="module")
def _template_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, int]]:
    """A prepared SQLite database (demo data) holding one default DEMOA run."""
    folder = tmp_path_factory.mktemp("template")
    path = folder / "kash.db"
    provider = ServiceProvider(Settings(database_url=f"sqlite:///{path}"))
    provider.prepare()
    try:
        run_id = provider.trading.run_backtest(
            BacktestRequest(symbol="DEMOA", strategy_id="sma_crossover")).run.id
    finally:
        provider.close()
    yield path, run_id


@pytest.fixture
def db_with_run(_template_db: tuple[Path, int], tmp_path: Path) -> tuple[str, int]:
    """``(url, run_id)`` of a private copy of the template database."""
    source, run_id = _template_db
    target = tmp_path / "kash.db"
    for suffix in ("", "-wal", "-shm"):
        if Path(f"{source}{suffix}").exists():
            shutil.copyfile(f"{source}{suffix}", f"{target}{suffix}")
    return f"sqlite:///{target}", run_id


def _runs(run_kash, db: str) -> list[dict]:  # noqa: ANN001
    return as_json(run_kash("runs", "list", "--json", "--db", db))


# -- strategies ------------------------------------------------------------------------------


def test_strategies_json_lists_the_builtins_with_their_schemas(run_kash) -> None:  # noqa: ANN001
    listed = {s["id"]: s for s in as_json(run_kash("strategies", "--json"))}
    assert set(listed) >= {"sma_crossover", "mfi", "rsi_reversion", "bollinger_reversion",
                           "macd", "donchian_breakout"}
    for info in listed.values():
        assert info["name"] and info["description"] and info["default_timeframe"]
        props = info["params_schema"]["properties"]
        assert props
        for name, prop in props.items():
            assert {"title", "default"} <= set(prop), (info["id"], name, prop)
            if prop.get("type") in ("integer", "number"):  # numbers have both bounds
                assert {"minimum", "maximum"} <= set(prop), (info["id"], name, prop)
            else:  # a choice or a switch
                assert "enum" in prop or prop.get("type") == "boolean", (info["id"], name, prop)
    sma = listed["sma_crossover"]["params_schema"]["properties"]
    assert sma["short_period"]["default"] == 10 and sma["long_period"]["default"] == 30
    human = ok(run_kash("strategies")).stdout
    assert "sma_crossover" in human and "mfi" in human and "short_period=10" in human


# -- a single backtest -----------------------------------------------------------------------


def test_backtest_json_has_the_whole_report(run_kash, sqlite_db_url: str) -> None:  # noqa: ANN001
    data = as_json(run_kash(*BACKTEST, "--json", "--db", sqlite_db_url))
    assert set(data) >= {"run_id", "settings", "metrics", "round_trips", "fills", "signals"}
    assert isinstance(data["run_id"], int)

    s = data["settings"]
    assert (s["symbol"], s["timeframe"], s["strategy"]) == ("DEMOA", "1Day", "sma_crossover")
    assert s["params"] == {"short_period": 10, "long_period": 30}
    assert (s["initial_cash"], s["commission"], s["slippage"]) == (10_000.0, 0.0, 0.0)
    assert s["position_size_pct"] == 100.0
    assert (s["fill_model"], s["fill_model_optimistic"]) == ("next_open", False)
    assert s["bars"] == 2608
    assert ISO_Z.match(s["first_bar"]) and ISO_Z.match(s["last_bar"])

    m = data["metrics"]
    assert set(m) == {
        "total_return_pct", "cagr_pct", "max_drawdown_pct", "sharpe", "sortino", "win_rate_pct",
        "profit_factor", "round_trips", "exposure_pct", "buy_and_hold_return_pct", "final_equity",
    }
    assert m["final_equity"] == pytest.approx(10_000 * (1 + m["total_return_pct"] / 100))
    assert m["round_trips"] == len(data["round_trips"]) > 5

    for rt in data["round_trips"]:
        assert {"entry_time", "exit_time", "entry_price", "exit_price", "qty", "pnl",
                "return_pct"} <= set(rt)
        assert ISO_Z.match(rt["entry_time"])
        if rt["exit_time"] is None:
            assert rt["exit_price"] is None
        else:
            assert ISO_Z.match(rt["exit_time"]) and rt["exit_time"] > rt["entry_time"]
            assert rt["exit_price"] > 0
    assert all(rt["exit_time"] is not None for rt in data["round_trips"][:-1])
    assert data["round_trips"][-1]["exit_time"] is None  # DEMOA ends long with the defaults

    fills = data["fills"]
    assert len(fills) == 2 * len(data["round_trips"]) - 1
    for f in fills:
        assert set(f) == {"time", "side", "qty", "price", "commission", "reason"}
        assert f["reason"] == "signal"  # no exits set
        assert ISO_Z.match(f["time"]) and f["qty"] > 0 and f["price"] > 0
        assert f["commission"] == 0.0
    assert [f["side"] for f in fills[:4]] == ["buy", "sell", "buy", "sell"]

    signals = data["signals"]
    for sig in signals:
        assert set(sig) >= {"time", "type", "price"}
        assert sig["type"] in ("buy", "sell") and ISO_Z.match(sig["time"])
        assert sig["price"] > 0

    # the first fill is at the bar after the first buy signal (next_open)
    provider = ServiceProvider(Settings(database_url=sqlite_db_url))
    try:
        bars = provider.market.load_bars("DEMOA", Timeframe.DAY_1)
    finally:
        provider.close()
    times = [_iso(bars.time(i)) for i in range(len(bars))]
    first_buy = next(sig for sig in signals if sig["type"] == "buy")
    i = times.index(first_buy["time"])
    assert fills[0]["time"] == times[i + 1]
    assert fills[0]["price"] == pytest.approx(float(bars.open[i + 1]))
    assert first_buy["price"] == pytest.approx(float(bars.close[i]))
    assert data["round_trips"][0]["entry_time"] == fills[0]["time"]
    assert s["first_bar"] == times[0] and s["last_bar"] == times[-1]


def test_backtest_human_output_has_metrics_and_round_trips(
    run_kash, sqlite_db_url: str  # noqa: ANN001
) -> None:
    out = ok(run_kash(*BACKTEST, "--db", sqlite_db_url)).stdout
    assert "sma_crossover" in out and "DEMOA" in out and "2608 bars" in out
    assert "next bar's open" in out
    for label in ("METRIC", "Final equity", "Total return", "Buy & hold return", "CAGR",
                  "Max drawdown", "Sharpe", "Sortino", "Win rate", "Profit factor",
                  "Round trips", "Exposure"):
        assert label in out, label
    assert "ENTRY" in out and "EXIT" in out and "P&L" in out
    assert re.search(r"^\d{4}-\d{2}-\d{2}\s+\d{4}-\d{2}-\d{2}\s", out, re.M)  # a closed trip
    assert "the last 30 of 44 round trips" in out  # the most recent, with the open one
    assert "open" in out.splitlines()[-2]


def test_backtest_fill_close_is_reported_as_optimistic(
    run_kash, sqlite_db_url: str  # noqa: ANN001
) -> None:
    data = as_json(run_kash(*BACKTEST, "--fill", "close", "--json", "--db", sqlite_db_url))
    assert data["settings"]["fill_model"] == "close"
    assert data["settings"]["fill_model_optimistic"] is True
    first_buy = next(sig for sig in data["signals"] if sig["type"] == "buy")
    assert data["fills"][0]["time"] == first_buy["time"]  # same bar
    assert data["fills"][0]["price"] == pytest.approx(first_buy["price"])  # at its close
    out = ok(run_kash(*BACKTEST, "--fill", "close", "--db", sqlite_db_url)).stdout
    assert "OPTIMISTIC" in out


def test_backtest_settings_are_passed_through(run_kash, sqlite_db_url: str) -> None:  # noqa: ANN001
    data = as_json(run_kash(
        *BACKTEST, "--params", '{"short_period": 5, "long_period": 20}', "--cash", "2500",
        "--commission", "0.001", "--slippage", "0.0005", "--position-size-pct", "50",
        "--whole-shares", "--start", "2018-01-01", "--end", "2020-12-31", "--json",
        "--db", sqlite_db_url,
    ))
    s = data["settings"]
    assert s["params"] == {"short_period": 5, "long_period": 20}
    assert (s["initial_cash"], s["commission"], s["slippage"]) == (2500.0, 0.001, 0.0005)
    assert (s["position_size_pct"], s["whole_shares"]) == (50.0, True)
    assert s["start"] == "2018-01-01T00:00:00Z" and s["end"] == "2020-12-31T23:59:59Z"
    assert s["first_bar"] >= "2018-01-01" and s["last_bar"] <= "2021-01-01"
    for f in data["fills"]:
        assert f["qty"] == int(f["qty"]) and f["qty"] >= 1
        assert f["commission"] == pytest.approx(f["qty"] * f["price"] * 0.001)
    first = data["fills"][0]
    assert first["qty"] * first["price"] * 1.001 <= 1250.0


# -- sweeps ----------------------------------------------------------------------------------


def test_sweep_json_lists_90_ranked_results(run_kash, sqlite_db_url: str) -> None:  # noqa: ANN001
    data = as_json(run_kash(*BACKTEST, "--sweep", SWEEP, "--json", "--db", sqlite_db_url))
    assert data["rank_by"] == "sharpe"
    assert data["grid"] == {"short_period": list(range(5, 51, 5)),
                            "long_period": list(range(20, 201, 20))}
    results = data["results"]
    assert len(results) == 90 and len(data["skipped"]) == 10
    for r in results:
        assert r["params"]["short_period"] < r["params"]["long_period"]
        assert "sharpe" in r["metrics"] and "total_return_pct" in r["metrics"]
    sharpes = [r["metrics"]["sharpe"] for r in results]
    defined = [v for v in sharpes if v is not None]
    assert sharpes[: len(defined)] == defined == sorted(defined, reverse=True)
    assert _runs(run_kash, sqlite_db_url) == []  # a sweep stores nothing

    # the best row is what a single run with its parameters gives
    best = results[0]
    single = as_json(run_kash(*BACKTEST, "--params", json.dumps(best["params"]), "--json",
                              "--db", sqlite_db_url))
    assert single["metrics"] == best["metrics"]


def test_sweep_rank_by_total_return(run_kash, sqlite_db_url: str) -> None:  # noqa: ANN001
    data = as_json(run_kash(*BACKTEST, "--sweep", SWEEP, "--rank-by", "total_return_pct",
                            "--json", "--db", sqlite_db_url))
    assert data["rank_by"] == "total_return_pct"
    values = [r["metrics"]["total_return_pct"] for r in data["results"]]
    assert len(values) == 90 and values == sorted(values, reverse=True)
    out = ok(run_kash(*BACKTEST, "--sweep", SWEEP, "--rank-by", "total_return_pct",
                      "--db", sqlite_db_url)).stdout
    assert "90 combinations ranked by total_return_pct" in out
    assert "SHORT_PERIOD" in out and "LONG_PERIOD" in out


# -- stored runs -----------------------------------------------------------------------------


def test_runs_list_and_show(run_kash, sqlite_db_url: str) -> None:  # noqa: ANN001
    assert _runs(run_kash, sqlite_db_url) == []
    assert "No backtest runs yet" in ok(run_kash("runs", "list", "--db", sqlite_db_url)).stdout
    first = as_json(run_kash(*BACKTEST, "--json", "--db", sqlite_db_url))
    second = as_json(run_kash("backtest", "--symbol", "DEMOB", "--strategy", "mfi", "--json",
                              "--db", sqlite_db_url))
    listed = _runs(run_kash, sqlite_db_url)
    assert [r["run_id"] for r in listed] == [second["run_id"], first["run_id"]]
    by_id = {r["run_id"]: r for r in listed}
    assert by_id[first["run_id"]]["metrics"] == first["metrics"]
    assert by_id[first["run_id"]]["settings"] == first["settings"]
    assert ISO_Z.match(by_id[first["run_id"]]["created_at"])

    shown = as_json(run_kash("runs", "show", first["run_id"], "--json", "--db", sqlite_db_url))
    assert shown["run_id"] == first["run_id"]
    assert shown["metrics"] == first["metrics"]
    assert shown["settings"] == first["settings"]
    assert len(shown["fills"]) == len(first["fills"])
    for got, want in zip(shown["fills"], first["fills"], strict=True):
        assert (got["time"], got["side"]) == (want["time"], want["side"])
        assert got["qty"] == pytest.approx(want["qty"], rel=1e-9)
        assert got["price"] == pytest.approx(want["price"], rel=1e-9)
    assert [(r["entry_time"], r["exit_time"]) for r in shown["round_trips"]] == [
        (r["entry_time"], r["exit_time"]) for r in first["round_trips"]
    ]
    assert shown["signals"] == first["signals"]

    human = ok(run_kash("runs", "list", "--db", sqlite_db_url)).stdout
    assert "sma_crossover" in human and "mfi" in human
    out = ok(run_kash("runs", "show", first["run_id"], "--db", sqlite_db_url)).stdout
    assert f"Run #{first['run_id']}" in out and "Final equity" in out

    line = refused(run_kash("runs", "show", "999", "--db", sqlite_db_url))
    assert "999" in line


def test_runs_are_filed_under_a_portfolio(run_kash, sqlite_db_url: str) -> None:  # noqa: ANN001
    db = ("--db", sqlite_db_url)
    ok(run_kash("portfolio", "create", "Half", "--workspace", "Demo", "--mode", "backtest",
                "--position-size-pct", "50", *db))
    filed = as_json(run_kash(*BACKTEST, "--portfolio", "Half", "--json", *db))
    assert filed["settings"]["position_size_pct"] == 50.0  # the portfolio's size by default
    assert filed["settings"]["portfolio_id"] is not None
    explicit = as_json(run_kash(*BACKTEST, "--portfolio", "Half", "--position-size-pct", "20",
                                "--json", *db))
    assert explicit["settings"]["position_size_pct"] == 20.0
    loose = as_json(run_kash(*BACKTEST, "--json", *db))
    assert loose["settings"]["portfolio_id"] is None
    assert loose["settings"]["position_size_pct"] == 100.0

    mine = as_json(run_kash("runs", "list", "--portfolio", "Half", "--json", *db))
    assert {r["run_id"] for r in mine} == {filed["run_id"], explicit["run_id"]}
    assert len(_runs(run_kash, sqlite_db_url)) == 3

    ok(run_kash("connection", "add", "paper", "--broker", "alpaca", "--paper", *db))
    ok(run_kash("portfolio", "create", "Paper", "--workspace", "Demo", "--mode", "paper",
                "--connection", "paper", *db))
    line = refused(run_kash(*BACKTEST, "--portfolio", "Paper", *db))
    assert "PAPER" in line
    assert len(_runs(run_kash, sqlite_db_url)) == 3


# -- bad input -------------------------------------------------------------------------------

BAD = {
    "unknown symbol": (["--symbol", "NOPE"], "NOPE"),
    "no bars in range": (["--start", "1990-01-01", "--end", "1990-12-31"], "no 1Day bars"),
    "unknown strategy": (["--strategy", "nope"], "nope"),
    "params fail the schema": (["--params", '{"short_period": 50, "long_period": 20}'],
                               "short_period must be less than long_period"),
    "unknown param": (["--params", '{"fast": 3}'], "fast"),
    "malformed params": (["--params", "{short_period: 5"], "not valid JSON"),
    "params not an object": (["--params", "[1]"], "JSON object"),
    "start after end": (["--start", "2020-01-01", "--end", "2019-01-01"], "swap"),
    "bad date": (["--start", "yesterday"], "not a date"),
    "cash 0": (["--cash", "0"], "cash"),
    "cash negative": (["--cash", "-5"], "cash"),
    "cash nan": (["--cash", "nan"], "cash"),
    "cash abc": (["--cash", "abc"], "--cash"),
    "cash too large to store": (["--cash", "1e22"], "too large"),
    "commission negative": (["--commission", "-0.1"], "Commission"),
    "slippage 1.5": (["--slippage", "1.5"], "Slippage"),
    "position size 0": (["--position-size-pct", "0"], "Position size"),
    "fill model": (["--fill", "tomorrow"], "--fill"),
    "bad sweep spec": (["--sweep", "short_period=5:x"], "not a number"),
    "sweep without =": (["--sweep", "short_period"], "NAME=START:STOP:STEP"),
    "sweep backwards": (["--sweep", "short_period=50:5:5"], "backwards"),
    "sweep unknown param": (["--sweep", "fast=1:3"], "fast"),
    "rank-by nonsense": (["--sweep", "short_period=5:10:5", "--rank-by", "nonsense"],
                         "nonsense"),
    "rank-by without sweep": (["--rank-by", "sharpe"], "--sweep"),
    "timeframe 2Day": (["--timeframe", "2Day"], "2Day"),
    "unknown portfolio": (["--portfolio", "Nope"], "Nope"),
}


def _backtest_args(changes: list[str]) -> list[str]:
    args = dict(zip(BACKTEST[1::2], BACKTEST[2::2], strict=True))
    extra: list[str] = []
    it = iter(changes)
    for flag in it:
        value = next(it)
        if flag in args:
            args[flag] = value
        else:
            extra += [flag, value]
    return ["backtest", *(x for kv in args.items() for x in kv), *extra]


@pytest.mark.parametrize("case", list(BAD))
def test_bad_input_exits_2_with_one_line_and_stores_nothing(
    run_kash, db_with_run: tuple[str, int], case: str  # noqa: ANN001
) -> None:
    db, run_id = db_with_run
    changes, fragment = BAD[case]
    for json_flag in ((), ("--json",)):
        result = run_kash(*_backtest_args(changes), *json_flag, "--db", db)
        line = refused(result)
        assert fragment.lower() in line.lower(), line
        assert result.stdout == ""
    after = _runs(run_kash, db)
    assert [r["run_id"] for r in after] == [run_id]  # the template's one run, nothing more


def test_the_template_database_holds_one_run(run_kash, db_with_run: tuple[str, int]) -> None:  # noqa: ANN001
    db, run_id = db_with_run
    listed = _runs(run_kash, db)
    assert [r["run_id"] for r in listed] == [run_id]
    assert listed[0]["settings"]["symbol"] == "DEMOA"


# -- an imported CSV -------------------------------------------------------------------------


def test_backtest_on_an_imported_csv(run_kash, sqlite_db_url: str, tmp_path: Path) -> None:  # noqa: ANN001
    db = ("--db", sqlite_db_url)
    ok(run_kash("data", "import", _hand_csv(tmp_path), "--symbol", "hand", "--tz", "UTC", *db))
    data = as_json(run_kash("backtest", "--symbol", "HAND", "--strategy", "sma_crossover",
                            "--params", SMA_2_4, "--commission", "0.001", "--json", *db))
    assert data["settings"]["symbol"] == "HAND" and data["settings"]["bars"] == 60
    assert data["settings"]["first_bar"] == "2023-01-01T00:00:00Z"

    def day(k: int) -> str:
        return _iso(START_DAY + timedelta(days=k))

    assert [(s["time"], s["type"], s["price"]) for s in data["signals"]] == [
        (day(30), "buy", 110.0), (day(45), "sell", 90.0), (day(55), "buy", 100.0)
    ]
    assert [(f["time"], f["side"], f["price"]) for f in data["fills"]] == [
        (day(31), "buy", 109.0), (day(46), "sell", 89.0), (day(56), "buy", 99.0)
    ]
    qty = 10_000 / (109.0 * 1.001)
    assert data["fills"][0]["qty"] == pytest.approx(qty, rel=1e-12)
    assert data["fills"][0]["commission"] == pytest.approx(qty * 109.0 * 0.001, rel=1e-12)
    cash = qty * 89.0 * 0.999
    trips = data["round_trips"]
    assert trips[0]["pnl"] == pytest.approx(cash - 10_000, rel=1e-9)
    assert (trips[1]["exit_time"], trips[1]["exit_price"]) == (None, None)
    assert data["metrics"]["final_equity"] == pytest.approx(
        cash / (99.0 * 1.001) * 100.0, rel=1e-9)

    closed = as_json(run_kash("backtest", "--symbol", "HAND", "--strategy", "sma_crossover",
                              "--params", SMA_2_4, "--fill", "close", "--json", *db))
    assert [(f["time"], f["price"]) for f in closed["fills"]] == [
        (day(30), 110.0), (day(45), 90.0), (day(55), 100.0)
    ]
    listed = _runs(run_kash, sqlite_db_url)
    assert [r["run_id"] for r in listed] == [closed["run_id"], data["run_id"]]

    out = ok(run_kash("backtest", "--symbol", "HAND", "--strategy", "sma_crossover",
                      "--params", SMA_2_4, *db)).stdout
    assert re.search(r"^2023-02-01\s+2023-02-16\s+91\.7431\s+109\.0000\s+89\.0000\s", out,
                     re.M), out
    assert re.search(r"^2023-02-26\s+open\s", out, re.M), out
