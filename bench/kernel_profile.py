"""Where a compiled-engine trial spends its time: drawing the inputs, the compiled event loop
(`run_block` alone, on draws made beforehand) and the results step (calendar clipping, storing
into the run's arrays, goal times; a default run keeps no ready times, so they are neither
rounded nor stored), each in CPU microseconds per trial,
medians of repeats; plus what the loop does per trial (events scheduled, tasks run, settles).

    python bench/kernel_profile.py [--trials 20000] [--repeats 5] [--only 50]

Compare variants side by side in one run (the machine is shared: absolute figures drift).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from benchmark import cpu_seconds  # noqa: E402
from synthetic import synthetic_scenario  # noqa: E402

from sim import load_scenario  # noqa: E402
from sim.engine import Plan, fast  # noqa: E402
from sim.goal import scenario_goal_times  # noqa: E402
from sim.model import Scenario  # noqa: E402
from sim.montecarlo import _block_job, _Store  # noqa: E402
from sim.sampling import BLOCK_SIZE, blocks, draw_block  # noqa: E402


def profile(name: str, scenario: Scenario, trials: int, repeats: int) -> None:
    plan = Plan.compile(scenario)
    work = list(blocks(trials))
    draws = [draw_block(scenario, 1, b, s) for b, s in work]
    fast.run_block(plan, draws[0])  # load / compile
    outs = [fast.run_block(plan, d) for d in draws]

    def draw_all() -> None:
        for b, s in work:
            draw_block(scenario, 1, b, s)

    def loop_all() -> None:
        for d in draws:
            fast.run_block(plan, d)

    def results_all() -> None:
        # What montecarlo does with a block's outcome after the engine (a default run): the
        # store's calendar clip and copy of the kept arrays, then the goal times over the run.
        store = _Store(scenario, keep_ready=False)
        store.grow(trials)
        for (b, _), out in zip(work, outs, strict=True):
            store.fill(b, out)
        scenario_goal_times(scenario, store.arrays["finish"])

    def end_to_end() -> None:
        store = _Store(scenario, keep_ready=False)
        store.grow(trials)
        for b, s in work:
            store.fill(*_block_job((scenario, plan, "fast", False), 1, b, s))
        scenario_goal_times(scenario, store.arrays["finish"])

    us = {label: cpu_seconds(f, repeats) / trials * 1e6 for label, f in (
        ("draws", draw_all), ("loop", loop_all), ("results", results_all),
        ("end-to-end", end_to_end))}
    counts = fast.loop_counts(plan, draws[0]) / draws[0].size
    print(f"{name:<28} " + "  ".join(f"{k} {v:6.2f} us" for k, v in us.items())
          + f"  = {1e6 / us['end-to-end']:,.0f} trials/s | per trial: events "
          f"{counts[0]:.1f}, tasks {counts[1]:.1f}, settles {counts[2]:.1f}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--trials", type=int, default=20_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--only", default="", help="comma-separated: 50,200,ilrs")
    args = parser.parse_args()
    cases = {
        "50": ("synthetic 50 activities", lambda: synthetic_scenario(50)),
        "200": ("synthetic 200 activities", lambda: synthetic_scenario(200)),
        "ilrs": ("ILRS baseline", lambda: load_scenario(ROOT / "scenarios/ilrs_baseline.yaml")),
    }
    chosen = args.only.split(",") if args.only else list(cases)
    print(f"{args.trials:,} trials, blocks of {BLOCK_SIZE}, CPU time, medians of "
          f"{args.repeats}; load average {os.getloadavg()[0]:.2f}")
    for key in chosen:
        label, make = cases[key]
        profile(label, make(), args.trials, args.repeats)


if __name__ == "__main__":
    main()
