"""Fit a scenario's free parameters to observed stocks and flows with the deterministic twin.

Weighted least squares (scipy) of observed full-year persons and move counts against the
twin's expectation (`sim.fitting.cohort`), with each parameter's prior as a penalty row. The
error model (`sim.fitting.error_model`): each figure's measurement sd plus its process noise
from a pilot batch of the engine at the first fit, then a second fit with both; the
covariance is the sandwich that carries the process noise's correlation between months and
states, scaled by the dispersion the residuals leave (quasi-likelihood). Unidentified
parameters are named and get no standard error. Parameters in a pool share a prior whose
spread is learnt from them (`sim.fitting.pooling`): the values and covariance are then that
posterior's about the least-squares fit, and the residuals are at its values.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.optimize import least_squares

from sim.contract.calibrate_spec import Calibrate
from sim.contract.parameters import ValueSetter, get_value, scenario_data
from sim.contract.schema import Scenario
from sim.fitting.cohort import expect
from sim.fitting.error_model import (
    FitErrors,
    ProcessNoise,
    central_jacobian,
    effective_likelihood,
    finite,
    fit_errors,
    process_noise,
    unidentified,
)
from sim.fitting.observations import STOCK, Observation, model_values, observations, value_matrix
from sim.fitting.pooling import Pool, pooled_posterior
from sim.kernel.model import compile_model

PROCESS_SEED = 1
"""The pilot's seed when the scenario gives none."""


Pooling = tuple[np.ndarray, np.ndarray, dict[str, dict[str, Any]]]
"""A pooled fit: the parameters' shift from least squares, their covariance, each pool's record."""


class CalibrationError(ValueError):
    """A calibration that cannot start: nothing to fit, or nothing to fit it to."""


@dataclass(frozen=True)
class Fit:
    """A finished fit: values, their uncertainty, and how well the twin then matches the data."""

    values: dict[str, float]
    standard_errors: dict[str, float]
    """Identified parameters only: an unidentified one has none."""
    covariance: np.ndarray
    """In the order of `values`; zero rows and columns for the unidentified parameters."""
    bounds: dict[str, tuple[float, float]]
    priors: dict[str, tuple[float, float | None]]
    """Prior mean and spread (None: no penalty) of each parameter."""
    start: dict[str, float]
    residuals: pd.DataFrame
    """period, state, measure, observed, sd (the error model's), sd_measurement, sd_process,
    before (at the start values), fitted, residual, z."""
    skipped: pd.DataFrame
    chi2: float
    """Sum of squared standardised residuals of the observations (priors left out), against the
    error model's sd."""
    n_observations: int
    success: bool
    message: str
    evaluations: int
    relative_error: float
    errors: FitErrors
    """The error model's covariance, expected χ², effective figures and dispersion."""
    chi2_measurement: float
    """χ² against the measurement sd alone (√count for a count), as if there were no process noise."""
    process_runs: int
    process_seed: int | None
    unidentified: dict[str, str]
    """Parameters the figures and priors do not pin down, with the reason."""
    anchors: dict[str, str]
    """Each fitted inflow (`inflow_per_week.<state>`) and the date (ISO) its rate holds on: the
    fitted scenario's `trend_from`, else its start. A scenario applying the fit sets `trend_from`
    to it, so rate and trend mean the same whatever its own start."""
    pools: dict[str, dict[str, Any]]
    """Each pool's members, their least-squares values and the posterior of its shared prior sd
    (`sim.fitting.pooling`); `values` and `covariance` are then the pooled posterior's."""

    def about(self) -> dict[str, Any]:
        """What a parameter file records beside the values: priors, start, quality, skipped rows."""
        n, e = self.n_observations, self.errors
        quality = {
            "chi2": round(self.chi2, 4), "chi2_per_figure": round(self.chi2 / n, 4),
            "observations": n, "parameters": len(self.values),
            "error_model": self.error_model, "relative_error": self.relative_error,
            "process_runs": self.process_runs, "process_seed": self.process_seed,
            "expected_chi2": round(e.expected_chi2, 4), "effective_figures": round(e.effective_figures, 2),
            "dispersion": _rounded(e.dispersion), "dispersion_p_value": _rounded(e.p_value),
            "covariance_scale": round(e.scale, 4), "misfit": e.misfit,
            "chi2_measurement_only": round(self.chi2_measurement, 4),
            "chi2_measurement_only_per_figure": round(self.chi2_measurement / n, 4),
            "converged": self.success, "message": self.message,
            "evaluations": self.evaluations, "at_bound": self.at_bound}
        return {
            "unidentified": self.unidentified,
            "anchors": self.anchors,
            **({"pools": self.pools} if self.pools else {}),
            "priors": {n: {"mean": m, "spread": s} for n, (m, s) in self.priors.items()},
            "start": self.start,
            "quality": quality,
            "skipped": self.skipped.to_dict(orient="records"),
        }

    @property
    def error_model(self) -> str:
        """The error model in words, for the fit file and the console."""
        if self.process_runs:
            return (f"measurement ({self.relative_error:g} of each figure) plus process noise from "
                    f"{self.process_runs} engine replications (seed {self.process_seed}), sandwich "
                    "covariance, scaled by max(dispersion, 1)")
        return (f"measurement only ({self.relative_error:g} of each figure, √count for a count), "
                "scaled by max(dispersion, 1)")

    @property
    def at_bound(self) -> list[str]:
        """Parameters that ended on a bound, where the standard error is not to be trusted."""
        return [n for n, v in self.values.items()
                if math.isclose(v, self.bounds[n][0], rel_tol=1e-6, abs_tol=1e-9)
                or math.isclose(v, self.bounds[n][1], rel_tol=1e-6, abs_tol=1e-9)]


def _rounded(x: float | None) -> float | None:
    x = finite(x)
    return None if x is None else float(f"{x:.4g}")


class Predictor:
    """The twin's value of each observation for given parameter values (the observations' weights on
    the twin's cells made at the first call: every value sets the same layout of states and months)."""

    def __init__(self, scenario_plain: dict[str, Any], obs: list[Observation]) -> None:
        self.with_values, self.obs = ValueSetter(scenario_plain), obs
        self.matrix: sparse.csr_array | None = None

    def __call__(self, values: dict[str, float]) -> np.ndarray:
        model = compile_model(Scenario.model_validate(self.with_values(values)))
        expected = expect(model)
        if self.matrix is None:
            self.matrix = value_matrix(model, self.obs)
        return model_values(self.matrix, expected.person_days, expected.flows)


def predict(scenario_plain: dict[str, Any], values: dict[str, float], obs: list[Observation]) -> np.ndarray:
    """The twin's value of each observation with the parameters set to `values`."""
    return Predictor(scenario_plain, obs)(values)


def inflow_anchors(scenario: Scenario, paths: list[str]) -> dict[str, str]:
    """The date each fitted inflow's rate holds on (its `trend_from`, else the scenario's start)."""
    out: dict[str, str] = {}
    for path in paths:
        parts = path.split(".")
        if parts[0] == "inflow_per_week" and len(parts) >= 2 and parts[1] in scenario.inflow_per_week:
            spec = scenario.inflow_per_week[parts[1]]
            out[f"inflow_per_week.{parts[1]}"] = (spec.trend_from or scenario.start).isoformat()
    return out


def calibrate(scenario: Scenario, spec: Calibrate, observed: pd.DataFrame,
              relative_error: float | None = None, process_runs: int | None = None) -> Fit:
    """Fit `spec`'s free parameters of `scenario` to the `observed` rows (long format); the
    observed figures' accuracy is `relative_error`, else the block's; `process_runs` engine
    replications (else the block's) measure the figures' process noise (0: none)."""
    relative_error = spec.relative_error if relative_error is None else relative_error
    runs = spec.process_runs if process_runs is None else process_runs
    if runs == 1:
        raise CalibrationError("process_runs must be 0 (no pilot) or at least 2 (a variance needs two)")
    if not spec.parameters:
        raise CalibrationError("the calibrate block lists no parameters to fit; give calibrate.parameters: "
                               "[{path: …, bounds: [low, high]}, …]")
    fixed = scenario.parameters.values if scenario.parameters is not None else {}
    twice = [p.path for p in spec.parameters if p.path in fixed]
    if twice:
        raise CalibrationError(f"{', '.join(twice)} is set by the parameter file "
                               f"{scenario.parameters.source if scenario.parameters else ''} and free in "
                               "the calibrate block; a path is fitted once: leave it out of one of them")
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
    # A stock's measurement sd is the stated relative error (at least 1). Without a pilot a
    # count's sd is at least its Poisson √count; with one, the pilot measures that noise.
    measured = np.maximum(relative_error * np.abs(value), 1.0)
    counts = np.array([o.measure != STOCK for o in obs])
    first_sd = measured.copy()
    first_sd[counts] = np.maximum(first_sd[counts], np.sqrt(np.abs(value[counts])))

    twin = Predictor(data, obs)

    def residual_fn(sd: np.ndarray) -> Any:
        def residuals(x: np.ndarray) -> np.ndarray:
            fitted = twin(dict(zip(names, x, strict=True)))
            return np.concatenate([(fitted - value) / sd, (x[penalised] - prior_mean[penalised]) / spread])
        return residuals

    x_scale = np.maximum(np.abs(np.clip(np.array([start[n] for n in names]), lows, highs)), 1e-3)

    def solve(sd: np.ndarray, x0: np.ndarray) -> Any:
        return least_squares(residual_fn(sd), np.clip(x0, lows, highs), bounds=(lows, highs),
                             x_scale=x_scale, diff_step=1e-5, xtol=1e-10, ftol=1e-10)

    result = solve(first_sd, np.array([start[n] for n in names]))
    evaluations = int(result.nfev)
    sd, noise, process_seed = first_sd, None, None
    if runs:
        process_seed = scenario.seed if scenario.seed is not None else PROCESS_SEED
        noise = process_noise(data, dict(zip(names, (float(v) for v in result.x), strict=True)), obs,
                              runs, process_seed)
        sd = np.sqrt(measured**2 + noise.variance)
        result = solve(sd, np.asarray(result.x))
        evaluations += int(result.nfev)
    x = np.asarray(result.x, dtype=float)
    values = dict(zip(names, (float(v) for v in x), strict=True))
    jac = central_jacobian(residual_fn(sd), x, lows, highs, x_scale)
    blind = unidentified(jac, x_scale, names)
    fitted = twin(values)
    identified = np.array([n not in blind for n in names])
    errors = _errors(jac, len(obs), value, fitted, sd, measured, noise, identified)
    covariance = errors.covariance
    pools: dict[str, dict[str, Any]] = {}
    pooled = _pool(spec, x, prior_mean, jac[: len(obs)], (fitted - value) / sd, measured, noise, sd,
                   identified, errors.scale)
    if pooled is not None:
        shift, covariance, pools = pooled
        x = np.clip(x + shift, lows, highs)
        values = dict(zip(names, (float(v) for v in x), strict=True))
        fitted = twin(values)
    before = twin(start)
    z = (value - fitted) / sd
    table = pd.DataFrame({
        "period": [o.period for o in obs], "state": [o.state for o in obs],
        "measure": [o.measure for o in obs], "observed": value, "sd": sd,
        "sd_measurement": measured if noise is not None else first_sd,
        "sd_process": np.sqrt(noise.variance) if noise is not None else np.zeros(len(obs)),
        "before": before, "fitted": fitted, "residual": value - fitted, "z": z,
    })
    return Fit(
        values=values,
        standard_errors={n: float(math.sqrt(max(covariance[i, i], 0.0)))
                         for i, n in enumerate(names) if n not in blind},
        covariance=covariance,
        bounds={n: (float(lows[i]), float(highs[i])) for i, n in enumerate(names)},
        priors={n: (float(prior_mean[i]), spreads[i]) for i, n in enumerate(names)},
        start=start, residuals=table, skipped=skipped, chi2=float(np.sum(z**2)),
        n_observations=len(obs), success=bool(result.success), message=str(result.message),
        evaluations=evaluations, relative_error=relative_error, errors=errors,
        chi2_measurement=float(np.sum(((value - fitted) / first_sd) ** 2)),
        process_runs=runs, process_seed=process_seed, unidentified=blind,
        anchors=inflow_anchors(scenario, names), pools=pools,
    )


def _pool(spec: Calibrate, x: np.ndarray, prior_mean: np.ndarray, jac_data: np.ndarray,
          residual: np.ndarray, measured: np.ndarray, noise: ProcessNoise | None, sd: np.ndarray,
          identified: np.ndarray, scale: float) -> Pooling | None:
    """The pools' posterior (`sim.fitting.pooling`) about the least-squares fit `x`: the shift of
    every parameter, their covariance, and what the fit file records of each pool (None: no pool
    with an identified member)."""
    if all(p.pool is None for p in spec.parameters):
        return None
    idx = np.flatnonzero(identified)
    local = {int(i): j for j, i in enumerate(idx)}
    lam, eta = effective_likelihood(jac_data, residual, *_standard(measured, noise, sd), identified, scale)
    precision = np.array([0.0 if p.spread is None else 1.0 / p.spread**2 for p in spec.parameters])[idx]
    centres = (prior_mean - x)[idx]
    groups: dict[str, list[int]] = {}
    for i, p in enumerate(spec.parameters):
        if p.pool is not None and i in local:
            groups.setdefault(p.pool, []).append(i)
    pools = [Pool(name, np.array([local[i] for i in members]),
                  float(max(spec.parameters[i].spread or 0.0 for i in members)))
             for name, members in groups.items()]
    if not pools:
        return None
    k = len(spec.parameters)
    shift, covariance = np.zeros(k), np.zeros((k, k))
    post = pooled_posterior(lam, eta, precision, centres, pools)
    shift[idx] = post.shift
    covariance[np.ix_(idx, idx)] = post.covariance
    about = {s.name: {"members": [spec.parameters[i].path for i in groups[s.name]],
                      "least_squares": {spec.parameters[i].path: float(x[i]) for i in groups[s.name]},
                      "spread_scale": s.scale, "spread_mean": _rounded(s.mean), "spread_sd": _rounded(s.sd),
                      "spread_q05": _rounded(s.q05), "spread_q50": _rounded(s.q50),
                      "spread_q95": _rounded(s.q95)} for s in post.spreads}
    return shift, covariance, about


def _errors(jac: np.ndarray, n: int, value: np.ndarray, fitted: np.ndarray, sd: np.ndarray,
            measured: np.ndarray, noise: ProcessNoise | None, identified: np.ndarray) -> FitErrors:
    """The error model's covariance and dispersion at the fit (`sim.fitting.error_model`)."""
    return fit_errors(jac[:n], jac[n:], (fitted - value) / sd, *_standard(measured, noise, sd), identified)


def _standard(measured: np.ndarray, noise: ProcessNoise | None, sd: np.ndarray
              ) -> tuple[np.ndarray, np.ndarray | None]:
    """The figures' measurement variance and the pilot's deviations in units of the error model's
    sd (1 and None without a pilot, when the sd is the measurement's own)."""
    if noise is None:
        return np.ones(len(sd)), None
    return (measured / sd) ** 2, noise.deviations / sd
