"""Alpaca's order rules, checked before an order is sent, one sentence per broken rule.

The broker would reject most of these orders too, but only after a round trip and with a terse
code; checking first lets the ticket say exactly what to change, and keeps orders that Alpaca
would *accept* but the user did not mean (a short sale of crypto, an estimate beyond buying
power) from being sent at all. The rules follow Alpaca's documentation (docs/alpaca.md lists
them with the reasons):

* quantity or notional, one of them, positive; prices positive and in whole cents (four
  decimals below $1), and only the prices the order type uses;
* fractional quantities and notional amounts only for fractionable assets, with market,
  limit, stop or stop-limit orders, time in force DAY (equities);
* crypto: time in force GTC or IOC, market, limit or stop-limit orders, no extended hours,
  and no sale beyond the position held (no short selling);
* extended hours: limit orders with DAY only;
* options: whole contracts, time in force DAY, market or limit, no notional, no extended hours;
* OPG/CLS only for market or limit equity orders; trailing stops only DAY or GTC;
* equities sold beyond the position are short sales: the asset must be shortable and the
  quantity whole;
* the estimated cost of a buy (or short sale) must fit the buying power;
* precision: fractional shares to 9 decimals, crypto in whole steps of the pair's
  ``min_trade_increment`` and at least its ``min_order_size``, notional amounts in whole cents;
* sanity bounds (Kash's, not Alpaca's): a quantity, amount or price beyond them is a typing
  mistake (``1e400``), refused before any estimate is computed or printed.
"""

from __future__ import annotations

import re
from decimal import Decimal

from kash_tui.domains.trading.service import (
    Account,
    AssetInfo,
    OrderRequest,
    OrderSide,
    OrderType,
    TimeInForce,
)

OCC_SYMBOL = re.compile(r"^[A-Z]{1,6}\d{6}[CP]\d{8}$")
"""An OCC option symbol: root, yymmdd, C/P, strike x 1000 in 8 digits."""

CONTRACT_MULTIPLIER = Decimal(100)

FRACTIONAL_TYPES = frozenset({OrderType.MARKET, OrderType.LIMIT, OrderType.STOP, OrderType.STOP_LIMIT})
CRYPTO_TYPES = frozenset({OrderType.MARKET, OrderType.LIMIT, OrderType.STOP_LIMIT})
CRYPTO_TIFS = frozenset({TimeInForce.GTC, TimeInForce.IOC})
OPTION_TYPES = frozenset({OrderType.MARKET, OrderType.LIMIT})

FRACTION_DECIMALS = 9
"""Alpaca takes fractional share quantities to 9 decimals."""
NOTIONAL_DECIMALS = 2
MAX_QUANTITY = Decimal(1_000_000_000)
"""Shares or contracts; more is a typing mistake, not an order."""
MAX_CRYPTO_QUANTITY = Decimal(1_000_000_000_000)
"""Coins: a billion of a sub-cent coin is a real order, a trillion is not."""
MAX_NOTIONAL = Decimal(1_000_000_000)
MAX_PRICE = Decimal(10_000_000)


def is_option_symbol(symbol: str) -> bool:
    return bool(OCC_SYMBOL.match(symbol))


def _money(value: Decimal) -> str:
    return f"${value:,.2f}"


def _whole(value: Decimal) -> bool:
    return value == value.to_integral_value()


def _decimals(value: Decimal) -> int:
    exponent = value.normalize().as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


def _shown(value: Decimal) -> str:
    """A number as typed, short even when it is absurd (``1E+400``, ``1E-30``)."""
    return str(value) if abs(value.adjusted()) > 20 else format(value.normalize(), "f")


def _bound_problems(request: OrderRequest, asset_class: str) -> list[str]:
    """Sizes beyond any real order: checked first, and no estimate is made from them."""
    out: list[str] = []
    most = MAX_CRYPTO_QUANTITY if asset_class == "crypto" else MAX_QUANTITY
    if request.qty is not None and request.qty > most:
        out.append(
            f"The quantity {_shown(request.qty)} is more than {most:,}; check it for a typing "
            "mistake."
        )
    if request.notional is not None and request.notional > MAX_NOTIONAL:
        out.append(
            f"The notional amount {_shown(request.notional)} is more than ${MAX_NOTIONAL:,}; "
            "check it for a typing mistake."
        )
    for label, value in (("limit price", request.limit_price), ("stop price", request.stop_price),
                         ("trail price", request.trail_price)):
        if value is not None and value > MAX_PRICE:
            out.append(
                f"The {label} {_shown(value)} is more than ${MAX_PRICE:,}; check it for a "
                "typing mistake."
            )
    if request.trail_percent is not None and request.trail_percent >= 100:
        out.append("The trail percent must be below 100.")
    return out


def _precision_problems(request: OrderRequest, asset: AssetInfo) -> list[str]:
    """Digits the broker cannot take; Alpaca would round or refuse them."""
    out: list[str] = []
    qty, notional, symbol = request.qty, request.notional, asset.symbol
    if qty is not None and qty > 0:
        if asset.asset_class == "crypto":
            step, least = asset.min_trade_increment, asset.min_order_size
            if step is not None and qty % step != 0:
                out.append(
                    f"{symbol} trades in steps of {_shown(step)}; the quantity {_shown(qty)} "
                    "is not a whole number of them."
                )
            elif step is None and _decimals(qty) > FRACTION_DECIMALS:
                out.append(
                    f"The quantity {_shown(qty)} has more than {FRACTION_DECIMALS} decimals; "
                    "round it."
                )
            if least is not None and qty < least:
                out.append(
                    f"The smallest {symbol} order is {_shown(least)}; the quantity "
                    f"{_shown(qty)} is below it."
                )
        elif asset.asset_class == "us_equity" and _decimals(qty) > FRACTION_DECIMALS:
            out.append(
                f"The quantity {_shown(qty)} has more than {FRACTION_DECIMALS} decimals; Alpaca "
                f"takes fractional shares to {FRACTION_DECIMALS} decimals."
            )
    if notional is not None and notional > 0 and _decimals(notional) > NOTIONAL_DECIMALS:
        out.append(
            f"The notional amount {_shown(notional)} has fractions of a cent; use at most "
            f"{NOTIONAL_DECIMALS} decimals."
        )
    return out


def _price_problems(request: OrderRequest, asset_class: str) -> list[str]:
    t = request.order_type
    out: list[str] = []
    needs_limit = t in (OrderType.LIMIT, OrderType.STOP_LIMIT)
    needs_stop = t in (OrderType.STOP, OrderType.STOP_LIMIT)
    if needs_limit and request.limit_price is None:
        out.append(f"A {t.label} order needs a limit price.")
    if not needs_limit and request.limit_price is not None:
        out.append(f"A {t.label} order takes no limit price; clear it.")
    if needs_stop and request.stop_price is None:
        out.append(f"A {t.label} order needs a stop price.")
    if not needs_stop and request.stop_price is not None:
        out.append(f"A {t.label} order takes no stop price; clear it.")
    trails = [v for v in (request.trail_percent, request.trail_price) if v is not None]
    if t is OrderType.TRAILING_STOP:
        if len(trails) != 1:
            out.append("A trailing stop needs either a trail percent or a trail price, not both.")
    elif trails:
        out.append(f"A {t.label} order takes no trail; clear it.")
    for label, value in (
        ("limit price", request.limit_price),
        ("stop price", request.stop_price),
        ("trail price", request.trail_price),
        ("trail percent", request.trail_percent),
    ):
        if value is not None and value <= 0:
            out.append(f"The {label} must be greater than zero.")
    if asset_class == "crypto":
        return out  # crypto prices follow each pair's own increment, not the penny rule
    for label, value in (("limit price", request.limit_price), ("stop price", request.stop_price)):
        if value is None or value <= 0:
            continue
        places = 2 if value >= 1 else 4
        exponent = value.normalize().as_tuple().exponent
        if isinstance(exponent, int) and exponent < -places:
            out.append(
                f"The {label} {value} has sub-penny digits; use at most {places} decimals "
                f"for prices {'of $1 and above' if places == 2 else 'below $1'}."
            )
    return out


def check_order(
    request: OrderRequest,
    asset: AssetInfo,
    *,
    account: Account,
    position_qty: Decimal,
    reference_price: Decimal | None,
    live: bool,
) -> tuple[tuple[str, ...], tuple[str, ...], Decimal | None]:
    """Return (problems, warnings, estimated cost) for ``request`` on ``asset``.

    ``position_qty`` is the signed quantity held now (negative when short).
    """
    problems: list[str] = []
    warnings: list[str] = []
    symbol = request.symbol
    qty, notional = request.qty, request.notional
    t, tif = request.order_type, request.time_in_force
    asset_class = asset.asset_class

    if not asset.tradable:
        problems.append(f"{symbol} is not tradable at Alpaca.")
    if account.trading_blocked:
        problems.append("Trading is blocked on this account; see the broker's dashboard.")

    if qty is not None and notional is not None:
        problems.append("Give a quantity or a notional amount, not both.")
    elif qty is None and notional is None:
        problems.append("Give a quantity or a notional amount.")
    if qty is not None and qty <= 0:
        problems.append("The quantity must be greater than zero.")
    if notional is not None and notional <= 0:
        problems.append("The notional amount must be greater than zero.")
    problems.extend(_price_problems(request, asset_class))
    beyond = _bound_problems(request, asset_class)
    if beyond:  # a typing mistake: no estimate (it would print hundreds of digits), no more
        problems.extend(beyond)
        if live:
            warnings.append("This is a LIVE order: it trades real money.")
        return tuple(problems), tuple(warnings), None
    problems.extend(_precision_problems(request, asset))

    fractional = qty is not None and qty > 0 and not _whole(qty)
    if asset_class == "us_option":
        if notional is not None:
            problems.append("Options trade in whole contracts; give a quantity, not a notional amount.")
        if fractional:
            problems.append("Options trade in whole contracts; use a whole quantity.")
        if tif is not TimeInForce.DAY:
            problems.append("Option orders must be DAY orders.")
        if t not in OPTION_TYPES:
            problems.append("Option orders can be market or limit orders only.")
        if request.extended_hours:
            problems.append("Options do not trade in extended hours.")
    elif asset_class == "crypto":
        if tif not in CRYPTO_TIFS:
            problems.append("Crypto orders must be GTC or IOC.")
        if t not in CRYPTO_TYPES:
            problems.append("Crypto orders can be market, limit or stop-limit orders only.")
        if request.extended_hours:
            problems.append("Crypto trades around the clock; extended hours does not apply.")
        if request.side is OrderSide.SELL:
            held = max(position_qty, Decimal(0))
            if notional is not None and reference_price:
                selling = notional / reference_price
            else:
                selling = qty
            if selling is not None and selling > held:
                problems.append(
                    f"Crypto cannot be sold short: you hold {held.normalize():f} {symbol}; "
                    "sell at most that."
                )
    else:  # us_equity
        if (fractional or notional is not None) and not asset.fractionable:
            what = "a notional amount" if notional is not None else "a fractional quantity"
            problems.append(f"{symbol} is not fractionable at Alpaca; use a whole quantity instead of {what}.")
        elif fractional or notional is not None:
            if t not in FRACTIONAL_TYPES:
                problems.append(
                    "Fractional and notional orders can be market, limit, stop or stop-limit only."
                )
            if tif is not TimeInForce.DAY:
                problems.append("Fractional and notional orders must be DAY orders.")
        if request.extended_hours and (t is not OrderType.LIMIT or tif is not TimeInForce.DAY):
            problems.append("Extended-hours orders must be limit orders with time in force DAY.")
        if tif in (TimeInForce.OPG, TimeInForce.CLS) and t not in (OrderType.MARKET, OrderType.LIMIT):
            problems.append("Opening and closing auction orders (OPG/CLS) must be market or limit.")
        if t is OrderType.TRAILING_STOP and tif not in (TimeInForce.DAY, TimeInForce.GTC):
            problems.append("Trailing stops must be DAY or GTC.")
        if request.side is OrderSide.SELL and qty is not None and qty > max(position_qty, Decimal(0)):
            short = qty - max(position_qty, Decimal(0))
            if not asset.shortable:
                problems.append(
                    f"{symbol} cannot be sold short at Alpaca; you hold "
                    f"{max(position_qty, Decimal(0)).normalize():f}, sell at most that."
                )
            elif fractional:
                problems.append("Short sales must be whole shares.")
            else:
                warnings.append(f"This sells {short.normalize():f} {symbol} short.")

    price = request.limit_price or request.stop_price or reference_price
    estimated: Decimal | None = None
    if notional is not None and notional > 0:
        estimated = notional
    elif qty is not None and qty > 0 and price is not None:
        estimated = qty * price * (CONTRACT_MULTIPLIER if asset_class == "us_option" else 1)
    if estimated is None:
        warnings.append(f"No price is known for {symbol}; the cost cannot be estimated.")
    else:
        opens = request.side is OrderSide.BUY or (
            qty is not None and qty > max(position_qty, Decimal(0))
        )
        power, which = account.buying_power, "buying power"
        if asset_class == "crypto" and account.non_marginable_buying_power is not None:
            power, which = account.non_marginable_buying_power, "non-marginable buying power"
        elif asset_class == "us_option" and account.options_buying_power is not None:
            power, which = account.options_buying_power, "options buying power"
        if opens and estimated > power:
            problems.append(
                f"The estimated cost {_money(estimated)} is more than your {which} "
                f"{_money(power)}."
            )
    if t is OrderType.MARKET and request.side is OrderSide.BUY and estimated is not None:
        warnings.append("A market order fills at the market price, which can differ from the estimate.")
    if account.pattern_day_trader and account.equity < 25000 and asset_class != "crypto":
        warnings.append(
            "The account is flagged as a pattern day trader with equity under $25,000; "
            "Alpaca may refuse day trades."
        )
    if live:
        warnings.append("This is a LIVE order: it trades real money.")
    return tuple(problems), tuple(warnings), estimated
