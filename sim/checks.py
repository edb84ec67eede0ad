"""Checks of single scenario values: each records a located problem (file, line, field path,
what was expected and what was found) and returns None when the value is wrong, so checking
goes on and every problem is reported at once."""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable
from datetime import date
from typing import Any, TypeVar

from . import validation
from .dates import parse_date
from .distributions import KINDS, AnyDistribution, Fixed
from .limits import MAX_ATTEMPTS, MAX_MAGNITUDE
from .model import DAYS_PER_UNIT, RESERVED_IDS, AllOf, AnyOf, AtLeast, Requirement
from .problems import show
from .schema import FORMAT, keys, required
from .yamlio import Path, Problem, format_path

__all__ = ["Checker", "T", "show", "suggest"]

ID_RE = re.compile(r"[a-z][a-z0-9_]*\Z")
SOURCE_KEY_RE = re.compile(r"[a-z][a-z0-9_-]*\Z")
T = TypeVar("T")

def suggest(word: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""


def _is_number(value: Any) -> bool:
    """YAML numbers only: a bool is an int to Python but never a number to the user."""
    return isinstance(value, int | float) and not isinstance(value, bool)


class Checker:
    """Checks of single values; each records a located problem and returns None when wrong."""

    def __init__(self, where: Callable[[Path], tuple[str, int]]) -> None:
        self.where = where
        self.problems: list[Problem] = []
        # (kind, id, path) of every id used, checked once all sections are known.
        self.refs: list[tuple[str, str, Path]] = []

    def problem(self, path: Path, message: str) -> None:
        file, line = self.where(path)
        self.problems.append(Problem(file, line, format_path(path), message))

    def opt(self, f: dict[str, Any], key: str, path: Path, check: Callable[..., T],
            *args: Any) -> T | None:
        """`check(f[key], path.key, *args)` if the key is set, else None."""
        return check(f[key], path + (key,), *args) if key in f else None

    def read(self, f: dict[str, Any], path: Path, element: str) -> dict[str, Any]:
        """Each key of `element` (sim.schema.FORMAT) that is set in `f`, read by its check:
        model field name -> value (None where unset or wrong)."""
        return {key.attribute: self.opt(f, key.name, path, getattr(self, key.check), *key.args)
                for key in FORMAT[element]}

    def attempts(self, value: Any, path: Path) -> int | None:
        if isinstance(value, int) and not isinstance(value, bool) and 2 <= value <= MAX_ATTEMPTS:
            return value
        self.problem(path, f"must be a whole number from 2 to {MAX_ATTEMPTS} (it counts the "
                           f"first attempt), got {show(value)}")
        return None

    def fields(self, value: Any, path: Path, allowed: tuple[str, ...],
               required: tuple[str, ...] = ()) -> dict[str, Any] | None:
        """The mapping's keys that are set (null means unset); unknown or missing keys are
        problems."""
        if not isinstance(value, dict):
            self.problem(path, f"must be a mapping (keys such as {', '.join(allowed[:3])}), "
                               f"got {show(value)}")
            return None
        for key in value:
            if key not in allowed:
                self.problem(path + (key,), f"unknown key '{key}'{suggest(key, allowed)}")
        for key in required:
            if value.get(key) is None:
                self.problem(path + (key,), "is required, got " + (
                    "null" if key in value else "nothing"))
        return {k: v for k, v in value.items() if k in allowed and v is not None}

    def check_id(self, ident: str, path: Path, kind: str) -> bool:
        pattern, chars = (SOURCE_KEY_RE, "digits, '_' and '-'") if kind == "source" else (
            ID_RE, "digits and '_'")
        if not pattern.match(ident):
            self.problem(path, f"a {kind} id must be lowercase letters, {chars}, starting with "
                               f"a letter, got '{ident}'")
            return False
        if kind != "source" and ident in RESERVED_IDS:
            self.problem(path, f"'{ident}' is reserved (it names a results column), "
                               "choose another id")
            return False
        return True

    def text(self, value: Any, path: Path) -> str | None:
        if isinstance(value, str):
            return value
        if _is_number(value):  # `scenario: 2030` is a title, not a type error
            return str(value)
        self.problem(path, f"must be text, got {show(value)}")
        return None

    def number(self, value: Any, path: Path, low: float | None = None,
               strict: bool = False) -> float | None:
        """A finite number (never a bool) within the limit on magnitudes, at least `low`, or
        greater than it if `strict`: the model's rule (validation.number), located."""
        found = validation.number(value, path, -MAX_MAGNITUDE if low is None else low,
                                  strict=strict)
        for where, message in found:
            self.problem(where, message)
        return None if found else value

    def probability(self, value: Any, path: Path) -> float | None:
        return self._model_check(validation.probability(value, path), value)

    def _model_check(self, found: validation.Found, value: T) -> T | None:
        for where, message in found:
            self.problem(where, message)
        return None if found else value

    def date(self, value: Any, path: Path) -> date | None:
        try:
            day = parse_date(value)
        except ValueError as exc:
            self.problem(path, str(exc))
            return None
        return self._model_check(validation.calendar_date(day, path), day)

    def time_unit(self, value: Any, path: Path) -> str | None:
        if isinstance(value, str) and value in DAYS_PER_UNIT:
            return value
        hint = suggest(value, DAYS_PER_UNIT) if isinstance(value, str) else ""
        self.problem(path, f"must be one of {', '.join(DAYS_PER_UNIT)}, got {show(value)}{hint}")
        return None

    def items(self, value: Any, path: Path, expected: str) -> list[tuple[Any, Path]] | None:
        """A single item or a list, each with its path."""
        if isinstance(value, list):
            return [(v, path + (i,)) for i, v in enumerate(value)]
        if isinstance(value, str):
            return [(value, path)]
        self.problem(path, f"must be {expected}, got {show(value)}")
        return None

    def ref(self, kind: str, ident: str, path: Path) -> None:
        self.refs.append((kind, ident, path))

    def id_list(self, value: Any, path: Path, kind: str,
                empty_ok: bool = True) -> tuple[str, ...] | None:
        """One id or a list of ids of `kind`, each recorded as a reference."""
        if value == [] and not empty_ok:
            self.problem(path, f"needs at least one {kind} id, got an empty list")
            return None
        items = self.items(value, path, f"a {kind} id or a list of them")
        if items is None:
            return None
        for item, where in items:
            if isinstance(item, str):
                self.ref(kind, item, where)
            else:
                self.problem(where, f"must be a {kind} id, got {show(item)}")
        ids = tuple(item for item, _ in items if isinstance(item, str))
        return ids if len(ids) == len(items) else None

    def confidence(self, value: Any, path: Path) -> str | None:
        from .news import CONFIDENCE

        if value in CONFIDENCE:
            return str(value)
        self.problem(path, f"must be one of {', '.join(CONFIDENCE)}, got {show(value)}")
        return None

    def changes(self, value: Any, path: Path) -> dict[str, Any] | None:
        """An event's changes to one section (their values are checked as part of the
        scenario they were merged into)."""
        if isinstance(value, dict) and all(isinstance(v, dict) for v in value.values()):
            return value
        self.problem(path, f"must be a mapping of id to the fields it changes, got {show(value)}")
        return None

    def source(self, value: Any, path: Path) -> str | None:
        if not isinstance(value, str):
            self.problem(path, f"must be a key of sources, got {show(value)}")
            return None
        self.ref("source", value, path)
        return value

    def distribution(self, value: Any, path: Path, quantity: str) -> AnyDistribution | None:
        """A distribution of a `quantity` that cannot be negative (duration, lag, factor...)."""
        dist: AnyDistribution | None = None
        if _is_number(value):
            dist = self.construct(Fixed, (value,), path, "fixed")  # NaN, inf
        elif isinstance(value, dict) and len(value) == 1:
            ((kind, params),) = value.items()
            if kind in KINDS:
                dist = self.distribution_kind(kind, params, path)
            else:
                self.problem(path + (kind,), f"unknown distribution '{kind}' (expected one of "
                             f"{', '.join(KINDS)}){suggest(kind, KINDS)}")
        else:
            self.problem(path, "must be a number or a mapping with one key (uniform, triangular, "
                               f"pert, lognormal or empirical), got {show(value)}")
        if dist is not None and dist.minimum < 0:
            lead = " (leads, i.e. negative lags, are not supported)" if quantity == "lag" else ""
            self.problem(path, f"a {quantity} cannot be negative{lead}, but this can draw "
                               f"{dist.minimum:g}: {show(value)}")
            return None
        return dist

    def distribution_kind(self, kind: str, params: Any, path: Path) -> AnyDistribution | None:
        where = path + (kind,)
        if kind == "lognormal":
            f = self.fields(params, where, keys("lognormal"), required("lognormal"))
            if f is None or len(f) < 2:
                return None
            args = [self.number(f[k], where + (k,)) for k in ("median", "p90")]
        else:
            shape = {"uniform": "[low, high]", "triangular": "[low, mode, high]",
                     "pert": "[low, mode, high]"}.get(kind, "[v1, v2, ...]")
            if not isinstance(params, list) or (kind != "empirical"
                                                and len(params) != shape.count(",") + 1):
                self.problem(where, f"needs a list {shape}, got {show(params)}")
                return None
            args = [self.number(v, where + (i,)) for i, v in enumerate(params)]
        if any(a is None for a in args):
            return None
        return self.construct(KINDS[kind], (tuple(args),) if kind == "empirical" else args,
                              path, kind)

    def construct(self, cls: type[T], args: Any, path: Path, kind: str) -> T | None:
        """The distribution, or a problem quoting its own ValueError (e.g. low > mode)."""
        try:
            return cls(*args)
        except ValueError as exc:
            self.problem(path, f"impossible {kind} parameters: {exc}")
            return None

    def requirement(self, value: Any, path: Path) -> Requirement | None:
        """An activity id, {all: [...]}, {any: [...]} or {at_least: k, of: [...]}, nested."""
        if isinstance(value, str):
            self.ref("activity", value, path)
            return value
        keys = set(value) if isinstance(value, dict) else set()
        if keys in ({"all"}, {"any"}):
            ((op, raw),) = value.items()
            parts = self.requirement_parts(raw, path + (op,))
            return None if parts is None else (AllOf(parts) if op == "all" else AnyOf(parts))
        if keys == {"at_least", "of"}:
            parts = self.requirement_parts(value["of"], path + ("of",))
            count = value["at_least"]
            if not isinstance(count, int) or isinstance(count, bool):
                self.problem(path + ("at_least",), f"must be a whole number, got {show(count)}")
            elif parts is not None and not 1 <= count <= len(parts):
                self.problem(path + ("at_least",), f"must be between 1 and {len(parts)} (the "
                             f"number of requirements in 'of'), got {count}")
            elif parts is not None:
                return AtLeast(count, parts)
            return None
        words = ("all", "any", "at_least", "of")
        hint = "".join(suggest(str(k), words) for k in keys if k not in words)
        self.problem(path, "must be an activity id, {all: [...]}, {any: [...]} or "
                           f"{{at_least: k, of: [...]}}, got {show(value)}{hint}")
        return None

    def requirement_parts(self, value: Any, path: Path) -> tuple[Requirement, ...] | None:
        if not isinstance(value, list) or not value:
            self.problem(path, f"must be a non-empty list of requirements, got {show(value)}")
            return None
        parts = [self.requirement(v, path + (i,)) for i, v in enumerate(value)]
        done = tuple(p for p in parts if p is not None)
        return done if len(done) == len(parts) else None
