"""A backtest on SQLite starts without SQLAlchemy, Alembic or alpaca-py: the schema check, the
first-run checks, loading the bars and storing the run go through raw connections. This is what
keeps ``kash backtest`` on 10,000 bars dominated by the work instead of by imports (see
bench/bench_real_sizes.py); the ORM still serves every other command, and is imported as soon
as one needs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

_PROBE = """
import json, sys
from kash_tui.cli import main
code = main(sys.argv[1:])
heavy = sorted({m.split(".")[0] for m in sys.modules} & {"sqlalchemy", "alembic", "alpaca"})
print(json.dumps({"code": code, "heavy": heavy}), file=sys.stderr)
"""


def _probe(db: Path | None, *args: str) -> tuple[dict, str]:
    where = ["--db", str(db)] if db is not None else []  # None: the embedded default
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, *args, *where],
        capture_output=True, text=True, env=os.environ.copy(), timeout=120, check=False,
    )
    return json.loads(done.stderr.strip().splitlines()[-1]), done.stdout


def test_a_backtest_imports_no_orm_and_other_commands_still_use_it(
    isolated_env: dict[str, str], tmp_path: Path
) -> None:
    db = tmp_path / "kash.db"
    first, _ = _probe(db, "data", "list")  # creates the schema and the demo data: ORM
    assert first == {"code": 0, "heavy": ["alembic", "sqlalchemy"]}

    result, out = _probe(db, "backtest", "--symbol", "DEMOA", "--strategy", "sma_crossover")
    assert result == {"code": 0, "heavy": []}
    assert "Run #1: sma_crossover" in out and "Final equity" in out

    # the run stored raw reads back through the ORM like any other
    result, out = _probe(db, "runs", "show", "1")
    assert result["code"] == 0 and "sqlalchemy" in result["heavy"]
    assert "Run #1: sma_crossover" in out and "Final equity" in out


def test_on_the_embedded_default_database_too(isolated_env: dict[str, str]) -> None:
    """Without --db (the everyday case: the default file in the user's data folder)."""
    first, _ = _probe(None, "data", "list")
    assert first["code"] == 0
    result, out = _probe(None, "backtest", "--symbol", "DEMOA", "--strategy", "mfi")
    assert result == {"code": 0, "heavy": []}
    assert "Run #1: mfi" in out


def test_a_universe_backtest_imports_no_orm(isolated_env: dict[str, str], tmp_path: Path) -> None:
    db = tmp_path / "kash.db"
    made, _ = _probe(db, "universe", "create", "Pair", "DEMOA", "DEMOB")
    assert made["code"] == 0
    result, out = _probe(db, "backtest", "--universe", "Pair", "--strategy", "sma_crossover",
                         "--max-positions", "2")
    assert result == {"code": 0, "heavy": []}, out
