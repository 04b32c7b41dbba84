"""Your own strategies from the command line: a file in the strategies folder is listed,
backtested and swept; broken files are listed as failed and nothing else stops; an installed
package's entry point is found; ``kash strategies check`` catches look-ahead and passes the
built-ins; ``kash strategies new`` writes a template that passes its check and backtests."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.outcome import as_json, ok, refused
from tests.strategy_files import (
    BROKEN,
    ENTRY_POINT_PACKAGE,
    GOOD,
    LOOP,
    PEEK,
    line_of,
    strategies_folder,
    strategy,
    write,
)


@pytest.fixture
def folder(isolated_env: dict[str, str]) -> Path:
    return strategies_folder(isolated_env)


def listed(kash_main, *args: str) -> dict[str, dict]:  # noqa: ANN001
    return {s["id"]: s for s in as_json(kash_main("strategies", "--json", *args))}


def test_a_strategy_file_is_listed_backtested_and_swept(kash_main, folder: Path,
                                                        sqlite_db_url: str) -> None:
    path = write(folder, "close_cross.py", GOOD)
    found = listed(kash_main)["close_cross"]
    assert found["state"] == "loaded" and found["source"] == "file"
    assert found["file"] == str(path) and found["name"] == "Close cross"
    assert found["params_schema"]["properties"]["period"]["default"] == 20
    human = ok(kash_main("strategies")).stdout
    assert "close_cross  (Close cross, 1Day, file)" in human and str(path) in human

    run = as_json(kash_main("backtest", "--symbol", "DEMOA", "--strategy", "close_cross",
                            "--params", '{"period": 30}', "--db", sqlite_db_url, "--json"))
    assert run["settings"]["strategy"] == "close_cross"
    assert run["settings"]["params"] == {"period": 30}
    assert run["metrics"]["round_trips"] > 0

    sweep = as_json(kash_main("backtest", "--symbol", "DEMOA", "--strategy", "close_cross",
                              "--sweep", "period=10:50:10", "--db", sqlite_db_url, "--json"))
    assert sorted(r["params"]["period"] for r in sweep["results"]) == [10, 20, 30, 40, 50]


def test_strategy_paths_in_the_config_file_are_read_too(kash_main, isolated_env, tmp_path
                                                        ) -> None:
    extra = tmp_path / "quant"
    write(extra, "close_cross.py", GOOD)
    config = Path(isolated_env["XDG_CONFIG_HOME"]) / "kash" / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(f'strategy_paths = ["{extra}"]\n', encoding="utf-8")
    assert listed(kash_main)["close_cross"]["file"] == str(extra / "close_cross.py")


def test_broken_files_are_listed_as_failed_and_the_rest_still_works(
    kash_main, folder: Path, sqlite_db_url: str
) -> None:
    for name, source in BROKEN.items():
        write(folder, name, source)
    write(folder, "close_cross.py", GOOD)
    found = as_json(kash_main("strategies", "--json"))
    loaded = {s["id"]: s for s in found if s["state"] == "loaded"}
    assert loaded["close_cross"]["source"] == "file"
    assert loaded["sma_crossover"]["source"] == "built-in"  # the built-in keeps its id
    failed = {f["file"]: f for f in found if f["state"] == "failed"}
    assert set(failed) == {str(folder / name) for name in BROKEN}

    def failure(name: str) -> dict:
        return failed[str(folder / name)]

    assert failure("syntax_error.py")["line"] == 1
    assert "syntax error" in failure("syntax_error.py")["reason"]
    assert failure("import_error.py")["line"] == 2
    assert "'kash_no_such_package', which is not installed" in failure("import_error.py")[
        "reason"]
    duplicate = failure("duplicate_id.py")
    assert "'sma_crossover' is already taken by a built-in strategy" in duplicate["reason"]
    assert duplicate["line"] == line_of(BROKEN["duplicate_id.py"], "class Strategy_")
    short = failure("wrong_length.py")
    assert "returned 299 signals for 300 bars" in short["reason"]
    assert short["line"] == line_of(BROKEN["wrong_length.py"], "def generate_signals")
    assert "returned NaN at bar 0" in failure("nan_signals.py")["reason"]
    for f in failed.values():
        assert f["reason"].endswith(".") and "\n" not in f["reason"]

    human = ok(kash_main("strategies")).stdout
    assert f"at: {folder / 'wrong_length.py'}:{short['line']}" in human
    assert "5 strategies failed to load" in human
    # everything else still works: a backtest of the good file and of a built-in
    ok(kash_main("backtest", "--symbol", "DEMOA", "--strategy", "close_cross",
                 "--db", sqlite_db_url))
    ok(kash_main("backtest", "--symbol", "DEMOA", "--strategy", "sma_crossover",
                 "--db", sqlite_db_url))
    line = refused(kash_main("backtest", "--symbol", "DEMOA", "--strategy", "wrong_length",
                             "--db", sqlite_db_url))
    assert "failed to load" in line and "wrong_length.py" in line


def test_an_entry_point_strategy_of_an_installed_package_is_found(
    kash_main, monkeypatch: pytest.MonkeyPatch, sqlite_db_url: str
) -> None:
    assert "ep_demo" not in listed(kash_main)
    monkeypatch.syspath_prepend(str(ENTRY_POINT_PACKAGE))  # what installing it does
    found = listed(kash_main)["ep_demo"]
    assert found["state"] == "loaded"
    assert found["source"] == "entry point ep_demo (kash-ep-demo)"
    assert found["file"].endswith("kash_ep_demo/__init__.py")
    ok(kash_main("backtest", "--symbol", "DEMOA", "--strategy", "ep_demo",
                 "--db", sqlite_db_url))


def test_reload_reads_an_edited_file_afresh(kash_main, folder: Path) -> None:
    write(folder, "close_cross.py", GOOD)
    assert listed(kash_main)["close_cross"]["name"] == "Close cross"
    write(folder, "close_cross.py", GOOD.replace('"Close cross"', '"Close cross v2"'))
    assert listed(kash_main, "--reload")["close_cross"]["name"] == "Close cross v2"


def test_check_catches_a_strategy_that_peeks_one_bar_ahead(kash_main, folder: Path) -> None:
    write(folder, "peek.py", strategy("peek_ahead", PEEK))
    result = kash_main("strategies", "check", "peek_ahead")
    assert result.returncode == 1, result.stderr
    assert "synthetic random walk" in result.stdout and "not market data" in result.stdout
    assert "FAIL  look-ahead" in result.stdout
    assert "it uses bars after its own" in result.stdout
    assert "Verdict: FAILED (look-ahead)." in result.stdout
    report = json.loads(kash_main("strategies", "check", "peek_ahead", "--json").stdout)
    assert report["passed"] is False and report["synthetic"] is True
    assert report["bars"] >= 100_000
    verdicts = {c["name"]: c["verdict"] for c in report["checks"]}
    assert verdicts == {"look-ahead": "fail", "determinism": "pass", "shape": "pass",
                        "schema": "pass", "speed": "pass"}


def test_check_passes_every_built_in(kash_main) -> None:
    builtins = [s["id"] for s in listed(kash_main).values() if s["source"] == "built-in"]
    assert {"sma_crossover", "mfi"} <= set(builtins)
    for sid in builtins:
        report = json.loads(ok(kash_main("strategies", "check", sid, "--json")).stdout)
        assert report["passed"], report
        assert all(c["verdict"] == "pass" for c in report["checks"]), report


def test_check_warns_about_a_python_loop_over_bars(kash_main, folder: Path) -> None:
    write(folder, "loop.py", strategy("loop_over_bars", LOOP))
    result = ok(kash_main("strategies", "check", "loop_over_bars"))  # a warning, not a failure
    assert "WARN  speed" in result.stdout
    assert "it loops in Python over bars" in result.stdout
    assert f"{folder / 'loop.py'}:" in result.stdout  # the busiest line of the loop
    assert "Verdict: passed, with 1 warning (speed)." in result.stdout


def test_check_on_stored_bars(kash_main, sqlite_db_url: str) -> None:
    report = json.loads(ok(kash_main("strategies", "check", "sma_crossover", "--symbol",
                                     "DEMOA", "--db", sqlite_db_url, "--json")).stdout)
    assert report["synthetic"] is False and report["passed"]
    assert report["data"].startswith("DEMOA 1Day, 2,608 stored bars")
    assert "no 5Min bars" in refused(kash_main(
        "strategies", "check", "sma_crossover", "--symbol", "DEMOA", "--timeframe", "5Min",
        "--db", sqlite_db_url))
    assert "Unknown strategy 'nope'" in refused(kash_main("strategies", "check", "nope"))
    assert "--params is not valid JSON" in refused(kash_main(
        "strategies", "check", "sma_crossover", "--params", "{"))


def test_the_template_passes_its_check_and_backtests(kash_main, folder: Path,
                                                     sqlite_db_url: str) -> None:
    result = ok(kash_main("strategies", "new", "my_idea"))
    path = folder / "my_idea.py"
    assert f"Wrote {path}." in result.stdout
    text = path.read_text(encoding="utf-8")
    assert 'id = "my_idea"' in text and "class MyIdea(ParameterizedStrategy)" in text
    report = json.loads(ok(kash_main("strategies", "check", "my_idea", "--json")).stdout)
    assert report["passed"] and {c["verdict"] for c in report["checks"]} == {"pass"}
    run = as_json(kash_main("backtest", "--symbol", "DEMOA", "--strategy", "my_idea",
                            "--db", sqlite_db_url, "--json"))
    assert run["metrics"]["round_trips"] > 0

    assert "already exists" in refused(kash_main("strategies", "new", "my_idea"))
    assert path.read_text(encoding="utf-8") == text  # not overwritten
    assert "not a usable strategy name" in refused(kash_main("strategies", "new", "My-Idea"))
    assert "'sma_crossover' already exists" in refused(
        kash_main("strategies", "new", "sma_crossover"))
    assert sorted(p.name for p in folder.iterdir()) == ["my_idea.py"]
