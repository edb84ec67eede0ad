"""The scenario format in one table: every key, what it means, its type and the check that reads it.

This table is the definition the loader uses (:mod:`sim.scenario` takes each element's allowed
and required keys, and the check for each key, from it) and the JSON Schema is generated from it
(:func:`json_schema`, printed by ``ilrs schema``), so an editor that completes and checks keys
can never disagree with the loader about which keys exist. Adding a field means adding a row here.

A key's ``kind`` names both its check (a method of :class:`sim.checks.Checker`, called with
``args``) and its JSON Schema fragment (:data:`_FRAGMENTS`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from .distributions import KINDS
from .limits import MAX_ATTEMPTS, MAX_SLIP_SCALE

SCHEMA_ID = "https://ilrs-sim.invalid/scenario.schema.json"  # a name, not an address to fetch


@dataclass(frozen=True)
class Key:
    """One key of a mapping in the scenario format."""

    name: str  # as written in YAML
    kind: str  # the value's type: a key of _FRAGMENTS and the Checker method `check`
    meaning: str
    required: bool = False
    args: tuple[Any, ...] = ()  # extra arguments of the check (a distribution's quantity, ...)
    field: str | None = None  # the model field, when it differs from `name`

    @property
    def check(self) -> str:
        """The Checker method that reads this key's value."""
        return _CHECKS.get(self.kind, self.kind)

    @property
    def attribute(self) -> str:
        return self.field or self.name


def _ids(kind: str, empty_ok: bool = True) -> tuple[Any, ...]:
    return (kind,) if empty_ok else (kind, False)


# element -> its keys. "top" is the file itself.
FORMAT: dict[str, tuple[Key, ...]] = {
    "top": (
        Key("scenario", "text", "Title of the scenario.", True),
        Key("description", "text", "Free text."),
        Key("as_of", "date", "Status date; the clock starts here.", True),
        Key("time_unit", "time_unit", "Unit of every duration: months (default), days or years; "
            "a month is 365.25/12 days."),
        Key("extends", "file", "A parent scenario, path relative to this file; this file is "
            "merged over it (mappings key by key, null removes a key)."),
        Key("slip_rules", "file", "A slip-rules file written by ilrs calibrate, path relative "
            "to this file; needed by reference_class slips."),
        Key("sources", "sources", "Citation key -> text (title, outlet, date, address)."),
        Key("factors", "factors", "Programme-wide multipliers, one draw per trial."),
        Key("vehicles", "section", "Launchers shared by the launches that name them.",
            args=("vehicle",)),
        Key("risks", "section", "The risk register.", args=("risk",)),
        Key("activities", "section", "Work, launches and milestones.", True,
            args=("activity",)),
        Key("goal", "goal", "What must be finished, by when.", True),
        Key("news", "news", "Events since the parent's as_of, applied in order over the "
            "file as merged with its parents (written by ilrs update)."),
    ),
    "vehicle": (
        Key("name", "text", "Display name (default: the id)."),
        Key("reliability", "probability", "Chance a launch does not fail (default 1)."),
        Key("min_interval", "number", "Time between two launches (default 0).", args=(0.0,)),
        Key("stand_down", "distribution", "Grounded for this long after a failure (default 0).",
            args=("stand-down",)),
        Key("available", "date", "First date it can fly."),
        Key("after", "ids", "Activities that must finish before it can fly (e.g. its first "
            "flight).", args=_ids("activity")),
        Key("source", "source", "A key of sources."),
    ),
    "risk": (
        Key("name", "text", "Display name (default: the id)."),
        Key("probability", "probability", "Chance it occurs, at as_of."),
        Key("annual_probability", "probability", "Yearly hazard: occurs after an exponential "
            "time with rate -ln(1-h) per year."),
        Key("delay", "distribution", "Delay added to the ready time of applies_to (with "
            "probability only).", args=("delay",)),
        Key("applies_to", "ids", "Activities it delays.", args=_ids("activity")),
        Key("cancels", "ids", "Activities that never finish if not finished when it occurs.",
            args=_ids("activity")),
        Key("occurred", "date", "It has happened, on this date (on or before as_of): not drawn "
            "again; its delay or cancellation applies at as_of."),
        Key("expired", "date", "It can no longer happen, since this date (on or before as_of): "
            "not drawn, no effect."),
        Key("source", "source", "A key of sources."),
    ),
    "activity": (
        Key("name", "text", "Display name (default: the id)."),
        Key("after", "after", "Predecessors: ids, or {id, lag} for a finish-to-start lag."),
        Key("planned", "planned", "Announced date (of the launch, for a launch); a period "
            "(2026-H2, 2027-Q1, 2033..2035) means its reference date."),
        Key("announced", "date", "When the plan `planned` was stated (the lead of a "
            "reference_class slip is measured from it; default as_of)."),
        Key("slip", "slip", "Added to planned (needs planned): a distribution, or "
            "{reference_class: GROUP} for the calibrated rule of GROUP."),
        Key("duration", "distribution", "Start (launch) to finish (landing) (default 0).",
            args=("duration",)),
        Key("vehicle", "ids", "Makes it a launch: a vehicle id, or a list meaning any of them.",
            args=_ids("vehicle", False), field="vehicles"),
        Key("window", "window", "Starts only at anchor + k * period."),
        Key("success", "probability", "Chance the mission succeeds (default 1)."),
        Key("on_failure", "on_failure", "Retry after a failure: attempts (counting the first) "
            "and rebuild time."),
        Key("factors", "ids", "Factors that multiply its duration, slip, lags and rebuild.",
            args=_ids("factor")),
        Key("done", "date", "Already finished on this date (on or before as_of)."),
        Key("failed", "date", "An attempt failed on this date (on or before as_of): with "
            "attempts left the next is ready rebuild later (and not before planned + slip), "
            "otherwise it never finishes (lost)."),
        Key("launched", "date", "In flight since this launch date (on or before as_of): the rest "
            "of duration runs from it, no vehicle needed, success still drawn; a failure in "
            "flight ends it (a replacement is a new activity)."),
        Key("partial", "date", "Finished on this date (on or before as_of) short of what the "
            "goal needs: its successors go on, but the goal never counts it."),
        Key("source", "source", "A key of sources."),
    ),
    "goal": (
        Key("name", "text", "What the goal is called.", True),
        Key("deadline", "date", "The goal is met if finished by the end of this day.", True),
        Key("requires", "requirement", "An id, {all: [...]}, {any: [...]} or {at_least: k, "
            "of: [...]}, nested.", True),
    ),
    "event": (
        Key("what", "text", "What happened, in a line.", True),
        Key("date", "date", "When it happened (on or before as_of).", True),
        Key("reported", "date", "When it was first reported (on or after date, on or before "
            "as_of).", True),
        Key("source", "source", "A key of sources.", True),
        Key("confidence", "confidence", "confirmed (2+ independent sources), single-source "
            "or uncertain.", True),
        Key("activities", "changes", "Activity id -> the fields it changes (merged like a "
            "variant; null removes a field)."),
        Key("risks", "changes", "Risk id -> the fields it changes."),
        Key("vehicles", "changes", "Vehicle id -> the fields it changes."),
    ),
    "window": (
        Key("period", "number", "Time between two opportunities.", True, args=(0.0, True)),
        Key("anchor", "date", "One opportunity.", True),
    ),
    "on_failure": (
        Key("attempts", "attempts", "Attempts in all, counting the first (2 to 100).", True),
        Key("rebuild", "distribution", "Time from a failure to the next attempt being ready.",
            True, args=("rebuild",)),
    ),
    "dependency": (
        Key("id", "activity_id", "The predecessor.", True),
        Key("lag", "distribution", "Finish-to-start lag (default 0).", args=("lag",)),
    ),
    "lognormal": (
        Key("median", "number", "Median.", True),
        Key("p90", "number", "90th percentile (greater than the median).", True),
    ),
}

# Kinds whose Checker method has another name.
_CHECKS = {"ids": "id_list", "file": "text", "activity_id": "text"}


def keys(element: str) -> tuple[str, ...]:
    """The keys an element may have, in the order the README documents them."""
    return tuple(k.name for k in FORMAT[element])


def required(element: str) -> tuple[str, ...]:
    return tuple(k.name for k in FORMAT[element] if k.required)


# -- JSON Schema -----------------------------------------------------------------------------

_ID = "^[a-z][a-z0-9_]*$"
_SOURCE_KEY = "^[a-z][a-z0-9_-]*$"
_DATE = {"description": "YYYY-MM-DD, YYYY-MM (the 15th) or YYYY (1 July)",
         "anyOf": [{"type": "string", "pattern": r"^\d{4}(-\d{2}(-\d{2})?)?$"},
                   {"type": "integer", "minimum": 1000, "maximum": 9999}]}
# A period as `planned` reads it (sim.calibration.periods): halves, quarters, ranges.
_PERIOD = r"^\d{4}-(H[12]|Q[1-4])$|^\d{4}(-\d{2})?\s*(\.\.|-|to)\s*\d{4}(-\d{2})?$"
_ID_LIST: dict[str, Any] = {"type": "array", "items": {"type": "string", "pattern": _ID}}
_ID_OR_IDS = {"anyOf": [{"type": "string", "pattern": _ID}, _ID_LIST]}
_NUMBERS = {"type": "array", "items": {"type": "number"}}


def _distribution() -> dict[str, Any]:
    shapes: dict[str, Any] = {
        "uniform": {**_NUMBERS, "minItems": 2, "maxItems": 2,
                    "description": "[low, high]"},
        "triangular": {**_NUMBERS, "minItems": 3, "maxItems": 3,
                       "description": "[low, mode, high]"},
        "pert": {**_NUMBERS, "minItems": 3, "maxItems": 3,
                 "description": "[low, mode, high] (Beta-PERT, shape 4)"},
        "lognormal": {"$ref": "#/definitions/lognormal"},
        "empirical": {**_NUMBERS, "minItems": 1, "description": "[v1, v2, ...], equally likely"},
    }
    assert set(shapes) == set(KINDS), "a distribution kind without a schema"
    return {"description": "A number (fixed) or one of " + ", ".join(KINDS),
            "anyOf": [{"type": "number", "minimum": 0}] + [
                {"type": "object", "properties": {kind: shape}, "required": [kind],
                 "additionalProperties": False} for kind, shape in shapes.items()]}


def _requirement() -> dict[str, Any]:
    parts = {"type": "array", "minItems": 1, "items": {"$ref": "#/definitions/requirement"}}
    return {"anyOf": [
        {"type": "string", "pattern": _ID},
        {"type": "object", "properties": {"all": parts}, "required": ["all"],
         "additionalProperties": False},
        {"type": "object", "properties": {"any": parts}, "required": ["any"],
         "additionalProperties": False},
        {"type": "object", "properties": {"at_least": {"type": "integer", "minimum": 1},
                                          "of": parts},
         "required": ["at_least", "of"], "additionalProperties": False},
    ]}


# Elements that `extends` merges key by key (the rest, such as a dependency in a list or a
# distribution, are replaced whole, so a variant must write them complete).
_MERGED = ("vehicle", "risk", "activity", "goal", "window", "on_failure")


def _ref(element: str, partial: bool) -> dict[str, Any]:
    if partial and element in _MERGED:
        return {"anyOf": [{"$ref": f"#/definitions/partial_{element}"}, {"type": "null"}]}
    return {"$ref": f"#/definitions/{element}"}


def _fragment(key: Key, partial: bool) -> dict[str, Any]:
    """The JSON Schema of one key's value (in a variant file when `partial`)."""
    kind = key.kind
    if kind == "number":
        low, strict = (tuple(key.args) + (None, False))[:2]
        out: dict[str, Any] = {"type": "number"}
        if low is not None:
            out["exclusiveMinimum" if strict else "minimum"] = low
        return out
    if kind == "ids" and key.args[1:] == (False,):  # at least one id
        return {"anyOf": [{"type": "string", "pattern": _ID}, {**_ID_LIST, "minItems": 1}]}
    if kind == "section":
        return {"type": ["object", "null"], "propertyNames": {"pattern": _ID},
                "additionalProperties": _ref(key.args[0], partial)}
    fixed: dict[str, dict[str, Any]] = {
        "text": {"type": ["string", "number"]},
        "file": {"type": "string", "minLength": 1},
        "date": _DATE,
        "planned": {"anyOf": [_DATE, {"type": "string", "pattern": _PERIOD}]},
        "slip": {"anyOf": [{"$ref": "#/definitions/distribution"}, {
            "type": "object", "properties": {"reference_class": {"type": "string"},
                                             "scale": {"type": "number", "exclusiveMinimum": 0,
                                                       "maximum": MAX_SLIP_SCALE}},
            "required": ["reference_class"], "additionalProperties": False}]},
        "time_unit": {"enum": ["months", "days", "years"]},
        "confidence": {"enum": ["confirmed", "single-source", "uncertain"]},
        "news": {"type": "array", "items": {"$ref": "#/definitions/event"}},
        "changes": {"type": "object", "propertyNames": {"pattern": _ID},
                    "additionalProperties": {"type": "object"}},
        "probability": {"type": "number", "minimum": 0, "maximum": 1},
        "distribution": {"$ref": "#/definitions/distribution"},
        "ids": _ID_OR_IDS,
        "source": {"type": "string", "pattern": _SOURCE_KEY},
        "activity_id": {"type": "string", "pattern": _ID},
        "attempts": {"type": "integer", "minimum": 2, "maximum": MAX_ATTEMPTS},
        "requirement": {"$ref": "#/definitions/requirement"},
        "window": _ref("window", partial),
        "on_failure": _ref("on_failure", partial),
        "goal": _ref("goal", partial),
        "after": {"anyOf": [{"type": "string", "pattern": _ID}, {"type": "array", "items": {
            "anyOf": [{"type": "string", "pattern": _ID}, {"$ref": "#/definitions/dependency"}]}}]},
        "sources": {"type": ["object", "null"], "propertyNames": {"pattern": _SOURCE_KEY},
                    "additionalProperties": {"type": ["string", "number"]}},
        "factors": {"type": ["object", "null"], "propertyNames": {"pattern": _ID},
                    "additionalProperties": {"anyOf": [{"$ref": "#/definitions/distribution"},
                                                       {"type": "null"}]}
                    if partial else {"$ref": "#/definitions/distribution"}},
    }
    return fixed[kind]


def _object(element: str, partial: bool) -> dict[str, Any]:
    """An element's mapping. Null means "not set" for an optional key (and, in a file that
    extends another, removes the parent's value), so optional keys accept null; a file that
    extends another may leave out anything its parent gives."""
    props = {}
    for key in FORMAT[element]:
        fragment = _fragment(key, partial)
        nullable = not key.required or partial
        props[key.name] = ({"description": key.meaning, "anyOf": [fragment, {"type": "null"}]}
                           if nullable else {"description": key.meaning, **fragment})
    out: dict[str, Any] = {"type": "object", "properties": props, "additionalProperties": False}
    if required(element) and not partial:
        out["required"] = list(required(element))
    return out


def json_schema() -> dict[str, Any]:
    """JSON Schema (draft-07) of a scenario file, generated from :data:`FORMAT`.

    Draft-07 because that is what the YAML language server (and so most editors) implements.

    A file with ``extends`` is checked as a partial scenario (no key required), since its
    parent supplies the rest; the loader checks the merged whole.
    """
    elements = [e for e in FORMAT if e != "top"]
    defs: dict[str, Any] = {e: _object(e, False) for e in elements}
    defs.update({f"partial_{e}": _object(e, True) for e in _MERGED})
    defs["distribution"] = _distribution()
    defs["requirement"] = _requirement()
    defs["scenario"] = _object("top", False)
    root = _object("top", True)  # every key, for completion; the full rules apply below
    return {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "$id": SCHEMA_ID,
        "title": "ilrs-sim scenario",
        "description": "A scenario file of ilrs-sim (generated from sim/schema.py; `ilrs "
                       "validate` remains the authority on values, e.g. unknown ids or cycles).",
        **root,
        "if": {"not": {"required": ["extends"]}},
        "then": {"$ref": "#/definitions/scenario"},
        "definitions": defs,
    }


def schema_text() -> str:
    """The JSON Schema as the text ``ilrs schema`` prints and the package ships."""
    return json.dumps(json_schema(), indent=2) + "\n"
