"""A run's results as an Excel workbook, for readers who work in spreadsheets.

Three sheets: Summary (the answer, its interval, the goal-date percentiles and the provenance:
seed, version, scenario hash), Missions (one row per activity) and Sources (the scenario's
citations and which elements cite them). Dates are written as real spreadsheet dates (cells
holding a date with a date format, so they sort and compute), probabilities as numbers with a
percent format. The file is written under a temporary name and renamed, so it is whole or absent.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from datetime import date
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.worksheet.worksheet import Worksheet

from .analysis import activity_stats
from .output import check_output_file
from .results import Results

DATE_FORMAT = "yyyy-mm-dd"
PERCENT_FORMAT = "0.0%"
NEVER = "never"  # a percentile that fewer than that share of trials ever reach


def scenario_sha256(scenario_yaml: str) -> str:
    """The hash recorded with results: of the resolved scenario YAML (as in summary.json)."""
    return hashlib.sha256(scenario_yaml.encode("utf-8")).hexdigest()


def write_workbook(results: Results, path: str | os.PathLike[str], scenario_yaml: str,
                   force: bool = False) -> Path:
    """Write the workbook to `path` (refused if it exists, unless `force`); returns the path."""
    out = Path(path)
    check_output_file(out, force)
    book = Workbook()
    summary = book.active
    assert summary is not None
    summary.title = "Summary"
    _summary(summary, results, scenario_sha256(scenario_yaml))
    _missions(book.create_sheet("Missions"), results)
    _sources(book.create_sheet("Sources"), results)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
    os.close(fd)
    try:
        book.save(tmp)
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return out


def _put(ws: Worksheet, row: int, col: int, value: Any, fmt: str | None = None) -> None:
    cell = ws.cell(row=row, column=col, value=NEVER if value is None and fmt == DATE_FORMAT
                   else value)
    if fmt and not (value is None and fmt == DATE_FORMAT):
        cell.number_format = fmt


def _header(ws: Worksheet, names: list[str], widths: list[int]) -> None:
    for col, (name, width) in enumerate(zip(names, widths, strict=True), start=1):
        ws.cell(row=1, column=col, value=name).font = Font(bold=True)
        ws.column_dimensions[ws.cell(row=1, column=col).column_letter].width = width
    ws.freeze_panes = "A2"


def _summary(ws: Worksheet, res: Results, digest: str) -> None:
    sc, (lo, hi) = res.scenario, res.ci95
    rows: list[tuple[str, Any, str | None]] = [
        ("scenario", sc.title, None),
        ("data as of", sc.as_of, DATE_FORMAT),
        ("goal", sc.goal.name, None),
        ("deadline", sc.goal.deadline, DATE_FORMAT),
        ("P(goal by deadline)", res.probability, PERCENT_FORMAT),
        ("95% interval, low (Wilson)", lo, PERCENT_FORMAT),
        ("95% interval, high (Wilson)", hi, PERCENT_FORMAT),
        ("P(never met)", res.p_never, PERCENT_FORMAT),
        *((f"{k.upper()} goal date", d, DATE_FORMAT) for k, d in res.percentiles.items()),
        ("trials", res.trials, "#,##0"),
        ("seed", res.seed, "0"),
        ("version", res.version, None),
        ("scenario_sha256", digest, None),
        ("block size", res.block_size, "0"),
    ]
    _header(ws, ["item", "value"], [30, 70])
    for i, (name, value, fmt) in enumerate(rows, start=2):
        ws.cell(row=i, column=1, value=name)
        _put(ws, i, 2, value, fmt)
    note = len(rows) + 3
    ws.cell(row=note, column=1, value=(
        "A percentile date is the earliest date by which at least that share of all trials "
        "meet the goal; 'never' when fewer ever do."))


def _missions(ws: Worksheet, res: Results) -> None:
    stats = activity_stats(res)
    keys = [f"p{q}" for q in res.percentile_levels]
    names = ["id", "name", "status", "planned", *(k.upper() for k in keys),
             f"P(by {res.scenario.goal.deadline.isoformat()})", "P(never)", "mean attempts",
             "source"]
    _header(ws, names, [22, 40, 24, 12, *(12 for _ in keys), 16, 10, 14, 26])
    sources = {a.id: a.source for a in res.scenario.activities}
    for i, (aid, r) in enumerate(stats.iterrows(), start=2):
        values: list[tuple[Any, str | None]] = [
            (aid, None), (r["name"], None), (r["status"], None), (r["planned"], "planned"),
            *((r[k], DATE_FORMAT) for k in keys),
            (r["p_finish_by_deadline"], PERCENT_FORMAT), (r["p_never"], PERCENT_FORMAT),
            (r["mean_attempts"], "0.00"), (sources.get(str(aid)), None)]
        for col, (value, fmt) in enumerate(values, start=1):
            if fmt == "planned":  # no planned date is blank, not "never"
                if isinstance(value, date):
                    _put(ws, i, col, value, DATE_FORMAT)
                continue
            _put(ws, i, col, _plain(value), fmt)


def _plain(value: Any) -> Any:
    """numpy scalars as Python numbers (openpyxl writes only those)."""
    return value.item() if hasattr(value, "item") else value


def _sources(ws: Worksheet, res: Results) -> None:
    sc = res.scenario
    cited: dict[str, list[str]] = {}
    for kind, elements in (("activity", sc.activities), ("vehicle", sc.vehicles),
                           ("risk", sc.risks)):
        for e in elements:
            if e.source:
                cited.setdefault(e.source, []).append(f"{kind} {e.id}")
    _header(ws, ["key", "citation", "cited by"], [24, 100, 50])
    for i, (key, text) in enumerate(sc.sources.items(), start=2):
        ws.cell(row=i, column=1, value=key)
        ws.cell(row=i, column=2, value=text)
        ws.cell(row=i, column=3, value=", ".join(cited.get(key, [])))
