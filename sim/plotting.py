"""Figures from results: each function takes what it draws plus ``ax=None`` and returns the Axes.

Plots compute nothing that a user would want as a number: probabilities, percentiles and
tables come from :class:`sim.results.Results` and :mod:`sim.analysis`; this module only bins,
sorts and draws. With ``ax=None`` a new pyplot figure is made (so it shows in a notebook);
:func:`save_standard_figures` makes bare ``Figure`` objects instead, so writing files needs
no display and leaves no figures open in pyplot. Nothing here calls ``plt.show()`` or touches
global ``rcParams``.

Dates on the axes are matplotlib date numbers: as_of + the calendar day of each engine time.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Mapping
from datetime import date
from pathlib import Path
from typing import Any

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, MaxNLocator, PercentFormatter

from .plotkit import (  # goal_progress, describe_requirement: public through __all__
    BIN_WIDTHS,
    BLUE,
    DAYS_PER_YEAR,
    GREEN,
    GREY,
    KIND_COLOURS,
    NEGLIGIBLE_NEVER,
    ORANGE,
    PURPLE,
    RED,
    _below,
    _Comparison,
    _date_num,
    _deadline_text,
    _horizon,
    _is,
    _mark_deadline,
    _new_axes,
    _num,
    _pct,
    _s_curve,
    _short,
    _year_axis,
    describe_requirement,
    goal_progress,
)
from .results import Results

__all__ = [
    "describe_requirement",
    "goal_progress",
    "plot_compare",
    "plot_convergence",
    "plot_criticality",
    "plot_drivers",
    "plot_fan",
    "plot_goal_histogram",
    "plot_schedule",
    "save_standard_figures",
    "standard_figures",
]

# -- the figures ---------------------------------------------------------------------------
# Where the statistics box may go (axes fractions: x, y, ha, va), in order of preference.
BOX_CORNERS = ((0.015, 0.97, "left", "top"), (0.985, 0.03, "right", "bottom"),
               (0.985, 0.5, "right", "center"), (0.985, 0.97, "right", "top"),
               (0.015, 0.5, "left", "center"))
BOX_SIZE = (0.36, 0.36)  # a generous guess at the box's size, in axes fractions


def _free_corner(curve: tuple[np.ndarray, np.ndarray],
                 bars: tuple[np.ndarray, np.ndarray, np.ndarray],
                 start: float, end: float) -> tuple[float, float, str, str]:
    """The corner of BOX_CORNERS where a box would cover least of the S-curve and the bars.

    `curve` is the step curve in axes fractions; `bars` are (left, right, top fraction) in date
    numbers. Scored on 60 sample columns under the box: a column is covered when the curve or
    a bar's top passes through the box there.
    """
    cx, cy = curve
    left, right, tops = bars
    best, best_score = BOX_CORNERS[0], 2.0
    for corner in BOX_CORNERS:
        x, y, ha, va = corner
        x0 = x if ha == "left" else x - BOX_SIZE[0]
        y0 = y if va == "bottom" else y - BOX_SIZE[1] if va == "top" else y - BOX_SIZE[1] / 2
        xs = np.linspace(x0, x0 + BOX_SIZE[0], 60)
        curve_y = cy[np.clip(np.searchsorted(cx, xs, side="right") - 1, 0, len(cy) - 1)]
        dates = start + xs * (end - start)
        bar = np.array([tops[(left <= d) & (d < right)].max(initial=0.0) for d in dates])
        covered = ((curve_y > y0 - 0.03) & (curve_y < y0 + BOX_SIZE[1] + 0.03)) | (bar > y0 - 0.02)
        score = float(covered.mean())
        if score < best_score - 1e-9:
            best, best_score = corner, score
    return best


def plot_goal_histogram(res: Results, ax: Axes | None = None) -> Axes:
    """Goal-date histogram (share of trials per bin) with the S-curve P(goal by date) on a
    second axis, the deadline, and P(by deadline) with its 95% interval written on the plot."""
    ax = _new_axes(ax, (9, 4.8))
    sc, base = res.scenario, res.scenario.as_of
    start, end = _horizon(res, trim=True)
    x = _date_num(base, res.goal_days[np.isfinite(res.goal_days)])
    shown = x[x < end]
    # The narrowest natural bin that keeps the count readable (at most 80 bars).
    width, unit = next(((w, u) for w, u in BIN_WIDTHS if (end - start) / w <= 80), BIN_WIDTHS[-1])
    bins = np.arange(start, end + width, width)
    heights, _, _ = ax.hist(shown, bins=list(bins), weights=np.full(shown.size, 100 / res.trials),
                            color=BLUE, alpha=0.55, label=f"goal dates: share of trials per {unit}")
    ax.set_ylabel(f"share of trials per {unit} (%)")
    # Head-room: bars stay in the lower 60%, leaving room for the statistics box; no tick
    # above 100%, the most a bin can hold.
    top = float(np.max(heights, initial=0)) * 1.6 or 1.0
    ax.set_ylim(0, top)
    ax.set_yticks([t for t in ax.get_yticks() if 0 <= t <= min(top, 100)])
    if not shown.size:
        ax.text(0.5, 0.5, "no trial meets the goal within the chart", transform=ax.transAxes,
                ha="center", va="center", color=GREY)
    ax.yaxis.set_major_formatter(PercentFormatter(decimals=1 if ax.get_ylim()[1] < 5 else 0))

    cdf_ax = ax.twinx()
    xs, ys = _s_curve(res, start, end)
    cdf_ax.step(xs, ys, where="post", color="black", lw=1.6, label="P(goal by date) (S-curve)")
    cdf_ax.set_ylim(0, 100)
    cdf_ax.set_ylabel("P(goal by date), cumulative (%)")
    cdf_ax.yaxis.set_major_formatter(PercentFormatter(decimals=0))

    _mark_deadline(ax, sc.goal.deadline)
    lo, hi = res.ci95
    dl = _num(sc.goal.deadline) + 1
    cdf_ax.plot([dl], [res.probability * 100], "o", color=RED, zorder=5)
    lines = [f"P(by {sc.goal.deadline.isoformat()}) {_is(res.probability)}",
             f"95% CI {_pct(lo)} to {_pct(hi)}"]
    if "p50" in res.percentiles:
        p50 = res.percentiles["p50"]
        lines.append(f"median goal date: {p50.isoformat() if p50 else 'never'}")
    _mark_percentiles(cdf_ax, res, end)
    later = float((x >= end).sum()) / res.trials
    if later > 0:
        off = mdates.num2date(end).date()  # type: ignore[no-untyped-call]
        lines.append(f"after {off}: {_pct(later)}")
    lines.append(f"never: {_pct(res.p_never)}")
    bar_tops = (bins[:-1], bins[1:], np.asarray(heights) / top)
    corner = _free_corner(((xs - start) / (end - start), ys / 100), bar_tops, start, end)
    ax.text(corner[0], corner[1], "\n".join(lines), transform=ax.transAxes, va=corner[3],
            ha=corner[2], fontsize=9.5, multialignment="left",
            bbox={"boxstyle": "round", "fc": "white", "ec": GREY, "alpha": 0.9},
            zorder=6)
    _year_axis(ax, start, end)
    ax.set_xlabel("goal date")
    ax.set_title(f"{sc.goal.name}: when is it met?\n"
                 f"{sc.title}, {res.trials:,} trials, data as of {base}", fontsize=11)
    handles = [*ax.get_legend_handles_labels()[0], *cdf_ax.get_legend_handles_labels()[0]]
    cdf_ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, 0),
                  bbox_transform=_below(ax, 32), ncol=3, fontsize=8.5, frameon=False)
    return ax


def _mark_percentiles(cdf_ax: Axes, res: Results, end: float) -> None:
    """The results' goal-date percentiles as labelled points on the S-curve (those in view)."""
    for key, when in res.percentiles.items():
        if when is None or _num(when) >= end:
            continue
        q = int(key[1:])
        x = _num(when) + 1  # the S-curve reaches q at the end of that day
        cdf_ax.plot([x], [q], "o", ms=4, mfc="white", mec="black", zorder=5)
        cdf_ax.annotate(key.upper(), (x, q), xytext=(-4, 3), textcoords="offset points",
                        ha="right", va="bottom", fontsize=7.5)


def plot_schedule(res: Results, ax: Axes | None = None) -> Axes:
    """One row per activity still to come: a finish bar from the lowest to the highest of the
    results' percentiles (P10-P90 by default), P50 mark, the announced (`planned`) date, the
    deadline, and P(never) on the right where it exceeds 0.5%."""
    table = res.activity_table()
    acts = [a for a in res.scenario.activities if a.done is None]
    ax = _new_axes(ax, (10, 1.2 + 0.42 * max(len(acts), 3)))
    base = res.scenario.as_of
    start, end = _horizon(res, [a.planned for a in acts])

    def num(d: date | None) -> float | None:
        return None if d is None else float(_num(d))

    never_labels, any_open = [], False
    low, high = f"p{res.percentile_levels[0]}", f"p{res.percentile_levels[-1]}"
    for row, act in enumerate(acts):
        y = len(acts) - 1 - row  # first activity at the top
        stats = table.loc[act.id]
        p10, p90 = num(stats[low]), num(stats[high])
        p50 = num(stats["p50"]) if "p50" in stats else None
        if p10 is not None and p10 < end:
            right = min(p90 if p90 is not None else end, end)
            open_end = p90 is None or p90 > end
            any_open |= open_end
            ax.barh(y, max(right - p10, 3), left=p10, height=0.5, color=BLUE, alpha=0.75,
                    hatch="///" if open_end else None, edgecolor=BLUE if open_end else None, lw=0)
            if open_end:  # the P90 is off the chart or never: say so with an arrow
                ax.annotate("", xy=(end, y), xytext=(end - 0.03 * (end - start), y),
                            arrowprops={"arrowstyle": "->", "color": BLUE})
        elif p10 is not None:
            ax.text(end, y, f"{low.upper()} {stats[low].year} ", ha="right", va="center",
                    fontsize=8, color=BLUE)
        if p50 is not None and p50 < end:
            ax.plot([p50, p50], [y - 0.3, y + 0.3], color="black", lw=2.2, solid_capstyle="butt")
        if act.planned is not None:
            ax.plot(_num(act.planned), y, "D", mfc="white", mec=ORANGE, mew=1.8, ms=7, zorder=4)
        pn = float(stats["p_never"])
        never_labels.append(f"never {_pct(pn)}" if pn > NEGLIGIBLE_NEVER else "")
    _mark_deadline(ax, res.scenario.goal.deadline)
    ax.axvline(_num(base), color=GREY, lw=1, ls=":")
    ax.set_yticks(range(len(acts)), [_short(a.name) for a in reversed(acts)], fontsize=9)
    ax.set_ylim(-0.7, len(acts) - 0.3)
    # P(never) as tick labels of a twin axis, so constrained layout makes room for them.
    never_ax = ax.twinx()
    never_ax.set_ylim(ax.get_ylim())
    never_ax.set_yticks(range(len(acts)), list(reversed(never_labels)), fontsize=8.5, color=RED)
    never_ax.tick_params(axis="y", length=0)
    _year_axis(ax, start, end)
    ax.grid(axis="x", color="#dddddd", lw=0.6)
    ax.set_axisbelow(True)
    ax.set_xlabel(f"finish date; dotted line: the data date, {base}")
    ax.set_title(f"Mission finish dates: {res.scenario.title} ({res.trials:,} trials)", fontsize=11)
    handles = [Patch(color=BLUE, alpha=0.75, label=f"{low.upper()}-{high.upper()} finish"),
               Patch(fc=BLUE, alpha=0.75, hatch="///", ec=BLUE,
                     label=f"{high.upper()} later or never"),
               Line2D([], [], color="black", lw=2.2, label="P50 (median)"),
               Line2D([], [], ls="", marker="D", mfc="white", mec=ORANGE, mew=1.8,
                      label="announced (planned) date"),
               Line2D([], [], color=RED, ls="--", label="goal deadline")]
    # Only what the chart shows: no hatch or diamond entry when there is none.
    shown = [True, any_open, "p50" in table, any(a.planned for a in acts), True]
    handles = [h for h, keep in zip(handles, shown, strict=True) if keep]
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, 0),
              bbox_transform=_below(ax, 34), ncol=len(handles), fontsize=8.5, frameon=False)
    return ax


def plot_fan(res: Results, ax: Axes | None = None, points: int = 400) -> Axes:
    """Fan chart: goal parts achieved over time, P10-P90 band and P50 line, with the deadline.

    The parts are those of :func:`goal_progress`; the goal is met when all are achieved.
    """
    ax = _new_axes(ax, (9, 4.6))
    base = res.scenario.as_of
    start, end = _horizon(res)
    grid = np.linspace(start, end, points) - _num(base)  # days since as_of
    counts, total = goal_progress(res, grid)
    p10, p50, p90 = np.quantile(counts, [0.1, 0.5, 0.9], axis=0, method="inverted_cdf")
    mean = counts.mean(axis=0)
    x = grid + _num(base)
    ax.fill_between(x, p10, p90, step="post", color=BLUE, alpha=0.25, lw=0,
                    label="P10-P90 of trials")
    ax.step(x, p50, where="post", color=BLUE, lw=2, label="P50 (median trial)")
    ax.plot(x, mean, color="black", lw=1, ls=":", label="mean")
    ax.axhline(total, color=GREEN, lw=1.2,
               label="goal met" + (f": all {total} parts" if total > 1 else ""))
    _mark_deadline(ax, res.scenario.goal.deadline)
    ax.set_ylim(-0.2, total + 0.4)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    _year_axis(ax, start, end)
    ax.grid(color="#e5e5e5", lw=0.6)
    parts = textwrap.fill("goal parts: " + describe_requirement(res.scenario.goal.requires), 110)
    ax.set_xlabel(f"date\n{parts}", fontsize=9)
    ax.set_ylabel(f"goal parts achieved (of {total})")
    ax.set_title(f"Progress towards '{res.scenario.goal.name}' ({res.trials:,} trials)",
                 fontsize=11)
    ax.legend(loc="upper left", fontsize=8.5, framealpha=0.9)
    return ax


def _p80_note(shift: Any) -> str:
    """The P80 shift of a driver in months, for its label ('' when negligible or unknown)."""
    if shift is None or (isinstance(shift, float) and np.isnan(shift)):
        return ""
    shift = float(shift)
    if np.isinf(shift):  # the P80 was never and becomes a date, or the reverse
        return "; P80 never → a date" if shift < 0 else "; P80 a date → never"
    months = shift / (DAYS_PER_YEAR / 12)
    return f"; P80 {months:+.0f} mo" if abs(months) >= 0.5 else ""


def plot_drivers(drivers: pd.DataFrame, ax: Axes | None = None, top: int = 15) -> Axes:
    """Tornado: change in P(goal by deadline) when each risk, factor or vehicle's failures are
    switched off (``delta_p``, percentage points), largest at the top; the P80 shift in months
    is written in the right-hand column."""
    order = drivers["delta_p"].abs().sort_values(ascending=False, kind="stable").index
    rows = drivers.loc[order].head(top)
    ax = _new_axes(ax, (9, 1.4 + 0.45 * max(len(rows), 3)))
    y = np.arange(len(rows))[::-1]
    values = rows["delta_p"].to_numpy(dtype=float) * 100
    colours = [KIND_COLOURS.get(str(k), GREY) for k in rows["kind"]]
    ax.barh(y, values, color=colours, height=0.6)
    ax.axvline(0, color="black", lw=0.8)
    span = max(float(np.abs(values).max(initial=0)), 0.5)
    ax.set_xlim(min(float(values.min(initial=0)), 0) - 0.05 * span,
                max(float(values.max(initial=0)), 0) + 0.05 * span)
    ax.set_yticks(y, [str(i) for i in rows.index], fontsize=9)
    ax.set_ylim(-0.6, len(rows) - 0.4)
    # The numbers as tick labels of a twin axis: a column constrained layout makes room for.
    notes = [f"{v:+.1f} pp{_p80_note(row.get('delta_p80_days'))}"
             for v, (_, row) in zip(values, rows.iterrows(), strict=True)]
    right = ax.twinx()
    right.set_ylim(ax.get_ylim())
    right.set_yticks(y, notes, fontsize=8.5)
    right.tick_params(axis="y", length=0)
    ax.set_xlabel("change in P(goal by deadline) when switched off (percentage points)")
    ax.set_title("Risk drivers: each risk, factor and vehicle's failures switched off in turn",
                 fontsize=11)
    kinds = [k for k in KIND_COLOURS if k in set(rows["kind"])]
    ax.legend(handles=[Patch(color=KIND_COLOURS[k], label=k) for k in kinds], loc="lower right",
              fontsize=8.5, framealpha=0.9)
    ax.grid(axis="x", color="#e5e5e5", lw=0.6)
    ax.set_axisbelow(True)
    return ax


def plot_criticality(criticality: pd.Series, ax: Axes | None = None, top: int = 20,
                     labels: Mapping[str, str] | None = None) -> Axes:
    """Criticality index: share of trials in which each activity is on the goal's driving path
    (activities never on it are left out). `labels` maps ids to display names."""
    shown = criticality[criticality > 0].sort_values(ascending=False).head(top)
    ax = _new_axes(ax, (8, 1.3 + 0.4 * max(len(shown), 3)))
    y = np.arange(len(shown))[::-1]
    ax.barh(y, shown.to_numpy(dtype=float) * 100, color=PURPLE, height=0.6)
    for yi, v in zip(y, shown.to_numpy(dtype=float), strict=True):
        ax.text(v * 100 + 1, yi, f"{v:.0%}" if v >= 0.005 else "<1%", va="center", fontsize=8.5)
    names = labels or {}
    ax.set_yticks(y, [_short(names.get(str(i), str(i))) for i in shown.index], fontsize=9)
    if shown.empty:
        ax.text(0.5, 0.5, "no driving path: no trial meets the goal", transform=ax.transAxes,
                ha="center", va="center", color=GREY)
    ax.set_xlim(0, 112)
    ax.xaxis.set_major_formatter(PercentFormatter(decimals=0))
    never = criticality.attrs.get("p_never")
    note = f"\n(counting the {_pct(1 - never)} of trials that ever meet the goal)" if never else ""
    ax.set_xlabel(f"share of trials on the goal's driving path{note}")
    ax.set_title("Criticality index", fontsize=11)
    ax.grid(axis="x", color="#e5e5e5", lw=0.6)
    ax.set_axisbelow(True)
    return ax


def plot_compare(comparison: _Comparison, ax: Axes | None = None) -> Axes:
    """Overlaid S-curves P(goal by date), one per scenario, with each deadline marked."""
    ax = _new_axes(ax, (9, 4.8))
    runs = dict(comparison.results)
    starts, ends = zip(*(_horizon(r, trim=True) for r in runs.values()), strict=True)
    start, end = min(starts), min(max(ends), min(starts) + 40 * DAYS_PER_YEAR)
    # Colour and dash both change from curve to curve, and the first (usually the baseline) is
    # drawn widest, so curves that coincide stay visible.
    styles = ["-", "--", "-.", ":"]
    colours = [BLUE, ORANGE, GREEN, RED, PURPLE, GREY, "#56B4E9", "#F0E442"]
    for i, (name, res) in enumerate(runs.items()):
        xs, ys = _s_curve(res, start, end)
        ax.step(xs, ys, where="post", lw=3.0 if i == 0 else 1.7, color=colours[i % len(colours)],
                ls=styles[i % len(styles)], zorder=2 if i == 0 else 3,
                label=f"{name}: P(by {_deadline_text(res.scenario.goal.deadline)}) "
                      f"{_is(res.probability)}")
    deadlines = sorted({r.scenario.goal.deadline for r in runs.values()})
    for d in deadlines:
        ax.axvline(_num(d) + 1, color=GREY, lw=1.2, ls="--")
    # Deadlines named on a top axis, where no curve can run through the words.
    top = ax.secondary_xaxis("top")
    top.set_xticks([_num(d) + 1 for d in deadlines],
                   [f"deadline {d.isoformat()}" for d in deadlines], fontsize=8, color=GREY)
    ax.set_ylim(0, 100)
    ax.yaxis.set_major_formatter(PercentFormatter(decimals=0))
    _year_axis(ax, start, end)
    ax.grid(color="#e5e5e5", lw=0.6)
    ax.set_xlabel("goal date")
    ax.set_ylabel("P(goal met by date) (%)")
    trials = {r.trials for r in runs.values()}
    ax.set_title("Scenario comparison: S-curves of the goal date"
                 + (f" ({trials.pop():,} trials each, same seed)" if len(trials) == 1 else ""),
                 fontsize=11)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, 0), bbox_transform=_below(ax, 34),
              ncol=2 if len(runs) > 1 else 1, fontsize=8.5, frameon=False)
    return ax


def plot_convergence(convergence: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Running estimate of P(goal by deadline) with its 95% interval as trials accumulate."""
    ax = _new_axes(ax, (8, 4.2))
    n = convergence["trials"].to_numpy(dtype=float)
    p = convergence["probability"].to_numpy(dtype=float) * 100
    ax.fill_between(n, convergence["ci_lo"].to_numpy(dtype=float) * 100,
                    convergence["ci_hi"].to_numpy(dtype=float) * 100, color=BLUE, alpha=0.2, lw=0,
                    label="95% interval (Wilson)")
    ax.plot(n, p, color=BLUE, lw=1.8, label="running estimate")
    ax.axhline(p[-1], color=GREY, lw=1, ls="--",
               label=f"final: {p[-1]:.1f}% at {int(n[-1]):,} trials")
    ax.set_xlim(0, n[-1] * 1.02)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
    ax.yaxis.set_major_formatter(PercentFormatter(decimals=0 if np.ptp(p) > 5 else 1))
    ax.set_xlabel("trials")
    ax.set_ylabel("P(goal by deadline) (%)")
    ax.set_title("Convergence: is the number of trials enough?", fontsize=11)
    ax.grid(color="#e5e5e5", lw=0.6)
    ax.legend(loc="upper right", fontsize=8.5, framealpha=0.9)
    return ax


# -- files -----------------------------------------------------------------------------------
def standard_figures(res: Results, drivers: pd.DataFrame | None = None,
                     criticality: pd.Series | None = None) -> dict[str, Figure]:
    """name -> Figure of the standard set, on bare Figures (no pyplot state, no display):
    goal_histogram, schedule, fan, criticality, convergence, and drivers when given."""
    from . import analysis  # imported here: analysis must never need plotting

    labels = {a.id: a.name for a in res.scenario.activities}
    n_rows = sum(a.done is None for a in res.scenario.activities)
    crit = analysis.criticality(res) if criticality is None else criticality
    n_crit = int((crit > 0).sum())
    specs: list[tuple[str, tuple[float, float], Callable[[Axes], Axes]]] = [
        ("goal_histogram", (9, 4.8), lambda ax: plot_goal_histogram(res, ax)),
        ("schedule", (10, 1.2 + 0.42 * max(n_rows, 3)), lambda ax: plot_schedule(res, ax)),
        ("fan", (9, 4.6), lambda ax: plot_fan(res, ax)),
        ("criticality", (8, 1.3 + 0.4 * max(min(n_crit, 20), 3)),
         lambda ax: plot_criticality(crit, ax, labels=labels)),
        ("convergence", (8, 4.2), lambda ax: plot_convergence(analysis.convergence(res), ax)),
    ]
    if drivers is not None:
        specs.append(("drivers", (9, 1.4 + 0.45 * max(min(len(drivers), 15), 3)),
                      lambda ax: plot_drivers(drivers, ax)))
    figures = {}
    for name, size, draw in specs:
        fig = Figure(figsize=size, layout="constrained")
        draw(fig.add_subplot())
        figures[name] = fig
    return figures


def save_standard_figures(res: Results, out_dir: str | Path, drivers: pd.DataFrame | None = None,
                          criticality: pd.Series | None = None) -> list[Path]:
    """Write the standard figures (see :func:`standard_figures`) as PNG (150 dpi) and SVG into
    `out_dir`, made if missing; return the paths written, PNG before SVG for each figure."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, fig in standard_figures(res, drivers, criticality).items():
        for ext in ("png", "svg"):
            path = out / f"{name}.{ext}"
            fig.savefig(path, dpi=150)
            paths.append(path)
    return paths
