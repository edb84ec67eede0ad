"""Invariants of the engine on random scenarios (hypothesis), built directly as sim.model objects.

The generated scenarios use every feature (vehicles with reliability, min_interval, stand-down,
availability and `after`; windows; planned dates with slips; failures with rebuilds; factors;
risks that delay or cancel; done activities; nested goal requirements). Their numbers are random,
so the checks are bounds that must hold whatever the draws:

- nothing starts before every predecessor has finished plus the least possible lag, nor before its
  planned date or as_of; what depends on something that never finishes never finishes;
- launches of one vehicle are at least min_interval apart (and stand_down after a failure), never
  before the vehicle is available or its `after` activities have finished, and only on the window;
- the goal time is exactly the requirement evaluated on the activities' finish times.

Factors are drawn from values >= 1 so that "the least possible lag" is simply its distribution's
minimum: a factor can only lengthen.
"""

from __future__ import annotations

import math
from datetime import date, timedelta

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sim
from sim.distributions import Empirical, Fixed, LogNormal, Pert, Triangular, Uniform
from sim.engine import timeline
from sim.model import (
    Activity,
    AllOf,
    AnyOf,
    AtLeast,
    Dependency,
    Factor,
    Goal,
    OnFailure,
    Requirement,
    Risk,
    Scenario,
    Vehicle,
    Window,
)

AS_OF = date(2030, 1, 1)
EPS = 1e-9
TRIALS = 12  # per example: enough to see failures, cancellations and queues
TRACED = 3  # trials whose event trace is checked
# Trace events at or after the moment an attempt could begin.
BEGIN_EVENTS = {"ready", "request", "grant", "start", "launch", "launch_failed"}
LAUNCH_EVENTS = {"launch", "launch_failed"}

SETTINGS = settings(
    max_examples=50,
    deadline=None,
    derandomize=True,  # the same examples every run: a CI failure reproduces locally
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def days(day: date) -> float:
    return float((day - AS_OF).days)


# --- strategies ----------------------------------------------------------------------------------

small = st.integers(0, 30).map(float)


@st.composite
def durations(draw: st.DrawFn) -> Fixed | Uniform | Triangular | Pert | LogNormal | Empirical:
    low = draw(small)
    width = draw(st.integers(0, 40).map(float))
    mode = low + width * draw(st.sampled_from([0.0, 0.25, 0.5, 1.0]))
    kind = draw(
        st.sampled_from(["fixed", "uniform", "triangular", "pert", "lognormal", "empirical"])
    )
    if kind == "fixed":
        return Fixed(low)
    if kind == "uniform":
        return Uniform(low, low + width)
    if kind == "triangular":
        return Triangular(low, mode, low + width)
    if kind == "pert":
        return Pert(low, mode, low + width)
    if kind == "lognormal":
        return LogNormal(low + 1, low + 1 + width + 1)
    return Empirical(tuple(draw(st.lists(small, min_size=1, max_size=4))))


@st.composite
def requirements(draw: st.DrawFn, ids: list[str], depth: int = 0) -> Requirement:
    if depth >= 2 or draw(st.booleans()):
        return draw(st.sampled_from(ids))
    parts = tuple(draw(st.lists(requirements(ids, depth + 1), min_size=1, max_size=4)))
    kind = draw(st.sampled_from(["all", "any", "at_least"]))
    if kind == "all":
        return AllOf(parts)
    if kind == "any":
        return AnyOf(parts)
    return AtLeast(draw(st.integers(1, len(parts))), parts)


@st.composite
def vehicles(draw: st.DrawFn, vid: str) -> Vehicle:
    return Vehicle(
        id=vid,
        name=vid.upper(),
        reliability=draw(st.sampled_from([1.0, 0.9, 0.5])),
        min_interval=draw(st.sampled_from([0.0, 5.0, 20.0])),
        stand_down=Fixed(draw(st.sampled_from([0.0, 10.0, 40.0]))),
        available=draw(st.none() | st.integers(0, 60).map(lambda d: AS_OF + timedelta(days=d))),
        # a0 is always a plain root, so `after: [a0]` can never make a cycle.
        after=draw(st.sampled_from([(), ("a0",)])),
    )


@st.composite
def activities(draw: st.DrawFn, i: int, vehicle_ids: list[str]) -> Activity:
    aid = f"a{i}"
    preds = draw(st.lists(st.integers(0, i - 1), unique=True, max_size=3)) if i > 0 else []
    is_launch = i > 0 and bool(vehicle_ids) and draw(st.booleans())
    done = None
    if not preds and not is_launch and draw(st.integers(0, 4)) == 0:
        done = AS_OF - timedelta(days=draw(st.integers(0, 100)))
    planned = draw(st.none() | st.integers(0, 60).map(lambda d: AS_OF + timedelta(days=d)))
    failing = draw(st.booleans())
    return Activity(
        id=aid,
        name=aid.upper(),
        after=tuple(Dependency(f"a{p}", draw(st.just(Fixed(0.0)) | durations())) for p in preds),
        planned=planned,
        slip=draw(st.none() | durations()) if planned else None,
        duration=draw(durations()),
        vehicles=tuple(
            draw(st.lists(st.sampled_from(vehicle_ids), min_size=1, max_size=2, unique=True))
        )
        if is_launch
        else (),
        window=draw(
            st.none()
            | st.builds(
                Window,
                period=st.sampled_from([7.0, 30.0]),
                anchor=st.integers(-20, 20).map(lambda d: AS_OF + timedelta(days=d)),
            )
        ),
        success=draw(st.sampled_from([0.6, 0.9])) if failing else 1.0,
        on_failure=OnFailure(draw(st.integers(2, 3)), draw(durations()))
        if failing and draw(st.booleans())
        else None,
        factors=draw(st.sampled_from([(), ("f0",)])),
        done=done,
    )


@st.composite
def risks(draw: st.DrawFn, rid: str, ids: list[str]) -> Risk:
    # At least one: a risk that affects nothing is refused, from YAML and from Python alike.
    some = st.lists(st.sampled_from(ids), min_size=1, max_size=3, unique=True).map(tuple)
    if draw(st.booleans()):
        return Risk(
            id=rid,
            name=rid,
            probability=draw(st.sampled_from([0.0, 0.3, 1.0])),
            delay=draw(durations()),
            applies_to=draw(some),
            # At most one: a cancel at as_of removes the activity outright.
            cancels=draw(st.lists(st.sampled_from(ids), max_size=1).map(tuple)),
        )
    return Risk(
        id=rid, name=rid, annual_probability=draw(st.sampled_from([0.2, 0.9])), cancels=draw(some)
    )


# Factors of at least 1, so that a distribution's minimum bounds the scaled draw from below.
factor_laws: st.SearchStrategy[Fixed | Uniform | Empirical] = st.sampled_from(
    [Fixed(1.0), Uniform(1.0, 2.0), Empirical((1.0, 1.5))]
)


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    n = draw(st.integers(2, 8))
    vehicle_ids = [f"v{k}" for k in range(draw(st.integers(0, 2)))]
    acts = [draw(activities(i, vehicle_ids)) for i in range(n)]
    ids = [a.id for a in acts]
    return Scenario(
        title="property",
        as_of=AS_OF,
        time_unit="days",
        activities=tuple(acts),
        goal=Goal(
            name="goal", deadline=AS_OF + timedelta(days=365), requires=draw(requirements(ids))
        ),
        factors=(Factor("f0", draw(factor_laws)),),
        vehicles=tuple(draw(vehicles(v)) for v in vehicle_ids),
        risks=tuple(draw(risks(f"r{k}", ids)) for k in range(draw(st.integers(0, 2)))),
    )


# --- helpers -------------------------------------------------------------------------------------


def earliest_begin(scenario: Scenario, act: Activity, finish: np.ndarray) -> float:
    """A lower bound on any attempt's ready time, given one trial's finish times (inf = never)."""
    index = scenario.activity_index
    bound = 0.0
    for dep in act.after:
        bound = max(bound, finish[index[dep.id]] + dep.lag.minimum)
    if act.planned is not None:
        bound = max(bound, days(act.planned))
    return bound


def goal_time(req: Requirement, scenario: Scenario, finish: np.ndarray) -> float:
    if isinstance(req, str):
        return float(finish[scenario.activity_index[req]])
    times = sorted(goal_time(p, scenario, finish) for p in req.parts)
    if isinstance(req, AllOf):
        return times[-1]
    if isinstance(req, AnyOf):
        return times[0]
    return times[req.count - 1]


def cancellable(scenario: Scenario) -> set[str]:
    return {aid for risk in scenario.risks for aid in risk.cancels}


# --- properties on many trials (sim.run) ---------------------------------------------------------


@SETTINGS
@given(scenarios(), st.integers(0, 2**31 - 1))
def test_finish_times_respect_predecessors(scenario: Scenario, seed: int) -> None:
    res = sim.run(scenario, trials=TRIALS, seed=seed, workers=1)
    assert res.finish_days.shape == (TRIALS, len(scenario.activities))
    vehicles = {v.id: v for v in scenario.vehicles}
    index = scenario.activity_index
    may_vanish = cancellable(scenario)
    for trial in range(TRIALS):
        finish = res.finish_days[trial]
        for j, act in enumerate(scenario.activities):
            attempts = int(res.attempts[trial, j])
            if act.done is not None:
                assert finish[j] == days(act.done), (
                    f"{act.id}: done on {act.done}, finish {finish[j]}"
                )
                assert attempts == 1  # the attempt that finished it
                continue
            assert 0 <= attempts <= act.attempts
            lower = earliest_begin(scenario, act, finish)
            if math.isinf(lower):
                # Never-finishing propagates along dependencies.
                assert math.isinf(finish[j]), f"{act.id} finished although a predecessor never did"
                continue
            if act.is_launch and len(act.vehicles) == 1:
                gate = [finish[index[a]] for a in vehicles[act.vehicles[0]].after]
                if any(math.isinf(g) for g in gate):
                    assert math.isinf(finish[j]), (
                        f"{act.id} launched on a vehicle whose `after` never finished"
                    )
                    continue
            if math.isfinite(finish[j]):
                assert finish[j] >= 0.0, f"{act.id} finished before as_of"
                assert finish[j] >= lower + act.duration.minimum - EPS, (
                    f"{act.id} finished at {finish[j]}, before earliest start {lower} + duration"
                )
                assert attempts >= 1
            elif not act.is_launch and act.success == 1.0 and act.id not in may_vanish:
                # A plain activity that cannot fail and is never cancelled must finish.
                raise AssertionError(
                    f"{act.id} never finished though it can neither fail nor be cancelled"
                )
        expected = goal_time(scenario.goal.requires, scenario, finish)
        assert res.goal_days[trial] == expected, (
            f"goal {res.goal_days[trial]} != requirement value {expected}"
        )


# --- properties on event traces (sim.engine.timeline) --------------------------------------------


@SETTINGS
@given(scenarios(), st.integers(0, 2**31 - 1))
def test_trace_respects_dependencies_vehicles_and_windows(scenario: Scenario, seed: int) -> None:
    res = sim.run(scenario, trials=TRACED, seed=seed, workers=1)
    vehicles = {v.id: v for v in scenario.vehicles}
    index = scenario.activity_index
    for trial in range(TRACED):
        finish = res.finish_days[trial]
        events = timeline(scenario, seed=seed, trial=trial)
        launches: dict[str, list[tuple[float, str]]] = {v: [] for v in vehicles}
        for ev in events:
            if ev.activity not in index:
                continue
            act = scenario.activity(ev.activity)
            j = index[act.id]
            if ev.what == "finish" and act.done is None:
                assert ev.time >= 0.0
            if ev.what not in BEGIN_EVENTS or act.done is not None:
                continue
            lower = earliest_begin(scenario, act, finish)
            assert ev.time >= lower - EPS, (
                f"{act.id} {ev.what} at {ev.time} before predecessors allow ({lower})"
            )
            if ev.what in LAUNCH_EVENTS:
                assert ev.detail is not None, f"{ev.what} of {act.id} names no vehicle"
                vehicle = vehicles[ev.detail]
                assert ev.detail in act.vehicles
                launches[vehicle.id].append((ev.time, ev.what))
                if vehicle.available is not None:
                    assert ev.time >= days(vehicle.available) - EPS, (
                        f"{vehicle.id} launched before available"
                    )
                for gate in vehicle.after:
                    assert ev.time >= finish[index[gate]] - EPS, (
                        f"{vehicle.id} launched before {gate} finished"
                    )
            on_window = (ev.what in LAUNCH_EVENTS) if act.is_launch else (ev.what == "start")
            if act.window is not None and on_window:
                k = (ev.time - days(act.window.anchor)) / act.window.period
                assert abs(k - round(k)) < 1e-6, (
                    f"{act.id} {ev.what} at {ev.time} is off its window"
                )
            if math.isfinite(finish[j]):
                assert ev.time <= finish[j] + EPS, f"{act.id} {ev.what} after its finish"
        for vid, times in launches.items():
            vehicle = vehicles[vid]
            times.sort()
            for (t0, what0), (t1, _) in zip(times, times[1:], strict=False):
                assert t1 - t0 >= vehicle.min_interval - EPS, (
                    f"{vid}: launches at {t0} and {t1} < min_interval"
                )
                if what0 == "launch_failed":
                    assert t1 - t0 >= vehicle.stand_down.minimum - EPS, (
                        f"{vid}: relaunched during stand-down"
                    )
