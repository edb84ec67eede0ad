"""A run draws each block into the arrays of its previous block (sim.sampling keeps them per
thread): every value an engine reads must be what a fresh draw gives, block after block."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import dedent
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scenario_strategies import tie_scenarios

from sim import load_scenario
from sim.model import Scenario
from sim.sampling import BLOCK_SIZE, BlockDraws, draw_block, release_block_arrays
from sim.scenario import parse_scenario

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
from synthetic import synthetic_scenario  # noqa: E402

SHIPPED = sorted(p for p in ROOT.glob("scenarios/**/*.yaml") if p.name != "slip_rules.yaml")


def read(d: BlockDraws) -> list[np.ndarray]:
    """Everything an engine reads of a block: the SimPy engine's per-element views, and the
    whole arrays the compiled engine scans for rows that can matter."""
    a = d.arrays
    out = [d.risk_time, *d.stand_down, *d.factors.values(), a.ready_floor, a.lags, a.delay,
           a.risk_time]
    for act in d.activities:
        out += [act.ready_floor, *act.lags, act.duration, act.launch_u, act.success_u,
                act.rebuild, act.risk_delay]
    return out


def assert_same(got: BlockDraws, want: BlockDraws) -> None:
    pairs = list(zip(read(got), read(want), strict=True))
    assert all(x.shape == y.shape and np.array_equal(x, y) for x, y in pairs)


def check_blocks(scenario: Scenario, seed: int, sizes: list[int]) -> None:
    release_block_arrays()
    kept = None
    for block, size in enumerate(sizes):
        got = draw_block(scenario, seed, block, size, reuse=True)
        if kept is not None and size == sizes[block - 1]:
            assert got.arrays is kept  # drawn over the previous block's arrays
        kept = got.arrays
        assert_same(got, draw_block(scenario, seed, block, size))
    release_block_arrays()


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_a_reused_block_equals_a_fresh_one_on_every_shipped_scenario(path: Path) -> None:
    check_blocks(load_scenario(path), 20260413, [BLOCK_SIZE, BLOCK_SIZE, 7, 7])


def test_a_reused_block_equals_a_fresh_one_on_the_bench_programme() -> None:
    check_blocks(synthetic_scenario(50), 1, [BLOCK_SIZE] * 3)


def test_a_recorded_failure_without_a_plan_gets_its_own_floor_each_block() -> None:
    # Its floor is the failure plus a rebuild, which is drawn: a floor left from the previous
    # block would win wherever it is later.
    s = parse_scenario(dedent("""\
        scenario: t
        as_of: 2026-01-01
        time_unit: days
        activities:
          a:
            duration: 5
            failed: 2025-12-25
            on_failure: {attempts: 3, rebuild: {uniform: [10, 40]}}
        risks:
          r: {probability: 0.5, delay: {uniform: [1, 9]}, applies_to: [a]}
        goal: {name: g, deadline: 2027-01-01, requires: a}
        """))
    check_blocks(s, 5, [BLOCK_SIZE] * 3)


def test_another_scenario_gets_arrays_of_its_own() -> None:
    one, other = synthetic_scenario(50), synthetic_scenario(50, seed=1)
    first = draw_block(one, 1, 0, 100, reuse=True)
    second = draw_block(other, 1, 0, 100, reuse=True)
    assert second.arrays is not first.arrays
    assert_same(second, draw_block(other, 1, 0, 100))
    release_block_arrays()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenario=tie_scenarios(), seed=st.integers(0, 2**31 - 1))
def test_a_reused_block_equals_a_fresh_one_on_generated_scenarios(scenario: Scenario,
                                                                  seed: int) -> None:
    check_blocks(scenario, seed, [50, 50, 50])
