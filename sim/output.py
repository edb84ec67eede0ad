"""Writing output folders and files, all or nothing.

Every destination is checked before any simulation (so a typo costs nothing), and written
under a temporary name beside it that is renamed at the end: an interrupted or killed run
leaves either the complete result or nothing. Temporary names carry the writer's process id,
so a later run removes those whose writer is gone (a SIGKILL gives no chance to clean up).
Two runs writing the same folder at once never mix: the final rename refuses to replace a
folder that another run filled meanwhile, unless `force` is given, and then one complete
folder replaces the other. Files and folders get the permissions the user's umask allows.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .results import Results
from .timebase import NEVER_DATE, date_values

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["OutputExistsError", "atomic_folder", "check_output_dir", "check_output_file",
           "missing_parents", "trials_table", "write_results"]


class OutputExistsError(Exception):
    """A destination cannot be written: it exists (and overwriting was not asked for), or its
    folder cannot be made or written to."""


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _check_parent(path: Path) -> None:
    """The nearest existing ancestor of `path` must be a folder we may write to."""
    ancestor = path.absolute().parent
    while not ancestor.exists():
        if ancestor.is_symlink():  # a dangling link: mkdir would fail on it
            raise OutputExistsError(f"{path}: {ancestor} is a broken link")
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise OutputExistsError(f"{path}: cannot be made, {ancestor} is a file, not a folder")
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise OutputExistsError(f"{path}: cannot be written, no permission to write in {ancestor}")


def check_output_dir(out: Path, force: bool) -> None:
    """Fail before any work is done when the folder `out` would be refused at the end."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise OutputExistsError(f"{out}: exists and is not a folder")
    if out.is_dir() and any(out.iterdir()) and not force:
        raise OutputExistsError(
            f"{out}: folder exists and is not empty (use --force to replace it)")
    _check_parent(out)


def check_output_file(path: Path, force: bool) -> None:
    """Fail before any work is done when the file `path` would be refused at the end."""
    path = Path(path)
    if path.is_dir():
        raise OutputExistsError(f"{path}: is a folder, not a file")
    if path.exists() and not force:
        raise OutputExistsError(f"{path}: exists (use --force to replace it)")
    _check_parent(path)


@contextlib.contextmanager
def missing_parents(path: Path) -> Iterator[None]:
    """The folders missing above `path` made (like ``mkdir -p``) for the block, and removed
    again if it raises: a file refused after its folder was needed (to check a relative
    `extends` from there, say) leaves nothing behind."""
    path = Path(path).absolute()
    made = [p for p in (path.parent, *path.parent.parents) if not p.exists()]  # deepest first
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        yield
    except BaseException:
        for folder in made:
            with contextlib.suppress(OSError):
                folder.rmdir()
        raise


def _temp_prefix(out: Path) -> str:
    return f".{out.name}.tmp-"


# Temporary folders and files being written now, so that a signal handler can remove them.
_in_progress: set[Path] = set()


def remove_temporary() -> None:
    """Remove what is being written now (for a signal handler about to exit)."""
    for path in list(_in_progress):
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            with contextlib.suppress(OSError):
                path.unlink()


# Any temporary name this module makes: .<name>.tmp-<pid>-<suffix>.
_TEMP_NAME = re.compile(r"\..+\.tmp-(\d+)-")


def _sweep_stale(out: Path) -> None:
    """Remove temporary folders and files left beside `out` (for any destination in that
    folder) by writers that no longer run, e.g. runs killed while writing."""
    for entry in out.parent.iterdir():
        m = _TEMP_NAME.match(entry.name)
        if m is None or int(m[1]) == os.getpid():
            continue
        try:
            os.kill(int(m[1]), 0)
            continue  # its writer still runs
        except ProcessLookupError:
            pass
        except PermissionError:
            continue  # another user's live process
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            with contextlib.suppress(OSError):
                entry.unlink()


@contextlib.contextmanager
def atomic_folder(out: Path, force: bool = False) -> Iterator[Path]:
    """A temporary folder to fill; renamed to `out` when the block ends without error,
    removed otherwise."""
    out = Path(out)
    check_output_dir(out, force)
    parent = out.absolute().parent
    parent.mkdir(parents=True, exist_ok=True, mode=0o777)
    _sweep_stale(out)
    tmp = Path(tempfile.mkdtemp(prefix=f"{_temp_prefix(out)}{os.getpid()}-", dir=parent))
    _in_progress.add(tmp)
    try:
        os.chmod(tmp, 0o777 & ~_umask())  # mkdtemp makes it private (0700) whatever the umask
        yield tmp
        _commit(tmp, out, force)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    finally:
        _in_progress.discard(tmp)


def _commit(tmp: Path, out: Path, force: bool) -> None:
    """Rename `tmp` to `out`. rename() replaces only an empty folder, atomically, so a folder
    another run filled meanwhile is refused (or, with force, replaced whole)."""
    for _ in range(10):
        try:
            os.rename(tmp, out)
            return
        except OSError as exc:
            if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST):
                raise
            if not force:
                raise OutputExistsError(
                    f"{out}: another run wrote this folder meanwhile; nothing was written "
                    "(use --force to replace it)") from None
        old = out.with_name(f"{_temp_prefix(out)}{os.getpid()}-old")
        with contextlib.suppress(FileNotFoundError):
            os.rename(out, old)
        shutil.rmtree(old, ignore_errors=True)
    raise OutputExistsError(f"{out}: other runs keep writing this folder; nothing was written")


def write_file(path: Path, data: bytes, force: bool = False) -> None:
    """Write `data` to `path` whole or not at all."""
    path = Path(path)
    check_output_file(path, force)
    path.absolute().parent.mkdir(parents=True, exist_ok=True)
    _sweep_stale(path)
    tmp = path.with_name(f"{_temp_prefix(path)}{os.getpid()}-file")
    _in_progress.add(tmp)
    try:
        tmp.write_bytes(data)  # open() applies the umask
        if not force and path.exists():
            raise OutputExistsError(f"{path}: another run wrote this file meanwhile; "
                                    "nothing was written (use --force to replace it)")
        tmp.replace(path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    finally:
        _in_progress.discard(tmp)


def _timestamps(results: Results, days: np.ndarray) -> pa.Array:
    """Engine times as timestamps (seconds) at the start of their calendar day; never is
    NEVER_DATE, which sorts after every date, so medians and shares computed from the file
    count a trial that never finishes as later than any date, as summary.json does."""
    import pyarrow as pa  # loaded only when a results folder is written

    values = date_values(results.scenario.as_of, days)
    return pa.array(values, type=pa.timestamp("s"))


def trials_table(results: Results) -> pa.Table:
    """One row per trial: trial, goal date, each activity's finish date by id, and per activity
    `attempts.<id>` and `start.<id>` (ids cannot contain '.', so these never clash)."""
    import pyarrow as pa

    columns: dict[str, pa.Array] = {
        "trial": pa.array(np.arange(results.trials, dtype=np.int32)),
        "goal": _timestamps(results, results.goal_days),
    }
    for j, act in enumerate(results.scenario.activities):
        columns[act.id] = _timestamps(results, results.finish_days[:, j])
    for j, act in enumerate(results.scenario.activities):
        columns[f"attempts.{act.id}"] = pa.array(results.attempts[:, j])
        columns[f"start.{act.id}"] = _timestamps(results, results.start_days[:, j].astype(float))
    metadata = {b"never": NEVER_DATE.isoformat().encode()}
    return pa.table(columns).replace_schema_metadata(metadata)


def write_results(results: Results, scenario_yaml: str, out: Path, force: bool = False) -> None:
    """Write summary.json, trials.parquet and scenario.yaml into `out`, all or nothing."""
    with atomic_folder(Path(out), force) as tmp:
        (tmp / "scenario.yaml").write_text(scenario_yaml, encoding="utf-8")
        digest = hashlib.sha256(scenario_yaml.encode("utf-8")).hexdigest()
        summary = results.summary(scenario_sha256=digest)
        (tmp / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
        import pyarrow.parquet as pq

        pq.write_table(trials_table(results), tmp / "trials.parquet")
