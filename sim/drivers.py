"""Which uncertainties drive the goal date.

- :func:`risk_drivers` (the AACE 57R-09 method): re-run the scenario with one risk, factor or
  vehicle's failures switched off at a time, same seed, and report how the answer moves.
  Random streams are keyed by element id (:mod:`sim.sampling`), so a variant keeps every other
  element's draws: the differences are the element's effect, not noise (common random numbers).
- :func:`sensitivity`: the rank correlation of each individual random input with the goal time,
  from the draws of the run itself (re-created block by block, no re-simulation).

Usually imported through :mod:`sim.analysis`.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterator

import numpy as np
import pandas as pd

from .distributions import Fixed
from .engine import DEFAULT_ENGINE
from .model import Scenario
from .montecarlo import run
from .results import Results, percentile_day
from .sampling import BlockDraws, blocks, draw_block, fresh_seed

__all__ = ["risk_drivers", "sensitivity", "switched_off_variants"]


# -- risk drivers -----------------------------------------------------------------------------
def switched_off_variants(scenario: Scenario) -> Iterator[tuple[str, str, str, Scenario]]:
    """(element id, kind, name, variant) for each element that can be switched off.

    kind "risk": the risk removed; "factor": its distribution replaced by Fixed(1.0); "vehicle":
    reliability set to 1.0 (no launch failures, so no stand-downs either). Elements that are
    already off (a factor fixed at 1, a vehicle that never fails) are skipped: their effect is
    zero by construction and would only pad the tornado.
    """
    for risk in scenario.risks:
        risks = tuple(r for r in scenario.risks if r.id != risk.id)
        yield risk.id, "risk", risk.name, dataclasses.replace(scenario, risks=risks, resolved=None)
    for factor in scenario.factors:
        dist = factor.distribution
        if dist.is_fixed and dist.mean == 1.0:
            continue
        factors = tuple(
            dataclasses.replace(f, distribution=Fixed(1.0)) if f.id == factor.id else f
            for f in scenario.factors
        )
        yield factor.id, "factor", factor.id, dataclasses.replace(scenario, factors=factors,
                                                                  resolved=None)
    for vehicle in scenario.vehicles:
        if vehicle.reliability >= 1.0:
            continue
        vehicles = tuple(
            dataclasses.replace(v, reliability=1.0) if v.id == vehicle.id else v
            for v in scenario.vehicles
        )
        yield vehicle.id, "vehicle", vehicle.name, dataclasses.replace(scenario, vehicles=vehicles,
                                                                       resolved=None)


def _delta_days(off: float, base: float) -> float:
    """off - base, with never (inf) handled: both never -> 0; only one never -> +-inf."""
    return 0.0 if off == base else off - base


def risk_drivers(
    scenario: Scenario,
    trials: int = 10_000,
    seed: int | None = None,
    workers: int | None = None,
    base: Results | None = None,
    progress: bool = False,
    engine: str = DEFAULT_ENGINE,
) -> pd.DataFrame:
    """The effect of switching off each risk, factor and vehicle's failures in turn.

    Index: the element id (``kind:id`` where ids of different kinds clash), name "driver".
    Columns: kind (risk|factor|vehicle), name, p_goal_off (P(goal by deadline) with it off),
    delta_p (p_goal_off - P base: positive when the element hurts), p80_off (P80 goal date
    with it off; None = fewer than 80% of trials ever meet the goal), delta_p80_days (P80 off
    minus P80 base in days: negative when the element hurts; 0 when both are never, -inf when
    only the base is never, +inf when only the variant is). Rows by |delta_p|, then
    |delta_p80_days|, largest first. An element with no effect gives exactly 0 in both.
    ``.attrs``: seed, trials, p_base, p80_base (date or None).

    Runs the scenario 1 + (number of drivers) times with `trials` trials each; pass `base`, a
    run of this scenario already made, to save the first (its seed and trials are then used).
    `progress` shows a progress bar on stderr for each run.
    """
    if base is None:
        seed = fresh_seed() if seed is None else int(seed)
        base = run(scenario, trials=trials, seed=seed, workers=workers, engine=engine,
                   progress=progress)
    elif base.scenario != scenario:
        raise ValueError("base must be a run of the same scenario")
    seed, trials = base.seed, base.trials
    base_p80 = percentile_day(base.goal_days, 80)
    variants = list(switched_off_variants(scenario))
    ids = [v[0] for v in variants]
    rows = []
    for element, kind, name, variant in variants:
        res = run(variant, trials=trials, seed=seed, workers=workers, engine=engine,
                  progress=progress)
        p80 = percentile_day(res.goal_days, 80)
        rows.append({
            "driver": element if ids.count(element) == 1 else f"{kind}:{element}",
            "kind": kind,
            "name": name,
            "p_goal_off": res.probability,
            "delta_p": res.probability - base.probability,
            "p80_off": res.to_date(p80),
            "delta_p80_days": _delta_days(p80, base_p80),
        })
    columns = ["driver", "kind", "name", "p_goal_off", "delta_p", "p80_off", "delta_p80_days"]
    table = pd.DataFrame(rows, columns=columns).set_index("driver")
    if len(table):
        order = np.lexsort((-table["delta_p80_days"].abs().to_numpy(),
                            -table["delta_p"].abs().to_numpy()))
        table = table.iloc[order]
    table.attrs.update(seed=seed, trials=trials, p_base=base.probability,
                       p80_base=base.to_date(base_p80))
    return table


# -- sensitivity ------------------------------------------------------------------------------
Input = tuple[str, str, np.ndarray]  # kind, element id, one value per trial of the block


def _block_inputs(scenario: Scenario, draws: BlockDraws) -> dict[str, Input]:
    """The uncertain inputs of one block, by name; constant ones (a fixed distribution, a risk
    that is certain or impossible) left out.

    Durations, slips and lags are the activity's own draw with its factors divided out, so they
    do not double-count the factors (which are inputs of their own).
    """
    out: dict[str, Input] = {}
    for f in scenario.factors:
        if not f.distribution.is_fixed:
            out[f.id] = ("factor", f.id, draws.factors[f.id])
    for act, d in zip(scenario.activities, draws.activities, strict=True):
        if act.settled:
            continue  # finished or lost before as_of: its draws are never used
        scale = np.ones(draws.size)
        for fid in act.factors:
            scale = scale * draws.factors[fid]
        scale = np.where(scale != 0, scale, 1.0)
        if not act.duration.is_fixed:
            out[f"{act.id}.duration"] = ("duration", act.id, d.duration[0] / scale)
        if (act.planned is not None and act.slip is not None and not act.slip.is_fixed
                and not act.under_way):  # after a failure the floor is not planned + slip
            slip = (d.ready_floor - scenario.days_from_as_of(act.planned)) / scale
            out[f"{act.id}.slip"] = ("slip", act.id, slip)
        waits = () if act.under_way else act.after  # under way: no lags were drawn for it
        for dep, lag in zip(waits, d.lags, strict=True):
            if not dep.lag.is_fixed:
                out[f"{act.id}.lag:{dep.id}"] = ("lag", act.id, lag / scale)
    for risk, when in zip(scenario.risks, draws.risk_time, strict=True):
        if risk.probability is not None:
            if 0.0 < risk.probability < 1.0:
                out[f"{risk.id} occurs"] = ("risk", risk.id, (when == 0.0).astype(np.float64))
        elif 0.0 < (risk.annual_probability or 0.0) < 1.0:
            out[f"{risk.id} time"] = ("risk", risk.id, when)  # inf: never happens
    return out


def sensitivity(res: Results) -> pd.DataFrame:
    """Spearman rank correlation of each uncertain input draw with the goal time.

    Inputs (index, name "input"): each non-fixed factor (``china_pace``); each activity's
    first-attempt duration (``ce7.duration``), slip (``ce7.slip``) and dependency lags
    (``ce7.lag:ce6``), with factors divided out; each risk's occurrence (``x occurs``, 0/1) or,
    for a yearly-hazard risk, its time (``x time``, never = inf = latest, so its correlation
    is usually negative). Activities done before as_of and constant inputs are skipped.
    The goal time counts never (inf) as the latest; ties take average ranks.
    Columns: kind (factor|duration|slip|lag|risk), element (id), spearman. Rows by |spearman|,
    largest first; NaN (only when the goal time is the same in every trial) last.

    The draws are re-created with :func:`sim.sampling.draw_block` from the run's seed, so
    this costs no simulation, only the sampling (about a millisecond per input per block).
    """
    pieces: dict[str, list[np.ndarray]] = {}
    meta: dict[str, tuple[str, str]] = {}
    for block, size in blocks(res.trials):
        inputs = _block_inputs(res.scenario, draw_block(res.scenario, res.seed, block, size))
        for name, (kind, element, values) in inputs.items():
            pieces.setdefault(name, []).append(values)
            meta[name] = (kind, element)
    columns = {name: np.concatenate(parts) for name, parts in pieces.items()}
    columns = {name: v for name, v in columns.items() if not np.all(v == v[0])}
    ranks = pd.DataFrame(columns).rank()
    goal = pd.Series(res.goal_days).rank()
    if len(columns) and goal.nunique() > 1:
        rho = ranks.corrwith(goal).to_numpy(dtype=np.float64)
    else:
        rho = np.full(len(columns), math.nan)
    table = pd.DataFrame(
        {"kind": [meta[n][0] for n in columns], "element": [meta[n][1] for n in columns],
         "spearman": rho},
        index=pd.Index(list(columns), name="input", dtype=object),
    )
    order = np.argsort(-np.nan_to_num(np.abs(rho), nan=-1.0), kind="stable")
    return table.iloc[order]
