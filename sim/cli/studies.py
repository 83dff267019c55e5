"""`caseflow sensitivity` and `caseflow goal-seek`: what moves the targets, and what it would take.

The simulation and report code is imported inside the commands, so registering them with the
command line costs nothing until one runs.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from sim.cli.common import (
    QUIET_HELP,
    VERBOSE_HELP,
    Language,
    Talk,
    _clock,
    checked_workers,
    fail,
    load_or_exit,
    progress_bar,
    say,
    starting,
    writing,
)

if TYPE_CHECKING:
    import pandas as pd

    from sim.contract.schema import Scenario

DEFAULT_RUNS = 20
"""Replications at each point of a sensitivity study (sim.batch.sensitivity.DEFAULT_RUNS, kept
here so that `--help` loads no numerical library)."""
DEFAULT_SEEK_RUNS, DEFAULT_MAX_RUNS = 50, 800
"""A goal-seek's replications at a value to start with and at most (sim.batch.goalseek)."""
PILOT = 3
"""Replications timed before a study starts, for its cost."""
MAX_RUNS = 100_000
STUDY_FILE = "study.json"
"""How a study was made: its seed, points or bounds, runs, version and command."""



class Method(StrEnum):
    """Sensitivity methods: Sobol' indices or Morris screening."""

    sobol = "sobol"
    morris = "morris"


SCENARIO_ARGUMENT = typer.Argument(..., metavar="SCENARIO", help="Scenario YAML file.")
SEED_OPTION = typer.Option(None, "--seed", "-s", min=0,
                           help="Batch seed (default: the scenario's, else a fresh one).")
WORKERS_OPTION = typer.Option(None, "--workers", "-w", min=1,
                              help="Local worker processes (default: all cores).")
LANG_OPTION = typer.Option(Language.da, "--lang", "-l", help="Language of report.html.")
QUIET_OPTION = typer.Option(False, "--quiet", "-q", help=QUIET_HELP)
VERBOSE_OPTION = typer.Option(False, "--verbose", "-v", help=VERBOSE_HELP)
"""The options both studies take, defined once."""


def _out_option(verb: str) -> Any:
    """--out, its default folder named after the study."""
    return typer.Option(None, "--out", "-o",
                        help=f"Folder (default: outputs/<scenario>-{verb}-<timestamp>/).")


def _workers(workers: int | None) -> int:
    """--workers (default: all cores), refused beyond 4 processes a core (click's usage error)."""
    return checked_workers(workers) or os.cpu_count() or 1


def _pair(text: str, option: str) -> tuple[float, float]:
    """'LO,HI' as two numbers (click's usage error otherwise)."""
    parts = text.split(",")
    try:
        if len(parts) != 2:
            raise ValueError
        low, high = float(parts[0]), float(parts[1])
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not LO,HI (two numbers with a comma between)",
                                 param_hint=f"'{option}'") from None
    return low, high


def _ranges(given: list[str]) -> dict[str, tuple[float, float]]:
    """Each --parameter PATH=LO,HI (a path may hold spaces and commas: the last '=' ends it)."""
    out: dict[str, tuple[float, float]] = {}
    for item in given:
        path, equals, bounds = item.rpartition("=")
        if not equals or not path.strip():
            raise typer.BadParameter(f"{item!r} is not PATH=LO,HI, e.g. "
                                     "inflow_per_week.sygedagpenge.rate=36,44", param_hint="'--parameter'")
        if path.strip() in out:
            raise typer.BadParameter(f"{path.strip()} is given twice", param_hint="'--parameter'")
        out[path.strip()] = _pair(bounds, "--parameter")
    return out


def _cost(replications: int, seconds: float, workers: int, most: bool = False) -> str:
    """'6,400 replications of about 0.021 s each (timed on 3): about 1 min 07 s on 2 workers'."""
    cores = max(1, min(workers, os.cpu_count() or 1))
    first = "at most " if most else ""
    plural = "s" if cores > 1 else ""
    return (f"{first}{replications:,} replications of about {seconds:.3g} s each (timed on {PILOT}): "
            f"{first}about {_clock(replications * seconds / cores)} on {cores} worker{plural}")


def _claim(name: str, out: Path | None, undo: list[Callable[[], None]]) -> tuple[Path, Callable[[], None]]:
    """The study's new folder (refused like a run's), and how to remove it again."""
    from sim.batch.runfolder import RunFolderError, discard_run_folder, is_folder, new_run_folder

    existed = is_folder(out)
    try:
        folder = new_run_folder(name, out)
    except RunFolderError as exc:
        raise fail(str(exc)) from None

    def discard() -> None:
        discard_run_folder(folder, keep=existed)

    undo.append(discard)
    return folder, discard


def _nothing_kept(discard: Callable[[], None]) -> Callable[[], str]:
    def kept() -> str:
        discard()
        return "the study was stopped before it finished; nothing was written"
    return kept


def _write_common(folder: Path, scenario: Scenario, seed: int, facts: dict[str, Any]) -> None:
    """scenario.yaml (resolved, with the seed) and study.json (how the study was made)."""
    from sim import __version__
    from sim.batch.runfolder import resolved
    from sim.contract.yamlio import dump_yaml
    from sim.results.folder import SCENARIO_FILE

    header = (f"# Resolved scenario of a caseflow {__version__} study, seed {seed}.\n"
              f"# Repeat it: {facts['command']}\n")
    (folder / SCENARIO_FILE).write_text(header + dump_yaml(resolved(scenario, seed)), encoding="utf-8")
    (folder / STUDY_FILE).write_text(json.dumps(facts, indent=2, ensure_ascii=False) + "\n",
                                     encoding="utf-8")


def _write_study(folder: Path, scenario: Scenario, seed: int, facts: dict[str, Any],
                 tables: dict[str, pd.DataFrame], report: Callable[[], object]) -> None:
    """The study's tables (name → frame), scenario.yaml, study.json and its report; then the
    folder is complete."""
    from sim.batch.runfolder import release_run_folder

    with writing(folder):
        for name, frame in tables.items():
            frame.to_csv(folder / name, index=False)
        _write_common(folder, scenario, seed, facts)
        report()
        release_run_folder(folder)


def _facts(study: str, scenario: Scenario, seed: int, lang: str, **more: Any) -> dict[str, Any]:
    from sim import __version__

    return {"study": study, "name": scenario.name, "seed": seed, **more, "caseflow_version": __version__,
            "created": dt.datetime.now().isoformat(timespec="seconds"), "lang": lang,
            "command": " ".join(["caseflow", *sys.argv[1:]])}


def sensitivity_command(
    scenario_file: Path = SCENARIO_ARGUMENT,
    method: Method = typer.Option(Method.sobol, "--method", "-m",
                                  help="sobol: first- and total-order indices; morris: screening (μ*, σ)."),
    parameter: list[str] = typer.Option(
        [], "--parameter", "-p", metavar="PATH=LO,HI",
        help="A value to study and its range (repeat for more); default: the scenario's assumed values "
             "and its uncertain ones (± 2 sd)."),
    runs: int = typer.Option(DEFAULT_RUNS, "--runs", "-n", min=1, max=MAX_RUNS,
                             help="Replications at each point (the same seeds at every point)."),
    samples: int | None = typer.Option(None, "--samples", min=2, max=MAX_RUNS,
                                       help="Sobol's base sample N, N × (values + 2) points, a power of 2 "
                                            "[default: 64]; Morris's trajectories, N × (values + 1) points "
                                            "[default: 10]."),
    seed: int | None = SEED_OPTION,
    workers: int | None = WORKERS_OPTION,
    out: Path | None = _out_option("sensitivity"),
    lang: Language = LANG_OPTION,
    quiet: bool = QUIET_OPTION,
    verbose: bool = VERBOSE_OPTION,
) -> None:
    """Measure how much each assumed or uncertain value moves every target (SALib).

    The values studied are the scenario's assumptions (each over its low–high range) and its
    uncertain values (uncertainty.parameters, each over ± 2 sd), or those --parameter names.
    SALib lays out the points (Sobol': N × (values + 2); Morris: N × (values + 1)); every point
    runs the same --runs replications of the seed, so points differ only through their values.
    Per target it gives, for its probability (the share of a point's runs meeting it) and for its
    metric's mean, Sobol's first- and total-order indices (S1, ST) with 95 % intervals, or
    Morris's μ*, its interval and σ. The cost (points × runs × seconds a run, timed on a pilot)
    is printed before the study starts.

    Writes sensitivity.csv (target, output, parameter, method, S1, S1_conf, ST, ST_conf, mu_star,
    mu_star_conf, sigma), factors.csv (each value's range), points.csv (each point's values and
    outcomes), charts/tornado.png, report.html, scenario.yaml and study.json.

    Example:  caseflow sensitivity scenarios/taarnby-2018.yaml --runs 20 --samples 64 --seed 1

    Example:  caseflow sensitivity scenarios/taarnby-2018.yaml --method morris --samples 10 --runs 20

    Example:  caseflow sensitivity scenarios/taarnby-2018.yaml
    --parameter inflow_per_week.sygedagpenge.rate=36,44
    --parameter inflow_per_week.a_dagpenge.rate=20,30 --runs 50 --samples 32
    """
    count = _workers(workers)
    talk = Talk(quiet, verbose)
    with starting() as undo:
        scenario = load_or_exit(scenario_file)
        given = _ranges(parameter)
        from sim.batch.points import StudyError
        from sim.batch.sensitivity import plan_sensitivity, run_sensitivity
        from sim.reports.language import check_lang
        from sim.reports.studies import sensitivity_lines, write_sensitivity_report

        try:
            plan = plan_sensitivity(scenario, method.value, given or None, runs, samples, seed)
        except StudyError as exc:
            raise fail(f"{scenario_file}: {exc}") from None
        folder, discard = _claim(f"{scenario.name} sensitivity", out, undo)
        seconds = plan.seconds_per_run(PILOT)
    if not quiet:
        say(f"Sensitivity ({method.value}) of {len(plan.factors)} values: {len(plan.points):,} points × "
            f"{runs} runs = {_cost(plan.replications, seconds, count)}")
    with progress_bar(f"{scenario.name}: sensitivity", plan.replications, folder, discard=discard,
                      kept=_nothing_kept(discard), talk=talk) as advance:
        result = run_sensitivity(plan, count, progress=advance)
    facts = _facts("sensitivity", scenario, plan.seed, lang.value, method=plan.method, samples=plan.samples,
                   points=len(plan.points), runs=runs, replications=plan.replications)
    _write_study(folder, scenario, plan.seed, facts,
                 {"sensitivity.csv": result.indices, "factors.csv": result.factors,
                  "points.csv": result.points},
                 lambda: write_sensitivity_report(folder, result.indices, result.factors, facts, lang.value))
    for line in sensitivity_lines(result.indices, check_lang(lang.value)):
        say(line)
    say(f"\nWrote {folder}/ (seed {plan.seed})")


def goal_seek_command(
    scenario_file: Path = SCENARIO_ARGUMENT,
    target: str = typer.Option(..., "--target", "-t", help="The target's name, as in the scenario."),
    lever: str = typer.Option(..., "--lever", metavar="PATH",
                              help="The value to move, by its path: interventions.NAME.places, "
                                   "caseworkers.TEAM.headcount, inflow_per_week.STATE.rate, …"),
    probability: float = typer.Option(0.8, "--probability", "-p", min=0.0, max=1.0,
                                      help="The probability of meeting the target to reach."),
    bounds: str | None = typer.Option(None, "--bounds", metavar="LO,HI",
                                      help="Where to search (default: the lever's assumed range, else ± 2 sd "
                                           "of an uncertain one, else half to twice its value)."),
    integer: bool = typer.Option(False, "--integer",
                                 help="Whole numbers only (automatic where the scenario allows no other, "
                                      "such as programme places)."),
    runs: int = typer.Option(DEFAULT_SEEK_RUNS, "--runs", "-n", min=1, max=MAX_RUNS,
                             help="Replications at each value to start with (doubled while undecided)."),
    max_runs: int = typer.Option(DEFAULT_MAX_RUNS, "--max-runs", min=1, max=MAX_RUNS,
                                 help="The most replications at one value."),
    tolerance: float | None = typer.Option(None, "--tolerance", min=0.0,
                                           help="Stop when the interval is this narrow (default: 1 % of the "
                                                "bounds' span; 1 for whole numbers)."),
    seed: int | None = SEED_OPTION,
    workers: int | None = WORKERS_OPTION,
    out: Path | None = _out_option("goal-seek"),
    lang: Language = LANG_OPTION,
    quiet: bool = QUIET_OPTION,
    verbose: bool = VERBOSE_OPTION,
) -> None:
    """Find the least change of one value for which a target's probability reaches --probability.

    The probability at the two bounds says which way the lever helps; the answer is the value
    nearest the other bound that still reaches the goal (the fewest places, the largest inflow).
    The search halves the interval, every value on the same replications of the seed: a value is
    judged above or below the goal when its share of runs meeting the target differs from it by
    more than z binomial standard errors (z shared among the looks, so each end of the interval is
    wrong with at most 2.5 %), and its runs are doubled while it is undecided, up to --max-runs.
    It says plainly when no value within the bounds reaches the goal.

    Writes goal-seek.csv (target, lever, wanted, direction, status, value, low, high, probability,
    probability_se, runs, …), goal-seek-steps.csv (each verdict), charts/goal-seek.png,
    report.html, scenario.yaml and study.json.

    Example:  caseflow goal-seek scenarios/taarnby-2018.yaml
    --target "Sygedagpenge i Tårnby i gennemsnit højst 509 helårspersoner"
    --lever inflow_per_week.sygedagpenge.rate --probability 0.8 --runs 50 --max-runs 800

    Example:  caseflow goal-seek scenarios/taarnby-2018.yaml
    --target "Fald i forsørgelsesmodtagere på 2,6 % (2.463 helårspersoner)"
    --lever "interventions.Brobygning til uddannelse.places" --bounds 1,40 --integer
    --runs 50 --max-runs 400
    """
    count = _workers(workers)
    talk = Talk(quiet, verbose)
    span = _pair(bounds, "--bounds") if bounds is not None else None
    with starting() as undo:
        scenario = load_or_exit(scenario_file)
        from sim.batch.goalseek import plan_goal_seek, run_goal_seek
        from sim.batch.points import StudyError
        from sim.reports.language import check_lang
        from sim.reports.studies import goal_seek_sentence, write_goal_seek_report

        try:
            plan = plan_goal_seek(scenario, target, lever, probability, span, True if integer else None, runs,
                                  max_runs, tolerance, seed)
        except StudyError as exc:
            raise fail(f"{scenario_file}: {exc}") from None
        folder, discard = _claim(f"{scenario.name} goal-seek", out, undo)
        seconds = plan.seconds_per_run(PILOT)
    most = plan.max_replications
    if not quiet:
        say(f"Goal-seek of {lever} from {plan.lever.low:g} to {plan.lever.high:g}: "
            f"{_cost(most, seconds, count, most=True)}")
    with progress_bar(f"{scenario.name}: goal-seek (at most)", most, folder, discard=discard,
                      kept=_nothing_kept(discard), talk=talk) as advance:
        result = run_goal_seek(plan, count, progress=advance)
    row = result.summary.iloc[0]
    facts = _facts("goal-seek", scenario, plan.seed, lang.value, target=target, lever=lever,
                   probability=probability, bounds=[plan.lever.low, plan.lever.high], runs=runs,
                   max_runs=max_runs, tolerance=plan.tolerance, replications=int(row["replications"]))
    _write_study(folder, scenario, plan.seed, facts,
                 {"goal-seek.csv": result.summary, "goal-seek-steps.csv": result.steps},
                 lambda: write_goal_seek_report(folder, result.summary, result.steps, facts, lang.value))
    say(goal_seek_sentence(row, check_lang(lang.value)))
    say(f"\nWrote {folder}/ (seed {plan.seed})")
