"""The compiled engine against the SimPy reference: identical arrays on the same draws.

Exact equality, no tolerance: both follow the rules written in sim.blocks. A short run over
generated scenarios rich in ties is here; the long one is in tests/fuzz/ (make fuzz).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from engine_agreement import assert_same_outcomes
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scenario_strategies import tie_scenarios

from sim import load_scenario, run
from sim.model import Scenario

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
from synthetic import pert_network, pert_scenario, synthetic_scenario  # noqa: E402

# Every scenario (scenarios/slip_rules.yaml is the slip rules they use, not a scenario).
SCENARIOS = sorted(p for p in ROOT.glob("scenarios/**/*.yaml") if p.name != "slip_rules.yaml")


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_shipped_scenario(path: Path) -> None:
    assert_same_outcomes(load_scenario(path), seed=20260413, block=0, size=1000)


@pytest.mark.parametrize("activities", [50, 200])
def test_bench_programmes(activities: int) -> None:
    assert_same_outcomes(synthetic_scenario(activities), seed=7, block=3, size=400)


def test_pert_bench_network() -> None:
    # No vehicles and no cancellations: the compiled engine sweeps it without its event loop.
    assert_same_outcomes(pert_scenario(pert_network(50)), seed=7, block=3, size=400)


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


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenario=tie_scenarios(), seed=st.integers(0, 2**31 - 1))
def test_generated_scenarios_rich_in_ties(scenario: Scenario, seed: int) -> None:
    assert_same_outcomes(scenario, seed=seed, block=0, size=60)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenario=tie_scenarios(sweepable=True), seed=st.integers(0, 2**31 - 1))
def test_generated_scenarios_without_vehicles(scenario: Scenario, seed: int) -> None:
    # What the compiled engine computes by sweeping, without its event loop.
    from sim.engine import Plan
    from sim.engine.fast import _sweep_order

    assert _sweep_order(Plan.compile(scenario)) is not None
    assert_same_outcomes(scenario, seed=seed, block=0, size=60)


def test_precision_runs_agree_across_engines_and_workers() -> None:
    # --precision adds rounds of blocks; with workers the compiled engine's first block of each
    # round runs in the parent process.
    scenario = load_scenario(ROOT / "scenarios/examples/quickstart.yaml")
    a = run(scenario, trials=1000, seed=8, workers=1, engine="des", precision=0.02)
    b = run(scenario, trials=1000, seed=8, workers=2, engine="fast", precision=0.02)
    assert a.trials == b.trials > 1000
    assert np.array_equal(a.finish_days, b.finish_days)
    assert np.array_equal(a.waited_for, b.waited_for)
