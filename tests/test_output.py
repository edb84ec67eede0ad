"""The results folder and the statistics in it: summary.json, trials.parquet, scenario.yaml."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim import load_scenario, run
from sim.results import NEVER_DATE, percentile_day, wilson_interval

SCENARIO = """\
scenario: Output test
as_of: 2030-01-01
time_unit: days
activities:
  a:
    duration: {uniform: [0, 100]}
  b:
    after: [a]
    duration: 10
    success: 0.5
goal:
  name: B done
  deadline: 2030-03-01
  requires: b
"""


@pytest.fixture
def scenario_file(tmp_path: Path) -> Path:
    path = tmp_path / "s.yaml"
    path.write_text(SCENARIO)
    return path


def ilrs(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "sim", *args], capture_output=True, text=True,
                          cwd=cwd)


def test_wilson_interval_matches_the_formula():
    lo, hi = wilson_interval(30, 100)
    assert lo == pytest.approx(0.2189, abs=1e-4) and hi == pytest.approx(0.3958, abs=1e-4)
    assert wilson_interval(0, 10)[0] == 0.0 and wilson_interval(10, 10)[1] == 1.0


def test_percentile_is_the_earliest_day_by_which_a_share_is_done():
    days = np.array([0.5, 1.2, 2.9, np.inf])  # days 0, 1, 2, never
    assert percentile_day(days, 25) == 0
    assert percentile_day(days, 50) == 1
    assert percentile_day(days, 51) == 2
    assert percentile_day(days, 75) == 2
    assert percentile_day(days, 76) == np.inf  # fewer than 76% are ever done


def test_run_writes_summary_parquet_and_resolved_scenario(scenario_file: Path, tmp_path: Path):
    out = tmp_path / "out"
    done = ilrs("run", str(scenario_file), "--trials", "1500", "--seed", "7", "--out", str(out),
                cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "seed 7" in done.stdout and "95% CI" in done.stdout
    assert sorted(p.name for p in out.iterdir()) == ["scenario.yaml", "summary.json",
                                                      "trials.parquet"]
    summary = json.loads((out / "summary.json").read_text())
    text = (out / "scenario.yaml").read_bytes()
    assert summary["scenario_sha256"] == hashlib.sha256(text).hexdigest()
    assert summary["seed"] == 7 and summary["trials"] == 1500 and summary["as_of"] == "2030-01-01"
    assert set(summary["goal"]) >= {"name", "deadline", "probability", "ci95", "p_never",
                                    "percentiles"}
    assert set(summary["goal"]["percentiles"]) == {"p10", "p50", "p70", "p80", "p90"}
    assert set(summary["activities"]) == {"a", "b"}

    # The same seed from Python gives the same numbers as the CLI wrote.
    r = run(load_scenario(out / "scenario.yaml"), trials=1500, seed=7, workers=1)
    assert summary["goal"]["probability"] == r.probability
    assert summary["goal"]["p_never"] == r.p_never == pytest.approx(0.5, abs=0.05)

    frame = pd.read_parquet(out / "trials.parquet")
    assert len(frame) == 1500 and {"trial", "goal", "a", "b", "attempts.b"} <= set(frame.columns)
    as_of = date(2030, 1, 1)
    # Real timestamps; never is 9999-12-31, later than any date.
    assert str(frame["b"].dtype).startswith("datetime64")
    expected_b = [NEVER_DATE if np.isinf(t) else as_of + timedelta(days=int(t))
                  for t in r.finish("b")]
    assert [x.date() for x in frame["b"]] == expected_b
    assert (frame["goal"] == pd.Timestamp(NEVER_DATE)).mean() == r.p_never


def test_existing_output_is_refused_unless_forced(scenario_file: Path, tmp_path: Path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("earlier result")
    done = ilrs("run", str(scenario_file), "--trials", "10", "--seed", "1", "--out", str(out),
                cwd=tmp_path)
    assert done.returncode == 2
    assert "not empty" in done.stderr and "Traceback" not in done.stderr
    assert [p.name for p in out.iterdir()] == ["keep.txt"]
    done = ilrs("run", str(scenario_file), "--trials", "10", "--seed", "1", "--out", str(out),
                "--force", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert not (out / "keep.txt").exists() and (out / "summary.json").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_trials_below_one_is_refused(scenario_file: Path, tmp_path: Path):
    done = ilrs("run", str(scenario_file), "--trials", "0", "--out", str(tmp_path / "o"),
                cwd=tmp_path)
    assert done.returncode == 2 and "--trials" in done.stderr and "at least 1" in done.stderr
    assert not (tmp_path / "o").exists()
    with pytest.raises(ValueError, match="at least 1"):
        run(load_scenario(scenario_file), trials=0)


def test_fresh_seed_is_printed_and_recorded(scenario_file: Path, tmp_path: Path):
    done = ilrs("run", str(scenario_file), "--trials", "5", "--quiet", "--out",
                str(tmp_path / "o"), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    seed = json.loads((tmp_path / "o" / "summary.json").read_text())["seed"]
    assert f"seed {seed}" in done.stdout


def test_frame_has_dates_and_the_never_date(scenario_file: Path):
    r = run(load_scenario(scenario_file), trials=200, seed=3, workers=1)
    frame = r.to_frame()
    assert list(frame.columns) == ["trial", "goal", "a", "b"]
    assert str(frame["b"].dtype).startswith("datetime64")
    assert (frame["b"] == pd.Timestamp(NEVER_DATE)).sum() == np.isinf(r.finish("b")).sum() > 0
    assert (frame["b"] <= pd.Timestamp("2030-03-01")).mean() == pytest.approx(
        r.activity_table().loc["b", "p_finish_by_deadline"])
    assert "P(B done by 2030-03-01)" in repr(r) and "<b>" in r._repr_html_()


def test_notebook_display_escapes_the_title(scenario_file: Path):
    scenario = load_scenario(scenario_file)
    import dataclasses

    hostile = dataclasses.replace(scenario, title="<script>alert(1)</script> & co")
    shown = run(hostile, trials=10, seed=1, workers=1)._repr_html_()
    assert "<script>" not in shown
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; co" in shown


def test_report_style_sheet_is_not_escaped(scenario_file: Path):
    """Autoescaping covers user text, not the report's own style sheet."""
    from sim.report import CSS, render_report

    html = render_report(run(load_scenario(scenario_file), trials=20, seed=1, workers=1))
    assert CSS in html and "&#34;" not in html


def test_ilrs_run_loads_only_what_it_uses(tmp_path):
    # A run that writes no results folder needs neither Arrow nor the SimPy engine, nor the
    # analysis stack, nor scipy.stats (half the start-up; calibrated slips need only
    # scipy.special); writing the folder loads Arrow (which loads pandas itself).
    probe = (
        "import sys\n"
        "from sim.cli import main\n"
        "main(sys.argv[1:])\n"
        "names = ('pyarrow', 'simpy', 'pandas', 'matplotlib', 'scipy.stats')\n"
        "print(sorted(m for m in names if m in sys.modules))\n"
    )
    scenario = "scenarios/examples/quickstart.yaml"
    for path in (scenario, "scenarios/ilrs_baseline.yaml"):  # the second, calibrated slips
        out = subprocess.run([sys.executable, "-c", probe, "run", path, "--trials", "1000"],
                             capture_output=True, text=True, check=True).stdout
        assert out.strip().splitlines()[-1] == "[]", path
    folder = tmp_path / "out"
    out = subprocess.run(
        [sys.executable, "-c", probe, "run", scenario, "--trials", "1000", "--out", str(folder)],
        capture_output=True, text=True, check=True).stdout
    loaded = out.strip().splitlines()[-1]
    assert "pyarrow" in loaded and "simpy" not in loaded and "matplotlib" not in loaded


def test_report_of_a_run_without_ready_times_says_why_the_breakdown_is_missing(scenario_file):
    from sim.report import render_report

    html = render_report(run(load_scenario(scenario_file), trials=20, seed=1, workers=1))
    assert "Where the time goes" in html and "keep_ready=True" in html
    kept = render_report(run(load_scenario(scenario_file), trials=20, seed=1, workers=1,
                             keep_ready=True))
    assert "keep_ready=True" not in kept and "share of spread" in kept
