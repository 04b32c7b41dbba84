"""Whole processes at real size against their targets and two outside anchors.

Run: ``python bench/bench_real_sizes.py [--quick] [--only NAME[,NAME...]] [--keep]`` from the
repository root, with the project and its ``bench`` extra installed
(``pip install -e '.[bench]'``: backtesting.py 0.6.6 and vectorbt). Everything happens in a
throwaway folder: XDG folders, a SQLite database passed with ``--db``, CSV files generated with a
fixed seed. Every figure is a whole process as a user starts it (``kash ...`` or ``python
anchor.py``, output to a file) unless the row says "in process"; processes that are compared
run side by side, in turn, in this one run, and each row shows the median, min and max.

Benchmarks (``--only`` takes these names):

  import   ``kash data import`` of 1,000,000 one-minute bars (390 per weekday, New York
           session) into a fresh database                                  target <= 5 s
  load     ``MarketService.load_bars`` of those bars through ``ServiceProvider``, in this
           process, median of 5                                            target <= 100 ms
  minute   ``kash backtest --symbol M1M --timeframe 1Min --strategy sma_crossover`` with
           SMA(10, 20), ``--whole-shares``, on the 1M bars, with ``--json`` and without;
           against backtesting.py 0.6.6 and vectorbt running the same long-only crossover
           from the same CSV in their own processes:
             --json   at least 10x faster than backtesting.py
             text     at least 15x faster than backtesting.py
             peak memory (max RSS of the kash process, from wait4) <= 400 MB
           vectorbt is measured warm (numba cache compiled by an earlier run) and with its
           first compile (empty NUMBA_CACHE_DIR); its ratios are printed for information.
  daily    ``kash backtest`` (sma_crossover, defaults) on 10,000 daily bars   target <= 0.5 s
  sweep    ``kash backtest --sweep 'short_period=5:50:5,long_period=20:200:20'`` (90 pairs) on
           100,000 one-minute bars                                         target <= 0.5 s

Speedups are taken pair by pair (anchor run / the Kash run beside it), so drift in the
machine's speed hits both sides of a pair alike. The "ratio" column is the share of the allowed
time (or memory) used: median / limit for a limit, required speedup / measured speedup for an
anchor; <= 1.00 passes. The note column gives each process's CPU time (user + system) and the
CPU ratio of a speedup: on a busy machine the wall times stretch, the CPU figures much less.
Peak memory is measured through a small launcher process (see ``LAUNCHER``). Correctness: Kash's and the anchors' round trips and final equity for the same 1M-bar run are
printed side by side. Exit code 1 when a target fails or a step cannot run.

Only the standard library, numpy, the project and what ``pip`` installs are used.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from importlib.util import find_spec
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the project's own services, for the in-process rows

MINUTE_ROWS = 1_000_000
SWEEP_ROWS = 100_000
DAILY_ROWS = 10_000
SESSION_MINUTES = 390  # 09:30 to 16:00 New York, one bar a minute
SHORT, LONG = 10, 20
CASH = 10_000.0
COMMISSION = 0.0
SWEEP_GRID = "short_period=5:50:5,long_period=20:200:20"

IMPORT_MAX_S = 5.0
LOAD_MAX_S = 0.100
JSON_SPEEDUP_MIN = 10.0
TEXT_SPEEDUP_MIN = 15.0
RSS_MAX_MB = 400.0
DAILY_MAX_S = 0.5
SWEEP_MAX_S = 0.5

BENCHMARKS = ("import", "load", "minute", "daily", "sweep")


@dataclass(frozen=True)
class Repeats:
    imports: int
    load: int
    kash_minute: int
    backtesting: int
    vbt_warm: int
    vbt_cold: int
    short_cli: int


FULL = Repeats(imports=3, load=5, kash_minute=5, backtesting=3, vbt_warm=3, vbt_cold=2, short_cli=7)
QUICK = Repeats(imports=1, load=5, kash_minute=3, backtesting=1, vbt_warm=1, vbt_cold=1, short_cli=3)


class BenchError(Exception):
    """A step could not run; the message says which and why."""


# --------------------------------------------------------------------------- data


def _prices(n: int, seed: int, sigma: float) -> tuple[np.ndarray, ...]:
    """A positive random walk as open/high/low/close/volume, rounded to cents of a cent."""
    rng = np.random.default_rng(seed)
    close = 100.0 * np.exp(np.cumsum(rng.normal(0.0, sigma, n)))
    open_ = np.empty(n)
    open_[0] = 100.0
    open_[1:] = close[:-1] * np.exp(rng.normal(0.0, sigma / 4, n - 1))
    wick = np.abs(rng.normal(0.0, sigma / 2, n)) * close
    high = np.maximum(open_, close) + wick
    low = np.minimum(open_, close) - wick
    volume = rng.integers(100, 50_000, n)
    return open_, high, low, close, volume


def _weekdays(start: date, count: int) -> list[date]:
    days: list[date] = []
    day = start
    while len(days) < count:
        if day.weekday() < 5:
            days.append(day)
        day += timedelta(days=1)
    return days


def _write_csv(path: Path, times: Sequence[str], seed: int, sigma: float) -> None:
    o, h, lo, c, v = _prices(len(times), seed, sigma)
    with path.open("w", encoding="utf-8", newline="\n") as out:
        out.write("Datetime,Open,High,Low,Close,Volume\n")
        out.writelines(
            f"{t},{a:.4f},{b:.4f},{x:.4f},{y:.4f},{z}\n"
            for t, a, b, x, y, z in zip(
                times, o.tolist(), h.tolist(), lo.tolist(), c.tolist(), v.tolist(), strict=True
            )
        )


def minute_csv(path: Path, rows: int, seed: int) -> None:
    """``rows`` regular-session minute bars, naive New York wall-clock times (as vendors export)."""
    clock = [f"{(570 + m) // 60:02d}:{(570 + m) % 60:02d}:00" for m in range(SESSION_MINUTES)]
    times: list[str] = []
    for day in _weekdays(date(2012, 1, 3), -(-rows // SESSION_MINUTES)):
        prefix = day.isoformat() + " "
        times.extend(prefix + t for t in clock)
    _write_csv(path, times[:rows], seed, sigma=0.0008)


def daily_csv(path: Path, rows: int, seed: int) -> None:
    _write_csv(path, [d.isoformat() for d in _weekdays(date(1985, 1, 2), rows)], seed, sigma=0.012)


# --------------------------------------------------------------------------- the anchors

# Kash's sma_crossover rule (kash_tui/domains/strategy/builtin/sma_crossover.py): buy when the
# fast SMA goes from at-or-below the slow one to above it, sell on the mirror; the averages count
# as equal within 1e-10 of the slow one. Both anchors use the same rule so their trades can be
# compared with Kash's one for one.
_ANCHOR_COMMON = '''
import json
import sys
import time

T0 = time.perf_counter()
import numpy as np
import pandas as pd

CSV, SHORT, LONG, CASH, COMMISSION = (
    sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5])
)
EQUAL = 1e-10


def read_bars(path):
    return pd.read_csv(path, index_col=0, parse_dates=True)


def report(engine, trades_closed, trades_open, final_equity):
    print("ANCHOR " + json.dumps({
        "engine": engine, "trades_closed": int(trades_closed), "trades_open": int(trades_open),
        "final_equity": float(final_equity), "seconds": time.perf_counter() - T0,
    }))
'''

BACKTESTING_PY = _ANCHOR_COMMON + '''
from backtesting import Backtest, Strategy


def sma(values, n):
    return pd.Series(values).rolling(n).mean().to_numpy()


class SmaCross(Strategy):
    short = SHORT
    long = LONG

    def init(self):
        self.fast = self.I(sma, self.data.Close, self.short)
        self.slow = self.I(sma, self.data.Close, self.long)

    def next(self):
        f0, f1 = self.fast[-2], self.fast[-1]
        s0, s1 = self.slow[-2], self.slow[-1]
        b0, b1 = abs(s0) * EQUAL, abs(s1) * EQUAL
        if f1 - s1 > b1 and f0 - s0 <= b0:
            if not self.position:
                self.buy()  # all cash, whole shares; fills at the next bar's open
        elif f1 - s1 < -b1 and f0 - s0 >= -b0:
            if self.position:
                self.position.close()


bars = read_bars(CSV)
bt = Backtest(bars, SmaCross, cash=CASH, commission=COMMISSION)
stats = bt.run()
print(stats)
still_open = len(stats._strategy.trades)
report("backtesting.py", stats["# Trades"], still_open, stats["Equity Final [$]"])
'''

VECTORBT = _ANCHOR_COMMON + '''
import vectorbt as vbt

bars = read_bars(CSV)
close = bars["Close"]
fast = vbt.MA.run(close, SHORT).ma
slow = vbt.MA.run(close, LONG).ma
spread = fast - slow
band = slow.abs() * EQUAL
buy = (spread > band) & (spread <= band).shift(1, fill_value=False)
sell = (spread < -band) & (spread >= -band).shift(1, fill_value=False)
# A signal at a bar's close fills at the next bar's open (as Kash and backtesting.py do).
pf = vbt.Portfolio.from_signals(
    close,
    entries=buy.shift(1, fill_value=False),
    exits=sell.shift(1, fill_value=False),
    price=bars["Open"],
    size=np.inf,
    size_granularity=1,
    fees=COMMISSION,
    init_cash=CASH,
    direction="longonly",
    freq="1min",
)
print(pf.stats())
trades = pf.trades
report("vectorbt", trades.closed.count(), trades.open.count(), pf.final_value())
'''


# --------------------------------------------------------------------------- processes


@dataclass(frozen=True)
class Sample:
    seconds: float
    rss_mb: float
    cpu: float  # user + system seconds
    stdout: Path


@dataclass
class Series:
    """Samples of one process (or in-process call), in the order they ran."""

    name: str
    in_process: bool = False
    samples: list[Sample] = field(default_factory=list)

    @property
    def seconds(self) -> list[float]:
        return [s.seconds for s in self.samples]

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    @property
    def rss_median(self) -> float:
        return statistics.median(s.rss_mb for s in self.samples)

    @property
    def rss_max(self) -> float:
        return max(s.rss_mb for s in self.samples)


# Each process is started by this small launcher, which forks, execs the command and reports
# the wall time from fork to exit and the max RSS from wait4. On Linux a process's max RSS
# counts the memory of the process it was forked from, so measuring children of the bench
# itself (hundreds of MB after generating the CSVs) would report the bench's size, not theirs;
# the launcher is a ~10 MB Python with nothing loaded.
LAUNCHER = """
import os, sys, time
report, argv = sys.argv[1], sys.argv[2:]
t0 = time.perf_counter()
pid = os.fork()
if pid == 0:
    try:
        os.execv(argv[0], argv)
    finally:
        os._exit(127)
_, status, usage = os.wait4(pid, 0)
seconds = time.perf_counter() - t0
with open(report, "w") as out:
    cpu = usage.ru_utime + usage.ru_stime
    out.write(f"{os.waitstatus_to_exitcode(status)} {seconds!r} {usage.ru_maxrss} {cpu!r}")
"""


class Runner:
    """Runs whole processes in the temp folder, output to files, timing wall clock and max RSS."""

    def __init__(self, tmp: Path, env: dict[str, str]) -> None:
        self.tmp = tmp
        self.env = env
        self.count = 0
        self.launcher = tmp / "launcher.py"
        self.launcher.write_text(LAUNCHER, encoding="utf-8")
        (tmp / "out").mkdir(exist_ok=True)

    def run(self, name: str, cmd: Sequence[str], env: dict[str, str] | None = None) -> Sample:
        self.count += 1
        out_path = self.tmp / "out" / f"{self.count:03d}-{name.replace(' ', '_')}.out"
        err_path = out_path.with_suffix(".err")
        report = out_path.with_suffix(".rusage")
        with out_path.open("wb") as out, err_path.open("wb") as err:
            done = subprocess.run(
                [sys.executable, "-S", str(self.launcher), str(report), *cmd],
                stdin=subprocess.DEVNULL, stdout=out, stderr=err, env=env or self.env,
                cwd=self.tmp, check=False,
            )
        if done.returncode != 0 or not report.exists():
            raise BenchError(f"the launcher failed for {name} ({done.returncode}): "
                             f"{err_path.read_text(errors='replace')[-400:]}")
        code, seconds, maxrss_kib, cpu = report.read_text().split()
        if code != "0":
            tail = err_path.read_text(errors="replace").strip().splitlines()[-6:]
            raise BenchError(
                f"{name} exited with {code}:\n    " + "\n    ".join(tail or ["(no stderr)"])
            )
        return Sample(float(seconds), int(maxrss_kib) / 1024, float(cpu), out_path)  # KiB


# --------------------------------------------------------------------------- results table


@dataclass(frozen=True)
class Row:
    what: str
    median: str
    low: str = ""
    high: str = ""
    target: str = "-"
    ratio: float | None = None
    passed: bool | None = None  # None: information only
    note: str = ""


def _s(seconds: float) -> str:
    return f"{seconds * 1e3:.0f} ms" if seconds < 1.0 else f"{seconds:.2f} s"


def time_row(what: str, series: Series, limit: float | None = None, note: str = "") -> Row:
    med = series.median
    ratio = med / limit if limit else None
    if not series.in_process:  # a process: its CPU time says how busy the machine was
        cpu = statistics.median(s.cpu for s in series.samples)
        note = f"cpu {_s(cpu)}" + (f"; {note}" if note else "")
    return Row(what, _s(med), _s(min(series.seconds)), _s(max(series.seconds)),
               f"<= {_s(limit)}" if limit else "-", ratio,
               (ratio <= 1.0) if ratio is not None else None, note)


def speedup_row(what: str, kash: Series, anchor: Series, required: float | None) -> Row:
    """Kash's speedup against an anchor, pair by pair (the two ran in turn), median min max.

    Pairing keeps the ratio meaningful when the machine's speed drifts during the run; the CPU
    ratio (user + system) in the note is the figure least moved by other load on the machine.
    """
    pairs = list(zip(kash.samples, anchor.samples, strict=False))
    wall = [a.seconds / k.seconds for k, a in pairs]
    cpu = statistics.median(a.cpu / k.cpu for k, a in pairs)
    med = statistics.median(wall)
    ratio = required / med if required else None
    return Row(what, f"{med:.1f}x", f"{min(wall):.1f}x", f"{max(wall):.1f}x",
               f">= {required:g}x" if required else "-", ratio,
               (ratio <= 1.0) if ratio is not None else None,
               f"{len(pairs)} pairs; cpu ratio {cpu:.1f}x")


def memory_row(what: str, series: Series, limit_mb: float | None) -> Row:
    ratio = series.rss_max / limit_mb if limit_mb else None
    rss = [s.rss_mb for s in series.samples]
    return Row(what, f"{series.rss_median:.0f} MB", f"{min(rss):.0f} MB", f"{max(rss):.0f} MB",
               f"<= {limit_mb:g} MB" if limit_mb else "-", ratio,
               (ratio <= 1.0) if ratio is not None else None,
               "max RSS of the process (ratio from the highest)")


def failed_row(what: str, target: str, why: str) -> Row:
    return Row(what, "-", target=target, passed=False, note=why)


def print_table(rows: list[Row]) -> None:
    head = ("WHAT", "MEDIAN", "MIN", "MAX", "TARGET", "RATIO", "RESULT")
    width = max(len(head[0]), *(len(r.what) for r in rows))
    print(f"{head[0]:<{width}}  {head[1]:>9} {head[2]:>9} {head[3]:>9}  {head[4]:>10} "
          f"{head[5]:>6}  {head[6]}")
    for r in rows:
        result = "info" if r.passed is None else ("PASS" if r.passed else "FAIL")
        ratio = "-" if r.ratio is None else f"{r.ratio:.2f}"
        line = (f"{r.what:<{width}}  {r.median:>9} {r.low:>9} {r.high:>9}  {r.target:>10} "
                f"{ratio:>6}  {result}")
        print(line + (f"  {r.note}" if r.note else ""))


# --------------------------------------------------------------------------- the bench


class Bench:
    def __init__(self, tmp: Path, repeats: Repeats, only: set[str]) -> None:
        self.tmp = tmp
        self.repeats = repeats
        self.only = only
        self.rows: list[Row] = []
        self.notes: list[str] = []
        self.kash = Path(sys.executable).parent / "kash"
        xdg = {name: tmp / "xdg" / name.lower() for name in
               ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME")}
        for path in xdg.values():
            path.mkdir(parents=True)
        # PYTHONDONTWRITEBYTECODE (set on some build machines) would make every process
        # compile the project from source, a cost no installed Kash pays: pip compiles on install
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("KASH_", "APCA_", "NUMBA_")) and k != "PYTHONDONTWRITEBYTECODE"}
        env.update({k: str(v) for k, v in xdg.items()})
        env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.null.Keyring"
        env["MPLCONFIGDIR"] = str(tmp / "mpl")
        env["NUMBA_CACHE_DIR"] = str(tmp / "numba-warm")
        env["PYTHONWARNINGS"] = "ignore"
        os.environ.update({k: str(v) for k, v in xdg.items()})  # this process too
        self.env = env
        self.runner = Runner(tmp, env)
        self.db_path = tmp / "kash.db"
        self.url = f"sqlite:///{self.db_path}"
        self.minute_csv = tmp / "minute-1m.csv"
        self.sweep_csv = tmp / "minute-100k.csv"
        self.daily_csv = tmp / "daily-10k.csv"

    # -- set-up -------------------------------------------------------------------------------

    def kash_cmd(self, *args: str, db: str | None = None) -> list[str]:
        return [str(self.kash), *args, "--db", db or self.url]

    def prepare_template(self) -> Path:
        """A fresh database with its schema and first-run data, as the first ``kash`` leaves it."""
        template = self.tmp / "template.db"
        self.runner.run("kash db upgrade", self.kash_cmd("db", "upgrade", db=f"sqlite:///{template}"))
        self.runner.run("kash data list", self.kash_cmd("data", "list", db=f"sqlite:///{template}"))
        return template

    def import_cmd(self, csv: Path, symbol: str, timeframe: str, db: str | None = None) -> list[str]:
        return self.kash_cmd("data", "import", str(csv), "--symbol", symbol,
                             "--timeframe", timeframe, db=db)

    def import_untimed(self, csv: Path, symbol: str, timeframe: str) -> None:
        """Import through the CLI; if it crashes, through MarketService in this process (noted)."""
        try:
            self.runner.run(f"import {symbol}", self.import_cmd(csv, symbol, timeframe))
        except BenchError as exc:
            self.notes.append(
                f"`kash data import` of {symbol} failed, so it was imported through "
                f"MarketService.import_csv in the bench process: {str(exc).splitlines()[0]} "
                f"{str(exc).splitlines()[-1].strip()}"
            )
            self._import_in_process(csv, symbol, timeframe)

    def _import_in_process(self, csv: Path, symbol: str, timeframe: str) -> float:
        provider = self._provider()
        from kash_tui.domains.market import Timeframe

        try:
            t0 = time.perf_counter()
            report = provider.market.import_csv(csv, symbol, timeframe=Timeframe(timeframe))
            seconds = time.perf_counter() - t0
        finally:
            provider.close()
        if report.stored <= 0:
            raise BenchError(f"MarketService.import_csv stored no bars of {symbol}: {report}")
        return seconds

    def _provider(self):  # noqa: ANN202
        from kash_tui.config import Settings
        from kash_tui.provider import ServiceProvider

        provider = ServiceProvider(Settings(database_url=self.url))
        provider.prepare()
        return provider

    def generate(self) -> None:
        t0 = time.perf_counter()
        # byte-compile the project as pip does on install, so no timed run pays for it
        # (an editable install compiles on first import, or never when bytecode is off)
        package = find_spec("kash_tui")
        if package is not None and package.submodule_search_locations:
            subprocess.run([sys.executable, "-m", "compileall", "-q",
                            *package.submodule_search_locations], env=self.env, check=False,
                           stdout=subprocess.DEVNULL)
        made = []
        if self.only & {"import", "load", "minute"}:
            minute_csv(self.minute_csv, MINUTE_ROWS, seed=1)
            made.append(f"{MINUTE_ROWS:,} minute rows ({self.minute_csv.stat().st_size / 1e6:.0f} MB)")
        if "sweep" in self.only:
            minute_csv(self.sweep_csv, SWEEP_ROWS, seed=2)
            made.append(f"{SWEEP_ROWS:,} minute rows")
        if "daily" in self.only:
            daily_csv(self.daily_csv, DAILY_ROWS, seed=3)
            made.append(f"{DAILY_ROWS:,} daily rows")
        print(f"generated {', '.join(made)} in {time.perf_counter() - t0:.1f} s", flush=True)

    def wanted(self, name: str) -> bool:
        return name in self.only

    # -- benchmarks ---------------------------------------------------------------------------

    def bench_import(self, template: Path) -> None:
        """Whole-process imports into copies of the template; the last copy becomes the database."""
        series = Series("import")
        failure = ""
        for i in range(self.repeats.imports):
            target = self.tmp / f"import-{i}.db"
            shutil.copyfile(template, target)
            try:
                series.samples.append(self.runner.run(
                    "kash data import 1M",
                    self.import_cmd(self.minute_csv, "M1M", "1Min", db=f"sqlite:///{target}")))
            except BenchError as exc:
                failure = str(exc)
                target.unlink(missing_ok=True)
                break
            shutil.move(target, self.db_path)  # the last one stays as the bench's database
        what = f"kash data import, {MINUTE_ROWS:,} rows"
        if failure:
            first, last = failure.splitlines()[0], failure.splitlines()[-1].strip()
            self.rows.append(failed_row(what, f"<= {_s(IMPORT_MAX_S)}", f"{first} {last}"))
            shutil.copyfile(template, self.db_path)
            seconds = self._import_in_process(self.minute_csv, "M1M", "1Min")
            self.rows.append(Row(f"  MarketService.import_csv {MINUTE_ROWS:,} (in process)",
                                 _s(seconds), note="fallback, once"))
            self.notes.append(
                "`kash data import` of 1M rows failed, so the bars were imported through "
                "MarketService.import_csv in the bench process (row above)."
            )
        else:
            self.rows.append(time_row(what, series, IMPORT_MAX_S,
                                      f"{MINUTE_ROWS / series.median:,.0f} rows/s"))

    def bench_load(self) -> None:
        from kash_tui.domains.market import Timeframe

        provider = self._provider()
        series = Series("load", in_process=True)
        try:
            provider.market.load_bars("M1M", Timeframe.MIN_1)  # warm-up: engine, page cache
            for _ in range(self.repeats.load):
                t0 = time.perf_counter()
                bars = provider.market.load_bars("M1M", Timeframe.MIN_1)
                seconds = time.perf_counter() - t0
                series.samples.append(Sample(seconds, 0.0, seconds, Path()))
                if len(bars) != MINUTE_ROWS:
                    raise BenchError(f"load_bars returned {len(bars):,} bars, not {MINUTE_ROWS:,}")
                del bars
        finally:
            provider.close()
        self.rows.append(time_row(f"load_bars {MINUTE_ROWS:,} (in process)", series, LOAD_MAX_S))

    def bench_minute(self) -> None:
        anchors_ok = self._anchor_modules()
        params = json.dumps({"short_period": SHORT, "long_period": LONG})
        base = ["backtest", "--symbol", "M1M", "--timeframe", "1Min", "--strategy", "sma_crossover",
                "--params", params, "--whole-shares", "--cash", f"{CASH:g}",
                "--commission", f"{COMMISSION:g}"]
        kash_json_cmd = self.kash_cmd(*base, "--json")
        kash_text_cmd = self.kash_cmd(*base)
        bt_script = self.tmp / "anchor_backtesting.py"
        vbt_script = self.tmp / "anchor_vectorbt.py"
        bt_script.write_text(BACKTESTING_PY, encoding="utf-8")
        vbt_script.write_text(VECTORBT, encoding="utf-8")
        anchor_args = [str(self.minute_csv), str(SHORT), str(LONG), f"{CASH!r}", f"{COMMISSION!r}"]
        bt_cmd = [sys.executable, str(bt_script), *anchor_args]
        vbt_cmd = [sys.executable, str(vbt_script), *anchor_args]

        kash_json, kash_text = Series("kash --json"), Series("kash")
        bt, vbt_warm, vbt_cold = Series("backtesting.py"), Series("vectorbt"), Series("vectorbt cold")
        # Warm-ups: bytecode and page cache for everyone; vectorbt's numba cache compiled once.
        self.runner.run("kash --json warm-up", kash_json_cmd)
        if anchors_ok["vectorbt"]:
            cold_env = dict(self.env, NUMBA_CACHE_DIR=str(self.tmp / "numba-cold-0"))
            vbt_cold.samples.append(self.runner.run("vectorbt first compile", vbt_cmd, cold_env))
            self.runner.run("vectorbt warm-up", vbt_cmd)
        rounds = max(self.repeats.kash_minute, self.repeats.backtesting, self.repeats.vbt_warm)
        for i in range(rounds):
            if i < self.repeats.kash_minute:
                kash_json.samples.append(self.runner.run("kash backtest 1M --json", kash_json_cmd))
                kash_text.samples.append(self.runner.run("kash backtest 1M", kash_text_cmd))
            if anchors_ok["backtesting"] and i < self.repeats.backtesting:
                bt.samples.append(self.runner.run("backtesting.py 1M", bt_cmd))
            if anchors_ok["vectorbt"] and i < self.repeats.vbt_warm:
                vbt_warm.samples.append(self.runner.run("vectorbt 1M warm", vbt_cmd))
            if anchors_ok["vectorbt"] and 0 < i < self.repeats.vbt_cold:
                cold_env = dict(self.env, NUMBA_CACHE_DIR=str(self.tmp / f"numba-cold-{i}"))
                vbt_cold.samples.append(self.runner.run("vectorbt first compile", vbt_cmd, cold_env))

        n = f"{MINUTE_ROWS // 1_000_000}M"
        self.rows.append(time_row(f"kash backtest {n} 1Min --json", kash_json))
        self.rows.append(time_row(f"kash backtest {n} 1Min (text)", kash_text))
        if bt.samples:
            self.rows.append(time_row(f"backtesting.py 0.6.6 {n} (own process)", bt))
        if vbt_warm.samples:
            self.rows.append(time_row(f"vectorbt {n}, warm numba cache", vbt_warm))
            self.rows.append(time_row(f"vectorbt {n}, first compile", vbt_cold))
        if bt.samples:
            self.rows.append(speedup_row("--json vs backtesting.py (x faster)", kash_json, bt,
                                         JSON_SPEEDUP_MIN))
            self.rows.append(speedup_row("text vs backtesting.py (x faster)", kash_text, bt,
                                         TEXT_SPEEDUP_MIN))
        else:
            for what, req in (("--json vs backtesting.py", JSON_SPEEDUP_MIN),
                              ("text vs backtesting.py", TEXT_SPEEDUP_MIN)):
                self.rows.append(failed_row(what, f">= {req:g}x", "backtesting.py not installed"))
        if vbt_warm.samples:
            self.rows.append(speedup_row("--json vs vectorbt warm (x faster)", kash_json, vbt_warm, None))
            self.rows.append(speedup_row("--json vs vectorbt first compile", kash_json, vbt_cold, None))
        self.rows.append(memory_row(f"kash backtest {n} --json peak memory", kash_json, RSS_MAX_MB))
        self.rows.append(memory_row(f"kash backtest {n} (text) peak memory", kash_text, RSS_MAX_MB))
        for series in (bt, vbt_warm):
            if series.samples:
                self.rows.append(memory_row(f"{series.name} peak memory", series, None))
        self._compare(kash_json.samples[-1].stdout,
                      bt.samples[-1].stdout if bt.samples else None,
                      vbt_warm.samples[-1].stdout if vbt_warm.samples else None)

    def _anchor_modules(self) -> dict[str, bool]:
        found = {name: find_spec(name) is not None for name in ("backtesting", "vectorbt")}
        missing = [name for name, ok in found.items() if not ok]
        if missing:
            self.notes.append(f"not installed: {', '.join(missing)}; install the bench extra "
                              "with pip install -e '.[bench]'")
        if found["backtesting"]:
            from importlib.metadata import version

            if version("backtesting") != "0.6.6":
                self.notes.append(f"backtesting.py is {version('backtesting')}, not the 0.6.6 "
                                  "the target names")
        return found

    def _compare(self, kash_out: Path, bt_out: Path | None, vbt_out: Path | None) -> None:
        """Round trips and final equity of the same 1M-bar run, Kash beside each anchor."""
        report = json.loads(kash_out.read_text(encoding="utf-8"))
        trips = report["round_trips"]
        still_open = sum(1 for t in trips if t["open"])
        rows = [("kash", len(trips) - still_open, still_open, report["metrics"]["final_equity"])]
        for path in (bt_out, vbt_out):
            if path is None:
                continue
            line = next((ln for ln in path.read_text(encoding="utf-8").splitlines()
                         if ln.startswith("ANCHOR ")), None)
            if line is None:
                raise BenchError(f"{path.name} has no ANCHOR summary line")
            got = json.loads(line[len("ANCHOR "):])
            rows.append((got["engine"], got["trades_closed"], got["trades_open"],
                         got["final_equity"]))
        print(f"\nsame run, {MINUTE_ROWS:,} bars, SMA({SHORT},{LONG}), cash {CASH:,.0f}, "
              f"commission {COMMISSION:g}, whole shares, fills at the next bar's open:")
        print(f"  {'ENGINE':<15} {'CLOSED TRIPS':>12} {'OPEN':>5} {'FINAL EQUITY':>14} {'VS KASH':>9}")
        kash_equity = rows[0][3]
        for engine, closed, open_, equity in rows:
            diff = (equity / kash_equity - 1) * 100
            print(f"  {engine:<15} {closed:>12,} {open_:>5} {equity:>14,.2f} {diff:>+8.4f}%")
            if engine != "kash" and (closed, open_) != rows[0][1:3]:
                self.notes.append(f"{engine} made {closed:,} closed + {open_} open round trips, "
                                  f"Kash {rows[0][1]:,} + {rows[0][2]}.")

    def bench_daily(self) -> None:
        self.import_untimed(self.daily_csv, "D10K", "1Day")
        cmd = self.kash_cmd("backtest", "--symbol", "D10K", "--strategy", "sma_crossover")
        self.runner.run("kash backtest 10k warm-up", cmd)
        series = Series("daily")
        for _ in range(self.repeats.short_cli):
            series.samples.append(self.runner.run("kash backtest 10k daily", cmd))
        out = series.samples[-1].stdout.read_text(encoding="utf-8")
        if f"{DAILY_ROWS} bars" not in out:
            raise BenchError(f"kash backtest on D10K did not report {DAILY_ROWS} bars:\n{out[:400]}")
        self.rows.append(time_row(f"kash backtest {DAILY_ROWS:,} daily bars", series, DAILY_MAX_S))

    def bench_sweep(self) -> None:
        self.import_untimed(self.sweep_csv, "M100K", "1Min")
        cmd = self.kash_cmd("backtest", "--symbol", "M100K", "--timeframe", "1Min",
                            "--strategy", "sma_crossover", "--sweep", SWEEP_GRID)
        self.runner.run("kash sweep warm-up", cmd)
        series = Series("sweep")
        for _ in range(self.repeats.short_cli):
            series.samples.append(self.runner.run("kash sweep 90 pairs", cmd))
        out = series.samples[-1].stdout.read_text(encoding="utf-8")
        if not out.startswith("90 combinations"):
            raise BenchError(f"the sweep did not report 90 combinations:\n{out[:400]}")
        self.rows.append(time_row(f"kash sweep 90 pairs, {SWEEP_ROWS:,} 1Min bars", series,
                                  SWEEP_MAX_S))

    # -- all ----------------------------------------------------------------------------------

    def run(self) -> None:
        self.generate()
        template = self.prepare_template()
        needs_m1m = self.only & {"import", "load", "minute"}
        if "import" in self.only:
            self.bench_import(template)
        elif needs_m1m:
            shutil.copyfile(template, self.db_path)
            self.import_untimed(self.minute_csv, "M1M", "1Min")
        else:
            shutil.copyfile(template, self.db_path)
        steps: list[tuple[str, Callable[[], None]]] = [
            ("load", self.bench_load), ("minute", self.bench_minute),
            ("daily", self.bench_daily), ("sweep", self.bench_sweep),
        ]
        for name, step in steps:
            if self.wanted(name):
                print(f"running {name} ...", flush=True)
                step()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats (about 3 minutes)")
    parser.add_argument("--only", metavar="NAME[,NAME]",
                        help=f"run only these benchmarks: {', '.join(BENCHMARKS)}")
    parser.add_argument("--keep", action="store_true", help="keep the temp folder and print it")
    args = parser.parse_args(argv)
    only = set(BENCHMARKS)
    if args.only:
        only = {n.strip() for n in args.only.split(",") if n.strip()}
        unknown = only - set(BENCHMARKS)
        if unknown:
            parser.error(f"unknown benchmark {', '.join(sorted(unknown))}; "
                         f"choose from {', '.join(BENCHMARKS)}")
    if os.name != "posix":
        print("This bench measures child processes with os.wait4, which needs Linux or macOS.")
        return 2
    kash = Path(sys.executable).parent / "kash"
    if not kash.exists():
        print(f"{kash} not found: install the project first (pip install -e '.[bench]').")
        return 2

    repeats = QUICK if args.quick else FULL
    tmp = Path(tempfile.mkdtemp(prefix="kash-bench-real-"))
    print(f"python {sys.version.split()[0]}, sqlite {sqlite3.sqlite_version}, numpy "
          f"{np.__version__}, {os.cpu_count()} cpus; {'quick' if args.quick else 'full'} run; "
          f"folder {tmp}")
    bench = Bench(tmp, repeats, only)
    t0 = time.perf_counter()
    error = None
    try:
        bench.run()
    except BenchError as exc:
        error = str(exc)
    finally:
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)

    print()
    print_table(bench.rows)
    for note in bench.notes:
        print("note: " + textwrap.fill(note, 100, subsequent_indent="      "))
    if error:
        print(f"\nFAIL: could not finish: {error}")
    failed = error is not None or any(r.passed is False for r in bench.rows)
    print(f"\n{'FAIL' if failed else 'PASS'} ({time.perf_counter() - t0:.0f} s)")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
