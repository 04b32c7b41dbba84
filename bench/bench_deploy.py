"""A deployment at real size: per-bar and per-signal work after 100,000 one-minute bars.

Run: ``python bench/bench_deploy.py [--bars 100000] [--live 120] [--journal 100000] [--keep]``
from the repository root. Everything happens in a throwaway folder (XDG folders, a SQLite file).

What it builds, through the project's own services and the fake Alpaca server the tests use
(``tests/fakes/alpaca``, an HTTP/WebSocket server on 127.0.0.1; the real alpaca-py talks to it):

* a PAPER portfolio and an SMA-crossover deployment (10/30) on a minute series whose closes
  follow a sine, so it crosses every few dozen bars;
* ``--bars`` minutes of history at the fake; the deployment warms up on all of them (the first
  warm-up bar is fixed, so every later signal is computed over ``--bars`` + the live bars);
* a journal of ``--journal`` rows before it starts (bar, signal, order, answer and fill events
  of the history, written in one transaction as a long run would have left them);
* then ``--live`` bars revealed one at a time (the fake's clock moves a minute each), with a
  runner process (``DeploymentService.run``, tick 0.02 s, polling) following them.

It prints, from inside the runner process (its bar and signal handlers wrapped with a timer):
time per new bar (journal the bar, signals over the whole history, bookkeeping) and per signal
(journal lookups, risk checks, the order to the fake broker and its answer), medians and maxima;
the runner's peak memory (max RSS); the latency from a bar's close at the fake to the
deployment having handled it (tick and REST fetch included); and, as whole processes,
``kash deploy list``, ``kash deploy log NAME`` (the newest 50), ``kash deploy log NAME --all``
(to /dev/null) and ``kash deploy parity NAME``.

Targets (this machine, 2 shared cores): per bar <= 50 ms median, per signal <= 100 ms median,
runner peak RSS (VmHWM) <= 300 MB, ``deploy list`` and ``deploy log`` (the newest 50) <= 1.5 s
each; ``deploy log --all`` (100,000 lines) and ``parity`` are printed for information. Exit
code 1 when a target is missed.

Only the standard library, numpy, the project and its test fake are used.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SYMBOL = "BENCH"
NAME = "bench-sma"
PARAMS = {"short_period": 10, "long_period": 30}
START = datetime(2025, 1, 6, 0, 0, tzinfo=UTC)

TARGETS = {"bar_ms": 50.0, "signal_ms": 100.0, "rss_mb": 300.0, "cli_s": 1.5}

RUNNER = textwrap.dedent("""
    import json, sys, time
    from functools import partial
    from kash_tui.config import Settings
    from kash_tui.domains.connection import alpaca
    from kash_tui.domains.deployment import RunOptions
    from kash_tui.domains.deployment import runner as runner_module
    from kash_tui.provider import ServiceProvider

    alpaca.RateBudget = partial(alpaca.RateBudget, per_minute=1_000_000)
    timings = {"bar": [], "bar_total": [], "signal": [], "warmup": []}
    in_signals = [0.0]

    def timed(name, method):
        def wrapper(self, *args, **kwargs):
            before = self.last_seen if name == "bar" else None
            if name == "bar":
                in_signals[0] = 0.0
            t0 = time.perf_counter()
            try:
                return method(self, *args, **kwargs)
            finally:
                spent = time.perf_counter() - t0
                if name == "signal":
                    in_signals[0] += spent
                    timings["signal"].append(spent)
                elif name == "bar":
                    if self.last_seen != before:  # a tick that found a new bar
                        timings["bar"].append(spent - in_signals[0])
                        timings["bar_total"].append(spent)
                else:
                    timings[name].append(spent)
        return wrapper

    R = runner_module.Runner
    R._take_new_bars = timed("bar", R._take_new_bars)
    R._signal = timed("signal", R._signal)
    R._warmup = timed("warmup", R._warmup)
    kash = ServiceProvider(Settings(database_url=sys.argv[1], http_timeout_seconds=60))
    kash.prepare()
    kash.deployment.run(sys.argv[2], options=RunOptions(
        tick_seconds=0.02, warmup_bars=int(sys.argv[3]), clock_refresh_seconds=0, stream=False))
    # VmHWM, not ru_maxrss: the latter keeps the launching process's peak across exec
    with open("/proc/self/status") as status:
        mem = {line.split(":")[0]: int(line.split()[1]) / 1024 for line in status
               if line.startswith(("VmRSS:", "VmHWM:"))}
    timings["rss_mb"] = mem.get("VmRSS", float("nan"))
    timings["max_rss_mb"] = mem.get("VmHWM", float("nan"))
    print("TIMINGS " + json.dumps(timings), flush=True)
""")


def wave(count: int, period: int = 61) -> list[tuple]:
    bars = []
    prev = 100.0
    for k in range(count):
        close = round(100.0 + 4.0 * math.sin(2 * math.pi * k / period)
                      + 0.6 * math.sin(2 * math.pi * k / 13), 2)
        bars.append((START + timedelta(minutes=k), prev, max(prev, close) + 0.05,
                     min(prev, close) - 0.05, close, 1000.0))
        prev = close
    return bars


def prefill_journal(kash, deployment_id: int, bars: list[tuple], rows: int) -> int:  # noqa: ANN001
    """``rows`` journal entries as a long run leaves them: a bar event per bar, and for every
    crossover a signal, an order sent, Alpaca's answer and a fill (old client order ids the
    broker never saw, so the restart has nothing to follow)."""
    import numpy as np
    from sqlalchemy import insert

    from kash_tui.domains.deployment.entities import DeploymentEventRow
    from kash_tui.domains.market import AssetClass, BarSeries, Timeframe

    closes = np.array([b[4] for b in bars])
    series = BarSeries(
        symbol=SYMBOL, timeframe=Timeframe.MIN_1, asset_class=AssetClass.US_EQUITY,
        tz="America/New_York",
        timestamps=np.array([int(b[0].timestamp()) * 1_000_000_000 for b in bars],
                            dtype=np.int64),
        open=np.array([b[1] for b in bars]), high=np.array([b[2] for b in bars]),
        low=np.array([b[3] for b in bars]), close=closes, volume=np.full(len(bars), 1000.0),
    )
    signals = np.asarray(kash.strategy.create_with_params("sma_crossover", PARAMS)
                         .generate_signals(series))
    out: list[dict] = []
    i = 0
    now = datetime.now(UTC)
    while len(out) < rows:
        k = i % len(bars)
        t, o, h, lo, c, v = bars[k]
        at = now - timedelta(minutes=len(bars) - k)
        out.append(dict(deployment_id=deployment_id, at=at, kind="bar", bar_at=t,
                        message=f"Bar {t:%Y-%m-%d %H:%M} UTC closed: C {c}.",
                        data_json=json.dumps({"o": o, "h": h, "l": lo, "c": c, "v": v})))
        if signals[k]:
            side = "buy" if signals[k] > 0 else "sell"
            cid = f"kash-d-old-{int(t.timestamp())}-{side[0]}"
            for kind, data in (
                ("signal", {"side": side, "close": c, "indicators": {}}),
                ("order_sent", {"client_order_id": cid, "side": side, "qty": "10",
                                "reference_price": c}),
                ("broker_answer", {"client_order_id": cid, "order_id": cid, "status": "new"}),
                ("fill", {"client_order_id": cid, "order_id": cid, "side": side, "qty": "10",
                          "price": str(c)}),
            ):
                out.append(dict(deployment_id=deployment_id, at=at, kind=kind, bar_at=t,
                                message=f"{kind} {side}", data_json=json.dumps(data)))
        i += 1
    with kash.db.unit_of_work() as s:
        for chunk in range(0, len(out), 20_000):
            s.execute(insert(DeploymentEventRow), out[chunk:chunk + 20_000])
    return len(out)


def cli(env: dict, *args: str, repeat: int = 3) -> tuple[float, str]:
    """Median wall time of ``kash ARGS`` as a whole process, and its last output."""
    kash = Path(sys.executable).with_name("kash")
    times = []
    out = ""
    for _ in range(repeat):
        t0 = time.perf_counter()
        done = subprocess.run([str(kash), *args], env=env, capture_output=True, text=True,
                              check=False)
        times.append(time.perf_counter() - t0)
        if done.returncode != 0:
            raise SystemExit(f"kash {' '.join(args)} failed: {done.stderr.strip()}")
        out = done.stdout
    return statistics.median(times), out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bars", type=int, default=100_000)
    parser.add_argument("--live", type=int, default=120)
    parser.add_argument("--journal", type=int, default=100_000)
    parser.add_argument("--keep", action="store_true", help="keep the throwaway folder")
    args = parser.parse_args()

    from tests.fakes.alpaca import FakeAlpaca

    folder = Path(tempfile.mkdtemp(prefix="kash-bench-deploy-"))
    env = dict(os.environ)
    for var in ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME"):
        env[var] = str(folder / var.lower())
        os.environ[var] = env[var]
    db_url = f"sqlite:///{folder / 'kash.db'}"
    env["KASH_DATABASE_URL"] = db_url
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    failed = False
    fake = FakeAlpaca(seed=False).start()
    try:
        env["APCA_API_KEY_ID"] = os.environ["APCA_API_KEY_ID"] = fake.key_id
        env["APCA_API_SECRET_KEY"] = os.environ["APCA_API_SECRET_KEY"] = fake.secret_key
        env["PYTHONPATH"] = str(ROOT)
        fake.bars_page_cap = 10_000
        fake.add_asset(SYMBOL, fractionable=False, price=100)
        bars = wave(args.bars + args.live)
        fake.add_bars(SYMBOL, "1Min", bars[:args.bars])
        fake.replay(SYMBOL, "1Min", bars[args.bars:])

        from kash_tui.config import Settings
        from kash_tui.domains.connection import NewConnection
        from kash_tui.domains.deployment import EventKind, NewDeployment
        from kash_tui.domains.workspace import PortfolioMode
        from kash_tui.provider import ServiceProvider

        kash = ServiceProvider(Settings(database_url=db_url, http_timeout_seconds=60))
        kash.prepare()
        kash.connection.add(NewConnection(name="paper", trading_url=fake.base_url,
                                          data_url=fake.base_url))
        folio = kash.workspace.create_portfolio("Demo", "Alpaca paper", PortfolioMode.PAPER,
                                                connection="paper")
        kash.workspace.update_portfolio(folio.id, position_size_pct=50)
        d = kash.deployment.create(NewDeployment(
            name=NAME, portfolio=folio.name, strategy_id="sma_crossover", symbol=SYMBOL,
            timeframe="1Min", params=PARAMS))
        t0 = time.perf_counter()
        rows = prefill_journal(kash, d.id, bars[:args.bars], args.journal)
        print(f"journal prefilled: {rows:,} rows in {time.perf_counter() - t0:.1f} s")
        # the state of a deployment that has followed these bars: the cache holds them, its
        # first warm-up bar is the first of them and it handled the last; it starts again
        from kash_tui.domains.deployment import repo
        from kash_tui.domains.market import Timeframe

        t0 = time.perf_counter()
        kash.market.fetch_bars(SYMBOL, Timeframe.MIN_1, bars[0][0], connection="paper")
        print(f"{args.bars:,} bars fetched into the cache in {time.perf_counter() - t0:.1f} s")
        with kash.db.unit_of_work() as s:
            repo.set_fields(s, d.id, warmup_start=bars[0][0],
                            first_live_bar=bars[min(2000, args.bars - 1)][0],
                            last_bar_at=bars[args.bars - 1][0],
                            done_bar_at=bars[args.bars - 1][0])

        process = subprocess.Popen(
            [sys.executable, "-c", RUNNER, db_url, NAME, str(args.bars)], env=env,
            cwd=str(ROOT), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        t0 = time.perf_counter()
        while not any(e.kind is EventKind.WARMUP
                      for e in kash.deployment.journal(NAME, limit=5)):
            if process.poll() is not None:
                raise SystemExit(f"the runner ended: {process.stderr.read()}")
            time.sleep(0.05)
        print(f"runner started again and read its {args.bars:,} bars in "
              f"{time.perf_counter() - t0:.1f} s")
        latencies = []
        for _ in range(args.live):
            bar = fake.advance(symbol=SYMBOL)[0]
            t1 = time.perf_counter()
            while kash.deployment.get(NAME).last_bar_at != bar.t:
                if process.poll() is not None:
                    raise SystemExit(f"the runner ended: {process.stderr.read()}")
                time.sleep(0.002)
            latencies.append(time.perf_counter() - t1)
        kash.deployment.stop(NAME)
        stdout, stderr = process.communicate(timeout=60)
        line = next((x for x in stdout.splitlines() if x.startswith("TIMINGS ")), None)
        if line is None:
            raise SystemExit(f"the runner printed no timings: {stderr[-2000:]}")
        timings = json.loads(line[len("TIMINGS "):])
        journal = kash.deployment.journal(NAME, limit=10_000)
        sent = sum(1 for e in journal if e.kind is EventKind.ORDER_SENT
                   and e.bar_at is not None and e.bar_at >= bars[args.bars][0])
        kash.close()

        def ms(values: list[float]) -> str:
            if not values:
                return "n/a"
            return (f"median {statistics.median(values) * 1000:7.1f} ms   "
                    f"max {max(values) * 1000:7.1f} ms   (n={len(values)})")

        print(f"\nAfter {args.bars:,} bars of history and {rows:,} journal rows:")
        print(f"  per new bar      {ms(timings['bar'])}   (its signal's handling apart)")
        print(f"  per signal       {ms(timings['signal'])}   ({sent} orders sent)")
        print(f"  bar, all in      {ms(timings['bar_total'])}")
        print(f"  bar latency      {ms(latencies)}   (close at the fake -> handled)")
        print(f"  start (history)  {ms(timings['warmup'])}")
        print(f"  runner memory    {timings['rss_mb']:.0f} MB at the end, "
              f"{timings['max_rss_mb']:.0f} MB at most")
        bar_med = statistics.median(timings["bar"]) * 1000
        sig_med = statistics.median(timings["signal"]) * 1000 if timings["signal"] else 0.0
        failed |= bar_med > TARGETS["bar_ms"] or sig_med > TARGETS["signal_ms"]
        failed |= timings["max_rss_mb"] > TARGETS["rss_mb"]

        print("\nWhole processes (median of 3):")
        for label, argv, target in (
            ("kash deploy list", ("deploy", "list"), True),
            ("kash deploy log NAME", ("deploy", "log", NAME), True),
            ("kash deploy log NAME --all", ("deploy", "log", NAME, "--all"), False),
            ("kash deploy parity NAME", ("deploy", "parity", NAME), False),
        ):
            try:
                spent, out = cli(env, *argv)
            except SystemExit as exc:
                print(f"  {label:<30} FAILED: {exc}")
                failed = True
                continue
            lines = out.count("\n")
            over = target and spent > TARGETS["cli_s"]
            failed |= over
            note = "  OVER TARGET" if over else ("" if target else "  (information)")
            print(f"  {label:<30} {spent:6.2f} s  ({lines:,} lines){note}")
    finally:
        fake.stop()
        if args.keep:
            print(f"\nkept: {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)
    print("\n" + ("A target was missed." if failed else "All targets met."))
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
