"""Uncertain parameters of a scenario: the parameters file, its paths, and design points applied
to a scenario as validated variants.

A parameters file is YAML::

    parameters:
      vehicles.long_march_9.reliability: {uniform: [0.7, 0.95]}
      activities.lm9_development.planned: {uniform: [2030-01, 2034-12]}
      goal.requires.all[3].at_least: {uniform: [3, 5]}
      scale:activities.{ilrs1,ilrs2}.slip: {uniform: [0.5, 2.0]}
    levers: [activities.lm9_development.planned]

A path addresses values in the scenario's resolved YAML (after `extends`): mapping keys joined by
dots, `[i]` for the i-th item of a list, `*` for every key or item, and `{a,b}` for several keys.
A step with `*` or `{...}` matches only where the rest of the path exists. The prefix `scale:`
makes the parameter a multiplier: every number of each distribution it reaches (a fixed value,
uniform bounds, the three points, lognormal median and p90, empirical values) is multiplied by
the drawn value, so the distribution is scaled as a whole.

A design point is applied to the resolved data and the elements it changes are read again by the
loader's own checks (the whole scenario's checks run again too), so a variant is a new frozen
value that is valid by the same rules as a file, and equal to the scenario read from its data.
"""

from __future__ import annotations

import copy
import math
import os
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from .checks import show, suggest
from .dates import parse_date
from .model import Scenario
from .scenario import scenario_with_changes
from .yamlio import Path, Problem, ScenarioError, format_path, read_document, read_text

# Fields whose values are whole numbers: a range over them draws whole numbers, ends included.
WHOLE_KEYS = frozenset({"at_least", "attempts"})
DISTRIBUTIONS = ("uniform",)
_STEP = re.compile(r"\*|\{[a-z0-9_,-]+\}|[A-Za-z0-9_-]+")
SCALE = "scale:"


class PathError(ValueError):
    """A path that is not written in the path syntax."""


@dataclass(frozen=True)
class Step:
    keys: tuple[str, ...] | None = None  # None: every key or item (`*`)
    index: int | None = None


def parse_path(text: str) -> tuple[bool, tuple[Step, ...]]:
    """(is a multiplier, steps) of a parameter path; PathError when it is not a path."""
    scale = text.startswith(SCALE)
    body = text[len(SCALE):] if scale else text
    steps: list[Step] = []
    pos = 0
    while pos < len(body):
        if body[pos] == "[":
            close = body.find("]", pos)
            inner = body[pos + 1:close] if close > 0 else ""
            if inner == "*":
                steps.append(Step())
            elif inner.isdigit():
                steps.append(Step(index=int(inner)))
            else:
                raise PathError(f"'[{inner}' must be a list index [i] or [*]")
            pos = close + 1
            continue
        if steps:
            if body[pos] != ".":
                raise PathError(f"expected '.' or '[' at character {pos + 1} of '{body}'")
            pos += 1
        m = _STEP.match(body, pos)
        if m is None:
            raise PathError(f"expected a key, '*' or '{{a,b}}' at character {pos + 1} of '{body}'")
        word = m.group()
        if word == "*":
            steps.append(Step())
        elif word.startswith("{"):
            steps.append(Step(keys=tuple(k for k in word[1:-1].split(",") if k)))
        else:
            steps.append(Step(keys=(word,)))
        pos = m.end()
    if not steps:
        raise PathError("is empty")
    return scale, tuple(steps)


def find(data: Any, steps: Sequence[Step]) -> list[Path]:
    """Every location in `data` that `steps` reaches (existing values only)."""
    if not steps:
        return [()]
    step, rest = steps[0], steps[1:]
    found: list[Path] = []
    for key, child in _children(data, step):
        found.extend((key,) + sub for sub in find(child, rest))
    return found


def _children(data: Any, step: Step) -> Iterator[tuple[str | int, Any]]:
    if isinstance(data, dict):
        if step.index is None:
            keys = data.keys() if step.keys is None else [k for k in step.keys if k in data]
            yield from ((k, data[k]) for k in keys)
    elif isinstance(data, list):
        if step.index is not None and step.index < len(data):
            yield step.index, data[step.index]
        elif step.keys is None and step.index is None:
            yield from enumerate(data)


def _get(data: Any, path: Path) -> Any:
    for part in path:
        data = data[part]
    return data


def _set(data: Any, path: Path, value: Any) -> None:
    _get(data, path[:-1])[path[-1]] = value


def _set_copying(data: Any, path: Path, value: Any, copied: set[Path]) -> None:
    """Set `value` at `path`, first replacing each container on the way by a shallow copy
    (unless `copied` says it already is one), so the data it was copied from is untouched."""
    node = data
    for depth in range(1, len(path)):
        key = path[depth - 1]
        if path[:depth] not in copied:
            node[key] = copy.copy(node[key])
            copied.add(path[:depth])
        node = node[key]
    node[path[-1]] = value


def _is_calibrated_slip(data: Any, target: Path) -> bool:
    """Whether `target` is an activity's `slip: {reference_class: GROUP}`."""
    value = _get(data, target)
    return (len(target) == 3 and target[0] == "activities" and target[2] == "slip"
            and isinstance(value, dict) and "reference_class" in value)


def scale_distribution(value: Any, factor: float) -> Any:
    """A distribution as written in YAML, with every number multiplied by `factor`."""
    if isinstance(value, bool):
        raise ValueError(f"is not a distribution, got {show(value)}")
    if isinstance(value, int | float):
        return value * factor
    if isinstance(value, dict) and len(value) == 1:
        ((kind, params),) = value.items()
        if isinstance(params, list):
            return {kind: [scale_distribution(v, factor) for v in params]}
        if isinstance(params, dict) and params:
            return {kind: {k: scale_distribution(v, factor) for k, v in params.items()}}
    raise ValueError(f"has no numbers to scale, got {show(value)}")


@dataclass(frozen=True)
class Parameter:
    """One uncertain parameter: `kind` is 'number', 'whole' (ends included) or 'date'.

    Numbers of a date parameter are days since 1970-01-01 (a design works on numbers).
    """

    path: str
    kind: str
    low: float
    high: float
    scale: bool
    targets: tuple[Path, ...]
    line: int | None = None

    @property
    def bounds(self) -> tuple[float, float]:
        """The range a design samples: whole numbers k draw from [k, k + 1)."""
        return (self.low, self.high + 1) if self.kind == "whole" else (self.low, self.high)

    def value(self, x: float) -> float:
        """The value a design number stands for: a whole number or day where they apply."""
        if self.kind == "whole":
            return float(min(math.floor(x), self.high))
        if self.kind == "date":
            return float(round(x))
        return float(x)

    def written(self, x: float) -> Any:
        """The value as it is written into the scenario's data."""
        v = self.value(x)
        if self.kind == "whole":
            return int(v)
        if self.kind == "date":
            return date.fromordinal(int(v) + _EPOCH).isoformat()
        return v


_EPOCH = date(1970, 1, 1).toordinal()


def date_number(day: date) -> float:
    return float(day.toordinal() - _EPOCH)


@dataclass(frozen=True)
class ParameterSpace:
    """The parameters of one scenario, and the levers among them (paths, in file order)."""

    scenario: Scenario
    parameters: tuple[Parameter, ...]
    levers: tuple[str, ...] = ()
    file: str = "<parameters>"

    @property
    def names(self) -> list[str]:
        return [p.path for p in self.parameters]

    def parameter(self, path: str) -> Parameter:
        return next(p for p in self.parameters if p.path == path)

    def problem_spec(self) -> dict[str, Any]:
        """SALib's problem dictionary."""
        return {"num_vars": len(self.parameters), "names": self.names,
                "bounds": [list(p.bounds) for p in self.parameters]}

    def values(self, x: Sequence[float]) -> dict[str, float]:
        """Design numbers -> the values they stand for (whole numbers, days), by path."""
        return {p.path: p.value(v) for p, v in zip(self.parameters, x, strict=True)}

    def current(self, path: str) -> float | None:
        """The scenario's own value of a parameter (1 for a multiplier); None if not one value."""
        p = self.parameter(path)
        if p.scale:
            return 1.0
        data = self.scenario.resolved or {}
        seen = {_number(_get(data, t), p.kind) for t in p.targets}
        return seen.pop() if len(seen) == 1 else None

    def apply(self, x: Mapping[str, float] | Sequence[float]) -> Scenario:
        """The scenario with the parameters set to design numbers `x` (a new frozen value).

        `x` maps paths to numbers (a subset is fine), or lists one number per parameter.
        Raises ScenarioError (paths without lines) when the values make the scenario invalid.
        """
        chosen = x if isinstance(x, Mapping) else dict(zip(self.names, x, strict=True))
        # The variant shares every subtree it does not change with the scenario's data (which
        # nothing mutates): only the containers on the way to a changed value are copied, once.
        # A deep copy of the whole tree was a quarter of the time of building a variant.
        data = dict(self.scenario.resolved or {})
        copied: set[Path] = {()}
        changed: list[Path] = []
        for path, number in chosen.items():
            p = self.parameter(path)
            for target in p.targets:
                if p.scale and _is_calibrated_slip(data, target):
                    # A calibrated slip has no numbers of its own: its `scale:` multiplies
                    # every draw (after the rule's conditioning on the time already elapsed).
                    slip = dict(_get(data, target))
                    slip["scale"] = slip.get("scale", 1.0) * p.value(number)
                    value: Any = slip
                elif p.scale:
                    value = scale_distribution(_get(data, target), p.value(number))
                else:
                    value = p.written(number)
                _set_copying(data, target, value, copied)
                changed.append(target)
        # Only the elements holding a changed value are read again, by the loader's checks;
        # named by the scenario's own file, against which its relative paths (slip_rules)
        # resolve.
        return scenario_with_changes(self.scenario, data, changed)


def _number(value: Any, kind: str) -> float | None:
    if kind == "date":
        try:
            return date_number(parse_date(value))
        except ValueError:
            return None
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    return float(value) if ok else None


def load_parameters(path: str | os.PathLike[str], scenario: Scenario) -> ParameterSpace:
    """The parameters file `path` checked against `scenario`; ScenarioError lists every problem."""
    file = os.fspath(path)
    problems: list[Problem] = []
    text = read_text(file, problems)
    if text is None:
        raise ScenarioError(problems)
    return parse_parameters(text, scenario, file)


def parse_parameters(text: str, scenario: Scenario, file: str = "<string>") -> ParameterSpace:
    problems: list[Problem] = []
    doc = read_document(text, file, problems)
    if doc is None:
        raise ScenarioError(problems)
    return _Reader(doc.data, doc.where, file, scenario, problems).read()


class _Reader:
    def __init__(self, data: Any, where: Any, file: str, scenario: Scenario,
                 problems: list[Problem]) -> None:
        self.data, self.where, self.file, self.scenario = data, where, file, scenario
        self.problems = problems
        if scenario.resolved is None:
            raise ValueError("the scenario has no resolved data; load it from YAML")
        self.resolved = scenario.resolved

    def problem(self, path: Path, message: str) -> None:
        file, line = self.where(path)
        self.problems.append(Problem(file, line, format_path(path), message))

    def read(self) -> ParameterSpace:
        unknown = [k for k in self.data if k not in ("parameters", "levers")]
        for key in unknown:
            self.problem((key,), f"unknown key '{key}'{suggest(key, ('parameters', 'levers'))}")
        raw = self.data.get("parameters")
        if not isinstance(raw, dict) or not raw:
            self.problem(("parameters",), "needs a mapping of path to distribution, got "
                         f"{show(raw)}")
            raise ScenarioError(self.problems)
        params = [p for key, value in raw.items() if (p := self.parameter(key, value))]
        self.check_overlaps(params)
        levers = self.levers(raw)
        space = ParameterSpace(self.scenario, tuple(params), levers, self.file)
        self.check_corners(space)
        for lever in levers:
            if space.current(lever) is None:
                self.problem(("levers",), f"lever '{lever}' needs one current value in the "
                             "scenario, but its places differ")
        if self.problems:
            raise ScenarioError(sorted(self.problems, key=lambda p: p.line or 0))
        return space

    def parameter(self, key: Any, value: Any) -> Parameter | None:
        where: Path = ("parameters", str(key))
        try:
            scale, steps = parse_path(str(key))
        except PathError as exc:
            self.problem(where, f"not a path: {exc}")
            return None
        targets = find(self.resolved, steps)
        if not targets:
            self.problem(where, "reaches nothing in the scenario" + self.hint(steps))
            return None
        last = targets[0][-1]
        kind = "number" if scale else ("whole" if last in WHOLE_KEYS else None)
        if not isinstance(value, dict) or len(value) != 1 or next(iter(value)) not in DISTRIBUTIONS:
            self.problem(where, f"must be {{uniform: [low, high]}}, got {show(value)}")
            return None
        ends = value["uniform"]
        if not isinstance(ends, list) or len(ends) != 2:
            self.problem(where + ("uniform",), f"needs a list [low, high], got {show(ends)}")
            return None
        numbers = self.ends(ends, where + ("uniform",), kind)
        if numbers is None:
            return None
        kind, low, high = numbers
        if not low < high:
            self.problem(where + ("uniform",), f"needs low < high, got {show(ends)}")
            return None
        if scale:
            for t in targets:
                try:
                    if not _is_calibrated_slip(self.resolved, t):
                        scale_distribution(_get(self.resolved, t), 1.0)
                except ValueError as exc:
                    self.problem(where, f"{format_path(t)} {exc}")
                    return None
        line = self.where(where)[1]
        return Parameter(str(key), kind, low, high, scale, tuple(targets), line)

    def ends(self, ends: list[Any], where: Path,
             kind: str | None) -> tuple[str, float, float] | None:
        """(kind, low, high) of a range: whole numbers, dates (on date fields) or numbers."""
        if kind == "whole":
            if not all(isinstance(v, int) and not isinstance(v, bool) for v in ends):
                self.problem(where, f"needs whole numbers, got {show(ends)}")
                return None
            return "whole", float(ends[0]), float(ends[1])
        if kind is None and self.date_target(where):
            try:
                low, high = (date_number(parse_date(v)) for v in ends)
            except ValueError as exc:
                self.problem(where, f"needs two dates: {exc}")
                return None
            return "date", low, high
        if not all(isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
                   for v in ends):
            self.problem(where, f"needs two numbers, got {show(ends)}")
            return None
        return "number", float(ends[0]), float(ends[1])

    def date_target(self, where: Path) -> bool:
        """Whether a parameter reaches date fields (where `2030` means the year 2030)."""
        steps = parse_path(str(where[1]))[1]
        return any(t[-1] in ("planned", "done", "available", "anchor", "deadline", "as_of")
                   for t in find(self.resolved, steps))

    def hint(self, steps: Sequence[Step]) -> str:
        """Did-you-mean on the first step that reaches nothing."""
        data = self.resolved
        for step in steps:
            found = list(_children(data, step))
            if not found:
                if isinstance(data, dict) and step.keys:
                    return f" ('{step.keys[0]}' is not there{suggest(step.keys[0], data)})"
                return ""
            data = found[0][1]
        return ""

    def check_overlaps(self, params: list[Parameter]) -> None:
        owner: dict[Path, str] = {}
        for p in params:
            for t in p.targets:
                if t in owner:
                    self.problem(("parameters", p.path), f"sets {format_path(t)}, which "
                                 f"'{owner[t]}' sets too")
                owner.setdefault(t, p.path)

    def levers(self, raw: dict[str, Any]) -> tuple[str, ...]:
        value = self.data.get("levers", [])
        if not isinstance(value, list):
            self.problem(("levers",), f"must be a list of parameter paths, got {show(value)}")
            return ()
        levers = []
        for i, item in enumerate(value):
            if item not in raw:
                self.problem(("levers", i), f"must be one of the parameters' paths, got "
                             f"{show(item)}{suggest(str(item), raw)}")
            else:
                levers.append(str(item))
        return tuple(levers)

    def check_corners(self, space: ParameterSpace) -> None:
        """Each parameter at each end of its range, the others as in the scenario, must give a
        valid scenario (which catches e.g. a success probability range reaching above 1)."""
        for p in space.parameters:
            for end in (p.low, p.high):
                try:
                    space.apply({p.path: end})
                except ScenarioError as err:
                    first = err.problems[0]
                    shown = p.written(end) if not p.scale else end
                    self.problem(("parameters", p.path), f"at {show(shown)} the scenario is "
                                 f"invalid: {first.path}: {first.message}")
