"""`ilrs calibrate` and `ilrs backtest` end to end: the shipped rules' back-test (at its real
size: 26 missions, a refit per mission), the outputs' exact layout, and every bad CSV row and
bad rules reference (message with its line, exit 2, nothing written)."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from sim.calibration.data import COLUMNS, CalibrationError, read_reference_class
from sim.calibration.periods import parse_stated
from sim.calibration.rules import read_rules

REPO = Path(__file__).resolve().parent.parent
CSV = REPO / "data" / "reference_class.csv"
RULES = REPO / "scenarios" / "slip_rules.yaml"
SNAPSHOT_COLUMNS = ["mission", "agency", "as_of", "planned", "actual", "p05", "p10", "p25",
                    "p50", "p75", "p90", "p95", "pit"]


def ilrs(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-m", "sim", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def shipped_backtest(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    out = tmp_path_factory.mktemp("bt") / "out"
    proc = ilrs("backtest", str(CSV), "--rules", str(RULES), "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    return proc.stdout, out


def test_shipped_rules_were_fitted_on_the_shipped_csv() -> None:
    rules = read_rules(RULES)
    rc = read_reference_class(CSV)
    assert rules.provenance["csv_sha256"] == rc.sha256
    assert rules.provenance["snapshots"] == len(rc.snapshots)
    for name, g in rules.groups.items():
        leads = [s.lead_months for s in rc.snapshots if s.group == name]
        assert g.lead_months == pytest.approx((min(leads), max(leads)), abs=0.05)


def test_backtest_of_the_shipped_rules(shipped_backtest: tuple[str, Path]) -> None:
    stdout, out = shipped_backtest
    assert "leave-one-mission-out" in stdout
    assert "russia (not validated: 2 launched missions)" in stdout
    summary = json.loads((out / "summary.json").read_text())
    overall = summary["scores"]["overall"]
    # The targets for 80 % coverage, as the README reports them.
    assert 0.70 <= overall["coverage80"] <= 0.90
    assert overall["below80"] > 0 and overall["above80"] > 0
    assert sorted(p.name for p in out.iterdir()) == ["backtest.png", "backtest.svg",
                                                     "pending.csv", "snapshots.csv",
                                                     "summary.json"]


def test_snapshots_csv_layout(shipped_backtest: tuple[str, Path]) -> None:
    _, out = shipped_backtest
    with open(out / "snapshots.csv", newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == SNAPSHOT_COLUMNS
    rc = read_reference_class(CSV)
    assert len(rows) - 1 == sum(not s.pending for s in rc.snapshots)
    for row in rows[1:]:
        quantiles = row[5:12]
        assert quantiles == sorted(quantiles)  # ISO dates sort as dates
        assert 0 <= float(row[12]) <= 1
    with open(out / "pending.csv", newline="") as fh:
        pending = list(csv.DictReader(fh))
    assert len(pending) == sum(s.pending for s in rc.snapshots)
    assert all(0 <= float(p["p_pending"]) <= 1 for p in pending)


def test_backtest_on_another_csv_scores_the_rules_as_given(tmp_path: Path) -> None:
    lines = CSV.read_text(encoding="utf-8").splitlines(keepends=True)
    other = tmp_path / "other.csv"
    other.write_text("".join(lines[:20]), encoding="utf-8")
    proc = ilrs("backtest", str(other), "--rules", str(RULES))
    assert proc.returncode == 0, proc.stderr
    assert "the rules as given" in proc.stdout


def test_calibrate_writes_rules_with_provenance(tmp_path: Path) -> None:
    # A small reference class keeps the nine cross-validated candidates quick.
    lines = CSV.read_text(encoding="utf-8").splitlines(keepends=True)
    keep = [lines[0]] + [ln for ln in lines[1:] if ln.startswith(("Chang'e", "Chandrayaan",
                                                                    "CAPSTONE", "Luna-25"))]
    small = tmp_path / "small.csv"
    small.write_text("".join(keep), encoding="utf-8")
    out = tmp_path / "new" / "rules.yaml"  # its folder made, like mkdir -p
    proc = ilrs("calibrate", str(small), "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    assert "<- chosen" in proc.stdout and "+/-" in proc.stdout
    rules = read_rules(out)
    assert rules.provenance["csv_sha256"] == read_reference_class(small).sha256
    assert {"csv", "version", "method", "fitted", "model"} <= set(rules.provenance)
    assert ilrs("calibrate", str(small), "-o", str(out)).returncode == 2  # exists: no --force


# -- bad input ---------------------------------------------------------------------------------

GOOD_ROW = ("X-1,CNSA,China,lander,,2020-04,2022,2022-07-01,2022-09-01,2,success,"
            "src http://example.org,")


def bad_csv(row: str, header: str = ",".join(COLUMNS)) -> str:
    return header + "\n" + GOOD_ROW + "\n" + row + "\n"


BAD = [
    ("unparseable as_of", bad_csv(GOOD_ROW.replace("2020-04", "spring 2020")), 3,
     "planned_launch_as_of", "cannot read the date", "found 'spring 2020'"),
    ("actual before stated", bad_csv(GOOD_ROW.replace("2022-09-01", "2019-01-05")), 3,
     "actual_launch", "is before the plan was stated (planned_launch_as_of 2020-04-15)",
     "found 2019-01-05"),
    ("planned before stated", bad_csv(GOOD_ROW.replace("2022-07-01", "2020-01-01")), 3,
     "planned_ref_date", "must be after the plan was stated", "found 2020-01-01"),
    ("pending with actual", bad_csv(GOOD_ROW.replace(",success,", ",pending,")), 3,
     "actual_launch", "must be empty for a pending mission", "found '2022-09-01'"),
    ("unknown outcome", bad_csv(GOOD_ROW.replace(",success,", ",great,")), 3,
     "outcome", "must be one of success, partial, failure, pending", "found 'great'"),
    ("launch not a day", bad_csv(GOOD_ROW.replace("2022-09-01", "2022-09")), 3,
     "actual_launch", "must be a day (YYYY-MM-DD)", "found '2022-09'"),
    ("launched without a date", bad_csv(GOOD_ROW.replace("2022-09-01", "")), 3,
     "actual_launch", "is required when the outcome is 'success'", "found nothing"),
    ("too few fields", bad_csv("X-2,CNSA,China"), 3, "row", "has 3 fields", "header has 13"),
    ("missing column", bad_csv(GOOD_ROW, ",".join(c for c in COLUMNS if c != "outcome")),
     1, "header", "missing column outcome", "found mission, agency"),
]


@pytest.mark.parametrize(("name", "text", "line", "column", "what", "found"), BAD,
                         ids=[b[0] for b in BAD])
def test_bad_csv_row_from_python(tmp_path: Path, name: str, text: str, line: int, column: str,
                                 what: str, found: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CalibrationError) as err:
        read_reference_class(path)
    (p,) = err.value.problems
    assert (p.file, p.line, p.path) == (str(path), line, column)
    assert what in p.message and found in p.message


@pytest.mark.parametrize("command", ["calibrate", "backtest"])
def test_bad_csv_rows_through_the_cli(tmp_path: Path, command: str) -> None:
    """All bad files in one process per command would hide which failed; one file holding
    every bad row (lines 3..) shows that every problem is reported at once."""
    rows = [b[1].splitlines()[2] for b in BAD if b[3] != "header"]
    path = tmp_path / "bad.csv"
    path.write_text(",".join(COLUMNS) + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    target = tmp_path / "out"
    args = (["-o", str(target)] if command == "calibrate"
            else ["--rules", str(RULES), "--out", str(target)])
    proc = ilrs(command, str(path), *args)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    for i, b in enumerate(bb for bb in BAD if bb[3] != "header"):
        assert f"{path}:{i + 2}: {b[3]}: " in proc.stderr, (b[0], proc.stderr)
        assert b[4] in proc.stderr and b[5] in proc.stderr, b[0]
    assert not target.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.csv"]


def test_missing_column_through_the_cli(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(BAD[-1][1], encoding="utf-8")
    proc = ilrs("calibrate", str(path), "-o", str(tmp_path / "r.yaml"))
    assert proc.returncode == 2
    assert f"{path}:1: header: missing column outcome, found mission" in proc.stderr
    assert not (tmp_path / "r.yaml").exists()


GOOD_RULES = """\
shared:
  tau: 0.8
  sigma: 0.6
  shift_months: 2.0
groups:
  china:
    a: 2.0
    b: 0.4
    var_a: 0.1
    cov_ab: 0.0
    var_b: 0.04
    missions: 10
    launched_missions: 8
    snapshots: 19
    lead_months: [2.5, 116.5]
"""

BAD_RULES = [
    ("  tau: 0.8", "  tau: -1", 2, "shared.tau", "must be at least 0, got -1"),
    ("    lead_months: [2.5, 116.5]", "    lead_months: [5.0, 2.0]", 15,
     "groups.china.lead_months", "0 < shortest <= longest"),
    ("  tau: 0.8", "  tau: 0.8\n  bogus: 1", 3, "shared.bogus", "unknown key 'bogus'"),
    ("    b: 0.4\n", "", 6, "groups.china.b", "is required, got nothing"),  # at its mapping
]


@pytest.mark.parametrize(("old", "new", "line", "path", "fragment"), BAD_RULES,
                         ids=[b[3] for b in BAD_RULES])
def test_bad_rules_file_through_the_cli(tmp_path: Path, old: str, new: str, line: int,
                                        path: str, fragment: str) -> None:
    good = tmp_path / "good.yaml"
    good.write_text(GOOD_RULES, encoding="utf-8")
    read_rules(good)  # the template itself is valid
    rules = tmp_path / "rules.yaml"
    rules.write_text(GOOD_RULES.replace(old, new), encoding="utf-8")
    out = tmp_path / "out"
    proc = ilrs("backtest", str(CSV), "--rules", str(rules), "--out", str(out))
    assert proc.returncode == 2, proc.stdout
    assert f"{rules}:{line}: {path}: " in proc.stderr and fragment in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr
    assert not out.exists()


def test_bad_slip_rules_reference_through_the_cli(tmp_path: Path) -> None:
    scenario = tmp_path / "s.yaml"
    scenario.write_text(
        "scenario: t\nas_of: 2026-04-13\nslip_rules: nowhere.yaml\nactivities:\n"
        "  a: {planned: 2029, slip: {reference_class: china}}\n"
        "goal: {name: g, deadline: 2035-12-31, requires: a}\n", encoding="utf-8")
    out = tmp_path / "out"
    proc = ilrs("run", str(scenario), "--trials", "10", "--out", str(out))
    assert proc.returncode == 2
    assert f"{scenario}:3: slip_rules: file not found: " in proc.stderr
    assert not out.exists()
    scenario.write_text(scenario.read_text().replace("nowhere.yaml", str(RULES)).replace(
        "reference_class: china", "reference_class: chinese"), encoding="utf-8")
    proc = ilrs("validate", str(scenario))
    assert proc.returncode == 2
    assert (f"{scenario}:5: activities.a.slip.reference_class: unknown reference class "
            "'chinese'") in proc.stderr


@pytest.mark.parametrize(("text", "reference"), [
    ("2012", "2012-07-01"), ("2013 (H2)", "2013-10-01"), ("~2018-2019", "2018-12-31"),
    ("before 2012-04", "2012-04-15"), ("2019 (late)", "2019-11-15"), ("late 2019", "2019-11-15"),
    ("2023 (Q1)", "2023-02-15"), ("2022 (mid)", "2022-06-15"), ("2019-07", "2019-07-15"),
    ("2022-08-22", "2022-08-22"), ("2026-H1", "2026-04-01"),
])
def test_date_conventions(text: str, reference: str) -> None:
    got = parse_stated(text)
    assert got is not None and got.reference.isoformat() == reference
    assert got.approximate == text.startswith("~")
    assert got.upper_bound == text.startswith("before")
