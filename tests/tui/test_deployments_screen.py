"""The Deployments place against a real SQLite file and the fake Alpaca, through the real
services: deployments run by another client (a runner thread on a second provider, as a
``kash deploy start`` would) show up and refresh by themselves; the journal follows new
entries; the parity panel compares with the backtest; halt all asks first; the start form
checks as you type, refuses a LIVE start in the service's sentence with nothing stored, and
launches a background runner that the app halts."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from datetime import UTC
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Input, Select, Static

from kash_tui.domains.connection import Environment, NewConnection
from kash_tui.domains.deployment import DeploymentState, EventKind
from kash_tui.domains.workspace import PortfolioMode
from kash_tui.tui.modals.confirm import ConfirmModal
from kash_tui.tui.modals.deploy_form import DeployForm
from kash_tui.tui.modals.halt_confirm import HaltModal
from kash_tui.tui.screens.deployments import DeploymentsScreen
from kash_tui.tui.widgets.deployments import COLUMNS, JournalView, ParityPanel
from tests.integration.test_deployments import (  # noqa: F401 - roomy_rate_budget: autouse
    SYMBOL,
    deploy,
    roomy_rate_budget,
    start_runner,
    wave,
)
from tests.tui.broker_app import (  # noqa: F401 - broker: a fixture
    BrokerSetup,
    broker,
    screen_text,
    settle,
    start,
    type_text,
    wait_for,
)

SIZE = (80, 24)


@pytest.fixture
def market(broker: BrokerSetup) -> Iterator[BrokerSetup]:
    fake = broker.fake
    fake.add_asset(SYMBOL, fractionable=False, price=100)
    bars = wave(140)
    fake.add_bars(SYMBOL, "1Min", bars[:40])
    fake.replay(SYMBOL, "1Min", bars[40:])
    broker.kash.workspace.update_portfolio(broker.portfolio.id, position_size_pct=50)
    yield broker


def rows(app: Any) -> list[dict[str, str]]:
    """The table's rows as {column label: text} (the columns follow the width)."""
    table = app.screen.query_one("#dp-table")
    labels = [str(c.label) for c in table.ordered_columns]
    return [dict(zip(labels, (str(c) for c in table.get_row_at(i)), strict=True))
            for i in range(table.row_count)]


def status(app: Any) -> str:
    return str(app.screen.query_one("#dp-status", Static).render())


async def open_place(pilot: Any) -> DeploymentsScreen:
    await start(pilot)
    await pilot.press("f6")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, DeploymentsScreen)
    return screen


def journal_lines(app: Any) -> list[str]:
    return [strip.text.rstrip() for strip in app.screen.query_one(JournalView).lines]


async def test_a_deployment_run_elsewhere_shows_live_with_its_journal_and_parity(
    market: BrokerSetup,
) -> None:
    kash, fake = market.kash, market.fake
    deploy(kash, market.portfolio)
    run = start_runner(kash, fake, "wave")
    try:
        app = market.app()
        async with app.run_test(size=SIZE) as pilot:
            screen = await open_place(pilot)
            await wait_for(pilot, lambda: rows(app) and rows(app)[0]["State"] == "running",
                           what="the running deployment")
            row = rows(app)[0]
            assert (row["Name"], row["State"], row["Market"]) == ("wave", "running",
                                                                  f"{SYMBOL} 1Min")
            assert row["Mode"] == "PAPER"  # a short name leaves room for it at 80 columns
            assert row["Health"].startswith(("warm-up", "ok"))  # data health, heartbeat age
            assert "polls bars" in status(app)  # how it follows bars, in the details line
            await wait_for(pilot, lambda: any("warmup" in line for line in journal_lines(app)),
                           what="the journal")
            journal = screen.journal
            # the runner handles bars while the app watches: rows and journal follow
            run.step(12)
            bar = kash.deployment.get("wave").last_bar_at
            await wait_for(pilot, lambda: f"last bar {bar:%m-%d %H:%M} UTC" in status(app),
                           what="the last bar in the details line")
            last = kash.deployment.journal("wave")[-1]
            await wait_for(pilot, lambda: journal.last_id == last.id, what="the new entries")
            await settle(pilot)
            assert journal.is_vertical_scroll_end  # newest at the bottom, followed
            assert last.message[:40] in "".join(journal_lines(app)[-4:]).replace("  ", " ") \
                or last.message[:30] in screen_text(app)
            fills = [e for e in kash.deployment.journal("wave") if e.kind is EventKind.FILL]
            assert fills, "the wave trades within 12 bars"

            await pilot.press("p")  # the parity panel
            panel = screen.query_one(ParityPanel)
            await wait_for(pilot, lambda: panel.report is not None, what="the parity report")
            report = panel.report
            text = str(panel.text.render())
            assert f"Signals: {report.matched} matched, 0 missed, 0 extra" in text
            assert "Slippage in total: 0.00" in text
            assert f"backtest {report.backtest_pnl:,.2f}" in text

            await pilot.press("c")  # the chart: its signals, live fills and backtest fills
            await wait_for(pilot, lambda: screen.detail is not None, what="the chart")
            sources = {m.source for m in screen.chart.data.markers}
            assert sources == {"signal", "fill", "backtest"}
            note = str(screen.query_one("#dp-chart-note", Static).render())
            assert f"{len(fills)} live fills" in note
    finally:
        run.finish()


def hold_position(run: Any) -> Decimal:
    """Step the runner until the deployment holds a position; its quantity."""
    for _ in range(40):
        qty = run.kash.deployment.get(run.name).position_qty
        if qty:
            return qty.normalize()
        run.step(1)
    raise AssertionError("the wave never bought")


def notes(app: Any) -> str:
    return " ".join(str(n.message) for n in app._notifications)  # noqa: SLF001


def flatten_orders(kash: Any) -> list[Any]:
    return [e for e in kash.deployment.journal("wave", kinds=(EventKind.ORDER_SENT,))
            if e.data.get("flatten")]


async def test_halt_all_asks_first_then_halts_and_flattens_every_running_deployment(
    market: BrokerSetup,
) -> None:
    kash, fake = market.kash, market.fake
    deploy(kash, market.portfolio)
    run = start_runner(kash, fake, "wave")
    try:
        held = hold_position(run)
        app = market.app()
        async with app.run_test(size=SIZE) as pilot:
            await open_place(pilot)
            await wait_for(pilot, lambda: rows(app) and rows(app)[0]["State"] == "running",
                           what="the running deployment")
            await pilot.press("K")
            await pilot.pause()
            assert isinstance(app.screen, HaltModal)
            text = screen_text(app)
            assert "Halt every deployment of Demo?" in text
            assert "1 running now, 1 holding a position." in text
            assert "Halt all (y)" in text and "Halt all and flatten (f)" in text
            await pilot.press("n")  # no: nothing happens
            await settle(pilot)
            assert kash.deployment.get("wave").state is DeploymentState.RUNNING
            await pilot.press("K")
            await pilot.pause()
            await pilot.press("f")  # halt all and flatten
            await wait_for(pilot, lambda: rows(app)[0]["State"] == "halted", what="the halt")
            assert "Halted wave: 0 open orders cancelled; closing order" in notes(app)
            run.thread.join(10)
            assert not run.thread.is_alive()  # the runner obeyed
            assert status(app).startswith("wave is halted:")
    finally:
        run.stop.set()
        run.thread.join(10)
    assert kash.deployment.get("wave").state is DeploymentState.HALTED
    (closing,) = flatten_orders(kash)
    assert f"({held:f})" in closing.message
    order = next(o for o in fake.orders if o["id"] == closing.data["order_id"])
    assert (order["side"], Decimal(order["qty"])) == ("sell", held)


async def test_k_asks_whether_to_flatten_and_y_halts_keeping_the_position(
    market: BrokerSetup,
) -> None:
    kash, fake = market.kash, market.fake
    deploy(kash, market.portfolio)
    run = start_runner(kash, fake, "wave")
    try:
        held = hold_position(run)
        app = market.app()
        async with app.run_test(size=SIZE) as pilot:
            await open_place(pilot)
            await wait_for(pilot, lambda: rows(app) and rows(app)[0]["State"] == "running",
                           what="the running deployment")
            await pilot.press("k")
            await pilot.pause()
            assert isinstance(app.screen, HaltModal)
            text = screen_text(app)
            assert "Halt wave?" in text
            assert f"It holds {held:f} {SYMBOL}: flatten also closes that at market" \
                in app.screen.detail
            assert "Halt (y)" in text and "Halt and flatten (f)" in text
            await pilot.press("enter")  # Cancel has the focus: Enter alone halts nothing
            await settle(pilot)
            assert not isinstance(app.screen, HaltModal)
            assert kash.deployment.get("wave").state is DeploymentState.RUNNING
            await pilot.press("k")
            await pilot.pause()
            await pilot.press("y")  # halt only
            await wait_for(pilot, lambda: rows(app)[0]["State"] == "halted", what="the halt")
            assert "Halted wave: 0 open orders cancelled." in notes(app)
            run.thread.join(10)
            assert not run.thread.is_alive()
    finally:
        run.stop.set()
        run.thread.join(10)
    assert flatten_orders(kash) == []  # the position stays
    assert kash.deployment.get("wave").position_qty == held


async def test_delete_is_refused_while_running_then_asks_and_removes_a_stopped_one(
    market: BrokerSetup,
) -> None:
    kash, fake = market.kash, market.fake
    deploy(kash, market.portfolio)
    run = start_runner(kash, fake, "wave")
    try:
        app = market.app()
        async with app.run_test(size=SIZE) as pilot:
            await open_place(pilot)
            await wait_for(pilot, lambda: rows(app) and rows(app)[0]["State"] == "running",
                           what="the running deployment")
            await pilot.press("x")
            await settle(pilot)
            assert not isinstance(app.screen, ConfirmModal)
            assert "wave is running; stop it (t) or halt it (k) before deleting it." \
                in notes(app)
            assert [d.name for d in kash.deployment.list()] == ["wave"]
            await pilot.press("t")  # stop
            run.thread.join(15)
            await wait_for(pilot, lambda: rows(app)[0]["State"] == "stopped", what="the stop")
            await pilot.press("delete")
            await pilot.pause()
            assert isinstance(app.screen, ConfirmModal)
            assert "Delete deployment wave?" in screen_text(app)
            await pilot.press("n")
            await settle(pilot)
            assert [d.name for d in kash.deployment.list()] == ["wave"]
            await pilot.press("x")
            await pilot.pause()
            await pilot.press("y")
            await wait_for(pilot, lambda: not rows(app), what="the row to go")
            assert "Deleted deployment wave and its journal." in notes(app)
            assert "No deployments in Demo yet" in status(app)
    finally:
        run.stop.set()
        run.thread.join(10)
    assert kash.deployment.list() == []


async def test_at_80_columns_nothing_scrolls_sideways_and_journal_times_say_utc(
    market: BrokerSetup,
) -> None:
    kash, fake = market.kash, market.fake
    deploy(kash, market.portfolio, name="wave-with-a-long-name")
    run = start_runner(kash, fake, "wave-with-a-long-name")
    try:
        hold_position(run)
        app = market.app()
        async with app.run_test(size=SIZE) as pilot:
            screen = await open_place(pilot)
            await wait_for(pilot, lambda: rows(app) and rows(app)[0]["State"] == "running",
                           what="the running deployment")
            await settle(pilot)
            table = screen.table
            assert table.virtual_size.width <= table.scrollable_content_region.width
            row = rows(app)[0]
            d = kash.deployment.get("wave-with-a-long-name")
            assert row["Name"] == "wave-with-a-l…"
            assert row["Position"] == f"{d.position_qty.normalize():f}" and row["P&L"] == f"{d.pnl:,.2f}"
            assert row["Health"].startswith("ok ") and row["Market"] == f"{SYMBOL} 1Min"
            details = status(app)  # the rest, for the highlighted one
            for part in ("wave-with-a-long-name: sma_crossover(", "PAPER Alpaca paper",
                         f"last bar {d.last_bar_at:%m-%d %H:%M} UTC", "today", "polls bars"):
                assert part in details, part
            assert "…" not in details
            # the journal's times are UTC and its header says so
            header = next(line for line in screen_text(app).splitlines()
                          if line.startswith("Time (UTC)"))
            assert header.split()[2:4] == ["Event", "What"]
            await wait_for(pilot, lambda: screen.journal.last_id is not None, what="journal")
            last = kash.deployment.journal("wave-with-a-long-name", limit=1)[-1]
            await wait_for(pilot, lambda: screen.journal.last_id >= last.id, what="entries")
            text = "\n".join(journal_lines(app))
            assert f"{last.at.astimezone(UTC):%m-%d %H:%M:%S}" in text

            await pilot.resize_terminal(160, 48)  # wide: the columns of kash deploy list
            await settle(pilot)
            await wait_for(pilot, lambda: tuple(rows(app)[0]) == COLUMNS, what="wide columns")
            assert table.virtual_size.width <= table.scrollable_content_region.width
            assert rows(app)[0]["Name"] == "wave-with-a-long-name"
    finally:
        run.finish()


async def test_parity_is_computed_again_only_after_a_new_signal_or_fill(
    market: BrokerSetup,
) -> None:
    kash, fake = market.kash, market.fake
    deploy(kash, market.portfolio)
    run = start_runner(kash, fake, "wave")
    marks = (EventKind.SIGNAL, EventKind.FILL)
    try:
        run.step(12)
        app = market.app()
        async with app.run_test(size=SIZE) as pilot:
            screen = await open_place(pilot)
            await pilot.press("p")
            panel = screen.query_one(ParityPanel)
            await wait_for(pilot, lambda: panel.report is not None, what="the parity report")
            quiet = busy = 0
            for _ in range(14):
                report = panel.report
                before = len(kash.deployment.journal("wave", kinds=marks))
                run.step(1)
                bar = kash.deployment.get("wave").last_bar_at
                await wait_for(pilot, lambda bar=bar: screen.detail is not None
                               and screen.detail.signature[1] == bar, what="the new bar")
                await settle(pilot)
                if len(kash.deployment.journal("wave", kinds=marks)) == before:
                    assert panel.report is report, "a bar alone recomputed the parity report"
                    quiet += 1
                else:
                    await wait_for(pilot, lambda report=report: panel.report is not report,
                                   what="the report after a signal or fill")
                    busy += 1
            assert quiet and busy
            report = panel.report
            await pilot.press("r")  # refresh reads everything again
            await wait_for(pilot, lambda: panel.report is not report, what="the refresh")
    finally:
        run.finish()


async def test_the_start_form_checks_as_you_type_and_refuses_live_in_one_sentence(
    market: BrokerSetup,
) -> None:
    kash, fake = market.kash, market.fake
    kash.connection.add(NewConnection(name="real", environment=Environment.LIVE,
                                      trading_url=fake.base_url, data_url=fake.base_url))
    kash.connection.enable_live("real", "real")
    kash.workspace.create_portfolio("Demo", "Real money", PortfolioMode.LIVE, connection="real")
    kash.connection.disable_live("real")  # opted out again since
    app = market.app()
    async with app.run_test(size=SIZE) as pilot:
        await open_place(pilot)
        await pilot.press("n")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, DeployForm)
        assert not form.query_one("#dp-confirm-field").display  # PAPER: no confirmation
        await type_text(pilot, "live-one")
        portfolio = form.query_one("#dp-portfolio", Select)
        real = next(p for p in form.defaults.portfolios if p.name == "Real money")
        portfolio.value = real.id
        await settle(pilot)
        assert form.query_one("#dp-confirm-field").display
        form.query_one("#dp-strategy", Select).value = "sma_crossover"
        symbol = form.query_one("#dp-symbol", Input)
        symbol.value = SYMBOL
        await settle(pilot)
        await pilot.press("f9")  # Start while the LIVE checks are missing
        await settle(pilot)
        text = screen_text(app)
        assert "Type 'live-one' to confirm it trades real money." in text or \
            "Type 'live-one'" in str(form.query_one("#dp-confirm-error", Static).render())
        loss = str(form.query_one("#dp-loss-limit-error", Static).render())
        assert loss == "Give a daily loss limit (a LIVE deployment needs one), e.g. 2."
        assert kash.deployment.list() == []

        for field, text in (("dp-confirm", "live-one"), ("dp-loss-limit", "2"),
                            ("dp-max-orders", "0")):
            form.query_one(f"#{field}", Input).focus()
            await type_text(pilot, text)
        await settle(pilot)
        orders = str(form.query_one("#dp-max-orders-error", Static).render())
        assert orders == "A whole number of at least 1, or empty for no limit."
        assert form.query_one("#save").disabled
        await pilot.press("backspace", "1", "0")
        await settle(pilot)
        assert not form.query_one("#save").disabled
        await pilot.press("f9")
        await settle(pilot)
        refusal = str(form.query_one("#form-error", Static).render())
        assert refusal == (
            "Deployment 'live-one' trades the LIVE portfolio 'Real money', but live trading is "
            "not enabled on connection 'real'; opt in first with `kash connection enable-live "
            "real`.")
        assert app.screen is form  # the form stays open with the sentence
        assert kash.deployment.list() == []  # nothing stored half-way
        assert fake.orders == []


async def test_the_start_form_launches_a_background_runner_the_app_halts(
    market: BrokerSetup, isolated_env: dict[str, str],
) -> None:
    kash = market.kash
    app = market.app()
    pid = None
    try:
        async with app.run_test(size=SIZE) as pilot:
            await open_place(pilot)
            await pilot.press("n")
            await settle(pilot)
            form = app.screen
            assert isinstance(form, DeployForm)
            await type_text(pilot, "from-app")
            form.query_one("#dp-strategy", Select).value = "sma_crossover"
            form.query_one("#dp-symbol", Input).value = SYMBOL
            form.query_one("#dp-timeframe", Select).value = "1Min"
            await settle(pilot)
            short = form.schema_form.widget_for("short_period")
            short.value = "3"
            form.schema_form.widget_for("long_period").value = "8"
            await settle(pilot)
            await pilot.press("f9")
            await wait_for(pilot, lambda: not isinstance(app.screen, DeployForm),
                           what="the form to close", timeout=30)
            d = kash.deployment.get("from-app")
            assert d.params == {"short_period": 3, "long_period": 8}
            assert d.log_path and Path(d.log_path).name == "from-app.log"
            await wait_for(pilot, lambda: kash.deployment.get("from-app").pid is not None
                           and rows(app)[0]["State"] == "running", what="the runner", timeout=90)
            pid = kash.deployment.get("from-app").pid
            app.screen.table.focus()
            await pilot.press("k")  # the kill switch asks: halt only
            await pilot.pause()
            await pilot.press("y")
            await wait_for(pilot, lambda: rows(app)[0]["State"] == "halted", what="the halt",
                           timeout=30)
        # the app is closed; the runner saw the halt and exits by itself
        from tests.cli.test_cli_deploy import _alive
        from tests.integration.test_deployments import wait_for as wait

        wait(lambda: not _alive(pid), "the runner to exit", timeout=30)
    finally:
        if pid is not None and _pid_alive(pid):
            os.kill(pid, signal.SIGTERM)


def _pid_alive(pid: int) -> bool:
    from tests.cli.test_cli_deploy import _alive

    return _alive(pid)


@pytest.mark.parametrize("size", [(80, 24), (160, 48)], ids=["80x24", "160x48"])
def test_snapshot_deployments(snap_compare, market: BrokerSetup,  # noqa: ANN001
                              size: tuple[int, int]) -> None:
    kash, fake = market.kash, market.fake
    deploy(kash, market.portfolio)
    run = start_runner(kash, fake, "wave")
    run.step(20)
    run.finish()

    async def run_before(pilot: Any) -> None:
        await open_place(pilot)
        await wait_for(pilot, lambda: bool(rows(pilot.app)), what="the row")
        await pilot.press("p" if size[0] < 100 else "c")
        screen = pilot.app.screen
        await wait_for(pilot, lambda: screen.detail is not None, what="the parity and chart")
        await settle(pilot)

    assert snap_compare(market.app(), terminal_size=size, run_before=run_before)


def test_a_parity_report_older_than_the_refresh_age_is_computed_again(
    market: BrokerSetup,
) -> None:
    """Without a new signal or fill the report is kept, until it is PARITY_REFRESH_SECONDS old
    (a signal the deployment missed has no journal entry to trigger it)."""
    from dataclasses import replace as changed

    from kash_tui.tui.screens.deployments.reads import PARITY_REFRESH_SECONDS, read_detail

    kash, fake = market.kash, market.fake
    deploy(kash, market.portfolio)
    run = start_runner(kash, fake, "wave")
    try:
        run.step(12)
    finally:
        run.finish()
    d = kash.deployment.get("wave")
    first = read_detail(kash, d)
    assert first.parity is not None
    kept = read_detail(kash, d, first)
    assert kept.parity is first.parity
    old = changed(first, parity_at=first.parity_at - PARITY_REFRESH_SECONDS - 1)
    again = read_detail(kash, d, old)
    assert again.parity is not first.parity and again.parity == first.parity
    assert read_detail(kash, d, first, force=True).parity is not first.parity


async def test_the_details_line_of_a_halted_deployment_fits_its_three_lines_at_80(
    market: BrokerSetup,
) -> None:
    """A long halt reason (the daily loss limit's) leaves out the least needed details
    rather than being cut off."""
    from rich.text import Text

    kash, fake = market.kash, market.fake
    deploy(kash, market.portfolio)
    run = start_runner(kash, fake, "wave")
    try:
        run.step(12)
    finally:
        run.finish()
    reason = ("Daily loss limit reached: equity 97412.55 is 2.59% below the start-of-day "
              "100012.34 (limit 2.5%); halted until started again.")  # the runner's sentence
    kash.deployment.halt("wave", reason=reason)
    app = market.app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_place(pilot)
        await wait_for(pilot, lambda: rows(app) and rows(app)[0]["State"] == "halted",
                       what="the halted deployment")
        await settle(pilot)
        text = status(app)
        assert text.startswith(f"wave is halted: {reason}")
        assert "sma_crossover(short_period=3, long_period=8) on DEPL 1Min" in text
        width = screen.status_line.content_region.width
        assert len(Text(text).wrap(app.console, width)) <= 3
