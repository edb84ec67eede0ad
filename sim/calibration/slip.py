"""The calibrated slip of one activity: a distribution value object like those of
:mod:`sim.distributions`, fixed when the scenario is loaded.

For lead L (months from when the plan was stated to the planned date) and x = ln(L / 12):

    P(slip <= s) = p F_hold(s) + (1 - p) F_late(s)
    p = logistic(h0 + h1 x),  F_hold = Normal(0, s_hold)
    ln(slip + c) ~ Normal(a + b x, v),  v = tau^2 + sigma^2 + Var(a + b x)

Var(a + b x) is the group's parameter uncertainty (from the fit), so a rule used far from the
leads it was fitted on widens instead of pretending to know. When the plan is overdue (or
simply has not launched by `as_of`), the slip is conditioned on exceeding `floor` = as_of -
planned: the remaining slip given that it exceeds the time already elapsed. Values are in
months inside; `unit` converts them to the scenario's time unit on the way out.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
from scipy import special

# The standard normal's functions as scipy.stats.norm works them out (ndtr; exp(-x**2/2) over
# sqrt(2 pi)), value for value, without importing scipy.stats: it takes a third of a second,
# half the start-up of every `ilrs` command, and nothing here needs more than these three.
_SQRT_2PI = np.sqrt(2 * np.pi)


def _norm_cdf(x: np.ndarray | float) -> np.ndarray:
    """``scipy.stats.norm.cdf`` value for value."""
    return np.asarray(special.ndtr(x))


def _norm_pdf(x: np.ndarray | float) -> np.ndarray:
    """``scipy.stats.norm.pdf`` value for value."""
    x = np.asarray(x, dtype=float)
    # x**2 / -2.0 rather than -x**2 / 2.0: the same numbers, and a nan keeps its sign (a
    # negation flips it; scipy returns nan as it came).
    return np.asarray(np.exp(x**2 / -2.0) / _SQRT_2PI)


def _norm_sf(x: np.ndarray | float) -> np.ndarray:
    """``scipy.stats.norm.sf`` value for value (infinities, nan and -0.0 included): ndtr(-x),
    without its per-call argument checks, which cost more than the rest of working out a
    slip's tails (every variant of an exploration works them out for the slips it changes)."""
    return np.asarray(special.ndtr(-np.asarray(x, dtype=float)))


@dataclass(frozen=True)
class CalibratedSlip:
    group: str
    lead_months: float
    a: float
    b: float
    var_ab: tuple[float, float, float]  # Var(a), Cov(a, b), Var(b)
    tau: float
    sigma: float
    shift: float  # c, months
    hold_h0: float  # -inf: no hold component
    hold_h1: float
    hold_sd: float
    floor_months: float = -math.inf  # condition on slip > floor (as_of - planned)
    unit_months: float = 1.0  # months per scenario time unit

    def __post_init__(self) -> None:
        if not (self.lead_months > 0 and math.isfinite(self.lead_months)):
            raise ValueError(f"needs a positive lead in months, got {self.lead_months}")
        if self.sigma <= 0 or self.tau < 0 or self.hold_sd <= 0 or self.shift < 0:
            raise ValueError("needs sigma > 0, tau >= 0, hold_sd > 0 and shift >= 0")

    # -- the unconditional mixture -----------------------------------------------------------

    @property
    def x(self) -> float:
        return math.log(self.lead_months / 12.0)

    @property
    def p_hold(self) -> float:
        return float(special.expit(self.hold_h0 + self.hold_h1 * self.x))

    @property
    def mu(self) -> float:
        return self.a + self.b * self.x

    @property
    def scale(self) -> float:
        va, cab, vb = self.var_ab
        x = self.x
        return math.sqrt(self.tau**2 + self.sigma**2 + max(va + 2 * x * cab + x * x * vb, 0.0))

    def _late_cdf(self, s: np.ndarray) -> np.ndarray:
        v = s + self.shift
        with np.errstate(divide="ignore", invalid="ignore"):
            z = (np.log(np.where(v > 0, v, 1.0)) - self.mu) / self.scale
        return np.asarray(np.where(v > 0, _norm_cdf(z), 0.0))

    def _late_sf(self, s: np.ndarray) -> np.ndarray:
        v = s + self.shift
        with np.errstate(divide="ignore", invalid="ignore"):
            z = (np.log(np.where(v > 0, v, 1.0)) - self.mu) / self.scale
        return np.asarray(np.where(v > 0, _norm_sf(z), 1.0))

    def _hold_sf(self, s: np.ndarray) -> np.ndarray:
        return np.asarray(_norm_sf(s / self.hold_sd))

    def _sf_uncond(self, s: np.ndarray) -> np.ndarray:
        p = self.p_hold
        return p * self._hold_sf(s) + (1 - p) * self._late_sf(s)

    # -- conditioned on slip > floor: what the engine draws -----------------------------------

    @property
    def p_not_before_floor(self) -> float:
        """P(slip > floor) before conditioning: the chance the plan is still open at as_of."""
        if self.floor_months == -math.inf:
            return 1.0
        return float(self._sf_uncond(np.array([self.floor_months]))[0])

    def sf_months(self, s: np.ndarray | float) -> np.ndarray:
        """P(slip > s months | slip > floor)."""
        s = np.asarray(s, dtype=float)
        tail = self.p_not_before_floor
        if tail <= 0:
            return np.asarray((s < self.floor_months).astype(float))
        capped = np.maximum(s, self.floor_months)
        return np.asarray(np.minimum(self._sf_uncond(capped) / tail, 1.0))

    def pdf_months(self, s: np.ndarray | float) -> np.ndarray:
        """Density of the conditioned slip at `s` months."""
        s = np.asarray(s, dtype=float)
        p = self.p_hold
        hold = _norm_pdf(s / self.hold_sd) / self.hold_sd
        v = s + self.shift
        with np.errstate(divide="ignore", invalid="ignore"):
            lv = np.log(np.where(v > 0, v, 1.0))
            late = np.where(v > 0, _norm_pdf((lv - self.mu) / self.scale)
                            / (self.scale * np.where(v > 0, v, 1.0)), 0.0)
        dens = (p * hold + (1 - p) * late) / self.p_not_before_floor
        return np.asarray(np.where(s > self.floor_months, dens, 0.0))

    def cdf_months(self, s: np.ndarray | float) -> np.ndarray:
        return 1.0 - self.sf_months(s)

    def ppf_months(self, q: np.ndarray | float) -> np.ndarray:
        """Quantiles in months, by bisection on the analytic cdf (exact to 1e-9 months)."""
        q = np.atleast_1d(np.asarray(q, dtype=float))
        lo = np.full(q.shape, self._lower_start())
        hi = np.full(q.shape, 1.0)
        while np.any(self.cdf_months(hi) < q):
            hi = np.where(self.cdf_months(hi) < q, hi * 2 + 1, hi)
        for _ in range(200):
            mid = (lo + hi) / 2
            below = self.cdf_months(mid) < q
            lo, hi = np.where(below, mid, lo), np.where(below, hi, mid)
            if np.all(hi - lo < 1e-9):
                break
        return np.asarray((lo + hi) / 2)

    def _lower_start(self) -> float:
        lowest = -self.shift if self.hold_h0 == -math.inf else -12 * self.hold_sd - 1
        return max(lowest, self.floor_months) if self.floor_months > -math.inf else lowest

    @functools.cached_property
    def _tails(self) -> tuple[float, float]:
        """P(slip > floor) of each component (1 without a floor): constants of the slip,
        worked out once (scipy.stats costs tens of microseconds per call)."""
        floor = self.floor_months
        if floor == -math.inf:
            return 1.0, 1.0
        return (float(self._hold_sf(np.array([floor]))[0]),
                float(self._late_sf(np.array([floor]))[0]))

    def sample_months(self, rng: np.random.Generator, size: int) -> np.ndarray:
        """Draws by inverse cdf within each component, truncated at the floor."""
        u_comp, u_val = rng.random(size), rng.random(size)
        floor = self.floor_months
        p = self.p_hold
        hold_tail, late_tail = self._tails
        w_hold = p * hold_tail
        w_late = (1 - p) * late_tail
        total = w_hold + w_late
        if total <= 0:  # far beyond every draw: the slip sits at the floor
            return np.full(size, floor)
        is_hold = u_comp < w_hold / total
        # Survival-side inversion keeps precision deep in a tail: value = isf(u * tail), with
        # isf(q) = 0 - ndtri(q), the value scipy.stats.norm.isf gives (0.0 at q = 1/2, not
        # -0.0), without its per-call argument checks.
        hold = self.hold_sd * (0.0 - special.ndtri(u_val * hold_tail))
        late = np.exp(self.mu + self.scale * (0.0 - special.ndtri(u_val * late_tail))) - self.shift
        out = np.where(is_hold, hold, late)
        return np.asarray(np.maximum(out, floor) if floor > -math.inf else out)

    # -- the Distribution protocol (scenario time units) -------------------------------------

    @property
    def mean(self) -> float:
        """Analytic mean of the conditioned mixture, in scenario units."""
        f = self.floor_months
        p = self.p_hold
        sd, mu, s, c = self.hold_sd, self.mu, self.scale, self.shift
        if f == -math.inf:
            hold_mass, hold_part = p, 0.0
            late_mass = 1 - p
            late_part = (1 - p) * (math.exp(mu + s * s / 2) - c)
        else:
            hold_mass = p * float(_norm_sf(f / sd))
            hold_part = p * sd * float(_norm_pdf(f / sd))  # E[X; X > f] for N(0, sd)
            z0 = (math.log(f + c) - mu) / s if f + c > 0 else -math.inf
            tail = float(_norm_sf(z0))
            late_mass = (1 - p) * tail
            late_part = (1 - p) * (math.exp(mu + s * s / 2) * float(_norm_sf(z0 - s))
                                   - c * tail)
        total = hold_mass + late_mass
        value = (hold_part + late_part) / total if total > 0 else f
        return value / self.unit_months

    @property
    def minimum(self) -> float:
        return self.floor_months / self.unit_months

    @property
    def is_fixed(self) -> bool:
        return False

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return self.sample_months(rng, size) / self.unit_months

    def to_yaml(self) -> object:
        return {"reference_class": self.group}
