"""``kash_main``: the CLI's ``main`` called in the test process (for argument and message tests;
the end-to-end tests run the installed binary through ``run_kash``)."""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

KashMain = Callable[..., "subprocess.CompletedProcess[str]"]


class _Terminal(io.StringIO):
    """A text stream that says it is a terminal (or not)."""

    def __init__(self, tty: bool) -> None:
        super().__init__()
        self._tty = tty

    def isatty(self) -> bool:
        return self._tty


@pytest.fixture
def kash_main(isolated_env: dict[str, str], tmp_path: Path,
              monkeypatch: pytest.MonkeyPatch) -> KashMain:
    """``kash_main(*args, stdin_tty=False, stdout_tty=False, stderr_tty=False)`` ->
    ``CompletedProcess`` with the exit code, stdout and stderr of ``kash_tui.cli.main(args)``."""
    from kash_tui import logs

    monkeypatch.setattr(logs, "_configured", True)  # no file handler left on the test process
    monkeypatch.chdir(tmp_path)

    def run(*args: object, stdin_tty: bool = False, stdout_tty: bool = False,
            stderr_tty: bool = False, input: str = "") -> subprocess.CompletedProcess[str]:  # noqa: A002
        from kash_tui.cli import main

        out, err = _Terminal(stdout_tty), _Terminal(stderr_tty)
        stdin = _Terminal(stdin_tty)
        stdin.write(input)
        stdin.seek(0)
        argv = [str(a) for a in args]
        with monkeypatch.context() as m:
            m.setattr(sys, "stdin", stdin)
            m.setattr(sys, "argv", ["kash", *argv])
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                try:
                    code = main(argv)
                except SystemExit as exc:
                    code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        return subprocess.CompletedProcess(argv, code, out.getvalue(), err.getvalue())

    assert "KASH_DATABASE_URL" not in os.environ
    return run
