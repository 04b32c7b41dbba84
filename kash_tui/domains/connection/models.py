"""Mapping between connection rows and the public ``ConnectionModel``; input rules."""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlparse

from kash_tui.domains.connection.entities import ConnectionRow
from kash_tui.domains.connection.service import (
    BrokerConnectionError,
    BrokerKind,
    ConnectionModel,
    Environment,
    MarketFeed,
)
from kash_tui.names import unprintable

_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

ALPACA_DOMAIN = "alpaca.markets"
ALPACA_TRADING_HOSTS = {
    Environment.PAPER: "paper-api.alpaca.markets",
    Environment.LIVE: "api.alpaca.markets",
}
ALPACA_DATA_HOST = "data.alpaca.markets"


def to_model(row: ConnectionRow) -> ConnectionModel:
    return ConnectionModel(
        id=row.id,
        name=row.name,
        broker=BrokerKind(row.broker),
        environment=Environment(row.environment),
        trading_url=row.trading_url,
        data_url=row.data_url,
        key_env=row.key_env,
        secret_env=row.secret_env,
        keyring_entry=row.keyring_entry,
        live_enabled=bool(row.live_enabled),
        created_at=row.created_at,
        feed=MarketFeed(row.feed or MarketFeed.IEX.value),
    )


def clean_feed(feed: MarketFeed | str) -> MarketFeed:
    try:
        return MarketFeed(str(feed).strip().lower())
    except ValueError:
        choices = ", ".join(f.value for f in MarketFeed)
        raise BrokerConnectionError(
            f"Unknown data feed {feed!r}; choose one of: {choices} (sip needs Alpaca's market "
            "data subscription)."
        ) from None


def clean_name(name: str) -> str:
    text = (name or "").strip()
    if not text:
        raise BrokerConnectionError("A connection needs a name; give one, e.g. alpaca-paper.")
    bad = unprintable(text)
    if bad:
        raise BrokerConnectionError(
            f"A connection name cannot contain {bad}; use letters, digits, spaces and "
            "punctuation."
        )
    if len(text) > 64:
        raise BrokerConnectionError(
            f"A connection name must be at most 64 characters (this one has {len(text)}); "
            "choose a shorter one."
        )
    return text


def clean_url(label: str, url: str | None) -> str | None:
    if url is None or not url.strip():
        return None
    text = url.strip().rstrip("/")
    parsed = urlparse(text)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise BrokerConnectionError(
            f"The {label} URL {text!r} is not an http(s) URL; give one like https://host:port."
        )
    if parsed.username or parsed.password:
        raise BrokerConnectionError(
            f"The {label} URL must not carry a user or password; keys come from the "
            "environment or the keyring."
        )
    return text


def clean_env_name(label: str, name: str) -> str:
    text = name.strip()
    if not _ENV_NAME.match(text):
        raise BrokerConnectionError(
            f"{text!r} is not a valid environment variable name for the {label}; "
            "use letters, digits and underscores, e.g. APCA_API_KEY_ID."
        )
    return text


def is_loopback(host: str) -> bool:
    """This machine: ``localhost``, 127.0.0.0/8, ``::1`` (a test server, a local proxy)."""
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def is_alpaca_host(url: str | None) -> bool:
    host = (urlparse(url).hostname or "").lower() if url else ""
    return host == ALPACA_DOMAIN or host.endswith("." + ALPACA_DOMAIN)


def host_problem(
    label: str, url: str | None, environment: Environment, *, name: str, custom_host: bool
) -> str | None:
    """Why ``url`` cannot serve a connection of ``environment`` (None when it can).

    Alpaca's own hosts must be the environment's: a paper connection on the live trading host
    would send paper keys (or worse, live keys the user set for it) and orders to the live
    account. Any other host must be this machine's, or be declared ``custom_host`` (a proxy
    of the user's own, which then receives the keys): over https unless it is loopback.
    """
    if not url:
        return None
    parsed = urlparse(url)
    host = (parsed.hostname or "").lower()
    if is_alpaca_host(url):
        expected = ALPACA_TRADING_HOSTS[environment]
        if label == "trading" and host != expected:
            other = "live" if host == ALPACA_TRADING_HOSTS[Environment.LIVE] else (
                "paper" if host == ALPACA_TRADING_HOSTS[Environment.PAPER] else "")
            which = f"Alpaca's {other} trading host" if other else "not Alpaca's trading host"
            return (
                f"The trading URL {url} is {which}, but {name!r} is a {environment.value} "
                f"connection; use https://{expected} or leave the trading URL out."
            )
        if label == "data" and host in ALPACA_TRADING_HOSTS.values():
            return (
                f"The data URL {url} is Alpaca's trading host; market data is at "
                f"https://{ALPACA_DATA_HOST} (or leave the data URL out)."
            )
        if parsed.scheme != "https":
            return f"Alpaca's hosts are reached over https; write https://{host}."
        return None
    if is_loopback(host):
        return None
    if not custom_host:
        return (
            f"The {label} URL {url} is neither Alpaca's host nor this machine's; if it is a "
            "proxy of your own, add it with --custom-host (it will receive the keys)."
        )
    if parsed.scheme != "https":
        return (
            f"The {label} URL {url} would send the keys across the network unencrypted; "
            "use https for a host other than this machine."
        )
    return None
