"""Benchmark of the market data path and of the ``kash backtest`` command against their targets.

Run: ``python bench/bench_data.py`` (from the repository root, with the project installed so the
``kash`` console script sits next to the interpreter). One process, one run; everything happens
in a throwaway folder (database, CSV files, XDG folders).

  import   ``MarketService.import_csv`` of a generated 1,000,000-row minute CSV into a fresh
           SQLite database, timed once (it is the slow one)                     target < 15 s
  load     ``MarketService.load_bars`` of those 1M bars into numpy arrays, median of 5
                                                                                target < 100 ms
  cli      the whole ``kash backtest --symbol DAILY --strategy sma_crossover`` process on
           10,000 daily bars (installed binary, --db at the temp database), one warm-up run
           then the median of 5                                                 target < 1 s
  imports  ``python -c "import kash_tui.cli.backtest"`` must not import Textual

Prints a table with PASS/FAIL per target; exit code 1 when any target fails.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from kash_tui.config import Settings  # noqa: E402
from kash_tui.domains.market import AssetClass, Timeframe  # noqa: E402
from kash_tui.provider import ServiceProvider  # noqa: E402

MINUTE_ROWS = 1_000_000
DAILY_ROWS = 10_000
IMPORT_MAX_S = 15.0
LOAD_MAX_S = 0.1
CLI_MAX_S = 1.0
LOAD_REPEATS = 5
CLI_REPEATS = 5
SESSION_MINUTES = 390  # 09:30 to 16:00 New York


def _prices(n: int, seed: int) -> tuple[np.ndarray, ...]:
    """A positive random walk as open/high/low/close/volume columns."""
    rng = np.random.default_rng(seed)
    close = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.001, n)))
    open_ = np.empty(n)
    open_[0] = 100.0
    open_[1:] = close[:-1]
    spread = np.abs(rng.normal(0.0, 0.0005, n)) * close
    high = np.maximum(open_, close) + spread
    low = np.minimum(open_, close) - spread
    volume = rng.integers(100, 10_000, n)
    return open_, high, low, close, volume


def _weekdays(start: date, count: int) -> list[date]:
    days: list[date] = []
    day = start
    while len(days) < count:
        if day.weekday() < 5:
            days.append(day)
        day += timedelta(days=1)
    return days


def _write_csv(path: Path, times: list[str], seed: int) -> None:
    o, h, lo, c, v = _prices(len(times), seed)
    rows = [
        f"{t},{a:.4f},{b:.4f},{x:.4f},{y:.4f},{z}"
        for t, a, b, x, y, z in zip(times, o.tolist(), h.tolist(), lo.tolist(), c.tolist(),
                                    v.tolist(), strict=True)
    ]
    path.write_text("Datetime,Open,High,Low,Close,Volume\n" + "\n".join(rows) + "\n",
                    encoding="utf-8")


def minute_csv(path: Path, rows: int) -> None:
    """``rows`` regular-session minute bars (naive New York wall-clock times, as vendors export)."""
    sessions = _weekdays(date(2014, 1, 2), -(-rows // SESSION_MINUTES))
    open_time = datetime(2000, 1, 1, 9, 30)
    clock = [(open_time + timedelta(minutes=m)).strftime("%H:%M:%S")
             for m in range(SESSION_MINUTES)]
    times: list[str] = []
    for day in sessions:
        prefix = day.isoformat() + " "
        times.extend(prefix + t for t in clock)
    _write_csv(path, times[:rows], seed=1)


def daily_csv(path: Path, rows: int) -> None:
    _write_csv(path, [d.isoformat() for d in _weekdays(date(1985, 1, 2), rows)], seed=2)


def _median_of(repeats: int, fn) -> tuple[float, list[float]]:  # noqa: ANN001
    samples = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples), samples


def main() -> int:
    kash_bin = Path(sys.executable).parent / ("kash.exe" if os.name == "nt" else "kash")
    if not kash_bin.exists():
        print(f"{kash_bin} not found: install the project first (pip install '.[dev]').")
        return 1
    tmp = Path(tempfile.mkdtemp(prefix="kash-bench-data-"))
    results: list[tuple[str, float, float, str]] = []  # name, seconds, target, detail
    try:
        xdg = {name: tmp / "xdg" / name.lower() for name in
               ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME")}
        for path in xdg.values():
            path.mkdir(parents=True)
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("KASH_", "APCA_"))}
        env.update({k: str(v) for k, v in xdg.items()})
        env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.null.Keyring"
        os.environ.update({k: str(v) for k, v in xdg.items()})  # this process too

        db_path = tmp / "kash.db"
        url = f"sqlite:///{db_path}"
        print(f"python {sys.version.split()[0]}, sqlite {sqlite3.sqlite_version}, "
              f"numpy {np.__version__}; folder {tmp}")

        minute = tmp / "minute.csv"
        t0 = time.perf_counter()
        minute_csv(minute, MINUTE_ROWS)
        print(f"generated {MINUTE_ROWS:,} minute rows ({minute.stat().st_size / 1e6:.0f} MB) "
              f"in {time.perf_counter() - t0:.1f} s")
        daily = tmp / "daily.csv"
        daily_csv(daily, DAILY_ROWS)

        # A fresh database (schema + demo data, as the first `kash` start leaves it), then the
        # timed import of the 1M rows.
        provider = ServiceProvider(Settings(database_url=url))
        provider.prepare()
        try:
            t0 = time.perf_counter()
            report = provider.market.import_csv(
                minute, "MINUTE", timeframe=Timeframe.MIN_1, asset_class=AssetClass.US_EQUITY
            )
            import_s = time.perf_counter() - t0
            assert report.stored == MINUTE_ROWS, report
            results.append(("import 1M minute rows (once)", import_s, IMPORT_MAX_S,
                            f"{MINUTE_ROWS / import_s:,.0f} rows/s"))

            def load() -> None:
                series = provider.market.load_bars("MINUTE", Timeframe.MIN_1)
                assert len(series) == MINUTE_ROWS

            load_s, samples = _median_of(LOAD_REPEATS, load)
            results.append((f"load_bars 1M (median of {LOAD_REPEATS})", load_s, LOAD_MAX_S,
                            "samples " + " ".join(f"{s:.3f}" for s in samples)))

            report = provider.market.import_csv(daily, "DAILY", timeframe=Timeframe.DAY_1)
            assert report.stored == DAILY_ROWS, report
        finally:
            provider.close()

        cmd = [str(kash_bin), "backtest", "--symbol", "DAILY", "--strategy", "sma_crossover",
               "--db", url]

        def backtest() -> None:
            done = subprocess.run(cmd, env=env, cwd=tmp, capture_output=True, text=True,
                                  stdin=subprocess.DEVNULL, check=False)
            if done.returncode != 0 or f"{DAILY_ROWS} bars" not in done.stdout:
                raise RuntimeError(f"kash backtest failed ({done.returncode}): {done.stderr}")

        backtest()  # warm-up: compiled bytecode and the page cache, as for a user's second run
        cli_s, samples = _median_of(CLI_REPEATS, backtest)
        results.append((f"kash backtest 10k daily (median of {CLI_REPEATS})", cli_s, CLI_MAX_S,
                        "samples " + " ".join(f"{s:.3f}" for s in samples)))

        probe = subprocess.run(
            [sys.executable, "-c",
             "import sys, kash_tui.cli.backtest; "
             "print(','.join(sorted(m for m in sys.modules if m.split('.')[0] == 'textual')))"],
            env=env, cwd=ROOT, capture_output=True, text=True, check=False,
        )
        textual = probe.stdout.strip()
        imports_ok = probe.returncode == 0 and not textual
        detail = ("textual not imported" if imports_ok else
                  f"rc={probe.returncode} textual modules: {textual[:80] or probe.stderr[-200:]}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    print()
    print(f"{'BENCHMARK':<40} {'SECONDS':>8} {'TARGET':>8}  RESULT  DETAIL")
    failed = False
    for name, seconds, target, info in results:
        passed = seconds < target
        failed |= not passed
        print(f"{name:<40} {seconds:>8.3f} {'< ' + format(target, 'g'):>8}  "
              f"{'PASS' if passed else 'FAIL':<6}  {info}")
    failed |= not imports_ok
    print(f"{'import kash_tui.cli.backtest: no textual':<40} {'-':>8} {'-':>8}  "
          f"{'PASS' if imports_ok else 'FAIL':<6}  {detail}")
    print()
    print("FAIL" if failed else "PASS")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
