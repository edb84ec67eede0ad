"""What a run says: the goal's distribution, per-activity statistics, the driving path
(criticality and where the goal date's time and spread come from), scenario comparison and
convergence. Pure computation over :class:`~sim.results.Results`; the figures live elsewhere.

The re-running analyses (risk drivers, input sensitivity) are in :mod:`sim.drivers` and are
re-exported here, so ``from sim.analysis import risk_drivers`` works.

Times are engine days since the scenario's as_of at 00:00; ``np.inf`` means never.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .blocks import DRIVER_DONE, DRIVER_PLANNED, floor32
from .drivers import risk_drivers, sensitivity
from .engine import DEFAULT_ENGINE
from .goal import goal_times
from .model import Requirement, Scenario
from .montecarlo import run
from .results import Results, wilson_interval
from .sampling import fresh_seed

__all__ = [
    "BREAKDOWN_PARTS",
    "Comparison",
    "activity_stats",
    "breakdown_summary",
    "compare",
    "convergence",
    "criticality",
    "delay_breakdown",
    "driving_activity",
    "driving_path",
    "goal_distribution",
    "risk_drivers",
    "sensitivity",
]

# The parts of the goal time along the driving path, in the order they happen to an activity.
BREAKDOWN_PARTS = (
    "planned", "slips_and_lags", "failures_and_rebuilds", "vehicle_and_window_waits", "work",
)


# -- the goal and the activities --------------------------------------------------------------
def goal_distribution(res: Results) -> dict[str, Any]:
    """The headline: P(goal by deadline) with its Wilson 95% interval, P(never), goal-date
    percentiles (``{'p10', 'p50', ...}``, the results' percentile levels -> date, None when that
    share never gets there),
    the deadline, plus the goal's name and the number of trials."""
    return {
        "goal": res.scenario.goal.name,
        "deadline": res.scenario.goal.deadline,
        "trials": res.trials,
        "probability": res.probability,
        "ci95": res.ci95,
        "p_never": res.p_never,
        "percentiles": res.percentiles,
    }


def activity_stats(res: Results) -> pd.DataFrame:
    """One row per activity (index: id, scenario order).

    Columns: name, status (what happened before as_of: "done on DATE", "in flight since
    DATE", "lost on DATE", "failed on DATE", "partial on DATE"; '' for none), planned (date or
    None), one per percentile level (p10, p50, p70, p80, p90 by default: finish dates, None =
    that share never finishes), p_finish_by_deadline (the goal's deadline), p_never,
    mean_attempts (those before as_of included).
    """
    table = res.activity_table()
    table.insert(1, "planned", [a.planned for a in res.scenario.activities])
    columns = ["name", "status", "planned", *(f"p{q}" for q in res.percentile_levels),
               "p_finish_by_deadline", "p_never", "mean_attempts"]
    return table[columns]


# -- the driving path -------------------------------------------------------------------------
def _driving_part(req: Requirement, finish: np.ndarray, index: Mapping[str, int]) -> np.ndarray:
    """Per trial, the index of the activity whose finish set `req`'s time.

    The driving part of a combination is the first part (in the order written) whose time
    equals the combination's time: for `all` the latest, for `any` the earliest, for
    `at_least k` the k-th earliest; ties go to the first in order. When the requirement is
    never met, `all` picks its first never-finishing part and `any` its first part.
    """
    if isinstance(req, str):
        return np.full(len(finish), index[req], dtype=np.int64)
    times = np.stack([goal_times(p, finish, index) for p in req.parts], axis=1)
    acts = np.stack([_driving_part(p, finish, index) for p in req.parts], axis=1)
    target = goal_times(req, finish, index)
    chosen = np.argmax(times == target[:, None], axis=1)  # argmax: the first True
    driving: np.ndarray = acts[np.arange(len(finish)), chosen]
    return driving


def driving_activity(res: Results) -> np.ndarray:
    """Per trial, the index (scenario order) of the activity whose finish set the goal time."""
    s = res.scenario
    return _driving_part(s.goal.requires, res.finish_days, s.activity_index)


def driving_path(res: Results) -> np.ndarray:
    """Bool (trials, activities): True where the activity is on the trial's driving path.

    From the goal's driving activity, step back to what set it going: for a launch held back by
    its vehicle's prerequisites (``res.waited_for``, e.g. the launcher's first flight), that
    activity; otherwise ``res.driver``, the predecessor whose finish plus lag set the first ready
    time. Stop where as_of, a planned date or a done activity set it. In a
    trial where the goal is never met this is the path to the first part that never finished
    (as far as it got); :func:`criticality` and :func:`delay_breakdown` leave such trials out.
    """
    n, m = res.finish_days.shape
    on_path = np.zeros((n, m), dtype=bool)
    rows = np.arange(n)
    current = driving_activity(res)
    # A path cannot be longer than the number of activities (the graph is acyclic), so this loop
    # runs at most m times, each vectorised over the trials still being traced.
    while len(rows):
        on_path[rows, current] = True
        waited = res.waited_for[rows, current].astype(np.int64)
        nxt = np.where(waited >= 0, waited, res.driver[rows, current].astype(np.int64))
        keep = nxt >= 0
        rows, current = rows[keep], nxt[keep]
    return on_path


def criticality(res: Results) -> pd.Series:
    """Criticality index: per activity id, the share of trials in which it is on the goal's
    driving path (see :func:`driving_path`).

    Only trials in which the goal is ever met count (the denominator is their number): a goal
    that never happens has no driving path to a date. ``.attrs`` says how many trials counted
    (``trials_counted``) and the share left out (``p_never``); with no trial counted every
    value is NaN.
    """
    ids = [a.id for a in res.scenario.activities]
    reached = np.isfinite(res.goal_days)
    counted = int(reached.sum())
    if counted:
        values = driving_path(res)[reached].mean(axis=0)
    else:
        values = np.full(len(ids), np.nan)
    out = pd.Series(values, index=pd.Index(ids, name="activity"), name="criticality")
    out.attrs.update(trials_counted=counted, p_never=res.p_never)
    return out


def delay_breakdown(res: Results) -> pd.DataFrame:
    """Per trial (index: trial), the goal time split along the driving path, in days.

    The path's first activity was set going by as_of, its planned date or its being done; then:
      planned: as_of to the path's planned date (0 when as_of set it, the planned date when it
        is after as_of; for a done activity its finish, usually <= 0, so the parts add up);
    and for each activity on the path:
      slips_and_lags: first ready time minus the driving predecessor's finish (its lag), or minus
        the planned part (its slip; risk delays are included here);
      failures_and_rebuilds: ready time of the last attempt minus that of the first;
      vehicle_and_window_waits: start (launch) of the last attempt minus its ready time;
      work: finish minus start (a launch: from launch to success).
    A launch held back by its vehicle's prerequisite (``waited_for``) contributes only its work
    and its wait since that prerequisite finished; the path goes on through the prerequisite.
    The parts telescope to the goal time, the last column ``goal`` (exactly to the goal time
    rounded to float32, the precision at which the parts are computed). Trials where the
    goal is never met have NaN parts (and ``goal`` inf). :func:`breakdown_summary` gives means
    and variance shares.
    """
    if res.first_ready_days is None or res.ready_days is None:
        raise ValueError("the delay breakdown needs the ready times, which this run did not keep:"
                         " run it with keep_ready=True (`ilrs report` does)")
    s = res.scenario
    # Times rounded down to float32 (as the ready times are kept) and subtracted in float64:
    # every difference and every partial sum along the path is exact, so a zero lag is exactly
    # zero and the parts add up exactly to floor32(goal time).
    def rounded(days: np.ndarray) -> np.ndarray:
        out: np.ndarray = floor32(days).astype(np.float64)
        return out

    finish = rounded(res.finish_days)
    first = rounded(res.first_ready_days)
    ready = rounded(res.ready_days)
    start = rounded(res.start_days)
    driver = res.driver.astype(np.int64)
    waited = res.waited_for.astype(np.int64)
    reached = np.isfinite(res.goal_days)
    on_path = driving_path(res) & reached[:, None]

    rows = np.arange(len(finish))[:, None]
    planned_days = np.array([max(s.days_from_as_of(a.planned), 0.0) if a.planned else 0.0
                             for a in s.activities])
    anchor = np.select([driver == DRIVER_PLANNED, driver == DRIVER_DONE],
                       [np.broadcast_to(planned_days, finish.shape), finish], 0.0)
    base = np.where(driver >= 0, finish[rows, np.maximum(driver, 0)], anchor)
    # Through a vehicle prerequisite the launch's own ready times are off the path.
    jumped = waited >= 0
    prerequisite_done = finish[rows, np.maximum(waited, 0)]
    own = ~jumped
    pieces = {
        "planned": (np.where((driver < 0) & own, anchor, 0.0), 0.0),
        "slips_and_lags": (np.where(own, first, 0.0), np.where(own, base, 0.0)),
        "failures_and_rebuilds": (np.where(own, ready, 0.0), np.where(own, first, 0.0)),
        "vehicle_and_window_waits": (start, np.where(jumped, prerequisite_done, ready)),
        "work": (finish, start),
    }
    columns: dict[str, np.ndarray] = {}
    with np.errstate(invalid="ignore"):  # inf - inf off the path; masked out below
        for name, (later, earlier) in pieces.items():
            part = np.where(on_path, later - earlier, 0.0).sum(axis=1)
            columns[name] = np.where(reached, part, np.nan)
    columns["goal"] = res.goal_days
    return pd.DataFrame(columns, index=pd.RangeIndex(len(finish), name="trial"))


def breakdown_summary(breakdown: pd.DataFrame) -> pd.DataFrame:
    """Per part (index), over the trials with a goal date: ``mean_days`` and ``variance_share``,
    cov(part, goal) / var(goal), which sums to 1 over the parts (NaN if the goal date is
    constant). It is the share of the goal date's spread each kind of time explains; a part
    that moves against the others (a window wait that absorbs earlier slips) has a negative share.
    """
    reached = breakdown[np.isfinite(breakdown["goal"])]
    parts = reached[list(BREAKDOWN_PARTS)].to_numpy()
    total = parts.sum(axis=1)  # the goal time at the parts' float32 precision
    if len(total) == 0:
        return pd.DataFrame(np.nan, index=pd.Index(BREAKDOWN_PARTS, name="part"),
                            columns=["mean_days", "variance_share"])
    deviation = total - total.mean()
    var = float(deviation @ deviation)
    covs = (parts - parts.mean(axis=0)).T @ deviation
    shares = covs / var if var > 0 else np.full(len(BREAKDOWN_PARTS), np.nan)
    return pd.DataFrame(
        {"mean_days": parts.mean(axis=0), "variance_share": shares},
        index=pd.Index(BREAKDOWN_PARTS, name="part"),
    )


# -- several runs -----------------------------------------------------------------------------
@dataclass
class Comparison:
    """Scenarios run with the same seed: ``table`` (one row each) and their ``results``."""

    table: pd.DataFrame
    results: dict[str, Results]
    seed: int


def compare(
    scenarios: Mapping[str, Scenario],
    trials: int = 10_000,
    seed: int | None = None,
    workers: int | None = None,
    progress: bool = False,
    engine: str = DEFAULT_ENGINE,
    percentiles: Sequence[int] | None = None,
) -> Comparison:
    """Run each scenario with the same seed (common random numbers: elements with the same id
    get the same draws, so differences come from what differs, not from noise).

    Table columns: scenario (the mapping's key), probability, ci_lo, ci_hi, p_never, one per
    percentile level (`percentiles`, default p10, p50, p70, p80, p90: goal dates, None = never),
    deadline (each scenario's own; the probability is relative to it). Rows in the mapping's
    order. `progress` shows a progress bar on stderr.
    """
    if not scenarios:
        raise ValueError("compare needs at least one scenario")
    seed = fresh_seed() if seed is None else int(seed)
    results = {name: run(s, trials=trials, seed=seed, workers=workers, engine=engine,
                         progress=progress)
               for name, s in scenarios.items()}
    if percentiles is not None:
        results = {name: res.with_percentiles(percentiles) for name, res in results.items()}
    rows = []
    for name, res in results.items():
        lo, hi = res.ci95
        rows.append({"scenario": name, "probability": res.probability, "ci_lo": lo, "ci_hi": hi,
                     "p_never": res.p_never, **res.percentiles,
                     "deadline": res.scenario.goal.deadline})
    return Comparison(table=pd.DataFrame(rows), results=results, seed=seed)


def convergence(res: Results, points: int = 50) -> pd.DataFrame:
    """The running estimate of P(goal by deadline) over the first n trials, at about `points`
    values of n evenly spaced up to all trials (the last row is the full run).

    Columns: trials, probability, ci_lo, ci_hi (Wilson 95%).
    """
    if points < 1:
        raise ValueError(f"points must be at least 1, got {points}")
    n_total = res.trials
    counts = np.unique(np.rint(np.linspace(n_total / points, n_total, points)).astype(np.int64))
    counts = counts[counts >= 1]
    successes = np.cumsum(res.met)[counts - 1]
    bounds = [wilson_interval(int(k), int(n)) for k, n in zip(successes, counts, strict=True)]
    return pd.DataFrame({
        "trials": counts,
        "probability": successes / counts,
        "ci_lo": [b[0] for b in bounds],
        "ci_hi": [b[1] for b in bounds],
    })
