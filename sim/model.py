"""The scenario as frozen, validated data: what the engine consumes.

No I/O and no SimPy here. :mod:`sim.scenario` builds these objects from YAML (checking every
field and reporting where); a what-if variant is a new value made with
``dataclasses.replace``, never a mutation. Dates are ``datetime.date``; durations are in the
scenario's ``time_unit`` until :mod:`sim.sampling` converts them to days.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from types import MappingProxyType
from typing import Any

from .distributions import ZERO, AnyDistribution
from .validation import (
    activity_problems,
    raise_if,
    risk_problems,
    scenario_problems,
    vehicle_problems,
)

# Days in one unit of `time_unit`; a month is a twelfth of a Julian year.
DAYS_PER_UNIT: Mapping[str, float] = MappingProxyType(
    {"days": 1.0, "months": 365.25 / 12, "years": 365.25}
)
DAYS_PER_YEAR = 365.25

# Ids that would clash with the fixed columns of trials.parquet.
RESERVED_IDS = frozenset({"trial", "goal"})


@dataclass(frozen=True)
class Dependency:
    """Finish-to-start link: start no earlier than `id` finishes plus `lag`."""

    id: str
    lag: AnyDistribution = ZERO


@dataclass(frozen=True)
class Window:
    """Starts (or launches) allowed only at anchor + k * period, k an integer."""

    period: float
    anchor: date


@dataclass(frozen=True)
class OnFailure:
    """Retry policy: `attempts` counts the first; a retry is ready `rebuild` after a failure."""

    attempts: int
    rebuild: AnyDistribution


@dataclass(frozen=True)
class Activity:
    id: str
    name: str
    after: tuple[Dependency, ...] = ()
    planned: date | None = None
    slip: AnyDistribution | None = None
    announced: date | None = None  # when the plan `planned` was stated (calibrated slips)
    duration: AnyDistribution = ZERO
    vehicles: tuple[str, ...] = ()
    window: Window | None = None
    success: float = 1.0
    on_failure: OnFailure | None = None
    factors: tuple[str, ...] = ()
    done: date | None = None
    failed: date | None = None  # an attempt failed on this date
    launched: date | None = None  # in flight since this date
    partial: date | None = None  # finished short of the goal's need on this date
    source: str | None = None

    def __post_init__(self) -> None:
        raise_if(activity_problems(self))

    @property
    def is_launch(self) -> bool:
        return bool(self.vehicles)

    @property
    def attempts(self) -> int:
        return self.on_failure.attempts if self.on_failure else 1

    @property
    def finished_on(self) -> date | None:
        """The day it finished before as_of (done, or a partial outcome), else None."""
        return self.done or self.partial

    @property
    def attempts_made(self) -> int:
        """Attempts over before as_of that the engine does not make: the finished one of a
        done (or partial) activity, and a recorded failure. Added to the engine's count, so
        the attempts column counts what happened."""
        failures = 1 if self.failed is not None else 0
        if self.finished_on is not None:
            return 1 + failures
        return failures  # in flight: the engine counts the attempt under way

    @property
    def attempts_left(self) -> int:
        """Attempts the engine may still make: 0 when a failure used the last one (lost);
        one for a mission in flight (its attempt is under way). A finished one makes none,
        but keeps its count, so its draws have the rows the plan says."""
        if self.launched is not None and self.finished_on is None:
            return 1
        failures = 1 if self.failed is not None and self.finished_on is None else 0
        return self.attempts - failures

    @property
    def lost(self) -> bool:
        return self.finished_on is None and self.attempts_left <= 0

    @property
    def settled(self) -> bool:
        """Nothing left to forecast: finished (done, partial) or lost before as_of."""
        return self.finished_on is not None or self.lost

    @property
    def under_way(self) -> bool:
        """A recorded failure or launch: its predecessors have evidently finished, so it no
        longer waits for them."""
        return self.finished_on is None and (self.failed is not None or
                                             self.launched is not None)

    @property
    def status(self) -> str:
        """What happened before as_of, in words, for tables ('' when nothing did)."""
        if self.done is not None:
            return f"done on {self.done}"
        if self.partial is not None:
            return f"partial on {self.partial}"
        if self.launched is not None:
            return f"in flight since {self.launched}"
        if self.failed is not None:
            return f"lost on {self.failed}" if self.lost else f"failed on {self.failed}"
        return ""


@dataclass(frozen=True)
class Vehicle:
    id: str
    name: str
    reliability: float = 1.0
    min_interval: float = 0.0
    stand_down: AnyDistribution = ZERO
    available: date | None = None
    after: tuple[str, ...] = ()
    source: str | None = None

    def __post_init__(self) -> None:
        raise_if(vehicle_problems(self))


@dataclass(frozen=True)
class Risk:
    """A register entry: occurs at as_of with `probability`, or when a yearly hazard strikes."""

    id: str
    name: str
    probability: float | None = None
    annual_probability: float | None = None
    delay: AnyDistribution | None = None
    applies_to: tuple[str, ...] = ()
    cancels: tuple[str, ...] = ()
    occurred: date | None = None  # happened: applied at as_of, never drawn
    expired: date | None = None  # can no longer happen: never drawn
    source: str | None = None

    def __post_init__(self) -> None:
        raise_if(risk_problems(self))


@dataclass(frozen=True)
class Factor:
    """A programme-wide multiplier, drawn once per trial."""

    id: str
    distribution: AnyDistribution


@dataclass(frozen=True)
class AllOf:
    parts: tuple[Requirement, ...]


@dataclass(frozen=True)
class AnyOf:
    parts: tuple[Requirement, ...]


@dataclass(frozen=True)
class AtLeast:
    count: int
    parts: tuple[Requirement, ...]


Requirement = str | AllOf | AnyOf | AtLeast


def requirement_ids(req: Requirement) -> Iterator[str]:
    """Every activity id a requirement names, in order."""
    if isinstance(req, str):
        yield req
    else:
        for part in req.parts:
            yield from requirement_ids(part)


@dataclass(frozen=True)
class Goal:
    name: str
    deadline: date
    requires: Requirement


@dataclass(frozen=True)
class Scenario:
    title: str
    as_of: date
    activities: tuple[Activity, ...]
    goal: Goal
    description: str = ""
    time_unit: str = "months"
    sources: Mapping[str, str] = field(default_factory=dict)
    factors: tuple[Factor, ...] = ()
    vehicles: tuple[Vehicle, ...] = ()
    risks: tuple[Risk, ...] = ()
    # Provenance: the rules file of `reference_class` slips (relative to `path`; the slips hold
    # the rules themselves), the file it came from and the resolved mapping (after `extends`).
    slip_rules: str | None = field(default=None, compare=False)
    path: str | None = field(default=None, compare=False)
    resolved: Mapping[str, Any] | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        """Every check of the whole scenario (elements check themselves when made)."""
        raise_if(scenario_problems(self), self.path)

    @property
    def days_per_unit(self) -> float:
        return DAYS_PER_UNIT[self.time_unit]

    def days_from_as_of(self, day: date) -> float:
        """Engine time (days since as_of, 00:00) of the start of `day`."""
        return float((day - self.as_of).days)

    @cached_property
    def activity_index(self) -> Mapping[str, int]:
        return {a.id: i for i, a in enumerate(self.activities)}

    @cached_property
    def vehicle_index(self) -> Mapping[str, int]:
        return {v.id: i for i, v in enumerate(self.vehicles)}

    def activity(self, activity_id: str) -> Activity:
        return self.activities[self.activity_index[activity_id]]

    def vehicle(self, vehicle_id: str) -> Vehicle:
        return self.vehicles[self.vehicle_index[vehicle_id]]

    def replace_activity(self, activity_id: str, **changes: Any) -> Scenario:
        """A variant with one activity changed (other elements keep their random draws).

        Raises ScenarioError, with field paths, if the variant is not a valid scenario.
        """
        if activity_id not in self.activity_index:
            raise_if([(("activities", activity_id), f"unknown activity '{activity_id}'")],
                     self.path)
        i = self.activity_index[activity_id]
        new = dataclasses.replace(self.activities[i], **changes)
        activities = self.activities[:i] + (new,) + self.activities[i + 1 :]
        return dataclasses.replace(self, activities=activities, resolved=None)


def dependency_graph(scenario: Scenario) -> dict[str, list[str]]:
    """Activity id -> the activity ids it waits for, including its vehicles' `after` lists."""
    vehicle_after = {v.id: list(v.after) for v in scenario.vehicles}
    graph: dict[str, list[str]] = {}
    for act in scenario.activities:
        preds = [d.id for d in act.after]
        for vid in act.vehicles:
            preds.extend(vehicle_after.get(vid, []))
        graph[act.id] = preds
    return graph


def find_cycle(graph: Mapping[str, list[str]]) -> list[str] | None:
    """A dependency cycle as [a, b, ..., a], or None. Iterative DFS, so deep chains are fine."""
    white, grey, black = 0, 1, 2
    colour = dict.fromkeys(graph, white)
    for root in graph:
        if colour[root] != white:
            continue
        stack: list[tuple[str, Iterator[str]]] = [(root, iter(graph[root]))]
        colour[root] = grey
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                colour[node] = black
                stack.pop()
            elif colour.get(child, black) == grey:
                path = [n for n, _ in stack]
                return path[path.index(child) :] + [child]
            elif colour.get(child) == white:
                colour[child] = grey
                stack.append((child, iter(graph[child])))
    return None


def topological_order(scenario: Scenario) -> list[int]:
    """Activity indices with every predecessor before its successors (file order breaks ties)."""
    graph = dependency_graph(scenario)
    index = scenario.activity_index
    order: list[int] = []
    placed: set[str] = set()
    pending = [a.id for a in scenario.activities]
    while pending:
        rest = []
        for aid in pending:
            if all(p in placed for p in graph[aid]):
                order.append(index[aid])
                placed.add(aid)
            else:
                rest.append(aid)
        if len(rest) == len(pending):
            raise ValueError(f"dependency cycle: {' -> '.join(find_cycle(graph) or rest)}")
        pending = rest
    return order
