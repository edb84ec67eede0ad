"""An exploration's folder: written atomically, read back for analysis.

- ``design.parquet``: one row per design point, in design order: ``point``, one column per
  parameter (the value the point stands for: a number, a whole number, or a date), then
  ``probability``, ``p50_days``, ``p80_days`` (days from as_of; null where the percentile is
  never reached at that point).
- ``sensitivity.csv``: the indices (Sobol: ``output, parameter, S1, S1_conf, ST, ST_conf``).
- ``summary.json``: the run's provenance and settings, the parameters, censoring counts, the PRIM
  box, the lever search, and the top parameters per output.
- ``prim_trajectory.csv`` (when PRIM found a box) and the figures (PNG and SVG).
"""

from __future__ import annotations

import json
import shutil
import tempfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from . import __version__
from .explore import OUTPUTS, Exploration, LeverResult, censored
from .explore_analysis import Box
from .output import check_output_dir
from .parameters import _EPOCH

if TYPE_CHECKING:
    import pandas as pd


@dataclass
class ExploreFolder:
    """What an exploration folder holds, read back."""

    exploration: Exploration
    sensitivity: pd.DataFrame
    summary: dict[str, Any]
    trajectory: pd.DataFrame | None


def design_table(exp: Exploration) -> pa.Table:
    values = exp.values()
    columns: dict[str, pa.Array] = {"point": pa.array(np.arange(len(values), dtype=np.int32))}
    for j, (name, kind) in enumerate(zip(exp.space_names, exp.kinds, strict=True)):
        if kind == "date":
            columns[name] = pa.array(values[:, j].astype(np.int32), type=pa.date32())
        elif kind == "whole":
            columns[name] = pa.array(values[:, j].astype(np.int64))
        else:
            columns[name] = pa.array(values[:, j])
    for j, output in enumerate(OUTPUTS):
        col = exp.outputs[:, j]
        columns[output] = pa.array(np.where(np.isfinite(col), col, 0.0), mask=~np.isfinite(col))
    return pa.table(columns)


def summary(exp: Exploration, sens: pd.DataFrame, box: Box | None, lever: LeverResult | None,
            threshold: float, target: float) -> dict[str, Any]:
    def shown(name: str, value: float) -> Any:
        kind = exp.kinds[exp.space_names.index(name)]
        return date.fromordinal(int(round(value)) + _EPOCH).isoformat() if kind == "date" \
            else value

    out: dict[str, Any] = {
        "scenario": exp.scenario, "version": __version__, "design": exp.design, "n": exp.n,
        "points": len(exp.points), "trials": exp.trials, "seed": exp.seed, "engine": exp.engine,
        "elapsed_s": round(exp.elapsed_s, 3),
        "parameters": [{"path": n, "kind": k, "low": shown(n, lo),
                        "high": shown(n, hi - 1 if k == "whole" else hi), "lever": n in exp.levers}
                       for n, k, (lo, hi) in zip(exp.space_names, exp.kinds, exp.bounds,
                                                 strict=True)],
        "censored": {o: censored(exp.outputs[:, j])[1] for j, o in enumerate(OUTPUTS)
                     if o != "probability"},
        "probability": {"min": float(exp.outputs[:, 0].min()),
                        "mean": float(exp.outputs[:, 0].mean()),
                        "max": float(exp.outputs[:, 0].max())},
        "top": top_parameters(exp, sens),
        "prim": None, "levers": None,
    }
    if box is not None:
        out["prim"] = {"threshold": threshold, "coverage": box.coverage, "density": box.density,
                       "mass": box.mass, "step": box.index,
                       "limits": {k: [shown(k, lo), shown(k, hi)]
                                  for k, (lo, hi) in box.limits.items()},
                       "qp": box.qp}
    else:
        out["prim"] = {"threshold": threshold, "coverage": None, "density": None, "limits": {}}
    if lever is not None:
        out["levers"] = {"target": target, "reached": lever.reached,
                         "values": {k: shown(k, v) for k, v in lever.values.items()},
                         "change": lever.change, "probability": lever.probability,
                         "ci95": list(lever.ci95), "evaluated": lever.evaluated}
    return out


def top_parameters(exp: Exploration, sens: pd.DataFrame, count: int = 5) -> dict[str, list[str]]:
    """The parameters ranked by total index (Sobol), mu* (Morris) or delta (LHS), per output."""
    key = {"sobol": "ST", "morris": "mu_star", "lhs": "delta"}[exp.design]
    ranked = {}
    for output in OUTPUTS:
        rows = sens[sens["output"] == output].dropna(subset=[key])
        ranked[output] = rows.sort_values(key, ascending=False)["parameter"].head(count).tolist()
    return ranked


def write_folder(out: Path, exp: Exploration, sens: pd.DataFrame, box: Box | None,
                 lever: LeverResult | None, threshold: float, target: float,
                 figures: bool = True, surface: tuple[str, str] | None = None,
                 force: bool = False) -> dict[str, Any]:
    """Write everything into `out`, all or nothing. Returns the summary written."""
    out = Path(out)
    check_output_dir(out, force)
    parent = out.resolve().parent
    parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=parent))
    try:
        info = summary(exp, sens, box, lever, threshold, target)
        pq.write_table(design_table(exp), tmp / "design.parquet")
        sens.to_csv(tmp / "sensitivity.csv", index=False)
        if box is not None:
            box.trajectory.to_csv(tmp / "prim_trajectory.csv", index_label="step")
        if figures:
            from .explore_plots import save_explore_figures

            info["figures"] = save_explore_figures(exp, sens, box, tmp, surface, threshold)
        (tmp / "summary.json").write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
        if out.is_dir():
            shutil.rmtree(out)
        tmp.rename(out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return info


def read_folder(folder: str | Path) -> ExploreFolder:
    """An exploration folder read back: the points (as design numbers), outputs and analysis."""
    import pandas as pd

    folder = Path(folder)
    info = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    frame = pq.read_table(folder / "design.parquet").to_pandas()
    names = [p["path"] for p in info["parameters"]]
    kinds = [p["kind"] for p in info["parameters"]]
    points = np.column_stack([_numbers(frame[n], k) for n, k in zip(names, kinds, strict=True)])
    outputs = np.column_stack([frame[o].to_numpy(dtype=float, na_value=np.inf) for o in OUTPUTS])
    bounds = [(_number(p["low"], p["kind"]), _number(p["high"], p["kind"])
               + (1 if p["kind"] == "whole" else 0)) for p in info["parameters"]]
    exp = Exploration(names, kinds, bounds, [p["path"] for p in info["parameters"] if p["lever"]],
                      info["design"], info["n"], info["trials"], info["seed"], points, outputs,
                      info["scenario"], info["elapsed_s"], info["engine"])
    trajectory_file = folder / "prim_trajectory.csv"
    trajectory = pd.read_csv(trajectory_file, index_col="step") if trajectory_file.exists() \
        else None
    return ExploreFolder(exp, pd.read_csv(folder / "sensitivity.csv"), info, trajectory)


def _number(value: Any, kind: str) -> float:
    return float(date.fromisoformat(value).toordinal() - _EPOCH) if kind == "date" \
        else float(value)


def _numbers(column: pd.Series, kind: str) -> np.ndarray:
    if kind == "date":
        return np.array([d.toordinal() - _EPOCH for d in column], dtype=float)
    numbers: np.ndarray = column.to_numpy(dtype=float)
    return numbers
