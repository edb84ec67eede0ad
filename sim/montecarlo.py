"""run(): trials in blocks, spread over worker processes, gathered into one Results."""

from __future__ import annotations

import multiprocessing
import os
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor

import numpy as np
from tqdm import tqdm

from . import __version__
from .engine import BlockOutcome, Plan, run_block
from .goal import goal_times
from .model import Scenario
from .results import Results
from .sampling import BLOCK_SIZE, blocks, draw_block, fresh_seed


def available_cpus() -> int:
    """The CPUs this process may use (its affinity mask where the OS has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def simulate_block(scenario: Scenario, plan: Plan, seed: int, block: int, size: int) -> BlockOutcome:
    """Draw and run one block: the unit of work, identical wherever it runs."""
    return run_block(plan, draw_block(scenario, seed, block, size))


# Set once per worker process by the pool's initializer, so the scenario is sent once.
_worker_state: tuple[Scenario, Plan] | None = None


def _init_worker(scenario: Scenario, plan: Plan) -> None:
    global _worker_state
    _worker_state = (scenario, plan)


def _worker_block(seed: int, block: int, size: int) -> tuple[int, BlockOutcome]:
    assert _worker_state is not None
    scenario, plan = _worker_state
    return block, simulate_block(scenario, plan, seed, block, size)


def _outcomes(
    scenario: Scenario, plan: Plan, seed: int, work: list[tuple[int, int]], workers: int
) -> Iterator[tuple[int, BlockOutcome]]:
    if workers <= 1 or len(work) <= 1:
        for block, size in work:
            yield block, simulate_block(scenario, plan, seed, block, size)
        return
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    with ProcessPoolExecutor(
        max_workers=min(workers, len(work)),
        mp_context=multiprocessing.get_context(method),
        initializer=_init_worker,
        initargs=(scenario, plan),
    ) as pool:
        futures = [pool.submit(_worker_block, seed, b, s) for b, s in work]
        for future in futures:
            yield future.result()


def run(
    scenario: Scenario,
    trials: int = 10_000,
    seed: int | None = None,
    workers: int | None = None,
    progress: bool = False,
) -> Results:
    """Simulate `trials` trials of `scenario`.

    The same seed gives the same trials whatever `workers` is (default: the CPUs this process
    may use). With seed None a fresh one is drawn; it is recorded in the Results either way.
    """
    if trials < 1:
        raise ValueError(f"trials must be at least 1, got {trials}")
    seed = fresh_seed() if seed is None else int(seed)
    workers = available_cpus() if workers is None else max(1, int(workers))
    plan = Plan.compile(scenario)
    n_act = len(scenario.activities)
    finish = np.empty((trials, n_act))
    first_ready = np.empty((trials, n_act), dtype=np.float32)
    ready = np.empty((trials, n_act), dtype=np.float32)
    start = np.empty((trials, n_act), dtype=np.float32)
    attempts = np.empty((trials, n_act), dtype=np.int8)
    driver = np.empty((trials, n_act), dtype=np.int16)

    began = time.perf_counter()
    bar = tqdm(total=trials, unit="trial", disable=not progress, delay=2.0, file=sys.stderr,
               leave=False)
    with bar:
        for block, out in _outcomes(scenario, plan, seed, blocks(trials), workers):
            rows = slice(block * BLOCK_SIZE, block * BLOCK_SIZE + len(out.finish))
            finish[rows], first_ready[rows] = out.finish, out.first_ready
            ready[rows], start[rows] = out.ready, out.start
            attempts[rows], driver[rows] = out.attempts, out.driver
            bar.update(len(out.finish))
    goal = goal_times(scenario.goal.requires, finish, scenario.activity_index)
    return Results(
        scenario=scenario,
        seed=seed,
        goal_days=goal,
        finish_days=finish,
        first_ready_days=first_ready,
        ready_days=ready,
        start_days=start,
        attempts=attempts,
        driver=driver,
        version=__version__,
        block_size=BLOCK_SIZE,
        workers=workers,
        elapsed_s=time.perf_counter() - began,
    )
