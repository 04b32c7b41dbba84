"""Mapping between market rows and public types; input rules for symbols and zones."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np

from kash_tui.domains.market.entities import InstrumentRow
from kash_tui.domains.market.repo import BAR_DTYPE
from kash_tui.domains.market.service import (
    NS_PER_SECOND,
    AssetClass,
    BarSeries,
    Instrument,
    MarketError,
    Timeframe,
)

_SYMBOL = re.compile(r"^[A-Z0-9][A-Z0-9.\-/]{0,63}$")


def to_instrument(row: InstrumentRow) -> Instrument:
    return Instrument(
        symbol=row.symbol,
        asset_class=AssetClass(row.asset_class),
        exchange_tz=row.exchange_tz,
        name=row.name or "",
        source=row.source,
    )


def clean_symbol(symbol: str) -> str:
    text = (symbol or "").strip().upper()
    if not _SYMBOL.match(text):
        raise MarketError(
            f"{symbol!r} is not a valid symbol; use letters, digits, '.', '-' or '/' "
            "(e.g. AAPL, BRK.B, BTC/USD)."
        )
    return text


def check_tz(tz: str) -> str:
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise MarketError(
            f"Unknown time zone {tz!r}; use an IANA name such as America/New_York or UTC."
        ) from None
    return tz


def to_epoch_seconds(when: datetime) -> int:
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return int(when.timestamp())


def to_series(row: InstrumentRow, timeframe: Timeframe, data: np.ndarray) -> BarSeries:
    return BarSeries(
        symbol=row.symbol,
        timeframe=timeframe,
        asset_class=AssetClass(row.asset_class),
        tz=row.exchange_tz,
        timestamps=data["ts"] * NS_PER_SECOND,
        open=np.ascontiguousarray(data["open"]),
        high=np.ascontiguousarray(data["high"]),
        low=np.ascontiguousarray(data["low"]),
        close=np.ascontiguousarray(data["close"]),
        volume=np.ascontiguousarray(data["volume"]),
    )


def to_rows(ts_seconds: np.ndarray, o, h, low, c, v) -> np.ndarray:  # noqa: ANN001
    rows = np.empty(ts_seconds.shape[0], dtype=BAR_DTYPE)
    rows["ts"], rows["open"], rows["high"] = ts_seconds, o, h
    rows["low"], rows["close"], rows["volume"] = low, c, v
    return rows


def epoch_to_datetime(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, tz=UTC)
