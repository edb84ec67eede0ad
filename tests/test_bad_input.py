"""Every bad input of issue 2 gets `FILE:LINE: path.to.field: what is wrong, what was found`.

Each case is a tiny scenario with its expected problems (file, line, field path, a fragment of
the message). The library is checked on every case; the `ilrs` command on every case with
`validate` and on one case per kind of bad input with `run --out` (exit status 2, the message
with its line, no traceback, nothing written).
"""

from __future__ import annotations

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import WriteFile, dedent

from sim.scenario import Problem, ScenarioError, load_scenario, parse_scenario

REPO = Path(__file__).resolve().parent.parent
MAIN = "s.yaml"


@dataclass(frozen=True)
class Case:
    id: str
    files: dict[str, str]  # name -> YAML; MAIN is the one loaded
    expected: list[tuple[str, int, str, str]]  # file, line, path, message fragment
    cli_run: bool = False  # also run `ilrs run --out` on it (one case per kind of bad input)


def case(id: str, text: str, *expected: tuple[int, str, str], cli_run: bool = False) -> Case:
    return Case(id, {MAIN: dedent(text)},
                [(MAIN, line, path, frag) for line, path, frag in expected], cli_run)


CASES = [
    # ---- YAML itself ------------------------------------------------------------------------
    case("syntax_flow", """
        scenario: t
        as_of: 2026-01-01
        activities:
          a: {duration: [1, 2}
        goal: {name: g, deadline: 2030-01-01, requires: a}
        """, (4, "", "YAML syntax error"), cli_run=True),
    case("syntax_unclosed_quote", """
        scenario: "t
        as_of: 2026-01-01
        """, (1, "", "YAML syntax error: while scanning a quoted scalar")),
    case("syntax_mapping_in_value", """
        scenario: t
        as_of: 2026-01-01: 3
        """, (2, "", "mapping values are not allowed here")),
    case("syntax_tab", """
        scenario: t
        activities:
        \ta: {}
        """, (3, "", "'\\t' that cannot start any token")),
    case("two_documents", """
        scenario: t
        ---
        scenario: u
        """, (2, "", "expected a single document")),
    case("duplicate_key", """
        scenario: t
        as_of: 2026-01-01
        activities:
          a: {duration: 1}
          a: {duration: 2}
        goal: {name: g, deadline: 2030-01-01, requires: a}
        """, (5, "activities.a", "duplicate key 'a' (first given at line 4)"), cli_run=True),
    case("duplicate_nested_key", """
        scenario: t
        as_of: 2026-01-01
        activities:
          a:
            duration: 1
            success: 0.5
            duration: 2
        goal: {name: g, deadline: 2030-01-01, requires: a}
        """, (7, "activities.a.duration", "duplicate key 'duration' (first given at line 5)")),
    case("tag_python_object_apply", """
        scenario: !!python/object/apply:os.system ["touch PWNED"]
        as_of: 2026-01-01
        activities:
          a: {duration: 1}
        goal: {name: g, deadline: 2030-01-01, requires: a}
        """, (1, "scenario", "YAML tag !!python/object/apply:os.system is not allowed"),
        cli_run=True),
    case("tag_python_name", """
        scenario: t
        as_of: 2026-01-01
        activities:
          a: {duration: !!python/name:os.system }
        goal: {name: g, deadline: 2030-01-01, requires: a}
        """, (4, "activities.a.duration", "YAML tag !!python/name:os.system is not allowed")),
    case("tag_python_object_new", """
        scenario: t
        as_of: 2026-01-01
        activities:
          a: !!python/object/new:collections.OrderedDict [[[duration, 1]]]
        goal: {name: g, deadline: 2030-01-01, requires: a}
        """, (4, "activities.a", "!!python/object/new:collections.OrderedDict is not allowed")),
    case("tag_unknown_local", """
        scenario: t
        as_of: 2026-01-01
        activities:
          a: !activity {duration: 1}
        goal: {name: g, deadline: 2030-01-01, requires: a}
        """, (4, "activities.a", "YAML tag !activity is not allowed")),
    case("tag_binary", """
        scenario: !!binary aGVsbG8=
        as_of: 2026-01-01
        activities:
          a: {duration: 1}
        goal: {name: g, deadline: 2030-01-01, requires: a}
        """, (1, "scenario", "YAML tag !!binary is not allowed")),
    case("empty_file", "", (1, "", "the file is empty")),
    case("not_a_mapping", """
        - scenario
        - t
        """, (1, "", "a scenario must be a mapping of keys, got a list")),
    # ---- keys ---------------------------------------------------------------------------------
    case("unknown_key_close", """
        scenario: t
        as_of: 2026-01-01
        activities:
          a:
            sucess: 0.5
        goal: {name: g, deadline: 2030-01-01, requires: a}
        """, (5, "activities.a.sucess", "unknown key 'sucess'; did you mean 'success'?"),
        cli_run=True),
    case("unknown_key_top", """
        scenario: t
        as_of: 2026-01-01
        colour: red
        activities:
          a: {}
        goal: {name: g, deadline: 2030-01-01, requires: a}
        """, (3, "colour", "unknown key 'colour'")),
    case("unknown_key_goal", """
        scenario: t
        as_of: 2026-01-01
        activities:
          a: {}
        goal: {name: g, deadline: 2030-01-01, require: a}
        """, (5, "goal.require", "did you mean 'requires'?"), (5, "goal.requires", "required")),
    case("missing_required_top", """
        description: nothing else
        """, (1, "scenario", "is required, got nothing"), (1, "as_of", "is required"),
        (1, "activities", "is required"), (1, "goal", "is required"), cli_run=True),
    case("missing_goal_fields", """
        scenario: t
        as_of: 2026-01-01
        activities:
          a: {}
        goal:
          name: g
        """, (5, "goal.deadline", "is required, got nothing"),
        (5, "goal.requires", "is required, got nothing")),
    case("required_null", """
        scenario: t
        as_of:
        activities:
          a: {}
        goal: {name: g, deadline: 2030-01-01, requires: a}
        """, (2, "as_of", "is required, got null")),
    case("no_activities", """
        scenario: t
        as_of: 2026-01-01
        activities: {}
        goal: {name: g, deadline: 2030-01-01, requires: a}
        """, (3, "activities", "needs at least one activity"),
        (4, "goal.requires", "unknown activity 'a' (the scenario has no activities)")),
    # ---- wrong types --------------------------------------------------------------------------
    case("type_text_for_number", """
        scenario: t
        as_of: 2026-01-01
        activities:
          a: {success: high}
        goal: {name: g, deadline: 2030-01-01, requires: a}
        """, (4, "activities.a.success", "must be a number, got 'high'"), cli_run=True),
    case("type_bool_is_not_a_number", """
        scenario: t
        as_of: 2026-01-01
        activities:
          a:
            duration: true
            success: false
        goal: {name: g, deadline: 2030-01-01, requires: a}
        """, (5, "activities.a.duration", "must be a number or a mapping with one key"),
        (6, "activities.a.success", "must be a number, got false")),
    case("type_quoted_number", """
        scenario: t
        as_of: 2026-01-01
        vehicles:
          v: {min_interval: "4"}
        activities:
          a: {vehicle: v}
        goal: {name: g, deadline: 2030-01-01, requires: a}
        """, (4, "vehicles.v.min_interval", "must be a number, got '4'")),
    case("type_list_for_distribution", """
        scenario: t
        as_of: 2026-01-01
        activities:
          a: {duration: [1, 2]}
        goal: {name: g, deadline: 2030-01-01, requires: a}
        """, (4, "activities.a.duration", "mapping with one key (uniform, triangular, pert, "
                                          "lognormal or empirical), got [1, 2]")),
    case("type_two_kinds", """
        scenario: t
        as_of: 2026-01-01
        activities:
          a: {duration: {uniform: [1, 2], pert: [1, 2, 3]}}
        goal: {name: g, deadline: 2030-01-01, requires: a}
        """, (4, "activities.a.duration", "mapping with one key")),
    case("type_activities_list", """
        scenario: t
        as_of: 2026-01-01
        activities: [a, b]
        goal: {name: g, deadline: 2030-01-01, requires: a}
        """, (3, "activities", "must be a mapping of id to activity, got ['a', 'b']")),
    case("type_activity_scalar", """
        scenario: t
        as_of: 2026-01-01
        activities:
          a: 3
        goal: {name: g, deadline: 2030-01-01, requires: a}
        """, (4, "activities.a", "must be a mapping")),
    case("type_name_list", """
        scenario: t
        as_of: 2026-01-01
        activities:
          a: {name: [x]}
        goal: {name: g, deadline: 2030-01-01, requires: a}
        """, (4, "activities.a.name", "must be text, got ['x']")),
    case("type_after_number", """
        scenario: t
        as_of: 2026-01-01
        activities:
          a: {after: 3}
        goal: {name: g, deadline: 2030-01-01, requires: a}
        """, (4, "activities.a.after", "must be a list of activity ids, got 3")),
    case("type_after_item", """
        scenario: t
        as_of: 2026-01-01
        activities:
          a: {}
          b:
            after:
              - a
              - [a]
        goal: {name: g, deadline: 2030-01-01, requires: a}
        """, (8, "activities.b.after[1]", "must be an activity id or {id: ..., lag: ...}")),
    case("type_vehicle_number", """
        scenario: t
        as_of: 2026-01-01
        activities:
          a: {vehicle: 5}
        goal: {name: g, deadline: 2030-01-01, requires: a}
        """, (4, "activities.a.vehicle", "must be a vehicle id or a list of them, got 5")),
    case("type_empty_vehicle_list", """
        scenario: t
        as_of: 2026-01-01
        activities:
          a: {vehicle: []}
        goal: {name: g, deadline: 2030-01-01, requires: a}
        """, (4, "activities.a.vehicle", "needs at least one vehicle id, got an empty list")),
    case("type_distribution_item", """
        scenario: t
        as_of: 2026-01-01
        activities:
          a: {duration: {uniform: [1, x]}}
        goal: {name: g, deadline: 2030-01-01, requires: a}
        """, (4, "activities.a.duration.uniform[1]", "must be a number, got 'x'")),
    case("type_nan", """
        scenario: t
        as_of: 2026-01-01
        activities:
          a: {duration: .nan}
        goal: {name: g, deadline: 2030-01-01, requires: a}
        """, (4, "activities.a.duration", "values must be finite numbers, got nan")),
    case("type_time_unit", """
        scenario: t
        as_of: 2026-01-01
        time_unit: month
        activities:
          a: {}
        goal: {name: g, deadline: 2030-01-01, requires: a}
        """, (3, "time_unit", "must be one of days, months, years, got 'month'; "
                              "did you mean 'months'?")),
    # ---- probabilities ------------------------------------------------------------------------
    case("probability_success", """
        scenario: t
        as_of: 2026-01-01
        activities:
          a:
            success: 1.2
        goal: {name: g, deadline: 2030-01-01, requires: a}
        """, (5, "activities.a.success", "must be between 0 and 1, got 1.2"), cli_run=True),
    case("probability_reliability_and_risks", """
        scenario: t
        as_of: 2026-01-01
        vehicles:
          v: {reliability: -0.1}
        risks:
          r1: {probability: 2, cancels: [a]}
          r2: {annual_probability: 1.5, cancels: [a]}
        activities:
          a: {vehicle: v}
        goal: {name: g, deadline: 2030-01-01, requires: a}
        """, (4, "vehicles.v.reliability", "must be between 0 and 1, got -0.1"),
        (6, "risks.r1.probability", "must be between 0 and 1, got 2"),
        (7, "risks.r2.annual_probability", "must be between 0 and 1, got 1.5")),
    # ---- distributions ------------------------------------------------------------------------
    case("dist_low_above_mode", """
        scenario: t
        as_of: 2026-01-01
        activities:
          a:
            duration: {triangular: [5, 3, 8]}
        goal: {name: g, deadline: 2030-01-01, requires: a}
        """, (5, "activities.a.duration", "impossible triangular parameters: needs low <= mode "
                                          "<= high, got [5, 3, 8]"), cli_run=True),
    case("dist_median_zero", """
        scenario: t
        as_of: 2026-01-01
        activities:
          a:
            duration: {lognormal: {median: 0, p90: 3}}
        goal: {name: g, deadline: 2030-01-01, requires: a}
        """, (5, "activities.a.duration", "needs 0 < median < p90, got median 0, p90 3"),
        cli_run=True),
    case("dist_empty_empirical", """
        scenario: t
        as_of: 2026-01-01
        activities:
          a:
            duration: {empirical: []}
        goal: {name: g, deadline: 2030-01-01, requires: a}
        """, (5, "activities.a.duration", "impossible empirical parameters: needs at least one "
                                          "value, got an empty list"), cli_run=True),
    case("dist_more_impossible", """
        scenario: t
        as_of: 2026-01-01
        activities:
          a: {duration: {uniform: [3, 1]}}
          b: {duration: {pert: [1, 2]}}
          c: {duration: {lognormal: {median: 5, p90: 3}}}
          d: {duration: {lognormal: {median: 5}}}
          e: {duration: {normal: [1, 2]}}
          f: {duration: {triangle: [1, 2, 3]}}
        goal: {name: g, deadline: 2030-01-01, requires: a}
        """, (4, "activities.a.duration", "needs low <= high, got [3, 1]"),
        (5, "activities.b.duration.pert", "needs a list [low, mode, high], got [1, 2]"),
        (6, "activities.c.duration", "needs 0 < median < p90, got median 5, p90 3"),
        (7, "activities.d.duration.lognormal.p90", "is required"),
        (8, "activities.e.duration.normal", "unknown distribution 'normal'"),
        (9, "activities.f.duration.triangle", "did you mean 'triangular'?")),
    case("dist_negative_draws", """
        scenario: t
        as_of: 2026-01-01
        factors:
          pace: {uniform: [-0.5, 1]}
        vehicles:
          v: {stand_down: -1}
        risks:
          r: {probability: 0.5, delay: {empirical: [-1, 2]}, applies_to: [a]}
        activities:
          a:
            duration: {uniform: [-1, 1]}
            planned: 2026-06
            slip: {triangular: [-1, 0, 1]}
            on_failure: {attempts: 2, rebuild: -3}
          b:
            after: [{id: a, lag: -2}]
            vehicle: v
        goal: {name: g, deadline: 2030-01-01, requires: a}
        """, (4, "factors.pace", "a factor cannot be negative, but this can draw -0.5"),
        (6, "vehicles.v.stand_down", "a stand-down cannot be negative"),
        (8, "risks.r.delay", "a delay cannot be negative"),
        (11, "activities.a.duration", "a duration cannot be negative, but this can draw -1"),
        (13, "activities.a.slip", "a slip cannot be negative"),
        (14, "activities.a.on_failure.rebuild", "a rebuild cannot be negative"),
        (16, "activities.b.after[0].lag", "leads, i.e. negative lags, are not supported")),
    # ---- ids ----------------------------------------------------------------------------------
    case("unknown_id_after", """
        scenario: t
        as_of: 2026-01-01
        activities:
          ce7: {}
          lander:
            after: [ce6, {id: rover, lag: 1}]
        goal: {name: g, deadline: 2030-01-01, requires: lander}
        """, (6, "activities.lander.after[0]", "unknown activity 'ce6'; did you mean 'ce7'?"),
        (6, "activities.lander.after[1].id", "unknown activity 'rover'"), cli_run=True),
    case("unknown_id_applies_to_cancels", """
        scenario: t
        as_of: 2026-01-01
        risks:
          r1: {probability: 0.1, delay: 1, applies_to: [b]}
          r2:
            annual_probability: 0.1
            cancels: [a, zz]
        activities:
          a: {}
        goal: {name: g, deadline: 2030-01-01, requires: a}
        """, (4, "risks.r1.applies_to[0]", "unknown activity 'b'"),
        (7, "risks.r2.cancels[1]", "unknown activity 'zz'"), cli_run=True),
    case("unknown_id_requires", """
        scenario: t
        as_of: 2026-01-01
        activities:
          ce7: {}
        goal:
          name: g
          deadline: 2030-01-01
          requires: {all: [ce7, {any: [ce7, ce8]}]}
        """, (8, "goal.requires.all[1].any[1]", "unknown activity 'ce8'; did you mean 'ce7'?"),
        cli_run=True),
    case("unknown_id_vehicle", """
        scenario: t
        as_of: 2026-01-01
        vehicles:
          lm5: {}
        activities:
          a: {vehicle: lm6}
          b:
            vehicle: [lm5, falcon]
        goal: {name: g, deadline: 2030-01-01, requires: a}
        """, (6, "activities.a.vehicle", "unknown vehicle 'lm6'; did you mean 'lm5'?"),
        (8, "activities.b.vehicle[1]", "unknown vehicle 'falcon'"), cli_run=True),
    case("unknown_id_vehicle_none", """
        scenario: t
        as_of: 2026-01-01
        activities:
          a: {vehicle: lm5}
        goal: {name: g, deadline: 2030-01-01, requires: a}
        """, (4, "activities.a.vehicle", "unknown vehicle 'lm5' (the scenario has no vehicles)")),
    case("unknown_id_factor", """
        scenario: t
        as_of: 2026-01-01
        factors:
          pace: 1
        activities:
          a: {factors: [pase]}
        goal: {name: g, deadline: 2030-01-01, requires: a}
        """, (6, "activities.a.factors[0]", "unknown factor 'pase'; did you mean 'pace'?"),
        cli_run=True),
    case("unknown_id_source", """
        scenario: t
        as_of: 2026-01-01
        sources:
          cnsa-2025-04: CNSA, 2025-04-24
        activities:
          a: {source: cnsa-2025-4}
          b: {source: 7}
        goal: {name: g, deadline: 2030-01-01, requires: a}
        """, (6, "activities.a.source", "unknown source 'cnsa-2025-4'; did you mean "
                                        "'cnsa-2025-04'?"),
        (7, "activities.b.source", "must be a key of sources, got 7"), cli_run=True),
    case("unknown_id_vehicle_after", """
        scenario: t
        as_of: 2026-01-01
        vehicles:
          v: {after: [lm9_first_flight]}
        activities:
          a: {vehicle: v}
        goal: {name: g, deadline: 2030-01-01, requires: a}
        """, (4, "vehicles.v.after[0]", "unknown activity 'lm9_first_flight'")),
    case("bad_ids", """
        scenario: t
        as_of: 2026-01-01
        sources:
          CNSA 2025: x
        vehicles:
          Long-March: {}
        activities:
          CE7: {}
          7a: {}
          trial: {}
          a: {}
        goal: {name: g, deadline: 2030-01-01, requires: a}
        """, (4, "sources.CNSA 2025", "letters, digits, '_' and '-', starting with a letter"),
        (6, "vehicles.Long-March", "a vehicle id must be lowercase letters, digits and '_'"),
        (8, "activities.CE7", "got 'CE7'"), (9, "activities.7a", "got '7a'"),
        (10, "activities.trial", "'trial' is reserved")),
    # ---- graph --------------------------------------------------------------------------------
    case("cycle", """
        scenario: t
        as_of: 2026-01-01
        activities:
          a: {after: [c]}
          b: {after: [a]}
          c: {after: [b]}
        goal: {name: g, deadline: 2030-01-01, requires: c}
        """, (4, "activities.a.after[0]", "dependency cycle (each waits for the next): "
                                          "a -> c -> b -> a"), cli_run=True),
    case("cycle_self", """
        scenario: t
        as_of: 2026-01-01
        activities:
          a:
            after: a
        goal: {name: g, deadline: 2030-01-01, requires: a}
        """, (5, "activities.a.after", "dependency cycle (each waits for the next): a -> a")),
    case("cycle_through_vehicle", """
        scenario: t
        as_of: 2026-01-01
        vehicles:
          v:
            after: [b]
        activities:
          a: {vehicle: v}
          b: {after: [a]}
        goal: {name: g, deadline: 2030-01-01, requires: b}
        """, (5, "vehicles.v.after[0]", "dependency cycle (each waits for the next): "
                                        "a -> b -> a")),
    # ---- activity rules -----------------------------------------------------------------------
    case("done_after_as_of", """
        scenario: t
        as_of: 2026-01-01
        activities:
          a:
            done: 2026-06-01
          b: {done: 2026}
        goal: {name: g, deadline: 2030-01-01, requires: a}
        """, (5, "activities.a.done", "must be on or before as_of (2026-01-01), got 2026-06-01"),
        (6, "activities.b.done", "got 2026-07-01"), cli_run=True),
    case("status_after_as_of", """
        scenario: t
        as_of: 2026-01-01
        vehicles: {v: {}}
        activities:
          a:
            failed: 2026-03-01
          b: {vehicle: v, duration: 2, launched: 2026-02-01, partial: 2026-05-01}
        risks:
          r: {probability: 0.5, cancels: [a], occurred: 2027-01-01}
          q: {probability: 0.5, cancels: [a], expired: 2026-02-02}
        goal: {name: g, deadline: 2030-01-01, requires: a}
        """, (6, "activities.a.failed", "must be on or before as_of (2026-01-01), got 2026-03-01"),
        (7, "activities.b.launched", "must be on or before as_of (2026-01-01), got 2026-02-01"),
        (7, "activities.b.partial", "got 2026-05-01"),
        (9, "risks.r.occurred", "must be on or before as_of (2026-01-01), got 2027-01-01"),
        (10, "risks.q.expired", "got 2026-02-02"), cli_run=True),
    case("launched_without_vehicle_or_duration", """
        scenario: t
        as_of: 2026-01-01
        vehicles: {v: {}}
        activities:
          a:
            launched: 2025-12-01
          b: {vehicle: v, launched: 2025-12-01}
        goal: {name: g, deadline: 2030-01-01, requires: a}
        """, (6, "activities.a.launched", "needs a vehicle (it is a launch), got no vehicle"),
        (6, "activities.a.launched", "needs a duration (the flight it is on), got no duration"),
        (7, "activities.b.launched", "needs a duration"), cli_run=True),
    case("status_contradictions", """
        scenario: t
        as_of: 2026-01-01
        vehicles: {v: {}}
        activities:
          a: {done: 2025-01-01, partial: 2025-01-01}
          b: {vehicle: v, duration: 1, launched: 2025-06-01, failed: 2025-07-01}
        risks:
          r: {probability: 0.5, cancels: [a], occurred: 2025-01-01, expired: 2025-01-01}
        goal: {name: g, deadline: 2030-01-01, requires: a}
        """, (5, "activities.a.partial", "cannot go with done"),
        (6, "activities.b.failed", "must be before launched (2025-06-01)"),
        (8, "risks.r.expired", "cannot go with occurred")),
    case("slip_without_planned", """
        scenario: t
        as_of: 2026-01-01
        activities:
          a:
            slip: {uniform: [1, 2]}
        goal: {name: g, deadline: 2030-01-01, requires: a}
        """, (5, "activities.a.slip", "needs planned"), cli_run=True),
    case("on_failure_without_attempts", """
        scenario: t
        as_of: 2026-01-01
        activities:
          a:
            on_failure: {rebuild: 3}
        goal: {name: g, deadline: 2030-01-01, requires: a}
        """, (5, "activities.a.on_failure.attempts", "is required, got nothing"), cli_run=True),
    case("on_failure_without_rebuild", """
        scenario: t
        as_of: 2026-01-01
        activities:
          a:
            on_failure:
              attempts: 3
        goal: {name: g, deadline: 2030-01-01, requires: a}
        """, (5, "activities.a.on_failure.rebuild", "is required, got nothing"), cli_run=True),
    case("on_failure_one_attempt", """
        scenario: t
        as_of: 2026-01-01
        activities:
          a:
            on_failure: {attempts: 1, rebuild: 3}
          b: {on_failure: {attempts: 2.5, rebuild: 3}}
          c: {on_failure: {attempts: true, rebuild: 3}}
          d: {on_failure: 3}
        goal: {name: g, deadline: 2030-01-01, requires: a}
        """, (5, "activities.a.on_failure.attempts", "must be a whole number from 2 to 100 (it "
                                                     "counts the first attempt), got 1"),
        (6, "activities.b.on_failure.attempts", "got 2.5"),
        (7, "activities.c.on_failure.attempts", "got true"),
        (8, "activities.d.on_failure", "must be a mapping"), cli_run=True),
    case("window", """
        scenario: t
        as_of: 2026-01-01
        activities:
          a:
            window: {period: 0, anchor: 2026-01-15}
          b:
            window: {period: 1}
          c:
            window: {period: -1, anchor: soon}
        goal: {name: g, deadline: 2030-01-01, requires: a}
        """, (5, "activities.a.window.period", "must be greater than 0, got 0"),
        (7, "activities.b.window.anchor", "is required"),
        (9, "activities.c.window.period", "must be greater than 0, got -1"),
        (9, "activities.c.window.anchor", "got 'soon'")),
    case("min_interval_negative", """
        scenario: t
        as_of: 2026-01-01
        vehicles:
          v: {min_interval: -1}
        activities:
          a: {vehicle: v}
        goal: {name: g, deadline: 2030-01-01, requires: a}
        """, (4, "vehicles.v.min_interval", "must be at least 0, got -1")),
    # ---- risk rules ---------------------------------------------------------------------------
    case("delay_on_annual_risk", """
        scenario: t
        as_of: 2026-01-01
        risks:
          r:
            annual_probability: 0.1
            delay: 3
            applies_to: [a]
        activities:
          a: {}
        goal: {name: g, deadline: 2030-01-01, requires: a}
        """, (6, "risks.r.delay", "only allowed with probability, not with annual_probability"),
        cli_run=True),
    case("risk_rules", """
        scenario: t
        as_of: 2026-01-01
        risks:
          both: {probability: 0.1, annual_probability: 0.1, cancels: [a]}
          neither: {cancels: [a]}
          no_applies_to: {probability: 0.1, delay: 3}
          no_delay: {probability: 0.1, applies_to: [a]}
          no_effect: {probability: 0.1}
        activities:
          a: {}
        goal: {name: g, deadline: 2030-01-01, requires: a}
        """, (4, "risks.both", "needs exactly one of probability and annual_probability, got both"),
        (5, "risks.neither", "got neither"),
        (6, "risks.no_applies_to.delay", "needs applies_to"),
        (7, "risks.no_delay.applies_to", "needs delay"),
        (8, "risks.no_effect", "needs delay (with applies_to) or cancels, got neither")),
    # ---- requirements and dates ---------------------------------------------------------------
    case("requires_forms", """
        scenario: t
        as_of: 2026-01-01
        activities:
          a: {}
          b: {}
        goal:
          name: g
          deadline: 2030-01-01
          requires:
            all:
              - {at_least: 0, of: [a]}
              - {at_least: 3, of: [a, b]}
              - {any: []}
              - {alll: [a]}
              - {at_least: two, of: [a, b]}
        """, (11, "goal.requires.all[0].at_least", "must be between 1 and 1"),
        (12, "goal.requires.all[1].at_least", "must be between 1 and 2 (the number of "
                                              "requirements in 'of'), got 3"),
        (13, "goal.requires.all[2].any", "must be a non-empty list"),
        (14, "goal.requires.all[3]", "did you mean 'all'?"),
        (15, "goal.requires.all[4].at_least", "must be a whole number, got 'two'")),
    case("dates", """
        scenario: t
        as_of: 2026/01/01
        vehicles:
          v: {available: 2026-01-01T10:00:00}
        activities:
          a:
            planned: 2026-02-30
          b: {planned: 2026-1-5}
        goal: {name: g, deadline: soon, requires: a}
        """, (2, "as_of", "must be a date (YYYY-MM-DD, YYYY-MM or YYYY), got '2026/01/01'"),
        (4, "vehicles.v.available", "got '2026-01-01T10:00:00'"),
        (7, "activities.a.planned", "is not a valid calendar date, got '2026-02-30'"),
        (8, "activities.b.planned", "got '2026-1-5'"),
        (9, "goal.deadline", "got 'soon'")),
    # ---- several problems at once -------------------------------------------------------------
    case("many_problems", """
        scenario: t
        as_of: 2026-01-01
        activities:
          a: 3
          b:
            success: 2
            duration: {triangular: [3, 2, 1]}
            after: [zz]
          c: {sucess: 1}
        goal: {name: g, deadline: 2030-13-01, requires: a}
        """, (4, "activities.a", "must be a mapping"),
        (6, "activities.b.success", "between 0 and 1"),
        (7, "activities.b.duration", "low <= mode <= high"),
        (8, "activities.b.after[0]", "unknown activity 'zz'"),
        (9, "activities.c.sucess", "did you mean 'success'?"),
        (10, "goal.deadline", "not a valid calendar date"), cli_run=True),
    # ---- extends ------------------------------------------------------------------------------
    Case("extends_missing", {MAIN: dedent("""
        scenario: t
        extends: parent.yaml
        """)}, [(MAIN, 2, "extends", "file not found")], cli_run=True),
    Case("extends_cycle", {
        MAIN: dedent("""
            extends: middle.yaml
            scenario: t
            """),
        "middle.yaml": dedent("""
            # the middle one
            extends: s.yaml
            """),
    }, [("middle.yaml", 2, "extends", "cyclic extends: ")], cli_run=True),
    Case("extends_self", {MAIN: "extends: s.yaml\n"}, [(MAIN, 1, "extends", "cyclic extends")]),
    Case("extends_not_text", {MAIN: "extends: [a.yaml]\n"},
         [(MAIN, 1, "extends", "must be a file name")]),
    Case("extends_problems_in_parent", {
        MAIN: dedent("""
            extends: parent.yaml
            scenario: child
            activities:
              b:
                success: 7
            """),
        "parent.yaml": dedent("""
            scenario: parent
            as_of: 2026-01-01
            activities:
              a:
                duration: {uniform: [2, 1]}
            goal: {name: g, deadline: 2030-01-01, requires: a}
            """),
    }, [("parent.yaml", 5, "activities.a.duration", "needs low <= high"),
        (MAIN, 5, "activities.b.success", "must be between 0 and 1, got 7")]),
    Case("extends_parent_syntax", {
        MAIN: "extends: parent.yaml\n",
        "parent.yaml": "scenario: [t\n",
    }, [("parent.yaml", 1, "", "YAML syntax error")]),
]


def _problems(path: Path) -> list[Problem]:
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    return info.value.problems


def _matches(p: Problem, file: str, line: int, path: str, fragment: str) -> bool:
    return (os.path.basename(p.file) == file and p.line == line and p.path == path
            and fragment in p.message)


@pytest.mark.parametrize("c", CASES, ids=lambda c: c.id)
def test_library_reports_every_problem(c: Case, write: WriteFile) -> None:
    for name, text in c.files.items():
        main = write(name, text)
    problems = _problems(main.parent / MAIN)
    for file, line, path, fragment in c.expected:
        assert any(_matches(p, file, line, path, fragment) for p in problems), (
            f"no problem {file}:{line}: {path}: ...{fragment}... in:\n"
            + "\n".join(map(str, problems)))


def test_tags_are_never_executed(write: WriteFile, tmp_path: Path) -> None:
    target = tmp_path / "pwned"
    main = write(MAIN, f"""
        scenario: !!python/object/apply:os.system ["touch {target}"]
        description: !!python/object/apply:builtins.exec ["open('{target}', 'w')"]
        as_of: 2026-01-01
        """)
    problems = _problems(main)
    assert [p.path for p in problems if "YAML tag" in p.message] == ["scenario", "description"]
    assert not target.exists()


def test_ruamel_loaders_on_python_tags(tmp_path: Path) -> None:
    """Why sim.yamlio checks tags itself: ruamel's round-trip loader keeps a `!!python/...`
    tag silently as tagged data, and its safe loader stops at the first one. Neither runs it."""
    from ruamel.yaml import YAML
    from ruamel.yaml.constructor import ConstructorError

    target = tmp_path / "pwned"
    text = f'a: !!python/object/apply:os.system ["touch {target}"]\nb: !local 1\n'
    data = YAML(typ="rt").load(text)
    assert list(data) == ["a", "b"]  # loaded without complaint
    with pytest.raises(ConstructorError):
        YAML(typ="safe", pure=True).load(text)
    assert not target.exists()


def test_duplicate_key_does_not_hide_other_problems(write: WriteFile) -> None:
    main = write(MAIN, """
        scenario: t
        as_of: 2026-01-01
        activities:
          a: {success: 2}
          a: {duration: 1}
        goal: {name: g, deadline: 2030-01-01, requires: a}
        """)
    assert [(p.line, p.path) for p in _problems(main)] == [
        (4, "activities.a.success"), (5, "activities.a")]


def test_rejected_value_is_not_reported_twice(write: WriteFile) -> None:
    """A refused tag reads as null; 'scenario: is required' would only repeat the problem."""
    main = write(MAIN, """
        scenario: !!python/name:os.system
        as_of: 2026-01-01
        activities:
          a: {}
        goal: {name: g, deadline: 2030-01-01, requires: a}
        """)
    assert [p.path for p in _problems(main)] == ["scenario"]


def test_problems_are_in_file_order_and_formatted(write: WriteFile) -> None:
    main = write(MAIN, """
        scenario: t
        as_of: 2026-01-01
        activities:
          b: {success: 2}
          a: {after: [zz]}
        goal: {name: g, deadline: 2030-01-01, requires: a}
        """)
    with pytest.raises(ScenarioError) as info:
        load_scenario(main)
    lines = str(info.value).splitlines()
    assert lines == [
        f"{main}:4: activities.b.success: must be between 0 and 1, got 2",
        f"{main}:5: activities.a.after[0]: unknown activity 'zz'",
    ]


def test_far_unknown_key_has_no_suggestion(write: WriteFile) -> None:
    main = write(MAIN, """
        scenario: t
        as_of: 2026-01-01
        xyzzy: 1
        activities:
          a: {}
        goal: {name: g, deadline: 2030-01-01, requires: a}
        """)
    (problem,) = _problems(main)
    assert problem.message == "unknown key 'xyzzy'"


def test_missing_file_is_one_problem_without_line(tmp_path: Path) -> None:
    path = tmp_path / "nope.yaml"
    (problem,) = _problems(path)
    assert (problem.file, problem.line, problem.path) == (str(path), None, "")
    assert str(problem) == f"{path}: file not found"


def test_parse_scenario_names_the_text(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError) as info:
        parse_scenario("scenario: t\nas_of: 2026-99-01\n", path="inline.yaml")
    assert "inline.yaml:2: as_of: is not a valid calendar date, got '2026-99-01'" in str(info.value)


def test_recursive_alias_is_a_problem(write: WriteFile) -> None:
    main = write(MAIN, "scenario: &x [*x]\n")
    assert any("recursion" in p.message and p.path == "scenario[0]" for p in _problems(main))


def test_alias_bomb_is_refused(write: WriteFile) -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 8)]
    main = write(MAIN, "\n".join(lines) + "\n")
    (problem,) = _problems(main)
    assert "too large" in problem.message


# ---- through the `ilrs` command -----------------------------------------------------------------

CLI_TIMEOUT_S = 300


def _ilrs(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-m", "sim", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=CLI_TIMEOUT_S)


@pytest.fixture(scope="module")
def cli_results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """Every case through `ilrs validate` (one call for all files) and the `run` cases through
    `ilrs run --out`, run concurrently because each start imports numpy and pandas."""
    root = tmp_path_factory.mktemp("cli")
    for c in CASES:
        for name, text in c.files.items():
            (root / c.id).mkdir(exist_ok=True)
            (root / c.id / name).write_text(text, encoding="utf-8")
    before = {c.id: sorted(p.name for p in (root / c.id).iterdir()) for c in CASES}
    jobs = {"validate": ("validate", *[f"{c.id}/{MAIN}" for c in CASES])}
    for c in CASES:
        if c.cli_run:
            jobs[c.id] = ("run", MAIN, "--trials", "10", "--seed", "1", "--out", "out")
    with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2)) as pool:
        futures = {key: pool.submit(_ilrs, *args, cwd=root if key == "validate" else root / key)
                   for key, args in jobs.items()}
        done = {key: f.result() for key, f in futures.items()}
    after = {c.id: sorted(p.name for p in (root / c.id).iterdir()) for c in CASES}
    return {"runs": done, "before": before, "after": after}


def _expected_lines(c: Case, prefix: str) -> list[tuple[str, str]]:
    """(start of the line as printed, message fragment) for each expected problem."""
    out = []
    for file, line, path, fragment in c.expected:
        where = f"{prefix}{file}:{line}: " + (f"{path}: " if path else "")
        out.append((where, fragment))
    return out


def _assert_printed(stderr: str, c: Case, prefix: str) -> None:
    for where, fragment in _expected_lines(c, prefix):
        assert any(ln.startswith(where) and fragment in ln for ln in stderr.splitlines()), (
            f"expected a line {where}...{fragment}... in:\n{stderr}")


def test_cli_validate_prints_every_problem(cli_results: dict[str, object]) -> None:
    result = cli_results["runs"]["validate"]  # type: ignore[index]
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    for c in CASES:
        _assert_printed(result.stderr, c, prefix=f"{c.id}/")


@pytest.mark.parametrize("c", [c for c in CASES if c.cli_run], ids=lambda c: c.id)
def test_cli_run_refuses_bad_input_and_writes_nothing(c: Case,
                                                      cli_results: dict[str, object]) -> None:
    result = cli_results["runs"][c.id]  # type: ignore[index]
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    _assert_printed(result.stderr, c, prefix="")
    assert cli_results["after"][c.id] == cli_results["before"][c.id]  # type: ignore[index]


def test_cli_validate_ok_and_bad_together(write: WriteFile, tmp_path: Path) -> None:
    write("good.yaml", """
        scenario: t
        as_of: 2026-01-01
        activities:
          a: {duration: 1}
        goal: {name: g, deadline: 2030-01-01, requires: a}
        """)
    write("bad.yaml", "scenario: t\nas_of: 2026-01-01\nactivities: {a: {success: 3}}\n")
    result = _ilrs("validate", "good.yaml", "bad.yaml", cwd=tmp_path)
    assert result.returncode == 2
    assert "good.yaml: ok" in result.stdout
    assert "bad.yaml:3: activities.a.success: must be between 0 and 1, got 3" in result.stderr
    assert "bad.yaml:1: goal: is required" in result.stderr


def test_cli_missing_file_is_one_line(tmp_path: Path) -> None:
    for args in (("validate", "nope.yaml"), ("run", "nope.yaml", "--out", "out")):
        result = _ilrs(*args, cwd=tmp_path)
        assert result.returncode == 2
        assert result.stderr.strip() == "nope.yaml: file not found"
        assert list(tmp_path.iterdir()) == []


def test_cli_trials_below_one(write: WriteFile, tmp_path: Path) -> None:
    write("good.yaml", """
        scenario: t
        as_of: 2026-01-01
        activities:
          a: {duration: 1}
        goal: {name: g, deadline: 2030-01-01, requires: a}
        """)
    for trials in ("0", "-5"):
        result = _ilrs("run", "good.yaml", "--trials", trials, "--out", "out", cwd=tmp_path)
        assert result.returncode == 2
        assert "--trials" in result.stderr and trials in result.stderr
        assert "Traceback" not in result.stderr
        assert sorted(p.name for p in tmp_path.iterdir()) == ["good.yaml"]
