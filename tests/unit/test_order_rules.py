"""Alpaca's order rules as Kash checks them before sending: each broken rule is one sentence."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal as D

import pytest

from kash_tui.domains.trading import (
    Account,
    AssetInfo,
    OrderRequest,
    OrderSide,
    OrderType,
    TimeInForce,
)
from kash_tui.domains.trading.order_rules import check_order, is_option_symbol

ACCOUNT = Account(cash=D(10_000), equity=D(10_000), buying_power=D(20_000))
AAPL = AssetInfo("AAPL", "us_equity", tradable=True, fractionable=True, shortable=True)
BRK = AssetInfo("BRK.A", "us_equity", tradable=True, fractionable=False, shortable=False)
BTC = AssetInfo("BTC/USD", "crypto", tradable=True, fractionable=True)
OPT = AssetInfo("AAPL261218C00190000", "us_option", tradable=True)


def check(request: OrderRequest, asset: AssetInfo = AAPL, *, held: str = "0",
          price: str | None = "100", account: Account = ACCOUNT, live: bool = False):
    return check_order(
        request, asset, account=account, position_qty=D(held),
        reference_price=D(price) if price is not None else None, live=live,
    )


def buy(symbol: str = "AAPL", **kw) -> OrderRequest:
    kw.setdefault("qty", D(1))
    return OrderRequest(symbol=symbol, side=OrderSide.BUY, **kw)


def sell(symbol: str = "AAPL", **kw) -> OrderRequest:
    kw.setdefault("qty", D(1))
    return OrderRequest(symbol=symbol, side=OrderSide.SELL, **kw)


def test_a_plain_market_buy_passes_and_is_estimated_at_the_last_price() -> None:
    problems, warnings, cost = check(buy(qty=D(3)))
    assert problems == ()
    assert cost == D(300)
    assert any("market price" in w for w in warnings)


def test_quantity_and_notional_are_exclusive_and_one_is_required() -> None:
    assert "Give a quantity or a notional amount, not both." in check(buy(notional=D(50)))[0]
    assert "Give a quantity or a notional amount." in check(buy(qty=None))[0]
    assert "The quantity must be greater than zero." in check(buy(qty=D(0)))[0]


@pytest.mark.parametrize(
    ("kw", "sentence"),
    [
        ({"order_type": OrderType.LIMIT}, "A limit order needs a limit price."),
        ({"order_type": OrderType.STOP}, "A stop order needs a stop price."),
        ({"order_type": OrderType.STOP_LIMIT, "stop_price": D(90)},
         "A stop-limit order needs a limit price."),
        ({"limit_price": D(90)}, "A market order takes no limit price; clear it."),
        ({"order_type": OrderType.TRAILING_STOP},
         "A trailing stop needs either a trail percent or a trail price, not both."),
        ({"order_type": OrderType.TRAILING_STOP, "trail_percent": D(1), "trail_price": D(2)},
         "A trailing stop needs either a trail percent or a trail price, not both."),
        ({"order_type": OrderType.LIMIT, "limit_price": D("189.555")},
         "The limit price 189.555 has sub-penny digits; use at most 2 decimals for prices of "
         "$1 and above."),
    ],
)
def test_prices_must_match_the_order_type(kw: dict, sentence: str) -> None:
    assert sentence in check(buy(**kw))[0]


def test_sub_dollar_prices_may_have_four_decimals() -> None:
    problems, _w, cost = check(buy(order_type=OrderType.LIMIT, limit_price=D("0.1234")))
    assert problems == ()
    assert cost == D("0.1234")


def test_notional_and_fractions_need_a_fractionable_asset() -> None:
    problems = check(buy("BRK.A", qty=None, notional=D(500)), BRK)[0]
    assert problems == (
        "BRK.A is not fractionable at Alpaca; use a whole quantity instead of a notional amount.",
    )
    problems = check(buy("BRK.A", qty=D("0.5")), BRK)[0]
    assert "fractional quantity" in problems[0]


def test_fractional_orders_are_day_only_and_not_trailing() -> None:
    problems = check(buy(qty=D("0.5"), time_in_force=TimeInForce.GTC))[0]
    assert problems == ("Fractional and notional orders must be DAY orders.",)
    problems = check(buy(qty=D("0.5"), order_type=OrderType.TRAILING_STOP, trail_percent=D(2)))[0]
    assert "Fractional and notional orders can be market, limit, stop or stop-limit only." in problems


def test_a_notional_buy_is_estimated_at_its_amount() -> None:
    problems, _w, cost = check(buy(qty=None, notional=D("250.50")))
    assert problems == ()
    assert cost == D("250.50")


def test_crypto_needs_gtc_or_ioc_and_cannot_be_shorted() -> None:
    day = buy("BTC/USD", qty=D("0.1"))
    assert check(day, BTC)[0] == ("Crypto orders must be GTC or IOC.",)
    ok = replace(day, time_in_force=TimeInForce.GTC)
    assert check(ok, BTC)[0] == ()
    short = sell("BTC/USD", qty=D("0.5"), time_in_force=TimeInForce.GTC)
    assert check(short, BTC, held="0.2")[0] == (
        "Crypto cannot be sold short: you hold 0.2 BTC/USD; sell at most that.",
    )
    assert check(short, BTC, held="0.5")[0] == ()
    notional = sell("BTC/USD", qty=None, notional=D(600), time_in_force=TimeInForce.IOC)
    assert check(notional, BTC, held="0.5", price="1000")[0] != ()  # $600 is 0.6 BTC > 0.5
    trailing = replace(ok, order_type=OrderType.TRAILING_STOP, trail_percent=D(1))
    assert "Crypto orders can be market, limit or stop-limit orders only." in check(trailing, BTC)[0]


def test_extended_hours_is_limit_day_only() -> None:
    problems = check(buy(extended_hours=True))[0]
    assert problems == ("Extended-hours orders must be limit orders with time in force DAY.",)
    ok = buy(extended_hours=True, order_type=OrderType.LIMIT, limit_price=D(100))
    assert check(ok)[0] == ()
    gtc = replace(ok, time_in_force=TimeInForce.GTC)
    assert check(gtc)[0] == ("Extended-hours orders must be limit orders with time in force DAY.",)


def test_options_trade_whole_contracts_day_only() -> None:
    symbol = OPT.symbol
    assert check(buy(symbol, qty=D(2)), OPT, price="3.10")[0] == ()
    assert check(buy(symbol, qty=D(2)), OPT, price="3.10")[2] == D("620.00")  # x100 multiplier
    problems = check(buy(symbol, qty=D("1.5"), time_in_force=TimeInForce.GTC), OPT)[0]
    assert "Options trade in whole contracts; use a whole quantity." in problems
    assert "Option orders must be DAY orders." in problems
    assert "Options trade in whole contracts; give a quantity, not a notional amount." in check(
        buy(symbol, qty=None, notional=D(100)), OPT
    )[0]


def test_short_sales_need_a_shortable_asset() -> None:
    assert check(sell("BRK.A", qty=D(2)), BRK, held="1")[0] == (
        "BRK.A cannot be sold short at Alpaca; you hold 1, sell at most that.",
    )
    problems, warnings, _ = check(sell(qty=D(5)), held="2")
    assert problems == ()
    assert "This sells 3 AAPL short." in warnings


def test_the_estimate_must_fit_the_buying_power() -> None:
    problems = check(buy(qty=D(300)), price="100")[0]
    assert problems == (
        "The estimated cost $30,000.00 is more than your buying power $20,000.00.",
    )
    # closing a position is not limited by buying power
    assert check(sell(qty=D(300)), held="300")[0] == ()


def test_unknown_price_is_a_warning_not_a_guess() -> None:
    problems, warnings, cost = check(buy(), price=None)
    assert problems == ()
    assert cost is None
    assert "No price is known for AAPL; the cost cannot be estimated." in warnings


def test_live_orders_say_so_and_blocked_accounts_cannot_trade() -> None:
    assert "This is a LIVE order: it trades real money." in check(buy(), live=True)[1]
    blocked = replace(ACCOUNT, trading_blocked=True)
    assert check(buy(), account=blocked)[0] == (
        "Trading is blocked on this account; see the broker's dashboard.",
    )
    untradable = replace(AAPL, tradable=False)
    assert check(buy(), untradable)[0] == ("AAPL is not tradable at Alpaca.",)


def test_occ_symbols_are_recognised() -> None:
    assert is_option_symbol("AAPL261218C00190000")
    assert is_option_symbol("SPY270115P00450000")
    assert not is_option_symbol("AAPL")
    assert not is_option_symbol("BTC/USD")


def test_a_ticket_keeps_its_client_order_id_and_describes_itself() -> None:
    request = buy(qty=D(10), order_type=OrderType.LIMIT, limit_price=D("189.50"))
    assert request.client_order_id.startswith("kash-")
    assert replace(request, qty=D(11)).client_order_id == request.client_order_id
    assert buy().client_order_id != buy().client_order_id
    assert request.describe() == "buy 10 AAPL limit 189.50 day"
    assert buy(qty=None, notional=D(500)).describe() == "buy $500 of AAPL at market day"


def test_crypto_prices_are_not_held_to_the_penny_and_huge_prices_do_not_crash() -> None:
    shib = AssetInfo("SHIB/USD", "crypto", tradable=True, fractionable=True)
    order = OrderRequest(symbol="SHIB/USD", side=OrderSide.BUY, qty=D(1000),
                         order_type=OrderType.LIMIT, limit_price=D("0.00002345"),
                         time_in_force=TimeInForce.GTC)
    assert check(order, shib)[0] == ()
    huge = buy(order_type=OrderType.LIMIT, limit_price=D("1e30"))
    assert "typing mistake" in check(huge)[0][0]
    dear = buy(order_type=OrderType.LIMIT, limit_price=D("9000000"))
    assert "more than your buying power" in check(dear)[0][0]


def test_crypto_is_bought_with_non_marginable_buying_power() -> None:
    account = replace(ACCOUNT, non_marginable_buying_power=D(1000))
    order = buy("BTC/USD", qty=D("0.1"), time_in_force=TimeInForce.GTC)
    assert check(order, BTC, price="60000", account=account)[0] == (
        "The estimated cost $6,000.00 is more than your non-marginable buying power $1,000.00.",
    )


# -- precision and sanity bounds -------------------------------------------------------------

BTC_STEPS = replace(BTC, min_order_size=D("0.0001"), min_trade_increment=D("0.000000001"))


@pytest.mark.parametrize(
    ("request_", "asset", "sentence"),
    [
        (buy(qty=D("1e-30")), AAPL,
         "The quantity 1E-30 has more than 9 decimals; Alpaca takes fractional shares to 9 "
         "decimals."),
        (buy(qty=D("0.0000000001")), AAPL, "has more than 9 decimals"),
        (buy("BTC/USD", qty=D("0.00010000005"), time_in_force=TimeInForce.GTC), BTC_STEPS,
         "BTC/USD trades in steps of 0.000000001; the quantity 0.00010000005 is not a whole "
         "number of them."),
        (buy("BTC/USD", qty=D("0.00005"), time_in_force=TimeInForce.GTC), BTC_STEPS,
         "The smallest BTC/USD order is 0.0001; the quantity 0.00005 is below it."),
        (buy("BTC/USD", qty=D("1e-30"), time_in_force=TimeInForce.GTC), BTC,
         "The quantity 1E-30 has more than 9 decimals; round it."),
        (buy(qty=None, notional=D("10.005")), AAPL,
         "The notional amount 10.005 has fractions of a cent; use at most 2 decimals."),
    ],
)
def test_quantities_and_amounts_have_the_brokers_precision(
    request_: OrderRequest, asset: AssetInfo, sentence: str
) -> None:
    problems, _w, _cost = check(request_, asset)
    assert any(sentence in p for p in problems), problems


def test_the_brokers_precision_passes() -> None:
    assert check(buy(qty=D("0.123456789")))[0] == ()
    assert check(buy("BTC/USD", qty=D("0.000150001"), time_in_force=TimeInForce.GTC),
                 BTC_STEPS, price="60000")[0] == ()
    assert check(buy(qty=None, notional=D("10.25")))[0] == ()


@pytest.mark.parametrize(
    ("request_", "sentence"),
    [
        (buy(qty=D("1e400")),
         "The quantity 1E+400 is more than 1,000,000,000; check it for a typing mistake."),
        (buy(qty=None, notional=D("5e12")),
         "The notional amount 5000000000000 is more than $1,000,000,000; check it"),
        (buy(order_type=OrderType.LIMIT, limit_price=D("1e400")),
         "The limit price 1E+400 is more than $10,000,000; check it for a typing mistake."),
        (sell(order_type=OrderType.TRAILING_STOP, trail_percent=D(150)),
         "The trail percent must be below 100."),
    ],
)
def test_absurd_sizes_are_refused_without_a_giant_estimate(
    request_: OrderRequest, sentence: str
) -> None:
    problems, warnings, cost = check(request_)
    assert sentence in " ".join(problems), problems
    assert cost is None
    assert all(len(text) < 200 for text in problems + warnings)


def test_a_billion_of_a_cheap_coin_is_still_an_order() -> None:
    shib = AssetInfo("SHIB/USD", "crypto", tradable=True, fractionable=True,
                     min_order_size=D(1), min_trade_increment=D(1))
    rich = Account(cash=D(10**6), equity=D(10**6), buying_power=D(10**6),
                   non_marginable_buying_power=D(10**6))
    problems, _w, cost = check(
        buy("SHIB/USD", qty=D(1_500_000_000), time_in_force=TimeInForce.GTC), shib,
        price="0.00002", account=rich,
    )
    assert problems == () and cost == D(30_000)
