"""run(): trial counts, the --precision stopping rule, and provenance."""

from __future__ import annotations

import numpy as np
import pytest

from sim import parse_scenario, run
from sim.blocks import floor32
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
    assert summary["engine"] == "fast"
    by_des = run(parse_scenario(COIN), trials=10, workers=1, engine="des")
    assert by_des.summary()["engine"] == "des"


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


def test_recorded_times_keep_their_order():
    # Times stored as float32 used to put a start after its finish in some trials: start and
    # finish stay float64; the ready times are float32 rounded down, so never after the start.
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
    from synthetic import synthetic_scenario

    r = run(synthetic_scenario(50), trials=2000, seed=4, workers=1, keep_ready=True)
    for a in (r.start_days, r.finish_days):
        assert a.dtype == np.float64
    for a in (r.first_ready_days, r.ready_days):
        assert a.dtype == np.float32
    done = np.isfinite(r.finish_days)
    assert (r.first_ready_days[done] <= r.ready_days[done]).all()
    assert (r.ready_days[done] <= r.start_days[done]).all()
    assert (r.start_days[done] <= r.finish_days[done]).all()


def test_floor32_rounds_down_and_keeps_order():
    rng = np.random.default_rng(3)
    edges = [0.0, -0.0, 1.5, 1e-9, -1e-9, -1e-50, 1e-50, 1e39, -1e39, np.inf, -np.inf]
    days = np.sort(np.concatenate([(rng.random(10_000) - 0.2) * 5000, edges]))
    low = floor32(days)
    assert low.dtype == np.float32
    assert (low <= days).all()
    assert (low[1:] >= low[:-1]).all()  # monotone, so every order and tie survives
    # the greatest float32 not above the time: the next one up is above it
    finite = np.isfinite(days)
    with np.errstate(over="ignore"):
        up = np.nextafter(low[finite], np.float32(np.inf))
        rounded = days.astype(np.float32)
    assert (up > days[finite]).all()
    assert (low == [np.nextafter(r, np.float32(-np.inf)) if r > x else r
                    for r, x in zip(rounded, days, strict=True)]).all()
    exact = rounded.astype(np.float64) == days
    assert (low[exact] == days[exact]).all()


def test_kept_arrays_do_not_depend_on_workers():
    # Workers round the ready times before sending them; the parent rounds its own blocks.
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
    from synthetic import synthetic_scenario

    one = run(synthetic_scenario(20), trials=3500, seed=2, workers=1, keep_ready=True)
    two = run(synthetic_scenario(20), trials=3500, seed=2, workers=2, keep_ready=True)
    for name in ("finish_days", "first_ready_days", "ready_days", "start_days", "attempts",
                 "driver", "waited_for", "goal_days"):
        a, b = getattr(one, name), getattr(two, name)
        assert a.dtype == b.dtype and np.array_equal(a, b), name


def test_goal_over_plain_ids_reads_the_columns():
    from sim import goal
    from sim.model import AllOf, AnyOf, AtLeast

    rng = np.random.default_rng(6)
    finish = np.where(rng.random((500, 5)) < 0.2, np.inf, rng.random((500, 5)) * 100)
    index = {f"a{k}": k for k in range(5)}
    every = AllOf(tuple(index))  # every column, in order: the array itself
    assert np.array_equal(goal.goal_times(every, finish, index), finish.max(axis=1))
    some = AnyOf(("a3", "a1"))
    assert np.array_equal(goal.goal_times(some, finish, index),
                          np.minimum(finish[:, 3], finish[:, 1]))
    two = AtLeast(2, ("a4", "a0", "a2"))
    assert np.array_equal(goal.goal_times(two, finish, index),
                          np.sort(finish[:, [4, 0, 2]], axis=1)[:, 1])
    before = finish.copy()
    goal.goal_times(AtLeast(3, tuple(index)), finish, index)
    assert np.array_equal(finish, before)  # never sorted in place


def test_ready_times_are_kept_only_when_asked_for():
    """Without keep_ready the ready times are None, the run needs less memory, and every
    other array is the same; the delay breakdown says what it needs."""
    import sys
    from pathlib import Path

    from sim.analysis import delay_breakdown
    from sim.montecarlo import bytes_per_trial

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
    from synthetic import synthetic_scenario

    s = synthetic_scenario(20)
    kept = run(s, trials=2500, seed=3, workers=2, keep_ready=True)
    lean = run(s, trials=2500, seed=3, workers=2)
    assert lean.first_ready_days is None and lean.ready_days is None
    for name in ("finish_days", "start_days", "attempts", "driver", "waited_for", "goal_days"):
        a, b = getattr(kept, name), getattr(lean, name)
        assert a.dtype == b.dtype and np.array_equal(a, b), name
    # 8 bytes fewer per activity: two float32 ready times.
    assert bytes_per_trial(s, keep_ready=True) - bytes_per_trial(s) == 8 * len(s.activities)
    with pytest.raises(ValueError, match="keep_ready=True"):
        delay_breakdown(lean)
    assert len(delay_breakdown(kept)) == 2500


def test_a_short_run_left_to_choose_stays_in_this_process(monkeypatch):
    from sim import montecarlo

    monkeypatch.setattr(montecarlo, "available_cpus", lambda: 4)
    s = parse_scenario(COIN)  # one activity: 0.17 us of work a trial with the compiled engine
    limit = montecarlo.IN_PROCESS_SECONDS / montecarlo._SECONDS_PER_ACTIVITY_TRIAL["fast"]
    assert montecarlo.default_workers(s, int(limit) - 1) == 1
    assert montecarlo.default_workers(s, int(limit) + 1) == 4
    # The SimPy engine is some 35 times slower, so it gains from workers 35 times sooner.
    assert montecarlo.default_workers(s, int(limit) // 20, engine="des") == 4
    assert montecarlo.default_workers(s, 1000, precision=0.01) == 4  # assumed long
    # The run records the workers it used; an explicit number is always used.
    assert run(s, trials=10, seed=1).workers == 1
    assert run(s, trials=3000, seed=1, workers=2).workers == 2


@pytest.mark.parametrize("share", [True, False])
def test_workers_write_into_the_run_or_send_their_blocks_back_alike(monkeypatch, share):
    # Forked workers fill the run's arrays in shared memory; where workers cannot share it
    # (processes spawned, not forked) they send each block back. Either way: one process's
    # arrays, ready times included (workers round them as the parent does its own).
    import sys
    from pathlib import Path

    from sim import execution, montecarlo

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
    from synthetic import synthetic_scenario

    if not share:
        monkeypatch.setattr(montecarlo, "shares_memory", lambda: False)
    elif not execution.shares_memory():
        pytest.skip("worker processes are not forked here")
    trials = 3 * BLOCK_SIZE + 77  # the first block here, three in the workers
    one = run(synthetic_scenario(20), trials=trials, seed=4, workers=1, keep_ready=True)
    two = run(synthetic_scenario(20), trials=trials, seed=4, workers=2, keep_ready=True)
    assert in_mapping(two.finish_days) == share and not in_mapping(one.finish_days)
    for name in ("finish_days", "first_ready_days", "ready_days", "start_days", "attempts",
                 "driver", "waited_for", "goal_days"):
        a, b = getattr(one, name), getattr(two, name)
        assert a.dtype == b.dtype and np.array_equal(a, b), name


def in_mapping(array: np.ndarray) -> bool:
    """Whether `array`'s memory is a mapping (sim.execution.shared_empty's), not numpy's own."""
    import mmap

    owner: object = array
    while isinstance(owner, np.ndarray | memoryview):
        owner = owner.base if isinstance(owner, np.ndarray) else owner.obj
    return isinstance(owner, mmap.mmap)


def test_a_run_to_a_precision_on_workers_equals_one_process():
    # Each round grows the run's arrays (in shared memory) and forks new workers into them.
    s = parse_scenario(COIN)
    one = run(s, trials=3 * BLOCK_SIZE, seed=9, workers=1, precision=0.006)
    two = run(s, trials=3 * BLOCK_SIZE, seed=9, workers=2, precision=0.006)
    assert one.trials == two.trials > 3 * BLOCK_SIZE  # more than one round
    assert np.array_equal(one.finish_days, two.finish_days)
    assert np.array_equal(one.goal_days, two.goal_days)
