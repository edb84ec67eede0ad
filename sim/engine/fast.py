"""The compiled engine: the SimPy engine's events, replayed by numba over arrays.

It gives the same arrays as :mod:`sim.engine.des` for the same plan and draws, exactly (the
rules that make this possible are in :mod:`sim.blocks`). It does so by copying the reference
engine's structure, function by function: one event queue ordered by (time, priority,
insertion order) with the same events scheduled at the same points, the same float
arithmetic, and the same nested calls (a settle that grants a launch that lands at once and
starts its successors) as plain nested calls. When the reference changes, change both; the
differential tests (tests/test_engines_agree.py) say whether they still agree.

Layout: the plan becomes flat arrays (CSR lists for predecessors, successors, vehicles...),
the draws arrays indexed [element, attempt, trial], and one trial's state a handful of arrays
reused across the block. Numba compiles on first use and caches the machine code on disk.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
from numba import njit
from numba.core import cgutils
from numba.extending import intrinsic

from ..blocks import (
    DRIVER_AS_OF,
    DRIVER_DONE,
    DRIVER_PLANNED,
    EPS,
    PRIORITY_EVENT,
    PRIORITY_GRANT,
    PRIORITY_RISK,
    BlockOutcome,
)
from ..sampling import BlockDraws
from .plan import Plan

__all__ = ["run_block"]

INF = np.inf

# Event kinds.
RISK, WORK_END, LAUNCH_FAILS, MISSION_ENDS, FINISHED, SETTLE = 0, 1, 2, 3, 4, 5

# Positions in the state tuple S (see run_block).
C = 0
NOW = 1
E_TIME = 2
E_PRIO = 3
E_KIND = 4
E_A = 5
E_ATT = 6
E_V = 7
E_X = 8
E_Y = 9
HEAP = 10
WAITING = 11
CANCELLED_AT = 12
OVER = 13
FIN_MADE = 14
W_HEAD = 15
W_TAIL = 16
W_A = 17
W_ATT = 18
W_V = 19
W_T = 20
W_NEXT = 21
HOLDER = 22
FREE_AT = 23
Q = 24
QN = 25
R_A = 26
R_ATT = 27
R_AT = 28
R_PENDING = 29
REQUEST_OF = 30
GROUNDED = 31
FAILURES = 32
SETTLES = 33

# Positions in the plan tuple P, the draws tuple D and the outcome tuple R.
P_PRED_PTR = 0
P_PRED_IDX = 1
P_SUCC_PTR = 2
P_SUCC_IDX = 3
P_AV_PTR = 4
P_AV_IDX = 5
P_HAS_WINDOW = 6
P_PERIOD = 7
P_ANCHOR = 8
P_SUCCESS = 9
P_ATTEMPTS = 10
P_IS_DONE = 11
P_DONE_AT = 12
P_PLANNED = 13
P_RELIABILITY = 14
P_MIN_INTERVAL = 15
P_AVAILABLE = 16
P_VAFTER_PTR = 17
P_VAFTER_IDX = 18
P_RC_PTR = 19
P_RC_IDX = 20
D_READY_FLOOR = 0
D_LAGS = 1
D_DELAY = 2
D_DURATION = 3
D_LAUNCH_U = 4
D_SUCCESS_U = 5
D_REBUILD = 6
D_RISK_TIME = 7
D_STAND_DOWN = 8
O_FINISH = 0
O_FIRST_READY = 1
O_READY = 2
O_START = 3
O_ATTEMPTS = 4
O_DRIVER = 5
O_WAITED_FOR = 6

# Slots of the integer counters array S[C].
C_EID, C_HEAP, C_RID, C_SETTLES, C_WAITERS = 0, 1, 2, 3, 4


def _csr(lists: list[tuple[int, ...]] | tuple[tuple[int, ...], ...]) -> tuple[Any, Any]:
    ptr = np.zeros(len(lists) + 1, np.int64)
    ptr[1:] = np.cumsum([len(x) for x in lists])
    idx = np.array([x for xs in lists for x in xs], np.int64)
    return ptr, idx


@functools.lru_cache(maxsize=16)
def _plan_arrays(plan: Plan) -> tuple[Any, ...]:
    """The plan as flat arrays, in the order the compiled functions unpack them."""
    acts, vehs = plan.activities, plan.vehicles
    pred_ptr, pred_idx = _csr([a.preds for a in acts])
    succ_ptr, succ_idx = _csr(plan.successors)
    av_ptr, av_idx = _csr([a.vehicles for a in acts])
    has_window = np.array([a.window is not None for a in acts])
    period = np.array([a.window[0] if a.window else 1.0 for a in acts])
    anchor = np.array([a.window[1] if a.window else 0.0 for a in acts])
    success = np.array([a.success for a in acts], np.float64)
    attempts = np.array([a.attempts for a in acts], np.int64)
    is_done = np.array([a.done_at is not None for a in acts])
    done_at = np.array([a.done_at if a.done_at is not None else INF for a in acts])
    planned = np.array([a.tie[0] for a in acts], np.float64)
    # The tie's second part is the file order, which is the activity's index.
    assert all(a.tie[1] == k for k, a in enumerate(acts))
    reliability = np.array([v.reliability for v in vehs], np.float64)
    min_interval = np.array([v.min_interval for v in vehs], np.float64)
    available = np.array([v.available for v in vehs], np.float64)
    vafter_ptr, vafter_idx = _csr([v.after for v in vehs])
    rc_ptr, rc_idx = _csr(plan.risk_cancels)
    return (pred_ptr, pred_idx, succ_ptr, succ_idx, av_ptr, av_idx, has_window, period, anchor,
            success, attempts, is_done, done_at, planned, reliability, min_interval, available,
            vafter_ptr, vafter_idx, rc_ptr, rc_idx)


@functools.lru_cache(maxsize=16)
def _capacities(plan: Plan) -> tuple[int, int, int, int]:
    """Upper bounds, per trial, on events, queue entries per vehicle, requests and waiters."""
    acts, n_veh = plan.activities, len(plan.vehicles)
    total = sum(a.attempts for a in acts)
    launches = sum(a.attempts for a in acts if a.vehicles)
    most_vehicles = max((len(a.vehicles) for a in acts), default=0)
    most_after = max((len(v.after) for v in plan.vehicles), default=0)
    cancels = sum(len(c) for c in plan.risk_cancels)
    # A plain attempt schedules one event; a launch attempt one event, a settle per vehicle
    # asked for, one for its request time and one for its release; a cancellation a settle
    # per vehicle; a finish one event; a risk one.
    events = (len(plan.risk_cancels) + 2 * len(acts) + total * (4 + most_vehicles)
              + cancels * (n_veh + 1) + 16)
    per_vehicle = max(
        (sum(a.attempts for a in acts if v in a.vehicles) for v in range(n_veh)), default=0
    )
    return events, max(per_vehicle, 1), max(launches, 1), max(launches * most_after, 1)


def _draw_arrays(plan: Plan, draws: BlockDraws) -> tuple[Any, ...]:
    acts = draws.activities
    n, n_act = draws.size, len(acts)
    most = max((a.attempts for a in plan.activities), default=1)
    ready_floor = np.array([d.ready_floor for d in acts], np.float64).reshape(n_act, n)
    lag_rows = [lag for d in acts for lag in d.lags]
    lags = np.array(lag_rows, np.float64).reshape(len(lag_rows), n)
    delay = np.array([d.risk_delay for d in acts], np.float64).reshape(n_act, n)

    def padded(rows: list[np.ndarray]) -> np.ndarray:
        out = np.zeros((n_act, most, n))
        for a, r in enumerate(rows):
            out[a, : len(r)] = r
        return out

    duration = padded([d.duration for d in acts])
    launch_u = padded([d.launch_u for d in acts])
    success_u = padded([d.success_u for d in acts])
    rebuild = padded([d.rebuild for d in acts])
    risk_time = np.asarray(draws.risk_time, np.float64).reshape(-1, n)
    most_sd = max((sd.shape[0] for sd in draws.stand_down), default=1)
    stand_down = np.zeros((len(draws.stand_down), most_sd, n))
    for v, sd in enumerate(draws.stand_down):
        stand_down[v, : sd.shape[0]] = sd
    return (ready_floor, lags, delay, duration, launch_u, success_u, rebuild, risk_time,
            stand_down)


def run_block(plan: Plan, draws: BlockDraws) -> BlockOutcome:
    """Every trial of one block; the same arrays as the SimPy engine gives."""
    n, n_act, n_veh = draws.size, len(plan.activities), len(plan.vehicles)
    out = BlockOutcome.empty(n, n_act)
    events, per_vehicle, requests, waiters = _capacities(plan)
    def f(*shape: int) -> np.ndarray:
        return np.zeros(shape)

    def k(*shape: int) -> np.ndarray:
        return np.zeros(shape, np.int64)

    def b(*shape: int) -> np.ndarray:
        return np.zeros(shape, np.bool_)

    # In the order of the S positions above; `_trial` resets what a trial needs reset.
    state = (
        k(8), f(1),  # counters, now
        f(events), k(events), k(events), k(events), k(events), k(events), f(events), f(events),
        k(events),  # the event queue: a binary heap of event ids
        k(n_act), f(n_act), b(n_act), k(n_act),  # waiting, cancelled_at, over, finished event
        k(n_act), k(n_act),  # per activity, the launches waiting for it to finish: head, tail
        k(waiters), k(waiters), k(waiters), f(waiters), k(waiters),  # a, attempt, v, since, next
        k(n_veh), f(n_veh),  # holder, free_at
        k(n_veh, per_vehicle), k(n_veh),  # queues (heaps of request ids), their lengths
        k(requests), k(requests), f(requests), b(requests),  # request a, attempt, time, pending
        k(n_act),  # an activity's open request
        f(n_veh), k(n_veh),  # grounded_until, failures
        f(events),  # settle times scheduled
    )
    outs = (out.finish, out.first_ready, out.ready, out.start, out.attempts, out.driver,
            out.waited_for)
    _run_block(_plan_arrays(plan), _draw_arrays(plan, draws), state, outs, n)
    return out


# --- the compiled trial --------------------------------------------------------------------
# Each function below is the namesake in des.py / dispatcher.py; P is the plan, D the draws,
# S the trial's state and R the outcome (result) arrays, i the trial.


@njit(cache=True, inline="always")
def _before(t: Any, pr: Any, e: int, f: int) -> bool:
    """Event e is popped before event f: (time, priority, insertion order)."""
    if t[e] != t[f]:
        return bool(t[e] < t[f])
    if pr[e] != pr[f]:
        return bool(pr[e] < pr[f])
    return e < f


@njit(cache=True)
def _schedule(S: Any, delay: float, prio: int, kind: int, a: int, att: int, v: int,
              x: float, y: float) -> None:
    c, now = S[C], S[NOW]
    e = c[C_EID]
    c[C_EID] += 1
    S[E_TIME][e] = now[0] + delay
    S[E_PRIO][e] = prio
    S[E_KIND][e] = kind
    S[E_A][e] = a
    S[E_ATT][e] = att
    S[E_V][e] = v
    S[E_X][e] = x
    S[E_Y][e] = y
    heap, t, pr = S[HEAP], S[E_TIME], S[E_PRIO]
    k = c[C_HEAP]
    c[C_HEAP] += 1
    heap[k] = e
    while k > 0:
        parent = (k - 1) // 2
        if _before(t, pr, heap[k], heap[parent]):
            heap[k], heap[parent] = heap[parent], heap[k]
            k = parent
        else:
            break


@njit(cache=True)
def _pop(S: Any) -> int:
    c, heap, t, pr = S[C], S[HEAP], S[E_TIME], S[E_PRIO]
    top = heap[0]
    c[C_HEAP] -= 1
    size = c[C_HEAP]
    heap[0] = heap[size]
    k = 0
    while True:
        left = 2 * k + 1
        if left >= size:
            break
        child = left
        if left + 1 < size and _before(t, pr, heap[left + 1], heap[left]):
            child = left + 1
        if _before(t, pr, heap[child], heap[k]):
            heap[k], heap[child] = heap[child], heap[k]
            k = child
        else:
            break
    return int(top)


@njit(cache=True)
def _next_window(P: Any, a: int, t: float) -> float:
    if not P[P_HAS_WINDOW][a]:
        return t
    period, anchor = P[P_PERIOD][a], P[P_ANCHOR][a]
    return float(anchor + np.ceil((t - anchor) / period - EPS) * period)


# -- the dispatcher's queues: binary heaps of request ids, ordered (time, planned, file order,
#    request id)


@njit(cache=True, inline="always")
def _q_less(at: Any, ra: Any, planned: Any, r1: int, r2: int) -> bool:
    if at[r1] != at[r2]:
        return bool(at[r1] < at[r2])
    a1, a2 = ra[r1], ra[r2]
    if planned[a1] != planned[a2]:
        return bool(planned[a1] < planned[a2])
    if a1 != a2:
        return bool(a1 < a2)
    return r1 < r2


@njit(cache=True)
def _q_push(P: Any, S: Any, v: int, rid: int) -> None:
    q, qn, at, ra, planned = S[Q], S[QN], S[R_AT], S[R_A], P[P_PLANNED]
    k = qn[v]
    qn[v] += 1
    q[v, k] = rid
    while k > 0:
        parent = (k - 1) // 2
        if _q_less(at, ra, planned, q[v, k], q[v, parent]):
            q[v, k], q[v, parent] = q[v, parent], q[v, k]
            k = parent
        else:
            break


@njit(cache=True)
def _q_pop(P: Any, S: Any, v: int) -> None:
    q, qn, at, ra, planned = S[Q], S[QN], S[R_AT], S[R_A], P[P_PLANNED]
    qn[v] -= 1
    size = qn[v]
    q[v, 0] = q[v, size]
    k = 0
    while True:
        left = 2 * k + 1
        if left >= size:
            break
        child = left
        if left + 1 < size and _q_less(at, ra, planned, q[v, left + 1], q[v, left]):
            child = left + 1
        if _q_less(at, ra, planned, q[v, child], q[v, k]):
            q[v, k], q[v, child] = q[v, child], q[v, k]
            k = child
        else:
            break


@njit(cache=True)
def _settle_at(S: Any, t: float) -> None:
    c, now = S[C], S[NOW][0]
    t = now + (t - now)
    settles = S[SETTLES]
    for k in range(c[C_SETTLES]):
        if settles[k] == t:
            return
    settles[c[C_SETTLES]] = t
    c[C_SETTLES] += 1
    _schedule(S, t - now, PRIORITY_GRANT, SETTLE, -1, -1, -1, 0.0, 0.0)


@njit(cache=True)
def _request(P: Any, S: Any, a: int, attempt: int, at: float) -> None:
    c, now = S[C], S[NOW][0]
    at = now + (at - now)
    rid = c[C_RID]
    c[C_RID] += 1
    S[R_A][rid] = a
    S[R_ATT][rid] = attempt
    S[R_AT][rid] = at
    S[R_PENDING][rid] = True
    S[REQUEST_OF][a] = rid
    holder, free_at = S[HOLDER], S[FREE_AT]
    for k in range(P[P_AV_PTR][a], P[P_AV_PTR][a + 1]):
        v = P[P_AV_IDX][k]
        _q_push(P, S, v, rid)
        if holder[v] >= 0 and at < free_at[v] < INF:
            _settle_at(S, free_at[v])
    _settle_at(S, at)


@njit(cache=True)
def _release_at(S: Any, v: int, when: float) -> None:
    now = S[NOW][0]
    when = now + (when - now)
    S[FREE_AT][v] = when
    if S[QN][v] > 0:
        _settle_at(S, when)


@njit(cache=True)
def _dispatcher_cancel(S: Any, a: int) -> None:
    now = S[NOW][0]
    rid = S[REQUEST_OF][a]
    if rid >= 0:
        S[REQUEST_OF][a] = -1
        S[R_PENDING][rid] = False
    holder, free_at = S[HOLDER], S[FREE_AT]
    for v in range(len(holder)):
        if holder[v] == a:
            if now < free_at[v]:
                free_at[v] = now
            holder[v] = -1
            free_at[v] = INF
            if S[QN][v] > 0:
                _settle_at(S, now)


@njit(cache=True)
def _settle(P: Any, D: Any, S: Any, R: Any, i: int) -> None:
    c, now = S[C], S[NOW][0]
    settles = S[SETTLES]
    # set.discard(now): the times are distinct, so at most one matches.
    for k in range(c[C_SETTLES]):
        if settles[k] == now:
            c[C_SETTLES] -= 1
            settles[k] = settles[c[C_SETTLES]]
            break
    late = now + EPS
    holder, free_at, q, qn, pending = S[HOLDER], S[FREE_AT], S[Q], S[QN], S[R_PENDING]
    at, ra, planned = S[R_AT], S[R_A], P[P_PLANNED]
    av_ptr, av_idx = P[P_AV_PTR], P[P_AV_IDX]
    n_veh = len(holder)
    while True:
        first = -1
        for v in range(n_veh):
            if qn[v] == 0:
                continue
            if holder[v] >= 0:
                if free_at[v] > late:
                    continue
                holder[v] = -1
                free_at[v] = INF
            while qn[v] > 0 and not pending[q[v, 0]]:
                _q_pop(P, S, v)
            if qn[v] > 0 and S[R_AT][q[v, 0]] <= late:
                head = q[v, 0]
                if first < 0 or _q_less(at, ra, planned, head, first):
                    first = head
        if first < 0:
            return
        a, attempt = S[R_A][first], S[R_ATT][first]
        pending[first] = False
        S[REQUEST_OF][a] = -1
        # Offered several vehicles at once, the launch takes the first in its own list.
        chosen = -1
        for k in range(av_ptr[a], av_ptr[a + 1]):
            v = av_idx[k]
            if qn[v] > 0 and q[v, 0] == first and holder[v] < 0:
                chosen = v
                break
        _q_pop(P, S, chosen)
        holder[chosen] = a
        _holding(P, D, S, R, i, a, attempt, chosen, now)


# -- the trial (des._Trial)


@njit(cache=True)
def _first_ready(P: Any, D: Any, R: Any, i: int, a: int) -> float:
    finish = R[O_FINISH]
    ready, driver = 0.0, DRIVER_AS_OF
    floor = D[D_READY_FLOOR][a, i]
    if floor > ready:
        ready, driver = floor, DRIVER_PLANNED
    pred_ptr, pred_idx = P[P_PRED_PTR], P[P_PRED_IDX]
    for k in range(pred_ptr[a], pred_ptr[a + 1]):
        p = pred_idx[k]
        t = finish[i, p] + D[D_LAGS][k, i]
        if t > ready:
            ready, driver = t, p
    R[O_DRIVER][i, a] = driver
    ready = ready + D[D_DELAY][a, i]
    R[O_FIRST_READY][i, a] = ready
    return float(ready)


@njit(cache=True)
def _work(P: Any, D: Any, S: Any, R: Any, i: int, a: int, attempt: int, ready: float) -> None:
    now = S[NOW][0]
    start = _next_window(P, a, ready)
    end = start + D[D_DURATION][a, attempt, i]
    R[O_READY][i, a] = ready
    R[O_ATTEMPTS][i, a] = attempt + 1
    delay = end - now
    if 0.0 > delay:
        delay = 0.0
    _schedule(S, delay, PRIORITY_EVENT, WORK_END, a, attempt, -1, ready, start)


@njit(cache=True)
def _launch(P: Any, S: Any, R: Any, i: int, a: int, attempt: int, ready: float) -> None:
    R[O_READY][i, a] = ready
    R[O_ATTEMPTS][i, a] = attempt + 1
    _request(P, S, a, attempt, ready)


@njit(cache=True)
def _start(P: Any, D: Any, S: Any, R: Any, i: int, a: int) -> None:
    if S[CANCELLED_AT][a] < INF:
        return
    ready = _first_ready(P, D, R, i, a)
    if P[P_AV_PTR][a + 1] > P[P_AV_PTR][a]:
        _launch(P, S, R, i, a, 0, ready)
    else:
        _work(P, D, S, R, i, a, 0, ready)


@njit(cache=True)
def _finish(P: Any, D: Any, S: Any, R: Any, i: int, a: int) -> None:
    R[O_FINISH][i, a] = S[NOW][0]
    S[OVER][a] = True
    if S[FIN_MADE][a] != 0:
        _schedule(S, 0.0, PRIORITY_EVENT, FINISHED, a, -1, -1, 0.0, 0.0)
    waiting = S[WAITING]
    succ_ptr, succ_idx = P[P_SUCC_PTR], P[P_SUCC_IDX]
    for k in range(succ_ptr[a], succ_ptr[a + 1]):
        s = succ_idx[k]
        waiting[s] -= 1
        if waiting[s] == 0:
            _start(P, D, S, R, i, s)


@njit(cache=True)
def _attempt_failed(P: Any, D: Any, S: Any, i: int, a: int, attempt: int) -> float:
    """The next attempt's ready time, or NaN when none are left."""
    if attempt + 1 < P[P_ATTEMPTS][a]:
        return float(S[NOW][0] + D[D_REBUILD][a, attempt, i])
    S[OVER][a] = True
    return np.nan


@njit(cache=True)
def _work_ends(P: Any, D: Any, S: Any, R: Any, i: int, a: int, attempt: int, ready: float,
               start: float) -> None:
    cancelled_at = S[CANCELLED_AT][a]
    if start < cancelled_at:
        R[O_START][i, a] = start
    if cancelled_at < INF:
        return
    if D[D_SUCCESS_U][a, attempt, i] < P[P_SUCCESS][a]:
        _finish(P, D, S, R, i, a)
        return
    next_ready = _attempt_failed(P, D, S, i, a, attempt)
    if not np.isnan(next_ready):
        _work(P, D, S, R, i, a, attempt + 1, next_ready)


@njit(cache=True)
def _next_attempt(P: Any, D: Any, S: Any, R: Any, i: int, a: int, attempt: int) -> None:
    ready = _attempt_failed(P, D, S, i, a, attempt)
    if not np.isnan(ready):
        _launch(P, S, R, i, a, attempt + 1, ready)


@njit(cache=True)
def _launch_fails(P: Any, D: Any, S: Any, R: Any, i: int, a: int, attempt: int, v: int) -> None:
    if S[CANCELLED_AT][a] < INF:
        return
    now = S[NOW][0]
    R[O_START][i, a] = now
    failures = S[FAILURES]
    k = failures[v]
    failures[v] += 1
    S[GROUNDED][v] = now + D[D_STAND_DOWN][v, k, i]
    _next_attempt(P, D, S, R, i, a, attempt)


@njit(cache=True)
def _mission_ends(P: Any, D: Any, S: Any, R: Any, i: int, a: int, attempt: int, v: int,
                  launch: float) -> None:
    cancelled_at = S[CANCELLED_AT][a]
    if launch < cancelled_at:
        R[O_START][i, a] = launch
    if cancelled_at < INF:
        return
    if D[D_SUCCESS_U][a, attempt, i] < P[P_SUCCESS][a]:
        _finish(P, D, S, R, i, a)
    else:
        _next_attempt(P, D, S, R, i, a, attempt)


@njit(cache=True)
def _after(P: Any, D: Any, S: Any, R: Any, i: int, when: float, kind: int, a: int,
           attempt: int, v: int, launch: float) -> None:
    """Call the event `kind` at time `when`; now if `when` is not later."""
    now = S[NOW][0]
    if when > now:
        _schedule(S, when - now, PRIORITY_EVENT, kind, a, attempt, v, launch, 0.0)
    elif kind == LAUNCH_FAILS:
        _launch_fails(P, D, S, R, i, a, attempt, v)
    else:
        _mission_ends(P, D, S, R, i, a, attempt, v, launch)


@njit(cache=True)
def _holding(P: Any, D: Any, S: Any, R: Any, i: int, a: int, attempt: int, v: int,
             granted: float) -> None:
    if S[CANCELLED_AT][a] < INF:
        return
    finish = R[O_FINISH]
    vafter_ptr, vafter_idx = P[P_VAFTER_PTR], P[P_VAFTER_IDX]
    for k in range(vafter_ptr[v], vafter_ptr[v + 1]):
        p = vafter_idx[k]
        if finish[i, p] == INF:  # come back when it finishes (never, if it never does)
            S[FIN_MADE][p] = 1
            c = S[C]
            w = c[C_WAITERS]
            c[C_WAITERS] += 1
            S[W_A][w] = a
            S[W_ATT][w] = attempt
            S[W_V][w] = v
            S[W_T][w] = granted
            S[W_NEXT][w] = -1
            if S[W_HEAD][p] < 0:
                S[W_HEAD][p] = w
            else:
                S[W_NEXT][S[W_TAIL][p]] = w
            S[W_TAIL][p] = w
            return
    # max(available, grounded_until, granted) as Python's max picks it
    usable = P[P_AVAILABLE][v]
    if S[GROUNDED][v] > usable:
        usable = S[GROUNDED][v]
    if granted > usable:
        usable = granted
    R[O_WAITED_FOR][i, a] = -1
    for k in range(vafter_ptr[v], vafter_ptr[v + 1]):
        p = vafter_idx[k]
        if finish[i, p] > usable or (finish[i, p] == usable and usable > granted):
            usable = finish[i, p]
            R[O_WAITED_FOR][i, a] = p
    launch = _next_window(P, a, usable)
    _release_at(S, v, launch + P[P_MIN_INTERVAL][v])
    if D[D_LAUNCH_U][a, attempt, i] >= P[P_RELIABILITY][v]:
        _after(P, D, S, R, i, launch, LAUNCH_FAILS, a, attempt, v, launch)
    else:
        end = launch + D[D_DURATION][a, attempt, i]
        _after(P, D, S, R, i, end, MISSION_ENDS, a, attempt, v, launch)


@njit(cache=True)
def _cancel(P: Any, S: Any, r: int) -> None:
    now = S[NOW][0]
    rc_ptr, rc_idx = P[P_RC_PTR], P[P_RC_IDX]
    for k in range(rc_ptr[r], rc_ptr[r + 1]):
        a = rc_idx[k]
        if not S[OVER][a] and S[CANCELLED_AT][a] == INF:
            S[CANCELLED_AT][a] = now
            _dispatcher_cancel(S, a)


@njit(cache=True)
def _trial(P: Any, D: Any, S: Any, R: Any, i: int) -> None:
    c = S[C]
    c[:] = 0
    S[NOW][0] = 0.0
    n_act = len(S[WAITING])
    pred_ptr = P[P_PRED_PTR]
    for a in range(n_act):
        S[WAITING][a] = pred_ptr[a + 1] - pred_ptr[a]
    S[CANCELLED_AT][:] = INF
    S[OVER][:] = False
    S[FIN_MADE][:] = 0
    S[W_HEAD][:] = -1
    S[HOLDER][:] = -1
    S[FREE_AT][:] = INF
    S[QN][:] = 0
    S[REQUEST_OF][:] = -1
    S[GROUNDED][:] = -INF
    S[FAILURES][:] = 0
    # Risks first, at their own priority: they take effect before anything else at their instant.
    rc_ptr = P[P_RC_PTR]
    risk_time = D[D_RISK_TIME]
    for r in range(len(rc_ptr) - 1):
        t = risk_time[r, i]
        if rc_ptr[r + 1] > rc_ptr[r] and t < INF:
            _schedule(S, t, PRIORITY_RISK, RISK, r, -1, -1, 0.0, 0.0)
    succ_ptr, succ_idx = P[P_SUCC_PTR], P[P_SUCC_IDX]
    for a in range(n_act):
        if P[P_IS_DONE][a]:
            done_at = P[P_DONE_AT][a]
            R[O_FINISH][i, a] = done_at
            R[O_START][i, a] = done_at
            R[O_READY][i, a] = done_at
            R[O_FIRST_READY][i, a] = done_at
            S[OVER][a] = True
            R[O_DRIVER][i, a] = DRIVER_DONE
            for k in range(succ_ptr[a], succ_ptr[a + 1]):
                S[WAITING][succ_idx[k]] -= 1
    for a in range(n_act):
        if not P[P_IS_DONE][a] and S[WAITING][a] == 0:
            _start(P, D, S, R, i, a)
    while c[C_HEAP] > 0:
        e = _pop(S)
        S[NOW][0] = S[E_TIME][e]
        kind, a, attempt, v = S[E_KIND][e], S[E_A][e], S[E_ATT][e], S[E_V][e]
        if kind == SETTLE:
            _settle(P, D, S, R, i)
        elif kind == WORK_END:
            _work_ends(P, D, S, R, i, a, attempt, S[E_X][e], S[E_Y][e])
        elif kind == MISSION_ENDS:
            _mission_ends(P, D, S, R, i, a, attempt, v, S[E_X][e])
        elif kind == LAUNCH_FAILS:
            _launch_fails(P, D, S, R, i, a, attempt, v)
        elif kind == FINISHED:
            w = S[W_HEAD][a]
            while w >= 0:
                _holding(P, D, S, R, i, S[W_A][w], S[W_ATT][w], S[W_V][w], S[W_T][w])
                w = S[W_NEXT][w]
        else:
            _cancel(P, S, a)


@intrinsic
def _borrowed(typingctx: Any, arrays: Any) -> Any:
    """The tuple of arrays with their reference counts switched off (a null meminfo).

    Numba counts references to every array passed to or unpacked in a function, atomically;
    with a few dozen arrays in each call that was most of the engine's time. The borrowed
    arrays are only used inside `_run_block`, while the caller holds the real ones.
    """

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        (value,) = args
        for k, ty in enumerate(signature.args[0]):
            array = context.make_array(ty)(context, builder, value=builder.extract_value(value, k))
            array.meminfo = cgutils.get_null_value(array.meminfo.type)
            array.parent = cgutils.get_null_value(array.parent.type)
            value = builder.insert_value(value, array._getvalue(), k)
        return value

    return arrays(arrays), codegen


@njit(cache=True)
def _run_block(P: Any, D: Any, S: Any, R: Any, n: int) -> None:
    P, D, S, R = _borrowed(P), _borrowed(D), _borrowed(S), _borrowed(R)
    for i in range(n):
        _trial(P, D, S, R, i)
