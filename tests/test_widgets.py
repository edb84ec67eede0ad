"""The notebook widgets: moving a control re-runs the variant with the same seed."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim import load_scenario, parse_scenario, run
from sim.whatif import build_variant
from sim.widgets import WhatIf

QUICKSTART = Path(__file__).resolve().parent.parent / "scenarios/examples/quickstart.yaml"
KEY = ("vehicles", "heavy", "reliability")


def test_moving_a_control_gives_the_variant_run_with_the_same_seed(tmp_path: Path):
    scenario = load_scenario(QUICKSTART)
    widget = WhatIf(scenario, trials=600, seed=4)
    assert widget.results.probability == run(scenario, trials=600, seed=4).probability
    widget.controls[KEY].value = 0.7
    expected = run(build_variant(scenario, {KEY: 0.7}), trials=600, seed=4)
    assert widget.results.probability == expected.probability
    assert widget.results.probability < widget.base.probability
    assert 'data-variant="vehicles.heavy.reliability 0.7"' in widget.answer.value or \
        "data-variant='vehicles.heavy.reliability 0.7'" in widget.answer.value
    saved = widget.save(tmp_path / "v.yaml")
    assert load_scenario(saved).vehicle("heavy").reliability == 0.7


def test_a_scenario_without_a_file_is_refused():
    text = QUICKSTART.read_text()
    with pytest.raises(ValueError, match="from a file"):
        WhatIf(parse_scenario(text), trials=100)


def test_the_declared_parameters_as_widgets(tmp_path: Path):
    baseline = load_scenario(QUICKSTART.parent.parent / "ilrs_baseline.yaml")
    judged = WhatIf(baseline, trials=300, seed=4, parameters=True)  # its documented default
    assert judged.space is not None
    modules = ("activities.{ilrs1,ilrs2,ilrs3,ilrs4,ilrs5}.success",)
    assert judged.controls[modules].value == 0.8
    judged.controls[modules].value = 0.7
    variant = build_variant(baseline, {**judged.values()}, judged.space)
    assert all(variant.activity(f"ilrs{i}").success == 0.7 for i in range(1, 6))
    assert judged.results.probability == run(variant, trials=300, seed=4).probability
    saved = load_scenario(judged.save(tmp_path / "v.yaml"))
    assert saved.activity("ilrs3").success == 0.7
