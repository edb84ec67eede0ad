"""The compiled samplers give numpy's values, draw for draw, and leave the generator where
numpy would: so using them changes no trial, only how long drawing takes."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from sim.distributions import Pert
from sim.samplers import beta_into, covers_beta
from sim.sampling import BLOCK_SIZE, draw_block, stream

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
from synthetic import pert_network, pert_scenario  # noqa: E402

# Beta-PERTs over their whole range of shapes: a mode at either end (a shape of exactly 1,
# where numpy draws an exponential instead of a gamma), in the middle, a hair from an end, a
# wide range and a negative one.
PERTS = [(2.0, 5.0, 9.0), (2.0, 2.0, 9.0), (2.0, 9.0, 9.0), (0.0, 1e-9, 1.0),
         (3.0, 3.0000001, 1e6), (-5.0, 0.0, 5.0), (1.0, 2.0, 3.0)]


@pytest.mark.parametrize("bit_generator", [np.random.Philox, np.random.PCG64DXSM])
@pytest.mark.parametrize(("low", "mode", "high"), PERTS)
def test_beta_into_gives_numpy_values(low: float, mode: float, high: float,
                                      bit_generator: type[np.random.BitGenerator]) -> None:
    pert = Pert(low, mode, high)
    ours, theirs = (np.random.Generator(bit_generator(11)) for _ in range(2))
    expected = pert.sample(theirs, 20_000)
    got = np.empty(20_000)
    beta_into(ours, *pert.shapes, low, high - low, got)
    assert np.array_equal(got, expected)
    # The same number of raw draws consumed: the next draws agree too.
    assert np.array_equal(ours.random(8), theirs.random(8))


def test_shapes_below_one_are_refused() -> None:
    assert not covers_beta(0.5, 3.0)
    with pytest.raises(ValueError, match="at least 1"):
        beta_into(np.random.default_rng(1), 0.5, 3.0, 0.0, 1.0, np.empty(3))


@pytest.mark.parametrize("size", [BLOCK_SIZE, 317])
def test_draw_block_uses_them_without_changing_a_draw(size: int) -> None:
    """A block's Beta-PERT durations are what Pert.sample draws from the same stream."""
    scenario = pert_scenario(pert_network(20))
    draws = draw_block(scenario, 5, 2, size)
    for act, d in zip(scenario.activities, draws.activities, strict=True):
        gen = stream(5, 2, "activity", act.id, "duration")
        assert np.array_equal(d.duration[0], act.duration.sample(gen, BLOCK_SIZE)[:size])
