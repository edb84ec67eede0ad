"""`ilrs history`: the forecast at each data date, and each step attributed to its events
with common random numbers, the parts adding up exactly to the whole change."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from test_update import EVENTS, PARENT

from sim import run
from sim.history import attribution, history
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


def test_attribution_to_a_file_without_its_own_as_of(tmp_path: Path) -> None:
    """A newer file may only extend a dated one (as the ILRS baseline extends the newest
    history file): its data date is the resolved one, and the news it inherits counts as
    'other changes', the parts still adding up to the whole change."""
    (tmp_path / "parent.yaml").write_text(PARENT)
    (tmp_path / "events.yaml").write_text(EVENTS)
    write_update(tmp_path / "parent.yaml", tmp_path / "events.yaml", tmp_path / "new.yaml")
    (tmp_path / "child.yaml").write_text("extends: new.yaml\nscenario: Renamed\n")
    old, child = tmp_path / "parent.yaml", tmp_path / "child.yaml"
    steps = attribution(old, child, trials=TRIALS, seed=4)
    direct = attribution(old, tmp_path / "new.yaml", trials=TRIALS, seed=4)
    assert list(steps["part"]) == ["time (as_of moved)", "other changes in the file"]
    assert steps["delta_met"].iloc[0] == direct["delta_met"].iloc[0]  # the same new as_of
    assert int(steps["delta_met"].sum()) == int(direct["delta_met"].sum())
    assert steps.attrs["p_after"] == direct.attrs["p_after"]


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
