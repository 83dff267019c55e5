"""The `caseflow` command: validate scenarios and run Monte Carlo forecasts.

Only typer, rich and the scenario contract load with the command line: each verb imports the
simulation, fitting and reports it needs, so `--help`, `--version` and `validate` start fast.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from sim.cli.common import (
    QUIET_HELP,
    VERBOSE_HELP,
    Language,
    Talk,
    checked_workers,
    console,
    progress_bar,
    say,
    starting,
    tell,
    writing,
)
from sim.cli.common import load_or_exit as _load_or_exit
from sim.cli.fitting import backtest_command, calibrate_command
from sim.cli.importing import import_app
from sim.cli.interrupts import loaded
from sim.cli.serve import serve_command
from sim.cli.studies import goal_seek_command, sensitivity_command
from sim.cli.tracking import track_command

if TYPE_CHECKING:
    from sim.batch.executors import Executor
    from sim.contract.schema import Scenario

DEFAULT_ASSUMPTION_RUNS = 50
"""Replications of the assumption check at each end (sim.batch.assumptions.DEFAULT_RUNS, kept
here so that `--help` loads no numerical library)."""
MAX_RUNS = 100_000
"""The most replications a batch may ask for: a probability's standard error is then at most
0.0016, far finer than any plan's target; Tårnby's 100,000 take about four hours on 2 cores, and
the replication seeds alone 45 MB (a million would take two days and 450 MB before the first)."""

app = typer.Typer(
    help="caseflow: simulate a Danish jobcentre's caseload, forecast it and test its targets.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


app.command(name="calibrate")(calibrate_command)
app.command(name="backtest")(backtest_command)
app.command(name="track")(track_command)
app.command(name="sensitivity")(sensitivity_command)
app.command(name="goal-seek")(goal_seek_command)
app.command(name="serve")(serve_command)
app.add_typer(import_app, name="import")


def _show_version(value: bool) -> None:
    """Print `caseflow <version>` and stop, before any command is looked for."""
    if value:
        from sim import __version__

        say(f"caseflow {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: bool = typer.Option(False, "--version", callback=_show_version, is_eager=True,
                                 help="Print the version and exit."),
) -> None:
    """caseflow: simulate a Danish jobcentre's caseload, forecast it and test its targets."""


@app.command()
def validate(
    files: list[Path] = typer.Argument(..., help="Scenario YAML files to check."),
) -> None:
    """Check scenario files and print OK or every problem found; exit 1 on any problem.

    Example:  caseflow validate scenarios/taarnby-2018.yaml
    """
    failed = False
    with starting():
        for file in files:
            try:
                _load_or_exit(file)
            except typer.Exit:
                failed = True
            else:
                console.print(f"{file}: OK", markup=False, highlight=False, soft_wrap=True)
    if failed:
        raise typer.Exit(code=1)


def _refuse(exc: Exception | str) -> typer.Exit:
    """Print the reason a verb refuses (one line) and return the exit 1 to raise."""
    tell(f"error: {exc}")
    return typer.Exit(code=1)


def _executor(workers: int | None, scheduler: str | None, cluster: str | None) -> Executor | None:
    """The executor --scheduler or --cluster asks for (None: local processes, --workers)."""
    given = [name for name, value in (("--workers", workers), ("--scheduler", scheduler),
                                      ("--cluster", cluster)) if value is not None]
    if len(given) > 1:
        raise typer.BadParameter(f"give one of {' and '.join(given)}: each says where the replications run",
                                 param_hint=f"'{given[1]}'")
    if cluster is not None:
        kind, _, count = cluster.partition(":")
        most = 4 * (os.cpu_count() or 1)
        if kind != "local" or not count.isdigit() or not 1 <= int(count) <= most:
            raise typer.BadParameter(f"{cluster!r} is not local:N with N from 1 to {most} "
                                     "(a LocalCluster of N worker processes), e.g. local:2",
                                     param_hint="'--cluster'")
        from sim.batch.executors import Dask

        return Dask(local=int(count))
    if scheduler is not None:
        from sim.batch.executors import Dask

        return Dask(address=scheduler)
    return None


SCHEDULER_HELP = ("Run the replications on the dask.distributed cluster whose scheduler is at this address "
                  "(tcp://host:8786); the numbers are those of --workers 1.")
CLUSTER_HELP = "Run the replications on a Dask LocalCluster of N worker processes: local:N."
SET_HELP = ("Set one value of the scenario by its key path, after its file (and an overlay's bases) are "
            "read: a route by its destination, a band by its index, an entry by its name, e.g. "
            "transitions.a_dagpenge.job.rate_per_week.1=0.02; the value is read as YAML (a number, text, a "
            "date, true/false). Repeatable.")


def _settings(given: list[str] | None) -> list[tuple[str, object]]:
    """--set PATH=VALUE options as (path, value), or click's usage error naming the option."""
    from sim.contract.overlay import parse_setting

    out = []
    for text in given or []:
        try:
            out.append(parse_setting(text))
        except ValueError as exc:
            raise typer.BadParameter(str(exc), param_hint="'--set'") from None
    return out


def _load_set(path: Path, settings: list[tuple[str, object]]) -> Scenario:
    """A scenario file with --set applied, or every problem printed and exit 1."""
    if not settings:
        return _load_or_exit(path)
    from sim.contract.errors import ScenarioError
    from sim.contract.loader import load_scenario
    from sim.contract.yamlio import check_file

    try:
        check_file(path)
        return load_scenario(path, settings=settings)
    except ScenarioError as exc:
        for problem in exc.problems:
            tell(str(problem))
        raise typer.Exit(code=1) from None


@app.command()
def run(
    scenario_file: Path | None = typer.Argument(None, metavar="SCENARIO",
                                                help="Scenario YAML file (not with --resume)."),
    runs: int | None = typer.Option(None, "--runs", "-n", min=1, max=MAX_RUNS,
                                    help="Monte Carlo replications [default: 100]."),
    seed: int | None = typer.Option(None, "--seed", "-s", min=0,
                                    help="Batch seed (default: the scenario's, else a fresh one)."),
    workers: int | None = typer.Option(None, "--workers", "-w", min=1,
                                       help="Local worker processes (default: all cores)."),
    scheduler: str | None = typer.Option(None, "--scheduler", metavar="ADDRESS", help=SCHEDULER_HELP),
    cluster: str | None = typer.Option(None, "--cluster", metavar="local:N", help=CLUSTER_HELP),
    out: Path | None = typer.Option(None, "--out", "-o",
                                    help="Run folder (default: outputs/<scenario>-<timestamp>/)."),
    resume: Path | None = typer.Option(None, "--resume", metavar="RUN_DIR",
                                       help="Complete the stopped run in RUN_DIR (its scenario, seed and "
                                            "runs): only the replications it did not finish are run."),
    lang: Language | None = typer.Option(None, "--lang", "-l",
                                         help="Language of report.xlsx and report.html (the CSVs are the "
                                              "same) [default: da]."),
    assumption_runs: int | None = typer.Option(
        None, "--assumption-runs", min=1, max=MAX_RUNS,
        help="Replications of the assumption check at each end of each assumed value: the first "
             f"min(this, --runs) [default: {DEFAULT_ASSUMPTION_RUNS}]. It costs 2 × (assumed values) × that "
             "many more replications (none for an assumed observed figure, which moves thresholds only)."),
    no_assumption_check: bool = typer.Option(
        False, "--no-assumption-check",
        help="Skip the assumption check: no assumptions.csv, and set_by_assumption stays empty."),
    settings: list[str] | None = typer.Option(None, "--set", metavar="PATH=VALUE", help=SET_HELP),
    quiet: bool = typer.Option(False, "--quiet", "-q", help=QUIET_HELP),
    verbose: bool = typer.Option(False, "--verbose", "-v", help=VERBOSE_HELP),
) -> None:
    """Forecast a scenario by Monte Carlo and write the run folder.

    Writes monthly.csv, yearly.csv, targets.csv, flows.csv, replications.csv, the resolved
    scenario.yaml (with its seed) and run.json, then report.xlsx, report.html and charts/*.png
    built from them, and run.log. Results are the same for any --workers, --cluster or
    --scheduler.

    When the scenario names assumptions (values the plans do not give, each with a low–high
    range), every target's probability is also found at the low and the high end of each, one at
    a time, on the batch's first --assumption-runs replications (the same random numbers):
    assumptions.csv, and targets.csv's set_by_assumption names each value whose range moves a
    probability across 0.5 (or from below 0.1 to above 0.9). With 2 assumed values and the
    default 50, that is 200 more replications: with many assumptions the check takes longer
    than the forecast, and --no-assumption-check skips it.

    A run stopped by Ctrl-C, SIGTERM or a kill keeps the replications it finished (running.json
    marks the folder incomplete); --resume completes it to the files an unstopped run writes.

    A scenario file may be an overlay: `extends: <base file>` and only what differs (see the
    README, "Variants as overlays"); --set PATH=VALUE changes one more value. The folder's
    scenario.yaml is the resolved scenario, every value written out.

    Example:  caseflow run scenarios/taarnby-2018.yaml --runs 200 --seed 1

    Example:  caseflow run scenarios/taarnby-2018.yaml --runs 500 --assumption-runs 100

    Example:  caseflow run scenarios/taarnby-2018.yaml --runs 50 --no-assumption-check

    Example:  caseflow run --resume outputs/taarnby-2018-20250101-120000

    Example:  caseflow run scenarios/taarnby-2018.yaml --runs 1000 --cluster local:2

    Example:  caseflow run scenarios/taarnby-2018-jobsoegning-x3.yaml --runs 200

    Example:  caseflow run scenarios/taarnby-2018.yaml --runs 200 --set inflow_per_week.sygedagpenge.rate=38
    """
    workers = checked_workers(workers)
    executor = _executor(workers, scheduler, cluster)
    talk = Talk(quiet, verbose)
    if resume is not None:
        given = [name for name, value in (("SCENARIO", scenario_file), ("--runs", runs), ("--seed", seed),
                                          ("--out", out), ("--lang", lang),
                                          ("--assumption-runs", assumption_runs), ("--set", settings or None))
                 if value is not None] + (["--no-assumption-check"] if no_assumption_check else [])
        if given:
            raise typer.BadParameter(f"--resume completes a run as it was started: it takes no {given[0]}",
                                     param_hint="'--resume'")
        _resume(resume, workers, executor, talk)
        return
    if scenario_file is None:
        raise typer.BadParameter("missing: give a scenario file, or --resume RUN_DIR",
                                 param_hint="'SCENARIO'")
    runs = 100 if runs is None else runs
    language = (lang or Language.da).value
    with starting() as undo:
        changes = _settings(settings)  # loads the contract (and numpy): an interrupt waits for it
        scenario = _load_set(scenario_file, changes)  # before the heavy imports: a bad file fails at once
        from sim import __version__
        from sim.batch.run import fresh_seed
        from sim.batch.runfolder import (
            RunFolderError,
            check_room,
            discard_run_folder,
            is_folder,
            new_run_folder,
            replication_bytes,
            start_facts,
            write_scenario,
        )

        if seed is None:
            seed = scenario.seed if scenario.seed is not None else fresh_seed()
        checked = 0 if no_assumption_check else (assumption_runs or DEFAULT_ASSUMPTION_RUNS)
        command = " ".join(["caseflow", *sys.argv[1:]])
        facts = start_facts(scenario, seed, runs, __version__, command, language, checked)
        existed = is_folder(out)
        try:
            check_room(replication_bytes(scenario), runs, out)
            folder = new_run_folder(scenario.name, out, facts=facts)
        except RunFolderError as exc:
            raise _refuse(exc) from None
        undo.append(lambda: discard_run_folder(folder, keep=existed))
        write_scenario(folder, scenario, seed, runs, __version__)
    _batch(scenario, folder, runs, seed, checked, language, workers, executor, talk,
           discard=lambda: discard_run_folder(folder, keep=existed), label=scenario_file)


def _resume(folder: Path, workers: int | None, executor: Executor | None, talk: Talk) -> None:
    """Complete the stopped run in `folder` as it was started."""
    with starting():
        from sim import __version__
        from sim.batch.runfolder import RunFolderError, reclaim_stopped

        try:
            stopped = reclaim_stopped(folder, __version__)
        except RunFolderError as exc:
            raise _refuse(exc) from None
    _batch(stopped.scenario, folder, stopped.runs, stopped.seed, stopped.assumption_runs, stopped.lang,
           workers, executor, talk, discard=None, label=folder, resume=True)


def _batch(scenario: Scenario, folder: Path, runs: int, seed: int, checked: int, lang: str,
           workers: int | None, executor: Executor | None, talk: Talk, discard: Callable[[], None] | None,
           label: Path, resume: bool = False) -> None:
    """Run (or complete) the batch in `folder`, write its files and reports, say what it found."""
    with starting() as undo:  # the numerical libraries load here: an interrupt waits for them
        if discard is not None:
            undo.append(discard)
        from sim import __version__
        from sim.batch.assumptions import check_cost
        from sim.batch.run import run as sim_run
        from sim.batch.runfolder import STORE, release_run_folder, write_run
        from sim.batch.store import StoreMismatch
        from sim.kernel.engine import EventBudgetExceeded
        from sim.reports.build import write_reports
        from sim.reports.console import print_summary
        from sim.reports.rundata import NotARunFolder, load_run

    def kept() -> str:
        return _kept(folder, runs)

    try:
        with progress_bar(scenario.name, runs + check_cost(scenario, runs, checked), folder,
                          discard=discard, kept=kept, talk=talk) as advance:
            result = sim_run(scenario, runs=runs, seed=seed, workers=workers, store_dir=folder / STORE,
                             progress=advance, assumption_runs=checked, executor=executor, resume=resume)
    except EventBudgetExceeded as exc:  # a scenario whose moves never end: say which, keep nothing
        if discard is not None:
            discard()
        raise _refuse(f"{label}: {exc}") from None
    except StoreMismatch as exc:
        raise _refuse(f"{exc}; start the run again in a new folder") from None
    try:
        with writing(folder):
            command = " ".join(["caseflow", *sys.argv[1:]])
            write_run(result, folder, __version__, command, lang=lang)
            release_run_folder(folder)  # its data is complete: the reports read it
            write_reports(folder, lang)
        written = load_run(folder)
    except NotARunFolder as exc:  # the folder as written does not read back: say so, in one line
        raise _refuse(exc) from None
    print_summary(written, console, lang)
    console.print(f"\nWrote {folder}/ (seed {written.facts['seed']})", markup=False, highlight=False)


def _kept(folder: Path, runs: int) -> str:
    """What an interrupted run's folder holds, marked in its running.json, and how to complete it."""
    from sim.batch.runfolder import STORE, mark
    from sim.batch.store import finished

    done = finished(folder / STORE)
    mark(folder, status="interrupted", finished=done)
    return (f"{done:,} of {runs:,} replications are kept in {folder}/; complete the run with: "
            f"caseflow run --resume {folder}")


@app.command()
def compare(
    base_file: Path = typer.Argument(..., metavar="BASE",
                                     help="The base scenario YAML file, or BASE_RUN_DIR: the folder of a "
                                          "finished `caseflow run` to reuse (only the variant runs)."),
    variant_file: Path = typer.Argument(..., metavar="VARIANT", help="The what-if scenario YAML file."),
    runs: int | None = typer.Option(None, "--runs", "-n", min=1, max=MAX_RUNS,
                                    help="Monte Carlo replications of each (default: 100; with BASE_RUN_DIR "
                                         "the run's, and no other)."),
    seed: int | None = typer.Option(None, "--seed", "-s", min=0,
                                    help="Batch seed for both (default: the base's, else a fresh one; with "
                                         "BASE_RUN_DIR the run's, and no other)."),
    workers: int | None = typer.Option(None, "--workers", "-w", min=1,
                                       help="Local worker processes (default: all cores)."),
    scheduler: str | None = typer.Option(None, "--scheduler", metavar="ADDRESS", help=SCHEDULER_HELP),
    cluster: str | None = typer.Option(None, "--cluster", metavar="local:N", help=CLUSTER_HELP),
    out: Path | None = typer.Option(None, "--out", "-o",
                                    help="Folder (default: outputs/<base>-vs-<variant>-<timestamp>/)."),
    lang: Language = typer.Option(Language.da, "--lang", "-l", help="Language of the reports."),
    settings: list[str] | None = typer.Option(None, "--set", metavar="PATH=VALUE",
                                              help=SET_HELP.replace("the scenario", "the variant")),
    quiet: bool = typer.Option(False, "--quiet", "-q", help=QUIET_HELP),
    verbose: bool = typer.Option(False, "--verbose", "-v", help=VERBOSE_HELP),
) -> None:
    r"""Run two scenarios on common random numbers and show variant − base with its interval.

    Both run with one seed, so each replication pair differs only where the scenarios differ:
    the difference is far less noisy than either forecast. Writes base/ and variant/ (each a
    full run folder) and differences.csv (per target and state-year: means, the difference,
    its standard error and 95 % interval, and the spread of per-replication differences),
    then the comparison's report.xlsx, report.html and charts/*.png built from them. Two
    scenarios with no target and no state (in a full year) in common are refused.

    --set PATH=VALUE changes the variant after its file is read (repeatable): the variant may
    be the base's own file with one value changed.

    BASE_RUN_DIR, the folder of a finished `caseflow run`, in place of BASE reuses that run:
    its scenario.yaml (resolved, with its seed) and run.json give the base, the seed and the
    runs, and only the variant runs, with that seed and those runs (--runs and --seed, when
    given, must be the run's). It is refused when it is incomplete (running.json), its store/
    is missing, unfinished or of another shape, or another caseflow version made it. base/ is
    the one an ordinary compare writes: its store/ is copied from the run (not linked, so that
    the comparison stays whole when the run is moved or deleted, and rebuilding the
    comparison's reports never touches the run), and its tables are computed from that copy,
    with no replication run again.

    Example:  caseflow compare scenarios/taarnby-2018.yaml scenarios/taarnby-2018-jobsoegning-x3.yaml

    Example:  caseflow compare scenarios/taarnby-2018.yaml scenarios/taarnby-2018.yaml \
                --runs 200 --set inflow_per_week.sygedagpenge.rate=38

    Example:  caseflow compare outputs/taarnby-2018-20250101-120000 scenarios/taarnby-2018-jobsoegning-x3.yaml
    """
    workers = checked_workers(workers)
    executor = _executor(workers, scheduler, cluster)
    with starting() as undo:
        changes = _settings(settings)
        try:
            saved_dir = base_file if base_file.is_dir() else None
        except OSError:  # a name the system refuses: loading it as a file says why
            saved_dir = None
        base = _load_or_exit(base_file) if saved_dir is None else None
        variant = _load_set(variant_file, changes)
        from sim import __version__
        from sim.batch.compare import NotComparable, SavedBase, SavedBaseError, comparable, saved_base
        from sim.batch.compare import compare as sim_compare
        from sim.batch.runfolder import (
            STORE,
            RunFolderError,
            check_room,
            discard_run_folder,
            is_folder,
            new_run_folder,
            release_run_folder,
            replication_bytes,
            write_run,
        )
        from sim.contract.errors import ScenarioError
        from sim.reports.build import write_reports
        from sim.reports.comparedata import BASE, DIFFERENCES, VARIANT, load_comparison
        from sim.reports.comparison import write_comparison_report
        from sim.reports.console import print_differences
        from sim.reports.rundata import NotARunFolder

        saved: SavedBase | None = None
        if saved_dir is not None:
            try:
                saved = saved_base(saved_dir, __version__, runs, seed)
            except SavedBaseError as exc:
                raise _refuse(f"BASE_RUN_DIR {exc}") from None
            except ScenarioError as exc:
                for problem in exc.problems:
                    tell(str(problem))
                raise typer.Exit(code=1) from None
            base, runs = saved.scenario, saved.runs
        assert base is not None
        runs = 100 if runs is None else runs
        try:
            comparable(base, variant)
        except NotComparable as exc:
            raise _refuse(exc) from None
        existed = is_folder(out)
        try:
            check_room(replication_bytes(base) + replication_bytes(variant), runs, out)
            folder = new_run_folder(f"{base.name} vs {variant.name}", out)
        except RunFolderError as exc:
            raise _refuse(exc) from None

        def discard() -> None:
            for part in (BASE, VARIANT):
                discard_run_folder(folder / part, keep=False)
            discard_run_folder(folder, keep=existed)

        undo.append(discard)

    try:
        with progress_bar(f"{base.name} | {variant.name}", 2 * runs, folder, discard=discard,
                          talk=Talk(quiet, verbose)) as advance:
            result = sim_compare(saved or base, variant, runs=runs, seed=seed, workers=workers,
                                 store_dirs=(folder / BASE / STORE, folder / VARIANT / STORE),
                                 progress=advance, executor=executor)
    except SavedBaseError as exc:  # its arrays are not its scenario's: found as they are read
        discard()
        raise _refuse(f"BASE_RUN_DIR {exc}") from None
    command = " ".join(["caseflow", *sys.argv[1:]])
    try:
        with writing(folder):
            write_run(result.base, folder / BASE, __version__, command, lang=lang.value)
            write_run(result.variant, folder / VARIANT, __version__, command, lang=lang.value)
            result.differences.to_csv(folder / DIFFERENCES, index=False)
            release_run_folder(folder)
            for part in (BASE, VARIANT):
                write_reports(folder / part, lang.value)
            write_comparison_report(folder, lang.value)
        written = load_comparison(folder)
    except NotARunFolder as exc:
        raise _refuse(exc) from None
    print_differences(written, console, lang.value)
    console.print(f"\nWrote {folder}/ (seed {written.base.facts['seed']})", markup=False, highlight=False)


@app.command()
def report(
    run_dir: Path = typer.Argument(..., metavar="RUN_DIR",
                                   help="A folder written by `caseflow run` or `caseflow compare`."),
    lang: Language | None = typer.Option(None, "--lang", "-l",
                                         help="Report language (default: the run's, else da)."),
) -> None:
    """Rebuild report.xlsx, report.html and charts/*.png from a run folder's files alone.

    Nothing is simulated again: the reports are read from monthly.csv, yearly.csv, targets.csv,
    costs.csv (with economics), scenario.yaml and run.json, each checked first (its columns and
    numbers, a row for each month or year and state, probabilities in [0, 1]): a folder that
    fails is refused with the reason and no report is written. Given a folder `caseflow compare`
    wrote (differences.csv, base/ and variant/), it rebuilds both runs' reports and the
    comparison's.

    Example:  caseflow report outputs/taarnby-2018-20250101-120000 --lang en
    """
    with starting():
        from sim.reports.build import write_reports
        from sim.reports.comparedata import (
            BASE,
            VARIANT,
            comparison_language,
            is_comparison_folder,
            load_comparison,
        )
        from sim.reports.comparison import write_comparison_report
        from sim.reports.rundata import NotARunFolder, run_language

        try:
            comparison = is_comparison_folder(run_dir)
        except OSError as exc:
            raise _refuse(f"{run_dir} cannot be read: {exc.strerror or exc}") from None
    try:
        with writing(run_dir, "its reports may be incomplete; the run's own files are as they were"):
            if comparison:
                load_comparison(run_dir)  # both runs and the differences, before any report is written
                chosen = lang.value if lang is not None else comparison_language(run_dir)
                built = [write_reports(run_dir / BASE, chosen), write_reports(run_dir / VARIANT, chosen),
                         write_comparison_report(run_dir, chosen)]
            else:  # write_reports reads and checks the whole folder before it writes
                chosen = lang.value if lang is not None else run_language(run_dir)
                built = [write_reports(run_dir, chosen)]
    except NotARunFolder as exc:
        raise _refuse(exc) from None
    for reports in built:
        charts = reports.charts_dir or reports.workbook.parent / "charts"
        console.print(f"Wrote {reports.workbook}, {reports.html} and {len(reports.charts)} charts in "
                      f"{charts}/", markup=False, highlight=False, soft_wrap=True)


def _after_loading(verb: Callable[..., Any]) -> Callable[..., Any]:
    """The verb, begun by `interrupts.loaded`: a Ctrl-C pressed while the command line loaded
    ends the command here, with its one line."""

    @functools.wraps(verb)
    def begun(*args: Any, **kwargs: Any) -> Any:
        loaded()
        return verb(*args, **kwargs)

    return begun


def _verbs_begin_loaded(commands: typer.Typer) -> None:
    for info in commands.registered_commands:
        assert info.callback is not None
        info.callback = _after_loading(info.callback)
    for group in commands.registered_groups:
        assert group.typer_instance is not None
        _verbs_begin_loaded(group.typer_instance)


_verbs_begin_loaded(app)
