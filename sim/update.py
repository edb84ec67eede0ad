"""`ilrs update`: a batch of news over a scenario gives a new scenario that extends it.

The events file is the body of the new scenario without ``extends``: a new ``as_of``, any new
``sources``, and the ``news`` list (each event dated, reported, sourced, marked, with the
changes it makes; :mod:`sim.news`). The update adds ``extends:`` (the parent, relative to the
new file), checks the whole, and writes it only when it validates. Since it is a variant of its
parent, every element the news does not touch keeps its random draws (streams are keyed by
element id, :mod:`sim.sampling`): the change in the answer is the news's and the time's.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from .model import Scenario
from .output import check_output_file, missing_parents
from .scenario import load_scenario
from .yamlio import Problem, ScenarioError, read_text


def update_text(parent: str | os.PathLike[str], events_text: str,
                out: str | os.PathLike[str]) -> str:
    """The new scenario's text: a header, `extends` (relative to `out`), the events file."""
    rel = os.path.relpath(os.path.abspath(parent), os.path.dirname(os.path.abspath(out)))
    return (f"# An update of {Path(parent).name}, written by ilrs update: the news since its "
            f"as_of.\nextends: {rel}\n" + events_text)


def write_update(parent: str | os.PathLike[str], events: str | os.PathLike[str],
                 out: str | os.PathLike[str], force: bool = False) -> Scenario:
    """Apply the events file `events` over the scenario `parent`; write `out` and return the
    new scenario. Bad input raises ScenarioError with each problem located in the events
    file (or the parent); nothing is written then."""
    out = Path(out)
    check_output_file(out, force)
    problems: list[Problem] = []
    text = read_text(str(events), problems)
    if text is None:
        raise ScenarioError(problems)
    for n, line in enumerate(text.splitlines(), start=1):
        if line.startswith("extends:"):
            raise ScenarioError([Problem(str(events), n, "extends", "an events file names no "
                                         "parent: the update adds extends itself")])
    # Checked as written next to `out` (so `extends` resolves the same), with `extends` last
    # so that the events file's line numbers are the ones reported.
    with missing_parents(out):
        rel = os.path.relpath(os.path.abspath(parent), os.path.abspath(out.parent))
        fd, tmp = tempfile.mkstemp(prefix=".update-", suffix=".yaml", dir=out.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(text.rstrip("\n") + f"\nextends: {rel}\n")
            try:
                load_scenario(tmp)
            except ScenarioError as err:
                raise ScenarioError([
                    Problem(str(events) if p.file == tmp else p.file, p.line, p.path, p.message)
                    for p in err.problems]) from None
            final = update_text(parent, text, out)
            with open(tmp, "w", encoding="utf-8") as fh:
                fh.write(final)
            os.replace(tmp, out)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    return load_scenario(out)
