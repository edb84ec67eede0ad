"""Runs that are killed or interrupted, and output destinations: no partial or stale folder,
no orphaned worker, one line saying what was written, destinations checked before simulating,
two runs on one folder never mixed, the umask honoured, a closed pipe ends quietly."""

from __future__ import annotations

import importlib
import json
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sim import cli, load_scenario, montecarlo, run
from sim.calibration import commands as calibration_commands
from sim.output import OutputExistsError, atomic_folder, write_results

ROOT = Path(__file__).resolve().parent.parent
BASELINE = str(ROOT / "scenarios" / "ilrs_baseline.yaml")
QUICKSTART = str(ROOT / "scenarios" / "examples" / "quickstart.yaml")
CSV = str(ROOT / "data" / "reference_class.csv")
RULES = str(ROOT / "scenarios" / "slip_rules.yaml")


def _children(pid: int) -> list[int]:
    kids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                kids.append(int(entry.name))
    return kids


def _alive(pid: int) -> bool:
    """Running (a zombie waiting to be reaped has stopped)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _start_long_run(tmp_path: Path) -> tuple[subprocess.Popen[str], list[int]]:
    """A 2-worker run long enough to be killed in the middle (in a session of its own, so a
    signal can go to its whole process group), and its worker pids."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "sim", "run", BASELINE, "--trials", "300000", "--workers", "2",
         "--quiet", "--out", str(tmp_path / "out")],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        workers = [k for k in _children(proc.pid) if _alive(k)]
        if len(workers) >= 2:
            time.sleep(0.5)  # let them start on their blocks
            return proc, workers
        time.sleep(0.1)
    proc.kill()
    pytest.fail("the workers did not start")


def _wait_gone(pids: list[int], seconds: float = 10) -> list[int]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and any(_alive(p) for p in pids):
        time.sleep(0.1)
    return [p for p in pids if _alive(p)]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize("sig, status, word, group", [
    (signal.SIGTERM, 143, "terminated", False),  # kill, timeout
    (signal.SIGTERM, 143, "terminated", True),  # systemd, docker: every process of the group
    (signal.SIGINT, 130, "interrupted", True),  # Ctrl-C reaches the whole group
])
def test_a_stopped_run_says_so_and_leaves_nothing(tmp_path: Path, sig: int, status: int,
                                                  word: str, group: bool) -> None:
    proc, workers = _start_long_run(tmp_path)
    if group:
        os.killpg(proc.pid, sig)
    else:
        proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == status
    assert err.strip() == f"ilrs: {word}; nothing was written"
    assert _wait_gone(workers) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == []


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_workers_die_with_a_killed_run(tmp_path: Path) -> None:
    proc, workers = _start_long_run(tmp_path)
    proc.kill()
    proc.communicate(timeout=60)  # returns only once no worker holds stdout/stderr open
    assert _wait_gone(workers) == []
    assert not (tmp_path / "out").exists()


def test_stale_temporary_folders_are_swept(tmp_path: Path) -> None:
    """A run killed while writing leaves its temporary folder; the next run removes it."""
    results = run(load_scenario(QUICKSTART), trials=50, seed=1, workers=1)
    dead = _dead_pid()
    for name in ("out", "other"):
        stale = tmp_path / f".{name}.tmp-{dead}-abcd"
        stale.mkdir()
        (stale / "summary.json").write_text("{")
    live = tmp_path / f".busy.tmp-{os.getpid()}-abcd"  # a writer that still runs: kept
    live.mkdir()
    write_results(results, "x: 1\n", tmp_path / "out")
    assert sorted(p.name for p in tmp_path.iterdir()) == [live.name, "out"]


def _dead_pid() -> int:
    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid


def test_two_runs_on_one_folder_never_mix(tmp_path: Path) -> None:
    """Both checked an empty destination; the one that finishes second is refused, whole."""
    out = tmp_path / "out"
    results = run(load_scenario(QUICKSTART), trials=50, seed=1, workers=1)
    with pytest.raises(OutputExistsError, match="another run wrote this folder meanwhile"):
        with atomic_folder(out) as tmp:
            (tmp / "mine.txt").write_text("second")
            write_results(results, "x: 1\n", out)  # the other run, finishing first
    assert sorted(p.name for p in out.iterdir()) == [
        "scenario.yaml", "summary.json", "trials.parquet"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
    with atomic_folder(out, force=True) as tmp:  # with --force, one whole folder replaces it
        (tmp / "mine.txt").write_text("second")
    assert [p.name for p in out.iterdir()] == ["mine.txt"]


def test_results_folder_honours_the_umask(tmp_path: Path) -> None:
    results = run(load_scenario(QUICKSTART), trials=50, seed=1, workers=1)
    old = os.umask(0o022)
    try:
        write_results(results, "x: 1\n", tmp_path / "shared")
        os.umask(0o077)
        write_results(results, "x: 1\n", tmp_path / "private")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "shared").stat().st_mode) == 0o755
    assert stat.S_IMODE((tmp_path / "shared" / "summary.json").stat().st_mode) == 0o644
    assert stat.S_IMODE((tmp_path / "private").stat().st_mode) == 0o700


def writers(folder: str) -> list[list[str]]:
    """Every command that writes a file or folder, with its destination under `folder` (the
    inputs named relative: see `workdir`)."""
    return [
        ["run", QUICKSTART, "--out", f"{folder}/out"],
        ["run", QUICKSTART, "--plots", f"{folder}/plots"],
        ["run", QUICKSTART, "--xlsx", f"{folder}/s.xlsx"],
        ["compare", QUICKSTART, "--out", f"{folder}/cmp"],
        ["drivers", QUICKSTART, "--out", f"{folder}/drv"],
        ["report", QUICKSTART, "-o", f"{folder}/r.html"],
        ["history", QUICKSTART, "--out", f"{folder}/his"],
        ["update", QUICKSTART, "events.yaml", "-o", f"{folder}/u.yaml"],
        ["backtest", "twenty.csv", "--rules", RULES, "--out", f"{folder}/bt"],
        ["calibrate", "twenty.csv", "-o", f"{folder}/rules.yaml"],
    ]


SIMULATING = ("run", "compare", "drivers", "report", "history")
INPUTS = ["events.yaml", "twenty.csv"]


@pytest.fixture()
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The current folder, holding the inputs `writers` name."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "events.yaml").write_text("as_of: 2026-06-01\n")  # a new data date, no news
    (tmp_path / "twenty.csv").write_text("".join(Path(CSV).read_text().splitlines(True)[:20]))
    return tmp_path


@pytest.mark.parametrize("command", [*writers("afile"), ["run", QUICKSTART, "--out", "afile"]],
                         ids=lambda c: f"{c[0]} {c[-2]} {c[-1]}")
def test_destinations_are_checked_before_simulating(workdir: Path, command: list[str],
                                                    capsys: pytest.CaptureFixture[str],
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    (workdir / "afile").write_text("a file, not a folder")

    def no_simulation(*args: object, **kwargs: object) -> None:
        raise AssertionError("simulated before checking the destination")

    # Every module that binds `run` at import, patched where it is looked up. A module a
    # command imports only when it runs (sim.drivers) would otherwise bind the patch for good
    # and break later tests.
    binding = ("montecarlo", "cli", "commands", "drivers", "history", "analysis", "explore",
               "whatif")
    for module in binding:  # all imported first, so that none binds the patch
        importlib.import_module(f"sim.{module}")
    for module in binding:
        monkeypatch.setattr(f"sim.{module}.run", no_simulation)
    for name in ("choose_model", "predict", "lomo"):  # the work of calibrate and backtest
        monkeypatch.setattr(calibration_commands, name, no_simulation)
    trials = ["--trials", "10"] if command[0] in SIMULATING else []
    assert cli.main([*command, *trials]) == 2
    err = capsys.readouterr().err
    assert err.startswith("ilrs: afile") and "Traceback" not in err
    assert sorted(p.name for p in workdir.iterdir()) == ["afile", *INPUTS]


# calibrate takes seconds: its folder is made in tests/test_calibration_cli.py (and explore's
# in tests/test_explore.py).
@pytest.mark.parametrize("command", writers("new/deeper")[:-1],
                         ids=lambda c: f"{c[0]} {c[-2]}")
def test_every_destination_gets_its_missing_folders(workdir: Path, command: list[str]) -> None:
    """Like mkdir -p, as the README says."""
    quick = ["--trials", "10", "--workers", "1", "--seed", "1"] if command[0] in SIMULATING else []
    assert cli.main([*command, *quick]) == 0
    assert (workdir / command[-1]).exists()


def test_a_closed_pipe_ends_quietly(tmp_path: Path) -> None:
    done = subprocess.run(
        f"{sys.executable} -m sim run {QUICKSTART} --trials 2000 --seed 1 --workers 1 "
        "| head -c 10 >/dev/null; echo ${PIPESTATUS[0]} >&2",
        shell=True, executable="/bin/bash", capture_output=True, text=True, cwd=tmp_path)
    assert done.stderr.strip() in ("0", "141"), done.stderr  # 0 if it wrote before head left


def test_broken_pipe_while_printing_is_quiet(monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    def closed(*args: object, **kwargs: object) -> None:
        raise BrokenPipeError

    monkeypatch.setattr("sim.cli.format_report", closed)
    monkeypatch.setattr(os, "dup2", lambda *a: None)  # keep pytest's own stdout
    assert cli.main(["run", QUICKSTART, "--trials", "10", "--workers", "1"]) == 141
    assert capsys.readouterr().err == ""


def test_precision_cap_says_so_and_exits_3(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(montecarlo, "MAX_TRIALS", 2000)
    out = tmp_path / "out"
    status = cli.main(["run", QUICKSTART, "--precision", "0.001", "--seed", "1",
                       "--workers", "1", "--out", str(out)])
    printed = capsys.readouterr()
    assert status == cli.EXIT_IMPRECISE
    assert "Precision       NOT reached" in printed.out
    assert "precision not reached" in printed.err and "2,000 trials" in printed.err
    precision = json.loads((out / "summary.json").read_text())["goal"]["precision"]
    assert precision["requested"] == 0.001 and precision["reached"] is False
    assert precision["half_width"] > 0.001


def test_too_many_trials_are_refused_before_any_work(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["run", QUICKSTART, "--trials", "10000000000"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("ilrs: trials must be at most 100,000,000")


@pytest.mark.parametrize("command", ["compare", "drivers", "report"])
def test_every_simulating_command_takes_quiet(command: str) -> None:
    parser = cli.build_parser()
    extra = ["-o", "r.html"] if command == "report" else []
    assert parser.parse_args([command, QUICKSTART, "--quiet", *extra]).quiet
