"""Market data from Alpaca against the fake Alpaca server, through the real alpaca-py: bars
(paged, idempotent, all or nothing), crypto and option bars, the cached asset search, option
expirations and chains, and watched bars (stream, then polling). On both databases.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal as D

import numpy as np
import pytest
import sqlalchemy as sa

from kash_tui.config import Settings
from kash_tui.domains.connection import (
    BrokerConnectionError,
    BrokerError,
    ConnectionNotFound,
    Environment,
    NewConnection,
)
from kash_tui.domains.market import (
    NS_PER_SECOND,
    AssetClass,
    MarketError,
    NoBarsError,
    OptionType,
    Timeframe,
)
from kash_tui.provider import ServiceProvider
from tests.broker_setup import paper_kash

START = datetime(2025, 1, 2, tzinfo=UTC)


@pytest.fixture
def kash(db_url: str, fake_alpaca, monkeypatch: pytest.MonkeyPatch) -> Iterator[ServiceProvider]:  # noqa: ANN001
    provider, _folio = paper_kash(db_url, fake_alpaca, monkeypatch)
    yield provider
    provider.close()


def data_requests(fake, prefix: str) -> list:  # noqa: ANN001
    return [r for r in fake.requests if r.path.startswith(prefix)]


def acme(fake, count: int = 250, timeframe: str = "1Day") -> list[tuple]:  # noqa: ANN001
    """A stock only this test knows, with ``count`` bars from START."""
    fake.add_asset("ACME", name="Acme Corporation Common Stock", price="50")
    return fake.generate_bars("ACME", timeframe, start=START, count=count, seed=7)


def assert_nothing_stored(kash: ServiceProvider, symbol: str) -> None:
    assert symbol not in {i.symbol for i in kash.market.list_instruments()}
    assert symbol not in {d.symbol for d in kash.market.list_data()}


def assert_one_sentence_without_secrets(message: str, fake) -> None:  # noqa: ANN001
    assert message and "\n" not in message
    assert message.rstrip().endswith((".", ")")), message
    assert fake.key_id not in message and fake.secret_key not in message


# -- bars -------------------------------------------------------------------------------------


def test_fetch_stores_every_page_as_the_broker_sent_it(kash, fake_alpaca) -> None:  # noqa: ANN001
    fake_alpaca.bars_page_cap = 100
    sent = acme(fake_alpaca, 250)
    seen: list[tuple[int, int]] = []

    report = kash.market.fetch_bars("acme", Timeframe.DAY_1, START, progress=lambda d, t: seen.append((d, t)))

    pages = data_requests(fake_alpaca, "/v2/stocks/bars")
    assert len(pages) == 3 == report.pages
    assert all(r.query["feed"] == "iex" and r.query["timeframe"] == "1Day" for r in pages)
    assert (report.symbol, report.received, report.stored, report.new) == ("ACME", 250, 250, 250)
    assert (report.asset_class, report.connection) == (AssetClass.US_EQUITY, "paper")
    assert report.first == sent[0][0] and report.last == sent[-1][0]
    assert seen[-1] == (1000, 1000) and [d for d, _t in seen] == sorted(d for d, _t in seen)

    bars = kash.market.load_bars("ACME", Timeframe.DAY_1)
    assert len(bars) == 250
    assert bars.timestamps.tolist() == [int(t.timestamp()) * NS_PER_SECOND for t, *_ in sent]
    assert np.allclose(bars.close, [c for *_x, c, _v in sent])
    assert np.allclose(bars.volume, [v for *_x, v in sent])
    instrument = kash.market.get_instrument("ACME")
    assert (instrument.source, instrument.asset_class, instrument.exchange_tz) == (
        "alpaca", AssetClass.US_EQUITY, "America/New_York")


def test_fetching_again_adds_no_duplicates(kash, fake_alpaca) -> None:  # noqa: ANN001
    acme(fake_alpaca, 120)
    first = kash.market.fetch_bars("ACME", Timeframe.DAY_1, START)
    again = kash.market.fetch_bars("ACME", Timeframe.DAY_1, START)
    assert (first.new, again.new, again.stored) == (120, 0, 120)
    more = fake_alpaca.generate_bars("ACME", "1Day", start=START + timedelta(days=400), count=5, seed=8)
    later = kash.market.fetch_bars("ACME", Timeframe.DAY_1, START)
    assert (later.received, later.new) == (125, 5)
    summary = {(d.symbol, d.timeframe): d for d in kash.market.list_data()}[("ACME", Timeframe.DAY_1)]
    assert summary.count == 125 and summary.last == more[-1][0]


def test_a_range_with_an_end(kash, fake_alpaca) -> None:  # noqa: ANN001
    sent = acme(fake_alpaca, 100)
    report = kash.market.fetch_bars("ACME", Timeframe.DAY_1, START, sent[9][0])
    assert report.received == 10 and report.last == sent[9][0]


@pytest.mark.parametrize("timeframe", list(Timeframe))
def test_every_timeframe_is_asked_for_by_its_alpaca_name(kash, fake_alpaca, timeframe: Timeframe) -> None:  # noqa: ANN001
    fake_alpaca.add_asset("ACME", price="50")
    fake_alpaca.generate_bars("ACME", timeframe.value, start=START, count=30, seed=3)
    report = kash.market.fetch_bars("ACME", timeframe, START - timedelta(days=7))
    assert report.received == 30
    assert data_requests(fake_alpaca, "/v2/stocks/bars")[-1].query["timeframe"] == timeframe.value
    assert kash.market.timeframes_for("ACME") == [timeframe]


def test_crypto_bars_come_from_the_crypto_endpoint_in_utc(kash, fake_alpaca) -> None:  # noqa: ANN001
    fake_alpaca.clear_bars("BTC/USD")
    sent = fake_alpaca.generate_bars("BTC/USD", "1Hour", start=START, count=48, seed=2)
    report = kash.market.fetch_bars("btc/usd", Timeframe.HOUR_1, START)
    assert (report.symbol, report.asset_class, report.received) == ("BTC/USD", AssetClass.CRYPTO, 48)
    assert data_requests(fake_alpaca, "/v1beta3/crypto/us/bars")
    assert not data_requests(fake_alpaca, "/v2/stocks/bars")
    instrument = kash.market.get_instrument("BTC/USD")
    assert (instrument.asset_class, instrument.exchange_tz) == (AssetClass.CRYPTO, "UTC")
    bars = kash.market.load_bars("BTC/USD", Timeframe.HOUR_1)
    assert np.allclose(bars.close, [b[4] for b in sent])


def test_option_contract_bars_are_chartable(kash, fake_alpaca) -> None:  # noqa: ANN001
    occ = "ACME250321C00050000"
    fake_alpaca.add_asset("ACME", price="50")
    fake_alpaca.add_option_contract(occ, underlying="ACME", expiration=date(2025, 3, 21),
                                    strike="50", type="call")
    fake_alpaca.add_bars(occ, "1Day", [
        (START + timedelta(days=i), 2.0 + i, 2.5 + i, 1.5 + i, 2.2 + i, 10 * (i + 1))
        for i in range(5)
    ])
    report = kash.market.fetch_bars(occ, Timeframe.DAY_1, START)
    assert (report.asset_class, report.received) == (AssetClass.US_OPTION, 5)
    assert data_requests(fake_alpaca, "/v1beta1/options/bars")
    instrument = kash.market.get_instrument(occ)
    assert instrument.asset_class is AssetClass.US_OPTION
    assert instrument.exchange_tz == "America/New_York"
    assert instrument.name == "ACME 2025-03-21 50 call"
    assert kash.market.load_bars(occ, Timeframe.DAY_1).close.tolist() == [2.2, 3.2, 4.2, 5.2, 6.2]


def test_a_symbol_the_broker_has_no_bars_for(kash, fake_alpaca) -> None:  # noqa: ANN001
    with pytest.raises(NoBarsError, match=r"Alpaca has no 1Day bars for NOPE from 2025-01-02"):
        kash.market.fetch_bars("NOPE", Timeframe.DAY_1, START)
    assert_nothing_stored(kash, "NOPE")


def test_bad_input_is_refused_before_asking_the_broker(kash, fake_alpaca) -> None:  # noqa: ANN001
    with pytest.raises(MarketError, match="after the end"):
        kash.market.fetch_bars("ACME", Timeframe.DAY_1, START, START - timedelta(days=1))
    with pytest.raises(MarketError, match="in the future"):
        kash.market.fetch_bars("ACME", Timeframe.DAY_1, datetime.now(UTC) + timedelta(days=3))
    with pytest.raises(MarketError, match="not a valid symbol"):
        kash.market.fetch_bars("a b", Timeframe.DAY_1, START)
    assert data_requests(fake_alpaca, "/v2/stocks") == []


FAULTS = [
    (401, "refused the API keys"),
    (403, "Alpaca refused"),
    (422, "Alpaca rejected"),
    (500, "server error"),
    ("hang", "did not answer in time"),
    ("malformed", "could not read"),
    ("missing_field", "could not read"),
]


@pytest.mark.parametrize(("kind", "says"), FAULTS, ids=[str(k) for k, _ in FAULTS])
def test_a_broker_failure_is_one_sentence_and_stores_nothing(kash, fake_alpaca, kind, says) -> None:  # noqa: ANN001
    acme(fake_alpaca, 50)
    fake_alpaca.fail("/v2/stocks/bars", kind, times=None)
    with pytest.raises(BrokerError) as caught:
        kash.market.fetch_bars("ACME", Timeframe.DAY_1, START)
    assert says in str(caught.value)
    assert "fetching 1Day bars of ACME" in str(caught.value)
    assert_one_sentence_without_secrets(str(caught.value), fake_alpaca)
    assert_nothing_stored(kash, "ACME")


def test_missing_close_names_the_field(kash, fake_alpaca) -> None:  # noqa: ANN001
    acme(fake_alpaca, 5)
    fake_alpaca.fail("/v2/stocks/bars", "missing_field", field="c")
    with pytest.raises(BrokerError, match="field 'close' is missing"):
        kash.market.fetch_bars("ACME", Timeframe.DAY_1, START)


def test_a_failing_later_page_stores_nothing(kash, fake_alpaca) -> None:  # noqa: ANN001
    fake_alpaca.bars_page_cap = 100
    acme(fake_alpaca, 250)

    def after_first_page(done: int, _total: int) -> None:
        if len(data_requests(fake_alpaca, "/v2/stocks/bars")) == 1:
            fake_alpaca.fail("/v2/stocks/bars", 500, times=None)

    with pytest.raises(BrokerError, match="server error"):
        kash.market.fetch_bars("ACME", Timeframe.DAY_1, START, progress=after_first_page)
    assert len(data_requests(fake_alpaca, "/v2/stocks/bars")) == 2
    assert_nothing_stored(kash, "ACME")


def test_rate_limits_are_waited_out_then_reported(kash, fake_alpaca) -> None:  # noqa: ANN001
    acme(fake_alpaca, 20)
    fake_alpaca.fail("/v2/stocks/bars", 429, times=2, retry_after=0.01)
    assert kash.market.fetch_bars("ACME", Timeframe.DAY_1, START).received == 20

    fake_alpaca.fail("/v2/stocks/bars", 429, times=None, retry_after=0.01)
    with pytest.raises(BrokerError, match="rate limit was hit") as caught:
        kash.market.fetch_bars("ACME", Timeframe.DAY_1, START)
    assert caught.value.kind == "rate_limited"


# -- which connection -------------------------------------------------------------------------


def test_without_an_alpaca_connection_the_sentence_says_how_to_add_one(db_url: str) -> None:
    kash = ServiceProvider(Settings(database_url=db_url))
    kash.prepare()
    try:
        with pytest.raises(MarketError) as caught:
            kash.market.fetch_bars("AAPL", Timeframe.DAY_1, START)
        assert str(caught.value) == (
            "No Alpaca connection is set up; add one with `kash connection add paper --broker "
            "alpaca --paper` (see docs/alpaca.md)."
        )
        assert [h.symbol for h in kash.market.search_assets("demo")] == [
            "DEMOA", "DEMOB", "DEMOCOIN/USD"]
    finally:
        kash.close()


def test_the_paper_connection_is_preferred_and_names_are_honoured(kash, fake_alpaca) -> None:  # noqa: ANN001
    kash.connection.add(NewConnection(name="alive", environment=Environment.LIVE,
                                      trading_url=fake_alpaca.base_url,
                                      data_url=fake_alpaca.base_url))
    acme(fake_alpaca, 5)
    assert kash.market.fetch_bars("ACME", Timeframe.DAY_1, START).connection == "paper"
    with pytest.raises(BrokerError, match="Live trading is off for connection 'alive'"):
        kash.market.fetch_bars("ACME", Timeframe.DAY_1, START, connection="alive")
    with pytest.raises(ConnectionNotFound):
        kash.market.fetch_bars("ACME", Timeframe.DAY_1, START, connection="nope")


def test_missing_keys_are_a_sentence(kash, fake_alpaca, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.delenv("APCA_API_SECRET_KEY")
    with pytest.raises(BrokerConnectionError) as caught:
        kash.market.fetch_bars("AAPL", Timeframe.DAY_1, START)
    assert "APCA_API_SECRET_KEY" in str(caught.value)
    assert fake_alpaca.requests == []


# -- the asset list ---------------------------------------------------------------------------


def test_asset_search_is_cached_and_ranks_symbols_before_names(kash, fake_alpaca) -> None:  # noqa: ANN001
    fake_alpaca.add_asset("AAPB", name="GraniteShares 2x Long AAPL Daily ETF")
    kash.market.fetch_bars("AAPL", Timeframe.DAY_1, datetime.now(UTC) - timedelta(days=30))
    fake_alpaca.clear_requests()

    hits = kash.market.search_assets("aap")
    assert [h.symbol for h in hits][:2] == ["AAPL", "AAPB"]
    aapl = hits[0]
    assert (aapl.name, aapl.exchange, aapl.has_bars, aapl.tradable) == (
        "Apple Inc. Common Stock", "NASDAQ", True, True)
    assert hits[1].has_bars is False
    listed = data_requests(fake_alpaca, "/v2/assets")
    assert sorted(r.query.get("asset_class") for r in listed) == ["crypto", "us_equity"]
    assert all(r.query.get("status") == "active" for r in listed)

    fake_alpaca.clear_requests()
    assert [h.symbol for h in kash.market.search_assets("micro")] == ["MSFT"]
    assert [h.symbol for h in kash.market.search_assets("btc")] == ["BTC/USD"]
    assert kash.market.search_assets("btc")[0].asset_class is AssetClass.CRYPTO
    assert "DEMOA" in [h.symbol for h in kash.market.search_assets("demo")]
    assert fake_alpaca.requests == []  # all from the cache


def test_the_asset_list_is_refreshed_when_a_day_old(kash, fake_alpaca, monkeypatch) -> None:  # noqa: ANN001
    from kash_tui.domains.market import service_impl

    kash.market.search_assets("a")
    fake_alpaca.add_asset("NEWCO", name="Newly Listed Inc.")
    assert kash.market.search_assets("newco") == []
    monkeypatch.setattr(service_impl, "ASSET_LIST_MAX_AGE", timedelta(0))
    assert [h.symbol for h in kash.market.search_assets("newco")] == ["NEWCO"]


def test_asset_search_without_the_broker_falls_back_to_local_symbols(kash, fake_alpaca) -> None:  # noqa: ANN001
    fake_alpaca.fail("/v2/assets", 500, times=None)
    hits = kash.market.search_assets("demo")
    assert [h.symbol for h in hits] == ["DEMOA", "DEMOB", "DEMOCOIN/USD"]
    assert all(h.has_bars for h in hits)
    tried = len(data_requests(fake_alpaca, "/v2/assets"))
    assert tried == 1
    kash.market.search_assets("demob")  # not again on every keystroke
    assert len(data_requests(fake_alpaca, "/v2/assets")) == tried


def test_a_failed_refresh_keeps_the_old_list(kash, fake_alpaca, monkeypatch) -> None:  # noqa: ANN001
    from kash_tui.domains.market import service_impl

    assert kash.market.search_assets("msft")
    monkeypatch.setattr(service_impl, "ASSET_LIST_MAX_AGE", timedelta(0))
    fake_alpaca.fail("/v2/assets", "malformed", times=None)
    assert [h.symbol for h in kash.market.search_assets("msft")] == ["MSFT"]


# -- options ----------------------------------------------------------------------------------


@pytest.fixture
def chain(fake_alpaca) -> list[date]:  # noqa: ANN001
    today = datetime.now(UTC).date()
    expirations = [today + timedelta(days=d) for d in (10, 38, 73)]
    fake_alpaca.set_price("AAPL", "192")
    fake_alpaca.generate_option_chain("AAPL", expirations, range(150, 240, 10))
    return expirations


def test_option_expirations(kash, fake_alpaca, chain) -> None:  # noqa: ANN001
    assert kash.market.option_expirations("aapl") == chain
    assert kash.market.option_expirations("AAPL", start=chain[1]) == chain[1:]
    assert kash.market.option_expirations("AAPL", end=chain[1]) == chain[:2]
    request = data_requests(fake_alpaca, "/v2/options/contracts")[0]
    assert request.query["underlying_symbols"] == "AAPL"
    assert request.query["expiration_date_lte"]  # never Alpaca's "until the weekend"
    assert kash.market.option_expirations("MSFT") == []
    with pytest.raises(MarketError, match="not a stock or ETF"):
        kash.market.option_expirations("BTC/USD")


def test_option_chain_around_the_money(kash, fake_alpaca, chain) -> None:  # noqa: ANN001
    got = kash.market.option_chain("AAPL", chain[0], width=2)
    assert got.underlying == "AAPL" and got.expiration == chain[0]
    assert got.underlying_price == D("192")
    assert [r.strike for r in got.rows] == [D(170), D(180), D(190), D(200), D(210)]
    atm = got.rows[2]
    assert atm.call is not None and atm.put is not None
    assert atm.call.type is OptionType.CALL and atm.put.type is OptionType.PUT
    assert atm.call.symbol == f"AAPL{chain[0]:%y%m%d}C00190000"
    assert atm.call.bid is not None and atm.call.ask is not None and atm.call.bid < atm.call.ask
    assert atm.call.implied_volatility == pytest.approx(0.3)
    assert 0.5 < atm.call.delta < 0.7 and -0.5 < atm.put.delta < -0.3
    assert atm.call.open_interest == 250
    snapshots = data_requests(fake_alpaca, "/v1beta1/options/snapshots/AAPL")
    assert snapshots and snapshots[0].query["expiration_date"] == chain[0].isoformat()
    assert kash.market.option_chain("AAPL", chain[0], width=100).rows[0].strike == D(150)


def test_missing_option_numbers_are_none_not_zero(kash, fake_alpaca) -> None:  # noqa: ANN001
    exp = datetime.now(UTC).date() + timedelta(days=20)
    fake_alpaca.set_price("AAPL", "190")
    occ = f"AAPL{exp:%y%m%d}C00190000"
    fake_alpaca.add_option_contract(occ, underlying="AAPL", expiration=exp, strike="190",
                                    type="call", open_interest=None)
    fake_alpaca.add_option_contract(f"AAPL{exp:%y%m%d}P00192500", underlying="AAPL",
                                    expiration=exp, strike="192.5", type="put", bid="1.10",
                                    ask="1.25", last="1.20", iv=0.28, delta=-0.41)
    got = kash.market.option_chain("AAPL", exp, width=3)
    assert [r.strike for r in got.rows] == [D(190), D("192.5")]
    call = got.rows[0].call
    assert call is not None and got.rows[0].put is None
    assert (call.bid, call.ask, call.last, call.implied_volatility, call.delta,
            call.open_interest) == (None, None, None, None, None, None)
    put = got.rows[1].put
    assert (put.bid, put.ask, put.last, put.implied_volatility, put.delta) == (
        D("1.1"), D("1.25"), D("1.2"), 0.28, -0.41)


def test_an_expiration_without_contracts(kash, fake_alpaca, chain) -> None:  # noqa: ANN001
    with pytest.raises(MarketError, match="run `kash options expirations AAPL`"):
        kash.market.option_chain("AAPL", chain[0] + timedelta(days=1))


def test_option_failures_are_broker_sentences(kash, fake_alpaca, chain) -> None:  # noqa: ANN001
    fake_alpaca.fail("/v1beta1/options/snapshots", 403, message="options data not enabled")
    with pytest.raises(BrokerError, match="options data not enabled") as caught:
        kash.market.option_chain("AAPL", chain[0])
    assert_one_sentence_without_secrets(str(caught.value), fake_alpaca)


# -- watching ---------------------------------------------------------------------------------


def _kash_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("kash-bars")]


def _wait(predicate, timeout: float = 5.0) -> None:  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.02)


def minute_bars(start: datetime, count: int, price: float = 100.0) -> list[tuple]:
    """Minute bars from ``start`` (whatever the session: the fake serves what it is given)."""
    return [(start + timedelta(minutes=i), price, price + 1, price - 1, price + 0.5, 100 + i)
            for i in range(count)]


def recent_minute() -> datetime:
    return datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=30)


@pytest.mark.parametrize(("symbol", "stream"), [("AAPL", "/v2/iex"),
                                                ("BTC/USD", "/v1beta3/crypto/us")])
def test_a_streamed_bar_is_stored_and_reported(kash, fake_alpaca, symbol, stream) -> None:  # noqa: ANN001
    start = recent_minute()
    fake_alpaca.add_bars(symbol, "1Min", minute_bars(start, 10))
    kash.market.fetch_bars(symbol, Timeframe.MIN_1, start)
    calls: list[int] = []
    watch = kash.market.watch_bars(symbol, Timeframe.MIN_1, calls.append, poll_interval=30)
    try:
        fake_alpaca.wait_for_subscription(symbol, path=stream)
        time.sleep(0.2)  # the start-up catch-up found nothing new
        assert calls == []
        new_at = start + timedelta(minutes=20)
        fake_alpaca.push_bar(symbol, (new_at, 190, 191, 189.5, 190.25, 1234))
        _wait(lambda: calls == [1])
        bars = kash.market.load_bars(symbol, Timeframe.MIN_1)
        assert len(bars) == 11 and bars.last == new_at and bars.close[-1] == 190.25
    finally:
        watch.stop()
    assert _kash_threads() == []


def test_a_watch_grows_the_charted_timeframe_and_its_last_bar(kash, fake_alpaca) -> None:  # noqa: ANN001
    start = recent_minute() - timedelta(minutes=30)
    start -= timedelta(minutes=start.minute % 5)
    fake_alpaca.add_bars("AAPL", "1Min", minute_bars(start, 12))  # 5Min: 2 full bars + 1 growing
    kash.market.fetch_bars("AAPL", Timeframe.MIN_5, start)
    assert len(kash.market.load_bars("AAPL", Timeframe.MIN_5)) == 3
    calls: list[int] = []
    watch = kash.market.watch_bars("AAPL", Timeframe.MIN_5, calls.append, poll_interval=30)
    try:
        fake_alpaca.wait_for_subscription("AAPL", path="/v2/iex")
        fake_alpaca.push_bar("AAPL", (start + timedelta(minutes=12), 100, 150, 99, 149, 5))
        _wait(lambda: calls == [0])  # the last 5Min bar grew: nothing new, but it changed
        bars = kash.market.load_bars("AAPL", Timeframe.MIN_5)
        assert len(bars) == 3 and bars.high[-1] == 150 and bars.close[-1] == 149
        fake_alpaca.push_bar("AAPL", (start + timedelta(minutes=15), 149, 151, 148, 150, 5))
        _wait(lambda: calls == [0, 1])
    finally:
        watch.stop()
    assert _kash_threads() == []


def test_without_the_stream_the_watch_polls(kash, fake_alpaca) -> None:  # noqa: ANN001
    fake_alpaca.fail("/v2/iex", 500, times=None)
    start = recent_minute() - timedelta(hours=1)
    fake_alpaca.add_bars("AAPL", "1Min", minute_bars(start, 5))
    kash.market.fetch_bars("AAPL", Timeframe.MIN_1, start)
    calls: list[int] = []
    watch = kash.market.watch_bars("AAPL", Timeframe.MIN_1, calls.append, poll_interval=0.1)
    try:
        fake_alpaca.add_bars("AAPL", "1Min", minute_bars(start + timedelta(minutes=60), 1))
        _wait(lambda: calls == [1])
        assert len(kash.market.load_bars("AAPL", Timeframe.MIN_1)) == 6
    finally:
        t0 = time.monotonic()
        watch.stop()
        assert time.monotonic() - t0 < 3
    assert _kash_threads() == []


def test_the_watch_survives_broker_failures(kash, fake_alpaca) -> None:  # noqa: ANN001
    fake_alpaca.fail("/v2/iex", 500, times=None)
    fake_alpaca.fail("/v2/stocks/bars", 500, times=3)
    fake_alpaca.add_bars("AAPL", "1Min", minute_bars(recent_minute(), 3))
    calls: list[int] = []
    watch = kash.market.watch_bars("AAPL", Timeframe.MIN_1, calls.append, poll_interval=0.05)
    try:
        _wait(lambda: calls == [3])
    finally:
        watch.stop()
    assert _kash_threads() == []


def test_a_dropped_stream_reconnects(kash, fake_alpaca) -> None:  # noqa: ANN001
    start = recent_minute()
    fake_alpaca.add_bars("AAPL", "1Min", minute_bars(start, 3))
    kash.market.fetch_bars("AAPL", Timeframe.MIN_1, start)
    calls: list[int] = []
    watch = kash.market.watch_bars("AAPL", Timeframe.MIN_1, calls.append, poll_interval=30)
    try:
        fake_alpaca.wait_for_subscription("AAPL", path="/v2/iex")
        assert fake_alpaca.drop_streams() == 1
        _wait(lambda: fake_alpaca.stream_connects.get("/v2/iex", 0) >= 2, timeout=10)
        fake_alpaca.wait_for_subscription("AAPL", path="/v2/iex")
        fake_alpaca.push_bar("AAPL", (start + timedelta(minutes=5), 1, 2, 0.5, 1.5, 10))
        _wait(lambda: calls == [1])
    finally:
        watch.stop()
    assert _kash_threads() == []


# -- secrets ----------------------------------------------------------------------------------


def test_no_secret_reaches_the_database(kash, fake_alpaca, chain) -> None:  # noqa: ANN001
    acme(fake_alpaca, 10)
    kash.market.fetch_bars("ACME", Timeframe.DAY_1, START)
    kash.market.search_assets("a")
    kash.market.option_chain("AAPL", chain[0])
    fake_alpaca.fail("/v2/stocks/bars", 401)
    with pytest.raises(BrokerError):
        kash.market.fetch_bars("ACME", Timeframe.DAY_1, START)
    engine = sa.create_engine(kash.settings.resolved_database_url)
    try:
        with engine.connect() as conn:
            for table in sa.inspect(conn).get_table_names():
                for row in conn.execute(sa.text(f'SELECT * FROM "{table}"')):
                    text = repr(tuple(row))
                    assert fake_alpaca.key_id not in text, table
                    assert fake_alpaca.secret_key not in text, table
    finally:
        engine.dispose()


# -- the stock data feed is the connection's ---------------------------------------------------


def test_a_sip_connection_asks_for_sip_bars_prices_and_stream(
    db_url: str, fake_alpaca, monkeypatch: pytest.MonkeyPatch  # noqa: ANN001
) -> None:
    """The feed used to be IEX whatever the account paid for."""
    from kash_tui.domains.connection import MarketFeed
    from kash_tui.domains.trading import OrderRequest, OrderSide

    kash, folio = paper_kash(db_url, fake_alpaca, monkeypatch)
    try:
        assert kash.connection.get("paper").feed is MarketFeed.IEX  # the default
        kash.market.fetch_bars("AAPL", Timeframe.DAY_1, START)
        [iex] = {r.query.get("feed") for r in data_requests(fake_alpaca, "/v2/stocks")}
        assert iex == "iex"

        assert kash.connection.set_feed("paper", "sip").feed is MarketFeed.SIP
        fake_alpaca.clear_requests()
        kash.market.fetch_bars("MSFT", Timeframe.DAY_1, START)
        preview = kash.trading.resolve_trading_adapter(folio.id).preview_order(
            OrderRequest(symbol="MSFT", side=OrderSide.BUY, qty=D(1)))
        assert preview.price_source == "last trade, SIP feed"
        asked = data_requests(fake_alpaca, "/v2/stocks")
        assert {r.path for r in asked} >= {"/v2/stocks/trades/latest"}
        assert {r.query.get("feed") for r in asked} == {"sip"}

        start = recent_minute()
        fake_alpaca.add_bars("MSFT", "1Min", minute_bars(start, 5))
        kash.market.fetch_bars("MSFT", Timeframe.MIN_1, start)
        watch = kash.market.watch_bars("MSFT", Timeframe.MIN_1, lambda _n: None, poll_interval=30)
        try:
            fake_alpaca.wait_for_subscription("MSFT", path="/v2/sip")
        finally:
            watch.stop()
        with pytest.raises(BrokerConnectionError, match="Unknown data feed 'otc'"):
            kash.connection.set_feed("paper", "otc")
    finally:
        kash.close()
