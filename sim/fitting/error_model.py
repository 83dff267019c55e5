"""The calibration's error model: measurement error, the caseload's own process noise, and the rest.

An observed figure y_i differs from the twin's expectation f_i(θ) for two reasons the fit
knows of. The figure was measured with an sd σ_i (`relative_error` × y_i, at least 1). And the
caseload is itself random: who arrives and who leaves when (process noise), which the engine
simulates. A pilot batch of the engine (`process_runs` replications, seeded) at the first
fit's values gives each figure's process variance v_i, and the fit is redone with the sd
s_i = √(σ_i² + v_i).

Process noise is correlated: a month's stock carries most of the month before (the
correlation lasts about a mean stay), and a state's figure is part of its group's and the
total's. Independent figures with the right variances would still overstate what 288 monthly
figures know, so the parameters' covariance is the sandwich

    Cov(θ̂) = A⁻¹ (Jᵀ C J + P) A⁻¹,    A = JᵀJ + P,

with J the Jacobian of the standardised residuals (f − y) / s, P the priors' precision and
C = D⁻¹ Σ D⁻¹ the figures' full covariance in standard units (D = diag(s); Σ = diag(σ²) plus
the pilot's sample covariance). Σ enters only through Jᵀ C J, a k × k matrix that a pilot of a
few dozen replications estimates well when k parameters are few, although the n × n Σ itself
it could not. Without correlation JᵀCJ = JᵀJ and Cov(θ̂) = A⁻¹, the textbook covariance.

What is left over. If the model is right, the standardised residuals' χ² has the expectation
E₀ = tr(M C Mᵀ) + tr(J A⁻¹ P A⁻¹ Jᵀ), M = I − J A⁻¹ Jᵀ (n − k for independent figures and no
priors). The dispersion φ = χ² / E₀ says how much more the twin misses the figures than the
error model explains (a trend the scenario lacks, a rule it does not model); as in
quasi-likelihood, the covariance is multiplied by max(φ, 1). φ is judged against χ²_ν / ν with
ν = E₀² / tr(V²) effective figures (Satterthwaite; V = M C Mᵀ + J A⁻¹ P A⁻¹ Jᵀ, the residuals'
covariance), so a φ of 1.5 from 288 figures that move together as 20 is not taken for a misfit.

Identification. A parameter whose column of the Jacobian (with the priors' rows) is zero moves
no figure and has no prior; a set of columns that are (nearly) collinear moves the figures only
together. Either is unidentified: it gets no standard error, its covariance row is zero, and
the other parameters' covariance holds it at its fitted value.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.stats import chi2 as chi2_dist

from sim.contract.parameters import with_values
from sim.contract.schema import Scenario
from sim.fitting.observations import Observation, period_value
from sim.kernel.engine import simulate
from sim.kernel.model import compile_model
from sim.kernel.streams import replication_seeds

NO_INFORMATION = 1e-6
"""A parameter whose doubling moves the standardised residuals by less than this has no information."""
COLLINEAR = 1e-6
"""Singular values of the unit-scaled Jacobian below this share of the largest mark collinear parameters."""
LOADING = 0.1
"""A parameter belongs to a collinear set when its weight in the near-null direction exceeds this."""
WARN_P = 0.01
"""The dispersion is flagged when a φ this large would arise by chance less often than this."""


@dataclass(frozen=True)
class ProcessNoise:
    """The figures' process noise from a pilot batch of the engine."""

    runs: int
    seed: int
    deviations: np.ndarray
    """[replication, figure]: each replication's figures less their mean over the pilot."""

    @property
    def variance(self) -> np.ndarray:
        """Each figure's process variance (sample variance over the pilot)."""
        return np.asarray((self.deviations**2).sum(axis=0) / (self.runs - 1))


def process_noise(scenario_plain: dict[str, Any], values: dict[str, float], obs: list[Observation],
                  runs: int, seed: int) -> ProcessNoise:
    """The observed figures as `runs` replications of the engine see them, at `values`.

    The pilot runs the same model the twin computes (hazards, clocks, inflows; no programmes,
    caseworkers or dagpenge period), on the replication seeds of `seed`.
    """
    model = compile_model(Scenario.model_validate(with_values(scenario_plain, values)))
    table = np.array([[period_value(model, rec.person_days, rec.flows, o) for o in obs]
                      for rec in (simulate(model, s) for s in replication_seeds(seed, runs))])
    return ProcessNoise(runs, seed, table - table.mean(axis=0))


def unidentified(jac: np.ndarray, scale: np.ndarray, names: list[str]) -> dict[str, str]:
    """Parameters the figures and priors do not pin down, each with the reason.

    `jac` is the Jacobian of every residual (figures and priors) by parameter, `scale` each
    parameter's typical size (a relative change of 1 is a change of `scale`).
    """
    cols = jac * scale[None, :]
    norms = np.linalg.norm(cols, axis=0)
    out = {names[j]: "no observed figure depends on it and it has no prior"
           for j in np.flatnonzero(norms < NO_INFORMATION)}
    live = np.flatnonzero(norms >= NO_INFORMATION)
    if len(live) < 2:
        return out
    _, sv, vt = np.linalg.svd(cols[:, live] / norms[live], full_matrices=False)
    for row in vt[sv < COLLINEAR * sv[0]]:
        group = [names[live[i]] for i in np.flatnonzero(np.abs(row) > LOADING)]
        for n in group:
            others = [g for g in group if g != n]
            out.setdefault(n, "moves the figures only together with " + ", ".join(others)
                           + " (collinear): the figures fix a combination, not each; give priors")
    return out


@dataclass(frozen=True)
class FitErrors:
    """The fit's covariance under the error model, and how well the model explains the residuals."""

    covariance: np.ndarray
    """k × k, scaled by `scale`; zero rows and columns for unidentified parameters."""
    chi2: float
    expected_chi2: float
    """E₀: the χ² the error model expects (n − k for independent figures without priors)."""
    effective_figures: float
    """ν: how many independent figures the correlated ones are worth for judging χ²."""
    dispersion: float | None
    """φ = χ² / E₀; None when nothing is left to estimate it from (E₀ < 0.5)."""
    p_value: float | None
    """P(χ²_ν / ν ≥ φ): how often a dispersion this large arises by chance."""

    @property
    def scale(self) -> float:
        """What the covariance was multiplied by: max(φ, 1)."""
        return max(self.dispersion, 1.0) if self.dispersion is not None else 1.0

    @property
    def misfit(self) -> bool:
        """Whether the twin misses the figures by more than the error model explains."""
        return self.p_value is not None and self.p_value < WARN_P and (self.dispersion or 0.0) > 1.0


def fit_errors(jac_data: np.ndarray, jac_prior: np.ndarray, z: np.ndarray, measured: np.ndarray,
                    noise: np.ndarray | None, identified: np.ndarray) -> FitErrors:
    """The sandwich covariance and the dispersion (see the module docstring).

    `jac_data` [figure, parameter] and `jac_prior` [prior row, parameter] are the Jacobians of
    the standardised residuals; `z` the figures' standardised residuals at the fit; `measured`
    each figure's measurement variance ÷ s² (1 when s is the measurement sd alone); `noise` the
    pilot's deviations ÷ s [replication, figure], or None without a pilot; `identified` a mask
    of the parameters to estimate.
    """
    k = jac_data.shape[1]
    n = len(z)
    idx = np.flatnonzero(identified)
    j = jac_data[:, idx]
    p = jac_prior[:, idx].T @ jac_prior[:, idx]
    a_inv = np.linalg.pinv(j.T @ j + p)
    cov_i = a_inv @ (data_meat(j, measured, noise) + p) @ a_inv
    # The residuals' covariance under the error model, for E₀ and ν.
    m = np.eye(n) - j @ a_inv @ j.T
    c = np.diag(measured)
    if noise is not None:
        c = c + noise.T @ noise / (len(noise) - 1)
    v = m @ c @ m.T + j @ a_inv @ p @ a_inv @ j.T
    expected = float(np.trace(v))
    chi2 = float(z @ z)
    dispersion = p_value = None
    effective = expected**2 / float(np.sum(v * v)) if expected > 0 else 0.0
    if expected >= 0.5:
        dispersion = chi2 / expected
        p_value = float(chi2_dist.sf(dispersion * effective, effective))
    scale = max(dispersion, 1.0) if dispersion is not None else 1.0
    cov = np.zeros((k, k))
    cov[np.ix_(idx, idx)] = cov_i * scale
    return FitErrors(cov, chi2, expected, effective, dispersion, p_value)


def data_meat(j: np.ndarray, measured: np.ndarray, noise: np.ndarray | None) -> np.ndarray:
    """JᵀCJ: the figures' covariance C (standard units) seen through the Jacobian `j` of the
    identified parameters, C = diag(`measured`) plus the pilot's sample covariance."""
    meat = j.T @ (measured[:, None] * j)
    if noise is not None:
        g = noise @ j
        meat += g.T @ g / (len(noise) - 1)
    return np.asarray(meat)


def effective_likelihood(jac_data: np.ndarray, residual: np.ndarray, measured: np.ndarray,
                         noise: np.ndarray | None, identified: np.ndarray,
                         scale: float) -> tuple[np.ndarray, np.ndarray]:
    """The data's Gaussian log-likelihood −½ δᵀΛδ + ηᵀδ in δ = θ − θ̂ (identified parameters).

    Its curvature is the one the sandwich implies: Λ = H G⁺ H / scale (H = JᵀJ, G = JᵀCJ),
    what the figures know once their correlation and the dispersion are counted, so a
    normal prior added to it gives the sandwich's covariance back when C = I; its centre is
    where the data alone would put the parameters (η = −H G⁺ Jᵀr / scale, r the standardised
    residuals (f − y) / s at θ̂). Used by `sim.fitting.pooling`."""
    j = jac_data[:, np.flatnonzero(identified)]
    h = j.T @ j
    w = h @ np.linalg.pinv(data_meat(j, measured, noise)) / scale
    lam = w @ h
    return (lam + lam.T) / 2, -w @ (j.T @ residual)


def central_jacobian(fun: Any, x: np.ndarray, lows: np.ndarray, highs: np.ndarray, scale: np.ndarray,
                     step: float = 1e-4) -> np.ndarray:
    """The Jacobian of `fun` at `x` by central differences (one-sided at a bound), accurate
    enough to tell collinear parameters from nearly collinear ones."""
    base = np.asarray(fun(x))
    out = np.zeros((len(base), len(x)))
    for i in range(len(x)):
        h = step * scale[i]
        up, down = min(x[i] + h, highs[i]), max(x[i] - h, lows[i])
        if up - down <= 0:
            continue
        xu, xd = x.copy(), x.copy()
        xu[i], xd[i] = up, down
        fu = base if up == x[i] else np.asarray(fun(xu))
        fd = base if down == x[i] else np.asarray(fun(xd))
        out[:, i] = (fu - fd) / (up - down)
    return out


def finite(x: float | None) -> float | None:
    """A float for the fit file: None stays None, NaN becomes None."""
    return None if x is None or not math.isfinite(x) else float(x)
