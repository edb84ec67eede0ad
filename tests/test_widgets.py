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
