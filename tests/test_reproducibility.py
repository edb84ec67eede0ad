"""Reproducibility and common random numbers: what drawing per (seed, block, element) promises.

The scenario mixes every random element (factors, slips, durations, lags, launch outcomes,
stand-downs, rebuilds, risks with delays and cancellations), so a stream that is shared by mistake,
or keyed by position instead of id, shows up as a changed trial.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

import sim
from sim.distributions import Empirical, Fixed, LogNormal, Pert, Triangular, Uniform
from sim.engine import timeline
from sim.model import (
    Activity,
    AllOf,
    AnyOf,
    Dependency,
    Factor,
    Goal,
    OnFailure,
    Risk,
    Scenario,
    Vehicle,
    Window,
)
from sim.sampling import BLOCK_SIZE, ActivityDraws, draw_block

AS_OF = date(2030, 1, 1)
SEED = 7


def mixed_scenario() -> Scenario:
    """Two independent branches (heavy launcher / light launcher) joined by the goal.

    Branch 1: prep -> lander (on `heavy`).  Branch 2: rover -> orbiter (on `light`).
    Nothing in branch 1 depends on branch 2 or shares its vehicle, and vice versa.
    """
    return Scenario(
        title="mixed",
        as_of=AS_OF,
        time_unit="months",
        activities=(
            Activity("prep", "Prep", duration=Triangular(3, 5, 12), factors=("pace",)),
            Activity(
                "lander",
                "Lander",
                after=(Dependency("prep", Uniform(0, 2)),),
                planned=date(2030, 6, 15),
                slip=LogNormal(2, 8),
                duration=Fixed(1),
                vehicles=("heavy",),
                success=0.9,
                on_failure=OnFailure(3, Pert(6, 9, 18)),
                factors=("pace",),
            ),
            Activity(
                "rover",
                "Rover",
                duration=Pert(4, 6, 15),
                factors=("pace",),
                success=0.8,
                on_failure=OnFailure(2, Uniform(2, 4)),
            ),
            Activity(
                "orbiter",
                "Orbiter",
                after=(Dependency("rover", Fixed(1)),),
                duration=Empirical((1, 2, 3)),
                vehicles=("light",),
                window=Window(period=2.0, anchor=date(2030, 3, 1)),
            ),
            Activity(
                "station",
                "Station",
                after=(Dependency("lander"), Dependency("orbiter")),
                duration=Uniform(6, 12),
            ),
        ),
        goal=Goal("goal", date(2034, 12, 31), AllOf(("station", AnyOf(("lander", "orbiter"))))),
        factors=(Factor("pace", LogNormal(1.0, 1.4)),),
        vehicles=(
            Vehicle(
                "heavy", "Heavy", reliability=0.85, min_interval=3, stand_down=Triangular(4, 6, 12)
            ),
            Vehicle(
                "light",
                "Light",
                reliability=0.9,
                stand_down=Uniform(1, 3),
                available=date(2030, 2, 1),
            ),
        ),
        risks=(
            Risk(
                "strike",
                "Strike",
                probability=0.4,
                delay=Uniform(1, 6),
                applies_to=("prep", "rover"),
            ),
            Risk("fire", "Fire", annual_probability=0.05, cancels=("lander", "orbiter")),
        ),
    )


def assert_same(a: sim.Results, b: sim.Results, rows: slice = slice(None)) -> None:
    np.testing.assert_array_equal(a.goal_days[rows], b.goal_days[rows])
    np.testing.assert_array_equal(a.finish_days[rows], b.finish_days[rows])
    np.testing.assert_array_equal(a.attempts[rows], b.attempts[rows])


def test_scenario_exercises_randomness() -> None:
    # Guards the other tests against passing vacuously on a degenerate run.
    res = sim.run(mixed_scenario(), trials=1000, seed=SEED, workers=1)
    assert len(np.unique(res.goal_days)) > 500
    assert (
        (res.attempts[:, 1] > 1).any()
        and np.isinf(res.finish_days).any()
        and np.isfinite(res.goal_days).any()
    )


def test_same_seed_same_trials() -> None:
    scenario = mixed_scenario()
    assert_same(
        sim.run(scenario, trials=1500, seed=SEED, workers=1),
        sim.run(scenario, trials=1500, seed=SEED, workers=1),
    )


def test_fresh_seed_is_recorded_and_reproduces() -> None:
    scenario = mixed_scenario()
    first = sim.run(scenario, trials=200, seed=None, workers=1)
    assert isinstance(first.seed, int)
    assert_same(first, sim.run(scenario, trials=200, seed=first.seed, workers=1))


def test_one_worker_equals_two() -> None:
    # Two full blocks and half a block, split across processes.
    trials = 2 * BLOCK_SIZE + BLOCK_SIZE // 2
    scenario = mixed_scenario()
    one = sim.run(scenario, trials=trials, seed=SEED, workers=1)
    two = sim.run(scenario, trials=trials, seed=SEED, workers=2)
    assert one.trials == two.trials == trials
    assert_same(one, two)


def test_prefix_of_a_longer_run() -> None:
    scenario = mixed_scenario()
    # The short run's second block is cut; the long run's is whole.
    short = sim.run(scenario, trials=BLOCK_SIZE + 200, seed=SEED, workers=1)
    long = sim.run(scenario, trials=2 * BLOCK_SIZE + 600, seed=SEED, workers=1)
    assert_same(short, long, slice(0, BLOCK_SIZE + 200))


def test_different_seeds_differ() -> None:
    scenario = mixed_scenario()
    a = sim.run(scenario, trials=200, seed=1, workers=1)
    b = sim.run(scenario, trials=200, seed=2, workers=1)
    assert not np.array_equal(a.finish_days, b.finish_days)
    # Not merely a shifted copy: most trials differ.
    assert np.mean(a.goal_days != b.goal_days) > 0.5


@pytest.mark.parametrize(
    ("changed", "new_duration", "unrelated", "related"),
    [
        # A different kind of distribution, so the draws it needs differ in number and meaning.
        ("rover", LogNormal(5, 9), ["prep", "lander"], ["rover", "orbiter", "station"]),
        ("lander", Uniform(2, 5), ["prep", "rover", "orbiter"], ["lander", "station"]),
        ("prep", Fixed(4), ["rover", "orbiter"], ["prep", "lander", "station"]),
    ],
)
def test_changing_one_activity_leaves_unrelated_ones_alone(
    changed: str, new_duration: object, unrelated: list[str], related: list[str]
) -> None:
    base = mixed_scenario()
    variant = base.replace_activity(changed, duration=new_duration)
    a = sim.run(base, trials=1500, seed=SEED, workers=1)
    b = sim.run(variant, trials=1500, seed=SEED, workers=1)
    for aid in unrelated:
        np.testing.assert_array_equal(
            a.finish(aid), b.finish(aid), err_msg=f"{aid} changed with {changed}"
        )
    # The change itself took effect (otherwise this test proves nothing).
    assert np.mean(a.finish(changed) != b.finish(changed)) > 0.5
    for aid in related:
        assert not np.array_equal(a.finish(aid), b.finish(aid)), f"{aid} should follow {changed}"


def test_timeline_replays_a_trial_of_run() -> None:
    # The trace of (seed, trial) is the same trial that run(seed) reports, in any block.
    scenario = mixed_scenario()
    res = sim.run(scenario, trials=1500, seed=SEED, workers=1)
    for trial in (0, 1, 999, 1000, 1499):
        finishes: dict[str, float] = {}
        for ev in timeline(scenario, seed=SEED, trial=trial):
            if ev.what == "finish":
                finishes[ev.activity] = ev.time
        for j, act in enumerate(scenario.activities):
            expected = res.finish_days[trial, j]
            if np.isfinite(expected):
                assert finishes.get(act.id) == pytest.approx(expected, abs=1e-9), (
                    f"trial {trial}, {act.id}"
                )


def _fields(d: ActivityDraws) -> dict[str, np.ndarray]:
    return {"ready_floor": d.ready_floor, "lags": np.array(d.lags), "duration": d.duration,
            "launch_u": d.launch_u, "success_u": d.success_u, "rebuild": d.rebuild,
            "risk_delay": d.risk_delay}


@pytest.mark.parametrize(
    ("change", "moved"),
    [
        ({"duration": Uniform(2, 5)}, {"duration"}),  # another kind of distribution
        ({"on_failure": OnFailure(3, Uniform(1, 2))}, {"rebuild"}),  # another field
        ({"on_failure": OnFailure(4, Pert(6, 9, 18))}, set()),  # one more attempt: rows added
    ],
)
def test_draws_are_keyed_by_element_and_field(change: dict[str, object],
                                              moved: set[str]) -> None:
    # At the level of the draws: only the changed field of the changed element moves; every
    # other field of every element, that element's other fields included, keeps its values
    # (the rows an added attempt appends are new, the earlier ones stay).
    base = mixed_scenario()
    variant = base.replace_activity("lander", **change)
    a, b = draw_block(base, SEED, 3, 700), draw_block(variant, SEED, 3, 700)
    for act, da, db in zip(base.activities, a.activities, b.activities, strict=True):
        for name, x in _fields(da).items():
            y = _fields(db)[name][: len(x)]
            if act.id == "lander" and name in moved:
                assert not np.array_equal(x, y), (act.id, name)
            else:
                np.testing.assert_array_equal(x, y, err_msg=f"{act.id}.{name}")
    for name in ("risk_time",):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    for x, y in zip(a.stand_down, b.stand_down, strict=True):
        np.testing.assert_array_equal(x, y[: len(x)])


def test_draws_are_the_same_from_threads() -> None:
    # Each thread re-keys its own generator: blocks drawn concurrently equal blocks drawn in turn.
    from concurrent.futures import ThreadPoolExecutor

    scenario = mixed_scenario()
    alone = [draw_block(scenario, SEED, b, 500) for b in range(12)]
    with ThreadPoolExecutor(4) as pool:
        together = list(pool.map(lambda b: draw_block(scenario, SEED, b, 500), range(12)))
    for x, y in zip(alone, together, strict=True):
        for da, db in zip(x.activities, y.activities, strict=True):
            for name, values in _fields(da).items():
                np.testing.assert_array_equal(values, _fields(db)[name])


def test_every_field_and_element_has_its_own_stream() -> None:
    # Two uniform fields of one launch, and one field of two identical activities, never share
    # numbers (a key that left out the field or the element would make them equal).
    base = mixed_scenario()
    twin = base.replace_activity("station", duration=base.activity("prep").duration,
                                 factors=("pace",))
    d = draw_block(twin, SEED, 0, 500)
    lander = d.activities[twin.activity_index["lander"]]
    assert not np.array_equal(lander.launch_u, lander.success_u)
    prep, station = (d.activities[twin.activity_index[x]] for x in ("prep", "station"))
    assert not np.array_equal(prep.duration, station.duration)
    assert np.mean(prep.duration == station.duration) < 0.01


def test_block_k_is_its_stream_jumped_k_times_2_to_the_64() -> None:
    # A block is a fixed stretch of its field's one stream: block k starts exactly k * 2**64
    # draws in, so blocks never overlap (a block draws far fewer numbers than that).
    from sim.sampling import stream

    start = stream(SEED, 0, "activity", "prep", "duration").bit_generator.state
    for block in (1, 2, 7):
        jumped = np.random.Generator(np.random.PCG64DXSM())
        jumped.bit_generator.state = start
        jumped.bit_generator.advance(block * 2**64)
        expected = jumped.random(5)
        got = stream(SEED, block, "activity", "prep", "duration").random(5)
        np.testing.assert_array_equal(got, expected)
