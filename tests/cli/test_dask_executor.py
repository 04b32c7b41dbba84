"""Grids on a Dask distributed cluster: a real ``LocalCluster`` on loopback TCP with two
workers (threads in this process, ``processes=False``, for speed: every message still crosses
TCP and is pickled). Sweeps and universe runs give exactly the local results; a worker lost
mid-run has its jobs re-run; without the extra, ``--executor dask://`` is one sentence."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import numpy as np
import pytest

distributed = pytest.importorskip("distributed", reason="the dask extra is in the dev extras")

from kash_tui.config import Settings  # noqa: E402
from kash_tui.domains.trading import BacktestRequest, UniverseBacktestRequest  # noqa: E402
from kash_tui.domains.trading.dask_executor import DaskExecutor  # noqa: E402
from kash_tui.provider import ServiceProvider  # noqa: E402
from tests.cli.outcome import as_json, refused  # noqa: E402

GRID = {"short_period": [5, 10, 15, 20], "long_period": [30, 50, 80]}


@pytest.fixture(scope="module")
def cluster() -> Iterator[distributed.LocalCluster]:
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  protocol="tcp", host="127.0.0.1",
                                  dashboard_address=":0") as c:
        yield c


def _spec(cluster: distributed.LocalCluster) -> str:
    return "dask://" + cluster.scheduler_address.removeprefix("tcp://")


@pytest.fixture
def kash(sqlite_db_url: str) -> Iterator[ServiceProvider]:
    provider = ServiceProvider(Settings(database_url=sqlite_db_url))
    provider.prepare()
    provider.workspace.create_universe("demo", ["DEMOA", "DEMOB"])
    try:
        yield provider
    finally:
        provider.close()


def _on(kash: ServiceProvider, spec: str | None) -> ServiceProvider:
    other = ServiceProvider(kash.settings)
    other.executor_spec = spec
    other.prepare()
    return other


def test_a_sweep_and_a_universe_run_on_dask_equal_the_local_run(
    kash: ServiceProvider, cluster: distributed.LocalCluster,
) -> None:
    request = BacktestRequest(symbol="DEMOA", strategy_id="sma_crossover")
    local = kash.trading.sweep(request, GRID)
    remote_provider = _on(kash, _spec(cluster))
    try:
        seen: list[int] = []
        remote = remote_provider.trading.sweep(request, GRID,
                                               progress=lambda d, t: seen.append(d))
        assert [(r.params, r.metrics) for r in remote.rows] == [
            (r.params, r.metrics) for r in local.rows]
        assert seen[-1] == 12
        universe = UniverseBacktestRequest(universe="demo", strategy_id="sma_crossover",
                                           max_positions=1)
        here = kash.trading.run_universe_backtest(universe)
        there = remote_provider.trading.run_universe_backtest(universe)
        assert there.run.metrics == here.run.metrics
        assert np.array_equal(there.equity, here.equity)
        assert np.array_equal(there.fill_symbols, here.fill_symbols)
    finally:
        remote_provider.close()


def slow_square(context: float, item: int) -> float:
    time.sleep(0.05)
    return context * item * item


def test_a_worker_lost_mid_run_has_its_jobs_rerun() -> None:
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  protocol="tcp", host="127.0.0.1",
                                  dashboard_address=":0") as c:
        executor = DaskExecutor(_spec(c))
        killed = threading.Event()
        victims = list(c.workers.values())

        def progress(done: int) -> None:
            if not killed.is_set():
                killed.set()
                c.sync(victims[0].close)  # gone with the tasks it held

        items = list(range(40))
        out = executor.map(slow_square, 2.0, items, progress=progress)
        assert killed.is_set()
        assert out == [2.0 * i * i for i in items]
        assert len(c.scheduler.workers) == 1


def test_cli_sweep_on_dask_from_flag_and_setting(
    kash_main, sqlite_db_url: str, cluster, monkeypatch: pytest.MonkeyPatch,  # noqa: ANN001
) -> None:
    args = ("backtest", "--symbol", "DEMOA", "--strategy", "sma_crossover", "--sweep",
            "short_period=5|10,long_period=30|60", "--json", "--db", sqlite_db_url)
    local = as_json(kash_main(*args))
    flagged = as_json(kash_main(*args, "--executor", _spec(cluster)))
    assert flagged["results"] == local["results"]
    monkeypatch.setenv("KASH_EXECUTOR", _spec(cluster))  # as `executor = "dask://..."` would
    assert as_json(kash_main(*args))["results"] == local["results"]


def test_without_the_extra_dask_is_one_sentence(
    kash_main, sqlite_db_url: str, monkeypatch: pytest.MonkeyPatch,  # noqa: ANN001
) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "distributed" else real(name, *a))
    line = refused(kash_main("backtest", "--symbol", "DEMOA", "--strategy", "sma_crossover",
                             "--sweep", "short_period=5|10", "--executor", "dask://10.0.0.5:8786",
                             "--db", sqlite_db_url))
    assert line == ("kash: The Dask executor needs the distributed package; install it with "
                    "`pip install 'kash-tui[dask]'` (also on the cluster's workers).")
    assert "is not dask://HOST:PORT" in refused(kash_main(
        "backtest", "--symbol", "DEMOA", "--strategy", "sma_crossover", "--executor",
        "dask://nohostport", "--db", sqlite_db_url))


def test_a_local_sweep_never_imports_distributed(sqlite_db_url: str) -> None:
    code = (
        "import sys\n"
        "from kash_tui.config import Settings\n"
        "from kash_tui.provider import ServiceProvider\n"
        "from kash_tui.domains.trading import BacktestRequest\n"
        f"p = ServiceProvider(Settings(database_url={sqlite_db_url!r}))\n"
        "p.prepare()\n"
        "p.trading.sweep(BacktestRequest(symbol='DEMOA', strategy_id='sma_crossover'),\n"
        "                {'short_period': [5, 10]})\n"
        "print('distributed' in sys.modules, 'dask' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=120)
    assert out.stdout.strip() == "False False"
