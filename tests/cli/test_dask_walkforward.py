"""Walk-forwards (one symbol and a universe) and a universe sweep on a real Dask
``LocalCluster`` (loopback TCP, two workers, ``processes=False`` as in test_dask_executor):
the results equal the local run's, through the service and through ``kash walkforward
--executor dask://``."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

distributed = pytest.importorskip("distributed", reason="the dask extra is in the dev extras")

from kash_tui.config import Settings  # noqa: E402
from kash_tui.domains.trading import (  # noqa: E402
    BacktestRequest,
    Span,
    UniverseBacktestRequest,
)
from kash_tui.provider import ServiceProvider  # noqa: E402
from tests.cli.outcome import as_json, ok  # noqa: E402

GRID = {"short_period": [5, 10, 15], "long_period": [30, 60]}


@pytest.fixture(scope="module")
def cluster() -> Iterator[distributed.LocalCluster]:
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  protocol="tcp", host="127.0.0.1",
                                  dashboard_address=":0") as c:
        yield c


def _spec(cluster: distributed.LocalCluster) -> str:
    return "dask://" + cluster.scheduler_address.removeprefix("tcp://")


def _provider(db_url: str, spec: str | None) -> ServiceProvider:
    provider = ServiceProvider(Settings(database_url=db_url))
    provider.executor_spec = spec
    provider.prepare()
    return provider


def test_walk_forwards_and_a_universe_sweep_on_dask_equal_local(
    sqlite_db_url: str, cluster: distributed.LocalCluster,
) -> None:
    here = _provider(sqlite_db_url, None)
    there = _provider(sqlite_db_url, _spec(cluster))
    try:
        here.workspace.create_universe("demo", ["DEMOA", "DEMOB"])
        single = BacktestRequest(symbol="DEMOA", strategy_id="sma_crossover")
        universe = UniverseBacktestRequest(universe="demo", strategy_id="sma_crossover",
                                           max_positions=1)
        spans = {"train": Span.parse("2y"), "test": Span.parse("1y")}
        seen: list[tuple[int, int]] = []
        for name, run in (("walk_forward", single), ("walk_forward_universe", universe)):
            local = getattr(here.trading, name)(run, GRID, **spans)
            remote = getattr(there.trading, name)(run, GRID, progress=lambda d, t: seen.append(
                (d, t)), **spans)
            assert remote.windows == local.windows, name
            assert np.array_equal(remote.equity, local.equity)
            assert remote.metrics == local.metrics
            assert seen[-1][0] == seen[-1][1]
        a = here.trading.sweep_universe(universe, GRID, oos=0.3)
        b = there.trading.sweep_universe(universe, GRID, oos=0.3)
        assert [(r.params, r.metrics) for r in a.rows] == [(r.params, r.metrics) for r in b.rows]
        assert a.oos == b.oos
    finally:
        here.close()
        there.close()


def test_cli_walkforward_on_dask(kash_main, sqlite_db_url: str, cluster) -> None:  # noqa: ANN001
    db = ("--db", sqlite_db_url)
    ok(kash_main("universe", "create", "demo", "DEMOA", "DEMOB", *db))
    args = ("walkforward", "--universe", "demo", "--strategy", "sma_crossover", "--sweep",
            "short_period=5|10,long_period=30|60", "--train", "2y", "--test", "1y", "--json", *db)
    local = as_json(kash_main(*args))
    remote = as_json(kash_main(*args, "--executor", _spec(cluster)))
    assert remote["windows"] == local["windows"]
    assert remote["metrics"] == local["metrics"]
    assert remote["run_id"] == "wf2"
