"""The connection service: stores where keys are, never the keys."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from kash_tui.db import Database, utc_now
from kash_tui.domains.connection.service import (
    DEFAULT_KEY_ENV,
    DEFAULT_SECRET_ENV,
    KEYRING_SERVICE,
    BrokerConnectionError,
    BrokerKind,
    ConnectionModel,
    ConnectionNotFound,
    Credentials,
    Environment,
    MarketFeed,
    NewConnection,
)

if TYPE_CHECKING:
    from sqlalchemy import exc as sa_exc

    from kash_tui.domains.connection import entities, models, repo
else:  # the ORM side, imported when first used: a backtest's start needs none of it
    from kash_tui.lazy import lazy_module

    entities = lazy_module("kash_tui.domains.connection.entities")
    models = lazy_module("kash_tui.domains.connection.models")
    repo = lazy_module("kash_tui.domains.connection.repo")
    sa_exc = lazy_module("sqlalchemy.exc")


def _not_found(name: str) -> ConnectionNotFound:
    return ConnectionNotFound(
        f"There is no connection named {name!r}; run `kash connection list` to see them."
    )


class SqlConnectionService:
    def __init__(self, db: Database) -> None:
        self._db = db

    def list_connections(self) -> list[ConnectionModel]:
        with self._db.unit_of_work() as s:
            return [models.to_model(r) for r in repo.all_connections(s)]

    def get(self, name: str) -> ConnectionModel:
        with self._db.unit_of_work() as s:
            row = repo.by_name(s, name.strip())
            if row is None:
                raise _not_found(name)
            return models.to_model(row)

    def get_by_id(self, connection_id: int) -> ConnectionModel:
        with self._db.unit_of_work() as s:
            row = repo.by_id(s, connection_id)
            if row is None:
                raise _not_found(f"#{connection_id}")
            return models.to_model(row)

    def add(self, new: NewConnection) -> ConnectionModel:
        name = models.clean_name(new.name)
        if new.broker is not BrokerKind.ALPACA:
            raise BrokerConnectionError("Only Alpaca connections can be added; use --broker alpaca.")
        if new.keyring_entry and (new.key_env or new.secret_env):
            raise BrokerConnectionError(
                "Use either --keyring or --key-env/--secret-env, not both."
            )
        keyring_entry = new.keyring_entry.strip() if new.keyring_entry else None
        if keyring_entry is not None and not keyring_entry:
            raise BrokerConnectionError("The keyring entry name is empty; give one.")
        if keyring_entry:
            key_env = secret_env = None
        else:
            key_env = models.clean_env_name("key id", new.key_env or DEFAULT_KEY_ENV)
            secret_env = models.clean_env_name("secret key", new.secret_env or DEFAULT_SECRET_ENV)
        environment = Environment(new.environment)
        trading_url = models.clean_url("trading", new.trading_url)
        data_url = models.clean_url("data", new.data_url)
        for label, url in (("trading", trading_url), ("data", data_url)):
            problem = models.host_problem(
                label, url, environment, name=name, custom_host=new.custom_host
            )
            if problem:
                raise BrokerConnectionError(problem)
        row = entities.ConnectionRow(
            name=name,
            broker=new.broker.value,
            environment=environment.value,
            trading_url=trading_url,
            data_url=data_url,
            key_env=key_env,
            secret_env=secret_env,
            keyring_entry=keyring_entry,
            live_enabled=False,
            created_at=utc_now(),
            feed=models.clean_feed(new.feed).value,
        )
        try:
            with self._db.unit_of_work() as s:
                if repo.by_name(s, name) is not None:
                    raise BrokerConnectionError(
                        f"A connection named {name!r} already exists; choose another name."
                    )
                s.add(row)
                s.flush()
                return models.to_model(row)
        except sa_exc.IntegrityError:
            raise BrokerConnectionError(
                f"A connection named {name!r} already exists; choose another name."
            ) from None

    def remove(self, name: str) -> None:
        try:
            with self._db.unit_of_work() as s:
                row = repo.by_name(s, name.strip())
                if row is None:
                    raise _not_found(name)
                s.delete(row)
                s.flush()
        except sa_exc.IntegrityError:
            raise BrokerConnectionError(
                f"Connection {name!r} is still used by a portfolio; delete that portfolio "
                "or attach it to another connection first."
            ) from None

    def enable_live(self, name: str, typed_name: str) -> ConnectionModel:
        with self._db.unit_of_work() as s:
            row = repo.by_name(s, name.strip())
            if row is None:
                raise _not_found(name)
            if row.environment != Environment.LIVE.value:
                raise BrokerConnectionError(
                    f"Connection {row.name!r} is a paper connection; add a live one with "
                    "`kash connection add NAME --broker alpaca --live`."
                )
            if typed_name.strip() != row.name:
                raise BrokerConnectionError(
                    "The name you typed does not match the connection; live trading stays off."
                )
            row.live_enabled = True
            row.live_enabled_at = utc_now()
            s.flush()
            return models.to_model(row)

    def disable_live(self, name: str) -> ConnectionModel:
        with self._db.unit_of_work() as s:
            row = repo.by_name(s, name.strip())
            if row is None:
                raise _not_found(name)
            row.live_enabled = False
            row.live_enabled_at = None
            s.flush()
            return models.to_model(row)

    def set_feed(self, name: str, feed: MarketFeed | str) -> ConnectionModel:
        chosen = models.clean_feed(feed)
        with self._db.unit_of_work() as s:
            row = repo.by_name(s, name.strip())
            if row is None:
                raise _not_found(name)
            row.feed = chosen.value
            s.flush()
            return models.to_model(row)

    def credentials(self, name: str) -> Credentials:
        conn = self.get(name)
        if conn.keyring_entry:
            return _from_keyring(conn)
        key_id = os.environ.get(conn.key_env or DEFAULT_KEY_ENV, "").strip()
        secret = os.environ.get(conn.secret_env or DEFAULT_SECRET_ENV, "").strip()
        if not key_id or not secret:
            raise BrokerConnectionError(
                f"Connection {conn.name!r} reads its keys from ${conn.key_env} and "
                f"${conn.secret_env}; set both in the environment (see docs/alpaca.md)."
            )
        return _remember(Credentials(key_id=key_id, secret_key=secret))


def _remember(credentials: Credentials) -> Credentials:
    from kash_tui.logs import register_secret

    register_secret(credentials.key_id)
    register_secret(credentials.secret_key)
    return credentials


def _from_keyring(conn: ConnectionModel) -> Credentials:
    import keyring
    from keyring.errors import KeyringError

    entry = conn.keyring_entry
    try:
        key_id = keyring.get_password(KEYRING_SERVICE, f"{entry}/key_id")
        secret = keyring.get_password(KEYRING_SERVICE, f"{entry}/secret_key")
    except KeyringError as exc:
        raise BrokerConnectionError(
            f"The OS keyring could not be read for connection {conn.name!r} "
            f"({type(exc).__name__}); unlock it or use environment variables instead."
        ) from None
    key_id, secret = (key_id or "").strip(), (secret or "").strip()
    if not key_id or not secret:
        raise BrokerConnectionError(
            f"The keyring has no keys under '{KEYRING_SERVICE}' / '{entry}/key_id' and "
            f"'{entry}/secret_key'; store them there (see docs/alpaca.md)."
        )
    return _remember(Credentials(key_id=key_id, secret_key=secret))
