"""The trading service on SQLite and PostgreSQL: stored backtest runs, hand-checked fills,
portfolios, all-or-nothing storage, the backtest trading adapter, sweeps and determinism."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import sqlalchemy as sa

from kash_tui.config import Settings
from kash_tui.domains.connection import NewConnection
from kash_tui.domains.market import AssetClass, BarSeries, MarketError, NoBarsError, Timeframe
from kash_tui.domains.strategy import StrategyError
from kash_tui.domains.connection import BrokerConnectionError
from kash_tui.domains.trading import (
    BacktestError,
    BacktestReport,
    BacktestRequest,
    BacktestSettings,
    FillModel,
    OrderSide,
    TradingError,
)
from kash_tui.domains.trading import MAX_SWEEP_COMBINATIONS, create_trading_service
from kash_tui.domains.trading.engine import run_backtest as run_engine
from kash_tui.domains.trading.executor import LocalExecutor
from kash_tui.domains.workspace import PortfolioMode
from kash_tui.provider import ServiceProvider

REL = 1e-9
TABLES = ("backtest_runs", "backtest_positions")  # fills and orders are packed in the run row


# -- fixtures and helpers --------------------------------------------------------------------


def _provider(url: str) -> ServiceProvider:
    provider = ServiceProvider(Settings(database_url=url))
    provider.prepare()
    return provider


@pytest.fixture
def kash(db_url: str) -> Iterator[ServiceProvider]:
    """A prepared provider with the demo data (DEMOA 1Day etc.)."""
    provider = _provider(db_url)
    try:
        yield provider
    finally:
        provider.close()


def _rows(provider: ServiceProvider) -> dict[str, int]:
    with provider.db.engine.connect() as conn:
        return {t: conn.execute(sa.text(f"SELECT COUNT(*) FROM {t}")).scalar_one() for t in TABLES}


def _nothing_stored(provider: ServiceProvider) -> None:
    assert provider.trading.list_runs() == []
    assert _rows(provider) == dict.fromkeys(TABLES, 0)


def _close(a: float, b: float, rel: float = REL) -> bool:
    return math.isclose(a, b, rel_tol=rel, abs_tol=1e-12)


def _utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


# A hand-checkable series (dates at midnight UTC, imported with tz=UTC): closes flat at 100 on
# bars 0..29, 110 on 30..44, 90 on 45..54, 100 on 55..59; open = close - 1 on every bar.
# SMA(2)/SMA(4): equal on the flat stretches, so
#   bar 30: SMA2 = 105  > SMA4 = 102.5 (equal before) -> BUY
#   bar 45: SMA2 = 100  < SMA4 = 105   (equal before) -> SELL
#   bar 55: SMA2 = 95   > SMA4 = 92.5  (equal before) -> BUY, still open at the end
N_BARS = 60
BUY_1, SELL_1, BUY_2 = 30, 45, 55
START_DAY = datetime(2023, 1, 1, tzinfo=UTC)
SMA_2_4 = {"short_period": 2, "long_period": 4}


def _hand_close(k: int) -> float:
    if k < BUY_1:
        return 100.0
    if k < SELL_1:
        return 110.0
    if k < BUY_2:
        return 90.0
    return 100.0


def _hand_open(k: int) -> float:
    return _hand_close(k) - 1.0


def _day(k: int) -> datetime:
    return START_DAY + timedelta(days=k)


def _hand_csv(tmp_path: Path, bars: int = N_BARS, close: Callable[[int], float] = _hand_close) -> Path:
    lines = ["Date,Open,High,Low,Close,Volume"]
    for k in range(bars):
        c = close(k)
        o = c - 1.0
        lines.append(f"{_day(k):%Y-%m-%d},{o},{max(o, c) + 1},{min(o, c) - 1},{c},1000")
    path = tmp_path / "hand.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def hand(kash: ServiceProvider, tmp_path: Path) -> str:
    """Imports the hand-checkable series as symbol HAND; returns the symbol."""
    report = kash.market.import_csv(_hand_csv(tmp_path), "HAND", tz="UTC")
    assert report.stored == N_BARS
    return "HAND"


def _hand_request(**settings: object) -> BacktestRequest:
    return BacktestRequest(
        symbol="HAND", strategy_id="sma_crossover", params=SMA_2_4,
        settings=BacktestSettings(**settings),  # type: ignore[arg-type]
    )


def _assert_fills_equal(got: BacktestReport, want: BacktestReport) -> None:
    assert len(got.fills) == len(want.fills)
    for g, w in zip(got.fills, want.fills, strict=True):
        assert (g.bar_index, g.side) == (w.bar_index, w.side)
        assert _close(g.qty, w.qty)
        assert _close(g.price, w.price)
        assert _close(g.commission, w.commission)


def _assert_trips_equal(got: BacktestReport, want: BacktestReport) -> None:
    assert len(got.round_trips) == len(want.round_trips)
    for g, w in zip(got.round_trips, want.round_trips, strict=True):
        assert (g.entry_index, g.exit_index, g.is_open) == (w.entry_index, w.exit_index, w.is_open)
        assert _close(g.entry_price, w.entry_price)
        assert (g.exit_price is None) == (w.exit_price is None)
        if w.exit_price is not None:
            assert g.exit_price is not None and _close(g.exit_price, w.exit_price)
        assert _close(g.qty, w.qty)
        assert math.isclose(g.pnl, w.pnl, rel_tol=1e-9, abs_tol=1e-6)
        assert math.isclose(g.return_pct, w.return_pct, rel_tol=1e-9, abs_tol=1e-8)


# -- a run is stored and reopens as it was ---------------------------------------------------


def test_a_run_is_stored_with_its_settings_and_reopens_identically(kash: ServiceProvider) -> None:
    settings = BacktestSettings(initial_cash=25_000.0, commission=0.001, slippage=0.0005,
                                position_size_pct=80.0)
    request = BacktestRequest(
        symbol="DEMOA", strategy_id="sma_crossover", params={"short_period": 12},
        start=_utc(2016, 1, 1), end=_utc(2023, 12, 31, 23, 59, 59), settings=settings,
    )
    report = kash.trading.run_backtest(request)
    run = report.run

    # what was asked
    assert (run.symbol, run.timeframe, run.strategy_id) == ("DEMOA", "1Day", "sma_crossover")
    assert run.params == {"short_period": 12, "long_period": 30}
    assert run.requested_start == _utc(2016, 1, 1)
    assert run.requested_end == _utc(2023, 12, 31, 23, 59, 59)
    assert run.settings == BacktestSettings(
        initial_cash=25_000.0, commission=0.001, slippage=0.0005, position_size_pct=80.0,
        periods_per_year=252.0,
    )
    assert run.portfolio_id is None

    # on what
    bars = kash.market.load_bars("DEMOA", Timeframe.DAY_1, request.start, request.end)
    assert run.bar_count == len(bars) == len(report.timestamps) == len(report.equity)
    assert run.first_bar == bars.first and run.last_bar == bars.last
    assert np.array_equal(report.timestamps, bars.timestamps)

    # with what result: the engine's own, run again here over the same bars
    strategy = kash.strategy.create_with_params("sma_crossover", {"short_period": 12})
    signals = strategy.generate_signals(bars)
    direct = run_engine(bars.open, bars.high, bars.low, bars.close, bars.timestamps, signals,
                        run.settings)
    assert run.metrics == direct.metrics
    assert np.array_equal(report.equity, direct.equity)
    assert len(report.fills) == len(direct.fills) > 10
    assert report.fills == direct.fills
    assert report.round_trips == direct.round_trips
    assert [(s.index, s.type) for s in report.signals] == [
        (int(i), OrderSide.BUY if signals[i] > 0 else OrderSide.SELL)
        for i in np.flatnonzero(signals)
    ]
    assert all(s.price == bars.close[s.index] for s in report.signals)
    assert all(s.time == bars.time(s.index) for s in report.signals)

    # listed, and reopened with the same metrics, fills, round trips, equity and signals
    listed = kash.trading.list_runs()
    assert [r.id for r in listed] == [run.id]
    assert listed[0] == run

    again = kash.trading.get_run(run.id)
    assert again.run == run
    assert again.run.metrics == report.run.metrics
    assert np.array_equal(again.timestamps, report.timestamps)
    assert np.array_equal(again.equity, report.equity)
    _assert_fills_equal(again, report)
    _assert_trips_equal(again, report)
    assert [(s.index, s.type, s.time, s.price) for s in again.signals] == [
        (s.index, s.type, s.time, s.price) for s in report.signals
    ]


def test_runs_are_listed_newest_first_and_an_unknown_run_is_refused(kash: ServiceProvider) -> None:
    first = kash.trading.run_backtest(BacktestRequest(symbol="DEMOA", strategy_id="sma_crossover"))
    second = kash.trading.run_backtest(BacktestRequest(symbol="DEMOB", strategy_id="mfi"))
    assert [r.id for r in kash.trading.list_runs()] == [second.run.id, first.run.id]
    with pytest.raises(TradingError, match="no backtest run"):
        kash.trading.get_run(second.run.id + 100)


def test_a_run_with_an_open_position_reopens_its_open_round_trip(
    kash: ServiceProvider, hand: str
) -> None:
    report = kash.trading.run_backtest(_hand_request(commission=0.002))
    assert report.round_trips[-1].is_open
    again = kash.trading.get_run(report.run.id)
    _assert_fills_equal(again, report)
    _assert_trips_equal(again, report)


def test_a_run_without_trades_is_stored_too(kash: ServiceProvider, hand: str) -> None:
    request = BacktestRequest(symbol="HAND", strategy_id="sma_crossover", params=SMA_2_4,
                              end=_day(BUY_1 - 1))
    report = kash.trading.run_backtest(request)
    assert report.run.bar_count == BUY_1
    assert report.fills == () and report.round_trips == () and report.signals == ()
    m = report.run.metrics
    assert (m.total_return_pct, m.final_equity, m.round_trips) == (0.0, 10_000.0, 0)
    assert (m.sharpe, m.win_rate_pct, m.profit_factor) == (None, None, None)
    again = kash.trading.get_run(report.run.id)
    assert again.fills == () and again.round_trips == () and again.signals == ()
    assert again.run.metrics == m


# -- hand-checked end to end -----------------------------------------------------------------


def test_hand_checked_fills_next_open(kash: ServiceProvider, hand: str) -> None:
    report = kash.trading.run_backtest(_hand_request())
    assert [(s.index, s.type) for s in report.signals] == [
        (BUY_1, OrderSide.BUY), (SELL_1, OrderSide.SELL), (BUY_2, OrderSide.BUY)
    ]
    assert [(f.bar_index, f.side) for f in report.fills] == [
        (BUY_1 + 1, "buy"), (SELL_1 + 1, "sell"), (BUY_2 + 1, "buy")
    ]
    first = report.fills[0]
    assert first.price == _hand_open(BUY_1 + 1) == 109.0  # the open of the bar after the signal
    assert report.time(first.bar_index) == _day(BUY_1 + 1)
    assert first.qty == pytest.approx(10_000 / 109.0, rel=1e-12)
    assert first.commission == 0.0
    assert report.fills[1].price == 89.0
    assert report.fills[2].price == 99.0
    # equity: flat until the fill, then qty * close
    eq = report.equity
    assert eq[BUY_1] == 10_000.0
    assert eq[BUY_1 + 1] == pytest.approx(10_000 / 109 * 110, rel=1e-12)
    cash_after = 10_000 / 109 * 89
    assert eq[BUY_2] == pytest.approx(cash_after, rel=1e-12)
    assert report.run.metrics.final_equity == pytest.approx(cash_after / 99 * 100, rel=1e-12)
    assert report.run.metrics.round_trips == 2
    assert report.round_trips[-1].is_open and report.round_trips[-1].exit_index is None


def test_hand_checked_fills_at_close_are_optimistic(kash: ServiceProvider, hand: str) -> None:
    report = kash.trading.run_backtest(_hand_request(fill_model=FillModel.CLOSE))
    assert report.run.settings.fill_model is FillModel.CLOSE
    assert report.run.settings.fill_model.optimistic
    assert [(f.bar_index, f.side, f.price) for f in report.fills] == [
        (BUY_1, "buy", 110.0), (SELL_1, "sell", 90.0), (BUY_2, "buy", 100.0)
    ]
    assert report.time(report.fills[0].bar_index) == _day(BUY_1)
    assert report.run.metrics.final_equity == pytest.approx(10_000 / 110 * 90, rel=1e-12)


def test_hand_checked_commission_and_slippage(kash: ServiceProvider, hand: str) -> None:
    c, s, cash = 0.001, 0.01, 10_000.0
    report = kash.trading.run_backtest(_hand_request(commission=c, slippage=s, initial_cash=cash))
    buy, sell, buy2 = report.fills

    pe = 109.0 * (1 + s)  # against us on the buy
    qty = cash / (pe * (1 + c))
    comm_e = qty * pe * c
    assert buy.price == pytest.approx(pe, rel=1e-12)
    assert buy.qty == pytest.approx(qty, rel=1e-12)
    assert buy.commission == pytest.approx(comm_e, rel=1e-12)
    assert qty * pe + comm_e == pytest.approx(cash, rel=1e-12)  # the whole cash is committed

    px = 89.0 * (1 - s)  # against us on the sell
    comm_x = qty * px * c
    assert sell.price == pytest.approx(px, rel=1e-12)
    assert sell.qty == pytest.approx(qty, rel=1e-12)
    assert sell.commission == pytest.approx(comm_x, rel=1e-12)
    cash1 = qty * px - comm_x
    trip = report.round_trips[0]
    assert trip.pnl == pytest.approx(cash1 - cash, rel=1e-12)
    assert trip.return_pct == pytest.approx((cash1 - cash) / cash * 100, rel=1e-12)

    pe2 = 99.0 * (1 + s)
    qty2 = cash1 / (pe2 * (1 + c))
    assert buy2.price == pytest.approx(pe2, rel=1e-12)
    assert buy2.qty == pytest.approx(qty2, rel=1e-12)
    assert buy2.commission == pytest.approx(qty2 * pe2 * c, rel=1e-12)
    final = qty2 * 100.0  # marked to the last close, no exit costs
    m = report.run.metrics
    assert m.final_equity == pytest.approx(final, rel=1e-9)
    assert m.total_return_pct == pytest.approx((final / cash - 1) * 100, rel=1e-9)
    open_trip = report.round_trips[1]
    assert open_trip.is_open
    assert open_trip.pnl == pytest.approx(qty2 * 100.0 - (qty2 * pe2 + qty2 * pe2 * c), rel=1e-9)
    assert m.win_rate_pct == 0.0  # the only closed trip lost
    assert m.buy_and_hold_return_pct == pytest.approx(0.0)

    # the stored fills hold the same arithmetic
    again = kash.trading.get_run(report.run.id)
    _assert_fills_equal(again, report)


# -- cash and portfolios ---------------------------------------------------------------------


def _backtest_portfolio(kash: ServiceProvider, name: str, pct: float = 100) -> int:
    return kash.workspace.create_portfolio("Demo", name, PortfolioMode.BACKTEST,
                                           position_size_pct=Decimal(str(pct))).id


def _paper_portfolio(kash: ServiceProvider) -> int:
    kash.connection.add(NewConnection(name="alpaca-paper"))
    return kash.workspace.create_portfolio("Demo", "Paper", PortfolioMode.PAPER,
                                           connection="alpaca-paper").id


def test_starting_cash_belongs_to_the_run(kash: ServiceProvider) -> None:
    pid = _backtest_portfolio(kash, "Cash test")
    reports = [
        kash.trading.run_backtest(BacktestRequest(
            symbol="DEMOA", strategy_id="sma_crossover", portfolio_id=pid,
            settings=BacktestSettings(initial_cash=cash)))
        for cash in (5_000.0, 123_456.78)
    ]
    runs = {r.id: r for r in kash.trading.list_runs(pid)}
    assert len(runs) == 2
    assert runs[reports[0].run.id].settings.initial_cash == 5_000.0
    assert runs[reports[1].run.id].settings.initial_cash == 123_456.78
    # the same strategy on the same bars: the return does not depend on the cash
    r0, r1 = (runs[r.run.id].metrics for r in reports)
    assert r0.total_return_pct == pytest.approx(r1.total_return_pct, rel=1e-9)
    assert r0.final_equity == pytest.approx(5_000 * (1 + r0.total_return_pct / 100), rel=1e-9)
    assert r1.final_equity == pytest.approx(123_456.78 * (1 + r1.total_return_pct / 100), rel=1e-9)
    # the portfolio itself holds no cash
    portfolio = kash.workspace.get_portfolio(pid)
    assert not any("cash" in name for name in vars(portfolio))
    with kash.db.engine.connect() as conn:
        columns = {c["name"] for c in sa.inspect(conn).get_columns("portfolios")}
    assert not any("cash" in c for c in columns), columns


def test_runs_are_filed_under_a_backtest_portfolio(kash: ServiceProvider) -> None:
    mine = _backtest_portfolio(kash, "Mine", pct=50)
    other = _backtest_portfolio(kash, "Other")
    a = kash.trading.run_backtest(BacktestRequest(
        symbol="DEMOA", strategy_id="sma_crossover", portfolio_id=mine,
        settings=BacktestSettings(position_size_pct=50.0)))
    b = kash.trading.run_backtest(BacktestRequest(
        symbol="DEMOB", strategy_id="sma_crossover", portfolio_id=other))
    loose = kash.trading.run_backtest(BacktestRequest(symbol="DEMOA", strategy_id="mfi"))
    assert a.run.portfolio_id == mine and b.run.portfolio_id == other
    assert loose.run.portfolio_id is None
    assert [r.id for r in kash.trading.list_runs(mine)] == [a.run.id]
    assert [r.id for r in kash.trading.list_runs(other)] == [b.run.id]
    assert {r.id for r in kash.trading.list_runs()} == {a.run.id, b.run.id, loose.run.id}
    assert a.run.settings.position_size_pct == 50.0
    # half the equity per entry: the first buy commits half the starting cash
    first = a.fills[0]
    assert first.qty * first.price == pytest.approx(5_000.0, rel=1e-9)


def test_a_paper_portfolio_is_refused_for_backtests(kash: ServiceProvider) -> None:
    pid = _paper_portfolio(kash)
    with pytest.raises(TradingError, match="PAPER"):
        kash.trading.run_backtest(
            BacktestRequest(symbol="DEMOA", strategy_id="sma_crossover", portfolio_id=pid))
    with pytest.raises(TradingError, match="PAPER"):
        kash.trading.sweep(
            BacktestRequest(symbol="DEMOA", strategy_id="sma_crossover", portfolio_id=pid),
            {"short_period": [5, 10]})
    _nothing_stored(kash)


# -- all or nothing --------------------------------------------------------------------------


def test_a_failure_while_storing_leaves_nothing_behind(
    kash: ServiceProvider, hand: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kash_tui.domains.trading import run_rows

    seen: list[int] = []

    def boom(conn, row):  # noqa: ANN001, ANN202
        # the run row with its packed fills is already written in this transaction
        seen.append(conn.scalar("SELECT COUNT(*) FROM backtest_runs"))
        raise RuntimeError("disk full while writing the end position")

    monkeypatch.setattr(run_rows, "insert_position", boom)
    with pytest.raises(RuntimeError, match="disk full"):
        kash.trading.run_backtest(_hand_request())  # ends long: stores an end position
    assert seen == [1]
    _nothing_stored(kash)

    # and the service still works afterwards
    monkeypatch.undo()
    report = kash.trading.run_backtest(_hand_request())
    assert [r.id for r in kash.trading.list_runs()] == [report.run.id]
    assert _rows(kash) == {"backtest_runs": 1, "backtest_positions": 1}
    assert kash.trading.get_run(report.run.id).fills == report.fills


def _bad(**changes: object) -> Callable[[], BacktestRequest]:
    def build() -> BacktestRequest:
        fields: dict[str, object] = {"symbol": "DEMOA", "strategy_id": "sma_crossover"}
        fields.update({k: v for k, v in changes.items() if k != "settings"})
        if "settings" in changes:
            fields["settings"] = BacktestSettings(**changes["settings"])  # type: ignore[arg-type]
        return BacktestRequest(**fields)  # type: ignore[arg-type]

    return build


BAD_REQUESTS = {
    "unknown symbol": (_bad(symbol="NOPE"), NoBarsError, "NOPE"),
    "no bars in range": (
        _bad(start=_utc(1990, 1, 1), end=_utc(1990, 12, 31)), NoBarsError, "no 1Day bars"),
    "unknown timeframe": (_bad(timeframe="2Day"), MarketError, "2Day"),
    "timeframe without bars": (_bad(timeframe="1Week"), NoBarsError, "DEMOA"),
    "unknown strategy": (_bad(strategy_id="nope"), StrategyError, "nope"),
    "short >= long": (
        _bad(params={"short_period": 50, "long_period": 20}), StrategyError,
        "short_period must be less than long_period"),
    "unknown param": (_bad(params={"fast": 3}), StrategyError, "fast"),
    "param out of range": (_bad(params={"short_period": 1}), StrategyError, "short_period"),
    "param wrong type": (_bad(params={"short_period": "ten"}), StrategyError, "short_period"),
    "start after end": (
        _bad(start=_utc(2020, 1, 1), end=_utc(2019, 1, 1)), TradingError, "after the end"),
    "cash 0": (_bad(settings={"initial_cash": 0}), BacktestError, "cash"),
    "cash negative": (_bad(settings={"initial_cash": -5.0}), BacktestError, "cash"),
    "cash nan": (_bad(settings={"initial_cash": float("nan")}), BacktestError, "cash"),
    "commission negative": (_bad(settings={"commission": -0.1}), BacktestError, "Commission"),
    "slippage 1.5": (_bad(settings={"slippage": 1.5}), BacktestError, "Slippage"),
    "position size 0": (_bad(settings={"position_size_pct": 0}), BacktestError, "Position size"),
    "position size 101": (
        _bad(settings={"position_size_pct": 101}), BacktestError, "Position size"),
    "fill model": (_bad(settings={"fill_model": "tomorrow"}), BacktestError, "fill model"),
    # amounts the database cannot hold (Numeric(38, 16)): refused on SQLite and PostgreSQL alike
    "cash too large": (_bad(settings={"initial_cash": 1e22}), BacktestError, "too large"),
    "quantities too small to store": (
        _bad(settings={"initial_cash": 1e-15}), TradingError, "too small"),
}


@pytest.mark.parametrize("case", list(BAD_REQUESTS))
def test_bad_input_is_refused_readably_and_stores_nothing(kash: ServiceProvider, case: str) -> None:
    build, error, fragment = BAD_REQUESTS[case]
    with pytest.raises(error) as info:
        kash.trading.run_backtest(build())
    message = str(info.value)
    assert fragment.lower() in message.lower()
    assert "\n" not in message and len(message) < 300 and message.endswith(".")
    assert "Traceback" not in message and "sqlalchemy" not in message.lower()
    _nothing_stored(kash)


# -- the backtest trading adapter ------------------------------------------------------------


def test_backtest_adapter_shows_the_run_as_an_account(kash: ServiceProvider, hand: str) -> None:
    pid = _backtest_portfolio(kash, "Hand")
    kash.trading.run_backtest(BacktestRequest(
        symbol="HAND", strategy_id="sma_crossover", params=SMA_2_4, portfolio_id=pid,
        settings=BacktestSettings(fill_model=FillModel.CLOSE)))  # an older run, not the latest
    report = kash.trading.run_backtest(BacktestRequest(
        symbol="HAND", strategy_id="sma_crossover", params=SMA_2_4, portfolio_id=pid,
        settings=BacktestSettings(commission=0.001, slippage=0.001)))
    adapter = kash.trading.resolve_trading_adapter(pid)

    assert adapter.mode == "BACKTEST"
    conn = adapter.connection()
    assert conn.rfqdn == "internal.backtest"
    assert (conn.cap_data_stream_live, conn.cap_data_stream_historic, conn.cap_trading_live,
            conn.cap_trading_paper) == (False, False, False, False)

    final = report.run.metrics.final_equity
    account = adapter.get_account()
    assert isinstance(account.equity, Decimal) and isinstance(account.cash, Decimal)
    assert abs(account.equity - Decimal(str(final))) <= Decimal("1e-6") * Decimal(str(final))

    positions = adapter.get_positions()
    assert len(positions) == 1  # the run ended long
    pos = positions[0]
    last_buy = report.fills[-1]
    assert pos.symbol == "HAND"
    assert math.isclose(float(pos.qty), last_buy.qty, rel_tol=REL)
    assert math.isclose(float(pos.avg_entry_price), last_buy.price, rel_tol=REL)
    assert pos.current_price == Decimal("100")
    assert pos.market_value == pos.qty * pos.current_price
    assert math.isclose(float(pos.unrealized_pl), (100 - last_buy.price) * last_buy.qty,
                        rel_tol=1e-9)
    assert abs(account.cash + sum(p.market_value for p in positions) - account.equity) <= Decimal(
        "1e-6")
    assert abs(account.cash) < Decimal("1e-6") * Decimal(str(final))  # fully invested

    orders = adapter.get_orders("all")
    assert len(orders) == len(report.fills) == 3
    assert adapter.get_orders("open") == []
    assert len(adapter.get_orders("closed")) == 3
    assert [o.side for o in orders] == [OrderSide.BUY, OrderSide.SELL, OrderSide.BUY]
    assert all(o.status == "filled" and o.symbol == "HAND" for o in orders)
    assert [o.submitted_at for o in orders] == [_day(BUY_1), _day(SELL_1), _day(BUY_2)]
    assert [o.filled_at for o in orders] == [_day(BUY_1 + 1), _day(SELL_1 + 1), _day(BUY_2 + 1)]
    for o, f in zip(orders, report.fills, strict=True):
        assert o.filled_avg_price is not None
        assert math.isclose(float(o.filled_avg_price), f.price, rel_tol=REL)
        assert math.isclose(float(o.qty), f.qty, rel_tol=REL)
    with pytest.raises(TradingError, match="status"):
        adapter.get_orders("pending")

    trades = adapter.get_trades()
    assert len(trades) == len(report.fills)
    assert len({t.id for t in trades}) == len(trades)
    for t, o, f in zip(trades, orders, report.fills, strict=True):
        assert t.order_id == o.id
        assert t.side.value == f.side and t.symbol == "HAND"
        assert t.time == report.time(f.bar_index)
        assert isinstance(t.price, Decimal) and isinstance(t.commission, Decimal)
        assert math.isclose(float(t.qty), f.qty, rel_tol=REL)
        assert math.isclose(float(t.price), f.price, rel_tol=REL)
        assert math.isclose(float(t.commission), f.commission, rel_tol=REL)

    # a specific older run of the portfolio can be asked for
    older = kash.trading.list_runs(pid)[-1]
    old = kash.trading.resolve_trading_adapter(pid, older.id).get_account()
    assert math.isclose(float(old.equity), older.metrics.final_equity, rel_tol=1e-9)


def test_backtest_adapter_of_a_run_that_ended_flat(kash: ServiceProvider, tmp_path: Path) -> None:
    # the hand series cut before the second buy: one closed round trip, flat at the end
    kash.market.import_csv(_hand_csv(tmp_path, bars=BUY_2), "FLAT", tz="UTC")
    pid = _backtest_portfolio(kash, "Flat")
    report = kash.trading.run_backtest(BacktestRequest(
        symbol="FLAT", strategy_id="sma_crossover", params=SMA_2_4, portfolio_id=pid))
    assert not report.round_trips[-1].is_open
    adapter = kash.trading.resolve_trading_adapter(pid)
    assert adapter.get_positions() == []
    account = adapter.get_account()
    assert account.cash == account.equity
    assert math.isclose(float(account.equity), 10_000 / 109 * 89, rel_tol=1e-9)
    assert len(adapter.get_orders()) == len(adapter.get_trades()) == 2


def test_backtest_adapter_needs_a_run_of_that_backtest_portfolio(kash: ServiceProvider) -> None:
    empty = _backtest_portfolio(kash, "Empty")
    with pytest.raises(TradingError, match="no backtest runs"):
        kash.trading.resolve_trading_adapter(empty)
    # a run of another portfolio is not this one's
    other = _backtest_portfolio(kash, "Other")
    report = kash.trading.run_backtest(
        BacktestRequest(symbol="DEMOA", strategy_id="sma_crossover", portfolio_id=other))
    with pytest.raises(TradingError):
        kash.trading.resolve_trading_adapter(empty, report.run.id)
    paper = _paper_portfolio(kash)
    with pytest.raises(TradingError, match="is PAPER; only BACKTEST portfolios have backtest runs"):
        kash.trading.resolve_trading_adapter(paper, report.run.id)
    # a PAPER portfolio resolves to its broker account, which needs the connection's keys
    with pytest.raises(BrokerConnectionError, match="reads its keys from"):
        kash.trading.resolve_trading_adapter(paper)


# -- sweeps ----------------------------------------------------------------------------------

GRID = {"short_period": list(range(5, 51, 5)), "long_period": list(range(20, 201, 20))}


def test_sweep_ranks_every_valid_combination(kash: ServiceProvider) -> None:
    request = BacktestRequest(symbol="DEMOA", strategy_id="sma_crossover",
                              settings=BacktestSettings(commission=0.0005))
    sweep = kash.trading.sweep(request, GRID)
    assert sweep.rank_by == "sharpe"
    assert len(sweep.rows) == 90
    assert len(sweep.skipped) == 10
    for params, reason in sweep.skipped:
        assert params["short_period"] >= params["long_period"]
        assert "short_period must be less than long_period" in reason
    combos = {(r.params["short_period"], r.params["long_period"]) for r in sweep.rows}
    assert combos == {(s, lp) for s in GRID["short_period"] for lp in GRID["long_period"] if s < lp}

    sharpes = [r.metrics.sharpe for r in sweep.rows]
    defined = [s for s in sharpes if s is not None]
    assert sharpes[: len(defined)] == defined  # None last
    assert defined == sorted(defined, reverse=True)

    # each row is what a single run with those parameters gives
    for row in (sweep.rows[0], sweep.rows[44], sweep.rows[-1]):
        single = kash.trading.run_backtest(
            BacktestRequest(symbol="DEMOA", strategy_id="sma_crossover", params=row.params,
                            settings=request.settings))
        assert single.run.metrics == row.metrics
        assert single.run.params == row.params


def test_sweep_ranks_by_another_metric_and_stores_nothing(kash: ServiceProvider) -> None:
    request = BacktestRequest(symbol="DEMOA", strategy_id="sma_crossover")
    sweep = kash.trading.sweep(request, GRID, rank_by="total_return_pct")
    values = [r.metrics.total_return_pct for r in sweep.rows]
    assert values == sorted(values, reverse=True)
    assert len(values) == 90
    progress: list[tuple[int, int]] = []
    kash.trading.sweep(request, {"short_period": [5, 10]}, progress=lambda d, t: progress.append((d, t)))
    assert progress[-1] == (2, 2)
    _nothing_stored(kash)


def test_sweep_refuses_bad_rank_and_unknown_parameters(kash: ServiceProvider) -> None:
    request = BacktestRequest(symbol="DEMOA", strategy_id="sma_crossover")
    with pytest.raises(TradingError, match="Cannot rank by 'nonsense'"):
        kash.trading.sweep(request, GRID, rank_by="nonsense")
    with pytest.raises(StrategyError, match="fast"):
        kash.trading.sweep(request, {"fast": [1, 2]})
    with pytest.raises(TradingError, match="empty"):
        kash.trading.sweep(request, {"short_period": []})
    with pytest.raises(TradingError, match="No combination"):
        kash.trading.sweep(request, {"short_period": [40, 50], "long_period": [20]})
    with pytest.raises(NoBarsError):
        kash.trading.sweep(BacktestRequest(symbol="NOPE", strategy_id="sma_crossover"), GRID)
    _nothing_stored(kash)


def test_sweep_refuses_more_combinations_than_the_limit_before_loading_bars(
    kash: ServiceProvider,
) -> None:
    request = BacktestRequest(symbol="NOPE", strategy_id="sma_crossover")  # never loaded
    too_many = {"short_period": list(range(2, 103)), "long_period": list(range(300, 400))}
    with pytest.raises(TradingError) as info:
        kash.trading.sweep(request, too_many)
    assert str(info.value) == (
        f"This sweep has 10,100 combinations but a sweep may have at most "
        f"{MAX_SWEEP_COMBINATIONS:,}; narrow the ranges or take larger steps."
    )
    # exactly the limit is allowed (all invalid here, so nothing runs)
    at_limit = {"short_period": list(range(400, 500)), "long_period": list(range(300, 400))}
    assert MAX_SWEEP_COMBINATIONS == 10_000
    with pytest.raises(TradingError, match="No combination of the sweep is valid"):
        kash.trading.sweep(replace(request, symbol="DEMOA"), at_limit)


SWEEPS = {
    "sma_crossover": GRID,
    "mfi": {"period": [5, 14, 30], "oversold": [10.0, 20.0, 30.0], "overbought": [70.0, 80.0]},
}


@pytest.mark.parametrize("strategy_id", list(SWEEPS))
def test_a_parallel_sweep_gives_exactly_the_serial_results(
    kash: ServiceProvider, strategy_id: str
) -> None:
    request = BacktestRequest(symbol="DEMOB", strategy_id=strategy_id,
                              settings=BacktestSettings(commission=0.0005, whole_shares=True))
    sweeps = {}
    for name, executor in {
        "inline": LocalExecutor(1),
        "threads": LocalExecutor(2, min_job_seconds=0),  # parallel however short the jobs
        "processes": LocalExecutor(2, processes=True, min_job_seconds=0),
    }.items():
        trading = create_trading_service(
            kash.db, kash.market, kash.strategy, kash.workspace, executor=executor)
        progress: list[tuple[int, int]] = []
        sweeps[name] = trading.sweep(request, SWEEPS[strategy_id],
                                     progress=lambda d, t, p=progress: p.append((d, t)))
        total = math.prod(len(v) for v in SWEEPS[strategy_id].values())
        assert progress[-1] == (total, total) and progress == sorted(progress)
    serial = sweeps["inline"]
    for name in ("threads", "processes"):
        assert sweeps[name].rows == serial.rows, name  # same order, bit-identical metrics
        assert sweeps[name].skipped == serial.skipped
    # and each row is what the strategy's plain signals give, without any shared indicator
    series = kash.market.load_bars("DEMOB", Timeframe.DAY_1)
    settings = serial.request.settings
    base = kash.strategy.get(strategy_id)
    for row in serial.rows:
        signals = base.with_params(row.params).generate_signals(series)
        plain = run_engine(series.open, series.high, series.low, series.close,
                           series.timestamps, signals, settings)
        assert plain.metrics == row.metrics, row.params


def test_a_strategy_error_in_a_sweep_is_raised_once_as_a_sentence(kash: ServiceProvider) -> None:
    class NanSignals:
        """A broken user strategy: NaN signals (the engine used to read them as sells)."""

        id = "zz_nan"
        name = "NaN"
        description = "Returns NaN signals."
        default_timeframe = "1Day"

        def __init__(self, period: int = 3) -> None:
            self.params = _Params(period)

        def params_schema(self) -> dict[str, Any]:
            return {"type": "object", "properties": {"period": {"type": "integer"}}}

        def with_params(self, params: Mapping[str, Any]) -> NanSignals:
            return NanSignals(int(params.get("period", self.params.period)))

        def generate_signals(self, bars: Any) -> np.ndarray:
            signals = np.zeros(len(bars.close))
            signals[self.params.period] = np.nan
            return signals

        def indicators(self, bars: Any) -> list[Any]:
            return []

    kash.strategy.register(NanSignals)
    request = BacktestRequest(symbol="DEMOA", strategy_id="zz_nan")
    with pytest.raises(BacktestError) as info:
        kash.trading.sweep(request, {"period": list(range(3, 60))})
    assert str(info.value).startswith("The strategy returned the signal nan at bar ")
    with pytest.raises(BacktestError, match="signal nan at bar 5"):
        kash.trading.run_backtest(replace(request, params={"period": 5}))
    _nothing_stored(kash)


@dataclass(frozen=True)
class _Params:
    period: int

    def model_dump(self, mode: str = "python") -> dict[str, Any]:
        return {"period": self.period}


# -- determinism -----------------------------------------------------------------------------


def test_two_fresh_databases_give_identical_results(db_url: str, tmp_path: Path) -> None:
    request = BacktestRequest(
        symbol="DEMOB", strategy_id="sma_crossover", params={"short_period": 7, "long_period": 40},
        settings=BacktestSettings(commission=0.001, slippage=0.0002, whole_shares=True))
    reports = []
    for url in (db_url, f"sqlite:///{tmp_path / 'second.db'}"):
        provider = _provider(url)
        try:
            reports.append(provider.trading.run_backtest(request))
            reports.append(provider.trading.run_backtest(request))
        finally:
            provider.close()
    first = reports[0]
    for other in reports[1:]:
        assert other.run.metrics == first.run.metrics
        assert other.fills == first.fills
        assert np.array_equal(other.equity, first.equity)
        assert np.array_equal(other.timestamps, first.timestamps)


# -- a large run is stored in bulk and reads back exactly --------------------------------------


def _large_series(bars: int) -> BarSeries:
    """A 24/7 minute random walk that ends in a rally (so the run ends holding a position)."""
    rng = np.random.default_rng(11)
    steps = rng.normal(0, 0.002, bars)
    steps[-300:] = 0.003
    close = 100 * np.exp(np.cumsum(steps))
    open_ = np.r_[100.0, close[:-1]]
    start = int(_utc(2024, 1, 1).timestamp())
    return BarSeries(
        symbol="LARGE", timeframe=Timeframe.MIN_1, asset_class=AssetClass.CRYPTO, tz="UTC",
        timestamps=(start + 60 * np.arange(bars, dtype=np.int64)) * 1_000_000_000,
        open=open_, high=np.maximum(open_, close) * 1.001, low=np.minimum(open_, close) * 0.999,
        close=close, volume=np.full(bars, 10.0),
    )


@pytest.mark.parametrize("fill_model", [FillModel.NEXT_OPEN, FillModel.CLOSE])
def test_a_large_stored_run_reads_back_exactly_as_computed(
    kash: ServiceProvider, fill_model: FillModel
) -> None:
    series = _large_series(200_000)
    kash.market.store_bars(series, source="csv")
    pid = _backtest_portfolio(kash, "Large")
    report = kash.trading.run_backtest(BacktestRequest(
        symbol="LARGE", strategy_id="sma_crossover", timeframe="1Min", portfolio_id=pid,
        params={"short_period": 5, "long_period": 20},
        settings=BacktestSettings(commission=0.0005, slippage=0.0002, fill_model=fill_model)))
    assert len(report.fills) > 5_000 and report.round_trips[-1].is_open

    # the engine's own result over the same bars
    bars = kash.market.load_bars("LARGE", Timeframe.MIN_1)
    strategy = kash.strategy.create_with_params("sma_crossover", report.run.params)
    direct = run_engine(bars.open, bars.high, bars.low, bars.close, bars.timestamps,
                        strategy.generate_signals(bars), report.run.settings)
    assert report.fills == direct.fills and report.round_trips == direct.round_trips

    # read back: every float exactly as computed
    again = kash.trading.get_run(report.run.id)
    assert again.run == report.run
    assert again.fills == report.fills
    assert again.round_trips == report.round_trips
    assert again.signals == report.signals
    assert np.array_equal(again.equity, report.equity)
    assert np.array_equal(again.timestamps, report.timestamps)

    # the run as an account: one filled market order per fill, the end position, the equity
    def dec(x: float) -> Decimal:
        return Decimal(f"{x:.15g}")

    lag = 1 if fill_model is FillModel.NEXT_OPEN else 0
    adapter = kash.trading.resolve_trading_adapter(pid)
    orders = adapter.get_orders()
    assert [(o.side.value, o.qty, o.filled_avg_price, o.submitted_at, o.filled_at, o.status)
            for o in orders] == [
        (f.side, dec(f.qty), dec(f.price), report.time(f.bar_index - lag),
         report.time(f.bar_index), "filled") for f in report.fills
    ]
    trades = adapter.get_trades()
    assert [(t.order_id, t.side.value, t.qty, t.price, t.commission, t.time) for t in trades] == [
        (o.id, f.side, dec(f.qty), dec(f.price), dec(f.commission), report.time(f.bar_index))
        for o, f in zip(orders, report.fills, strict=True)
    ]
    assert len({t.id for t in trades}) == len(trades)
    (position,) = adapter.get_positions()
    entry = report.round_trips[-1]
    assert (position.symbol, position.qty, position.avg_entry_price, position.current_price) == (
        "LARGE", dec(entry.qty), dec(entry.entry_price), dec(float(series.close[-1])))
    account = adapter.get_account()
    assert account.equity == dec(float(report.equity[-1]))
    assert account.cash == account.equity - position.qty * position.current_price
