"""What an exploration says: global sensitivity indices (SALib), scenario discovery (PRIM, from
the EMA Workbench) and a lever search. Nothing here runs the scenario except the lever search,
which is an experiment of its own."""

from __future__ import annotations

import dataclasses
import warnings
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from .explore import OUTPUTS, Exploration, censored, evaluate
from .parameters import ParameterSpace
from .results import wilson_interval

if TYPE_CHECKING:
    import pandas as pd

CONF_LEVEL = 0.95
RESAMPLES = 200


def sensitivity(exp: Exploration) -> pd.DataFrame:
    """One row per (output, parameter).

    Sobol: S1, S1_conf, ST, ST_conf (first-order and total indices, 95 % bootstrap half-widths).
    Morris: mu_star, mu_star_conf, mu, sigma. LHS: S1, S1_conf, delta, delta_conf (SALib's
    delta moment-independent method, which works on any sample). Percentile outputs are
    censored first (see :func:`sim.explore.censored`).
    """
    import pandas as pd

    rows: list[dict[str, Any]] = []
    for j, output in enumerate(OUTPUTS):
        y, _ = censored(exp.outputs[:, j]) if output != "probability" else (exp.outputs[:, j], 0)
        result = _indices(exp, y)
        for i, name in enumerate(exp.space_names):
            rows.append({"output": output, "parameter": name,
                         **{k: float(v[i]) for k, v in result.items()}})
    return pd.DataFrame(rows)


def _indices(exp: Exploration, y: np.ndarray) -> dict[str, np.ndarray]:
    d = len(exp.space_names)
    if not np.isfinite(y).all() or np.ptp(y) == 0:  # nothing varies: no index is defined
        keys = {"sobol": ("S1", "S1_conf", "ST", "ST_conf"),
                "morris": ("mu_star", "mu_star_conf", "mu", "sigma"),
                "lhs": ("S1", "S1_conf", "delta", "delta_conf")}[exp.design]
        return {k: np.full(d, np.nan) for k in keys}
    # record=True keeps SALib's notices off the console even though its delta method resets the
    # warning filters itself; it also replaces warnings.formatwarning, which is put back.
    formatwarning = warnings.formatwarning
    try:
        with warnings.catch_warnings(record=True):
            return _salib_indices(exp, y)
    finally:
        warnings.formatwarning = formatwarning


def _salib_indices(exp: Exploration, y: np.ndarray) -> dict[str, np.ndarray]:
    if exp.design == "sobol":
        from SALib.analyze import sobol

        r = sobol.analyze(exp.problem, y, calc_second_order=True, conf_level=CONF_LEVEL,
                          num_resamples=RESAMPLES, seed=exp.seed)
        return {k: np.asarray(r[k]) for k in ("S1", "S1_conf", "ST", "ST_conf")}
    if exp.design == "morris":
        from SALib.analyze import morris

        r = morris.analyze(exp.problem, exp.points, y, conf_level=CONF_LEVEL,
                           num_resamples=RESAMPLES, num_levels=4, seed=exp.seed)
        return {k: np.asarray(r[k]) for k in ("mu_star", "mu_star_conf", "mu", "sigma")}
    from SALib.analyze import delta

    # SALib >= 1.5 names the plain estimator delta_raw (beside bias-balanced variants).
    r = delta.analyze(exp.problem, exp.points, y, conf_level=CONF_LEVEL,
                      num_resamples=RESAMPLES, seed=exp.seed)
    key = "delta" if "delta" in r else "delta_raw"
    return {"S1": np.asarray(r["S1"]), "S1_conf": np.asarray(r["S1_conf"]),
            "delta": np.asarray(r[key]), "delta_conf": np.asarray(r[f"{key}_conf"])}


@dataclass(frozen=True)
class Box:
    """A PRIM box: the ranges of the restricted parameters (design values), and how good it is.

    coverage: the share of all points of interest inside the box; density: the share of the
    points inside the box that are of interest; mass: the share of all points inside.
    """

    limits: dict[str, tuple[float, float]]
    coverage: float
    density: float
    mass: float
    index: int  # the chosen step of the peeling trajectory
    trajectory: pd.DataFrame  # coverage, density, mass, res_dim per peeling step


def discover(exp: Exploration, threshold: float = 0.5, min_density: float = 0.8) -> Box | None:
    """PRIM: the parameter ranges in which P(goal by deadline) >= `threshold`.

    The box chosen is the first on the peeling trajectory whose density reaches `min_density`
    (coverage only falls along the trajectory, so it has the most coverage among those), or the
    densest one. None when no point, or every point, is of interest.
    """
    import pandas as pd

    interest = exp.outputs[:, 0] >= threshold
    if interest.all() or not interest.any():
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from ema_workbench.analysis import prim

        x = pd.DataFrame(exp.values(), columns=exp.space_names)
        box = prim.Prim(x, interest, threshold=min_density, peel_alpha=0.05,
                        mass_min=0.05).find_box()
    trajectory = box.peeling_trajectory[["coverage", "density", "mass", "res_dim"]].copy()
    dense = np.flatnonzero(trajectory["density"].to_numpy() >= min_density)
    index = int(dense[0]) if dense.size else int(trajectory["density"].to_numpy().argmax())
    initial, chosen = box.box_lims[0], box.box_lims[index]
    limits = {name: (float(chosen[name][0]), float(chosen[name][1]))
              for name in exp.space_names
              if (chosen[name][0], chosen[name][1]) != (initial[name][0], initial[name][1])}
    row = trajectory.iloc[index]
    return Box(limits, float(row["coverage"]), float(row["density"]), float(row["mass"]),
               index, trajectory.reset_index(drop=True))


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
                 refine: int = 6, workers: int = 1,
                 executor: Executor | None = None) -> LeverResult | None:
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
        return evaluate(only_levers, xs, trials, seed, workers, executor)[:, 0]

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
