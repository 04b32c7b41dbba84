"""Settings and the paths Kash uses, in one place.

Precedence, highest first: explicit arguments (``--db``), environment variables (``KASH_*``),
the TOML config file (``user_config_dir("kash")/config.toml`` or ``$KASH_CONFIG``), defaults.
Nothing here touches the disk at import time. Secrets never live in settings: API keys are found
at use time through the environment or the OS keyring (see the connection domain).
"""

from __future__ import annotations

import json
import os
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import platformdirs

from kash_tui.logs import log_file  # noqa: F401 - defined there (no pydantic), used via config

APP_NAME = "kash"
ENV_PREFIX = "KASH_"


class ConfigError(Exception):
    """A setting a user gave is unusable; the message says what to do."""


class SettingInvalid(ValueError):
    """One value is unusable: ``source`` is ``"file"``, ``"env"`` or ``"argument"``."""

    def __init__(self, source: str, name: str, problem: str) -> None:
        super().__init__(f"{name}: {problem}")
        self.source, self.name, self.problem = source, name, problem


def data_dir() -> Path:
    return Path(platformdirs.user_data_dir(APP_NAME))


def config_dir() -> Path:
    return Path(platformdirs.user_config_dir(APP_NAME))


def config_file() -> Path:
    override = os.environ.get("KASH_CONFIG")
    return Path(override) if override else config_dir() / "config.toml"


def strategies_dir() -> Path:
    """The user's own strategies folder: ``<config dir>/strategies``."""
    return config_dir() / "strategies"


def strategy_folders(settings: Settings) -> list[Path]:
    """Where strategy files are read from: the strategies folder, then ``strategy_paths``."""
    return [strategies_dir(), *(Path(p).expanduser() for p in settings.strategy_paths)]


def default_database_path() -> Path:
    return data_dir() / "kash.db"


def default_database_url() -> str:
    return f"sqlite:///{default_database_path()}"


# -- parsing one value -------------------------------------------------------------------------

_TRUE = frozenset({"1", "true", "t", "yes", "y", "on"})
_FALSE = frozenset({"0", "false", "f", "no", "n", "off"})


def _as_str(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError("must be text")
    return value


def _as_optional_url(value: Any) -> str | None:
    # an empty URL given explicitly is refused by the database with a sentence (never silently
    # the default database); an empty variable is refused here, naming the variable
    return None if value is None else _as_str(value)


def _as_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise ValueError("must be true or false")


def _as_number(low: float, high: float, *, low_inclusive: bool) -> Any:
    def parse(value: Any) -> float:
        if isinstance(value, bool):
            raise ValueError("must be a number")
        if isinstance(value, str):
            try:
                value = float(value.strip())
            except ValueError:
                raise ValueError("must be a number") from None
        if not isinstance(value, int | float) or value != value:  # noqa: PLR0124 - NaN
            raise ValueError("must be a number")
        above = value >= low if low_inclusive else value > low
        if not above or value > high:
            side = "at least" if low_inclusive else "more than"
            raise ValueError(f"must be {side} {low:g} and at most {high:g}")
        return float(value)

    return parse


def _as_keymap(value: Any) -> dict[str, str]:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            raise ValueError("must be a JSON object of binding id -> keys") from None
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise ValueError("must map binding ids to keys, e.g. run_backtest = \"r\"")
    return dict(value)


def _as_paths(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):  # KASH_STRATEGY_PATHS: folders separated like PATH
        return tuple(p for p in value.split(os.pathsep) if p.strip())
    if not isinstance(value, list) or not all(isinstance(p, str) for p in value):
        raise ValueError('must be a list of folders, e.g. strategy_paths = ["~/quant/strategies"]')
    return tuple(value)


def _as_executor(value: Any) -> str:
    text = value.strip() if isinstance(value, str) else None
    if text is None or not (text == "" or text.lower() == "local"
                            or text.lower().startswith("dask://")):
        raise ValueError('must be "local" or "dask://HOST:PORT"')
    return text


_PARSERS: dict[str, Any] = {
    "database_url": _as_optional_url,
    "theme": _as_str,
    "keymap": _as_keymap,
    "poll_interval_seconds": _as_number(1.0, 3600.0, low_inclusive=True),
    "http_timeout_seconds": _as_number(0.0, 300.0, low_inclusive=False),
    "stream_account_updates": _as_bool,
    "demo_data": _as_bool,
    "strategy_paths": _as_paths,
    "executor": _as_executor,
}


@dataclass(frozen=True, init=False)
class Settings:
    """What Kash is configured to do. Tests build one with their own database URL.

    ``Settings(**values)``: the values given win over ``KASH_*`` environment variables, which win
    over the config file, which wins over the defaults. Plain dataclass, no pydantic: loading the
    settings is on the start-up path of every ``kash`` command.
    """

    database_url: str | None = None
    """SQLAlchemy URL or SQLite path; default: a SQLite file in the user data folder."""
    theme: str = "kash-dark"
    keymap: dict[str, str] = field(default_factory=dict)
    """Binding id -> keys, e.g. {'run_backtest' = 'r'}."""
    poll_interval_seconds: float = 5.0
    http_timeout_seconds: float = 10.0
    """Timeout of every HTTP call to the broker."""
    stream_account_updates: bool = True
    """Follow the account over the broker's trade-updates stream; false: poll."""
    demo_data: bool = True
    """Seed the Demo workspace on first run."""
    strategy_paths: tuple[str, ...] = ()
    """Folders of strategy files besides ``<config dir>/strategies``."""
    executor: str = ""
    """Where grids of jobs (sweeps, universe runs) run: "" or "local" (this machine's cores)
    or "dask://HOST:PORT" (a Dask distributed cluster; extra ``kash-tui[dask]``)."""

    def __init__(self, **values: Any) -> None:
        self._fill(values, read_file=True)

    @classmethod
    def without_file(cls, **values: Any) -> Settings:
        """The settings from ``values`` and the environment only (the config file is broken)."""
        self = cls.__new__(cls)
        self._fill(values, read_file=False)
        return self

    def _fill(self, values: dict[str, Any], *, read_file: bool) -> None:
        unknown = sorted(set(values) - set(_PARSERS))
        if unknown:
            raise TypeError(f"unknown settings: {', '.join(unknown)}")
        layers: list[tuple[str, dict[str, Any]]] = []
        if read_file:
            layers.append(("file", _read_settings_file()))
        env = {
            name: os.environ[f"{ENV_PREFIX}{name.upper()}"]
            for name in _PARSERS if f"{ENV_PREFIX}{name.upper()}" in os.environ
        }
        layers += [("env", env), ("argument", values)]
        for f in fields(self):
            raw: Any = None
            source = ""
            for where, layer in layers:
                if f.name in layer:
                    raw, source = layer[f.name], where
            if not source:
                default = f.default_factory() if callable(f.default_factory) else f.default
                object.__setattr__(self, f.name, default)
                continue
            name = f"{ENV_PREFIX}{f.name.upper()}" if source == "env" else f.name
            try:
                value = _PARSERS[f.name](raw)
            except ValueError as exc:
                raise SettingInvalid(source, name, str(exc)) from None
            if f.name == "database_url" and source != "argument" and not value.strip():
                raise SettingInvalid(source, name, "is empty; give a SQLite path or a "
                                     "postgresql+psycopg:// URL, or unset it for the embedded "
                                     "database")
            object.__setattr__(self, f.name, value)

    @property
    def resolved_database_url(self) -> str:
        # "" is not "no URL": it reaches the database, which refuses it with a sentence
        return self.database_url if self.database_url is not None else default_database_url()

    @property
    def uses_default_database(self) -> bool:
        return self.database_url is None


def _read_settings_file() -> dict[str, Any]:
    """The config file's table (unknown keys are ignored by the caller); ``{}`` when the default
    file does not exist. A file named by ``$KASH_CONFIG`` must exist."""
    path = config_file()
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        if os.environ.get("KASH_CONFIG"):
            raise ConfigError(
                f"KASH_CONFIG names {path}, which does not exist; create that file or unset "
                "KASH_CONFIG to use the default config file."
            ) from None
        return {}
    except IsADirectoryError:
        raise OSError(21, "it is a folder, not a file") from None
    return {k: v for k, v in data.items() if k in _PARSERS}


def load_settings(database_url: str | None = None) -> tuple[Settings, list[str]]:
    """Build the settings; a broken config file is a warning and a fallback, never a crash.

    Returns the settings and the warnings to show the user. Raises ``ConfigError`` when an
    environment variable or ``database_url`` itself is invalid, or ``$KASH_CONFIG`` names a
    missing file, since there is nothing sensible to fall back to.
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
    except SettingInvalid as exc:
        if exc.source != "file":
            raise _config_error(exc) from None
        warnings.append(f"Ignoring the config file {config_file()}: {exc}; fix or delete it.")
    except OSError as exc:
        warnings.append(f"Ignoring the config file {config_file()}: {exc.strerror}.")
    try:
        return Settings.without_file(**overrides), warnings
    except SettingInvalid as exc:
        raise _config_error(exc) from None


def _config_error(exc: SettingInvalid) -> ConfigError:
    if exc.source == "env":
        return ConfigError(
            f"A KASH_* environment variable is invalid ({exc}); fix or unset it."
        )
    return ConfigError(f"The setting {exc}.")


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

