"""Benchmark of the vectorised backtest engine against its targets.

Run: ``python bench/bench_backtest.py [--local-signals]`` (from the repository root). One process,
one run; every figure is the MEDIAN of several repetitions (floor and full timed alternately).
Signals come from the strategy domain's ``sma_crossover`` when it is importable, else (or with
``--local-signals``) from the local numpy cumsum helper below.

  floor  numpy SMA(10) + SMA(30) + crossover signal array alone
  full   the same signals + ``run_backtest`` (fills, equity, metrics)

Targets (PASS/FAIL printed, exit code 1 on a FAIL):
  * 1M bars: full <= 3x floor (design goal 2x) and peak extra memory of the full run < 200 MB
  * sweep: 90 SMA pairs (short 5..50 step 5, long 20..200 step 20, short < long) on 100k bars,
    signals + backtest + metrics for every pair, < 0.5 s in total
"""

from __future__ import annotations

import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kash_tui.domains.trading.service import BacktestResult, BacktestSettings
from kash_tui.domains.trading.engine import run_backtest

SIZES = (10_000, 100_000, 1_000_000)
REPEATS = {10_000: 100, 100_000: 40, 1_000_000: 21}
FULL_OVER_FLOOR_MAX = 3.0
PEAK_MB_MAX = 200.0
SWEEP_BARS = 100_000
SWEEP_SECONDS_MAX = 0.5
DAY_NS = 86_400 * 1_000_000_000

Data = dict[str, np.ndarray]
SignalFn = Callable[[Data, int, int], np.ndarray]
"""(bars, short window, long window) -> int8 signals."""


# --------------------------------------------------------------------------- data and signals


def random_walk_ohlcv(n: int, seed: int = 42) -> Data:
    rng = np.random.default_rng(seed)
    close = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.01, n)))
    prev = np.concatenate(([100.0], close[:-1]))
    open_ = prev * np.exp(rng.normal(0.0, 0.003, n))
    high = np.maximum(open_, close) * (1.0 + np.abs(rng.normal(0.0, 0.002, n)))
    low = np.minimum(open_, close) * (1.0 - np.abs(rng.normal(0.0, 0.002, n)))
    volume = rng.integers(1_000, 100_000, n).astype(np.float64)
    ts = (np.arange(n, dtype=np.int64) + 10_000) * DAY_NS
    return {"open": open_, "high": high, "low": low, "close": close, "volume": volume, "ts": ts}


def sma(x: np.ndarray, window: int) -> np.ndarray:
    """Simple moving average via cumsum; NaN for the first window-1 bars."""
    out = np.full(x.shape[0], np.nan)
    if window > x.shape[0]:
        return out
    c = np.cumsum(x)
    out[window - 1] = c[window - 1]
    np.subtract(c[window:], c[:-window], out=out[window:])
    out[window - 1 :] /= window
    return out


def crossover_signals(fast: np.ndarray, slow: np.ndarray) -> np.ndarray:
    """+1 where fast crosses above slow, -1 where it crosses below, else 0 (int8)."""
    above = fast > slow
    signals = np.zeros(fast.shape[0], dtype=np.int8)
    flipped = above[1:] != above[:-1]
    np.copyto(signals[1:], np.where(above[1:], 1, -1).astype(np.int8), where=flipped)
    return signals


def local_sma_crossover(data: Data, short: int, long: int) -> np.ndarray:
    close = data["close"]
    return crossover_signals(sma(close, short), sma(close, long))


def strategy_service_signals() -> SignalFn | None:
    """The strategy domain's ``sma_crossover`` if it is there and usable, else None.

    The strategy domain is written in parallel with this bench, so its parameter names are
    probed and any mismatch falls back to the local numpy helper (printing why).
    """
    try:
        from kash_tui.domains.strategy import create_strategy_service  # type: ignore[attr-defined]
    except ImportError as exc:
        print(f"signals: local numpy SMA helper (strategy domain not importable: {exc})")
        return None
    try:
        service = create_strategy_service()
        base = service.get("sma_crossover")
        info = next(i for i in service.list() if i.id == "sma_crossover")
        names = _window_param_names(info.params_schema)

        def generate(data: Data, short: int, long: int) -> np.ndarray:
            strategy = base.with_params({names[0]: short, names[1]: long})
            return np.asarray(strategy.generate_signals(_Bars(data)), dtype=np.int8)

        probe = random_walk_ohlcv(2_000, seed=1)
        got = generate(probe, 10, 30)
        if got.shape != (2_000,):
            raise ValueError(f"unexpected signal shape {got.shape}")
        if not np.array_equal(got, local_sma_crossover(probe, 10, 30)):
            print("note: the strategy service's sma_crossover signals differ from the local helper's")
    except Exception as exc:  # any API mismatch means "use the fallback"
        print(f"signals: local numpy SMA helper (strategy service not usable here: {exc!r})")
        return None
    print(f"signals: strategy service 'sma_crossover' ({names[0]}, {names[1]})")
    return generate


def _window_param_names(schema: dict[str, Any]) -> tuple[str, str]:
    props = list(schema.get("properties", {}))
    for pair in (
        ("short_period", "long_period"),
        ("fast_period", "slow_period"),
        ("short_window", "long_window"),
        ("fast", "slow"),
        ("short", "long"),
    ):
        if set(pair) <= set(props):
            return pair
    raise ValueError(f"no SMA window parameters among {props}")


class _Bars:
    """OHLCV view of the generated arrays (attributes, as the strategy Protocol reads them)."""

    def __init__(self, data: Data) -> None:
        self.open = data["open"]
        self.high = data["high"]
        self.low = data["low"]
        self.close = data["close"]
        self.volume = data["volume"]
        self.timestamps = data["ts"]


# --------------------------------------------------------------------------- timing


def median_ms(fn: Callable[[], object], repeats: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1e3


def interleaved_median_ms(
    a: Callable[[], object], b: Callable[[], object], repeats: int
) -> tuple[float, float]:
    """Medians of a and b timed alternately, so machine noise hits both alike."""
    a()
    b()
    ta, tb = [], []
    for _ in range(repeats):
        t0 = time.perf_counter()
        a()
        t1 = time.perf_counter()
        b()
        t2 = time.perf_counter()
        ta.append(t1 - t0)
        tb.append(t2 - t1)
    return statistics.median(ta) * 1e3, statistics.median(tb) * 1e3


def full_run(data: Data, gen: SignalFn, settings: BacktestSettings) -> BacktestResult:
    signals = gen(data, 10, 30)
    return run_backtest(data["open"], data["high"], data["low"], data["close"], data["ts"], signals, settings)


def bench_sizes(gen: SignalFn, settings: BacktestSettings) -> dict[int, tuple[float, float]]:
    results = {}
    print(
        f"\n{'bars':>10} {'floor ms':>10} {'full ms':>10} {'engine ms':>10} {'full/floor':>11} {'trips':>7}"
    )
    for n in SIZES:
        data = random_walk_ohlcv(n)
        reps = REPEATS[n]
        floor, full = interleaved_median_ms(
            lambda data=data: gen(data, 10, 30), lambda data=data: full_run(data, gen, settings), reps
        )
        trips = full_run(data, gen, settings).metrics.round_trips
        results[n] = (floor, full)
        print(
            f"{n:>10,} {floor:>10.2f} {full:>10.2f} {full - floor:>10.2f} {full / floor:>10.2f}x {trips:>7,}"
        )
    return results


def peak_memory_mb(n: int, gen: SignalFn, settings: BacktestSettings) -> float:
    data = random_walk_ohlcv(n)
    full_run(data, gen, settings)  # warm-up outside the trace
    tracemalloc.start()
    base, _ = tracemalloc.get_traced_memory()
    tracemalloc.reset_peak()
    result = full_run(data, gen, settings)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del result
    return (peak - base) / 1e6


def sweep_pairs() -> list[tuple[int, int]]:
    return [(short, long) for short in range(5, 51, 5) for long in range(20, 201, 20) if short < long]


def bench_sweep(gen: SignalFn, settings: BacktestSettings, repeats: int = 5) -> float:
    """The parameter sweep: 90 SMA pairs on 100k bars, signals + backtest + metrics each.

    Each pair regenerates its signals from scratch (as a sweep through the strategy service
    would), and each backtest computes all metrics. Returns the median total seconds.
    """
    data = random_walk_ohlcv(SWEEP_BARS, seed=7)
    pairs = sweep_pairs()
    assert len(pairs) == 90, len(pairs)

    def sweep() -> list[float]:
        out = []
        for short, long in pairs:
            signals = gen(data, short, long)
            res = run_backtest(
                data["open"], data["high"], data["low"], data["close"], data["ts"], signals, settings
            )
            out.append(res.metrics.total_return_pct)
        return out

    return median_ms(sweep, repeats) / 1e3


def main() -> int:
    print(f"numpy {np.__version__}, python {sys.version.split()[0]}")
    if "--local-signals" in sys.argv[1:]:
        print("signals: local numpy SMA helper (--local-signals)")
        gen: SignalFn = local_sma_crossover
    else:
        gen = strategy_service_signals() or local_sma_crossover
    settings = BacktestSettings(commission=0.0005, slippage=0.0002)
    print(f"settings: {settings.to_dict()}")

    results = bench_sizes(gen, settings)
    floor, full = results[1_000_000]
    ratio = full / floor
    peak = peak_memory_mb(1_000_000, gen, settings)
    print(f"\npeak extra memory, full run on 1M bars (tracemalloc): {peak:.1f} MB")

    whole = BacktestSettings(commission=0.0005, slippage=0.0002, whole_shares=True)
    data = random_walk_ohlcv(1_000_000)
    whole_ms = median_ms(lambda: full_run(data, gen, whole), 5)
    print(
        f"1M bars, whole shares (per-trade loop): full {whole_ms:.2f} ms = "
        f"{whole_ms / floor:.2f}x floor (info)"
    )

    sweep_s = bench_sweep(gen, settings)
    print(f"sweep: 90 pairs on {SWEEP_BARS:,} bars: {sweep_s * 1e3:.1f} ms total")

    checks = [
        (f"1M full/floor {ratio:.2f}x <= {FULL_OVER_FLOOR_MAX:.0f}x (goal 2x)", ratio <= FULL_OVER_FLOOR_MAX),
        (f"1M peak extra memory {peak:.1f} MB < {PEAK_MB_MAX:.0f} MB", peak < PEAK_MB_MAX),
        (f"90-pair sweep {sweep_s:.3f} s < {SWEEP_SECONDS_MAX} s", sweep_s < SWEEP_SECONDS_MAX),
    ]
    print()
    for label, ok in checks:
        print(f"{'PASS' if ok else 'FAIL'}  {label}")
    return 0 if all(ok for _, ok in checks) else 1


if __name__ == "__main__":
    raise SystemExit(main())
