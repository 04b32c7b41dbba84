"""Mapping between market rows and public types; input rules for symbols and zones."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np

from kash_tui.domains.market.chunks import BAR_DTYPE, BarColumns, InstrumentRecord
from kash_tui.domains.market.service import (
    NS_PER_SECOND,
    AssetClass,
    BarSeries,
    Instrument,
    AssetHit,
    MarketError,
    OptionType,
    Timeframe,
)

if TYPE_CHECKING:
    from kash_tui.domains.market.entities import BrokerAssetRow, InstrumentRow

_SYMBOL = re.compile(r"^[A-Z0-9][A-Z0-9.\-/]{0,63}$")
_OCC = re.compile(r"^([A-Z][A-Z0-9.]{0,5})(\d{6})([CP])(\d{8})$")
"""An OCC option symbol: root (1-6), YYMMDD, C/P, strike x 1000 in 8 digits."""


@dataclass(frozen=True)
class OccSymbol:
    root: str
    expiration: date
    type: OptionType
    strike: Decimal

    @property
    def label(self) -> str:
        """``AAPL 2026-12-18 190 call``: the instrument name shown for a charted contract."""
        return f"{self.root} {self.expiration:%Y-%m-%d} {self.strike:f} {self.type.value}"


def parse_occ(symbol: str) -> OccSymbol | None:
    """The parts of an OCC option symbol (``AAPL261218C00190000``), or None if it is not one."""
    m = _OCC.match(symbol)
    if m is None:
        return None
    root, ymd, kind, strike = m.groups()
    try:
        expiration = datetime.strptime(ymd, "%y%m%d").date()
    except ValueError:
        return None
    value = (Decimal(strike) / 1000).normalize()
    if value == value.to_integral_value():
        value = value.quantize(Decimal(1))
    return OccSymbol(root, expiration, OptionType.CALL if kind == "C" else OptionType.PUT, value)


def guess_asset_class(symbol: str, cached: str | None = None) -> AssetClass:
    """What kind of asset a symbol is, for choosing Alpaca's endpoint.

    ``/`` means a crypto pair (BTC/USD), an OCC symbol an option; otherwise the broker's asset
    list decides (``cached``), and an unknown symbol is taken for an equity.
    """
    if "/" in symbol:
        return AssetClass.CRYPTO
    if parse_occ(symbol) is not None:
        return AssetClass.US_OPTION
    if cached:
        try:
            return AssetClass(cached)
        except ValueError:
            pass
    return AssetClass.US_EQUITY


def to_hit(row: BrokerAssetRow, has_bars: bool) -> AssetHit:
    return AssetHit(
        symbol=row.symbol,
        name=row.name or "",
        asset_class=AssetClass(row.asset_class),
        exchange=row.exchange or "",
        tradable=bool(row.tradable),
        fractionable=bool(row.fractionable),
        has_bars=has_bars,
    )


def local_hit(instrument: Instrument) -> AssetHit:
    """A symbol with bars in the cache that the broker's list does not name (CSV, demo)."""
    return AssetHit(
        symbol=instrument.symbol,
        name=instrument.name,
        asset_class=instrument.asset_class,
        exchange="",
        tradable=False,
        fractionable=False,
        has_bars=True,
    )


def to_instrument(row: InstrumentRow | InstrumentRecord) -> Instrument:
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


def to_series(row: InstrumentRow | InstrumentRecord, timeframe: Timeframe, data: BarColumns) -> BarSeries:
    """The public series over the loaded columns (views of them: no copy of the prices)."""
    values = data.values
    return BarSeries(
        symbol=row.symbol,
        timeframe=timeframe,
        asset_class=AssetClass(row.asset_class),
        tz=row.exchange_tz,
        timestamps=np.multiply(data.ts, NS_PER_SECOND, out=data.ts),  # the loaded array, in place
        open=np.ascontiguousarray(values[0]),
        high=np.ascontiguousarray(values[1]),
        low=np.ascontiguousarray(values[2]),
        close=np.ascontiguousarray(values[3]),
        volume=np.ascontiguousarray(values[4]),
    )


def to_rows(ts_seconds: np.ndarray, o, h, low, c, v) -> np.ndarray:  # noqa: ANN001
    rows = np.empty(ts_seconds.shape[0], dtype=BAR_DTYPE)
    rows["ts"], rows["open"], rows["high"] = ts_seconds, o, h
    rows["low"], rows["close"], rows["volume"] = low, c, v
    return rows


def epoch_to_datetime(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, tz=UTC)
