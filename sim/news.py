"""News recorded in a scenario file: each event says what happened, when, who reported it and
how sure that is, and what it changes in the model.

A file's own ``news:`` list is applied, in order, over the file as merged with its parents
(``extends``), each event's ``activities``/``risks``/``vehicles`` mappings merged like a
variant's. So an update is one short file, ``extends`` the previous forecast at a new
``as_of`` and lists the news; and the history attribution (:mod:`sim.history`) can apply the
events one at a time. An event changes elements the scenario already has: an unknown id is an
input error (a new element belongs in the sections, where it is named and sourced).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from .yamlio import Document, Path, Problem, ScenarioError, merge, read_document, read_text

SECTIONS = ("activities", "risks", "vehicles")
KIND = {"activities": "activity", "risks": "risk", "vehicles": "vehicle"}
# The marks of ../shared/data/ilrs_news_2026.md.
CONFIDENCE = ("confirmed", "single-source", "uncertain")


def own_news(doc: Document) -> list[tuple[int, dict[str, Any]]]:
    """The events written in this file, with their index (ill-formed ones are left to the
    checks, which report them)."""
    news = doc.data.get("news") if isinstance(doc.data, dict) else None
    if not isinstance(news, list):
        return []
    return [(i, e) for i, e in enumerate(news) if isinstance(e, dict)]


def chain_news(file: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """Every event the scenario in `file` has as resolved: each file's own along its
    `extends` chain, the root's first, in the order the loader applies them.

    Read the chain with :func:`sim.scenario.load_scenario` first: it reports what is wrong
    with one (a missing parent, a cycle); here a problem only raises ScenarioError.
    """
    events: list[dict[str, Any]] = []
    name: str | None = os.fspath(file)
    seen: set[str] = set()
    while name is not None and os.path.realpath(name) not in seen:
        seen.add(os.path.realpath(name))
        problems: list[Problem] = []
        text = read_text(name, problems)
        doc = None if text is None else read_document(text, name, problems)
        if doc is None:
            raise ScenarioError(problems)
        events[:0] = [event for _, event in own_news(doc)]
        target = doc.data.get("extends")
        # Relative to the file that names it, as the loader resolves it.
        name = os.path.join(os.path.dirname(name), target) if isinstance(target, str) else None
    return events


def apply_news(doc: Document, events: list[tuple[int, dict[str, Any]]],
               problems: list[Problem], atomic: Callable[[Path], bool]) -> Document:
    """`doc` with each event's changes merged over it, in order."""
    for i, event in events:
        doc = apply_event(doc, i, event, problems, atomic)
    return doc


def apply_event(doc: Document, i: int, event: dict[str, Any], problems: list[Problem],
                atomic: Callable[[Path], bool]) -> Document:
    """One event's changes over `doc`; an id the scenario lacks is a problem, not a new
    element. Locations of the changed values are the event's own lines."""
    changes: dict[str, Any] = {}
    lines: dict[Path, tuple[str, int]] = {}
    base: Path = ("news", i)
    for section in SECTIONS:
        part = event.get(section)
        if part is None:
            continue
        where = doc.where(base + (section,))
        if not isinstance(part, dict):
            continue  # reported by the checks (must be a mapping)
        known = doc.data.get(section) or {}
        if not isinstance(known, dict):
            continue  # reported by the checks (the scenario's section must be a mapping)
        kept = {}
        for ident, change in part.items():
            if ident not in known:
                file, line = doc.lines.get(base + (section, ident), where)
                problems.append(Problem(file, line, f"news[{i}].{section}.{ident}",
                                        f"unknown {KIND[section]} '{ident}' (an event changes "
                                        "an element the scenario has)"))
                continue
            kept[ident] = change
        changes[section] = kept
    for path, loc in doc.lines.items():
        if path[:2] == base and len(path) > 2 and path[2] in SECTIONS:
            lines[path[2:]] = loc
    return merge(doc, Document(changes, lines, doc.file), atomic)


def event_label(event: dict[str, Any], i: int) -> str:
    """A short name for an event in tables: its `what`, else its index."""
    what = event.get("what")
    return str(what) if what else f"news[{i}]"
