"""How the forecast moved between data dates, and why.

:func:`history` runs each scenario of a history (the forecast as it stood at each data date,
oldest first) with the same seed, and :func:`attribution` splits each step into parts: the
passage of time (the new ``as_of`` alone), then each recorded event the newer file has and
the older has not (its own ``news`` and the news it inherits through ``extends``) applied one
at a time, cumulatively, then anything else the newer file changes.
Each intermediate scenario is the older file extended with a prefix of the news, so the
loader does all the work (overdue slips are re-conditioned at the new ``as_of``); with the
same seed every element keeps its draws (common random numbers), and the parts are
differences of consecutive runs, so they add up exactly to the whole change (they telescope).
"""

from __future__ import annotations

import os
import tempfile
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .engine import DEFAULT_ENGINE
from .model import Scenario
from .montecarlo import run
from .news import chain_news, event_label
from .results import Results, percentile_day
from .scenario import load_scenario
from .yamlio import ScenarioError, dump_yaml

__all__ = ["attribution", "forecast_row", "history"]


def forecast_row(res: Results) -> dict[str, Any]:
    """The numbers a history tracks for one run."""
    lo, hi = res.ci95
    row: dict[str, Any] = {
        "as_of": res.scenario.as_of, "scenario": res.scenario.title,
        "p_goal": res.probability, "ci_lo": lo, "ci_hi": hi,
    }
    for q in (10, 50, 90):
        row[f"goal_p{q}"] = res.to_date(percentile_day(res.goal_days, q))
    for j, act in enumerate(res.scenario.activities):
        row[f"p50:{act.id}"] = res.to_date(percentile_day(res.finish_days[:, j], 50))
    return row


def history(paths: list[str | os.PathLike[str]], trials: int = 10_000, seed: int = 0,
            workers: int | None = None, engine: str = DEFAULT_ENGINE,
            progress: bool = False) -> pd.DataFrame:
    """One row per scenario (index: its file), oldest data date first: as_of, scenario,
    p_goal with its 95% interval (ci_lo, ci_hi), goal_p10/p50/p90 (dates, None = never), and
    ``p50:ID`` the median finish of each activity. `progress` shows a progress bar on stderr
    for each run."""
    scenarios = [load_scenario(p) for p in paths]
    order = sorted(range(len(paths)), key=lambda k: scenarios[k].as_of)
    rows = []
    for k in order:
        res = run(scenarios[k], trials=trials, seed=seed, workers=workers, engine=engine,
                  progress=progress)
        rows.append({"file": str(paths[k]), **forecast_row(res)})
    return pd.DataFrame(rows).set_index("file")


def new_events(older: str | os.PathLike[str],
               newer: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """The events `newer` has as resolved (its own and those it inherits through `extends`)
    that `older` has not, in the order the loader applies them. An event counts as had when
    `older` has an equal one, so this holds whether or not `newer` extends `older`."""
    had = chain_news(older)
    return [event for event in chain_news(newer) if event not in had]


def step_scenarios(older: str | os.PathLike[str], newer: str | os.PathLike[str],
                   workdir: str) -> list[tuple[str, Scenario]]:
    """(label, scenario) for each cumulative stage from `older` to `newer`: time, each new
    event (:func:`new_events`), and `newer` itself, labelled "other changes in the file"
    (always there, if only to show that nothing else differs)."""
    final = load_scenario(newer)
    # The data date and sources as resolved: a file that only extends a dated one (the
    # baseline extends the newest history file) has no as_of of its own.
    head = {"extends": os.path.abspath(older), "as_of": final.as_of,
            "sources": dict(final.sources)}
    stages = [("time (as_of moved)", _stage(head, [], workdir))]
    applied: list[dict[str, Any]] = []
    for i, event in enumerate(new_events(older, newer)):
        try:
            stage = _stage(head, [*applied, event], workdir)
        except ScenarioError:
            # It cannot stand on `older` alone (it changes an element only the newer file's
            # chain adds, say): its effect stays in "other changes".
            continue
        applied.append(event)
        stages.append((event_label(event, i), stage))
    stages.append(("other changes in the file", final))
    return stages


def _stage(head: dict[str, Any], events: list[dict[str, Any]], workdir: str) -> Scenario:
    """`older` (named in head) at the new as_of with `events` applied over it, in order."""
    path = os.path.join(workdir, f"stage{len(events)}.yaml")
    Path(path).write_text(dump_yaml({**head, **({"news": events} if events else {})}))
    return load_scenario(path)


def attribution(older: str | os.PathLike[str], newer: str | os.PathLike[str],
                trials: int = 10_000, seed: int = 0, workers: int | None = None,
                engine: str = DEFAULT_ENGINE, progress: bool = False) -> pd.DataFrame:
    """The change in P(goal by deadline) and in the median goal date from `older` to `newer`,
    in parts (rows, in order): the new as_of alone, each event, other changes. Columns: part,
    delta_met (the change in the number of trials meeting the goal: whole numbers, so the parts
    add up to the whole change exactly), delta_p (the same over the trials), delta_p50_days
    (None where a median is never), p_after. ``.attrs``: p_before, p_after, trials.
    `progress` shows a progress bar on stderr for each run."""
    base = run(load_scenario(older), trials=trials, seed=seed, workers=workers, engine=engine,
               progress=progress)
    before_p, before_m = base.probability, percentile_day(base.goal_days, 50)
    before_day, before_met = base.scenario.as_of, int(base.met.sum())
    rows = []
    with tempfile.TemporaryDirectory(prefix="ilrs-history-") as tmp:
        for label, sc in step_scenarios(older, newer, tmp):
            res = run(sc, trials=trials, seed=seed, workers=workers, engine=engine,
                      progress=progress)
            p, m = res.probability, percentile_day(res.goal_days, 50)
            met = int(res.met.sum())
            rows.append({"part": label, "delta_met": met - before_met, "delta_p": p - before_p,
                         "delta_p50_days": _days_between(before_day, before_m, sc.as_of, m),
                         "p_after": p})
            before_p, before_m, before_day, before_met = p, m, sc.as_of, met
    table = pd.DataFrame(rows)
    table.attrs.update(p_before=base.probability, p_after=before_p, trials=base.trials)
    return table


def _days_between(day0: date, m0: float, day1: date, m1: float) -> float | None:
    """Median goal date change in days (each median counted from its own as_of)."""
    if np.isinf(m0) or np.isinf(m1):
        return None
    return float((day1 - day0).days + m1 - m0)


def plot_history(table: pd.DataFrame, path: str | os.PathLike[str]) -> None:
    """:func:`history_figure` saved as a PNG."""
    history_figure(table).savefig(path, dpi=110)


def history_figure(table: pd.DataFrame) -> Any:
    """The forecast's path over data dates: P(goal by deadline) with its 95% interval, and
    the median goal date with its P10-P90 range (a matplotlib Figure)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(9, 6.4), layout="constrained")
    top, bottom = fig.subplots(2, 1, sharex=True)
    x = pd.to_datetime(table["as_of"])
    pad = max((x.max() - x.min()) * 0.15, pd.Timedelta(days=30))
    top.set_xlim(x.min() - pad, x.max() + pad)
    p = table["p_goal"].to_numpy() * 100
    top.errorbar(x, p, yerr=[p - table["ci_lo"] * 100, table["ci_hi"] * 100 - p], fmt="o-",
                 color="#1f5fa8", capsize=4)
    for xi, pi in zip(x, p, strict=True):
        top.annotate(f"{pi:.1f}%", (xi, pi), textcoords="offset points", xytext=(8, 4))
    top.set_ylabel("P(goal by deadline), %")
    top.set_ylim(0, 100)
    top.set_title("The forecast at each data date (bars: 95% interval)", fontsize=11)
    med = pd.to_datetime(table["goal_p50"])
    lo, hi = pd.to_datetime(table["goal_p10"]), pd.to_datetime(table["goal_p90"])
    known = pd.concat([med, lo, hi]).dropna()
    if len(known):  # at least two years shown, so a small move looks small
        span = max(known.max() - known.min(), pd.Timedelta(days=730))
        top_y = known.max() + span * 0.25
        bottom.set_ylim(known.min() - span * 0.1, top_y)
        for xi, l_, h_ in zip(x, lo, hi, strict=True):
            if pd.isna(l_):
                continue
            never = pd.isna(h_)
            bottom.plot([xi, xi], [l_, top_y if never else h_], color="#1f5fa8", lw=6,
                        alpha=0.3, solid_capstyle="butt")
            if never:
                bottom.annotate("P90: never", (xi, top_y), textcoords="offset points",
                                xytext=(6, -12), fontsize=8.5, color="#1f5fa8")
    bottom.plot(x, med, "o-", color="black", label="median goal date")
    for xi, m in zip(x, med, strict=True):
        if not pd.isna(m):
            # Below the point, clear of the line to the next data date.
            bottom.annotate(f"{m.date()}", (xi, m), textcoords="offset points", xytext=(8, -14),
                            fontsize=8.5)
    bottom.plot([], [], color="#1f5fa8", lw=6, alpha=0.3, label="P10 to P90")
    bottom.set_ylabel("goal date")
    bottom.set_xlabel("data date (as_of)")
    bottom.legend(loc="lower right", fontsize=8.5, frameon=False)
    for ax in (top, bottom):
        ax.grid(color="#dddddd", lw=0.6)
    return fig
