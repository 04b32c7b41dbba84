"""Robust sweeps, ``--oos`` and ``kash walkforward`` through the CLI's ``main``: JSON fields,
stored walk-forwards listed and shown with runs, bad input in one sentence with exit 2."""

from __future__ import annotations

import pytest

from tests.cli.outcome import as_json, ok, refused

SWEEP = ("backtest", "--symbol", "DEMOA", "--strategy", "sma_crossover",
         "--sweep", "short_period=5:20:5,long_period=20:60:20")
WALK = ("walkforward", "--symbol", "DEMOA", "--strategy", "sma_crossover",
        "--sweep", "short_period=5:20:5,long_period=20:60:20")


def test_sweep_json_has_robust_fields_and_the_oos_split(kash_main, sqlite_db_url: str) -> None:  # noqa: ANN001
    db = ("--db", sqlite_db_url)
    out = as_json(kash_main(*SWEEP, "--rank-by", "robust:sharpe", "--oos", "30%", "--json", *db))
    assert out["rank_by"] == "robust:sharpe"
    first = out["results"][0]
    assert set(first) == {"params", "metrics", "robust"}  # params and metrics as before
    assert first["robust"]["metric"] == "sharpe" and first["robust"]["neighbours"] >= 2
    worsts = [r["robust"]["worst"] for r in out["results"]]
    assert worsts == sorted(worsts, reverse=True)
    split = out["oos"]
    assert split["fraction"] == 0.3 and split["params"] == first["params"]
    assert split["in_sample"]["bars"] + split["out_of_sample"]["bars"] == 2608
    assert split["in_sample"]["last_bar"] < split["out_of_sample"]["first_bar"]
    assert split["in_sample"]["metrics"] == first["metrics"]
    plain = as_json(kash_main(*SWEEP, "--json", *db))
    assert plain["oos"] is None and plain["rank_by"] == "sharpe"
    human = ok(kash_main(*SWEEP, "--oos", "0.3", *db)).stdout
    assert "WORST SHARPE" in human and "OUT OF SAMPLE (782 bars" in human


def test_walkforward_is_stored_listed_and_shown(kash_main, sqlite_db_url: str) -> None:  # noqa: ANN001
    db = ("--db", sqlite_db_url)
    out = as_json(kash_main(*WALK, "--train", "2y", "--test", "1y", "--anchored", "--json", *db))
    assert out["run_id"] == "wf1" and out["settings"]["anchored"] is True
    assert len(out["windows"]) == 8
    assert [w["train"]["first_bar"] for w in out["windows"]] == [out["settings"]["first_bar"]] * 8
    assert out["windows"][0]["test"]["first_bar"].startswith("2017-01-02")  # 2015-01-02 + 2y
    assert len(out["equity"]["times"]) == len(out["equity"]["values"])
    assert out["equity"]["times"][0] == out["windows"][0]["test"]["first_bar"]
    assert out["metrics"]["final_equity"] == out["equity"]["values"][-1]
    ok(kash_main("backtest", "--symbol", "DEMOA", "--strategy", "sma_crossover", *db))
    listed = as_json(kash_main("runs", "list", "--json", *db))
    assert [(r["run_id"], r.get("kind")) for r in listed] == [(1, None), ("wf1", "walkforward")]
    human = ok(kash_main("runs", "list", *db)).stdout
    assert "Walk-forward runs" in human and "wf1" in human and "2y/1y anchored" in human
    assert "Backtest runs:" in human and "sma_crossover" in human
    shown = as_json(kash_main("runs", "show", "wf1", "--json", *db))
    assert shown == out
    text = ok(kash_main("runs", "show", "wf1", *db)).stdout
    assert text.startswith("Walk-forward wf1: sma_crossover on DEMOA 1Day, 8 anchored windows")
    assert "Walk-forward efficiency" in text
    assert "Run #1" in ok(kash_main("runs", "show", "1", *db)).stdout


@pytest.mark.parametrize(("args", "sentence"), [
    (("--train", "2x", "--test", "6m"), "--train '2x' is not a length; give a number of bars"),
    (("--train", "2y", "--test", "0"), "--test '0' is not a length"),
    (("--train", "30y", "--test", "6m"), "too few for one window of 30y training and 6m test"),
    (("--train", "500", "--test", "100", "--rank-by", "luck"), "Cannot rank by 'luck'"),
])
def test_walkforward_bad_input_is_one_sentence(kash_main, sqlite_db_url: str, args, sentence) -> None:  # noqa: ANN001
    assert sentence in refused(kash_main(*WALK, *args, "--db", sqlite_db_url))
    assert as_json(kash_main("runs", "list", "--json", "--db", sqlite_db_url)) == []


def test_sweep_and_runs_bad_input(kash_main, sqlite_db_url: str) -> None:  # noqa: ANN001
    db = ("--db", sqlite_db_url)
    assert "--oos goes with --sweep" in refused(kash_main(
        "backtest", "--symbol", "DEMOA", "--strategy", "sma_crossover", "--oos", "30%", *db))
    assert "above 0 % and below 100 %" in refused(kash_main(*SWEEP, "--oos", "100%", *db))
    assert "above 0 % and below 100 %" in refused(kash_main(*SWEEP, "--oos", "lots", *db))
    assert "is not a run id" in refused(kash_main("runs", "show", "x1", *db))
    assert "no walk-forward run wf7" in refused(kash_main("runs", "show", "wf7", *db))
