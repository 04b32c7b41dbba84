"""What every ``kash`` command shares: the user error, output helpers, provider building, and the
options several commands take. Command modules import this module and nothing else of the CLI.

Light on purpose (standard library only at import time): ``kash --help`` and the first paint
must not pay for SQLAlchemy, numpy or Textual.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Sequence
from dataclasses import asdict, is_dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum
from typing import TYPE_CHECKING, Any, NoReturn

if TYPE_CHECKING:
    from kash_tui.provider import ServiceProvider

EXIT_OK = 0
EXIT_USER_ERROR = 2


class UserError(Exception):
    """An error the user caused and can fix; printed as one sentence, exit code 2."""


class Parser(argparse.ArgumentParser):
    """argparse that reports a usage error as one sentence (and exit code 2)."""

    def error(self, message: str) -> NoReturn:
        sys.stderr.write(f"kash: {message}; run `{self.prog} --help` for usage.\n")
        raise SystemExit(EXIT_USER_ERROR)


# -- output helpers --------------------------------------------------------------------------


def plain(value: Any) -> Any:
    """A value as JSON-ready data: dataclasses to dicts, enums to values, times to ISO text."""
    if is_dataclass(value) and not isinstance(value, type):
        return {k: plain(v) for k, v in asdict(value).items()}
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    return value


def print_json(value: Any) -> None:
    import json

    json.dump(plain(value), sys.stdout, indent=2, allow_nan=False)
    sys.stdout.write("\n")


def print_table(headers: Sequence[str], rows: Iterable[Sequence[Any]], empty: str) -> None:
    cells = [[("" if c is None else str(c)) for c in row] for row in rows]
    if not cells:
        print(empty)
        return
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(headers)]
    print("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip())
    for row in cells:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())


def when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else ""


def warn(warnings: Iterable[str]) -> None:
    for warning in warnings:
        sys.stderr.write(f"kash: warning: {warning}\n")


def parse_date(text: str | None, *, end: bool = False) -> datetime | None:
    """``2024-01-31`` or an ISO date-time; a date-only end means the whole of that day (UTC)."""
    if text is None:
        return None
    t = text.strip()
    try:
        value = datetime.fromisoformat(t.replace("Z", "+00:00") if t.endswith("Z") else t)
    except ValueError:
        raise UserError(f"{text!r} is not a date; use YYYY-MM-DD, e.g. 2024-01-31.") from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    if end and len(t) == 10:
        value = value.replace(hour=23, minute=59, second=59)
    return value


class ProgressBar:
    """A progress bar on stderr, shown only on a terminal and only once work takes a while."""

    def __init__(self, label: str, *, delay: float = 0.4, stream=None) -> None:  # noqa: ANN001
        import time

        self._time = time.monotonic
        self.label = label
        self.stream = stream or sys.stderr
        self.enabled = bool(getattr(self.stream, "isatty", lambda: False)())
        self._start = self._time()
        self._delay = delay
        self._shown = False

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled or self._time() - self._start < self._delay:
            return
        total = max(total, 1)
        frac = min(max(done / total, 0.0), 1.0)
        width = 30
        filled = int(frac * width)
        bar = "#" * filled + "-" * (width - filled)
        self.stream.write(f"\r{self.label} [{bar}] {frac * 100:5.1f}%")
        self.stream.flush()
        self._shown = True

    def close(self) -> None:
        if self._shown:
            self.stream.write("\r" + " " * (len(self.label) + 42) + "\r")
            self.stream.flush()


# -- provider --------------------------------------------------------------------------------


def build_provider(args: argparse.Namespace) -> ServiceProvider:
    from kash_tui.config import load_settings
    from kash_tui.provider import ServiceProvider

    settings, warnings = load_settings(getattr(args, "db", None))
    warn(warnings)
    provider = ServiceProvider(settings)
    provider.prepare()
    return provider


# -- options several commands take ------------------------------------------------------------


def chain_width(text: str) -> int:
    """An argparse type: strikes either side of the money, a whole number of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError("the width must be at least 1")
    return value


def add_db(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--db",
        metavar="URL",
        default=argparse.SUPPRESS,
        help="database URL or SQLite path (default: $KASH_DATABASE_URL or the embedded SQLite)",
    )


def add_json(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
    p.add_argument("--json", action="store_true", help="print JSON for scripts")
    return p


def add_connection(p: argparse.ArgumentParser) -> None:
    p.add_argument("--connection", metavar="NAME",
                   help="Alpaca connection (default: the first paper one)")


def add_timeframe(p: argparse.ArgumentParser) -> None:
    p.add_argument("--timeframe", default="1Day",
                   help="1Min 5Min 15Min 30Min 1Hour 4Hour 1Day 1Week (default 1Day)")


def add_target(p: argparse.ArgumentParser) -> None:
    """The broker portfolio a trading command works on, and ``--json``."""
    p.add_argument("--portfolio", metavar="NAME",
                   help="PAPER or LIVE portfolio (default: the only one)")
    p.add_argument("--workspace", metavar="NAME", help="workspace of the portfolio")
    add_json(p)
