"""Hostile input: each crash class the fuzzer found, as its minimal reproducer; the model
validating itself from Python; a short run of the mutation fuzzer; and the run invariants on
hypothesis scenarios. ``make fuzz`` runs the long fuzzer (tests/fuzzer.py)."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from conftest import WriteFile
from fuzzer import check_file, fuzz, shipped, violations
from hypothesis import given
from test_properties import SETTINGS, scenarios  # type: ignore[import-not-found]

from sim import ScenarioError, load_scenario, run
from sim.distributions import Fixed, LogNormal
from sim.limits import MAX_ATTEMPTS, MAX_DEPTH, MAX_ELEMENTS, MAX_EXTENDS, MAX_VALUES
from sim.model import Dependency, OnFailure, Window

ROOT = Path(__file__).resolve().parent.parent
QUICKSTART = ROOT / "scenarios" / "examples" / "quickstart.yaml"

BASE = """\
scenario: Fuzz base
as_of: 2030-01-01
time_unit: days
activities:
  a:
    duration: 10
{extra}
goal: {{name: A, deadline: 2031-01-01, requires: a}}
"""


def _refused(path: Path) -> list[str]:
    """The problems of a file that must be refused cleanly, each as text."""
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    return [str(p) for p in info.value.problems]


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "sim", *args], capture_output=True, text=True,
                          cwd=cwd, timeout=120)


# -- crash classes, each as its minimal reproducer ------------------------------------------------
@pytest.mark.parametrize("extra, line, fragment", [
    ("    planned: 9999", 7, "must be between 1900-01-01 and 2999-12-31, got 9999-07-01"),
    ("    slip: {uniform: [0, 1e300]}\n    planned: 2030", 7,
     "slip.uniform[1]: must be at most 1e+06 (the limit on any number), got 1e+300"),
    ("    after: [{id: b, lag: 1e300}]\n  b: {duration: 1}", 7, "at most 1e+06"),
    ("    success: 12345678901234567890123456789012345678901234567890" + "0" * 320, 7,
     "activities.a.success: must be between 0 and 1, got 1234567890"),
    ("    window: {period: 1.0e-6, anchor: 2999-12-01}", 7, "must be at least 0.01 days"),
    ("    on_failure: {attempts: 128, rebuild: 1}", 7, f"from 2 to {MAX_ATTEMPTS}"),
    ("    on_failure: {attempts: 1000000000000, rebuild: 1}", 7, f"from 2 to {MAX_ATTEMPTS}"),
    ("    slip: {lognormal: {median: 1.0e-300, p90: 1.0e+300}}\n    planned: 2030", 7,
     "slip.lognormal.p90: must be at most 1e+06 (the limit on any number), got 1e+300"),
    ("    slip: {lognormal: {median: 1, p90: 5000}}\n    planned: 2030", 7,
     "p90 at most 1000 times the median"),
    ("    success: !!bool maybe", 7, "cannot read 'maybe' as !!bool"),
    ("    done: 2030-06-01", 7, "must be on or before as_of (2030-01-01), got 2030-06-01"),
])
def test_values_that_crashed_are_refused_where_written(write: WriteFile, extra: str, line: int,
                                                       fragment: str) -> None:
    path = write("s.yaml", BASE.format(extra=extra))
    problems = _refused(path)
    assert any(p.startswith(f"{path}:{line}: ") and fragment in p for p in problems), problems


def test_deep_nesting_is_refused_at_its_line(write: WriteFile) -> None:
    deep = "[" * 700 + "1" + "]" * 700
    path = write("s.yaml", BASE.format(extra=f"    slip: {deep}"))
    assert _refused(path) == [f"{path}:7: nested more than {MAX_DEPTH} levels deep"]


def test_an_alias_bomb_is_refused_quickly(write: WriteFile) -> None:
    bomb = "".join(f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 9) + "]\n" if i
                   else 'l0: &l0 ["lol"]\n' for i in range(10))
    path = write("s.yaml", bomb + BASE.format(extra=""))
    assert _refused(path) == [
        f"{path}:1: too large: aliases expand to more than {MAX_VALUES:,} values"]


def test_many_ordinary_activities_get_a_true_message(write: WriteFile) -> None:
    many = "\n".join(f"  m{i}: {{duration: 1}}" for i in range(MAX_ELEMENTS + 1))
    path = write("s.yaml", BASE.format(extra=many))
    (problem,) = _refused(path)
    assert problem == f"{path}:4: activities: at most {MAX_ELEMENTS:,} allowed, got " \
                      f"{MAX_ELEMENTS + 2:,}"


def test_non_utf8_bytes_are_located(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_bytes(BASE.format(extra="    name: caf\xe9").encode("latin-1"))
    (problem,) = _refused(path)
    assert problem.startswith(f"{path}:7: not UTF-8 text: byte 0xe9 at line 7, column 14")


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
def test_extends_of_a_device_a_fifo_or_a_long_chain(write: WriteFile, tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "fifo.yaml")
    for target in ("/dev/zero", "fifo.yaml"):
        path = write("s.yaml", f"extends: {target}\n" + BASE.format(extra=""))
        (problem,) = _refused(path)
        assert problem.startswith(f"{path}:1: extends: is not a regular file")
    for n in range(1000):
        write(f"c{n}.yaml", f"extends: c{n + 1}.yaml\n" if n < 999 else "scenario: end\n")
    (problem,) = _refused(tmp_path / "c0.yaml")
    assert f"extends: a chain of more than {MAX_EXTENDS} files" in problem


def test_validate_refuses_what_run_would_crash_on(write: WriteFile, tmp_path: Path) -> None:
    """`validate` and `run` share every check: exit 2, file:line, no traceback, nothing written."""
    path = write("s.yaml", BASE.format(extra="    planned: 9999\n    success: 0\n"
                                             "    on_failure: {attempts: 128, rebuild: 1e300}"))
    for args in (["validate", "s.yaml"], ["run", "s.yaml", "--out", "out", "--trials", "50"]):
        done = _cli(*args, cwd=tmp_path)
        assert done.returncode == 2 and "Traceback" not in done.stderr
        assert all(line.startswith("s.yaml:") for line in done.stderr.splitlines())
        assert len(done.stderr.splitlines()) == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]


# -- the model validates itself -------------------------------------------------------------------
def test_python_changes_get_the_same_errors_with_paths() -> None:
    scenario = load_scenario(QUICKSTART)
    cases = [
        (lambda: scenario.replace_activity("lander_a", success=1.2),
         "activities.lander_a.success: must be between 0 and 1, got 1.2"),
        (lambda: scenario.replace_activity("lander_a", vehicles=("rocket",)),
         "activities.lander_a.vehicle[0]: unknown vehicle 'rocket'"),
        (lambda: scenario.replace_activity("relay", after=(Dependency("lander_b"),)),
         "dependency cycle (each waits for the next): relay -> lander_b -> lander_a -> relay"),
        (lambda: scenario.replace_activity("relay", done=date(2026, 6, 1)),
         "activities.relay.done: must be on or before as_of (2026-05-01), got 2026-06-01"),
        (lambda: scenario.replace_activity("lander_a", on_failure=OnFailure(500, Fixed(1))),
         f"activities.lander_a.on_failure.attempts: must be a whole number from 2 to "
         f"{MAX_ATTEMPTS}"),
        (lambda: scenario.replace_activity("lander_a", window=Window(0.0001, date(2027, 3, 10))),
         "activities.lander_a.window.period: must be at least 0.01 days"),
        (lambda: scenario.replace_activity("lander_c", success=1.0),
         "activities.lander_c: unknown activity 'lander_c'"),
        (lambda: dataclasses.replace(scenario, as_of=date(3100, 1, 1)),
         "as_of: must be between 1900-01-01 and 2999-12-31, got 3100-01-01"),
    ]
    for make, fragment in cases:
        with pytest.raises(ScenarioError) as info:
            make()
        assert fragment in str(info.value), str(info.value)


def test_distributions_refuse_what_the_yaml_refuses() -> None:
    with pytest.raises(ValueError, match="at most 1e\\+06 in size"):
        Fixed(1e300)
    with pytest.raises(ValueError, match="finite"):
        Fixed(10**400)
    with pytest.raises(ValueError, match="1000 times the median"):
        LogNormal(1e-3, 1e3)


# -- the mutation fuzzer and the invariants ------------------------------------------------------
def test_a_short_fuzz_run_finds_nothing() -> None:
    """A few hundred mutated scenarios: each runs or is refused with located errors."""
    tally, findings = fuzz(120, seed=20260413)
    assert [(f.kind, f.detail, f.mutations) for f in findings] == []
    assert tally["ran"] > 0 and tally["refused"] > 0


def test_the_shipped_scenarios_keep_every_invariant() -> None:
    for path in shipped():
        outcome = check_file(path, trials=200)
        assert outcome.kind == "ran", (path, outcome.detail)


@SETTINGS
@given(scenarios())
def test_runs_of_random_scenarios_keep_every_invariant(scenario: object) -> None:
    res = run(scenario, trials=20, seed=3, workers=1, keep_ready=True)  # type: ignore[arg-type]
    assert violations(res) == []



def test_nesting_past_the_limit_but_within_the_stack(write: WriteFile) -> None:
    deep = "[" * 100 + "1" + "]" * 100
    path = write("s.yaml", BASE.format(extra=f"    slip: {deep}"))
    assert _refused(path) == [f"{path}:7: nested more than {MAX_DEPTH} levels deep"]
