"""Where a compiled-engine trial spends its time: drawing the inputs, the compiled event loop
(`run_block` alone, on draws made beforehand) and the results step (calendar clipping, storing
into the run's arrays, goal times; a default run keeps no ready times, so they are neither
rounded nor stored), each in CPU microseconds per trial,
medians of repeats; plus what the loop does per trial (events scheduled, tasks run, settles).

With --periodic P it also times the loop on draws that repeat every P trials (trial i gets trial
i mod P's inputs, in arrays of the same size read in the same order): the same work per trial,
but a sequence of branches the CPU's predictor can learn when P is small. The gap to the plain
loop is what mispredicted branches cost, since the order of events differs from trial to trial.

    python bench/kernel_profile.py [--trials 20000] [--repeats 5] [--only 50] [--periodic 8]

Compare variants side by side in one run (the machine is shared: absolute figures drift).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from benchmark import cpu_seconds  # noqa: E402
from synthetic import synthetic_scenario  # noqa: E402

from sim import load_scenario  # noqa: E402
from sim.engine import Plan, fast  # noqa: E402
from sim.goal import scenario_goal_times  # noqa: E402
from sim.model import Scenario  # noqa: E402
from sim.montecarlo import _block_job, _Store  # noqa: E402
from sim.sampling import BLOCK_SIZE, BlockDraws, blocks, draw_block  # noqa: E402


def periodic(draws: BlockDraws, period: int) -> BlockDraws:
    """The block's draws with trial i given trial (i mod period)'s inputs: arrays of the same
    shape, C order and size, so the loop reads as much memory in the same pattern."""
    trial = np.arange(draws.size) % period
    arrays = dataclasses.replace(draws.arrays, **{
        f.name: np.ascontiguousarray(np.take(getattr(draws.arrays, f.name), trial, axis=-1))
        for f in dataclasses.fields(draws.arrays)})
    return dataclasses.replace(draws, arrays=arrays)


def profile(name: str, scenario: Scenario, trials: int, repeats: int, period: int = 0) -> None:
    plan = Plan.compile(scenario)
    work = list(blocks(trials))
    draws = [draw_block(scenario, 1, b, s) for b, s in work]
    fast.run_block(plan, draws[0])  # load / compile
    outs = [fast.run_block(plan, d) for d in draws]

    def draw_all() -> None:
        for b, s in work:
            draw_block(scenario, 1, b, s, reuse=True)  # as a run draws

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

    repeating = [periodic(d, period) for d in draws] if period else []

    def loop_repeating() -> None:
        for d in repeating:
            fast.run_block(plan, d)

    parts = [("draws", draw_all), ("loop", loop_all), ("results", results_all),
             ("end-to-end", end_to_end)]
    if period:
        parts.insert(2, (f"loop repeating every {period}", loop_repeating))
    us = {label: cpu_seconds(f, repeats) / trials * 1e6 for label, f in parts}
    print(f"{name:<28} " + "  ".join(f"{k} {v:6.2f} us" for k, v in us.items())
          + f"  = {1e6 / us['end-to-end']:,.0f} trials/s", flush=True)
    for label, sample in [("", draws)] + ([(f" repeating every {period}", repeating)]
                                          if period else []):
        counts = sum(fast.loop_counts(plan, d) for d in sample) / trials
        print(f"{'':<28} per trial{label}: events {counts[0]:.1f}, tasks {counts[1]:.1f}, "
              f"settles {counts[2]:.1f}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--trials", type=int, default=20_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--only", default="", help="comma-separated: 50,200,ilrs")
    parser.add_argument("--periodic", type=int, default=0, metavar="P",
                        help="also time the loop on draws that repeat every P trials")
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
        profile(label, make(), args.trials, args.repeats, args.periodic)


if __name__ == "__main__":
    main()
