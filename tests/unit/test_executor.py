"""The embedded grid executor: results in order, progress, errors and Ctrl-C stop it cleanly,
and nothing (no thread, no worker process) outlives a call."""

from __future__ import annotations

import multiprocessing
import threading
import time

import numpy as np
import pytest

from kash_tui.domains.trading.executor import LocalExecutor

EXECUTORS = {  # min_job_seconds=0: parallel however short the jobs
    "inline": LocalExecutor(1),
    "threads": LocalExecutor(2, min_job_seconds=0),
    "processes": LocalExecutor(2, processes=True, min_job_seconds=0),
}


def square_plus(context: dict, item: int) -> float:
    """A job: module-level, so worker processes can import it."""
    return float(item * item + context["offset"] + context["bars"].sum())


def fails_on_seven(context: dict, item: int) -> int:
    if item == 7:
        raise ValueError("seven is refused")
    time.sleep(0.002)
    return item


def _grid_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("kash-grid")]


@pytest.fixture(autouse=True)
def nothing_outlives_the_call():
    yield
    assert _grid_threads() == []
    assert multiprocessing.active_children() == []


@pytest.mark.parametrize("name", list(EXECUTORS))
def test_results_come_in_the_order_of_the_items(name: str) -> None:
    context = {"offset": 0.5, "bars": np.ones(1000)}
    items = list(range(203))
    done: list[int] = []
    caller = threading.get_ident()
    calls_from: set[int] = set()

    def progress(n: int) -> None:
        done.append(n)
        calls_from.add(threading.get_ident())

    got = EXECUTORS[name].map(square_plus, context, items, progress=progress)
    assert got == [square_plus(context, i) for i in items]
    assert done == sorted(done) and done[-1] == len(items)
    assert calls_from == {caller}  # the progress callback runs in the calling thread


@pytest.mark.parametrize("name", list(EXECUTORS))
def test_a_jobs_error_is_raised_and_stops_the_grid(name: str) -> None:
    with pytest.raises(ValueError, match="seven is refused"):
        EXECUTORS[name].map(fails_on_seven, None, list(range(500)))


@pytest.mark.parametrize("name", list(EXECUTORS))
def test_ctrl_c_in_the_calling_thread_stops_the_grid_at_once(name: str) -> None:
    # KeyboardInterrupt is raised in the calling thread, where the signal handler raises it
    started = time.perf_counter()

    def progress(n: int) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        EXECUTORS[name].map(fails_on_seven, None, list(range(8, 5000)), progress=progress)
    # 5000 jobs of 2 ms would take 5 s on two workers; the grid stopped after the first chunk
    assert time.perf_counter() - started < 4.0


def where_it_ran(context: float, item: int) -> str:
    time.sleep(context)
    return threading.current_thread().name


def test_short_jobs_run_inline_and_long_ones_on_the_workers() -> None:
    caller = threading.current_thread().name
    assert set(LocalExecutor(2).map(where_it_ran, 0.0, range(100))) == {caller}
    ran = LocalExecutor(2).map(where_it_ran, 0.005, range(40))  # 5 ms jobs: worth threads
    assert ran[:4] == [caller] * 4  # timed inline first
    assert {name.split("_")[0] for name in ran[4:]} == {"kash-grid"}


def test_empty_and_single_item_grids_run_inline() -> None:
    assert LocalExecutor().map(square_plus, {"offset": 1, "bars": np.zeros(1)}, []) == []
    assert LocalExecutor(processes=True).map(
        square_plus, {"offset": 1, "bars": np.zeros(1)}, [3]
    ) == [10.0]


def test_workers_default_to_the_cores_and_must_be_positive() -> None:
    assert LocalExecutor().workers >= 1
    with pytest.raises(ValueError, match="workers must be 1 or more"):
        LocalExecutor(0)
