"""How a ``kash`` run should end, checked the same way by every CLI test."""

from __future__ import annotations

import json
import subprocess


def ok(result: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert result.returncode == 0, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stdout + result.stderr
    return result


def refused(result: subprocess.CompletedProcess[str]) -> str:
    """Exit code 2, exactly one line on stderr starting with 'kash:', no traceback; returns it."""
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stdout + result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("kash: "), lines[0]
    return lines[0]


def as_json(result: subprocess.CompletedProcess[str]):  # noqa: ANN201
    return json.loads(ok(result).stdout)
