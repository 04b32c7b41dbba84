"""What the CLI prints: ``--json`` in one go with the same fields as before, tables aligned by
the cells a terminal draws, progress on a terminal's stderr only."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest

from tests.cli.outcome import ok

# The fields of `kash backtest --json` as they were before the output moved to orjson.
# the fields of the first --json format, every one still there, plus those added since
# (exits and universes, issue 13), named so that a renamed or dropped field fails
REPORT_KEYS = {"run_id", "settings", "metrics", "round_trips", "fills", "signals"} | {"exits"}
SETTINGS_KEYS = {
    "symbol", "timeframe", "strategy", "params", "start", "end", "first_bar", "last_bar", "bars",
    "initial_cash", "commission", "slippage", "position_size_pct", "whole_shares", "fill_model",
    "fill_model_optimistic", "periods_per_year", "portfolio_id",
} | {"stop_loss_pct", "take_profit_pct", "trailing_stop_pct", "intrabar", "universe"}
ROUND_TRIP_KEYS = {"entry_time", "exit_time", "entry_price", "exit_price", "qty", "pnl",
                   "return_pct", "open"}
FILL_KEYS = {"time", "side", "qty", "price", "commission"} | {"reason"}
SIGNAL_KEYS = {"time", "type", "price"}
METRIC_KEYS = {
    "final_equity", "total_return_pct", "buy_and_hold_return_pct", "cagr_pct",
    "max_drawdown_pct", "sharpe", "sortino", "win_rate_pct", "profit_factor", "round_trips",
    "exposure_pct",
}


class _CountingStdout(io.TextIOWrapper):
    """stdout whose byte buffer counts the writes that reach it."""

    def __init__(self) -> None:
        self.raw_bytes = io.BytesIO()
        self.writes = 0
        outer = self

        class Counting(io.BufferedWriter):
            def write(self, data) -> int:  # noqa: ANN001
                outer.writes += 1
                return super().write(data)

        super().__init__(Counting(self.raw_bytes, buffer_size=1 << 20), encoding="utf-8",
                         write_through=True)

    def isatty(self) -> bool:
        return False


@pytest.fixture
def db(kash_main, tmp_path: Path) -> str:  # noqa: ANN001
    url = f"sqlite:///{tmp_path / 'kash.db'}"
    ok(kash_main("workspace", "list", "--db", url))  # schema and demo data
    return url


def test_backtest_json_has_the_same_fields_and_is_written_in_one_go(
    kash_main, db: str, monkeypatch: pytest.MonkeyPatch  # noqa: ANN001
) -> None:
    from kash_tui import logs
    from kash_tui.cli import main

    monkeypatch.setattr(logs, "_configured", True)
    out = _CountingStdout()
    monkeypatch.setattr(sys, "stdout", out)
    code = main(["backtest", "--symbol", "DEMOA", "--timeframe", "1Min", "--strategy",
                 "sma_crossover", "--params", '{"short_period": 2, "long_period": 3}',
                 "--json", "--db", db])
    assert code == 0
    out.flush()
    report = json.loads(out.raw_bytes.getvalue())
    assert len(report["fills"]) > 1000  # a run with many fills
    assert out.writes <= 2, out.writes  # before: one write per token, millions for 1M bars
    assert set(report) == REPORT_KEYS
    assert set(report["settings"]) == SETTINGS_KEYS
    assert set(report["metrics"]) == METRIC_KEYS
    assert {frozenset(f) for f in report["fills"]} == {frozenset(FILL_KEYS)}
    assert {frozenset(r) for r in report["round_trips"]} == {frozenset(ROUND_TRIP_KEYS)}
    assert {frozenset(s) for s in report["signals"]} == {frozenset(SIGNAL_KEYS)}
    first = report["fills"][0]
    assert first["side"] in ("buy", "sell") and first["time"].endswith("Z")
    assert report["settings"]["params"] == {"short_period": 2, "long_period": 3}


def test_listing_json_keeps_enums_times_and_decimals_plain(kash_main, db: str) -> None:  # noqa: ANN001
    [portfolio] = json.loads(ok(kash_main("portfolio", "list", "--json", "--db", db)).stdout)
    assert portfolio["mode"] == "BACKTEST"  # an enum as its value
    assert portfolio["position_size_pct"] == 100  # a Decimal as a number
    [space] = json.loads(ok(kash_main("workspace", "list", "--json", "--db", db)).stdout)
    assert space["created_at"].startswith("20") and "T" in space["created_at"]


def test_tables_align_wide_characters_by_cell_width(kash_main, db: str) -> None:  # noqa: ANN001
    from rich.cells import cell_len

    for name in ("📈 Growth", "成长股", "Plain"):
        ok(kash_main("workspace", "create", name, "--db", db))
    lines = ok(kash_main("workspace", "list", "--db", db)).stdout.splitlines()
    header = lines[0]
    column = cell_len(header[: header.index("PORTFOLIOS")])
    for line in lines[1:]:
        name_part = line.split("  ")[0]
        rest = line[len(name_part):]
        count_at = cell_len(name_part) + (len(rest) - len(rest.lstrip(" ")))
        assert count_at == column, (line, count_at, column)


def test_progress_shows_on_a_terminal_only(kash_main, db: str) -> None:  # noqa: ANN001
    args = ("backtest", "--symbol", "DEMOA", "--strategy", "sma_crossover", "--sweep",
            "short_period=2:20:2,long_period=30:60:10", "--db", db)
    on_terminal = ok(kash_main(*args, stderr_tty=True))
    assert "Sweeping" in on_terminal.stderr
    assert "combinations/s" in on_terminal.stderr  # rate
    assert "left" in on_terminal.stderr  # time left
    in_a_pipe = ok(kash_main(*args, stderr_tty=False))
    assert in_a_pipe.stderr == ""
    assert in_a_pipe.stdout.splitlines()[0] == on_terminal.stdout.splitlines()[0]
