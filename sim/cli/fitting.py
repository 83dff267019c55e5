"""`caseflow calibrate` and `caseflow backtest`: fit parameters to observed data and test the fit.

The fitting libraries (scipy, statsmodels, matplotlib) are imported inside the commands, so
registering them with the command line costs nothing until one runs.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.table import Table

from sim.cli.common import console, fail, load_or_exit, progress_bar, say

if TYPE_CHECKING:
    import pandas as pd

    from sim.contract.schema import Scenario
    from sim.fitting.calibrate import Fit


def calibrate_command(
    scenario_file: Path | None = typer.Argument(None, metavar="[SCENARIO]",
                                                help="Scenario YAML file with a `calibrate:` block."),
    observed: Path | None = typer.Option(None, "--observed", help="Observed CSV (period, state, measure, "
                                         "value, source); default: the calibrate block's `observed`."),
    spells: Path | None = typer.Option(None, "--spells", help="Spell CSV (id, state, start, end, to) to fit "
                                       "duration-dependent exit rates from, instead of a scenario."),
    bands: str | None = typer.Option(None, "--bands", help="With --spells: band edges in weeks, "
                                     "e.g. 13,26,52 (default: chosen by AIC)."),
    attributes: list[str] = typer.Option([], "--attribute", help="With --spells: a column whose "
                                         "hazard ratios to estimate (repeat for more)."),
    out: Path | None = typer.Option(None, "--out", "-o", help="Parameter file to write (default: "
                                    "calibration/<scenario>-fit.yaml)."),
    relative_error: float | None = typer.Option(None, "--relative-error", min=0.0001, max=1.0,
                                                help="Accuracy of an observed figure as a fraction of it "
                                                "(its sd; default: the calibrate block's, else 0.02)."),
) -> None:
    """Fit a scenario's free parameters to observed stocks, or exit rates to spell data.

    With a SCENARIO: the parameters its `calibrate:` block names are fitted by least squares
    (priors as a penalty) to the observed full-year persons, using the deterministic twin of
    the model; writes the parameter file (values, standard errors, covariance), its residual
    table (-residuals.csv) and a chart of observed against fitted (.png). Add
    `parameters: <file>` to the scenario to use the fit, and `uncertainty: {fitted: true}`
    to carry its uncertainty into the forecast.

    With --spells: piecewise-constant competing-risks exit rates per state (events ÷
    exposure per band, with confidence intervals), bands by AIC unless given, and hazard
    ratios of attributes by Poisson regression.

    Examples:
      caseflow calibrate scenarios/koege-2018.yaml
      caseflow calibrate scenarios/koege-2018.yaml --observed calibration/koege.csv
      caseflow calibrate --spells spells.csv --attribute sex --out calibration/spells-fit.yaml
    """
    from sim.fitting.fitfile import default_fit_path, residual_chart, write_parameter_file

    if spells is not None:
        if scenario_file is not None:
            raise fail("give a SCENARIO or --spells, not both")
        _calibrate_spells(spells, bands, attributes, out)
        return
    if scenario_file is None:
        raise fail("give a SCENARIO with a calibrate: block, or --spells FILE; see caseflow calibrate --help")
    scenario = load_or_exit(scenario_file, parameters=False)
    fit, observed_path = _fit(scenario, scenario_file, observed, relative_error)
    target = out or default_fit_path(scenario_file)
    about = {"scenario": str(scenario_file), "observed": str(observed_path), **fit.about()}
    include = _include_path(target, scenario_file)
    header = (f"# Parameters fitted by caseflow calibrate to {observed_path}.\n"
              f"# Use them: add `parameters: {include}` to {scenario_file}\n")
    written = write_parameter_file(target, header, fit.values, fit.standard_errors, fit.covariance,
                                   fit.bounds, about, fit.residuals,
                                   residual_chart(fit.residuals, f"{scenario.name}: observed and fitted"))
    _print_fit(fit)
    say(f"\nWrote {', '.join(str(p) for p in written)}")
    say(f"Use it: add `parameters: {include}` to {scenario_file}")


def _fit(scenario: Scenario, scenario_file: Path, observed: Path | None,
         relative_error: float | None) -> tuple[Fit, Path]:
    """Fit the scenario's calibrate block to its observed file; exit with a message on bad input."""
    from sim.fitting.calibrate import CalibrationError, calibrate
    from sim.fitting.observations import ObservedDataError, read_observed

    if scenario.calibrate is None:
        raise fail(f"{scenario_file} has no calibrate: block naming the parameters to fit "
                   "(see calibration/README.md)")
    observed = _observed_path(scenario, scenario_file, observed)
    try:
        frame = read_observed(observed)
        return calibrate(scenario, scenario.calibrate, frame, relative_error), observed
    except (ObservedDataError, CalibrationError) as exc:
        raise fail(str(exc)) from None


def _include_path(target: Path, scenario_file: Path) -> str:
    """How the scenario names the parameter file (relative to it or a folder above it)."""
    here = scenario_file.resolve().parent
    for folder in (here, *here.parents[:-1]):
        try:
            return str(target.resolve().relative_to(folder))
        except ValueError:
            continue
    return str(target.resolve())


def _print_fit(fit: Fit) -> None:
    table = Table(title="Fitted parameters", title_justify="left")
    for column in ("parameter", "start", "prior", "fitted", "se"):
        table.add_column(column, justify="left" if column == "parameter" else "right")
    for name, value in fit.values.items():
        mean, spread = fit.priors[name]
        prior = f"{mean:.4g} ± {spread:.2g}" if spread is not None else "none"
        flag = " (at a bound)" if name in fit.at_bound else ""
        table.add_row(name, f"{fit.start[name]:.4g}", prior, f"{value:.4g}{flag}",
                      f"{fit.standard_errors[name]:.2g}")
    console.print(table)
    residuals = Table(title=f"Observed and fitted (χ² {fit.chi2:.1f} over {fit.n_observations} figures)",
                      title_justify="left")
    for column in ("period", "state", "observed", "before", "fitted", "z"):
        residuals.add_column(column, justify="left" if column in ("period", "state") else "right")
    for row in fit.residuals.itertuples(index=False):
        residuals.add_row(str(row.period), str(row.state), f"{row.observed:,.1f}", f"{row.before:,.1f}",
                          f"{row.fitted:,.1f}", f"{row.z:+.2f}")
    console.print(residuals)
    if not fit.success:
        say(f"warning: the optimiser did not converge: {fit.message}")
    if len(fit.skipped):
        say(f"{len(fit.skipped)} observed rows not used (other measures, periods or states); "
            "the parameter file lists them under skipped:")


def _calibrate_spells(spells: Path, bands: str | None, attributes: list[str], out: Path | None) -> None:
    """Fit exit rates per state and band from spell data and write them as a parameter file."""
    from sim.fitting.fitfile import default_fit_path, rates_chart, write_parameter_file
    from sim.fitting.spells import SpellDataError, fit_spells, read_spells

    try:
        edges = [float(x) for x in bands.split(",") if x.strip()] if bands else None
    except ValueError:
        raise fail(f"--bands {bands!r} is not a comma-separated list of weeks, e.g. 13,26,52") from None
    try:
        frame = read_spells(spells)
        missing = [a for a in attributes if a not in frame.columns]
        if missing:
            raise fail(f"{spells} has no column {', '.join(missing)} for --attribute")
        per_state = {str(s): edges for s in frame["state"].unique()} if edges is not None else None
        fit = fit_spells(frame, bands=per_state, attributes=attributes)
    except SpellDataError as exc:
        raise fail(str(exc)) from None
    target = out or default_fit_path(spells)
    values = {path: float(v) for path, v in _rate_values(fit.routes()).items()}
    about = {"spells": str(spells), "routes": fit.routes(),
             "bands": fit.bands.assign(edges=fit.bands["edges"].map(list)).to_dict(orient="records"),
             "hazard_ratios": fit.hazard_ratios.to_dict(orient="records")}
    header = (f"# Exit rates fitted by caseflow calibrate --spells {spells}.\n"
              "# `routes` can be pasted into a scenario's transitions; `values` and `standard_errors`\n"
              "# apply to a scenario whose routes have the same bands (parameters: this file).\n")
    written = write_parameter_file(target, header, values, fit.standard_errors(), None, {}, about,
                                   fit.rates, rates_chart(fit.rates))
    _print_rates(fit.rates, fit.hazard_ratios)
    say(f"\nWrote {', '.join(str(p) for p in written)}")


def _rate_values(routes: dict[str, list[dict[str, Any]]]) -> dict[str, float]:
    """Parameter paths and values of fitted routes: one per band, as `standard_errors` names them."""
    out: dict[str, float] = {}
    for state, listed in routes.items():
        for route in listed:
            rate = route["rate_per_week"]
            base = f"transitions.{state}.{route['to']}.rate_per_week"
            if isinstance(rate, list):
                out |= {f"{base}.{i}": float(r) for i, (_, r) in enumerate(rate)}
            else:
                out[base] = float(rate)
    return out


def _print_rates(rates: pd.DataFrame, ratios: pd.DataFrame) -> None:
    table = Table(title="Exit rates per week (events ÷ exposure)", title_justify="left")
    for column in ("state", "to", "weeks", "events", "exposure", "rate", "95 % interval"):
        table.add_column(column, justify="left" if column in ("state", "to") else "right")
    for r in rates.itertuples(index=False):
        end = float(str(r.to_week))
        weeks = f"{r.from_week:g}–{end:g}" if math.isfinite(end) else f"{r.from_week:g}+"
        table.add_row(str(r.state), str(r.to), weeks, f"{r.events:,.0f}", f"{r.exposure_weeks:,.0f}",
                      f"{r.rate_per_week:.4f}", f"{r.ci_low:.4f}–{r.ci_high:.4f}")
    console.print(table)
    if len(ratios):
        hr = Table(title="Hazard ratios (Poisson regression)", title_justify="left")
        for column in ("state", "to", "attribute", "level", "ratio", "95 % interval"):
            left = column in ("state", "to", "attribute", "level")
            hr.add_column(column, justify="left" if left else "right")
        for r in ratios.itertuples(index=False):
            hr.add_row(str(r.state), str(r.to), str(r.attribute), str(r.level), f"{r.hr:.3g}",
                       f"{r.ci_low:.3g}–{r.ci_high:.3g}")
        console.print(hr)


def backtest_command(
    scenario_file: Path = typer.Argument(..., metavar="SCENARIO",
                                         help="Scenario YAML file with a calibrate: block."),
    fit_periods: list[str] = typer.Option(..., "--fit", help="An observed period to fit on (repeat), "
                                          "e.g. 2019-07..2020-06."),
    test_period: str = typer.Option(..., "--test", help="The later observed period to forecast and score."),
    observed: Path | None = typer.Option(None, "--observed", help="Observed CSV (default: the calibrate "
                                         "block's `observed`)."),
    runs: int = typer.Option(200, "--runs", "-n", min=2, help="Monte Carlo replications of the forecast."),
    seed: int | None = typer.Option(None, "--seed", "-s", min=0,
                                    help="Batch seed (default: the scenario's)."),
    workers: int | None = typer.Option(None, "--workers", "-w", min=1, help="Local worker processes."),
    out: Path | None = typer.Option(None, "--out", "-o",
                                    help="Folder (default: outputs/<scenario>-backtest-…)."),
) -> None:
    """Calibrate on earlier periods, forecast a later one by Monte Carlo, and score the forecast.

    The scenario's free parameters are fitted on the --fit periods only; the forecast draws
    them per replication from the fit's covariance, so its bands carry parameter and process
    uncertainty. For each figure of the --test period: the actual, the forecast mean and
    5/25/50/75/95 % quantiles, the error, and whether the actual lies in the 50 % and 90 %
    bands. Writes backtest.csv, fit.yaml (with residuals and chart) and the forecast's run
    folder (forecast/).

    Example:
      caseflow backtest scenarios/dragoer-backtest-2019.yaml --fit 2019-07..2020-06 \\
          --fit 2020-01..2020-12 --test 2020-07..2021-06
    """
    from sim import __version__
    from sim.batch.runfolder import STORE, RunFolderError, new_run_folder, write_run
    from sim.fitting.backtest import backtest
    from sim.fitting.calibrate import CalibrationError
    from sim.fitting.fitfile import residual_chart, write_parameter_file
    from sim.fitting.observations import ObservedDataError, read_observed
    from sim.reports.build import write_reports

    scenario = load_or_exit(scenario_file, parameters=False)
    if scenario.calibrate is None:
        raise fail(f"{scenario_file} has no calibrate: block naming the parameters to fit")
    observed_path = _observed_path(scenario, scenario_file, observed)
    try:
        frame = read_observed(observed_path)
        folder = new_run_folder(f"{scenario.name} backtest", out)
    except (ObservedDataError, RunFolderError) as exc:
        raise fail(str(exc)) from None
    try:
        with progress_bar(f"{scenario.name}: forecast", runs, folder) as advance:
            result = backtest(scenario, frame, tuple(fit_periods), test_period, runs, seed, workers,
                              folder / "forecast" / STORE, progress=advance)
    except (CalibrationError, ValueError) as exc:
        raise fail(str(exc)) from None
    fit = result.fit
    header = f"# Backtest fit of {scenario_file} on {', '.join(fit_periods)}.\n"
    write_parameter_file(folder / "fit.yaml", header,
                         fit.values, fit.standard_errors, fit.covariance, fit.bounds,
                         {"scenario": str(scenario_file), "observed": str(observed_path),
                          "fit_periods": fit_periods, **fit.about()},
                         fit.residuals, residual_chart(fit.residuals, f"{scenario.name}: fit periods"))
    write_run(result.result, folder / "forecast", __version__, " ".join(["caseflow", *sys.argv[1:]]))
    write_reports(folder / "forecast", "da")
    result.table.to_csv(folder / "backtest.csv", index=False)
    _print_fit(fit)
    _print_backtest(result.table, test_period)
    say(f"\nWrote {folder}/ (backtest.csv, fit.yaml, forecast/)")


def _observed_path(scenario: Scenario, scenario_file: Path, observed: Path | None) -> Path:
    """The observed CSV: given, else the calibrate block's, found next to the scenario or above it."""
    if observed is not None:
        return observed
    from sim.contract.loader import find_relative

    assert scenario.calibrate is not None
    if scenario.calibrate.observed is None:
        raise fail("give --observed FILE, or `observed:` in the scenario's calibrate block")
    found = find_relative(scenario.calibrate.observed, str(scenario_file))
    if found is None:
        raise fail(f"calibrate.observed {scenario.calibrate.observed!r} not found next to "
                   f"{scenario_file} or in a folder above it")
    return found


def _print_backtest(table: pd.DataFrame, period: str) -> None:
    out = Table(title=f"Backtest: forecast of {period} against the actual", title_justify="left")
    for column in ("state", "actual", "forecast", "5–95 %", "25–75 %", "error", "in 50 %", "in 90 %"):
        out.add_column(column, justify="left" if column == "state" else "right")
    for r in table.itertuples(index=False):
        out.add_row(str(r.state), f"{r.actual:,.0f}", f"{r.forecast_mean:,.1f}",
                    f"{r.p05:,.0f}–{r.p95:,.0f}",
                    f"{r.p25:,.0f}–{r.p75:,.0f}", f"{r.error:+,.1f} ({r.error_share:+.1%})",
                    "yes" if r.inside_50 else "no", "yes" if r.inside_90 else "no")
    console.print(out)
