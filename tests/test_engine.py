"""Exact engine timelines on tiny scenarios (fixed numbers, probabilities 0 or 1).

Time unit is days and as_of is 2030-01-01, so every expected time below is a whole number of
days that can be checked by hand against rules 1-10 of the core issue.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest

from sim import run
from sim.distributions import Empirical, Fixed
from sim.engine import Plan, TrialInputs, simulate_trial, timeline
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
from sim.sampling import draw_block

AS_OF = date(2030, 1, 1)


def day(n: int) -> date:
    return AS_OF + timedelta(days=n)


def act(aid: str, duration: float = 0, after: tuple = (), **kw) -> Activity:
    deps = tuple(d if isinstance(d, Dependency) else Dependency(d) for d in after)
    return Activity(aid, aid.upper(), after=deps, duration=Fixed(duration), **kw)


def scenario(*activities: Activity, requires=None, **kw) -> Scenario:
    requires = requires or AllOf(tuple(a.id for a in activities))
    return Scenario(
        title="tiny", as_of=AS_OF, activities=activities, time_unit="days",
        goal=Goal("goal", date(2031, 12, 31), requires), **kw,
    )


def finishes(s: Scenario) -> dict[str, float]:
    return {e.activity: e.time for e in timeline(s) if e.what == "finish"}


def events(s: Scenario, what: str) -> list[tuple[float, str, str | None]]:
    return [(e.time, e.activity, e.detail) for e in timeline(s) if e.what == what]


def test_chain():
    s = scenario(act("a", 2), act("b", 3, ["a"]), act("c", 1, ["b"]))
    assert finishes(s) == {"a": 2, "b": 5, "c": 6}


def test_fork_join_waits_for_the_latest_branch():
    s = scenario(act("a", 2), act("b", 3, ["a"]), act("c", 5, ["a"]), act("d", 1, ["b", "c"]))
    assert finishes(s) == {"a": 2, "b": 5, "c": 7, "d": 8}


def test_lag_delays_the_successor():
    s = scenario(act("a", 2), act("b", 1, [Dependency("a", Fixed(4))]))
    assert finishes(s)["b"] == 2 + 4 + 1


def test_planned_and_slip_set_the_earliest_start():
    s = scenario(act("a", 1, planned=day(10)), act("b", 1, planned=day(10), slip=Fixed(5)))
    assert finishes(s) == {"a": 11, "b": 16}


def test_planned_before_as_of_does_not_start_before_as_of():
    s = scenario(act("a", 1, planned=day(-30)))
    assert finishes(s) == {"a": 1}


def test_latest_of_predecessor_and_planned_wins():
    s = scenario(act("a", 20), act("b", 1, ["a"], planned=day(10)))
    assert finishes(s)["b"] == 21


def test_window_moves_the_start_to_the_next_opening():
    # Ready at 3; openings at 2 + 7k -> starts at 9, finishes at 10.
    s = scenario(act("a", 3), act("b", 1, ["a"], window=Window(7, day(2))))
    assert finishes(s)["b"] == 10
    # Exactly on an opening: no wait.
    s = scenario(act("a", 9), act("b", 1, ["a"], window=Window(7, day(2))))
    assert finishes(s)["b"] == 10


def test_done_activity_finishes_on_its_date_and_feeds_successors():
    s = scenario(act("a", 5, done=day(-7)), act("b", 1, [Dependency("a", Fixed(10))]))
    assert finishes(s) == {"b": 4}  # ready at -7 + 10 = 3
    r = run(s, trials=3, seed=0, workers=1)
    assert r.finish("a").tolist() == [-7, -7, -7]
    assert r.attempts[:, 0].tolist() == [0, 0, 0]


def lv(vid: str = "lv", **kw) -> Vehicle:
    return Vehicle(vid, vid.upper(), **kw)


def test_vehicle_queue_first_come_first_served_with_min_interval():
    s = scenario(
        act("x", 2, vehicles=("lv",)),
        act("y", 2, vehicles=("lv",), planned=day(1)),
        act("z", 2, vehicles=("lv",), planned=day(3)),
        vehicles=(lv(min_interval=10),),
    )
    assert events(s, "launch") == [(0, "x", "lv"), (10, "y", "lv"), (20, "z", "lv")]
    assert finishes(s) == {"x": 2, "y": 12, "z": 22}
    assert events(s, "release") == [(10, "x", "lv"), (20, "y", "lv"), (30, "z", "lv")]


def test_simultaneous_requests_earlier_planned_first_then_file_order():
    s = scenario(
        act("a", 0, vehicles=("lv",)),  # no planned date: after those with one
        act("b", 0, vehicles=("lv",), planned=day(-5)),
        act("c", 0, vehicles=("lv",), planned=day(-9)),
        act("d", 0, vehicles=("lv",), planned=day(-9)),
        vehicles=(lv(min_interval=1),),
    )
    assert events(s, "launch") == [(0, "c", "lv"), (1, "d", "lv"), (2, "b", "lv"), (3, "a", "lv")]


def test_vehicle_alternatives_take_the_first_granted():
    s = scenario(
        act("a", 0, vehicles=("big",)),
        act("b", 0, vehicles=("big", "small"), planned=day(1)),
        act("c", 0, vehicles=("big", "small"), planned=day(2)),
        vehicles=(lv("big", min_interval=10), lv("small", min_interval=10)),
    )
    # a holds big; b takes the free small; c waits and gets big first (at 10), before small (11).
    assert events(s, "launch") == [(0, "a", "big"), (1, "b", "small"), (10, "c", "big")]


def test_vehicle_alternatives_tie_goes_to_list_order():
    s = scenario(act("a", 0, vehicles=("v2", "v1")), vehicles=(lv("v1"), lv("v2")))
    assert events(s, "launch") == [(0, "a", "v2")]


def test_vehicle_available_and_after_hold_the_launch():
    s = scenario(
        act("dev", 30),
        act("a", 1, vehicles=("lv",)),
        vehicles=(lv(available=day(10), after=("dev",)),),
    )
    assert events(s, "grant") == [(0, "a", "lv")]
    assert events(s, "launch") == [(30, "a", "lv")]
    s2 = scenario(act("a", 1, vehicles=("lv",)), vehicles=(lv(available=day(10)),))
    assert events(s2, "launch") == [(10, "a", "lv")]


def test_launch_waits_for_window_while_holding_the_vehicle():
    s = scenario(
        act("a", 1, vehicles=("lv",), window=Window(30, day(5))),
        act("b", 1, vehicles=("lv",), planned=day(1)),
        vehicles=(lv(),),
    )
    assert events(s, "launch") == [(5, "a", "lv"), (5, "b", "lv")]


def test_failed_launch_grounds_the_vehicle_for_the_stand_down():
    s = scenario(
        act("x", 2, vehicles=("lv",)),
        act("y", 2, vehicles=("lv",), planned=day(1)),
        vehicles=(lv(reliability=0.0, min_interval=1, stand_down=Fixed(50)),),
    )
    assert events(s, "launch_failed") == [(0, "x", "lv"), (50, "y", "lv")]
    assert finishes(s) == {}


def test_failure_with_rebuild_retries_then_never_finishes():
    s = scenario(act("a", 2, success=0.0, on_failure=OnFailure(3, Fixed(5))))
    assert [e.time for e in timeline(s) if e.what == "failed"] == [2, 9, 16]
    assert [e.time for e in timeline(s) if e.what == "start"] == [0, 7, 14]
    r = run(s, trials=10, seed=1, workers=1)
    assert np.isinf(r.finish("a")).all() and (r.attempts[:, 0] == 3).all()


def test_launch_reflight_after_rebuild_requeues():
    s = scenario(
        act("a", 3, vehicles=("lv",), success=0.0, on_failure=OnFailure(2, Fixed(4))),
        vehicles=(lv(min_interval=1),),
    )
    # Launch at 0, mission fails at 3, ready again at 7, launches at 7, fails at 10.
    assert events(s, "launch") == [(0, "a", "lv"), (7, "a", "lv")]
    assert [e.time for e in timeline(s) if e.what == "failed"] == [3, 10]


def test_never_finishing_predecessor_propagates():
    s = scenario(act("a", 1, success=0.0), act("b", 1, ["a"]), act("c", 1))
    assert finishes(s) == {"c": 1}


def test_risk_delay_postpones_first_attempt_only():
    s = scenario(
        act("a", 2, success=0.0, on_failure=OnFailure(2, Fixed(1))),
        risks=(Risk("r", "R", probability=1.0, delay=Fixed(3), applies_to=("a",)),),
    )
    assert [e.time for e in timeline(s) if e.what == "start"] == [3, 6]


def test_risk_that_does_not_occur_has_no_effect():
    s = scenario(
        act("a", 2),
        risks=(Risk("r", "R", probability=0.0, delay=Fixed(3), applies_to=("a",)),),
    )
    assert finishes(s) == {"a": 2}


def test_cancel_at_as_of_stops_the_activity_and_its_successors():
    s = scenario(
        act("a", 2), act("b", 1, ["a"]), act("c", 1, ["b"]),
        risks=(Risk("r", "R", probability=1.0, cancels=("b",)),),
    )
    assert finishes(s) == {"a": 2}
    assert events(s, "cancelled") == [(0, "b", None)]


def _trace_with_risk_at(s: Scenario, when: float) -> list:
    draws = draw_block(s, 0, 0, 1)
    draws.risk_time[0, 0] = when  # place the hazard's occurrence exactly
    trace: list = []
    simulate_trial(Plan.compile(s), TrialInputs(draws), 0, trace)
    return trace


def test_cancelled_launch_holding_a_vehicle_releases_it_at_once():
    s = scenario(
        act("dev", 20),
        act("a", 1, vehicles=("lv",)),
        act("b", 1, vehicles=("lv",), planned=day(1)),
        vehicles=(lv(after=("dev",)),),
        risks=(Risk("r", "R", annual_probability=0.5, cancels=("a",)),),
    )
    trace = _trace_with_risk_at(s, 5.0)
    shown = ("grant", "release", "cancelled", "launch")
    got = [(e.time, e.what, e.activity) for e in trace if e.what in shown]
    assert got == [
        (0, "grant", "a"),
        (5, "cancelled", "a"),
        (5, "release", "a"),
        (5, "grant", "b"),
        (20, "launch", "b"),
        (20, "release", "b"),  # min_interval 0: released at its launch
    ]


def test_cancel_after_finish_changes_nothing_and_cancel_in_flight_does():
    s = scenario(
        act("a", 10), act("b", 10),
        risks=(Risk("r", "R", annual_probability=0.5, cancels=("a", "b")),),
        requires=AnyOf(("a", "b")),
    )
    trace = _trace_with_risk_at(s, 10.0)  # the same instant as both finishes: the risk goes first
    assert [e for e in trace if e.what == "finish"] == []
    trace = _trace_with_risk_at(s, 10.5)
    assert {e.activity for e in trace if e.what == "finish"} == {"a", "b"}


def test_factor_multiplies_duration_slip_lag_and_rebuild_but_not_risk_delay():
    f = (Factor("pace", Empirical((2.0,))),)
    s = scenario(
        act("a", 3, planned=day(10), slip=Fixed(1), factors=("pace",)),  # ready 10 + 2, ends 18
        act("b", 1, [Dependency("a", Fixed(2))], factors=("pace",)),  # ready 18 + 4, ends 24
        act("c", 1, success=0.0, on_failure=OnFailure(2, Fixed(5)), factors=("pace",)),
        act("d", 1, factors=("pace",)),
        factors=f,
        risks=(Risk("r", "R", probability=1.0, delay=Fixed(3), applies_to=("d",)),),
    )
    assert finishes(s) == {"a": 18, "b": 24, "d": 5}
    assert [e.time for e in timeline(s) if e.what == "start" and e.activity == "c"] == [0, 12]


def test_goal_all_any_and_at_least():
    acts = (act("a", 1), act("b", 5), act("c", 3), act("d", 2, success=0.0))
    cases = [
        (AllOf(("a", "b", "c")), 5.0),
        (AnyOf(("b", "c")), 3.0),
        (AtLeast(2, ("a", "b", "c", "d")), 3.0),
        (AtLeast(3, ("a", "b", "c", "d")), 5.0),
        (AtLeast(4, ("a", "b", "c", "d")), np.inf),
        (AllOf(("a", AnyOf(("b", "d")))), 5.0),
    ]
    for requires, expected in cases:
        r = run(scenario(*acts, requires=requires), trials=2, seed=0, workers=1)
        assert r.goal_days.tolist() == [expected, expected], requires


def test_deadline_is_the_end_of_its_day():
    # 2031-12-31 is day 729 from 2030-01-01: 729.0 and 729.99 (that day) meet the deadline,
    # 730.0 (2032-01-01 00:00) does not.
    for duration, met in [(728, True), (729, True), (729.99, True), (730, False)]:
        r = run(scenario(act("a", duration)), trials=1, seed=0, workers=1)
        assert bool(r.met[0]) is met, duration


def test_zero_variance_scenario_reproduces_the_critical_path():
    durations = {"a": 4, "b": 7, "c": 2, "d": 5, "e": 1, "f": 3}
    preds = {"a": [], "b": ["a"], "c": ["a"], "d": ["b", "c"], "e": ["c"], "f": ["d", "e"]}
    lags = {("c", "e"): 6}
    s = scenario(*[
        act(k, v, [Dependency(p, Fixed(lags.get((p, k), 0))) for p in preds[k]])
        for k, v in durations.items()
    ])
    # Forward pass by hand: a 0-4, b 4-11, c 4-6, d 11-16, e 12-13, f 16-19.
    expected = {"a": 4, "b": 11, "c": 6, "d": 16, "e": 13, "f": 19}
    r = run(s, trials=50, seed=3, workers=1)
    for k, v in expected.items():
        assert (r.finish(k) == v).all()
    assert (r.goal_days == 19).all()


@pytest.mark.parametrize("workers", [1, 2])
def test_results_are_identical_for_any_number_of_workers(workers):
    s = scenario(
        act("a", 0, planned=day(10), slip=Fixed(0)),
        act("b", 1, ["a"], vehicles=("lv",), success=0.5, on_failure=OnFailure(3, Fixed(30))),
        vehicles=(lv(reliability=0.7, stand_down=Fixed(40), min_interval=5),),
    )
    base = run(s, trials=2500, seed=11, workers=1)
    other = run(s, trials=2500, seed=11, workers=workers)
    np.testing.assert_array_equal(base.finish_days, other.finish_days)


def test_cancel_after_a_final_failure_is_not_logged():
    s = scenario(
        act("x", 1, success=0.0),
        risks=(Risk("r", "R", annual_probability=0.5, cancels=("x",)),),
    )
    trace = _trace_with_risk_at(s, 5.0)
    assert [e.what for e in trace] == ["ready", "start", "failed"]


def test_launch_held_by_its_vehicle_prerequisite_records_it():
    s = scenario(
        act("first_flight", 30),
        act("a", 1, vehicles=("lv",)),
        act("b", 1, vehicles=("lv",), planned=day(40)),
        vehicles=(lv(after=("first_flight",)),),
    )
    r = run(s, trials=2, seed=0, workers=1)
    # a was held until the first flight (day 30); b was ready after it and did not wait for it.
    assert r.waited_for[:, 1].tolist() == [0, 0]
    assert r.waited_for[:, 2].tolist() == [-1, -1]


@pytest.mark.parametrize("min_interval, c_launch", [(0, 0), (5, 5)])
def test_request_made_during_a_grant_round_keeps_its_place_in_the_queue(min_interval, c_launch):
    # a's zero-duration mission ends the moment w is granted, so b asks for v at time 0 while
    # c is already waiting for it. b comes first by file order and is granted v first; c gets
    # v when b frees it: at once without min_interval, 5 days later with it. (The grant round
    # used to pop b's entry for c, and b then waited for ever.)
    s = scenario(
        act("a", 0, vehicles=("w",)),
        act("b", 5, ["a"], vehicles=("v",)),
        act("c", 5, vehicles=("v",)),
        vehicles=(lv("w"), lv("v", min_interval=min_interval)),
    )
    assert events(s, "grant") == [(0, "a", "w"), (0, "b", "v"), (c_launch, "c", "v")]
    assert events(s, "launch") == [(0, "a", "w"), (0, "b", "v"), (c_launch, "c", "v")]
    assert finishes(s) == {"a": 0, "b": 5, "c": c_launch + 5}
    r = run(s, trials=20, seed=3, workers=1)
    assert (r.goal_days == c_launch + 5).all()
