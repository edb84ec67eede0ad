"""The compiled engine's queues against Python's own sort: the event queue pops in (time,
priority, insertion order), SimPy's order; a vehicle queue in (request time, tie rank, request
id); the settle heap in time order. Exact, on inputs rich in equal times (drawn from a few
values), so the tie-breaking parts of each key are what decides."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.blocks import PRIORITY_EVENT, PRIORITY_GRANT, PRIORITY_RISK
from sim.engine.heaps import KEY_BITS, KEY_MASK, pop, q_pop, q_push, schedule, t_pop, t_push

# A few times, so most events share theirs with others; -0.0 and 0.0 are one time.
TIMES = st.sampled_from([0.0, -0.0, 0.5, 1.0, 1.0 + 2**-52, 3.0, np.inf])
PRIORITIES = st.sampled_from([PRIORITY_RISK, PRIORITY_EVENT, PRIORITY_GRANT])
# Each step: push (time, priority) or pop (None).
STEPS = st.lists(st.one_of(st.tuples(TIMES, PRIORITIES), st.none()), max_size=60)


@settings(max_examples=300, deadline=None)
@given(steps=STEPS)
def test_the_event_queue_pops_in_simpy_order(steps: list[tuple[float, int] | None]) -> None:
    n = len(steps) + 1
    cnt = np.zeros(10, np.int64)
    ev_f, ev_i = np.zeros((n, 2)), np.zeros((n, 4), np.int64)
    h_t, h_k = np.zeros(n), np.zeros(n, np.int64)
    pending: list[tuple[float, int, int]] = []  # SimPy's heap entries: (time, priority, id)
    for step in steps:
        if step is None:
            if not pending:
                continue
            want = min(pending)
            pending.remove(want)
            got_t, got_e = pop(cnt, h_t, h_k)
            assert (got_t, got_e) == (want[0], want[2])
            assert ev_i[got_e, 1] == got_e  # what the event does travels with its id
        else:
            t, prio = step
            e = int(cnt[0])
            schedule(cnt, ev_f, ev_i, h_t, h_k, 0.0, t, prio, 1, e, 0, 0, 0.0, 0.0)
            pending.append((0.0 + t, prio, e))
    assert cnt[1] == len(pending)


@settings(max_examples=300, deadline=None)
@given(steps=st.lists(st.one_of(st.tuples(TIMES, st.integers(0, 5)), st.none()), max_size=60))
def test_a_vehicle_queue_keeps_the_readme_order(steps: list[tuple[float, int] | None]) -> None:
    n = len(steps) + 1
    q_t, q_k, qn = np.zeros((2, n)), np.zeros((2, n), np.int64), np.zeros(2, np.int64)
    pending: list[tuple[float, int, int]] = []  # (request time, tie rank, request id)
    rid = 0
    for step in steps:
        if step is None:
            if not pending:
                continue
            want = min(pending)
            pending.remove(want)
            key = int(q_k[1, 0])
            assert (q_t[1, 0], key >> KEY_BITS, key & KEY_MASK) == want
            q_pop(q_t, q_k, qn, 1)
        else:
            at, rank = step
            q_push(q_t, q_k, qn, 1, at, (rank << KEY_BITS) | rid)
            pending.append((at, rank, rid))
            rid += 1
    assert qn[1] == len(pending) and qn[0] == 0  # the other vehicle's queue is untouched


@settings(max_examples=300, deadline=None)
@given(times=st.lists(TIMES, max_size=40))
def test_the_settle_heap_gives_its_times_in_order(times: list[float]) -> None:
    h, cnt = np.zeros(len(times) + 1), np.zeros(10, np.int64)
    for t in times:
        t_push(h, cnt, 5, t)
    assert [t_pop(h, cnt, 5) for _ in times] == sorted(times)
    assert cnt[5] == 0


def test_the_tie_rank_orders_activities_as_their_ties_do() -> None:
    from datetime import date

    from sim.engine import Plan
    from sim.engine.fast import _plan_arrays
    from sim.model import Activity, AllOf, Goal, Scenario, Vehicle

    planned = [date(2030, 1, 1), None, date(2029, 1, 1), date(2030, 1, 1), None]
    scenario = Scenario(
        title="ties", as_of=date(2026, 1, 1),
        activities=tuple(Activity(id=f"a{k}", name=f"a{k}", planned=p, vehicles=("v",))
                         for k, p in enumerate(planned)),
        goal=Goal("all", date(2040, 1, 1), AllOf(tuple(f"a{k}" for k in range(5)))),
        vehicles=(Vehicle(id="v", name="v", reliability=1.0),),
    )
    plan = Plan.compile(scenario)
    tie_rank = _plan_arrays(plan)[13]
    # Earlier planned first, then file order; launches without planned after the rest.
    assert tie_rank.tolist() == [1, 3, 0, 2, 4]
    by_tie = sorted(range(5), key=lambda k: plan.activities[k].tie)
    assert sorted(range(5), key=lambda k: tie_rank[k]) == by_tie
