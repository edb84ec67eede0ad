"""The analysis commands end to end: run --plots, compare, drivers, report."""

from __future__ import annotations

import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
QUICKSTART = str(ROOT / "scenarios/examples/quickstart.yaml")


def ilrs(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "sim", *args], capture_output=True, text=True,
                          cwd=cwd)


def test_run_plots_writes_png_and_svg(tmp_path: Path):
    done = ilrs("run", QUICKSTART, "--trials", "500", "--seed", "1", "--plots", "figs",
                cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    names = {p.name for p in (tmp_path / "figs").iterdir()}
    assert {"goal_histogram.png", "goal_histogram.svg", "schedule.png", "fan.png"} <= names
    assert all((tmp_path / "figs" / n).stat().st_size > 1000 for n in names)


def test_compare_uses_one_seed_and_writes_the_table(tmp_path: Path):
    easier = tmp_path / "easier.yaml"
    easier.write_text(f"extends: {QUICKSTART}\nrisks:\n  budget_cut: null\n")
    done = ilrs("compare", QUICKSTART, str(easier), "--trials", "800", "--seed", "4",
                "--out", "cmp", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "seed 4" in done.stdout and "quickstart" in done.stdout and "easier" in done.stdout
    table = pd.read_csv(tmp_path / "cmp" / "comparison.csv").set_index("scenario")
    # Removing a risk can only help, trial by trial, with common random numbers.
    assert table.loc["easier", "probability"] >= table.loc["quickstart", "probability"]
    assert (tmp_path / "cmp" / "compare.png").exists()


def test_drivers_table_and_tornado(tmp_path: Path):
    done = ilrs("drivers", QUICKSTART, "--trials", "500", "--seed", "2", "--out", "drv",
                cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    table = pd.read_csv(tmp_path / "drv" / "drivers.csv", index_col=0)
    assert {"budget_cut", "programme_stop", "pace", "heavy"} <= set(table.index)
    assert (tmp_path / "drv" / "drivers.png").exists()


class _Images(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.sources: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "img":
            self.sources.append(dict(attrs).get("src") or "")


def test_report_is_one_self_contained_html_file(tmp_path: Path):
    done = ilrs("report", QUICKSTART, "-o", "report.html", "--trials", "400", "--seed", "3",
                cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    html = (tmp_path / "report.html").read_text()
    assert html.lstrip().lower().startswith("<!doctype html")
    parser = _Images()
    parser.feed(html)
    assert parser.sources and all(s.startswith("data:image/") for s in parser.sources)
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]
    again = ilrs("report", QUICKSTART, "-o", "report.html", "--trials", "10", cwd=tmp_path)
    assert again.returncode == 2 and "Traceback" not in again.stderr


def test_analysis_commands_refuse_bad_input(tmp_path: Path):
    done = ilrs("drivers", "missing.yaml", cwd=tmp_path)
    assert done.returncode == 2 and "not found" in done.stderr and "Traceback" not in done.stderr
