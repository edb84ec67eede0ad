"""Engine time <-> calendar: the one place that turns days since as_of into dates.

Engine times are float days since the scenario's as_of at 00:00; a reported date is the
calendar day a time falls in (:func:`day_index`), and never is ``inf``. Stored dates must be
dates every reader understands, so the calendar has an end: a time past :data:`LAST_DATE`
counts as never (no scenario within the input limits reaches it but through absurd draws),
and never itself is stored as :data:`NEVER_DATE`, a date pandas, duckdb and Arrow all read
and that sorts after every real date.
"""

from __future__ import annotations

from datetime import date

import numpy as np

# The last day an engine time may fall in; later times are recorded as never.
LAST_DATE = date(9998, 12, 31)
# How trials.parquet and to_frame() write "never": after every date the engine can produce.
NEVER_DATE = date(9999, 12, 31)


def day_index(days: np.ndarray) -> np.ndarray:
    """The calendar day (days since as_of) in which each time falls; never stays inf."""
    whole: np.ndarray = np.floor(days)
    return whole


def last_day(as_of: date) -> int:
    """The day index of LAST_DATE for a scenario starting at `as_of`."""
    return (LAST_DATE - as_of).days


def clip_to_calendar(as_of: date, days: np.ndarray) -> np.ndarray:
    """`days` with every time past the end of the calendar (LAST_DATE) made never (inf)."""
    beyond = day_index(days) > last_day(as_of)
    if not beyond.any():
        return days
    out = days.copy()
    out[beyond] = np.inf
    return out


def date_values(as_of: date, days: np.ndarray) -> np.ndarray:
    """datetime64[s] midnights of the days the times fall in; NEVER_DATE where never."""
    whole = day_index(np.asarray(days, dtype=np.float64))
    never = ~np.isfinite(whole) | (whole > last_day(as_of))
    offsets = np.where(never, 0, whole).astype(np.int64).astype("timedelta64[D]")
    out: np.ndarray = (np.datetime64(as_of, "D") + offsets).astype("datetime64[s]")
    out[never] = np.datetime64(NEVER_DATE, "s")
    return out
