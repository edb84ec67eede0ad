"""`ilrs update`: news over a scenario gives a scenario that extends it, validates, and keeps
the untouched elements' draws trial by trial."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import dedent

from sim import run
from sim.output import OutputExistsError
from sim.sampling import draw_block
from sim.scenario import load_scenario
from sim.update import write_update
from sim.yamlio import ScenarioError

PARENT = """\
scenario: parent
as_of: 2026-01-01
time_unit: days
sources: {s1: a source}
activities:
  a: {planned: 2026-02-01, slip: {uniform: [0, 30]}, duration: {uniform: [5, 9]}}
  b: {after: a, duration: 5, success: 0.5, on_failure: {attempts: 2, rebuild: 10}}
  c: {planned: 2026-05-01, slip: {uniform: [0, 60]}, duration: {uniform: [1, 20]}}
risks:
  r: {probability: 0.5, delay: 10, applies_to: [c]}
goal: {name: g, deadline: 2027-01-01, requires: {all: [b, c]}}
"""

EVENTS = """\
as_of: 2026-03-01
sources: {s2: another source}
news:
  - what: a's plan moved
    date: 2026-01-20
    reported: 2026-01-21
    source: s2
    confidence: single-source
    activities:
      a: {planned: 2026-06-01, announced: 2026-01-21}
  - what: b's first attempt failed
    date: 2026-02-20
    reported: 2026-02-21
    source: s1
    confidence: confirmed
    activities:
      b: {failed: 2026-02-20}
"""


def same_date(x: np.ndarray, y: np.ndarray) -> None:
    """Equal but for the last bits a different day count leaves: a few units in the last
    place of the largest value (days since as_of)."""
    ulp = np.spacing(np.max(np.abs(np.concatenate([x, y]))))
    np.testing.assert_allclose(x, y, rtol=0, atol=8 * ulp)


@pytest.fixture()
def files(tmp_path: Path) -> tuple[Path, Path, Path]:
    (tmp_path / "parent.yaml").write_text(PARENT)
    (tmp_path / "events.yaml").write_text(EVENTS)
    return tmp_path / "parent.yaml", tmp_path / "events.yaml", tmp_path / "new" / "update.yaml"


def test_update_extends_its_parent_validates_and_applies_the_news(files) -> None:  # type: ignore[no-untyped-def]
    parent, events, out = files
    new = write_update(parent, events, out)
    text = out.read_text()
    assert "\nextends: ../parent.yaml\n" in text and text.endswith(EVENTS)
    assert new.as_of.isoformat() == "2026-03-01"
    assert new.activity("a").planned.isoformat() == "2026-06-01"
    assert new.activity("b").status == "failed on 2026-02-20"
    assert new.activity("c") == load_scenario(parent).activity("c")
    assert set(new.sources) == {"s1", "s2"}


def test_untouched_elements_keep_their_draws_trial_by_trial(files) -> None:  # type: ignore[no-untyped-def]
    parent, events, out = files
    old, new = load_scenario(parent), write_update(parent, events, out)
    shift = (new.as_of - old.as_of).days
    c = old.activity_index["c"]
    for block, size in ((0, 1000), (1, 300)):
        d_old, d_new = draw_block(old, 5, block, size), draw_block(new, 5, block, size)
        assert np.array_equal(d_old.activities[c].duration, d_new.activities[c].duration)
        # planned + slip is the same date, counted from the other as_of (the same slip added to
        # another whole number of days: equal up to the rounding of that one addition)
        same_date(d_old.activities[c].ready_floor - shift, d_new.activities[c].ready_floor)
        assert np.array_equal(d_old.risk_time, d_new.risk_time)
    a, b = run(old, trials=1500, seed=5), run(new, trials=1500, seed=5)
    # c does not depend on the news: the same finish date in every trial.
    same_date(a.finish("c") - shift, b.finish("c"))
    assert not np.array_equal(a.finish("a") - shift, b.finish("a"))


def test_an_event_for_an_unknown_id_is_refused_and_nothing_written(files) -> None:  # type: ignore[no-untyped-def]
    parent, events, out = files
    events.write_text(EVENTS.replace("      b: {failed", "      bb: {failed"))
    with pytest.raises(ScenarioError) as err:
        write_update(parent, events, out)
    [problem] = err.value.problems
    assert (problem.file, problem.line, problem.path) == (str(events), 17, "news[1].activities.bb")
    assert "unknown activity 'bb'" in problem.message
    cli = subprocess.run([sys.executable, "-m", "sim", "update", str(parent), str(events),
                          "-o", str(out)], capture_output=True, text=True)
    assert cli.returncode == 2 and "Traceback" not in cli.stderr
    assert f"{events}:17: news[1].activities.bb: unknown activity 'bb'" in cli.stderr
    assert not out.parent.exists()  # nor the folder made to check it in


def test_a_folder_or_a_file_in_the_way_is_refused_like_any_destination(files) -> None:  # type: ignore[no-untyped-def]
    parent, events, out = files
    out.mkdir(parents=True)  # update.yaml is a folder
    (out.parent / "afile").write_text("a file, not a folder")
    for target, why in ((out, "is a folder, not a file"), (out.parent / "afile" / "u.yaml",
                                                           "is a file, not a folder")):
        with pytest.raises(OutputExistsError, match=why):
            write_update(parent, events, target, force=True)
        cli = subprocess.run([sys.executable, "-m", "sim", "update", str(parent), str(events),
                              "-o", str(target), "--force"], capture_output=True, text=True)
        assert cli.returncode == 2 and cli.stderr.startswith(f"ilrs: {target}: ")
        assert why in cli.stderr and "Traceback" not in cli.stderr
    assert sorted(p.name for p in out.parent.iterdir()) == ["afile", "update.yaml"]


def test_bad_events_get_located_errors(files) -> None:  # type: ignore[no-untyped-def]
    parent, events, out = files
    events.write_text(dedent("""
        as_of: 2026-03-01
        news:
          - what: too late
            date: 2026-04-01
            reported: 2026-03-02
            source: nowhere
            confidence: sure
            activities:
              b: {failed: 2026-04-01}
        """))
    with pytest.raises(ScenarioError) as err:
        write_update(parent, events, out)
    got = {(p.line, p.path) for p in err.value.problems}
    assert {(4, "news[0].date"), (5, "news[0].reported"), (6, "news[0].source"),
            (7, "news[0].confidence"), (9, "activities.b.failed")} <= got, got
    assert not out.exists()


def test_news_over_a_section_that_is_not_a_mapping_is_a_located_error(tmp_path: Path) -> None:
    # The news must not trip over a malformed section: the section's own check reports it.
    text = PARENT.replace("activities:\n", "news:\n" + EVENTS.split("news:\n")[1] + "activities:\n")
    text = text.replace("sources: {s1: a source}", "sources: {s1: a source, s2: another}")
    head, _, tail = text.partition("activities:\n  a:")
    text = head + "activities: 5\nrisks:" + tail.partition("risks:")[2]
    (tmp_path / "s.yaml").write_text(text)
    with pytest.raises(ScenarioError) as err:
        load_scenario(tmp_path / "s.yaml")
    assert any(p.path == "activities" and "must be a mapping" in p.message
               for p in err.value.problems), err.value.problems
