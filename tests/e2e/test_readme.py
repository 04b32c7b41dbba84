"""The README's first session runs as written: every command of its shell block, in order, with
the installed ``kash`` found on the PATH the way the README says to put it there (the venv's
``bin`` folder), from the repository folder, on a fresh embedded database."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _first_session() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## A first session from the shell", 1)[1].split("\n## ", 1)[0]
    assert "source .venv/bin/activate" in section, "the README must say how kash gets on the PATH"
    blocks = re.findall(r"((?:\n    [^\n]*)+)", section)
    commands: list[str] = []
    for block in blocks:
        lines = [line[4:] for line in block.strip("\n").split("\n")]
        joined = "\n".join(lines).replace("\\\n", " ")
        commands += [line for line in joined.split("\n") if line.startswith("kash ")]
    return commands


def test_readme_first_session_runs_as_written(kash_bin: Path, tmp_path: Path) -> None:
    commands = _first_session()
    assert len(commands) >= 8, commands
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    for command in commands:
        argv = shlex.split(command, comments=True)
        done = subprocess.run(
            argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
            stdin=subprocess.DEVNULL,
        )
        assert done.returncode == 0, f"`{command}` failed:\n{done.stdout}\n{done.stderr}"
        assert "Traceback" not in done.stderr
    # the sample file really was imported and backtested under the portfolio
    listing = subprocess.run(
        ["kash", "runs", "list", "--portfolio", "Swing", "--json"], cwd=ROOT, env=env,
        capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
    )
    assert listing.returncode == 0, listing.stderr
    assert '"SAMPLE"' in listing.stdout
