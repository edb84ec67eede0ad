"""Writing a run's results folder, atomically: a temporary folder renamed at the end, so an
interrupted run leaves nothing half-written and no earlier result is overwritten by accident."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .results import Results, day_index

if TYPE_CHECKING:
    import pyarrow as pa


class OutputExistsError(Exception):
    """The output folder exists and is not empty (and overwriting was not asked for)."""


def check_output_dir(out: Path, force: bool) -> None:
    """Fail before any work is done when `out` would be refused at the end."""
    if out.exists() and not out.is_dir():
        raise OutputExistsError(f"{out}: exists and is not a folder")
    if out.is_dir() and any(out.iterdir()) and not force:
        raise OutputExistsError(
            f"{out}: folder exists and is not empty (use --force to replace it)"
        )


def _date_array(results: Results, days: np.ndarray) -> pa.Array:
    """Engine times as Arrow date32 (days since 1970-01-01), null where never."""
    import pyarrow as pa  # loaded only when a results folder is written

    whole = day_index(days)
    never = np.isinf(whole)
    epoch = (results.scenario.as_of.toordinal() - 719163)  # 719163 = date(1970, 1, 1).toordinal()
    values = np.where(never, 0, whole).astype(np.int64) + epoch
    return pa.array(values.astype(np.int32), type=pa.date32(), mask=never)


def trials_table(results: Results) -> pa.Table:
    """One row per trial: trial, goal date, each activity's finish date by id, and per activity
    `attempts.<id>` and `start.<id>` (ids cannot contain '.', so these never clash)."""
    import pyarrow as pa

    columns: dict[str, pa.Array] = {
        "trial": pa.array(np.arange(results.trials, dtype=np.int32)),
        "goal": _date_array(results, results.goal_days),
    }
    for j, act in enumerate(results.scenario.activities):
        columns[act.id] = _date_array(results, results.finish_days[:, j])
    for j, act in enumerate(results.scenario.activities):
        columns[f"attempts.{act.id}"] = pa.array(results.attempts[:, j])
        columns[f"start.{act.id}"] = _date_array(results, results.start_days[:, j].astype(float))
    return pa.table(columns)


def write_results(results: Results, scenario_yaml: str, out: Path, force: bool = False) -> None:
    """Write summary.json, trials.parquet and scenario.yaml into `out`, all or nothing."""
    out = Path(out)
    check_output_dir(out, force)
    parent = out.resolve().parent
    parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=parent))
    try:
        (tmp / "scenario.yaml").write_text(scenario_yaml, encoding="utf-8")
        digest = hashlib.sha256(scenario_yaml.encode("utf-8")).hexdigest()
        summary = results.summary(scenario_sha256=digest)
        (tmp / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
        import pyarrow.parquet as pq

        pq.write_table(trials_table(results), tmp / "trials.parquet")
        _replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _replace(tmp: Path, out: Path) -> None:
    if out.is_dir():
        old = out.with_name(f".{out.name}.old-{os.getpid()}")
        out.rename(old)
        tmp.rename(out)
        shutil.rmtree(old, ignore_errors=True)
    else:
        tmp.rename(out)
