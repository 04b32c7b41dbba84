"""One list of user errors for the CLI and the app (kash_tui.errors), complete and cheap."""

from __future__ import annotations

import importlib
import inspect
import subprocess
import sys
from pathlib import Path

import pytest

from kash_tui import errors

REPO = Path(__file__).resolve().parents[2]
DOMAINS = sorted(
    p.name for p in (REPO / "kash_tui" / "domains").iterdir()
    if (p / "service.py").is_file()
)


def _error_roots(module_name: str) -> set[str]:
    """Exception classes defined in the module whose bases are not exceptions of that module."""
    module = importlib.import_module(module_name)
    roots = set()
    for _name, cls in inspect.getmembers(module, inspect.isclass):
        if cls.__module__ != module_name or not issubclass(cls, Exception):
            continue
        if not any(b.__module__ == module_name and issubclass(b, Exception)
                   for b in cls.__mro__[1:]):
            roots.add(f"{module_name}.{cls.__qualname__}")
    return roots


@pytest.mark.parametrize("domain", DOMAINS)
def test_every_domain_error_root_is_a_user_error(domain: str) -> None:
    roots = _error_roots(f"kash_tui.domains.{domain}.service")
    assert roots, f"domains/{domain}/service.py defines no exception"
    assert roots <= errors.USER_ERROR_ROOTS, roots - errors.USER_ERROR_ROOTS


def test_every_listed_root_exists() -> None:
    for name in sorted(errors.USER_ERROR_ROOTS):
        module_name, _, cls_name = name.rpartition(".")
        cls = getattr(importlib.import_module(module_name), cls_name, None)
        assert isinstance(cls, type) and issubclass(cls, Exception), name


def test_a_subclass_is_a_user_error_and_a_bug_is_not() -> None:
    from kash_tui.domains.market import NoBarsError
    from kash_tui.domains.trading import BacktestError

    assert errors.user_sentence(NoBarsError("No bars for X.")) == "No bars for X."
    assert errors.is_user_error(BacktestError("bad"))
    assert not errors.is_user_error(ValueError("bad"))  # BacktestError's base is not listed
    assert errors.user_sentence(KeyError("x")) is None


def test_cli_and_app_share_the_list() -> None:
    from kash_tui.tui import app

    assert app.user_sentence is errors.user_sentence
    assert not hasattr(app, "USER_ERRORS")


def test_checking_an_error_imports_no_domain() -> None:
    code = (
        "import sys, kash_tui.errors as e\n"
        "e.user_sentence(ValueError('x'))\n"
        "print(sorted(m for m in sys.modules if m.startswith('kash_tui.domains') "
        "or m.split('.')[0] in ('sqlalchemy', 'pydantic', 'numpy')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=REPO, check=True).stdout
    assert out.strip() == "[]"


def test_crash_report_is_written_redacted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from kash_tui import logs

    monkeypatch.setattr(logs, "log_file", lambda: tmp_path / "log" / "kash.log")
    secret = "SECRETKEY123456"
    logs.register_secret(secret)
    try:
        raise RuntimeError(f"boom with {secret}")
    except RuntimeError as exc:
        path = errors.write_crash_report(exc, "kash test")
        sentence = errors.crash_sentence(exc, path, start="unexpected error")
    assert path == tmp_path / "log" / "kash.log"
    text = path.read_text()
    assert "kash test" in text and "RuntimeError" in text and secret not in text
    assert sentence == f"unexpected error (RuntimeError); details are in {path}. Please report it."
