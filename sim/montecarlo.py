"""run(): trials in blocks, spread over worker processes, gathered into one Results."""

from __future__ import annotations

import math
import os
import sys
import time
from collections.abc import Iterator
from concurrent.futures import Executor
from dataclasses import fields
from functools import partial

import numpy as np
from tqdm import tqdm

from . import __version__
from .blocks import RESULT_DTYPES, BlockOutcome, floor32
from .engine import DEFAULT_ENGINE, Plan, check_engine, run_block
from .execution import ordered_map, shared_empty, shares_memory
from .goal import scenario_goal_times
from .model import Scenario
from .results import Z95, Results, wilson_interval
from .sampling import BLOCK_SIZE, blocks, draw_block, fresh_seed, keeping_block_arrays
from .timebase import clip_to_calendar, day_index

MAX_TRIALS = 1_000_000  # the cap on --precision runs
MAX_RUN_TRIALS = 100_000_000  # the cap on any run (memory is checked as well)


def available_cpus() -> int:
    """The CPUs this process may use (its affinity mask where the OS has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


# A run left to choose its workers (workers=None) stays in this process when its work is
# estimated below this many seconds of one core: starting worker processes and sending their
# results back cost more than they save (the baseline's default 10,000 trials took 0.087 s with
# two workers and 0.040 s in one process, measured). The cost per activity and trial is
# measured by `make bench` on the baseline and the synthetic programmes (0.13-0.18 us with the
# compiled engine, 5.4-6.7 us with the SimPy engine).
IN_PROCESS_SECONDS = 0.25
_SECONDS_PER_ACTIVITY_TRIAL = {"fast": 0.17e-6, "des": 6e-6}


def default_workers(scenario: Scenario, trials: int, engine: str = DEFAULT_ENGINE,
                    precision: float | None = None) -> int:
    """The worker processes a run uses when not told: the CPUs available, or 1 for a run too
    short to gain from them (a run to a precision is assumed long)."""
    work = trials * max(len(scenario.activities), 1) * _SECONDS_PER_ACTIVITY_TRIAL[engine]
    if precision is None and work < IN_PROCESS_SECONDS:
        return 1
    return available_cpus()


def simulate_block(
    scenario: Scenario, plan: Plan, seed: int, block: int, size: int,
    engine: str = DEFAULT_ENGINE,
) -> BlockOutcome:
    """Draw and run one block: the unit of work, identical wherever it runs.

    The engines count the attempts they make; the ones recorded as over before as_of (a
    done mission's, a failure) are added here, so the count is what happened.
    """
    out = run_block(plan, draw_block(scenario, seed, block, size, reuse=True), engine)
    made = np.array([a.attempts_made for a in scenario.activities], np.int8)
    if made.any():
        out.attempts += made
    return out


def _block_into_store(state: tuple[Scenario, Plan, str, _Store], seed: int, block: int,
                      size: int) -> int:
    """Simulate a block straight into the run's arrays: in this process, or in a forked worker
    whose store is in memory shared with this process (nothing is sent back but the size)."""
    scenario, plan, engine, store = state
    store.fill(block, simulate_block(scenario, plan, seed, block, size, engine))
    return size


def _block_job(state: tuple[Scenario, Plan, str, bool], seed: int, block: int, size: int
               ) -> tuple[int, BlockOutcome]:
    scenario, plan, engine, keep_ready = state
    out = simulate_block(scenario, plan, seed, block, size, engine)
    # Rounded here as the run keeps them (or dropped): less to send back, less work for the
    # parent.
    if keep_ready:
        out.first_ready, out.ready = floor32(out.first_ready), floor32(out.ready)
    else:
        out.first_ready = out.ready = _NOTHING
    return block, out


_NOTHING = np.empty((0, 0))  # what replaces an outcome array the run does not keep


def _fill(
    store: _Store, scenario: Scenario, plan: Plan, seed: int, work: list[tuple[int, int]],
    workers: int, engine: str, executor: Executor | None = None,
) -> Iterator[int]:
    """Simulate the blocks of `work` into `store`, yielding each block's size once stored."""
    if executor is not None:  # any concurrent.futures-style executor (e.g. a Dask client's)
        numbers, sizes = [block for block, _ in work], [size for _, size in work]
        task = partial(simulate_block, scenario, plan, seed)
        engines = [engine] * len(numbers)
        for block, out in zip(numbers, executor.map(task, numbers, sizes, engines), strict=True):
            store.fill(block, out)
            yield len(out.finish)
        return
    if engine == "fast" and workers > 1 and len(work) > 1:
        # The first block here: it loads the compiled engine before the workers are forked,
        # so they inherit it instead of each loading it again.
        block, size = work[0]
        yield _block_into_store((scenario, plan, engine, store), seed, block, size)
        work = work[1:]
    jobs = [(seed, block, size) for block, size in work]
    if store.shared or workers <= 1 or len(jobs) <= 1:  # the store is where the jobs run
        yield from ordered_map(_block_into_store, (scenario, plan, engine, store), jobs, workers)
        return
    for block, out in ordered_map(_block_job, (scenario, plan, engine, store.keep_ready), jobs,
                                  workers):
        store.fill(block, out)
        yield len(out.finish)


# Outcome arrays that hold times: past the end of the calendar they become never.
_TIME_ARRAYS = frozenset({"finish", "first_ready", "ready", "start"})
# The ready times are diagnostics that only the delay breakdown reads (sim.analysis), and a
# quarter of a run's memory: kept only when asked for.
_READY_ARRAYS = frozenset({"first_ready", "ready"})


def _kept_arrays(keep_ready: bool) -> list[str]:
    """The outcome arrays (sim.blocks.BlockOutcome fields) a run keeps."""
    return [f.name for f in fields(BlockOutcome) if keep_ready or f.name not in _READY_ARRAYS]


class _Store:
    """The per-trial arrays of a run, filled block by block (and grown for --precision)."""

    def __init__(self, scenario: Scenario, keep_ready: bool, shared: bool = False):
        """`shared`: the arrays in memory that worker processes forked later write into."""
        self.as_of = scenario.as_of
        self.keep_ready, self.shared = keep_ready, shared
        empty = np.empty((0, len(scenario.activities)))
        self.arrays = {name: empty.astype(RESULT_DTYPES[name]) for name in _kept_arrays(keep_ready)}

    def grow(self, trials: int) -> None:
        make = shared_empty if self.shared else np.empty
        for name, old in self.arrays.items():
            new = make((trials, old.shape[1]), dtype=old.dtype)
            new[: len(old)] = old
            self.arrays[name] = new

    def fill(self, block: int, out: BlockOutcome) -> None:
        rows = slice(block * BLOCK_SIZE, block * BLOCK_SIZE + len(out.finish))
        for name, array in self.arrays.items():
            part = getattr(out, name)
            if name in _TIME_ARRAYS:
                part = clip_to_calendar(self.as_of, part)
            if array.dtype == np.float32 and part.dtype != np.float32:
                part = floor32(part)
            array[rows] = part

class TooManyTrialsError(ValueError):
    """The run's result arrays would not fit in memory (or exceed MAX_RUN_TRIALS)."""


def bytes_per_trial(scenario: Scenario, keep_ready: bool = False) -> int:
    """Memory the kept per-trial arrays take for one trial of `scenario`."""
    per_cell = sum(np.dtype(RESULT_DTYPES[name]).itemsize for name in _kept_arrays(keep_ready))
    return per_cell * len(scenario.activities) + 8  # + the goal time


def check_trials(scenario: Scenario, trials: int, keep_ready: bool = False) -> None:
    """Refuse a run whose result arrays cannot fit, before any work is done."""
    if trials > MAX_RUN_TRIALS:
        raise TooManyTrialsError(f"trials must be at most {MAX_RUN_TRIALS:,}, got {trials:,}")
    need = trials * bytes_per_trial(scenario, keep_ready)
    have = physical_memory()
    if have and need > have // 2:
        raise TooManyTrialsError(
            f"{trials:,} trials of {len(scenario.activities):,} activities need about "
            f"{need / 2**30:.1f} GiB for their results, more than half of this machine's "
            f"{have / 2**30:.1f} GiB; use fewer trials")


def physical_memory() -> int | None:
    """Bytes of RAM, or None where the OS does not say."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None


def run(
    scenario: Scenario,
    trials: int = 10_000,
    seed: int | None = None,
    workers: int | None = None,
    progress: bool = False,
    precision: float | None = None,
    max_trials: int = MAX_TRIALS,
    engine: str = DEFAULT_ENGINE,
    executor: Executor | None = None,
    keep_ready: bool = False,
) -> Results:
    """Simulate `trials` trials of `scenario`.

    The same seed gives the same trials whatever `workers` is (default: the CPUs this process
    may use, or only this process for a run too short to gain from more, see
    :func:`default_workers`). With seed None a fresh one is drawn; it is recorded in the Results
    either way, as is the number of workers used.

    With `precision` (a half-width, e.g. 0.005), `trials` is only the first batch: blocks are
    added until the 95% Wilson interval of P(goal by deadline) is narrower than +/- precision,
    or `max_trials` is reached. The trials are the same as a fixed run of the final size.

    `engine` names the engine (see :mod:`sim.engine`); every engine gives the same trials.

    `executor` (a ``concurrent.futures.Executor``, e.g. :func:`sim.execution_dask.dask_executor`)
    runs the blocks instead of local worker processes; the trials are the same.

    `keep_ready` keeps each activity's ready times (``first_ready_days``, ``ready_days``),
    which only :func:`sim.analysis.delay_breakdown` reads; without it they are None and a run
    takes about a quarter less memory. Nothing else changes.
    """
    engine = check_engine(engine)
    if trials < 1:
        raise ValueError(f"trials must be at least 1, got {trials}")
    if precision is not None and not 0 < precision < 0.5:
        raise ValueError(f"precision must be between 0 and 0.5, got {precision}")
    check_trials(scenario, max_trials if precision is not None else trials, keep_ready)
    seed = fresh_seed() if seed is None else int(seed)
    workers = (default_workers(scenario, trials, engine, precision) if workers is None
               else max(1, int(workers)))
    plan = Plan.compile(scenario)
    # Workers forked by this run write into its arrays where they can share memory with it:
    # sending each block's outcome back cost this process as much CPU as a third of a worker.
    store = _Store(scenario, keep_ready, shared=workers > 1 and executor is None
                   and shares_memory())
    deadline = (scenario.goal.deadline - scenario.as_of).days
    if precision is not None:  # whole blocks, so later rounds continue where this one stops
        trials = min(max_trials, -(-trials // BLOCK_SIZE) * BLOCK_SIZE)

    began = time.perf_counter()
    done = 0
    bar = tqdm(total=trials, unit="trial", disable=not progress, delay=2.0, file=sys.stderr,
               leave=False)
    with bar, keeping_block_arrays():
        while True:
            store.grow(trials)
            work = [(b, s) for b, s in blocks(trials) if b * BLOCK_SIZE >= done]
            for size in _fill(store, scenario, plan, seed, work, workers, engine,
                              executor):
                bar.update(size)
            done = trials
            if precision is None:
                break
            finish = store.arrays["finish"]
            goal = scenario_goal_times(scenario, finish)
            met = int((day_index(goal) <= deadline).sum())  # as Results.met counts it
            more = _trials_for_precision(met, done, precision)
            if more <= done or done >= max_trials:
                break
            trials = min(max_trials, -(-more // BLOCK_SIZE) * BLOCK_SIZE)
            bar.total = trials
    a = store.arrays
    return Results(
        scenario=scenario,
        seed=seed,
        goal_days=scenario_goal_times(scenario, a["finish"]),
        finish_days=a["finish"],
        first_ready_days=a.get("first_ready"),
        ready_days=a.get("ready"),
        start_days=a["start"],
        attempts=a["attempts"],
        driver=a["driver"],
        waited_for=a["waited_for"],
        version=__version__,
        block_size=BLOCK_SIZE,
        workers=workers,
        elapsed_s=time.perf_counter() - began,
        precision=precision,
        engine=engine,
    )


def _trials_for_precision(successes: int, n: int, precision: float) -> int:
    """How many trials the next round should reach (n itself when the interval is narrow enough)."""
    lo, hi = wilson_interval(successes, n)
    if (hi - lo) / 2 < precision:
        return n
    p = min(max(successes / n, 0.01), 0.99)  # keep the estimate away from 0 and 1
    needed = math.ceil(Z95**2 * p * (1 - p) / precision**2 * 1.05)  # 5% margin
    return max(needed, n + BLOCK_SIZE)
