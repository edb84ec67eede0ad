"""Hypothesis strategies for small scenarios rich in exact ties: zero and whole-day durations,
equal planned dates, shared vehicles and vehicle lists, windows, launch and mission failures,
reflights, vehicle prerequisites, risks at as_of that delay or cancel, done activities, and
status recorded by as_of (failed, launched, partial; risks that occurred or expired)."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import strategies as st

from sim.distributions import Empirical, Fixed, Uniform
from sim.model import (
    Activity,
    AllOf,
    Dependency,
    Factor,
    Goal,
    OnFailure,
    Risk,
    Scenario,
    Vehicle,
    Window,
    find_cycle,
)

AS_OF = date(2030, 1, 1)


def day(n: int) -> date:
    return AS_OF + timedelta(days=n)


# Few distinct whole values, so that times coincide often.
small = st.one_of(
    st.sampled_from([Fixed(0), Fixed(1), Fixed(2), Fixed(5)]),
    st.sampled_from([Empirical((0, 2)), Empirical((0, 0, 3)), Empirical((1, 4))]),
)
some_continuous = st.one_of(small, st.just(Uniform(0, 3)))


@st.composite
def tie_scenarios(draw: st.DrawFn, sweepable: bool = False) -> Scenario:
    """With `sweepable`, no vehicles and no cancelling risks (what the compiled engine sweeps
    without its event loop), more activities, listed in a shuffled order."""
    n_veh = 0 if sweepable else draw(st.integers(0, 3))
    n_act = draw(st.integers(1, 14 if sweepable else 8))
    ids = [f"a{k}" for k in range(n_act)]
    vids = [f"v{k}" for k in range(n_veh)]
    factors = (Factor("pace", Empirical((1.0, 2.0))),) if draw(st.booleans()) else ()
    activities = []
    for k, aid in enumerate(ids):
        preds = draw(st.lists(st.sampled_from(ids[:k]), unique=True, max_size=2)) if k else []
        after = tuple(Dependency(p, draw(st.sampled_from([Fixed(0), Fixed(0), Fixed(2),
                                                          Empirical((0, 1)), Uniform(0, 2)])))
                      for p in preds)
        vehicles = tuple(draw(st.lists(st.sampled_from(vids), unique=True, max_size=2))
                         if vids else [])
        done = draw(st.sampled_from([None] * 6 + [day(-3), day(0)])) if not after else None
        attempts = draw(st.sampled_from([1, 1, 2, 3]))
        # What happened by as_of: a failed attempt (with or without attempts left), a mission
        # in flight (landing before or after as_of), a partial outcome.
        status = draw(st.sampled_from(["", "", "", "", "failed", "launched", "partial"]))
        recorded: dict[str, date] = {}
        if status == "failed":
            recorded["failed"] = draw(st.sampled_from([day(-1), day(-30)]))
        elif status == "launched" and vehicles and done is None:
            recorded["launched"] = draw(st.sampled_from([day(-2), day(-500)]))
        elif status == "partial" and done is None and not after:
            recorded["partial"] = day(-3)
        planned = draw(st.sampled_from([None, None, day(0), day(2), day(2), day(-4)]))
        activities.append(Activity(
            id=aid, name=aid,
            after=after,
            planned=planned,
            # A slip is added to the planned date: without one it is refused (YAML or Python).
            slip=draw(st.sampled_from([None, None, Fixed(0), Empirical((0, 2))]))
            if planned is not None else None,
            duration=draw(some_continuous),
            vehicles=vehicles,
            window=draw(st.sampled_from([None, None, None, Window(3, day(1)), Window(7, day(0)),
                                         Window(0.5, day(0))])),
            success=draw(st.sampled_from([1.0, 1.0, 0.5, 0.0])),
            on_failure=OnFailure(attempts, draw(small)) if attempts > 1 else None,
            factors=("pace",) if factors and draw(st.booleans()) else (),
            done=done,
            **recorded,
        ))
    vehicles = tuple(
        Vehicle(
            id=vid, name=vid,
            reliability=draw(st.sampled_from([1.0, 1.0, 0.5, 0.0])),
            min_interval=draw(st.sampled_from([0.0, 0.0, 1.0, 5.0])),
            stand_down=draw(small),
            available=draw(st.sampled_from([None, None, day(0), day(3), day(-2)])),
            after=tuple(draw(st.lists(st.sampled_from(ids), unique=True, max_size=2))),
        )
        for vid in vids
    )
    risks = []
    for r in range(draw(st.integers(0, 2))):
        cancels = tuple(draw(st.lists(st.sampled_from(ids), unique=True, max_size=2)))
        if sweepable:
            cancels = ()
        if sweepable or draw(st.booleans()):
            happened = draw(st.sampled_from([{}, {}, {"occurred": day(-5)},
                                             {"expired": day(-5)}]))
            risks.append(Risk(f"r{r}", "risk", probability=draw(st.sampled_from([0.5, 1.0])),
                              delay=draw(small), cancels=cancels, **happened,
                              applies_to=tuple(draw(st.lists(st.sampled_from(ids), unique=True,
                                                             min_size=1, max_size=2)))))
        else:
            risks.append(Risk(f"r{r}", "hazard",
                              annual_probability=draw(st.sampled_from([0.5, 0.99])),
                              cancels=cancels or (ids[-1],)))
    if sweepable:
        activities = draw(st.permutations(activities))
    # A vehicle's `after` may not depend on a launch of that vehicle (rule 10); the Scenario
    # refuses a cycle when made, so look for one first (dependency_graph's rule).
    vehicle_after = {v.id: list(v.after) for v in vehicles}
    graph = {a.id: [d.id for d in a.after] + [p for v in a.vehicles for p in vehicle_after[v]]
             for a in activities}
    if find_cycle(graph) is not None:
        from hypothesis import reject

        reject()
    return Scenario(
        title="fuzz", as_of=AS_OF, activities=tuple(activities), time_unit="days",
        goal=Goal("all", date(2031, 1, 1), AllOf(tuple(ids))),
        factors=factors, vehicles=vehicles, risks=tuple(risks),
    )
