"""The stated limits on input: what a scenario file and a run may ask for.

Each limit is far beyond any real programme and exists so that a hostile or mistaken input is
refused with a clear message instead of exhausting time or memory, recursing too deep, or
producing a time that is no longer a calendar date. The README's "Limits" table lists them.
"""

from __future__ import annotations

from datetime import date

MAX_FILE_BYTES = 10 * 2**20  # one scenario file (the ILRS baseline is about 30 KB)
MAX_DEPTH = 50  # nesting of mappings and lists, aliases expanded (a scenario uses about 8)
MAX_VALUES = 500_000  # values in one file, aliases expanded ("billion laughs")
MAX_EXTENDS = 20  # length of an `extends` chain
MAX_ELEMENTS = 10_000  # activities, vehicles, risks, factors or sources, each
MAX_ATTEMPTS = 100  # on_failure.attempts
MAX_MAGNITUDE = 1e6  # any number of time units (a duration, slip, lag, window period...)
MIN_WINDOW_DAYS = 0.01  # a window period of at least a hundredth of a day (15 minutes)
MAX_SLIP_SCALE = 100.0  # a calibrated slip's `scale:` multiplier
MAX_LOGNORMAL_RATIO = 1e3  # lognormal p90 / median: a spread beyond any schedule estimate
FIRST_DATE = date(1900, 1, 1)  # dates a scenario may state
LAST_INPUT_DATE = date(2999, 12, 31)
