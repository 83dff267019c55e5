"""`caseflow calibrate` and `caseflow backtest`: fit parameters to observed data and test the fit."""

from __future__ import annotations

import os
from pathlib import Path

import typer

from sim.calibrate import RELATIVE_ERROR, CalibrationError, Fit, calibrate
from sim.cli_common import fail, load_or_exit, say
from sim.fitfile import default_fit_path, residual_chart, write_parameter_file
from sim.loader import find_relative
from sim.observations import ObservedDataError, read_observed
from sim.schema import Scenario


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
    relative_error: float = typer.Option(RELATIVE_ERROR, "--relative-error", min=0.0001, max=1.0,
                                         help="Accuracy of an observed figure as a fraction of it (its sd)."),
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
    about = {
        "scenario": str(scenario_file), "observed": str(observed_path),
        "priors": {n: {"mean": m, "spread": s} for n, (m, s) in fit.priors.items()},
        "start": fit.start,
        "quality": {"chi2": round(fit.chi2, 4), "observations": fit.n_observations,
                    "parameters": len(fit.values), "relative_error": relative_error,
                    "converged": fit.success, "message": fit.message, "evaluations": fit.evaluations,
                    "at_bound": fit.at_bound},
        "skipped": fit.skipped.to_dict(orient="records"),
    }
    header = (f"# Parameters fitted by caseflow calibrate to {observed_path}.\n"
              f"# Use them: add `parameters: {_include_path(target, scenario_file)}` to {scenario_file}\n")
    written = write_parameter_file(target, header, fit.values, fit.standard_errors, fit.covariance,
                                   fit.bounds, about, fit.residuals,
                                   residual_chart(fit.residuals, f"{scenario.name}: observed and fitted"))
    _print_fit(fit)
    say(f"\nWrote {', '.join(str(p) for p in written)}")
    say(f"Use it: add `parameters: {_include_path(target, scenario_file)}` to {scenario_file}")


def _fit(scenario: Scenario, scenario_file: Path, observed: Path | None,
         relative_error: float) -> tuple[Fit, Path]:
    """Fit the scenario's calibrate block to its observed file; exit with a message on bad input."""
    if scenario.calibrate is None:
        raise fail(f"{scenario_file} has no calibrate: block naming the parameters to fit "
                   "(see calibration/README.md)")
    if observed is None:
        if scenario.calibrate.observed is None:
            raise fail("give --observed FILE, or `observed:` in the scenario's calibrate block")
        found = find_relative(scenario.calibrate.observed, str(scenario_file))
        if found is None:
            raise fail(f"calibrate.observed {scenario.calibrate.observed!r} not found next to "
                       f"{scenario_file} or in a folder above it")
        observed = found
    try:
        frame = read_observed(observed)
        return calibrate(scenario, scenario.calibrate, frame, relative_error), observed
    except (ObservedDataError, CalibrationError) as exc:
        raise fail(str(exc)) from None


def _include_path(target: Path, scenario_file: Path) -> str:
    """How the scenario names the parameter file (relative to it or a folder above it)."""
    here = scenario_file.resolve().parent
    for folder in (here, *here.parents):
        try:
            return str(target.resolve().relative_to(folder))
        except ValueError:
            continue
    return os.path.relpath(target.resolve(), here)


def _print_fit(fit: Fit) -> None:
    from rich.table import Table

    from sim.cli_common import console

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
    raise fail("spell fitting is not available yet")
