"""``kash backtest --stop-loss/--take-profit/--trailing-stop/--intrabar`` and ``kash runs show``
of such a run, through ``main`` in the test process."""

from __future__ import annotations

import pytest

from tests.cli.outcome import as_json, ok, refused

# DEMOB with fast crossovers and 1 % exits: many bars touch both the stop and the target
FAST = ("backtest", "--symbol", "DEMOB", "--strategy", "sma_crossover", "--params",
        '{"short_period": 3, "long_period": 8}')
EXITS = ("--stop-loss", "1", "--take-profit", "1%")


def test_json_carries_the_exits_reasons_and_sensitivity(kash_main, sqlite_db_url: str) -> None:  # noqa: ANN001
    data = as_json(kash_main(*FAST, *EXITS, "--json", "--db", sqlite_db_url))
    s = data["settings"]
    assert (s["stop_loss_pct"], s["take_profit_pct"], s["trailing_stop_pct"]) == (1.0, 1.0, None)
    assert s["intrabar"] == "pessimistic" and s["fill_model"] == "next_open"
    exits = data["exits"]
    assert exits["ambiguous_bars"] > 10
    sens = exits["sensitivity"]
    assert (sens["intrabar"], sens["other_intrabar"]) == ("pessimistic", "optimistic")
    assert sens["total_return_pct"] == pytest.approx(data["metrics"]["total_return_pct"])
    assert sens["other_total_return_pct"] > sens["total_return_pct"]  # targets first pays
    assert sens["round_trips"] == data["metrics"]["round_trips"]
    reasons = [f["reason"] for f in data["fills"]]
    assert set(reasons) == {"signal", "stop", "target"}
    assert {r for f, r in zip(data["fills"], reasons, strict=True) if f["side"] == "buy"} == {
        "signal"}

    optimistic = as_json(kash_main(*FAST, *EXITS, "--intrabar", "optimistic", "--json",
                                   "--db", sqlite_db_url))
    assert optimistic["metrics"]["total_return_pct"] == pytest.approx(
        sens["other_total_return_pct"])
    assert optimistic["exits"]["sensitivity"]["other_total_return_pct"] == pytest.approx(
        sens["total_return_pct"])


def test_text_output_shows_exits_ambiguity_sensitivity_and_exit_reasons(
    kash_main, sqlite_db_url: str,  # noqa: ANN001
) -> None:
    out = ok(kash_main(*FAST, *EXITS, "--trailing-stop", "3", "--db", sqlite_db_url)).stdout
    assert "Exits: stop loss 1%, take profit 1%, trailing stop 3%" in out
    assert "Intrabar: pessimistic (a bar touching stop and target takes the stop); " in out
    assert " ambiguous bars" in out
    line = next(x for x in out.splitlines() if x.startswith("Sensitivity: "))
    assert "pessimistic" in line and "optimistic" in line and "round trips" in line
    assert "EXIT BY" in out and " target" in out and " stop" in out

    run_id = out.split(":", 1)[0].removeprefix("Run #")
    shown = ok(kash_main("runs", "show", run_id, "--db", sqlite_db_url)).stdout
    assert line in shown and "EXIT BY" in shown
    data = as_json(kash_main("runs", "show", run_id, "--json", "--db", sqlite_db_url))
    assert data["settings"]["trailing_stop_pct"] == 3.0
    assert data["exits"]["ambiguous_bars"] > 0


def test_a_run_without_exits_prints_as_before(kash_main, sqlite_db_url: str) -> None:  # noqa: ANN001
    out = ok(kash_main(*FAST, "--db", sqlite_db_url)).stdout
    assert "Exits" not in out and "Sensitivity" not in out and "EXIT BY" not in out
    data = as_json(kash_main(*FAST, "--json", "--db", sqlite_db_url))
    assert data["exits"] == {"ambiguous_bars": 0, "sensitivity": None}
    assert data["settings"]["stop_loss_pct"] is None
    assert {f["reason"] for f in data["fills"]} == {"signal"}


@pytest.mark.parametrize(("args", "words"), [
    (("--stop-loss", "abc"), "'abc' is not a percent; give a number such as 5 or 5%"),
    (("--stop-loss", "100"), "Stop loss must be a percent above 0 and below 100"),
    (("--trailing-stop", "-2"), "Trailing stop must be a percent above 0 and below 100"),
    (("--take-profit", "0"), "Take profit must be a percent above 0"),
    (("--take-profit", "nan"), "Take profit must be a percent above 0"),
    (("--intrabar", "optimistic"), "--intrabar goes with --stop-loss, --take-profit or"),
    (("--stop-loss", "2", "--intrabar", "lucky"), "invalid choice: 'lucky'"),
])
def test_bad_exit_values_are_one_sentence_and_store_nothing(
    kash_main, sqlite_db_url: str, args: tuple[str, ...], words: str,  # noqa: ANN001
) -> None:
    assert words in refused(kash_main(*FAST, *args, "--db", sqlite_db_url))
    listed = as_json(kash_main("runs", "list", "--json", "--db", sqlite_db_url))
    assert [r for r in listed if "run_id" in r and not str(r["run_id"]).startswith("wf")] == []
