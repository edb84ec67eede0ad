"""Status fields: what happened by as_of (failed, launched, partial; a risk that occurred or
expired), pinned with exact timelines on tiny scenarios, in both engines, and shown in the
tables as what it is rather than as percentages over nothing."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import dedent

from sim import run
from sim.analysis import activity_stats
from sim.engine import ENGINES, timeline
from sim.report import render_report
from sim.sampling import draw_block
from sim.scenario import parse_scenario

HEAD = """\
scenario: t
as_of: 2026-01-01
time_unit: days
"""


def sc(body: str, vehicles: str = "vehicles: {rocket: {}}\n"):  # type: ignore[no-untyped-def]
    return parse_scenario(HEAD + vehicles + dedent(body))


def trace(s, seed: int = 0) -> list[tuple[float, str, str]]:  # type: ignore[no-untyped-def]
    return [(e.time, e.what, e.activity) for e in timeline(s, seed=seed)]


@pytest.mark.parametrize("engine", ENGINES)
def test_failed_with_an_attempt_left_is_ready_rebuild_after_the_failure(engine: str) -> None:
    s = sc("""
        activities:
          pre: {duration: 100}
          a:
            after: pre
            duration: 5
            failed: 2025-12-25
            on_failure: {attempts: 2, rebuild: 20}
        goal: {name: g, deadline: 2027-01-01, requires: a}
        """)
    # Failed on day -7: the next attempt is ready on -7 + 20 = 13, finishes 5 later; it no
    # longer waits for its predecessor (which evidently finished before the failed attempt).
    assert trace(s) == [(0.0, "ready", "pre"), (0.0, "start", "pre"),
                        (13.0, "ready", "a"), (13.0, "start", "a"), (18.0, "finish", "a"),
                        (100.0, "finish", "pre")]
    res = run(s, trials=3, seed=0, engine=engine)
    assert res.finish("a").tolist() == [18.0] * 3
    assert res.attempts[:, 1].tolist() == [2, 2, 2]  # the failure counts


@pytest.mark.parametrize("engine", ENGINES)
def test_failed_with_no_attempt_left_is_lost(engine: str) -> None:
    s = sc("""
        activities:
          a: {duration: 5, failed: 2025-12-25}
          b: {after: a, duration: 1}
        goal: {name: g, deadline: 2027-01-01, requires: b}
        """)
    assert trace(s) == []  # neither ever starts
    res = run(s, trials=4, seed=0, engine=engine)
    assert np.isinf(res.finish_days).all()
    assert res.attempts[:, 0].tolist() == [1] * 4 and res.attempts[:, 1].tolist() == [0] * 4
    assert res.probability == 0.0 and res.p_never == 1.0


@pytest.mark.parametrize("engine", ENGINES)
def test_a_planned_retry_waits_for_the_later_of_plan_and_rebuild(engine: str) -> None:
    s = sc("""
        activities:
          a:
            vehicle: rocket
            duration: 5
            planned: 2026-03-02
            failed: 2025-12-25
            on_failure: {attempts: 3, rebuild: 20}
        goal: {name: g, deadline: 2027-01-01, requires: a}
        """)
    res = run(s, trials=2, seed=0, engine=engine)
    assert res.finish("a").tolist() == [60.0 + 5] * 2  # planned day 60 is after -7 + 20
    assert res.attempts[:, 0].tolist() == [2, 2]


@pytest.mark.parametrize("engine", ENGINES)
def test_in_flight_runs_the_rest_of_its_duration_from_the_launch(engine: str) -> None:
    s = sc("""
        activities:
          pre: {duration: 1000}
          lander:
            after: pre
            vehicle: rocket
            window: {period: 365, anchor: 2026-06-01}
            planned: 2026-03-01
            slip: {uniform: [0, 300]}
            duration: 90
            launched: 2025-12-02
          next: {after: lander, duration: 10}
        goal: {name: g, deadline: 2027-01-01, requires: next}
        """, "vehicles: {rocket: {available: 2030-01-01}}\n")
    # Launched on day -30 with a 90-day flight: lands on day 60 whatever its plan, vehicle (not
    # available until 2030), window or predecessor say; then its successor runs.
    assert [t for t in trace(s) if t[2] != "pre"] == [
        (0.0, "ready", "lander"), (0.0, "start", "lander"), (60.0, "finish", "lander"),
        (60.0, "ready", "next"), (60.0, "start", "next"), (70.0, "finish", "next")]
    res = run(s, trials=500, seed=0, engine=engine)
    assert res.finish("lander").tolist() == [60.0] * 500
    assert res.attempts[:, 1].tolist() == [1] * 500


def test_in_flight_success_is_still_drawn_with_the_same_uniforms() -> None:
    base = sc("""
        activities:
          lander: {vehicle: rocket, duration: 90, success: 0.5}
        goal: {name: g, deadline: 2027-01-01, requires: lander}
        """)
    flying = base.replace_activity("lander", launched=base.as_of)
    a, b = (run(x, trials=2000, seed=3) for x in (base, flying))
    # The same trials succeed: the mission's success uniforms are its own stream.
    assert (np.isinf(a.finish("lander")) == np.isinf(b.finish("lander"))).all()
    assert 0 < np.isinf(b.finish("lander")).mean() < 1


@pytest.mark.parametrize("engine", ENGINES)
def test_occurred_and_expired_risks(engine: str) -> None:
    s = sc("""
        activities:
          a: {duration: 5}
          b: {duration: 5}
          c: {duration: 5}
        risks:
          hit: {probability: 0.001, delay: 30, applies_to: [a], occurred: 2025-11-01}
          gone: {probability: 0.999, delay: 30, applies_to: [b], expired: 2025-11-01}
          kill: {annual_probability: 0.001, cancels: [c], occurred: 2025-12-01}
        goal: {name: g, deadline: 2027-01-01, requires: {all: [a, b]}}
        """)
    assert trace(s) == [(0.0, "cancelled", "c"), (0.0, "ready", "b"), (0.0, "start", "b"),
                        (5.0, "finish", "b"), (30.0, "ready", "a"), (30.0, "start", "a"),
                        (35.0, "finish", "a")]
    res = run(s, trials=500, seed=1, engine=engine)
    assert res.finish("a").tolist() == [35.0] * 500
    assert res.finish("b").tolist() == [5.0] * 500
    assert np.isinf(res.finish("c")).all()


def test_an_occurred_risk_is_never_redrawn() -> None:
    s = sc("""
        activities:
          a: {duration: 5}
        risks:
          hit: {probability: 0.3, delay: 30, applies_to: [a], occurred: 2025-11-01}
          gone: {probability: 0.3, delay: 30, applies_to: [a], expired: 2025-11-01}
        goal: {name: g, deadline: 2027-01-01, requires: a}
        """)
    for seed in range(5):
        times = draw_block(s, seed, 0, 1000).risk_time
        assert (times[0] == 0.0).all() and np.isinf(times[1]).all()


def test_partial_outcome_feeds_successors_but_not_the_goal() -> None:
    s = sc("""
        activities:
          lander: {duration: 5, partial: 2025-12-22}
          rover: {after: lander, duration: 20}
        goal: {name: g, deadline: 2027-01-01, requires: {at_least: 1, of: [lander, rover]}}
        """)
    res = run(s, trials=3, seed=0)
    assert res.finish("lander").tolist() == [-10.0] * 3  # it finished (for its successors)
    assert res.finish("rover").tolist() == [20.0] * 3  # ready at as_of, not before
    assert res.goal_days.tolist() == [20.0] * 3  # the goal counts the rover, not the lander


def test_tables_show_status_not_percentages_over_nothing() -> None:
    s = sc("""
        activities:
          luna25: {vehicle: rocket, duration: 10, failed: 2023-08-19}
          ce6: {duration: 5, done: 2024-06-25}
          ce7: {vehicle: rocket, duration: 90, launched: 2025-12-01, success: 0.9}
          ce8: {after: ce7, duration: 5}
        goal: {name: g, deadline: 2027-01-01, requires: ce8}
        """)
    res = run(s, trials=200, seed=0)
    stats = activity_stats(res)
    assert stats.loc["luna25", "status"] == "lost on 2023-08-19"
    assert stats.loc["ce6", "status"] == "done on 2024-06-25"
    assert stats.loc["ce7", "status"] == "in flight since 2025-12-01"
    assert stats.loc["ce8", "status"] == ""
    assert stats.loc["luna25", "mean_attempts"] == 1.0 and stats.loc["ce6", "mean_attempts"] == 1
    html = render_report(res)
    milestones = html[html.index("<h3>Milestones"):]
    row = milestones[milestones.index("<code>luna25</code>"):]
    row = row[: row.index("</tr>")]
    assert "lost on 2023-08-19" in row and "%" not in row and "lost" in row
    row = milestones[milestones.index("<code>ce7</code>"):]
    assert "in flight since 2025-12-01" in row[: row.index("</tr>")]


def test_validate_warns_about_a_past_plan_without_an_overdue_aware_slip(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import subprocess
    import sys

    path = tmp_path / "s.yaml"
    path.write_text(HEAD + dedent("""
        activities:
          a: {planned: 2025-06-01, slip: {uniform: [0, 30]}, duration: 5}
          b: {planned: 2025-06-01, duration: 5, done: 2025-07-01}
          c: {planned: 2025-06-01, duration: 5, failed: 2025-07-01}
          d: {planned: 2026-06-01, duration: 5}
        goal: {name: g, deadline: 2027-01-01, requires: a}
        """))
    out = subprocess.run([sys.executable, "-m", "sim", "validate", str(path)],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    warnings = [line for line in out.stdout.splitlines() if ": warning: " in line]
    # Only a: b is done, c has a recorded failure, d is still to come.
    assert warnings == [f"{path}:5: activities.a.planned: warning: planned 2025-06-01 is before "
                        "as_of 2026-01-01 and the slip is not overdue-aware, so the plan counts "
                        "as due at once; give it slip: {reference_class: GROUP}, record what "
                        "happened (done, failed, launched) or state the new plan"]
    assert out.stdout.splitlines()[-1] == f"{path}: ok (1 warnings)"
