"""What-if variants of a scenario, shared by the browser page (:mod:`sim.app`) and the notebook
widgets (:mod:`sim.widgets`).

A what-if is a set of changes to the inputs that matter, written as a small YAML file that
``extends`` the original. The inputs are the uncertain parameters a parameters file declares
(:mod:`sim.parameters`) when one is given, otherwise a fallback set: planned dates, success of
missions, reliability of vehicles, risk probabilities and the goal's ``at_least`` count. A
declared parameter may reach several values (``{a,b}``, ``*``) or scale whole distributions
(``scale:``): its variant is made by ``ParameterSpace.apply`` and written as every resolved value
that changed, so the file says exactly what the page ran. The variant is always built by
loading that YAML, so what the page shows is exactly what ``ilrs run`` gives for the saved
file with the same seed; and since only the changed elements' values differ, every other
random draw is the same (common random numbers): the difference from the original is due to
the change, not to noise.
"""

from __future__ import annotations

import copy
import html
import io
import math
import os
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from matplotlib.figure import Figure

from .engine import DEFAULT_ENGINE
from .model import AtLeast, Requirement, Scenario
from .montecarlo import run
from .output import missing_parents
from .parameters import ParameterSpace, date_number, load_parameters
from .plotting import plot_goal_histogram, plot_schedule
from .results import Results
from .scenario import is_atomic_path, load_scenario, parse_scenario
from .yamlio import dump_yaml

# A changed value's address in the scenario file, e.g. ("vehicles", "lm9", "reliability"); a
# declared parameter's is its path alone, e.g. ("activities.{ce7,ce8}.success",).
Key = tuple[str, ...]
DECIMALS = 4  # slider values are rounded so that the saved YAML reads as the user set it
# A what-if re-runs on every move of a control: few trials, a fixed seed (common random numbers
# between moves), for the page and the notebook widgets alike.
DEFAULT_TRIALS = 2000
DEFAULT_SEED = 20260413


@dataclass(frozen=True)
class Control:
    """One input the user may change."""

    key: Key
    kind: str  # "probability", "number", "date" or "count"
    label: str
    value: float | int | date
    group: str  # the element it belongs to, for grouping on the page
    source: str | None = None  # the key of sources behind the original value
    # The range: "count" from `low` to `high`; a declared "number" or "date" (days since
    # 1970-01-01) too; a fallback date has none, a probability is 0 to 1.
    high: float = 1
    low: float = 1
    step: float = 0.01

    @property
    def bounded(self) -> bool:
        """Whether the control has a declared range (a declared parameter's)."""
        return len(self.key) == 1


# The documented default parameters file of a shipped scenario, in the `parameters` folder beside
# the scenario's folder.
DEFAULT_PARAMETERS = {"ilrs_baseline.yaml": "ilrs_judgements.yaml"}


def default_parameters(scenario_file: str | os.PathLike[str]) -> Path | None:
    """The parameters file a scenario's page uses when none is named, if it has one."""
    name = DEFAULT_PARAMETERS.get(Path(scenario_file).name)
    if name is None:
        return None
    found = Path(scenario_file).resolve().parent.parent / "parameters" / name
    return found if found.is_file() else None


def parameter_space(scenario: Scenario, parameters: str | os.PathLike[str] | bool
                    ) -> ParameterSpace | None:
    """The declared parameters a what-if of `scenario` offers: those of the file `parameters`,
    of the documented default when True (None if the scenario has none), none when False.
    ScenarioError (with file and line) when the file is wrong."""
    if parameters is False:
        return None
    if parameters is True:
        found = default_parameters(source_file(scenario))
        if found is None:
            return None
        parameters = found
    return load_parameters(parameters, scenario)


def _step(low: float, high: float) -> float:
    """About 10 to 100 steps over the range, at a round number."""
    return float(10.0 ** (math.floor(math.log10(high - low)) - 1))


def declared_controls(space: ParameterSpace) -> list[Control]:
    """A control per declared parameter (in file order), starting at the scenario's own value
    (1 for a multiplier; the middle of the range when its places differ), over the declared
    range (widened to include the scenario's own value)."""
    out: list[Control] = []
    where = os.path.basename(space.file)
    for p in space.parameters:
        current = space.current(p.path)
        start = current if current is not None else (p.low + p.high) / 2
        low, high = min(p.low, start), max(p.high, start)
        scale, body = p.path.startswith("scale:"), p.path.removeprefix("scale:")
        section, _, rest = body.partition(".")
        # The card names the section; a multiplier says so.
        label = ("scale: " if scale else "") + rest
        common: dict[str, Any] = {"label": label, "group": f"declared: {section}",
                  "source": f"{where}:{p.line}", "low": low, "high": high}
        if p.kind == "whole":
            out.append(Control((p.path,), "count", value=round(start), step=1, **common))
        elif p.kind == "date":
            day = date.fromordinal(round(start) + date(1970, 1, 1).toordinal())
            out.append(Control((p.path,), "date", value=day, step=1, **common))
        else:
            out.append(Control((p.path,), "number", value=start, step=_step(low, high),
                               **common))
    return out


def controls(scenario: Scenario, space: ParameterSpace | None = None) -> list[Control]:
    """The inputs of `scenario` that a what-if may change, grouped by element: the declared
    parameters of `space` when given, else the fallback set."""
    if space is not None:
        return declared_controls(space)
    out: list[Control] = []
    goal = scenario.goal
    at_least = _first_at_least(goal.requires)
    if at_least is not None:
        out.append(Control(("goal", "at_least"), "count", f"at least how many of "
                           f"{len(at_least.parts)}", at_least.count, f"goal: {goal.name}",
                           high=len(at_least.parts)))
    for v in scenario.vehicles:
        out.append(Control(("vehicles", v.id, "reliability"), "probability", "reliability",
                           v.reliability, f"vehicle: {v.name}", v.source))
    for a in scenario.activities:
        if a.settled:
            continue
        group = f"mission: {a.name}"
        if a.planned is not None:
            out.append(Control(("activities", a.id, "planned"), "date", "planned", a.planned,
                               group, a.source))
        out.append(Control(("activities", a.id, "success"), "probability", "success",
                           a.success, group, a.source))
    for r in scenario.risks:
        field = "probability" if r.probability is not None else "annual_probability"
        value = r.probability if r.probability is not None else r.annual_probability
        assert value is not None
        out.append(Control(("risks", r.id, field), "probability",
                           "probability" if field == "probability" else "probability per year",
                           value, f"risk: {r.name}", r.source))
    return out


def source_file(scenario: Scenario) -> str:
    """The file the scenario was read from; ValueError when there is none (a variant
    `extends` that file)."""
    if scenario.path is None or not os.path.isfile(scenario.path):
        raise ValueError("the scenario must come from a file (load_scenario), so that a "
                         "variant can extend it")
    return scenario.path


def _first_at_least(req: Requirement) -> AtLeast | None:
    if isinstance(req, AtLeast):
        return req
    for part in getattr(req, "parts", ()):
        found = _first_at_least(part)
        if found is not None:
            return found
    return None


def _set_first_at_least(data: Any, count: int) -> bool:
    """Set the first `at_least` (depth first, in file order) of a requires mapping."""
    if isinstance(data, dict):
        if "at_least" in data:
            data["at_least"] = count
            return True
        return any(_set_first_at_least(v, count) for v in data.values())
    if isinstance(data, list):
        return any(_set_first_at_least(v, count) for v in data)
    return False


def _plain(value: float | int | date) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return round(value, DECIMALS)
    return value


def changed(scenario: Scenario, values: Mapping[Key, Any],
            space: ParameterSpace | None = None) -> dict[Key, Any]:
    """The values that differ from the controls' start (rounded as they will be saved)."""
    original = {c.key: _plain(c.value) for c in controls(scenario, space)}
    unknown = set(values) - set(original)
    if unknown:
        raise KeyError(f"not inputs of this scenario: {sorted(unknown)}")
    return {k: _plain(v) for k, v in values.items() if _plain(v) != original[k]}


def _overlay(old: Any, new: Any, path: tuple[str | int, ...] = ()) -> dict[str, Any]:
    """What a child file must write for `extends` to turn resolved data `old` into `new`:
    changed keys of mappings merged key by key, and whole values where `extends` replaces
    them whole (lists, and the scenario loader's atomic mappings such as distributions)."""
    out: dict[str, Any] = {}
    for key, value in new.items():
        before = old.get(key)
        if before == value:
            continue
        where = (*path, key)
        if isinstance(value, dict) and isinstance(before, dict) and not is_atomic_path(where):
            out[key] = _overlay(before, value, where)
        else:
            out[key] = copy.deepcopy(value)
    return out


def declared_variant_data(space: ParameterSpace, changes: Mapping[Key, Any]) -> dict[str, Any]:
    """The resolved values that ``space.apply`` changes for the (saved-form) `changes`."""
    design: dict[str, float] = {}
    for (path,), value in changes.items():
        kind = space.parameter(path).kind
        design[path] = (date_number(date.fromisoformat(value)) if kind == "date"
                        else float(value))
    assert space.scenario.resolved is not None
    return _overlay(space.scenario.resolved, space.apply(design).resolved)


def variant_yaml(scenario: Scenario, values: Mapping[Key, Any], target: str | os.PathLike[str],
                 space: ParameterSpace | None = None) -> str:
    """YAML of the variant, to be stored at `target`: it `extends` the original (by a path
    relative to `target`'s folder) and sets only the changed values."""
    changes = changed(scenario, values, space)
    # Real paths: the system resolves `..` after following links, so the relative path must
    # be computed between the folders as they really are.
    parent = os.path.relpath(os.path.realpath(source_file(scenario)),
                             os.path.realpath(os.path.dirname(os.path.abspath(target))))
    data: dict[str, Any] = {"extends": parent}
    if changes:  # unchanged, it is the original, title and all
        data["scenario"] = f"{scenario.title} (what-if)"
        data["description"] = "What-if: " + "; ".join(
            f"{'.'.join(k)} {v}" for k, v in changes.items())
    if space is not None and changes:
        data.update(declared_variant_data(space, changes))
        changes = {}
    for key, value in changes.items():
        if key == ("goal", "at_least"):
            assert scenario.resolved is not None
            requires = copy.deepcopy(scenario.resolved["goal"]["requires"])
            _set_first_at_least(requires, int(value))
            data.setdefault("goal", {})["requires"] = requires
        else:
            section, ident, field = key
            data.setdefault(section, {}).setdefault(ident, {})[field] = value
    header = (f"# A what-if variant of {parent}, made with ilrs-sim's what-if page or widgets.\n"
              "# judgement: the values below are a user's what-if, not sourced data; every\n"
              f"# other number, and its source, is in {parent}.\n")
    return header + dump_yaml(data)


def build_variant(scenario: Scenario, values: Mapping[Key, Any],
                  space: ParameterSpace | None = None) -> Scenario:
    """The variant as ``load_scenario`` reads it from a file beside the original."""
    beside = os.path.join(os.path.dirname(os.path.abspath(source_file(scenario))), "what-if.yaml")
    return parse_scenario(variant_yaml(scenario, values, beside, space), beside)


def save_variant(scenario: Scenario, values: Mapping[Key, Any],
                 target: str | os.PathLike[str], space: ParameterSpace | None = None) -> Path:
    """Write the variant YAML to `target` (whole or not at all) and check that it loads."""
    out = Path(target)
    if out.is_dir():
        raise IsADirectoryError(f"{out}: is a folder, not a file")
    text = variant_yaml(scenario, values, out, space)
    # The folder must exist for `extends` to resolve through it.
    with missing_parents(out):
        parse_scenario(text, str(out))
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(tmp, out)
    load_scenario(out)
    return out


def evaluate(scenario: Scenario, trials: int, seed: int, engine: str = DEFAULT_ENGINE) -> Results:
    """The run behind every answer on the page: one worker, since a pool costs more to start
    than a few thousand trials take."""
    return run(scenario, trials=trials, seed=seed, workers=1, engine=engine)


DPI = 80  # figures on screen


def answer_html(res: Results, base: Results | None, elapsed: float, what: str) -> str:
    """The answer as HTML: P(goal by deadline) with its interval and the count of trials met
    (``#probability``, whose data-variant attribute names the changes), the change from `base`,
    the goal-date percentiles and the time taken."""
    sc, (lo, hi) = res.scenario, res.ci95
    met = int(res.met.sum())
    pct = "  ".join(f"{k.upper()} {v.isoformat() if v else 'never'}"
                    for k, v in res.percentiles.items())
    change = ""
    if base is not None:
        diff = res.probability - base.probability
        change = (f"<div>Change from the original: <b id='change'>{diff * 100:+.1f} "
                  "points</b> (same seed: common random numbers)</div>")
    return (
        f"<div style='font-size:15px'><div>P({html.escape(sc.goal.name)} by "
        f"{sc.goal.deadline}) = <b id='probability' style='font-size:22px' data-met='{met}' "
        f"data-trials='{res.trials}' data-variant='{html.escape(what, quote=True)}'>"
        f"{res.probability:.1%}</b> (95% CI {lo:.1%} to "
        f"{hi:.1%}; <span id='met'>{met:,} of {res.trials:,}</span> trials, seed "
        f"<span id='seed'>{res.seed}</span>)</div>{change}"
        f"<div>Goal date: {pct}; never met in {res.p_never:.1%} of trials</div>"
        f"<div style='color:#666'>computed in {elapsed:.2f} s</div></div>")


def _png(draw: Callable[[Any], Any], size: tuple[float, float]) -> bytes:
    fig = Figure(figsize=size, layout="constrained")
    draw(fig.add_subplot())
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI)
    return buf.getvalue()


def figures(res: Results) -> tuple[bytes, bytes]:
    """PNGs of the goal-date histogram with its S-curve, and of the schedule chart."""
    rows = sum(not a.settled for a in res.scenario.activities)
    return (_png(lambda ax: plot_goal_histogram(res, ax), (8.5, 4.6)),
            _png(lambda ax: plot_schedule(res, ax), (9.5, 1.4 + 0.36 * max(rows, 3))))
