"""The small pieces the figures share: palette, date axes, the plotting horizon, the S-curve
and the goal-progress counts behind the fan chart. Split from :mod:`sim.plotting` to keep each
module short; nothing here is public API except what plotting re-exports."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from datetime import date, timedelta
from typing import Any, Protocol

import matplotlib.dates as mdates
import numpy as np
from matplotlib.axes import Axes
from matplotlib.transforms import offset_copy

from .model import AllOf, AnyOf, AtLeast, Requirement
from .results import Results, day_index

# A colour-blind-safe palette (Okabe-Ito), so figures survive greyscale printing too.
BLUE, ORANGE, GREEN, RED, PURPLE, GREY = (
    "#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#777777")
KIND_COLOURS = {"risk": RED, "factor": BLUE, "vehicle": ORANGE}
NEGLIGIBLE_NEVER = 0.005  # P(never) below this is not written on the schedule chart
DAYS_PER_YEAR = 365.25
BIN_WIDTHS = ((1.0, "day"), (7.0, "week"), (DAYS_PER_YEAR / 12, "month"),
              (DAYS_PER_YEAR / 4, "quarter"), (DAYS_PER_YEAR / 2, "half-year"),
              (DAYS_PER_YEAR, "year"))


class _Comparison(Protocol):
    """What plot_compare needs from sim.analysis.Comparison."""

    @property
    def results(self) -> Mapping[str, Results]: ...


# -- small helpers -------------------------------------------------------------------------
def _num(d: date) -> float:
    """Matplotlib's date number of a date (matplotlib.dates has no type hints)."""
    return float(mdates.date2num(d))  # type: ignore[no-untyped-call]


def _new_axes(ax: Axes | None, size: tuple[float, float]) -> Axes:
    """The caller's Axes, or one on a new pyplot figure with constrained layout."""
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt  # only here: importing pyplot picks a backend

    _, new = plt.subplots(figsize=size, layout="constrained")
    return new


def _date_num(base: date, days: np.ndarray | float) -> Any:
    """Matplotlib date numbers of engine times (the calendar day each falls in)."""
    return _num(base) + np.floor(days)


def _year_axis(ax: Axes, start: float, end: float) -> None:
    """Year labels, spaced so that they never crowd (about 12 at most); a span under four
    years (a short test scenario) gets month labels instead."""
    years = (end - start) / DAYS_PER_YEAR
    ax.set_xlim(start, end)
    if years < 4:
        locator = mdates.AutoDateLocator(minticks=4, maxticks=10)  # type: ignore[no-untyped-call]
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(
            mdates.ConciseDateFormatter(locator))  # type: ignore[no-untyped-call]
        return
    step = next((s for s in (1, 2, 5, 10, 20) if years / s <= 12), 50)
    ax.xaxis.set_major_locator(mdates.YearLocator(base=step))  # type: ignore[no-untyped-call]
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y"))  # type: ignore[no-untyped-call]
    if step > 1:
        ax.xaxis.set_minor_locator(mdates.YearLocator(base=1))  # type: ignore[no-untyped-call]


def _horizon(res: Results, extra: Sequence[date | None] = (),
             trim: bool = False) -> tuple[float, float]:
    """x limits (date numbers): from as_of (or the earliest of `extra`) to past the deadline (by
    a quarter of the time to it), the bulk of the finite goal dates (their 95th percentile) and
    `extra`, at most 40 years on;
    rounded out to whole years (whole months for spans under four years). With `trim`, the
    start moves up to shortly before the earliest goal dates, so a goal-date plot is not
    mostly empty years."""
    as_of, deadline = res.scenario.as_of, res.scenario.goal.deadline
    margin = timedelta(days=max(0.25 * (deadline - as_of).days, 30))
    finite = res.goal_days[np.isfinite(res.goal_days)]
    first, ends = as_of, [deadline + margin]
    if finite.size:
        ends.append(as_of + timedelta(days=float(np.quantile(finite, 0.95))))
        if trim:
            early = as_of + timedelta(days=float(np.quantile(finite, 0.005)))
            first = max(as_of, min(early, deadline) - margin)
    known = [d for d in extra if d is not None]
    ends.extend(known)
    first = min([first, *known])  # an announced date already past stays on the chart
    end = min(max(ends), as_of + timedelta(days=40 * 365))
    if (end - first).days > 4 * 365:
        first, end = date(first.year, 1, 1), date(end.year + 1, 1, 1)
    else:
        first = date(first.year, first.month, 1)
        end = date(end.year + end.month // 12, end.month % 12 + 1, 1)
    return _num(first), _num(end)


def _below(ax: Axes, points: float) -> Any:
    """A transform for placing a legend `points` below the bottom of the Axes (under the
    tick labels and x label), so it never covers data."""
    return offset_copy(ax.transAxes, fig=ax.get_figure(root=True), y=-points, units="points")


def _deadline_text(d: date) -> str:
    """'2035' for a deadline at the end of a year, else the full date."""
    return str(d.year) if (d.month, d.day) == (12, 31) else d.isoformat()


def _pct(p: float) -> str:
    """A probability as a percentage; never '0.0%' or '100.0%' for values strictly between."""
    if 0 < p < 0.001:
        return "<0.1%"
    if 0.999 < p < 1:
        return ">99.9%"
    return f"{p:.1%}"


def _is(p: float) -> str:
    """'= 16.6%', or '< 0.1%' where the percentage is itself a bound."""
    text = _pct(p)
    return f"{text[0]} {text[1:]}" if text[0] in "<>" else f"= {text}"


def _short(name: str, width: int = 38) -> str:
    """A row label: the name without a closing parenthetical, cut to `width` characters."""
    head = re.sub(r"\s*\([^()]*\)$", "", name) or name
    return head if len(head) <= width else head[: width - 1].rstrip() + "…"


def _mark_deadline(ax: Axes, deadline: date, label: bool = True) -> None:
    x = _num(deadline) + 1  # the end of the deadline day
    ax.axvline(x, color=RED, lw=1.5, ls="--", zorder=3,
               label=f"deadline {deadline.isoformat()}" if label else None)


def _s_curve(res: Results, start: float, end: float) -> tuple[np.ndarray, np.ndarray]:
    """Step points (date numbers, %) of P(goal by date) over all trials between start and end.

    Trials that never meet the goal keep the curve below 100%, which is the point.
    """
    days = res.goal_days
    x = np.sort(_date_num(res.scenario.as_of, days[np.isfinite(days)]))
    share = np.arange(1, x.size + 1) / len(days) * 100
    inside = x < end
    before = float(share[x < start][-1]) if np.any(x < start) else 0.0
    last = float(share[inside][-1]) if np.any(inside) else before
    keep = inside & (x >= start)
    return (np.concatenate([[start], x[keep], [end]]),
            np.concatenate([[before], share[keep], [last]]))


# -- goal progress (the fan chart's data) --------------------------------------------------
def _progress(req: Requirement, done_by: Callable[[str], np.ndarray]) -> tuple[np.ndarray, int]:
    """Parts of `req` achieved (trials x grid) and how many there are.

    A plain activity is one part; `all` adds its parts; `any` is one part, achieved when any
    branch is complete; `at_least k` is k parts, one per complete branch up to k. So the goal
    is met exactly when every part is achieved.
    """
    if isinstance(req, str):
        return done_by(req).astype(np.int16), 1
    subs = [_progress(p, done_by) for p in req.parts]
    if isinstance(req, AllOf):
        return sum(c for c, _ in subs), sum(n for _, n in subs)  # type: ignore[return-value]
    complete = np.stack([c == n for c, n in subs]).sum(axis=0).astype(np.int16)
    if isinstance(req, AnyOf):
        return np.minimum(complete, 1), 1
    if isinstance(req, AtLeast):
        return np.minimum(complete, req.count), req.count
    raise TypeError(f"not a requirement: {req!r}")


def goal_progress(res: Results, days: np.ndarray) -> tuple[np.ndarray, int]:
    """(parts achieved by the end of each day in `days`, per trial x day; the number of parts)."""
    grid = np.asarray(days, dtype=float)[None, :]

    def done_by(aid: str) -> np.ndarray:
        return day_index(res.finish(aid))[:, None] <= grid

    return _progress(res.scenario.goal.requires, done_by)


def describe_requirement(req: Requirement) -> str:
    """A requirement in words: 'ce7, ce8, one of [ilrs1, ru_power_plant], 3 of [...]'."""
    if isinstance(req, str):
        return req
    inner = ", ".join(describe_requirement(p) for p in req.parts)
    if isinstance(req, AllOf):
        return inner
    if isinstance(req, AnyOf):
        return f"one of [{inner}]"
    return f"{req.count} of [{inner}]"
