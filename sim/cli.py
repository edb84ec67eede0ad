"""The `ilrs` command: a thin layer over the library.

Exit status: 0 on success; 2 on bad input (scenario, options or destinations, found before
any simulation); 3 when ``--precision`` stopped at its trial cap short of the precision asked
(the results are written and printed all the same); 130 after Ctrl-C and 143 after SIGTERM,
with one line saying what was written; 141 when the reader of stdout went away (``| head``).
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import signal
import sys
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

from . import __version__, montecarlo
from .calibration.parsers import add_parsers as calibration_parsers
from .engine import DEFAULT_ENGINE, ENGINES
from .montecarlo import TooManyTrialsError, run
from .output import (
    OutputExistsError,
    atomic_folder,
    check_output_dir,
    check_output_file,
    write_results,
)
from .results import PERCENTILES, Results, check_percentiles
from .scenario import ScenarioError, load_scenario, resolved_yaml

EXIT_BAD_INPUT = 2
WORKERS_HELP = "default: the CPUs available, or only this process for a short run"
EXIT_IMPRECISE = 3
EXIT_INTERRUPTED = 130
EXIT_TERMINATED = 143
EXIT_BROKEN_PIPE = 141

# What a command has finished writing, so an interrupted one can say what is there.
written: list[str] = []


@contextmanager
def _signals_stop_the_run() -> Iterator[None]:
    """SIGTERM and SIGINT stop the command at once: workers killed, temporary output removed,
    one line saying what was written, exit 128 + the signal's number.

    Done in the handler and ended with os._exit rather than by raising an exception through
    whatever was running: an exception raised inside the process pool's or a lock's
    bookkeeping can leave a lock held and the exit blocked for ever.
    """

    def stop(signum: int, frame: FrameType | None) -> None:
        from .execution import kill_workers
        from .output import remove_temporary

        kill_workers()
        remove_temporary()
        word = "interrupted" if signum == signal.SIGINT else "terminated"
        with contextlib.suppress(Exception):
            sys.stdout.flush()  # what was printed so far still reaches the reader
        with contextlib.suppress(Exception):
            print(f"ilrs: {word}; {_what_was_written()}", file=sys.stderr, flush=True)
        os._exit(128 + signum)

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _whole_number(minimum: int) -> Callable[[str], int]:
    """An argparse type: a whole number >= minimum, with a message saying what was wrong."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {value}")
        return value

    return parse


_positive_int = _whole_number(1)
_seed = _whole_number(0)


def _half_width(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not 0 < value < 0.5:
        raise argparse.ArgumentTypeError(f"must be between 0 and 0.5, got {value}")
    return value


def _percentiles(text: str) -> tuple[int, ...]:
    """An argparse type: comma-separated whole percents, e.g. 10,50,70,80,90."""
    try:
        return check_percentiles(int(part) for part in text.split(","))
    except ValueError as exc:
        if "invalid literal" in str(exc):
            exc = ValueError(f"expected whole numbers separated by commas, got {text!r}")
        raise argparse.ArgumentTypeError(str(exc)) from None


def _add_percentiles(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--percentiles", type=_percentiles, default=PERCENTILES, metavar="LIST",
                        help="goal-date percentiles to report, comma-separated (default "
                             + ",".join(map(str, PERCENTILES)) + ")")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ilrs", description="Schedule-risk Monte Carlo for lunar programmes."
    )
    parser.add_argument("--version", action="version", version=f"ilrs-sim {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p_run = commands.add_parser("run", help="simulate a scenario and print the answer")
    p_run.add_argument("scenario", help="scenario YAML file")
    p_run.add_argument("--trials", type=_positive_int, default=10_000, help="default 10000")
    p_run.add_argument("--seed", type=_seed, help="default: a fresh seed, printed")
    p_run.add_argument("--workers", type=_positive_int, help=WORKERS_HELP)
    _engine_option(p_run)
    p_run.add_argument("--out", type=Path, help="write summary.json, trials.parquet, scenario.yaml")
    p_run.add_argument("--force", action="store_true", help="replace a non-empty --out folder")
    p_run.add_argument("--quiet", action="store_true", help="no progress bar")
    p_run.add_argument("--precision", type=_half_width, metavar="HALF_WIDTH",
                       help="add trials until the 95%% CI of P(by deadline) is within "
                            "+/- HALF_WIDTH (e.g. 0.005), up to 1,000,000 trials; exit "
                            "status 3 if the cap is reached first")

    p_run.add_argument("--plots", type=Path, metavar="DIR",
                       help="write the standard figures (PNG and SVG) into DIR")
    _add_percentiles(p_run)
    p_run.add_argument("--xlsx", type=Path, metavar="FILE",
                       help="write a workbook: summary, per-mission table, sources")
    p_run.add_argument("--json", action="store_true",
                       help="print the summary as JSON on stdout (and nothing else there)")
    cluster = p_run.add_mutually_exclusive_group()
    cluster.add_argument("--dask", type=_positive_int, nargs="?", const=2, metavar="WORKERS",
                         help="run the blocks on a new local Dask cluster (default 2 workers)")
    cluster.add_argument("--scheduler", metavar="ADDRESS",
                         help="run the blocks on a running Dask scheduler (tcp://host:8786)")

    p_app = commands.add_parser("app", help="the what-if page in the browser (this machine only)")
    p_app.add_argument("scenario", nargs="?", type=Path,
                       help="scenario YAML file (default scenarios/ilrs_baseline.yaml); the "
                            "scenarios beside it can be picked on the page")
    p_app.add_argument("--port", type=_seed, default=5006, help="default 5006; 0: a free port")
    p_app.add_argument("--trials", type=_positive_int, default=2000,
                       help="trials per answer (default 2000)")
    p_app.add_argument("--seed", type=_seed, default=20260413, help="default 20260413")
    p_app.add_argument("--address", default="127.0.0.1",
                       help="address to listen on (default 127.0.0.1: this machine only)")
    declared = p_app.add_mutually_exclusive_group()
    declared.add_argument("--parameters", type=Path, metavar="FILE",
                          help="the controls are the uncertain parameters this file declares "
                               "(default for scenarios/ilrs_baseline.yaml: "
                               "parameters/ilrs_judgements.yaml)")
    declared.add_argument("--no-parameters", action="store_true",
                          help="the fallback controls (dates, success, reliability, at_least, "
                               "risks) even where a parameters file is the default")
    _engine_option(p_app)

    commands.add_parser("schema", help="print the JSON Schema of the scenario format (for editors)")

    p_val = commands.add_parser("validate", help="check scenario files and print ok or the errors")
    p_val.add_argument("scenarios", nargs="+", help="scenario YAML files")

    p_upd = commands.add_parser("update", help="apply a batch of news to a scenario: a new "
                                "scenario that extends it")
    p_upd.add_argument("scenario", help="the scenario the news updates")
    p_upd.add_argument("events", help="the events file: as_of, sources, news")
    p_upd.add_argument("-o", "--output", type=Path, required=True, help="the scenario to write")
    p_upd.add_argument("--force", action="store_true", help="replace an existing file")

    p_his = commands.add_parser("history", help="how the forecast moved between data dates, "
                                "and why (same seed)")
    p_his.add_argument("scenarios", nargs="+", help="the forecast at each data date")
    _simulation_options(p_his)
    p_his.add_argument("--out", type=Path, help="write history.csv, attribution.csv and "
                       "history.png")

    p_cmp = commands.add_parser("compare", help="several scenarios with the same seed")
    p_cmp.add_argument("scenarios", nargs="+", help="scenario YAML files")
    _simulation_options(p_cmp)
    p_cmp.add_argument("--out", type=Path, help="write comparison.csv and the S-curves")
    _add_percentiles(p_cmp)

    p_drv = commands.add_parser("drivers", help="risk drivers: switch each uncertainty off in turn")
    p_drv.add_argument("scenario", help="scenario YAML file")
    _simulation_options(p_drv)
    p_drv.add_argument("--out", type=Path, help="write drivers.csv and the tornado chart")

    p_rep = commands.add_parser("report", help="a self-contained HTML report")
    p_rep.add_argument("scenario", help="scenario YAML file")
    _simulation_options(p_rep)
    p_rep.add_argument("-o", "--output", type=Path, required=True, help="the HTML file to write")
    p_rep.add_argument("--variants", nargs="+", default=[], metavar="YAML",
                       help="scenarios to compare with it in the report")
    p_rep.add_argument("--history", nargs="+", default=[], metavar="YAML",
                       help="earlier forecasts of it (older data dates): a section on how the "
                       "forecast moved")
    _add_percentiles(p_rep)
    calibration_parsers(commands)
    p_rep.add_argument("--explore", type=Path, metavar="DIR",
                       help="add a section from an `ilrs explore` output folder")

    from .explore_cli import add_parser as add_explore

    add_explore(commands, _positive_int, _seed)
    return parser


def _simulation_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--trials", type=_positive_int, default=10_000, help="default 10000")
    parser.add_argument("--seed", type=_seed, help="default: a fresh seed, printed")
    parser.add_argument("--workers", type=_positive_int, help=WORKERS_HELP)
    parser.add_argument("--force", action="store_true", help="replace existing output")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    _engine_option(parser)


def _engine_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--engine", choices=ENGINES, default=DEFAULT_ENGINE,
                        help=f"fast (compiled) or des (SimPy, the reference); default "
                             f"{DEFAULT_ENGINE}; both give the same trials")


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    written.clear()
    try:
        with _signals_stop_the_run():
            return _dispatch(args)
    except ScenarioError as err:
        print(err, file=sys.stderr)
        return EXIT_BAD_INPUT
    except (OutputExistsError, TooManyTrialsError) as err:
        print(f"ilrs: {err}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print(f"ilrs: interrupted; {_what_was_written()}", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenProcessPool:  # a worker was killed from outside (the OOM killer, say)
        print(f"ilrs: a worker process died; {_what_was_written()}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        # The reader of stdout is gone (`ilrs run ... | head -1`): stop quietly. Python would
        # report the error again when it flushes stdout at exit, so point stdout at nothing.
        with contextlib.suppress(OSError, ValueError):  # stdout may be no file at all
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_BROKEN_PIPE


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "validate":
        return _validate(args.scenarios)
    if args.command in ("calibrate", "backtest"):
        from .calibration.commands import run_command

        return run_command(args)
    if args.command == "app":
        return _app(args)
    if args.command == "update":
        from .update import write_update

        write_update(args.scenario, args.events, args.output, force=args.force)
        print(f"wrote {args.output}")
        return 0
    if args.command == "schema":
        from .schema import schema_text

        sys.stdout.write(schema_text())
        return 0
    if args.command == "run":
        return _run(args)
    from . import commands  # analysis and plotting load pandas and matplotlib: only here
    from .explore_cli import UsageError, explore_command, report_usage_error

    handler = {"compare": commands.compare, "history": commands.history_cmd,
               "drivers": commands.drivers, "report": commands.report,
               "explore": explore_command}[args.command]
    try:
        return handler(args)
    except UsageError as err:
        return report_usage_error(err)


def _what_was_written() -> str:
    return "nothing was written" if not written else f"only {', '.join(written)} was written"


def progress_wanted(args: argparse.Namespace) -> bool:
    """A progress bar unless --quiet, and only where someone watches (stderr a terminal)."""
    return not args.quiet and sys.stderr.isatty()


def _app(args: argparse.Namespace) -> int:
    from .app import default_scenario, serve

    scenario = args.scenario or default_scenario()
    if scenario is None:
        print("ilrs app: no scenario given and no scenarios/ilrs_baseline.yaml here",
              file=sys.stderr)
        return EXIT_BAD_INPUT
    from .whatif import parameter_space

    parameters = False if args.no_parameters else (args.parameters or True)
    # Bad input (the scenario or its parameters file): reported, exit 2, before anything starts.
    parameter_space(load_scenario(scenario), parameters)
    serve(scenario, port=args.port, trials=args.trials, seed=args.seed, address=args.address,
          announce=lambda line: print(line, flush=True), engine=args.engine,
          parameters=parameters)
    return 0


def _validate(paths: list[str]) -> int:
    from .calibration.usage import looks_like_rules, scenario_warnings

    failed = False
    for path in paths:
        try:
            if looks_like_rules(path):
                from .calibration.rules import read_rules

                read_rules(path)
                print(f"{path}: ok (slip rules)")
                continue
            scenario = load_scenario(path)
        except ScenarioError as err:
            print(err, file=sys.stderr)
            failed = True
        else:
            warnings = scenario_warnings(scenario)
            for warning in warnings:
                print(warning)
            print(f"{path}: ok" + (f" ({len(warnings)} warnings)" if warnings else ""))
    return EXIT_BAD_INPUT if failed else 0


def _run(args: argparse.Namespace) -> int:
    scenario = load_scenario(args.scenario)
    for folder in (args.out, args.plots):
        if folder is not None:
            check_output_dir(folder, args.force)
    if args.out is not None and args.plots is not None and (
            args.out.absolute() == args.plots.absolute()):
        raise OutputExistsError(f"{args.out}: --out and --plots must be different folders")
    if args.xlsx is not None:
        check_output_file(args.xlsx, args.force)
    progress = progress_wanted(args)
    if args.dask is None and args.scheduler is None:
        results = run(scenario, trials=args.trials, seed=args.seed, workers=args.workers,
                      progress=progress, precision=args.precision, engine=args.engine,
                      max_trials=montecarlo.MAX_TRIALS)
    else:
        from .execution_dask import dask_executor

        with dask_executor(args.scheduler, args.dask or 2) as executor:
            results = run(scenario, trials=args.trials, seed=args.seed, progress=progress,
                          precision=args.precision, engine=args.engine, executor=executor,
                          max_trials=montecarlo.MAX_TRIALS)
    results = results.with_percentiles(args.percentiles)
    scenario_yaml = resolved_yaml(scenario)
    if args.out is not None:
        write_results(results, scenario_yaml, args.out, force=args.force)
        written.append(f"{args.out}/")
    if args.xlsx is not None:
        from .spreadsheet import write_workbook

        write_workbook(results, args.xlsx, scenario_yaml, force=args.force)
        written.append(str(args.xlsx))
    # With --json, stdout carries the summary alone; what a person reads goes to stderr.
    say = sys.stderr if args.json else sys.stdout
    if args.json:
        digest = hashlib.sha256(scenario_yaml.encode("utf-8")).hexdigest()
        print(json.dumps(results.summary(scenario_sha256=digest), indent=2))
    else:
        print(format_report(results, args.scenario))
    if args.plots is not None:
        from .plotting import save_standard_figures

        with atomic_folder(args.plots, args.force) as tmp:
            paths = save_standard_figures(results, tmp)
        written.append(f"{args.plots}/")
        print(f"Figures         {args.plots}/ ({len(paths)} files: PNG and SVG)", file=say)
    if args.out is not None:
        print(f"Results         {args.out}/ (summary.json, trials.parquet, scenario.yaml)",
              file=say)
    if args.xlsx is not None:
        print(f"Workbook        {args.xlsx} (Summary, Missions, Sources)", file=say)
    if results.precision_reached is False:
        print(f"ilrs: precision not reached: the 95% interval is +/-{results.half_width:.4f}, "
              f"not within +/-{args.precision:g}, at the cap of {results.trials:,} trials",
              file=sys.stderr)
        return EXIT_IMPRECISE
    return 0


def format_report(results: Results, path: str) -> str:
    """The few lines `ilrs run` prints."""
    s, goal = results.scenario, results.scenario.goal
    lo, hi = results.ci95
    pct = "  ".join(f"{k.upper()} {v.isoformat() if v else 'never'}"
                    for k, v in results.percentiles.items())
    workers = f"{results.workers} worker" + ("" if results.workers == 1 else "s")
    lines = [
        f"Scenario        {s.title} ({path}; data as of {s.as_of.isoformat()})",
        f"Trials          {results.trials:,}, seed {results.seed}, {workers}, "
        f"{results.elapsed_s:.1f} s",
        f"Goal            {goal.name}, by {goal.deadline.isoformat()}",
        f"P(by deadline)  {results.probability:.1%}  (95% CI {lo:.1%} to {hi:.1%})",
        f"Goal date       {pct}",
    ]
    if results.precision_reached is False:
        lines.append(f"Precision       NOT reached: +/-{results.half_width:.2%} at the cap of "
                     f"{results.trials:,} trials (asked +/-{results.precision:.2%})")
    if results.p_never > 0:
        lines.append(f"Never met       in {results.p_never:.1%} of trials "
                     "(too few of the required parts ever finish)")
    return "\n".join(lines)
