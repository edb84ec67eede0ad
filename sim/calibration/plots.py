"""The back-test figure: the PIT histogram and each snapshot's predicted interval vs actual.

Computes nothing: it draws the numbers of a :class:`sim.calibration.report.Backtest`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402

from ..plotkit import BLUE, GREY, RED  # noqa: E402

if TYPE_CHECKING:
    from .report import Backtest


def plot_pit(bt: Backtest, ax: Axes | None = None) -> Axes:
    ax = ax or plt.figure(figsize=(4.5, 3.5)).add_subplot()
    pit = np.array([r.pit for r in bt.rows])
    n = len(pit)
    ax.hist(pit, bins=10, range=(0, 1), color=BLUE, edgecolor="white")
    expected = n / 10
    # A flat histogram is what a calibrated rule gives; the band is +/- 2 binomial s.d.
    sd = np.sqrt(n * 0.1 * 0.9)
    ax.axhspan(max(expected - 2 * sd, 0), expected + 2 * sd, color=GREY, alpha=0.12, lw=0,
               label="uniform: expected count +/- 2 s.d.")
    ax.axhline(expected, color=GREY, lw=1, ls="--")
    ax.legend(loc="upper right", fontsize=7, frameon=False)
    ax.set_xlabel("PIT (predictive CDF at the actual slip)")
    ax.set_ylabel("snapshots")
    ax.set_title(f"PIT, {bt.mode} ({n} launched snapshots)", fontsize=9)
    return ax


def plot_intervals(bt: Backtest, ax: Axes | None = None) -> Axes:
    """Per snapshot, sorted by lead: the 50 % and 80 % intervals of the slip and the actual."""
    ax = ax or plt.figure(figsize=(7, 6)).add_subplot()
    launched = sorted((p for p in bt.predictions if not p.snapshot.pending),
                      key=lambda p: (p.snapshot.group, p.snapshot.lead_months))
    for i, p in enumerate(launched):
        q10, q25, q75, q90 = p.slip.ppf_months(np.array([0.10, 0.25, 0.75, 0.90]))
        y = p.snapshot.slip_months or 0.0
        ax.plot([q10, q90], [i, i], color=BLUE, lw=1, alpha=0.5)
        ax.plot([q25, q75], [i, i], color=BLUE, lw=4, alpha=0.8)
        inside = q10 < y < q90
        ax.plot([y], [i], marker="o" if inside else "x", color="black" if inside else RED, ms=4)
    ax.set_yticks(range(len(launched)))
    ax.set_yticklabels([f"{p.snapshot.mission.split(' (')[0][:18]} ({p.snapshot.as_of.year}, "
                        f"{p.snapshot.lead_months:.0f} mo)" for p in launched], fontsize=6)
    ax.set_xscale("symlog", linthresh=3, linscale=0.6)
    ticks = [-3, 0, 3, 10, 30, 100, 300]
    ax.set_xticks(ticks)
    ax.set_xticklabels([str(t) for t in ticks])
    ax.set_xlabel("slip, months (symmetric log scale); bars: 50 % and 80 % intervals; "
                  "x: actual outside the 80 %", fontsize=8)
    ax.axvline(0, color=GREY, lw=0.8)
    ax.set_title("Predicted slip vs actual, per plan snapshot", fontsize=9)
    return ax


def plot_backtest(bt: Backtest, path: Path) -> None:
    fig = plt.figure(figsize=(11, 6.5))
    grid = fig.add_gridspec(1, 2, width_ratios=(1, 1.5))
    plot_pit(bt, fig.add_subplot(grid[0]))
    plot_intervals(bt, fig.add_subplot(grid[1]))
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
