"""Calibrated slips in scenarios: `slip_rules:`, `slip: {reference_class: GROUP}`, `announced:`,
period-valued `planned`; slips that move with as_of; overdue plans; validate's warnings."""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path

import numpy as np
import pytest
from conftest import WriteFile
from scipy import stats

import sim
from sim.calibration.periods import months_between
from sim.calibration.rules import read_rules
from sim.calibration.slip import CalibratedSlip
from sim.calibration.usage import move_as_of, reference_class_slip, scenario_warnings
from sim.scenario import ScenarioError, load_scenario, parse_scenario

REPO = Path(__file__).resolve().parent.parent
Z = 4.0
SEED = 7

# Known parameters: no hold component, no shift, no parameter uncertainty, so the slip is the
# lognormal ln(slip) ~ N(a + b ln(L/12), tau^2 + sigma^2) that one can compute by hand.
RULES = """\
shared: {tau: 0.6, sigma: 0.8, shift_months: 0.0}
groups:
  china: {a: 2.0, b: 0.5, var_a: 0.0, cov_ab: 0.0, var_b: 0.0, missions: 8,
          launched_missions: 6, snapshots: 15, lead_months: [2.0, 60.0]}
  russia: {a: 3.5, b: 0.8, var_a: 0.0, cov_ab: 0.0, var_b: 0.0, missions: 5,
           launched_missions: 2, snapshots: 28, lead_months: [2.0, 78.0]}
"""


def scenario_text(as_of: str = "2026-04-13", planned: str = "2029", extra: str = "",
                  slip: str = "{reference_class: china}", top: str = "") -> str:
    return f"""\
scenario: t
as_of: {as_of}
slip_rules: rules.yaml
{top}activities:
  ce8:
    planned: {planned}
    slip: {slip}
{extra}goal: {{name: g, deadline: 2035-12-31, requires: ce8}}
"""


@pytest.fixture
def files(write: WriteFile) -> WriteFile:
    write("rules.yaml", RULES)
    return write


def hand_quantile(lead: float, q: float, a: float = 2.0, b: float = 0.5) -> float:
    return math.exp(a + b * math.log(lead / 12) + math.hypot(0.6, 0.8) * stats.norm.ppf(q))


def test_reference_class_slip_equals_the_hand_formula(files: WriteFile) -> None:
    s = load_scenario(files("s.yaml", scenario_text()))
    slip = s.activity("ce8").slip
    assert isinstance(slip, CalibratedSlip)
    lead = months_between(date(2026, 4, 13), date(2029, 7, 1))
    assert slip.lead_months == pytest.approx(lead)
    for q in (0.1, 0.5, 0.9):  # the floor (as_of - planned < 0) cuts nothing off a lognormal
        assert slip.ppf_months(q)[0] == pytest.approx(hand_quantile(lead, q), rel=1e-7)


def test_slips_move_with_as_of(files: WriteFile) -> None:
    early = load_scenario(files("a.yaml", scenario_text("2026-04-13"))).activity("ce8").slip
    late = load_scenario(files("b.yaml", scenario_text("2027-04-13"))).activity("ce8").slip
    assert isinstance(early, CalibratedSlip) and isinstance(late, CalibratedSlip)
    assert late.lead_months == pytest.approx(early.lead_months - 12, abs=0.1)
    assert late.ppf_months(0.5)[0] == pytest.approx(hand_quantile(late.lead_months, 0.5))
    assert late.ppf_months(0.5)[0] < early.ppf_months(0.5)[0]


def test_announced_fixes_the_lead_and_as_of_only_conditions(files: WriteFile) -> None:
    extra = "    announced: 2025-04-24\n"
    a = load_scenario(files("a.yaml", scenario_text("2026-04-13", extra=extra))).activity("ce8")
    b = load_scenario(files("b.yaml", scenario_text("2029-10-01", extra=extra))).activity("ce8")
    assert isinstance(a.slip, CalibratedSlip) and isinstance(b.slip, CalibratedSlip)
    assert a.slip.lead_months == b.slip.lead_months
    assert b.slip.floor_months == pytest.approx(months_between(date(2029, 7, 1),
                                                               date(2029, 10, 1)))


def test_overdue_plan_is_never_ready_at_once(files: WriteFile) -> None:
    """Planned 2026-10-01 with as_of 2026-11-29: no trial starts at as_of; the slip drawn is
    the lognormal truncated at the time already elapsed."""
    extra = "    announced: 2026-04-13\n    vehicle: lv\n"
    text = scenario_text("2026-11-29", planned="2026-H2", extra=extra,
                         top="vehicles: {lv: {name: LV}}\n")
    s = load_scenario(files("s.yaml", text))
    act = s.activity("ce8")
    assert act.planned == date(2026, 10, 1)
    res = sim.run(s, trials=4000, seed=SEED, workers=1)
    finish = res.finish("ce8")
    assert np.all(finish > 0)
    slip = act.slip
    assert isinstance(slip, CalibratedSlip)
    elapsed = months_between(date(2026, 10, 1), date(2026, 11, 29))
    # The finish (in months from the planned date) follows the truncated lognormal.
    months = (finish + (date(2026, 11, 29) - date(2026, 10, 1)).days) / (365.25 / 12)
    mu, s_ = 2.0 + 0.5 * math.log(slip.lead_months / 12), math.hypot(0.6, 0.8)
    lo = stats.norm.cdf((math.log(elapsed) - mu) / s_)
    u = (stats.norm.cdf((np.log(months) - mu) / s_) - lo) / (1 - lo)
    assert stats.kstest(u, "uniform").pvalue > 0.001


@pytest.mark.parametrize("as_of", ["2026-04-13", "2030-01-01"])  # ahead of plan, and overdue
def test_scale_multiplies_every_draw(files: WriteFile, as_of: str) -> None:
    """`scale: k` multiplies each draw of the rule (conditioned on the time elapsed) by k."""
    extra = "    announced: 2026-04-13\n"
    base = load_scenario(files("a.yaml", scenario_text(as_of, extra=extra))).activity("ce8").slip
    scaled = load_scenario(files("b.yaml", scenario_text(
        as_of, extra=extra, slip="{reference_class: china, scale: 1.5}"))).activity("ce8").slip
    assert isinstance(base, CalibratedSlip) and isinstance(scaled, CalibratedSlip)
    drawn = base.sample(np.random.default_rng(SEED), 1000)
    assert np.allclose(scaled.sample(np.random.default_rng(SEED), 1000), 1.5 * drawn,
                       rtol=1e-12, atol=0)


def test_period_planned_reads_as_the_reference_class_does(files: WriteFile) -> None:
    for text, expected in (("2026-H2", date(2026, 10, 1)), ("2027-Q1", date(2027, 2, 15)),
                           ("2033..2035", date(2034, 7, 2)), ("2029", date(2029, 7, 1))):
        s = load_scenario(files(f"p{expected}.yaml", scenario_text(planned=text)))
        assert s.activity("ce8").planned == expected, text


def test_the_same_from_python(files: WriteFile) -> None:
    rules = read_rules(files("r2.yaml", RULES))
    slip = reference_class_slip(rules, "china", date(2029, 7, 1), date(2026, 4, 13))
    s = load_scenario(files("s.yaml", scenario_text()))
    assert s.activity("ce8").slip == slip
    moved = s.replace_activity("ce8", slip=reference_class_slip(
        rules, "china", date(2029, 7, 1), date(2027, 4, 13)))
    assert moved.activity("ce8").slip != slip


@pytest.mark.parametrize(("text", "path", "fragment"), [
    (scenario_text(slip="{reference_class: chna}"), "activities.ce8.slip.reference_class",
     "unknown reference class 'chna' (the rules have china, russia); did you mean 'china'?"),
    (scenario_text(as_of="2029-09-01"), "activities.ce8.slip",
     "needs planned after the date the plan was stated, as_of (2029-09-01); give announced"),
    (scenario_text(extra="    announced: 2027-01-01\n"), "activities.ce8.announced",
     "must be on or before as_of (2026-04-13), got 2027-01-01"),
    (scenario_text(slip="{reference_class: china, x: 1}"), "activities.ce8.slip",
     "must be {reference_class: GROUP} with an optional scale: multiplier, got"),
    (scenario_text(slip="{reference_class: china, scale: 0}"), "activities.ce8.slip.scale",
     "must be a number above 0 and at most 100, got 0"),
    (scenario_text(slip="{reference_class: china, scale: true}"), "activities.ce8.slip.scale",
     "must be a number above 0 and at most 100, got true"),
    (scenario_text(planned="2029-H3"), "activities.ce8.planned", "must be a date"),
])
def test_bad_reference_class_uses(files: WriteFile, text: str, path: str,
                                  fragment: str) -> None:
    with pytest.raises(ScenarioError) as err:
        load_scenario(files("s.yaml", text))
    assert any(p.path == path and fragment in p.message for p in err.value.problems), str(
        err.value)


def test_missing_rules_file_is_located_at_slip_rules(write: WriteFile) -> None:
    with pytest.raises(ScenarioError) as err:
        load_scenario(write("s.yaml", scenario_text()))
    (p,) = err.value.problems
    assert (p.line, p.path) == (3, "slip_rules") and "file not found" in p.message


def test_reference_class_without_slip_rules() -> None:
    text = scenario_text().replace("slip_rules: rules.yaml\n", "")
    with pytest.raises(ScenarioError) as err:
        parse_scenario(text, "s.yaml")
    assert "needs a top-level slip_rules: file" in str(err.value)


def test_validate_warnings(files: WriteFile) -> None:
    extra = "    factors: [pace]\n"
    text = scenario_text(planned="2036", slip="{reference_class: russia}", extra=extra,
                         top="factors: {pace: {lognormal: {median: 1, p90: 1.3}}}\n")
    s = load_scenario(files("s.yaml", text))
    messages = [str(p) for p in scenario_warnings(s)]
    assert any("outside the leads seen in the 'russia' data (2.0 to 78.0)" in m
               and m.startswith(f"{s.path}:8: activities.ce8.slip: warning:") for m in messages)
    assert any("cannot be validated (only 2 launched missions" in m for m in messages)
    assert any("double counting" in m and "pace" in m for m in messages)


def test_the_baseline_uses_the_shipped_rules() -> None:
    s = load_scenario(REPO / "scenarios" / "ilrs_baseline.yaml")
    calibrated = {a.id for a in s.activities if isinstance(a.slip, CalibratedSlip)}
    assert {"ce7", "ce8", "luna26", "luna27a", "luna27b", "ru_power_plant", "ilrs1"} <= calibrated
    for aid in calibrated:  # no double counting in the baseline
        assert not s.activity(aid).factors, aid
    messages = [p.message for p in scenario_warnings(s)]
    assert not any("double counting" in m for m in messages)


def test_move_as_of_from_python_equals_loading_the_moved_file(files: WriteFile) -> None:
    extra = "    announced: 2025-04-24\n"
    s = load_scenario(files("a.yaml", scenario_text("2026-04-13", extra=extra)))
    moved_file = load_scenario(files("b.yaml", scenario_text("2029-10-01", extra=extra)))
    moved = move_as_of(s, date(2029, 10, 1))
    assert moved.as_of == moved_file.as_of
    assert moved.activity("ce8").slip == moved_file.activity("ce8").slip
    # Without announced the lead is measured from the new as_of, as the loader does.
    t = load_scenario(files("c.yaml", scenario_text("2026-04-13")))
    t_file = load_scenario(files("d.yaml", scenario_text("2027-04-13")))
    assert move_as_of(t, date(2027, 4, 13)).activity("ce8").slip == t_file.activity("ce8").slip
    with pytest.raises(ValueError, match="give it announced"):
        move_as_of(t, date(2030, 1, 1))


def test_moving_the_baseline_past_chang_e_7s_plan_does_not_launch_it_at_once(
        tmp_path: Path) -> None:
    """The issue's case: the April 2026 baseline's as_of moved alone to 2026-11-29, after
    Chang'e-7's planned 1 October. With the hand rules 44 % of trials launched it that very
    day; calibrated, none does."""
    april = REPO / "scenarios" / "history" / "ilrs_2026-04-13.yaml"
    base = load_scenario(april)
    moved = move_as_of(base, date(2026, 11, 29))
    res = sim.run(moved, trials=2000, seed=SEED, workers=1)
    i = moved.activity_index["ce7"]
    attempts = res.attempts[:, i]
    first_launch = res.start_days[:, i][attempts == 1]  # trials whose one attempt is the first
    assert first_launch.size > 1000
    assert np.all(first_launch > 0)
    # The hand-sized rules, moved the same way, do launch at once in many trials: the test
    # above can fail.
    # (hand_rules.yaml extends the current baseline; here it extends the April one)
    hand_text = (REPO / "scenarios" / "hand_rules.yaml").read_text()
    assert "\nextends: ilrs_baseline.yaml\n" in hand_text
    hand_file = tmp_path / "hand_rules_april.yaml"
    hand_file.write_text(hand_text.replace("\nextends: ilrs_baseline.yaml\n",
                                           f"\nextends: {april}\n"))
    hand = move_as_of(load_scenario(hand_file), date(2026, 11, 29))
    hand_res = sim.run(hand, trials=2000, seed=SEED, workers=1)
    hand_first = hand_res.start_days[:, i][hand_res.attempts[:, i] == 1]
    assert np.mean(hand_first == 0) > 0.2


def test_inherited_rules_file_survives_a_rebuild_from_the_resolved_yaml(files: WriteFile) -> None:
    # The parent names its rules relative to itself; the child lives in another folder. Tools
    # that rebuild a scenario from its resolved YAML parse it as the child's file, so the
    # resolved mapping must name the rules relative to the child.
    files("base/parent.yaml", scenario_text().replace("rules.yaml", "../rules.yaml"))
    child = files("child.yaml", "extends: base/parent.yaml\nscenario: child\n")
    loaded = load_scenario(child)
    assert loaded.slip_rules == "rules.yaml"
    again = parse_scenario(sim.resolved_yaml(loaded), str(child))
    assert again.activity("ce8").slip == loaded.activity("ce8").slip
