"""`make figures`: re-run the ILRS scenarios and rewrite the README's results section.

The headline numbers, the figure and the variants table in the README come from here, never
from a hand edit. A test re-runs the baseline at the same seed and checks the headline.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from matplotlib.figure import Figure

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sim import load_scenario, run  # noqa: E402
from sim.analysis import compare  # noqa: E402
from sim.history import attribution, history, plot_history  # noqa: E402
from sim.plotting import plot_goal_histogram  # noqa: E402

SEED = 20260413
TRIALS = 10_000
FIGURE = "docs/figures/goal_date.png"
BACKTEST_FIGURE = "docs/figures/backtest.png"
HISTORY_FIGURE = "docs/figures/history.png"
HISTORY = sorted((ROOT / "scenarios/history").glob("*.yaml"))
VARIANTS = [
    ("hand_rules", "the hand-sized slip rules used before calibration"),
    ("official_plan", "every announced date holds, nothing fails"),
    ("optimistic", "the favourable ends of the sourced ranges"),
    ("pessimistic", "the unfavourable ends of the sourced ranges"),
    ("lm9_late", "Long March 9's first flight slips several years"),
    ("lm9_only", "ILRS-1..5 can fly only on Long March 9"),
    ("ce7_fails", "Chang'e-7 is lost and a rebuilt copy flies"),
    ("russia_withdraws", "Russia leaves the programme"),
    ("goal_2023_definition", "the 2023 meaning of \"basic model\" (CE-7 + CE-8 by 2028)"),
    ("ce7_early_2027", "Chang'e-7 in the Feb-Mar 2027 window (single-source reconstruction)"),
    ("ce8_restructured", "Chang'e-8 reworked, 2030-2031 (single source)"),
    ("lm10_2027", "Long March 10 first flight re-planned for 2027 (uncertain)"),
    ("luna28_2036", "Luna-28 re-planned for about 2036 (single source)"),
]


def headline(res_p: float, lo: float, hi: float) -> str:
    return f"**{res_p:.1%}** (95% confidence interval {lo:.1%} to {hi:.1%})"


def results_section() -> str:
    baseline = load_scenario(ROOT / "scenarios/ilrs_baseline.yaml")
    res = run(baseline, trials=TRIALS, seed=SEED)
    lo, hi = res.ci95
    median = res.percentiles["p50"]
    fig = Figure(figsize=(9, 4.8), layout="constrained")
    plot_goal_histogram(res, fig.add_subplot())
    (ROOT / FIGURE).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(ROOT / FIGURE, dpi=110)

    scenarios = {"ilrs_baseline": baseline}
    scenarios |= {name: load_scenario(ROOT / f"scenarios/{name}.yaml") for name, _ in VARIANTS}
    table = compare(scenarios, trials=TRIALS, seed=SEED).table.set_index("scenario")
    what = dict(VARIANTS) | {"ilrs_baseline": "the sourced baseline"}
    rows = "\n".join(
        f"| `{name}` | {what[name]} | {row.probability:.1%} | {row.ci_lo:.1%} to {row.ci_hi:.1%} "
        f"| {row.p50 or 'never'} |"
        for name, row in table.iterrows()
    )
    goal = baseline.goal
    hand = table.loc["hand_rules"]
    return f"""## The answer

With the facts known on **{baseline.as_of}**, the chance that the basic ILRS stands by
**{goal.deadline}** is {headline(res.probability, lo, hi)}, with launch slips from the
calibrated slip rules (see [Calibrated slips](#calibrated-slips)). The median date for it is
**{median or 'never'}**; in {res.p_never:.0%} of the trials it is never completed (a mission
lost for good, or fewer than three ILRS modules ever land). With the hand-sized slips used
before (`hand_rules`) the answer was {hand.probability:.1%} ({hand.ci_lo:.1%} to
{hand.ci_hi:.1%}), median {hand.p50 or 'never'}. "Basic ILRS" here means Chang'e-7,
Chang'e-8, a power supply and at least three of the five ILRS-1..5 missions; why, and every
number behind it, is in [docs/model.md](docs/model.md).

![Distribution of the goal date, ILRS baseline]({FIGURE})

| scenario | what changes | P(by {goal.deadline}) | 95% CI | median goal date |
|---|---|---|---|---|
{rows}

{TRIALS:,} trials per scenario, seed {SEED}, common random numbers. Regenerate with
`make figures`.

{moved_section()}"""


def _points(x: float) -> str:
    return f"{x * 100:+.1f} points"


def moved_section() -> str:
    """How the answer moved between data dates, and the share of each recorded event."""
    table = history(HISTORY, trials=TRIALS, seed=SEED)
    plot_history(table, ROOT / HISTORY_FIGURE)
    files = list(table.index)
    lines = ["### How the answer moved", "",
             "The forecast at each data date (`scenarios/history/`, same seed), and each step "
             "split into the\nnew data date alone and each recorded event applied in turn\n"
             "(`ilrs history scenarios/history/*.yaml`; the parts add up to the step):", "",
             "| data date | P(by deadline) | 95% CI | median goal date |", "|---|---|---|---|"]
    for _, r in table.iterrows():
        lines.append(f"| {r.as_of} | {r.p_goal:.1%} | {r.ci_lo:.1%} to {r.ci_hi:.1%} "
                     f"| {r.goal_p50 or 'never'} |")
    for older, newer in zip(files, files[1:], strict=False):
        steps = attribution(older, newer, trials=TRIALS, seed=SEED)
        lines += ["", f"From {Path(older).stem} to {Path(newer).stem}: "
                  f"{steps.attrs['p_before']:.1%} → {steps.attrs['p_after']:.1%}.", "",
                  "| part | change in P | median goal date |", "|---|---|---|"]
        for _, s in steps.iterrows():
            days = "" if s.delta_p50_days is None or s.delta_p50_days != s.delta_p50_days \
                else f"{s.delta_p50_days:+.0f} days"
            lines.append(f"| {s.part} | {_points(s.delta_p)} | {days} |")
    lines += ["", f"![The forecast at each data date]({HISTORY_FIGURE})", ""]
    return "\n".join(lines)


def backtest_section() -> str:
    """The leave-one-mission-out back-test of the shipped rules: figure and measured targets."""
    from sim.calibration.backtest import lomo
    from sim.calibration.data import read_reference_class
    from sim.calibration.fit import ModelSpec
    from sim.calibration.plots import plot_backtest
    from sim.calibration.report import Backtest
    from sim.calibration.rules import read_rules

    rules = read_rules(ROOT / "scenarios/slip_rules.yaml")
    rc = read_reference_class(ROOT / "data/reference_class.csv")
    model = rules.provenance["model"]
    spec = ModelSpec(model["hold"], model["shift"], model["omega"])
    bt = Backtest.of(lomo(rc, spec), "leave-one-mission-out", rules)
    plot_backtest(bt, ROOT / BACKTEST_FIGURE)
    summary = bt.summary()["scores"]
    o = summary["overall"]
    ci = o["ci95"]

    def met(ok: bool) -> str:
        return "met" if ok else "**not met**"

    rows = [
        ("80 % interval coverage", "70-90 %", f"{o['coverage80']:.0%}",
         f"{ci['coverage80'][0]:.0%}-{ci['coverage80'][1]:.0%}",
         met(0.70 <= o["coverage80"] <= 0.90)),
        ("50 % interval coverage", "35-65 %", f"{o['coverage50']:.0%}",
         f"{ci['coverage50'][0]:.0%}-{ci['coverage50'][1]:.0%}",
         met(0.35 <= o["coverage50"] <= 0.65)),
        ("misses below / above the 80 % interval", "both sides",
         f"{o['below80']:.0%} / {o['above80']:.0%}", "",
         met(o["below80"] > 0 and o["above80"] > 0)),
        ("CRPS skill vs \"the announced date holds\"", ">= 0.4", f"{o['crps_skill']:.2f}",
         f"{ci['crps_skill'][0]:.2f}-{ci['crps_skill'][1]:.2f}", met(o["crps_skill"] >= 0.4)),
        ("median abs. error, ratio to the naive forecast's", "<= 0.7", f"{o['mae_ratio']:.2f}",
         f"{ci['mae_ratio'][0]:.2f}-{ci['mae_ratio'][1]:.2f}", met(o["mae_ratio"] <= 0.7)),
    ]
    table = "\n".join(f"| {a} | {b} | {c} | {d} | {e} |" for a, b, c, d, e in rows)
    groups = "\n".join(
        f"| {label} | {s['n']} | {s['missions']} | {s['coverage80']:.0%} | "
        f"{s['coverage50']:.0%} | {s['crps_skill']:.2f} | {s['mae_ratio']:.2f} |"
        for label, s in summary.items() if label != "overall")
    return f"""Leave-one-mission-out back-test of `scenarios/slip_rules.yaml` on
`data/reference_class.csv` ({o['n']} launched plan snapshots of {o['missions']} missions; each
mission predicted by rules refitted without it). Intervals: 95 %, resampling whole missions.

| target | wanted | measured | 95 % interval | |
|---|---|---|---|---|
{table}

| subset | snapshots | missions | 80 % in | 50 % in | CRPS skill | MAE ratio |
|---|---|---|---|---|---|---|
{groups}

![Back-test: PIT histogram and predicted slip intervals against the actual slips]({BACKTEST_FIGURE})

Regenerate with `make figures` (or `ilrs backtest data/reference_class.csv --rules
scenarios/slip_rules.yaml --out DIR`).
"""


def _replace_block(text: str, name: str, section: str) -> str:
    new, count = re.subn(rf"(<!-- {name}:start -->\n).*?(<!-- {name}:end -->)",
                         lambda m: m.group(1) + section + m.group(2), text, flags=re.S)
    if count != 1:
        raise SystemExit(f"README.md has no <!-- {name}:start/end --> markers")
    return new


def main() -> None:
    readme = ROOT / "README.md"
    text = readme.read_text(encoding="utf-8")
    text = _replace_block(text, "results", results_section())
    text = _replace_block(text, "backtest", backtest_section())
    readme.write_text(text, encoding="utf-8")
    print(f"README.md results and back-test sections, {FIGURE} and {BACKTEST_FIGURE} updated")


if __name__ == "__main__":
    main()
