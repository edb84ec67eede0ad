"""The analysis commands of `ilrs`: compare, drivers, report. Each maps onto library calls."""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from .analysis import compare as compare_scenarios
from .analysis import criticality
from .cli import progress_wanted, written
from .drivers import risk_drivers, sensitivity
from .montecarlo import run
from .output import atomic_folder, check_output_dir, check_output_file, write_file
from .sampling import fresh_seed
from .scenario import load_scenario


def _seed(args: argparse.Namespace) -> int:
    return fresh_seed() if args.seed is None else int(args.seed)


def _percent(p: float) -> str:
    return f"{p:.1%}"


def _date(d: object) -> str:
    return "never" if d is None or pd.isna(d) else str(d)


def _days(shift: float) -> str:
    """A P80 shift in days; infinite when P80 goes between never and a date."""
    if shift == float("-inf"):
        return "never -> a date"
    if shift == float("inf"):
        return "a date -> never"
    return f"{shift:+.0f}"


def compare(args: argparse.Namespace) -> int:
    scenarios = {Path(p).stem: load_scenario(p) for p in args.scenarios}
    if args.out is not None:
        check_output_dir(args.out, args.force)
    seed = _seed(args)
    result = compare_scenarios(scenarios, trials=args.trials, seed=seed, workers=args.workers,
                               progress=progress_wanted(args),
                               percentiles=args.percentiles, engine=args.engine)
    table = result.table
    keys = [f"p{q}" for q in args.percentiles]
    print(f"{args.trials:,} trials per scenario, seed {seed} (common random numbers)\n")
    print(f"{'scenario':<24} {'P(by deadline)':>14} {'95% CI':>17}"
          + "".join(f" {k.upper():>11}" for k in keys) + f" {'never':>7}")
    for _, row in table.iterrows():
        ci = f"{_percent(row.ci_lo)}-{_percent(row.ci_hi)}"
        print(f"{row.scenario:<24} {_percent(row.probability):>14} {ci:>17}"
              + "".join(f" {_date(row[k]):>11}" for k in keys)
              + f" {_percent(row.p_never):>7}")
    if args.out is not None:
        from .plotting import plot_compare

        with atomic_folder(args.out, args.force) as tmp:
            table.to_csv(tmp / "comparison.csv", index=False)
            _save(lambda ax: plot_compare(result, ax), tmp / "compare", (9, 5))
        written.append(f"{args.out}/")
        print(f"\nWritten         {args.out}/ (comparison.csv, compare.png, compare.svg)")
    return 0


def drivers(args: argparse.Namespace) -> int:
    scenario = load_scenario(args.scenario)
    if args.out is not None:
        check_output_dir(args.out, args.force)
    seed = _seed(args)
    progress = progress_wanted(args)
    results = run(scenario, trials=args.trials, seed=seed, workers=args.workers,
                  progress=progress, engine=args.engine)
    table = risk_drivers(scenario, workers=args.workers, base=results, progress=progress,
                         engine=args.engine)
    base = table.attrs.get("p_base")
    print(f"{scenario.title}: {args.trials:,} trials per run, seed {seed}; "
          f"P(by deadline) with everything on: {_percent(base) if base is not None else '?'}\n")
    print(f"{'switched off':<44} {'kind':<8} {'P(by deadline)':>14} {'change':>8}"
          f" {'P80 moves (days)':>17}")
    for element, row in table.iterrows():
        label = f"{element} ({row['name']})" if row["name"] != element else str(element)
        print(f"{label[:44]:<44} {row['kind']:<8} {_percent(row['p_goal_off']):>14}"
              f" {row['delta_p']:>+8.1%} {_days(row['delta_p80_days']):>17}")
    ranked = sensitivity(results)
    ranked = ranked.dropna(subset=["spearman"]).head(10)
    print("\nThe random inputs most rank-correlated with the goal date (Spearman):")
    for name, row in ranked.iterrows():
        print(f"  {str(name)[:42]:<42} {row['kind']:<9} {row['spearman']:+.2f}")
    if args.out is not None:
        from .plotting import plot_drivers

        with atomic_folder(args.out, args.force) as tmp:
            table.to_csv(tmp / "drivers.csv")
            _save(lambda ax: plot_drivers(table, ax), tmp / "drivers",
                  (9, 1.4 + 0.45 * max(min(len(table), 15), 3)))
        written.append(f"{args.out}/")
        print(f"\nWritten         {args.out}/ (drivers.csv, drivers.png, drivers.svg)")
    return 0


def report(args: argparse.Namespace) -> int:
    from .report import render_report

    scenario = load_scenario(args.scenario)
    variants = {Path(p).stem: load_scenario(p) for p in args.variants}
    check_output_file(args.output, args.force)
    seed = _seed(args)
    progress = progress_wanted(args)
    # The ready times are kept for the report's delay breakdown.
    results = run(scenario, trials=args.trials, seed=seed, workers=args.workers,
                  progress=progress, engine=args.engine, keep_ready=True)
    table = risk_drivers(scenario, workers=args.workers, base=results, progress=progress,
                         engine=args.engine)
    results = results.with_percentiles(args.percentiles)
    comparison = None
    if variants:
        everything = {Path(args.scenario).stem: scenario, **variants}
        comparison = compare_scenarios(everything, trials=args.trials, seed=seed,
                                       workers=args.workers, progress=progress,
                                       percentiles=args.percentiles, engine=args.engine)
    past = None
    if args.history:
        from .history import attribution, history

        files = [*args.history, args.scenario]
        table_h = history(files, trials=args.trials, seed=seed, workers=args.workers,
                          engine=args.engine, progress=progress)
        order = list(table_h.index)
        past = (table_h, [attribution(a, b, trials=args.trials, seed=seed, workers=args.workers,
                                      engine=args.engine, progress=progress)
                          for a, b in zip(order, order[1:], strict=False)])
    # Rendered first, then written under a temporary name and renamed: never half a file.
    explore_html = ""
    if args.explore is not None:
        from .explore_report import explore_section

        explore_html = explore_section(args.explore)
    html = render_report(results, table, comparison, criticality(results), explore_html,
                         history=past)
    write_file(args.output, html.encode("utf-8"), force=args.force)
    written.append(str(args.output))
    print(f"Report          {args.output} ({args.trials:,} trials, seed {seed})")
    return 0


def _save(draw: object, stem: Path, size: tuple[float, float]) -> None:
    from matplotlib.figure import Figure

    fig = Figure(figsize=size, layout="constrained")
    draw(fig.add_subplot())  # type: ignore[operator]
    for ext in ("png", "svg"):
        fig.savefig(stem.with_suffix(f".{ext}"), dpi=150)


def history_cmd(args: argparse.Namespace) -> int:
    """`ilrs history FILES...`: the forecast at each data date, and each step in parts."""
    from .history import attribution, history, plot_history

    if args.out is not None:
        check_output_dir(args.out, args.force)
    seed = _seed(args)
    progress = progress_wanted(args)
    table = history(args.scenarios, trials=args.trials, seed=seed, workers=args.workers,
                    engine=args.engine, progress=progress)
    print(f"{args.trials:,} trials per scenario, seed {seed} (common random numbers)\n")
    print(f"{'data date':<11} {'P(by deadline)':>14} {'95% CI':>17} {'median goal':>12} "
          f"{'P10-P90':>23}  scenario")
    for _, row in table.iterrows():
        ci = f"{_percent(row.ci_lo)}-{_percent(row.ci_hi)}"
        span = f"{_date(row.goal_p10)}..{_date(row.goal_p90)}"
        print(f"{row.as_of!s:<11} {_percent(row.p_goal):>14} {ci:>17} {_date(row.goal_p50):>12} "
              f"{span:>23}  {row.scenario}")
    parts = []
    files = list(table.index)
    for older, newer in zip(files, files[1:], strict=False):
        steps = attribution(older, newer, trials=args.trials, seed=seed, workers=args.workers,
                            engine=args.engine, progress=progress)
        total = steps["delta_met"].sum() / args.trials
        print(f"\n{Path(older).name} -> {Path(newer).name}: {_percent(steps.attrs['p_before'])}"
              f" -> {_percent(steps.attrs['p_after'])} ({total * 100:+.1f} points)")
        for _, s in steps.iterrows():
            shift = "" if s.delta_p50_days is None or pd.isna(s.delta_p50_days) else (
                f"{s.delta_p50_days:+.0f} days")
            print(f"  {s.delta_p * 100:+6.1f} points {shift:>11}  {s.part}")
        parts.append(steps.assign(step=f"{Path(older).name} -> {Path(newer).name}"))
    if args.out is not None:
        with atomic_folder(args.out, args.force) as tmp:
            table.to_csv(tmp / "history.csv")
            if parts:
                pd.concat(parts).to_csv(tmp / "attribution.csv", index=False)
            plot_history(table, tmp / "history.png")
        written.append(f"{args.out}/")
        names = ["history.csv", *(["attribution.csv"] if parts else []), "history.png"]
        print(f"\nWritten         {args.out}/ ({', '.join(names)})")
    return 0
