"""The what-if page in a real browser (headless Chromium driven by Playwright), and the variant
logic behind it.

The browser test starts `ilrs app` on a free port in a subprocess (always stopped afterwards),
loads the page, moves a slider with the keyboard as a user would, saves the variant, and checks
that the page shows exactly what `ilrs run` gives for the saved file with the same seed. It also
takes a screenshot and checks it is not blank; with ILRS_UPDATE_SCREENSHOT=1 the screenshot
replaces docs/figures/whatif_page.png (the README's picture).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from sim import load_scenario, run
from sim.app import css_class
from sim.parameters import date_number
from sim.scenario import ScenarioError
from sim.whatif import (
    build_variant,
    changed,
    controls,
    parameter_space,
    save_variant,
    variant_yaml,
)

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "scenarios" / "ilrs_baseline.yaml"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
TRIALS, SEED = 1000, 11
LM9 = ("vehicles", "long_march_9", "reliability")
JUDGEMENTS = ROOT / "parameters" / "ilrs_judgements.yaml"
MODULES = ("activities.{ilrs1,ilrs2,ilrs3,ilrs4,ilrs5}.success",)  # one control, five values
REBUILD = ("scale:activities.{ce7,ce8,ilrs1,ilrs2,ilrs3,ilrs4,ilrs5}.on_failure.rebuild",)
SLIPS = ("scale:activities.{ce8,ilrs1,ilrs2,ilrs3,ilrs4,ilrs5}.slip",)  # calibrated slips


# -- the variant logic ------------------------------------------------------------------------
def test_controls_cover_the_inputs_that_matter():
    scenario = load_scenario(BASELINE)
    keys = {c.key for c in controls(scenario)}
    assert ("goal", "at_least") in keys and LM9 in keys
    assert ("activities", "lm9_development", "planned") in keys
    assert all(("activities", a.id, "success") in keys for a in scenario.activities
               if not a.settled)
    # a mission done (or lost) before as_of has nothing left to change
    assert any(a.lost for a in scenario.activities)
    assert not any(k[:2] == ("activities", a.id) for k in keys for a in scenario.activities
                   if a.settled)
    assert all(("risks", r.id, "probability") in keys or ("risks", r.id, "annual_probability")
               in keys for r in scenario.risks)


def test_unchanged_values_make_the_original_scenario():
    scenario = load_scenario(BASELINE)
    values = {c.key: c.value for c in controls(scenario)}
    assert changed(scenario, values) == {}
    same = build_variant(scenario, values)
    assert same == scenario  # equal model, so equal draws and equal results


def test_a_saved_variant_extends_the_original_and_validates(tmp_path: Path):
    scenario = load_scenario(BASELINE)
    values = {LM9: 0.9, ("activities", "lm9_development", "planned"):
              load_scenario(BASELINE).activity("lm9_development").planned.replace(year=2029),
              ("goal", "at_least"): 2}
    target = tmp_path / "deeper" / "lm9_better.yaml"
    save_variant(scenario, values, target)
    text = target.read_text()
    assert "extends: " + os.path.relpath(BASELINE.resolve(), target.parent.resolve()) in text
    assert "judgement:" in text  # the values are the user's, and say so
    loaded = load_scenario(target)
    assert loaded.vehicle("long_march_9").reliability == 0.9
    assert loaded.activity("lm9_development").planned.year == 2029
    assert loaded.goal.requires != scenario.goal.requires
    assert loaded == build_variant(scenario, values)


def test_a_goal_only_change_keeps_every_trial_the_same():
    """Common random numbers, exactly: lowering `at_least` changes no draw and no mission
    date, only the goal time, which can only come earlier, trial by trial."""
    scenario = load_scenario(BASELINE)
    lower = build_variant(scenario, {("goal", "at_least"): 2})
    base, easier = (run(s, trials=500, seed=3, workers=1) for s in (scenario, lower))
    assert np.array_equal(base.finish_days, easier.finish_days)
    assert np.all(easier.goal_days <= base.goal_days)
    assert np.any(easier.goal_days < base.goal_days)


def test_a_variant_that_does_not_validate_is_not_written(tmp_path: Path):
    scenario = load_scenario(BASELINE)
    target = tmp_path / "bad.yaml"
    with pytest.raises(ScenarioError, match="must be between 0 and 1"):
        save_variant(scenario, {LM9: 1.5}, target)
    assert not target.exists() and list(tmp_path.iterdir()) == []
    assert "1.5" in variant_yaml(scenario, {LM9: 1.5}, target)


# -- the declared parameters as controls -----------------------------------------------------
def test_the_baseline_offers_its_declared_parameters_by_default():
    scenario = load_scenario(BASELINE)
    space = parameter_space(scenario, True)
    assert space is not None and Path(space.file) == JUDGEMENTS
    assert parameter_space(scenario, False) is None
    assert parameter_space(load_scenario(ROOT / "scenarios/examples/quickstart.yaml"), True) \
        is None  # no documented default: the fallback controls
    # Every declared parameter is offered, the calibrated slips' multiplier included (written
    # as `scale:` beside `reference_class`).
    found = {c.key: c for c in controls(scenario, space)}
    assert list(found) == [(p,) for p in space.names]
    lm9 = found[("vehicles.long_march_9.reliability",)]
    assert (lm9.kind, lm9.value, lm9.low, lm9.high) == ("number", 0.8, 0.7, 0.85)
    at_least = found[("goal.requires.all[3].at_least",)]
    assert (at_least.kind, at_least.value, at_least.low, at_least.high) == ("count", 3, 3, 5)
    planned = found[("activities.lm9_development.planned",)]
    assert planned.kind == "date"
    assert planned.value == scenario.activity("lm9_development").planned
    # 2030-07 to 2032-07: partial dates are the middle of their month.
    assert (planned.low, planned.high) == (date_number(date(2030, 7, 15)),
                                           date_number(date(2032, 7, 15)))
    assert found[REBUILD].value == 1.0  # a multiplier starts at 1: the scenario as it is
    values = {k: c.value for k, c in found.items()}
    assert changed(scenario, values, space) == {}
    assert build_variant(scenario, values, space) == scenario


def test_a_declared_variant_saves_the_values_apply_changed(tmp_path: Path):
    """Wildcards and multipliers are written as the resolved values they changed, so the
    saved file runs the very trials of ``ParameterSpace.apply``."""
    scenario = load_scenario(BASELINE)
    space = parameter_space(scenario, JUDGEMENTS)
    assert space is not None
    values = {MODULES: 0.75, REBUILD: 1.3, SLIPS: 1.2, ("goal.requires.all[3].at_least",): 4,
              ("activities.lm9_development.planned",): date(2030, 9, 15),
              ("factors.china_pace.lognormal.p90",): 1.45}
    target = tmp_path / "what-if" / "judged.yaml"
    save_variant(scenario, values, target, space)
    text = target.read_text()
    assert "extends: " + os.path.relpath(BASELINE.resolve(), target.parent.resolve()) in text
    assert "judgement:" in text
    assert text.count("scale: 1.2") == 6  # the calibrated slips' multiplier, as written
    loaded = load_scenario(target)
    for ident in ("ilrs1", "ilrs2", "ilrs3", "ilrs4", "ilrs5"):
        assert loaded.activity(ident).success == 0.75
    expected = space.apply({MODULES[0]: 0.75, REBUILD[0]: 1.3, SLIPS[0]: 1.2,
                            "goal.requires.all[3].at_least": 4,
                            "activities.lm9_development.planned":
                                date_number(date(2030, 9, 15)),
                            "factors.china_pace.lognormal.p90": 1.45})
    titles = ("scenario", "description")  # the variant's own, saying what changed
    assert expected.resolved is not None and loaded.resolved is not None
    # The rules file is named relative to each scenario's own file: the same file.
    rules = [Path(s.path).parent / str(s.resolved["slip_rules"]) for s in (expected, loaded)
             if s.path is not None]
    assert len(rules) == 2 and rules[0].resolve() == rules[1].resolve()
    titles += ("slip_rules",)
    assert {k: v for k, v in expected.resolved.items() if k not in titles} == \
        {k: v for k, v in loaded.resolved.items() if k not in titles}
    ours, theirs = (run(s, trials=400, seed=5, workers=1) for s in (loaded, expected))
    assert np.array_equal(ours.goal_days, theirs.goal_days)
    assert np.array_equal(ours.finish_days, theirs.finish_days)
    assert loaded == build_variant(scenario, values, space)


def test_app_refuses_a_bad_parameters_file_before_serving(tmp_path: Path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("parameters:\n  activities.ilrs1.success: {uniform: [0.5, 1.2]}\n")
    done = subprocess.run([sys.executable, "-m", "sim", "app", str(BASELINE), "--parameters",
                           str(bad), "--port", "0"], capture_output=True, text=True, cwd=ROOT,
                          timeout=120)
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith(f"{bad}:2: parameters.activities.ilrs1.success: at 1.2 the "
                                  "scenario is invalid"), done.stderr
    assert "Traceback" not in done.stderr and "What-if page" not in done.stdout


# -- the page in a browser ------------------------------------------------------------------
@pytest.fixture
def server(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    """`ilrs app` on a free port (with the options `request.param`, if any); yields its
    address and always stops it."""
    log = (tmp_path / "server.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "sim", "app", str(BASELINE), "--port", "0", "--trials",
         str(TRIALS), "--seed", str(SEED), *getattr(request, "param", ())],
        stdout=subprocess.PIPE, stderr=log, text=True, cwd=tmp_path)
    try:
        address = None
        assert proc.stdout is not None
        for line in proc.stdout:  # blocks until the server announces itself or exits
            if line.startswith("What-if page"):
                address = line.split()[2]
                break
        assert address is not None, (tmp_path / "server.log").read_text()
        assert address.startswith("http://127.0.0.1:") and address.endswith("/")
        yield address
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def _browser():
    if not Path(CHROMIUM).exists():
        reason = f"no browser at {CHROMIUM}: apt-get install chromium (.ci/run does)"
        if os.environ.get("CI"):  # CI installs it, so its absence there is a failure
            pytest.fail(reason)
        pytest.skip(reason)
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("Playwright is not installed: pip install -e '.[test]'")
    return sync_playwright


def _not_blank(png: Path) -> None:
    from matplotlib.image import imread

    pixels = imread(png)[..., :3]
    assert pixels.shape[0] > 500 and pixels.shape[1] > 1000
    colours = np.unique((pixels * 255).astype(np.uint8).reshape(-1, 3), axis=0)
    inked = float((pixels.mean(axis=2) < 0.9).mean())  # share of clearly non-white pixels
    assert len(colours) > 50 and inked > 0.05, (len(colours), inked)


def test_moving_a_control_shows_what_ilrs_run_gives(server: str, tmp_path: Path):
    sync_playwright = _browser()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1150})
            outside: list[str] = []
            page.on("request", lambda r: None if r.url.startswith((server, "data:", "blob:"))
                    else outside.append(r.url))
            page.goto(server)
            answer = page.locator("#probability")
            answer.wait_for(timeout=120_000)
            assert answer.get_attribute("data-variant") == "original"
            original_met = int(answer.get_attribute("data-met") or -1)

            # The page offers the baseline's declared parameters; ILRS-1 to -5 succeeding 90%
            # instead of 80% (one control, five values): ten steps of 0.01 with the arrow key.
            handle = page.locator("." + css_class(MODULES) + " .noUi-handle")
            handle.focus()

            def moved_to(value: str) -> float:
                began = time.perf_counter()
                # Playwright's CSS reaches into the widgets' shadow roots.
                page.locator(f"#probability[data-variant='{MODULES[0]} {value}']").wait_for(
                    timeout=120_000)
                return time.perf_counter() - began

            handle.press("ArrowRight")
            first_s = moved_to("0.81")  # one key press: one re-run, timed
            for _ in range(9):
                handle.press("ArrowRight")
            moved_to("0.9")
            met = int(answer.get_attribute("data-met") or -1)
            shown = answer.inner_text()
            assert met > original_met  # more reliable: more trials meet the goal (CRN)

            target = tmp_path / "lm9_90.yaml"  # typed relative to the server's folder
            field = page.locator(".save-path input")
            field.fill(target.name)
            field.press("Enter")
            page.locator("button", has_text="Save variant").click()
            page.locator("#saved").wait_for(timeout=60_000)
            page.locator(f"#drawn[data-variant='{MODULES[0]} 0.9']").wait_for(timeout=60_000)
            shot = tmp_path / "whatif_page.png"
            page.evaluate("window.scrollTo(0, 0)")  # saving scrolled down to the button
            page.screenshot(path=str(shot))  # the top of the page: answer and figures
        finally:
            browser.close()
    assert outside == []  # everything the page needs comes from the local server
    _not_blank(shot)
    if os.environ.get("ILRS_UPDATE_SCREENSHOT"):
        shutil.copy(shot, ROOT / "docs" / "figures" / "whatif_page.png")

    saved = load_scenario(target)
    assert all(saved.activity(f"ilrs{i}").success == 0.9 for i in range(1, 6))
    done = subprocess.run([sys.executable, "-m", "sim", "run", str(target), "--trials",
                           str(TRIALS), "--seed", str(SEED), "--workers", "1", "--json"],
                          capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["goal"]["probability"] * TRIALS == met  # the very same trials
    assert shown == f"{summary['goal']['probability']:.1%}"
    print(f"the answer changed {first_s:.2f} s after one key press")


@pytest.mark.parametrize("server", [["--no-parameters"]], indirect=True)
def test_the_fallback_controls_without_parameters(server: str):
    """`--no-parameters`: the fallback set (here Long March 9's reliability), same answer."""
    sync_playwright = _browser()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.goto(server)
            answer = page.locator("#probability")
            answer.wait_for(timeout=120_000)
            met = int(answer.get_attribute("data-met") or -1)
            page.locator("." + css_class(LM9) + " .noUi-handle").wait_for(timeout=60_000)
            assert page.locator("." + css_class(MODULES)).count() == 0
        finally:
            browser.close()
    expected = run(load_scenario(BASELINE), trials=TRIALS, seed=SEED, workers=1)
    assert met == int(expected.met.sum())


def test_app_refuses_bad_input_before_serving(tmp_path: Path):
    done = subprocess.run([sys.executable, "-m", "sim", "app", "missing.yaml", "--port", "0"],
                          capture_output=True, text=True, cwd=tmp_path, timeout=60)
    assert done.returncode == 2
    assert done.stderr.strip() == "missing.yaml: file not found"
    done = subprocess.run([sys.executable, "-m", "sim", "app", "--port", "0"],
                          capture_output=True, text=True, cwd=tmp_path, timeout=60)
    assert done.returncode == 2 and "no scenario given" in done.stderr
    assert "Traceback" not in done.stderr
