"""Percentiles of the user's choice, `--json` on stdout and the `--xlsx` workbook."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest

from sim import load_scenario, run
from sim.analysis import activity_stats
from sim.results import PERCENTILES, percentile_day

ROOT = Path(__file__).resolve().parent.parent
QUICKSTART = ROOT / "scenarios/examples/quickstart.yaml"


def ilrs(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "sim", *args], capture_output=True, text=True,
                          cwd=cwd)


@pytest.fixture(scope="module")
def results():
    return run(load_scenario(QUICKSTART), trials=2000, seed=42, workers=1)


def test_p70_is_among_the_default_percentiles(results):
    assert PERCENTILES == (10, 50, 70, 80, 90)
    assert list(results.percentiles) == ["p10", "p50", "p70", "p80", "p90"]


def test_chosen_percentiles_reach_every_table(results):
    chosen = results.with_percentiles([75, 20, 75])
    assert chosen.percentile_levels == (20, 75)
    assert chosen.goal_days is results.goal_days  # arrays shared, not copied
    for q in (20, 75):
        assert chosen.percentiles[f"p{q}"] == chosen.to_date(percentile_day(chosen.goal_days, q))
    assert [c for c in activity_stats(chosen).columns if c.startswith("p") and c[1:].isdigit()] \
        == ["p20", "p75"]
    summary = chosen.summary()
    assert list(summary["goal"]["percentiles"]) == ["p20", "p75"]
    assert all(list(a["percentiles"]) == ["p20", "p75"] for a in summary["activities"].values())
    assert "<th>P75</th>" in chosen._repr_html_()


@pytest.mark.parametrize("bad", [[0], [101], [50.5], [], [True]])
def test_impossible_percentiles_are_refused(results, bad):
    with pytest.raises(ValueError, match="percentile"):
        results.with_percentiles(bad)


def test_cli_percentiles_reach_the_printout_and_summary(tmp_path: Path):
    done = ilrs("run", str(QUICKSTART), "--trials", "1000", "--seed", "3", "--percentiles",
                "70,50", "--out", "res", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    line = next(x for x in done.stdout.splitlines() if x.startswith("Goal date"))
    assert line.split()[2::2] == ["P50", "P70"]
    summary = json.loads((tmp_path / "res" / "summary.json").read_text())
    assert list(summary["goal"]["percentiles"]) == ["p50", "p70"]


@pytest.mark.parametrize("text", ["10,fifty", "0,50", "50,"])
def test_cli_refuses_bad_percentiles(tmp_path: Path, text: str):
    done = ilrs("run", str(QUICKSTART), "--percentiles", text, cwd=tmp_path)
    assert done.returncode == 2
    assert "--percentiles" in done.stderr and "Traceback" not in done.stderr


def test_json_prints_the_summary_alone_on_stdout(tmp_path: Path):
    done = ilrs("run", str(QUICKSTART), "--trials", "1000", "--seed", "5", "--json",
                "--out", "res", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    printed = json.loads(done.stdout)  # nothing else on stdout
    assert printed == json.loads((tmp_path / "res" / "summary.json").read_text())
    assert printed["seed"] == 5 and printed["trials"] == 1000
    assert done.stderr.startswith("Results ")  # notes about files go to stderr


def _cells(ws) -> dict[str, object]:
    return {row[0].value: row[1].value for row in ws.iter_rows(min_row=2) if row[0].value}


def test_xlsx_holds_summary_missions_and_sources_with_real_dates(tmp_path: Path):
    done = ilrs("run", str(QUICKSTART), "--trials", "1000", "--seed", "9", "--xlsx", "r.xlsx",
                "--out", "res", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    summary = json.loads((tmp_path / "res" / "summary.json").read_text())
    book = openpyxl.load_workbook(tmp_path / "r.xlsx")
    assert book.sheetnames == ["Summary", "Missions", "Sources"]
    cells = _cells(book["Summary"])
    goal = summary["goal"]
    assert cells["P(goal by deadline)"] == goal["probability"]
    assert [cells["95% interval, low (Wilson)"], cells["95% interval, high (Wilson)"]] \
        == goal["ci95"]
    assert cells["seed"] == 9 and cells["version"] == summary["version"]
    assert cells["scenario_sha256"] == summary["scenario_sha256"]
    for key, iso in goal["percentiles"].items():
        value = cells[f"{key.upper()} goal date"]
        if iso is None:
            assert value == "never"
        else:  # a real date cell, not text
            assert isinstance(value, datetime) and value.date() == date.fromisoformat(iso)
    assert isinstance(cells["deadline"], datetime)
    missions = book["Missions"]
    header = [c.value for c in missions[1]]
    rows = {r[0]: dict(zip(header, r, strict=True))
            for r in missions.iter_rows(min_row=2, values_only=True)}
    assert set(rows) == set(summary["activities"])
    for aid, stats in summary["activities"].items():
        assert rows[aid][f"P(by {goal['deadline']})"] == pytest.approx(
            stats["p_finish_by_deadline"], abs=0)
        p50 = stats["percentiles"]["p50"]
        assert rows[aid]["P50"] == ("never" if p50 is None else datetime.fromisoformat(p50))
    sources = {r[0]: r for r in book["Sources"].iter_rows(min_row=2, values_only=True)}
    assert "example" in sources and "lander_a" in sources["example"][2]


def test_xlsx_is_refused_over_an_existing_file_and_written_whole(tmp_path: Path, results):
    target = tmp_path / "r.xlsx"
    target.write_text("keep me")
    done = ilrs("run", str(QUICKSTART), "--trials", "500", "--xlsx", "r.xlsx", cwd=tmp_path)
    assert done.returncode == 2 and "exists" in done.stderr
    assert target.read_text() == "keep me"
    results.to_excel(target, force=True)  # the Python equivalent
    assert openpyxl.load_workbook(target).sheetnames == ["Summary", "Missions", "Sources"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.xlsx"]  # no temporary left


def test_report_shows_the_chosen_percentiles(tmp_path: Path):
    done = ilrs("report", str(QUICKSTART), "--trials", "500", "--seed", "2", "-o", "r.html",
                "--percentiles", "30,70", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    html = (tmp_path / "r.html").read_text()
    assert "P30 goal date" in html and "P70 goal date" in html and "P80 goal date" not in html
    assert "<th class=date>P30</th>" in html


def test_compare_prints_the_chosen_percentiles(tmp_path: Path):
    done = ilrs("compare", str(QUICKSTART), str(QUICKSTART), "--trials", "300", "--seed", "1",
                "--percentiles", "70,95", "--out", "cmp", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    header = next(x for x in done.stdout.splitlines() if x.startswith("scenario"))
    assert header.split()[-3:] == ["P70", "P95", "never"]
    table = (tmp_path / "cmp" / "comparison.csv").read_text().splitlines()[0].split(",")
    assert [c for c in table if c.startswith("p") and c[1:].isdigit()] == ["p70", "p95"]
