"""Dates as announcements state them: "2026 (H2)", "late 2019", "~2018-2019", "before 2012-04".

One convention for the reference-class CSV and for a scenario's period-valued `planned`, so a
rule fitted on slips measured from these reference dates is applied from the same reference
dates. A period stands for a single reference date near its middle, as the reference class
dates it (its `planned_ref_date` column was filled with this rule):

====================  ===============================  =====================================
written               meaning                          reference date
====================  ===============================  =====================================
``2029``              the year                         1 July
``2029-03``           the month                        the 15th
``2029-03-10``        the day                          that day
``2026 (H1)``         first half (also ``2026-H1``)    1 April
``2026 (H2)``         second half (also ``2026-H2``)   1 October
``2023 (Q1)``         a quarter (also ``2023-Q1``)     the 15th of its middle month
``early 2027``        (also ``2027 (early)``)          15 February
``mid 2022``          (also ``2022 (mid)``)            15 June
``late 2019``         (also ``2019 (late)``)           15 November
``2033-2035``         a range of any of the above      the middle of the whole span
====================  ===============================  =====================================

Qualifiers on the date a plan was stated: ``~X`` (approximately X) reads as X; ``before X``
(stated no later than X) reads as X, which understates the lead a little. Both are flagged so
the reader can count them. ``unknown`` or an empty cell means not stated.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

_DAY = r"\d{4}-\d{2}-\d{2}"
_MONTH = r"\d{4}-\d{2}"
_YEAR = r"\d{4}"
_HALF = r"(\d{4})(?:-| \()(H[12]|Q[1-4]|early|mid|late)\)?"
_WORD = r"(early|mid|late) (\d{4})"
_ONE = rf"(?:{_DAY}|{_MONTH}|{_HALF}|{_WORD}|{_YEAR})"
_RANGE = re.compile(rf"({_ONE})\s*(?:-|\.\.|to)\s*({_ONE})\Z")

# Reference (month, day) of the named parts of a year, as the reference class dates them.
_PARTS = {"H1": (4, 1), "H2": (10, 1), "Q1": (2, 15), "Q2": (5, 15), "Q3": (8, 15),
          "Q4": (11, 15), "early": (2, 15), "mid": (6, 15), "late": (11, 15)}
# The span of each part, for ranges (first month, last month).
_SPANS = {"H1": (1, 6), "H2": (7, 12), "Q1": (1, 3), "Q2": (4, 6), "Q3": (7, 9),
          "Q4": (10, 12), "early": (1, 4), "mid": (5, 8), "late": (9, 12)}

EXPECTED = ("a date such as 2029, 2029-03, 2029-03-10, '2026 (H2)', '2023 (Q1)', 'late 2019' or "
            "a range '2033-2035', optionally after '~' or 'before'")


@dataclass(frozen=True)
class StatedDate:
    """A date as written, read with the conventions above."""

    text: str
    reference: date
    start: date  # first day of the period
    end: date  # last day of the period
    approximate: bool = False  # written with '~'
    upper_bound: bool = False  # written 'before X'


def _month_end(year: int, month: int) -> date:
    nxt = date(year + (month == 12), month % 12 + 1, 1)
    return nxt - timedelta(days=1)


def _single(text: str) -> tuple[date, date, date]:
    """(reference, start, end) of one period; raises ValueError."""
    if re.fullmatch(_DAY, text):
        d = date.fromisoformat(text)
        return d, d, d
    if re.fullmatch(_MONTH, text):
        y, m = int(text[:4]), int(text[5:])
        return date(y, m, 15), date(y, m, 1), _month_end(y, m)
    if m_ := re.fullmatch(_HALF, text):
        return _part(int(m_[1]), m_[2])
    if m_ := re.fullmatch(_WORD, text):
        return _part(int(m_[2]), m_[1])
    if re.fullmatch(_YEAR, text):
        y = int(text)
        return date(y, 7, 1), date(y, 1, 1), date(y, 12, 31)
    raise ValueError(text)


def _part(year: int, part: str) -> tuple[date, date, date]:
    first, last = _SPANS[part]
    return date(year, *_PARTS[part]), date(year, first, 1), _month_end(year, last)


def parse_stated(text: str) -> StatedDate | None:
    """The date `text` stands for; None when it says the date is not known.

    Raises ``ValueError`` with a message fit for a user when it cannot be read.
    """
    raw = text.strip()
    if raw.lower() in ("", "unknown", "n/a", "?"):
        return None
    body, approximate, upper = raw, False, False
    if body.startswith("~"):
        body, approximate = body[1:].strip(), True
    if body.lower().startswith("before "):
        body, upper = body[7:].strip(), True
    try:
        if m := _RANGE.match(body):
            _, start, _ = _single(m[1])
            _, _, end = _single(_range_end(body, m))
            if end < start:
                raise ValueError(f"a range must run forward in time, got '{raw}'")
            middle = start + (end - start) / 2
            return StatedDate(raw, middle, start, end, approximate, upper)
        ref, start, end = _single(body)
    except ValueError as exc:
        if str(exc).startswith("a range"):
            raise
        raise ValueError(f"cannot read the date: expected {EXPECTED}, found '{raw}'") from None
    return StatedDate(raw, ref, start, end, approximate, upper)


def _range_end(body: str, m: re.Match[str]) -> str:
    """The text of a range's second end (the regex groups of _ONE are nested, so use spans)."""
    second = body[m.end(1):].lstrip()
    for sep in ("-", "..", "to"):
        if second.startswith(sep):
            return second[len(sep):].strip()
    return second


def months_between(earlier: date, later: date) -> float:
    """(later - earlier) in months of 365.25/12 days, the simulator's month."""
    return (later - earlier).days / (365.25 / 12)
