"""``kash backtest --universe NAME --sweep`` and ``kash walkforward --universe NAME`` through the
CLI's ``main``: JSON like the one-symbol sweep and walk-forward, text, refusals in one sentence
with exit 2."""

from __future__ import annotations

from tests.cli.outcome import as_json, ok, refused

GRID = ("--sweep", "short_period=5:20:5,long_period=30:60:10")
UNIVERSE_SWEEP = ("backtest", "--universe", "demo", "--strategy", "sma_crossover", *GRID)
UNIVERSE_WALK = ("walkforward", "--universe", "demo", "--strategy", "sma_crossover", *GRID,
                 "--train", "2y", "--test", "1y")


def test_universe_sweep_json_and_text(kash_main, sqlite_db_url: str) -> None:  # noqa: ANN001
    db = ("--db", sqlite_db_url)
    ok(kash_main("universe", "create", "demo", "DEMOA", "DEMOB", *db))
    out = as_json(kash_main(*UNIVERSE_SWEEP, "--max-positions", "1", "--rank-by",
                            "robust:sharpe", "--oos", "30%", "--json", *db))
    assert out["settings"]["universe"] == {"name": "demo", "workspace": "Demo",
                                           "symbols": ["DEMOA", "DEMOB"], "max_positions": 1}
    assert out["settings"]["symbol"] == "demo" and out["rank_by"] == "robust:sharpe"
    assert len(out["results"]) == 16 and set(out["results"][0]) == {"params", "metrics", "robust"}
    assert out["oos"]["params"] == out["results"][0]["params"]
    # the best cell is the universe backtest of its parameters
    best = out["results"][0]["params"]
    alone = as_json(kash_main("backtest", "--universe", "demo", "--strategy", "sma_crossover",
                              "--max-positions", "1", "--params",
                              f'{{"short_period": {best["short_period"]}, "long_period": '
                              f'{best["long_period"]}}}', "--end", "2021-12-31", "--json", *db))
    assert alone["metrics"] == out["results"][0]["metrics"]
    text = ok(kash_main(*UNIVERSE_SWEEP, *db)).stdout
    assert text.startswith("Universe demo (2 symbols), at most 2 positions; each cell is a "
                           "whole universe run with shared cash.\n16 combinations ranked by "
                           "sharpe")


def test_universe_walkforward_is_stored_listed_and_shown(kash_main, sqlite_db_url: str) -> None:  # noqa: ANN001
    db = ("--db", sqlite_db_url)
    ok(kash_main("universe", "create", "demo", "DEMOA", "DEMOB", *db))
    out = as_json(kash_main(*UNIVERSE_WALK, "--max-positions", "1", "--json", *db))
    assert out["run_id"] == "wf1" and len(out["windows"]) == 8
    assert out["settings"]["universe"]["symbols"] == ["DEMOA", "DEMOB"]
    assert out["settings"]["symbol"] == "demo"
    shown = ok(kash_main("runs", "show", "wf1", *db)).stdout
    assert shown.startswith("Walk-forward wf1: sma_crossover on universe demo (2 symbols, at "
                            "most 1 open) 1Day, 8 rolling windows")
    listed = ok(kash_main("runs", "list", *db)).stdout
    assert "demo (2 sym)" in listed
    items = as_json(kash_main("runs", "list", "--json", *db))
    assert items[-1]["settings"]["universe"]["name"] == "demo"


def test_refusals_are_one_sentence(kash_main, sqlite_db_url: str) -> None:  # noqa: ANN001
    db = ("--db", sqlite_db_url)
    ok(kash_main("universe", "create", "demo", "DEMOA", "DEMOB", *db))
    assert "--rank-by goes with --sweep" in refused(kash_main(
        "backtest", "--universe", "demo", "--strategy", "sma_crossover", "--rank-by", "sharpe",
        *db))
    assert "--oos goes with --sweep" in refused(kash_main(
        "backtest", "--universe", "demo", "--strategy", "sma_crossover", "--oos", "30%", *db))
    assert "--max-positions must be 1 or more" in refused(kash_main(
        *UNIVERSE_SWEEP, "--max-positions", "0", *db))
    assert "one of them" in refused(kash_main(
        "walkforward", "--strategy", "sma_crossover", *GRID, "--train", "2y", "--test", "1y",
        *db))
    assert "one of them" in refused(kash_main(*UNIVERSE_WALK, "--symbol", "DEMOA", *db))
    assert "--max-positions goes with --universe" in refused(kash_main(
        "walkforward", "--symbol", "DEMOA", "--strategy", "sma_crossover", *GRID, "--train",
        "2y", "--test", "1y", "--max-positions", "2", *db))
    assert "no universe named 'nope'" in refused(kash_main(
        "walkforward", "--universe", "nope", "--strategy", "sma_crossover", *GRID, "--train",
        "2y", "--test", "1y", *db))
    assert "is not dask://HOST:PORT" in refused(kash_main(
        *UNIVERSE_WALK, "--executor", "dask://nohostport", *db))
    assert as_json(kash_main("runs", "list", "--json", *db)) == []
