"""The reference class: plan snapshots of lunar and planetary missions, read from CSV.

A *snapshot* is one plan: on `as_of` (the column ``planned_launch_as_of``) the mission was to
launch on `planned` (``planned_ref_date``, or ``planned_launch`` read with the conventions of
:mod:`sim.calibration.periods` when that is empty). Its *lead* is planned - as_of and its
*slip* is actual - planned, both in months. A *pending* mission has not launched by the CSV's
data date (the latest date written in it): its slip is only known to exceed data date -
planned, a censored observation.

Rows whose plan date or statement date is not known (``unknown`` or empty) are kept in the
file as records of the mission but are not snapshots. Everything else that is wrong stops the
reading with ``FILE:LINE: column: what is wrong, found ...`` for every bad row at once.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
from dataclasses import dataclass
from datetime import date

from ..yamlio import Problem, ScenarioError
from .periods import StatedDate, months_between, parse_stated

COLUMNS = ("mission", "agency", "country", "kind", "first_announced_year",
           "planned_launch_as_of", "planned_launch", "planned_ref_date", "actual_launch",
           "slip_months", "outcome", "source", "notes")
OUTCOMES = ("success", "partial", "failure", "pending")

# Agency groups: slip habits differ by who runs the programme (docs/calibration.md).
GROUP_OF_COUNTRY = {"China": "china", "Russia": "russia"}
OTHER_GROUP = "other"
GROUPS = ("china", "russia", "other")


class CalibrationError(ScenarioError):
    """Bad reference-class or rules input; `.problems` lists every problem found."""


@dataclass(frozen=True)
class Snapshot:
    mission: str
    agency: str
    group: str
    as_of: date  # when the plan was stated
    planned: date  # the planned launch (reference date of the stated period)
    actual: date | None  # None: pending
    line: int  # 1-based line of the row in the CSV
    as_of_text: str = ""
    planned_text: str = ""

    @property
    def lead_months(self) -> float:
        return months_between(self.as_of, self.planned)

    @property
    def pending(self) -> bool:
        return self.actual is None

    @property
    def slip_months(self) -> float | None:
        return None if self.actual is None else months_between(self.planned, self.actual)


@dataclass(frozen=True)
class ReferenceClass:
    path: str
    sha256: str
    # The latest statement or launch date in the file: pending means "not launched by then".
    data_date: date
    snapshots: tuple[Snapshot, ...]
    skipped: tuple[tuple[int, str], ...]  # (line, why) of rows that are not snapshots

    @property
    def missions(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(s.mission for s in self.snapshots))

    def without(self, mission: str) -> ReferenceClass:
        kept = tuple(s for s in self.snapshots if s.mission != mission)
        return ReferenceClass(self.path, self.sha256, self.data_date, kept, self.skipped)

    def elapsed_months(self, snap: Snapshot) -> float:
        """For a pending snapshot: the slip already accumulated by the data date."""
        return months_between(snap.planned, self.data_date)


def group_of(country: str) -> str:
    return GROUP_OF_COUNTRY.get(country.strip(), OTHER_GROUP)


def read_reference_class(path: str | os.PathLike[str]) -> ReferenceClass:
    """The snapshots in the CSV file `path`; raises :class:`CalibrationError` on bad input."""
    file = os.fspath(path)
    try:
        with open(file, "rb") as fh:
            raw = fh.read()
    except OSError as exc:
        raise CalibrationError([Problem(file, None, "", f"cannot read the file: "
                                        f"{exc.strerror or exc}")]) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CalibrationError([Problem(file, None, "", f"is not UTF-8 text ({exc.reason} at "
                                        f"byte {exc.start})")]) from None
    return parse_reference_class(text, file, hashlib.sha256(raw).hexdigest())


def parse_reference_class(text: str, file: str = "<string>", sha256: str = "") -> ReferenceClass:
    problems: list[Problem] = []
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if header is None:
        raise CalibrationError([Problem(file, 1, "", "is empty, expected a header row with "
                                        f"the columns {', '.join(COLUMNS)}")])
    header = [h.strip() for h in header]
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise CalibrationError([Problem(file, 1, "header", "missing column" + (
            "s " if len(missing) > 1 else " ") + ", ".join(missing) + ", found "
            + ", ".join(header))])
    rows: list[tuple[int, dict[str, str]]] = []
    line = reader.line_num + 1
    for record in reader:
        if any(cell.strip() for cell in record):
            if len(record) != len(header):
                problems.append(Problem(file, line, "row", f"has {len(record)} fields, the "
                                        f"header has {len(header)}"))
            else:
                rows.append((line, dict(zip(header, record, strict=True))))
        line = reader.line_num + 1
    stated = [(ln, row, _stated_dates(file, ln, row, problems)) for ln, row in rows]
    data_date = max((d for _, _, ds in stated for c, d in ds.items()
                     if d is not None and c in ("planned_launch_as_of", "actual_launch")),
                    default=date.min)
    snapshots, skipped = [], []
    for ln, row, dates in stated:
        snap = _snapshot(file, ln, row, dates, problems)
        if isinstance(snap, Snapshot):
            snapshots.append(snap)
        elif snap is not None:
            skipped.append((ln, snap))
    if problems:
        raise CalibrationError(problems)
    if not snapshots:
        raise CalibrationError([Problem(file, None, "", "has no usable plan snapshot")])
    return ReferenceClass(file, sha256, data_date, tuple(snapshots), tuple(skipped))


def _stated_dates(file: str, line: int, row: dict[str, str],
                  problems: list[Problem]) -> dict[str, date | None]:
    """The dates of one row by column (None: not stated); bad cells become problems."""
    out: dict[str, date | None] = {}
    for column in ("planned_launch_as_of", "planned_launch", "planned_ref_date",
                   "actual_launch"):
        try:
            got: StatedDate | None = parse_stated(row[column])
        except ValueError as exc:
            problems.append(Problem(file, line, column, str(exc)))
            got = None
        if got is not None and column == "actual_launch" and got.start != got.end:
            problems.append(Problem(file, line, column, "must be a day (YYYY-MM-DD), found "
                                    f"'{row[column].strip()}'"))
            got = None
        out[column] = None if got is None else got.reference
    return out


def _snapshot(file: str, line: int, row: dict[str, str], dates: dict[str, date | None],
              problems: list[Problem]) -> Snapshot | str | None:
    """The row's snapshot, or why it is not one (a str), or None when it has problems."""
    before = len(problems)
    outcome = row["outcome"].strip().lower()
    if outcome not in OUTCOMES:
        problems.append(Problem(file, line, "outcome", f"must be one of {', '.join(OUTCOMES)}, "
                                f"found '{row['outcome'].strip()}'"))
    actual = dates["actual_launch"]
    if outcome == "pending" and actual is not None:
        problems.append(Problem(file, line, "actual_launch", "must be empty for a pending "
                                f"mission, found '{row['actual_launch'].strip()}'"))
    if outcome in OUTCOMES and outcome != "pending" and actual is None and not row[
            "actual_launch"].strip():
        problems.append(Problem(file, line, "actual_launch", f"is required when the outcome is "
                                f"'{outcome}', found nothing"))
    if not row["mission"].strip():
        problems.append(Problem(file, line, "mission", "is required, found nothing"))
    as_of = dates["planned_launch_as_of"]
    planned = dates["planned_ref_date"] or dates["planned_launch"]
    if as_of is not None and actual is not None and actual < as_of:
        problems.append(Problem(file, line, "actual_launch", f"is before the plan was stated "
                                f"(planned_launch_as_of {as_of}), found {actual}"))
    if as_of is not None and planned is not None and planned <= as_of:
        column = "planned_ref_date" if dates["planned_ref_date"] else "planned_launch"
        problems.append(Problem(file, line, column, f"must be after the plan was stated "
                                f"(planned_launch_as_of {as_of}), found {planned}"))
    if len(problems) > before:
        return None
    if as_of is None or planned is None:
        return "no planned date" if planned is None else "date the plan was stated not known"
    return Snapshot(row["mission"].strip(), row["agency"].strip(), group_of(row["country"]),
                    as_of, planned, actual, line, row["planned_launch_as_of"].strip(),
                    row["planned_launch"].strip())
