"""Backtest: calibrate on earlier periods, forecast a later one by Monte Carlo, score against the actual.

The forecast carries both uncertainty layers (process noise and the fitted parameters'
covariance), so the score says whether the bands are honest: the actual should fall inside
the 50 % band about half the time and inside the 90 % band nine times in ten.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sim.batch.run import Progress, RunResult, run
from sim.contract.loader import scenario_from_dict
from sim.contract.parameters import scenario_data
from sim.contract.schema import Scenario
from sim.fitting.calibrate import Fit, calibrate
from sim.fitting.observations import STOCK, Observation, observations, period_average

QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)


@dataclass
class Backtest:
    """The fit on the earlier periods, the forecast run and its score on the test period."""

    fit: Fit
    scenario: Scenario
    """The scenario with the fitted values and their uncertainty, as forecast."""
    result: RunResult
    table: pd.DataFrame
    """Per test figure: actual, forecast mean and quantiles, error, inside the 50 % / 90 % bands,
    and the naive forecast (the last fit period's figure carried forward) to compare with."""


def fitted_scenario(scenario: Scenario, fit: Fit) -> Scenario:
    """The scenario with the fit's values applied (by the loader, as for a parameter file) and its
    covariance drawn per replication (no extra fixed-parameter runs: a backtest scores the bands)."""
    data = scenario_data(scenario)
    data.pop("calibrate", None)
    data["parameters"] = {"source": "backtest fit", "values": fit.values,
                          "standard_errors": fit.standard_errors,
                          "covariance": fit.covariance.tolist(), "bounds": fit.bounds}
    uncertainty = dict(data.get("uncertainty") or {})
    data["uncertainty"] = uncertainty | {"fitted": True, "split_runs": 0}
    return scenario_from_dict(data, "<backtest>")


def replication_values(result: RunResult, obs: list[Observation]) -> list[np.ndarray]:
    """Each replication's full-year persons for each observation (stocks only: the store keeps
    full-time persons per replication, but flows only as sums)."""
    model = result.model
    monthly = np.asarray(result.store.arrays["monthly"]).reshape(*result.store.shapes["monthly"], result.runs)
    days = model.calendar.days
    person_days = np.moveaxis(monthly[: model.n_benefit], -1, 0) * days  # [run, state, month]
    return [np.asarray(period_average(person_days, days, o)) for o in obs]


def backtest(scenario: Scenario, observed: pd.DataFrame, fit_periods: tuple[str, ...], test_period: str,
             runs: int, seed: int | None, workers: int | None = 1, store_dir: Path | None = None,
             relative_error: float | None = None, progress: Progress | None = None) -> Backtest:
    """Fit the scenario's free parameters on `fit_periods`, forecast `test_period`'s stocks, score them."""
    if scenario.calibrate is None:
        raise ValueError("the scenario has no calibrate: block naming the parameters to fit")
    spec = scenario.calibrate.model_copy(update={"periods": fit_periods})
    fit = calibrate(scenario, spec, observed, relative_error)
    forecast = fitted_scenario(scenario, fit)
    result = run(forecast, runs=runs, seed=seed, workers=workers, store_dir=store_dir, progress=progress)
    test, _ = observations(result.model, observed, (STOCK,), (test_period,))
    if not test:
        raise ValueError(f"no observed {STOCK} for period {test_period} inside the horizon")
    naive = {str(r.state): float(str(r.value)) for p in fit_periods for r in observed.itertuples(index=False)
             if str(r.period) == p and r.measure == STOCK}
    rows = []
    for o, values in zip(test, replication_values(result, test), strict=True):
        q = np.quantile(values, QUANTILES)
        mean = float(values.mean())
        rows.append({
            "period": o.period, "state": o.state, "actual": o.value, "forecast_mean": mean,
            **{f"p{round(x * 100):02d}": float(v) for x, v in zip(QUANTILES, q, strict=True)},
            "error": mean - o.value, "error_share": (mean - o.value) / o.value if o.value else np.nan,
            "inside_50": bool(q[1] <= o.value <= q[3]), "inside_90": bool(q[0] <= o.value <= q[4]),
            "naive_last_observed": naive.get(o.state, np.nan),
        })
    return Backtest(fit, forecast, result, pd.DataFrame(rows))
