"""The slip model: parameter recovery from synthetic snapshots (with and without censoring), PIT
uniformity of a correct rule and detection of a too-narrow one, and the calibrated slip's
closed forms (hand formula, conditioning on the time already elapsed).

Tolerances come from the sample: a fitted parameter must lie within Z standard errors (the
inverse Hessian's) of the truth, and a coverage within Z binomial standard errors.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
from scipy import special, stats

from sim.calibration.data import GROUPS
from sim.calibration.fit import Data, ModelSpec, fit
from sim.calibration.rules import GroupRule, SlipRules
from sim.calibration.slip import CalibratedSlip

Z = 4.0  # standard errors allowed: a false failure has probability about 6e-5 per check
SEED = 20260413

# A known rule in the fitted family (hold component, no shift), one value per group.
TRUE_A = (2.7, 3.5, 2.5)
TRUE_B = (0.3, 0.8, 0.5)
TRUE_H0 = (-1.3, -1.9, -2.2)
TRUE = {"tau": 0.7, "sigma": 0.5, "h1": -0.9, "hold_sd": 1.0}


def synthetic(rng: np.random.Generator, missions: int, per_mission: int = 3,
              censor_at: float | None = None) -> Data:
    """Snapshots of `missions` missions drawn from the known rule; with `censor_at`, a slip
    above that many months is only known to exceed it (a pending mission at the data date)."""
    group = np.repeat(np.arange(missions) % len(GROUPS), per_mission)
    mission = np.repeat(np.arange(missions), per_mission)
    lead = rng.uniform(2.0, 100.0, missions * per_mission)
    x = np.log(lead / 12)
    a, b, h0 = (np.array(v)[group] for v in (TRUE_A, TRUE_B, TRUE_H0))
    u = rng.normal(0, TRUE["tau"], missions)[mission]
    late = np.exp(a + b * x + u + rng.normal(0, TRUE["sigma"], x.size))
    hold = rng.normal(0, TRUE["hold_sd"], x.size)
    holds = rng.random(x.size) < special.expit(h0 + TRUE["h1"] * x)
    y = np.where(holds, hold, late)
    censored = np.zeros(x.size, dtype=bool)
    if censor_at is not None:
        censored = y > censor_at
        y = np.where(censored, censor_at, y)
    return Data(group, x, y, censored, mission, missions)


SPEC = ModelSpec(hold=True, shift=False, omega=10.0)  # omega large: no pooling bias here


def _check_recovery(data: Data) -> None:
    result = fit(data, SPEC)
    se = result.stderr
    theta = dict(zip(["a0", "b0"] + [f"da_{g}" for g in GROUPS] + [f"db_{g}" for g in GROUPS]
                     + ["log_tau", "log_sigma", "h0", "h1", "log_hold_sd"]
                     + [f"dh_{g}" for g in GROUPS], result.theta, strict=True))
    p = result.params
    # Group values are sums of two parameters: their standard errors come from the covariance.
    for i, g in enumerate(GROUPS):
        va, _, vb = p.cov_ab[i]
        assert abs(p.a[i] - TRUE_A[i]) < Z * math.sqrt(va), (g, p.a[i])
        assert abs(p.b[i] - TRUE_B[i]) < Z * math.sqrt(vb), (g, p.b[i])
    assert abs(theta["log_tau"] - math.log(TRUE["tau"])) < Z * se["log_tau"]
    assert abs(theta["log_sigma"] - math.log(TRUE["sigma"])) < Z * se["log_sigma"]
    assert abs(theta["h1"] - TRUE["h1"]) < Z * se["h1"]
    assert abs(theta["log_hold_sd"] - math.log(TRUE["hold_sd"])) < Z * se["log_hold_sd"]


def test_fit_recovers_known_parameters() -> None:
    _check_recovery(synthetic(np.random.default_rng(SEED), missions=240))


def test_fit_with_censored_missions_stays_unbiased() -> None:
    data = synthetic(np.random.default_rng(SEED + 1), missions=240, censor_at=30.0)
    assert 0.15 < data.censored.mean() < 0.6  # the censoring really bites
    _check_recovery(data)


def test_ignoring_the_censoring_would_be_biased() -> None:
    """The same data with censored slips taken as exact: the growth rate comes out too low, so
    the recovery test above has the power to see a wrong likelihood."""
    data = synthetic(np.random.default_rng(SEED + 1), missions=240, censor_at=30.0)
    naive = replace(data, censored=np.zeros_like(data.censored))
    p = fit(naive, SPEC).params
    i = GROUPS.index("russia")
    assert TRUE_B[i] - p.b[i] > Z * math.sqrt(p.cov_ab[i][2])


# -- PIT ---------------------------------------------------------------------------------------


def rule(**changes: float) -> CalibratedSlip:
    base = CalibratedSlip("china", 24.0, 2.7, 0.3, (0.0, 0.0, 0.0), 0.7, 0.5, 0.5, -1.3, -0.9,
                          1.0)
    return replace(base, **changes)


def test_correct_rule_gives_uniform_pit() -> None:
    r = rule()
    draws = r.sample_months(np.random.default_rng(SEED), 4000)
    pit = r.cdf_months(draws)
    assert stats.kstest(pit, "uniform").pvalue > 0.001
    inside = np.mean((pit > 0.1) & (pit < 0.9))
    assert abs(inside - 0.8) < Z * math.sqrt(0.8 * 0.2 / pit.size)


def test_too_narrow_rule_is_detected() -> None:
    truth, narrow = rule(), rule(tau=0.35, sigma=0.25)
    draws = truth.sample_months(np.random.default_rng(SEED), 4000)
    pit = narrow.cdf_months(draws)
    assert stats.kstest(pit, "uniform").pvalue < 1e-6
    inside = np.mean((pit > 0.1) & (pit < 0.9))
    assert inside < 0.8 - Z * math.sqrt(0.8 * 0.2 / pit.size)
    # The narrowed late part misses high slips (its lower tail is partly the hold component's).
    assert np.mean(pit > 0.9) > 0.1 + Z * math.sqrt(0.1 * 0.9 / pit.size)


# -- closed forms of the calibrated slip -----------------------------------------------------


def test_late_only_rule_equals_the_hand_formula() -> None:
    """No hold component, no parameter uncertainty: ln(slip + c) ~ N(a + b ln(L/12), v)."""
    r = rule(hold_h0=-math.inf, shift=0.0, lead_months=38.6)
    mu = 2.7 + 0.3 * math.log(38.6 / 12)
    s = math.hypot(0.7, 0.5)
    for q in (0.1, 0.5, 0.9):
        assert r.ppf_months(q)[0] == pytest.approx(math.exp(mu + s * stats.norm.ppf(q)),
                                                   rel=1e-7)
    assert r.mean == pytest.approx(math.exp(mu + s * s / 2), rel=1e-9)
    draws = r.sample_months(np.random.default_rng(SEED), 100_000)
    assert abs(np.log(draws).mean() - mu) < Z * s / math.sqrt(draws.size)


def test_parameter_uncertainty_widens_with_distance_from_the_data() -> None:
    near = rule(var_ab=(0.04, -0.01, 0.02), lead_months=12.0)
    far = rule(var_ab=(0.04, -0.01, 0.02), lead_months=240.0)
    assert near.scale == pytest.approx(math.sqrt(0.7**2 + 0.5**2 + 0.04))
    x = math.log(20)
    assert far.scale == pytest.approx(math.sqrt(0.7**2 + 0.5**2 + 0.04 - 0.02 * x + 0.02 * x * x))


@pytest.mark.parametrize("floor", [-3.0, 0.0, 6.0, 40.0])
def test_overdue_conditioning_matches_the_truncated_distribution(floor: float) -> None:
    """Given slip > floor, quantiles and draws follow the truncated mixture:
    F(s | s > f) = (F(s) - F(f)) / (1 - F(f))."""
    free, cond = rule(), rule(floor_months=floor)
    tail = 1 - float(free.cdf_months(floor))
    for q in (0.05, 0.5, 0.95):
        s = cond.ppf_months(q)[0]
        assert s > floor
        assert (float(free.cdf_months(s)) - (1 - tail)) / tail == pytest.approx(q, abs=1e-7)
    draws = cond.sample_months(np.random.default_rng(SEED), 20_000)
    assert draws.min() > floor
    assert stats.kstest(cond.cdf_months(draws), "uniform").pvalue > 0.001
    # The analytic mean of the truncated mixture against the draws' mean.
    assert abs(draws.mean() - cond.mean) < Z * draws.std() / math.sqrt(draws.size)


def test_late_component_conditioning_closed_form() -> None:
    """Lognormal late part alone: the q-quantile given slip > f is
    exp(mu + s * Phi^-1(Phi(z0) + q (1 - Phi(z0)))) - c with z0 = (ln(f + c) - mu) / s."""
    r = rule(hold_h0=-math.inf, floor_months=20.0)
    z0 = (math.log(20.0 + r.shift) - r.mu) / r.scale
    for q in (0.1, 0.5, 0.9):
        expected = math.exp(r.mu + r.scale * stats.norm.ppf(
            stats.norm.cdf(z0) + q * stats.norm.sf(z0))) - r.shift
        assert r.ppf_months(q)[0] == pytest.approx(expected, rel=1e-7)


def rules_with(a: float = 2.7, b: float = 0.3) -> SlipRules:
    g = GroupRule(a, b, (0.0, 0.0, 0.0), 8, 6, 15, (2.0, 120.0), -math.inf)
    return SlipRules({"china": g}, tau=0.7, sigma=0.5, shift=0.0, hold=False, hold_h1=0.0,
                     hold_sd=1.0)


def test_rules_unit_conversion() -> None:
    in_days = rules_with().slip("china", 24.0, unit_months=12 / 365.25)
    in_months = rules_with().slip("china", 24.0)
    assert in_days.mean == pytest.approx(in_months.mean * 365.25 / 12)


def test_the_slips_normal_tails_are_scipys_value_for_value() -> None:
    """The calibrated slip draws with 0 - ndtri(q) and works out its tails, density and mean
    with ndtr and its own normal density (scipy.stats' per-call overhead cost more than a
    block of draws, and importing it half the start-up of a command); they must give
    scipy.stats.norm's isf, sf, cdf and pdf bit for bit, the sign of zero included, so a
    draw or a figure is the same whichever is used."""
    from sim.calibration.slip import _norm_cdf, _norm_pdf, _norm_sf

    rng = np.random.default_rng(SEED)
    edges = [0.0, 1.0, 0.5, np.nextafter(0, 1), np.nextafter(1, 0), 1e-300]
    q = np.concatenate([rng.random(100_000), edges])
    got, want = 0.0 - special.ndtri(q), stats.norm.isf(q)
    assert np.array_equal(got, want)
    assert np.array_equal(np.signbit(got), np.signbit(want))  # +0.0 at q = 1/2
    x = np.concatenate([rng.normal(0, 5, 100_000), [0.0, -0.0, np.inf, -np.inf, np.nan, 40.0]])
    for mine, scipys in ((_norm_sf, stats.norm.sf), (_norm_cdf, stats.norm.cdf),
                         (_norm_pdf, stats.norm.pdf)):
        got, want = mine(x), scipys(x)
        assert np.array_equal(got, want, equal_nan=True), mine
        assert np.array_equal(np.signbit(got), np.signbit(want)), mine
        for value in x[-6:]:  # one number at a time, as the analytic mean calls them
            assert np.array_equal(mine(value), scipys(value), equal_nan=True), (mine, value)
