"""The contract between the draws, the engines and the results.

Every engine takes a compiled :class:`~sim.engine.plan.Plan` and one block's draws
(:class:`sim.sampling.BlockDraws`) and returns a :class:`BlockOutcome`: the arrays, dtypes and
codes below. Two engines given the same plan and draws must return identical arrays (exact
equality, no tolerance). What makes that possible is written here, once:

Time
    Days since ``as_of`` at 00:00, float64 everywhere (inputs, the clock, every outcome time);
    ``INF`` means never.

The clock
    An event scheduled at time ``t`` from ``now`` fires with the clock reading
    ``on_clock(now, t) = now + (t - now)``, which differs from ``t`` in the last bit for about
    1 % of pairs (this is SimPy's arithmetic: it stores a delay and adds it back). Every time
    that is compared with the clock (queue times, vehicle release times, settle times) is first
    put through :func:`on_clock` at the moment it is scheduled.

Windows
    :func:`next_window` rounds up to ``anchor + k * period`` with an ``EPS`` slack, so a time a
    rounding error past an opening still takes that opening.

Settles
    The vehicle dispatcher treats a release or a request as due at a settle at ``now`` when its
    time is ``<= now + EPS``.

Order within one instant
    One event queue ordered by (time, priority, insertion order), priorities
    ``PRIORITY_RISK`` < ``PRIORITY_EVENT`` < ``PRIORITY_GRANT``: risks take effect first, then
    activity events in the order they were scheduled, and vehicles are granted last, once
    everything else at that instant is done. A callback that does more work at once (a finish
    that starts its successors, a grant whose launch is due now) does it within the callback,
    depth first, before the next queued event.

Queue ties
    Requests for a vehicle are ordered by ``(request time, planned, file order)``, launches
    without ``planned`` after those with one (``ActivityPlan.tie``). A settle grants one
    vehicle at a time: of the requests at the head of a free vehicle's queue it grants the
    first by that order, which takes the first vehicle in its own list among those it heads;
    what the grant sets off at once (a zero-duration mission's successor requesting a vehicle)
    is done before the next grant is chosen.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

INF = math.inf
EPS = 1e-9  # days; guards window and clock arithmetic against rounding

# Event priorities within one instant (lower first); SimPy's URGENT and NORMAL are 0 and 1.
PRIORITY_RISK = 0
PRIORITY_EVENT = 1
PRIORITY_GRANT = 2

# `driver` codes: what set an activity's first ready time (>= 0: that predecessor's index).
DRIVER_AS_OF = -1
DRIVER_PLANNED = -2
DRIVER_DONE = -3
DRIVER_NONE = -4  # never became ready

# What a trace entry can say (`TraceEvent.what`); `detail` is a vehicle id for the vehicle ones.
TRACE_WORDS = (
    "ready", "request", "grant", "start", "launch", "launch_failed", "failed", "finish",
    "cancelled", "release",
)


class TraceEvent(NamedTuple):
    time: float
    what: str
    activity: str
    detail: str | None = None


OUTCOME_DTYPES: dict[str, type[np.generic]] = {
    "finish": np.float64,
    "first_ready": np.float64,
    "ready": np.float64,
    "start": np.float64,
    "attempts": np.int8,
    "driver": np.int16,
    "waited_for": np.int16,
}


# What a run keeps (Results): start and finish stay float64, but the ready times are
# diagnostics read only by the path analysis, which works on times rounded to float32 anyway,
# so they are kept as float32 (half the memory of a million-trial run's largest arrays),
# rounded down by floor32 so a kept ready time is never after the start it precedes.
RESULT_DTYPES: dict[str, type[np.generic]] = {
    **OUTCOME_DTYPES, "first_ready": np.float32, "ready": np.float32,
}


def floor32(days: np.ndarray) -> np.ndarray:
    """`days` as float32, rounded toward -inf (INF stays INF): monotone, and never later than
    the float64 time, so the order of any two times survives (a tie stays a tie)."""
    with np.errstate(over="ignore"):  # beyond float32's range: +-inf, then one step in
        out: np.ndarray = np.asarray(days).astype(np.float32)
    above = out > days
    # One float32 step down is one unit of the bit pattern read as an integer: down for a
    # positive value, up in magnitude for a negative one (np.nextafter is 50x slower).
    bits = out.view(np.int32)
    bits -= above & (out > 0)
    bits += above & (out < 0)
    zero = above & (out == 0)  # a tiny negative time rounded to -0.0
    if zero.any():
        out[zero] = np.nextafter(np.float32(0), np.float32(-1))
    return out


@dataclass
class BlockOutcome:
    """Per-trial results of one block (rows: trials; columns: activities), dtypes as above."""

    finish: np.ndarray  # days, INF = never
    first_ready: np.ndarray  # ready time of the first attempt (risk delays included)
    ready: np.ndarray  # ready time of the last attempt
    start: np.ndarray  # start (or launch) time of the last attempt
    attempts: np.ndarray  # attempts made (0: done before as_of, or never ready)
    driver: np.ndarray  # DRIVER_* code or a predecessor's index
    waited_for: np.ndarray  # a vehicle `after` activity whose finish set the last launch, or -1

    @classmethod
    def empty(cls, trials: int, activities: int) -> BlockOutcome:
        """Arrays of the right shapes and dtypes, filled with 'nothing happened' values."""
        shape = (trials, activities)
        return cls(
            finish=np.full(shape, INF),
            first_ready=np.full(shape, INF),
            ready=np.full(shape, INF),
            start=np.full(shape, INF),
            attempts=np.zeros(shape, np.int8),
            driver=np.full(shape, DRIVER_NONE, np.int16),
            waited_for=np.full(shape, -1, np.int16),
        )


def on_clock(now: float, t: float) -> float:
    """`t` as the clock will read it when an event scheduled at `now` for `t` fires."""
    return now + (t - now)


def next_window(t: float, window: tuple[float, float] | None) -> float:
    """The first time at or after t on the window anchor + k * period."""
    if window is None:
        return t
    period, anchor = window
    return anchor + math.ceil((t - anchor) / period - EPS) * period
