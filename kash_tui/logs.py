"""Logging to the user's log file, with every known secret replaced by ``***``.

Kash and the libraries it uses (alpaca-py, websockets, urllib3) log through :mod:`logging`.
Without a handler Python would print warnings to stderr, on top of the TUI; :func:`setup_logging`
sends them to ``kash.log`` instead. Secrets (API keys) are registered with :func:`register_secret`
when they are read, and :class:`RedactSecrets` removes them from every record before it is
written, whichever library produced it.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

_secrets: set[str] = set()
_lock = threading.Lock()


def register_secret(value: str) -> None:
    """Remember ``value`` so no log line can contain it (values shorter than 6 are ignored)."""
    if value and len(value) >= 6:
        with _lock:
            _secrets.add(value)


def redact(text: str) -> str:
    with _lock:
        secrets = sorted(_secrets, key=len, reverse=True)
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, "***")
    return text


class RedactSecrets(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if record.exc_info and record.exc_info[1] is not None:
            import traceback

            cleaned += "\n" + redact("".join(traceback.format_exception(*record.exc_info)))
            record.exc_info = None
            record.exc_text = None
        record.msg = cleaned
        record.args = None
        return True


_configured = False


def log_file() -> Path:
    """``kash.log`` in the user log folder. Here, not in config, so that setting up logging
    before the first paint does not import pydantic-settings."""
    import platformdirs

    return Path(platformdirs.user_log_dir("kash")) / "kash.log"


def setup_logging(path: Path | None = None, level: int = logging.INFO) -> Path | None:
    """Send all logging to ``path`` (default: the user's kash.log); idempotent.

    Returns the file used, or None when it cannot be opened (logging then goes nowhere rather
    than onto the screen).
    """
    global _configured
    if _configured:
        return None
    _configured = True
    if path is None:
        path = log_file()
    root = logging.getLogger()
    root.setLevel(level)
    for name in ("urllib3", "websockets", "asyncio"):
        logging.getLogger(name).setLevel(logging.WARNING)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handler: logging.Handler = logging.FileHandler(path, encoding="utf-8")
    except OSError:
        handler = logging.NullHandler()
        path = None
    handler.addFilter(RedactSecrets())
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    return path
