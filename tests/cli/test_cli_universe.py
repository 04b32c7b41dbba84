"""``kash universe create|list|show|delete`` through the CLI's ``main``."""

from __future__ import annotations

import json
from pathlib import Path

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
