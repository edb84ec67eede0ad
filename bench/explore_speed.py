"""Time a Sobol exploration of the ILRS baseline over its ten most important judgements, on this
machine (local worker processes) and on a two-worker local Dask cluster, and check that both
give the same numbers.

    .venv/bin/python bench/explore_speed.py --n 64 --trials 200

The ten judgements are those of parameters/ilrs_judgements.yaml less the one that has no
effect on the 2035 answer (LEAST below). Prints the time of each run,
whether the outputs are identical, and the widest 95 % interval of a total index per output; the
intervals shrink as 1/sqrt(N), so the N that makes every interval narrower than 0.1 follows.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sim import load_scenario  # noqa: E402
from sim.execution_dask import dask_executor  # noqa: E402
from sim.explore import OUTPUTS, explore  # noqa: E402
from sim.explore_analysis import sensitivity  # noqa: E402
from sim.parameters import load_parameters  # noqa: E402

# The withdrawal hazard does not move P(goal by 2035-12-31) at all (Morris mu* = 0; the same seed at
# either end of its range gives the same P): it only cancels Russian missions, whose power plant is
# planned after the deadline. The other ten are the ten judgements that matter.
LEAST = ("risks.russia_withdrawal.annual_probability",)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=64, help="Sobol base size (a power of 2)")
    parser.add_argument("--trials", type=int, default=200, help="trials per design point")
    parser.add_argument("--workers", type=int, default=2, help="local processes and Dask workers")
    parser.add_argument("--seed", type=int, default=20260413)
    args = parser.parse_args()
    baseline = load_scenario(ROOT / "scenarios" / "ilrs_baseline.yaml")
    space = load_parameters(ROOT / "parameters" / "ilrs_judgements.yaml", baseline)
    ten = dataclasses.replace(space, parameters=tuple(
        p for p in space.parameters if p.path not in LEAST), levers=())
    points = args.n * (2 * len(ten.parameters) + 2)
    print(f"Sobol, {len(ten.parameters)} parameters, N {args.n}: {points:,} points x "
          f"{args.trials} trials, seed {args.seed}")

    began = time.perf_counter()
    local = explore(ten, "sobol", args.n, args.trials, args.seed, workers=args.workers)
    local_s = time.perf_counter() - began
    print(f"one machine, {args.workers} local processes: {local_s:.1f} s")

    began = time.perf_counter()
    with dask_executor(workers=args.workers) as executor:
        remote = explore(ten, "sobol", args.n, args.trials, args.seed, executor=executor)
    dask_s = time.perf_counter() - began
    same = np.array_equal(local.outputs, remote.outputs)
    print(f"local Dask cluster, {args.workers} workers (start-up included): {dask_s:.1f} s; "
          f"identical outputs: {same}")

    sens = sensitivity(local)
    for output in OUTPUTS:
        widest = float(2 * sens.loc[sens["output"] == output, "ST_conf"].max())
        needed = args.n * max(1, 2 ** math.ceil(math.log2((widest / 0.1) ** 2))) \
            if math.isfinite(widest) else float("nan")
        print(f"{output:<12} widest total-index interval {widest:.3f}; N for < 0.1: {needed}")


if __name__ == "__main__":
    main()
