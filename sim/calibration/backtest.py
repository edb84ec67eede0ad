"""Fitting rules with cross-validated model choice, and scoring rules on plan snapshots.

Leave-one-mission-out (LOMO): each mission's snapshots are predicted by a rule refitted
without that mission (snapshots of one mission are correlated, so leaving out single snapshots
would flatter the rule). Refits start from the full fit's optimum (a warm start), which keeps
the ~26 refits to seconds.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, timedelta

import numpy as np

from .data import GROUPS, ReferenceClass, Snapshot
from .fit import Data, Fit, ModelSpec, fit
from .rules import GroupRule, SlipRules
from .slip import CalibratedSlip

# The candidate models, compared by their LOMO log score (docs/calibration.md).
CANDIDATES = tuple(ModelSpec(hold, shift, omega)
                   for hold, shift in ((True, True), (False, True), (True, False))
                   for omega in (0.25, 0.5, 1.0))
QUANTILES = (0.05, 0.10, 0.25, 0.50, 0.75, 0.90, 0.95)
DAYS_PER_MONTH = 365.25 / 12
LEAD_BANDS = (("lead < 1 y", 0.0, 12.0), ("lead 1-3 y", 12.0, 36.0),
              ("lead > 3 y", 36.0, math.inf))


@dataclass(frozen=True)
class Prediction:
    snapshot: Snapshot
    slip: CalibratedSlip  # the predictive slip at the time of the snapshot
    elapsed_months: float | None  # pending: slip accumulated by the data date

    @property
    def pit(self) -> float | None:
        s = self.snapshot.slip_months
        return None if s is None else float(np.atleast_1d(self.slip.cdf_months(s))[0])

    @property
    def p_pending(self) -> float:
        """P(not launched by the data date) under the rule (pending snapshots)."""
        e = self.elapsed_months if self.elapsed_months is not None else -math.inf
        return float(np.atleast_1d(self.slip.sf_months(e))[0])

    def log_score(self) -> float:
        """Log predictive density of the slip, or log P(pending) for a pending snapshot."""
        s = self.snapshot.slip_months
        value = self.p_pending if s is None else float(
            np.atleast_1d(self.slip.pdf_months(s))[0])
        return math.log(max(value, 1e-300))


def rules_from_fit(result: Fit, rc: ReferenceClass, provenance: dict[str, object]) -> SlipRules:
    p = result.params
    groups = {}
    for i, g in enumerate(GROUPS):
        snaps = [s for s in rc.snapshots if s.group == g]
        if not snaps:
            continue
        leads = [s.lead_months for s in snaps]
        launched = {s.mission for s in snaps if not s.pending}
        groups[g] = GroupRule(p.a[i], p.b[i], p.cov_ab[i], len({s.mission for s in snaps}),
                              len(launched), len(snaps), (min(leads), max(leads)), p.hold_h0[i])
    return SlipRules(groups, p.tau, p.sigma, p.shift, result.spec.hold, p.hold_h1, p.hold_sd,
                     provenance=provenance)


def predict(rules: SlipRules, rc: ReferenceClass) -> list[Prediction]:
    """The rules as given, applied to every snapshot of `rc` whose group they cover."""
    return [Prediction(s, rules.slip(s.group, s.lead_months),
                       rc.elapsed_months(s) if s.pending else None)
            for s in rc.snapshots if s.group in rules.groups]


def lomo(rc: ReferenceClass, spec: ModelSpec, full: Fit | None = None,
         progress: Callable[[str], None] | None = None, exact: bool = True) -> list[Prediction]:
    """Every snapshot predicted by a rule refitted without its mission.

    With `exact` False the refits skip their Hessian and borrow the full fit's parameter
    covariance (removing one mission changes it little): half the work, used to rank models.
    """
    full = full or fit(Data.from_reference(rc), spec, uncertainty=not exact)
    out: list[Prediction] = []
    for mission in rc.missions:
        rest = rc.without(mission)
        if progress:
            progress(mission)
        refit = fit(Data.from_reference(rest), spec, warm=full.theta, uncertainty=exact)
        if not exact:
            refit = replace(refit, params=replace(refit.params, cov_ab=full.params.cov_ab))
        rules = rules_from_fit(refit, rest, {})
        held = ReferenceClass(rc.path, rc.sha256, rc.data_date,
                              tuple(s for s in rc.snapshots if s.mission == mission), ())
        out += predict(rules, held)
    return out


def choose_model(rc: ReferenceClass, candidates: tuple[ModelSpec, ...] = CANDIDATES,
                 progress: Callable[[str], None] | None = None
                 ) -> tuple[ModelSpec, dict[ModelSpec, float]]:
    """The candidate with the best mean LOMO log score, and every candidate's score."""
    scores = {}
    for spec in candidates:
        if progress:
            progress(spec.label)
        preds = lomo(rc, spec, exact=False)
        scores[spec] = float(np.mean([p.log_score() for p in preds]))
    best = max(scores, key=lambda s: scores[s])
    return best, scores


# -- scores ----------------------------------------------------------------------------------


def crps(slip: CalibratedSlip, y: float, n: int = 200) -> float:
    """Continuous ranked probability score, by the quantile form
    CRPS = 2 * integral_0^1 (1{y < q(u)} - u) (q(u) - y) du on a midpoint grid of u."""
    u = (np.arange(n) + 0.5) / n
    q = slip.ppf_months(u)
    return float(2 * np.mean(((y < q).astype(float) - u) * (q - y)))


@dataclass(frozen=True)
class Scores:
    n: int
    missions: int
    coverage50: float
    coverage80: float
    below80: float  # share below the 80 % interval
    above80: float
    pit_hist: tuple[int, ...]  # 10 bins
    crps: float
    crps_naive: float
    mae_ratio: float

    @property
    def crps_skill(self) -> float:
        return 1 - self.crps / self.crps_naive if self.crps_naive > 0 else math.nan


@dataclass(frozen=True)
class Row:
    """One launched snapshot's numbers, computed once and reused by the bootstrap."""

    mission: str
    pit: float
    crps: float
    naive: float  # CRPS of "the announced date holds" = |slip|
    err: float  # |predictive median - slip|


def rows(preds: list[Prediction]) -> list[Row]:
    out = []
    for p in preds:
        y = p.snapshot.slip_months
        if y is None:
            continue
        med = float(p.slip.ppf_months(0.5)[0])
        out.append(Row(p.snapshot.mission, p.pit or 0.0, crps(p.slip, y), abs(y), abs(med - y)))
    return out


def score(rs: list[Row]) -> Scores:
    pit = np.array([r.pit for r in rs])
    naive = float(np.median([r.naive for r in rs])) if rs else math.nan
    return Scores(
        n=len(rs), missions=len({r.mission for r in rs}),
        coverage50=float(np.mean((pit > 0.25) & (pit < 0.75))) if rs else math.nan,
        coverage80=float(np.mean((pit > 0.1) & (pit < 0.9))) if rs else math.nan,
        below80=float(np.mean(pit <= 0.1)) if rs else math.nan,
        above80=float(np.mean(pit >= 0.9)) if rs else math.nan,
        pit_hist=tuple(int(c) for c in np.histogram(pit, bins=10, range=(0, 1))[0]),
        crps=float(np.mean([r.crps for r in rs])) if rs else math.nan,
        crps_naive=float(np.mean([r.naive for r in rs])) if rs else math.nan,
        mae_ratio=float(np.median([r.err for r in rs])) / naive if rs and naive > 0 else math.nan,
    )


def bootstrap(rs: list[Row], seed: int = 20260413, draws: int = 1000
              ) -> dict[str, tuple[float, float]]:
    """95 % intervals of each score from resampling whole missions with replacement."""
    missions = sorted({r.mission for r in rs})
    by_mission = {m: [r for r in rs if r.mission == m] for m in missions}
    rng = np.random.default_rng(seed)
    values: dict[str, list[float]] = {k: [] for k in (
        "coverage50", "coverage80", "below80", "above80", "crps_skill", "mae_ratio")}
    for _ in range(draws):
        pick = rng.integers(0, len(missions), len(missions))
        sample = [r for i in pick for r in by_mission[missions[i]]]
        s = score(sample)
        for k in values:
            values[k].append(getattr(s, k))
    return {k: (float(np.nanpercentile(v, 2.5)), float(np.nanpercentile(v, 97.5)))
            for k, v in values.items()}


def band_of(lead_months: float) -> str:
    return next(name for name, lo, hi in LEAD_BANDS if lo <= lead_months < hi)


def quantile_dates(p: Prediction) -> list[date]:
    months = p.slip.ppf_months(np.array(QUANTILES))
    return [p.snapshot.planned + timedelta(days=round(float(m) * DAYS_PER_MONTH))
            for m in months]
