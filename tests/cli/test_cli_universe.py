"""``kash universe create|list|show|delete`` through the CLI's ``main``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.outcome import as_json, ok, refused


def test_create_list_show_delete(kash_main, sqlite_db_url: str, tmp_path: Path) -> None:  # noqa: ANN001
    db = ("--db", sqlite_db_url)
    out = ok(kash_main("universe", "create", "tech", "aapl", "MSFT", "nvda", *db)).stdout
    assert out == "Created universe 'tech' in 'Demo' with 3 symbol(s): AAPL, MSFT, NVDA.\n"
    listing = tmp_path / "etf.csv"
    listing.write_text("symbol\nSPY\nQQQ  # the Nasdaq 100\nIWM, DIA\n", encoding="utf-8")
    ok(kash_main("universe", "create", "etf", "--from-file", listing, *db))
    items = as_json(kash_main("universe", "list", "--json", *db))
    assert [(u["name"], u["symbols"]) for u in items] == [
        ("etf", ["SPY", "QQQ", "IWM", "DIA"]), ("tech", ["AAPL", "MSFT", "NVDA"])]
    shown = ok(kash_main("universe", "show", "etf", *db)).stdout
    assert "SPY QQQ IWM DIA" in shown
    assert ok(kash_main("universe", "delete", "etf", *db)).stdout == (
        "Deleted universe 'etf' from 'Demo'.\n")
    assert [u["name"] for u in json.loads(ok(kash_main("universe", "list", "--json", *db)).stdout)
            ] == ["tech"]


def test_bad_input_is_one_sentence_and_exit_2(kash_main, sqlite_db_url: str, tmp_path: Path) -> None:  # noqa: ANN001
    db = ("--db", sqlite_db_url)
    assert "not a valid symbol" in refused(kash_main("universe", "create", "u", "A$B", *db))
    assert "needs symbols" in refused(kash_main("universe", "create", "u", *db))
    assert "There is no file" in refused(
        kash_main("universe", "create", "u", "--from-file", tmp_path / "none.txt", *db))
    assert "no universe named 'u'" in refused(kash_main("universe", "show", "u", *db))
    assert "no workspace named 'X'" in refused(
        kash_main("universe", "create", "u", "AAPL", "--workspace", "X", *db))
    ok(kash_main("universe", "create", "u", "AAPL", *db))
    assert "already has a universe" in refused(kash_main("universe", "create", "u", "B", *db))
    assert as_json(kash_main("universe", "list", "--json", *db))[0]["symbols"] == ["AAPL"]


def test_backtest_universe_and_runs_show(kash_main, sqlite_db_url: str) -> None:  # noqa: ANN001
    db = ("--db", sqlite_db_url)
    ok(kash_main("universe", "create", "demo", "DEMOA", "DEMOB", *db))
    out = ok(kash_main("backtest", "--universe", "demo", "--strategy", "sma_crossover",
                       "--max-positions", "1", *db)).stdout
    assert "on universe demo (2 symbols)" in out
    assert "at most 1 positions" in out
    data = as_json(kash_main("backtest", "--universe", "demo", "--strategy", "sma_crossover",
                             "--json", *db))
    assert data["universe"] == {"name": "demo", "workspace": "Demo",
                                "symbols": ["DEMOA", "DEMOB"], "max_positions": 2}
    assert {f["symbol"] for f in data["fills"]} == {"DEMOA", "DEMOB"}
    assert sum(b["pnl"] for b in data["breakdown"]) == pytest.approx(
        data["metrics"]["final_equity"] - 10_000)
    shown = as_json(kash_main("runs", "show", data["run_id"], "--json", *db))
    assert shown["metrics"] == data["metrics"] and shown["fills"] == data["fills"]
    assert shown["round_trips"] == data["round_trips"]
    listing = ok(kash_main("runs", "list", *db)).stdout
    assert "demo (2 sym)" in listing
    assert "on universe demo" in ok(kash_main("runs", "show", data["run_id"], *db)).stdout


def test_backtest_universe_bad_input(kash_main, sqlite_db_url: str) -> None:  # noqa: ANN001
    db = ("--db", sqlite_db_url)
    bt = ("backtest", "--strategy", "sma_crossover")
    assert "--symbol SYM, or --universe" in refused(kash_main(*bt, *db))
    assert "not both" in refused(kash_main(*bt, "--symbol", "DEMOA", "--universe", "u", *db))
    assert "goes with --universe" in refused(kash_main(*bt, "--symbol", "DEMOA",
                                                       "--max-positions", "2", *db))
    ok(kash_main("universe", "create", "u", "DEMOA", "NOBARS", *db))
    assert "must be 1 or more" in refused(kash_main(*bt, "--universe", "u",
                                                    "--max-positions", "0", *db))
    assert "NOBARS" in refused(kash_main(*bt, "--universe", "u", *db))
    assert "No backtest runs yet" in ok(kash_main("runs", "list", *db)).stdout
