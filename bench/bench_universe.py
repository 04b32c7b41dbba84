"""Benchmark of a universe backtest, whole process: ``kash backtest --universe`` over 100
symbols x 10,000 daily bars (one million bars), SMA crossover, at most 10 positions, on every
core of this machine (the embedded GridExecutor computes each symbol's signals); then a sweep
of that universe (``--sweep``, 20 cells, each a whole universe run; the cells on every core).

Run: ``python bench/bench_universe.py`` from the repository root. The bars are generated (random
walks; every 10th symbol misses every 7th bar, so the time lines must be aligned) and stored once
into a temporary SQLite database with the universe, untimed; then the command runs three times
as its own process (the ``kash`` installed beside this Python) and the median wall time is
printed, with the single runs. Each run is stored, as a user's is. Only the standard library,
numpy and the project.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SYMBOLS = 100
BARS = 10_000
MAX_POSITIONS = 10
RUNS = 3
SWEEP = "short_period=5:45:10,long_period=60:240:60"  # 5 x 4 = 20 cells


def _store(db: str) -> None:
    from kash_tui.config import Settings
    from kash_tui.domains.market import AssetClass, BarSeries, Timeframe
    from kash_tui.provider import ServiceProvider

    kash = ServiceProvider(Settings(database_url=db, demo_data=False))
    kash.prepare()
    try:
        kash.workspace.create_workspace("Bench")
        start = 315_532_800  # 1980-01-01 UTC
        days = np.arange(BARS, dtype=np.int64)
        names = []
        for k in range(SYMBOLS):
            rng = np.random.default_rng(k)
            close = 50.0 * np.exp(np.cumsum(rng.normal(0.0002, 0.015, BARS)))
            open_ = np.r_[50.0, close[:-1]] * np.exp(rng.normal(0, 0.002, BARS))
            keep = days % 7 != 6 if k % 10 == 9 else np.ones(BARS, dtype=bool)
            names.append(f"U{k:03d}")
            kash.market.store_bars(BarSeries(
                symbol=names[-1], timeframe=Timeframe.DAY_1, asset_class=AssetClass.US_EQUITY,
                tz="America/New_York", timestamps=(start + 86_400 * days[keep]) * 1_000_000_000,
                open=open_[keep], high=np.maximum(open_, close)[keep] * 1.001,
                low=np.minimum(open_, close)[keep] * 0.999, close=close[keep],
                volume=np.full(int(keep.sum()), 1000.0),
            ), source="csv")
        kash.workspace.create_universe("bench100", names, "Bench")
    finally:
        kash.close()


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="kash-bench-universe-") as tmp:
        db = f"sqlite:///{tmp}/bench.db"
        _store(db)
        kash = shutil.which("kash", path=str(Path(sys.executable).parent)) or "kash"
        command = [kash, "backtest", "--db", db, "--universe", "bench100", "--strategy",
                   "sma_crossover", "--max-positions", str(MAX_POSITIONS), "--json"]
        times = []
        for _ in range(RUNS):
            started = time.perf_counter()
            done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
            times.append(time.perf_counter() - started)
            if done.returncode != 0:
                print(done.stderr, file=sys.stderr)
                return 1
        out = json.loads(done.stdout)
        sweep_times = []
        for _ in range(RUNS):
            started = time.perf_counter()
            swept = subprocess.run([*command, "--sweep", SWEEP], capture_output=True, text=True,
                                   cwd=ROOT)
            sweep_times.append(time.perf_counter() - started)
            if swept.returncode != 0:
                print(swept.stderr, file=sys.stderr)
                return 1
        cells = json.loads(swept.stdout)["results"]
    print(f"kash backtest --universe: {SYMBOLS} symbols x {BARS:,} daily bars "
          f"({out['settings']['bars']:,} aligned times), {len(out['fills']):,} fills, "
          f"at most {MAX_POSITIONS} positions, {os.cpu_count()} cores")
    print(f"  runs: {', '.join(f'{t:.2f} s' for t in times)}")
    print(f"  median of {RUNS}: {statistics.median(times):.2f} s (whole process)")
    print(f"kash backtest --universe --sweep {SWEEP}: {len(cells)} cells, each a universe run")
    print(f"  runs: {', '.join(f'{t:.2f} s' for t in sweep_times)}")
    print(f"  median of {RUNS}: {statistics.median(sweep_times):.2f} s (whole process)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
