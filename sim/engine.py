"""One trial at a time: SimPy processes over pre-drawn inputs. Deterministic given the draws.

Semantics (issue 2, rules 1-10) in brief: an activity is ready at the latest of as_of, its
predecessors' finish plus lag and planned plus slip, then postponed by the risk delays that
apply to it; a launch queues for its vehicle (first come first served), and holding it waits
for the vehicle to be usable and for its window; failures ground the vehicle and, with
attempts left, the activity is rebuilt and tries again. Times are days since as_of.

Vehicles are granted by one dispatcher at the end of each instant (an event with a priority
later than SimPy's NORMAL), so every request made at that instant is in the queue before
anything is granted: ties then follow the rule (earlier `planned`, then file order, then the
launch's own list of vehicles) instead of SimPy's internal event order.
"""

from __future__ import annotations

import gc
import heapq
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import simpy
from simpy.events import NORMAL, URGENT, Event, EventPriority

from .model import Scenario
from .sampling import BlockDraws, draw_block

INF = math.inf
# After NORMAL: vehicles are granted once every other event of the instant is done.
LATE = EventPriority(NORMAL + 1)
EPS = 1e-9  # days; guards window arithmetic against rounding
GC_EVERY = 100  # trials between garbage collections

# `driver` codes: what set an activity's first ready time (>= 0: that predecessor's index).
DRIVER_AS_OF = -1
DRIVER_PLANNED = -2
DRIVER_DONE = -3
DRIVER_NONE = -4  # never became ready


class TraceEvent(NamedTuple):
    time: float
    what: str
    activity: str
    detail: str | None = None


@dataclass(frozen=True)
class ActivityPlan:
    preds: tuple[int, ...]
    vehicles: tuple[int, ...]
    window: tuple[float, float] | None  # (period, anchor) in days
    success: float
    attempts: int
    done_at: float | None
    tie: tuple[float, int]  # queue order among simultaneous requests


@dataclass(frozen=True)
class VehiclePlan:
    reliability: float
    min_interval: float
    available: float
    after: tuple[int, ...]


@dataclass(frozen=True)
class Plan:
    """The scenario compiled to indices and days: the static half of the engine's input."""

    ids: tuple[str, ...]
    vehicle_ids: tuple[str, ...]
    activities: tuple[ActivityPlan, ...]
    vehicles: tuple[VehiclePlan, ...]
    risk_cancels: tuple[tuple[int, ...], ...]
    successors: tuple[tuple[int, ...], ...]

    @classmethod
    def compile(cls, scenario: Scenario) -> Plan:
        ai, vi, dpu = scenario.activity_index, scenario.vehicle_index, scenario.days_per_unit
        acts = []
        for order, a in enumerate(scenario.activities):
            window = None
            if a.window is not None:
                window = (a.window.period * dpu, scenario.days_from_as_of(a.window.anchor))
            planned = scenario.days_from_as_of(a.planned) if a.planned else INF
            acts.append(
                ActivityPlan(
                    preds=tuple(ai[d.id] for d in a.after),
                    vehicles=tuple(vi[v] for v in a.vehicles),
                    window=window,
                    success=a.success,
                    attempts=a.attempts,
                    done_at=scenario.days_from_as_of(a.done) if a.done else None,
                    tie=(planned, order),
                )
            )
        vehicles = tuple(
            VehiclePlan(
                reliability=v.reliability,
                min_interval=v.min_interval * dpu,
                available=scenario.days_from_as_of(v.available) if v.available else -INF,
                after=tuple(ai[x] for x in v.after),
            )
            for v in scenario.vehicles
        )
        cancels = tuple(tuple(ai[x] for x in r.cancels) for r in scenario.risks)
        successors: list[list[int]] = [[] for _ in acts]
        for index, compiled in enumerate(acts):
            for p in compiled.preds:
                successors[p].append(index)
        return cls(
            ids=tuple(a.id for a in scenario.activities),
            vehicle_ids=tuple(v.id for v in scenario.vehicles),
            activities=tuple(acts),
            vehicles=vehicles,
            risk_cancels=cancels,
            successors=tuple(tuple(x) for x in successors),
        )


def next_window(t: float, window: tuple[float, float] | None) -> float:
    """The first time at or after t on the window anchor + k * period."""
    if window is None:
        return t
    period, anchor = window
    return anchor + math.ceil((t - anchor) / period - EPS) * period


class _Scheduled(Event):
    """An event that fires `callback` at now + delay with the given priority."""

    def __init__(self, env: simpy.Environment, delay: float, priority: EventPriority,
                 callback: Any):
        super().__init__(env)
        self._ok = True
        self._value = None
        self.callbacks.append(callback)
        env.schedule(self, priority, delay)


@dataclass
class TrialOutcome:
    finish: list[float]
    first_ready: list[float]  # ready time of the first attempt (risk delays included)
    ready: list[float]  # ready time of the last attempt
    start: list[float]  # start (or launch) time of the last attempt
    attempts: list[int]
    driver: list[int]
    waited_for: list[int]  # a vehicle `after` activity whose finish set the last launch, or -1


class _Dispatcher:
    """Launch vehicles as shared resources with first-come-first-served queues.

    A vehicle is released `min_interval` after its launch. The release is lazy: it is only
    acted on (by a settle at that instant) when somebody is queueing, which saves an event for
    most launches.
    """

    def __init__(self, env: simpy.Environment, plan: Plan, trace: list[TraceEvent] | None):
        self.env, self.plan, self.trace = env, plan, trace
        n = len(plan.vehicles)
        self.holder: list[int | None] = [None] * n  # activity holding the vehicle
        self.free_at = [INF] * n  # when the holder gives it back (inf: not launched yet)
        self.queues: list[list[tuple[float, tuple[float, int], int]]] = [[] for _ in range(n)]
        # request id -> (activity, what to call with the vehicle index when it is granted)
        self.pending: dict[int, tuple[int, Callable[[int], None]]] = {}
        self.request_of: dict[int, int] = {}  # activity -> its open request id
        self.grounded_until = [-INF] * n
        self.failures = [0] * n
        self._next_id = 0
        self._settles: set[float] = set()  # times at which a settle is already scheduled

    def request(self, a: int, at: float, on_grant: Callable[[int], None]) -> None:
        """Queue `a` for its vehicles from time `at` (now or later); `on_grant(vehicle)` is
        called when one is granted (by a settle at the end of an instant).

        Entering the queue ahead of time saves waking the launch at `at` only to queue: a
        request is not served before its time, so the order is the same.
        """
        at = self._on_clock(at)
        rid, self._next_id = self._next_id, self._next_id + 1
        self.pending[rid] = (a, on_grant)
        self.request_of[a] = rid
        key = (at, self.plan.activities[a].tie, rid)
        for v in self.plan.activities[a].vehicles:
            heapq.heappush(self.queues[v], key)
            if self.holder[v] is not None and at < self.free_at[v] < INF:
                self._settle_at(self.free_at[v])
        self._settle_at(at)

    def release_at(self, v: int, when: float) -> None:
        """The holder gives the vehicle back at `when` (its launch plus min_interval)."""
        when = self._on_clock(when)
        self.free_at[v] = when
        if self.queues[v]:
            self._settle_at(when)

    def cancel(self, a: int) -> None:
        """Withdraw `a`'s request and give back any vehicle it holds, at once."""
        rid = self.request_of.pop(a, None)
        if rid is not None:
            self.pending.pop(rid, None)
        for v, held in enumerate(self.holder):
            if held == a:
                self.free_at[v] = min(self.free_at[v], self.env.now)
                self._release(v)
                if self.queues[v]:
                    self._settle_at(self.env.now)

    def release_all(self) -> None:
        """At the end of a trial: log the releases nobody was waiting for."""
        for v, held in enumerate(self.holder):
            if held is not None and self.free_at[v] < INF:
                self._release(v)

    def _release(self, v: int) -> None:
        holder = self.holder[v]
        if self.trace is not None and holder is not None:
            self.trace.append(TraceEvent(self.free_at[v], "release", self.plan.ids[holder],
                                         self.plan.vehicle_ids[v]))
        self.holder[v] = None
        self.free_at[v] = INF

    def _on_clock(self, t: float) -> float:
        """`t` as SimPy's clock will read it when an event scheduled for it fires
        (now + (t - now) can differ from t in the last bit). Queue times, release times and
        settle times all use it, so comparisons with the clock are exact."""
        now = self.env.now
        return now + (t - now)

    def _settle_at(self, t: float) -> None:
        assert t >= self.env.now, "a settle cannot be scheduled in the past"
        t = self._on_clock(t)
        if t not in self._settles:
            self._settles.add(t)
            _Scheduled(self.env, t - self.env.now, LATE, self._settle)

    def _settle(self, _: Event) -> None:
        self._settles.discard(self.env.now)
        # Times computed at different moments may round differently in the last bit.
        now = self.env.now + EPS
        pending = self.pending
        while True:
            offers: dict[int, list[int]] = {}
            for v, queue in enumerate(self.queues):
                if not queue:  # nobody waiting: a due release can stay lazy
                    continue
                if self.holder[v] is not None:
                    if self.free_at[v] > now:
                        continue
                    self._release(v)
                while queue and queue[0][2] not in pending:
                    heapq.heappop(queue)  # granted elsewhere or withdrawn
                if queue and queue[0][0] <= now:  # not before the request's own time
                    offers.setdefault(queue[0][2], []).append(v)
            if not offers:
                return
            for rid, offered in offers.items():
                a, on_grant = self.pending.pop(rid)
                del self.request_of[a]
                # Simultaneous offers: the launch takes the first in its own list.
                v = min(offered, key=self.plan.activities[a].vehicles.index)
                heapq.heappop(self.queues[v])  # it was at the head of this queue
                self.holder[v] = a
                on_grant(v)  # the launch carries on at once, within this settle


class TrialInputs:
    """A block's draws as nested Python lists ([element][trial]...), cheap to index per trial."""

    def __init__(self, draws: BlockDraws):
        acts = draws.activities
        self.size = draws.size
        self.ready_floor: list[list[float]] = [d.ready_floor.tolist() for d in acts]
        self.lags: list[list[list[float]]] = [[lag.tolist() for lag in d.lags] for d in acts]
        self.delay: list[list[float]] = [d.risk_delay.tolist() for d in acts]
        # Attempt-indexed draws stay [element][attempt][trial], as drawn.
        self.duration: list[list[list[float]]] = [d.duration.tolist() for d in acts]
        self.launch_u: list[list[list[float]]] = [d.launch_u.tolist() for d in acts]
        self.success_u: list[list[list[float]]] = [d.success_u.tolist() for d in acts]
        self.rebuild: list[list[list[float]]] = [d.rebuild.tolist() for d in acts]
        self.risk_time: list[list[float]] = draws.risk_time.tolist()
        self.stand_down: list[list[list[float]]] = [sd.tolist() for sd in draws.stand_down]


class _Trial:
    """The SimPy model of one trial.

    An activity's process starts when its last predecessor finishes (so a never-finishing
    predecessor leaves it unstarted), works out its ready time and runs its attempts. A plain
    activity sleeps once, from now to its finish, and writes its ready/start entries to the
    trace when it wakes; a launch must be in the vehicle queue at its ready time, so it sleeps
    until then and goes through the dispatcher.
    """

    def __init__(self, plan: Plan, inputs: TrialInputs, i: int, trace: list[TraceEvent] | None):
        self.env = env = simpy.Environment()
        self.plan, self.x, self.i, self.trace = plan, inputs, i, trace
        n = len(plan.activities)
        self.out = TrialOutcome([INF] * n, [INF] * n, [INF] * n, [INF] * n, [0] * n,
                                [DRIVER_NONE] * n, [-1] * n)
        self.waiting = [len(act.preds) for act in plan.activities]
        # Only vehicles' `after` lists wait on finish events; made when first asked for.
        self.finished: list[Event | None] = [None] * n
        self.cancelled_at = [INF] * n
        self.over = [False] * n  # finished, or failed with no attempts left
        self.dispatcher = _Dispatcher(env, plan, trace)

    def run(self) -> TrialOutcome:
        plan, env, out = self.plan, self.env, self.out
        # Risks first, at URGENT priority: they take effect before anything else at their instant.
        for r, cancels in enumerate(plan.risk_cancels):
            t = self.x.risk_time[r][self.i]
            if cancels and t < INF:
                _Scheduled(env, t, URGENT, lambda _, r=r: self.cancel(r))
        for a, act in enumerate(plan.activities):
            if act.done_at is not None:
                out.finish[a] = out.start[a] = out.ready[a] = out.first_ready[a] = act.done_at
                self.over[a] = True
                out.driver[a] = DRIVER_DONE
                for s in plan.successors[a]:
                    self.waiting[s] -= 1
        for a, act in enumerate(plan.activities):
            if act.done_at is None and self.waiting[a] == 0:
                self.start(a)
        env.run()
        self.dispatcher.release_all()
        if self.trace is not None:
            self.trace.sort(key=lambda e: e.time)  # stable: same-time entries keep their order
        return out

    def log(self, what: str, a: int, detail: str | None = None, at: float | None = None) -> None:
        if self.trace is not None:
            time = self.env.now if at is None else at
            self.trace.append(TraceEvent(time, what, self.plan.ids[a], detail))

    def cancel(self, r: int) -> None:
        for a in self.plan.risk_cancels[r]:
            if not self.over[a] and self.cancelled_at[a] == INF:
                self.cancelled_at[a] = self.env.now
                self.log("cancelled", a)
                self.dispatcher.cancel(a)

    def finish(self, a: int) -> None:
        self.out.finish[a] = self.env.now
        self.over[a] = True
        self.log("finish", a)
        ev = self.finished[a]
        if ev is not None:
            ev.succeed()
        for s in self.plan.successors[a]:
            self.waiting[s] -= 1
            if self.waiting[s] == 0:
                self.start(s)

    def until_finished(self, p: int) -> Event:
        ev = self.finished[p]
        if ev is None:
            ev = self.finished[p] = self.env.event()
        return ev

    def first_ready(self, a: int) -> float:
        """Rule 2: the latest of as_of, predecessors' finish + lag, planned + slip; plus delays."""
        out, x, i = self.out, self.x, self.i
        ready, driver = 0.0, DRIVER_AS_OF
        floor = x.ready_floor[a][i]
        if floor > ready:
            ready, driver = floor, DRIVER_PLANNED
        lags = x.lags[a]
        for k, p in enumerate(self.plan.activities[a].preds):
            t = out.finish[p] + lags[k][i]
            if t > ready:
                ready, driver = t, p
        out.driver[a] = driver
        out.first_ready[a] = ready = ready + x.delay[a][i]
        return ready

    def start(self, a: int) -> None:
        """All predecessors have finished: work out the ready time and make the first attempt."""
        if self.cancelled_at[a] < INF:
            return
        ready = self.first_ready(a)
        if self.plan.activities[a].vehicles:
            self.launch(a, 0, ready)
        else:
            self.work(a, 0, ready)

    def attempt_failed(self, a: int, attempt: int) -> float | None:
        """Log a failed attempt; the next attempt's ready time, or None when none are left."""
        self.log("failed", a)
        if attempt + 1 < self.plan.activities[a].attempts:
            return self.env.now + self.x.rebuild[a][attempt][self.i]
        self.over[a] = True
        return None

    def work(self, a: int, attempt: int, ready: float) -> None:
        """A plain activity's attempt: start at the next window time, take its duration.

        One timeout from now to the end (plain work needs no process: nothing can change its
        times once it is ready, only a cancellation, which is checked when it wakes).
        """
        env = self.env
        start = next_window(ready, self.plan.activities[a].window)
        end = start + self.x.duration[a][attempt][self.i]
        self.out.ready[a], self.out.attempts[a] = ready, attempt + 1
        wake = env.timeout(max(end - env.now, 0.0))
        wake.callbacks.append(lambda _: self.work_ends(a, attempt, ready, start))

    def work_ends(self, a: int, attempt: int, ready: float, start: float) -> None:
        cancelled_at = self.cancelled_at[a]
        if ready < cancelled_at:  # a risk at the same instant goes first
            self.log("ready", a, at=ready)
        if start < cancelled_at:
            self.out.start[a] = start
            self.log("start", a, at=start)
        if cancelled_at < INF:
            return
        if self.x.success_u[a][attempt][self.i] < self.plan.activities[a].success:
            self.finish(a)
            return
        next_ready = self.attempt_failed(a, attempt)
        if next_ready is not None:
            self.work(a, attempt + 1, next_ready)

    def launch(self, a: int, attempt: int, ready: float) -> None:
        """A launch attempt: queue for a vehicle from `ready`; the grant carries it on."""
        self.out.ready[a], self.out.attempts[a] = ready, attempt + 1
        self.log("ready", a, at=ready)
        self.log("request", a, at=ready)
        self.dispatcher.request(a, ready, lambda v: self.holding(a, attempt, v, self.env.now, True))

    def holding(self, a: int, attempt: int, v: int, granted: float, first: bool = False) -> None:
        """Holding vehicle v since `granted`: wait for the vehicle's own prerequisites (its
        first flight, say), then launch when it is usable and the window opens."""
        if self.cancelled_at[a] < INF:
            return
        out, veh = self.out, self.plan.vehicles[v]
        if first:
            self.log("grant", a, self.plan.vehicle_ids[v])
        for p in veh.after:
            if out.finish[p] == INF:  # come back when it finishes (never, if it never does)
                self.until_finished(p).callbacks.append(
                    lambda _: self.holding(a, attempt, v, granted))
                return
        dispatcher = self.dispatcher
        usable = max(veh.available, dispatcher.grounded_until[v], granted)
        out.waited_for[a] = -1
        for p in veh.after:
            if out.finish[p] > usable or (out.finish[p] == usable > granted):
                usable, out.waited_for[a] = out.finish[p], p
        launch = next_window(usable, self.plan.activities[a].window)
        dispatcher.release_at(v, launch + veh.min_interval)
        if self.x.launch_u[a][attempt][self.i] >= veh.reliability:
            self.after(launch, lambda: self.launch_fails(a, attempt, v))
        else:
            end = launch + self.x.duration[a][attempt][self.i]
            self.after(end, lambda: self.mission_ends(a, attempt, v, launch))

    def after(self, when: float, then: Any) -> None:
        """Call `then` at time `when` (now: at once)."""
        if when > self.env.now:
            self.env.timeout(when - self.env.now).callbacks.append(lambda _: then())
        else:
            then()

    def launch_fails(self, a: int, attempt: int, v: int) -> None:
        if self.cancelled_at[a] < INF:  # a risk at the launch instant goes first: no launch
            return
        now, dispatcher = self.env.now, self.dispatcher
        self.out.start[a] = now
        self.log("launch_failed", a, self.plan.vehicle_ids[v])
        k = dispatcher.failures[v]
        dispatcher.failures[v] += 1
        dispatcher.grounded_until[v] = now + self.x.stand_down[v][k][self.i]
        self.next_attempt(a, attempt)

    def mission_ends(self, a: int, attempt: int, v: int, launch: float) -> None:
        """A launch that did not fail sleeps once, to the end of its mission; a cancellation
        meanwhile is seen here (the vehicle was given back when it happened)."""
        cancelled_at = self.cancelled_at[a]
        if launch < cancelled_at:
            self.out.start[a] = launch
            self.log("launch", a, self.plan.vehicle_ids[v], at=launch)
        if cancelled_at < INF:
            return
        if self.x.success_u[a][attempt][self.i] < self.plan.activities[a].success:
            self.finish(a)
        else:
            self.next_attempt(a, attempt)

    def next_attempt(self, a: int, attempt: int) -> None:
        ready = self.attempt_failed(a, attempt)
        if ready is not None:
            self.launch(a, attempt + 1, ready)


def simulate_trial(
    plan: Plan, inputs: TrialInputs, i: int, trace: list[TraceEvent] | None = None
) -> TrialOutcome:
    """Run trial `i` of a block; deterministic given the draws."""
    return _Trial(plan, inputs, i, trace).run()


OUTCOME_DTYPES = {
    "finish": np.float64,
    "first_ready": np.float32,
    "ready": np.float32,
    "start": np.float32,
    "attempts": np.int8,
    "driver": np.int16,
    "waited_for": np.int16,
}


@dataclass
class BlockOutcome:
    """Per-trial results of one block (rows: trials; columns: activities)."""

    finish: np.ndarray  # float64 days, inf = never
    first_ready: np.ndarray  # float32 days
    ready: np.ndarray  # float32 days
    start: np.ndarray  # float32 days
    attempts: np.ndarray  # int8
    driver: np.ndarray  # int16
    waited_for: np.ndarray  # int16


def run_block(plan: Plan, draws: BlockDraws) -> BlockOutcome:
    inputs = TrialInputs(draws)
    # Each trial leaves reference cycles (events <-> callbacks); collecting them every
    # GC_EVERY trials instead of whenever the allocator's thresholds trip is faster.
    gc_was_on = gc.isenabled()
    gc.disable()
    rows = []
    try:
        for i in range(draws.size):
            rows.append(simulate_trial(plan, inputs, i))
            if i % GC_EVERY == GC_EVERY - 1:
                gc.collect(0)
    finally:
        if gc_was_on:
            gc.enable()
    return BlockOutcome(**{
        name: np.array([getattr(o, name) for o in rows], dtype=dtype).reshape(draws.size, -1)
        for name, dtype in OUTCOME_DTYPES.items()
    })


def timeline(scenario: Scenario, seed: int = 0, trial: int = 0) -> list[TraceEvent]:
    """The ordered event log of one trial: for exact tests and for explaining a run."""
    from .sampling import BLOCK_SIZE

    block, i = divmod(trial, BLOCK_SIZE)
    draws = draw_block(scenario, seed, block, i + 1)
    trace: list[TraceEvent] = []
    simulate_trial(Plan.compile(scenario), TrialInputs(draws), i, trace)
    return trace
