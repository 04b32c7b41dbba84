"""Deployments when things go wrong or limits bite, against the fake Alpaca through alpaca-py:
a rejected order, a 429, a dropped market-data stream, the two per-order risk limits,
halt --flatten, crypto's fractional sizing and a day bar's signal held for the open.

Same scaffolding as ``test_deployments.py`` (a scripted sine of minute bars revealed one at a
time by ``FakeAlpaca.advance``, the deployment in a thread of this process with a short tick).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

from kash_tui.domains.deployment import (
    DeploymentState,
    EventKind,
    NewDeployment,
    RunOptions,
)
from kash_tui.domains.trading import BacktestSettings, entry_quantity
from tests.broker_setup import paper_kash
from tests.integration.test_deployments import (  # noqa: F401 - fixtures
    SYMBOL,
    deploy,
    market,
    roomy_rate_budget,
    start_runner,
    wait_for,
    wave,
)


def step_until(run, predicate, what: str, bars: int = 40) -> None:  # noqa: ANN001
    """Reveal bars one at a time until ``predicate()`` holds."""
    for _ in range(bars):
        if predicate():
            return
        run.step(1)
    assert predicate(), f"no {what} within {bars} bars: {[e.message for e in run.events()]}"


def order_posts(fake) -> list:  # noqa: ANN001
    return [r for r in fake.requests if r.method == "POST" and r.path == "/v2/orders"]


def test_a_rejected_order_is_journaled_and_the_deployment_keeps_trading(market) -> None:  # noqa: ANN001
    kash, fake, folio = market
    deploy(kash, folio)
    run = start_runner(kash, fake, "wave")
    fake.fail("/v2/orders", 403, method="POST", message="insufficient buying power")
    step_until(run, lambda: run.events(EventKind.BROKER_ANSWER), "broker answer")
    rejected = run.events(EventKind.BROKER_ANSWER)[0]
    assert rejected.data["status"] == "rejected"
    assert "insufficient buying power" in rejected.message
    assert fake.orders == []
    assert run.row().state is DeploymentState.RUNNING
    assert run.row().position_qty == 0
    # the rule: a rejection is journaled and trading goes on; the next buy is sent
    step_until(run, lambda: run.events(EventKind.FILL), "fill after the rejection", bars=60)
    run.finish()
    assert not run.errors
    assert len(fake.orders) == 1 and fake.orders[0]["status"] == "filled"
    report = kash.deployment.parity("wave")
    missed = [s for s in report.signals if s.bar_at == rejected.bar_at]
    assert missed and missed[0].status.value == "missed"


def test_a_429_is_retried_within_the_rate_budget_and_the_order_goes_once(market) -> None:  # noqa: ANN001
    kash, fake, folio = market
    deploy(kash, folio)
    run = start_runner(kash, fake, "wave")
    fake.fail("/v2/orders", 429, method="POST", retry_after=0.3, message="rate limit exceeded")
    step_until(run, lambda: run.events(EventKind.FILL), "fill")
    run.finish()
    assert not run.errors
    posts = order_posts(fake)
    assert [p.status for p in posts[:2]] == [429, 200], [p.status for p in posts]
    assert posts[1].at - posts[0].at >= 0.25  # it waited for Retry-After
    assert len(fake.orders) == 1
    assert not run.events(EventKind.BROKER_ERROR)
    answers = run.events(EventKind.BROKER_ANSWER)
    assert len(answers) == 1 and answers[0].data["status"] != "rejected"


def test_a_dropped_stream_reconnects_is_journaled_and_bars_resume(market) -> None:  # noqa: ANN001
    kash, fake, folio = market
    deploy(kash, folio)
    options = RunOptions(tick_seconds=0.05, warmup_bars=30, clock_refresh_seconds=0, stream=True)
    run = start_runner(kash, fake, "wave", options)
    assert run.row().data_mode.value == "stream"
    fake.wait_for_subscription(SYMBOL)
    run.step(2)
    before = dict(fake.stream_connects)
    assert fake.drop_streams() >= 1
    wait_for(lambda: sum(fake.stream_connects.values()) > sum(before.values()),
             "the stream to reconnect", timeout=20)
    fake.wait_for_subscription(SYMBOL, timeout=10)
    wait_for(lambda: run.events(EventKind.RECONNECT), "the reconnect to be journaled")
    run.step(3)
    run.finish()
    assert not run.errors
    reconnects = run.events(EventKind.RECONNECT)
    assert len(reconnects) == 1
    assert "market-data stream dropped and reconnected" in reconnects[0].message
    bars = [e.bar_at for e in run.events(EventKind.BAR)]
    assert len(bars) == len(set(bars)) == 5
    assert bars == sorted(bars)


def test_max_position_pct_refuses_a_buy_that_is_too_big(market) -> None:  # noqa: ANN001
    kash, fake, folio = market  # position size 50 % of equity
    deploy(kash, folio, max_position_pct=20)
    run = start_runner(kash, fake, "wave")
    step_until(run, lambda: run.events(EventKind.RISK_CHECK_FAILED), "risk check failure")
    run.step(3)
    run.finish()
    failed = run.events(EventKind.RISK_CHECK_FAILED)
    assert failed[0].data["check"] == "max_position_pct"
    assert 49 < failed[0].data["pct"] <= 50
    assert "above the limit of 20%" in failed[0].message
    assert fake.orders == [] and not run.events(EventKind.ORDER_SENT)


def test_max_orders_per_day_refuses_the_order_after_the_limit(market) -> None:  # noqa: ANN001
    kash, fake, folio = market
    deploy(kash, folio, max_orders_per_day=1)
    run = start_runner(kash, fake, "wave")
    step_until(run, lambda: run.events(EventKind.RISK_CHECK_FAILED), "risk check failure",
               bars=60)
    run.finish()
    failed = run.events(EventKind.RISK_CHECK_FAILED)
    assert failed[0].data["check"] == "max_orders_per_day"
    assert "1 per day" in failed[0].message
    assert len(fake.orders) == 1 and len(run.events(EventKind.ORDER_SENT)) == 1
    assert kash.deployment.get("wave").orders_today == 1
    # the refused order was the sell that would have closed the buy
    assert run.events(EventKind.SIGNAL)[-1].data["side"] == "sell"
    assert kash.deployment.get("wave").position_qty > 0


def test_halt_flatten_closes_the_position(market) -> None:  # noqa: ANN001
    kash, fake, folio = market
    deploy(kash, folio)
    run = start_runner(kash, fake, "wave")
    step_until(run, lambda: run.events(EventKind.FILL), "fill")
    held = kash.deployment.get("wave").position_qty
    assert held > 0
    report = kash.deployment.halt("wave", flatten=True)
    assert report.flatten_order_id is not None and not report.problems
    run.thread.join(10)
    assert not run.thread.is_alive() and not run.errors
    fake.advance(symbol=SYMBOL)  # the closing market order fills at the next bar's open
    closing = next(o for o in fake.orders if o["id"] == report.flatten_order_id)
    assert closing["side"] == "sell" and D(closing["filled_qty"]) == held
    assert closing["status"] == "filled"
    assert not [p for p in fake.positions if p["symbol"] == SYMBOL]
    d = kash.deployment.get("wave")
    assert d.state is DeploymentState.HALTED
    sent = [e for e in run.events(EventKind.ORDER_SENT) if e.data.get("flatten")]
    assert sent and sent[0].data["order_id"] == report.flatten_order_id


def test_crypto_is_sized_fractionally_to_its_increment(db_url, fake_alpaca, monkeypatch) -> None:  # noqa: ANN001
    symbol = "SOL/USD"
    fake_alpaca.add_asset(symbol, asset_class="crypto", price=100,
                          min_trade_increment="0.001", min_order_size="0.001")
    bars = wave(140)
    fake_alpaca.add_bars(symbol, "1Min", bars[:40])
    fake_alpaca.replay(symbol, "1Min", bars[40:])
    kash, folio = paper_kash(db_url, fake_alpaca, monkeypatch)
    try:
        kash.workspace.update_portfolio(folio.id, position_size_pct=D("33.3333"))
        kash.deployment.create(NewDeployment(
            name="sol", portfolio=folio.name, strategy_id="sma_crossover", symbol=symbol,
            timeframe="1Min", params={"short_period": 3, "long_period": 8}))
        run = start_runner(kash, fake_alpaca, "sol")
        for _ in range(40):
            if run.events(EventKind.FILL):
                break
            bar = fake_alpaca.advance(symbol=symbol)[0]
            wait_for(lambda bar=bar: run.row().last_bar_at == bar.t, "the bar")
        run.finish()
        assert not run.errors
        sent = run.events(EventKind.ORDER_SENT)[0]
        qty = D(sent.data["qty"])
        start_equity = float(kash.deployment.get("sol").start_equity)
        settings = BacktestSettings(initial_cash=start_equity, position_size_pct=33.3333,
                                    whole_shares=False)
        raw = entry_quantity(start_equity, sent.data["reference_price"], settings)
        assert qty == (D(repr(raw)) / D("0.001")).to_integral_value(
            rounding="ROUND_DOWN") * D("0.001")
        assert qty != qty.to_integral_value()  # a fraction of a coin
        fill = run.events(EventKind.FILL)[0]
        assert D(fill.data["qty"]) == qty
        order = fake_alpaca.orders[0]
        assert order["time_in_force"] == "gtc" and D(order["qty"]) == qty
    finally:
        kash.close()


def test_a_day_bar_signal_is_held_while_closed_and_sent_at_the_open(
    db_url, fake_alpaca, monkeypatch  # noqa: ANN001
) -> None:
    """Equities on 1Day: the bar closes at 16:00 New York with the market; its signal waits
    for the next open (where the backtest fills it) instead of being skipped."""
    fake_alpaca.add_asset(SYMBOL, fractionable=False, price=100)
    days = []
    day = datetime(2025, 1, 2, 5, 0, tzinfo=UTC)  # midnight New York, as Alpaca stamps days
    while len(days) < 90:
        if day.weekday() < 5:
            days.append(day)
        day += timedelta(days=1)
    minute = wave(90)
    bars = [(t, *row[1:]) for t, row in zip(days, minute, strict=True)]
    fake_alpaca.add_bars(SYMBOL, "1Day", bars[:40])
    fake_alpaca.replay(SYMBOL, "1Day", bars[40:])
    kash, folio = paper_kash(db_url, fake_alpaca, monkeypatch)
    try:
        kash.workspace.update_portfolio(folio.id, position_size_pct=50)
        kash.deployment.create(NewDeployment(
            name="daily", portfolio=folio.name, strategy_id="sma_crossover", symbol=SYMBOL,
            timeframe="1Day", params={"short_period": 3, "long_period": 8}))
        fake_alpaca.set_clock(is_open=False)
        run = start_runner(kash, fake_alpaca, "daily")
        signal = None
        for _ in range(40):
            bar = fake_alpaca.advance(symbol=SYMBOL)[0]
            # the clock now reads the next midnight: the day bar closed at 16:00, market shut
            wait_for(lambda bar=bar: run.row().last_bar_at == bar.t, "the day bar")
            signals = run.events(EventKind.SIGNAL)
            if signals and signals[-1].data["side"] == "buy":
                signal = signals[-1]
                break
        assert signal is not None
        # nothing sent, nothing skipped while the market is closed
        assert not run.events(EventKind.ORDER_SENT), [e.message for e in run.events()]
        assert not [e for e in run.events(EventKind.SKIP) if e.bar_at == signal.bar_at]
        assert fake_alpaca.orders == []
        open_at = signal.bar_at + timedelta(days=1, hours=9, minutes=30)  # 9:30 New York
        fake_alpaca.set_clock(now=open_at, is_open=True)
        wait_for(lambda: run.events(EventKind.BROKER_ANSWER), "the order at the open")
        sent = run.events(EventKind.ORDER_SENT)[0]
        assert sent.bar_at == signal.bar_at and sent.data["side"] == "buy"
        assert len(fake_alpaca.orders) == 1
        run.finish()
        assert not run.errors
    finally:
        kash.close()


def test_a_chart_watch_polls_while_a_deployment_owns_the_stream(market) -> None:  # noqa: ANN001
    """Alpaca allows one market-data stream per key: the app's bar watch streams only when
    it can take the connection's lease, and says who owns it otherwise."""
    from kash_tui.domains.market import Timeframe

    kash, fake, folio = market
    deploy(kash, folio)
    options = RunOptions(tick_seconds=0.05, warmup_bars=30, clock_refresh_seconds=0, stream=True)
    run = start_runner(kash, fake, "wave", options)
    assert run.row().data_mode.value == "stream"
    fake.wait_for_subscription(SYMBOL)
    connects = sum(fake.stream_connects.values())
    arrived: list[int] = []
    watch = kash.deployment.watch_bars(SYMBOL, Timeframe.MIN_1, arrived.append,
                                       poll_interval=0.05)
    try:
        use = watch.stream_use
        assert not use.stream and use.owner == "deployment 'wave'"
        assert "owns the market-data stream of 'paper'" in use.note
        # the watch polls: the bars the owner stores reach it all the same
        before = len(arrived)
        run.step(1)
        step_until(run, lambda: len(arrived) > before, "polled bars", bars=6)
        assert sum(fake.stream_connects.values()) == connects  # no second stream opened
        assert not watch.streaming
    finally:
        watch.stop()
    run.finish()
    # the deployment is gone: the next watch takes the lease and streams; a deployment
    # started meanwhile polls instead of opening a second stream
    watch = kash.deployment.watch_bars(SYMBOL, Timeframe.MIN_1, arrived.append,
                                       poll_interval=0.05)
    try:
        assert watch.stream_use.stream and watch.stream_use.note is None
        fake.wait_for_subscription(SYMBOL)
        again = start_runner(kash, fake, "wave", options)
        wait_for(lambda: len(again.events(EventKind.WARMUP)) == 2, "the second warm-up")
        assert again.row().data_mode.value == "poll"
        again.finish()
    finally:
        watch.stop()
    # stopped: the lease is free again
    third = kash.deployment.watch_bars(SYMBOL, Timeframe.MIN_1, arrived.append,
                                       poll_interval=0.05)
    try:
        assert third.stream_use.stream
    finally:
        third.stop()
