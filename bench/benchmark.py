"""`make bench`: engine throughput (trials per second per core) and the peak memory of a
1,000,000-trial run. Prints a table; the figures in the README come from here.

    python bench/benchmark.py [--trials 4000] [--million 1000000] [--skip-memory]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from synthetic import synthetic_scenario  # noqa: E402

from sim import load_scenario, run  # noqa: E402
from sim.model import Scenario  # noqa: E402

BASELINE = ROOT / "scenarios" / "ilrs_baseline.yaml"


def throughput(scenario: Scenario, trials: int, repeats: int = 3) -> float:
    """Best of `repeats` single-worker runs, in trials per second (= per core)."""
    best = 0.0
    for _ in range(repeats):
        began = time.perf_counter()
        run(scenario, trials=trials, seed=1, workers=1)
        best = max(best, trials / (time.perf_counter() - began))
    return best


def peak_memory(trials: int, workers: int) -> dict[str, float]:
    """Run `trials` trials of the 50-activity scenario in a fresh process; report its peak RSS."""
    code = f"""
import json, resource, sys, time
sys.path.insert(0, {str(ROOT / 'bench')!r})
from synthetic import synthetic_scenario
from sim import run
began = time.perf_counter()
r = run(synthetic_scenario(50), trials={trials}, seed=1, workers={workers})
s = r.summary()
print(json.dumps({{
    "seconds": time.perf_counter() - began,
    "parent_peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    "worker_peak_mib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
    "result_arrays_mib": sum(a.nbytes for a in (r.finish_days, r.first_ready_days, r.ready_days,
                             r.start_days, r.attempts, r.driver, r.waited_for, r.goal_days)) / 2**20,
}}))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=4000, help="trials per throughput run")
    parser.add_argument("--million", type=int, default=1_000_000, help="trials of the memory run")
    parser.add_argument("--workers", type=int, default=2, help="workers of the memory run")
    parser.add_argument("--skip-memory", action="store_true")
    args = parser.parse_args()

    cases: list[tuple[str, Scenario]] = []
    if BASELINE.exists():
        cases.append(("ILRS baseline", load_scenario(BASELINE)))
    cases += [("synthetic 50 activities, 3 vehicles", synthetic_scenario(50)),
              ("synthetic 200 activities, 3 vehicles", synthetic_scenario(200))]
    print(f"{'scenario':<40} {'activities':>10} {'trials/s/core':>14}")
    for name, scenario in cases:
        rate = throughput(scenario, args.trials)
        print(f"{name:<40} {len(scenario.activities):>10} {rate:>14,.0f}", flush=True)
    if not args.skip_memory:
        m = peak_memory(args.million, args.workers)
        print(f"\n{args.million:,} trials of the 50-activity scenario, {args.workers} workers: "
              f"{m['seconds']:.0f} s; peak RSS {m['parent_peak_mib']:,.0f} MiB in the main "
              f"process ({m['result_arrays_mib']:,.0f} MiB of result arrays), "
              f"{m['worker_peak_mib']:,.0f} MiB in the largest worker")
    print(f"\nmachine: {resource.getpagesize()} B pages; python {sys.version.split()[0]}")


if __name__ == "__main__":
    main()
