"""What an exploration says: global sensitivity indices (SALib) and scenario discovery (PRIM,
from the EMA Workbench). Nothing here runs the scenario: the runs are in :mod:`sim.explore`."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from .explore import OUTPUTS, Exploration, censored

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
    points inside the box that are of interest; mass: the share of all points inside. qp: per
    restricted parameter, the larger quasi-p-value of its restricted sides (Bryant and Lempert
    2010): the chance that dropping the restriction would not lower the density; above 0.05 the
    restriction may be noise.
    """

    limits: dict[str, tuple[float, float]]
    qp: dict[str, float]
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
    qp = {name: float(max(v for v in box.qp[index][name] if v >= 0)) for name in limits
          if name in box.qp[index]}
    return Box(limits, qp, float(row["coverage"]), float(row["density"]), float(row["mass"]),
               index, trajectory.reset_index(drop=True))
