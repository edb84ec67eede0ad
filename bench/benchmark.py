"""`make bench`: trials per second per core for both engines, the cost of drawing the inputs,
pmcontrols on the same PERT network, numba compile times, `ilrs drivers` before and after,
and the peak memory of a 1,000,000-trial run. Prints a table; the README's figures come from
here.

    python bench/benchmark.py [--trials 20000] [--million 1000000] [--skip-memory]
                              [--only engines|pert|compile|drivers|memory]

Speeds are CPU time of one process (time.process_time), medians of three repeats, after a
warm-up run that loads the compiled engine.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from synthetic import pert_network, pert_scenario, synthetic_scenario  # noqa: E402

from sim import load_scenario, run  # noqa: E402
from sim.distributions import Fixed, Uniform  # noqa: E402
from sim.drivers import risk_drivers  # noqa: E402
from sim.model import Scenario  # noqa: E402
from sim.sampling import blocks, draw_block  # noqa: E402

BASELINE = ROOT / "scenarios" / "ilrs_baseline.yaml"
PMCONTROLS_PYTHON = ROOT / "bench" / ".venv" / "bin" / "python"


def wrap(paragraph: str) -> str:
    """A prose line of the README's block, wrapped like the README's own prose."""
    return textwrap.fill(paragraph, 100, break_long_words=False, break_on_hyphens=False)


def cpu_seconds(work: Callable[[], object], repeats: int = 3) -> float:
    """Median CPU time of `work` over `repeats` runs."""
    times = []
    for _ in range(repeats):
        began = time.process_time()
        work()
        times.append(time.process_time() - began)
    return statistics.median(times)


def engine_rate(scenario: Scenario, trials: int, engine: str) -> float:
    run(scenario, trials=min(trials, 1000), seed=1, workers=1, engine=engine)  # warm-up
    return trials / cpu_seconds(lambda: run(scenario, trials=trials, seed=1, workers=1,
                                            engine=engine))


def drawing_rate(scenario: Scenario, trials: int) -> float:
    def draw_all() -> None:
        for block, size in blocks(trials):
            draw_block(scenario, 1, block, size, reuse=True)  # as a run draws

    return trials / cpu_seconds(draw_all)


def numpy_floor_rate(scenario: Scenario, trials: int) -> float:
    """Trials per second of drawing the same random inputs with numpy alone: every field
    draw_block draws, sampled in one call of `trials` rows from one generator (no streams, no
    blocks, no layout): the floor any sampling scheme pays."""
    fields: list[tuple[Any, int]] = [(f.distribution, 1) for f in scenario.factors]
    uniform = Uniform(0, 1)
    for a in scenario.activities:
        fields.append((a.duration, a.attempts))
        if a.slip is not None and a.planned is not None:
            fields.append((a.slip, 1))
        fields += [(d.lag, 1) for d in a.after]
        if a.on_failure is not None and a.attempts > 1:
            fields.append((a.on_failure.rebuild, a.attempts - 1))
        if a.vehicles:
            fields.append((uniform, a.attempts))
        if a.success < 1:
            fields.append((uniform, a.attempts))
    for r in scenario.risks:
        fields.append((uniform, 1))
        if r.delay is not None:
            fields.append((r.delay, 1))
    for v in scenario.vehicles:
        fields.append((v.stand_down, sum(a.attempts for a in scenario.activities
                                         if v.id in a.vehicles)))
    drawn = [(d, rows) for d, rows in fields if rows and not isinstance(d, Fixed)]

    def draw_all() -> None:
        rng = np.random.default_rng(1)
        for dist, rows in drawn:
            dist.sample(rng, rows * trials)

    return trials / cpu_seconds(draw_all)


def compile_times() -> dict[str, float]:
    """Seconds to draw and run a first block with the compiled code (the engine and the
    samplers it draws with): with an empty numba cache (it compiles) and again with the cache
    it wrote (it loads)."""
    code = """
import sys, time
sys.path.insert(0, "bench")
from synthetic import synthetic_scenario
from sim.engine import Plan
from sim.sampling import draw_block
s = synthetic_scenario(50)
plan = Plan.compile(s)
began = time.perf_counter()
from sim.engine import fast
fast.run_block(plan, draw_block(s, 1, 0, 10))
print(time.perf_counter() - began)
"""
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "NUMBA_CACHE_DIR": cache}
        seconds = [
            float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                 check=True, env=env, cwd=ROOT).stdout.split()[-1])
            for _ in range(2)
        ]
    return {"first": seconds[0], "cached": seconds[1]}


def pmcontrols_side_by_side(activities: int, trials: int) -> dict[str, float] | None:
    """The same PERT network in ilrs-sim (compiled engine) and in pmcontrols (bench/.venv)."""
    if not PMCONTROLS_PYTHON.exists():
        return None
    records = pert_network(activities)
    code = f"""
import json, sys, time, numpy as np, pmcontrols
records = json.loads(sys.stdin.read())
pmcontrols.pert(records, n_sim=1000, seed=1)
times = []
for seed in (1, 2, 3):
    began = time.process_time()
    r = pmcontrols.pert(records, n_sim={trials}, seed=seed)
    times.append(time.process_time() - began)
print(json.dumps({{"seconds": sorted(times)[1], "p50": r.stats["mc_p50"],
                  "p80": r.stats["mc_p80"], "version": pmcontrols.__version__}}))
"""
    out = subprocess.run([str(PMCONTROLS_PYTHON), "-c", code], input=json.dumps(records),
                         capture_output=True, text=True, check=True)
    theirs = json.loads(out.stdout.strip().splitlines()[-1])
    scenario = pert_scenario(records)
    ours_rate = engine_rate(scenario, trials, "fast")
    goal = run(scenario, trials=trials, seed=1, workers=1).goal_days
    result = {"ours_rate": ours_rate, "theirs_rate": trials / theirs["seconds"],
              "version": theirs["version"]}
    for q in (50, 80):
        # Monte Carlo error of a quantile: sqrt(p(1-p)/n) / density, the density from the
        # spread of our sample around it; two independent samples, so sqrt(2) of that.
        p = q / 100
        lo, mid, hi = np.percentile(goal, [q - 1, q, q + 1])
        se = np.sqrt(p * (1 - p) / trials) * (hi - lo) / 0.02 * np.sqrt(2)
        result[f"p{q}_ours"], result[f"p{q}_theirs"] = float(mid), theirs[f"p{q}"]
        result[f"p{q}_z"] = float(abs(mid - theirs[f"p{q}"]) / se)
    return result


def startup_seconds() -> dict[str, float]:
    """Wall seconds, medians of three, of `import sim` and of a whole `ilrs run` of the ILRS
    baseline at its default 10,000 trials in one process, from the shell (the compiled engine's
    cache already written): what a user waits for a command."""
    ilrs = Path(sys.executable).with_name("ilrs")
    commands = {
        "import": [sys.executable, "-c", "import sim"],
        "run": [str(ilrs), "run", str(BASELINE), "--seed", "1", "--workers", "1"],
    }
    subprocess.run(commands["run"], check=True, capture_output=True, cwd=ROOT)  # the cache
    seconds = {}
    for name, command in commands.items():
        times = []
        for _ in range(3):
            began = time.perf_counter()
            subprocess.run(command, check=True, capture_output=True, cwd=ROOT)
            times.append(time.perf_counter() - began)
        seconds[name] = statistics.median(times)
    return seconds


def drivers_seconds(engine: str) -> float:
    scenario = load_scenario(BASELINE)
    return cpu_seconds(lambda: risk_drivers(scenario, trials=10_000, seed=1, workers=1,
                                            engine=engine), repeats=1)


def report_seconds(engine: str) -> float:
    """CPU seconds of `ilrs report` on the ILRS baseline at its default size, one worker."""
    from sim.cli import main as ilrs

    with tempfile.TemporaryDirectory() as folder:
        argv = ["report", str(BASELINE), "--seed", "1", "--workers", "1", "--engine", engine,
                "-o", str(Path(folder) / "report.html")]
        return cpu_seconds(lambda: ilrs(argv), repeats=1)


def peak_memory(trials: int, workers: int, keep_ready: bool = False) -> dict[str, float]:
    """Run `trials` trials of the 50-activity scenario in a fresh process; report the peak of
    the memory its processes hold together (the sum of their proportional set sizes, sampled
    every 20 ms: the workers write into the run's arrays in memory shared with the main
    process, so adding up peak resident sets would count those pages twice) and the main
    process's own peak resident set (`keep_ready`: keeping the ready times, as `ilrs report`
    does)."""
    code = f"""
import json, resource, sys, threading, time
import psutil
sys.path.insert(0, {str(ROOT / 'bench')!r})
from synthetic import synthetic_scenario
from sim import run
me, peak, done = psutil.Process(), [0], threading.Event()
def pss(process):
    try:
        return process.memory_full_info().pss
    except psutil.Error:  # a worker that has just ended
        return 0
def watch():
    while not done.wait(0.02):
        peak[0] = max(peak[0], pss(me) + sum(pss(c) for c in me.children(recursive=True)))
threading.Thread(target=watch, daemon=True).start()
began = time.perf_counter()
r = run(synthetic_scenario(50), trials={trials}, seed=1, workers={workers},
        keep_ready={keep_ready})
seconds = time.perf_counter() - began
done.set()
print(json.dumps({{
    "seconds": seconds,
    "total_peak_mib": peak[0] / 2**20,
    "parent_peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    "result_arrays_mib": sum(a.nbytes for a in (
        r.finish_days, r.first_ready_days, r.ready_days, r.start_days, r.attempts, r.driver,
        r.waited_for, r.goal_days) if a is not None) / 2**20,
}}))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


PARTS = ("engines", "pert", "compile", "drivers", "memory")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--trials", type=int, default=20_000, help="trials per compiled run")
    parser.add_argument("--simpy-trials", type=int, default=2000, help="trials per SimPy run")
    parser.add_argument("--million", type=int, default=1_000_000, help="trials of the memory run")
    parser.add_argument("--workers", type=int, default=2, help="workers of the memory run")
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--skip-drivers", action="store_true")
    parser.add_argument("--only", choices=PARTS, action="append",
                        help="measure only this part (repeatable); default: every part")
    parser.add_argument("--write-readme", action="store_true",
                        help="put the table into README.md between the bench markers")
    args = parser.parse_args()
    parts = set(args.only or PARTS)
    if args.skip_memory:
        parts.discard("memory")
    if args.skip_drivers:
        parts.discard("drivers")
    if args.write_readme and parts != set(PARTS):
        parser.error("--write-readme needs every part (the README's table is written whole)")

    cases: list[tuple[str, Scenario]] = []
    if "engines" in parts:
        if BASELINE.exists():
            cases.append(("ILRS baseline", load_scenario(BASELINE)))
        cases += [("synthetic: 50 activities, 3 vehicles", synthetic_scenario(50)),
                  ("synthetic: 200 activities, 3 vehicles", synthetic_scenario(200))]
    lines = ["| scenario | activities | SimPy engine | compiled engine | ratio | drawing the "
             "inputs (ilrs-sim) | drawing them with numpy alone | compiled / numpy alone |",
             "|---|---|---|---|---|---|---|---|"]
    for name, scenario in cases:
        slow = engine_rate(scenario, args.simpy_trials, "des")
        fast = engine_rate(scenario, args.trials, "fast")
        draw = drawing_rate(scenario, args.trials)
        floor = numpy_floor_rate(scenario, args.trials)
        lines.append(f"| {name} | {len(scenario.activities)} | {slow:,.0f} | {fast:,.0f} | "
                     f"{fast / slow:,.0f}x | {draw:,.0f} | {floor:,.0f} | "
                     f"{fast / floor:.2f} |")
        print(lines[-1], flush=True)
    lines.append("")
    lines.append("Trials per second per core, end to end (draws, engine, results) for the two "
                 "engines; the last columns are the cost of the random inputs alone, as "
                 "ilrs-sim draws them (per element, field and block) and as one bulk numpy call "
                 "per field would (the floor), and the compiled engine's end-to-end rate as a "
                 "share of that floor.")

    side = pmcontrols_side_by_side(50, args.trials * 5) if "pert" in parts else None
    if side is not None:
        lines.append("")
        lines.append(
            f"A 50-activity PERT network without vehicles, {args.trials * 5:,} trials: ilrs-sim "
            f"{side['ours_rate']:,.0f} trials per second per core, pmcontrols {side['version']} "
            f"{side['theirs_rate']:,.0f}; P50 {side['p50_ours']:.2f} and "
            f"{side['p50_theirs']:.2f} days ({side['p50_z']:.1f} standard errors apart), P80 "
            f"{side['p80_ours']:.2f} and {side['p80_theirs']:.2f} ({side['p80_z']:.1f})."
        )
        print(lines[-1], flush=True)

    if "compile" in parts:
        compiled = compile_times()
        lines.append("")
        lines.append(
            f"The compiled code's first use (the engine and the samplers it draws with) "
            f"compiles it in {compiled['first']:.1f} s and caches the machine code on disk; "
            f"later processes load it in "
            f"{compiled['cached']:.2f} s."
        )
        if BASELINE.exists():
            started = startup_seconds()
            lines[-1] += (
                f" `import sim` takes {started['import']:.2f} s, and a whole `ilrs run` of the "
                f"ILRS baseline at 10,000 trials in one process {started['run']:.2f} s of wall "
                f"time, from the shell to its summary."
            )
        print(lines[-1], flush=True)

    if "drivers" in parts and BASELINE.exists():
        before, after = drivers_seconds("des"), drivers_seconds("fast")
        report_before, report_after = report_seconds("des"), report_seconds("fast")
        lines.append("")
        lines.append(
            f"`ilrs drivers` on the ILRS baseline at the default 10,000 trials: "
            f"{before:.1f} s of CPU with the SimPy engine, {after:.1f} s with the compiled one; "
            f"`ilrs report` (a run, the drivers, the criticality, the figures): "
            f"{report_before:.1f} s and {report_after:.1f} s."
        )
        print(lines[-1], flush=True)

    if "memory" in parts:
        m = peak_memory(args.million, args.workers)
        kept = peak_memory(args.million, args.workers, keep_ready=True)
        lines.append("")
        lines.append(
            f"A {args.million:,}-trial run of the 50-activity scenario with {args.workers} "
            f"workers took {m['seconds']:.0f} s; its processes held at most "
            f"{m['total_peak_mib']:,.0f} MiB together (the main process's own peak resident "
            f"set {m['parent_peak_mib']:,.0f} MiB), of which {m['result_arrays_mib']:,.0f} MiB "
            f"are the per-trial result arrays (start and finish times in float64, attempts, "
            f"drivers and vehicle waits in small integers), which the workers fill in memory "
            f"shared with the main process; keeping the ready times too (float32, for the delay "
            f"breakdown, as `ilrs report` does), {kept['total_peak_mib']:,.0f} MiB "
            f"({kept['result_arrays_mib']:,.0f} MiB of result arrays)."
        )
        print(lines[-1])
    if args.write_readme:
        readme = ROOT / "README.md"
        text = readme.read_text(encoding="utf-8")
        table = "\n".join(line if line.startswith("|") else wrap(line) for line in lines) + "\n"
        new, count = re.subn(r"(<!-- bench:start -->\n).*?(<!-- bench:end -->)",
                             lambda mt: mt.group(1) + table + mt.group(2), text, flags=re.S)
        if count == 1:
            readme.write_text(new, encoding="utf-8")
            print("README.md performance section updated")


if __name__ == "__main__":
    main()
