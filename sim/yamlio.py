"""Scenario YAML in and out: safe reading that remembers where every value was written,
`extends`, and writing a scenario back as YAML.

The loader composes the YAML node graph and builds plain Python data from it itself, instead
of letting a ruamel constructor do it, for three reasons:

- every tag is checked before anything is built, so ``!!python/...`` and unknown local tags are
  reported as problems and can never construct objects (ruamel's round-trip loader silently
  keeps them as tagged data; its safe loader stops at the first one);
- duplicate keys are reported with both lines and reading continues, so the user sees every
  problem in one go;
- each value's location is kept in ``Document.lines`` keyed by its path, which survives the
  `extends` merge, so a problem in a parent file still names that file and line.

Plain data means dict / list / str / int / float / bool / None; timestamps become ISO strings and
mapping keys are the key's text as written.
"""

from __future__ import annotations

import dataclasses
import io
import os
import re
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from .distributions import ZERO
from .limits import MAX_DEPTH, MAX_EXTENDS, MAX_FILE_BYTES, MAX_VALUES
from .model import AllOf, AnyOf, AtLeast, Dependency, Scenario
from .problems import Path, Problem, ScenarioError, format_path

__all__ = ["Document", "Path", "Problem", "ScenarioError", "dump_yaml", "format_path", "merge",
           "read_document", "read_text", "resolve_extends", "scenario_to_data"]

_STD = "tag:yaml.org,2002:"
_SCALAR_TAGS = frozenset(_STD + t for t in ("str", "int", "float", "bool", "null", "timestamp"))
_MAP, _SEQ, _MERGE = _STD + "map", _STD + "seq", _STD + "merge"
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")

@dataclass
class Document:
    """Plain data plus the (file, 1-based line) where each path was written."""

    data: Any
    lines: dict[Path, tuple[str, int]]
    file: str
    # (file, path) of values the reader refused and replaced by null, so that the checks
    # do not report them a second time (as "required", "must be a mapping", ...).
    rejected: frozenset[tuple[str, str]] = frozenset()

    def where(self, path: Path) -> tuple[str, int]:
        """The location of `path`, or of its nearest ancestor written in a file."""
        for n in range(len(path), -1, -1):
            if path[:n] in self.lines:
                return self.lines[path[:n]]
        return (self.file, 1)


class _TooLarge(Exception):
    """Aliases expand the document beyond MAX_VALUES values or MAX_DEPTH levels."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line


class _Reader:
    """Builds plain data from one file's node graph, collecting problems as it goes."""

    def __init__(self, file: str, problems: list[Problem]) -> None:
        self.file = file
        self.problems = problems
        self.lines: dict[Path, tuple[str, int]] = {}
        self.yaml = YAML(typ="safe", pure=True)
        self.active: set[int] = set()  # nodes being built, to catch recursive aliases
        self.rejected: set[tuple[str, str]] = set()
        self.count = 0

    def read(self, text: str) -> Document | None:
        try:
            root = self.yaml.compose(text)
        except YAMLError as exc:
            self.problems.append(_syntax_problem(exc, self.file, text))
            return None
        except RecursionError:
            # ruamel's composer recurses once per level: a file nested hundreds of levels deep
            # exhausts the stack. The event scan (iterative, and slower, so only now) says where.
            if self._within_limits(text):  # pragma: no cover - the scan always finds it
                self._problem((), 1, f"nested more than {MAX_DEPTH} levels deep")
            return None
        if root is None:
            self._problem((), 1, "the file is empty; a scenario needs at least scenario, as_of, "
                          "activities and goal")
            return None
        self.lines[()] = (self.file, 1)
        if _expanded_size(root, {}, set()) > MAX_VALUES:  # counted, not built: bounded time
            self._problem((), 1, f"too large: aliases expand to more than {MAX_VALUES:,} values")
            return None
        try:
            data = self._value(root, (), 0)
        except _TooLarge as exc:
            self._problem((), exc.line, str(exc))
            return None
        return Document(data, self.lines, self.file, frozenset(self.rejected))

    def _within_limits(self, text: str) -> bool:
        """Nesting depth and size, checked on the event stream, which needs no recursion."""
        depth = values = 0
        for event in self.yaml.parse(text):
            kind = type(event).__name__
            if kind in ("MappingStartEvent", "SequenceStartEvent"):
                depth += 1
                if depth > MAX_DEPTH:
                    self._problem((), event.start_mark.line + 1,
                                  f"nested more than {MAX_DEPTH} levels deep")
                    return False
            elif kind in ("MappingEndEvent", "SequenceEndEvent"):
                depth -= 1
            values += 1
            if values > MAX_VALUES:
                self._problem((), event.start_mark.line + 1,
                              f"too large: more than {MAX_VALUES:,} values")
                return False
        return True

    def _problem(self, path: Path, line: int, message: str) -> None:
        self.problems.append(Problem(self.file, line, format_path(path), message))

    def _value(self, node: Node, path: Path, depth: int) -> Any:
        self.count += 1
        line = node.start_mark.line + 1
        if self.count > MAX_VALUES:
            raise _TooLarge(line, f"too large: aliases expand to more than {MAX_VALUES:,} values")
        if depth > MAX_DEPTH:
            raise _TooLarge(line, f"nested more than {MAX_DEPTH} levels deep")
        tag = _tag(node)
        if id(node) in self.active:
            return self._reject(path, line, "an alias refers to a value that contains it "
                                            "(recursion)")
        if isinstance(node, ScalarNode) and tag in _SCALAR_TAGS:
            return self._scalar(node, path, line)
        if isinstance(node, SequenceNode) and tag == _SEQ:
            return self._nested(node, path, depth, self._sequence)
        if isinstance(node, MappingNode) and tag == _MAP:
            return self._nested(node, path, depth, self._mapping)
        return self._reject(path, line, f"the YAML tag {_show_tag(tag)} is not allowed: "
                            "tags that construct objects or custom types are refused")

    def _reject(self, path: Path, line: int, message: str) -> None:
        """Report a value that cannot be read; it reads as null."""
        self._problem(path, line, message)
        self.rejected.add((self.file, format_path(path)))

    def _nested(self, node: Node, path: Path, depth: int,
                build: Callable[[Any, Path, int], Any]) -> Any:
        self.active.add(id(node))
        try:
            return build(node, path, depth + 1)
        finally:
            self.active.discard(id(node))

    def _scalar(self, node: ScalarNode, path: Path, line: int) -> Any:
        try:
            value = self.yaml.constructor.construct_object(node, deep=True)
        except Exception:  # any constructor failure (`!!bool maybe` is a KeyError) is a problem
            if _tag(node) == _STD + "timestamp":  # e.g. 2026-02-30: let the date check say so
                return str(node.value)
            return self._reject(path, line, f"cannot read '{node.value}' as "
                                            f"{_show_tag(_tag(node))}")
        # Dates stay text until validation, so `resolved` is plain data that dumps as written.
        return value.isoformat() if hasattr(value, "isoformat") else value

    def _sequence(self, node: SequenceNode, path: Path, depth: int) -> list[Any]:
        items = []
        for i, item in enumerate(node.value):
            self.lines[path + (i,)] = (self.file, item.start_mark.line + 1)
            items.append(self._value(item, path + (i,), depth))
        return items

    def _mapping(self, node: MappingNode, path: Path, depth: int) -> dict[str, Any]:
        result: dict[str, Any] = {}
        merges = [v for k, v in node.value if _tag(k) == _MERGE]
        # `<<: *base` first, so explicit keys override merged ones (YAML merge-key semantics).
        for source in self._merge_sources(merges, path):
            merged = self._value(source, path, depth - 1)
            if isinstance(merged, dict):
                result.update(merged)
        first_line: dict[str, int] = {}
        for key_node, value_node in node.value:
            line = key_node.start_mark.line + 1
            if _tag(key_node) == _MERGE:
                continue
            if not isinstance(key_node, ScalarNode) or _tag(key_node) not in _SCALAR_TAGS:
                self._problem(path, line, "a key must be a plain word or number")
                continue
            key = str(key_node.value)
            if key in first_line:
                self._problem(path + (key,), line,
                              f"duplicate key '{key}' (first given at line {first_line[key]})")
                continue
            first_line[key] = line
            self.lines[path + (key,)] = (self.file, line)
            result[key] = self._value(value_node, path + (key,), depth)
        return result

    def _merge_sources(self, merges: list[Node], path: Path) -> list[MappingNode]:
        """The mappings a `<<` key merges in, lowest priority first."""
        sources: list[MappingNode] = []
        for value in merges:
            nodes = value.value if isinstance(value, SequenceNode) else [value]
            for n in nodes:
                if isinstance(n, MappingNode):
                    sources.append(n)
                else:
                    self._problem(path, n.start_mark.line + 1, "'<<' must merge a mapping")
        return sources[::-1]


def _expanded_size(node: Node, memo: dict[int, int], active: set[int]) -> int:
    """How many values building `node` would make, aliases expanded; each node is counted
    once (memo), so a "billion laughs" file costs as little as its text. Recursion is as deep
    as the text's nesting, which the event scan has already bounded."""
    key = id(node)
    if key in memo:
        return memo[key]
    if key in active:  # a recursive alias: reported when building
        return 1
    active.add(key)
    n = 1
    if isinstance(node, SequenceNode):
        n += sum(_expanded_size(child, memo, active) for child in node.value)
    elif isinstance(node, MappingNode):
        n += sum(_expanded_size(value, memo, active) for _, value in node.value)
    active.discard(key)
    memo[key] = min(n, MAX_VALUES + 1)
    return memo[key]


def _tag(node: Node) -> str:
    tag = node.tag
    return str(getattr(tag, "value", tag))


def _show_tag(tag: str) -> str:
    return "!!" + tag[len(_STD):] if tag.startswith(_STD) else tag


def _syntax_problem(exc: YAMLError, file: str, text: str) -> Problem:
    last_line = max(1, text.count("\n") + (0 if text.endswith("\n") else 1))
    if isinstance(exc, MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        # At the end of the file, the useful line is where the unclosed thing started.
        if exc.context_mark and mark and getattr(mark, "index", 0) >= len(text.rstrip()):
            mark = exc.context_mark
        parts = [exc.context, exc.problem]
        if exc.context_mark and mark is not exc.context_mark and exc.context:
            parts[0] = f"{exc.context} (line {exc.context_mark.line + 1})"
        message = ", ".join(str(p) for p in parts if p)
        line = mark.line + 1 if mark else 1
    else:  # ReaderError: a character YAML does not allow; it knows only the offset
        position = getattr(exc, "position", 0) or 0
        line = text.count("\n", 0, position) + 1
        message = str(getattr(exc, "reason", "") or exc).splitlines()[0]
    return Problem(file, min(line, last_line), "", f"YAML syntax error: {message}")


def read_text(file: str, problems: list[Problem], line: int | None = None,
              path: str = "", where: str | None = None) -> str | None:
    """The file's text, or None with a problem (located at `where`:`line` when given).

    Only a regular file of at most MAX_FILE_BYTES is read: a FIFO would block and a device
    such as /dev/zero would never end. Bytes that are not UTF-8 are reported at their line.
    """
    raw, reason = _read_bytes(file)
    if raw is not None:
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            bad_line = raw.count(b"\n", 0, exc.start) + 1
            column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
            message = (f"not UTF-8 text: byte 0x{raw[exc.start]:02x} at line {bad_line}, "
                       f"column {column} (byte offset {exc.start}) {exc.reason}")
            if where is None:  # the file itself is the subject: locate the byte in it
                problems.append(Problem(file, bad_line, path, message))
                return None
            reason = message
    # Located at the `extends` that names it, if any; else the file itself is the subject.
    message = f"{reason}: {file}" if where else str(reason)
    problems.append(Problem(where or file, line, path, message))
    return None


def _read_bytes(file: str) -> tuple[bytes | None, str]:
    try:
        info = os.stat(file)
        if stat.S_ISDIR(info.st_mode):
            return None, "is a directory, not a file"
        if not stat.S_ISREG(info.st_mode):
            return None, "is not a regular file (a device, pipe or socket cannot be a scenario)"
        if info.st_size > MAX_FILE_BYTES:
            return None, (f"too large: {info.st_size:,} bytes, more than the limit of "
                          f"{MAX_FILE_BYTES:,}")
        with open(file, "rb") as fh:
            raw = fh.read(MAX_FILE_BYTES + 1)
        if len(raw) > MAX_FILE_BYTES:  # it grew since stat
            return None, f"too large: more than the limit of {MAX_FILE_BYTES:,} bytes"
        return raw, ""
    except FileNotFoundError:
        return None, "file not found"
    except OSError as exc:
        return None, f"cannot be read ({exc.strerror})"


def read_document(text: str, file: str, problems: list[Problem]) -> Document | None:
    """One file's data; None (with problems) when it is not YAML or not a mapping."""
    doc = _Reader(file, problems).read(text)
    if doc is not None and not isinstance(doc.data, dict):
        kind = "a list" if isinstance(doc.data, list) else f"'{doc.data}'"
        problems.append(Problem(file, 1, "", f"a scenario must be a mapping of keys, got {kind}"))
        return None
    return doc


def resolve_extends(doc: Document, problems: list[Problem], atomic: Callable[[Path], bool],
                    chain: tuple[tuple[str, str], ...] = ()) -> Document | None:
    """`doc` merged over its chain of parents, without the `extends` key.

    `atomic(path)` says which mappings replace the parent's value whole instead of merging.
    None (with problems) when a parent is missing, unreadable or part of a cycle.
    """
    from .news import apply_news, own_news  # news merges like a variant: import on use

    news = own_news(doc)  # this file's own events, applied over the merged whole
    chain = chain + ((os.path.realpath(doc.file), doc.file),)  # (identity, name shown)
    if "extends" not in doc.data:
        return apply_news(doc, news, problems, atomic)
    target = doc.data.pop("extends")
    file, line = doc.where(("extends",))
    if len(chain) > MAX_EXTENDS:
        problems.append(Problem(file, line, "extends", f"a chain of more than {MAX_EXTENDS} "
                                "files extending each other"))
        return None
    if not isinstance(target, str) or not target.strip():
        problems.append(Problem(file, line, "extends", f"must be a file name, got {target!r}"))
        return None
    parent_file = os.path.join(os.path.dirname(doc.file), target)
    if os.path.realpath(parent_file) in (real for real, _ in chain):
        shown = [name for _, name in chain] + [parent_file]
        problems.append(Problem(file, line, "extends", "cyclic extends: " + " -> ".join(shown)))
        return None
    text = read_text(parent_file, problems, line, "extends", where=file)
    if text is None:
        return None
    parent = read_document(text, parent_file, problems)
    if parent is None:
        return None
    parent = resolve_extends(parent, problems, atomic, chain)
    if parent is None:
        return None
    if isinstance(parent.data, dict) and "news" in doc.data:
        parent.data.pop("news", None)  # the parent's news is applied already; a file lists its own
    return apply_news(merge(parent, doc, atomic), news, problems, atomic)


def merge(parent: Document, child: Document, atomic: Callable[[Path], bool]) -> Document:
    """The child over the parent: mappings merge key by key, the rest is replaced, null removes.

    Each merged path keeps the location of the file that supplied its value.
    """
    data = _merge(parent.data, child.data, (), atomic)
    lines = {}
    for path in _paths(data, ()):
        loc = child.lines.get(path) or parent.lines.get(path)
        if loc is not None:
            lines[path] = loc
    return Document(data, lines, child.file, parent.rejected | child.rejected)


def _merge(old: Any, new: Any, path: Path, atomic: Callable[[Path], bool]) -> Any:
    if not (isinstance(old, dict) and isinstance(new, dict)) or atomic(path):
        return new
    result = dict(old)
    for key, value in new.items():
        if value is None:
            result.pop(key, None)
        elif key in result:
            result[key] = _merge(result[key], value, path + (key,), atomic)
        else:
            result[key] = value
    return result


def _paths(data: Any, path: Path) -> Iterator[Path]:
    yield path
    if isinstance(data, dict):
        for key, value in data.items():
            yield from _paths(value, path + (key,))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            yield from _paths(value, path + (i,))


def dump_yaml(data: Any) -> str:
    """YAML text of plain data, in its key order; short lists and mappings inline."""
    yaml = YAML(typ="rt", pure=True)
    yaml.default_flow_style = None
    yaml.width = 4096  # never fold long source citations across lines
    yaml.allow_unicode = True
    yaml.indent(mapping=2, sequence=4, offset=2)
    out = io.StringIO()
    yaml.dump(_dates_unquoted(data), out)
    return out.getvalue()


def _dates_unquoted(data: Any) -> Any:
    """ISO date strings as dates, so they are written `2026-04-30` rather than quoted.

    Reading converts them back to the same strings, so the round trip is exact.
    """
    if isinstance(data, dict):
        return {k: _dates_unquoted(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_dates_unquoted(v) for v in data]
    if isinstance(data, str) and _ISO_DATE.fullmatch(data):
        try:
            return date.fromisoformat(data)
        except ValueError:
            return data
    return data


def scenario_to_data(scenario: Scenario) -> dict[str, Any]:
    """The scenario-file mapping of a scenario made in Python; fields at their default are
    left out, so the YAML reads like one a person would write."""
    data: dict[str, Any] = {"scenario": scenario.title}
    if scenario.description:
        data["description"] = scenario.description
    data["as_of"] = scenario.as_of.isoformat()
    data["time_unit"] = scenario.time_unit
    if scenario.slip_rules:
        data["slip_rules"] = scenario.slip_rules
    if scenario.sources:
        data["sources"] = dict(scenario.sources)
    if scenario.factors:
        data["factors"] = {f.id: _plain(f.distribution) for f in scenario.factors}
    for key in ("vehicles", "risks", "activities"):
        elements = getattr(scenario, key)
        if elements:
            data[key] = {e.id: _element(e) for e in elements}
    data["goal"] = _plain(scenario.goal)
    return data


def _element(obj: Any) -> dict[str, Any]:
    out = {}
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        if f.name == "id" or value == f.default or (f.name == "name" and value == obj.id):
            continue
        out["vehicle" if f.name == "vehicles" else f.name] = _plain(value)
    return out


def _plain(value: Any) -> Any:
    """Model values in their YAML spelling (dates as ISO text)."""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Dependency):
        return value.id if value.lag == ZERO else {"id": value.id, "lag": _plain(value.lag)}
    if isinstance(value, AllOf | AnyOf):
        return {"all" if isinstance(value, AllOf) else "any": _plain(value.parts)}
    if isinstance(value, AtLeast):
        return {"at_least": value.count, "of": _plain(value.parts)}
    if hasattr(value, "to_yaml"):
        return value.to_yaml()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):  # Window, OnFailure, Goal
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    return value
