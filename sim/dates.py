"""Scenario dates: full and partial calendar dates as written in YAML.

A partial date means the middle of its period, so an announcement such as "in 2029" is neither
optimistic nor pessimistic by construction: ``YYYY-MM`` is the 15th and ``YYYY`` is 1 July.
"""

from __future__ import annotations

import re
from datetime import date, datetime

_FULL = re.compile(r"(\d{4})-(\d{2})-(\d{2})\Z")
_MONTH = re.compile(r"(\d{4})-(\d{2})\Z")
_YEAR = re.compile(r"(\d{4})\Z")

MID_MONTH_DAY = 15
MID_YEAR = (7, 1)

EXPECTED = "a date (YYYY-MM-DD, YYYY-MM or YYYY)"


def parse_date(value: object) -> date:
    """The date that `value` (a ``date``, an ISO string or a bare year) stands for.

    Raises ``ValueError`` with a message fit for a user, showing what was found.
    """
    if isinstance(value, datetime):  # a datetime is a date subclass: test it first
        raise ValueError(f"must be {EXPECTED} without a time of day, got {value.isoformat()}")
    if isinstance(value, date):
        return value
    # YAML reads an unquoted `2029` as an integer.
    if isinstance(value, int) and not isinstance(value, bool) and 1000 <= value <= 9999:
        return date(value, *MID_YEAR)
    if isinstance(value, str):
        return _parse_text(value.strip())
    raise ValueError(f"must be {EXPECTED}, got {_show(value)}")


def _parse_text(text: str) -> date:
    try:
        if m := _FULL.match(text):
            return date(int(m[1]), int(m[2]), int(m[3]))
        if m := _MONTH.match(text):
            return date(int(m[1]), int(m[2]), MID_MONTH_DAY)
        if m := _YEAR.match(text):
            return date(int(m[1]), *MID_YEAR)
    except ValueError:  # month 13, 30 February, year 0000
        raise ValueError(f"is not a valid calendar date, got '{text}'") from None
    raise ValueError(f"must be {EXPECTED}, got '{text}'")


def _show(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value)
