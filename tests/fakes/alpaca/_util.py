"""Small helpers shared by the fake Alpaca server: numbers, timestamps, timeframes."""

from __future__ import annotations

import base64
import itertools
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

UTC = timezone.utc
ET = ZoneInfo("America/New_York")
CT = ZoneInfo("America/Chicago")

ZERO = Decimal(0)
_CENT = Decimal("0.01")
_NANO = Decimal("0.000000001")
_RATIO = Decimal("0.0000000001")


class ApiError(Exception):
    """Raised by a handler: becomes ``status`` with an Alpaca-style JSON body."""

    def __init__(self, status: int, message: str, code: int | None = None, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code if code is not None else default_code(status)
        self.extra = extra

    def body(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, **self.extra}


def default_code(status: int) -> int:
    return {
        400: 40010000,
        401: 40110000,
        403: 40310000,
        404: 40410000,
        409: 40910000,
        422: 40010001,
        429: 42910000,
    }.get(status, status * 100000 + 10000)


# -- numbers --------------------------------------------------------------------------------------


def dec(value: Any, name: str = "value") -> Decimal:
    """A Decimal from a JSON number/string; 422 when it is not a number."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, bool) or value is None:
        raise ApiError(422, f"invalid {name}")
    try:
        result = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise ApiError(422, f"invalid {name}") from None
    if not result.is_finite():
        raise ApiError(422, f"invalid {name}")
    return result


def plain(d: Decimal) -> str:
    """Decimal as Alpaca writes numbers in strings: no exponent, no trailing zeros."""
    if d == 0:
        return "0"
    text = format(d.normalize(), "f")
    return text


def fmt_qty(d: Decimal | None) -> str | None:
    return None if d is None else plain(d.quantize(_NANO, rounding=ROUND_HALF_EVEN))


def fmt_money(d: Decimal | None) -> str | None:
    return None if d is None else plain(d.quantize(_CENT, rounding=ROUND_HALF_EVEN))


def fmt_price(d: Decimal | None) -> str | None:
    return None if d is None else plain(d.quantize(_NANO, rounding=ROUND_HALF_EVEN))


def fmt_ratio(d: Decimal | None) -> str | None:
    return None if d is None else plain(d.quantize(_RATIO, rounding=ROUND_HALF_EVEN))


def is_integral(d: Decimal) -> bool:
    return d == d.to_integral_value()


# -- timestamps -----------------------------------------------------------------------------------

_ns_counter = itertools.count(137)


def ts(dt: datetime | None) -> str | None:
    """RFC 3339 in UTC with nanoseconds and ``Z``, as the trading API writes them."""
    if dt is None:
        return None
    dt = dt.astimezone(UTC)
    extra = next(_ns_counter) % 1000
    return f"{dt:%Y-%m-%dT%H:%M:%S}.{dt.microsecond:06d}{extra:03d}Z"


def ts_bar(dt: datetime) -> str:
    """Bar timestamps: whole seconds, ``Z``."""
    dt = dt.astimezone(UTC)
    if dt.microsecond:
        return f"{dt:%Y-%m-%dT%H:%M:%S}.{dt.microsecond:06d}Z"
    return f"{dt:%Y-%m-%dT%H:%M:%SZ}"


def ts_et(dt: datetime) -> str:
    """The clock endpoint's format: Eastern time with offset."""
    dt = dt.astimezone(ET)
    text = dt.isoformat()
    return text


def parse_time(value: str, name: str = "time") -> datetime:
    """RFC 3339 / ``YYYY-MM-DD`` from a query string (naive means UTC); 422 otherwise."""
    text = value.strip()
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            d = date.fromisoformat(text)
            return datetime.combine(d, time(0), UTC)
        if text.endswith("Z") or text.endswith("z"):
            text = text[:-1] + "+00:00"
        # trim fractional seconds beyond microseconds
        text = re.sub(r"(\.\d{6})\d+", r"\1", text)
        dt = datetime.fromisoformat(text)
    except ValueError:
        raise ApiError(422, f"invalid {name}: {value}", code=42210000) from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt


def parse_date(value: str, name: str = "date") -> date:
    try:
        return date.fromisoformat(value.strip()[:10])
    except ValueError:
        raise ApiError(422, f"invalid {name}: {value}", code=42210000) from None


def parse_bool(value: str | None, default: bool = False) -> bool:
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "t"}


# -- timeframes -----------------------------------------------------------------------------------

_UNIT_ALIASES = {
    "min": "Min", "t": "Min", "minute": "Min",
    "hour": "Hour", "h": "Hour",
    "day": "Day", "d": "Day",
    "week": "Week", "w": "Week",
    "month": "Month", "m": "Month", "mo": "Month",
}
_UNIT_SECONDS = {"Min": 60, "Hour": 3600, "Day": 86400, "Week": 7 * 86400}


@dataclass(frozen=True)
class TimeFrame:
    amount: int
    unit: str  # Min Hour Day Week Month

    @property
    def key(self) -> str:
        return f"{self.amount}{self.unit}"

    @property
    def intraday(self) -> bool:
        return self.unit in ("Min", "Hour")

    @property
    def seconds(self) -> int:
        if self.unit == "Month":
            return 30 * 86400 * self.amount
        return _UNIT_SECONDS[self.unit] * self.amount


def parse_timeframe(value: str) -> TimeFrame:
    """``1Day``, ``5Min``, ``1H``, ``15T`` ... (Alpaca's accepted spellings); 400 otherwise."""
    m = re.fullmatch(r"\s*(\d+)\s*([A-Za-z]+)\s*", value or "")
    if not m:
        raise ApiError(400, "invalid timeframe", code=40010001)
    amount = int(m.group(1))
    raw = m.group(2)
    unit = _UNIT_ALIASES.get(raw.lower())
    if raw == "M":
        unit = "Month"
    elif raw == "T":
        unit = "Min"
    if unit is None or amount < 1:
        raise ApiError(400, "invalid timeframe", code=40010001)
    limits = {"Min": 59, "Hour": 23, "Day": 1, "Week": 1, "Month": 12}
    if amount > limits[unit]:
        raise ApiError(400, "invalid timeframe", code=40010001)
    return TimeFrame(amount, unit)


# -- pagination tokens ----------------------------------------------------------------------------


def encode_token(offset: int, salt: str = "") -> str:
    return base64.urlsafe_b64encode(f"{salt}:{offset}".encode()).decode().rstrip("=")


def decode_token(token: str | None, salt: str = "") -> int:
    if not token:
        return 0
    try:
        padded = token + "=" * (-len(token) % 4)
        raw = base64.urlsafe_b64decode(padded.encode()).decode()
        got_salt, _, offset = raw.rpartition(":")
        if got_salt != salt:
            raise ValueError
        return max(0, int(offset))
    except (ValueError, UnicodeDecodeError):
        raise ApiError(400, "invalid page token", code=40010001) from None


# -- market calendar (weekdays, no holidays) ------------------------------------------------------

OPEN_T = time(9, 30)
CLOSE_T = time(16, 0)


def session_open(now: datetime) -> bool:
    local = now.astimezone(ET)
    return local.weekday() < 5 and OPEN_T <= local.time() < CLOSE_T


def next_weekday(d: date) -> date:
    d = d + timedelta(days=1)
    while d.weekday() >= 5:
        d += timedelta(days=1)
    return d


def at_et(d: date, t: time) -> datetime:
    return datetime.combine(d, t, ET)


def next_close_after(now: datetime) -> datetime:
    local = now.astimezone(ET)
    d = local.date()
    if d.weekday() < 5 and local.time() < CLOSE_T:
        return at_et(d, CLOSE_T)
    return at_et(next_weekday(d), CLOSE_T)


def next_open_after(now: datetime) -> datetime:
    local = now.astimezone(ET)
    d = local.date()
    if d.weekday() < 5 and local.time() < OPEN_T:
        return at_et(d, OPEN_T)
    return at_et(next_weekday(d), OPEN_T)


def start_of_day_et(now: datetime) -> datetime:
    return datetime.combine(now.astimezone(ET).date(), time(0), ET).astimezone(UTC)
