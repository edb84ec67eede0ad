"""Where blocks of trials run: in this process, or in worker processes that never outlive it.

A block is a pure function of (scenario, seed, block index), so how blocks are spread over
processes changes nothing in the results. What this module guarantees is about processes:

- a worker dies with the process that started it, however that process ends (SIGKILL
  included): Linux's ``PR_SET_PDEATHSIG`` kills it at once, and on every system a watchdog
  thread in the worker exits when its parent is gone. An orphaned worker would keep running
  for minutes and hold the caller's stdout and stderr open, so a script capturing the output
  would hang;
- workers ignore SIGINT and SIGTERM: Ctrl-C reaches the whole process group, and so does the
  SIGTERM of systemd or docker; the parent alone decides what happens (it stops the workers
  and says so once, instead of one traceback per worker or a "worker died" error);
- when the run stops for any reason (an exception, an interrupt, a termination signal turned
  into an exception by the `ilrs` command), the workers are killed rather
  than left to finish their blocks.
"""

from __future__ import annotations

import contextlib
import ctypes
import mmap
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any, TypeVar

import numpy as np

R = TypeVar("R")

_PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>
_WATCHDOG_SECONDS = 0.5


def _die_with_parent(parent: int) -> None:
    """Make this worker end when `parent` does (see the module docstring)."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # the parent died before the line above took effect
        os._exit(1)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(_WATCHDOG_SECONDS)
        os._exit(1)

    threading.Thread(target=watch, name="parent-watchdog", daemon=True).start()


# Set once per worker process by the pool's initializer, so the shared state is sent once.
_worker_state: Any = None
# The pools running now, so that a signal handler can stop their workers (kill_workers).
_live_pools: set[ProcessPoolExecutor] = set()


def _init_worker(parent: int, state: Any) -> None:
    global _worker_state
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    _die_with_parent(parent)
    _worker_state = state


def _call(job: Callable[..., R], args: tuple[Any, ...]) -> R:
    return job(_worker_state, *args)


def shares_memory() -> bool:
    """Whether worker processes see memory mapped by this process before they start
    (:func:`shared_empty`): they do when they are forked, as on Linux."""
    return "fork" in multiprocessing.get_all_start_methods()


def shared_empty(shape: tuple[int, ...], dtype: Any) -> np.ndarray:
    """An uninitialised array in an anonymous shared mapping: what a worker forked after it is
    made writes there, this process reads (and no copy of it is pickled back)."""
    count = int(np.prod(shape))
    buffer = mmap.mmap(-1, max(count * np.dtype(dtype).itemsize, 1))
    return np.frombuffer(buffer, dtype=dtype, count=count).reshape(shape)


def ordered_map(
    job: Callable[..., R], state: Any, work: list[tuple[Any, ...]], workers: int
) -> Iterator[R]:
    """`job(state, *args)` for each args of `work`, in order, over up to `workers` processes.

    `state` (e.g. the scenario and its compiled plan) is sent to each worker once; `job` must
    be a module-level function. A few jobs are in flight per worker and taken in order, so a
    finished job's result is dropped as soon as the caller has used it.
    """
    if workers <= 1 or len(work) <= 1:
        for args in work:
            yield job(state, *args)
        return
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    pool = ProcessPoolExecutor(
        max_workers=min(workers, len(work)),
        mp_context=multiprocessing.get_context(method),
        initializer=_init_worker,
        initargs=(os.getpid(), state),
    )
    _live_pools.add(pool)
    try:
        in_flight: deque[Future[R]] = deque()
        for args in work:
            in_flight.append(pool.submit(_call, job, args))
            if len(in_flight) >= 2 * workers:
                yield in_flight.popleft().result()
        while in_flight:
            yield in_flight.popleft().result()
    except BaseException:
        _kill_workers(pool)
        # Not waiting: with its workers gone the pool has nothing left to wait for, and a
        # signal that arrived inside the pool's own bookkeeping must not leave us blocked.
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    finally:
        _live_pools.discard(pool)
    pool.shutdown(wait=True)


def kill_workers() -> None:
    """Kill the workers of every pool running now (for a signal handler about to exit)."""
    for pool in list(_live_pools):
        _kill_workers(pool)


def _kill_workers(pool: ProcessPoolExecutor) -> None:
    """Stop the workers now: their blocks are no longer wanted, and shutting down politely
    would wait for each to finish the block it is on."""
    # ProcessPoolExecutor has no public way to stop running work; its process table is the
    # only handle (a generator closed early or an exception both arrive here).
    processes = list(getattr(pool, "_processes", {}).values())
    for process in processes:
        with contextlib.suppress(Exception):
            process.kill()
    for process in processes:
        with contextlib.suppress(Exception):
            process.join(timeout=5)
