"""The report's section built from an exploration folder (see :mod:`sim.explore_output`): the
parameters that matter most, the PRIM box, the lever search and the folder's figures. Reads the
folder only; nothing is re-run."""

from __future__ import annotations

import base64
import html
from pathlib import Path
from typing import Any

from .explore_output import read_folder

FIGURES = (("sensitivity_probability.png", "What drives P(goal by deadline): first-order and "
            "total Sobol indices (or Morris mu*, or delta) with their 95% intervals."),
           ("prim_peeling.png", "PRIM peeling trade-off: coverage against density; the chosen "
            "box circled."),
           ("prim_box.png", "The design points over two of the box's parameters, and the box."),
           ("surface.png", "P(goal by deadline) over two parameters (mean over each cell)."))


def _e(value: Any) -> str:
    return html.escape(str(value))


def _table(headers: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{_e(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _figure(path: Path, caption: str) -> str:
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return (f'<figure><img alt="{_e(path.stem)}" style="width: 650px" '
            f'src="data:image/png;base64,{data}"><figcaption>{_e(caption)}</figcaption></figure>')


def explore_section(folder: str | Path) -> str:
    """The HTML of the report's "Exploring the judgements" section, from `folder`."""
    folder = Path(folder)
    got = read_folder(folder)
    info, sens = got.summary, got.sensitivity
    rank = {"sobol": "ST", "morris": "mu_star", "lhs": "delta"}[info["design"]]
    rows = sens[sens["output"] == "probability"].sort_values(rank, ascending=False).head(10)
    value_cols = [c for c in rows.columns if c not in ("output", "parameter")]
    table = _table(["parameter", *value_cols],
                   [[r["parameter"], *(f"{r[c]:.3f}" for c in value_cols)]
                    for _, r in rows.iterrows()])
    parts = [
        '<section id="explore"><h2 class="new-page">Exploring the judgements</h2>',
        f"<p>{_e(info['design'].capitalize())} design over {len(info['parameters'])} "
        f"parameters: {info['points']:,} variants of {info['trials']:,} trials each, seed "
        f"{info['seed']} (common random numbers). P(goal by deadline) over the design: "
        f"{info['probability']['min']:.1%} to {info['probability']['max']:.1%}.</p>",
        "<h3>What the answer hinges on</h3>", table,
    ]
    prim = info["prim"]
    if prim["coverage"] is None:
        parts.append(f"<p>Scenario discovery: no point, or every point, has P(goal) at least "
                     f"{prim['threshold']:.0%}, so there is no box.</p>")
    else:
        parts += [f"<h3>What has to go right: P(goal) ≥ {prim['threshold']:.0%}</h3>",
                  f"<p>PRIM box: coverage {prim['coverage']:.0%}, density "
                  f"{prim['density']:.0%}.</p>",
                  _table(["parameter", "from", "to", "quasi-p"],
                         [[k, str(lo), str(hi), f"{prim['qp'].get(k, float('nan')):.2g}"]
                          for k, (lo, hi) in prim["limits"].items()])]
    lev = info.get("levers")
    if lev:
        verb = "reaches" if lev["reached"] else "does not reach; the best found gives"
        parts += [f"<h3>Lever search: P(goal) ≥ {lev['target']:.0%}</h3>",
                  f"<p>The smallest change found {verb} {lev['probability']:.1%} "
                  f"(95% CI {lev['ci95'][0]:.1%} to {lev['ci95'][1]:.1%}).</p>",
                  _table(["lever", "value"], [[k, str(v)] for k, v in lev["values"].items()])]
    parts += [_figure(folder / name, caption) for name, caption in FIGURES
              if (folder / name).exists()]
    parts.append("</section>")
    return "".join(parts)
