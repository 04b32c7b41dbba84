"""The import-linter contracts really guard the CLI and the app: a forbidden import injected into
a copy of the package breaks them.

Each case copies ``kash_tui`` and ``pyproject.toml`` to a temporary folder, adds one import line to
one module and runs ``lint-imports`` there (the copy first on ``PYTHONPATH``). Without the contract
(or with one that names only ``kash_tui.cli`` the module, as the old one did) the run would pass.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _lint(root: Path) -> subprocess.CompletedProcess[str]:
    lint = Path(sys.executable).parent / ("lint-imports.exe" if os.name == "nt" else "lint-imports")
    if not lint.exists():
        pytest.fail(f"{lint} not found: install the dev extras (pip install '.[dev]')")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PYTHONPATH"] = str(root)
    return subprocess.run(
        [str(lint), "--config", str(root / "pyproject.toml"), "--no-cache", "--no-logo"],
        cwd=root, env=env, capture_output=True, text=True, timeout=300,
    )


@pytest.fixture(scope="module")
def package_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("contracts")
    shutil.copytree(REPO / "kash_tui", root / "kash_tui",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    shutil.copy(REPO / "pyproject.toml", root / "pyproject.toml")
    return root


def _inject(root: Path, module: str, line: str) -> Path:
    path = root / (module.replace(".", "/") + ".py")
    text = path.read_text(encoding="utf-8")
    # after ``from __future__`` (which must stay first), before everything else
    marker = "from __future__ import annotations\n"
    assert marker in text, path
    path.write_text(text.replace(marker, marker + line + "\n", 1), encoding="utf-8")
    return path


def test_the_unchanged_copy_keeps_every_contract(package_copy: Path) -> None:
    result = _lint(package_copy)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("module", "line", "contract"),
    [
        ("kash_tui.cli.data", "import sqlalchemy", "tui and cli (every module"),
        ("kash_tui.cli.backtest", "import sqlalchemy", "tui and cli (every module"),
        ("kash_tui.cli.common", "import alpaca", "tui and cli (every module"),
        ("kash_tui.tui.app", "import sqlalchemy", "tui and cli (every module"),
        ("kash_tui.tui.screens.chart", "import sqlalchemy", "tui and cli (every module"),
        ("kash_tui.cli.trading", "from kash_tui.domains.trading import repo",
         "tui and cli (every module"),
        ("kash_tui.cli.backtest", "from kash_tui.cli import data",
         "each CLI command module depends only on the shared"),
        ("kash_tui.cli.universe", "from kash_tui.cli import backtest",
         "each CLI command module depends only on the shared"),
        ("kash_tui.cli.common", "from kash_tui.cli import workspace",
         "the CLI's shared modules (common, reports) import no command module"),
        ("kash_tui.cli.reports", "from kash_tui.cli import export",
         "the CLI's shared modules (common, reports) import no command module"),
    ],
    ids=["cli.data+sqlalchemy", "cli.backtest+sqlalchemy", "cli.common+alpaca",
         "tui.app+sqlalchemy", "tui.screens.chart+sqlalchemy", "cli.trading+repo",
         "cli.backtest+cli.data", "cli.universe+cli.backtest", "cli.common+cli.workspace",
         "cli.reports+cli.export"],
)
def test_a_forbidden_import_breaks_the_contract(
    package_copy: Path, module: str, line: str, contract: str
) -> None:
    path = package_copy / (module.replace(".", "/") + ".py")
    if not path.exists():
        pytest.fail(f"{module} is gone; pick another module of the same package for this case")
    original = path.read_text(encoding="utf-8")
    try:
        _inject(package_copy, module, line)
        result = _lint(package_copy)
    finally:
        path.write_text(original, encoding="utf-8")
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    broken = [ln for ln in output.splitlines() if ln.rstrip().endswith("BROKEN")]
    assert any(contract in ln for ln in output.splitlines()) and broken, output
    assert module in output, output


@pytest.mark.parametrize(
    ("module", "line", "chain"),
    [
        # one place importing another
        ("kash_tui.tui.screens.options", "from kash_tui.tui.screens import chart",
         "kash_tui.tui.screens.options -> kash_tui.tui.screens.chart"),
        # a shared module that places import, importing a place: places depend on each
        # other through it (the chart imports navigation, navigation would import options)
        ("kash_tui.tui.navigation", "from kash_tui.tui.screens import orders",
         "kash_tui.tui.navigation -> kash_tui.tui.screens.orders"),
    ],
    ids=["tui.options+tui.chart", "tui.navigation+tui.orders"],
)
def test_a_place_reaching_another_breaks_the_places_independence(
    package_copy: Path, module: str, line: str, chain: str
) -> None:
    path = package_copy / (module.replace(".", "/") + ".py")
    if not path.exists():
        pytest.fail(f"{module} is gone; pick another module of the same package for this case")
    original = path.read_text(encoding="utf-8")
    try:
        _inject(package_copy, module, line)
        result = _lint(package_copy)
    finally:
        path.write_text(original, encoding="utf-8")
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    lines = output.splitlines()
    # "... BROKEN (1 ignored import)": the contract ignores the registry's loaders
    broken = [ln for ln in lines if ln.rstrip().endswith("BROKEN") or " BROKEN (" in ln]
    assert any("each TUI place (kash_tui.tui.screens.*) is independent" in ln for ln in lines)
    assert broken, output
    assert chain in output, output
