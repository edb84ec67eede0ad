"""One self-contained HTML report of a run: the answer, the figures, the tables, the
assumptions and the sources.

Self-contained means one file that opens anywhere, offline and years later: figures are
embedded as base64 PNG, the style sheet is inline, and nothing is fetched (links to sources
are plain ``<a href>``, followed only if the reader clicks). The page is the Jinja2 template
``templates/report.html`` with autoescaping on: this module hands it text (titles and source
texts are free text from a YAML file) and the template alone writes markup, so nothing here
escapes by hand.
"""

from __future__ import annotations

import base64
import io
import re
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import jinja2
import markupsafe
import pandas as pd
from matplotlib.figure import Figure

from . import analysis
from .model import DAYS_PER_UNIT, Activity, Scenario
from .plotting import describe_requirement, plot_compare, standard_figures
from .results import Results

__all__ = ["render_report", "write_report", "templates"]

# Inline style: readable on screen, and on paper each figure and table row stays whole.
CSS = """
:root { --ink: #1d2430; --muted: #5b6472; --rule: #d8dde5; --accent: #0072B2; }
* { box-sizing: border-box; }
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif;
       color: var(--ink); max-width: 1060px; margin: 0 auto; padding: 24px 28px 60px; }
h1 { font-size: 1.7em; margin: 0 0 4px; }
h2 { font-size: 1.3em; margin: 36px 0 10px; padding-bottom: 4px;
     border-bottom: 2px solid var(--rule); }
h3 { font-size: 1.05em; margin: 22px 0 6px; }
p.meta, .note, figcaption { color: var(--muted); font-size: 0.9em; }
.headline { display: flex; flex-wrap: wrap; gap: 14px; margin: 18px 0; }
.card { flex: 1 1 200px; border: 1px solid var(--rule); border-radius: 8px; padding: 12px 16px; }
.card .big { font-size: 2em; font-weight: 700; color: var(--accent); line-height: 1.2; }
.card .label { color: var(--muted); font-size: 0.85em; }
figure { margin: 18px 0; text-align: center; }
figure img { max-width: 100%; height: auto; }
table { border-collapse: collapse; width: 100%; margin: 8px 0 16px; font-size: 0.85em; }
th, td { border-bottom: 1px solid var(--rule); padding: 4px 6px; text-align: left;
         vertical-align: top; }
th { background: #f3f5f8; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.date, .nw { white-space: nowrap; }
code { font-size: 0.92em; }
ol.sources li { margin-bottom: 4px; word-break: break-word; }
nav ol { columns: 2; font-size: 0.9em; }
@page { size: A4; margin: 14mm 12mm; }
@media print {
  body { max-width: none; padding: 0; font-size: 10.5pt; }
  nav { display: none; }
  h2, h3 { break-after: avoid; page-break-after: avoid; }
  h2.new-page { break-before: page; page-break-before: always; }
  figure, tr, .headline, .card { break-inside: avoid; page-break-inside: avoid; }
  thead { display: table-header-group; }
  a { color: inherit; text-decoration: none; }
  th, .card { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
"""

# A table cell: (kind, text) pieces that the template turns into markup; kind is "text",
# "code", "br" (a line break), "nw" (never wraps), "src" (a link to a source) or "link".
Cell = list[tuple[str, str]]


def templates() -> jinja2.Environment:
    """The package's templates, autoescaped, failing loudly on an undefined name."""
    return jinja2.Environment(
        loader=jinja2.PackageLoader("sim", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )


# -- small formatting helpers -------------------------------------------------------------------
def _text(value: Any) -> Cell:
    return [("text", "" if value is None else str(value))]


def _code(value: Any) -> Cell:
    return [("code", str(value))]


def _pct(p: Any) -> str:
    if p is None or pd.isna(p):
        return "–"
    p = float(p)
    if 0 < p < 0.001:
        return "<0.1%"
    if 0.999 < p < 1:
        return ">99.9%"
    return f"{p:.1%}"


def _date(d: Any, never: str = "never") -> str:
    if d is None or (not isinstance(d, date) and pd.isna(d)):
        return never
    return d.isoformat() if isinstance(d, date) else str(d)


def _signed(x: float) -> str:
    """'+1.5', '-4.0', and plain '0.0' rather than '-0.0'."""
    return f"{x:+.1f}" if round(x, 1) != 0 else "0.0"


def _linkify(text: str) -> Cell:
    """`text` with its http(s) addresses as links."""
    out: Cell = []
    last = 0
    for m in re.finditer(r"https?://[^\s\"'<>]+", text):
        url = m.group(0).rstrip(".,;)")
        out += [("text", text[last : m.start()]), ("link", url)]
        last = m.start() + len(url)
    out.append(("text", text[last:]))
    return out


def _dist(d: Any) -> str:
    """A distribution as a reader would write it: 'lognormal median 2, p90 7.2'."""
    if d is None:
        return ""
    spec = d.to_yaml()
    if not isinstance(spec, dict):
        return f"{spec:g}" if isinstance(spec, float | int) else str(spec)
    (kind, args), = spec.items()
    if isinstance(args, str):  # {reference_class: GROUP}
        return f"{kind} {args}"
    if isinstance(args, dict):
        body = ", ".join(f"{k} {v:g}" for k, v in args.items())
    else:
        body = " / ".join(f"{v:g}" for v in args)
    return f"{kind} {body}"


def _lines(items: Iterable[Cell]) -> Cell:
    out: Cell = []
    for i, item in enumerate(items):
        out += ([("br", "")] if i else []) + item
    return out


def _table(headers: Sequence[str], rows: Iterable[Sequence[Any]],
           numeric: Iterable[int] = (), dates: Iterable[int] = ()) -> dict[str, Any]:
    """A table for the template; columns in `numeric` are right-aligned, and those in
    `numeric` and `dates` never wrap. A plain string cell is text."""
    kind = {**dict.fromkeys(dates, "date"), **dict.fromkeys(numeric, "num")}
    return {
        "headers": list(headers),
        "classes": [kind.get(i, "") for i in range(len(headers))],
        "rows": [[_text(c) if isinstance(c, str) else c for c in r] for r in rows],
    }


def _img(fig: Figure, alt: str, caption: str) -> dict[str, Any]:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=130)
    return {
        "alt": alt,
        "caption": caption,
        "data": base64.b64encode(buf.getvalue()).decode("ascii"),
        "width": round(fig.get_figwidth() * 100),  # CSS px: the same text size in every figure
    }


# -- the sections ---------------------------------------------------------------------------------
def _cards(res: Results) -> list[tuple[str, list[str]]]:
    sc, (lo, hi) = res.scenario, res.ci95
    pct = res.percentiles
    return [
        (_pct(res.probability), [f"P({sc.goal.name} by {sc.goal.deadline})",
                                 f"95% interval {_pct(lo)} to {_pct(hi)}"]),
        *((_date(d), [f"{k.upper()} goal date: met by then in {k[1:]}% of trials"])
          for k, d in pct.items()),
        (_pct(res.p_never), ["share of trials in which the goal is never met"]),
    ]


def _milestones(res: Results) -> dict[str, Any]:
    stats = analysis.activity_stats(res)
    keys = [f"p{q}" for q in res.percentile_levels]
    rows = []
    for act, (aid, r) in zip(res.scenario.activities, stats.iterrows(), strict=True):
        if act.settled:
            # Done or lost before as_of: nothing left to forecast, so no percentages over
            # nothing; the attempts are the ones made.
            word = "lost" if act.lost else ("partial" if act.partial else "done")
            cells = [word] * (len(keys) + 2) + [f"{r['mean_attempts']:.0f}"]
        else:
            cells = [*(_date(r[q]) for q in keys), _pct(r["p_finish_by_deadline"]),
                     _pct(r["p_never"]), f"{r['mean_attempts']:.2f}"]
        rows.append((_code(aid), str(r["name"]), _date(r["planned"], ""), str(r["status"]),
                     *cells))
    n = len(keys)
    headers = ["id", "activity", "announced", "status", *(q.upper() for q in keys),
               f"P(by {res.scenario.goal.deadline})", "P(never)", "attempts"]
    table = _table(headers, rows, numeric=range(4 + n, 7 + n), dates=[2, *range(4, 4 + n)])
    table["levels"] = ("/".join(q.upper() for q in keys), "/".join(q[1:] for q in keys))
    return table


def _breakdown(res: Results) -> dict[str, Any] | None:
    """The delay breakdown's table; None when the run kept no ready times (see run's
    keep_ready), and the report says so instead."""
    if res.ready_days is None:
        return None
    summary = analysis.breakdown_summary(analysis.delay_breakdown(res))
    words = {"planned": "to the planned date", "slips_and_lags": "slips, lags and risk delays",
             "failures_and_rebuilds": "failures and rebuilds",
             "vehicle_and_window_waits": "waiting for vehicles and windows", "work": "work"}
    rows = [(words.get(str(part), str(part)), f"{r['mean_days'] / 365.25:.1f}",
             _pct(r["variance_share"]) if pd.notna(r["variance_share"]) else "–")
            for part, r in summary.iterrows()]
    return _table(["part", "mean (years)", "share of spread"], rows, numeric=(1, 2))


def _criticality_table(res: Results, crit: pd.Series) -> dict[str, Any]:
    names = {a.id: a.name for a in res.scenario.activities}
    shown = crit[crit > 0].sort_values(ascending=False)
    rows = [(_code(i), names.get(str(i), ""), _pct(v)) for i, v in shown.items()]
    return _table(["id", "activity", "criticality"], rows, numeric=(2,))


def _sensitivity_table(res: Results, top: int = 15) -> dict[str, Any]:
    """The individual random inputs most rank-correlated with the goal date."""
    from .drivers import sensitivity

    table = sensitivity(res).dropna(subset=["spearman"]).head(top)
    rows = [(_code(i), str(r["kind"]), f"{r['spearman']:+.2f}") for i, r in table.iterrows()]
    return _table(["input", "kind", "rank correlation"], rows, numeric=(2,))


def _drivers_table(drivers: pd.DataFrame) -> dict[str, Any]:
    rows = []
    for i, r in drivers.iterrows():
        shift = r.get("delta_p80_days")
        shift_txt = "–" if shift is None or pd.isna(shift) else (
            ("never → date" if shift < 0 else "date → never") if abs(shift) == float("inf")
            else _signed(shift / 30.4375))
        rows.append((_code(i), str(r.get("kind")), str(r.get("name", "")),
                     _pct(r["p_goal_off"]), _signed(r["delta_p"] * 100),
                     _date(r.get("p80_off")), shift_txt))
    return _table(["driver", "kind", "name", "P(goal) off", "Δ P (points)", "P80 off",
                   "Δ P80 (months)"], rows, numeric=(3, 4, 6), dates=(5,))


def _comparison_table(comparison: Any) -> dict[str, Any]:
    first = next(iter(comparison.results.values()))
    keys = [f"p{q}" for q in first.percentile_levels]
    rows = [(str(r["scenario"]), _date(r.get("deadline"), "–"), _pct(r["probability"]),
             f"{_pct(r['ci_lo'])} to {_pct(r['ci_hi'])}", _pct(r["p_never"]),
             *(_date(r[q]) for q in keys))
            for _, r in comparison.table.iterrows()]
    return _table(["scenario", "deadline", "P(by deadline)", "95% interval", "P(never)",
                   *(q.upper() for q in keys)], rows, numeric=(2, 4),
                  dates=(1, 3, *range(5, 5 + len(keys))))


def _source_ref(key: str | None) -> Cell:
    return [("src", key)] if key else []


def _activity_row(a: Activity) -> tuple[Cell, ...]:
    """Cells for one activity, several facts per cell (a ten-column table does not fit a page)."""
    when: list[Cell] = [_text(a.status)] if a.status else (
        ([[("text", "planned "), ("nw", str(a.planned))]] if a.planned else [])
        + ([_text(f"slip: {_dist(a.slip)}")] if a.slip else []))
    after = [d.id + (f" + {_dist(d.lag)}" if not d.lag.is_fixed or d.lag.mean else "")
             for d in a.after]
    work = []
    if not a.finished_on:
        if not a.duration.is_fixed or a.duration.mean:
            work.append(f"duration: {_dist(a.duration)}")
        if a.vehicles:
            work.append("vehicle: " + " or ".join(a.vehicles))
        if a.window:
            work.append(f"window every {a.window.period:g} from {a.window.anchor}")
        work.append(f"success: {a.success:g}")
    retry = ([f"{a.on_failure.attempts} attempts", f"rebuild: {_dist(a.on_failure.rebuild)}"]
             if a.on_failure else [])
    return (_lines([_text(a.name), _code(a.id)]), _lines(when),
            *(_lines(_text(x) for x in cell) for cell in (after, work, retry, a.factors)),
            _source_ref(a.source))


def _assumptions(sc: Scenario) -> dict[str, Any]:
    return {
        "activities": _table(["activity", "planned or done", "after (+ lag)", "work and launch",
                              "on failure", "factors", "source"],
                             [_activity_row(a) for a in sc.activities]),
        "vehicles": _table(
            ["id", "vehicle", "reliability", "min interval", "stand-down after a failure",
             "available", "after", "source"],
            [(_code(v.id), v.name, f"{v.reliability:g}", f"{v.min_interval:g}",
              _dist(v.stand_down), _date(v.available, ""), ", ".join(v.after),
              _source_ref(v.source))
             for v in sc.vehicles], numeric=(2, 3)),
        "risks": _table(
            ["id", "risk", "chance", "delay", "applies to", "cancels", "source"],
            [(_code(r.id), r.name,
              f"{r.probability:g}" if r.probability is not None
              else f"{r.annual_probability:g} a year",
              _dist(r.delay), ", ".join(r.applies_to), ", ".join(r.cancels),
              _source_ref(r.source))
             for r in sc.risks]),
        "factors": _table(["id", "distribution (a multiplier drawn once per trial)"],
                          [(_code(f.id), _dist(f.distribution)) for f in sc.factors]),
        "sources": [(k, _linkify(str(v))) for k, v in sc.sources.items()],
        "days_per_unit": f"{DAYS_PER_UNIT[sc.time_unit]:g}",
    }


def _nav(variants: bool, explore: bool = False, history: bool = False) -> list[tuple[str, str]]:
    return [("answer", "The answer"), ("figures", "When the goal is met"),
            ("missions", "Missions"), ("criticality", "What drives the goal date"),
            *([("variants", "Variants")] if variants else []),
            *([("explore", "Exploring the judgements")] if explore else []),
            *([("history", "How the forecast moved")] if history else []),
            ("convergence", "Enough trials?"), ("assumptions", "Assumptions"),
            ("sources", "Sources")]


def _figures(res: Results, drivers: pd.DataFrame | None, crit: pd.Series) -> dict[str, Any]:
    figs = standard_figures(res, drivers, crit)
    d = res.scenario.goal.deadline
    captions = {
        "goal_histogram": ("goal date histogram and S-curve",
                           "Bars: when the goal is met, share of trials. Line: the chance it is "
                           "met by each date (it levels off below 100% because of trials that "
                           f"never meet it). Red: the deadline {d}."),
        "fan": ("goal parts achieved over time",
                "How many of the goal's parts are achieved by each date: the median trial and "
                "the band in which 80% of trials lie."),
        "schedule": ("mission finish dates",
                     "Each mission's finish date: bar from P10 to P90, black mark at P50, diamond "
                     "at the announced date; hatched bars run past the chart or never finish in "
                     "over 10% of trials."),
        "criticality": ("criticality index",
                        "Criticality: the share of trials in which each activity is on the goal's "
                        "driving path."),
        "convergence": ("convergence of the estimate",
                        "The running estimate of P(goal by deadline) with its 95% interval as "
                        "trials accumulate."),
    }
    out = {key: _img(figs[key], alt, caption) for key, (alt, caption) in captions.items()}
    if drivers is not None:
        trials = drivers.attrs.get("trials")
        out["drivers"] = _img(
            figs["drivers"], "risk drivers tornado",
            "Each risk, programme factor and vehicle's failures switched off in turn, with the "
            "same seed (common random numbers): the change in P(goal by deadline)"
            + (f"; {trials:,} trials per run." if trials else "."))
    return out


def _history(history: tuple[pd.DataFrame, list[pd.DataFrame]]) -> dict[str, Any]:
    """The forecast at each data date and each step's parts (:mod:`sim.history`)."""
    from .history import history_figure

    table, steps = history
    rows = [(str(r["as_of"]), _pct(r["p_goal"]), f"{_pct(r['ci_lo'])} to {_pct(r['ci_hi'])}",
             _date(r["goal_p50"]), f"{_date(r['goal_p10'])} to {_date(r['goal_p90'])}",
             str(r["scenario"])) for _, r in table.iterrows()]
    parts = []
    for step in steps:
        cells = [(str(r["part"]), _signed(r["delta_p"] * 100) + " points",
                  "" if r["delta_p50_days"] is None or pd.isna(r["delta_p50_days"])
                  else f"{r['delta_p50_days']:+.0f} days") for _, r in step.iterrows()]
        parts.append({"title": f"{_pct(step.attrs['p_before'])} → {_pct(step.attrs['p_after'])}"
                               ": the step in parts",
                      "table": _table(["part", "change in P", "median goal date"], cells,
                                      numeric=[1, 2])})
    return {
        "figure": _img(history_figure(table), "the forecast at each data date",
                       "P(goal by deadline) with its 95% interval, and the median goal date "
                       "with its P10-P90 range, at each data date (same seed)."),
        "table": _table(["data date", "P(by deadline)", "95% interval", "median goal date",
                         "P10 to P90", "scenario"], rows, numeric=[1], dates=[0, 3]),
        "steps": parts,
    }


def render_report(res: Results, drivers: pd.DataFrame | None = None, comparison: Any = None,
                  criticality: pd.Series | None = None, explore_html: str = "",
                  history: tuple[pd.DataFrame, list[pd.DataFrame]] | None = None) -> str:
    """The report as an HTML string (see :func:`write_report`); `explore_html` is the section
    :func:`sim.explore_report.explore_section` builds from an exploration folder (inserted as
    it is: that module escapes what it puts in); `history`: the table of
    :func:`sim.history.history` and one :func:`sim.history.attribution` per step."""
    sc = res.scenario
    crit = analysis.criticality(res) if criticality is None else criticality
    lo, hi = res.ci95
    context: dict[str, Any] = {
        # The style sheet is this module's constant, not user text: inserted as it is.
        "sc": sc, "css": markupsafe.Markup(CSS), "deadline": sc.goal.deadline,
        "nav": _nav(comparison is not None, bool(explore_html), history is not None),
        "history": _history(history) if history is not None else None,
        "explore_html": markupsafe.Markup(explore_html),
        "probability_title": f"{res.probability:.1%}", "p": _pct(res.probability),
        "lo": _pct(lo), "hi": _pct(hi), "trials": f"{res.trials:,}", "seed": res.seed,
        "version": getattr(res, "version", ""),
        "stamp": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cards": _cards(res), "requires": describe_requirement(sc.goal.requires),
        "figs": _figures(res, drivers, crit), "milestones": _milestones(res),
        "breakdown": _breakdown(res), "criticality": _criticality_table(res, crit),
        "sensitivity": _sensitivity_table(res),
        "drivers": _drivers_table(drivers) if drivers is not None else None,
        "comparison": None, **_assumptions(sc),
    }
    if comparison is not None:
        fig = Figure(figsize=(9, 4.8), layout="constrained")
        plot_compare(comparison, fig.add_subplot())
        context["comparison_figure"] = _img(
            fig, "scenario comparison S-curves",
            "The chance the goal is met by each date, per scenario, same seed.")
        context["comparison"] = _comparison_table(comparison)
    return templates().get_template("report.html").render(context)


def write_report(res: Results, path: str | Path, drivers: pd.DataFrame | None = None,
                 comparison: Any = None, criticality: pd.Series | None = None) -> Path:
    """Write one self-contained HTML file: the headline answer (P by deadline with its interval,
    data date, median goal date), the figures (embedded PNG), the milestone, criticality,
    driver and variant tables (drivers: :func:`sim.analysis.risk_drivers`; comparison:
    :func:`sim.analysis.compare`; both optional because they re-run the model), the scenario's
    assumptions and its sources. Criticality is computed when not given. Returns the path."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render_report(res, drivers, comparison, criticality), encoding="utf-8")
    return out
