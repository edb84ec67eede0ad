"""Figures and the HTML report: every figure function draws on small runs (including a goal
that is never met and one that always is) and returns its Axes; the standard figures are
written as PNG and SVG; the report is one well-formed HTML document with every image embedded.
"""

from __future__ import annotations

import base64
import dataclasses
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # tests only: no display; the library itself never picks a backend

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402

from sim import Results, load_scenario, parse_scenario, run  # noqa: E402
from sim.analysis import (  # noqa: E402
    Comparison,
    compare,
    convergence,
    criticality,
    risk_drivers,
)
from sim.plotting import (  # noqa: E402
    goal_progress,
    plot_compare,
    plot_convergence,
    plot_criticality,
    plot_drivers,
    plot_fan,
    plot_goal_histogram,
    plot_schedule,
    save_standard_figures,
)
from sim.report import write_report  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"

# A small programme with every kind of element the figures show: a done activity, planned
# dates with slips, a vehicle with failures, a risk, a factor, retries and an at_least goal.
# The title and a source carry characters that must be escaped in HTML.
OUTPOST = """
scenario: Outpost <test> & co
description: A small programme for the figure tests.
as_of: 2030-01-01
time_unit: months
sources:
  news-1: "Outpost plan <draft>, Example News, 2029-12-01, https://example.org/outpost?a=1&b=2"
factors:
  pace: {lognormal: {median: 1.0, p90: 1.3}}
vehicles:
  rocket: {name: Rocket, reliability: 0.9, min_interval: 2, stand_down: {triangular: [3, 6, 12]},
           source: news-1}
risks:
  delay_a: {name: A held back, probability: 0.2, delay: {uniform: [6, 12]}, applies_to: [a],
            source: news-1}
activities:
  done_x: {name: Relay (done), done: 2029-06-01, source: news-1}
  a:
    name: Probe A
    after: [done_x]
    planned: 2031-01-01
    slip: {lognormal: {median: 3, p90: 12}}
    duration: 1
    vehicle: rocket
    success: 0.9
    on_failure: {attempts: 2, rebuild: {triangular: [6, 12, 24]}}
    factors: [pace]
  b: {name: Probe B, planned: 2032-01-01, slip: {triangular: [0, 6, 24]}, vehicle: rocket,
      success: 0.8, factors: [pace]}
  c: {name: Station module, after: [{id: a, lag: 2}], duration: {pert: [6, 12, 30]}, success: 0.7}
goal:
  name: Outpost ready
  deadline: 2034-12-31
  requires: {all: [a, {at_least: 1, of: [b, c]}]}
"""

# A goal no trial meets (a certain cancellation) and one every trial meets on its deadline.
NEVER = """
scenario: Never
as_of: 2030-01-01
time_unit: days
risks:
  stop: {name: Cancelled, annual_probability: 0.999999, cancels: [a]}
activities:
  a: {name: A, duration: 400}
goal: {name: A done, deadline: 2030-06-30, requires: a}
"""
ALWAYS = """
scenario: Always
as_of: 2030-01-01
time_unit: days
activities:
  a: {name: A, duration: 10}
goal: {name: A done, deadline: 2030-01-11, requires: a}
"""

TRIALS = 400


@pytest.fixture(scope="module")
def res() -> Results:
    return run(parse_scenario(OUTPOST), trials=TRIALS, seed=3, workers=1)


@pytest.fixture(scope="module")
def edge_runs() -> dict[str, Results]:
    return {name: run(parse_scenario(text), trials=200, seed=1, workers=1)
            for name, text in (("never", NEVER), ("always", ALWAYS))}


@pytest.fixture(scope="module")
def drivers() -> pd.DataFrame:
    return risk_drivers(parse_scenario(OUTPOST), trials=200, seed=3, workers=1)


@pytest.fixture(scope="module")
def comparison(res: Results) -> Comparison:
    base = res.scenario
    no_risk = dataclasses.replace(base, risks=(), resolved=None)
    return compare({"outpost": base, "no risk": no_risk}, trials=200, seed=3, workers=1)


@pytest.fixture(autouse=True)
def _no_leaks() -> Iterator[None]:
    """No test may change global rcParams; figures made with ax=None are closed afterwards."""
    before = dict(matplotlib.rcParams)
    yield
    assert dict(matplotlib.rcParams) == before
    plt.close("all")


# -- each figure function ------------------------------------------------------------------
FIGURES = {
    "goal_histogram": lambda r, d, c: plot_goal_histogram(r),
    "schedule": lambda r, d, c: plot_schedule(r),
    "fan": lambda r, d, c: plot_fan(r),
    "drivers": lambda r, d, c: plot_drivers(d),
    "criticality": lambda r, d, c: plot_criticality(criticality(r)),
    "compare": lambda r, d, c: plot_compare(c),
    "convergence": lambda r, d, c: plot_convergence(convergence(r)),
}


@pytest.mark.parametrize("name", FIGURES)
def test_figure_returns_axes(name: str, res: Results, drivers: pd.DataFrame,
                             comparison: Comparison) -> None:
    ax = FIGURES[name](res, drivers, comparison)
    assert isinstance(ax, Axes)
    assert ax.get_title()  # every figure says what it shows
    ax.figure.canvas.draw()  # layout and rendering run without error


def test_figure_draws_on_the_given_axes(res: Results) -> None:
    fig, ax = plt.subplots()
    open_before = plt.get_fignums()
    assert plot_goal_histogram(res, ax=ax) is ax
    assert plot_fan(res, ax=ax.figure.add_subplot(2, 1, 2)).figure is fig
    assert plt.get_fignums() == open_before  # no stray figure


@pytest.mark.parametrize("edge", ["never", "always"])
def test_figures_cope_with_a_goal_never_or_always_met(edge: str,
                                                      edge_runs: dict[str, Results]) -> None:
    r = edge_runs[edge]
    assert r.probability == (0.0 if edge == "never" else 1.0)
    for draw in (plot_goal_histogram, plot_schedule, plot_fan):
        draw(r).figure.canvas.draw()
    plot_criticality(criticality(r)).figure.canvas.draw()
    plot_convergence(convergence(r)).figure.canvas.draw()


def test_histogram_writes_the_probability_and_marks_the_deadline(res: Results) -> None:
    ax = plot_goal_histogram(res)
    texts = " ".join(t.get_text() for t in ax.texts)
    assert f"{res.probability:.1%}" in texts
    lo, hi = res.ci95
    assert f"{lo:.1%}" in texts and f"{hi:.1%}" in texts
    labels = ax.get_legend_handles_labels()[1] + [
        t.get_text() for a in ax.figure.axes if a.get_legend() for t in a.get_legend().get_texts()]
    assert any("deadline 2034-12-31" in label for label in labels)


def test_year_labels_on_a_programme_scale_axis(res: Results) -> None:
    ax = plot_schedule(res)
    ax.figure.canvas.draw()
    labels = [t.get_text() for t in ax.get_xticklabels() if t.get_text()]
    assert labels and all(re.fullmatch(r"\d{4}", label) for label in labels)


def test_schedule_has_one_row_per_activity_still_to_come(res: Results) -> None:
    ax = plot_schedule(res)
    rows = [t.get_text() for t in ax.get_yticklabels()]
    assert rows == ["Station module", "Probe B", "Probe A"]  # done_x is history


def test_goal_progress_is_complete_exactly_when_the_goal_is_met(res: Results) -> None:
    days = np.array([0.0, 365.0, 5 * 365.0, float(res.deadline_day), 40 * 365.0])
    counts, total = goal_progress(res, days)
    assert total == 2  # a, and one of [b, c]
    met_by = np.floor(res.goal_days)[:, None] <= days[None, :]
    np.testing.assert_array_equal(counts == total, met_by)
    assert counts.min() >= 0 and counts.max() <= total


# -- files -----------------------------------------------------------------------------------
def test_save_standard_figures_writes_png_and_svg(res: Results, drivers: pd.DataFrame,
                                                  tmp_path: Path) -> None:
    open_before = plt.get_fignums()
    paths = save_standard_figures(res, tmp_path / "plots", drivers=drivers)
    assert plt.get_fignums() == open_before  # drawn on bare Figures, nothing left in pyplot
    names = {p.stem for p in paths}
    assert names == {"goal_histogram", "schedule", "fan", "criticality", "convergence", "drivers"}
    assert sorted(p.suffix for p in paths) == [".png"] * 6 + [".svg"] * 6
    for path in paths:
        assert path.parent == tmp_path / "plots" and path.stat().st_size > 1000
        if path.suffix == ".png":
            assert path.read_bytes().startswith(PNG_MAGIC)
        else:
            assert ET.parse(path).getroot().tag.endswith("svg")


def test_save_standard_figures_without_drivers(res: Results, tmp_path: Path) -> None:
    paths = save_standard_figures(res, tmp_path)
    assert "drivers" not in {p.stem for p in paths} and len(paths) == 10


# -- the report ------------------------------------------------------------------------------
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr"}


class _Checker(HTMLParser):
    """Records tags, attributes, text and nesting errors of an HTML document."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.decl = ""

    def handle_decl(self, decl: str) -> None:
        self.decl = decl

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes <{self.stack[-1] if self.stack else None}>")
        else:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _check_report(path: Path) -> _Checker:
    checker = _Checker()
    checker.feed(path.read_text(encoding="utf-8"))
    checker.close()
    assert checker.decl.lower() == "doctype html"
    assert checker.errors == [] and checker.stack == []
    names = [t for t, _ in checker.tags]
    assert names[:3] == ["html", "head", "meta"] and "body" in names and "title" in names
    for tag, attrs in checker.tags:
        # Self-contained: nothing is loaded from a file or the network.
        assert "src" not in attrs or (tag == "img" and attrs["src"].startswith("data:"))
        assert not (tag == "link" and "stylesheet" in (attrs.get("rel") or ""))
        assert tag not in {"script", "iframe", "object", "embed"}
    for tag, attrs in checker.tags:
        if tag == "img":
            head, data = attrs["src"].split(",", 1)
            assert head == "data:image/png;base64"
            assert base64.b64decode(data).startswith(PNG_MAGIC)
            assert attrs.get("alt")
    return checker


def test_report_is_one_self_contained_html_file(res: Results, drivers: pd.DataFrame,
                                                comparison: Comparison, tmp_path: Path) -> None:
    path = write_report(res, tmp_path / "out" / "report.html", drivers=drivers,
                        comparison=comparison)
    assert path == tmp_path / "out" / "report.html"
    checker = _check_report(path)
    text = " ".join(checker.text)
    assert len([t for t, _ in checker.tags if t == "img"]) == 7  # 5 standard, drivers, variants
    lo, hi = res.ci95
    for expected in (f"{res.probability:.1%}", f"{lo:.1%}", f"{hi:.1%}", "2030-01-01",
                     str(res.percentiles["p50"]), "Outpost <test> & co",  # escaped, then read back
                     "Outpost plan <draft>", "Probe A", "Station module", "delay_a", "no risk",
                     "Rocket", "A held back"):
        assert expected in text, expected
    html = path.read_text(encoding="utf-8")
    assert "Outpost &lt;test&gt; &amp; co" in html and "<test>" not in html
    assert '<a href="https://example.org/outpost?a=1&amp;b=2">' in html
    assert "@media print" in html


def test_report_without_optional_parts(res: Results, tmp_path: Path) -> None:
    checker = _check_report(write_report(res, tmp_path / "r.html"))
    assert len([t for t, _ in checker.tags if t == "img"]) == 5
    assert "Risk drivers" not in " ".join(checker.text)


def test_report_of_the_ilrs_baseline(tmp_path: Path) -> None:
    scenario = load_scenario(ROOT / "scenarios" / "ilrs_baseline.yaml")
    res = run(scenario, trials=300, seed=1, workers=1)
    checker = _check_report(write_report(res, tmp_path / "ilrs.html"))
    text = " ".join(checker.text)
    for key in scenario.sources:  # every source is listed
        assert key in text
    assert all(a.name in text for a in scenario.activities)
