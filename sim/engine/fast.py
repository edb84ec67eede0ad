"""The compiled engine: the SimPy engine's events, replayed by numba over arrays.

It gives the same arrays as :mod:`sim.engine.des` for the same plan and draws, exactly (the
rules that make this possible are in :mod:`sim.blocks`; how, in :mod:`sim.engine.kernel`).
This module lays the inputs out for the kernel: the plan as flat arrays (CSR lists for
predecessors, successors, vehicles...), the draws as arrays indexed [element, attempt, trial],
and scratch state sized by upper bounds worked out from the plan. Numba compiles the kernel on
first use and caches the machine code on disk (`cache=True`).
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from ..blocks import BlockOutcome
from ..sampling import BlockDraws
from .kernel import run_trials
from .plan import Plan
from .sweep import sweep_trials

__all__ = ["run_block"]

INF = np.inf


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
    # Vehicle queues order requests of one time by the activity's tie, (planned, file order):
    # its rank in that order, an integer, says the same in one comparison.
    assert all(a.tie[1] == k for k, a in enumerate(acts))  # the file order is the index
    tie_rank = np.empty(len(acts), np.int64)
    tie_rank[sorted(range(len(acts)), key=lambda k: acts[k].tie)] = np.arange(len(acts))
    reliability = np.array([v.reliability for v in vehs], np.float64)
    min_interval = np.array([v.min_interval for v in vehs], np.float64)
    available = np.array([v.available for v in vehs], np.float64)
    vafter_ptr, vafter_idx = _csr([v.after for v in vehs])
    rc_ptr, rc_idx = _csr(plan.risk_cancels)
    return (pred_ptr, pred_idx, succ_ptr, succ_idx, av_ptr, av_idx, has_window, period, anchor,
            success, attempts, is_done, done_at, tie_rank, reliability, min_interval, available,
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


@functools.lru_cache(maxsize=16)
def _sweep_order(plan: Plan) -> np.ndarray | None:
    """A topological order of the activities when the plan can be swept (no vehicles, no
    cancelling risk: see :mod:`.sweep`); None when it needs the event loop."""
    if plan.vehicles or any(plan.risk_cancels):
        return None
    waiting = [len(a.preds) for a in plan.activities]
    order = [a for a, w in enumerate(waiting) if w == 0]
    for a in order:  # grows while it is walked
        for s in plan.successors[a]:
            waiting[s] -= 1
            if waiting[s] == 0:
                order.append(s)
    return np.array(order, np.int64)


def _draw_arrays(draws: BlockDraws) -> tuple[Any, ...]:
    """The block's draws, already drawn into whole arrays (:class:`sim.sampling.BlockArrays`)."""
    d = draws.arrays
    return (d.ready_floor, d.lags, d.delay, d.duration, d.launch_u, d.success_u, d.rebuild,
            d.risk_time, d.stand_down)


def _kernel_draws(draws: BlockDraws) -> tuple[Any, ...]:
    """The draws for the event loop: the arrays, then which rows of the ready floors, lags
    and risk delays can matter in this block (a floor above 0, a lag or delay not 0): the
    loop reads only those, a few hundred fewer scattered reads per trial."""
    d = draws.arrays
    return (*_draw_arrays(draws), (d.ready_floor > 0).any(axis=1), (d.lags != 0).any(axis=1),
            (d.delay != 0).any(axis=1))


def run_block(plan: Plan, draws: BlockDraws) -> BlockOutcome:
    """Every trial of one block; the same arrays as the SimPy engine gives."""
    n, n_act = draws.size, len(plan.activities)
    out = BlockOutcome.empty(n, n_act)
    outs = (out.finish, out.first_ready, out.ready, out.start, out.attempts, out.driver,
            out.waited_for)
    order = _sweep_order(plan)
    if order is not None:
        P, D = _plan_arrays(plan), _draw_arrays(draws)
        sweep_trials(order, P[0], P[1], P[6], P[7], P[8], P[9], P[10], P[11], P[12],
                     D[0], D[1], D[2], D[3], D[5], D[6], outs, n)
        return out
    run_trials(_plan_arrays(plan), _kernel_draws(draws), _state(plan), outs, n)
    return out


def loop_counts(plan: Plan, draws: BlockDraws) -> np.ndarray:
    """What the event loop did over a block: events scheduled, tasks run, settles (for the
    profile in bench/kernel_profile.py)."""
    out = BlockOutcome.empty(draws.size, len(plan.activities))
    outs = (out.finish, out.first_ready, out.ready, out.start, out.attempts, out.driver,
            out.waited_for)
    state = _state(plan)
    run_trials(_plan_arrays(plan), _kernel_draws(draws), state, outs, draws.size)
    cnt = state[0]
    return np.array([cnt[7] + cnt[9], cnt[8], cnt[9]])


def _state(plan: Plan) -> tuple[Any, ...]:
    """Scratch state, in the order kernel.run_trials unpacks it; reset there per trial."""
    n_act, n_veh = len(plan.activities), len(plan.vehicles)
    events, per_vehicle, requests, waiters = _capacities(plan)
    tasks = events + 8 * (n_act + waiters) + 64  # pending tasks: siblings of a few frames
    return (
        np.zeros(10, np.int64),  # cnt: counters
        np.zeros((events, 2)), np.zeros((events, 4), np.int64),  # ev_f, ev_i: the events
        np.zeros(events), np.zeros(events, np.int64),  # h_t, h_k: the event queue
        np.zeros((tasks, 2)), np.zeros((tasks, 4), np.int64),  # tk_f, tk_i: the task stack
        np.zeros(n_act, np.int64), np.zeros(n_act),  # waiting, cancelled_at
        np.zeros(n_act, np.bool_), np.zeros(n_act, np.bool_),  # over, fin_made
        np.zeros(n_act, np.int64), np.zeros(n_act, np.int64),  # w_head, w_tail
        np.zeros((waiters, 4), np.int64), np.zeros(waiters),  # w_i, w_t: waiting launches
        np.zeros(n_veh, np.int64), np.zeros(n_veh),  # holder, free_at
        np.zeros((n_veh, per_vehicle)), np.zeros((n_veh, per_vehicle), np.int64),  # q_t, q_k
        np.zeros(n_veh, np.int64),  # qn: the vehicle queues (heaps) and their lengths
        np.zeros((requests, 2), np.int64),  # r_i: each request's activity and attempt
        np.zeros(requests, np.bool_), np.zeros(n_act, np.int64),  # pending, request_of
        np.zeros(n_veh), np.zeros(n_veh, np.int64),  # grounded, failures
        np.zeros(events), np.zeros(n_act, np.int64),  # settles, zero_hits
        np.zeros(events),  # s_fire: when the pending settles fire
    )
