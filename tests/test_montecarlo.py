"""run(): trial counts, the --precision stopping rule, and provenance."""

from __future__ import annotations

import numpy as np
import pytest

from sim import parse_scenario, run
from sim.sampling import BLOCK_SIZE

COIN = """\
scenario: Coin
as_of: 2030-01-01
time_unit: days
activities:
  a: {duration: 1, success: 0.5}
goal: {name: A, deadline: 2030-12-31, requires: a}
"""


def test_precision_adds_blocks_until_the_interval_is_narrow_enough():
    s = parse_scenario(COIN)
    r = run(s, trials=1000, seed=5, workers=1, precision=0.02)
    lo, hi = r.ci95
    assert (hi - lo) / 2 < 0.02
    assert r.trials % BLOCK_SIZE == 0
    # p = 0.5 needs about 1.96^2 * 0.25 / 0.02^2 = 2401 trials: whole blocks, with a margin.
    assert 3000 <= r.trials <= 4000
    fixed = run(s, trials=r.trials, seed=5, workers=1)
    np.testing.assert_array_equal(r.finish_days, fixed.finish_days)


def test_precision_stops_at_the_cap():
    r = run(parse_scenario(COIN), trials=1000, seed=5, workers=1, precision=0.001, max_trials=3000)
    assert r.trials == 3000


def test_bad_arguments_are_refused():
    s = parse_scenario(COIN)
    with pytest.raises(ValueError, match="precision"):
        run(s, trials=10, precision=0.7)
    with pytest.raises(ValueError, match="at least 1"):
        run(s, trials=0)


def test_seed_and_provenance_are_recorded():
    r = run(parse_scenario(COIN), trials=10, workers=1)
    assert isinstance(r.seed, int) and r.seed >= 0
    again = run(parse_scenario(COIN), trials=10, seed=r.seed, workers=1)
    np.testing.assert_array_equal(r.finish_days, again.finish_days)
    summary = r.summary()
    assert summary["seed"] == r.seed and summary["block_size"] == BLOCK_SIZE


def test_goal_times_in_chunks_equal_the_whole(monkeypatch):
    from sim import goal
    from sim.model import AllOf, AnyOf, AtLeast

    rng = np.random.default_rng(5)
    finish = np.where(rng.random((1000, 6)) < 0.1, np.inf, rng.random((1000, 6)) * 100)
    index = {f"a{k}": k for k in range(6)}
    req = AllOf(("a0", AnyOf(("a1", "a2")), AtLeast(2, ("a3", "a4", "a5"))))
    whole = goal.goal_times(req, finish, index)
    expected = np.maximum(finish[:, 0], np.maximum(np.minimum(finish[:, 1], finish[:, 2]),
                                                   np.sort(finish[:, 3:], axis=1)[:, 1]))
    assert np.array_equal(whole, expected)
    monkeypatch.setattr(goal, "CHUNK_ROWS", 7)
    assert np.array_equal(goal.goal_times(req, finish, index), whole)


def test_recorded_times_are_float64_and_in_order():
    # Times stored as float32 used to put a start after its finish in some trials.
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
    from synthetic import synthetic_scenario

    r = run(synthetic_scenario(50), trials=2000, seed=4, workers=1)
    for a in (r.first_ready_days, r.ready_days, r.start_days, r.finish_days):
        assert a.dtype == np.float64
    done = np.isfinite(r.finish_days)
    assert (r.first_ready_days[done] <= r.ready_days[done]).all()
    assert (r.ready_days[done] <= r.start_days[done]).all()
    assert (r.start_days[done] <= r.finish_days[done]).all()
