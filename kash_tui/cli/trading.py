"""``kash account | positions | orders | fills | order submit | order cancel | position close``.

Every command works on one portfolio (``--portfolio NAME``, optional when there is only one
PAPER/LIVE portfolio) through ``TradingService.resolve_trading_adapter``: the CLI never knows
which broker is behind it. Orders are previewed and checked against the broker's rules before
anything is sent; paper orders are confirmed at a prompt (or with ``--yes``), live orders need
``--confirm-live`` as well.
"""

from __future__ import annotations

import argparse
import sys
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from kash_tui.cli.common import EXIT_OK, UserError, build_provider, print_json, print_table

if TYPE_CHECKING:
    from kash_tui.domains.trading import OrderPreview, TradingAdapter
    from kash_tui.domains.workspace import Portfolio
    from kash_tui.provider import ServiceProvider


def _money(value: Decimal | None) -> str:
    return "" if value is None else f"{value:,.2f}"


def _num(value: Decimal | None) -> str:
    return "" if value is None else f"{value.normalize():f}"


def _decimal(label: str, text: str | None, *, positive: bool = True) -> Decimal | None:
    if text is None:
        return None
    try:
        value = Decimal(text.strip().replace(",", "").lstrip("$"))
    except InvalidOperation:
        raise UserError(f"{label} {text!r} is not a number; give one like 10 or 189.50.") from None
    if not value.is_finite() or (positive and value <= 0):
        raise UserError(f"{label} must be a number greater than zero, not {text!r}.")
    return value


def _portfolio(kash: ServiceProvider, args: argparse.Namespace) -> Portfolio:
    from kash_tui.domains.workspace import PortfolioMode

    if args.portfolio:
        return kash.workspace.find_portfolio(args.portfolio, args.workspace)
    brokered = [
        p for p in kash.workspace.list_portfolios(args.workspace)
        if p.mode is not PortfolioMode.BACKTEST
    ]
    if len(brokered) == 1:
        return brokered[0]
    if not brokered:
        raise UserError(
            "There is no PAPER or LIVE portfolio yet; create one with `kash portfolio create "
            "NAME --workspace W --mode paper --connection CONN` (see docs/alpaca.md)."
        )
    names = ", ".join(repr(p.name) for p in brokered)
    raise UserError(f"There are several broker portfolios ({names}); choose one with --portfolio.")


def _adapter(args: argparse.Namespace) -> tuple[ServiceProvider, Portfolio, TradingAdapter]:
    kash = build_provider(args)
    folio = _portfolio(kash, args)
    return kash, folio, kash.trading.resolve_trading_adapter(folio.id)


# -- reading -------------------------------------------------------------------------------------


def cmd_account(args: argparse.Namespace) -> int:
    _kash, folio, adapter = _adapter(args)
    account = adapter.get_account()
    if args.json:
        print_json({"portfolio": folio.name, "mode": adapter.mode, **_as_dict(account)})
        return EXIT_OK
    print(f"{folio.name} ({adapter.mode}, {adapter.connection().name})")
    rows = [
        ("Cash", _money(account.cash)),
        ("Equity", _money(account.equity)),
        ("Buying power", _money(account.buying_power)),
    ]
    if account.status:
        rows.append(("Status", account.status))
    if account.daytrade_count is not None:
        rows.append(("Day trades (5 days)", str(account.daytrade_count)))
    if account.pattern_day_trader:
        rows.append(("Pattern day trader", "yes"))
    width = max(len(k) for k, _v in rows)
    for key, value in rows:
        print(f"  {key.ljust(width)}  {value}")
    return EXIT_OK


def _as_dict(value: Any) -> dict[str, Any]:
    from dataclasses import asdict

    return asdict(value)


def cmd_positions(args: argparse.Namespace) -> int:
    _kash, _folio, adapter = _adapter(args)
    positions = adapter.get_positions()
    if args.json:
        print_json(positions)
        return EXIT_OK
    print_table(
        ["SYMBOL", "QTY", "AVG PRICE", "PRICE", "VALUE", "UNREALIZED P/L"],
        [
            (p.symbol, _num(p.qty), _money(p.avg_entry_price), _money(p.current_price),
             _money(p.market_value), _money(p.unrealized_pl))
            for p in positions
        ],
        "No open positions.",
    )
    return EXIT_OK


def _order_amount(o: Any) -> str:
    if o.qty is not None:
        return _num(o.qty)
    return f"${_money(o.notional)}" if o.notional is not None else ""


def _order_price(o: Any) -> str:
    parts = []
    if o.limit_price is not None:
        parts.append(f"limit {_money(o.limit_price)}")
    if o.stop_price is not None:
        parts.append(f"stop {_money(o.stop_price)}")
    if o.trail_percent is not None:
        parts.append(f"trail {_num(o.trail_percent)}%")
    if o.trail_price is not None:
        parts.append(f"trail {_money(o.trail_price)}")
    return " ".join(parts)


def cmd_orders(args: argparse.Namespace) -> int:
    _kash, _folio, adapter = _adapter(args)
    orders = adapter.get_orders(args.status)
    if args.json:
        print_json(orders)
        return EXIT_OK
    print_table(
        ["ID", "SUBMITTED", "SYMBOL", "SIDE", "QTY", "TYPE", "PRICES", "TIF", "STATUS", "FILLED"],
        [
            (o.id, o.submitted_at.strftime("%Y-%m-%d %H:%M"), o.symbol, o.side.value,
             _order_amount(o), o.order_type, _order_price(o), o.time_in_force, o.status,
             f"{_num(o.filled_qty)} @ {_money(o.filled_avg_price)}" if o.filled_avg_price else "")
            for o in orders
        ],
        f"No {args.status if args.status != 'all' else ''} orders.".replace("  ", " "),
    )
    return EXIT_OK


def cmd_fills(args: argparse.Namespace) -> int:
    if args.limit < 0:
        raise UserError("--limit must be 0 (all fills) or more.")
    _kash, _folio, adapter = _adapter(args)
    if args.limit:
        trades = adapter.get_trades(limit=args.limit + 1)  # one more: do more exist?
        more, trades = len(trades) > args.limit, trades[:args.limit]
    else:
        trades, more = adapter.get_trades(), False
    if more:
        sys.stderr.write(
            f"kash: showing the newest {args.limit:,} fills; more exist (--limit N for more, "
            "--limit 0 for all).\n"
        )
    if args.json:
        print_json(trades)
        return EXIT_OK
    print_table(
        ["TIME", "SYMBOL", "SIDE", "QTY", "PRICE", "ORDER"],
        [
            (t.time.strftime("%Y-%m-%d %H:%M:%S"), t.symbol, t.side.value, _num(t.qty),
             _money(t.price), t.order_id)
            for t in trades
        ],
        "No fills.",
    )
    return EXIT_OK


# -- changing --------------------------------------------------------------------------------------


def _request(args: argparse.Namespace) -> Any:
    from kash_tui.domains.trading import OrderRequest, OrderSide, OrderType, TimeInForce

    qty = _decimal("--qty", args.qty)
    notional = _decimal("--notional", args.notional)
    if (qty is None) == (notional is None):
        raise UserError("Give either --qty or --notional (one of them).")
    order_type = OrderType(args.type)
    kwargs: dict[str, Any] = {
        "symbol": args.symbol.strip().upper(),
        "side": OrderSide(args.side),
        "qty": qty,
        "notional": notional,
        "order_type": order_type,
        "limit_price": _decimal("--limit-price", args.limit_price),
        "stop_price": _decimal("--stop-price", args.stop_price),
        "trail_percent": _decimal("--trail-percent", args.trail_percent),
        "trail_price": _decimal("--trail-price", args.trail_price),
        "time_in_force": TimeInForce(args.tif),
        "extended_hours": args.extended_hours,
    }
    if not kwargs["symbol"]:
        raise UserError("--symbol is empty; give a symbol like AAPL or BTC/USD.")
    if args.client_order_id:
        cid = args.client_order_id.strip()
        if not cid or len(cid) > 48:
            raise UserError("--client-order-id must be 1 to 48 characters.")
        kwargs["client_order_id"] = cid
    return OrderRequest(**kwargs)


def _print_preview(preview: OrderPreview, out: Any) -> None:
    req = preview.request
    mode = "LIVE" if preview.live else "paper"
    out.write(f"{mode} order: {req.describe()}\n")
    if preview.reference_price is not None:
        source = f" ({preview.price_source})" if preview.price_source else ""
        out.write(f"  reference price   {_money(preview.reference_price)}{source}\n")
    if preview.estimated_cost is not None:
        out.write(f"  estimated cost    {_money(preview.estimated_cost)}\n")
    out.write(f"  buying power      {_money(preview.buying_power)}\n")
    if preview.position_qty:
        out.write(f"  position now      {_num(preview.position_qty)}\n")
    for w in preview.warnings:
        out.write(f"  note: {w}\n")
    for p in preview.problems:
        out.write(f"  problem: {p}\n")


def _confirm(prompt: str, *, json_mode: bool = False) -> bool:
    """Ask on the terminal; the prompt goes with the preview (stdout), or stderr under --json."""
    if not sys.stdin or not sys.stdin.readable():
        return False
    out = sys.stderr if json_mode else sys.stdout
    out.write(prompt)
    out.flush()
    try:
        answer = sys.stdin.readline()
    except (OSError, ValueError):
        return False
    return answer.strip().lower() in ("y", "yes")


def _resume(adapter: Any, request: Any, args: argparse.Namespace) -> Any:
    """Take up an earlier run of this very order whose outcome nobody knows (Ctrl-C while
    sending, a timeout): the same client order id, so the broker is asked before anything is
    sent and the order is placed at most once. Only such a ticket matches: an identical order
    whose outcome is known is a new order, and --new-order forces one."""
    if args.client_order_id or args.new_order:
        return request
    earlier = adapter.unresolved_ticket(request)
    if earlier is None:
        return request
    from dataclasses import replace

    sys.stderr.write(
        f"kash: an earlier run of this order ({earlier.created_at:%Y-%m-%d %H:%M} UTC, client "
        f"order id {earlier.client_order_id}) never learned whether Alpaca got it; this run "
        "asks Alpaca first and sends it only if Alpaca does not have it. For a second, "
        "separate order add --new-order.\n"
    )
    return replace(request, client_order_id=earlier.client_order_id)


def cmd_order_submit(args: argparse.Namespace) -> int:
    request = _request(args)
    _kash, folio, adapter = _adapter(args)
    request = _resume(adapter, request, args)
    preview = adapter.preview_order(request)
    if not args.json:
        _print_preview(preview, sys.stdout)
        sys.stdout.flush()
    if preview.problems:
        raise UserError("The order was not sent: " + " ".join(preview.problems))
    if preview.live and not args.confirm_live:
        raise UserError(
            f"Portfolio {folio.name!r} trades LIVE money; add --confirm-live (and --yes) to "
            "send this order."
        )
    if not args.yes and not _confirm("Send this order? [y/N] ", json_mode=args.json):
        raise UserError("The order was not sent (not confirmed); add --yes to send without the prompt.")
    from kash_tui.domains.connection import BrokerError

    client_id = preview.request.client_order_id
    try:
        order = adapter.submit_order(preview.request, confirm_live=bool(args.confirm_live))
    except KeyboardInterrupt:
        sys.stderr.write(
            f"kash: interrupted while sending; the order may or may not have reached Alpaca "
            f"(client order id {client_id}). Check with `kash orders --status all`; running "
            "the same command again asks Alpaca first and never places it twice.\n"
        )
        return 130
    except BrokerError as exc:
        if exc.outcome_unknown and not args.client_order_id:
            raise UserError(
                f"{exc} To retry without risking a second order, run the same command with "
                f"--client-order-id {preview.request.client_order_id}."
            ) from None
        raise
    if args.json:
        print_json(order)
    else:
        print(f"Sent: order {order.id}, status {order.status} ({order.side.value} "
              f"{_order_amount(order)} {order.symbol}, client id {order.client_order_id}).")
    return EXIT_OK


def cmd_order_cancel(args: argparse.Namespace) -> int:
    _kash, _folio, adapter = _adapter(args)
    adapter.cancel_order(args.id)
    if args.json:
        print_json({"id": args.id, "cancel_requested": True})
    else:
        print(f"Cancel requested for order {args.id}.")
    return EXIT_OK


def cmd_position_close(args: argparse.Namespace) -> int:
    _kash, folio, adapter = _adapter(args)
    live = adapter.capabilities.live
    if live and not args.confirm_live:
        raise UserError(
            f"Portfolio {folio.name!r} trades LIVE money; add --confirm-live (and --yes) to "
            "close the position."
        )
    symbol = args.symbol.strip().upper()
    if not args.yes and not _confirm(
        f"Close the whole {symbol} position at market? [y/N] ", json_mode=args.json
    ):
        raise UserError("The position was not closed (not confirmed); add --yes to skip the prompt.")
    order = adapter.close_position(symbol, confirm_live=bool(args.confirm_live))
    if args.json:
        print_json(order)
    else:
        print(f"Closing {symbol}: order {order.id} {order.status}.")
    return EXIT_OK
