"""How the forecast moved between data dates, and why.

:func:`history` runs each scenario of a history (the forecast as it stood at each data date,
oldest first) with the same seed, and :func:`attribution` splits each step into parts: the
passage of time (the new ``as_of`` alone), then each recorded event of the newer file's
``news`` applied one at a time, cumulatively, then anything else the newer file changes.
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
from .news import event_label
from .results import Results, percentile_day
from .scenario import load_scenario
from .yamlio import Problem, ScenarioError, dump_yaml, read_document, read_text

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
            workers: int | None = None, engine: str = DEFAULT_ENGINE) -> pd.DataFrame:
    """One row per scenario (index: its file), oldest data date first: as_of, scenario,
    p_goal with its 95% interval (ci_lo, ci_hi), goal_p10/p50/p90 (dates, None = never), and
    ``p50:ID`` the median finish of each activity."""
    scenarios = [load_scenario(p) for p in paths]
    order = sorted(range(len(paths)), key=lambda k: scenarios[k].as_of)
    rows = []
    for k in order:
        res = run(scenarios[k], trials=trials, seed=seed, workers=workers, engine=engine)
        rows.append({"file": str(paths[k]), **forecast_row(res)})
    return pd.DataFrame(rows).set_index("file")


def _own(path: str | os.PathLike[str]) -> dict[str, Any]:
    problems: list[Problem] = []
    text = read_text(str(path), problems)
    doc = None if text is None else read_document(text, str(path), problems)
    if doc is None or not isinstance(doc.data, dict):
        raise ScenarioError(problems)
    data: dict[str, Any] = doc.data
    return data


def step_scenarios(older: str | os.PathLike[str], newer: str | os.PathLike[str],
                   workdir: str) -> list[tuple[str, Scenario]]:
    """(label, scenario) for each cumulative stage from `older` to `newer`: time, each event,
    and `newer` itself (labelled "other changes") when it differs from the last stage."""
    own = _own(newer)
    news = own.get("news") or []
    final = load_scenario(newer)
    # The data date as resolved: a file that only extends a dated one (the baseline extends the
    # newest history file) has no as_of of its own. News it inherits lands in "other changes".
    head = {"extends": os.path.abspath(older), "as_of": final.as_of,
            "sources": own.get("sources") or {}}
    stages = []
    for k in range(len(news) + 1):
        body = {**head, **({"news": news[:k]} if k else {})}
        path = os.path.join(workdir, f"stage{k}.yaml")
        Path(path).write_text(dump_yaml(body))
        label = "time (as_of moved)" if k == 0 else event_label(news[k - 1], k - 1)
        stages.append((label, load_scenario(path)))
    stages.append(("other changes in the file", final))
    return stages


def attribution(older: str | os.PathLike[str], newer: str | os.PathLike[str],
                trials: int = 10_000, seed: int = 0, workers: int | None = None,
                engine: str = DEFAULT_ENGINE) -> pd.DataFrame:
    """The change in P(goal by deadline) and in the median goal date from `older` to `newer`,
    in parts (rows, in order): the new as_of alone, each event, other changes. Columns: part,
    delta_met (the change in the number of trials meeting the goal: whole numbers, so the parts
    add up to the whole change exactly), delta_p (the same over the trials), delta_p50_days
    (None where a median is never), p_after. ``.attrs``: p_before, p_after, trials."""
    base = run(load_scenario(older), trials=trials, seed=seed, workers=workers, engine=engine)
    before_p, before_m = base.probability, percentile_day(base.goal_days, 50)
    before_day, before_met = base.scenario.as_of, int(base.met.sum())
    rows = []
    with tempfile.TemporaryDirectory(prefix="ilrs-history-") as tmp:
        for label, sc in step_scenarios(older, newer, tmp):
            res = run(sc, trials=trials, seed=seed, workers=workers, engine=engine)
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
