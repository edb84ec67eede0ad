"""Slip rules: the fitted parameters per agency group, with provenance, as a YAML file.

`ilrs calibrate` writes the file; scenarios name it with a top-level `slip_rules:` and use a
group with `slip: {reference_class: GROUP}`. Reading checks every value and reports problems as
``FILE:LINE: path: what is wrong, what was found``.
"""

from __future__ import annotations

import functools
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..checks import Checker, show
from ..output import write_file
from ..yamlio import Problem, dump_yaml, read_document, read_text
from .data import CalibrationError
from .slip import CalibratedSlip

# Fewer launched missions than this and a group's rule cannot be validated by leaving missions
# out. judgement: with 2-3 missions a held-out score says more about those missions than about
# the rule.
MIN_VALIDATED_MISSIONS = 4

HEADER = ("# Slip rules fitted by `ilrs calibrate` on a reference class of plan snapshots.\n"
          "# Generated: do not edit by hand; re-run the command. The model and its equations are\n"
          "# in docs/calibration.md. Months throughout; x = ln(lead in months / 12).\n")


@dataclass(frozen=True)
class GroupRule:
    a: float
    b: float
    var_ab: tuple[float, float, float]  # Var(a), Cov(a, b), Var(b)
    missions: int
    launched_missions: int
    snapshots: int
    lead_months: tuple[float, float]  # shortest and longest lead seen in the data
    hold_h0: float = -math.inf  # intercept of the hold probability; -inf: no hold component

    @property
    def validated(self) -> bool:
        return self.launched_missions >= MIN_VALIDATED_MISSIONS


@dataclass(frozen=True)
class SlipRules:
    groups: dict[str, GroupRule]
    tau: float
    sigma: float
    shift: float
    hold: bool
    hold_h1: float
    hold_sd: float
    provenance: dict[str, Any] = field(default_factory=dict)
    path: str = ""

    def slip(self, group: str, lead_months: float, floor_months: float = -math.inf,
             unit_months: float = 1.0) -> CalibratedSlip:
        """The slip for a plan with this lead, conditioned on exceeding `floor_months`."""
        g = self.groups[group]
        return CalibratedSlip(group, lead_months, g.a, g.b, g.var_ab, self.tau, self.sigma,
                              self.shift, g.hold_h0, self.hold_h1, self.hold_sd,
                              floor_months, unit_months)

    def to_data(self) -> dict[str, Any]:
        hold = None if not self.hold else {"h1": _r(self.hold_h1),
                                           "sd_months": _r(self.hold_sd)}
        shared: dict[str, Any] = {"tau": _r(self.tau), "sigma": _r(self.sigma),
                                  "shift_months": _r(self.shift)}
        if hold is not None:
            shared["hold"] = hold
        return {
            "provenance": self.provenance,
            "shared": shared,
            "groups": {name: {
                "a": _r(g.a), "b": _r(g.b),
                **({"hold_h0": _r(g.hold_h0)} if self.hold else {}),
                "var_a": _r(g.var_ab[0]), "cov_ab": _r(g.var_ab[1]),
                "var_b": _r(g.var_ab[2]), "missions": g.missions,
                "launched_missions": g.launched_missions, "snapshots": g.snapshots,
                "lead_months": [_r(g.lead_months[0], 1), _r(g.lead_months[1], 1)],
                "validated": g.validated,
            } for name, g in self.groups.items()},
        }

    def to_yaml(self) -> str:
        return HEADER + dump_yaml(self.to_data())


def _r(value: float, digits: int = 6) -> float:
    return round(float(value), digits)


def write_rules(rules: SlipRules, path: str | os.PathLike[str], force: bool = True) -> None:
    """Write `path` whole or not at all, making missing folders (refused if it exists,
    unless `force`)."""
    write_file(Path(path), rules.to_yaml().encode("utf-8"), force=force)


def read_rules(path: str | os.PathLike[str], where: tuple[str, int | None] | None = None,
               field_path: str = "") -> SlipRules:
    """The rules in the YAML file `path`; raises CalibrationError listing every problem.

    `where` (file, line) and `field_path` locate the reference to the file (a scenario's
    `slip_rules:`) when the file itself cannot be read.
    """
    file = os.fspath(path)
    problems: list[Problem] = []
    text = read_text(file, problems, where[1] if where else None, field_path,
                     where[0] if where else None)
    if text is None:
        raise CalibrationError(problems)
    return _parse_rules(text, file)


@functools.lru_cache(maxsize=8)
def _parse_rules(text: str, file: str) -> SlipRules:
    """The rules in `text` (read from `file`). Cached on the text itself, so an edited file is
    read again: every variant of an exploration names the same rules file, and parsing it
    was most of the time of building a variant."""
    problems: list[Problem] = []
    doc = read_document(text, file, problems)
    if doc is None:
        raise CalibrationError(problems)
    return _Reader(doc.where).rules(doc.data, file)


class _Reader(Checker):
    has_hold = False
    def rules(self, data: Any, file: str) -> SlipRules:
        top = self.fields(data, (), ("provenance", "shared", "groups"), ("shared", "groups"))
        if top is None:
            raise CalibrationError(self.problems)
        shared = self.fields(top.get("shared"), ("shared",),
                             ("tau", "sigma", "shift_months", "hold"),
                             ("tau", "sigma", "shift_months")) or {}
        tau = self.opt(shared, "tau", ("shared",), self.number, 0.0)
        sigma = self.opt(shared, "sigma", ("shared",), self.number, 0.0, True)
        shift = self.opt(shared, "shift_months", ("shared",), self.number, 0.0)
        hold: tuple[float | None, ...] = (0.0, 1.0)
        self.has_hold = "hold" in shared
        if self.has_hold:
            h = self.fields(shared["hold"], ("shared", "hold"), ("h1", "sd_months"),
                            ("h1", "sd_months")) or {}
            hold = (self.opt(h, "h1", ("shared", "hold"), self.number),
                    self.opt(h, "sd_months", ("shared", "hold"), self.number, 0.0, True))
        groups: dict[str, GroupRule] = {}
        raw = top.get("groups")
        if not isinstance(raw, dict) or not raw:
            self.problem(("groups",), f"must be a mapping of group name to rule, got {show(raw)}")
        else:
            for name, value in raw.items():
                rule = self.group(value, ("groups", name))
                if rule is not None:
                    groups[name] = rule
        provenance = top.get("provenance", {})
        if self.problems or tau is None or sigma is None or shift is None or None in hold:
            raise CalibrationError(self.problems)
        return SlipRules(groups, tau, sigma, shift, self.has_hold, float(hold[0] or 0),
                         float(hold[1] or 1),
                         provenance=provenance if isinstance(provenance, dict) else {},
                         path=file)

    def group(self, value: Any, path: tuple[str, ...]) -> GroupRule | None:
        keys = ("a", "b", "hold_h0", "var_a", "cov_ab", "var_b", "missions",
                "launched_missions", "snapshots", "lead_months", "validated")
        required = tuple(k for k in keys[:10] if k != "hold_h0" or self.has_hold)
        f = self.fields(value, path, keys, required)
        if f is None:
            return None
        before = len(self.problems)
        nums = {k: self.opt(f, k, path, self.number) for k in ("a", "b", "cov_ab")}
        h0 = self.opt(f, "hold_h0", path, self.number) if self.has_hold else -math.inf
        nums |= {k: self.opt(f, k, path, self.number, 0.0) for k in (
            "var_a", "var_b", "missions", "launched_missions", "snapshots")}
        leads = f.get("lead_months")
        if not (isinstance(leads, list) and len(leads) == 2 and all(
                isinstance(v, int | float) and not isinstance(v, bool) for v in leads)
                and 0 < leads[0] <= leads[1]):
            self.problem(path + ("lead_months",), "must be [shortest, longest] lead in months, "
                         f"0 < shortest <= longest, got {show(leads)}")
        if (len(self.problems) > before or any(v is None for v in nums.values()) or h0 is None
                or not isinstance(leads, list)):
            return None
        return GroupRule(float(nums["a"] or 0), float(nums["b"] or 0),
                         (float(nums["var_a"] or 0), float(nums["cov_ab"] or 0),
                          float(nums["var_b"] or 0)),
                         int(nums["missions"] or 0), int(nums["launched_missions"] or 0),
                         int(nums["snapshots"] or 0), (float(leads[0]), float(leads[1])), h0)
