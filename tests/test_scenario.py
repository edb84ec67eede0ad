"""Scenario YAML -> model: every field, partial dates, extends, and the resolved YAML round trip."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from conftest import WriteFile

from sim.distributions import ZERO, Empirical, Fixed, LogNormal, Pert, Triangular, Uniform
from sim.model import (
    Activity,
    AllOf,
    AnyOf,
    AtLeast,
    Dependency,
    Factor,
    Goal,
    OnFailure,
    Risk,
    Vehicle,
    Window,
)
from sim.scenario import (
    Problem,
    ScenarioError,
    load_scenario,
    parse_scenario,
    resolved_yaml,
)

FULL = """
scenario: ILRS mini
description: every field once
as_of: 2026-04-30
time_unit: months
sources:
  cnsa-2025-04: "CNSA via RTHK, 2025-04-24"
factors:
  china_pace: {lognormal: {median: 1.0, p90: 1.3}}
vehicles:
  long_march_5:
    name: Long March 5
    reliability: 0.96
    min_interval: 4
    stand_down: {triangular: [11, 18, 30]}
    available: 2016-11-03
    after: [queqiao2]
    source: cnsa-2025-04
  falcon: {}
risks:
  site_damage:
    name: Launch site damage
    probability: 0.1
    delay: {uniform: [3, 12]}
    applies_to: [ce7, ce8]
    source: cnsa-2025-04
  war:
    annual_probability: 0.05
    cancels: [ce8]
activities:
  queqiao2:
    done: 2024-03-20
  ce6: {done: 2024-06}
  ce7:
    name: Chang'e-7
    after: [queqiao2, {id: ce6, lag: 6}]
    planned: 2026-08
    slip: {lognormal: {median: 2, p90: 12}}
    duration: 4
    vehicle: long_march_5
    window: {period: 1, anchor: 2026-08-15}
    success: 0.9
    on_failure: {attempts: 2, rebuild: {triangular: [18, 30, 48]}}
    factors: [china_pace]
    source: cnsa-2025-04
  ce8:
    after: ce7
    planned: 2029
    duration: {pert: [1, 2, 4]}
    vehicle: [long_march_5, falcon]
  ilrs1: {duration: {empirical: [1, 2, 3]}}
goal:
  name: ILRS basic station
  deadline: 2035-12-31
  requires: {all: [ce7, {any: [ce8, ilrs1]}, {at_least: 1, of: [ce8, ilrs1]}]}
"""


def test_every_field(write: WriteFile) -> None:
    s = load_scenario(write("full.yaml", FULL))
    assert (s.title, s.description, s.as_of, s.time_unit) == (
        "ILRS mini", "every field once", date(2026, 4, 30), "months")
    assert s.sources == {"cnsa-2025-04": "CNSA via RTHK, 2025-04-24"}
    assert s.factors == (Factor("china_pace", LogNormal(1.0, 1.3)),)
    assert s.vehicles == (
        Vehicle("long_march_5", "Long March 5", reliability=0.96, min_interval=4,
                stand_down=Triangular(11, 18, 30), available=date(2016, 11, 3),
                after=("queqiao2",), source="cnsa-2025-04"),
        Vehicle("falcon", "falcon"),
    )
    assert s.risks == (
        Risk("site_damage", "Launch site damage", probability=0.1, delay=Uniform(3, 12),
             applies_to=("ce7", "ce8"), source="cnsa-2025-04"),
        Risk("war", "war", annual_probability=0.05, cancels=("ce8",)),
    )
    assert s.activities == (
        Activity("queqiao2", "queqiao2", done=date(2024, 3, 20)),
        Activity("ce6", "ce6", done=date(2024, 6, 15)),
        Activity("ce7", "Chang'e-7",
                 after=(Dependency("queqiao2"), Dependency("ce6", Fixed(6))),
                 planned=date(2026, 8, 15), slip=LogNormal(2, 12), duration=Fixed(4),
                 vehicles=("long_march_5",), window=Window(1, date(2026, 8, 15)), success=0.9,
                 on_failure=OnFailure(2, Triangular(18, 30, 48)), factors=("china_pace",),
                 source="cnsa-2025-04"),
        Activity("ce8", "ce8", after=(Dependency("ce7"),), planned=date(2029, 7, 1),
                 duration=Pert(1, 2, 4), vehicles=("long_march_5", "falcon")),
        Activity("ilrs1", "ilrs1", duration=Empirical((1, 2, 3))),
    )
    assert s.goal == Goal("ILRS basic station", date(2035, 12, 31), AllOf((
        "ce7", AnyOf(("ce8", "ilrs1")), AtLeast(1, ("ce8", "ilrs1")))))
    assert s.path is not None and s.path.endswith("full.yaml")


def test_defaults() -> None:
    s = parse_scenario("""
scenario: 2030
as_of: 2026-01-01
activities:
  a: {}
vehicles:
  v: {}
risks:
  r: {probability: 0.5, cancels: a}
goal: {name: g, deadline: 2030-01-01, requires: a}
""")
    assert (s.title, s.description, s.time_unit) == ("2030", "", "months")
    assert s.activity("a") == Activity("a", "a", duration=ZERO, success=1.0)
    assert s.vehicle("v") == Vehicle("v", "v", reliability=1.0, min_interval=0.0,
                                     stand_down=ZERO)
    assert s.risks == (Risk("r", "r", probability=0.5, cancels=("a",)),)
    assert s.path == "<string>"


@pytest.mark.parametrize("text, expected", [
    ("2026-08-20", date(2026, 8, 20)),
    ("'2026-08-20'", date(2026, 8, 20)),
    ("2026-08", date(2026, 8, 15)),      # a month means its 15th
    ("'2026-08'", date(2026, 8, 15)),
    ("2029", date(2029, 7, 1)),          # a year means 1 July
    ("'2029'", date(2029, 7, 1)),
])
def test_dates_full_and_partial(text: str, expected: date) -> None:
    s = parse_scenario(f"""
scenario: t
as_of: {text}
activities:
  a: {{planned: {text}, window: {{period: 2, anchor: {text}}}}}
goal: {{name: g, deadline: {text}, requires: a}}
""")
    a = s.activity("a")
    assert s.as_of == a.planned == s.goal.deadline == expected
    assert a.window == Window(2, expected)


@pytest.mark.parametrize("text, expected", [
    ("3", Fixed(3)),
    ("2.5", Fixed(2.5)),
    ("{uniform: [1, 4]}", Uniform(1, 4)),
    ("{triangular: [1, 2, 6]}", Triangular(1, 2, 6)),
    ("{pert: [1, 2, 6]}", Pert(1, 2, 6)),
    ("{lognormal: {median: 2, p90: 12}}", LogNormal(2, 12)),
    ("{empirical: [1, 1, 5]}", Empirical((1, 1, 5))),
    ("{uniform: [0, 0]}", Uniform(0, 0)),
])
def test_each_distribution_kind(text: str, expected: object) -> None:
    s = parse_scenario(f"""
scenario: t
as_of: 2026-01-01
factors:
  f: {text}
vehicles:
  v: {{stand_down: {text}}}
risks:
  r: {{probability: 0.5, delay: {text}, applies_to: [a]}}
activities:
  a:
    after: [{{id: b, lag: {text}}}]
    planned: 2026-06
    slip: {text}
    duration: {text}
    on_failure: {{attempts: 3, rebuild: {text}}}
  b: {{vehicle: v}}
goal: {{name: g, deadline: 2030-01-01, requires: a}}
""")
    a = s.activity("a")
    assert s.factors[0].distribution == expected
    assert s.vehicle("v").stand_down == expected
    assert s.risks[0].delay == expected
    assert a.after[0].lag == a.slip == a.duration == expected
    assert a.on_failure == OnFailure(3, expected)  # type: ignore[arg-type]


def test_time_units_and_requirement_forms() -> None:
    for unit in ("days", "months", "years"):
        s = parse_scenario(f"""
scenario: t
as_of: 2026-01-01
time_unit: {unit}
activities: {{a: {{}}, b: {{}}, c: {{}}}}
goal:
  name: g
  deadline: 2030
  requires:
    at_least: 2
    of: [a, {{all: [b, c]}}, {{any: [a, {{at_least: 1, of: [c]}}]}}]
""")
        assert s.time_unit == unit
        assert s.goal.requires == AtLeast(2, (
            "a", AllOf(("b", "c")), AnyOf(("a", AtLeast(1, ("c",))))))


def test_null_means_not_given() -> None:
    s = parse_scenario("""
scenario: t
description:
as_of: 2026-01-01
activities:
  a: {slip: null, duration: ~, vehicle: null}
goal: {name: g, deadline: 2030-01-01, requires: a}
""")
    assert s.description == ""
    assert s.activity("a") == Activity("a", "a")


def test_anchors_and_merge_keys() -> None:
    s = parse_scenario("""
scenario: t
as_of: 2026-01-01
activities:
  a: &launch {duration: {triangular: [1, 2, 4]}, success: 0.9}
  b:
    <<: *launch
    success: 0.8
goal: {name: g, deadline: 2030-01-01, requires: {all: [a, b]}}
""")
    assert s.activity("b").duration == Triangular(1, 2, 4)
    assert (s.activity("a").success, s.activity("b").success) == (0.9, 0.8)


def test_unicode_and_long_sources() -> None:
    cite = "Роскосмос, 2025-05-06, «Луна-26» — https://example.org/" + "x" * 200
    s = parse_scenario(f"""
scenario: Луна
as_of: 2026-01-01
sources:
  ros-2025: "{cite}"
activities:
  luna26: {{name: Луна-26, source: ros-2025}}
goal: {{name: g, deadline: 2030-01-01, requires: luna26}}
""")
    assert s.activity("luna26").name == "Луна-26"
    again = parse_scenario(resolved_yaml(s))
    assert again == s and again.sources["ros-2025"] == cite


# ---- extends ------------------------------------------------------------------------------------

PARENT = """
scenario: parent
description: the baseline
as_of: 2026-01-01
factors:
  pace: {uniform: [1, 2]}
activities:
  a:
    duration: {triangular: [1, 2, 3]}
    planned: 2026-06
    slip: 2
    factors: [pace]
    after: []
  b:
    after: [a]
    success: 0.5
    on_failure: {attempts: 3, rebuild: {uniform: [1, 2]}}
  c: {duration: 1}
goal:
  name: g
  deadline: 2030-01-01
  requires: {all: [a, b, c]}
"""


def test_extends_merges_child_over_parent(write: WriteFile) -> None:
    write("base/parent.yaml", PARENT)
    child = write("variants/child.yaml", """
        extends: ../base/parent.yaml
        scenario: child
        activities:
          a:
            duration: {uniform: [4, 5]}   # replaces the triangular whole
            slip: null                    # removed
            planned: null
          b:
            on_failure: {attempts: 2}     # merges: rebuild kept from the parent
          c: null                         # the activity is removed
          d: {after: [b]}                 # added at the end
        goal:
          requires: {any: [a, d]}         # replaced whole, not merged with `all`
        """)
    s = load_scenario(child)
    assert (s.title, s.description) == ("child", "the baseline")
    assert [a.id for a in s.activities] == ["a", "b", "d"]
    assert s.activity("a") == Activity("a", "a", duration=Uniform(4, 5), factors=("pace",))
    assert s.activity("b").on_failure == OnFailure(2, Uniform(1, 2))
    assert s.activity("b").success == 0.5
    assert s.goal.requires == AnyOf(("a", "d"))
    assert "extends" not in (s.resolved or {})
    assert s.path == str(child)


def test_extends_chain_and_lists_replaced(write: WriteFile) -> None:
    write("grand.yaml", PARENT)
    write("mid.yaml", """
        extends: grand.yaml
        activities:
          b: {after: [c]}
        """)
    s = load_scenario(write("leaf.yaml", """
        extends: mid.yaml
        scenario: leaf
        activities:
          c: {duration: 7}
        """))
    assert s.title == "leaf"
    assert s.activity("b").after == (Dependency("c"),)  # the list is replaced, not appended
    assert s.activity("c").duration == Fixed(7)


def test_parse_scenario_extends_relative_to_cwd(write: WriteFile, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    write("parent.yaml", PARENT)
    monkeypatch.chdir(tmp_path)
    s = parse_scenario("extends: parent.yaml\nscenario: from text\n")
    assert s.title == "from text" and len(s.activities) == 3


def test_problem_lines_after_extends_name_the_right_file(write: WriteFile) -> None:
    write("parent.yaml", PARENT)
    child = write("child.yaml", """
        extends: parent.yaml
        activities:
          b:
            success: 1.5
          a:
            slip: -1
        """)
    with pytest.raises(ScenarioError) as info:
        load_scenario(child)
    found = {(Path(p.file).name, p.line, p.path) for p in info.value.problems}
    assert found == {("child.yaml", 4, "activities.b.success"),
                     ("child.yaml", 6, "activities.a.slip")}


# ---- resolved YAML ------------------------------------------------------------------------------

def test_resolved_is_plain_data_with_iso_dates(write: WriteFile) -> None:
    s = load_scenario(write("full.yaml", FULL))
    resolved = s.resolved
    assert resolved is not None
    assert resolved["as_of"] == "2026-04-30"
    assert resolved["activities"]["ce7"]["planned"] == "2026-08"  # as written
    assert resolved["activities"]["ce7"]["window"] == {"period": 1, "anchor": "2026-08-15"}

    def plain(value: object) -> bool:
        if isinstance(value, dict):
            return all(type(k) is str and plain(v) for k, v in value.items())
        if isinstance(value, list):
            return all(plain(v) for v in value)
        return type(value) in (str, int, float, bool, type(None))

    assert plain(resolved)


@pytest.mark.parametrize("source", ["full", "child"])
def test_resolved_yaml_round_trip(source: str, write: WriteFile, tmp_path: Path) -> None:
    write("full.yaml", FULL)
    write("parent.yaml", PARENT)
    write("child.yaml", """
        extends: parent.yaml
        activities:
          a: {duration: {uniform: [4, 5]}, slip: null}
          c: null
        goal: {requires: a}
        """)
    s = load_scenario(tmp_path / f"{source}.yaml")
    text = resolved_yaml(s)
    assert "extends" not in text
    again = load_scenario(write("again.yaml", text))
    assert again == s
    assert again.resolved == s.resolved
    assert resolved_yaml(again) == text


def test_resolved_yaml_of_a_python_variant(write: WriteFile) -> None:
    """replace_activity drops `resolved`; the YAML is then written from the model."""
    s = load_scenario(write("full.yaml", FULL))
    variant = s.replace_activity("ce8", duration=Uniform(2, 3), planned=None, slip=None)
    assert variant.resolved is None
    again = parse_scenario(resolved_yaml(variant))
    assert again == variant
    assert again.activity("ce8").duration == Uniform(2, 3)


def test_problem_and_error_formatting() -> None:
    p = Problem("baseline.yaml", 42, "activities.ce7.success", "must be between 0 and 1, got 1.2")
    assert str(p) == "baseline.yaml:42: activities.ce7.success: must be between 0 and 1, got 1.2"
    assert str(Problem("x.yaml", None, "", "file not found")) == "x.yaml: file not found"
    assert str(Problem("x.yaml", 3, "", "YAML syntax error")) == "x.yaml:3: YAML syntax error"
    err = ScenarioError([p, Problem("x.yaml", None, "", "file not found")])
    assert str(err) == f"{p}\nx.yaml: file not found"
    assert err.problems[0] is p


def test_parse_date_accepts_dates_and_refuses_times() -> None:
    from datetime import datetime

    from sim.dates import parse_date

    assert parse_date(date(2026, 1, 2)) == date(2026, 1, 2)
    assert parse_date(2031) == date(2031, 7, 1)
    with pytest.raises(ValueError, match="without a time of day"):
        parse_date(datetime(2026, 1, 2, 10, 0))
    with pytest.raises(ValueError, match="got true"):
        parse_date(True)
