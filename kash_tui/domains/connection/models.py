"""Mapping between connection rows and the public ``ConnectionModel``; input rules."""

from __future__ import annotations

import re
from urllib.parse import urlparse

from kash_tui.domains.connection.entities import ConnectionRow
from kash_tui.domains.connection.service import (
    BrokerConnectionError,
    BrokerKind,
    ConnectionModel,
    Environment,
)

_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


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
    )


def clean_name(name: str) -> str:
    text = (name or "").strip()
    if not text:
        raise BrokerConnectionError("A connection needs a name; give one, e.g. alpaca-paper.")
    if len(text) > 64 or not text.isprintable():
        raise BrokerConnectionError(
            "A connection name must be at most 64 printable characters; choose a shorter one."
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
