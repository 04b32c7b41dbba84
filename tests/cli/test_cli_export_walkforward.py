"""``kash runs export wfN --format csv|html``: the windows and the stitched equity of a stored
walk-forward (one symbol or a universe), the numbers checked against the stored walk-forward."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

from kash_tui.config import Settings
from kash_tui.provider import ServiceProvider
from tests.cli.outcome import as_json, ok, refused
from tests.cli.test_cli_export import _offline, _page

WALK = ("walkforward", "--strategy", "sma_crossover", "--sweep",
        "short_period=5:20:5,long_period=30:60:10", "--train", "2y", "--test", "1y")


def _stored(db_url: str, run_id: int):  # noqa: ANN202
    provider = ServiceProvider(Settings(database_url=db_url))
    provider.prepare()
    try:
        return provider.trading.get_walk_forward(run_id)
    finally:
        provider.close()


def test_html_of_a_walk_forward_holds_its_windows_and_efficiency(
    kash_main, db_url: str, tmp_path: Path,  # noqa: ANN001
) -> None:
    db = ("--db", db_url)
    out = as_json(kash_main(*WALK, "--symbol", "DEMOA", "--json", *db))
    assert out["run_id"] == "wf1"
    path = tmp_path / "wf.html"
    assert ok(kash_main("runs", "export", "wf1", "--out", path, *db)).stdout == (
        f"Wrote {path}.\n")
    page = _page(path)
    _offline(page)
    walk = _stored(db_url, 1)
    metrics = {row[0]: row[1] for row in page.tables["metrics"][1:]}
    assert float(metrics["Final equity"]) == walk.metrics.final_equity
    assert float(metrics["Walk-forward efficiency"]) == walk.efficiency
    assert float(metrics["In-sample CAGR (mean)"]) == walk.in_sample_cagr_pct
    windows = page.tables["windows"]
    assert windows[0][:5] == ["#", "Train (UTC)", "Test (UTC)", "short_period", "long_period"]
    assert len(windows) - 1 == len(walk.windows) == 8
    for row, w in zip(windows[1:], walk.windows, strict=True):
        assert int(row[0]) == w.number
        assert row[2] == f"{w.test_first:%Y-%m-%d}..{w.test_last:%Y-%m-%d}"
        assert [int(row[3]), int(row[4])] == [w.params["short_period"], w.params["long_period"]]
        assert float(row[5]) == w.train.total_return_pct
        assert float(row[6]) == w.test.total_return_pct
        assert (row[9] == "n/a") if w.efficiency is None else float(row[9]) == w.efficiency
    equity_svg = next(s for s in page.svgs if s.get("class") == "equity")
    assert float(equity_svg["data-max"]) == float(walk.equity.max())
    assert float(equity_svg["data-min"]) == float(walk.equity.min())
    assert page.polylines == 2


def test_csv_of_a_universe_walk_forward_has_every_window_and_equity_point(
    kash_main, sqlite_db_url: str, tmp_path: Path,  # noqa: ANN001
) -> None:
    db = ("--db", sqlite_db_url)
    ok(kash_main("universe", "create", "demo", "DEMOA", "DEMOB", *db))
    ok(kash_main(*WALK, "--universe", "demo", "--max-positions", "1", *db))
    assert ok(kash_main("runs", "export", "wf1", "--format", "csv", "--out", tmp_path / "w.csv",
                        *db)).stdout == (
        f"Wrote {tmp_path / 'w-windows.csv'} and {tmp_path / 'w-equity.csv'}.\n")
    walk = _stored(sqlite_db_url, 1)
    assert walk.universe is not None
    with (tmp_path / "w-windows.csv").open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == len(walk.windows) == 8
    for row, w in zip(rows, walk.windows, strict=True):
        assert int(row["window"]) == w.number
        assert row["test_first"] == f"{w.test_first:%Y-%m-%dT%H:%M:%SZ}"
        assert int(row["test_bars"]) == w.test_end - w.test_start
        assert int(row["param_short_period"]) == w.params["short_period"]
        assert float(row["is_sharpe"]) == w.train.sharpe
        assert float(row["oos_final_equity"]) == w.test.final_equity
        assert (row["efficiency"] == "") if w.efficiency is None else (
            float(row["efficiency"]) == w.efficiency)
    with (tmp_path / "w-equity.csv").open(encoding="utf-8") as f:
        points = list(csv.DictReader(f))
    assert [float(p["equity"]) for p in points] == walk.equity.tolist()
    assert float(points[-1]["equity"]) == walk.metrics.final_equity
    worst = min(float(p["drawdown_pct"]) for p in points)
    assert math.isclose(worst, walk.metrics.max_drawdown_pct, rel_tol=1e-9)
    # the universe is named in the page too
    ok(kash_main("runs", "export", "wf1", "--out", tmp_path, *db))
    page = _page(tmp_path / "wf-1.html")
    _offline(page)
    settings = {row[0]: row[1] for row in page.tables["settings"][1:]}
    assert json.loads(settings["universe_symbols"]) == ["DEMOA", "DEMOB"]


def test_export_of_a_missing_walk_forward_is_one_sentence(
    kash_main, sqlite_db_url: str, tmp_path: Path,  # noqa: ANN001
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    line = refused(kash_main("runs", "export", "wf9", "--out", out, "--db", sqlite_db_url))
    assert "no walk-forward run wf9" in line
    assert list(out.iterdir()) == []
