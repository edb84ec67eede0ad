"""`ilrs calibrate` and `ilrs backtest`: thin layers over the calibration library."""

from __future__ import annotations

import argparse
import math
import sys
from datetime import date

from .. import __version__
from ..output import check_output_dir, check_output_file
from .backtest import choose_model, lomo, predict, rules_from_fit
from .data import ReferenceClass, read_reference_class
from .fit import Data, Fit, ModelSpec, fit
from .report import Backtest, format_table, write_outputs
from .rules import SlipRules, read_rules, write_rules

METHOD = ("penalised maximum likelihood (scipy.optimize L-BFGS-B); mission effect integrated "
          "by 24-point Gauss-Hermite quadrature; pending missions censored at the data date; "
          "group coefficients partially pooled (normal prior of scale omega); components and "
          "omega chosen by leave-one-mission-out log score; uncertainty from the inverse "
          "numerical Hessian")


def calibrate(args: argparse.Namespace) -> int:
    rc = read_reference_class(args.csv)
    check_output_file(args.output, args.force)
    print(_describe(rc))
    print("Model choice    leave-one-mission-out mean log score per candidate (higher is better)")
    best, scores = choose_model(rc)
    for spec, value in scores.items():
        print(f"  {spec.label:28} {value:8.3f}" + ("   <- chosen" if spec == best else ""))
    result = fit(Data.from_reference(rc), best)
    bt = Backtest.of(lomo(rc, best, result), "leave-one-mission-out", _rules(result, rc, args))
    rules = bt.rules
    print(_parameters(result, rules))
    print(format_table(bt.summary()))
    write_rules(rules, args.output, force=args.force)
    print(f"Wrote           {args.output}")
    return 0


def _rules(result: Fit, rc: ReferenceClass, args: argparse.Namespace) -> SlipRules:
    spec = result.spec
    provenance = {
        "csv": str(args.csv), "csv_sha256": rc.sha256, "snapshots": len(rc.snapshots),
        "missions": len(rc.missions), "data_date": rc.data_date.isoformat(),
        "version": __version__, "method": METHOD, "fitted": date.today().isoformat(),
        "model": {"hold": spec.hold, "shift": spec.shift, "omega": spec.omega},
    }
    return rules_from_fit(result, rc, provenance)


def _describe(rc: ReferenceClass) -> str:
    pending = sum(s.pending for s in rc.snapshots)
    return (f"Reference class {rc.path}: {len(rc.snapshots)} plan snapshots of "
            f"{len(rc.missions)} missions ({pending} pending), data date "
            f"{rc.data_date.isoformat()}, sha256 {rc.sha256[:12]}; "
            f"{len(rc.skipped)} rows without a usable plan")


def _parameters(result: Fit, rules: SlipRules) -> str:
    se = result.stderr
    p = result.params

    def pm(value: float, err: float | None) -> str:
        return f"{value:.2f}" if err is None or math.isnan(err) else f"{value:.2f} +/- {err:.2f}"

    lines = [f"Shared          tau {pm(p.tau, p.tau * se.get('log_tau', math.nan))}  "
             f"sigma {pm(p.sigma, p.sigma * se.get('log_sigma', math.nan))}  "
             + (f"shift {pm(p.shift, p.shift * se.get('log_shift', math.nan))} months  "
                if result.spec.shift else "no shift  ")
             + (f"hold: p = logistic(h0_group + ({pm(p.hold_h1, se.get('h1'))}) x), sd "
                f"{pm(p.hold_sd, p.hold_sd * se.get('log_hold_sd', math.nan))} months"
                if result.spec.hold else "no hold component"),
             f"{'Group':8} {'missions':>8} {'snaps':>6} {'leads seen (mo)':>16} "
             f"{'a (ln months)':>16} {'b (growth)':>16} {'hold h0':>6} "
             f"{'median slip at 1 / 3 / 10 y':>28}"]
    for name, g in rules.groups.items():
        meds = [float(rules.slip(name, lead).ppf_months(0.5)[0]) for lead in (12, 36, 120)]
        lines.append(f"{name:8} {g.missions:>8} {g.snapshots:>6} "
                     f"{g.lead_months[0]:>7.1f}-{g.lead_months[1]:<8.1f} "
                     f"{pm(g.a, math.sqrt(g.var_ab[0])):>16} {pm(g.b, math.sqrt(g.var_ab[2])):>16} "
                     f"{(f'{g.hold_h0:.2f}' if rules.hold else '-'):>6} "
                     f"{' / '.join(f'{m:.1f}' for m in meds):>28}"
                     + ("" if g.validated else "   (not validated: "
                        f"{g.launched_missions} launched missions)"))
    return "\n".join(lines)


def backtest(args: argparse.Namespace) -> int:
    rc = read_reference_class(args.csv)
    rules = read_rules(args.rules)
    if args.out is not None:
        check_output_dir(args.out, args.force)
    own = rules.provenance.get("csv_sha256") == rc.sha256
    print(_describe(rc))
    if own:
        model = rules.provenance.get("model", {})
        spec = ModelSpec(bool(model.get("hold", True)), bool(model.get("shift", True)),
                         float(model.get("omega", 0.5)))
        print(f"Scored          leave-one-mission-out: the rules' own training data, refitted "
              f"without each mission ({spec.label})")
        bt = Backtest.of(lomo(rc, spec), "leave-one-mission-out", rules)
    else:
        print("Scored          the rules as given (not their training data)")
        bt = Backtest.of(predict(rules, rc), "as given", rules)
    print(format_table(bt.summary()))
    if args.out is not None:
        write_outputs(bt, args.out, rc.data_date.isoformat(), force=args.force)
        print(f"Wrote           {args.out}/ (snapshots.csv, pending.csv, summary.json, "
              "backtest.png, backtest.svg)")
    return 0


def run_command(args: argparse.Namespace) -> int:
    handler = {"calibrate": calibrate, "backtest": backtest}[args.command]
    try:
        return handler(args)
    except FileExistsError as err:
        print(f"ilrs: {err}: folder exists and is not empty (use --force)", file=sys.stderr)
        return 2
