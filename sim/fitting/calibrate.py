"""Fit a scenario's free parameters to observed stocks and flows with the deterministic twin.

Weighted least squares (scipy) of observed full-year persons and move counts against the
twin's expectation (`sim.fitting.cohort`), with each parameter's prior as a penalty row; standard
errors and the covariance come from the Jacobian at the optimum (Laplace approximation of
the posterior).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.optimize import least_squares

from sim.contract.calibrate_spec import Calibrate
from sim.contract.parameters import get_value, scenario_data, with_values
from sim.contract.schema import Scenario
from sim.fitting.cohort import expect
from sim.fitting.observations import STOCK, Observation, observations, period_value
from sim.kernel.model import compile_model


class CalibrationError(ValueError):
    """A calibration that cannot start: nothing to fit, or nothing to fit it to."""


@dataclass(frozen=True)
class Fit:
    """A finished fit: values, their uncertainty, and how well the twin then matches the data."""

    values: dict[str, float]
    standard_errors: dict[str, float]
    covariance: np.ndarray
    bounds: dict[str, tuple[float, float]]
    priors: dict[str, tuple[float, float | None]]
    """Prior mean and spread (None: no penalty) of each parameter."""
    start: dict[str, float]
    residuals: pd.DataFrame
    """period, state, measure, observed, sd, before (at the start values), fitted, residual, z."""
    skipped: pd.DataFrame
    chi2: float
    """Sum of squared standardised residuals of the observations (priors left out)."""
    n_observations: int
    success: bool
    message: str
    evaluations: int
    relative_error: float

    def about(self) -> dict[str, Any]:
        """What a parameter file records beside the values: priors, start, quality, skipped rows."""
        return {
            "priors": {n: {"mean": m, "spread": s} for n, (m, s) in self.priors.items()},
            "start": self.start,
            "quality": {"chi2": round(self.chi2, 4), "observations": self.n_observations,
                        "parameters": len(self.values), "relative_error": self.relative_error,
                        "converged": self.success, "message": self.message,
                        "evaluations": self.evaluations, "at_bound": self.at_bound},
            "skipped": self.skipped.to_dict(orient="records"),
        }

    @property
    def at_bound(self) -> list[str]:
        """Parameters that ended on a bound, where the standard error is not to be trusted."""
        return [n for n, v in self.values.items()
                if math.isclose(v, self.bounds[n][0], rel_tol=1e-6, abs_tol=1e-9)
                or math.isclose(v, self.bounds[n][1], rel_tol=1e-6, abs_tol=1e-9)]


def predict(scenario_plain: dict[str, Any], values: dict[str, float], obs: list[Observation]) -> np.ndarray:
    """The twin's value of each observation with the parameters set to `values`."""
    model = compile_model(Scenario.model_validate(with_values(scenario_plain, values)))
    expected = expect(model)
    return np.array([period_value(model, expected.person_days, expected.flows, o) for o in obs])


def calibrate(scenario: Scenario, spec: Calibrate, observed: pd.DataFrame,
              relative_error: float | None = None) -> Fit:
    """Fit `spec`'s free parameters of `scenario` to the `observed` rows (long format); the
    observed figures' accuracy is `relative_error`, else the block's."""
    relative_error = spec.relative_error if relative_error is None else relative_error
    if not spec.parameters:
        raise CalibrationError("the calibrate block lists no parameters to fit; give calibrate.parameters: "
                               "[{path: …, bounds: [low, high]}, …]")
    model = compile_model(scenario)
    obs, skipped = observations(model, observed, spec.measures, spec.periods, spec.states)
    if not obs:
        raise CalibrationError(
            "no observed row matches the scenario: need measure "
            f"{'/'.join(spec.measures)}, a period inside the horizon "
            f"{model.calendar.labels[0]}..{model.calendar.labels[-1]}"
            + (f" among {', '.join(spec.periods)}" if spec.periods else "")
            + " and a state, group or total the scenario has")
    data = scenario_data(scenario)
    names = [p.path for p in spec.parameters]
    start = {p.path: get_value(data, p.path) for p in spec.parameters}
    lows = np.array([p.bounds[0] for p in spec.parameters])
    highs = np.array([p.bounds[1] for p in spec.parameters])
    prior_mean = np.array([p.prior if p.prior is not None else start[p.path] for p in spec.parameters])
    spreads = [p.spread for p in spec.parameters]
    penalised = [i for i, s in enumerate(spreads) if s is not None]
    spread = np.array([spreads[i] for i in penalised], dtype=float)
    value = np.array([o.value for o in obs])
    # A count's own Poisson noise is at least √count; a stock's sd is the stated relative error.
    sd = np.maximum(relative_error * np.abs(value), 1.0)
    counts = np.array([o.measure != STOCK for o in obs])
    sd[counts] = np.maximum(sd[counts], np.sqrt(np.abs(value[counts])))

    def residuals(x: np.ndarray) -> np.ndarray:
        fitted = predict(data, dict(zip(names, x, strict=True)), obs)
        return np.concatenate([(fitted - value) / sd, (x[penalised] - prior_mean[penalised]) / spread])

    x0 = np.clip(np.array([start[n] for n in names]), lows, highs)
    result = least_squares(residuals, x0, bounds=(lows, highs), x_scale=np.maximum(np.abs(x0), 1e-3),
                           diff_step=1e-5, xtol=1e-10, ftol=1e-10)
    jac = np.asarray(result.jac)
    covariance = np.linalg.pinv(jac.T @ jac)
    values = dict(zip(names, (float(v) for v in result.x), strict=True))
    fitted = predict(data, values, obs)
    before = predict(data, start, obs)
    z = (value - fitted) / sd
    table = pd.DataFrame({
        "period": [o.period for o in obs], "state": [o.state for o in obs],
        "measure": [o.measure for o in obs], "observed": value, "sd": sd, "before": before,
        "fitted": fitted, "residual": value - fitted, "z": z,
    })
    return Fit(
        values=values,
        standard_errors={n: float(math.sqrt(max(covariance[i, i], 0.0))) for i, n in enumerate(names)},
        covariance=covariance,
        bounds={n: (float(lows[i]), float(highs[i])) for i, n in enumerate(names)},
        priors={n: (float(prior_mean[i]), spreads[i]) for i, n in enumerate(names)},
        start=start, residuals=table, skipped=skipped, chi2=float(np.sum(z**2)),
        n_observations=len(obs), success=bool(result.success), message=str(result.message),
        evaluations=int(result.nfev), relative_error=relative_error,
    )
