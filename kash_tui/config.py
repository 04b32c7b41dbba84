"""Settings and the paths Kash uses, in one place.

Precedence, highest first: explicit arguments (``--db``), environment variables (``KASH_*``),
the TOML config file (``user_config_dir("kash")/config.toml`` or ``$KASH_CONFIG``), defaults.
Nothing here touches the disk at import time. Secrets never live in settings: API keys are found
at use time through the environment or the OS keyring (see the connection domain).
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

import platformdirs
from pydantic import Field, ValidationError
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from kash_tui.logs import log_file  # noqa: F401 - defined there (no pydantic), used via config

APP_NAME = "kash"


class ConfigError(Exception):
    """A setting a user gave is unusable; the message says what to do."""


def data_dir() -> Path:
    return Path(platformdirs.user_data_dir(APP_NAME))


def config_dir() -> Path:
    return Path(platformdirs.user_config_dir(APP_NAME))


def config_file() -> Path:
    override = os.environ.get("KASH_CONFIG")
    return Path(override) if override else config_dir() / "config.toml"


def default_database_path() -> Path:
    return data_dir() / "kash.db"


def default_database_url() -> str:
    return f"sqlite:///{default_database_path()}"


class Settings(BaseSettings):
    """What Kash is configured to do. Tests build one with their own database URL."""

    model_config = SettingsConfigDict(env_prefix="KASH_", extra="ignore", frozen=True)

    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; default: a SQLite file in the user data folder."
    )
    theme: str = Field(default="kash-dark", description="Name of the Textual theme.")
    keymap: dict[str, str] = Field(
        default_factory=dict, description="Binding id -> keys, e.g. {'run_backtest' = 'r'}."
    )
    poll_interval_seconds: float = Field(default=5.0, ge=1.0, le=3600.0)
    http_timeout_seconds: float = Field(
        default=10.0, gt=0.0, le=300.0, description="Timeout of every HTTP call to the broker."
    )
    stream_account_updates: bool = Field(
        default=True,
        description="Follow the account over the broker's trade-updates stream; false: poll.",
    )
    demo_data: bool = Field(default=True, description="Seed the Demo workspace on first run.")

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or default_database_url()

    @property
    def uses_default_database(self) -> bool:
        return self.database_url is None

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls, config_file()))


class _SettingsWithoutFile(Settings):
    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings)


def _first_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err.get("loc", ())) or "value"
    return f"{where}: {err.get('msg', 'invalid')}"


def load_settings(database_url: str | None = None) -> tuple[Settings, list[str]]:
    """Build the settings; a broken config file is a warning and a fallback, never a crash.

    Returns the settings and the warnings to show the user. Raises ``ConfigError`` only when an
    environment variable itself is invalid, since there is nothing sensible to fall back to.
    """
    overrides: dict[str, Any] = {}
    if database_url is not None:
        overrides["database_url"] = database_url
    warnings: list[str] = []
    try:
        return Settings(**overrides), warnings
    except tomllib.TOMLDecodeError as exc:
        warnings.append(
            f"Ignoring the config file {config_file()}: it is not valid TOML ({exc}); "
            "fix or delete it."
        )
    except ValidationError as exc:
        warnings.append(
            f"Ignoring the config file {config_file()}: {_first_error(exc)}; fix or delete it."
        )
    except OSError as exc:
        warnings.append(f"Ignoring the config file {config_file()}: {exc.strerror}.")
    try:
        return _SettingsWithoutFile(**overrides), warnings
    except ValidationError as exc:
        raise ConfigError(
            f"A KASH_* environment variable is invalid ({_first_error(exc)}); fix or unset it."
        ) from None


def read_config_file() -> dict[str, Any]:
    path = config_file()
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        return {}
    except (tomllib.TOMLDecodeError, OSError):
        return {}


def save_config_values(**values: Any) -> Path:
    """Merge ``values`` into the config file and write it atomically. Never pass secrets."""
    import tomli_w

    path = config_file()
    data = read_config_file()
    data.update(values)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".toml.tmp")
    tmp.write_bytes(tomli_w.dumps(data).encode())
    os.replace(tmp, path)
    return path

