"""Experiments over the uncertain parameters: a design (Sobol, Morris or Latin hypercube, drawn by
SALib), one Monte Carlo run per design point, and the outputs each point gives.

Every design point is run as a validated variant with the same seed and the same number of
trials (common random numbers), so two points differ only by their parameter values. The
outputs of a point are P(goal by deadline) and the P50 and P80 goal dates in days from `as_of`
(``inf`` when fewer than half, or 80 %, of the trials ever meet the goal; see
:func:`censored` for how the analysis treats them). The lever search is an experiment too, so it
is here; the analysis of the outputs (indices, scenario discovery) is in
:mod:`sim.explore_analysis`.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import numpy as np

from .engine import DEFAULT_ENGINE
from .execution import ordered_map
from .montecarlo import run
from .parameters import ParameterSpace
from .results import percentile_day, wilson_interval

DESIGNS = ("sobol", "morris", "lhs")
OUTPUTS = ("probability", "p50_days", "p80_days")
MORRIS_LEVELS = 4


def design_size(design: str, n: int, dimensions: int) -> int:
    """How many points a design of base size `n` has."""
    return {"sobol": n * (2 * dimensions + 2), "morris": n * (dimensions + 1),
            "lhs": n}[design]


def check_design(design: str, n: int) -> None:
    """ValueError (a message for the user) when the design or its size is not usable."""
    if design not in DESIGNS:
        raise ValueError(f"design must be one of {', '.join(DESIGNS)}, got {design!r}")
    if n < 2:
        raise ValueError(f"n must be at least 2, got {n}")
    if design == "sobol" and n & (n - 1):
        raise ValueError(f"n must be a power of 2 for a Sobol design (the Sobol' sequence is "
                         f"balanced only then), got {n}")


def make_design(space: ParameterSpace, design: str, n: int, seed: int) -> np.ndarray:
    """The design's points (rows) in design numbers, as SALib draws them for this seed.

    Sobol draws N·(2D+2) points (Saltelli's scheme with second-order terms), Morris N
    trajectories of D+1 points on a 4-level grid, LHS N points.
    """
    check_design(design, n)
    problem = space.problem_spec()
    if design == "sobol":
        from SALib.sample import sobol

        return np.asarray(sobol.sample(problem, n, calc_second_order=True, seed=seed))
    if design == "morris":
        from SALib.sample import morris

        return np.asarray(morris.sample(problem, n, num_levels=MORRIS_LEVELS, seed=seed))
    from SALib.sample import latin

    return np.asarray(latin.sample(problem, n, seed=seed))


def evaluate_point(space: ParameterSpace, trials: int, seed: int, engine: str,
                   x: Sequence[float]) -> tuple[float, float, float]:
    """(P(goal by deadline), P50 days, P80 days) of the variant at design numbers `x`."""
    results = run(space.apply(list(x)), trials=trials, seed=seed, workers=1, engine=engine)
    goal = results.goal_days
    return results.probability, percentile_day(goal, 50), percentile_day(goal, 80)


def evaluate_points(space: ParameterSpace, trials: int, seed: int, engine: str,
                    xs: Sequence[Sequence[float]]) -> list[tuple[float, float, float]]:
    """:func:`evaluate_point` of each of `xs`: one task of many points, so that sending the
    space to a worker and scheduling the task are paid once per task, not per point."""
    return [evaluate_point(space, trials, seed, engine, x) for x in xs]


def _points_job(state: tuple[ParameterSpace, int, int, str],
                xs: Sequence[Sequence[float]]) -> list[tuple[float, float, float]]:
    return evaluate_points(*state, xs)


# judgement: a point costs a few ms, so 64 make a task of a few tenths of a second: long beside a
# Dask task's scheduling (about 1 ms) and short enough to spread the work evenly.
POINTS_PER_TASK = 64


def _tasks(rows: list[tuple[float, ...]], workers: int) -> list[list[tuple[float, ...]]]:
    """The rows cut into consecutive tasks of at most POINTS_PER_TASK, and at least four tasks
    per worker when there are enough points (so no worker waits long for the last one)."""
    size = max(1, min(POINTS_PER_TASK, math.ceil(len(rows) / (4 * max(workers, 1)))))
    return [rows[i:i + size] for i in range(0, len(rows), size)]


def evaluate(space: ParameterSpace, points: np.ndarray, trials: int, seed: int,
             workers: int = 1, executor: Executor | None = None,
             engine: str = DEFAULT_ENGINE) -> np.ndarray:
    """The outputs (rows: points in design order; columns: OUTPUTS).

    With `executor` the points run there (e.g. on Dask); otherwise on `workers` local
    processes. Each point is a pure function of (space, x, trials, seed): same values anywhere,
    whatever the tasks the points are grouped in, and with either engine.
    """
    rows = [tuple(map(float, x)) for x in points]
    state = (space, trials, seed, engine)
    out: list[tuple[float, float, float]] = []
    if executor is not None:
        # The executor's workers are not known here: tasks sized as for a few of them.
        task = partial(evaluate_points, space, trials, seed, engine)
        for part in executor.map(task, _tasks(rows, 8)):
            out.extend(part)
    elif workers <= 1 or len(rows) <= 1:
        out = evaluate_points(space, trials, seed, engine, rows)
    else:
        # The first point here: it loads the compiled engine before the workers are forked,
        # so they inherit it instead of each loading it again.
        out = evaluate_points(space, trials, seed, engine, rows[:1])
        for part in ordered_map(_points_job, state, [(t,) for t in _tasks(rows[1:], workers)],
                                workers):
            out.extend(part)
    return np.array(out, dtype=float).reshape(len(rows), len(OUTPUTS))


def censored(values: np.ndarray) -> tuple[np.ndarray, int]:
    """A percentile output with "never" (inf) replaced by the latest finite value of the design.

    So a point whose percentile is never reached ranks with the latest date reached anywhere:
    the variance stays finite and an index still measures what moves the percentile out to the
    horizon. Returns the values and how many were censored (all NaN if none is finite).
    """
    never = ~np.isfinite(values)
    if never.all():
        return np.full_like(values, np.nan), int(never.sum())
    out = values.copy()
    out[never] = values[~never].max()
    return out, int(never.sum())


@dataclass
class Exploration:
    """A design, its points and outputs, and what the analysis made of them."""

    space_names: list[str]
    kinds: list[str]
    bounds: list[tuple[float, float]]
    levers: list[str]
    design: str
    n: int
    trials: int
    seed: int
    points: np.ndarray  # design numbers, one row per point
    outputs: np.ndarray  # columns OUTPUTS
    scenario: str = ""
    elapsed_s: float = 0.0
    engine: str = DEFAULT_ENGINE
    analysis: dict[str, Any] = field(default_factory=dict)

    @property
    def problem(self) -> dict[str, Any]:
        return {"num_vars": len(self.space_names), "names": self.space_names,
                "bounds": [list(b) for b in self.bounds]}

    def values(self) -> np.ndarray:
        """The values the points stand for (whole numbers floored, days rounded)."""
        out = self.points.copy()
        for j, kind in enumerate(self.kinds):
            if kind == "whole":
                out[:, j] = np.minimum(np.floor(out[:, j]), self.bounds[j][1] - 1)
            elif kind == "date":
                out[:, j] = np.round(out[:, j])
        return out


def explore(space: ParameterSpace, design: str, n: int, trials: int, seed: int,
            workers: int = 1, executor: Executor | None = None,
            engine: str = DEFAULT_ENGINE) -> Exploration:
    """Draw the design, run every point, and return the points with their outputs."""
    points = make_design(space, design, n, seed)
    began = time.perf_counter()
    outputs = evaluate(space, points, trials, seed, workers, executor, engine)
    return Exploration(
        space_names=space.names, kinds=[p.kind for p in space.parameters],
        bounds=[p.bounds for p in space.parameters], levers=list(space.levers), design=design,
        n=n, trials=trials, seed=seed, points=points, outputs=outputs,
        scenario=space.scenario.path or space.scenario.title,
        elapsed_s=time.perf_counter() - began, engine=engine,
    )


def finite_or_none(value: float) -> float | None:
    """JSON has no inf or NaN: None stands for them."""
    return value if math.isfinite(value) else None


@dataclass(frozen=True)
class LeverResult:
    """The smallest change of the levers found that reaches the target probability."""

    target: float
    reached: bool
    values: dict[str, float]  # lever -> design value (days since 1970 for a date)
    change: float  # sum over levers of |value - current| / range width
    probability: float
    ci95: tuple[float, float]
    evaluated: int  # design points run by the search


def lever_search(space: ParameterSpace, target: float, trials: int, seed: int, levels: int = 5,
                 refine: int = 6, workers: int = 1, executor: Executor | None = None,
                 engine: str = DEFAULT_ENGINE) -> LeverResult | None:
    """Search the levers (the other parameters at their scenario values) for the change of least
    total relative size that gives P(goal by deadline) >= `target`.

    A grid of `levels` values per lever over its range (a Latin hypercube of levels² points when
    that would exceed 400), run with the same seed (common random numbers); then bisection of the
    straight line from today's values to the best grid point, `refine` steps, which assumes P
    grows along that line. None when the space has no levers.
    """
    levers = [space.parameter(name) for name in space.levers]
    if not levers:
        return None
    current = np.array([space.current(p.path) for p in levers], dtype=float)
    width = np.array([p.high - p.low for p in levers])
    candidates = _lever_grid(levers, levels, seed)

    # Only the levers are set: every other parameter keeps the scenario's own value.
    only_levers = dataclasses.replace(space, parameters=tuple(levers))

    def probabilities(xs: np.ndarray) -> np.ndarray:
        return evaluate(only_levers, xs, trials, seed, workers, executor, engine)[:, 0]

    now = float(probabilities(current[np.newaxis, :])[0])
    if now >= target:  # nothing to change
        return _lever_result(space, target, True, current, 0.0, now, trials, 1)
    p = probabilities(candidates)
    change = np.abs(candidates - current).dot(1 / width)
    ok = np.flatnonzero(p >= target)
    evaluated = len(candidates) + 1
    if not ok.size:
        best = int(p.argmax())
        return _lever_result(space, target, False, candidates[best], change[best], p[best],
                             trials, evaluated)
    best = int(ok[change[ok].argmin()])
    lo, hi, best_p = 0.0, 1.0, float(p[best])
    line = candidates[best] - current
    for _ in range(refine):  # the least t in [0, 1] with P(current + t * line) >= target
        mid = (lo + hi) / 2
        pm = float(probabilities(np.array([current + mid * line]))[0])
        evaluated += 1
        if pm >= target:
            hi, best_p = mid, pm
        else:
            lo = mid
    x = current + hi * line
    return _lever_result(space, target, True, x, float(np.abs(x - current).dot(1 / width)),
                         best_p, trials, evaluated)


def _lever_grid(levers: list[Any], levels: int, seed: int) -> np.ndarray:
    axes = [np.linspace(p.low, p.high, levels) for p in levers]
    if levels ** len(levers) <= 400:
        mesh = np.meshgrid(*axes, indexing="ij")
        return np.stack([m.ravel() for m in mesh], axis=1)
    from SALib.sample import latin

    problem = {"num_vars": len(levers), "names": [p.path for p in levers],
               "bounds": [[p.low, p.high] for p in levers]}
    return np.asarray(latin.sample(problem, levels * levels, seed=seed))


def _lever_result(space: ParameterSpace, target: float, reached: bool, x: np.ndarray,
                  change: float, p: float, trials: int, evaluated: int) -> LeverResult:
    values = {name: space.parameter(name).value(v) for name, v in zip(space.levers, x,
                                                                      strict=True)}
    met = round(p * trials)
    return LeverResult(target, reached, values, float(change), float(p),
                       wilson_interval(met, trials), evaluated)
