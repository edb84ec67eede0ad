"""The scenario compiled for the engine: indices and days instead of ids and dates."""

from __future__ import annotations

from dataclasses import dataclass

from ..blocks import INF, TraceEvent, next_window
from ..model import Scenario

__all__ = ["INF", "ActivityPlan", "Plan", "TraceEvent", "VehiclePlan", "next_window"]


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

