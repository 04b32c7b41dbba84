"""The domain law and the layering of docs/ARCHITECTURE, checked on the code as it is."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "kash_tui"
DOMAINS_DIR = PACKAGE / "domains"
DOMAIN_FILES = ("__init__.py", "service.py", "entities.py", "models.py", "repo.py",
                "service_impl.py")


def _domains() -> list[Path]:
    return sorted(
        p for p in DOMAINS_DIR.iterdir()
        if p.is_dir() and not p.name.startswith(("_", ".")) and p.name != "__pycache__"
    )


def _python(code: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PYTHONPATH"] = str(REPO)
    return subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True,
        timeout=120,
    )


def test_import_linter_contracts_are_kept() -> None:
    lint = Path(sys.executable).parent / ("lint-imports.exe" if os.name == "nt" else "lint-imports")
    if not lint.exists():
        pytest.fail(f"{lint} not found: install the dev extras (pip install '.[dev]')")
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO)
    result = subprocess.run(
        [str(lint), str(REPO / "pyproject.toml"), "--no-cache", "--no-logo"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=300,
    )
    output = result.stdout + result.stderr
    print(output)
    assert result.returncode == 0, output
    assert "broken" in output and " 0 broken" in output, output


def test_every_domain_has_the_same_files() -> None:
    domains = _domains()
    assert {d.name for d in domains} >= {"workspace", "connection", "market", "strategy",
                                         "trading"}
    missing = {
        d.name: [f for f in DOMAIN_FILES if not (d / f).is_file()] for d in domains
    }
    assert {k: v for k, v in missing.items() if v} == {}, missing


def _stdlib_or_external(module: str) -> bool:
    top = module.split(".")[0]
    return top != "kash_tui"


@pytest.mark.parametrize("domain", [d.name for d in _domains()])
def test_service_module_imports_only_stdlib_and_external_packages(domain: str) -> None:
    path = DOMAINS_DIR / domain / "service.py"
    if not path.is_file():
        pytest.fail(f"{path.relative_to(REPO)} is missing")
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    offending: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                offending.append(f"line {node.lineno}: relative import from {'.' * node.level}"
                                 f"{node.module or ''}")
            elif node.module and not _stdlib_or_external(node.module):
                offending.append(f"line {node.lineno}: from {node.module} import ...")
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if not _stdlib_or_external(alias.name):
                    offending.append(f"line {node.lineno}: import {alias.name}")
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute | ast.Name)
              and getattr(node.func, "attr", getattr(node.func, "id", "")) == "import_module"):
            offending.append(f"line {node.lineno}: dynamic import")
    for forbidden in ("sqlalchemy", "alembic", "alpaca", "textual"):
        for node in ast.walk(tree):
            names = (
                [a.name for a in node.names] if isinstance(node, ast.Import)
                else [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            )
            offending += [f"line {node.lineno}: imports {n}" for n in names
                          if n.split(".")[0] == forbidden]
    assert offending == [], f"{path.relative_to(REPO)}: {offending}"


def test_core_pulls_in_no_textual() -> None:
    result = _python(
        "import kash_tui.provider, kash_tui.cli.data; import sys; "
        "print(sorted(m for m in sys.modules if m.startswith('textual')))"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]", result.stdout


def test_cli_module_alone_is_light() -> None:
    result = _python(
        "import kash_tui.cli; import sys; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & "
        "{'sqlalchemy', 'numpy', 'textual', 'alembic', 'alpaca', 'pydantic'}))"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]", result.stdout


def test_domain_services_import_without_the_database_layer() -> None:
    """A service.py can be imported on its own: no SQLAlchemy, no Textual come with it."""
    modules = ", ".join(
        f"kash_tui.domains.{d.name}.service" for d in _domains() if (d / "service.py").is_file()
    )
    result = _python(
        f"import importlib, sys\n"
        f"for m in '{modules}'.split(', '):\n"
        f"    importlib.import_module(m)\n"
        f"print(sorted({{m.split('.')[0] for m in sys.modules}} & "
        f"{{'sqlalchemy', 'alembic', 'textual', 'alpaca'}}))"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]", result.stdout
