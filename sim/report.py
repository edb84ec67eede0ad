"""One self-contained HTML report of a run: the answer, the figures, the tables, the
assumptions and the sources.

Self-contained means one file that opens anywhere, offline and years later: figures are
embedded as base64 PNG, the style sheet is inline, and nothing is fetched (links to sources
are plain ``<a href>``, followed only if the reader clicks). Everything from the scenario is
HTML-escaped, since titles and source texts are free text from a YAML file.
"""

from __future__ import annotations

import base64
import html
import io
import re
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pandas as pd
from matplotlib.figure import Figure

from . import analysis
from .model import DAYS_PER_UNIT, Activity, Scenario
from .plotting import describe_requirement, plot_compare, standard_figures
from .results import Results

__all__ = ["render_report", "write_report"]

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


# -- small formatting helpers -------------------------------------------------------------------
def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value))


def _pct(p: Any) -> str:
    if p is None or pd.isna(p):
        return "–"
    p = float(p)
    if 0 < p < 0.001:
        return "&lt;0.1%"
    if 0.999 < p < 1:
        return "&gt;99.9%"
    return f"{p:.1%}"


def _date(d: Any, never: str = "never") -> str:
    if d is None or (not isinstance(d, date) and pd.isna(d)):
        return never
    return d.isoformat() if isinstance(d, date) else _e(d)


def _signed(x: float) -> str:
    """'+1.5', '-4.0', and plain '0.0' rather than '-0.0'."""
    return f"{x:+.1f}" if round(x, 1) != 0 else "0.0"


def _linkify(text: str) -> str:
    """Escape `text` and make its http(s) addresses clickable."""
    out, last = [], 0
    for m in re.finditer(r"https?://[^\s\"'<>]+", text):
        url = m.group(0).rstrip(".,;)")
        out.append(_e(text[last : m.start()]))
        out.append(f'<a href="{_e(url)}">{_e(url)}</a>')
        last = m.start() + len(url)
    out.append(_e(text[last:]))
    return "".join(out)


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


def _table(headers: Sequence[str], rows: Iterable[Sequence[str]], numeric: Iterable[int] = (),
           dates: Iterable[int] = ()) -> str:
    """An HTML table from already-escaped cells; columns in `numeric` are right-aligned, and
    those in `numeric` and `dates` never wrap."""
    kind = {**dict.fromkeys(dates, " class=date"), **dict.fromkeys(numeric, " class=num")}
    head = "".join(f"<th{kind.get(i, '')}>{h}</th>" for i, h in enumerate(headers))
    body = "".join(
        "<tr>" + "".join(f"<td{kind.get(i, '')}>{c}</td>" for i, c in enumerate(r)) + "</tr>"
        for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _img(fig: Figure, alt: str, caption: str) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=130)
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    width = round(fig.get_figwidth() * 100)  # CSS px: the same text size in every figure
    return (f'<figure><img alt="{_e(alt)}" style="width: {width}px" '
            f'src="data:image/png;base64,{data}">'
            f"<figcaption>{caption}</figcaption></figure>")


# -- the sections ---------------------------------------------------------------------------------
def _headline(res: Results) -> str:
    sc, (lo, hi) = res.scenario, res.ci95
    pct = res.percentiles
    cards = [
        (_pct(res.probability), f"P({_e(sc.goal.name)} by {sc.goal.deadline})<br>"
                                f"95% interval {_pct(lo)} to {_pct(hi)}"),
        *((_date(d), f"{k.upper()} goal date: met by then in {k[1:]}% of trials")
          for k, d in pct.items()),
        (_pct(res.p_never), "share of trials in which the goal is never met"),
    ]
    body = "".join(f'<div class="card"><div class="big">{big}</div>'
                   f'<div class="label">{label}</div></div>' for big, label in cards)
    return (f'<section id="answer"><h2>The answer</h2><div class="headline">{body}</div>'
            f"<p>Data as of <b>{sc.as_of}</b>: nothing after that date is known to the model. "
            f"{res.trials:,} trials, seed {res.seed}. The goal is met when all of: "
            f"<code>{_e(describe_requirement(sc.goal.requires))}</code>.</p></section>")


def _milestones(res: Results) -> str:
    stats = analysis.activity_stats(res)
    keys = [f"p{q}" for q in res.percentile_levels]
    rows = []
    for act, (aid, r) in zip(res.scenario.activities, stats.iterrows(), strict=True):
        attempts = f"{r['mean_attempts']:.2f}"
        if act.finished_on is not None or act.lost:
            # Settled before as_of: nothing left to forecast, so no percentages over nothing.
            word = "lost" if act.lost else ("partial" if act.partial else "done")
            cells: list[str] = [_e(word)] * (len(keys) + 2) + [f"{r['mean_attempts']:.0f}"]
        else:
            cells = [*(_date(r[q]) for q in keys), _pct(r["p_finish_by_deadline"]),
                     _pct(r["p_never"]), attempts]
        rows.append((f"<code>{_e(aid)}</code>", _e(r["name"]), _date(r["planned"], ""),
                     _e(r["status"]), *cells))
    n = len(keys)
    headers = ["id", "activity", "announced", "status", *(q.upper() for q in keys),
               f"P(by {res.scenario.goal.deadline})", "P(never)", "attempts"]
    return ("<h3>Milestones</h3><p class=note>Finish dates (" + "/".join(q.upper() for q in keys)
            + ": reached by then in " + "/".join(q[1:] for q in keys) + "% of trials; "
            "<i>never</i>: that share of trials never finishes). Status: what had happened by "
            "the data date; a mission done or lost shows that instead of a forecast. Attempts: "
            "the mean number made, those before the data date included.</p>"
            + _table(headers, rows, numeric=range(4 + n, 7 + n), dates=[2, *range(4, 4 + n)]))


def _breakdown(res: Results) -> str:
    summary = analysis.breakdown_summary(analysis.delay_breakdown(res))
    words = {"planned": "to the planned date", "slips_and_lags": "slips, lags and risk delays",
             "failures_and_rebuilds": "failures and rebuilds",
             "vehicle_and_window_waits": "waiting for vehicles and windows", "work": "work"}
    rows = [(_e(words.get(str(part), part)), f"{r['mean_days'] / 365.25:.1f}",
             _pct(r["variance_share"]) if pd.notna(r["variance_share"]) else "–")
            for part, r in summary.iterrows()]
    return ("<h3>Where the time goes</h3><p class=note>Along each trial's driving path: mean years "
            "of each kind of time, and the share of the goal date's spread (variance) it explains "
            "(a negative share moves against the others). Trials that never meet the goal are left "
            "out.</p>" + _table(["part", "mean (years)", "share of spread"], rows, numeric=(1, 2)))


def _criticality_table(res: Results, crit: pd.Series) -> str:
    names = {a.id: a.name for a in res.scenario.activities}
    shown = crit[crit > 0].sort_values(ascending=False)
    rows = [(f"<code>{_e(i)}</code>", _e(names.get(str(i), "")), _pct(v)) for i, v in shown.items()]
    return _table(["id", "activity", "criticality"], rows, numeric=(2,))


def _sensitivity_table(res: Results, top: int = 15) -> str:
    """The individual random inputs most rank-correlated with the goal date."""
    from .drivers import sensitivity

    table = sensitivity(res).dropna(subset=["spearman"]).head(top)
    rows = [(f"<code>{_e(i)}</code>", _e(r["kind"]), f"{r['spearman']:+.2f}")
            for i, r in table.iterrows()]
    return ("<h3>Sensitivity of the goal date to each random input</h3><p class=note>Spearman "
            "rank correlation of each drawn input with the goal date (never = latest); positive: "
            "a larger draw means a later goal. The largest "
            f"{len(rows)} by size.</p>" + _table(["input", "kind", "rank correlation"], rows,
                                                   numeric=(2,)))


def _drivers_table(drivers: pd.DataFrame) -> str:
    rows = []
    for i, r in drivers.iterrows():
        shift = r.get("delta_p80_days")
        shift_txt = "–" if shift is None or pd.isna(shift) else (
            ("never → date" if shift < 0 else "date → never") if abs(shift) == float("inf")
            else _signed(shift / 30.4375))
        rows.append((f"<code>{_e(i)}</code>", _e(r.get("kind")), _e(r.get("name", "")),
                     _pct(r["p_goal_off"]), _signed(r["delta_p"] * 100),
                     _date(r.get("p80_off")), shift_txt))
    return _table(["driver", "kind", "name", "P(goal) off", "Δ P (points)", "P80 off",
                   "Δ P80 (months)"], rows, numeric=(3, 4, 6), dates=(5,))


def _comparison_table(comparison: Any) -> str:
    first = next(iter(comparison.results.values()))
    keys = [f"p{q}" for q in first.percentile_levels]
    rows = [(_e(r["scenario"]), _date(r.get("deadline"), "–"), _pct(r["probability"]),
             f"{_pct(r['ci_lo'])} to {_pct(r['ci_hi'])}", _pct(r["p_never"]),
             *(_date(r[q]) for q in keys))
            for _, r in comparison.table.iterrows()]
    return _table(["scenario", "deadline", "P(by deadline)", "95% interval", "P(never)",
                   *(q.upper() for q in keys)], rows, numeric=(2, 4),
                  dates=(1, 3, *range(5, 5 + len(keys))))


def _source_ref(key: str | None) -> str:
    return f'<a href="#src-{_e(key)}">{_e(key)}</a>' if key else ""


def _activity_row(a: Activity) -> tuple[str, ...]:
    """Cells for one activity, several facts per cell (a ten-column table does not fit a page)."""
    # Built as HTML (dates kept on one line); the other cells are escaped text.
    when = [f"{_e(a.status)}"] if a.status else (
        ([f"planned <span class=nw>{a.planned}</span>"] if a.planned else [])
        + ([f"slip: {_e(_dist(a.slip))}"] if a.slip else []))
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
    return (f"{_e(a.name)}<br><code>{_e(a.id)}</code>", "<br>".join(when),
            *("<br>".join(_e(x) for x in cell) for cell in (after, work, retry, a.factors)),
            _source_ref(a.source))


def _assumptions(sc: Scenario) -> str:
    unit = sc.time_unit
    acts = _table(["activity", "planned or done", "after (+ lag)", "work and launch", "on failure",
                   "factors", "source"], [_activity_row(a) for a in sc.activities])
    vehicles = _table(
        ["id", "vehicle", "reliability", "min interval", "stand-down after a failure",
         "available", "after", "source"],
        [(f"<code>{_e(v.id)}</code>", _e(v.name), f"{v.reliability:g}", f"{v.min_interval:g}",
          _e(_dist(v.stand_down)), _date(v.available, ""), _e(", ".join(v.after)),
          _source_ref(v.source))
         for v in sc.vehicles], numeric=(2, 3))
    risks = _table(
        ["id", "risk", "chance", "delay", "applies to", "cancels", "source"],
        [(f"<code>{_e(r.id)}</code>", _e(r.name),
          f"{r.probability:g}" if r.probability is not None else f"{r.annual_probability:g} a year",
          _e(_dist(r.delay)), _e(", ".join(r.applies_to)), _e(", ".join(r.cancels)),
          _source_ref(r.source))
         for r in sc.risks])
    factors = _table(["id", "distribution (a multiplier drawn once per trial)"],
                     [(f"<code>{_e(f.id)}</code>", _e(_dist(f.distribution))) for f in sc.factors])
    days = DAYS_PER_UNIT[unit]
    return (f'<section id="assumptions"><h2 class="new-page">The scenario\'s assumptions</h2>'
            f"<p>{_e(sc.description)}</p><p class=note>Durations, slips, lags, rebuilds, intervals "
            f"and delays are in {unit} (1 = {days:g} days). A planned date is the announced "
            f"date as of {sc.as_of}; the slip is added to it.</p>"
            f"<h3>Goal</h3><p><b>{_e(sc.goal.name)}</b> by <b>{sc.goal.deadline}</b>: "
            f"<code>{_e(describe_requirement(sc.goal.requires))}</code></p>"
            f"<h3>Activities</h3>{acts}"
            + (f"<h3>Vehicles</h3>{vehicles}" if sc.vehicles else "")
            + (f"<h3>Risks</h3>{risks}" if sc.risks else "")
            + (f"<h3>Programme factors</h3>{factors}" if sc.factors else "")
            + "</section>")


def _sources(sc: Scenario) -> str:
    if not sc.sources:
        return ('<section id="sources"><h2>Sources</h2>'
                "<p>The scenario lists no sources.</p></section>")
    items = "".join(f'<li id="src-{_e(k)}"><code>{_e(k)}</code>: {_linkify(str(v))}</li>'
                    for k, v in sc.sources.items())
    return f'<section id="sources"><h2>Sources</h2><ol class="sources">{items}</ol></section>'


# -- the document ----------------------------------------------------------------------------
def _nav(variants: bool, explore: bool = False, history: bool = False) -> str:
    sections = [("answer", "The answer"), ("figures", "When the goal is met"),
                ("missions", "Missions"), ("criticality", "What drives the goal date"),
                *([("variants", "Variants")] if variants else []),
                *([("explore", "Exploring the judgements")] if explore else []),
                *([("history", "How the forecast moved")] if history else []),
                ("convergence", "Enough trials?"), ("assumptions", "Assumptions"),
                ("sources", "Sources")]
    items = "".join(f'<li><a href="#{key}">{title}</a></li>' for key, title in sections)
    return f"<nav><ol>{items}</ol></nav>"


def _history_section(history: tuple[pd.DataFrame, list[pd.DataFrame]]) -> str:
    """The forecast at each data date and each step's parts (:mod:`sim.history`)."""
    import tempfile

    from .history import plot_history

    table, steps = history
    rows = [(_e(str(r["as_of"])), _pct(r["p_goal"]), f"{_pct(r['ci_lo'])} to {_pct(r['ci_hi'])}",
             _date(r["goal_p50"]), f"{_date(r['goal_p10'])} to {_date(r['goal_p90'])}",
             _e(r["scenario"])) for _, r in table.iterrows()]
    with tempfile.TemporaryDirectory() as tmp:
        png = Path(tmp) / "history.png"
        plot_history(table, png)
        data = base64.b64encode(png.read_bytes()).decode()
    out = ['<section id="history"><h2 class="new-page">How the forecast moved</h2>',
           f'<figure><img alt="the forecast at each data date" src="data:image/png;base64,'
           f'{data}"><figcaption>P(goal by deadline) with its 95% interval, and the median '
           "goal date with its P10-P90 range, at each data date (same seed).</figcaption>"
           "</figure>",
           _table(["data date", "P(by deadline)", "95% interval", "median goal date",
                   "P10 to P90", "scenario"], rows, numeric=[1], dates=[0, 3])]
    for step in steps:
        cells = [(_e(r["part"]), _signed(r["delta_p"] * 100) + " points",
                  "" if r["delta_p50_days"] is None or pd.isna(r["delta_p50_days"])
                  else f"{r['delta_p50_days']:+.0f} days") for _, r in step.iterrows()]
        out += [f"<h3>{_pct(step.attrs['p_before'])} → {_pct(step.attrs['p_after'])}: the "
                "step in parts</h3><p class=note>The new data date alone, then each recorded "
                "event applied in turn with the same random draws (common random numbers); "
                "the parts add up to the whole change.</p>",
                _table(["part", "change in P", "median goal date"], cells, numeric=[1, 2])]
    return "".join(out) + "</section>"


def render_report(res: Results, drivers: pd.DataFrame | None = None, comparison: Any = None,
                  criticality: pd.Series | None = None, explore_html: str = "",
                  history: tuple[pd.DataFrame, list[pd.DataFrame]] | None = None) -> str:
    """The report as an HTML string (see :func:`write_report`); `explore_html` is the section
    :func:`sim.explore_report.explore_section` builds from an exploration folder; `history`:
    the table of :func:`sim.history.history` and one :func:`sim.history.attribution` per
    step."""
    sc = res.scenario
    crit = analysis.criticality(res) if criticality is None else criticality
    figs = standard_figures(res, drivers, crit)
    d = sc.goal.deadline
    parts = [
        _headline(res),
        '<section id="figures"><h2>When the goal is met</h2>',
        _img(figs["goal_histogram"], "goal date histogram and S-curve",
             "Bars: when the goal is met, share of trials. Line: the chance it is met by each "
             "date (it levels off below 100% because of trials that never meet it). Red: the "
             f"deadline {d}."),
        _img(figs["fan"], "goal parts achieved over time",
             "How many of the goal's parts are achieved by each date: the median trial and the "
             "band in which 80% of trials lie."),
        '</section><section id="missions"><h2 class="new-page">Missions</h2>',
        _img(figs["schedule"], "mission finish dates",
             "Each mission's finish date: bar from P10 to P90, black mark at P50, diamond at the "
             "announced date; hatched bars run past the chart or never finish in over 10% of "
             "trials."),
        _milestones(res), _breakdown(res),
        '</section><section id="criticality"><h2>What drives the goal date</h2>',
        _img(figs["criticality"], "criticality index",
             "Criticality: the share of trials in which each activity is on the goal's driving "
             "path."),
        _criticality_table(res, crit),
        _sensitivity_table(res),
    ]
    if drivers is not None:
        trials = drivers.attrs.get("trials")
        parts += [
            "<h3>Risk drivers</h3>",
            _img(figs["drivers"], "risk drivers tornado",
                 "Each risk, programme factor and vehicle's failures switched off in turn, with "
                 "the same seed (common random numbers): the change in P(goal by deadline)"
                 + (f"; {trials:,} trials per run." if trials else ".")),
            _drivers_table(drivers),
        ]
    parts.append("</section>")
    if comparison is not None:
        fig = Figure(figsize=(9, 4.8), layout="constrained")
        plot_compare(comparison, fig.add_subplot())
        parts += ['<section id="variants"><h2 class="new-page">Variants</h2>',
                  _img(fig, "scenario comparison S-curves",
                       "The chance the goal is met by each date, per scenario, same seed."),
                  _comparison_table(comparison), "</section>"]
    parts.append(explore_html)
    if history is not None:
        parts.append(_history_section(history))
    parts += [
        '<section id="convergence"><h2>Enough trials?</h2>',
        _img(figs["convergence"], "convergence of the estimate",
             "The running estimate of P(goal by deadline) with its 95% interval as trials "
             "accumulate."),
        "</section>", _assumptions(sc), _sources(sc),
    ]
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    version = getattr(res, "version", "")
    lo, hi = res.ci95
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(sc.title)}: P(goal by {d}) = {res.probability:.1%}</title>"
        f"<style>{CSS}</style></head><body>"
        f"<header><h1>{_e(sc.title)}</h1><p class=meta>Schedule-risk simulation report · "
        f"goal: {_e(sc.goal.name)} by {d} · P = {_pct(res.probability)} "
        f"({_pct(lo)} to {_pct(hi)}) · data as of {sc.as_of} · {res.trials:,} trials, "
        f"seed {res.seed} · ilrs-sim {_e(version)} · {_e(sc.path or '')} · made {stamp}</p>"
        f"</header>{_nav(comparison is not None, bool(explore_html), history is not None)}"
        + "".join(parts)
        + "</body></html>\n"
    )


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
