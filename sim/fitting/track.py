"""Tracking a plan against its actuals: restart from the observed caseload, re-forecast, update the targets.

`restart_scenario` gives the scenario restarted the month after the last actual month from the
observed stock (`sim.fitting.restart` says what it takes from where); `track` runs that forecast,
joins each replication's forecast months to the actual months so that a year's figures and its
targets' probabilities are updated as the year goes (`sim.fitting.combine`), and repeats the
restart from every earlier month of the same year so far, with fewer runs, so `track.csv`
shows how each target's probability moved as the months came in. The first row of that path is
the scenario's own forecast from its start, with no actuals. Each forecast's restarted stock is
drawn per replication with the sd its period average leaves (`restart`'s `stock_noise`), as the
backtests do: a month's figure is an average, so the stock on the restart day is not known exactly,
and a forecast that took it as known would be too sure in its first months.

Cost: the forecast's `runs` replications over the months left, plus `track_runs` replications
for the scenario's own forecast and for each earlier month of the year (from January, or the
scenario's start, up to the month before `through`), each with its own support pilot. Every
forecast uses the batch seed, so the path's forecasts share their random numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sim.batch.run import Progress, RunResult, fresh_seed, run
from sim.contract.schema import Scenario
from sim.features import compile_model
from sim.features.payment import unpaid_days
from sim.fitting.actuals import PAYMENT, Actuals, month_label, months_between
from sim.fitting.combine import Combined, combine
from sim.fitting.restart import Restart, check_through, restart
from sim.kernel.model import Model
from sim.results.targets import resolve_targets

DEFAULT_TRACK_RUNS = 50
"""Replications of each earlier month's forecast in the path (and of the scenario's own)."""
TRACK_COLUMNS = ("through", "forecast_from", "runs", "target", "metric", "basis", "status",
                 "observed_months", "sense", "threshold", "probability_met", "probability_se",
                 "probability_low95", "probability_high95", "mean", "p10", "p50", "p90")
"""track.csv: per forecast (through: the last actual month it used, empty for the scenario's own
forecast; forecast_from: its first forecast month; runs) and target, the target's evaluation
(`sim.fitting.combine.STATUSES`), threshold and probability with its Monte Carlo error, and the
statistics of its value."""


def restart_scenario(scenario: Scenario, actuals: pd.DataFrame, through: str | None = None,
                     snapshot: pd.DataFrame | None = None) -> Scenario:
    """The scenario restarted on the first day of the month after `through` (default: the last
    month of the actuals), from the actual stock per state, over the rest of its horizon.

    `actuals` is the long observed format (period, state, measure, value[, source, basis]);
    `snapshot`, if given, the elapsed durations of the stock (persons by state and weeks-in-state
    band, or by spell start). Pure: no files, no random numbers (the model's implied durations
    and the stock's ratio come from the deterministic twin). Raises `ActualsError` when the
    actuals cannot give the stock and `SnapshotError` for a snapshot that cannot be used."""
    return restart(scenario, actuals, through, snapshot).scenario


@dataclass
class Track:
    """A tracked forecast: the restart, its run, the year so far combined, and the path."""

    scenario: Scenario
    """The scenario as planned."""
    restart: Restart
    result: RunResult
    """The forecast from the restart (monthly.csv, flows, costs: the months left)."""
    combined: Combined
    """The original horizon's targets and yearly figures, actual and forecast months joined."""
    path: pd.DataFrame
    """track.csv (TRACK_COLUMNS)."""
    actuals: pd.DataFrame
    seed: int


def actual_months(scenario: Scenario, model: Model, actuals: pd.DataFrame, through: str,
                  expected: np.ndarray, plan: RunResult | None) -> tuple[np.ndarray, np.ndarray | None]:
    """The actual months of the horizon through `through`, [benefit state, month], on the Jobindsats
    and the payment basis (None without an employer period). A state's payment figure is its own
    payment-basis row, else its Jobindsats figure times the plan's paid share of that month."""
    found = Actuals(actuals, model, unpaid_days(scenario))
    k = months_between(model.calendar.labels[0], through) + 1
    months = list(model.calendar.labels[:k])
    jobindsats = found.month_values(months, expected)
    found.missing(jobindsats, months)
    unpaid = unpaid_days(scenario)
    if not any(d > 0 for d in unpaid):
        return jobindsats, None
    paid = found.month_values(months, expected, PAYMENT)
    share = _paid_share(model, plan, k)
    for s, d in enumerate(unpaid):
        gaps = np.isnan(paid[s]) if d > 0 else np.ones(k, dtype=bool)
        paid[s, gaps] = jobindsats[s, gaps] * (share[s, gaps] if d > 0 else 1.0)
    return jobindsats, paid


def _paid_share(model: Model, plan: RunResult | None, k: int) -> np.ndarray:
    """The plan's mean payment-basis ÷ Jobindsats full-time persons per benefit state and month."""
    out = np.ones((model.n_benefit, k))
    if plan is None or k == 0:
        return out
    means = {(r["state"], r["month"]): (float(r["mean"]), float(r["payment_mean"]))
             for r in plan.monthly.to_dict("records")}
    for s, code in enumerate(model.benefit_codes):
        for m, label in enumerate(model.calendar.labels[:k]):
            mean, paid = means[(code, label)]
            out[s, m] = paid / mean if mean > 0 else 1.0
    return out


def _path_rows(frame: pd.DataFrame, through: str, first: str, runs: int) -> pd.DataFrame:
    """One forecast's rows of track.csv."""
    out = frame.assign(through=through, forecast_from=first, runs=runs)
    if "status" not in out.columns:
        out = out.assign(status="forecast", observed_months=0)
    return out.reindex(columns=list(TRACK_COLUMNS))


def origins(scenario: Scenario, through: str) -> list[str]:
    """The earlier months of the path: from January of `through`'s year (or the month before the
    scenario's start, if later) up to the month before `through`."""
    first = max(f"{through[:4]}-01", month_label(f"{scenario.start:%Y-%m}", -1))
    return [month_label(first, i) for i in range(months_between(first, through))]


def track(scenario: Scenario, actuals: pd.DataFrame, through: str | None = None,
          snapshot: pd.DataFrame | None = None, runs: int = 100, seed: int | None = None,
          workers: int | None = 1, store_dir: Path | None = None, track_runs: int = DEFAULT_TRACK_RUNS,
          progress: Progress | None = None) -> Track:
    """Restart the scenario after `through` from the actuals, forecast the rest with `runs`
    replications, join the actual months, and the path of each target's probability over the
    year so far (`track_runs` replications for each earlier month and for the scenario's own
    forecast; 0: the path is this forecast alone, with no comparison)."""
    if seed is None:
        seed = scenario.seed if scenario.seed is not None else fresh_seed()
    model = compile_model(scenario)
    targets = resolve_targets(model)
    through = check_through(scenario, through, Actuals(actuals, model, unpaid_days(scenario)))
    main = restart(scenario, actuals, through, snapshot, stock_noise=True)
    plan = None
    if track_runs > 0:
        plan = run(scenario, runs=track_runs, seed=seed, workers=workers, progress=progress)
    elif any(d > 0 for d in unpaid_days(scenario)) and main.observed_months > 0:
        plan = run(scenario, runs=min(runs, DEFAULT_TRACK_RUNS), seed=seed, workers=workers)
    paths = []
    if track_runs > 0:
        assert plan is not None
        paths.append(_path_rows(plan.targets, "", f"{scenario.start:%Y-%m}", track_runs))
    for month in (origins(scenario, through) if track_runs > 0 else []):
        earlier = restart(scenario, actuals, month, stock_noise=True)
        result = run(earlier.scenario, runs=track_runs, seed=seed, workers=workers, progress=progress)
        joined = combine(model, targets, result, *actual_months(scenario, model, actuals, month,
                                                                earlier.expected, plan))
        paths.append(_path_rows(joined.targets, month, month_label(month, 1), track_runs))
    result = run(main.scenario, runs=runs, seed=seed, workers=workers, store_dir=store_dir, progress=progress)
    combined = combine(model, targets, result, *actual_months(scenario, model, actuals, through,
                                                              main.expected, plan))
    paths.append(_path_rows(combined.targets, through, month_label(through, 1), runs))
    return Track(scenario, main, result, combined, pd.concat(paths, ignore_index=True), actuals, seed)


def check_actuals(scenario: Scenario, actuals: pd.DataFrame, through: str | None = None,
                  snapshot: pd.DataFrame | None = None) -> Restart:
    """The restart `track` makes, with every actual month it will need checked: an error here
    comes before any replication is run."""
    model = compile_model(scenario)
    main = restart(scenario, actuals, through, snapshot, stock_noise=True)
    actual_months(scenario, model, actuals, main.through, main.expected, None)
    return main


def track_cost(scenario: Scenario, actuals: pd.DataFrame, through: str | None, runs: int,
               track_runs: int) -> int:
    """Replications `track` runs with these options (for a progress bar)."""
    model = compile_model(scenario)
    through = check_through(scenario, through, Actuals(actuals, model, unpaid_days(scenario)))
    return runs + (track_runs * (1 + len(origins(scenario, through))) if track_runs > 0 else 0)
