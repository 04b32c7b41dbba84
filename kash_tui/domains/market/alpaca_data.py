"""Every alpaca-py call of the market domain: bars, the asset list, option contracts and
snapshots, the latest trade, and the minute-bar stream.

Kept in one private module so the rest of the domain deals in numpy arrays and small records,
never in alpaca-py models, and so every request passes through
:func:`~kash_tui.domains.connection.alpaca.broker_call` (one :class:`BrokerError` sentence for
any failure, the secret scrubbed out) on a client built by
:class:`~kash_tui.domains.connection.alpaca.AlpacaSession` (timeout, shared rate budget).

Replies are parsed *inside* ``broker_call``: a reply with a missing field is a broker failure
("Alpaca sent a reply Kash could not read"), not a crash further up.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import numpy as np

from kash_tui.domains.connection import BrokerError
from kash_tui.domains.connection.alpaca import AlpacaSession, broker_call
from kash_tui.domains.market.bar_checks import bar_problems, time_text
from kash_tui.domains.market.service import AssetClass, OptionType, Timeframe

log = logging.getLogger("kash.market.alpaca")

MAX_CONTRACT_PAGES = 200
"""A broker that keeps sending page tokens must not keep Kash paging forever."""

_TIMEFRAMES: dict[Timeframe, tuple[int, str]] = {
    Timeframe.MIN_1: (1, "Min"),
    Timeframe.MIN_5: (5, "Min"),
    Timeframe.MIN_15: (15, "Min"),
    Timeframe.MIN_30: (30, "Min"),
    Timeframe.HOUR_1: (1, "Hour"),
    Timeframe.HOUR_4: (4, "Hour"),
    Timeframe.DAY_1: (1, "Day"),
    Timeframe.WEEK_1: (1, "Week"),
}


def alpaca_timeframe(timeframe: Timeframe):  # noqa: ANN201 - alpaca.data.timeframe.TimeFrame
    """Kash's timeframe as alpaca-py's ``TimeFrame(amount, unit)``."""
    from alpaca.data.timeframe import TimeFrame, TimeFrameUnit

    amount, unit = _TIMEFRAMES[Timeframe(timeframe)]
    return TimeFrame(amount, TimeFrameUnit(unit))


# -- records handed to the service -----------------------------------------------------------


@dataclass(frozen=True, eq=False)
class FetchedBars:
    """Bars of one symbol from every page, oldest first; ``ts`` in seconds since the epoch."""

    ts: np.ndarray
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray
    pages: int

    def __len__(self) -> int:
        return int(self.ts.shape[0])


@dataclass(frozen=True)
class AssetRecord:
    symbol: str
    name: str
    asset_class: AssetClass
    exchange: str
    tradable: bool
    fractionable: bool


@dataclass(frozen=True)
class ContractRecord:
    symbol: str
    underlying: str
    expiration: date
    strike: Decimal
    type: OptionType
    open_interest: int | None


@dataclass(frozen=True)
class SnapshotRecord:
    bid: Decimal | None
    ask: Decimal | None
    last: Decimal | None
    implied_volatility: float | None
    delta: float | None


def _decimal(value: float | str | None) -> Decimal | None:
    if value is None:
        return None
    try:
        number = Decimal(str(value))
    except ArithmeticError:
        return None
    return number if number.is_finite() else None


def _strike(value: float | str) -> Decimal:
    """A strike as written on the contract: ``190``, ``192.5`` (no float noise, no ``.0``)."""
    number = (_decimal(value) or Decimal(0)).normalize()
    return number.quantize(Decimal(1)) if number == number.to_integral_value() else number


def _float(value: float | None) -> float | None:
    if value is None:
        return None
    number = float(value)
    return number if np.isfinite(number) else None


def _int(value: str | int | None) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(Decimal(str(value)))
    except ArithmeticError:
        return None


def refuse_bad_bars(
    symbol: str, timeframe: Timeframe, ts: np.ndarray, cols: dict[str, np.ndarray]
) -> None:
    """Bars from Alpaca pass the checks CSV rows pass (:func:`bar_problems`); one bad bar
    refuses the whole reply, so nothing of it is stored."""
    found = bar_problems(cols["open"], cols["high"], cols["low"], cols["close"], cols["volume"],
                         ts)
    if not found:
        return
    i = min(found)
    more = f" (and {len(found) - 1} more bad bars)" if len(found) > 1 else ""
    raise BrokerError(
        f"Alpaca sent a {Timeframe(timeframe).value} bar of {symbol} at {time_text(int(ts[i]))} "
        f"UTC that Kash cannot use: {found[i]}{more}; nothing was stored.",
        kind="malformed",
    )


# -- the client wrapper ----------------------------------------------------------------------

PageCallback = Callable[[int, int, "datetime | None"], None]
"""Called after each page with (pages so far, bars so far, time of the page's last bar)."""


class AlpacaMarketData:
    """Market data calls for one connection (one :class:`AlpacaSession`)."""

    def __init__(self, session: AlpacaSession) -> None:
        self.session = session

    @property
    def connection_name(self) -> str:
        return self.session.connection.name

    def _call(self, action: str, fn: Callable[..., Any], *args: Any) -> Any:
        return broker_call(action, fn, *args, credentials=self.session.credentials)

    # -- bars ---------------------------------------------------------------------------------

    def bars(
        self,
        symbol: str,
        asset_class: AssetClass,
        timeframe: Timeframe,
        start: datetime,
        end: datetime | None,
        *,
        on_page: PageCallback | None = None,
    ) -> FetchedBars:
        """Every bar from ``start`` to ``end`` (None: now); alpaca-py follows
        ``next_page_token`` itself, so a failing page fails the whole call."""
        if asset_class is AssetClass.CRYPTO:
            client = self.session.crypto_data_client()
        elif asset_class is AssetClass.US_OPTION:
            client = self.session.option_data_client()
        else:
            client = self.session.stock_data_client()
        counter = _PageCounter(client, on_page)
        action = f"fetching {timeframe.value} bars of {symbol}"
        return self._call(action, self._bars, client, counter, symbol, asset_class, timeframe,
                          start, end, self.session.feed)

    @staticmethod
    def _bars(
        client: Any,
        counter: _PageCounter,
        symbol: str,
        asset_class: AssetClass,
        timeframe: Timeframe,
        start: datetime,
        end: datetime | None,
        feed: Any,
    ) -> FetchedBars:
        from alpaca.data.requests import CryptoBarsRequest, OptionBarsRequest, StockBarsRequest

        common: dict[str, Any] = {
            "symbol_or_symbols": symbol,
            "timeframe": alpaca_timeframe(timeframe),
            "start": start,
        }
        if end is not None:
            common["end"] = end
        if asset_class is AssetClass.CRYPTO:
            barset = client.get_crypto_bars(CryptoBarsRequest(**common))
        elif asset_class is AssetClass.US_OPTION:
            barset = client.get_option_bars(OptionBarsRequest(**common))
        else:
            barset = client.get_stock_bars(StockBarsRequest(**common, feed=feed))
        items = barset.data.get(symbol, [])
        n = len(items)
        ts = np.fromiter((int(b.timestamp.timestamp()) for b in items), dtype=np.int64, count=n)
        cols = {
            name: np.fromiter((float(getattr(b, name)) for b in items), dtype=np.float64, count=n)
            for name in ("open", "high", "low", "close", "volume")
        }
        order = np.argsort(ts, kind="stable")
        if n and not np.all(order == np.arange(n)):
            ts = ts[order]
            cols = {k: v[order] for k, v in cols.items()}
        if n > 1:  # the same bar twice (overlapping pages): keep the last one sent
            keep = np.append(ts[1:] != ts[:-1], True)
            if not keep.all():
                ts = ts[keep]
                cols = {k: v[keep] for k, v in cols.items()}
        refuse_bad_bars(symbol, timeframe, ts, cols)
        return FetchedBars(ts=ts, pages=counter.pages, **cols)

    # -- assets -------------------------------------------------------------------------------

    def assets(self, asset_class: AssetClass) -> list[AssetRecord]:
        """The broker's active assets of one class (us_equity or crypto)."""
        client = self.session.trading_client()
        what = "equities" if asset_class is AssetClass.US_EQUITY else "crypto pairs"
        return self._call(f"listing Alpaca's {what}", self._assets, client, asset_class)

    @staticmethod
    def _assets(client: Any, asset_class: AssetClass) -> list[AssetRecord]:
        from alpaca.trading.enums import AssetClass as AlpacaAssetClass
        from alpaca.trading.enums import AssetStatus
        from alpaca.trading.requests import GetAssetsRequest

        request = GetAssetsRequest(
            status=AssetStatus.ACTIVE, asset_class=AlpacaAssetClass(asset_class.value)
        )
        found: list[AssetRecord] = []
        for a in client.get_all_assets(request):
            exchange = getattr(a.exchange, "value", a.exchange)
            found.append(AssetRecord(
                symbol=str(a.symbol).upper(),
                name=(a.name or "")[:200],
                asset_class=AssetClass(getattr(a.asset_class, "value", a.asset_class)),
                exchange=str(exchange or "")[:32],
                tradable=bool(a.tradable),
                fractionable=bool(a.fractionable),
            ))
        return found

    # -- options ------------------------------------------------------------------------------

    def option_contracts(
        self,
        underlying: str,
        *,
        expiration: date | None = None,
        start: date | None = None,
        end: date | None = None,
    ) -> list[ContractRecord]:
        """Active contracts of ``underlying`` (all pages), for one expiration or a range."""
        client = self.session.trading_client()
        return self._call(
            f"listing the option contracts of {underlying}", self._contracts, client,
            underlying, expiration, start, end,
        )

    @staticmethod
    def _contracts(
        client: Any, underlying: str, expiration: date | None, start: date | None,
        end: date | None,
    ) -> list[ContractRecord]:
        from alpaca.trading.requests import GetOptionContractsRequest

        found: list[ContractRecord] = []
        token: str | None = None
        seen: set[str] = set()
        for _page in range(MAX_CONTRACT_PAGES):
            response = client.get_option_contracts(GetOptionContractsRequest(
                underlying_symbols=[underlying],
                expiration_date=expiration,
                expiration_date_gte=start,
                expiration_date_lte=end,
                limit=10_000,
                page_token=token,
            ))
            for c in response.option_contracts or []:
                found.append(ContractRecord(
                    symbol=c.symbol,
                    underlying=c.underlying_symbol,
                    expiration=c.expiration_date,
                    strike=_strike(c.strike_price),
                    type=OptionType(getattr(c.type, "value", c.type)),
                    open_interest=_int(c.open_interest),
                ))
            token = response.next_page_token
            if not token or token in seen:
                break
            seen.add(token)
        return found

    def latest_price(self, symbol: str) -> Decimal | None:
        """The last trade of a stock (on the connection's feed), or None when there is none."""
        client = self.session.stock_data_client()
        return self._call(f"reading the last trade of {symbol}", self._latest, client, symbol,
                          self.session.feed)

    @staticmethod
    def _latest(client: Any, symbol: str, feed: Any) -> Decimal | None:
        from alpaca.data.requests import StockLatestTradeRequest

        trades = client.get_stock_latest_trade(
            StockLatestTradeRequest(symbol_or_symbols=symbol, feed=feed)
        )
        trade = trades.get(symbol)
        return _decimal(trade.price) if trade is not None else None

    def option_snapshots(
        self,
        underlying: str,
        expiration: date,
        *,
        strike_low: Decimal | None = None,
        strike_high: Decimal | None = None,
    ) -> dict[str, SnapshotRecord]:
        """Quotes, last trades, IV and greeks of one expiration's contracts, by OCC symbol."""
        client = self.session.option_data_client()
        return self._call(
            f"reading the option chain of {underlying}", self._snapshots, client, underlying,
            expiration, strike_low, strike_high,
        )

    @staticmethod
    def _snapshots(
        client: Any, underlying: str, expiration: date, low: Decimal | None,
        high: Decimal | None,
    ) -> dict[str, SnapshotRecord]:
        from alpaca.data.requests import OptionChainRequest

        request = OptionChainRequest(
            underlying_symbol=underlying,
            expiration_date=expiration,
            strike_price_gte=float(low) if low is not None else None,
            strike_price_lte=float(high) if high is not None else None,
        )
        found: dict[str, SnapshotRecord] = {}
        for symbol, snap in client.get_option_chain(request).items():
            quote, trade, greeks = snap.latest_quote, snap.latest_trade, snap.greeks
            found[symbol] = SnapshotRecord(
                bid=_decimal(quote.bid_price) if quote is not None else None,
                ask=_decimal(quote.ask_price) if quote is not None else None,
                last=_decimal(trade.price) if trade is not None else None,
                implied_volatility=_float(snap.implied_volatility),
                delta=_float(greeks.delta) if greeks is not None else None,
            )
        return found

    # -- streaming ----------------------------------------------------------------------------

    def bar_stream(
        self, symbol: str, asset_class: AssetClass, on_bar: Callable[[], None]
    ) -> BarStream | None:
        """A minute-bar stream of ``symbol`` (not started), or None when Alpaca has none for
        its asset class (option bars are polled)."""
        if asset_class is AssetClass.US_OPTION:
            return None
        return BarStream(self.session, symbol, asset_class, on_bar)


class _PageCounter:
    """Counts the market data pages alpaca-py requests (it follows ``next_page_token`` inside
    one call), so the caller can show progress and report how many pages arrived."""

    def __init__(self, client: Any, on_page: PageCallback | None) -> None:
        self.pages = 0
        self.bars = 0
        self._on_page = on_page
        original = client.get

        def get(*args: Any, **kwargs: Any) -> Any:
            response = original(*args, **kwargs)
            self.pages += 1
            last: datetime | None = None
            try:
                for items in (response.get("bars") or {}).values():
                    self.bars += len(items)
                    if items:
                        last = datetime.fromisoformat(str(items[-1]["t"]).replace("Z", "+00:00"))
            except (AttributeError, TypeError, KeyError, ValueError):
                pass  # not a bars reply, or a malformed one: parsing will say so
            if self._on_page is not None:
                self._on_page(self.pages, self.bars, last)
            return response

        client.get = get  # this client instance only: it is built for this one call


# -- the stream ------------------------------------------------------------------------------


class BarStream:
    """alpaca-py's StockDataStream / CryptoDataStream on a daemon thread, subscribed to the
    minute bars of one symbol; ``on_bar()`` is called (on that thread) for each bar.

    alpaca-py runs its own asyncio loop in ``run()`` and reconnects by itself; :meth:`stop`
    asks that loop to stop *and* closes the socket, because alpaca-py alone only notices a stop
    between receives (up to five seconds later).
    """

    def __init__(
        self, session: AlpacaSession, symbol: str, asset_class: AssetClass,
        on_bar: Callable[[], None],
    ) -> None:
        self.symbol = symbol
        self._on_bar = on_bar
        self._thread: threading.Thread | None = None
        params = {"ping_interval": 10, "ping_timeout": 20, "max_queue": 1024,
                  "open_timeout": max(session.timeout, 1.0), "close_timeout": 1}
        if asset_class is AssetClass.CRYPTO:
            from alpaca.data.live.crypto import CryptoDataStream

            self._stream = CryptoDataStream(
                session.credentials.key_id, session.credentials.secret_key,
                url_override=session.market_stream_url("/v1beta3/crypto/us"),
                websocket_params=params,
            )
        else:
            from alpaca.data.live.stock import StockDataStream

            self._stream = StockDataStream(
                session.credentials.key_id, session.credentials.secret_key,
                feed=session.feed,
                url_override=session.market_stream_url(f"/v2/{session.feed.value}"),
                websocket_params=params,
            )
        self._stream._reconnect_max_backoff = 10.0  # noqa: SLF001 - come back soon after a drop
        self._stream.subscribe_bars(self._handle, symbol)
        self.connects = 0
        """Times the stream connected and subscribed; above 1 it reconnected after a drop."""
        subscribe = self._stream._send_subscribe_msg  # noqa: SLF001

        async def subscribed() -> None:
            await subscribe()
            self.connects += 1

        # alpaca-py reconnects inside its own loop and says nothing: count each subscription
        self._stream._send_subscribe_msg = subscribed  # noqa: SLF001

    async def _handle(self, _bar: object) -> None:
        try:
            self._on_bar()
        except Exception:  # noqa: BLE001 - a failing callback must not end the stream
            log.exception("bar handler failed for %s", self.symbol)

    @property
    def connected(self) -> bool:
        """Connected, authenticated and subscribed (alpaca-py's own flag)."""
        return bool(self._stream._running)  # noqa: SLF001

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self._run, name=f"kash-bars-stream-{self.symbol}", daemon=True
        )
        self._thread.start()

    def _run(self) -> None:
        try:
            asyncio.run(self._stream._run_forever())  # noqa: SLF001 - run() without its stop()
        except Exception:  # noqa: BLE001 - the watcher falls back to polling
            log.exception("bar stream for %s ended", self.symbol)

    def stop(self, timeout: float = 3.0) -> None:
        thread = self._thread
        if thread is None:
            return
        stream = self._stream
        # the loop is set as soon as the thread runs; wait for it so the stop is not lost
        deadline = threading.Event()
        for _ in range(50):
            if stream._loop is not None or not thread.is_alive():  # noqa: SLF001
                break
            deadline.wait(0.02)
        loop = stream._loop  # noqa: SLF001
        if loop is not None and thread.is_alive():
            async def halt() -> None:
                await stream.stop_ws()
                ws = stream._ws  # noqa: SLF001
                if ws is not None:
                    await ws.close()

            try:
                asyncio.run_coroutine_threadsafe(halt(), loop).result(timeout=timeout)
            except Exception:  # noqa: BLE001 - the loop may have ended meanwhile
                log.debug("stopping the bar stream of %s", self.symbol, exc_info=True)
        thread.join(timeout)
        if thread.is_alive():
            log.warning("the bar stream of %s did not stop in %.0f s", self.symbol, timeout)
        self._thread = None

