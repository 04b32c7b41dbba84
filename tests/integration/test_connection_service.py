"""The connection service on SQLite and PostgreSQL: keys never stored, live trading opt-in."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from kash_tui.config import Settings
from kash_tui.domains.connection import (
    BacktestConnection,
    BrokerConnectionError,
    ConnectionNotFound,
    Environment,
    NewConnection,
)
from kash_tui.domains.workspace import PortfolioMode
from kash_tui.provider import ServiceProvider

# Made up per run, recognisable if they leaked anywhere; no credential is ever written down.
FAKE_KEY_ID = f"test-key-id-{uuid.uuid4().hex[:12]}"
FAKE_SECRET = f"test-secret-{uuid.uuid4().hex}"


@pytest.fixture
def kash(db_url: str) -> Iterator[ServiceProvider]:
    provider = ServiceProvider(Settings(database_url=db_url, demo_data=False))
    provider.prepare()
    try:
        yield provider
    finally:
        provider.close()


def _dump_every_table(kash: ServiceProvider) -> str:
    engine = kash.db.engine
    names = sa.inspect(engine).get_table_names()
    assert "connections" in names
    chunks: list[str] = []
    with engine.connect() as conn:
        for name in names:
            for row in conn.execute(sa.text(f'SELECT * FROM "{name}"')):
                chunks.append(repr(tuple(row)))
    return "\n".join(chunks)


def test_secrets_are_never_stored(
    kash: ServiceProvider, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("APCA_API_KEY_ID", FAKE_KEY_ID)
    monkeypatch.setenv("APCA_API_SECRET_KEY", FAKE_SECRET)
    kash.connection.add(NewConnection("paper1"))
    kash.connection.add(NewConnection("live1", environment=Environment.LIVE))
    kash.connection.enable_live("live1", "live1")
    kash.workspace.create_workspace("A")
    kash.workspace.create_portfolio("A", "p", PortfolioMode.PAPER, connection="paper1")

    creds = kash.connection.credentials("paper1")
    assert (creds.key_id, creds.secret_key) == (FAKE_KEY_ID, FAKE_SECRET)
    assert kash.connection.credentials("live1").secret_key == FAKE_SECRET

    # what is stored is only where the keys are
    (paper,) = [c for c in kash.connection.list_connections() if c.name == "paper1"]
    assert paper.key_source == "env:APCA_API_KEY_ID,APCA_API_SECRET_KEY"

    dump = _dump_every_table(kash)
    assert "APCA_API_SECRET_KEY" in dump  # the variable's name is there...
    assert FAKE_SECRET not in dump  # ...its value never
    assert FAKE_KEY_ID not in dump

    # no file Kash may have written (SQLite file and WAL, config, data, cache, state dirs)
    kash.close()
    scanned = 0
    for path in tmp_path.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            scanned += 1
            assert FAKE_SECRET.encode() not in data, path
            assert FAKE_SECRET.encode("utf-16-le") not in data, path
    if kash.db.is_sqlite:
        assert scanned >= 1


def test_credentials_repr_hides_the_secret(
    kash: ServiceProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("APCA_API_KEY_ID", FAKE_KEY_ID)
    monkeypatch.setenv("APCA_API_SECRET_KEY", FAKE_SECRET)
    kash.connection.add(NewConnection("paper1"))
    creds = kash.connection.credentials("paper1")
    for shown in (repr(creds), str(creds), f"{creds}", f"{creds!r}", repr([creds])):
        assert FAKE_SECRET not in shown
        assert FAKE_KEY_ID not in shown


def test_keys_from_named_environment_variables(
    kash: ServiceProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEAM_KEY", "team-key-id")
    monkeypatch.setenv("TEAM_SECRET", "team-secret")
    kash.connection.add(NewConnection("team", key_env="TEAM_KEY", secret_env="TEAM_SECRET"))
    creds = kash.connection.credentials("team")
    assert (creds.key_id, creds.secret_key) == ("team-key-id", "team-secret")
    assert kash.connection.get("team").key_source == "env:TEAM_KEY,TEAM_SECRET"


def test_missing_environment_variables_are_named(
    kash: ServiceProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    kash.connection.add(NewConnection("paper1"))
    with pytest.raises(BrokerConnectionError) as err:
        kash.connection.credentials("paper1")
    message = str(err.value)
    assert "APCA_API_KEY_ID" in message and "APCA_API_SECRET_KEY" in message
    assert "\n" not in message

    monkeypatch.setenv("APCA_API_KEY_ID", FAKE_KEY_ID)  # only one of the two
    with pytest.raises(BrokerConnectionError, match="APCA_API_SECRET_KEY"):
        kash.connection.credentials("paper1")


def test_keyring_source_without_a_keyring_is_a_clear_error(kash: ServiceProvider) -> None:
    # conftest points keyring at its null backend: nothing can be read from it
    conn = kash.connection.add(NewConnection("kr", keyring_entry="alpaca-paper"))
    assert conn.key_source == "keyring:alpaca-paper"
    with pytest.raises(BrokerConnectionError) as err:
        kash.connection.credentials("kr")
    message = str(err.value)
    assert "keyring" in message.lower()
    assert "alpaca-paper" in message
    assert "\n" not in message


def test_keyring_and_environment_together_are_refused(kash: ServiceProvider) -> None:
    with pytest.raises(BrokerConnectionError, match="either --keyring or --key-env"):
        kash.connection.add(NewConnection("both", keyring_entry="x", key_env="K"))
    assert kash.connection.list_connections() == []


@pytest.mark.parametrize(
    "new",
    [
        NewConnection(""),
        NewConnection("bad-env", key_env="1NOT-A-NAME"),
        NewConnection("bad-url", trading_url="ftp://example.com"),
        NewConnection("url-with-password", trading_url="https://user:pw@paper.example.com"),
    ],
    ids=["empty-name", "bad-env-name", "not-http", "password-in-url"],
)
def test_unusable_connections_are_refused(kash: ServiceProvider, new: NewConnection) -> None:
    with pytest.raises(BrokerConnectionError):
        kash.connection.add(new)
    assert kash.connection.list_connections() == []


def test_duplicate_and_unknown_connections(kash: ServiceProvider) -> None:
    kash.connection.add(NewConnection("paper1"))
    with pytest.raises(BrokerConnectionError, match="already exists"):
        kash.connection.add(NewConnection("paper1", environment=Environment.LIVE))
    assert [(c.name, c.environment) for c in kash.connection.list_connections()] == [
        ("paper1", Environment.PAPER)
    ]
    for call in (
        lambda: kash.connection.get("ghost"),
        lambda: kash.connection.remove("ghost"),
        lambda: kash.connection.enable_live("ghost", "ghost"),
        lambda: kash.connection.credentials("ghost"),
    ):
        with pytest.raises(ConnectionNotFound, match="no connection named 'ghost'"):
            call()


def test_capabilities_of_a_paper_alpaca_connection(kash: ServiceProvider) -> None:
    conn = kash.connection.add(
        NewConnection("paper1", trading_url="https://paper.example.com/", custom_host=True)
    )
    for c in (conn, kash.connection.get("paper1")):
        assert c.rfqdn == "markets.alpaca.paper"
        assert c.trading_url == "https://paper.example.com"
        assert c.cap_data_stream_live and c.cap_data_stream_historic
        assert c.cap_trading_paper
        assert not c.cap_trading_live
        assert not c.is_live


def test_live_trading_is_off_until_the_user_opts_in(kash: ServiceProvider) -> None:
    conn = kash.connection.add(NewConnection("live1", environment=Environment.LIVE))
    assert conn.rfqdn == "markets.alpaca.live"
    assert conn.is_live and not conn.live_enabled
    assert conn.cap_data_stream_live and conn.cap_data_stream_historic
    assert not conn.cap_trading_live
    assert not conn.cap_trading_paper

    with pytest.raises(BrokerConnectionError, match="does not match"):
        kash.connection.enable_live("live1", "LIVE1")
    assert not kash.connection.get("live1").cap_trading_live

    enabled = kash.connection.enable_live("live1", "live1")
    assert enabled.live_enabled and enabled.cap_trading_live
    assert kash.connection.get("live1").cap_trading_live

    disabled = kash.connection.disable_live("live1")
    assert not disabled.cap_trading_live
    assert not kash.connection.get("live1").live_enabled


def test_a_paper_connection_cannot_enable_live(kash: ServiceProvider) -> None:
    kash.connection.add(NewConnection("paper1"))
    with pytest.raises(BrokerConnectionError, match="paper connection"):
        kash.connection.enable_live("paper1", "paper1")
    got = kash.connection.get("paper1")
    assert not got.live_enabled and not got.cap_trading_live


def test_backtest_connection_is_the_null_object() -> None:
    bt = BacktestConnection()
    assert bt.rfqdn == "internal.backtest"
    assert not bt.cap_data_stream_live
    assert not bt.cap_data_stream_historic
    assert not bt.cap_trading_paper
    assert not bt.cap_trading_live
    # even a backtest connection "with live enabled" cannot trade
    assert not BacktestConnection(live_enabled=True, environment=Environment.LIVE).cap_trading_live


def test_remove_refused_while_a_portfolio_uses_the_connection(kash: ServiceProvider) -> None:
    kash.connection.add(NewConnection("paper1"))
    kash.workspace.create_workspace("A")
    kash.workspace.create_portfolio("A", "p", PortfolioMode.PAPER, connection="paper1")

    with pytest.raises(BrokerConnectionError, match="still used by a portfolio"):
        kash.connection.remove("paper1")
    assert [c.name for c in kash.connection.list_connections()] == ["paper1"]
    assert kash.workspace.find_portfolio("p").connection_name == "paper1"

    kash.workspace.delete_portfolio("p", "A")
    kash.connection.remove("paper1")
    assert kash.connection.list_connections() == []


def test_removing_an_unused_connection(kash: ServiceProvider) -> None:
    kash.connection.add(NewConnection("a"))
    kash.connection.add(NewConnection("b", environment=Environment.LIVE))
    kash.connection.remove("a")
    assert [c.name for c in kash.connection.list_connections()] == ["b"]


@pytest.mark.parametrize(
    ("new", "sentence"),
    [
        (NewConnection("p", trading_url="https://api.alpaca.markets"),
         "The trading URL https://api.alpaca.markets is Alpaca's live trading host, but 'p' is "
         "a paper connection; use https://paper-api.alpaca.markets or leave the trading URL out."),
        (NewConnection("l", environment=Environment.LIVE,
                       trading_url="https://paper-api.alpaca.markets/v2"),
         "is Alpaca's paper trading host, but 'l' is a live connection"),
        (NewConnection("p", data_url="https://paper-api.alpaca.markets"),
         "market data is at https://data.alpaca.markets"),
        (NewConnection("p", trading_url="http://paper-api.alpaca.markets"),
         "reached over https"),
        (NewConnection("p", trading_url="https://proxy.example.com"),
         "neither Alpaca's host nor this machine's; if it is a proxy of your own, add it with "
         "--custom-host"),
        (NewConnection("p", trading_url="http://proxy.example.com", custom_host=True),
         "unencrypted"),
    ],
    ids=["paper-on-live", "live-on-paper", "data-on-trading-host", "http-alpaca",
         "unknown-host", "custom-host-over-http"],
)
def test_a_url_must_fit_the_connections_environment(
    kash: ServiceProvider, new: NewConnection, sentence: str
) -> None:
    with pytest.raises(BrokerConnectionError) as caught:
        kash.connection.add(new)
    assert sentence in str(caught.value)
    assert kash.connection.list_connections() == []


@pytest.mark.parametrize(
    "new",
    [
        NewConnection("a", trading_url="https://paper-api.alpaca.markets",
                      data_url="https://data.alpaca.markets"),
        NewConnection("b", environment=Environment.LIVE, trading_url="https://api.alpaca.markets"),
        NewConnection("c", trading_url="http://127.0.0.1:8080", data_url="http://localhost:8081"),
        NewConnection("d", trading_url="http://[::1]:8080"),
        NewConnection("e", trading_url="https://proxy.example.com", custom_host=True),
    ],
    ids=["paper-hosts", "live-host", "loopback", "loopback-v6", "declared-proxy"],
)
def test_matching_loopback_and_declared_hosts_are_accepted(
    kash: ServiceProvider, new: NewConnection
) -> None:
    assert kash.connection.add(new).name == new.name


def test_a_stored_paper_connection_on_the_live_host_is_refused_before_any_request(
    kash: ServiceProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A connection stored before the check existed: no key ever goes to the live host."""
    monkeypatch.setenv("APCA_API_KEY_ID", FAKE_KEY_ID)
    monkeypatch.setenv("APCA_API_SECRET_KEY", FAKE_SECRET)
    kash.connection.add(NewConnection("paper1"))
    with kash.db.engine.begin() as conn:
        conn.execute(sa.text(
            "UPDATE connections SET trading_url = 'https://api.alpaca.markets' "
            "WHERE name = 'paper1'"
        ))
    kash.workspace.create_workspace("A")
    folio = kash.workspace.create_portfolio("A", "p", PortfolioMode.PAPER, connection="paper1")
    from kash_tui.domains.connection import BrokerError

    with pytest.raises(BrokerError, match="Alpaca's live trading host, but 'paper1' is a paper"):
        kash.trading.resolve_trading_adapter(folio.id).get_account()


def test_the_data_feed_is_a_setting_of_the_connection(kash: ServiceProvider) -> None:
    from kash_tui.domains.connection import MarketFeed

    assert kash.connection.add(NewConnection("a")).feed is MarketFeed.IEX
    assert kash.connection.add(NewConnection("b", feed=MarketFeed.SIP)).feed is MarketFeed.SIP
    assert kash.connection.get("b").feed is MarketFeed.SIP
    assert kash.connection.set_feed("a", "SIP").feed is MarketFeed.SIP
    with pytest.raises(BrokerConnectionError, match="Unknown data feed 'delayed'"):
        kash.connection.add(NewConnection("c", feed="delayed"))  # type: ignore[arg-type]
    with pytest.raises(ConnectionNotFound):
        kash.connection.set_feed("ghost", "iex")
    with kash.db.engine.connect() as conn, pytest.raises(sa.exc.IntegrityError):
        conn.execute(sa.text("UPDATE connections SET feed = 'otc' WHERE name = 'a'"))
        conn.commit()


def test_the_order_journal_has_no_failed_status(kash: ServiceProvider) -> None:
    """Migration 0007 dropped 'failed', which nothing wrote: a ticket is rejected or unknown."""
    insert = sa.text(
        "INSERT INTO order_journal (client_order_id, symbol, summary, live, status, "
        "created_at, updated_at) VALUES (:cid, 'AAPL', 'buy 1 AAPL', :live, :status, "
        "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
    )
    with kash.db.engine.begin() as conn:
        conn.execute(insert, {"cid": "kash-a", "live": False, "status": "rejected"})
    with kash.db.engine.connect() as conn, pytest.raises(sa.exc.IntegrityError):
        conn.execute(insert, {"cid": "kash-b", "live": False, "status": "failed"})
        conn.commit()
