"""`make bench`: engine throughput (trials per second per core) and the peak memory of a
1,000,000-trial run. Prints a table; the figures in the README come from here.

    python bench/benchmark.py [--trials 4000] [--million 1000000] [--skip-memory]
"""

from __future__ import annotations

import argparse
import json
import re
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
    "result_arrays_mib": sum(a.nbytes for a in (
        r.finish_days, r.first_ready_days, r.ready_days, r.start_days, r.attempts, r.driver,
        r.waited_for, r.goal_days)) / 2**20,
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
    parser.add_argument("--write-readme", action="store_true",
                        help="put the table into README.md between the bench markers")
    args = parser.parse_args()

    cases: list[tuple[str, Scenario]] = []
    if BASELINE.exists():
        cases.append(("ILRS baseline", load_scenario(BASELINE)))
    cases += [("synthetic: 50 activities, 3 vehicles", synthetic_scenario(50)),
              ("synthetic: 200 activities, 3 vehicles", synthetic_scenario(200))]
    lines = ["| scenario | activities | trials per second per core |", "|---|---|---|"]
    for name, scenario in cases:
        rate = throughput(scenario, args.trials)
        lines.append(f"| {name} | {len(scenario.activities)} | {rate:,.0f} |")
        print(lines[-1], flush=True)
    if not args.skip_memory:
        m = peak_memory(args.million, args.workers)
        lines.append("")
        lines.append(
            f"A {args.million:,}-trial run of the 50-activity scenario with {args.workers} "
            f"workers took {m['seconds']:.0f} s; peak memory {m['parent_peak_mib']:,.0f} MiB "
            f"in the main process (of which {m['result_arrays_mib']:,.0f} MiB are the per-trial "
            f"result arrays) and {m['worker_peak_mib']:,.0f} MiB in the largest worker."
        )
        print(lines[-1])
    if args.write_readme:
        readme = ROOT / "README.md"
        text = readme.read_text(encoding="utf-8")
        table = "\n".join(lines) + "\n"
        new, count = re.subn(r"(<!-- bench:start -->\n).*?(<!-- bench:end -->)",
                             lambda mt: mt.group(1) + table + mt.group(2), text, flags=re.S)
        if count == 1:
            readme.write_text(new, encoding="utf-8")
            print("README.md performance section updated")


if __name__ == "__main__":
    main()
