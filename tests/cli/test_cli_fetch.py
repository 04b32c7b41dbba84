"""``kash data fetch`` and ``kash options expirations|chain`` through the installed binary,
against the fake Alpaca server (keys in the environment, as a user's would be)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from tests.broker_setup import connect_env
from tests.cli.outcome import as_json, ok, refused

START = datetime(2025, 1, 2, tzinfo=UTC)


@pytest.fixture
def connected(run_kash, fake_alpaca, monkeypatch):  # noqa: ANN001, ANN201
    """``connect(db)``: add a paper connection pointed at the fake to database ``db``."""
    connect_env(fake_alpaca, monkeypatch)

    def connect(db: str) -> str:
        ok(run_kash("connection", "add", "paper", "--broker", "alpaca", "--paper",
                    "--trading-url", fake_alpaca.base_url, "--data-url", fake_alpaca.base_url,
                    "--db", db))
        return db

    return connect


def no_secrets(fake, *results) -> None:  # noqa: ANN001, ANN002
    for result in results:
        text = result.stdout + result.stderr
        assert fake.key_id not in text and fake.secret_key not in text


def acme(fake, count: int = 250) -> list[tuple]:  # noqa: ANN001
    fake.add_asset("ACME", name="Acme Corporation Common Stock", price="50")
    return fake.generate_bars("ACME", "1Day", start=START, count=count, seed=7)


# -- data fetch -------------------------------------------------------------------------------


def test_fetch_then_list_then_fetch_again(run_kash, db_url, connected, fake_alpaca) -> None:  # noqa: ANN001
    db = connected(db_url)
    fake_alpaca.bars_page_cap = 100
    sent = acme(fake_alpaca)
    first = ok(run_kash("data", "fetch", "acme", "--start", "2025-01-02", "--db", db))
    assert first.stdout.strip() == (
        f"Fetched 250 1Day bars of ACME from Alpaca (paper, IEX feed) in 3 pages: 250 new, 0 updated, "
        f"{sent[0][0]:%Y-%m-%d %H:%M} to {sent[-1][0]:%Y-%m-%d %H:%M} UTC."
    )
    listed = {(d["symbol"], d["timeframe"]): d
              for d in as_json(run_kash("data", "list", "--json", "--db", db))}
    entry = listed[("ACME", "1Day")]
    assert (entry["count"], entry["source"], entry["asset_class"], entry["exchange_tz"]) == (
        250, "alpaca", "us_equity", "America/New_York")

    again_run = run_kash("data", "fetch", "ACME", "--start", "2025-01-02", "--json", "--db", db)
    again = as_json(again_run)
    assert again == {
        "symbol": "ACME", "timeframe": "1Day", "asset_class": "us_equity",
        "connection": "paper", "feed": "iex", "received": 250, "stored": 250, "new": 0,
        "pages": 3,
        "first": sent[0][0].isoformat(), "last": sent[-1][0].isoformat(),
    }
    no_secrets(fake_alpaca, first, again_run)


def test_fetch_crypto_in_a_range(run_kash, sqlite_db_url, connected, fake_alpaca) -> None:  # noqa: ANN001
    db = connected(sqlite_db_url)
    fake_alpaca.clear_bars("BTC/USD")
    fake_alpaca.generate_bars("BTC/USD", "1Hour", start=START, count=72, seed=1)
    report = as_json(run_kash("data", "fetch", "BTC/USD", "--timeframe", "1hour", "--start",
                              "2025-01-02", "--end", "2025-01-02", "--json", "--db", db))
    assert (report["asset_class"], report["timeframe"], report["received"], report["feed"]) == (
        "crypto", "1Hour", 24, "")


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--start", "2025-13-01"], "'2025-13-01' is not a date; use YYYY-MM-DD"),
        (["--start", "2025-01-02", "--timeframe", "2Min"], "Unknown timeframe '2Min'"),
        (["--start", "2025-02-01", "--end", "2025-01-01"], "is after the end"),
        (["--start", "2025-01-02", "--connection", "nope"], "nope"),
        ([], "the following arguments are required: --start"),
    ],
)
def test_bad_input_is_one_sentence(run_kash, sqlite_db_url, connected, fake_alpaca, args, says) -> None:  # noqa: ANN001
    db = connected(sqlite_db_url)
    line = refused(run_kash("data", "fetch", "ACME", *args, "--db", db))
    assert says in line


@pytest.mark.parametrize(
    ("kind", "says"),
    [
        (401, "Alpaca refused the API keys while fetching 1Day bars of ACME (401)"),
        (500, "Alpaca had a server error while fetching 1Day bars of ACME (500)"),
        ("malformed", "Alpaca sent a reply Kash could not read while fetching 1Day bars of ACME"),
        ("hang", "Alpaca did not answer in time while fetching 1Day bars of ACME"),
    ],
)
def test_broker_failures_exit_2_and_store_nothing(
    run_kash, sqlite_db_url, connected, fake_alpaca, kind, says,  # noqa: ANN001
) -> None:
    db = connected(sqlite_db_url)
    acme(fake_alpaca, 20)
    fake_alpaca.fail("/v2/stocks/bars", kind, times=None)
    result = run_kash("data", "fetch", "ACME", "--start", "2025-01-02", "--db", db,
                      env={"KASH_HTTP_TIMEOUT_SECONDS": "1"})
    assert says in refused(result)
    no_secrets(fake_alpaca, result)
    listed = as_json(run_kash("data", "list", "--json", "--db", db))
    assert "ACME" not in {d["symbol"] for d in listed}


def test_without_a_connection(run_kash, sqlite_db_url) -> None:  # noqa: ANN001
    line = refused(run_kash("data", "fetch", "AAPL", "--start", "2025-01-02", "--db",
                            sqlite_db_url))
    assert line == (
        "kash: No Alpaca connection is set up; add one with `kash connection add paper "
        "--broker alpaca --paper` (see docs/alpaca.md)."
    )


def test_missing_keys(run_kash, sqlite_db_url, connected, fake_alpaca) -> None:  # noqa: ANN001
    db = connected(sqlite_db_url)
    line = refused(run_kash("data", "fetch", "AAPL", "--start", "2025-01-02", "--db", db,
                            env={"APCA_API_SECRET_KEY": None}))
    assert "APCA_API_SECRET_KEY" in line


# -- options ----------------------------------------------------------------------------------


@pytest.fixture
def expirations(fake_alpaca):  # noqa: ANN001, ANN201
    today = datetime.now(UTC).date()
    dates = [today + timedelta(days=d) for d in (9, 37)]
    fake_alpaca.set_price("AAPL", "190")
    fake_alpaca.generate_option_chain("AAPL", dates, range(160, 230, 10))
    return dates


def test_options_expirations(run_kash, sqlite_db_url, connected, fake_alpaca, expirations) -> None:  # noqa: ANN001
    db = connected(sqlite_db_url)
    got = as_json(run_kash("options", "expirations", "aapl", "--json", "--db", db))
    assert got == {"underlying": "AAPL", "expirations": [d.isoformat() for d in expirations]}
    text = ok(run_kash("options", "expirations", "AAPL", "--from", expirations[1].isoformat(),
                       "--db", db)).stdout
    assert text.splitlines() == [f"{expirations[1]:%Y-%m-%d}  {expirations[1]:%a}"]
    assert "not a date for --to" in refused(
        run_kash("options", "expirations", "AAPL", "--to", "soon", "--db", db))


def test_options_chain(run_kash, sqlite_db_url, connected, fake_alpaca, expirations) -> None:  # noqa: ANN001
    db = connected(sqlite_db_url)
    exp = expirations[0]
    result = run_kash("options", "chain", "AAPL", "--expiration", exp.isoformat(), "--width",
                      "1", "--json", "--db", db)
    chain = as_json(result)
    assert (chain["underlying"], chain["expiration"], chain["underlying_price"]) == (
        "AAPL", exp.isoformat(), 190.0)
    assert [r["strike"] for r in chain["rows"]] == [180.0, 190.0, 200.0]
    call = chain["rows"][1]["call"]
    assert call["symbol"] == f"AAPL{exp:%y%m%d}C00190000"
    assert call["type"] == "call" and call["open_interest"] == 250
    assert 0 < call["bid"] < call["ask"] and 0.4 < call["delta"] < 0.7
    assert call["implied_volatility"] == pytest.approx(0.3)
    assert chain["rows"][1]["put"]["delta"] < 0

    text = ok(run_kash("options", "chain", "AAPL", "--expiration", exp.isoformat(), "--width",
                       "1", "--db", db)).stdout.splitlines()
    assert text[0] == f"AAPL options expiring {exp:%Y-%m-%d} (last trade 190.00)"
    assert text[1].split()[:7] == ["CALL", "BID", "ASK", "LAST", "IV", "DELTA", "OI"]
    assert [line.split()[6] for line in text[2:]] == ["180", "190", "200"]
    assert "30.0%" in text[3]
    no_secrets(fake_alpaca, result)


def test_options_refusals(run_kash, sqlite_db_url, connected, fake_alpaca, expirations) -> None:  # noqa: ANN001
    db = connected(sqlite_db_url)
    exp = expirations[0].isoformat()
    assert "at least 1" in refused(
        run_kash("options", "chain", "AAPL", "--expiration", exp, "--width", "0", "--db", db))
    assert "not a stock or ETF" in refused(
        run_kash("options", "chain", "BTC/USD", "--expiration", exp, "--db", db))
    fake_alpaca.fail("/v2/options/contracts", 403, message="options trading is not enabled")
    result = run_kash("options", "chain", "AAPL", "--expiration", exp, "--db", db)
    assert "options trading is not enabled" in refused(result)
    no_secrets(fake_alpaca, result)


def test_fetch_names_the_connections_feed(run_kash, sqlite_db_url, fake_alpaca, monkeypatch) -> None:  # noqa: ANN001
    connect_env(fake_alpaca, monkeypatch)
    ok(run_kash("connection", "add", "sip", "--broker", "alpaca", "--paper", "--feed", "sip",
                "--trading-url", fake_alpaca.base_url, "--data-url", fake_alpaca.base_url,
                "--db", sqlite_db_url))
    acme(fake_alpaca)
    line = ok(run_kash("data", "fetch", "ACME", "--start", "2025-01-02", "--db",
                       sqlite_db_url)).stdout
    assert "from Alpaca (sip, SIP feed)" in line
