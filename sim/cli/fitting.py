"""`caseflow calibrate` and `caseflow backtest`: fit parameters to observed data and test the fit.

The fitting libraries (scipy, statsmodels, matplotlib) are imported inside the commands, so
registering them with the command line costs nothing until one runs.
"""

from __future__ import annotations

import contextlib
import itertools
import math
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich import box
from rich.table import Table

from sim.cli.common import (
    QUIET_HELP,
    VERBOSE_HELP,
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

    from sim.contract.schema import Scenario
    from sim.fitting.backtest import Backtest, Windows
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
    process_runs: int | None = typer.Option(None, "--process-runs", min=0, max=10_000,
                                            help="Engine replications that measure the figures' process "
                                            "noise (default: the calibrate block's, else 40; 0: none)."),
    clocks: list[str] = typer.Option([], "--clock", help="With --spells: a forced clock, STATE:WEEK "
                                     "(repeat; a SCENARIO gives its own): exits at it are clock moves."),
    inflows: bool = typer.Option(True, "--inflows/--no-inflows", help="With --spells: estimate each "
                                 "state's inflow from outside from the spells that start in the window."),
    force: bool = typer.Option(False, "--force", help="Replace the parameter file if it exists (scenarios "
                               "that load it then forecast with the new fit)."),
) -> None:
    """Fit a scenario's free parameters to observed stocks, or exit rates to spell data.

    With a SCENARIO: the parameters its `calibrate:` block names are fitted by least squares
    (priors as a penalty) to the observed full-year persons, using the deterministic twin of
    the model; each figure's sd is its measurement error plus its process noise, measured on a
    pilot batch of the engine, and the standard errors carry both (see calibration/README.md).
    Writes the parameter file (values, standard errors, covariance), its residual table
    (-residuals.csv) and a chart of observed against fitted (.png). Add `parameters: <file>` to
    the scenario to use the fit, and `uncertainty: {fitted: true}` to carry its uncertainty into
    the forecast. The scenario's other parameter files are applied while it is fitted.

    With --spells: piecewise-constant competing-risks exit rates per state (events ÷
    exposure per band, with confidence intervals), bands by AIC unless given, hazard ratios of
    attributes by Poisson regression, the shares of each forced clock (a SCENARIO's, or
    --clock), and each state's inflow from outside. The file is a parameter file a scenario
    loads with `parameters:` (its routes replace the fitted states' own).

    Examples:
      caseflow calibrate scenarios/koege-2018.yaml
      caseflow calibrate scenarios/koege-2018.yaml --observed calibration/koege.csv
      caseflow calibrate --spells spells.csv --attribute sex --out calibration/spells-fit.yaml
      caseflow calibrate scenarios/koege-2018.yaml --spells spells.csv
      caseflow calibrate --spells spells.csv --clock sygedagpenge:22
    """
    from sim.fitting.fitfile import default_fit_path, residual_chart, write_parameter_file

    if spells is not None:
        _calibrate_spells(spells, scenario_file, bands, attributes, clocks, inflows, out, force)
        return
    if scenario_file is None:
        raise fail("give a SCENARIO with a calibrate: block, or --spells FILE; see caseflow calibrate --help")
    scenario = _load_for_fit(scenario_file)
    target = out or default_fit_path(scenario_file)
    _refuse_to_replace(target, force, scenario_file)
    fit, observed_path = _fit(scenario, scenario_file, observed, relative_error, process_runs)
    about = {"scenario": _portable(scenario_file, target), "observed": _portable(observed_path, target),
             **fit.about()}
    include = _include_path(target, scenario_file)
    header = (f"# Parameters fitted by caseflow calibrate to {_portable(observed_path, target)}.\n"
              f"# Use them: add `parameters: {include}` to {scenario_file.name}\n")
    written = write_parameter_file(target, header, fit.values, fit.standard_errors, fit.covariance,
                                   fit.bounds, about, fit.residuals,
                                   residual_chart(fit.residuals, f"{scenario.name}: observed and fitted"))
    _print_fit(fit)
    say(f"\nWrote {', '.join(str(p) for p in written)}")
    say(f"Use it: add `parameters: {include}` to {scenario_file}")


def _portable(path: Path, written: Path) -> str:
    """`path` as the fit file at `written` records it: relative to that file's folder, so the file
    carries no absolute path and stays true when the project moves."""
    try:
        return os.path.relpath(Path(path).resolve(), Path(written).resolve().parent)
    except ValueError:  # another drive: only the name travels
        return Path(path).name


def _refuse_to_replace(target: Path, force: bool, scenario_file: Path | None) -> None:
    """Refuse, before any fitting, to replace an existing parameter file without --force,
    naming the scenarios beside `scenario_file` that load it (they would forecast differently)."""
    if force or not target.exists():
        return
    if target.is_dir():
        raise fail(f"{target} is a folder; --out names the parameter file to write")
    users = []
    if scenario_file is not None:
        for candidate in sorted(scenario_file.resolve().parent.glob("*.yaml")):
            with contextlib.suppress(OSError, UnicodeDecodeError):
                if target.name in candidate.read_text(encoding="utf-8") and candidate != target.resolve():
                    users.append(candidate.name)
    loaded = f" ({', '.join(users)} load{'s' if len(users) == 1 else ''} it)" if users else ""
    raise fail(f"{target} exists{loaded}; give --force to replace it, or --out for another file")


def _load_for_fit(scenario_file: Path) -> Scenario:
    """The scenario with its parameter files applied, except the one that fits the calibrate
    block's parameters (the fit being redone) or does not exist yet."""
    from sim.contract.errors import ScenarioError
    from sim.contract.loader import load_scenario

    own = load_or_exit(scenario_file, parameters=False)
    if own.calibrate is None:
        return own
    try:
        return load_scenario(scenario_file, refit=[p.path for p in own.calibrate.parameters])
    except ScenarioError as exc:
        raise fail("\n".join(str(p) for p in exc.problems)) from None


def _fit(scenario: Scenario, scenario_file: Path, observed: Path | None,
         relative_error: float | None, process_runs: int | None = None) -> tuple[Fit, Path]:
    """Fit the scenario's calibrate block to its observed file; exit with a message on bad input."""
    from sim.fitting.calibrate import CalibrationError, calibrate
    from sim.fitting.observations import ObservedDataError, read_observed

    if scenario.calibrate is None:
        raise fail(f"{scenario_file} has no calibrate: block naming the parameters to fit "
                   "(see calibration/README.md)")
    observed = _observed_path(scenario, scenario_file, observed)
    try:
        frame = read_observed(observed)
        return calibrate(scenario, scenario.calibrate, frame, relative_error, process_runs), observed
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
    pooled = {path: name for name, pool in fit.pools.items() for path in pool["members"]}
    for name, value in fit.values.items():
        mean, spread = fit.priors[name]
        prior = f"{mean:.4g} ± {spread:.2g}" if spread is not None else "none"
        if name in pooled:
            prior = f"{mean:.4g} ± τ ({pooled[name]})"
        flag = " (at a bound)" if name in fit.at_bound else ""
        se = f"{fit.standard_errors[name]:.2g}" if name in fit.standard_errors else "unidentified"
        table.add_row(name, f"{fit.start[name]:.4g}", prior, f"{value:.4g}{flag}", se)
    console.print(table)
    residuals = Table(title=f"Observed and fitted (χ² {fit.chi2:.1f} over {fit.n_observations} figures)",
                      title_justify="left")
    for column in ("period", "state", "observed", "before", "fitted", "z"):
        residuals.add_column(column, justify="left" if column in ("period", "state") else "right")
    for row in fit.residuals.itertuples(index=False):
        residuals.add_row(str(row.period), str(row.state), f"{row.observed:,.1f}", f"{row.before:,.1f}",
                          f"{row.fitted:,.1f}", f"{row.z:+.2f}")
    console.print(residuals)
    for line in fit_quality_lines(fit):
        say(line)
    for name, pool in fit.pools.items():
        say(f"Pool {name}: {len(pool['members'])} parameters share a prior sd τ learnt from them: "
            f"mean {pool['spread_mean']:.3g}, 90 % between {pool['spread_q05']:.3g} and "
            f"{pool['spread_q95']:.3g} (its prior: half-normal of scale {pool['spread_scale']:.3g}).")
    if not fit.success:
        say(f"warning: the optimiser did not converge: {fit.message}")
    if len(fit.skipped):
        say(f"{len(fit.skipped)} observed rows not used (other measures, periods or states); "
            "the parameter file lists them under skipped:")


def fit_quality_lines(fit: Fit) -> list[str]:
    """The error model, χ² per figure, dispersion and any warning, in a few lines for the console."""
    e, n = fit.errors, fit.n_observations
    lines = [f"Error model: {fit.error_model}.",
             f"χ²/n {fit.chi2 / n:.2f} against it ({fit.chi2_measurement / n:.2f} against the measurement "
             f"error alone); expected χ² {e.expected_chi2:.1f} (effective figures {e.effective_figures:.0f})"]
    if e.dispersion is None:
        lines.append("Dispersion: not estimable (no more figures than parameters); standard errors unscaled")
    else:
        lines[-1] += (f"; dispersion φ = χ²/expected = {e.dispersion:.2f}, standard errors "
                      f"× {math.sqrt(e.scale):.2f}")
    if e.misfit:
        lines.append(f"warning: the twin misses the figures by {e.dispersion:.1f} times what the error model "
                     f"explains (p = {e.p_value:.2g}): something the scenario lacks (a trend, a rule, a "
                     "break in the data); the standard errors carry the misfit (× √φ), the values may not")
    for name, why in fit.unidentified.items():
        lines.append(f"warning: {name} is unidentified: {why}; it has no standard error and is not drawn")
    return lines


def _calibrate_spells(spells: Path, scenario_file: Path | None, bands: str | None, attributes: list[str],
                      clock_texts: list[str], inflows: bool, out: Path | None, force: bool = False) -> None:
    """Fit exit rates per state and band, clock shares and inflows from spell data, and write
    them as a parameter file a scenario loads."""
    from sim.contract.catalogue import EXITS
    from sim.fitting.fitfile import default_fit_path, rates_chart, write_parameter_file
    from sim.fitting.spell_data import in_dates
    from sim.fitting.spell_routes import (
        entries_from_outside,
        parse_clocks,
        scenario_clocks,
        spell_parameters,
        split_clock_moves,
    )
    from sim.fitting.spells import DEFAULT_EDGES, SpellDataError, fit_spells, read_spells

    try:
        edges = [float(x) for x in bands.split(",") if x.strip()] if bands else None
    except ValueError:
        raise fail(f"--bands {bands!r} is not a comma-separated list of weeks, e.g. 13,26,52") from None
    if edges is not None and (any(not math.isfinite(e) or e < 0 for e in edges)
                              or any(b <= a for a, b in itertools.pairwise(edges))):
        raise fail(f"--bands {bands!r}: band edges are weeks ≥ 0 in increasing order, e.g. 13,26,52")
    if not spells.is_file():  # a folder, a pipe or a device would never give a table
        what = "no such file" if not spells.exists() else "not a regular file"
        raise fail(f"{spells}: {what}; give the path of a spell CSV file")
    scenario = load_or_exit(scenario_file, parameters=False) if scenario_file is not None else None
    try:
        clocks = scenario_clocks(scenario) if scenario is not None else {}
        for state, weeks in parse_clocks(clock_texts).items():
            clocks[state] = sorted({*clocks.get(state, []), *weeks})
        frame = read_spells(spells, states=[*scenario.states, *EXITS] if scenario is not None else None)
        if frame.empty:
            raise fail(f"{spells} holds no spells (only a header); give one row per spell")
        missing = [a for a in attributes if a not in frame.columns]
        if missing:
            raise fail(f"{spells} has no column {', '.join(missing)} for --attribute")
        hazard, clock_table = split_clock_moves(frame, clocks)
        per_state = {str(s): edges for s in frame["state"].unique()} if edges is not None else None
        candidates = sorted({*DEFAULT_EDGES, *(w for weeks in clocks.values() for w in weeks)})
        fit = fit_spells(hazard, bands=per_state, attributes=attributes, candidate_edges=candidates)
        entries = entries_from_outside(frame) if inflows else None
    except SpellDataError as exc:
        raise fail(str(exc)) from None
    dates = in_dates(frame)
    params = spell_parameters(fit, clock_table, entries, dates)
    if scenario_file is not None:
        target = out or default_fit_path(scenario_file.with_name(f"{scenario_file.stem}-spells.yaml"))
    else:
        target = out or default_fit_path(spells)
    _refuse_to_replace(target, force, scenario_file)
    about: dict[str, Any] = {
        "spells": _portable(spells, target),
        **({"scenario": _portable(scenario_file, target)} if scenario_file is not None else {}),
        "unidentified": params.unidentified, "transitions": params.transitions,
        "inflow_per_week": params.inflow_per_week, "anchors": params.anchors,
        "not_estimated": params.not_estimated,
        "clocks": clock_table.to_dict(orient="records"),
        "inflows": _window_rows(entries, dates),
        "bands": fit.bands.assign(edges=fit.bands["edges"].map(list)).to_dict(orient="records"),
        "hazard_ratios": fit.hazard_ratios.to_dict(orient="records")}
    use = (f"# Use them: add `parameters: {_include_path(target, scenario_file)}` to {scenario_file.name}"
           if scenario_file is not None else "# Use them: add `parameters: <this file>` to a scenario")
    header = (f"# Exit rates, clock shares and inflows fitted by caseflow calibrate --spells {spells}.\n"
              f"{use}: the fitted states' routes (`transitions`) and inflows replace the scenario's,\n"
              "# and `uncertainty: {fitted: true}` draws them per replication from their standard errors.\n")
    chart = rates_chart(fit.rates) if len(fit.rates) else None
    written = write_parameter_file(target, header, params.values, params.standard_errors,
                                   params.covariance(), params.bounds, about, fit.rates, chart)
    _print_rates(fit.rates, fit.hazard_ratios)
    _print_clocks(clock_table, entries if entries is not None else None)
    for name, why in {**params.unidentified, **params.not_estimated}.items():
        say(f"warning: {name}: {why}")
    say(f"\nWrote {', '.join(str(p) for p in written)}")


def _window_rows(entries: pd.DataFrame | None, dates: bool) -> list[dict[str, Any]]:
    """The inflow table for the fit file, the window as dates when the spells have dates."""
    if entries is None:
        return []
    from sim.fitting.spell_routes import day_date

    rows: list[dict[str, Any]] = [{str(k): v for k, v in r.items()}
                                  for r in entries.to_dict(orient="records")]
    if dates:
        for r in rows:
            r["from_day"], r["to_day"] = (day_date(r["from_day"]).isoformat(),
                                          day_date(r["to_day"]).isoformat())
    return rows


def _print_clocks(clocks: pd.DataFrame, entries: pd.DataFrame | None) -> None:
    if len(clocks):
        table = Table(title="Forced clocks (moves at the clock ÷ spells that reached it)",
                      title_justify="left")
        for column in ("state", "week", "reached", "to", "moved", "share", "se"):
            table.add_column(column, justify="left" if column in ("state", "to") else "right")
        for r in clocks.itertuples(index=False):
            table.add_row(str(r.state), f"{r.week:g}", f"{r.reached:,}", str(r.to or "–"), f"{r.moved:,}",
                          f"{r.share:.3f}", f"{r.se:.3f}")
        console.print(table)
    if entries is not None and len(entries):
        table = Table(title="Inflows from outside (entries ÷ weeks of the window)", title_justify="left")
        for column in ("state", "entries", "weeks", "per week", "se"):
            table.add_column(column, justify="left" if column == "state" else "right")
        for r in entries.itertuples(index=False):
            table.add_row(str(r.state), f"{r.entries:,}", f"{r.weeks:,.1f}", f"{r.rate_per_week:.3f}",
                          f"{r.se:.3f}")
        console.print(table)


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


_DEFAULT_HORIZON = 12
"""Months scored after each rolling origin (sim.fitting.backtest.DEFAULT_HORIZON, without importing it)."""


def backtest_command(
    scenario_file: Path = typer.Argument(..., metavar="SCENARIO",
                                         help="Scenario YAML file with a calibrate: block."),
    fit_periods: list[str] = typer.Option([], "--fit", help="With --test: an observed period to fit on "
                                          "(repeat), e.g. 2019-07..2020-06; it must end before the test "
                                          "window."),
    test_period: str | None = typer.Option(None, "--test", help="With --fit: the later observed period to "
                                           "forecast and score; its first month is the origin."),
    origins: str | None = typer.Option(None, "--origins", help="Forecast origins, comma-separated months "
                                       "(e.g. 2019-01,2019-07): at each, fit on the figures that end before "
                                       "it and score those that start at or after it."),
    every: int | None = typer.Option(None, "--every", min=1, help="An origin every N months from the "
                                     "scenario's start (where there is data before and after it)."),
    horizon: int | None = typer.Option(None, "--horizon", min=1, help="With --origins or --every: months "
                                       "scored after each origin (default 12)."),
    observed: Path | None = typer.Option(None, "--observed", help="Observed CSV (default: the calibrate "
                                         "block's `observed`)."),
    runs: int = typer.Option(200, "--runs", "-n", min=2, help="Monte Carlo replications of each forecast."),
    seed: int | None = typer.Option(None, "--seed", "-s", min=0,
                                    help="Batch seed of every origin's forecast (default: the scenario's)."),
    workers: int | None = typer.Option(None, "--workers", "-w", min=1, help="Local worker processes."),
    out: Path | None = typer.Option(None, "--out", "-o",
                                    help="Folder (default: outputs/<scenario>-backtest-…)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help=QUIET_HELP),
    verbose: bool = typer.Option(False, "--verbose", "-v", help=VERBOSE_HELP),
) -> None:
    """Backtest the forecast: at each origin, fit on the data before it, forecast what follows, score it.

    One origin from explicit windows (--fit … --test), or several (--origins, or --every N
    months). At each origin the scenario's free parameters are fitted on the observed figures
    that end before it only (a fit window that overlaps the test window is refused); the
    forecast starts on the origin's first day from the observed stock of those figures and
    draws the fitted values per replication from the fit's covariance, so its bands carry
    parameter and process uncertainty. Each observed stock that starts at or after the origin
    is scored: coverage of the 50/80/90 % bands, CRPS, weighted interval score and the median's
    absolute percentage error, beside two benchmarks (the last observed figure carried
    forward, and a linear trend fitted to the 24 months before the origin); targets the test
    figures decide get Brier scores. Writes scores.csv, summary.csv, brier.csv, run.json and a
    report (report.html, report.xlsx, charts/), and per origin origin-<YYYY-MM>/ with fit.yaml
    (residuals and chart), restart.csv (the stock it started from) and the forecast's run
    folder (forecast/).

    Examples (the last two find the same single origin in Dragør's three yearly figures; with
    monthly figures, such as a Jobindsats export, they give several):
      caseflow backtest scenarios/dragoer-backtest-2019.yaml --fit 2019-07..2020-06 --test 2020-07..2021-06
      caseflow backtest scenarios/dragoer-backtest-2019.yaml --origins 2020-07 --horizon 12
      caseflow backtest scenarios/dragoer-backtest-2019.yaml --every 3
    """
    workers = checked_workers(workers)
    from sim.batch.runfolder import RunFolderError, clear_run_folder, is_folder, new_run_folder
    from sim.fitting.observations import ObservedDataError, check_states, read_observed

    explicit = bool(fit_periods) or test_period is not None
    rolling = origins is not None or every is not None
    if explicit and rolling:
        raise fail("give either --fit … --test (one origin) or --origins/--every (several), not both")
    if origins is not None and every is not None:
        raise fail("give --origins or --every, not both")
    if not explicit and not rolling:
        raise fail("say where to forecast from: --fit PERIOD --test PERIOD, --origins MONTHS or --every N; "
                   "see caseflow backtest --help")
    if explicit and (not fit_periods or test_period is None):
        raise fail("--fit and --test go together: give at least one --fit PERIOD and one --test PERIOD")
    if explicit and horizon is not None:
        raise fail("--horizon goes with --origins or --every; with --test the test window sets it")
    scenario = load_or_exit(scenario_file, parameters=False)
    if scenario.calibrate is None:
        raise fail(f"{scenario_file} has no calibrate: block naming the parameters to fit")
    observed_path = _observed_path(scenario, scenario_file, observed)
    from sim.fitting.backtest import (  # after the inputs are checked: its scoring library loads for seconds
        BacktestError,
        every_origins,
        parse_origins,
        rolling_windows,
        single_windows,
    )

    try:  # every window is checked before a folder is made
        frame = read_observed(observed_path)
        if test_period is not None:
            windows = [single_windows(scenario, tuple(fit_periods), test_period)]
        else:
            months = horizon or _DEFAULT_HORIZON
            chosen = parse_origins(origins) if origins is not None else every_origins(
                scenario, frame, every or 1, months)
            windows = rolling_windows(scenario, frame, chosen, months)
        check_states(frame, scenario.states)
        existed = is_folder(out)
        folder = new_run_folder(f"{scenario.name} backtest", out)
    except (ObservedDataError, BacktestError, RunFolderError) as exc:
        raise fail(str(exc)) from None
    try:
        result = _run_backtest(scenario, frame, windows, runs, seed, workers, folder,
                               Talk(quiet, verbose))
    except (typer.Exit, KeyboardInterrupt):
        clear_run_folder(folder, keep=existed)
        raise
    _write_backtest(result, folder, scenario_file, observed_path,
                    (horizon or _DEFAULT_HORIZON) if rolling else None)
    _print_backtest(result)
    say(f"\nWrote {folder}/ (scores.csv, summary.csv, brier.csv, report.html, "
        f"{', '.join(_origin_folder(o.windows.origin) + '/' for o in result.origins)})")


def _origin_folder(origin: str) -> str:
    return f"origin-{origin}"


def _run_backtest(scenario: Scenario, frame: pd.DataFrame, windows: list[Windows], runs: int,
                  seed: int | None, workers: int | None, folder: Path, talk: Talk) -> Backtest:
    """Run the backtest's origins with a progress bar; exit with the message if one cannot run."""
    from sim.batch.runfolder import STORE
    from sim.fitting.backtest import run_backtest
    from sim.fitting.calibrate import CalibrationError

    def store(origin: str) -> Path:
        return folder / _origin_folder(origin) / "forecast" / STORE

    count = len(windows)
    try:
        with progress_bar(f"{scenario.name}: backtest, {count} origin{'s' if count > 1 else ''}",
                          runs * count, folder, talk=talk) as advance:
            return run_backtest(scenario, frame, windows, runs, seed, workers, store, progress=advance)
    except (CalibrationError, ValueError) as exc:
        raise fail(str(exc)) from None


def _write_backtest(result: Backtest, folder: Path, scenario_file: Path, observed_path: Path,
                    horizon: int | None) -> None:
    """Each origin's fit and forecast folder, then scores.csv, summary.csv, brier.csv, run.json
    and the report built from them."""
    import datetime as dt
    import json

    from sim import __version__
    from sim.batch.runfolder import release_run_folder, write_run
    from sim.fitting.fitfile import residual_chart, write_parameter_file
    from sim.reports.build import write_reports

    command = " ".join(["caseflow", *sys.argv[1:]])
    for done in result.origins:
        here = folder / _origin_folder(done.windows.origin)
        fit = done.fit
        header = (f"# Backtest fit of {scenario_file} on {', '.join(done.windows.fit)}, "
                  f"before the origin {done.windows.origin}.\n")
        about = {"scenario": str(scenario_file), "observed": str(observed_path),
                 "origin": done.windows.origin, "fit_periods": list(done.windows.fit), **fit.about()}
        chart = residual_chart(fit.residuals, f"{done.scenario.name}: fit before {done.windows.origin}")
        write_parameter_file(here / "fit.yaml", header, fit.values, fit.standard_errors, fit.covariance,
                             fit.bounds, about, fit.residuals, chart)
        done.stock.to_csv(here / "restart.csv", index=False)
        write_run(done.result, here / "forecast", __version__, command)
        write_reports(here / "forecast", "da")
    result.scores.to_csv(folder / "scores.csv", index=False)
    result.summary.to_csv(folder / "summary.csv", index=False)
    result.brier.to_csv(folder / "brier.csv", index=False)
    vive = result.vive
    if len(vive):  # VIVE expects some test figures: its gap beside the model's
        vive.to_csv(folder / "vive.csv", index=False)
    first = result.origins[0].result
    facts = {"kind": "backtest", "scenario": first.scenario.name, "scenario_file": str(scenario_file),
             "observed": str(observed_path), "seed": first.seed, "runs": first.runs,
             "forecast_start": "origin", "horizon": horizon,
             "origins": [{"origin": o.windows.origin, "fit": list(o.windows.fit),
                          "test": list(o.windows.test), "left_out": list(o.windows.left_out)}
                         for o in result.origins],
             "caseflow_version": __version__, "created": dt.datetime.now().isoformat(timespec="seconds"),
             "command": command, "lang": "da"}
    (folder / "run.json").write_text(json.dumps(facts, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    release_run_folder(folder)  # its data is complete: the reports read it
    write_reports(folder, "da")


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



def _print_backtest(result: Backtest) -> None:
    """The fit (one origin) or a line per origin, each test figure (when few), and the summary."""
    if len(result.origins) == 1:
        _print_fit(result.origins[0].fit)
    else:
        fits = Table(title="Fits, one per origin", title_justify="left")
        for column in ("origin", "fitted on", "figures", "χ²", "converged"):
            fits.add_column(column, justify="left" if column in ("origin", "fitted on") else "right")
        for o in result.origins:
            fitted = (", ".join(o.windows.fit) if len(o.windows.fit) <= 3 else
                      f"{o.windows.fit[0]} … {o.windows.fit[-1]} ({len(o.windows.fit)} periods)")
            fits.add_row(o.windows.origin, fitted, str(o.fit.n_observations), f"{o.fit.chi2:.1f}",
                         "yes" if o.fit.success else "no")
        console.print(fits)
    if len(result.scores) <= 40:
        _print_figures(result.scores)
    _print_summary(result)


def _print_figures(scores: pd.DataFrame) -> None:
    """Each test figure: actual, median and 10–90 % band, the narrowest band holding the actual, the
    CRPS and both benchmarks; origin and period as columns only when they vary."""
    origins, periods = scores["origin"].unique(), scores["period"].unique()
    title = "Forecast and benchmarks against the actual"
    if len(origins) == 1:
        title += f", origin {origins[0]}" + (f", period {periods[0]}" if len(periods) == 1 else "")
    table = Table(title=title + " (last: the last observed figure carried forward)", title_justify="left",
                  box=box.SIMPLE_HEAD)
    columns = (["origin"] if len(origins) > 1 else []) + (["period"] if len(periods) > 1 else [])
    for column in (*columns, "h", "state", "actual", "median", "10–90 %", "inside", "CRPS", "last", "trend"):
        left = column in ("origin", "period", "state", "inside")
        table.add_column(column, justify="left" if left else "right")
    for r in scores.to_dict("records"):
        inside = next((f"{b} %" for b in (50, 80, 90) if r[f"inside_{b}"]), "outside")
        cells = [str(r[c]) for c in columns]
        table.add_row(*cells, str(r["horizon"]), str(r["state"]), f"{r['actual']:,.0f}", f"{r['p50']:,.0f}",
                      f"{r['p10']:,.0f}–{r['p90']:,.0f}", inside, _num(r["crps"]), _num(r["carried_forward"]),
                      _num(r["trend"]))
    console.print(table)


def _print_summary(result: Backtest) -> None:
    """Per state and over all figures: the forecast's band coverage and its CRPS, WIS, MAPE and Brier
    score, with the two benchmarks' below it."""
    n, k = len(result.scores), len(result.origins)
    figures, origins = f"{n} figure{'s' if n != 1 else ''}", f"{k} origin{'s' if k != 1 else ''}"
    table = Table(title=f"Scores over {figures} at {origins}: coverage of the 50/80/90 % bands, and the "
                  "model's scores against the last observed figure carried forward (last) and a linear trend",
                  title_justify="left", box=box.SIMPLE_HEAD)
    for column in ("state", "forecast", "50 %", "80 %", "90 %", "CRPS", "WIS", "MAPE", "Brier"):
        table.add_column(column, justify="left" if column in ("state", "forecast") else "right")
    for r in result.summary.to_dict("records"):
        state = str(r["state"])
        for suffix, name in (("", "model"), ("_carried_forward", "last"), ("_trend", "trend")):
            coverage = [_share(r[f"coverage_{b}"]) if not suffix else "" for b in (50, 80, 90)]
            brier = _two(r[f"brier{suffix}"]) if r["targets"] else "–"
            table.add_row(state if not suffix else "", name, *coverage, _num(r[f"crps{suffix}"]),
                          _num(r[f"wis{suffix}"]), _share(r[f"mape{suffix}"]), brier,
                          end_section=suffix == "_trend")
    console.print(table)


def _num(x: Any) -> str:
    return f"{float(x):,.1f}" if math.isfinite(float(x)) else "–"


def _share(x: Any) -> str:
    return f"{float(x):.0%}" if math.isfinite(float(x)) else "–"


def _two(x: Any) -> str:
    return f"{float(x):.2f}" if math.isfinite(float(x)) else "–"
