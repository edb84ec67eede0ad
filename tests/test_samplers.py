"""The compiled samplers give numpy's values, draw for draw, and leave the generator where
numpy would: so using them changes no trial, only how long drawing takes."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from sim.distributions import Pert, Triangular
from sim.samplers import beta_into, covers_beta, three_point_into, triangular_into
from sim.sampling import BLOCK_SIZE, draw_block, stream

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
from synthetic import pert_network, pert_scenario  # noqa: E402

# Three-point estimates over their whole range: a mode at either end (for a Beta-PERT a shape of
# exactly 1, where numpy draws an exponential instead of a gamma), in the middle, a hair from an
# end, a wide range and a negative one.
THREE_POINTS = [(2.0, 5.0, 9.0), (2.0, 2.0, 9.0), (2.0, 9.0, 9.0), (0.0, 1e-9, 1.0),
                (3.0, 3.0000001, 1e6), (-5.0, 0.0, 5.0), (1.0, 2.0, 3.0)]


@pytest.mark.parametrize("kind", [Pert, Triangular])
@pytest.mark.parametrize("bit_generator", [np.random.Philox, np.random.PCG64DXSM])
@pytest.mark.parametrize(("low", "mode", "high"), THREE_POINTS)
def test_compiled_samplers_give_numpy_values(low: float, mode: float, high: float,
                                             bit_generator: type[np.random.BitGenerator],
                                             kind: type) -> None:
    ours, theirs = (np.random.Generator(bit_generator(11)) for _ in range(2))
    expected = kind(low, mode, high).sample(theirs, 20_000)
    got = np.empty((4, 5_000))  # filled whole, in C order
    three_point_into(ours, kind(low, mode, high), got)
    assert np.array_equal(got.reshape(-1), expected)
    # The same number of raw draws consumed: the next draws agree too.
    assert np.array_equal(ours.random(8), theirs.random(8))


def test_triangular_into_refuses_what_numpy_refuses() -> None:
    for low, mode, high in [(1.0, 1.0, 1.0), (2.0, 1.0, 3.0), (1.0, 4.0, 3.0)]:
        with pytest.raises(ValueError, match="low <= mode <= high"):
            triangular_into(np.random.default_rng(1), low, mode, high, np.empty(3))


def test_shapes_below_one_are_refused() -> None:
    assert not covers_beta(0.5, 3.0)
    with pytest.raises(ValueError, match="at least 1"):
        beta_into(np.random.default_rng(1), 0.5, 3.0, 0.0, 1.0, np.empty(3))


@pytest.mark.parametrize("kind", [Pert, Triangular])
@pytest.mark.parametrize("size", [BLOCK_SIZE, 317])
def test_draw_block_uses_them_without_changing_a_draw(size: int, kind: type) -> None:
    """A block's Beta-PERT and triangular durations are what Pert.sample and
    Triangular.sample (numpy's own samplers) draw from the same streams."""
    import dataclasses

    scenario = pert_scenario(pert_network(20))
    scenario = dataclasses.replace(scenario, activities=tuple(
        dataclasses.replace(a, duration=kind(a.duration.low, a.duration.mode, a.duration.high))
        for a in scenario.activities))
    draws = draw_block(scenario, 5, 2, size)
    for act, d in zip(scenario.activities, draws.activities, strict=True):
        gen = stream(5, 2, "activity", act.id, "duration")
        assert np.array_equal(d.duration[0], act.duration.sample(gen, BLOCK_SIZE)[:size])
