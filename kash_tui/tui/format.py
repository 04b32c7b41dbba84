"""How Kash writes values on screen: money, quantities, prices, percentages, times, orders,
option quotes and backtest figures. Every place and widget formats through here, so a number
looks the same wherever it shows.

Cheap to import (standard library and rich only): the header and the first place use it before
the first paint.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from typing import TYPE_CHECKING, Any

from rich.cells import cell_len, set_cell_size

if TYPE_CHECKING:
    from kash_tui.domains.trading import BacktestRun, Order

NONE = "–"
"""What a missing value shows as."""


# -- plain numbers ---------------------------------------------------------------------------


def decimal_text(value: Decimal) -> str:
    """``Decimal('25.5000')`` -> ``'25.5'``; ``Decimal('190.000')`` -> ``'190'``: a stored
    decimal as a trader writes it, no exponent, no trailing zeros."""
    return format(value.normalize(), "f")


percent = decimal_text
"""A stored percentage (a portfolio's position size): ``Decimal('25.5000')`` -> ``'25.5'``."""

strike_text = decimal_text
"""An option's strike: ``Decimal('190.000')`` -> ``'190'``."""


def number_text(value: Any) -> str:
    """A number as a person types it: ``20.0`` -> ``"20"``, ``0.0005`` -> ``"0.0005"``."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    return "" if value is None else str(value)


def count_text(n: int, noun: str) -> str:
    """``2,608 bars``, ``1 fill``."""
    return f"{n:,} {noun}{'s' if n != 1 else ''}"


def fit(name: str, cells: int) -> str:
    """``name`` in at most ``cells`` terminal cells, cut with ``…`` (wide characters, CJK and
    emoji, count as two cells: measured with ``cell_len``, never ``len``)."""
    if cell_len(name) <= cells:
        return name
    return set_cell_size(name, max(1, cells - 1)).rstrip() + "…"


# -- money, quantities, prices ---------------------------------------------------------------


def money(value: Decimal | float | None, *, sign: bool = False) -> str:
    """``1234.5`` -> ``1,234.50`` (``+1,234.50`` with ``sign``); ``None`` -> ``–``."""
    if value is None:
        return NONE
    text = f"{Decimal(value):,.2f}" if not isinstance(value, Decimal) else f"{value:,.2f}"
    if sign and not text.startswith("-") and Decimal(value) != 0:
        text = "+" + text
    return text


def dollars(value: Decimal | float | None) -> str:
    if value is None:
        return NONE
    text = money(value)
    return f"-${text[1:]}" if text.startswith("-") else f"${text}"


def quantity(value: Decimal | float | int | None) -> str:
    """A quantity as a trader writes it: ``10``, ``0.5``, ``1,200``."""
    if value is None:
        return NONE
    number = Decimal(value) if not isinstance(value, Decimal) else value
    if number == number.to_integral_value():
        return f"{int(number):,}"
    return format(number.normalize(), "f")


def price(value: Decimal | float | None) -> str:
    """A price with at least 2 decimals, more when it has them (``0.0125``)."""
    if value is None:
        return NONE
    number = Decimal(value) if not isinstance(value, Decimal) else value
    if number == number.quantize(Decimal("0.01")):
        return f"{number:,.2f}"
    return f"{number.normalize():,f}"


QTY_DECIMALS = 6
"""Quantities show at most this many decimals (a backtest's float quantities have 15 digits)."""


def qty_text(value: Decimal | float | int | None) -> str:
    """``0.392209881788748`` -> ``0.39221``; ``10`` -> ``10``; ``None`` -> ``–``."""
    if value is None:
        return NONE
    number = value if isinstance(value, Decimal) else Decimal(str(value))
    return quantity(number.quantize(Decimal(1).scaleb(-QTY_DECIMALS), ROUND_HALF_EVEN))


def price_text(value: Decimal | float | None) -> str:
    """Cents from a dollar up (``100.7634999999999934`` -> ``100.76``), four decimals below
    (``0.0125``); ``None`` -> ``–``."""
    if value is None:
        return NONE
    number = value if isinstance(value, Decimal) else Decimal(str(value))
    places = Decimal("0.01") if abs(number) >= 1 else Decimal("0.0001")
    return price(number.quantize(places, ROUND_HALF_EVEN))


def money_text(value: Decimal | float | None, *, sign: bool = False) -> str:
    """Money in cents, never ``-0.00`` (a backtest's cash of -1e-12 is 0.00)."""
    if value is None:
        return NONE
    number = value if isinstance(value, Decimal) else Decimal(str(value))
    number = number.quantize(Decimal("0.01"), ROUND_HALF_EVEN)
    return money(number.copy_abs() if number.is_zero() else number, sign=sign)


# -- orders ----------------------------------------------------------------------------------


def order_price_text(order: Order) -> str:
    parts = []
    if order.limit_price is not None:
        parts.append(price_text(order.limit_price))
    if order.stop_price is not None:
        parts.append(f"stop {price_text(order.stop_price)}")
    if order.trail_percent is not None:
        parts.append(f"trail {quantity(order.trail_percent)}%")
    if order.trail_price is not None:
        parts.append(f"trail ${price_text(order.trail_price)}")
    return " ".join(parts) or "market"


def order_amount(order: Order) -> str:
    if order.qty is not None:
        return qty_text(order.qty)
    if order.notional is not None:
        return f"${money_text(order.notional)}"
    return NONE


def describe_order(order: Order) -> str:
    """``buy 10 AAPL limit 150.00 day``."""
    words = [order.side.value, order_amount(order), order.symbol,
             order.order_type.replace("_", "-")]
    if order.limit_price is not None or order.stop_price is not None or \
            order.trail_percent is not None or order.trail_price is not None:
        words.append(order_price_text(order))
    words.append(order.time_in_force)
    return " ".join(words)


# -- option contracts and quotes -------------------------------------------------------------

_OCC = re.compile(r"^([A-Z]{1,6})(\d{2})(\d{2})(\d{2})([CP])(\d{8})$")


def is_option_symbol(symbol: str) -> bool:
    """An OCC option symbol such as ``AAPL261218C00190000``."""
    return bool(_OCC.match(symbol.strip().upper()))


def describe_contract(symbol: str) -> str:
    """``AAPL261218C00190000`` -> ``AAPL 2026-12-18 190 call``; other symbols unchanged."""
    match = _OCC.match(symbol.strip().upper())
    if not match:
        return symbol
    root, yy, mm, dd, kind, strike = match.groups()
    strike_shown = quantity(Decimal(strike) / 1000)
    return f"{root} 20{yy}-{mm}-{dd} {strike_shown} {'call' if kind == 'C' else 'put'}"


def px(value: Decimal | None) -> str:
    """An option quote's price in at most 6 cells: ``1.25``, ``123.4``, ``1234``."""
    if value is None:
        return NONE
    if value < 100:
        return f"{value:.2f}"
    if value < 1000:
        return f"{value:.1f}"
    return f"{value:.0f}"


def iv_text(value: float | None) -> str:
    return NONE if value is None else f"{value * 100:.0f}%"


def delta_text(value: float | None) -> str:
    if value is None:
        return NONE
    text = f"{value:.2f}"
    return "0.00" if text == "-0.00" else text


def oi_text(value: int | None) -> str:
    if value is None:
        return NONE
    if value < 100_000:
        return str(value)
    if value < 10_000_000:
        return f"{value // 1000}k"
    return f"{value // 1_000_000}M"


# -- times -----------------------------------------------------------------------------------


def when(moment: datetime | None) -> str:
    """A time in the local zone: ``14:03:12`` today, ``03-14 14:03`` earlier this year, the
    date with its year (``2019-03-14``) before that, e.g. the orders of a backtest."""
    if moment is None:
        return NONE
    local = moment.astimezone()
    today = datetime.now().astimezone().date()
    if local.date() == today:
        return local.strftime("%H:%M:%S")
    if local.year != today.year:
        return local.strftime("%Y-%m-%d")
    return local.strftime("%m-%d %H:%M")


def age_text(seconds: float) -> str:
    if seconds < 1.5:
        return "updated just now"
    if seconds < 60:
        return f"updated {int(seconds)} s ago"
    if seconds < 3600:
        minutes, rest = divmod(int(seconds), 60)
        return f"updated {minutes} min {rest} s ago"
    return f"updated {int(seconds // 3600)} h ago"


def time_formatter(tz: str, timeframe: str) -> Callable[[datetime], str]:
    """Times as the trader reads them: in the exchange's zone; daily bars as session dates."""
    from zoneinfo import ZoneInfo

    try:
        zone: Any = ZoneInfo(tz)
    except Exception:  # noqa: BLE001 - an unknown zone name: show UTC
        zone = UTC
    if timeframe in ("1Day", "1Week"):
        return lambda when: f"{when.astimezone(zone):%Y-%m-%d}"
    return lambda when: f"{when.astimezone(zone):%Y-%m-%d %H:%M}"


# -- strategies and backtests ----------------------------------------------------------------


def format_metric(value: float | int | None, suffix: str = "", digits: int = 2) -> str:
    """As the CLI prints it: ``96.59 %``, ``19,658.93``, ``44``; ``n/a`` when undefined."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "n/a"
    if isinstance(value, int):
        return f"{value}{suffix}"
    return f"{value:,.{digits}f}{suffix}"


def compact_number(value: float) -> str:
    """``19658.9`` -> ``19.7k``; ``1.2e6`` -> ``1.2M``; small numbers with 2 decimals."""
    size = abs(value)
    if size >= 1e9:
        return f"{value / 1e9:.1f}B"
    if size >= 1e6:
        return f"{value / 1e6:.1f}M"
    if size >= 1e4:
        return f"{value / 1e3:.1f}k"
    if size >= 100:
        return f"{value:.0f}"
    return f"{value:.2f}"


def heat_text(value: float, metric: str) -> str:
    """A heatmap cell's value: equity compact, percentages with one decimal."""
    if metric == "final_equity":
        return compact_number(value)
    if metric.endswith("_pct"):
        return f"{value:.1f}" if abs(value) < 1000 else compact_number(value)
    return f"{value:.2f}"


def params_text(params: Mapping[str, Any], order: Sequence[str] = ()) -> str:
    """``short_period=10, long_period=30``: the names in ``order`` first (the schema's)."""
    names = [n for n in order if n in params] + [n for n in params if n not in order]
    return ", ".join(f"{n}={number_text(params[n])}" for n in names)


def param_value(value: object) -> str:
    """A parameter in the chart's header: floats in ``g`` form (``0.5``, ``1e-05``)."""
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def strategy_labels(strategy_id: str, params: Mapping[str, Any]) -> tuple[str, str]:
    """``sma_crossover(short_period=10, long_period=30)`` and, for narrow terminals,
    ``sma_crossover(10, 30)``."""
    full = ", ".join(f"{k}={param_value(v)}" for k, v in params.items())
    short = ", ".join(param_value(v) for v in params.values())
    return f"{strategy_id}({full})", f"{strategy_id}({short})"


def run_title(run: BacktestRun, tz: str = "UTC", order: Sequence[str] = ()) -> str:
    """``Run #3: sma_crossover short_period=10, long_period=30 on DEMOA 1Day, 2608 bars ...``."""
    show = time_formatter(tz, run.timeframe)
    return (
        f"Run #{run.id}: {run.strategy_id} {params_text(run.params, order)} on {run.symbol} "
        f"{run.timeframe}, {run.bar_count} bars {show(run.first_bar)} to {show(run.last_bar)}"
    )


def settings_text(run: BacktestRun) -> str:
    s = run.settings
    size = "whole shares" if s.whole_shares else "fractional"
    return (
        f"Cash {s.initial_cash:,.2f}, commission {s.commission:g}, slippage {s.slippage:g}, "
        f"size {s.position_size_pct:g} % {size}"
    )


__all__ = [
    "NONE",
    "QTY_DECIMALS",
    "age_text",
    "compact_number",
    "count_text",
    "decimal_text",
    "delta_text",
    "describe_contract",
    "describe_order",
    "dollars",
    "fit",
    "format_metric",
    "heat_text",
    "is_option_symbol",
    "iv_text",
    "money",
    "money_text",
    "number_text",
    "oi_text",
    "order_amount",
    "order_price_text",
    "param_value",
    "params_text",
    "percent",
    "price",
    "price_text",
    "px",
    "qty_text",
    "quantity",
    "run_title",
    "settings_text",
    "strategy_labels",
    "strike_text",
    "time_formatter",
    "when",
]
