"""Scenario YAML -> the frozen :class:`sim.model.Scenario`, checking every field and saying where.

Reading and writing YAML (safe loading, tags, duplicate keys, `extends`) is in
:mod:`sim.yamlio`; this module checks each value of the resolved data and builds the model.
Checks never stop at the first problem: each element is checked on its own, every problem is
collected with its file, line and field path, and one :class:`ScenarioError` lists them all.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import os
import re
from collections import defaultdict
from datetime import date
from typing import Any

from .calibration.data import CalibrationError
from .calibration.periods import parse_stated
from .calibration.rules import SlipRules, read_rules
from .calibration.usage import reference_class_slip
from .checks import Checker, T, show, suggest
from .distributions import ZERO, AnyDistribution
from .limits import MAX_ELEMENTS, MAX_SLIP_SCALE
from .model import (
    Activity,
    Dependency,
    Factor,
    Goal,
    OnFailure,
    Risk,
    Scenario,
    Vehicle,
    Window,
    find_cycle,
)
from .schema import keys, required
from .validation import ModelError
from .yamlio import (
    Path,
    Problem,
    ScenarioError,
    dump_yaml,
    read_document,
    read_text,
    resolve_extends,
    scenario_to_data,
)

__all__ = ["Problem", "ScenarioError", "is_atomic_path", "load_scenario", "parse_scenario",
           "resolved_yaml"]

# The keys of each element, and the check of each key, come from the one table in sim.schema
# (which also generates the JSON Schema).
TOP_KEYS = keys("top")
_PLAIN_DATE = re.compile(r"\d{4}(-\d{2}(-\d{2})?)?\Z")
SECTIONS = {"factors": "factor", "vehicles": "vehicle", "risks": "risk", "activities": "activity"}

# Values that `extends` replaces whole instead of merging key by key: a child that writes
# `duration: {uniform: [1, 2]}` over a parent's triangular means a uniform, not a mapping with
# two kinds (an error); likewise a new `requires`.
ATOMIC_PATHS = ("activities.*.duration", "activities.*.slip", "activities.*.on_failure.rebuild",
                "vehicles.*.stand_down", "risks.*.delay", "factors.*", "goal.requires")


def is_atomic_path(path: Path) -> bool:
    """Whether a child's value at `path` replaces its parent's whole (see ATOMIC_PATHS)."""
    dotted = ".".join(str(p) for p in path)
    return any(fnmatch.fnmatchcase(dotted, pattern) and len(path) == pattern.count(".") + 1
               for pattern in ATOMIC_PATHS)


def load_scenario(path: str | os.PathLike[str]) -> Scenario:
    """The scenario in the YAML file `path`, with `extends` resolved relative to that file.

    Raises :class:`ScenarioError` listing every problem found.
    """
    file = os.fspath(path)
    problems: list[Problem] = []
    text = read_text(file, problems)
    if text is None:
        raise ScenarioError(problems)
    return _load(text, file, problems)


def parse_scenario(text: str, path: str = "<string>") -> Scenario:
    """The scenario in `text`; `path` names it in messages and anchors a relative `extends`
    (so with the default, `extends` is relative to the current directory)."""
    return _load(text, path, [])


def resolved_yaml(scenario: Scenario) -> str:
    """YAML of the scenario after `extends`, which load_scenario reads back as an equal one.

    A scenario made in Python (e.g. by ``replace_activity``) has no `resolved` mapping; its
    YAML is then written from the model itself.
    """
    data = scenario.resolved if scenario.resolved is not None else scenario_to_data(scenario)
    return dump_yaml(data)


def _load(text: str, file: str, problems: list[Problem]) -> Scenario:
    doc = read_document(text, file, problems)
    if doc is not None:
        doc = resolve_extends(doc, problems, is_atomic_path)
    if doc is None:  # not YAML, or a parent missing: checking the fields would only add noise
        raise ScenarioError(problems)
    builder = _Builder(doc.data, doc.where, doc.file)
    scenario = builder.build()
    problems = problems + _without_echoes(doc.rejected, builder.problems)
    if problems or scenario is None:
        raise ScenarioError(_in_file_order(problems))
    return scenario


def _without_echoes(rejected: frozenset[tuple[str, str]],
                    checking: list[Problem]) -> list[Problem]:
    """Drop checks of values the reader already refused (a refused tag reads as null)."""

    def echoes(p: Problem) -> bool:
        return any(p.file == f and (p.path == r or p.path.startswith((r + ".", r + "[")))
                   for f, r in rejected)

    return [p for p in checking if not echoes(p)]


def _in_file_order(problems: list[Problem]) -> list[Problem]:
    files = list(dict.fromkeys(p.file for p in problems))
    unique = list(dict.fromkeys(problems))
    return sorted(unique, key=lambda p: (files.index(p.file), p.line or 0))


class _Builder(Checker):
    """Checks the resolved data element by element; builds the model if nothing is wrong."""

    def __init__(self, data: Any, where: Any, file: str) -> None:
        super().__init__(where)
        self.data = data
        self.file = file
        self.as_of: date | None = None
        self.unit = "months"
        self.rules: SlipRules | None = None
        self.rules_failed = False  # the rules file has problems, already reported
        self.raw: dict[str, dict[str, Any]] = {}  # kind -> id -> raw value, for references

    def build(self) -> Scenario | None:
        top = self.fields(self.data, (), TOP_KEYS, required("top"))
        if top is None:
            return None
        self.as_of = self.opt(top, "as_of", (), self.date)
        head: dict[str, Any] = {
            "title": self.opt(top, "scenario", (), self.text),
            "description": self.opt(top, "description", (), self.text),
            "time_unit": self.opt(top, "time_unit", (), self.time_unit),
            "slip_rules": self.opt(top, "slip_rules", (), self.slip_rules),
            "sources": self.sources(top.get("sources", {})),
        }
        self.opt(top, "news", (), self.news)
        self.unit = head["time_unit"] or "months"
        parts = {key: self.section(top, key) for key in SECTIONS}
        goal = self.opt(top, "goal", (), self.goal)
        self.check_refs()
        self.check_cycles()
        if self.problems or self.as_of is None or goal is None:
            return None
        built: dict[str, Any] = {key: tuple(parts[key].values()) for key in SECTIONS}
        try:
            return Scenario(
                as_of=self.as_of, goal=goal, **{k: v for k, v in head.items() if v is not None},
                **built, path=self.file, resolved=self.data,
            )
        except ModelError as err:  # the model's own checks, now located
            self.locate(err)
            return None

    def section(self, top: dict[str, Any], key: str) -> dict[str, Any]:
        """id -> built element for one id-keyed section (elements with problems left out)."""
        kind = SECTIONS[key]
        raw = top.get(key, {})
        self.raw[kind] = raw if isinstance(raw, dict) else {}
        if not isinstance(raw, dict):
            self.problem((key,), f"must be a mapping of id to {kind}, got {show(raw)}")
        elif key == "activities" and key in top and not raw:
            self.problem((key,), "needs at least one activity, got none")
        elif len(raw) > MAX_ELEMENTS:  # refused before building thousands of elements
            self.problem((key,), f"at most {MAX_ELEMENTS:,} allowed, got {len(raw):,}")
            return {}
        build = getattr(self, kind)
        built = {}
        for ident, value in self.raw[kind].items():
            if self.check_id(ident, (key, ident), kind):
                element = build(ident, value, (key, ident))
                if element is not None:
                    built[ident] = element
        return built

    def sources(self, value: Any) -> dict[str, str] | None:
        if not isinstance(value, dict):
            self.problem(("sources",), f"must be a mapping of key to citation, got {show(value)}")
            return None
        self.raw["source"] = value
        for key, text in value.items():
            self.check_id(key, ("sources", key), "source")
            self.text(text, ("sources", key))
        return {k: str(v) for k, v in value.items()}

    def news(self, value: Any, path: Path) -> None:
        """The events (already applied by the reader): well formed, dated by as_of."""
        if not isinstance(value, list):
            self.problem(path, f"must be a list of events, got {show(value)}")
            return
        for i, item in enumerate(value):
            where = path + (i,)
            f = self.fields(item, where, keys("event"), required("event"))
            if f is None:
                continue
            kw = self.read(f, where, "event")
            happened, reported = kw["date"], kw["reported"]
            self.not_after_as_of(happened, where + ("date",))
            self.not_after_as_of(reported, where + ("reported",))
            if isinstance(happened, date) and isinstance(reported, date) and reported < happened:
                self.problem(where + ("reported",), f"must be on or after date ({happened}), "
                                                    f"got {reported}")

    def factor(self, ident: str, value: Any, path: Path) -> Factor | None:
        dist = self.distribution(value, path, "factor")
        return None if dist is None else Factor(ident, dist)

    def vehicle(self, ident: str, value: Any, path: Path) -> Vehicle | None:
        f = self.fields(value, path, keys("vehicle"))
        if f is None:
            return None
        before = len(self.problems)
        kw = self.read(f, path, "vehicle")
        return self.make(Vehicle, before, id=ident, **_default_name(kw, ident))

    def risk(self, ident: str, value: Any, path: Path) -> Risk | None:
        f = self.fields(value, path, keys("risk"))
        if f is None:
            return None
        before = len(self.problems)
        f = {k: v for k, v in f.items() if v != []}  # an empty list affects nothing
        if ("probability" in f) == ("annual_probability" in f):
            self.problem(path, "needs exactly one of probability and annual_probability, got "
                         + ("both" if "probability" in f else "neither"))
        if "delay" in f and "annual_probability" in f:
            self.problem(path + ("delay",), "is only allowed with probability, not with "
                         "annual_probability (a risk at a random time can only cancel)")
        elif "delay" in f and "applies_to" not in f:
            self.problem(path + ("delay",), "needs applies_to (the activities it postpones)")
        if "applies_to" in f and "delay" not in f:
            self.problem(path + ("applies_to",), "needs delay (how long the activities wait)")
        if "delay" not in f and "cancels" not in f:
            self.problem(path, "needs delay (with applies_to) or cancels, got neither")
        kw = self.read(f, path, "risk")
        for key in ("occurred", "expired"):
            self.not_after_as_of(kw[key], path + (key,))
        if kw["occurred"] is not None and kw["expired"] is not None:
            self.problem(path + ("expired",), "cannot go with occurred (a risk that happened "
                                              "cannot also have expired), got both")
        return self.make(Risk, before, id=ident, **_default_name(kw, ident))

    def activity(self, ident: str, value: Any, path: Path) -> Activity | None:
        f = self.fields(value, path, keys("activity"))
        if f is None:
            return None
        before = len(self.problems)
        if "slip" in f and "planned" not in f:
            self.problem(path + ("slip",), "needs planned (a slip is added to the planned date)")
        # The slip is read after planned and announced: a calibrated slip needs both.
        kw = self.read({k: v for k, v in f.items() if k != "slip"}, path, "activity")
        kw["slip"] = self.opt(f, "slip", path, self.slip, kw["planned"], kw["announced"])
        announced = kw["announced"]
        if isinstance(announced, date) and self.as_of is not None and announced > self.as_of:
            self.problem(path + ("announced",), f"must be on or before as_of ({self.as_of}), "
                                                f"got {announced}")
        for key in ("done", "failed", "launched", "partial"):
            self.not_after_as_of(kw[key], path + (key,))
        if kw["done"] is not None and kw["partial"] is not None:
            self.problem(path + ("partial",), "cannot go with done (a partial outcome is how "
                                              "it finished), got both")
        if kw["launched"] is not None:
            for key, what in (("vehicle", "a vehicle (it is a launch)"),
                              ("duration", "a duration (the flight it is on)")):
                if key not in f:
                    self.problem(path + ("launched",), f"needs {what}, got no {key}")
        failed, launched = kw["failed"], kw["launched"]
        if isinstance(failed, date) and isinstance(launched, date) and failed > launched:
            self.problem(path + ("failed",), f"must be before launched ({launched}) (the "
                                             f"flight under way is a later attempt), got {failed}")
        return self.make(Activity, before, id=ident, **_default_name(kw, ident))

    def not_after_as_of(self, value: Any, path: Path) -> None:
        """A recorded event (done, failed, occurred, ...) cannot be after the status date."""
        if isinstance(value, date) and self.as_of is not None and value > self.as_of:
            self.problem(path, f"must be on or before as_of ({self.as_of}), got {value}")

    def slip_rules(self, value: Any, path: Path) -> str | None:
        """The rules file named by `slip_rules:`, relative to the file that names it."""
        if not isinstance(value, str) or not value.strip():
            self.problem(path, f"must be the path of a slip-rules file, got {show(value)}")
            return None
        file, line = self.where(path)
        target = os.path.join(os.path.dirname(file), value)
        try:
            self.rules = read_rules(target, (file, line), "slip_rules")
        except CalibrationError as err:
            self.problems.extend(err.problems)
            self.rules_failed = True
        if file != self.file and not os.path.isabs(value):
            # Named by a parent in another folder: say it relative to this file, so that the
            # resolved mapping, parsed again as this file (explore, the what-if page), finds it.
            value = os.path.relpath(target, os.path.dirname(self.file) or os.curdir)
            self.data["slip_rules"] = value
        return str(value)

    def planned(self, value: Any, path: Path) -> date | None:
        """A date, or a period read as its reference date (`2026-H2`, `2027-Q3`, `2033..2035`),
        as the reference class reads it, so calibrated slips start from the same dates."""
        if isinstance(value, str) and not _PLAIN_DATE.match(value.strip()):
            try:
                stated = parse_stated(value)
            except ValueError:
                stated = None  # not a period either: the date check says what is expected
            if stated is not None and not (stated.approximate or stated.upper_bound):
                return stated.reference
        return self.date(value, path)

    def slip(self, value: Any, path: Path, planned: date | None,
             announced: date | None) -> AnyDistribution | None:
        """A distribution, or `{reference_class: GROUP}`: the calibrated slip for the lead."""
        if not (isinstance(value, dict) and "reference_class" in value):
            return self.distribution(value, path, "slip")
        if not set(value) <= {"reference_class", "scale"}:
            self.problem(path, "must be {reference_class: GROUP} with an optional scale: "
                               "multiplier, got " + show(value))
            return None
        scale = value.get("scale", 1.0)
        if isinstance(scale, bool) or not isinstance(scale, int | float) \
                or not 0 < scale <= MAX_SLIP_SCALE:
            self.problem(path + ("scale",), f"must be a number above 0 and at most "
                                            f"{MAX_SLIP_SCALE:g}, got {show(scale)}")
            return None
        group = value["reference_class"]
        where = path + ("reference_class",)
        if self.rules is None:
            if not self.rules_failed:
                self.problem(where, "needs a top-level slip_rules: file (written by "
                                    "ilrs calibrate) to name the reference class's rules")
            return None
        if not isinstance(group, str) or group not in self.rules.groups:
            hint = suggest(group, self.rules.groups) if isinstance(group, str) else ""
            self.problem(where, f"unknown reference class {show(group)} (the rules have "
                                f"{', '.join(self.rules.groups)}){hint}")
            return None
        if planned is None or self.as_of is None:
            return None  # reported elsewhere (needs planned; as_of is required)
        try:
            slip = reference_class_slip(self.rules, group, planned, self.as_of, announced,
                                        self.unit)
        except ValueError as exc:
            self.problem(path, str(exc))
            return None
        # Every draw is multiplied by `scale` (after the rule's conditioning on the time already
        # elapsed), through the months per time unit the draws are divided by.
        return slip if scale == 1 else dataclasses.replace(
            slip, unit_months=slip.unit_months / scale)

    def after(self, value: Any, path: Path) -> tuple[Dependency, ...] | None:
        """Predecessors: an id, or a list of ids and {id: x, lag: distribution} mappings."""
        items = self.items(value, path, "a list of activity ids")
        if items is None:
            return None
        deps = []
        for item, where in items:
            if isinstance(item, dict):
                f = self.fields(item, where, keys("dependency"), required("dependency")) or {}
                lag = self.opt(f, "lag", where, self.distribution, "lag")
                ident = f.get("id")
                if isinstance(ident, str):
                    self.ref("activity", ident, where + ("id",))
                    deps.append(Dependency(ident, lag or ZERO))
                elif ident is not None:
                    self.problem(where + ("id",), f"must be an activity id, got {show(ident)}")
            elif isinstance(item, str):
                self.ref("activity", item, where)
                deps.append(Dependency(item))
            else:
                self.problem(where, f"must be an activity id or {{id: ..., lag: ...}}, "
                                    f"got {show(item)}")
        return tuple(deps)

    def window(self, value: Any, path: Path) -> Window | None:
        f = self.fields(value, path, keys("window"), required("window"))
        if f is None:
            return None
        kw = self.read(f, path, "window")
        return None if None in kw.values() else Window(**kw)

    def on_failure(self, value: Any, path: Path) -> OnFailure | None:
        f = self.fields(value, path, keys("on_failure"), required("on_failure"))
        if f is None:
            return None
        kw = self.read(f, path, "on_failure")
        return None if None in kw.values() else OnFailure(**kw)

    def goal(self, value: Any, path: Path) -> Goal | None:
        f = self.fields(value, path, keys("goal"), required("goal"))
        if f is None:
            return None
        kw = self.read(f, path, "goal")
        return None if None in kw.values() else Goal(**kw)

    def check_refs(self) -> None:
        """Every id used names an element of the right kind (did-you-mean when close)."""
        plural = {"activity": "activities", "vehicle": "vehicles", "factor": "factors",
                  "source": "sources"}
        for kind, ident, path in self.refs:
            known = self.raw.get(kind, {})
            if ident in known:
                continue
            if known:
                self.problem(path, f"unknown {kind} '{ident}'{suggest(ident, known)}")
            else:
                self.problem(path, f"unknown {kind} '{ident}' (the scenario has no {plural[kind]})")

    def check_cycles(self) -> None:
        """Dependency cycles through `after` and vehicles' `after`.

        Checked on a skeleton of the graph built from the references, so a problem elsewhere in
        an activity does not hide a cycle; the rule itself is model.dependency_graph's.
        """
        waits: dict[tuple[str, str], defaultdict[str, list[str]]] = {}
        stated: dict[tuple[str, str, str], Path] = {}  # (section, element, pred) -> where
        for _kind, ident, path in self.refs:
            if len(path) > 2 and path[0] in ("activities", "vehicles") and path[2] in (
                "after", "vehicle"
            ):
                key = (str(path[0]), str(path[2]))
                waits.setdefault(key, defaultdict(list))[str(path[1])].append(ident)
                stated.setdefault((str(path[0]), str(path[1]), ident), path)
        after = waits.get(("activities", "after"), defaultdict(list))
        uses = waits.get(("activities", "vehicle"), defaultdict(list))
        v_after = waits.get(("vehicles", "after"), defaultdict(list))
        # The graph of model.dependency_graph, from the references alone.
        graph = {a: after[a] + [p for v in uses[a] for p in v_after[v]]
                 for a in self.raw["activity"]}
        cycle = find_cycle(graph)
        if cycle:
            first, second = cycle[0], cycle[1]
            where = stated.get(("activities", first, second)) or next(
                (stated[("vehicles", v, second)] for v in uses[first]
                 if ("vehicles", v, second) in stated), ("activities", first))
            self.problem(where, "dependency cycle (each waits for the next): " + " -> ".join(cycle))

    def make(self, cls: type[T], before: int, **kw: Any) -> T | None:
        """`cls(**kw)` without the unset fields (model defaults), unless problems arose."""
        if len(self.problems) > before:
            return None
        try:
            return cls(**{k: v for k, v in kw.items() if v is not None})
        except ModelError as err:
            self.locate(err)
            return None

    def locate(self, err: ModelError) -> None:
        """Report the model's problems at the file and line of each path."""
        for path, message in err.found:
            self.problem(path, message)


def _default_name(kw: dict[str, Any], ident: str) -> dict[str, Any]:
    return {**kw, "name": kw["name"] if kw["name"] is not None else ident}


def scenario_from_data(data: Any, file: str = "<variant>") -> Scenario:
    """The scenario in already-resolved plain data (as in ``Scenario.resolved``), checked by the
    same rules as a file. Problems name field paths but no line (there is no file)."""
    builder = _Builder(data, lambda path: (file, None), file)
    scenario = builder.build()
    if builder.problems or scenario is None:
        raise ScenarioError(_in_file_order(builder.problems))
    return scenario
