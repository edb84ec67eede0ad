"""Analysis functions on scenarios whose answers are known in advance.

Statistical checks use a tolerance derived from the number of trials (a binomial standard
error), at fixed seeds, so they fail only for a real change.
"""

from __future__ import annotations

import dataclasses
import math
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest
from conftest import dedent

from sim import parse_scenario, run
from sim.analysis import (
    BREAKDOWN_PARTS,
    activity_stats,
    breakdown_summary,
    compare,
    convergence,
    criticality,
    delay_breakdown,
    goal_distribution,
    risk_drivers,
    sensitivity,
)
from sim.blocks import floor32
from sim.distributions import Fixed, LogNormal, Triangular, Uniform
from sim.drivers import _delta_days
from sim.model import (
    Activity,
    AllOf,
    AnyOf,
    AtLeast,
    Dependency,
    Factor,
    Goal,
    OnFailure,
    Risk,
    Scenario,
    Vehicle,
    Window,
)
from sim.sampling import BLOCK_SIZE

AS_OF = date(2030, 1, 1)


def day(n: int) -> date:
    return AS_OF + timedelta(days=n)


def act(aid: str, duration: object = 0, after: tuple = (), **kw) -> Activity:
    deps = tuple(d if isinstance(d, Dependency) else Dependency(d) for d in after)
    dist = duration if not isinstance(duration, int | float) else Fixed(duration)
    return Activity(aid, aid.upper(), after=deps, duration=dist, **kw)


def scenario(*activities: Activity, requires=None, deadline: int = 60, **kw) -> Scenario:
    requires = requires or AllOf(tuple(a.id for a in activities))
    return Scenario(
        title="tiny", as_of=AS_OF, activities=activities, time_unit="days",
        goal=Goal("goal", day(deadline), requires), **kw,
    )


def binomial_tolerance(p: float, n: int, z: float = 4.0) -> float:
    return z * math.sqrt(p * (1 - p) / n)


# -- criticality ------------------------------------------------------------------------------
def test_every_activity_of_a_pure_chain_is_critical():
    s = scenario(
        act("a", Uniform(5, 15), planned=day(3), slip=Triangular(0, 2, 10)),
        act("b", Uniform(5, 15), after=[Dependency("a", Uniform(0, 4))]),
        act("c", Uniform(5, 15), after=["b"]),
        act("side", 1),  # finishes at day 1, long before c: never drives
        requires=AllOf(("c", "side")),
    )
    crit = criticality(run(s, trials=1000, seed=3, workers=1))
    assert crit.to_dict() == {"a": 1.0, "b": 1.0, "c": 1.0, "side": 0.0}
    assert crit.attrs == {"trials_counted": 1000, "p_never": 0.0}


def test_identical_independent_branches_split_half_and_half():
    n = 4000
    s = scenario(
        act("a1", Uniform(10, 20)), act("a2", Uniform(10, 20), after=["a1"]),
        act("b1", Uniform(10, 20)), act("b2", Uniform(10, 20), after=["b1"]),
        requires=AllOf(("a2", "b2")),
    )
    crit = criticality(run(s, trials=n, seed=7, workers=1))
    # Each trial has exactly one driving branch, and a branch is critical as a whole.
    assert crit["a1"] == crit["a2"] and crit["b1"] == crit["b2"]
    assert crit["a2"] + crit["b2"] == pytest.approx(1.0, abs=1e-12)
    assert abs(crit["a2"] - 0.5) <= binomial_tolerance(0.5, n)


@pytest.mark.parametrize(
    ("durations", "requires", "critical"),
    [
        ({"a": 5, "b": 5}, AllOf(("a", "b")), "a"),  # a tie goes to the first part
        ({"a": 5, "b": 10}, AnyOf(("a", "b")), "a"),  # any: the earliest
        ({"a": 1, "b": 3, "c": 2}, AtLeast(2, ("a", "b", "c")), "c"),  # the 2nd earliest
        ({"a": 1, "b": 2, "c": 2}, AtLeast(2, ("a", "b", "c")), "b"),  # tie at the k-th: first
        ({"a": 5, "b": 10, "c": 3}, AllOf((AnyOf(("a", "b")), "c")), "a"),  # nested
    ],
)
def test_driving_part_of_combined_requirements(durations, requires, critical):
    s = scenario(*(act(k, v) for k, v in durations.items()), requires=requires)
    crit = criticality(run(s, trials=5, seed=0, workers=1))
    assert crit.to_dict() == {k: float(k == critical) for k in durations}


def test_trials_that_never_meet_the_goal_are_left_out():
    s = scenario(
        act("a", Uniform(1, 2)), act("b", 1, after=["a"]),
        risks=(Risk("kill", "Kill", probability=0.3, cancels=("b",)),),
    )
    res = run(s, trials=2000, seed=5, workers=1, keep_ready=True)
    crit = criticality(res)
    assert crit.to_dict() == {"a": 1.0, "b": 1.0}
    assert crit.attrs["p_never"] == res.p_never
    assert abs(res.p_never - 0.3) <= binomial_tolerance(0.3, 2000)
    assert crit.attrs["trials_counted"] == int(np.isfinite(res.goal_days).sum())
    parts = delay_breakdown(res)
    never = np.isinf(res.goal_days)
    assert parts.loc[never, list(BREAKDOWN_PARTS)].isna().all().all()
    assert parts.loc[~never, list(BREAKDOWN_PARTS)].notna().all().all()


# -- delay breakdown --------------------------------------------------------------------------
def test_breakdown_parts_sum_to_the_goal_time():
    """Every mechanism at once: planned + slip, lags, a risk delay, factors, plain failures and
    rebuilds, unreliable vehicles with stand-downs, a queue and a window."""
    s = scenario(
        act("design", Uniform(20, 60), planned=day(10), slip=LogNormal(5, 20), factors=("pace",)),
        act("build", Triangular(30, 40, 80), after=[Dependency("design", Uniform(0, 10))],
            success=0.8, on_failure=OnFailure(3, Uniform(10, 30)), factors=("pace",)),
        act("rival", 2, vehicles=("lv",), planned=day(60), slip=Uniform(0, 60)),
        act("launch", Uniform(3, 5), after=["build"], vehicles=("lv",),
            window=Window(25, day(0)), on_failure=OnFailure(2, Fixed(40))),
        factors=(Factor("pace", LogNormal(1.0, 1.3)),),
        vehicles=(Vehicle("lv", "LV", reliability=0.8, min_interval=30, stand_down=Fixed(20)),),
        risks=(Risk("late", "Late", probability=0.4, delay=Uniform(10, 30),
                    applies_to=("build",)),),
        requires="launch", deadline=200,
    )
    res = run(s, trials=2000, seed=11, workers=1, keep_ready=True)
    parts = delay_breakdown(res)
    met = np.isfinite(parts["goal"].to_numpy())
    assert met.mean() > 0.9
    total = parts.loc[met, list(BREAKDOWN_PARTS)].sum(axis=1).to_numpy()
    goal = parts.loc[met, "goal"].to_numpy()
    # The parts are computed from times rounded down to float32; along the path they telescope
    # exactly.
    assert (total == floor32(goal)).all()
    np.testing.assert_allclose(total, goal, rtol=2.0**-23)  # under one float32 step below
    assert (total <= goal).all()
    means = parts.loc[met, list(BREAKDOWN_PARTS)].mean()
    assert (means > 0).all(), means  # the scenario exercises every kind of time
    assert (parts.loc[met, ["failures_and_rebuilds", "vehicle_and_window_waits", "work"]]
            >= -1e-3).all().all()  # float32 times: rounding only

    summary = breakdown_summary(parts)
    assert list(summary.index) == list(BREAKDOWN_PARTS)
    assert summary["variance_share"].sum() == pytest.approx(1.0, abs=1e-9)
    # The parts add up to the goal time rounded down to float32: less than one float32 step
    # (at the largest goal time) below it.
    step = float(np.spacing(np.float32(goal.max())))
    assert summary["mean_days"].sum() == pytest.approx(goal.mean() - step / 2, abs=step / 2)


def test_only_random_work_explains_all_the_spread():
    s = scenario(act("a", Uniform(5, 15)), act("b", Uniform(5, 15), after=["a"]), requires="b")
    summary = breakdown_summary(delay_breakdown(run(s, trials=500, seed=2, workers=1,
                                                        keep_ready=True)))
    assert summary["variance_share"].to_dict() == pytest.approx(
        {"planned": 0, "slips_and_lags": 0, "failures_and_rebuilds": 0,
         "vehicle_and_window_waits": 0, "work": 1}, abs=1e-9)
    assert summary.loc["work", "mean_days"] == pytest.approx(20, abs=0.5)


QUEUE_YAML = """
    scenario: Two launches, one vehicle
    as_of: 2030-01-01
    time_unit: days
    vehicles:
      lv: {name: Launcher, min_interval: 45}
    activities:
      first: {name: First launch, vehicle: lv, duration: 1}
      second: {name: Second launch, vehicle: lv, duration: 1}
      prep: {name: Preparation, planned: 2030-01-11, duration: {uniform: [0, 30]}}
      windowed:
        {name: Windowed, after: [prep], duration: 2, window: {period: 30, anchor: 2030-01-01}}
    goal:
      name: Both launched
      deadline: 2030-03-01
      requires: {all: [second, windowed]}
"""


def test_waiting_for_the_vehicle_and_the_window_is_counted_as_waits():
    s = parse_scenario(dedent(QUEUE_YAML))
    res = run(s, trials=200, seed=4, workers=1, keep_ready=True)
    # second queues behind first (launched at 0) until the vehicle is released at 45, then
    # launches and finishes at 46. windowed: prep (planned day 10) ends in 10-40, windowed
    # waits for day 30 or 60 and ends at 32 or 62, so it drives when prep ends after 30.
    parts = delay_breakdown(res)
    by_second = res.finish("windowed") < res.finish("second")
    queue = parts[by_second]
    assert len(queue) > 0
    assert (queue["vehicle_and_window_waits"] == 45).all() and (queue["work"] == 1).all()
    assert (queue[["planned", "slips_and_lags", "failures_and_rebuilds"]] == 0).all().all()
    window = parts[~by_second]
    prep_end = res.finish("prep")[~by_second]
    assert (window["planned"] == 10).all()
    np.testing.assert_allclose(window["vehicle_and_window_waits"], 60 - prep_end, atol=1e-3)
    np.testing.assert_allclose(window["work"], prep_end - 10 + 2, atol=1e-3)
    crit = criticality(res)
    assert crit["first"] == 0.0  # it holds the vehicle, but the path follows the ready time
    assert crit["second"] + crit["windowed"] == pytest.approx(1.0)


# -- risk drivers and sensitivity -------------------------------------------------------------
def driver_scenario() -> Scenario:
    return scenario(
        act("a", Uniform(10, 30), factors=("pace",)),
        act("b", Uniform(5, 10), after=["a"], vehicles=("lv",), on_failure=OnFailure(2, Fixed(15))),
        act("slack", 1),  # done at day 1, long before b: a delay of 5 days changes nothing
        factors=(Factor("pace", LogNormal(1.0, 1.4)), Factor("unused", Fixed(1.0))),
        vehicles=(Vehicle("lv", "LV", reliability=0.85),),
        risks=(
            Risk("harmless", "Harmless", probability=0.5, delay=Fixed(5), applies_to=("slack",)),
            Risk("impossible", "Impossible", probability=0.0, delay=Fixed(50), applies_to=("a",)),
            Risk("harmful", "Harmful", probability=0.3, delay=Uniform(20, 40), applies_to=("a",)),
        ),
        requires=AllOf(("b", "slack")), deadline=45,
    )


def test_risk_drivers_with_common_random_numbers():
    table = risk_drivers(driver_scenario(), trials=1000, seed=9, workers=1)
    assert list(table.columns) == ["kind", "name", "p_goal_off", "delta_p", "p80_off",
                                   "delta_p80_days"]
    assert table["kind"].to_dict() == {"harmless": "risk", "impossible": "risk",
                                       "harmful": "risk", "pace": "factor", "lv": "vehicle"}
    # No effect is exactly no effect: every other draw is the same with the risk removed.
    for quiet in ("harmless", "impossible"):
        assert table.loc[quiet, "delta_p"] == 0.0
        assert table.loc[quiet, "delta_p80_days"] == 0.0
    assert table.loc["harmful", "delta_p"] > 0 and table.loc["harmful", "delta_p80_days"] < 0
    assert table.loc["lv", "delta_p"] > 0
    p_base = table.attrs["p_base"]
    np.testing.assert_allclose(table["p_goal_off"] - p_base, table["delta_p"], atol=1e-12)
    assert list(table["delta_p"].abs()) == sorted(table["delta_p"].abs(), reverse=True)
    assert table.attrs["seed"] == 9 and table.attrs["trials"] == 1000


def test_p80_deltas_handle_never():
    assert _delta_days(math.inf, math.inf) == 0.0
    assert _delta_days(math.inf, 10.0) == math.inf
    assert _delta_days(10.0, math.inf) == -math.inf
    assert _delta_days(12.0, 10.0) == 2.0


def test_sensitivity_ranks_the_inputs_that_move_the_goal():
    s = scenario(
        act("big", Uniform(0, 100)),
        act("small", Uniform(0, 1), after=["big"]),
        act("fixed", 3, after=["small"]),
        act("scaled", 10, factors=("pace",)),  # fixed duration: only its factor is an input
        factors=(Factor("pace", LogNormal(1.0, 1.2)),),
        risks=(Risk("r", "R", probability=0.5, delay=Fixed(50), applies_to=("big",)),),
        requires="fixed",
    )
    res = run(s, trials=2 * BLOCK_SIZE + 500, seed=6, workers=1)  # 3 blocks, the last cut
    table = sensitivity(res)
    assert list(table.columns) == ["kind", "element", "spearman"]
    assert set(table.index) == {"big.duration", "small.duration", "pace", "r occurs"}
    assert table.index[0] in ("big.duration", "r occurs")
    rho = table["spearman"]
    assert rho["big.duration"] > 0.5 > abs(rho["small.duration"])
    assert table.loc["r occurs", "spearman"] > 0.5
    assert abs(table.loc["pace", "spearman"]) <= 4 / math.sqrt(res.trials)  # not on the path
    assert table.loc["pace", "kind"] == "factor" and table.loc["r occurs", "element"] == "r"


def test_sensitivity_is_exact_for_a_single_input_and_ranks_never_last():
    s = scenario(act("a", Uniform(0, 100)), requires="a")
    table = sensitivity(run(s, trials=1500, seed=1, workers=1))
    assert table.loc["a.duration", "spearman"] == pytest.approx(1.0, abs=1e-12)
    killed = scenario(
        act("a", Uniform(0, 100)), requires="a",
        risks=(Risk("k", "K", probability=0.5, cancels=("a",)),),
    )
    table = sensitivity(run(killed, trials=1500, seed=1, workers=1))
    # Occurring (I = 1, p = 1/2) means never: those trials tie at the top, average rank 3n/4;
    # the others' ranks are uniform on 0..n/2. cov(I, R) = n/8, var R = 7n^2/96, so
    # rho = (n/8) / (1/2 * n * sqrt(7/96)) = 0.926.
    assert table.index[0] == "k occurs"
    assert table.loc["k occurs", "spearman"] == pytest.approx(0.926, abs=0.03)


# -- several runs, convergence, headline ------------------------------------------------------
def test_compare_uses_one_seed_for_every_scenario():
    base = driver_scenario()
    no_risk = dataclasses.replace(base, risks=())
    cmp = compare({"base": base, "same": base, "no risks": no_risk}, trials=800, workers=1)
    assert list(cmp.table.columns) == ["scenario", "probability", "ci_lo", "ci_hi", "p_never",
                                       "p10", "p50", "p70", "p80", "p90", "deadline"]
    assert list(cmp.table["scenario"]) == ["base", "same", "no risks"]
    assert list(cmp.results) == ["base", "same", "no risks"]
    assert {r.seed for r in cmp.results.values()} == {cmp.seed}
    rows = cmp.table.set_index("scenario")
    assert rows.loc["base"].equals(rows.loc["same"])
    # Common random numbers: removing delays can only make each trial earlier.
    base_res, clean = cmp.results["base"], cmp.results["no risks"]
    assert (clean.goal_days <= base_res.goal_days).all()
    assert (clean.met >= base_res.met).all()


@pytest.mark.parametrize("trials", [30, 1234])
def test_convergence_ends_at_the_full_run(trials):
    res = run(driver_scenario(), trials=trials, seed=2, workers=1)
    conv = convergence(res)
    assert list(conv.columns) == ["trials", "probability", "ci_lo", "ci_hi"]
    assert len(conv) <= 50 and (np.diff(conv["trials"]) > 0).all()
    last = conv.iloc[-1]
    assert last["trials"] == trials and last["probability"] == res.probability
    assert (last["ci_lo"], last["ci_hi"]) == res.ci95
    assert ((conv["ci_lo"] <= conv["probability"]) & (conv["probability"] <= conv["ci_hi"])).all()
    with pytest.raises(ValueError):
        convergence(res, points=0)


def test_goal_distribution_and_activity_stats():
    res = run(driver_scenario(), trials=300, seed=1, workers=1)
    g = goal_distribution(res)
    assert g["probability"] == res.probability and g["ci95"] == res.ci95
    assert g["percentiles"] == res.percentiles and g["deadline"] == day(45)
    stats = activity_stats(res)
    assert list(stats.index) == ["a", "b", "slack"]
    assert list(stats.columns) == ["name", "status", "planned", "p10", "p50", "p70", "p80", "p90",
                                   "p_finish_by_deadline", "p_never", "mean_attempts"]
    assert stats.loc["slack", "p10"] == day(1)  # done at day 1 unless the harmless risk hits
    assert stats["planned"].isna().all()
    assert isinstance(stats, pd.DataFrame)


def test_vehicle_prerequisite_is_on_the_driving_path():
    """A launch that waits for its launcher's first flight puts that flight on the path."""
    from sim.analysis import breakdown_summary, criticality, delay_breakdown
    from sim.distributions import Uniform
    from sim.model import Activity, Goal, Scenario, Vehicle

    s = Scenario(
        title="prerequisite", as_of=date(2030, 1, 1), time_unit="days",
        activities=(
            Activity("first_flight", "First flight", duration=Uniform(20, 40)),
            Activity("payload", "Payload", duration=Uniform(0, 10)),
            Activity("launch", "Launch", after=(Dependency("payload"),), vehicles=("lv",),
                     duration=Fixed(2)),
        ),
        vehicles=(Vehicle("lv", "LV", after=("first_flight",)),),
        goal=Goal("g", date(2031, 1, 1), "launch"),
    )
    res = run(s, trials=500, seed=3, workers=1, keep_ready=True)
    crit = criticality(res)
    assert crit["first_flight"] == 1.0 and crit["launch"] == 1.0 and crit["payload"] == 0.0
    parts = delay_breakdown(res)
    assert np.allclose(parts[list(BREAKDOWN_PARTS)].sum(axis=1), parts["goal"], atol=1e-3)
    assert breakdown_summary(parts).loc["work", "variance_share"] == pytest.approx(1.0)


def test_risk_drivers_reuses_a_given_base_run():
    s = parse_scenario(dedent("""
        scenario: t
        as_of: 2030-01-01
        time_unit: days
        risks:
          r: {probability: 0.5, delay: 30, applies_to: [a]}
        activities:
          a: {duration: {uniform: [0, 60]}}
        goal: {name: g, deadline: 2030-02-15, requires: a}
    """))
    base = run(s, trials=1500, seed=9, workers=1)
    given = risk_drivers(s, workers=1, base=base)
    fresh = risk_drivers(s, trials=1500, seed=9, workers=1)
    pd.testing.assert_frame_equal(given, fresh)
    assert given.attrs == fresh.attrs
    with pytest.raises(ValueError, match="same scenario"):
        risk_drivers(s.replace_activity("a", duration=Fixed(1)), base=base)
