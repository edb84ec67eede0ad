"""Synthetic scenarios of a given size for the benchmark: layered DAGs with vehicles, risks,
failures and reflights, generated from a seed so every run measures the same work."""

from __future__ import annotations

from datetime import date

import numpy as np

from sim.distributions import LogNormal, Triangular, Uniform
from sim.model import (
    Activity,
    AtLeast,
    Dependency,
    Factor,
    Goal,
    OnFailure,
    Risk,
    Scenario,
    Vehicle,
)


def synthetic_scenario(n_activities: int, n_vehicles: int = 3, seed: int = 0) -> Scenario:
    """About a third of the activities are launches; a few risks delay or cancel some."""
    rng = np.random.default_rng(seed)
    vehicles = tuple(
        Vehicle(
            id=f"lv{k}",
            name=f"Launcher {k}",
            reliability=0.95,
            min_interval=3.0,
            stand_down=Triangular(3, 9, 24),
        )
        for k in range(n_vehicles)
    )
    activities = []
    for i in range(n_activities):
        preds = sorted(set(rng.choice(i, size=min(i, 2), replace=False).tolist())) if i else []
        is_launch = i % 3 == 2
        activities.append(
            Activity(
                id=f"a{i}",
                name=f"Activity {i}",
                after=tuple(Dependency(f"a{p}") for p in preds),
                planned=date(2027 + i // 10, 1 + i % 12, 15) if i % 4 == 0 else None,
                slip=LogNormal(2, 12) if i % 4 == 0 else None,
                duration=Triangular(2, 4, 10),
                vehicles=(f"lv{i % n_vehicles}",) if is_launch else (),
                success=0.9 if is_launch else 1.0,
                on_failure=OnFailure(3, Uniform(6, 18)) if is_launch else None,
                factors=("pace",),
            )
        )
    risks = (
        Risk("delay_risk", "A programme delay", probability=0.2, delay=Uniform(3, 12),
             applies_to=tuple(f"a{i}" for i in range(0, n_activities, 7))),
        Risk("cancel_risk", "A cancellation hazard", annual_probability=0.02,
             cancels=(f"a{n_activities - 2}",)),
    )
    last = [f"a{i}" for i in range(n_activities - 5, n_activities)]
    return Scenario(
        title=f"synthetic {n_activities}",
        as_of=date(2026, 5, 1),
        activities=tuple(activities),
        goal=Goal("synthetic goal", date(2040, 12, 31), AtLeast(3, tuple(last))),
        factors=(Factor("pace", LogNormal(1.0, 1.3)),),
        vehicles=vehicles,
        risks=risks,
    )


def pert_network(n_activities: int, seed: int = 0) -> list[dict[str, object]]:
    """A PERT network without vehicles, windows or failures: layered, two predecessors at
    most, three-point durations in days, as records (id, predecessors, a, m, b)."""
    rng = np.random.default_rng(seed)
    records: list[dict[str, object]] = []
    for i in range(n_activities):
        preds = sorted(set(rng.choice(i, size=min(i, 2), replace=False).tolist())) if i else []
        low = float(rng.integers(2, 10))
        mode = low + float(rng.integers(0, 10))
        high = mode + float(rng.integers(1, 20))
        records.append({"id": f"a{i}", "predecessors": [f"a{p}" for p in preds],
                        "a": low, "m": mode, "b": high})
    return records


def pert_scenario(records: list[dict[str, object]]) -> Scenario:
    """The same network as an ilrs-sim scenario: Beta-PERT durations, goal = every activity."""
    from sim.distributions import Pert
    from sim.model import AllOf

    activities = tuple(
        Activity(
            id=str(r["id"]), name=str(r["id"]),
            after=tuple(Dependency(str(p)) for p in r["predecessors"]),  # type: ignore[attr-defined]
            duration=Pert(float(r["a"]), float(r["m"]), float(r["b"])),  # type: ignore[arg-type]
        )
        for r in records
    )
    return Scenario(
        title=f"PERT network {len(records)}", as_of=date(2026, 5, 1), time_unit="days",
        activities=activities,
        goal=Goal("every activity", date(2030, 12, 31), AllOf(tuple(a.id for a in activities))),
    )
