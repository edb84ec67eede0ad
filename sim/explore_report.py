"""The report's section built from an exploration folder (see :mod:`sim.explore_output`): the
parameters that matter most, the PRIM box, the lever search and the folder's figures. Reads the
folder only; nothing is re-run."""

from __future__ import annotations

import base64
from pathlib import Path

from .explore_output import read_folder
from .report import templates

FIGURES = (("sensitivity_probability.png", "What drives P(goal by deadline): first-order and "
            "total Sobol indices (or Morris mu*, or delta) with their 95% intervals."),
           ("prim_peeling.png", "PRIM peeling trade-off: coverage against density; the chosen "
            "box circled."),
           ("prim_box.png", "The design points over two of the box's parameters, and the box."),
           ("surface.png", "P(goal by deadline) over two parameters (mean over each cell)."))


def _figure(path: Path, caption: str) -> dict[str, str]:
    return {"alt": path.stem, "caption": caption,
            "data": base64.b64encode(path.read_bytes()).decode("ascii")}


def explore_section(folder: str | Path) -> str:
    """The HTML of the report's "Exploring the judgements" section, from `folder`, rendered by
    an autoescaped template (parameter paths and lever names are user text)."""
    folder = Path(folder)
    got = read_folder(folder)
    info, sens = got.summary, got.sensitivity
    rank = {"sobol": "ST", "morris": "mu_star", "lhs": "delta"}[info["design"]]
    rows = sens[sens["output"] == "probability"].sort_values(rank, ascending=False).head(10)
    value_cols = [c for c in rows.columns if c not in ("output", "parameter")]
    ranking = {"headers": ["parameter", *value_cols],
               "rows": [[r["parameter"], *(f"{r[c]:.3f}" for c in value_cols)]
                        for _, r in rows.iterrows()]}
    prim = info["prim"]
    box = None if prim["coverage"] is None else {
        "coverage": f"{prim['coverage']:.0%}", "density": f"{prim['density']:.0%}",
        "headers": ["parameter", "from", "to", "quasi-p"],
        "rows": [[k, str(lo), str(hi), f"{prim['qp'].get(k, float('nan')):.2g}"]
                 for k, (lo, hi) in prim["limits"].items()]}
    lev = info.get("levers")
    levers = None if not lev else {
        "target": f"{lev['target']:.0%}", "probability": f"{lev['probability']:.1%}",
        "verb": "reaches" if lev["reached"] else "does not reach; the best found gives",
        "low": f"{lev['ci95'][0]:.1%}", "high": f"{lev['ci95'][1]:.1%}",
        "headers": ["lever", "value"], "rows": [[k, str(v)] for k, v in lev["values"].items()]}
    return templates().get_template("explore.html").render(
        design=info["design"].capitalize(), parameters=len(info["parameters"]),
        points=f"{info['points']:,}", trials=f"{info['trials']:,}", seed=info["seed"],
        p_min=f"{info['probability']['min']:.1%}", p_max=f"{info['probability']['max']:.1%}",
        ranking=ranking, prim=box, threshold=f"{prim['threshold']:.0%}", levers=levers,
        figures=[_figure(folder / name, caption) for name, caption in FIGURES
                 if (folder / name).exists()])
