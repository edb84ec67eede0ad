"""The command-line arguments of `ilrs calibrate` and `ilrs backtest`, kept apart from the
commands so that building the parser does not load scipy."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_parsers(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p_cal = commands.add_parser("calibrate", help="fit slip rules on a reference-class CSV")
    p_cal.add_argument("csv", help="reference-class CSV (columns as data/reference_class.csv)")
    p_cal.add_argument("-o", "--output", type=Path, required=True, help="rules YAML to write")
    p_cal.add_argument("--force", action="store_true", help="replace an existing rules file")

    p_bt = commands.add_parser("backtest", help="score slip rules on a reference-class CSV")
    p_bt.add_argument("csv", help="reference-class CSV")
    p_bt.add_argument("--rules", type=Path, required=True, help="rules YAML (ilrs calibrate)")
    p_bt.add_argument("--out", type=Path, help="write snapshots.csv, pending.csv, summary.json "
                      "and the figure")
    p_bt.add_argument("--force", action="store_true", help="replace a non-empty --out folder")
