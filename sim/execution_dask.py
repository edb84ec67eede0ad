"""Running work on Dask: a local cluster started for the run, or a running scheduler.

Both give a ``concurrent.futures.Executor`` (Dask's ``Client.get_executor()``), whose ``map``
yields results in submission order; :func:`sim.montecarlo.run` and :func:`sim.explore.explore`
take such an executor. A block of trials, or a design point, is a pure function of its inputs
and the seed, so the results are identical to a local run whatever the cluster.

A real cluster is started with Dask's own commands (``dask scheduler`` on one machine,
``dask worker tcp://HOST:8786`` on each of the others, every machine with ilrs-sim installed);
``ilrs explore ... --scheduler tcp://HOST:8786`` then uses it.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterator
from concurrent.futures import Executor
from contextlib import contextmanager


@contextmanager
def dask_executor(scheduler: str | None = None, workers: int = 2) -> Iterator[Executor]:
    """An executor on the Dask scheduler at `scheduler`, or on a new ``LocalCluster`` of
    `workers` single-threaded worker processes (closed again on exit)."""
    from distributed import Client, LocalCluster

    if scheduler is not None:
        with Client(scheduler) as client:  # type: ignore[no-untyped-call]
            yield client.get_executor()
        return
    # Workers that lose the scheduler while the cluster shuts down log an error: not ours to show.
    # Without a dashboard the scheduler still serves HTTP (health, metrics) on port 8787, and
    # warns when another cluster holds that port before taking another: not ours to show either.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Port .* is already in use")
        cluster = LocalCluster(  # type: ignore[no-untyped-call]
            n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None,
            silence_logs=logging.CRITICAL,
        )
    with cluster, Client(cluster) as client:  # type: ignore[no-untyped-call]
        yield client.get_executor()
