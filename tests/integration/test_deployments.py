"""Deployments against the fake Alpaca server, through the real alpaca-py.

The fake replays a scripted minute series (``FakeAlpaca.replay``): each ``advance()`` moves its
clock one bar on, fills resting market orders at that bar's open and reveals the bar over REST
(and the market-data stream). The deployment runs in a thread of the test process through the
public service (``kash.deployment.run``) with a short tick; each step waits until the
deployment has handled the revealed bar, so nothing sleeps longer than it must.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

import numpy as np
import pytest

from kash_tui.domains.deployment import (
    DeploymentState,
    EventKind,
    LiveRefused,
    NewDeployment,
    RiskLimits,
    RunOptions,
    SignalMatch,
)
from kash_tui.domains.market import Timeframe
from kash_tui.domains.trading import BacktestSettings
from kash_tui.domains.workspace import PortfolioMode
from tests.broker_setup import paper_kash

SYMBOL = "DEPL"
START = datetime(2025, 3, 3, 14, 30, tzinfo=UTC)  # a Monday, 9:30 New York
PARAMS = {"short_period": 3, "long_period": 8}
FAST = RunOptions(tick_seconds=0.05, warmup_bars=30, clock_refresh_seconds=0, stream=False)


def wave(count: int, *, start: datetime = START, period: int = 16, base: float = 100.0,
         amplitude: float = 4.0) -> list[tuple]:
    """Minute bars whose closes follow a sine (regular SMA crossovers); each bar opens at the
    previous close, so an order sized at a close fills at exactly that price."""
    bars = []
    prev = base
    for k in range(count):
        close = round(base + amplitude * math.sin(2 * math.pi * k / period), 2)
        o = prev
        bars.append((start + timedelta(minutes=k), o, max(o, close) + 0.05,
                     min(o, close) - 0.05, close, 1000.0))
        prev = close
    return bars


def wait_for(predicate: Callable[[], bool], what: str, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.01)
    raise AssertionError(f"timed out waiting for {what}")


@dataclass
class Running:
    kash: object
    fake: object
    name: str
    thread: threading.Thread
    stop: threading.Event
    errors: list

    @property
    def deployments(self):  # noqa: ANN201
        return self.kash.deployment

    def row(self):  # noqa: ANN201
        return self.deployments.get(self.name)

    def step(self, count: int = 1, **kw) -> None:  # noqa: ANN003
        for _ in range(count):
            bar = self.fake.advance(symbol=SYMBOL, **kw)[0]
            wait_for(lambda bar=bar: self.row().last_bar_at == bar.t or not self.thread.is_alive(),
                     f"the deployment to handle the bar at {bar.t:%H:%M}")

    def events(self, *kinds: EventKind) -> list:
        return [e for e in self.deployments.journal(self.name) if not kinds or e.kind in kinds]

    def finish(self) -> None:
        self.stop.set()
        self.thread.join(10)
        assert not self.thread.is_alive()


def start_runner(kash, fake, name: str, options: RunOptions = FAST, **kw) -> Running:  # noqa: ANN001, ANN003
    stop = threading.Event()
    errors: list = []

    def target() -> None:
        try:
            kash.deployment.run(name, stop=stop, options=options, **kw)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    running = Running(kash, fake, name, thread, stop, errors)
    wait_for(lambda: any(e.kind is EventKind.WARMUP for e in running.events())
             or not thread.is_alive(), "the warm-up")
    assert not errors, errors
    return running


@pytest.fixture(autouse=True)
def roomy_rate_budget(monkeypatch) -> None:  # noqa: ANN001
    """The runner stays within Alpaca's 200 requests a minute; these tests replay an hour of
    minute bars in seconds, so their connection gets a larger budget."""
    from functools import partial

    from kash_tui.domains.connection import alpaca

    monkeypatch.setattr(alpaca, "RateBudget", partial(alpaca.RateBudget, per_minute=60_000))


@pytest.fixture
def market(db_url, fake_alpaca, monkeypatch) -> Iterator[tuple]:  # noqa: ANN001
    fake_alpaca.add_asset(SYMBOL, fractionable=False, price=100)
    bars = wave(140)
    fake_alpaca.add_bars(SYMBOL, "1Min", bars[:40])
    fake_alpaca.replay(SYMBOL, "1Min", bars[40:])
    kash, folio = paper_kash(db_url, fake_alpaca, monkeypatch)
    kash.workspace.update_portfolio(folio.id, position_size_pct=50)
    yield kash, fake_alpaca, folio
    kash.close()


def deploy(kash, folio, name: str = "wave", **limits) -> None:  # noqa: ANN001, ANN003
    kash.deployment.create(NewDeployment(
        name=name, portfolio=folio.name, strategy_id="sma_crossover", symbol=SYMBOL,
        timeframe="1Min", params=PARAMS, limits=RiskLimits(**limits),
    ))


def backtest_of_what_it_saw(kash, name: str):  # noqa: ANN001, ANN201
    """The engine over the deployment's bars, trading from its first live bar: computed here
    from the cache and the strategy, independently of the parity report."""
    d = kash.deployment.get(name)
    first = next(e for e in kash.deployment.journal(name) if e.kind is EventKind.WARMUP)
    series = kash.market.load_bars(SYMBOL, Timeframe.MIN_1,
                                   datetime.fromisoformat(first.data["first"]), d.last_bar_at)
    strategy = kash.strategy.create_with_params("sma_crossover", PARAMS)
    signals = np.asarray(strategy.generate_signals(series)).copy()
    live_from = int(np.searchsorted(series.timestamps,
                                    int(first_live(kash, name).timestamp()) * 1_000_000_000))
    signals[:live_from] = 0
    settings = BacktestSettings(initial_cash=float(d.start_equity), position_size_pct=50,
                                whole_shares=True)
    return series, signals, kash.trading.simulate(series, signals, settings)


def first_live(kash, name: str) -> datetime:  # noqa: ANN001
    return next(e.bar_at for e in kash.deployment.journal(name) if e.kind is EventKind.BAR)


def test_signals_and_orders_match_a_backtest_of_the_same_bars(market) -> None:  # noqa: ANN001
    kash, fake, folio = market
    deploy(kash, folio)
    run = start_runner(kash, fake, "wave")
    run.step(60)
    run.finish()
    assert not run.errors

    series, signals, result = backtest_of_what_it_saw(kash, "wave")
    ts = [datetime.fromtimestamp(int(t) / 1e9, tz=UTC) for t in series.timestamps]
    expected_signals = [(ts[i], "buy" if signals[i] > 0 else "sell")
                        for i in np.flatnonzero(signals)]
    live_signals = [(e.bar_at, e.data["side"]) for e in run.events(EventKind.SIGNAL)]
    assert live_signals == expected_signals
    assert len(live_signals) >= 6  # the wave crosses several times

    fc = result.fill_columns
    expected_fills = [(ts[j - 1], "buy" if b else "sell", q, p) for j, b, q, p in zip(
        fc.bar_index.tolist(), fc.is_buy.tolist(), fc.qty.tolist(), fc.price.tolist())]
    live_fills = [(e.bar_at, e.data["side"], float(e.data["qty"]), float(e.data["price"]))
                  for e in run.events(EventKind.FILL)]
    assert live_fills == expected_fills
    # one order per traded signal at the broker, each with the deployment's client order id
    orders = fake.orders
    assert len(orders) == len(run.events(EventKind.ORDER_SENT))
    assert len({o["client_order_id"] for o in orders}) == len(orders)
    d = kash.deployment.get("wave")
    assert d.state is DeploymentState.STOPPED
    assert d.pnl is not None
    report = kash.deployment.parity("wave")
    assert report.missed == 0 and report.extra == 0
    assert report.total_slippage == 0
    assert math.isclose(report.live_pnl, report.backtest_pnl, abs_tol=0.01)


RUNNER_SCRIPT = """
import sys
from functools import partial
from kash_tui.config import Settings
from kash_tui.domains.connection import alpaca
from kash_tui.domains.deployment import RunOptions
from kash_tui.provider import ServiceProvider

alpaca.RateBudget = partial(alpaca.RateBudget, per_minute=60_000)
kash = ServiceProvider(Settings(database_url=sys.argv[1], http_timeout_seconds=60))
kash.prepare()
kash.deployment.run(sys.argv[2], options=RunOptions(
    tick_seconds=0.05, warmup_bars=30, clock_refresh_seconds=0, stream=False))
"""


def test_a_kill_and_restart_mid_run_sends_no_duplicate_order_and_reconciles(
    market, db_url  # noqa: ANN001
) -> None:
    import os
    import signal
    import subprocess
    import sys

    kash, fake, folio = market
    deploy(kash, folio)
    # a runner process whose first order reaches the broker but whose answer never comes back
    fake.fail("/v2/orders", "hang_after", method="POST")
    process = subprocess.Popen([sys.executable, "-c", RUNNER_SCRIPT, db_url, "wave"],
                               env=dict(os.environ), cwd=os.getcwd())
    try:
        wait_for(lambda: any(e.kind is EventKind.WARMUP for e in kash.deployment.journal("wave")),
                 "the runner process to warm up", timeout=30)
        signal_bar = None
        for _ in range(30):
            bar = fake.advance(symbol=SYMBOL)[0]
            wait_for(lambda bar=bar: kash.deployment.get("wave").last_bar_at == bar.t
                     or len(fake.orders) == 1, "a bar or an order")
            if fake.orders:
                signal_bar = next(e.bar_at for e in kash.deployment.journal("wave")
                                  if e.kind is EventKind.ORDER_SENT)
                break
        assert signal_bar is not None
        assert not any(e.kind is EventKind.BROKER_ANSWER for e in kash.deployment.journal("wave"))
    finally:
        process.send_signal(signal.SIGKILL)  # killed while waiting for the broker's answer
        process.wait(10)
    assert kash.deployment.get("wave").state is DeploymentState.RUNNING  # as it died
    fake.clear_faults()

    again = start_runner(kash, fake, "wave")
    wait_for(lambda: any(e.kind is EventKind.BROKER_ANSWER for e in again.events()),
             "the restarted runner to settle the interrupted order")
    assert len(fake.orders) == 1, "the restart sent a second order"
    again.step(20)
    again.finish()
    assert not again.errors
    cids = [o["client_order_id"] for o in fake.orders]
    assert len(cids) == len(set(cids)) == len(again.events(EventKind.ORDER_SENT))
    assert len(again.events(EventKind.RECONCILE)) == 2
    fills = again.events(EventKind.FILL)
    assert fills and fills[0].bar_at == signal_bar, [e.message for e in again.events()]
    held = sum(D(str(o["filled_qty"])) * (1 if o["side"] == "buy" else -1) for o in fake.orders)
    assert kash.deployment.get("wave").position_qty == held


def test_the_daily_loss_limit_halts_and_it_stays_halted(market) -> None:  # noqa: ANN001
    kash, fake, folio = market
    fake.set_account(multiplier=1)
    deploy(kash, folio, daily_loss_limit_pct=0.5)
    run = start_runner(kash, fake, "wave")
    for _ in range(60):
        if not run.thread.is_alive():
            break
        bar = fake.advance(symbol=SYMBOL)[0]
        wait_for(lambda bar=bar: run.row().last_bar_at == bar.t or not run.thread.is_alive(),
                 "the next bar")
        if run.events(EventKind.FILL):
            # the position is on: the price falls 3 % (1.5 % of equity at 50 % size)
            fake.replay(SYMBOL, "1Min", [
                (bar.t + timedelta(minutes=1), bar.c, bar.c, bar.c * 0.97, bar.c * 0.97, 100)])
            run.step(1)
            break
    run.thread.join(10)
    assert not run.errors
    d = kash.deployment.get("wave")
    assert d.state is DeploymentState.HALTED
    assert "Daily loss limit" in (d.message or "")
    halts = run.events(EventKind.HALT)
    assert halts and "start-of-day" in halts[0].message
    orders_before = len(fake.orders)
    # it stays halted: nothing trades until it is started again
    assert kash.deployment.get("wave").state is DeploymentState.HALTED
    assert len(fake.orders) == orders_before


def test_halt_all_cancels_the_open_orders(market) -> None:  # noqa: ANN001
    kash, fake, folio = market
    fake.auto_fill_market = False
    deploy(kash, folio)
    run = start_runner(kash, fake, "wave")
    for _ in range(30):
        run.step(1)
        if run.events(EventKind.BROKER_ANSWER):
            break
    open_orders = [o for o in fake.orders if o["status"] in ("new", "accepted")]
    assert len(open_orders) == 1
    # someone else's order on the same account is not the deployment's to cancel
    from kash_tui.domains.trading import OrderRequest, OrderSide

    mine = kash.trading.resolve_trading_adapter(folio.id).submit_order(
        OrderRequest(symbol="AAPL", side=OrderSide.BUY, qty=D(1)))
    deploy(kash, folio, name="idle")  # stopped, nothing open: halt --all leaves it be
    reports = kash.deployment.halt_all()
    assert [r.name for r in reports] == ["wave"]
    assert kash.deployment.get("idle").state is DeploymentState.STOPPED
    assert reports[0].cancelled_orders == (open_orders[0]["id"],)
    run.thread.join(10)
    assert not run.thread.is_alive()
    assert {o["id"]: o["status"] for o in fake.orders} == {
        open_orders[0]["id"]: "canceled", mine.id: "new"}
    d = kash.deployment.get("wave")
    assert d.state is DeploymentState.HALTED
    assert run.events(EventKind.CANCEL)


def test_a_silent_stream_is_detected_backfilled_and_resumed(market) -> None:  # noqa: ANN001
    kash, fake, folio = market
    deploy(kash, folio)
    options = RunOptions(tick_seconds=0.05, warmup_bars=30, clock_refresh_seconds=0, stream=True)
    run = start_runner(kash, fake, "wave", options)
    assert run.row().data_mode.value == "stream"
    fake.wait_for_subscription(SYMBOL)
    run.step(3)  # streamed bars arrive
    assert not run.events(EventKind.STALE)
    fake.stream_silent = True
    silent = fake.advance(3, symbol=SYMBOL)
    wait_for(lambda: run.row().last_bar_at == silent[-1].t, "the back-fill")
    stale = run.events(EventKind.STALE)
    assert len(stale) == 1
    gap = run.events(EventKind.GAP)
    assert gap and gap[0].data["bars"] >= 1
    assert run.events(EventKind.RESUMED)
    assert run.row().data_health.value == "ok"
    fake.stream_silent = False
    run.step(2)
    run.finish()
    # every silent bar was journaled once, none twice
    bars = [e.bar_at for e in run.events(EventKind.BAR)]
    assert len(bars) == len(set(bars)) == 8


def test_a_live_deployment_refuses_without_opt_in_confirmation_and_loss_limit(
    sqlite_db_url, fake_alpaca, monkeypatch  # noqa: ANN001
) -> None:
    from kash_tui.domains.connection import Environment, NewConnection

    kash, _paper = paper_kash(sqlite_db_url, fake_alpaca, monkeypatch)
    try:
        kash.connection.add(NewConnection(name="real", environment=Environment.LIVE,
                                          trading_url=fake_alpaca.base_url,
                                          data_url=fake_alpaca.base_url))
        kash.connection.enable_live("real", "real")
        kash.workspace.create_portfolio("Demo", "Real money", PortfolioMode.LIVE,
                                        connection="real")
        kash.deployment.create(NewDeployment(
            name="live-one", portfolio="Real money", strategy_id="sma_crossover",
            symbol="AAPL", timeframe="1Min", limits=RiskLimits(daily_loss_limit_pct=2)))
        kash.connection.disable_live("real")  # the opt-in withdrawn
        with pytest.raises(LiveRefused, match="enable-live"):
            kash.deployment.check_start("live-one", confirm_live="live-one")
        kash.connection.enable_live("real", "real")
        kash.deployment.update(NewDeployment(
            name="live-one", portfolio="Real money", strategy_id="sma_crossover",
            symbol="AAPL", timeframe="1Min"))
        with pytest.raises(LiveRefused, match="daily loss limit"):
            kash.deployment.check_start("live-one", confirm_live="live-one")
        kash.deployment.update(NewDeployment(
            name="live-one", portfolio="Real money", strategy_id="sma_crossover",
            symbol="AAPL", timeframe="1Min", limits=RiskLimits(daily_loss_limit_pct=2)))
        for wrong in (None, "", "live one"):
            with pytest.raises(LiveRefused, match="--confirm-live live-one"):
                kash.deployment.check_start("live-one", confirm_live=wrong)
            with pytest.raises(LiveRefused):
                kash.deployment.run("live-one", confirm_live=wrong)
        assert kash.deployment.check_start("live-one", confirm_live="live-one").mode == "LIVE"
        assert fake_alpaca.orders == []
        assert kash.deployment.get("live-one").state is DeploymentState.STOPPED
    finally:
        kash.close()


def test_parity_finds_slippage_and_a_missed_signal(market) -> None:  # noqa: ANN001
    kash, fake, folio = market
    deploy(kash, folio)
    run = start_runner(kash, fake, "wave")
    fake.replay_fill_offset = D("0.25")
    run.step(25)
    run.finish()
    assert run.events(EventKind.FILL)
    # while it is stopped the market moves on: the signals of those bars are missed
    fake.advance(12, symbol=SYMBOL)
    again = start_runner(kash, fake, "wave")
    again.step(10)
    again.finish()
    report = kash.deployment.parity("wave")
    fills = [f for f in report.fills if f.slippage_cost is not None]
    assert fills and all(math.isclose(f.slippage_per_unit, 0.25, abs_tol=1e-9) for f in fills)
    assert report.total_slippage == pytest.approx(sum(0.25 * float(f.live_qty) for f in fills))
    missed = [s for s in report.signals if s.status is SignalMatch.MISSED]
    assert missed, report.signals
    assert any("cost" in n for n in report.notes)
    assert any("not traded live" in n for n in report.notes)
