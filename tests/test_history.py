"""`ilrs history`: the forecast at each data date, and each step attributed to its events
with common random numbers, the parts adding up exactly to the whole change."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from test_update import EVENTS, PARENT

import sim.history
from sim import run
from sim.cli import main
from sim.history import attribution, history
from sim.news import chain_news
from sim.results import Results
from sim.scenario import load_scenario
from sim.update import write_update

TRIALS = 1500


def test_attribution_parts_add_up_to_the_whole_change(tmp_path: Path) -> None:
    (tmp_path / "parent.yaml").write_text(PARENT)
    (tmp_path / "events.yaml").write_text(EVENTS)
    write_update(tmp_path / "parent.yaml", tmp_path / "events.yaml", tmp_path / "new.yaml")
    old, new = tmp_path / "parent.yaml", tmp_path / "new.yaml"
    steps = attribution(old, new, trials=TRIALS, seed=4)
    assert list(steps["part"]) == ["time (as_of moved)", "a's plan moved",
                                   "b's first attempt failed", "other changes in the file"]
    a, b = run(load_scenario(old), trials=TRIALS, seed=4), run(load_scenario(new), trials=TRIALS,
                                                               seed=4)
    assert steps.attrs["p_before"] == a.probability and steps.attrs["p_after"] == b.probability
    assert int(steps["delta_met"].sum()) == int(b.met.sum()) - int(a.met.sum())
    assert steps["delta_met"].iloc[-1] == 0  # the file is its parent plus the news
    assert steps["delta_met"].iloc[2] < 0  # a failure with a rebuild costs time
    table = history([new, old], trials=TRIALS, seed=4)
    assert [str(d) for d in table["as_of"]] == ["2026-01-01", "2026-03-01"]  # oldest first
    assert list(table["p_goal"]) == [a.probability, b.probability]


EVENT_C = """\
news:
  - what: c moved later
    date: 2026-03-10
    reported: 2026-03-11
    source: s1
    confidence: confirmed
    activities:
      c: {planned: 2026-09-01, announced: 2026-03-11}
"""
PARTS = ["time (as_of moved)", "a's plan moved", "b's first attempt failed"]
OTHER = "other changes in the file"


def updated(tmp_path: Path) -> tuple[Path, Path]:
    """parent.yaml and new.yaml, its update with two events (a's plan, b's failure)."""
    (tmp_path / "parent.yaml").write_text(PARENT)
    (tmp_path / "events.yaml").write_text(EVENTS)
    write_update(tmp_path / "parent.yaml", tmp_path / "events.yaml", tmp_path / "new.yaml")
    return tmp_path / "parent.yaml", tmp_path / "new.yaml"


def adds_up(steps: pd.DataFrame, old: Path, new: Path) -> None:
    """The parts telescope: their sum is the whole change in trials meeting the goal."""
    a, b = (run(load_scenario(p), trials=TRIALS, seed=4) for p in (old, new))
    assert (steps.attrs["p_before"], steps.attrs["p_after"]) == (a.probability, b.probability)
    assert int(steps["delta_met"].sum()) == int(b.met.sum()) - int(a.met.sum())


def test_news_inherited_through_extends_is_listed_event_by_event(tmp_path: Path) -> None:
    """A newer file that gets its news from the file it extends (as the ILRS baseline extends
    the newest history file) is split exactly as that file is: time, each event, and nothing
    else (the child only renames the scenario)."""
    old, new = updated(tmp_path)
    (tmp_path / "child.yaml").write_text("extends: new.yaml\nscenario: Renamed\n")
    child = tmp_path / "child.yaml"
    steps = attribution(old, child, trials=TRIALS, seed=4)
    direct = attribution(old, new, trials=TRIALS, seed=4)
    assert list(steps["part"]) == list(direct["part"]) == [*PARTS, OTHER]
    assert list(steps["delta_met"]) == list(direct["delta_met"])
    assert steps["delta_met"].iloc[-1] == 0
    adds_up(steps, old, child)


def test_news_accumulated_along_a_chain_over_the_older_file(tmp_path: Path) -> None:
    """newer -> new.yaml -> parent.yaml, with news in both newer files: from parent, every
    event of the chain in the order the loader applies them; from new.yaml, only the one it
    lacks (its own two are already in it)."""
    old, new = updated(tmp_path)
    (tmp_path / "newest.yaml").write_text("extends: new.yaml\nas_of: 2026-04-01\n" + EVENT_C)
    newest = tmp_path / "newest.yaml"
    steps = attribution(old, newest, trials=TRIALS, seed=4)
    assert list(steps["part"]) == [*PARTS, "c moved later", OTHER]
    assert steps["delta_met"].iloc[-1] == 0
    adds_up(steps, old, newest)
    last = attribution(new, newest, trials=TRIALS, seed=4)
    assert list(last["part"]) == ["time (as_of moved)", "c moved later", OTHER]
    assert last["delta_met"].iloc[-1] == 0
    adds_up(last, new, newest)


def test_news_the_older_file_already_has_is_not_counted_again(tmp_path: Path) -> None:
    """The newer file need not extend the older one: an event both have (an equal one) is
    the older's already, and what else differs (here c's slip) is 'other changes'."""
    old, new = updated(tmp_path)
    first = EVENTS.split("  - what: b's")[0].replace("2026-03-01", "2026-02-01")
    (tmp_path / "older.yaml").write_text(
        "extends: parent.yaml\nactivities:\n  c: {slip: {uniform: [0, 400]}}\n" + first)
    older = tmp_path / "older.yaml"
    assert [e["what"] for e in chain_news(older)] == ["a's plan moved"]  # as in new.yaml
    steps = attribution(older, new, trials=TRIALS, seed=4)
    assert list(steps["part"]) == ["time (as_of moved)", "b's first attempt failed", OTHER]
    assert steps["delta_met"].iloc[-1] > 0  # c back to its shorter slip
    adds_up(steps, older, new)


def test_an_event_that_cannot_stand_on_the_older_file_stays_in_other_changes(
        tmp_path: Path) -> None:
    """An event that changes an element only the newer file adds cannot be applied to the
    older file: its effect is part of 'other changes', and the parts still add up."""
    old, _ = updated(tmp_path)
    event = EVENT_C.replace("c moved later", "d moved later").replace("c: {", "d: {")
    (tmp_path / "newer.yaml").write_text(
        "extends: parent.yaml\nas_of: 2026-04-01\nactivities:\n"
        "  d: {planned: 2026-06-01, duration: 3}\n"
        "goal: {requires: {all: [b, c, d]}}\n" + event)
    newer = tmp_path / "newer.yaml"
    assert load_scenario(newer).activity("d").planned.isoformat() == "2026-09-01"
    steps = attribution(old, newer, trials=TRIALS, seed=4)
    assert list(steps["part"]) == ["time (as_of moved)", OTHER]
    adds_up(steps, old, newer)


def test_history_command_writes_table_figure_and_attribution(tmp_path: Path) -> None:
    (tmp_path / "parent.yaml").write_text(PARENT)
    (tmp_path / "events.yaml").write_text(EVENTS)
    write_update(tmp_path / "parent.yaml", tmp_path / "events.yaml", tmp_path / "new.yaml")
    out = tmp_path / "out"
    cli = subprocess.run([sys.executable, "-m", "sim", "history", str(tmp_path / "parent.yaml"),
                          str(tmp_path / "new.yaml"), "--trials", "500", "--seed", "1",
                          "--out", str(out)], capture_output=True, text=True)
    assert cli.returncode == 0, cli.stderr
    assert "b's first attempt failed" in cli.stdout
    assert {p.name for p in out.iterdir()} == {"history.csv", "attribution.csv", "history.png"}
    assert "(history.csv, attribution.csv, history.png)" in cli.stdout
    # One file has no step to attribute: no attribution.csv, and none is said to be written.
    alone = subprocess.run([sys.executable, "-m", "sim", "history", str(tmp_path / "new.yaml"),
                            "--trials", "200", "--seed", "1", "--out", str(tmp_path / "one")],
                           capture_output=True, text=True)
    assert alone.returncode == 0, alone.stderr
    assert {p.name for p in (tmp_path / "one").iterdir()} == {"history.csv", "history.png"}
    assert "(history.csv, history.png)" in alone.stdout


@pytest.mark.parametrize("terminal, quiet, shown", [(True, False, True), (True, True, False),
                                                    (False, False, False)])
def test_history_command_shows_progress_as_the_other_commands_do(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, terminal: bool, quiet: bool,
        shown: bool) -> None:
    """Every run asks for the progress bar unless --quiet, and only when stderr is a terminal
    (the bar itself, from montecarlo.run, appears once a run takes two seconds)."""
    old, new = updated(tmp_path)
    asked: list[bool] = []

    def spy(*args: Any, **kwargs: Any) -> Results:
        asked.append(kwargs["progress"])
        return run(*args, **kwargs)

    monkeypatch.setattr(sim.history, "run", spy)
    monkeypatch.setattr(sys.stderr, "isatty", lambda: terminal)
    argv = ["history", str(old), str(new), "--trials", "200", "--seed", "1", "--workers", "1"]
    assert main(argv + (["--quiet"] if quiet else [])) == 0
    assert asked == [shown] * 7  # two forecasts; the older again, time, two events, the file


def test_the_report_has_a_history_section(tmp_path: Path) -> None:
    from sim.report import render_report

    (tmp_path / "parent.yaml").write_text(PARENT)
    (tmp_path / "events.yaml").write_text(EVENTS)
    write_update(tmp_path / "parent.yaml", tmp_path / "events.yaml", tmp_path / "new.yaml")
    files = [tmp_path / "parent.yaml", tmp_path / "new.yaml"]
    table = history(files, trials=300, seed=2)
    steps = [attribution(files[0], files[1], trials=300, seed=2)]
    html = render_report(run(load_scenario(files[1]), trials=300, seed=2), history=(table, steps))
    section = html[html.index('<section id="history">'):]
    assert "How the forecast moved" in section and "s first attempt failed" in section
    assert '<a href="#history">' in html
