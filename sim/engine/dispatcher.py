"""Launch vehicles as shared resources: first come first served, granted at the end of each
instant so that simultaneous requests follow the tie rules rather than SimPy's event order."""

from __future__ import annotations

import heapq
from collections.abc import Callable
from typing import Any

import simpy
from simpy.events import NORMAL, Event, EventPriority

from ..blocks import EPS, INF, TraceEvent
from .plan import Plan

# After NORMAL: vehicles are granted once every other event of the instant is done.
LATE = EventPriority(NORMAL + 1)


class Scheduled(Event):
    """An event that fires `callback` at now + delay with the given priority."""

    def __init__(self, env: simpy.Environment, delay: float, priority: EventPriority,
                 callback: Any):
        super().__init__(env)
        self._ok = True
        self._value = None
        self.callbacks.append(callback)
        env.schedule(self, priority, delay)


class Dispatcher:
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
            Scheduled(self.env, t - self.env.now, LATE, self._settle)

    def _settle(self, _: Event) -> None:
        """Grant every vehicle that can be granted now, one grant at a time.

        Each pass offers the free vehicles to the heads of their queues and grants only the
        request that comes first by the queue order (request time, planned, file order). The
        launch carries on at once, within this settle: a zero-duration mission may finish and
        its successor request a vehicle at this same instant, and that request then competes
        in the next pass by the same order (granting every head at once would hand a vehicle
        to a request that is no longer at the head of its queue).
        """
        self._settles.discard(self.env.now)
        # Times computed at different moments may round differently in the last bit.
        now = self.env.now + EPS
        pending = self.pending
        while True:
            first: tuple[float, tuple[float, int], int] | None = None
            offered: list[int] = []  # free vehicles whose queue `first` heads
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
                    head = queue[0]
                    if first is None or head < first:
                        first, offered = head, [v]
                    elif head == first:
                        offered.append(v)
            if first is None:
                return
            a, on_grant = pending.pop(first[2])
            del self.request_of[a]
            # Offered several vehicles at once, the launch takes the first in its own list.
            v = min(offered, key=self.plan.activities[a].vehicles.index)
            heapq.heappop(self.queues[v])  # it is at the head of this queue
            self.holder[v] = a
            on_grant(v)  # the launch carries on at once, within this settle
