"""Figures of an exploration: sensitivity bars with their intervals, the PRIM peeling trade-off,
the chosen box over the points, and a 2-D response surface of P(goal). Plots compute nothing
beyond binning: they take an exploration and its analysis, and return the Axes."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib.dates as mdates
import numpy as np
from matplotlib.axes import Axes
from matplotlib.patches import Rectangle
from matplotlib.ticker import MaxNLocator

from .explore import OUTPUTS, Exploration
from .explore_analysis import Box
from .plotkit import BLUE, GREY, ORANGE, RED, _new_axes

if TYPE_CHECKING:
    import pandas as pd

OUTPUT_LABELS = {"probability": "P(goal by deadline)", "p50_days": "P50 goal date",
                 "p80_days": "P80 goal date"}


def plot_sensitivity(sens: pd.DataFrame, output: str = "probability", ax: Axes | None = None,
                     top: int = 12) -> Axes:
    """Bars of each parameter's indices for one output, with their 95 % intervals."""
    rows = sens[sens["output"] == output]
    if "ST" in rows:
        pairs = [("S1", "first order", BLUE), ("ST", "total", ORANGE)]
        rank = "ST"
    elif "mu_star" in rows:
        pairs = [("mu_star", "Morris mu*", BLUE)]
        rank = "mu_star"
    else:
        pairs = [("delta", "delta", BLUE), ("S1", "first order", ORANGE)]
        rank = "delta"
    rows = rows.sort_values(rank, ascending=True, na_position="first").tail(top)
    ax = _new_axes(ax, (8, 1.2 + 0.45 * len(rows)))
    y = np.arange(len(rows))
    height = 0.8 / len(pairs)
    for k, (col, label, colour) in enumerate(pairs):
        conf = rows[f"{col}_conf"] if f"{col}_conf" in rows else None
        ax.barh(y + (k - (len(pairs) - 1) / 2) * height, rows[col], height, xerr=conf,
                color=colour, label=label, error_kw={"ecolor": GREY, "capsize": 2})
    ax.set_yticks(y, [short_path(p) for p in rows["parameter"]])
    ax.axvline(0, color=GREY, lw=0.8)
    ax.set_xlabel("index (bars: 95% confidence interval)")
    ax.set_title(f"What drives {OUTPUT_LABELS.get(output, output)}", loc="left")
    ax.legend(loc="lower right", frameon=False)
    return ax


def plot_peeling(box: Box, ax: Axes | None = None) -> Axes:
    """PRIM's peeling trajectory: coverage against density, the chosen box marked."""
    ax = _new_axes(ax, (6.5, 4.5))
    t = box.trajectory
    points = ax.scatter(t["coverage"], t["density"], c=t["res_dim"], cmap="viridis", s=18)
    ax.scatter([box.coverage], [box.density], s=120, facecolors="none", edgecolors=RED, lw=2,
               label=f"chosen: coverage {box.coverage:.0%}, density {box.density:.0%}")
    bar = ax.figure.colorbar(points, ax=ax, label="parameters restricted")
    bar.set_ticks(sorted(set(int(v) for v in t["res_dim"])))
    ax.set_xlabel("coverage (share of the good points inside the box)")
    ax.set_ylabel("density (share of the box's points that are good)")
    ax.set_title("Scenario discovery: PRIM peeling trade-off", loc="left")
    ax.legend(loc="lower left", frameon=False)
    return ax


def plot_box(exp: Exploration, box: Box, threshold: float, ax: Axes | None = None) -> Axes:
    """The points over the box's first two restricted parameters, good ones coloured, and the
    chosen box drawn on them."""
    names = list(box.limits) + [n for n in exp.space_names if n not in box.limits]
    a, b = names[0], names[1]
    ia, ib = exp.space_names.index(a), exp.space_names.index(b)
    values = exp.values()
    good = exp.outputs[:, 0] >= threshold
    ax = _new_axes(ax, (6.5, 5))
    ax.scatter(values[~good, ia], values[~good, ib], s=8, color=GREY, alpha=0.5,
               label=f"P < {threshold:.0%}")
    ax.scatter(values[good, ia], values[good, ib], s=10, color=BLUE,
               label=f"P >= {threshold:.0%}")
    lo = [box.limits.get(n, exp.bounds[i]) for n, i in ((a, ia), (b, ib))]
    ax.add_patch(Rectangle((lo[0][0], lo[1][0]), lo[0][1] - lo[0][0], lo[1][1] - lo[1][0],
                           fill=False, edgecolor=RED, lw=2, label="PRIM box"))
    _axis_labels(ax, exp, a, b)
    more = f"; 2 of its {len(box.limits)} limits shown" if len(box.limits) > 2 else ""
    ax.set_title(f"PRIM box where P(goal) >= {threshold:.0%}{more}", loc="left")
    ax.legend(loc="upper right", frameon=True, fontsize="small")
    return ax


def plot_surface(exp: Exploration, a: str, b: str, ax: Axes | None = None,
                 bins: int | None = None) -> Axes:
    """P(goal by deadline) over two parameters: the mean over the points in each cell (the other
    parameters averaged over their ranges); by default about 8 points per cell, 4 to 16 cells a
    side. White cells hold no point."""
    ia, ib = exp.space_names.index(a), exp.space_names.index(b)
    if bins is None:
        bins = int(np.clip(np.sqrt(len(exp.points) / 8), 4, 16))
    values = exp.values()
    ea, eb = (_edges(exp, i, bins) for i in (ia, ib))
    total, _, _ = np.histogram2d(values[:, ia], values[:, ib], [ea, eb], weights=exp.outputs[:, 0])
    count, _, _ = np.histogram2d(values[:, ia], values[:, ib], [ea, eb])
    with np.errstate(invalid="ignore"):
        mean = np.where(count > 0, total / np.maximum(count, 1), np.nan)
    ax = _new_axes(ax, (6.5, 5))
    mesh = ax.pcolormesh(ea, eb, mean.T, cmap="viridis", vmin=0, vmax=1, shading="flat")
    ax.figure.colorbar(mesh, ax=ax, label="P(goal by deadline), mean over the cell")
    _axis_labels(ax, exp, a, b)
    ax.set_title("Response surface of P(goal by deadline)", loc="left")
    return ax


def short_path(path: str, width: int = 52) -> str:
    """A parameter path short enough for an axis: a key list {a,b,c,d} becomes {a,...,d}, then
    the middle gives way, so the field at the end stays readable."""
    short = re.sub(r"\{([^,{}]+),[^{}]*,([^,{}]+)\}", r"{\1,…,\2}", path)
    if len(short) <= width:
        return short
    keep = width - 1
    return short[: keep // 2] + "…" + short[-(keep - keep // 2):]


def _edges(exp: Exploration, i: int, bins: int) -> np.ndarray:
    """Cell edges along parameter i: one cell per whole number, else `bins` equal cells."""
    low, high = exp.bounds[i]
    if exp.kinds[i] == "whole":  # values low..high-1, each in the middle of its cell
        return np.arange(low - 0.5, high, 1.0)
    return np.linspace(low, high, bins + 1)


def _axis_labels(ax: Axes, exp: Exploration, a: str, b: str) -> None:
    ax.set_xlabel(short_path(a, 60))
    ax.set_ylabel(short_path(b, 60))
    # Date parameters are days since 1970-01-01, which is Matplotlib's own date epoch.
    for name, axis in ((a, ax.xaxis), (b, ax.yaxis)):
        kind = exp.kinds[exp.space_names.index(name)]
        if kind == "date":
            axis.set_major_formatter(mdates.DateFormatter("%Y-%m"))  # type: ignore[no-untyped-call]
        elif kind == "whole":
            axis.set_major_locator(MaxNLocator(integer=True))


def surface_pair(exp: Exploration, sens: pd.DataFrame) -> tuple[str, str] | None:
    """The two parameters with the largest index on P(goal), for the response surface."""
    if len(exp.space_names) < 2:
        return None
    key = {"sobol": "ST", "morris": "mu_star", "lhs": "delta"}[exp.design]
    rows = sens[sens["output"] == "probability"].sort_values(key, ascending=False,
                                                              na_position="last")
    names = rows["parameter"].tolist()
    return names[0], names[1]


def save_explore_figures(exp: Exploration, sens: pd.DataFrame, box: Box | None, out: Path,
                         surface: tuple[str, str] | None = None,
                         threshold: float = 0.5) -> list[str]:
    """Write the figures (PNG and SVG) into `out`; returns the file names."""
    from matplotlib.figure import Figure

    def save(stem: str, size: tuple[float, float], draw: object) -> None:
        fig = Figure(figsize=size, layout="constrained")
        draw(fig.add_subplot())  # type: ignore[operator]
        for ext in ("png", "svg"):
            fig.savefig(out / f"{stem}.{ext}", dpi=150)
            names.append(f"{stem}.{ext}")

    names: list[str] = []
    height = 1.4 + 0.5 * min(len(exp.space_names), 12)
    for output in OUTPUTS:
        if sens[sens["output"] == output].iloc[:, 2:].notna().any().any():
            save(f"sensitivity_{output}", (8, height),
                 lambda ax, o=output: plot_sensitivity(sens, o, ax))
    if box is not None:
        save("prim_peeling", (6.5, 4.5), lambda ax: plot_peeling(box, ax))
        if len(exp.space_names) >= 2:
            save("prim_box", (6.5, 5), lambda ax: plot_box(exp, box, threshold, ax))
    pair = surface or surface_pair(exp, sens)
    if pair is not None:
        save("surface", (6.5, 5), lambda ax: plot_surface(exp, pair[0], pair[1], ax))
    return names
