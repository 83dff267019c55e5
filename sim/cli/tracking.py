"""`caseflow track`: follow a plan through the year, restarting its forecast from the actuals.

The simulation, fitting and report code is imported inside the command, so registering it with
the command line costs nothing until it runs.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from sim.cli.common import (
    QUIET_HELP,
    VERBOSE_HELP,
    Language,
    Talk,
    checked_workers,
    console,
    fail,
    load_or_exit,
    progress_bar,
    say,
)

if TYPE_CHECKING:
    import pandas as pd

DEFAULT_TRACK_RUNS = 50
"""Replications of each earlier month's forecast (sim.fitting.track.DEFAULT_TRACK_RUNS, kept here
so that `--help` loads no numerical library)."""



def track_command(
    scenario_file: Path = typer.Argument(..., metavar="SCENARIO", help="Scenario YAML file (the plan)."),
    actuals: Path = typer.Option(..., "--actuals", help="The months observed so far: an observed CSV "
                                 "(period, state, measure, value, source, and optionally basis: "
                                 "jobindsats or payment), e.g. one `caseflow import jobindsats` wrote."),
    snapshot: Path | None = typer.Option(None, "--snapshot", help="Elapsed durations of the stock on the "
                                         "restart day: a CSV of state, from_week, to_week, persons (persons "
                                         "by weeks in the state) or of state, entry (one row per person, "
                                         "the day the spell began). Default: implied by the model."),
    through: str | None = typer.Option(None, "--through", help="The last actual month to use, YYYY-MM "
                                       "(default: the last month of the actuals); the forecast starts "
                                       "the month after."),
    runs: int = typer.Option(100, "--runs", "-n", min=1, help="Replications of the forecast."),
    track_runs: int = typer.Option(
        DEFAULT_TRACK_RUNS, "--track-runs", min=0,
        help="Replications of each earlier forecast in track.csv: the scenario's own, and the restart "
             "from every earlier month of the year so far (0: none; track.csv then has this forecast "
             "alone)."),
    seed: int | None = typer.Option(None, "--seed", "-s", min=0,
                                    help="Batch seed of every forecast (default: the scenario's, else a "
                                         "fresh one)."),
    workers: int | None = typer.Option(None, "--workers", "-w", min=1,
                                       help="Local worker processes (default: all cores)."),
    out: Path | None = typer.Option(None, "--out", "-o",
                                    help="Run folder (default: outputs/<scenario>-track-<timestamp>/)."),
    lang: Language = typer.Option(Language.da, "--lang", "-l",
                                  help="Language of report.xlsx and report.html (the CSVs are the same)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help=QUIET_HELP),
    verbose: bool = typer.Option(False, "--verbose", "-v", help=VERBOSE_HELP),
) -> None:
    """Restart the forecast from the actuals so far and update every target's probability.

    The simulation restarts on the first day of the month after --through from the observed
    stock of each benefit state (the month's full-time persons, carried to the month's end along
    the model's own path), with the elapsed durations of --snapshot or, without one, those the
    model implies for that stock and its recent inflows, and with the recent leavers who may
    return; it then forecasts the rest of the horizon. A year's figures join its actual months to
    each replication's forecast months, so a target over a year that has begun is decided by
    what has happened and what is left: full-year persons on the Jobindsats basis as given, on
    the payment basis from the actuals' payment rows (else the Jobindsats figures times the
    model's paid share), a month already observed by its actual; targets the actuals cannot
    measure (co-financing, costs, durations, meetings) are not tracked once their period has
    begun.

    Writes a run folder like `caseflow run`: monthly.csv, flows.csv and the features' tables from
    the first forecast month, monthly_observed.csv (the actual months, sd 0), and over the whole
    horizon yearly.csv, targets.csv (with a status per target: forecast, combined, observed or
    not_tracked) and replications.csv. And track.csv: each target's probability with
    its error as forecast by the scenario itself and from each month of the year so far
    (--track-runs each; the last row is this forecast). Also restart.csv (the stock per state and
    where it came from), restart.yaml (the restarted scenario), actuals.csv and the reports,
    which show the path. Cost: --runs + --track-runs × (1 + the earlier months of the year)
    replications, each forecast with its own support pilot.

    --actuals may also be a run folder's monthly.csv: its monthly means (and payment-basis means)
    as the actuals, to see how a year that went exactly as forecast is tracked.

    Example:  caseflow track scenarios/taarnby-2018.yaml --actuals actuals.csv --through 2018-06

    Example:  caseflow track scenarios/taarnby-2018.yaml --actuals outputs/plan/monthly.csv
    --through 2018-06 --runs 200 --seed 2

    Example:  caseflow track SCENARIO --actuals actuals.csv --snapshot stock.csv --track-runs 0
    """
    workers = checked_workers(workers)
    scenario = load_or_exit(scenario_file)
    from sim import __version__
    from sim.batch.runfolder import STORE, RunFolderError, new_run_folder, release_run_folder
    from sim.contract.errors import ScenarioError
    from sim.fitting.actuals import ActualsError, read_actuals
    from sim.fitting.elapsed import SnapshotError
    from sim.fitting.observations import ObservedDataError
    from sim.fitting.track import check_actuals, track, track_cost
    from sim.fitting.trackfolder import write_track
    from sim.reports.build import write_reports
    from sim.reports.console import print_summary
    from sim.reports.rundata import load_run
    from sim.reports.track import print_track

    try:
        observed = read_actuals(actuals)
    except ObservedDataError as exc:
        raise fail(str(exc)) from None
    try:
        stock = _read_snapshot(snapshot) if snapshot is not None else None
        restarted = check_actuals(scenario, observed, through, stock)
        total = track_cost(scenario, observed, restarted.through, runs, track_runs)
    except ActualsError as exc:
        raise fail(f"{actuals}: {exc}") from None
    except ObservedDataError as exc:
        raise fail(str(exc)) from None
    except SnapshotError as exc:
        raise fail(f"{snapshot}: {exc}") from None
    except ScenarioError as exc:
        problems = "\n".join(str(p) for p in exc.problems)
        raise fail(f"the restarted scenario is not valid:\n{problems}") from None
    try:
        folder = new_run_folder(f"{scenario.name} track", out)
    except RunFolderError as exc:
        raise fail(str(exc)) from None
    with progress_bar(f"{scenario.name} after {restarted.through}", total, folder,
                      talk=Talk(quiet, verbose)) as advance:
        tracked = track(scenario, observed, restarted.through, stock, runs=runs, seed=seed, workers=workers,
                        store_dir=folder / STORE, track_runs=track_runs, progress=advance)
    write_track(tracked, folder, __version__, " ".join(["caseflow", *sys.argv[1:]]), lang.value,
                track_runs, stock)
    release_run_folder(folder)
    write_reports(folder, lang.value)
    written = load_run(folder)
    print_summary(written, console)
    print_track(written, console)
    say(f"\nWrote {folder}/ (seed {written.facts['seed']}; actuals through {restarted.through})")


def _read_snapshot(path: Path) -> pd.DataFrame:
    """The snapshot CSV as a DataFrame; SnapshotError when it cannot be read."""
    import pandas

    from sim.fitting.elapsed import SnapshotError

    try:
        return pandas.read_csv(path, dtype=str, keep_default_na=False)
    except FileNotFoundError:
        raise SnapshotError("no such file; give a snapshot CSV") from None
    except (pandas.errors.ParserError, UnicodeDecodeError, pandas.errors.EmptyDataError) as exc:
        raise SnapshotError(f"not a readable CSV ({exc})") from None
