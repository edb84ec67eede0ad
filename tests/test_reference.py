"""Monte Carlo against closed forms: the scenarios in scenarios/reference/.

Each scenario file derives its exact answer in a comment; these tests run it at a fixed seed and
compare. Every statistical tolerance is Z standard errors computed from the number of trials and
the *analytic* variance, never a hand-picked constant: a correct engine fails one such check with
probability about 6e-5 (and, the seed being fixed, either always or never), while an engine that
is wrong by a few standard errors fails it. Each test says which mistakes it is sized to catch.
Outcomes that the closed form makes impossible (a finish time off the lattice, a cancelled
activity's successor finishing) are checked exactly.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pytest

import sim
from sim import load_scenario

REFERENCE = Path(__file__).resolve().parent.parent / "scenarios" / "reference"
Z = 4.0  # standard errors allowed on each statistical check
SEED = 20_301
# Trials per scenario: these tiny scenarios run at ~20,000 trials/s, so 40,000 each keeps the file
# near 30 s while putting every probability within about one percentage point.
N = 40_000


@functools.cache
def results(name: str) -> sim.Results:
    """Run one reference scenario (N trials, fixed seed), once per session."""
    return sim.run(load_scenario(REFERENCE / name), trials=N, seed=SEED, workers=1)


# --- checks with n-derived tolerances ----------------------------------------------------------


def assert_share(hits: np.ndarray, p: float, what: str) -> None:
    """The share of True in `hits` is p within Z binomial standard errors (exact if p is 0, 1)."""
    n = hits.size
    tol = Z * math.sqrt(p * (1 - p) / n)
    observed = float(np.mean(hits))
    assert abs(observed - p) <= tol, (
        f"{what}: observed {observed:.5f}, exact {p:.5f}, tol {tol:.5f}"
    )


def assert_mean(values: np.ndarray, mean: float, variance: float, what: str) -> None:
    """The sample mean is `mean` within Z standard errors of the analytic variance."""
    tol = Z * math.sqrt(variance / values.size)
    observed = float(np.mean(values))
    assert abs(observed - mean) <= tol, (
        f"{what}: observed {observed:.4f}, exact {mean:.4f}, tol {tol:.4f}"
    )


def assert_cdf(
    times: np.ndarray, cdf: Callable[[float], float], xs: Sequence[float], what: str
) -> None:
    for x in xs:
        assert_share(times <= x, cdf(x), f"{what}: P(T <= {x})")


def uniform_cdf(x: float, low: float, high: float) -> float:
    return min(max((x - low) / (high - low), 0.0), 1.0)


def normal_cdf(z: float) -> float:
    return 0.5 * (1 + math.erf(z / math.sqrt(2)))


def normal_quantile(q: float) -> float:
    """Inverse of normal_cdf by bisection (no scipy in the dependencies)."""
    lo, hi = -10.0, 10.0
    for _ in range(100):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if normal_cdf(mid) < q else (lo, mid)
    return (lo + hi) / 2


def binomial_pmf(j: int, n: int, p: float) -> float:
    return math.comb(n, j) * p**j * (1 - p) ** (n - j)


def check_met_alignment(res: sim.Results, name: str, day: int) -> None:
    """`met` is exactly floor(goal time) <= deadline day, and `probability` is its share."""
    scenario = load_scenario(REFERENCE / name)
    assert (scenario.goal.deadline - scenario.as_of).days == day, "comment and file disagree"
    np.testing.assert_array_equal(res.met, np.floor(res.goal_days) <= day)
    assert res.probability == pytest.approx(float(np.mean(res.met)), abs=1e-12)


# --- (a) binomial chain --------------------------------------------------------------------------


def test_binomial_chain() -> None:
    # tol on P(met) = 4*sqrt(.837*.163/40000) = 0.0074. Catches: risks drawn with p = 0.25 instead
    # of 0.3 (P = 0.897), one shared draw for all five risks (T = 50 or 75 only, P = 0.7), a
    # deadline one day short (P = 0.528), a delay that also hits later attempts or successors.
    p, k = 0.3, 5
    res = results("binomial_chain.yaml")
    goal = res.goal_days
    lattice = 50.0 + 5.0 * np.arange(k + 1)
    assert np.isin(goal, lattice).all(), (
        f"goal times off the lattice 50 + 5j: {np.unique(goal)[:10]}"
    )
    for j, t in enumerate(lattice):
        assert_share(goal == t, binomial_pmf(j, k, p), f"P(T = {t:g})")
    assert_mean(goal, 50 + 5 * k * p, 25 * k * p * (1 - p), "E[T]")
    check_met_alignment(res, "binomial_chain.yaml", 60)
    assert_share(res.met, sum(binomial_pmf(j, k, p) for j in range(3)), "P(met)")
    # The first link alone: 10 or 15 days.
    assert np.isin(res.finish("a1"), [10.0, 15.0]).all()
    assert_share(res.finish("a1") == 15.0, p, "P(a1 delayed)")


# --- (b) maximum of uniforms ---------------------------------------------------------------------

MAX_PARTS = {"a": (0.0, 30.0), "b": (10.0, 40.0), "c": (20.0, 50.0)}


def max_cdf(x: float) -> float:
    return math.prod(uniform_cdf(x, lo, hi) for lo, hi in MAX_PARTS.values())


def moments_from_cdf(cdf: Callable[[float], float], upper: float) -> tuple[float, float]:
    """Mean and variance of a non-negative variable bounded by `upper`, from its CDF.

    E[T] = int (1 - F), E[T^2] = int 2x (1 - F); the integrands are piecewise polynomials, so a
    fine trapezoid rule is exact to ~1e-5, far below the Monte Carlo error.
    """
    x = np.linspace(0.0, upper, 20_001)
    tail = 1.0 - np.array([cdf(v) for v in x])
    mean = float(np.trapezoid(tail, x))
    second = float(np.trapezoid(2 * x * tail, x))
    return mean, second - mean**2


def test_max_of_uniforms() -> None:
    # tol on P(met) = 4*sqrt(.462*.538/40000) = 0.010. Catches: the three durations drawn from one
    # shared uniform (P(met) = 16/30 = 0.533), `all` taken as the mean or the last-listed part,
    # uniform bounds read as [low, low + high] (P(met) = 0.208).
    res = results("max_of_uniforms.yaml")
    goal = res.goal_days
    cols = np.column_stack([res.finish(a) for a in MAX_PARTS])
    np.testing.assert_array_equal(goal, cols.max(axis=1))
    for aid, (lo, hi) in MAX_PARTS.items():
        part_cdf = functools.partial(uniform_cdf, low=lo, high=hi)
        assert_cdf(res.finish(aid), part_cdf, [lo + 5, (lo + hi) / 2, hi - 5], aid)
    assert_cdf(goal, max_cdf, [22, 28, 34, 40, 46], "max")
    mean, var = moments_from_cdf(max_cdf, 50.0)
    assert_mean(goal, mean, var, "E[max]")
    check_met_alignment(res, "max_of_uniforms.yaml", 35)
    assert_share(res.met, 416 / 900, "P(met)")


# --- (c) any of two uniforms ---------------------------------------------------------------------


def min_cdf(x: float) -> float:
    return 1 - (1 - uniform_cdf(x, 0, 20)) * (1 - uniform_cdf(x, 10, 40))


def test_any_of_uniforms() -> None:
    # tol on P(met) = 4*sqrt(.792*.208/40000) = 0.0081. Catches: `any` taken as `all`
    # (P(met) = 0.75 * 1/6 = 0.125), either part ignored (0.75 or 0.167), the parts correlated.
    res = results("any_of_uniforms.yaml")
    goal = res.goal_days
    np.testing.assert_array_equal(goal, np.minimum(res.finish("a"), res.finish("b")))
    assert_cdf(goal, min_cdf, [5, 10, 12, 15, 18], "min")
    mean, var = moments_from_cdf(min_cdf, 40.0)
    assert_mean(goal, mean, var, "E[min]")
    check_met_alignment(res, "any_of_uniforms.yaml", 14)
    assert_share(res.met, 1 - 0.25 * 5 / 6, "P(met)")


# --- (d) at_least 3 of 5 -------------------------------------------------------------------------


def order_statistic_cdf(x: float, k: int = 3, n: int = 5, width: float = 50.0) -> float:
    f = uniform_cdf(x, 0.0, width)
    return sum(binomial_pmf(j, n, f) for j in range(k, n + 1))


def test_at_least_order_statistic() -> None:
    # tol on P(met) = 4*sqrt(.317*.683/40000) = 0.0093; on E[T] = 4*sqrt(89.3/40000) = 0.19 days.
    # Catches: the 2nd or 4th earliest taken instead of the 3rd (P(met) = 0.663 or 0.087,
    # E[T] = 16.7 or 33.3), at_least treated as all or any.
    ids = ["u1", "u2", "u3", "u4", "u5"]
    res = results("at_least_order_statistic.yaml")
    goal = res.goal_days
    third = np.sort(np.column_stack([res.finish(a) for a in ids]), axis=1)[:, 2]
    np.testing.assert_array_equal(goal, third)
    assert_cdf(goal, order_statistic_cdf, [10, 20, 25, 30, 40], "X(3)")
    assert_mean(goal, 25.0, 50**2 * 9 / (36 * 7), "E[X(3)]")
    check_met_alignment(res, "at_least_order_statistic.yaml", 19)
    assert_share(res.met, 0.31744, "P(met)")


# --- (e) launch with reflights -------------------------------------------------------------------


def test_reflights_geometric() -> None:
    # tol on P(met) = 4*sqrt(.84*.16/40000) = 0.0073, on P(never) = 0.0049. Catches: a reliability
    # read as a failure rate (P(met) = 0.64), attempts counting retries only (P(never) = 0.026),
    # the stand-down added to the rebuild (finish times off the lattice), `success` ignored for a
    # plain activity (qual always finishing at day 20).
    r = 0.6
    res = results("reflights_geometric.yaml")
    probe, attempts = res.finish("probe"), res.attempts[:, 0]
    assert np.isin(probe, [5.0, 35.0, 65.0, np.inf]).all(), (
        f"probe off the lattice: {np.unique(probe)}"
    )
    for j, t in enumerate([5.0, 35.0, 65.0]):
        assert_share(probe == t, (1 - r) ** j * r, f"P(probe finishes at {t:g})")
        # The attempt count is exact, trial by trial.
        assert (attempts[probe == t] == j + 1).all()
    assert_share(np.isinf(probe), (1 - r) ** 3, "P(probe never)")
    assert (attempts[np.isinf(probe)] == 3).all()
    assert res.p_never == pytest.approx(float(np.mean(np.isinf(res.goal_days))), abs=1e-12)
    check_met_alignment(res, "reflights_geometric.yaml", 40)
    assert_share(res.met, 1 - (1 - r) ** 2, "P(met)")

    qual, qual_attempts = res.finish("qual"), res.attempts[:, 1]
    lattice = [20.0, 50.0, 80.0, 110.0]
    assert np.isin(qual, [*lattice, np.inf]).all(), f"qual off the lattice: {np.unique(qual)}"
    for j, t in enumerate(lattice):
        assert_share(qual == t, 0.5 ** (j + 1), f"P(qual finishes at {t:g})")
        assert (qual_attempts[qual == t] == j + 1).all()
    assert_share(np.isinf(qual), 0.5**4, "P(qual never)")


# --- (f) shared factor ---------------------------------------------------------------------------


def test_shared_factor() -> None:
    # tol on P(met) = 4*sqrt(.3125*.6875/40000) = 0.0093. The answer if the factor were drawn per
    # activity (independent) is 0.25, 0.0625 away: 6.7 tolerances. The exact checks catch a factor
    # missing from lags (c - a = 5 always) or applied to risk delays (d = 27).
    res = results("shared_factor.yaml")
    a, b, c, d = (res.finish(x) for x in "abcd")
    check_met_alignment(res, "shared_factor.yaml", 14)
    assert_share(res.met, 0.5 * 0.75**2 + 0.5 * 0.25**2, "P(met)")
    # Each marginal: a mixture of U[0, 20] and U[0, 60].
    for name, col in (("a", a), ("b", b)):
        assert_share(col < 15, 0.5 * 0.75 + 0.5 * 0.25, f"P({name} < 15)")
    # The factor draw, read two ways, is the same draw.
    lag = c - a
    slow_by_lag = np.isclose(lag, 15.0)
    assert (slow_by_lag | np.isclose(lag, 5.0)).all(), (
        f"c - a not in {{5, 15}}: {np.unique(lag)[:10]}"
    )
    assert np.isin(d, [9.0, 13.0]).all(), (
        f"d not in {{9, 13}} (risk delays must not be scaled): {np.unique(d)}"
    )
    np.testing.assert_array_equal(d == 13.0, slow_by_lag)
    assert_share(slow_by_lag, 0.5, "P(pace = 3)")
    # Given the factor, a is uniform on [0, 20 * pace].
    assert_mean(a[~slow_by_lag], 10.0, 20**2 / 12, "E[a | pace = 1]")
    assert_mean(a[slow_by_lag], 30.0, 60**2 / 12, "E[a | pace = 3]")


# --- (g) triangular and PERT ---------------------------------------------------------------------


def triangular_cdf(x: float, low: float = 10, mode: float = 20, high: float = 60) -> float:
    if x <= low:
        return 0.0
    if x <= mode:
        return (x - low) ** 2 / ((high - low) * (mode - low))
    if x < high:
        return 1 - (high - x) ** 2 / ((high - low) * (high - mode))
    return 1.0


def pert_cdf_table(low: float = 10, mode: float = 20, high: float = 60) -> Callable[[float], float]:
    """CDF of Beta-PERT (shape 4) by integrating the Beta density on a fine grid."""
    width = high - low
    alpha, beta = 1 + 4 * (mode - low) / width, 1 + 4 * (high - mode) / width
    u = np.linspace(0.0, 1.0, 400_001)
    density = u ** (alpha - 1) * (1 - u) ** (beta - 1)
    cumulative = np.concatenate([[0.0], np.cumsum((density[1:] + density[:-1]) / 2 * np.diff(u))])
    cumulative /= cumulative[-1]
    return lambda x: float(np.interp((x - low) / width, u, cumulative))


def test_triangular_and_pert() -> None:
    # tol on E[tri] = 4*sqrt(116.7/40000) = 0.22 days, on E[pert] = 4*sqrt(75/40000) = 0.17 days.
    # Catches: PERT drawn with another shape (shape 6: mean 23.75) or as a triangular (mean 30), a
    # triangular drawn as a uniform on [low, high] (mean 35, F(30) = 0.4 instead of 0.55) or with
    # its mode misplaced (mode 35: F(30) = 0.32).
    res = results("triangular_pert.yaml")
    tri, pert = res.finish("tri"), res.finish("pert")
    assert tri.min() >= 10 and tri.max() <= 60 and pert.min() >= 10 and pert.max() <= 60
    assert_cdf(tri, triangular_cdf, [15, 20, 25, 30, 40, 50], "triangular")
    assert_mean(tri, 30.0, 2100 / 18, "E[triangular]")
    pert_cdf = pert_cdf_table()
    assert_cdf(pert, pert_cdf, [15, 20, 25, 30, 40], "PERT")
    assert_mean(pert, 25.0, 75.0, "E[PERT]")
    check_met_alignment(res, "triangular_pert.yaml", 29)
    assert_share(res.met, 0.55, "P(met)")


# --- (h) yearly hazard that cancels --------------------------------------------------------------


def test_annual_hazard_cancel() -> None:
    # tol on P(met) = 4*sqrt(.2401*.7599/40000) = 0.0085. Catches: h used as a plain rate per year
    # (P = exp(-1.2) = 0.301), the hazard clock in months or days instead of years (P ~ 0), the
    # occurrence drawn separately for each cancelled activity (P(b finishes, a not) would be
    # 0.49 * 0.7599 = 0.372, not 0.2499), a cancelled activity's successor finishing (exact check).
    keep = 0.7
    res = results("annual_hazard_cancel.yaml")
    a, b, c = res.finish("a"), res.finish("b"), res.finish("c")
    assert np.isin(a, [1461.0, np.inf]).all() and np.isin(b, [730.5, np.inf]).all()
    assert np.isin(c, [1471.0, np.inf]).all()
    np.testing.assert_array_equal(np.isinf(c), np.isinf(a))
    assert not (np.isfinite(a) & np.isinf(b)).any(), (
        "a survived a risk that b, finishing earlier, did not"
    )
    assert_share(np.isfinite(a), keep**4, "P(a finishes)")
    assert_share(np.isfinite(b), keep**2, "P(b finishes)")
    assert_share(np.isfinite(b) & np.isinf(a), keep**2 - keep**4, "P(b finishes, a cancelled)")
    check_met_alignment(res, "annual_hazard_cancel.yaml", 1500)
    assert_share(res.met, keep**4, "P(met)")


# --- (i) lognormal slip --------------------------------------------------------------------------

SIGMA = math.log(60 / 20) / 1.2815515655446004


def slip_cdf(x: float) -> float:
    """CDF of the landing time T = 10 + S, S ~ lognormal(median 20, p90 60)."""
    return normal_cdf(math.log((x - 10) / 20) / SIGMA) if x > 10 else 0.0


def test_lognormal_slip() -> None:
    # tol on P(met) = 4*sqrt(.682*.318/40000) = 0.0093; on the mean of ln S = 4*sigma/200 = 0.017,
    # i.e. a 1.7% error in the median; on the variance of ln S, 4*sigma^2*sqrt(2/n) = 0.021 on 0.735
    # (a 1.4% error in sigma).
    # Catches: p90 read as p95 (sigma^2 = 0.446), the slip added to as_of instead of planned
    # (every T 10 days early), slip in months instead of days.
    res = results("lognormal_slip.yaml")
    t = res.goal_days
    assert t.min() > 10.0
    log_slip = np.log(t - 10.0)
    assert_mean(log_slip, math.log(20), SIGMA**2, "E[ln S]")
    assert_mean((log_slip - math.log(20)) ** 2, SIGMA**2, 2 * SIGMA**4, "Var[ln S]")
    assert_cdf(t, slip_cdf, [20, 30, 40, 70, 100], "T")
    check_met_alignment(res, "lognormal_slip.yaml", 39)
    assert_share(res.met, slip_cdf(40.0), "P(met)")

    # Reported percentiles: the earliest date by which a share q of trials are done. The empirical
    # q-quantile lies between the exact (q - d)- and (q + d)-quantiles, d = Z binomial errors.
    as_of = date(2030, 1, 1)
    for key, q in (("p10", 0.1), ("p50", 0.5), ("p80", 0.8), ("p90", 0.9)):
        d = Z * math.sqrt(q * (1 - q) / N) + 1 / N
        lo, hi = (10 + 20 * math.exp(SIGMA * normal_quantile(v)) for v in (q - d, q + d))
        reported = res.percentiles[key]
        assert reported is not None, f"{key} missing although every trial finishes"
        assert (
            as_of + timedelta(days=math.floor(lo))
            <= reported
            <= as_of + timedelta(days=math.floor(hi))
        ), f"{key}: {reported}, expected between day {lo:.2f} and day {hi:.2f}"
        # ... and it is exactly the earliest such day of this sample.
        day = (reported - as_of).days
        done_by = np.floor(t)
        assert np.sum(done_by <= day) >= q * N - 1e-6 > np.sum(done_by <= day - 1), key

    # Reported dates are the calendar day the time falls in.
    frame = res.to_frame()
    expected_dates = np.datetime64(as_of) + np.floor(t).astype("int64").astype("timedelta64[D]")
    np.testing.assert_array_equal(frame["goal"].to_numpy().astype("datetime64[D]"), expected_dates)
