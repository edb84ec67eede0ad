"""The long differential run: both engines on at least 2,000 generated scenarios rich in exact
ties give identical arrays (make fuzz; FUZZ_EXAMPLES overrides the count)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.model import Scenario

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the helpers in tests/
from engine_agreement import assert_same_outcomes  # noqa: E402
from scenario_strategies import tie_scenarios  # noqa: E402

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "2500"))

pytestmark = pytest.mark.fuzz


@settings(max_examples=EXAMPLES, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(scenario=tie_scenarios(), seed=st.integers(0, 2**31 - 1))
def test_engines_agree_on_generated_scenarios(scenario: Scenario, seed: int) -> None:
    assert_same_outcomes(scenario, seed=seed, block=0, size=200)


@settings(max_examples=EXAMPLES // 2, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(scenario=tie_scenarios(sweepable=True), seed=st.integers(0, 2**31 - 1))
def test_engines_agree_on_generated_scenarios_without_vehicles(scenario: Scenario,
                                                               seed: int) -> None:
    assert_same_outcomes(scenario, seed=seed, block=0, size=200)
