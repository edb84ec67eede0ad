"""The back-test as tables, files and figures: what `ilrs backtest` prints and writes."""

from __future__ import annotations

import csv
import io
import json
import math
import shutil
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from .backtest import (
    LEAD_BANDS,
    Prediction,
    Row,
    band_of,
    bootstrap,
    quantile_dates,
    rows,
    score,
)
from .rules import SlipRules

SNAPSHOT_COLUMNS = ("mission", "agency", "as_of", "planned", "actual", "p05", "p10", "p25",
                    "p50", "p75", "p90", "p95", "pit")


@dataclass(frozen=True)
class Backtest:
    """A scored back-test: predictions plus their per-snapshot numbers."""

    predictions: list[Prediction]
    rows: list[Row]
    mode: str  # "leave-one-mission-out" or "as given"
    rules: SlipRules

    @staticmethod
    def of(predictions: list[Prediction], mode: str, rules: SlipRules) -> Backtest:
        launched = [p for p in predictions if not p.snapshot.pending]
        return Backtest(predictions, rows(launched), mode, rules)

    def subsets(self) -> list[tuple[str, list[Row]]]:
        """(label, rows) overall, by agency group and by lead band."""
        launched = [p for p in self.predictions if not p.snapshot.pending]
        by_row = list(zip(launched, self.rows, strict=True))
        out = [("overall", self.rows)]
        for group in dict.fromkeys(p.snapshot.group for p in launched):
            out.append((self.group_label(group),
                        [r for p, r in by_row if p.snapshot.group == group]))
        for name, _, _ in LEAD_BANDS:
            chosen = [r for p, r in by_row if band_of(p.snapshot.lead_months) == name]
            if chosen:
                out.append((name, chosen))
        return out

    def group_label(self, group: str) -> str:
        rule = self.rules.groups.get(group)
        if rule is not None and not rule.validated:
            return (f"{group} (not validated: {rule.launched_missions} launched "
                    f"mission{'s' if rule.launched_missions != 1 else ''})")
        return group

    def summary(self) -> dict[str, Any]:
        table = {}
        for label, rs in self.subsets():
            s = score(rs)
            entry = {k: (None if isinstance(v, float) and math.isnan(v) else v)
                     for k, v in asdict(s).items()}
            entry["crps_skill"] = None if math.isnan(s.crps_skill) else s.crps_skill
            entry["ci95"] = bootstrap(rs) if s.missions >= 2 else None
            table[label] = entry
        pending = [p for p in self.predictions if p.snapshot.pending]
        return {"mode": self.mode, "rules": self.rules.path, "rules_provenance":
                self.rules.provenance, "launched_snapshots": len(self.rows),
                "pending_snapshots": len(pending), "scores": table}


def format_table(summary: dict[str, Any]) -> str:
    head = (f"{'':44} {'n':>3} {'missions':>8} {'50% in':>7} {'80% in':>7} {'below':>6} "
            f"{'above':>6} {'CRPS skill':>11} {'MAE ratio':>10}")
    lines = [head]
    for label, s in summary["scores"].items():
        def pct(key: str, s: dict[str, Any] = s) -> str:
            return "-" if s[key] is None else f"{s[key]:.0%}"

        def num(key: str, s: dict[str, Any] = s) -> str:
            return "-" if s[key] is None else f"{s[key]:.2f}"

        lines.append(f"{label:44} {s['n']:>3} {s['missions']:>8} {pct('coverage50'):>7} "
                     f"{pct('coverage80'):>7} {pct('below80'):>6} {pct('above80'):>6} "
                     f"{num('crps_skill'):>11} {num('mae_ratio'):>10}")
        ci = s.get("ci95")
        if ci and label == "overall":
            lines.append(f"{'  95% interval (mission bootstrap)':44} {'':>3} {'':>8} "
                         f"{_span(ci['coverage50'], True):>7} {_span(ci['coverage80'], True):>7} "
                         f"{'':>6} {'':>6} {_span(ci['crps_skill']):>11} "
                         f"{_span(ci['mae_ratio']):>10}")
    overall = summary["scores"]["overall"]
    lines.append("PIT histogram, overall (10 bins, 0 to 1): "
                 + " ".join(str(c) for c in overall["pit_hist"]))
    return "\n".join(lines)


def _span(pair: tuple[float, float] | list[float], percent: bool = False) -> str:
    lo, hi = pair
    return f"{lo:.0%}-{hi:.0%}" if percent else f"{lo:.2f}-{hi:.2f}"


def snapshots_csv(bt: Backtest) -> str:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(SNAPSHOT_COLUMNS)
    for p in bt.predictions:
        s = p.snapshot
        if s.actual is None:
            continue
        w.writerow([s.mission, s.agency, s.as_of.isoformat(), s.planned.isoformat(),
                    s.actual.isoformat(), *(d.isoformat() for d in quantile_dates(p)),
                    f"{p.pit:.4f}"])
    return out.getvalue()


def pending_csv(bt: Backtest, data_date: str) -> str:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(("mission", "agency", "as_of", "planned", "data_date", "p_pending"))
    for p in bt.predictions:
        s = p.snapshot
        if s.actual is None:
            w.writerow([s.mission, s.agency, s.as_of.isoformat(), s.planned.isoformat(),
                        data_date, f"{p.p_pending:.4f}"])
    return out.getvalue()


def write_outputs(bt: Backtest, out: Path, data_date: str, force: bool = False) -> None:
    """snapshots.csv, pending.csv, summary.json and backtest.png/.svg, written atomically."""
    from .plots import plot_backtest  # matplotlib only when figures are asked for

    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        (tmp / "snapshots.csv").write_text(snapshots_csv(bt), encoding="utf-8")
        (tmp / "pending.csv").write_text(pending_csv(bt, data_date), encoding="utf-8")
        (tmp / "summary.json").write_text(json.dumps(bt.summary(), indent=2, default=str)
                                          + "\n", encoding="utf-8")
        plot_backtest(bt, tmp / "backtest.png")
        plot_backtest(bt, tmp / "backtest.svg")
        if out.exists():
            if not force and any(out.iterdir()):
                raise FileExistsError(str(out))
            shutil.rmtree(out)
        tmp.rename(out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
