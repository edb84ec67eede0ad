"""The compiled kernel of the fast engine (see :mod:`sim.engine.fast`): every trial of a
block in one numba function.

It copies the reference engine's structure (:mod:`sim.engine.des`, :mod:`sim.engine.dispatcher`):
one event order, (time, priority, insertion order), with the same events scheduled at the same
points and the same float arithmetic (:mod:`sim.blocks`). The settles, the only events of the
last priority, wait in a heap of their own and are taken when no other event is due at or
before their time, which is the same order. The reference's nested Python
calls (a settle grants a launch, which lands at once, which finishes, which starts its
successors...) are replayed with an explicit stack of tasks, one task per reference function
(T_* below, named after it): a call is a push, and code that runs after a call returns is
pushed first as its own task, so tasks run in the reference's depth-first order. When the
reference changes, change both; tests/test_engines_agree.py and `make fuzz` say whether they
still agree.

Everything runs in one function: numba counts references to every array passed to a function,
atomically, and with dozens of arrays per call that cost more than the model itself.

Where the time goes (`bench/kernel_profile.py`, and a line profile with perf): about 100 ns per
activity, spread over reading its draws (rows [element, attempt, trial], each read a cache miss
every eighth trial), the event queue, the vehicle queues and the branches between. What did not
pay, measured: a 4-ary event heap (no change), prefetching the next trials' draws (5% slower at
50 activities, 10% faster at 200), the draws transposed to trial-major order (the loop 7%
faster, the transpose half as long as the loop), folding a task into the one that calls it (no
change: the hand-over is cheap).

A second round (bench/kernel_profile.py's loop, old and new side by side on the same draws, CPU
time, medians of 5 alternating repeats at a load average of 0.8-1.7) found one change that
pays: `_settle_at` inlined by numba (`inline="always"`), 5.0-5.5 -> 4.6-4.9 us a trial at 50
activities (+9 to +12% in three comparisons), +13% at 200, +19 to +25% on the ILRS baseline.
LLVM had left it an out-of-line call, which takes each array as its seven fields (most of them
through the stack), and it is made several times per launch. What did not pay (single
comparisons scattered between -6% and +7%, no consistent gain): the plan's per-activity and
per-vehicle arrays, and the scratch state, packed into a few 2-D arrays (about 7% fewer stack
moves in the assembly); per-trial counters kept in locals instead of `cnt`; numba's
`error_model="numpy"`; `q_push` inlined as well. With the state packed, its per-trial reset
done in one pass over the rows was slower (-2 to -19%).

What bounds it (`bench/kernel_profile.py --periodic 8`, and valgrind's cachegrind): about 50,000
instructions a trial at 50 activities, and on draws that repeat every 8 trials (the same arrays,
reads and work, but an order of events the branch predictor can learn) 3.0 us instead of 4.7:
a third of the loop is mispredicted branches, because the order of events, and so which task
runs next and how far each heap sifts, changes from trial to trial. That is the price of
replaying SimPy's event order exactly. The heaps are not where it is lost: popping the event
queue Floyd's way (the hole down to a leaf by selects, then the last entry up, which removes
the key-dependent branch of every level) changed nothing (5.55-5.67 against 5.49-5.57 us at 50
activities, timed alone, four alternating pairs); nor did a 4-ary heap, above.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit

from ..blocks import (
    DRIVER_AS_OF,
    DRIVER_DONE,
    DRIVER_PLANNED,
    EPS,
    PRIORITY_EVENT,
    PRIORITY_RISK,
)
from .heaps import KEY_BITS, KEY_MASK, borrowed, pop, push, q_pop, q_push, schedule, t_pop, t_push

__all__ = ["run_trials"]

INF = np.inf

# Tasks, each the namesake function of des.py / dispatcher.py. The first six are also event
# kinds: an event popped from the queue becomes that task.
T_CANCEL = 0  # a risk occurs (event, risk priority)
T_WORK_ENDS = 1
T_LAUNCH_FAILS = 2
T_MISSION_ENDS = 3
T_FINISHED = 4  # the finished-event of an activity that launches are waiting for
T_SETTLE = 5  # a settle (event, grant priority)
T_SETTLE_PASS = 6  # one pass of the settle's loop: grant the first request, if any
T_START = 7
T_WORK = 8
T_LAUNCH = 9
T_HOLDING = 10
T_NEXT_ATTEMPT = 11
T_FINISH = 12
T_WAITER = 13  # the finished-event's callbacks: holding() for each waiting launch, in order


# --- compiled helpers (the queues and the task stack are in .heaps) ---------------------
# Counters in cnt, per trial: 0 events scheduled, 1 queue size, 2 requests made, 3 settle
# times, 4 waiters, 5 settles scheduled; over the block (for bench/kernel_profile.py): 7 events,
# 8 tasks, 9 settles.


# Inlined by numba itself: LLVM left it a call, which passes its three arrays field by field
# (some twenty arguments, mostly through the stack) and spills the loop's live values around
# it; inlined, the loop runs 9-25% faster (see the module docstring).
@njit(cache=True, inline="always")
def _settle_at(cnt: Any, settles: Any, s_fire: Any, now: float, t: float) -> None:
    """Dispatcher._settle_at: one settle per clock time (a set of times in `settles`).

    Settles are the only events of PRIORITY_GRANT, so they are kept out of the event queue, in
    a heap of their firing times `s_fire` (`schedule`'s now + delay): at one time every other
    event comes first, and two settles of one time do the same."""
    t = now + (t - now)
    for k in range(cnt[3]):
        if settles[k] == t:
            return
    settles[cnt[3]] = t
    cnt[3] += 1
    t_push(s_fire, cnt, 5, now + (t - now))


@njit(cache=True)
def _next_window(has_window: Any, period: Any, anchor: Any, a: int, t: float) -> float:
    if not has_window[a]:
        return t
    p, x = period[a], anchor[a]
    return float(x + np.ceil((t - x) / p - EPS) * p)


# --- the block: every trial, in one compiled function --------------------------------------


@njit(cache=True)
def run_trials(P: Any, D: Any, S: Any, R: Any, n: int) -> None:
    """Trials 0..n-1 of a block: P the plan, D the draws, S scratch state, R the outcome
    arrays (written in place); see fast.run_block for the layout of each tuple."""
    (pred_ptr, pred_idx, succ_ptr, succ_idx, av_ptr, av_idx, has_window, period, anchor,
     success, attempts, is_done, done_at, tie_rank, reliability, min_interval, available,
     vafter_ptr, vafter_idx, rc_ptr, rc_idx) = borrowed(P)
    (ready_floor, lags, delay, duration, launch_u, success_u, rebuild, risk_time,
     stand_down, floor_live, lag_live, delay_live) = borrowed(D)
    (cnt, ev_f, ev_i, h_t, h_k, tk_f, tk_i, waiting, cancelled_at, over, fin_made, w_head, w_tail,
     w_i, w_t, holder, free_at, q_t, q_k, qn, r_i, pending, request_of, grounded, failures,
     settles, zero_hits, s_fire) = borrowed(S)
    (o_finish, o_first_ready, o_ready, o_start, o_attempts, o_driver,
     o_waited_for) = borrowed(R)
    n_act, n_veh, n_risk = len(pred_ptr) - 1, len(holder), len(rc_ptr) - 1

    for i in range(n):
        # -- _Trial.__init__ and Dispatcher.__init__
        cnt[7] += cnt[0]
        cnt[:6] = 0
        now = 0.0
        for a in range(n_act):
            waiting[a] = pred_ptr[a + 1] - pred_ptr[a]
        cancelled_at[:] = INF
        over[:] = False
        fin_made[:] = False
        w_head[:] = -1
        holder[:] = -1
        free_at[:] = INF
        qn[:] = 0
        request_of[:] = -1
        grounded[:] = -INF
        failures[:] = 0
        sp = 0  # tasks on the stack

        # -- _Trial.run: risks first, at their own priority; done activities; first starts
        for r in range(n_risk):
            t = risk_time[r, i]
            if rc_ptr[r + 1] > rc_ptr[r] and t < INF:
                schedule(cnt, ev_f, ev_i, h_t, h_k, now, t, PRIORITY_RISK, T_CANCEL, r, -1, -1,
                         0.0, 0.0)
        for a in range(n_act):
            if is_done[a]:
                o_finish[i, a] = o_start[i, a] = o_ready[i, a] = o_first_ready[i, a] = done_at[a]
                over[a] = True
                o_driver[i, a] = DRIVER_DONE
                for k in range(succ_ptr[a], succ_ptr[a + 1]):
                    waiting[succ_idx[k]] -= 1
        for a in range(n_act - 1, -1, -1):  # pushed last first: they run in file order
            if not is_done[a] and waiting[a] == 0:
                sp = push(tk_f, tk_i, sp, T_START, a, 0, -1, 0.0, 0.0)

        # The task to run next is held in (task, a, attempt, v, x, y). A task whose last act
        # is to call another (a push that would be popped at once) sets them and `tail`
        # instead: the same order, without the round trip through the stack.
        task, a, attempt, v, x, y = -1, -1, -1, -1, 0.0, 0.0
        tail = False
        while True:
            if tail:
                tail = False
            elif sp > 0:
                sp -= 1
                task, a, attempt, v = tk_i[sp, 0], tk_i[sp, 1], tk_i[sp, 2], tk_i[sp, 3]
                x, y = tk_f[sp, 0], tk_f[sp, 1]
            else:  # nothing left to do at once: the next event (env.step)
                if cnt[1] > 0 and (cnt[5] == 0 or h_t[0] <= s_fire[0]):
                    now, e = pop(cnt, h_t, h_k)
                    task, a, attempt, v = ev_i[e, 0], ev_i[e, 1], ev_i[e, 2], ev_i[e, 3]
                    x, y = ev_f[e, 0], ev_f[e, 1]
                    if task == T_FINISHED:  # its callbacks: the launches waiting, in order
                        task, a = T_WAITER, w_head[a]
                elif cnt[5] > 0:
                    now, task = t_pop(s_fire, cnt, 5), T_SETTLE
                else:
                    break
            cnt[8] += 1

            if task == T_START:
                if cancelled_at[a] < INF or attempts[a] == 0:  # cancelled, or lost
                    continue
                # first_ready: the latest of as_of, planned + slip, predecessors + lags
                # (selects, not branches: which one is later is a coin toss the CPU cannot
                # predict, and a mispredicted branch costs more than the whole comparison)
                # A draw row the block never sets (floor_live etc.) is not read: a floor
                # never above 0 cannot be later than as_of; adding a lag or a delay of zero
                # changes no time that can win (ready >= +0.0, so -0.0 never wins).
                ready, driver = 0.0, DRIVER_AS_OF
                if floor_live[a]:
                    floor = ready_floor[a, i]
                    later = floor > 0.0
                    ready = floor if later else 0.0
                    driver = DRIVER_PLANNED if later else DRIVER_AS_OF
                for k in range(pred_ptr[a], pred_ptr[a + 1]):
                    p = pred_idx[k]
                    t = o_finish[i, p]
                    if lag_live[k]:
                        t += lags[k, i]
                    later = t > ready
                    ready = t if later else ready
                    driver = p if later else driver
                o_driver[i, a] = driver
                if delay_live[a]:
                    ready = ready + delay[a, i]
                o_first_ready[i, a] = ready
                task = T_LAUNCH if av_ptr[a + 1] > av_ptr[a] else T_WORK
                attempt, v, x, tail = 0, -1, ready, True

            elif task == T_WORK:
                ready = x
                start = _next_window(has_window, period, anchor, a, ready)
                end = start + duration[a, attempt, i]
                o_ready[i, a] = ready
                o_attempts[i, a] = attempt + 1
                wait = end - now
                if 0.0 > wait:  # max(end - now, 0.0), as Python's max picks
                    wait = 0.0
                schedule(cnt, ev_f, ev_i, h_t, h_k, now, wait, PRIORITY_EVENT, T_WORK_ENDS, a,
                         attempt, -1, ready, start)

            elif task == T_WORK_ENDS:
                start = y
                if start < cancelled_at[a]:
                    o_start[i, a] = start
                if cancelled_at[a] < INF:
                    continue
                # A uniform is below 1, so a sure success needs no draw read (most work is sure).
                if success[a] >= 1.0 or success_u[a, attempt, i] < success[a]:
                    task, tail = T_FINISH, True
                elif attempt + 1 < attempts[a]:  # attempt_failed
                    task, x, attempt, tail = (T_WORK, now + rebuild[a, attempt, i], attempt + 1,
                                              True)
                else:
                    over[a] = True

            elif task == T_FINISH:
                o_finish[i, a] = now
                over[a] = True
                if fin_made[a]:  # ev.succeed(): the waiting launches are called back
                    schedule(cnt, ev_f, ev_i, h_t, h_k, now, 0.0, PRIORITY_EVENT, T_FINISHED, a,
                             -1, -1, 0.0, 0.0)
                hits = 0
                for k in range(succ_ptr[a], succ_ptr[a + 1]):
                    s = succ_idx[k]
                    waiting[s] -= 1
                    if waiting[s] == 0:
                        zero_hits[hits] = s
                        hits += 1
                for k in range(hits - 1, 0, -1):
                    sp = push(tk_f, tk_i, sp, T_START, zero_hits[k], 0, -1, 0.0, 0.0)
                if hits > 0:
                    task, a, tail = T_START, zero_hits[0], True

            elif task == T_LAUNCH:
                ready = x
                o_ready[i, a] = ready
                o_attempts[i, a] = attempt + 1
                # Dispatcher.request
                at = now + (ready - now)
                rid = cnt[2]
                if rid >= len(pending):
                    raise RuntimeError("compiled engine: more requests than planned for")
                cnt[2] += 1
                r_i[rid, 0] = a
                r_i[rid, 1] = attempt
                key = (tie_rank[a] << KEY_BITS) | rid
                pending[rid] = True
                request_of[a] = rid
                for k in range(av_ptr[a], av_ptr[a + 1]):
                    u = av_idx[k]
                    q_push(q_t, q_k, qn, u, at, key)
                    if holder[u] >= 0 and at < free_at[u] < INF:
                        _settle_at(cnt, settles, s_fire, now, free_at[u])
                _settle_at(cnt, settles, s_fire, now, at)

            elif task == T_SETTLE:
                cnt[9] += 1
                for k in range(cnt[3]):  # self._settles.discard(now)
                    if settles[k] == now:
                        cnt[3] -= 1
                        settles[k] = settles[cnt[3]]
                        break
                task, tail = T_SETTLE_PASS, True

            elif task == T_SETTLE_PASS:
                late = now + EPS
                first, first_t, first_k = -1, 0.0, 0
                for u in range(n_veh):
                    if qn[u] == 0:
                        continue
                    if holder[u] >= 0:
                        if free_at[u] > late:
                            continue
                        holder[u] = -1
                        free_at[u] = INF
                    while qn[u] > 0 and not pending[q_k[u, 0] & KEY_MASK]:
                        q_pop(q_t, q_k, qn, u)
                    if qn[u] > 0 and q_t[u, 0] <= late:
                        ht, hk = q_t[u, 0], q_k[u, 0]
                        if first < 0 or ht < first_t or (ht == first_t and hk < first_k):
                            first, first_t, first_k = hk & KEY_MASK, ht, hk
                if first < 0:
                    continue
                b, b_attempt = r_i[first, 0], r_i[first, 1]
                pending[first] = False
                request_of[b] = -1
                chosen = -1  # the first vehicle in its own list of those it heads
                for k in range(av_ptr[b], av_ptr[b + 1]):
                    u = av_idx[k]
                    if chosen < 0 and qn[u] > 0 and q_k[u, 0] == first_k and holder[u] < 0:
                        chosen = u
                q_pop(q_t, q_k, qn, chosen)
                holder[chosen] = b
                sp = push(tk_f, tk_i, sp, T_SETTLE_PASS, -1, -1, -1, 0.0, 0.0)
                task, a, attempt, v, x, tail = T_HOLDING, b, b_attempt, chosen, now, True

            elif task == T_WAITER:
                w = a
                if w < 0:
                    continue
                if w_i[w, 3] >= 0:
                    sp = push(tk_f, tk_i, sp, T_WAITER, w_i[w, 3], -1, -1, 0.0, 0.0)
                task, a, attempt, v, x, tail = (T_HOLDING, w_i[w, 0], w_i[w, 1], w_i[w, 2],
                                                w_t[w], True)

            elif task == T_HOLDING:
                granted = x
                if cancelled_at[a] < INF:
                    continue
                waits = False
                for k in range(vafter_ptr[v], vafter_ptr[v + 1]):
                    p = vafter_idx[k]
                    if o_finish[i, p] == INF:  # come back when it finishes (never, if never)
                        fin_made[p] = True
                        w = cnt[4]
                        if w >= len(w_t):
                            raise RuntimeError("compiled engine: more waiters than planned for")
                        cnt[4] += 1
                        w_i[w, 0] = a
                        w_i[w, 1] = attempt
                        w_i[w, 2] = v
                        w_i[w, 3] = -1
                        w_t[w] = granted
                        if w_head[p] < 0:
                            w_head[p] = w
                        else:
                            w_i[w_tail[p], 3] = w
                        w_tail[p] = w
                        waits = True
                        break
                if waits:
                    continue
                usable = available[v]  # max(available, grounded_until, granted)
                if grounded[v] > usable:
                    usable = grounded[v]
                if granted > usable:
                    usable = granted
                o_waited_for[i, a] = -1
                for k in range(vafter_ptr[v], vafter_ptr[v + 1]):
                    p = vafter_idx[k]
                    f = o_finish[i, p]
                    if f > usable or (f == usable and usable > granted):
                        usable = f
                        o_waited_for[i, a] = p
                launch = _next_window(has_window, period, anchor, a, usable)
                # Dispatcher.release_at
                when = launch + min_interval[v]
                when = now + (when - now)
                free_at[v] = when
                if qn[v] > 0:
                    _settle_at(cnt, settles, s_fire, now, when)
                if launch_u[a, attempt, i] >= reliability[v]:
                    kind, when = T_LAUNCH_FAILS, launch
                else:
                    kind, when = T_MISSION_ENDS, launch + duration[a, attempt, i]
                if when > now:  # _Trial.after
                    schedule(cnt, ev_f, ev_i, h_t, h_k, now, when - now, PRIORITY_EVENT, kind, a,
                             attempt, v, launch, 0.0)
                else:
                    task, x, tail = kind, launch, True

            elif task == T_LAUNCH_FAILS:
                if cancelled_at[a] < INF:
                    continue
                o_start[i, a] = now
                k = failures[v]
                failures[v] += 1
                grounded[v] = now + stand_down[v, k, i]
                task, tail = T_NEXT_ATTEMPT, True

            elif task == T_MISSION_ENDS:
                launch = x
                if launch < cancelled_at[a]:
                    o_start[i, a] = launch
                if cancelled_at[a] < INF:
                    continue
                if success[a] >= 1.0 or success_u[a, attempt, i] < success[a]:
                    task, tail = T_FINISH, True
                else:
                    task, tail = T_NEXT_ATTEMPT, True

            elif task == T_NEXT_ATTEMPT:
                if attempt + 1 < attempts[a]:  # attempt_failed
                    task, x, attempt, tail = (T_LAUNCH, now + rebuild[a, attempt, i],
                                              attempt + 1, True)
                else:
                    over[a] = True

            elif task == T_CANCEL:
                r = a
                for k in range(rc_ptr[r], rc_ptr[r + 1]):
                    b = rc_idx[k]
                    if over[b] or cancelled_at[b] < INF:
                        continue
                    cancelled_at[b] = now
                    # Dispatcher.cancel: withdraw the request, give back a held vehicle
                    rid = request_of[b]
                    if rid >= 0:
                        request_of[b] = -1
                        pending[rid] = False
                    for u in range(n_veh):
                        if holder[u] == b:
                            holder[u] = -1
                            free_at[u] = INF
                            if qn[u] > 0:
                                _settle_at(cnt, settles, s_fire, now, now)
    cnt[7] += cnt[0]
