"""The reference engine: one trial at a time as SimPy events over pre-drawn inputs.

Deterministic given the draws; the contract it keeps (and the compiled engine copies) is in
:mod:`sim.blocks`.

Semantics (issue 2, rules 1-10) in brief: an activity is ready at the latest of as_of, its
predecessors' finish plus lag and planned plus slip, then postponed by the risk delays that
apply to it; a launch queues for its vehicle (first come first served), and holding it waits
for the vehicle to be usable and for its window; failures ground the vehicle and, with
attempts left, the activity is rebuilt and tries again. Times are days since as_of.

Vehicles are granted by one dispatcher (:mod:`sim.engine.dispatcher`) at the end of each instant, so
ties follow the rule (earlier `planned`, then file order, then the launch's own list of
vehicles) instead of SimPy's internal event order. Plain work and launches are chains of
SimPy events with callbacks rather than generator processes: one timeout per plain attempt,
one wake per launch, which is what makes the engine fast enough (see the README).
"""

from __future__ import annotations

import gc
from dataclasses import dataclass
from typing import Any

import numpy as np
import simpy
from simpy.events import URGENT, Event

from ..blocks import (
    DRIVER_AS_OF,
    DRIVER_DONE,
    DRIVER_NONE,
    DRIVER_PLANNED,
    INF,
    OUTCOME_DTYPES,
    BlockOutcome,
    TraceEvent,
    next_window,
)
from ..model import Scenario
from ..sampling import BlockDraws, draw_block
from .dispatcher import Dispatcher, Scheduled
from .plan import Plan

__all__ = ["TrialInputs", "run_block", "simulate_trial", "timeline"]

GC_EVERY = 100  # trials between garbage collections


@dataclass
class TrialOutcome:
    finish: list[float]
    first_ready: list[float]  # ready time of the first attempt (risk delays included)
    ready: list[float]  # ready time of the last attempt
    start: list[float]  # start (or launch) time of the last attempt
    attempts: list[int]
    driver: list[int]
    waited_for: list[int]  # a vehicle `after` activity whose finish set the last launch, or -1


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
        self.dispatcher = Dispatcher(env, plan, trace)

    def run(self) -> TrialOutcome:
        plan, env, out = self.plan, self.env, self.out
        # Risks first, at URGENT priority: they take effect before anything else at their instant.
        for r, cancels in enumerate(plan.risk_cancels):
            t = self.x.risk_time[r][self.i]
            if cancels and t < INF:
                Scheduled(env, t, URGENT, lambda _, r=r: self.cancel(r))
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
    from ..sampling import BLOCK_SIZE

    block, i = divmod(trial, BLOCK_SIZE)
    draws = draw_block(scenario, seed, block, i + 1)
    trace: list[TraceEvent] = []
    simulate_trial(Plan.compile(scenario), TrialInputs(draws), i, trace)
    return trace
