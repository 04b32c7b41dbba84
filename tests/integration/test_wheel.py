"""The built wheel carries its migrations and themes and runs them from its own copy."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not (REPO / "README.md").is_file():
        pytest.fail("README.md is missing: pyproject.toml names it as the readme, so building "
                    "or installing Kash fails", pytrace=False)
    out = tmp_path_factory.mktemp("dist")
    cmd = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--wheel-dir", str(out), str(REPO)]
    if importlib.util.find_spec("hatchling") is not None:
        cmd.insert(4, "--no-build-isolation")  # offline: the backend is already here
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=600,
                            cwd=tmp_path_factory.mktemp("build-cwd"))
    assert result.returncode == 0, result.stdout + result.stderr
    (built,) = out.glob("kash_tui-*.whl")
    return built


def test_wheel_ships_migrations_and_themes(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    assert "kash_tui/_migrations/env.py" in names
    assert "kash_tui/_migrations/script.py.mako" in names
    versions = [n for n in names if n.startswith("kash_tui/_migrations/versions/")]
    assert any(Path(n).name.startswith("0001") and n.endswith(".py") for n in versions), versions
    repo_versions = sorted(p.name for p in (REPO / "migrations" / "versions").glob("*.py"))
    assert sorted(Path(n).name for n in versions if n.endswith(".py")) == repo_versions

    themes = sorted(p.name for p in (REPO / "themes").glob("*") if p.is_file())
    assert {"kash-dark.toml", "kash-light.toml", "kash-16.toml"} <= set(themes)
    shipped = sorted(Path(n).name for n in names if n.startswith("kash_tui/_themes/"))
    assert shipped == themes
    assert "kash_tui/cli/__init__.py" in names and "kash_tui/provider.py" in names
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
    assert not [n for n in names if n.startswith("tests/")]
    entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    assert "kash = kash_tui.cli:main" in zipfile.ZipFile(wheel).read(entry_points).decode()


def test_installed_wheel_migrates_from_its_own_copy(wheel: Path, tmp_path: Path) -> None:
    target = tmp_path / "site"
    result = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--no-compile", "--target",
         str(target), str(wheel)],
        capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr

    elsewhere = tmp_path / "elsewhere"  # far from the source checkout
    elsewhere.mkdir()
    db_path = tmp_path / "wheel.db"
    code = (
        "import json, sys\n"
        "import kash_tui, kash_tui.resources as r\n"
        "from kash_tui.cli import main\n"
        f"code = main(['db', 'upgrade', '--db', {str(db_path)!r}])\n"
        "from kash_tui.db import Database\n"
        f"db = Database({str(db_path)!r})\n"
        "print(json.dumps({'code': code, 'package': kash_tui.__file__,\n"
        "    'migrations': str(r.migrations_dir()), 'themes': str(r.themes_dir()),\n"
        "    'current': db.current_revision(), 'head': db.head_revision()}))\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env["PYTHONPATH"] = str(target)
    run = subprocess.run([sys.executable, "-c", code], cwd=elsewhere, env=env,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    facts = json.loads(run.stdout.strip().splitlines()[-1])
    assert facts["code"] == 0
    assert Path(facts["package"]).is_relative_to(target)
    assert Path(facts["migrations"]) == target / "kash_tui" / "_migrations"
    assert Path(facts["themes"]) == target / "kash_tui" / "_themes"
    assert facts["current"] == facts["head"] is not None
    assert db_path.is_file()
