"""Stored runs with exits on SQLite and PostgreSQL: the exits, the fills' reasons, the ambiguous
bars and the sensitivity figures are stored and read back; runs stored before exits still open."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import numpy as np
import pytest
import sqlalchemy as sa

from kash_tui.config import Settings
from kash_tui.domains.market import Timeframe
from kash_tui.domains.trading import (
    BacktestRequest,
    BacktestSettings,
    FillSensitivity,
    IntrabarOrder,
)
from kash_tui.domains.trading.engine import run_backtest as run_engine
from kash_tui.domains.trading.models import FILL_DTYPE_V1, pack, unpack
from kash_tui.provider import ServiceProvider


@pytest.fixture
def kash(db_url: str) -> Iterator[ServiceProvider]:
    provider = ServiceProvider(Settings(database_url=db_url))
    provider.prepare()
    try:
        yield provider
    finally:
        provider.close()


EXITS = BacktestSettings(stop_loss_pct=1.0, take_profit_pct=1.5, trailing_stop_pct=2.0,
                         commission=0.001)


def _request(settings: BacktestSettings = EXITS) -> BacktestRequest:
    return BacktestRequest(symbol="DEMOA", strategy_id="sma_crossover",
                           params={"short_period": 5, "long_period": 20}, settings=settings)


def test_a_run_with_exits_stores_its_reasons_ambiguity_and_sensitivity(
    kash: ServiceProvider,
) -> None:
    report = kash.trading.run_backtest(_request())
    run = report.run
    assert run.settings == replace(EXITS, periods_per_year=252.0)

    bars = kash.market.load_bars("DEMOA", Timeframe.DAY_1)
    signals = kash.strategy.create_with_params(
        "sma_crossover", {"short_period": 5, "long_period": 20}).generate_signals(bars)
    args = (bars.open, bars.high, bars.low, bars.close, bars.timestamps, signals)
    direct = run_engine(*args, run.settings)
    other = run_engine(*args, replace(run.settings, intrabar=IntrabarOrder.OPTIMISTIC))
    assert report.fills == direct.fills
    assert {f.reason for f in report.fills} >= {"signal", "stop", "target"}
    assert run.ambiguous_bars == direct.ambiguous_bars > 0
    assert run.sensitivity == FillSensitivity(
        IntrabarOrder.OPTIMISTIC, other.metrics.total_return_pct, other.metrics.round_trips,
        other.ambiguous_bars,
    )
    assert other.metrics.total_return_pct > run.metrics.total_return_pct  # targets taken first

    again = kash.trading.get_run(run.id)
    assert again.run == run
    assert again.fills == report.fills  # reasons included
    assert again.fill_columns is not None
    assert np.array_equal(again.fill_columns.reason, direct.fill_columns.reason)
    assert kash.trading.list_runs()[0] == run


def test_an_optimistic_run_shows_the_pessimistic_figures_beside_it(kash: ServiceProvider) -> None:
    run = kash.trading.run_backtest(_request(replace(EXITS, intrabar="optimistic"))).run
    pess = kash.trading.run_backtest(_request()).run
    assert run.sensitivity is not None and pess.sensitivity is not None
    assert run.sensitivity.intrabar is IntrabarOrder.PESSIMISTIC
    assert run.sensitivity.total_return_pct == pess.metrics.total_return_pct
    assert pess.sensitivity.total_return_pct == run.metrics.total_return_pct


def test_a_stop_alone_has_no_sensitivity_and_no_ambiguous_bars(kash: ServiceProvider) -> None:
    run = kash.trading.run_backtest(_request(BacktestSettings(stop_loss_pct=1.0))).run
    assert run.sensitivity is None and run.ambiguous_bars == 0
    assert kash.trading.get_run(run.id).run.settings.stop_loss_pct == 1.0


def test_a_run_stored_before_exits_still_opens(kash: ServiceProvider) -> None:
    """A run as 0008 stored it: fills without a reason field, no exit columns set."""
    report = kash.trading.run_backtest(_request(BacktestSettings(commission=0.001)))
    with kash.db.engine.begin() as conn:
        blob = conn.execute(sa.text("SELECT fills_blob FROM backtest_runs WHERE id = :i"),
                            {"i": report.run.id}).scalar_one()
        records = unpack(blob)
        old = np.empty(records.shape[0], dtype=FILL_DTYPE_V1)
        for name in FILL_DTYPE_V1.names:
            old[name] = records[name]
        conn.execute(sa.text(
            "UPDATE backtest_runs SET fills_blob = :b, stop_loss_pct = NULL, "
            "take_profit_pct = NULL, trailing_stop_pct = NULL, other_total_return_pct = NULL, "
            "other_round_trips = NULL, other_ambiguous_bars = NULL WHERE id = :i"),
            {"b": pack(old), "i": report.run.id})
    again = kash.trading.get_run(report.run.id)
    assert again.run.settings.has_exits is False
    assert again.run.ambiguous_bars == 0 and again.run.sensitivity is None
    assert len(again.fills) == len(report.fills) > 10
    assert {f.reason for f in again.fills} == {"signal"}
    assert [(f.bar_index, f.price) for f in again.fills] == [
        (f.bar_index, f.price) for f in report.fills
    ]
    adapter_rows = kash.trading.list_runs()
    assert adapter_rows[0].id == report.run.id
