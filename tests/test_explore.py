"""Exploration: parameters files, design points as variants, indices against closed forms, PRIM on a
known box, the lever search, the output folder, and Dask giving the same numbers as a local run.

The reference scenarios (scenarios/reference/explore_*.yaml) derive their exact Sobol indices in
their comments. An index estimate must match within its own 95 % bootstrap interval widened by the
bias that the Monte Carlo outputs can add: with common random numbers each point's P is a fixed
function of the parameters whose distance from the exact P has variance at most E[P(1-P)]/T, and an
index is a ratio of variances, so it moves by at most that over the total variance V.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import math
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim import load_scenario, run
from sim.cli import main
from sim.explore import OUTPUTS, censored, design_size, explore, lever_search, make_design
from sim.explore_analysis import discover, sensitivity
from sim.explore_output import read_folder, write_folder
from sim.explore_report import explore_section
from sim.parameters import Step, find, load_parameters, parse_parameters, parse_path
from sim.yamlio import ScenarioError

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "scenarios" / "reference"
QUICKSTART = ROOT / "scenarios" / "examples" / "quickstart.yaml"
SEED = 20_260_413


def space(name: str):  # type: ignore[no-untyped-def]
    scenario = load_scenario(REFERENCE / f"{name}.yaml")
    return load_parameters(ROOT / "parameters" / "reference" / f"{name}.yaml", scenario)


@functools.cache
def sobol_run(name: str, n: int, trials: int):  # type: ignore[no-untyped-def]
    exp = explore(space(name), "sobol", n, trials, SEED, workers=2)
    return exp, sensitivity(exp)


# --- paths and parameters files ----------------------------------------------------------------


def test_path_syntax() -> None:
    assert parse_path("goal.requires.all[3].at_least") == (False, (
        Step(("goal",)), Step(("requires",)), Step(("all",)), Step(index=3),
        Step(("at_least",))))
    assert parse_path("scale:activities.{a,b}.slip") == (True, (
        Step(("activities",)), Step(("a", "b")), Step(("slip",))))
    data = {"activities": {"a": {"slip": 1}, "b": {"duration": 2}, "c": {"slip": 3}}}
    assert find(data, parse_path("activities.*.slip")[1]) == [
        ("activities", "a", "slip"), ("activities", "c", "slip")]


def test_applying_a_point_is_a_new_validated_value() -> None:
    scenario = load_scenario(ROOT / "scenarios" / "ilrs_baseline.yaml")
    before = json.dumps(scenario.resolved, sort_keys=True)
    sp = parse_parameters(
        "parameters:\n"
        "  goal.requires.all[3].at_least: {uniform: [3, 5]}\n"
        "  activities.lm9_development.planned: {uniform: [2030-01, 2034-12]}\n"
        "  scale:activities.{ilrs1,ilrs2}.slip: {uniform: [0.5, 2]}\n", scenario, "p.yaml")
    whole, day, scale = sp.parameters
    assert whole.bounds == (3.0, 6.0)  # whole numbers 3, 4, 5 equally likely
    variant = sp.apply([5.99, day.low, 2.0])
    assert variant.goal.requires.parts[3].count == 5  # type: ignore[union-attr]
    assert str(variant.activity("lm9_development").planned) == "2030-01-15"
    slip = variant.activity("ilrs2").slip  # a calibrated slip: its draws are doubled
    assert slip.unit_months == scenario.activity("ilrs2").slip.unit_months / 2  # type: ignore
    assert variant.activity("ilrs3").slip == scenario.activity("ilrs3").slip
    assert json.dumps(scenario.resolved, sort_keys=True) == before  # never mutated


BAD = [
    ("vehicles.long_march_9.reliabilty: {uniform: [0.7, 0.95]}",
     "p.yaml:2: parameters.vehicles.long_march_9.reliabilty: reaches nothing in the scenario "
     "('reliabilty' is not there; did you mean 'reliability'?)"),
    ("activities.ilrs1.success: {uniform: [0.6, 1.2]}",
     "p.yaml:2: parameters.activities.ilrs1.success: at 1.2 the scenario is invalid: "
     "activities.ilrs1.success: must be between 0 and 1, got 1.2"),
    ("goal.requires.all[3].at_least: {uniform: [3, 6]}",
     "p.yaml:2: parameters.goal.requires.all[3].at_least: at 6 the scenario is invalid: "
     "goal.requires.all[3].at_least: must be between 1 and 5 (the number of requirements in "
     "'of'), got 6"),
    ("goal.requires.all[3].at_least: {uniform: [3, 4.5]}",
     "p.yaml:2: parameters.goal.requires.all[3].at_least.uniform: needs whole numbers, got "
     "[3, 4.5]"),
    ("activities.ce7.planned: {uniform: [2030-01, 2024-12]}",
     "p.yaml:2: parameters.activities.ce7.planned.uniform: needs low < high, got "
     "['2030-01', '2024-12']"),
    ("activities.ce8.success: {normal: [1, 2]}",
     "p.yaml:2: parameters.activities.ce8.success: must be {uniform: [low, high]}, got "
     "{normal: [1, 2]}"),
    ("activities..x: {uniform: [1, 2]}",
     "p.yaml:2: parameters.activities..x: not a path: expected a key, '*' or '{a,b}' at "
     "character 12 of 'activities..x'"),
    ("scale:activities.ce8.success: {uniform: [0.5, 2]}",
     "p.yaml:2: parameters.scale:activities.ce8.success: at 2.0 the scenario is invalid: "
     "activities.ce8.success: must be between 0 and 1, got 1.8"),
]


@pytest.mark.parametrize(("line", "message"), BAD)
def test_bad_parameters_are_located(line: str, message: str) -> None:
    scenario = load_scenario(ROOT / "scenarios" / "ilrs_baseline.yaml")
    with pytest.raises(ScenarioError) as err:
        parse_parameters(f"parameters:\n  {line}\n", scenario, "p.yaml")
    assert str(err.value) == message


def test_bad_lever_and_cli_exit(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    params = tmp_path / "p.yaml"
    params.write_text("parameters:\n  activities.lander_a.success: {uniform: [0.5, 1]}\n"
                      "levers: [activities.lander_b.success]\n")
    out = tmp_path / "out"
    code = main(["explore", str(QUICKSTART), str(params), "--n", "4", "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2
    assert err.strip() == (f"{params}:3: levers[0]: must be one of the parameters' paths, got "
                           "'activities.lander_b.success'; did you mean "
                           "'activities.lander_a.success'?")
    assert not out.exists()
    params.write_text("parameters:\n  activities.lander_a.success: {uniform: [0.5, 1]}\n")
    assert main(["explore", str(QUICKSTART), str(params), "--n", "6", "--out", str(out)]) == 2
    assert "--n: n must be a power of 2 for a Sobol design" in capsys.readouterr().err
    assert not out.exists()


# --- known answers -----------------------------------------------------------------------------


def product_indices() -> tuple[float, float, float]:
    """Sobol indices of p1 p2 p3, p_i ~ U[0.5, 1] (scenarios/reference/explore_product.yaml)."""
    m, s = 0.75, 7 / 12
    v = s**3 - m**6
    return m**4 * (s - m * m) / v, (s - m * m) * s * s / v, v


def test_sobol_of_a_product_of_success_probabilities() -> None:
    trials = 1000
    exp, sens = sobol_run("explore_product", 128, trials)
    s1, st, v = product_indices()
    bias = (0.75**3 - (7 / 12) ** 3) / trials / v  # E[P(1 - P)] / T / V: E P = m^3, E P^2 = s^3
    rows = sens[sens["output"] == "probability"]
    assert len(rows) == 3
    for row in rows.itertuples():
        assert abs(row.S1 - s1) <= row.S1_conf + bias, (row.parameter, row.S1, s1)
        assert abs(row.ST - st) <= row.ST_conf + bias, (row.parameter, row.ST, st)
    # And the design's own P at each point is the product within its binomial error.
    p = np.prod(exp.values(), axis=1)
    se = np.sqrt(p * (1 - p) / trials)
    assert np.all(np.abs(exp.outputs[:, 0] - p) <= 5 * se + 1 / trials)


def test_sobol_of_an_ishigami_like_goal_time() -> None:
    exp, sens = sobol_run("explore_max_plus", 256, 1)
    w = w3 = 100.0
    v = w * w / 18 + w3 * w3 / 12
    exact = {"activities.a.duration": (w * w / 45 / v, w * w / 30 / v),
             "activities.b.duration": (w * w / 45 / v, w * w / 30 / v),
             "activities.c.duration": (w3 * w3 / 12 / v, w3 * w3 / 12 / v)}
    bias = 1 / 12 / v  # the goal date is the whole day: rounding adds at most 1/12 day^2
    rows = sens[sens["output"] == "p50_days"]
    for row in rows.itertuples():
        s1, st = exact[row.parameter]
        assert abs(row.S1 - s1) <= row.S1_conf + bias, (row.parameter, row.S1, s1)
        assert abs(row.ST - st) <= row.ST_conf + bias, (row.parameter, row.ST, st)
    values = exp.values()
    goal = np.floor(np.maximum(values[:, 0], values[:, 1]) + values[:, 2])
    assert np.array_equal(exp.outputs[:, 1], goal)  # the engine computes max + sum exactly


def test_prim_recovers_a_known_box() -> None:
    sp = space("explore_box")
    exp = explore(sp, "lhs", 1000, 1, SEED)
    truth = (np.floor(exp.values()[:, :2]) <= 60).all(axis=1)
    assert np.array_equal(exp.outputs[:, 0] == 1.0, truth)
    box = discover(exp, threshold=0.5, min_density=1.0)
    assert box is not None
    assert set(box.limits) == {"activities.a.duration", "activities.b.duration"}
    assert box.density == 1.0
    # A peel removes a share alpha = 0.05 of the box's points along one side: with the points
    # spread uniformly over at most 100 days, the upper limits stop within about 5 days of the
    # true edge, 61, and the box keeps at least (1 - 0.05)^2 of the good points.
    for lo, hi in box.limits.values():
        assert lo <= 1 and 61 - 0.05 * 100 <= hi <= 61
    assert box.coverage >= 0.95**2


def test_lever_search_finds_the_threshold_of_a_product() -> None:
    sp = space("explore_product")  # lever m1's success; m2, m3 stay at 0.75: P = 0.5625 p1
    trials = 2000
    found = lever_search(sp, target=0.5, trials=trials, seed=SEED, workers=2)
    assert found is not None and found.reached
    exact = 0.5 / 0.5625
    # P is estimated from `trials` trials: the crossing moves by Z standard errors of P over the
    # slope 0.5625, plus the bisection's last step (a quarter of the range / 2^6).
    tol = 4 * math.sqrt(0.25 / trials) / 0.5625 + 0.25 / 2**6
    assert abs(found.values["activities.m1.success"] - exact) <= tol
    assert found.probability >= 0.5
    assert found.change == pytest.approx((found.values["activities.m1.success"] - 0.75) / 0.5)


def test_percentiles_never_reached_are_censored_at_the_latest_date() -> None:
    values, count = censored(np.array([10.0, np.inf, 30.0, np.inf]))
    assert count == 2 and values.tolist() == [10.0, 30.0, 30.0, 30.0]
    assert np.isnan(censored(np.array([np.inf, np.inf]))[0]).all()


def test_a_variant_equals_the_scenario_read_from_its_data() -> None:
    """A point rebuilds only the elements it changes; the variant must equal, element for
    element, the scenario the loader reads from the variant's whole data, and refuse the same
    bad values with the same problems."""
    from sim.scenario import scenario_from_data, scenario_with_changes

    baseline = load_scenario(ROOT / "scenarios" / "ilrs_baseline.yaml")
    sp = load_parameters(ROOT / "parameters" / "ilrs_judgements.yaml", baseline)
    for x in make_design(sp, "lhs", 40, SEED):
        variant = sp.apply(list(x))
        assert variant.resolved is not None
        full = scenario_from_data(variant.resolved, str(baseline.path))
        for key in ("activities", "vehicles", "factors", "risks", "goal", "as_of", "slip_rules",
                    "path", "resolved", "time_unit", "title", "sources"):
            assert getattr(variant, key) == getattr(full, key), key
    # A change outside the elements builds everything again.
    data = dict(baseline.resolved or {}, as_of="2026-11-30")
    assert scenario_with_changes(baseline, data, [("as_of",)]).as_of == date(2026, 11, 30)
    # Bad values: the same problems either way.
    quick = load_scenario(QUICKSTART)
    bad = parse_parameters("parameters:\n"
                           "  vehicles.heavy.stand_down.triangular[0]: {uniform: [5, 10]}\n"
                           "  vehicles.heavy.stand_down.triangular[1]: {uniform: [7, 14]}\n",
                           quick, "p.yaml")
    with pytest.raises(ScenarioError) as partial:
        bad.apply([10.0, 7.0])
    data = dict(quick.resolved or {})
    data["vehicles"] = {**data["vehicles"], "heavy": {
        **data["vehicles"]["heavy"], "stand_down": {"triangular": [10.0, 7.0, 24]}}}
    with pytest.raises(ScenarioError) as whole:
        scenario_from_data(data, str(quick.path))
    assert partial.value.problems == whole.value.problems


def test_design_sizes_and_common_random_numbers() -> None:
    sp = space("explore_product")
    assert design_size("sobol", 8, 3) == 64 == len(make_design(sp, "sobol", 8, 1))
    assert design_size("morris", 4, 3) == 16 == len(make_design(sp, "morris", 4, 1))
    assert len(make_design(sp, "lhs", 10, 1)) == 10
    # Every point runs with the same seed: a point equal to the scenario's own values gives
    # exactly the scenario's own run.
    exp = explore(dataclasses.replace(sp, parameters=sp.parameters[:1]), "lhs", 3, 500, 7)
    point = sp.apply({"activities.m1.success": exp.points[0, 0]})
    assert run(point, trials=500, seed=7, workers=1).probability == exp.outputs[0, 0]


# --- the folder and the command ----------------------------------------------------------------


def test_folder_round_trip(tmp_path: Path) -> None:
    exp, sens = sobol_run("explore_max_plus", 256, 1)
    box = discover(exp, threshold=0.5)
    write_folder(tmp_path / "x", exp, sens, box, None, 0.5, 0.5, figures=False)
    back = read_folder(tmp_path / "x")
    assert np.array_equal(back.exploration.values(), exp.values())
    assert np.array_equal(back.exploration.outputs, exp.outputs)
    frame = pd.read_csv(tmp_path / "x" / "sensitivity.csv")
    assert list(frame.columns) == ["output", "parameter", "S1", "S1_conf", "ST", "ST_conf"]
    assert set(frame["output"]) == set(OUTPUTS)
    pd.testing.assert_frame_equal(sensitivity(back.exploration), sens, check_exact=False)


def test_cli_explore_end_to_end(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "new" / "out"  # its folder made, like mkdir -p
    code = main(["explore", str(REFERENCE / "explore_product.yaml"),
                 str(ROOT / "parameters" / "reference" / "explore_product.yaml"),
                 "--design", "lhs", "--n", "60",
                 "--trials", "200", "--seed", "3", "--workers", "1", "--out", str(out),
                 "--threshold", "0.4", "--target", "0.5"])
    text = capsys.readouterr().out
    assert code == 0
    assert "60 points x 200 trials, seed 3" in text and "Lever search" in text
    summary = json.loads((out / "summary.json").read_text())
    assert summary["points"] == 60 and summary["seed"] == 3
    assert {"design.parquet", "sensitivity.csv", "surface.png", "prim_peeling.png"} <= {
        p.name for p in out.iterdir()}
    design = pd.read_parquet(out / "design.parquet")
    assert list(design.columns) == ["point", "activities.m1.success", "activities.m2.success",
                                    "activities.m3.success", *OUTPUTS]


# --- Dask ----------------------------------------------------------------------------------------


def test_both_engines_give_the_same_exploration() -> None:
    sp = space("explore_product")
    fast = explore(sp, "lhs", 12, 300, SEED, engine="fast")
    assert np.array_equal(explore(sp, "lhs", 12, 300, SEED, engine="des").outputs, fast.outputs)


def test_dask_local_cluster_gives_identical_results() -> None:
    from sim.execution_dask import dask_executor

    sp = space("explore_product")
    local = explore(sp, "lhs", 12, 300, SEED, workers=1)
    assert np.array_equal(explore(sp, "lhs", 12, 300, SEED, workers=2).outputs, local.outputs)
    scenario = load_scenario(QUICKSTART)
    alone = run(scenario, trials=2500, seed=SEED, workers=1)
    with dask_executor(workers=2) as executor:
        remote = explore(sp, "lhs", 12, 300, SEED, executor=executor)
        spread = run(scenario, trials=2500, seed=SEED, executor=executor)
    assert np.array_equal(remote.points, local.points)
    assert np.array_equal(remote.outputs, local.outputs)
    assert np.array_equal(spread.goal_days, alone.goal_days)
    assert np.array_equal(spread.finish_days, alone.finish_days)
    assert np.array_equal(spread.attempts, alone.attempts)


def test_readme_shows_what_explore_prints_for_a_bad_file(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split("$ ilrs explore scenarios/ilrs_baseline.yaml bad.yaml")[1]
    shown = block.split("```")[0].strip().splitlines()[1:]
    (tmp_path / "bad.yaml").write_text(
        "parameters:\n  activities.ilrs1.success: {uniform: [0.6, 1.2]}\n"
        "  goal.requires.all[3].at_least: {uniform: [3, 6]}\n")
    code = main(["explore", str(ROOT / "scenarios" / "ilrs_baseline.yaml"),
                 str(tmp_path / "bad.yaml"), "--n", "8", "--out", str(tmp_path / "x")])
    assert code == 2
    printed = capsys.readouterr().err.replace(str(tmp_path) + "/", "").splitlines()
    assert printed == shown
    assert not (tmp_path / "x").exists()


def test_report_gets_a_section_from_an_exploration_folder(tmp_path: Path) -> None:
    exp, sens = sobol_run("explore_max_plus", 256, 1)
    write_folder(tmp_path / "x", exp, sens, discover(exp, 0.5), None, 0.5, 0.5)
    page = tmp_path / "r.html"
    assert main(["report", str(REFERENCE / "explore_max_plus.yaml"), "-o", str(page),
                 "--trials", "50", "--seed", "1", "--workers", "1",
                 "--explore", str(tmp_path / "x")]) == 0
    text = page.read_text()
    assert '<section id="explore">' in text and "activities.c.duration" in text
    assert text.count("data:image/png;base64") >= 4


def test_morris_elementary_effects_of_an_additive_term() -> None:
    # Goal time max(x1, x2) + x3: x3 adds linearly, so each of its elementary effects (the change
    # of the output over a step of Delta = 2/3 of the range, divided by Delta) is the full range,
    # 100 days, exactly, but for the goal date's rounding to a whole day (at most 1 day / Delta).
    exp = explore(space("explore_max_plus"), "morris", 10, 1, SEED)
    rows = sensitivity(exp).set_index(["output", "parameter"])
    x3 = rows.loc[("p50_days", "activities.c.duration")]
    slack = 1 / (2 / 3)
    assert abs(x3["mu_star"] - 100) <= slack and abs(x3["mu"] - 100) <= slack
    assert x3["sigma"] <= slack  # every effect is within slack of 100
    assert rows.loc[("p50_days", "activities.a.duration"), "mu_star"] < 100 + slack


def test_a_design_point_that_makes_the_scenario_invalid_is_bad_input(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Each end of each range is valid on its own; together, low may pass the mode.
    params = tmp_path / "p.yaml"
    params.write_text("parameters:\n"
                      "  vehicles.heavy.stand_down.triangular[0]: {uniform: [5, 10]}\n"
                      "  vehicles.heavy.stand_down.triangular[1]: {uniform: [7, 14]}\n")
    out = tmp_path / "out"
    code = main(["explore", str(QUICKSTART), str(params), "--design", "lhs", "--n", "40",
                 "--trials", "10", "--seed", "1", "--workers", "2", "--out", str(out)])
    assert code == 2
    err = capsys.readouterr().err
    assert f"{QUICKSTART}: vehicles.heavy.stand_down: impossible triangular " \
           "parameters" in err
    assert not out.exists()


def test_ilrs_run_on_dask_writes_the_same_trials(tmp_path: Path) -> None:
    args = ["run", str(QUICKSTART), "--trials", "2500", "--seed", "11", "--quiet"]
    assert main([*args, "--workers", "1", "--out", str(tmp_path / "local")]) == 0
    assert main([*args, "--dask", "2", "--out", str(tmp_path / "dask")]) == 0
    local = pd.read_parquet(tmp_path / "local" / "trials.parquet")
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "dask" / "trials.parquet"), local)


def test_folder_round_trip_of_dates_and_whole_numbers(tmp_path: Path) -> None:
    from sim.explore import Exploration

    rng = np.random.default_rng(5)
    day0 = 20_000.0  # days since 1970-01-01 (2024-10-04)
    points = np.column_stack([rng.uniform(day0, day0 + 700, 40), rng.uniform(3, 6, 40)])
    outputs = np.column_stack([rng.uniform(0, 1, 40), rng.uniform(100, 900, 40),
                               np.where(rng.uniform(size=40) < 0.3, np.inf, 1000.0)])
    exp = Exploration(["activities.a.planned", "goal.requires.at_least"], ["date", "whole"],
                      [(day0, day0 + 700), (3.0, 6.0)], [], "lhs", 40, 100, 1, points, outputs)
    sens = sensitivity(exp)
    write_folder(tmp_path / "x", exp, sens, discover(exp, 0.5, 0.6), None, 0.5, 0.5)
    back = read_folder(tmp_path / "x")
    assert np.array_equal(back.exploration.values(), exp.values())
    assert np.array_equal(back.exploration.outputs, exp.outputs)  # never (inf) survives as null
    design = pd.read_parquet(tmp_path / "x" / "design.parquet")
    first = date(1970, 1, 1) + timedelta(days=round(points[0, 0]))
    assert design["activities.a.planned"].iloc[0] == first
    assert set(design["goal.requires.at_least"]) <= {3, 4, 5}
    assert design["p80_days"].isna().sum() == int(np.isinf(outputs[:, 2]).sum())
    assert back.summary["censored"]["p80_days"] == int(np.isinf(outputs[:, 2]).sum())


def test_a_multiplier_on_calibrated_slips_of_one_reference_class() -> None:
    baseline = load_scenario(ROOT / "scenarios" / "ilrs_baseline.yaml")
    sp = parse_parameters("parameters:\n"
                          "  scale:activities.{ilrs1,ilrs2}.slip: {uniform: [0.5, 1.5]}\n",
                          baseline, "p.yaml")
    doubled = sp.apply([1.5]).activity("ilrs2").slip
    slip = baseline.activity("ilrs2").slip
    assert doubled is not None and slip is not None
    a = doubled.sample(np.random.default_rng(3), 1000)
    b = slip.sample(np.random.default_rng(3), 1000)
    assert np.allclose(a, 1.5 * b, rtol=1e-12, atol=0)  # every draw, times the multiplier
    assert sp.apply([1.5]).activity("ilrs3").slip == baseline.activity("ilrs3").slip
    same = run(sp.apply([1.0]), trials=500, seed=2, workers=1)
    assert np.array_equal(same.goal_days, run(baseline, trials=500, seed=2, workers=1).goal_days)


def test_the_report_section_escapes_user_text(tmp_path: Path) -> None:
    """Lever names and values reach the page through the autoescaped template, not by hand."""
    exp, sens = sobol_run("explore_max_plus", 256, 1)
    write_folder(tmp_path / "x", exp, sens, discover(exp, 0.5), None, 0.5, 0.5)
    summary = tmp_path / "x" / "summary.json"
    info = json.loads(summary.read_text())
    info["levers"] = {"target": 0.5, "reached": True, "probability": 0.51, "ci95": [0.5, 0.52],
                      "values": {"<script>alert(1)</script>": "<b>2031</b>"}}
    summary.write_text(json.dumps(info))
    html = explore_section(tmp_path / "x")
    assert "<script>" not in html and "<b>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "&lt;b&gt;2031&lt;/b&gt;" in html
    assert html.startswith('<section id="explore">') and html.count("<figure>") >= 1


def test_a_point_equals_a_plain_run_of_its_variant_read_from_yaml() -> None:
    """The shortcuts in building and running a point (the rules file parsed once, the variant
    sharing unchanged data with the baseline, points grouped in tasks over two processes)
    change no output: each point equals run() of its variant written out as YAML and read back
    like any file."""
    from sim.explore import evaluate
    from sim.results import percentile_day
    from sim.scenario import parse_scenario, resolved_yaml

    path = ROOT / "scenarios" / "ilrs_baseline.yaml"
    baseline = load_scenario(path)
    sp = load_parameters(ROOT / "parameters" / "ilrs_judgements.yaml", baseline)
    points = make_design(sp, "lhs", 6, SEED)
    outputs = evaluate(sp, points, 300, SEED, workers=2)
    for x, got in zip(points, outputs, strict=True):
        variant = parse_scenario(resolved_yaml(sp.apply(list(x))), str(path))
        plain = run(variant, trials=300, seed=SEED, workers=1)
        goal = plain.goal_days
        assert tuple(got) == (plain.probability, percentile_day(goal, 50),
                              percentile_day(goal, 80))
    assert len(set(outputs[:, 0])) > 1  # the points differ
