"""Kash wired to the fake Alpaca server: one paper connection, one PAPER portfolio.

    kash, portfolio = paper_kash(sqlite_db_url, fake_alpaca, monkeypatch)

The connection points both base URLs at the fake and reads its keys from the environment, as a
user's would; the keys exist only in this process's environment.
"""

from __future__ import annotations

import pytest

from kash_tui.config import Settings
from kash_tui.domains.connection import NewConnection
from kash_tui.domains.workspace import Portfolio, PortfolioMode
from kash_tui.provider import ServiceProvider

KEY_ENV = "APCA_API_KEY_ID"
SECRET_ENV = "APCA_API_SECRET_KEY"


def connect_env(fake, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:  # noqa: ANN001
    monkeypatch.setenv(KEY_ENV, fake.key_id)
    monkeypatch.setenv(SECRET_ENV, fake.secret_key)
    return {KEY_ENV: fake.key_id, SECRET_ENV: fake.secret_key}


def paper_kash(
    db_url: str,
    fake,  # noqa: ANN001 - tests.fakes.alpaca.FakeAlpaca
    monkeypatch: pytest.MonkeyPatch,
    *,
    connection: str = "paper",
    portfolio: str = "Alpaca paper",
    **settings: object,
) -> tuple[ServiceProvider, Portfolio]:
    connect_env(fake, monkeypatch)
    settings.setdefault("http_timeout_seconds", 2.0)
    kash = ServiceProvider(Settings(database_url=db_url, **settings))
    kash.prepare()
    kash.connection.add(
        NewConnection(name=connection, trading_url=fake.base_url, data_url=fake.base_url)
    )
    folio = kash.workspace.create_portfolio(
        "Demo", portfolio, PortfolioMode.PAPER, connection=connection
    )
    return kash, folio
