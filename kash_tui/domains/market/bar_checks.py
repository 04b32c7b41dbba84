"""The checks every bar passes before it is stored, wherever it comes from (a CSV row, a bar
sent by Alpaca): one function, :func:`bar_problems`, so both sources refuse the same things
with the same words.

Bounds (chosen so that no later arithmetic - position sizing, equity, sums of volume over a
million bars - can overflow a float64 or lose all precision):

- time: from 1900-01-01 up to, not including, 2200-01-01 UTC (an epoch with too many digits
  read as the year 5138 is refused, not stored);
- prices (open, high, low, close): finite, above 0, at least 1e-12 and below 1e12;
- volume: finite, not negative, below 1e15;
- high is not below low.
"""

from __future__ import annotations

import numpy as np

MIN_TIME = -2_208_988_800  # 1900-01-01T00:00:00Z
MAX_TIME = 7_258_118_400  # 2200-01-01T00:00:00Z (excluded)
TIME_RANGE = "1900-01-01 to 2200-01-01 UTC"
MIN_PRICE = 1e-12
MAX_PRICE = 1e12
MAX_VOLUME = 1e15

PRICE_NAMES = ("open", "high", "low", "close")


def time_text(epoch_seconds: int) -> str:
    """``2024-01-02 14:30`` for any int64 number of seconds (years past 9999 included)."""
    return str(np.datetime64(int(epoch_seconds), "s")).replace("T", " ")[:16]


def out_of_range_reason(epoch_seconds: int, written: str | None = None) -> str:
    shown = f"{written!r} ({time_text(epoch_seconds)} UTC)" if written else (
        f"{time_text(epoch_seconds)} UTC"
    )
    return f"the time {shown} is outside the range Kash accepts, {TIME_RANGE}"


def bar_problems(
    open_: np.ndarray,
    high: np.ndarray,
    low: np.ndarray,
    close: np.ndarray,
    volume: np.ndarray,
    ts: np.ndarray | None = None,
    *,
    skip: np.ndarray | None = None,
) -> dict[int, str]:
    """The first reason each bad bar is refused, by index; rows where ``skip`` is True are not
    looked at (they already have a reason). ``ts`` is UTC epoch seconds."""
    n = int(np.shape(close)[0])
    taken = np.zeros(n, dtype=bool) if skip is None else np.array(skip, dtype=bool, copy=True)
    found: dict[int, str] = {}

    def mark(mask: np.ndarray, reason) -> None:  # noqa: ANN001 - reason(i) -> str
        for i in np.flatnonzero(mask & ~taken).tolist():
            found[i] = reason(i)
            taken[i] = True

    prices = {"open": open_, "high": high, "low": low, "close": close}
    cols = {**prices, "volume": volume}
    with np.errstate(invalid="ignore"):
        for name, arr in cols.items():
            mark(~np.isfinite(arr), lambda i, a=arr, c=name: f"{c.capitalize()} {a[i]:g} is not a "
                 "finite number")
        for name, arr in prices.items():
            label = name.capitalize()
            mark(arr <= 0, lambda i, a=arr, c=label: f"{c} {a[i]:g} is not a positive price")
            mark(arr < MIN_PRICE, lambda i, a=arr, c=label: f"{c} {a[i]:g} is below "
                 f"{MIN_PRICE:g}, the smallest price Kash accepts")
            mark(arr >= MAX_PRICE, lambda i, a=arr, c=label: f"{c} {a[i]:g} is not below "
                 f"{MAX_PRICE:g}, the largest price Kash accepts")
        mark(high < low, lambda i: f"High {high[i]:g} is below Low {low[i]:g}")
        mark(volume < 0, lambda i: f"Volume {volume[i]:g} is negative")
        mark(volume >= MAX_VOLUME, lambda i: f"Volume {volume[i]:g} is not below "
             f"{MAX_VOLUME:g}, the largest volume Kash accepts")
    if ts is not None:
        t = np.asarray(ts, dtype=np.int64)
        mark((t < MIN_TIME) | (t >= MAX_TIME), lambda i: out_of_range_reason(int(t[i])))
    return found
