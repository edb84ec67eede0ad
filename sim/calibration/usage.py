"""Calibrated slips in scenarios: the slip of one activity from a rule, and the warnings
`ilrs validate` gives about how rules are used.

The lead is measured from when the plan was stated: `announced` if given, else `as_of` (the
plan is taken as stated, or restated, on the status date). The slip is conditioned on the
activity not having started by `as_of`: slip > as_of - planned. So a plan already overdue at
`as_of` draws the remaining slip given the time already elapsed, and moving `as_of` updates
every calibrated slip with no hand work.
"""

from __future__ import annotations

import dataclasses
import os
from datetime import date

from ..model import DAYS_PER_UNIT, Scenario
from ..yamlio import Problem, read_document, read_text, resolve_extends
from .periods import months_between
from .rules import SlipRules, read_rules
from .slip import CalibratedSlip

DAYS_PER_MONTH = 365.25 / 12


def reference_class_slip(rules: SlipRules, group: str, planned: date, as_of: date,
                         announced: date | None = None,
                         time_unit: str = "months") -> CalibratedSlip:
    """The calibrated slip of a plan for `planned`, seen from `as_of`.

    Raises ``ValueError`` (with a message fit for a user) when the group is unknown or the lead
    is not positive.
    """
    if group not in rules.groups:
        raise ValueError(f"unknown reference class '{group}' (the rules have "
                         f"{', '.join(rules.groups)})")
    stated = announced or as_of
    lead = months_between(stated, planned)
    if lead <= 0:
        what = f"announced ({announced})" if announced else f"as_of ({as_of}); give announced"
        raise ValueError(f"needs planned after the date the plan was stated, {what}; "
                         f"got planned {planned}")
    floor = months_between(planned, as_of)
    return rules.slip(group, lead, floor, DAYS_PER_UNIT[time_unit] / DAYS_PER_MONTH)


def move_as_of(scenario: Scenario, as_of: date) -> Scenario:
    """The scenario seen from a new status date, as if its file said `as_of: <as_of>`: every
    calibrated slip gets its lead (when `announced` is not given) and its conditioning on "not
    started by as_of" recomputed. (`dataclasses.replace(scenario, as_of=...)` alone would keep
    the slips conditioned on the old date.) Raises ``ValueError`` like the loader would.
    """
    activities = []
    for act in scenario.activities:
        slip = act.slip
        if isinstance(slip, CalibratedSlip) and act.planned is not None:
            lead = months_between(act.announced or as_of, act.planned)
            if lead <= 0:
                raise ValueError(f"activities.{act.id}: planned {act.planned} is not after "
                                 f"as_of {as_of}; give it announced (when the plan was stated)")
            slip = dataclasses.replace(slip, lead_months=lead,
                                       floor_months=months_between(act.planned, as_of))
            act = dataclasses.replace(act, slip=slip)
        activities.append(act)
    return dataclasses.replace(scenario, as_of=as_of, activities=tuple(activities),
                               resolved=None)


def slip_warnings(scenario: Scenario, rules: SlipRules | None) -> list[tuple[str, str]]:
    """(field path, message) for each questionable use of a calibrated slip."""
    out: list[tuple[str, str]] = []
    risky = {aid for r in scenario.risks if r.delay is not None for aid in r.applies_to}
    for act in scenario.activities:
        slip = act.slip
        if not isinstance(slip, CalibratedSlip) or act.finished_on is not None:
            continue
        path = f"activities.{act.id}.slip"
        rule = rules.groups.get(slip.group) if rules else None
        if rule is not None:
            lo, hi = rule.lead_months
            if not lo <= slip.lead_months <= hi:
                out.append((path, f"lead {slip.lead_months:.1f} months is outside the leads "
                            f"seen in the '{slip.group}' data ({lo:.1f} to {hi:.1f}): the rule "
                            "is extrapolated"))
            if not rule.validated:
                out.append((path, f"the '{slip.group}' rule cannot be validated (only "
                            f"{rule.launched_missions} launched missions in its data)"))
        if act.factors:
            out.append((path, "double counting: a calibrated slip already contains "
                        "mission-to-mission spread, and factors "
                        f"{', '.join(act.factors)} multiply it again"))
        if act.id in risky:
            out.append((path, "double counting: a calibrated slip already contains long "
                        "delays (e.g. launcher groundings); a risk delay is added on top"))
        if slip.p_not_before_floor < 0.01:
            out.append((path, f"planned is {slip.floor_months:.1f} months before as_of, "
                        f"beyond {1 - slip.p_not_before_floor:.1%} of the rule's slips"))
    return out


def overdue_warnings(scenario: Scenario) -> list[tuple[str, str]]:
    """(field path, message) for each plan already past at as_of whose slip is not conditioned
    on the time elapsed: the engine would make it ready at once (plus a slip drawn as if the
    plan were new)."""
    out = []
    for act in scenario.activities:
        if (act.planned is None or act.planned >= scenario.as_of or act.finished_on
                or act.under_way or isinstance(act.slip, CalibratedSlip)):
            continue
        out.append((f"activities.{act.id}.planned",
                    f"planned {act.planned} is before as_of {scenario.as_of} and the slip is "
                    "not overdue-aware, so the plan counts as due at once; give it "
                    "slip: {reference_class: GROUP}, record what happened (done, failed, "
                    "launched) or state the new plan"))
    return out


def scenario_warnings(scenario: Scenario) -> list[Problem]:
    """`slip_warnings` and `overdue_warnings` located in the scenario's file (after
    `extends`), for `ilrs validate`."""
    from ..scenario import is_atomic_path  # the loader imports this module: import on use

    found = overdue_warnings(scenario)
    if scenario.path is None or (scenario.slip_rules is None and not found):
        return []
    problems: list[Problem] = []
    text = read_text(scenario.path, problems)
    doc = None if text is None else read_document(text, scenario.path, problems)
    doc = None if doc is None else resolve_extends(doc, problems, is_atomic_path)
    if doc is None:
        return []
    if scenario.slip_rules is not None:
        rules = read_rules(os.path.join(os.path.dirname(scenario.path), scenario.slip_rules))
        found = slip_warnings(scenario, rules) + found
    out = []
    for path, message in found:
        parts = tuple(path.split("."))
        where, line = doc.where(parts)
        out.append(Problem(where, line, path, "warning: " + message))
    return out


def looks_like_rules(path: str) -> bool:
    """Whether a YAML file is a slip-rules file (so `ilrs validate` checks it as one)."""
    try:
        with open(path, encoding="utf-8") as fh:
            head = fh.read(4096)
    except (OSError, UnicodeDecodeError):
        return False
    return "\ngroups:" in head or "\nshared:" in head
