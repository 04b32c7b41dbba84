"""What every ``kash`` command shares: the user error, output helpers, provider building, and the
options several commands take. Command modules import this module and nothing else of the CLI.

Light on purpose (standard library only at import time): ``kash --help`` and the first paint
must not pay for SQLAlchemy, numpy or Textual.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from decimal import Decimal
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


def _json_default(value: Any) -> Any:
    """What orjson does not know natively: Decimals (as numbers), anything else is a bug."""
    if isinstance(value, Decimal):
        return float(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def json_bytes(value: Any) -> bytes:
    """``value`` as indented JSON (dataclasses as objects, enums as their values, times as ISO
    text, Decimals as numbers, NaN as null), one bytes object ending in a newline."""
    import orjson

    return orjson.dumps(
        value,
        default=_json_default,
        option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY
        | orjson.OPT_APPEND_NEWLINE,
    )


def print_json(value: Any) -> None:
    """Write ``value`` as JSON to stdout in one go (a million-bar report is one write, not
    millions of small ones)."""
    data = json_bytes(value)
    out = sys.stdout
    out.flush()
    buffer = getattr(out, "buffer", None)
    if buffer is not None:
        buffer.write(data)
        buffer.flush()
    else:  # a text-only stream (a test's StringIO)
        out.write(data.decode("utf-8"))
        out.flush()


def print_table(headers: Sequence[str], rows: Iterable[Sequence[Any]], empty: str) -> None:
    """Columns aligned by the width cells take on a terminal (an emoji or a CJK character takes
    two), not by the number of characters."""
    from rich.cells import cell_len

    cells = [[("" if c is None else str(c)) for c in row] for row in rows]
    if not cells:
        print(empty)
        return
    widths = [max(cell_len(h), *(cell_len(r[i]) for r in cells)) for i, h in enumerate(headers)]

    def line(values: Sequence[str]) -> str:
        return "  ".join(
            v + " " * (w - cell_len(v)) for v, w in zip(values, widths, strict=True)
        ).rstrip()

    print(line(headers))
    for row in cells:
        print(line(row))


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
    """A rich progress bar on stderr (percent, rate, time left), only when stderr is a terminal
    and only once the work has taken ``delay`` seconds; cleared when closed.

    Called as ``bar(done, total)`` by a service, possibly from worker threads. ``unit`` names
    what ``done`` counts, for the rate: ``"bytes"`` shows MB/s, a word shows ``N word/s``, None
    shows no rate. A service whose work has phases (read a file, then store its bars) reports a
    new ``total`` for each; ``unit`` may then be a sequence, one unit per phase, and the rate
    and time left start again with each phase.
    """

    def __init__(
        self, label: str, *, unit: str | Sequence[str] | None = None, delay: float = 0.4,
        stream=None,  # noqa: ANN001
    ) -> None:
        import threading
        import time

        self._clock = time.monotonic
        self._lock = threading.Lock()
        self.label = label
        self._units: tuple[str | None, ...] = (
            (unit,) if unit is None or isinstance(unit, str) else tuple(unit)
        )
        self.unit: str | None = self._units[0]
        self._phase = 0
        self.stream = stream or sys.stderr
        self.enabled = bool(getattr(self.stream, "isatty", lambda: False)())
        self._start = self._clock()
        self._delay = delay
        self._progress: Any = None
        self._task: Any = None
        self._total: int | None = None
        self._closed = False

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled or self._closed:
            return
        total = max(total, 1)
        with self._lock:
            if self._closed:
                return
            if self._total is not None and total != self._total:  # the next phase
                self._phase += 1
                self.unit = self._units[min(self._phase, len(self._units) - 1)]
                if self._progress is not None:
                    self._progress.reset(self._task, total=total, completed=0)
            self._total = total
            if self._progress is None:
                if self._clock() - self._start < self._delay:
                    return
                self._progress = self._build()
                self._progress.start()
                self._task = self._progress.add_task(self.label, total=total)
            self._progress.update(self._task, completed=min(done, total), total=total)

    def _build(self) -> Any:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            Progress,
            ProgressColumn,
            TaskProgressColumn,
            TextColumn,
            TimeRemainingColumn,
        )
        from rich.text import Text

        bar = self

        class Rate(ProgressColumn):
            def render(self, task: Any) -> Text:
                speed = task.finished_speed or task.speed
                if speed is None or bar.unit is None:
                    return Text("")
                if bar.unit == "bytes":
                    return Text(f"{speed / 1e6:,.1f} MB/s")
                return Text(f"{speed:,.0f} {bar.unit}/s")

        console = Console(file=self.stream, stderr=True)
        return Progress(
            TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(), Rate(),
            TextColumn("left"), TimeRemainingColumn(),
            console=console, transient=True, refresh_per_second=8,
        )

    def close(self) -> None:
        with self._lock:
            self._closed = True
            if self._progress is not None:
                self._progress.stop()

    def __enter__(self) -> ProgressBar:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


# -- provider --------------------------------------------------------------------------------


def build_provider(
    args: argparse.Namespace, *, writes: bool = True, database: bool = True
) -> ServiceProvider:
    """The provider over the database of ``--db`` (or the settings), ready to use.

    ``writes=False`` for commands that only read: a read-only SQLite file is then read as it
    is instead of refused. A write that waits for another program's lock says so on stderr.
    ``database=False`` for commands whose services need no database (``kash strategies``):
    nothing is opened or prepared."""
    from kash_tui.config import load_settings
    from kash_tui.provider import ServiceProvider

    settings, warnings = load_settings(getattr(args, "db", None))
    warn(warnings)
    provider = ServiceProvider(settings)
    if not database:
        return provider
    db = provider.db

    def say_waiting() -> None:
        from kash_tui import db as database

        sys.stderr.write(
            f"kash: waiting for {db.display_url}: another program is writing to it "
            f"(Kash waits up to {database.LOCK_WAIT_SECONDS:g} s)...\n"
        )
        sys.stderr.flush()

    db.on_wait = say_waiting
    _open_providers.append(provider)
    provider.prepare(writes=writes, eager=False)
    return provider


_open_providers: list[ServiceProvider] = []


def close_providers() -> None:
    """Close what :func:`build_provider` opened (``main`` does, when the command ends)."""
    while _open_providers:
        _open_providers.pop().close()


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
