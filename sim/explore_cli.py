"""`ilrs explore`: a design over a parameters file, its indices, PRIM box and lever search."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from concurrent.futures import Executor
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any

from .engine import DEFAULT_ENGINE, ENGINES
from .explore import DESIGNS, OUTPUTS, check_design, design_size, explore
from .output import check_output_dir
from .parameters import load_parameters
from .sampling import fresh_seed
from .scenario import load_scenario


class UsageError(Exception):
    """A command-line value that cannot be used (exit status 2, nothing written)."""


def add_parser(commands: Any, positive_int: Callable[[str], int],
               seed: Callable[[str], int]) -> None:
    p = commands.add_parser("explore", help="global sensitivity, scenario discovery and lever "
                            "search over a parameters file")
    p.add_argument("scenario", help="scenario YAML file")
    p.add_argument("parameters", help="parameters YAML file (paths and ranges)")
    p.add_argument("--design", choices=DESIGNS, default="sobol", help="default sobol")
    p.add_argument("--n", type=positive_int, required=True,
                   help="base sample size (Sobol: N, giving N*(2D+2) points; a power of 2)")
    p.add_argument("--trials", type=positive_int, default=1000, help="per point; default 1000")
    p.add_argument("--seed", type=seed, help="default: a fresh seed, printed")
    p.add_argument("--out", type=Path, required=True, help="the output folder")
    p.add_argument("--force", action="store_true", help="replace a non-empty --out folder")
    p.add_argument("--workers", type=positive_int, help="local processes (default: the CPUs)")
    p.add_argument("--engine", choices=ENGINES, default=DEFAULT_ENGINE,
                   help=f"default {DEFAULT_ENGINE}; both engines give the same numbers")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--dask", type=positive_int, nargs="?", const=2, metavar="WORKERS",
                       help="run on a new local Dask cluster (default 2 workers)")
    where.add_argument("--scheduler", metavar="ADDRESS",
                       help="run on a running Dask scheduler, e.g. tcp://host:8786")
    p.add_argument("--threshold", type=float, default=0.5,
                   help="PRIM: a point is good when P(goal) >= this; default 0.5")
    p.add_argument("--min-density", type=float, default=0.8,
                   help="PRIM: the chosen box's least density; default 0.8")
    p.add_argument("--target", type=float, default=0.5,
                   help="lever search: the probability to reach; default 0.5")
    p.add_argument("--surface", nargs=2, metavar=("PARAM_X", "PARAM_Y"),
                   help="the two parameters of the response surface (default: the top two)")


def _executor(args: argparse.Namespace) -> AbstractContextManager[Executor | None]:
    if args.dask is None and args.scheduler is None:
        return nullcontext()
    from .execution_dask import dask_executor

    return dask_executor(args.scheduler, args.dask or 2)


def _check(args: argparse.Namespace, names: list[str]) -> None:
    try:
        check_design(args.design, args.n)
    except ValueError as exc:
        raise UsageError(f"--n: {exc}") from None
    for option in ("threshold", "min_density", "target"):
        value = getattr(args, option)
        if not 0 < value <= 1:
            raise UsageError(f"--{option.replace('_', '-')}: must be in (0, 1], got {value}")
    for name in args.surface or []:
        if name not in names:
            raise UsageError(f"--surface: '{name}' is not a parameter of the file")


def explore_command(args: argparse.Namespace) -> int:
    from .explore import lever_search
    from .explore_analysis import discover, sensitivity
    from .explore_output import write_folder
    from .montecarlo import available_cpus

    scenario = load_scenario(args.scenario)
    space = load_parameters(args.parameters, scenario)
    _check(args, space.names)
    check_output_dir(args.out, args.force)
    seed = fresh_seed() if args.seed is None else int(args.seed)
    workers = args.workers or available_cpus()
    points = design_size(args.design, args.n, len(space.names))
    print(f"{scenario.title}: {args.design} design, n {args.n}, {points:,} points x "
          f"{args.trials:,} trials, seed {seed} (common random numbers), {args.engine} engine",
          flush=True)
    with _executor(args) as executor:
        exp = explore(space, args.design, args.n, args.trials, seed, workers, executor,
                      args.engine)
        sens = sensitivity(exp)
        box = discover(exp, args.threshold, args.min_density)
        lever = lever_search(space, args.target, args.trials, seed, workers=workers,
                             executor=executor, engine=args.engine) if space.levers else None
    info = write_folder(args.out, exp, sens, box, lever, args.threshold, args.target,
                        surface=tuple(args.surface) if args.surface else None, force=args.force)
    print(f"Ran in {exp.elapsed_s:.1f} s; P(goal) over the design: "
          f"{info['probability']['min']:.1%} to {info['probability']['max']:.1%}")
    _print_indices(sens, exp.design)
    _print_box(info)
    _print_levers(info)
    print(f"\nWritten         {args.out}/ (design.parquet, sensitivity.csv, summary.json, "
          f"{len(info.get('figures', []))} figure files)")
    return 0


def _short(path: str) -> str:
    # Abbreviated as on the figures ({a,...,e}): cut at a fixed width, two scale: paths over
    # different key lists could read the same. ASCII dots, as the rest of the terminal output.
    from .explore_plots import short_path

    return short_path(path, 50).replace("\u2026", "...")


def _print_indices(sens: Any, design: str) -> None:
    rank, other = {"sobol": ("ST", "S1"), "morris": ("mu_star", "sigma"),
                   "lhs": ("delta", "S1")}[design]
    for output in OUTPUTS:
        rows = sens[sens["output"] == output].sort_values(rank, ascending=False).head(5)
        print(f"\n{output}: the parameters that matter most ({rank} +/- its 95% interval, "
              f"{other})")
        for row in rows.itertuples():
            value, conf = getattr(row, rank), getattr(row, f"{rank}_conf")
            print(f"  {_short(str(row.parameter)):<52} {value:>9.3g} +/- {conf:<8.2g} "
                  f"{getattr(row, other):>9.3g}")


def _print_box(info: dict[str, Any]) -> None:
    prim = info["prim"]
    if prim["coverage"] is None:
        print(f"\nPRIM: no box (no point, or every point, has P(goal) >= {prim['threshold']:.0%})")
        return
    print(f"\nPRIM box where P(goal) >= {prim['threshold']:.0%}: coverage "
          f"{prim['coverage']:.0%}, density {prim['density']:.0%}")
    for name, (lo, hi) in prim["limits"].items():
        qp = prim["qp"].get(name)
        note = f"  (quasi-p {qp:.2g})" if qp is not None else ""
        print(f"  {_short(name):<52} {_v(lo)} to {_v(hi)}{note}")


def _print_levers(info: dict[str, Any]) -> None:
    lev = info["levers"]
    if lev is None:
        return
    lo, hi = lev["ci95"]
    verb = "reaches" if lev["reached"] else "does not reach; the best found gives"
    print(f"\nLever search for P(goal) >= {lev['target']:.0%}: the smallest change found {verb} "
          f"{lev['probability']:.1%} (95% CI {lo:.1%} to {hi:.1%}), "
          f"{lev['evaluated']} runs")
    for name, value in lev["values"].items():
        print(f"  {_short(name):<52} {_v(value)}")


def _v(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def report_usage_error(err: UsageError) -> int:
    print(f"ilrs explore: {err}", file=sys.stderr)
    return 2
