"""Time a Sobol exploration of the ILRS baseline over its ten most important judgements, on this
machine (local worker processes) and on a two-worker local Dask cluster, and check that both
give the same numbers.

    .venv/bin/python bench/explore_speed.py --n 64 --trials 200

The ten judgements are those of parameters/ilrs_judgements.yaml less the one that has no
effect on the 2035 answer (LEAST below). Prints the wall and CPU time of each run (the CPU of
every process that worked: this one, its worker processes, the Dask workers), the load average,
whether the outputs are identical, and the widest 95 % interval of a total index per output; the
intervals shrink as 1/sqrt(N), so the N that makes every interval narrower than 0.1 follows.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sim import load_scenario  # noqa: E402
from sim.execution_dask import dask_executor  # noqa: E402
from sim.explore import OUTPUTS, Exploration, explore  # noqa: E402
from sim.explore_analysis import sensitivity  # noqa: E402
from sim.parameters import load_parameters  # noqa: E402

# The withdrawal hazard does not move P(goal by 2035-12-31) at all (Morris mu* = 0; the same seed at
# either end of its range gives the same P): it only cancels Russian missions, whose power plant is
# planned after the deadline. The other ten are the ten judgements that matter.
LEAST = ("risks.russia_withdrawal.annual_probability",)


def cpu_s(children: bool = True) -> float:
    """CPU time (user + system) of this process, and of its finished, reaped children."""
    t = os.times()
    return t.user + t.system + (t.children_user + t.children_system if children else 0.0)


def live_children_cpu_s() -> float:
    """CPU time of this process's running descendants (Dask's workers, read before they stop)."""
    import psutil

    total = 0.0
    for child in psutil.Process().children(recursive=True):
        try:
            times = child.cpu_times()
        except psutil.Error:
            continue
        total += times.user + times.system
    return total


def widest_intervals(exp: Exploration) -> dict[str, float]:
    """The widest 95 % interval (twice SALib's half-width) of a total index, per output."""
    sens = sensitivity(exp)
    return {output: float(2 * sens.loc[sens["output"] == output, "ST_conf"].max())
            for output in OUTPUTS}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=64, help="Sobol base size (a power of 2)")
    parser.add_argument("--trials", type=int, default=200, help="trials per design point")
    parser.add_argument("--workers", type=int, default=2, help="local processes and Dask workers")
    parser.add_argument("--seed", type=int, default=20260413)
    parser.add_argument("--engine", default="fast", help="fast (compiled) or des (SimPy)")
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    args = parser.parse_args()
    baseline = load_scenario(ROOT / "scenarios" / "ilrs_baseline.yaml")
    space = load_parameters(ROOT / "parameters" / "ilrs_judgements.yaml", baseline)
    ten = dataclasses.replace(space, parameters=tuple(
        p for p in space.parameters if p.path not in LEAST), levers=())
    points = args.n * (2 * len(ten.parameters) + 2)
    print(f"Sobol, {len(ten.parameters)} parameters, N {args.n}: {points:,} points x "
          f"{args.trials} trials, seed {args.seed}, engine {args.engine}")
    record: dict[str, object] = {"n": args.n, "points": points, "trials": args.trials,
                                 "seed": args.seed, "engine": args.engine,
                                 "workers": args.workers, "load_before": os.getloadavg()}

    began, cpu = time.perf_counter(), cpu_s()
    local = explore(ten, "sobol", args.n, args.trials, args.seed, workers=args.workers,
                    engine=args.engine)
    local_s, local_cpu = time.perf_counter() - began, cpu_s() - cpu
    load = os.getloadavg()
    print(f"one machine, {args.workers} local processes: {local_s:.1f} s wall, {local_cpu:.1f} s "
          f"CPU ({1000 * local_cpu / points:.2f} ms a point); load average {load[0]:.1f} "
          f"(1 min), {load[1]:.1f} (5 min)")
    record.update(local_s=local_s, local_cpu_s=local_cpu, load_after_local=load)

    began, cpu = time.perf_counter(), cpu_s(children=False)
    with dask_executor(workers=args.workers) as executor:
        remote = explore(ten, "sobol", args.n, args.trials, args.seed, executor=executor,
                         engine=args.engine)
        workers_cpu = live_children_cpu_s()  # before the workers stop
    dask_s = time.perf_counter() - began
    dask_cpu = cpu_s(children=False) - cpu + workers_cpu
    load = os.getloadavg()
    same = np.array_equal(local.outputs, remote.outputs)
    print(f"local Dask cluster, {args.workers} workers (start-up included): {dask_s:.1f} s wall, "
          f"{dask_cpu:.1f} s CPU (workers {workers_cpu:.1f} s); load average {load[0]:.1f} "
          f"(1 min), {load[1]:.1f} (5 min); identical outputs: {same}")
    record.update(dask_s=dask_s, dask_cpu_s=dask_cpu, dask_workers_cpu_s=workers_cpu,
                  load_after_dask=load, identical=same)

    widest = widest_intervals(local)
    for output, width in widest.items():
        needed = args.n * max(1, 2 ** math.ceil(math.log2((width / 0.1) ** 2))) \
            if math.isfinite(width) else float("nan")
        print(f"{output:<12} widest total-index interval {width:.3f}; N for < 0.1: {needed}")
    record["widest"] = widest
    if args.json:
        args.json.write_text(json.dumps(record, indent=2) + "\n")


if __name__ == "__main__":
    main()
