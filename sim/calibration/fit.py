"""The slip model and its maximum-likelihood fit (docs/calibration.md states the equations).

For a snapshot of mission m in agency group g with lead L months (x = ln(L / 12)):

- with probability p(x) = logistic(h0_g + h1 x) the plan *holds*: slip ~ Normal(0, s_hold);
- otherwise the slip is a shifted lognormal: ln(slip + c) = a_g + b_g x + u_m + e, with a
  mission effect u_m ~ N(0, tau^2) shared by the mission's snapshots and per-snapshot noise
  e ~ N(0, sigma^2). The shift c >= 0 lets a late-component launch come up to c months early.

Group coefficients are partially pooled: a_g = a0 + da_g, b_g = b0 + db_g and the hold
intercept h0_g = h0 + dh_g, with the penalty (da_g^2 + db_g^2 + dh_g^2) / (2 omega^2), i.e.
the posterior mode under a normal prior of scale omega.
Which components are used ("hold", "shift") and omega are chosen by leave-one-mission-out
cross-validation (:mod:`sim.calibration.backtest`). The mission effect is integrated out by
Gauss-Hermite quadrature; a pending mission's snapshots enter as survival probabilities at
the slip already elapsed by the data date.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
from scipy import optimize, special

from .data import GROUPS, ReferenceClass

_NODES, _WEIGHTS = np.polynomial.hermite.hermgauss(24)
_U_STD = math.sqrt(2.0) * _NODES  # standard-normal quadrature points
_LOGW = np.log(_WEIGHTS / math.sqrt(math.pi))
_FLOOR = -1e6  # a log-density that stands for "impossible" without producing NaN
_LOG_SQRT_2PI = 0.5 * math.log(2 * math.pi)


@dataclass(frozen=True)
class ModelSpec:
    """Which components the model has, and how strongly groups are pooled."""

    hold: bool = True
    shift: bool = True
    omega: float = 0.5  # prior scale of a group's deviation from the common a0, b0

    @property
    def label(self) -> str:
        parts = [p for p, on in (("hold", self.hold), ("shift", self.shift)) if on]
        return "+".join(parts or ["lognormal"]) + f", omega {self.omega:g}"


@dataclass(frozen=True)
class Data:
    """The snapshots as arrays, ready for the likelihood."""

    group: np.ndarray  # (n,) int index into GROUPS
    x: np.ndarray  # (n,) ln(lead / 12 months)
    y: np.ndarray  # (n,) slip in months; for a censored snapshot the slip elapsed so far
    censored: np.ndarray  # (n,) bool
    mission: np.ndarray  # (n,) int index of the mission
    n_missions: int

    @cached_property
    def members(self) -> np.ndarray:
        """(missions, n) 0/1: which snapshots belong to which mission."""
        m = np.zeros((self.n_missions, self.mission.size))
        m[self.mission, np.arange(self.mission.size)] = 1.0
        return m

    @staticmethod
    def from_reference(rc: ReferenceClass) -> Data:
        names = list(rc.missions)
        snaps = rc.snapshots
        y = [s.slip_months if s.slip_months is not None else rc.elapsed_months(s) for s in snaps]
        return Data(
            group=np.array([GROUPS.index(s.group) for s in snaps]),
            x=np.log(np.array([s.lead_months for s in snaps]) / 12.0),
            y=np.array(y, dtype=float),
            censored=np.array([s.pending for s in snaps]),
            mission=np.array([names.index(s.mission) for s in snaps]),
            n_missions=len(names),
        )


@dataclass(frozen=True)
class Params:
    """Fitted values (months, natural logs); a and b per group in GROUPS order."""

    a: tuple[float, ...]
    b: tuple[float, ...]
    tau: float
    sigma: float
    shift: float
    hold_h0: tuple[float, ...]  # per group; -inf: no hold component
    hold_h1: float
    hold_sd: float
    cov_ab: tuple[tuple[float, float, float], ...] = field(default=())  # per group: va, cab, vb


# -- parameter vector <-> Params -------------------------------------------------------------

_G = len(GROUPS)


def _names(spec: ModelSpec) -> list[str]:
    names = ["a0", "b0"] + [f"da_{g}" for g in GROUPS] + [f"db_{g}" for g in GROUPS]
    names += ["log_tau", "log_sigma"]
    if spec.shift:
        names.append("log_shift")
    if spec.hold:
        names += ["h0", "h1", "log_hold_sd"] + [f"dh_{g}" for g in GROUPS]
    return names


def _unpack(theta: np.ndarray, spec: ModelSpec) -> dict[str, float]:
    v = dict(zip(_names(spec), (float(t) for t in theta), strict=True))
    return v


def _bounds(spec: ModelSpec) -> list[tuple[float | None, float | None]]:
    b: dict[str, tuple[float | None, float | None]] = {
        "log_tau": (math.log(0.01), math.log(5.0)), "log_sigma": (math.log(0.01), math.log(5.0)),
        "log_shift": (math.log(0.05), math.log(24.0)), "h0": (-12.0, 12.0), "h1": (-8.0, 8.0),
        "log_hold_sd": (math.log(0.05), math.log(6.0)),
        "a0": (-10.0, 10.0), "b0": (-5.0, 5.0),
    }
    return [b.get(n, (-10.0, 10.0)) for n in _names(spec)]


def start(spec: ModelSpec) -> np.ndarray:
    """A neutral starting point: slip about 6 months at a 1-year lead, growing as lead^0.7."""
    v = {"a0": math.log(6.0), "b0": 0.7, "log_tau": math.log(0.6), "log_sigma": math.log(0.5),
         "log_shift": math.log(2.0), "h0": -1.5, "h1": -0.5, "log_hold_sd": math.log(0.7)}
    return np.array([v.get(n, 0.0) for n in _names(spec)])


# -- the likelihood --------------------------------------------------------------------------


def _snapshot_logf(v: dict[str, float], spec: ModelSpec, d: Data) -> np.ndarray:
    """(n, K) log density (or survival, if censored) of each snapshot at each quadrature node."""
    a = v["a0"] + np.array([v[f"da_{g}"] for g in GROUPS])[d.group]
    b = v["b0"] + np.array([v[f"db_{g}"] for g in GROUPS])[d.group]
    tau, sigma = math.exp(v["log_tau"]), math.exp(v["log_sigma"])
    c = math.exp(v["log_shift"]) if spec.shift else 0.0
    mean = (a + b * d.x)[:, None] + tau * _U_STD[None, :]
    shifted = d.y + c
    with np.errstate(divide="ignore", invalid="ignore"):
        logv = np.log(np.where(shifted > 0, shifted, np.nan))
    z = (logv[:, None] - mean) / sigma
    # log_ndtr(-z) = log P(Z > z): scipy's fast, tail-accurate form of norm.logsf.
    dens = -0.5 * z * z - _LOG_SQRT_2PI - math.log(sigma) - logv[:, None]
    surv = special.log_ndtr(-z)
    late = np.where(d.censored[:, None], surv, dens)
    # At or below -c the late component is impossible (density) or certain (survival).
    late = np.where(shifted[:, None] > 0, late, np.where(d.censored[:, None], 0.0, _FLOOR))
    late = np.maximum(late, _FLOOR)
    if not spec.hold:
        return np.asarray(late)
    dh = np.array([v[f"dh_{g}"] for g in GROUPS])[d.group]
    p = special.expit(v["h0"] + dh + v["h1"] * d.x)
    sd = math.exp(v["log_hold_sd"])
    zh = d.y / sd
    hold = np.where(d.censored, special.log_ndtr(-zh),
                    -0.5 * zh * zh - _LOG_SQRT_2PI - math.log(sd))
    return np.asarray(np.logaddexp(np.log(p)[:, None] + hold[:, None],
                                   np.log1p(-p)[:, None] + late))


def neg_log_lik(theta: np.ndarray, spec: ModelSpec, d: Data) -> float:
    """Minus the penalised log-likelihood (the objective the fit minimises)."""
    v = _unpack(theta, spec)
    logf = _snapshot_logf(v, spec, d)
    per_mission = d.members @ logf + _LOGW[None, :]  # (missions, K): sum over own snapshots
    top = per_mission.max(axis=1, keepdims=True)
    ll = float((np.log(np.exp(per_mission - top).sum(axis=1)) + top[:, 0]).sum())
    dev = np.array([v[f"d{k}_{g}"] for k in "abh" for g in GROUPS if f"d{k}_{g}" in v])
    penalty = 0.5 * float(dev @ dev) / spec.omega**2
    return -ll + penalty


@dataclass(frozen=True)
class Fit:
    spec: ModelSpec
    theta: np.ndarray
    params: Params
    neg_log_lik: float
    stderr: dict[str, float]  # name -> standard error from the inverse Hessian


def fit(d: Data, spec: ModelSpec, warm: np.ndarray | None = None,
        uncertainty: bool = True) -> Fit:
    """The penalised maximum-likelihood fit; `warm` starts from an earlier optimum."""
    x0 = start(spec) if warm is None else warm
    res = optimize.minimize(neg_log_lik, x0, args=(spec, d), method="L-BFGS-B",
                            bounds=_bounds(spec), options={"maxiter": 2000})
    theta = res.x
    cov = _covariance(theta, spec, d) if uncertainty else None
    names = _names(spec)
    stderr = {} if cov is None else {n: float(math.sqrt(max(cov[i, i], 0.0)))
                                     for i, n in enumerate(names)}
    return Fit(spec, theta, to_params(theta, spec, cov), float(res.fun), stderr)


def to_params(theta: np.ndarray, spec: ModelSpec, cov: np.ndarray | None = None) -> Params:
    v = _unpack(theta, spec)
    names = _names(spec)
    covs = []
    for g in GROUPS:
        if cov is None:
            covs.append((0.0, 0.0, 0.0))
            continue
        # a_g = a0 + da_g, b_g = b0 + db_g: linear combinations of the vector.
        ia = np.zeros(len(names))
        ib = np.zeros(len(names))
        ia[[names.index("a0"), names.index(f"da_{g}")]] = 1
        ib[[names.index("b0"), names.index(f"db_{g}")]] = 1
        covs.append((float(ia @ cov @ ia), float(ia @ cov @ ib), float(ib @ cov @ ib)))
    return Params(
        a=tuple(v["a0"] + v[f"da_{g}"] for g in GROUPS),
        b=tuple(v["b0"] + v[f"db_{g}"] for g in GROUPS),
        tau=math.exp(v["log_tau"]), sigma=math.exp(v["log_sigma"]),
        shift=math.exp(v["log_shift"]) if spec.shift else 0.0,
        hold_h0=tuple(v["h0"] + v[f"dh_{g}"] if spec.hold else -math.inf for g in GROUPS),
        hold_h1=v["h1"] if spec.hold else 0.0,
        hold_sd=math.exp(v["log_hold_sd"]) if spec.hold else 1.0,
        cov_ab=tuple(covs),
    )


def _covariance(theta: np.ndarray, spec: ModelSpec, d: Data) -> np.ndarray | None:
    """Inverse of the numerical Hessian of the objective at the optimum (None if singular)."""
    n = len(theta)
    h = 1e-4 * np.maximum(1.0, np.abs(theta))
    hess = np.zeros((n, n))
    f0 = neg_log_lik(theta, spec, d)
    for i in range(n):
        for j in range(i, n):
            ei, ej = np.eye(n)[i] * h[i], np.eye(n)[j] * h[j]
            if i == j:
                val = (neg_log_lik(theta + ei, spec, d) - 2 * f0
                       + neg_log_lik(theta - ei, spec, d)) / h[i] ** 2
            else:
                val = (neg_log_lik(theta + ei + ej, spec, d) - neg_log_lik(theta + ei - ej, spec, d)
                       - neg_log_lik(theta - ei + ej, spec, d)
                       + neg_log_lik(theta - ei - ej, spec, d)) / (4 * h[i] * h[j])
            hess[i, j] = hess[j, i] = val
    try:
        cov = np.linalg.inv(hess)
    except np.linalg.LinAlgError:
        return None
    # A parameter at a bound can give a non-positive variance; keep the diagonal honest.
    return np.asarray(cov) if np.all(np.diag(cov) > 0) else np.asarray(
        cov * (np.diag(cov) > 0)[:, None] * (np.diag(cov) > 0)[None, :])
