"""Partial pooling (`sim.fitting.pooling`): the shared prior's posterior, against outside figures.

The grid's answer is checked against the same posterior integrated by `scipy.integrate.quad`
from another formula (the members' likelihood means as normals of variance 1/λ + τ²), the
effective likelihood against the sandwich it stands for, and the whole against data drawn from
the hierarchical model itself, where the Bayes posterior's variance is the expected squared
error (an identity, so a tolerance in standard errors across simulated pools).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from helpers import scenario
from scipy import integrate, stats
from typer.testing import CliRunner

from sim.cli.app import app
from sim.contract.calibrate_spec import Calibrate
from sim.contract.parameters import scenario_data
from sim.contract.schema import Scenario
from sim.fitting.calibrate import calibrate, predict
from sim.fitting.error_model import effective_likelihood, fit_errors
from sim.fitting.observations import observations
from sim.fitting.pooling import Pool, pooled_posterior
from sim.kernel.model import compile_model


def _quad_posterior(lam: np.ndarray, eta: np.ndarray, centres: np.ndarray, scale: float
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Posterior mean and variance of independent members by quadrature over τ."""
    means = eta / lam

    def density(tau: float) -> float:
        return float(stats.halfnorm.pdf(tau, scale=scale)
                     * np.prod(stats.norm.pdf(means, centres, np.sqrt(1 / lam + tau**2))))

    def moment(tau: float, i: int, power: int) -> float:
        k = lam[i] + 1 / tau**2
        mu = (eta[i] + centres[i] / tau**2) / k
        return density(tau) * (mu if power == 1 else 1 / k + mu**2)

    top = 8 * scale
    z = integrate.quad(density, 0, top, limit=200, epsabs=0)[0]
    m1, m2 = (np.array([integrate.quad(moment, 0, top, args=(i, power), limit=200, epsabs=0)[0]
                        for i in range(len(lam))]) for power in (1, 2))
    return m1 / z, m2 / z - (m1 / z) ** 2


def test_grid_posterior_matches_quadrature() -> None:
    lam = 1 / np.array([0.05, 0.08, 0.12, 0.03]) ** 2
    data = np.array([0.12, -0.2, 0.25, 0.04])  # likelihood means about the fit
    eta = lam * data
    centres = np.array([0.01, -0.02, 0.0, 0.03])
    post = pooled_posterior(np.diag(lam), eta, np.zeros(4), centres, [Pool("t", np.arange(4), 0.15)])
    mean, var = _quad_posterior(lam, eta, centres, 0.15)
    np.testing.assert_allclose(post.shift, mean, rtol=1e-4, atol=1e-7)
    np.testing.assert_allclose(np.diag(post.covariance), var, rtol=1e-4)
    assert 0 < post.spreads[0].q05 < post.spreads[0].q50 < post.spreads[0].q95


def test_independent_pools_give_each_its_own_answer() -> None:
    """Two pools the likelihood does not couple factorise: each pool's τ and members come out as
    they do alone (up to the coarser two-pool grid), which pins the grid's axis order too."""
    lam = 1 / np.array([0.05, 0.08, 0.3, 0.4]) ** 2
    eta = lam * np.array([0.12, -0.2, 2.0, -1.5])
    centres = np.zeros(4)
    both = pooled_posterior(np.diag(lam), eta, np.zeros(4), centres,
                            [Pool("small", np.arange(2), 0.15), Pool("large", np.arange(2, 4), 3.0)])
    for j, members, scale in ((0, np.arange(2), 0.15), (1, np.arange(2, 4), 3.0)):
        alone = pooled_posterior(np.diag(lam[members]), eta[members], np.zeros(2), np.zeros(2),
                                 [Pool("one", np.arange(2), scale)])
        np.testing.assert_allclose(both.shift[members], alone.shift, rtol=2e-3)
        assert both.spreads[j].mean == pytest.approx(alone.spreads[0].mean, rel=2e-3)


def test_a_member_with_its_own_prior_keeps_it_out_of_the_pool() -> None:
    """A parameter outside the pool with a normal prior gets the conjugate posterior whatever τ."""
    lam = np.diag(1 / np.array([0.05, 0.08, 0.1]) ** 2)
    eta = lam @ np.array([0.1, -0.1, 0.3])
    precision = np.array([0.0, 0.0, 1 / 0.2**2])
    centres = np.array([0.0, 0.0, 0.1])
    post = pooled_posterior(lam, eta, precision, centres, [Pool("t", np.arange(2), 0.15)])
    k = lam[2, 2] + precision[2]
    assert post.shift[2] == pytest.approx((eta[2] + precision[2] * centres[2]) / k, rel=1e-10)
    assert post.covariance[2, 2] == pytest.approx(1 / k, rel=1e-10)
    assert post.covariance[0, 2] == pytest.approx(0, abs=1e-12)


def test_effective_likelihood_is_the_sandwich_when_figures_are_independent() -> None:
    """C = I: Λ = JᵀJ, η = −Jᵀr, and Λ plus the priors' precision inverts to fit_errors' covariance."""
    rng = np.random.default_rng(5)
    j, r = rng.normal(size=(30, 4)), rng.normal(size=30)
    prior = np.diag([0.0, 2.0, 0.0, 1.0])[[1, 3]]  # prior rows on the second and fourth parameter
    identified = np.ones(4, dtype=bool)
    lam, eta = effective_likelihood(j, r, np.ones(30), None, identified, 1.0)
    np.testing.assert_allclose(lam, j.T @ j, rtol=1e-10)
    np.testing.assert_allclose(eta, -j.T @ r, rtol=1e-10)
    errors = fit_errors(j, prior, np.zeros(30), np.ones(30), None, identified)
    # χ² = 0 keeps the dispersion scale at 1.
    np.testing.assert_allclose(np.linalg.inv(lam + prior.T @ prior), errors.covariance, rtol=1e-8)


def test_pooled_posterior_is_calibrated_under_the_model_it_assumes() -> None:
    """Pools drawn from the hierarchical model: mean squared error = mean posterior variance
    (3 standard errors, the pool the unit), and pooling beats each member on its own."""
    rng = np.random.default_rng(11)
    scale, n_pools, members = 0.15, 1500, 4
    gaps, naive = [], []
    for _ in range(n_pools):
        tau = abs(rng.normal(0, scale))
        theta = rng.normal(0, tau, members)
        se = rng.uniform(0.03, 0.15, members)
        seen = theta + rng.normal(0, se)
        # About the fit at `seen` (the data's own best) the likelihood's η is 0; the prior mean 0 is at −seen.
        post = pooled_posterior(np.diag(1 / se**2), np.zeros(members), np.zeros(members), -seen,
                                [Pool("t", np.arange(members), scale)])
        mu = seen + post.shift
        gaps.append(np.sum((theta - mu) ** 2) - np.trace(post.covariance))
        naive.append(np.sum((theta - seen) ** 2) - np.sum((theta - mu) ** 2))
    gaps_a, naive_a = np.array(gaps), np.array(naive)
    assert abs(gaps_a.mean()) < 3 * gaps_a.std(ddof=1) / math.sqrt(n_pools)
    assert naive_a.mean() > 3 * naive_a.std(ddof=1) / math.sqrt(n_pools)


def _three_states() -> tuple[Scenario, pd.DataFrame, dict[str, float]]:
    codes = ("a_dagpenge", "sygedagpenge", "jobafklaring")
    base = scenario(months=24, states={c: {} for c in codes}, initial={c: 12 for c in codes},
                    inflow_per_week={c: {"rate": 1, "trend_per_year": 0.0} for c in codes},
                    transitions={c: [{"to": "job", "rate_per_week": 0.08}] for c in codes})
    truth = {"inflow_per_week.a_dagpenge.trend_per_year": 0.03,
             "inflow_per_week.sygedagpenge.trend_per_year": -0.02,
             "inflow_per_week.jobafklaring.trend_per_year": 0.01}
    months = [f"{y}-{m:02d}" for y in (2018, 2019) for m in range(1, 13)]
    frame = pd.DataFrame([(p, s, "full_year_persons", 0.0, "") for p in months for s in codes],
                         columns=["period", "state", "measure", "value", "source"])
    obs, _ = observations(compile_model(base), frame)
    noise = np.random.default_rng(3).normal(0, 1.0, len(obs))
    frame["value"] = predict(scenario_data(base), truth, obs) + noise
    return base, frame, truth


def test_calibrate_pools_trends_and_records_the_spread() -> None:
    base, frame, truth = _three_states()
    free = [{"path": p, "bounds": [-0.9, 0.9], "prior": 0.0, "spread": 0.15} for p in truth]
    alone = calibrate(base, Calibrate.model_validate({"process_runs": 0, "relative_error": 0.02,
                                                      "parameters": free}), frame)
    pooled = calibrate(base, Calibrate.model_validate({"process_runs": 0, "relative_error": 0.02,
                                                       "parameters": [f | {"pool": "trends"} for f in free]}),
                       frame)
    record = pooled.pools["trends"]
    assert record["members"] == list(truth)
    assert record["least_squares"] == pytest.approx(alone.values, rel=1e-6)
    assert 0 < record["spread_q05"] < record["spread_mean"] < record["spread_q95"] < 0.15 * 6
    for path in truth:  # independent states: each moves toward the prior mean 0
        assert abs(pooled.values[path]) < abs(alone.values[path])
        assert pooled.standard_errors[path] > 0
    assert np.linalg.eigvalsh(pooled.covariance).min() > -1e-12
    assert "pools" in pooled.about() and "pools" not in alone.about()
    assert pooled.chi2 >= alone.chi2 - 1e-9  # least squares is the data's best; pooling trades a little


@pytest.mark.parametrize(("parameters", "words"), [
    ([{"path": "a", "bounds": [0, 1], "pool": "p"},
      {"path": "b", "bounds": [0, 1], "spread": 1, "pool": "p"}], "needs a spread"),
    ([{"path": "a", "bounds": [0, 1], "spread": 1, "pool": "p"}], "has one parameter"),
    ([{"path": f"x{i}", "bounds": [0, 1], "spread": 1, "pool": f"p{i // 2}"} for i in range(8)], "at most 3"),
])
def test_bad_pools_are_refused(parameters: list[dict[str, object]], words: str) -> None:
    with pytest.raises(ValueError, match=words):
        Calibrate.model_validate({"parameters": parameters})


def test_cli_writes_the_pools_and_prints_their_spread(tmp_path: Path) -> None:
    base, frame, truth = _three_states()
    (tmp_path / "calibration").mkdir()
    frame.to_csv(tmp_path / "calibration" / "obs.csv", index=False)
    data = scenario_data(base) | {"calibrate": {
        "observed": "calibration/obs.csv", "process_runs": 0, "relative_error": 0.02,
        "parameters": [{"path": p, "bounds": [-0.9, 0.9], "prior": 0.0, "spread": 0.15, "pool": "trends"}
                       for p in truth]}}
    path = tmp_path / "three.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    result = CliRunner().invoke(app, ["calibrate", str(path)])
    assert result.exit_code == 0, result.output
    assert "Pool trends: 3 parameters share a prior sd τ" in " ".join(result.output.split())
    written = yaml.safe_load((tmp_path / "calibration" / "three-fit.yaml").read_text(encoding="utf-8"))
    assert written["pools"]["trends"]["members"] == list(truth)
    assert set(written["values"]) == set(truth)
