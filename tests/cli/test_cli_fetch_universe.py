"""``kash data fetch --universe NAME`` against the fake Alpaca through alpaca-py."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.broker_setup import connect_env
from tests.cli.outcome import as_json, ok, refused

START = datetime(2025, 1, 2, tzinfo=UTC)


@pytest.fixture
def db(kash_main, fake_alpaca, monkeypatch, sqlite_db_url: str) -> str:  # noqa: ANN001
    connect_env(fake_alpaca, monkeypatch)
    ok(kash_main("connection", "add", "paper", "--broker", "alpaca", "--paper",
                 "--trading-url", fake_alpaca.base_url, "--data-url", fake_alpaca.base_url,
                 "--db", sqlite_db_url))
    fake_alpaca.bars_page_cap = 100
    for k, sym in enumerate(["AAA", "BBB", "CCC"]):
        fake_alpaca.add_asset(sym, name=f"{sym} Inc", price="50")
        fake_alpaca.generate_bars(sym, "1Day", start=START, count=150 + 50 * k, seed=k)
    return sqlite_db_url


def test_fetch_a_universe_then_backtest_it(kash_main, fake_alpaca, db: str) -> None:  # noqa: ANN001
    ok(kash_main("universe", "create", "abc", "AAA", "BBB", "CCC", "--db", db))
    fake_alpaca.fail("/v2/stocks/bars", 429, retry_after=0.2)  # the budget waits and retries
    report = as_json(kash_main("data", "fetch", "--universe", "abc", "--start", "2025-01-02",
                               "--json", "--db", db))
    assert [(r["symbol"], r["received"], r["new"]) for r in report["fetched"]] == [
        ("AAA", 150, 150), ("BBB", 200, 200), ("CCC", 250, 250)]
    assert report["failed"] == []
    bars = [r for r in fake_alpaca.requests if r.path.startswith("/v2/stocks/bars")]
    assert all(r.authorized for r in bars)
    assert [r.status for r in bars].count(429) == 1
    stored = {d["symbol"]: d["count"] for d in as_json(kash_main("data", "list", "--json",
                                                                 "--db", db))}
    assert (stored["AAA"], stored["BBB"], stored["CCC"]) == (150, 200, 250)
    run = as_json(kash_main("backtest", "--universe", "abc", "--strategy", "sma_crossover",
                            "--params", '{"short_period": 5, "long_period": 20}', "--json",
                            "--db", db))
    assert run["settings"]["bars"] == 250


def test_a_symbol_the_broker_lacks_is_listed_and_the_rest_stored(
    kash_main, fake_alpaca, db: str,  # noqa: ANN001
) -> None:
    ok(kash_main("universe", "create", "mixed", "AAA", "NOSUCH", "BBB", "--db", db))
    result = kash_main("data", "fetch", "--universe", "mixed", "--start", "2025-01-02",
                       "--db", db)
    line = refused(result)
    assert line == ("kash: 1 of the 3 symbols could not be fetched (NOSUCH); check them and run "
                    "the fetch again (the others are stored).")
    assert "Fetched 350 1Day bars of 2 of the 3 symbols of universe 'mixed'." in result.stdout
    assert "NOSUCH: " in result.stdout
    stored = {d["symbol"] for d in as_json(kash_main("data", "list", "--json", "--db", db))}
    assert {"AAA", "BBB"} <= stored and "NOSUCH" not in stored


def test_fetch_universe_bad_input(kash_main, db: str) -> None:  # noqa: ANN001
    assert "no universe named 'nope'" in refused(
        kash_main("data", "fetch", "--universe", "nope", "--start", "2025-01-02", "--db", db))
    assert "not both" in refused(kash_main("data", "fetch", "AAA", "--universe", "x",
                                           "--start", "2025-01-02", "--db", db))
    assert "a symbol (kash data fetch AAPL ...) or --universe" in refused(
        kash_main("data", "fetch", "--start", "2025-01-02", "--db", db))
