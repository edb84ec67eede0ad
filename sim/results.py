"""Results of a Monte Carlo run: compact arrays, the statistics users read, and provenance."""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np

from .model import Scenario
from .timebase import NEVER_DATE, date_values, day_index

__all__ = ["NEVER_DATE", "PERCENTILES", "Results", "day_index", "percentile_day",
           "wilson_interval"]

if TYPE_CHECKING:  # pandas costs a second to import; only the DataFrame methods need it
    import pandas as pd

# The goal-date percentiles reported unless others are asked for. P70 is there because NASA's
# joint-confidence-level policy budgets programmes at 70% (NPR 7120.5); P80 is a common margin.
PERCENTILES = (10, 50, 70, 80, 90)
Z95 = 1.959963984540054


def wilson_interval(successes: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion."""
    if n <= 0:
        raise ValueError("needs at least one trial")
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    # At p = 0 or 1 one end is exactly 0 or 1; say so rather than leave rounding noise.
    lo = 0.0 if successes == 0 else max(0.0, centre - half)
    hi = 1.0 if successes == n else min(1.0, centre + half)
    return lo, hi


def check_percentiles(levels: Iterable[int]) -> tuple[int, ...]:
    """`levels` as sorted whole percents 1..100 without repeats; ValueError says what is wrong."""
    out = []
    for q in levels:
        if isinstance(q, bool) or not isinstance(q, int | np.integer) or not 1 <= q <= 100:
            raise ValueError(f"a percentile must be a whole number from 1 to 100, got {q!r}")
        out.append(int(q))
    if not out:
        raise ValueError("needs at least one percentile")
    return tuple(sorted(set(out)))


def percentile_day(days: np.ndarray, percent: int) -> float:
    """Earliest day by which at least `percent`% of all trials are done; inf when fewer ever are.

    A trial that never finishes counts as later than any date.
    """
    n = len(days)
    k = -(-percent * n // 100)  # ceil(percent * n / 100) in integers
    return float(np.partition(day_index(days), k - 1)[k - 1])


@dataclass
class Results:
    """Per-trial arrays (rows: trials; columns: activities in scenario order) and provenance.

    Times are days since the scenario's as_of at 00:00 (float); np.inf means never.
    """

    scenario: Scenario
    seed: int
    goal_days: np.ndarray
    finish_days: np.ndarray
    # float32, rounded down (sim.blocks.floor32): diagnostics for the path analysis, half the
    # memory of float64 and never after the start they precede; None unless the run was asked
    # to keep them (run(..., keep_ready=True)).
    first_ready_days: np.ndarray | None  # ready time of the first attempt
    ready_days: np.ndarray | None  # ready time of the last attempt
    start_days: np.ndarray  # start (launch) time of the last attempt
    attempts: np.ndarray  # int8: attempts made, those before as_of included (0: never ready)
    driver: np.ndarray  # int16: what set the first ready time (see sim.blocks DRIVER_*)
    # int16: for a launch, the vehicle `after` activity (its index) whose finish set the launch
    # time of the last attempt; -1 when the vehicle was usable before that.
    waited_for: np.ndarray
    version: str
    block_size: int
    workers: int = 1
    elapsed_s: float = 0.0
    # The half-width asked for with `precision` (None: a fixed number of trials).
    precision: float | None = None
    engine: str = "fast"  # the engine that ran the trials (every engine gives the same ones)
    # The goal-date percentiles reported (`percentiles`, tables, summary); see with_percentiles.
    percentile_levels: tuple[int, ...] = PERCENTILES
    _cache: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def with_percentiles(self, levels: Iterable[int]) -> Results:
        """The same results reporting the percentiles `levels` (whole percents, e.g.
        ``(10, 50, 70, 80, 90)``) everywhere: percentiles, tables, summary, figures, report.
        The arrays are shared, not copied."""
        return dataclasses.replace(self, percentile_levels=check_percentiles(levels), _cache={})

    # -- the goal -------------------------------------------------------------------------
    @property
    def trials(self) -> int:
        return len(self.goal_days)

    @property
    def deadline_day(self) -> int:
        return (self.scenario.goal.deadline - self.scenario.as_of).days

    @property
    def met(self) -> np.ndarray:
        """Goal met on or before the deadline (the end of that day), per trial."""
        return day_index(self.goal_days) <= self.deadline_day

    @property
    def probability(self) -> float:
        return float(self.met.mean())

    @property
    def ci95(self) -> tuple[float, float]:
        return wilson_interval(int(self.met.sum()), self.trials)

    @property
    def half_width(self) -> float:
        """Half the width of the 95% interval of P(goal by deadline)."""
        lo, hi = self.ci95
        return (hi - lo) / 2

    @property
    def precision_reached(self) -> bool | None:
        """Whether a run with `precision` got its interval that narrow (None: not asked)."""
        return None if self.precision is None else self.half_width < self.precision

    @property
    def p_never(self) -> float:
        return float(np.isinf(self.goal_days).mean())

    @property
    def percentiles(self) -> dict[str, date | None]:
        return self._percentile_dates(self.goal_days)

    # -- activities -----------------------------------------------------------------------
    def finish(self, activity_id: str) -> np.ndarray:
        return self.finish_days[:, self.scenario.activity_index[activity_id]]

    def activity_table(self) -> pd.DataFrame:
        """One row per activity: status (what happened before as_of, in words: "done on
        DATE", "in flight since DATE", "lost on DATE", ...; '' when nothing did), P(finish by
        deadline), P(never), mean attempts (those before as_of included), percentiles."""
        import pandas as pd

        return pd.DataFrame(self._activity_rows()).set_index("id")

    def _activity_rows(self) -> list[dict[str, Any]]:
        rows = []
        for j, act in enumerate(self.scenario.activities):
            days = self.finish_days[:, j]
            row: dict[str, Any] = {
                "id": act.id,
                "name": act.name,
                "status": act.status,
                "p_finish_by_deadline": float((day_index(days) <= self.deadline_day).mean()),
                "p_never": float(np.isinf(days).mean()),
                "mean_attempts": float(self.attempts[:, j].mean()),
            }
            row.update(self._percentile_dates(days))
            rows.append(row)
        return rows

    # -- conversions ----------------------------------------------------------------------
    def to_date(self, days: float) -> date | None:
        return None if math.isinf(days) else self.scenario.as_of + timedelta(days=int(days))

    def _percentile_dates(self, days: np.ndarray) -> dict[str, date | None]:
        return {f"p{q}": self.to_date(percentile_day(days, q)) for q in self.percentile_levels}

    def date_column(self, days: np.ndarray) -> np.ndarray:
        """datetime64[s] dates of engine times; never is NEVER_DATE (9999-12-31), which sorts
        after every date, so statistics of the column count it as later than any date."""
        return date_values(self.scenario.as_of, days)

    def to_frame(self) -> pd.DataFrame:
        """One row per trial: trial, goal date, and each activity's finish date (never is
        NEVER_DATE, as in trials.parquet)."""
        import pandas as pd

        columns: dict[str, Any] = {
            "trial": np.arange(self.trials),
            "goal": self.date_column(self.goal_days),
        }
        for j, act in enumerate(self.scenario.activities):
            columns[act.id] = self.date_column(self.finish_days[:, j])
        return pd.DataFrame(columns)

    def to_excel(self, path: str | os.PathLike[str], force: bool = False) -> None:
        """Write an Excel workbook (Summary, Missions, Sources; dates as spreadsheet dates) to
        `path`, whole or not at all; refused if the file exists, unless `force`."""
        from .scenario import resolved_yaml
        from .spreadsheet import write_workbook

        write_workbook(self, path, resolved_yaml(self.scenario), force=force)

    def summary(self, scenario_sha256: str | None = None) -> dict[str, Any]:
        """The content of summary.json."""
        goal = self.scenario.goal
        lo, hi = self.ci95

        def iso(d: date | None) -> str | None:
            return d.isoformat() if d else None

        activities = {
            row["id"]: {
                "status": row["status"],
                "p_finish_by_deadline": row["p_finish_by_deadline"],
                "p_never": row["p_never"],
                "mean_attempts": row["mean_attempts"],
                "percentiles": {f"p{q}": iso(row[f"p{q}"]) for q in self.percentile_levels},
            }
            for row in self._activity_rows()
        }
        return {
            "scenario": self.scenario.title,
            "scenario_sha256": scenario_sha256,
            "version": self.version,
            "engine": self.engine,
            "seed": self.seed,
            "trials": self.trials,
            "block_size": self.block_size,
            "as_of": self.scenario.as_of.isoformat(),
            "goal": {
                "name": goal.name,
                "deadline": goal.deadline.isoformat(),
                "probability": self.probability,
                "ci95": [lo, hi],
                "p_never": self.p_never,
                **({} if self.precision is None else {"precision": {
                    "requested": self.precision, "half_width": self.half_width,
                    "reached": self.precision_reached}}),
                "percentiles": {k: iso(v) for k, v in self.percentiles.items()},
            },
            "activities": activities,
        }

    def __repr__(self) -> str:
        lo, hi = self.ci95
        return (
            f"<Results {self.scenario.title!r}: {self.trials:,} trials, seed {self.seed}; "
            f"P({self.scenario.goal.name} by {self.scenario.goal.deadline}) = "
            f"{self.probability:.1%} (95% CI {lo:.1%}-{hi:.1%})>"
        )

    def _repr_html_(self) -> str:
        """The notebook display, from an autoescaped template (a title is text, never markup)."""
        from .report import templates

        lo, hi = self.ci95
        return templates().get_template("results.html").render(
            title=self.scenario.title, trials=f"{self.trials:,}", seed=self.seed,
            goal=self.scenario.goal.name, deadline=self.scenario.goal.deadline,
            probability=f"{self.probability:.1%}", lo=f"{lo:.1%}", hi=f"{hi:.1%}",
            never=f"{self.p_never:.1%}", percentiles=self.percentiles,
        )
