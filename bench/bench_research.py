"""Benchmark of a walk-forward, whole process: ``kash walkforward`` on 400,000 one-minute bars,
8 rolling windows (training 80,000 bars, test 40,000) x 90 SMA pairs (short 5..50 step 5, long
20..200 step 20, short < long), on every core of this machine (the embedded GridExecutor).

Run: ``python bench/bench_research.py`` from the repository root. The bars are generated (a
random walk) and stored once into a temporary SQLite database, untimed; then the command runs
three times as its own process (the ``kash`` installed beside this Python)
and the median wall time is printed, with the single runs. Each run is stored, as a user's is.
Only the standard library, numpy and the project.
"""

from __future__ import annotations

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

BARS = 400_000
TRAIN, TEST = 80_000, 40_000  # tests start at 80k, 120k, ... 360k: 8 windows
GRID = "short_period=5:50:5,long_period=20:200:20"  # 100 pairs, 90 valid
RUNS = 3


def _store(db: str) -> None:
    from kash_tui.config import Settings
    from kash_tui.domains.market import AssetClass, BarSeries, Timeframe
    from kash_tui.provider import ServiceProvider

    rng = np.random.default_rng(13)
    close = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.001, BARS)))
    open_ = np.r_[100.0, close[:-1]]
    start = 1_704_067_200  # 2024-01-01 UTC
    series = BarSeries(
        symbol="BENCH/USD", timeframe=Timeframe.MIN_1, asset_class=AssetClass.CRYPTO, tz="UTC",
        timestamps=(start + 60 * np.arange(BARS, dtype=np.int64)) * 1_000_000_000,
        open=open_, high=np.maximum(open_, close) * 1.0005,
        low=np.minimum(open_, close) * 0.9995, close=close, volume=np.full(BARS, 5.0),
    )
    kash = ServiceProvider(Settings(database_url=db, demo_data=False))
    kash.prepare()
    try:
        kash.market.store_bars(series, source="csv")
    finally:
        kash.close()


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="kash-bench-research-") as tmp:
        db = f"sqlite:///{tmp}/bench.db"
        _store(db)
        kash = shutil.which("kash", path=str(Path(sys.executable).parent)) or "kash"
        command = [kash, "walkforward", "--db", db,
                   "--symbol", "BENCH/USD", "--timeframe", "1Min", "--strategy", "sma_crossover",
                   "--sweep", GRID, "--train", str(TRAIN), "--test", str(TEST), "--json"]
        times = []
        for _ in range(RUNS):
            started = time.perf_counter()
            done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
            times.append(time.perf_counter() - started)
            if done.returncode != 0:
                print(done.stderr, file=sys.stderr)
                return 1
        import json

        out = json.loads(done.stdout)
        windows = len(out["windows"])
        cells = out["windows"][0]["candidates"]
    print(f"kash walkforward: {BARS:,} one-minute bars, {windows} windows x {cells} pairs "
          f"({windows * cells} training jobs + {windows} test parts), {os.cpu_count()} cores")
    print(f"  runs: {', '.join(f'{t:.2f} s' for t in times)}")
    print(f"  median of {RUNS}: {statistics.median(times):.2f} s (whole process)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
