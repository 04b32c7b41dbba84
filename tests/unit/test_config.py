"""Settings: --db beats KASH_* beats the TOML config file beats defaults; nothing at import."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from kash_tui.config import (
    ConfigError,
    Settings,
    config_file,
    default_database_path,
    load_settings,
    save_config_values,
)

REPO = Path(__file__).resolve().parents[2]


def _config(isolated_env: dict[str, str]) -> Path:
    path = Path(isolated_env["XDG_CONFIG_HOME"]) / "kash" / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def test_defaults_use_the_embedded_database(isolated_env: dict[str, str]) -> None:
    settings, warnings = load_settings()
    assert warnings == []
    assert settings.uses_default_database
    expected = Path(isolated_env["XDG_DATA_HOME"]) / "kash" / "kash.db"
    assert default_database_path() == expected
    assert settings.resolved_database_url == f"sqlite:///{expected}"
    assert settings.theme == "kash-dark"
    assert settings.demo_data is True


def test_database_url_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KASH_DATABASE_URL", "postgresql+psycopg://kash@db/team")
    settings, _ = load_settings()
    assert settings.resolved_database_url == "postgresql+psycopg://kash@db/team"
    assert not settings.uses_default_database


def test_explicit_db_wins_over_environment_and_file(
    monkeypatch: pytest.MonkeyPatch, isolated_env: dict[str, str]
) -> None:
    _config(isolated_env).write_text('database_url = "sqlite:////from/file.db"\n')
    monkeypatch.setenv("KASH_DATABASE_URL", "sqlite:////from/env.db")
    assert load_settings()[0].resolved_database_url == "sqlite:////from/env.db"
    assert load_settings("sqlite:////from/flag.db")[0].resolved_database_url == (
        "sqlite:////from/flag.db"
    )
    assert Settings(database_url="sqlite:////explicit.db").database_url == "sqlite:////explicit.db"


def test_config_file_values_are_loaded(isolated_env: dict[str, str]) -> None:
    _config(isolated_env).write_text(
        'theme = "solarized-light"\npoll_interval_seconds = 30\ndemo_data = false\n'
        "[keymap]\nrun_backtest = \"r\"\n"
    )
    settings, warnings = load_settings()
    assert warnings == []
    assert settings.theme == "solarized-light"
    assert settings.poll_interval_seconds == 30
    assert settings.demo_data is False
    assert settings.keymap == {"run_backtest": "r"}


def test_environment_beats_the_config_file(
    monkeypatch: pytest.MonkeyPatch, isolated_env: dict[str, str]
) -> None:
    _config(isolated_env).write_text('theme = "from-file"\n')
    monkeypatch.setenv("KASH_THEME", "from-env")
    assert load_settings()[0].theme == "from-env"


def test_kash_config_points_at_another_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    other = tmp_path / "team.toml"
    other.write_text('theme = "team"\n')
    monkeypatch.setenv("KASH_CONFIG", str(other))
    assert config_file() == other
    assert load_settings()[0].theme == "team"


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ('theme = "unterminated\n', "not valid TOML"),
        ("this is = = not toml\n", "not valid TOML"),
        ("poll_interval_seconds = 0\n", "poll_interval_seconds"),
        ('demo_data = "perhaps"\n', "demo_data"),
    ],
)
def test_broken_config_file_is_a_warning_and_defaults(
    monkeypatch: pytest.MonkeyPatch, isolated_env: dict[str, str], text: str, words: str
) -> None:
    path = _config(isolated_env)
    path.write_text('theme = "custom"\n' + text)
    monkeypatch.setenv("KASH_DATABASE_URL", "sqlite:////env/still/counts.db")
    settings, warnings = load_settings()
    assert len(warnings) == 1
    assert str(path) in warnings[0] and words in warnings[0]
    assert settings.theme == "kash-dark"  # nothing from the broken file
    assert settings.poll_interval_seconds == 5.0
    assert settings.resolved_database_url == "sqlite:////env/still/counts.db"
    assert path.read_text().startswith('theme = "custom"')  # the user's file is left alone


def test_invalid_environment_variable_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KASH_POLL_INTERVAL_SECONDS", "never")
    with pytest.raises(ConfigError, match="KASH_"):
        load_settings()


def test_save_config_values_writes_and_keeps_other_keys(isolated_env: dict[str, str]) -> None:
    path = _config(isolated_env)
    path.write_text('poll_interval_seconds = 12\n[keymap]\nquit = "q"\n')
    written = save_config_values(theme="nord")
    assert written == path
    data = tomllib.loads(path.read_text())
    assert data == {"poll_interval_seconds": 12, "keymap": {"quit": "q"}, "theme": "nord"}
    assert [p.name for p in path.parent.iterdir()] == ["config.toml"]  # no temp file left

    save_config_values(theme="dracula")
    settings, warnings = load_settings()
    assert warnings == []
    assert (settings.theme, settings.poll_interval_seconds) == ("dracula", 12)


def test_save_config_values_creates_the_folder(isolated_env: dict[str, str]) -> None:
    folder = Path(isolated_env["XDG_CONFIG_HOME"]) / "kash"
    assert not folder.exists()
    save_config_values(theme="nord")
    assert tomllib.loads((folder / "config.toml").read_text()) == {"theme": "nord"}


def test_nothing_is_written_at_import(tmp_path: Path) -> None:
    home = tmp_path / "fresh"
    dirs = {name: home / name.lower() for name in
            ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME")}
    for d in dirs.values():
        d.mkdir(parents=True)
    workdir = home / "cwd"
    workdir.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KASH_", "XDG_"))}
    env.update({k: str(v) for k, v in dirs.items()})
    env["HOME"] = str(home / "home")
    env["PYTHONPATH"] = str(REPO)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    code = (
        "import kash_tui.config, kash_tui.db, kash_tui.provider, kash_tui.cli\n"
        "from kash_tui.config import Settings, load_settings\n"
        "from kash_tui.provider import ServiceProvider\n"
        "settings, _ = load_settings()\n"
        "ServiceProvider(settings)  # constructing a provider touches nothing either\n"
        "print(settings.resolved_database_url)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=workdir, env=env, capture_output=True, text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert str(dirs["XDG_DATA_HOME"]) in result.stdout
    left = sorted(str(p.relative_to(home)) for p in home.rglob("*"))
    assert left == sorted(["cwd", *(p.name for p in dirs.values())]), left


def test_a_missing_kash_config_file_is_a_config_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("KASH_CONFIG", str(tmp_path / "nowhere.toml"))
    with pytest.raises(ConfigError, match="KASH_CONFIG names .*nowhere.toml, which does not exist"):
        load_settings()


def test_an_empty_database_url_is_never_the_default_database(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from kash_tui.db import DatabaseError
    from kash_tui.provider import ServiceProvider

    settings, _ = load_settings("")
    assert not settings.uses_default_database and settings.resolved_database_url == ""
    with pytest.raises(DatabaseError, match="The database URL is empty"):
        ServiceProvider(settings).db  # noqa: B018
    monkeypatch.setenv("KASH_DATABASE_URL", "  ")
    with pytest.raises(ConfigError, match="KASH_DATABASE_URL: is empty"):
        load_settings()


def test_environment_values_are_parsed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KASH_DEMO_DATA", "off")
    monkeypatch.setenv("KASH_POLL_INTERVAL_SECONDS", "30")
    monkeypatch.setenv("KASH_KEYMAP", '{"quit": "q"}')
    settings, warnings = load_settings()
    assert warnings == []
    assert (settings.demo_data, settings.poll_interval_seconds, settings.keymap) == (
        False, 30.0, {"quit": "q"}
    )
    monkeypatch.setenv("KASH_HTTP_TIMEOUT_SECONDS", "0")
    with pytest.raises(ConfigError, match="KASH_HTTP_TIMEOUT_SECONDS: must be more than 0"):
        load_settings()


def test_settings_are_frozen_and_unknown_names_are_refused() -> None:
    settings = Settings(database_url="sqlite:////x.db", demo_data=False)
    with pytest.raises(AttributeError):
        settings.theme = "other"  # type: ignore[misc]
    with pytest.raises(TypeError, match="unknown settings: colour"):
        Settings(colour="red")  # type: ignore[call-arg]


def test_loading_the_settings_imports_no_pydantic() -> None:
    code = (
        "import sys\n"
        "from kash_tui.config import load_settings\n"
        "load_settings()\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('pydantic', 'pydantic_settings', 'sqlalchemy', 'numpy')))\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("KASH_")}
    env["PYTHONPATH"] = str(REPO)
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
