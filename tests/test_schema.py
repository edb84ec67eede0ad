"""The JSON Schema of the scenario format: generated from the loader's own table, shipped in
the package, satisfied by every shipped scenario, and covering every field the README lists."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from importlib.resources import files
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft7Validator

from sim import load_scenario, parse_scenario
from sim.scenario import ScenarioError
from sim.schema import FORMAT, json_schema, schema_text
from sim.yamlio import read_document

ROOT = Path(__file__).resolve().parent.parent
# Every scenario file (scenarios/slip_rules.yaml is the slip rules they use, not a scenario).
SCENARIOS = sorted(p for p in (ROOT / "scenarios").rglob("*.yaml") if p.name != "slip_rules.yaml")
VALIDATOR = Draft7Validator(json_schema())


def _as_written(path: Path) -> Any:
    problems: list[Any] = []
    doc = read_document(path.read_text(encoding="utf-8"), str(path), problems)
    assert doc is not None and not problems
    return doc.data


def _messages(data: Any) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
            for e in VALIDATOR.iter_errors(data)]


def test_the_schema_is_a_valid_draft_07_schema():
    Draft7Validator.check_schema(json_schema())


def test_the_package_ships_the_generated_schema():
    shipped = files("sim").joinpath("scenario.schema.json").read_text(encoding="utf-8")
    assert shipped == schema_text(), "run: ilrs schema > sim/scenario.schema.json"


def test_ilrs_schema_prints_it():
    done = subprocess.run([sys.executable, "-m", "sim", "schema"], capture_output=True,
                          text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == json_schema()


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_shipped_scenario_validates(path: Path):
    """Both the file as written (a variant is partial) and the merged scenario."""
    assert _messages(_as_written(path)) == []
    assert _messages(load_scenario(path).resolved) == []


def test_the_schema_refuses_what_the_loader_refuses():
    """A few kinds of mistake that the schema can see, each also refused by the loader."""
    base = _as_written(ROOT / "scenarios/examples/quickstart.yaml")
    bad = [
        ("activities", "lander_a", "succes"),  # unknown key
        ("activities", "lander_a", "success"),  # out of range
        ("goal", "requires"),  # required key left out
        ("time_unit",),  # not one of the units
    ]
    values = {"succes": 0.9, "success": 1.2, "time_unit": "weeks"}
    import copy

    for path in bad:
        data = copy.deepcopy(base)
        node = data
        for part in path[:-1]:
            node = node[part]
        if path[-1] in values:
            node[path[-1]] = values[path[-1]]
        else:
            del node[path[-1]]
        assert _messages(data), f"schema accepted {path}"
        from sim.yamlio import dump_yaml

        with pytest.raises(ScenarioError):
            parse_scenario(dump_yaml(data))


def _property_names(schema: Any) -> set[str]:
    names: set[str] = set()
    if isinstance(schema, dict):
        names.update(schema.get("properties", {}))
        for value in schema.values():
            names |= _property_names(value)
    elif isinstance(schema, list):
        for value in schema:
            names |= _property_names(value)
    return names


def _readme_fields() -> set[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = re.search(r"### Fields\n\n(.*?)\n\n", readme, flags=re.S)
    assert table, "README lost its Fields table"
    found: set[str] = set()
    for row in table.group(1).splitlines()[2:]:
        where, key = row.split("|")[1:3]
        found |= set(re.findall(r"`([a-z_]+)", where + key))
    return found


def test_every_readme_field_is_in_the_schema_and_back():
    names = _property_names(json_schema())
    readme = _readme_fields()
    assert readme, "no fields found in the README table"
    assert readme - names == set(), "README fields missing from the schema"
    documented = {k.name for e in ("top", "vehicle", "risk", "activity", "goal")
                  for k in FORMAT[e]}
    assert documented - readme == set(), "keys the loader accepts that the README omits"
