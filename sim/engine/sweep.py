"""The compiled engine's short cut for plans without vehicles or cancelling risks.

Without vehicles nothing is shared and without cancellations nothing is withdrawn, so no event
depends on the order in which others fire: every activity's times are a function of its
predecessors' finish times and its own draws. This sweep computes them activity by activity in
a topological order, with the same float arithmetic as the event loop (:mod:`.kernel`), so it
gives the same arrays, bit for bit:

- an activity starts (its first ready time is worked out) at the clock time ``now`` of the
  finish of its last predecessor to finish, which is the latest of their finish times (done
  activities finish before the run and count as 0, the time the run starts);
- an attempt's end event fires at ``now + max(end - now, 0)``, as SimPy's clock computes it,
  and a failed attempt's rebuild is counted from there.

tests/test_engines_agree.py runs both this sweep and the SimPy engine on the same draws.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit

from ..blocks import DRIVER_AS_OF, DRIVER_DONE, DRIVER_PLANNED, EPS

__all__ = ["sweep_trials"]

INF = np.inf


@njit(cache=True)
def sweep_trials(order: Any, pred_ptr: Any, pred_idx: Any, has_window: Any, period: Any,
                 anchor: Any, success: Any, attempts: Any, is_done: Any, done_at: Any,
                 ready_floor: Any, lags: Any, delay: Any, duration: Any, success_u: Any,
                 rebuild: Any, R: Any, n: int) -> None:
    """Trials 0..n-1 of a block, written into the outcome arrays R (see fast.run_block)."""
    (o_finish, o_first_ready, o_ready, o_start, o_attempts, o_driver, o_waited_for) = R
    for i in range(n):
        for a in order:
            if is_done[a]:
                o_finish[i, a] = o_start[i, a] = o_ready[i, a] = o_first_ready[i, a] = done_at[a]
                o_driver[i, a] = DRIVER_DONE
                continue
            if attempts[a] == 0:  # lost before as_of: never starts
                continue
            # The start: when the last predecessor finishes; never if one never does.
            now = 0.0
            ready, driver = 0.0, DRIVER_AS_OF
            floor = ready_floor[a, i]
            if floor > ready:
                ready, driver = floor, DRIVER_PLANNED
            never = False
            for k in range(pred_ptr[a], pred_ptr[a + 1]):
                p = pred_idx[k]
                f = o_finish[i, p]
                if f == INF:
                    never = True
                    break
                if not is_done[p] and f > now:
                    now = f
                t = f + lags[k, i]
                if t > ready:
                    ready, driver = t, p
            if never:
                continue
            o_driver[i, a] = driver
            ready = ready + delay[a, i]
            o_first_ready[i, a] = ready
            for attempt in range(attempts[a]):
                if has_window[a]:
                    x, p_ = anchor[a], period[a]
                    start = float(x + np.ceil((ready - x) / p_ - EPS) * p_)
                else:
                    start = ready
                end = start + duration[a, attempt, i]
                o_ready[i, a] = ready
                o_attempts[i, a] = attempt + 1
                wait = end - now
                if 0.0 > wait:
                    wait = 0.0
                now = now + wait
                o_start[i, a] = start
                if success[a] >= 1.0 or success_u[a, attempt, i] < success[a]:  # u < 1
                    o_finish[i, a] = now
                    break
                if attempt + 1 < attempts[a]:
                    ready = now + rebuild[a, attempt, i]
