"""The model's own checks: every way of building a scenario (YAML, Python constructors,
``dataclasses.replace``, ``replace_activity``) runs them, so an invalid scenario cannot exist.

Each check returns (field path, message) pairs; :mod:`sim.model` raises them as a
:class:`~sim.problems.ScenarioError` from ``__post_init__``, and the YAML loader, which runs
its own checks of types and spelling first, adds the file and line of each path. Messages
read like the loader's: ``activities.ce7.success: must be between 0 and 1, got 1.2``.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import date
from typing import TYPE_CHECKING, Any

from .limits import (
    FIRST_DATE,
    LAST_INPUT_DATE,
    MAX_ATTEMPTS,
    MAX_ELEMENTS,
    MAX_MAGNITUDE,
    MIN_WINDOW_DAYS,
)
from .problems import Path, Problem, ScenarioError, format_path, show

if TYPE_CHECKING:
    from .model import Activity, Risk, Scenario, Vehicle

Found = list[tuple[Path, str]]
ID_RE = re.compile(r"[a-z][a-z0-9_]*\Z")
RESERVED_IDS = frozenset({"trial", "goal"})
DAYS_PER_UNIT = {"days": 1.0, "months": 365.25 / 12, "years": 365.25}


class ModelError(ScenarioError):
    """Problems found by the model's own checks; `.found` keeps each field path as a tuple,
    so the YAML loader can put the file and line of each path in front."""

    def __init__(self, found: Found, file: str | None = None) -> None:
        super().__init__([Problem(file or "<scenario>", None, format_path(p), m)
                          for p, m in found])
        self.found = found

    def __reduce__(self) -> tuple[type[ModelError], tuple[Found, str]]:  # type: ignore[override]
        return (ModelError, (self.found, self.problems[0].file if self.problems else ""))


def raise_if(found: Found, file: str | None = None) -> None:
    """Raise the problems found, if any, as a ModelError (a ScenarioError without lines)."""
    if found:
        raise ModelError(found, file)


def number(value: Any, path: Path, low: float = 0.0, high: float = MAX_MAGNITUDE,
           strict: bool = False) -> Found:
    """A finite number between `low` (excluded if `strict`) and `high`, never a bool."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return [(path, f"must be a number, got {show(value)}")]
    try:
        x = float(value)
    except OverflowError:
        return [(path, f"must be at most {high:g}, got a number with {len(str(value))} digits")]
    if not math.isfinite(x):
        return [(path, f"must be a number, got {show(value)}")]
    if (x <= low) if strict else (x < low):
        return [(path, f"must be {'greater than' if strict else 'at least'} {low:g}, "
                       f"got {show(value)}")]
    if x > high:
        limit = " (the limit on any number)" if high == MAX_MAGNITUDE else ""
        return [(path, f"must be at most {high:g}{limit}, got {show(value)}")]
    return []


def probability(value: Any, path: Path) -> Found:
    if isinstance(value, int | float) and not isinstance(value, bool) and not 0 <= value <= 1:
        return [(path, f"must be between 0 and 1, got {show(value)}")]
    return number(value, path, 0.0, 1.0)


def calendar_date(value: Any, path: Path) -> Found:
    if not isinstance(value, date):
        return [(path, f"must be a date, got {show(value)}")]
    if not FIRST_DATE <= value <= LAST_INPUT_DATE:
        return [(path, f"must be between {FIRST_DATE} and {LAST_INPUT_DATE}, got {value}")]
    return []


def distribution(value: Any, path: Path, lead_ok: bool = False) -> Found:
    """A distribution that cannot draw a negative value (unless `lead_ok`)."""
    from .distributions import AnyDistribution, Distribution

    # The shipped kinds are recognised by class first: the Protocol check reads every member,
    # a calibrated slip's `mean` too, which costs scipy calls (it was most of the time of
    # checking a variant built for each point of an exploration).
    if not isinstance(value, AnyDistribution) and not isinstance(value, Distribution):
        return [(path, f"must be a distribution, got {show(value)}")]
    least = value.minimum
    if least < 0 and not lead_ok:
        return [(path, f"cannot be negative, but this can draw {least:g}")]
    return []


def activity_problems(act: Activity) -> Found:
    """Checks of one activity on its own; paths start at activities.<id>."""
    at: Path = ("activities", act.id)
    found = _id(act.id, at, "activity")
    found += probability(act.success, at + ("success",))
    found += distribution(act.duration, at + ("duration",))
    if act.slip is not None:
        # A calibrated slip (sim.calibration) may be early: it is conditioned never to move the
        # planned date before as_of. The plain kinds may not, as in YAML.
        from .distributions import KINDS, Fixed

        plain = isinstance(act.slip, (Fixed, *KINDS.values()))
        found += distribution(act.slip, at + ("slip",), lead_ok=not plain)
        if act.planned is None:
            found.append((at + ("slip",), "needs planned (a slip is added to the planned date)"))
    for i, dep in enumerate(act.after):
        found += distribution(dep.lag, at + ("after", i, "lag"))
    for key in ("planned", "done"):
        if getattr(act, key) is not None:
            found += calendar_date(getattr(act, key), at + (key,))
    if act.window is not None:
        found += calendar_date(act.window.anchor, at + ("window", "anchor"))
        found += number(act.window.period, at + ("window", "period"), 0.0, strict=True)
    if act.on_failure is not None:
        n = act.on_failure.attempts
        if isinstance(n, bool) or not isinstance(n, int) or not 2 <= n <= MAX_ATTEMPTS:
            found.append((at + ("on_failure", "attempts"), "must be a whole number from 2 to "
                          f"{MAX_ATTEMPTS} (it counts the first attempt), got {show(n)}"))
        found += distribution(act.on_failure.rebuild, at + ("on_failure", "rebuild"))
    return found


def vehicle_problems(veh: Vehicle) -> Found:
    at: Path = ("vehicles", veh.id)
    found = _id(veh.id, at, "vehicle")
    found += probability(veh.reliability, at + ("reliability",))
    found += number(veh.min_interval, at + ("min_interval",))
    found += distribution(veh.stand_down, at + ("stand_down",))
    if veh.available is not None:
        found += calendar_date(veh.available, at + ("available",))
    return found


def risk_problems(risk: Risk) -> Found:
    at: Path = ("risks", risk.id)
    found = _id(risk.id, at, "risk")
    if (risk.probability is None) == (risk.annual_probability is None):
        found.append((at, "needs exactly one of probability and annual_probability, got "
                      + ("neither" if risk.probability is None else "both")))
    for key in ("probability", "annual_probability"):
        if getattr(risk, key) is not None:
            found += probability(getattr(risk, key), at + (key,))
    if risk.delay is not None:
        found += distribution(risk.delay, at + ("delay",))
        if risk.annual_probability is not None:
            found.append((at + ("delay",), "is only allowed with probability, not with "
                          "annual_probability (a risk at a random time can only cancel)"))
    if (risk.delay is None) != (not risk.applies_to):
        found.append((at + ("applies_to" if risk.delay is None else "delay",),
                      "delay and applies_to go together"))
    if risk.delay is None and not risk.cancels:
        found.append((at, "needs delay (with applies_to) or cancels, got neither"))
    return found


def _id(ident: Any, path: Path, kind: str) -> Found:
    if not isinstance(ident, str) or not ID_RE.match(ident):
        return [(path, f"a {kind} id must be lowercase letters, digits and '_', starting with a "
                       f"letter, got {show(ident)}")]
    if ident in RESERVED_IDS:
        return [(path, f"'{ident}' is reserved (it names a results column), choose another id")]
    return []


def scenario_problems(sc: Scenario) -> Found:
    """Checks that need the whole scenario: units, dates, counts, references and cycles."""
    from .model import dependency_graph, find_cycle, requirement_ids

    found: Found = []
    if sc.time_unit not in DAYS_PER_UNIT:
        return [(("time_unit",), f"must be one of {', '.join(DAYS_PER_UNIT)}, "
                                 f"got {show(sc.time_unit)}")]
    unit = DAYS_PER_UNIT[sc.time_unit]
    found += calendar_date(sc.as_of, ("as_of",))
    found += calendar_date(sc.goal.deadline, ("goal", "deadline"))
    if not sc.activities:
        found.append((("activities",), "needs at least one activity, got none"))
    for key in ("activities", "vehicles", "risks", "factors", "sources"):
        count = len(getattr(sc, key))
        if count > MAX_ELEMENTS:
            found.append(((key,), f"at most {MAX_ELEMENTS:,} allowed, got {count:,}"))
    for key in ("activities", "vehicles", "risks", "factors"):
        counts = Counter(e.id for e in getattr(sc, key))
        found += [((key, i), "the id is used twice") for i, n in counts.items() if n > 1]
    for act in sc.activities:
        found += _window_in_days(act, unit, sc.time_unit)
        if act.done is not None and isinstance(act.done, date) and act.done > sc.as_of:
            found.append((("activities", act.id, "done"),
                          f"must be on or before as_of ({sc.as_of}), got {act.done}"))
    for f in sc.factors:
        found += _id(f.id, ("factors", f.id), "factor")
        found += distribution(f.distribution, ("factors", f.id))
    found += _references(sc)
    if not found:
        for i, part in enumerate(requirement_ids(sc.goal.requires)):
            if part not in sc.activity_index:
                found.append((("goal", "requires"), f"unknown activity '{part}' (part {i + 1})"))
    if not found:
        cycle = find_cycle(dependency_graph(sc))
        if cycle:
            found.append((("activities", cycle[0], "after"),
                          "dependency cycle (each waits for the next): " + " -> ".join(cycle)))
    return found


def _window_in_days(act: Activity, unit: float, unit_name: str) -> Found:
    """A window period of at least MIN_WINDOW_DAYS, in the scenario's unit."""
    if act.window is None or not isinstance(act.window.period, int | float):
        return []
    low = MIN_WINDOW_DAYS / unit
    if 0 < act.window.period < low:
        return [(("activities", act.id, "window", "period"),
                 f"must be at least {MIN_WINDOW_DAYS:g} days ({low:.4g} {unit_name}), got "
                 f"{act.window.period:g}")]
    return []


def _references(sc: Scenario) -> Found:
    acts, vehicles = set(sc.activity_index), set(sc.vehicle_index)
    factors, sources = {f.id for f in sc.factors}, set(sc.sources)
    found: Found = []

    def each(ids: Iterable[str], known: set[str] | Mapping[str, Any], kind: str,
             path: Path) -> None:
        for i, ident in enumerate(ids):
            if ident not in known:
                found.append((path + (i,), f"unknown {kind} '{ident}'"))

    def one(ident: str | None, known: set[str], kind: str, path: Path) -> None:
        if ident is not None and ident not in known:
            found.append((path, f"unknown {kind} '{ident}'"))

    for a in sc.activities:
        at: Path = ("activities", a.id)
        each([d.id for d in a.after], acts, "activity", at + ("after",))
        each(a.vehicles, vehicles, "vehicle", at + ("vehicle",))
        each(a.factors, factors, "factor", at + ("factors",))
        one(a.source, sources, "source", at + ("source",))
    for v in sc.vehicles:
        each(v.after, acts, "activity", ("vehicles", v.id, "after"))
        one(v.source, sources, "source", ("vehicles", v.id, "source"))
    for r in sc.risks:
        each(r.applies_to, acts, "activity", ("risks", r.id, "applies_to"))
        each(r.cancels, acts, "activity", ("risks", r.id, "cancels"))
        one(r.source, sources, "source", ("risks", r.id, "source"))
    return found
