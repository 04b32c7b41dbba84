"""``GridExecutor`` on an existing Dask distributed cluster (``executor = "dask://HOST:PORT"``).

The optional extra ``kash-tui[dask]`` installs ``distributed``; it is imported only when a grid
actually runs here, never by a path that does not use it. Each ``map``:

* connects a client to the scheduler (``tcp://HOST:PORT``) and ships the context (bars,
  settings, a strategy) once to every worker with ``scatter(broadcast=True)``;
* submits the items in chunks, each chunk one task reading the scattered context; results come
  back to this process, where the caller stores them (workers never touch the database);
* calls ``progress(done)`` in the calling thread as chunks finish;
* on an exception or Ctrl-C cancels what is left, closes the client and re-raises;
* relies on the scheduler for lost workers: a task whose worker dies is run again elsewhere
  (the context is on every worker, so it needs nothing from the lost one).

Workers need Kash installed (the same version) to import the jobs, and user strategies must be
importable there (an installed package, or the same strategies folder).
"""

from __future__ import annotations

import importlib.util
import math
from collections.abc import Callable, Sequence
from typing import Any

from kash_tui.domains.trading.service import TradingError

INSTALL_HINT = (
    "The Dask executor needs the distributed package; install it with "
    "`pip install 'kash-tui[dask]'` (also on the cluster's workers)."
)
_CHUNKS_PER_WORKER = 4
_MAX_CHUNK = 64


def parse_address(spec: str) -> str:
    """``dask://HOST:PORT`` -> ``tcp://HOST:PORT``; a sentence for anything else."""
    text = spec.strip()
    rest = text[len("dask://"):] if text.lower().startswith("dask://") else None
    host, sep, port = (rest or "").rpartition(":")
    if rest is None or not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise TradingError(
            f"Executor {spec!r} is not dask://HOST:PORT; give the scheduler's address, e.g. "
            "dask://10.0.0.5:8786, or 'local' for this machine's cores."
        )
    return f"tcp://{host}:{port}"


def _run_chunk(job: Callable[[Any, Any], Any], context: Any, chunk: Sequence[Any]) -> list[Any]:  # noqa: ANN401
    return [job(context, item) for item in chunk]


class DaskExecutor:
    """Runs grids on the Dask cluster at ``address`` (``dask://HOST:PORT``)."""

    def __init__(self, address: str, *, connect_timeout: float = 10.0) -> None:
        self.address = parse_address(address)
        self.connect_timeout = connect_timeout

    @staticmethod
    def check_installed() -> None:
        """A ``TradingError`` saying how to install the extra when ``distributed`` is missing
        (looked up without importing it)."""
        if importlib.util.find_spec("distributed") is None:
            raise TradingError(INSTALL_HINT)

    def map(
        self,
        job: Callable[[Any, Any], Any],
        context: Any,  # noqa: ANN401
        items: Sequence[Any],
        *,
        progress: Callable[[int], None] | None = None,
    ) -> list[Any]:
        items = list(items)
        self.check_installed()
        if not items:
            return []
        from distributed import Client, as_completed

        try:
            client = Client(self.address, timeout=self.connect_timeout, set_as_default=False)
        except OSError as exc:
            raise TradingError(
                f"Cannot reach the Dask scheduler at {self.address} ({exc}); check that it runs "
                "and the address, or use --executor local."
            ) from None
        futures: list[Any] = []
        try:
            workers = max(1, len(client.scheduler_info(n_workers=-1).get("workers", {})))
            size = max(1, min(_MAX_CHUNK, math.ceil(len(items) / (workers * _CHUNKS_PER_WORKER))))
            chunks = [items[i:i + size] for i in range(0, len(items), size)]
            shared = client.scatter(context, broadcast=True, hash=False)
            futures = [client.submit(_run_chunk, job, shared, chunk, pure=False)
                       for chunk in chunks]
            number = {f.key: k for k, f in enumerate(futures)}
            parts: list[list[Any]] = [[] for _ in chunks]
            done = 0
            for future in as_completed(futures, loop=client.loop):
                parts[number[future.key]] = future.result()  # a job's exception is raised here
                done += len(parts[number[future.key]])
                if progress:
                    progress(done)
            return [result for part in parts for result in part]
        except BaseException:
            if futures:
                client.cancel(futures, force=True)
            raise
        finally:
            client.close()
