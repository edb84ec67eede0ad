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
from sim.plotting import plot_goal_histogram  # noqa: E402

SEED = 20260413
TRIALS = 10_000
FIGURE = "docs/figures/goal_date.png"
VARIANTS = [
    ("official_plan", "every announced date holds, nothing fails"),
    ("optimistic", "the favourable ends of the sourced ranges"),
    ("pessimistic", "the unfavourable ends of the sourced ranges"),
    ("lm9_late", "Long March 9's first flight slips several years"),
    ("lm9_only", "ILRS-1..5 can fly only on Long March 9"),
    ("ce7_fails", "Chang'e-7 is lost and a rebuilt copy flies"),
    ("russia_withdraws", "Russia leaves the programme"),
    ("goal_2023_definition", "the 2023 meaning of \"basic model\" (CE-7 + CE-8 by 2028)"),
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
    return f"""## The answer

With the facts known on **{baseline.as_of}**, the chance that the basic ILRS stands by
**{goal.deadline}** is {headline(res.probability, lo, hi)}. The median date for it is
**{median or 'never'}**; in {res.p_never:.0%} of the trials it is never completed (a mission
lost for good, or fewer than three ILRS modules ever land). "Basic ILRS" here means Chang'e-7,
Chang'e-8, a power supply and at least three of the five ILRS-1..5 missions; why, and every
number behind it, is in [docs/model.md](docs/model.md).

![Distribution of the goal date, ILRS baseline]({FIGURE})

| scenario | what changes | P(by {goal.deadline}) | 95% CI | median goal date |
|---|---|---|---|---|
{rows}

{TRIALS:,} trials per scenario, seed {SEED}, common random numbers. Regenerate with
`make figures`.
"""


def main() -> None:
    readme = ROOT / "README.md"
    text = readme.read_text(encoding="utf-8")
    section = results_section()
    new, count = re.subn(r"(<!-- results:start -->\n).*?(<!-- results:end -->)",
                         lambda m: m.group(1) + section + m.group(2), text, flags=re.S)
    if count != 1:
        raise SystemExit("README.md has no <!-- results:start/end --> markers")
    readme.write_text(new, encoding="utf-8")
    print(f"README.md results section and {FIGURE} updated")


if __name__ == "__main__":
    main()
