"""The compiled engine against the SimPy reference: identical arrays on the same draws.

Exact equality, no tolerance: both follow the rules written in sim.blocks. The long run over
generated scenarios is in tests/fuzz/ (make fuzz).
"""

from __future__ import annotations

import sys
from dataclasses import fields
from pathlib import Path

import numpy as np
import pytest

from sim import load_scenario, run
from sim.blocks import BlockOutcome
from sim.engine import Plan, run_block
from sim.model import Scenario
from sim.sampling import draw_block

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
from synthetic import synthetic_scenario  # noqa: E402

SCENARIOS = sorted(ROOT.glob("scenarios/**/*.yaml"))


def assert_same_outcomes(scenario: Scenario, seed: int, block: int, size: int) -> None:
    plan = Plan.compile(scenario)
    draws = draw_block(scenario, seed, block, size)
    reference, fast = run_block(plan, draws, "des"), run_block(plan, draws, "fast")
    for f in fields(BlockOutcome):
        want, got = getattr(reference, f.name), getattr(fast, f.name)
        assert got.dtype == want.dtype, f.name
        differ = np.flatnonzero((got != want).any(axis=1))
        assert len(differ) == 0, f"{f.name}: trials {differ[:10].tolist()} differ"


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_shipped_scenario(path: Path) -> None:
    assert_same_outcomes(load_scenario(path), seed=20260413, block=0, size=1000)


@pytest.mark.parametrize("activities", [50, 200])
def test_bench_programmes(activities: int) -> None:
    assert_same_outcomes(synthetic_scenario(activities), seed=7, block=3, size=400)


def test_run_gives_the_same_results_with_either_engine() -> None:
    scenario = load_scenario(ROOT / "scenarios/examples/quickstart.yaml")
    a = run(scenario, trials=1500, seed=42, workers=1, engine="des")
    b = run(scenario, trials=1500, seed=42, workers=2, engine="fast")
    assert np.array_equal(a.goal_days, b.goal_days)
    assert np.array_equal(a.start_days, b.start_days)


def test_an_unknown_engine_is_refused() -> None:
    scenario = load_scenario(ROOT / "scenarios/examples/quickstart.yaml")
    with pytest.raises(ValueError, match="engine must be one of des, fast, got 'simpy'"):
        run(scenario, trials=10, seed=1, engine="simpy")
