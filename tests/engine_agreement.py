"""Both engines on the same draws: identical outcome arrays (exact equality)."""

from __future__ import annotations

from dataclasses import fields

import numpy as np

from sim.blocks import BlockOutcome
from sim.engine import Plan, run_block
from sim.model import Scenario
from sim.sampling import draw_block


def assert_same_outcomes(scenario: Scenario, seed: int, block: int, size: int) -> None:
    plan = Plan.compile(scenario)
    draws = draw_block(scenario, seed, block, size)
    reference, fast = run_block(plan, draws, "des"), run_block(plan, draws, "fast")
    for f in fields(BlockOutcome):
        want, got = getattr(reference, f.name), getattr(fast, f.name)
        assert got.dtype == want.dtype, f.name
        differ = np.flatnonzero((got != want).any(axis=1))
        assert len(differ) == 0, f"{f.name}: trials {differ[:10].tolist()} differ"
