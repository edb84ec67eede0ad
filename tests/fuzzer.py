"""A mutation fuzzer over the shipped scenarios: every input must give a run or a clean error.

Each case takes a shipped scenario (resolved, so it stands alone), applies one to three
mutations (to the data: deleted keys, wrong types, extreme and non-finite numbers, impossible
dates, unknown ids, cycles, deep nesting, many elements; or to the text: odd bytes, unknown
and object-building tags, alias bombs, duplicated lines, truncation, hostile `extends`
targets), loads it and runs 50 trials. The outcome is one of

- ``ran``: loaded and ran, and the run satisfies the engine's invariants (:func:`violations`);
- ``refused``: a ScenarioError whose every problem names its file and line;
- ``unlocated``: a ScenarioError with a problem that does not say where (a finding);
- ``crash``: any other exception (a finding), ``hang``: over the time limit (a finding);
- ``invariant``: a run that breaks an invariant (a finding).

``python tests/fuzzer.py --cases N`` prints the tally and the findings; ``make fuzz`` runs
10,000 cases and writes the tally into the README. tests/test_fuzz.py runs a few hundred.
"""

from __future__ import annotations

import argparse
import copy
import json
import multiprocessing
import os
import random
import re
import signal
import sys
import tempfile
import textwrap
import time
import traceback
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sim import ScenarioError, load_scenario, resolved_yaml, run  # noqa: E402
from sim.results import PERCENTILES, Results  # noqa: E402
from sim.timebase import day_index, last_day  # noqa: E402

TRIALS = 50
TIME_LIMIT_S = 20

HOSTILE: list[Any] = [
    None, True, False, "maybe", "", "x" * 300, "ce7", "CE-7", -1, 0, 1, 2, 3, 0.5, 1.2, -0.5,
    127, 128, 10**5, 10**12, 10**400, -(10**400), 1e300, -1e300, 1e-300, 5e-324,
    float("nan"), float("inf"), float("-inf"), [], {}, [1, 2], ["a", "b"], {"a": 1},
    "9999-12-31", "9999", 9999, "0001-01-01", "1000-01-01", "2026-02-30", "2026-13", "1e3",
    {"uniform": [1e300, 1.5e300]}, {"uniform": [0, 1e308]},
    {"lognormal": {"median": 1e-300, "p90": 1e300}}, {"lognormal": {"median": 1e6, "p90": 1e9}},
    {"triangular": [0, 1e300, 1e301]}, {"pert": [0, 0, 0]}, {"empirical": []},
    {"empirical": [1e300, 1e-300]}, {"period": 1e-6, "anchor": "9999-12-01"},
    {"period": 1e-9, "anchor": "1000-01-01"}, {"attempts": 10**5, "rebuild": 0},
    {"attempts": 128, "rebuild": 1}, {"attempts": 10**12, "rebuild": 1},
    {"all": []}, {"at_least": 10**400, "of": ["a"]}, {"any": [{"all": ["x"]}]},
]

TAGS = ["!!bool maybe", "!!python/object/apply:os.system ['true']", "!foo bar", "!!int 1e3",
        "!!float x", "!!timestamp 2026-13-01", "!!binary aGk=", "!!set {a, b}", "!!omap [a: 1]",
        "!!str", "!!null x", "!!map [1, 2]", "!!seq {a: 1}"]

ALIAS_BOMB = "".join(
    f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 9) + "]\n" if i else 'l0: &l0 ["lol"]\n'
    for i in range(9))


@dataclass
class Outcome:
    kind: str
    detail: str = ""
    mutations: list[str] = field(default_factory=list)


# -- mutations ------------------------------------------------------------------------------------
def _paths(data: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield path
    if isinstance(data, dict):
        for k, v in data.items():
            yield from _paths(v, path + (k,))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            yield from _paths(v, path + (i,))


def _get(data: Any, path: tuple[Any, ...]) -> Any:
    for p in path:
        data = data[p]
    return data


def _text_of(data: Any, rng: random.Random) -> str:
    """YAML of mutated data (block style, or JSON, which is YAML too and much faster to
    write); DEEP<n> placeholders become n nested flow lists and mappings (built as text: the
    writer would recurse as deeply as the reader is asked to)."""
    from sim.yamlio import dump_yaml

    if rng.random() < 0.5:
        text = dump_yaml(data)
    else:
        try:
            text = json.dumps(data, indent=1, allow_nan=False)
        except ValueError:  # NaN and infinities: only YAML can spell them
            text = dump_yaml(data)
    return re.sub(r'"?\bDEEP(\d+)\b"?', lambda m: "[{k: " * (int(m[1]) // 2) + "1"
                  + "}]" * (int(m[1]) // 2), text)


def mutate_data(data: dict[str, Any], rng: random.Random) -> str:
    """Change `data` in place; return a description of the change."""
    paths = [p for p in _paths(data) if p]
    path = rng.choice(paths)
    parent, key = _get(data, path[:-1]), path[-1]
    acts = list(data.get("activities", {}) or {})
    op = rng.choice(["set"] * 6 + ["delete"] * 2 + ["rename", "cycle", "deep", "many", "done",
                                                     "hang"])
    if op == "set":
        value = copy.deepcopy(rng.choice(HOSTILE))
        parent[key] = value
        return f"set {path} = {value!r:.60}"
    if op == "delete":
        del parent[key]
        return f"delete {path}"
    if op == "rename" and isinstance(key, str):
        new = rng.choice(["ce_7", "trial", "Goal", "x" * 80, "1abc", "succes", key + "2"])
        parent[new] = parent.pop(key)
        return f"rename {path} -> {new}"
    if op == "cycle" and len(acts) >= 2:
        a, b = rng.sample(acts, 2)
        data["activities"][a] = {**(data["activities"][a] or {}), "after": [b]}
        data["activities"][b] = {**(data["activities"][b] or {}), "after": [a]}
        return f"cycle {a} <-> {b}"
    if op == "deep":
        depth = rng.choice([10, 100, 700, 3000])
        parent[key] = f"DEEP{depth}"  # written as flow text after dumping: see _text_of
        return f"nest {path} {depth} deep"
    if op == "many":
        n = rng.choice([100] * 6 + [1000] * 3 + [12000])
        data["activities"] = {f"m{i}": {"duration": 1} for i in range(n)} | (
            data.get("activities") or {})
        return f"{n} more activities"
    if op == "done" and acts:
        a = rng.choice(acts)
        data["activities"][a] = {**(data["activities"][a] or {}),
                                 "done": rng.choice(["2099-01-01", "1000-01-01", "9999-12-31"])}
        return f"done date on {a}"
    if op == "hang" and acts:
        a = rng.choice(acts)
        data["activities"][a] = {**(data["activities"][a] or {}), "success": 0,
                                 "on_failure": {"attempts": rng.choice([100, 10**5]),
                                                "rebuild": rng.choice([0, 1e-300, 1])}}
        return f"endless failures on {a}"
    parent[key] = None
    return f"null {path}"


def mutate_text(text: str, rng: random.Random, folder: Path) -> str | bytes:
    """A mutated copy of the YAML text (bytes when it is no longer UTF-8)."""
    lines = text.splitlines(keepends=True)
    op = rng.choice(["bytes", "tag", "bomb", "dup", "truncate", "indent", "extends", "unicode"])
    i = rng.randrange(len(lines))
    if op == "bytes":
        raw = text.encode()
        at = rng.randrange(len(raw))
        junk = bytes(rng.choice([0xFF, 0xC3, 0x00, 0x80, 0xFE, 0x07, 0x1B]) for _ in range(3))
        return raw[:at] + junk + raw[at:]
    if op == "tag":
        m = re.match(r"(\s*[\w-]+:)\s*(\S.*)?$", lines[i])
        if m:
            lines[i] = f"{m[1]} {rng.choice(TAGS)}\n"
        return "".join(lines)
    if op == "bomb":
        return ALIAS_BOMB + text
    if op == "dup":
        lines.insert(i, lines[i])
        return "".join(lines)
    if op == "truncate":
        return text[: rng.randrange(len(text))]
    if op == "indent":
        lines[i] = rng.choice(["\t", "   ", ""]) + lines[i].lstrip()
        return "".join(lines)
    if op == "unicode":
        lines[i] = lines[i].replace(":", rng.choice(["\u00a0:", ":\u200b", "\ufeff:"]), 1)
        return "".join(lines)
    target = _hostile_parent(rng, folder)
    return f"extends: {target}\n" + "\n".join(
        line for line in text.splitlines() if not line.startswith("extends:")) + "\n"


def _hostile_parent(rng: random.Random, folder: Path) -> str:
    kind = rng.choice(["zero", "fifo", "chain", "self", "dir", "missing", "big"])
    if kind == "zero":
        return "/dev/zero"
    if kind == "fifo":
        fifo = folder / "fifo.yaml"
        if not fifo.exists():
            os.mkfifo(fifo)
        return str(fifo)
    if kind == "chain":
        depth = rng.choice([40, 1000])
        for n in range(depth):
            body = f"extends: c{n + 1}.yaml\n" if n + 1 < depth else "scenario: end\n"
            (folder / f"c{n}.yaml").write_text(body)
        return "c0.yaml"
    if kind == "self":
        return "case.yaml"
    if kind == "dir":
        return str(folder)
    if kind == "big":
        big = folder / "big.yaml"
        if not big.exists():
            big.write_text("# " + "x" * 100 + "\n" * 200_000)
        return "big.yaml"
    return "no_such_parent.yaml"


# -- invariants -----------------------------------------------------------------------------------
def violations(res: Results) -> list[str]:
    """What in a run breaks the engine's invariants (empty when nothing does).

    For each activity and trial: a start is never after its finish, nor before its ready
    time, nor before the first ready time, as reported dates (the day each time falls in);
    the first attempt is ready no earlier than each predecessor's finish (lags are never
    negative) and no earlier than its planned date; and every time is a date in the calendar.
    P lies in [0, 1] and the goal percentiles never decrease.
    """
    sc = res.scenario
    out = []
    finish, start = day_index(res.finish_days), day_index(res.start_days.astype(np.float64))
    ready = day_index(res.ready_days.astype(np.float64))
    first = day_index(res.first_ready_days.astype(np.float64))
    ran = (res.attempts > 0) & np.isfinite(finish)
    for name, bad in (("start after finish", ran & (start > finish)),
                      ("start before ready", ran & (start < ready)),
                      ("ready before first ready", ran & (ready < first))):
        if bad.any():
            j = int(np.argwhere(bad)[0][1])
            out.append(f"{name}: {sc.activities[j].id} in {int(bad.sum())} trial(s)")
    index = sc.activity_index
    vehicle_after = {v.id: v.after for v in sc.vehicles}
    for j, act in enumerate(sc.activities):
        if act.done is not None:
            continue
        tried = res.attempts[:, j] > 0
        for dep in act.after:
            bad = tried & (first[:, j] < finish[:, index[dep.id]])
            if bad.any():
                out.append(f"{act.id} ready before its predecessor {dep.id} finished")
        # A launch on its only vehicle leaves no earlier than that vehicle's `after` finish.
        for p in vehicle_after.get(act.vehicles[0], ()) if len(act.vehicles) == 1 else ():
            bad = tried & np.isfinite(finish[:, j]) & (start[:, j] < finish[:, index[p]])
            if bad.any():
                out.append(f"{act.id} launched before its vehicle's {p} finished")
        if act.planned is not None:
            # A calibrated slip may be early, but never before as_of; other slips only late.
            early = act.slip is not None and act.slip.minimum < 0
            floor = 0 if early else (act.planned - sc.as_of).days
            bad = tried & (first[:, j] < floor)
            if bad.any():
                out.append(f"{act.id} ready before {'as_of' if early else 'its planned date'}")
    limit = last_day(sc.as_of)
    for name, arr in (("finish", finish), ("start", start), ("goal", day_index(res.goal_days))):
        finite = arr[np.isfinite(arr)]
        if finite.size and (finite.max() > limit or np.isnan(arr).any()):
            out.append(f"{name} time outside the calendar")
    if not 0 <= res.probability <= 1:
        out.append(f"P = {res.probability}")
    days = [d for d in (res.percentiles[f"p{q}"] for q in PERCENTILES)]
    known = [d for d in days if d is not None]
    if known != sorted(known) or days[len(known):] != [None] * (len(days) - len(known)):
        out.append(f"percentiles not monotone: {days}")
    return out


# -- running cases --------------------------------------------------------------------------------
class _Hang(Exception):
    pass


def _alarm(signum: int, frame: Any) -> None:
    raise _Hang


def check_file(path: Path, trials: int = TRIALS) -> Outcome:
    """Load and run one scenario file; classify what happened."""
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(TIME_LIMIT_S)
    try:
        scenario = load_scenario(path)
        res = run(scenario, trials=trials, seed=1, workers=1, keep_ready=True)
        resolved_yaml(scenario)
        bad = violations(res)
        return Outcome("invariant", "; ".join(bad)) if bad else Outcome("ran")
    except ScenarioError as err:
        # A file that cannot be read at all has no line to name; any other problem must.
        unlocated = [str(p) for p in err.problems if p.line is None and os.path.isfile(p.file)
                     and "too large" not in p.message]
        if unlocated or not err.problems:
            return Outcome("unlocated", unlocated[0] if unlocated else "no problems listed")
        return Outcome("refused")
    except _Hang:
        return Outcome("hang")
    except (Exception, RecursionError) as exc:  # noqa: BLE001 - a crash is what we look for
        frames = [f for f in traceback.extract_tb(exc.__traceback__) if "/sim/" in f.filename]
        where = f"{Path(frames[-1].filename).name}:{frames[-1].lineno}" if frames else "?"
        return Outcome("crash", f"{type(exc).__name__} at {where}: {str(exc)[:120]}")
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def shipped() -> list[Path]:
    """The shipped scenarios (scenarios/slip_rules.yaml is the slip rules they use)."""
    return sorted(p for p in ROOT.glob("scenarios/**/*.yaml") if p.name != "slip_rules.yaml")


def seeds() -> list[tuple[str, dict[str, Any]]]:
    """The shipped scenarios, resolved (no extends), as plain data."""
    out = []
    for path in shipped():
        sc = load_scenario(path)
        assert sc.resolved is not None
        out.append((path.stem, copy.deepcopy(dict(sc.resolved))))
    return out


def fuzz(cases: int, seed: int = 0, progress: Callable[[int], None] | None = None
         ) -> tuple[Counter[str], list[Outcome]]:
    """Run `cases` mutated scenarios; the tally by outcome and the findings."""
    rng = random.Random(seed)
    base = seeds()
    tally: Counter[str] = Counter()
    findings: list[Outcome] = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for n in range(cases):
            name, data = rng.choice(base)
            data = copy.deepcopy(data)
            done = [name]
            for _ in range(rng.choice([1, 1, 2, 3])):
                try:
                    done.append(mutate_data(data, rng))
                except (IndexError, KeyError, TypeError, ValueError):
                    pass
            text: str | bytes = _text_of(data, rng)
            if rng.random() < 0.35:
                text = mutate_text(str(text), rng, folder)
                done.append("text mutation")
            path = folder / "case.yaml"
            if isinstance(text, bytes):
                path.write_bytes(text)
            else:
                path.write_text(text, encoding="utf-8")
            outcome = check_file(path)
            outcome.mutations = done
            tally[outcome.kind] += 1
            if outcome.kind not in ("ran", "refused"):
                findings.append(outcome)
                (folder / f"finding{len(findings)}.yaml").write_bytes(path.read_bytes())
            if progress:
                progress(n)
    return tally, findings


def limit_memory(gib: float = 6) -> None:
    """Make a runaway allocation a MemoryError (a finding) rather than the OOM killer's."""
    import resource

    limit = int(gib * 2**30)
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def main() -> int:
    limit_memory()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--jobs", type=int, default=len(os.sched_getaffinity(0)))
    parser.add_argument("--write-readme", action="store_true")
    args = parser.parse_args()
    began = time.perf_counter()
    # Independent streams of cases, one per process: case i of job j is the same every time.
    shares = [args.cases // args.jobs + (j < args.cases % args.jobs) for j in range(args.jobs)]
    with multiprocessing.get_context("fork").Pool(args.jobs) as pool:
        parts = pool.starmap(fuzz, [(n, args.seed * 1000 + j) for j, n in enumerate(shares)])
    tally: Counter[str] = sum((t for t, _ in parts), Counter())
    findings = [f for _, fs in parts for f in fs]
    elapsed = time.perf_counter() - began
    for f in findings[:50]:
        print(f"{f.kind}: {f.detail} <- {' / '.join(f.mutations)}")
    kinds = ("ran", "refused", "unlocated", "crash", "hang", "invariant")
    print(", ".join(f"{k} {tally[k]:,}" for k in kinds), f"({elapsed:.0f} s)")
    if args.write_readme:
        _write_readme(args.cases, args.seed, tally, elapsed)
    return 1 if findings else 0


def _write_readme(cases: int, seed: int, tally: Counter[str], elapsed: float) -> None:
    readme = ROOT / "README.md"
    text = readme.read_text(encoding="utf-8")
    tally_line = (f"{cases:,} cases (seed {seed}, {TRIALS} trials each, "
                  f"{elapsed / 60:.0f} min): {tally['ran']:,} ran and kept every invariant, "
                  f"{tally['refused']:,} were refused with located errors; "
                  f"{tally['unlocated']} unlocated errors, {tally['crash']} crashes, "
                  f"{tally['hang']} hangs, {tally['invariant']} broken invariants.")
    prose = textwrap.fill(tally_line, 100, break_long_words=False, break_on_hyphens=False)
    block = f"<!-- fuzz:start -->\n{prose}\n<!-- fuzz:end -->"
    text = re.sub(r"<!-- fuzz:start -->.*?<!-- fuzz:end -->", block, text, flags=re.S)
    readme.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())


__all__ = ["check_file", "fuzz", "mutate_data", "mutate_text", "violations"]
