"""Scores of a forecast against the actual (`sim.fitting.scores`), checked against truths from outside.

The CRPS of an ensemble against the closed form for a normal; the weighted interval score against
its definition (Bracher et al. 2021) computed by hand; band coverage on data drawn from the
forecast distribution itself (which must cover at the nominal rate); the benchmarks on series
they forecast exactly (a straight line, a constant); Brier scores by hand.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from helpers import Z
from scipy.stats import norm

from sim.fitting.scores import (
    ALL,
    BANDS,
    BRIER_COLUMNS,
    SCORE_COLUMNS,
    SUMMARY_COLUMNS,
    benchmarks,
    carried_forward,
    crps,
    ensemble_scores,
    horizon,
    linear_trend,
    point_scores,
    probability_met,
    score_figures,
    score_target,
    summarise,
    weighted_interval_score,
)


def _normal_crps(mu: float, sigma: float, y: float) -> float:
    """CRPS(N(μ, σ²), y) = σ [z (2Φ(z) − 1) + 2φ(z) − 1/√π], z = (y − μ)/σ (Gneiting & Raftery 2007)."""
    z = (y - mu) / sigma
    return sigma * (z * (2 * norm.cdf(z) - 1) + 2 * norm.pdf(z) - 1 / math.sqrt(math.pi))


CASES = [(500.0, 40.0, 500.0), (500.0, 40.0, 560.0), (200.0, 15.0, 150.0), (0.0, 1.0, -3.0)]


@pytest.mark.parametrize(("mu", "sigma", "y"), CASES)
def test_crps_of_a_large_ensemble_matches_the_normal_closed_form(mu: float, sigma: float, y: float) -> None:
    """20,000 draws from N(μ, σ²): the ensemble CRPS lies within 4 standard errors of the closed form,
    the standard error taken from 20 batches of 1,000 draws (each batch's CRPS is biased by about
    σ/(√π · 1000) = 0.0006 σ, far below the tolerance)."""
    draws = np.random.default_rng(7).normal(mu, sigma, size=20_000)
    whole = crps(np.array([y]), draws[None, :])[0]
    batches = crps(np.full(20, y), draws.reshape(20, 1000))
    se = batches.std(ddof=1) / math.sqrt(20)
    assert abs(whole - _normal_crps(mu, sigma, y)) < Z * se, (whole, _normal_crps(mu, sigma, y), se)
    assert se < 0.01 * sigma  # the tolerance is tight: under 4 % of σ


@pytest.mark.parametrize(("mu", "sigma", "y"), CASES)
def test_crps_of_the_normal_quantiles_matches_the_closed_form_closely(mu: float, sigma: float,
                                                                      y: float) -> None:
    """An ensemble of the normal's quantiles at (i − ½)/m, m = 10,000, has no sampling noise: its CRPS
    is within 0.1 % of σ of the closed form."""
    m = 10_000
    ensemble = norm.ppf((np.arange(m) + 0.5) / m, loc=mu, scale=sigma)
    expected = _normal_crps(mu, sigma, y)
    assert crps(np.array([y]), ensemble[None, :])[0] == pytest.approx(expected, abs=1e-3 * sigma)


def test_crps_of_a_one_member_ensemble_is_the_absolute_error() -> None:
    assert crps(np.array([10.0, 3.0]), np.array([[13.5], [3.0]])) == pytest.approx([3.5, 0.0])


def _wis_by_hand(y: float, median: float, lower: list[float], upper: list[float]) -> float:
    """(½|y − m| + Σ αₖ/2 · IS_αₖ) ÷ (K + ½), IS_α = (u − l) + 2/α (l − y)⁺ + 2/α (y − u)⁺."""
    alphas = [1 - b for b in BANDS]
    total = 0.5 * abs(y - median)
    for a, lo, hi in zip(alphas, lower, upper, strict=True):
        total += a / 2 * ((hi - lo) + 2 / a * max(lo - y, 0.0) + 2 / a * max(y - hi, 0.0))
    return total / (len(alphas) + 0.5)


def test_weighted_interval_score_follows_its_definition() -> None:
    rng = np.random.default_rng(3)
    y = rng.normal(100, 20, size=50)
    median = rng.normal(100, 5, size=50)
    half = np.sort(rng.uniform(1, 40, size=(50, 3)), axis=1)  # 50 % narrowest, 90 % widest
    lower, upper = median[:, None] - half, median[:, None] + half
    expected = [_wis_by_hand(y[i], median[i], list(lower[i]), list(upper[i])) for i in range(50)]
    np.testing.assert_allclose(weighted_interval_score(y, median, lower, upper), expected, rtol=1e-12)


def test_a_point_forecast_scores_its_absolute_error() -> None:
    actual = np.array([100.0, 250.0, 80.0])
    point = np.array([90.0, 250.0, np.nan])
    scored = point_scores(actual, point)
    np.testing.assert_allclose(scored["crps"], [10.0, 0.0, np.nan])
    np.testing.assert_allclose(scored["wis"], [10.0, 0.0, np.nan])
    np.testing.assert_allclose(scored["ape"], [0.1, 0.0, np.nan])


def test_bands_cover_draws_from_the_forecast_itself_at_their_nominal_rate() -> None:
    """4,000 figures, each forecast by 400 draws from its own normal and observed as one more draw from
    it: each band holds the actual at its nominal rate within 4 binomial standard errors."""
    rng = np.random.default_rng(11)
    n, m = 4000, 400
    mu, sigma = rng.uniform(100, 1000, size=n), rng.uniform(5, 50, size=n)
    ensemble = rng.normal(mu[:, None], sigma[:, None], size=(n, m))
    actual = rng.normal(mu, sigma)
    scored = ensemble_scores(actual, ensemble)
    for band in BANDS:
        share = scored[f"inside_{round(band * 100)}"].mean()
        assert abs(share - band) < Z * math.sqrt(band * (1 - band) / n), (band, share)
    # and a forecast twice too narrow covers far less
    narrow = ensemble_scores(actual, mu[:, None] + (ensemble - mu[:, None]) / 2)
    assert narrow["inside_90"].mean() < 0.9 - 10 * math.sqrt(0.09 / n)


def test_ensemble_scores_give_quantiles_crps_wis_and_ape() -> None:
    ensemble = np.arange(1.0, 101.0)[None, :]  # 1 … 100
    scored = ensemble_scores(np.array([60.0]), ensemble).iloc[0]
    assert scored["p50"] == pytest.approx(50.5) and scored["p05"] == pytest.approx(5.95)
    assert scored["mean"] == pytest.approx(50.5)
    assert scored["inside_50"] and scored["inside_80"] and scored["inside_90"]
    assert scored["ape"] == pytest.approx(abs(50.5 - 60) / 60)
    assert scored["crps"] == pytest.approx(crps(np.array([60.0]), ensemble)[0])


def _monthly(values: list[float], first: str = "2018-01", state: str = "total") -> pd.DataFrame:
    y, m = int(first[:4]), int(first[5:]) - 1
    periods = [f"{y + (m + i) // 12:04d}-{(m + i) % 12 + 1:02d}" for i in range(len(values))]
    return pd.DataFrame({"period": periods, "state": state, "value": values})


def test_the_trend_benchmark_forecasts_an_exactly_linear_series_without_error() -> None:
    history = _monthly([500 + 3.5 * i for i in range(36)])  # 2018-01 … 2020-12
    tests = pd.DataFrame({"period": ["2021-01", "2021-06", "2021-01..2021-12"], "state": "total"})
    actual = np.array([500 + 3.5 * 36, 500 + 3.5 * 41, 500 + 3.5 * (36 + 47) / 2])
    scores = score_figures("2021-01", tests["period"], tests["state"], actual,
                           np.tile(actual[:, None], (1, 5)), history)
    np.testing.assert_allclose(scores["trend"], actual)
    np.testing.assert_allclose(scores[["trend_crps", "trend_wis", "trend_ape"]], 0.0, atol=1e-9)
    assert list(scores["trend_figures"]) == [24, 24, 24]  # the 24 months before the origin only
    assert list(scores["horizon"]) == [1, 6, 12]


def test_the_trend_uses_only_the_24_months_before_the_origin() -> None:
    """A series flat at 100 until 2018-12 and rising 2 a month after it: from 2021-01 the 24 months
    before are all on the rising line, so the kink before them does not bend the trend."""
    values = [100.0] * 12 + [100.0 + 2 * (i + 1) for i in range(24)]
    trend, used = linear_trend(_monthly(values), "2021-01", "2021-03")
    assert used == 24 and trend == pytest.approx(100 + 2 * 27)


def test_the_trend_needs_two_figures_and_reads_periods_at_their_midpoints() -> None:
    one = pd.DataFrame({"period": ["2019-07..2020-06"], "value": [530.0]})
    assert math.isnan(linear_trend(one, "2020-07", "2020-07..2021-06")[0])
    two = pd.DataFrame({"period": ["2018-07..2019-06", "2019-07..2020-06"], "value": [500.0, 530.0]})
    assert linear_trend(two, "2020-07", "2020-07..2021-06") == (pytest.approx(560.0), 2)


def test_carried_forward_on_a_constant_series_has_no_error() -> None:
    history = _monthly([420.0] * 24)
    tests = pd.DataFrame({"period": ["2020-01", "2020-07", "2020"], "state": "total"})
    actual = np.full(3, 420.0)
    scores = score_figures("2020-01", tests["period"], tests["state"], actual, np.full((3, 4), 400.0),
                           history)
    benchmark = ["carried_forward_crps", "carried_forward_wis", "carried_forward_ape"]
    np.testing.assert_allclose(scores[benchmark], 0.0)
    np.testing.assert_allclose(scores[["trend_crps", "trend_ape"]], 0.0, atol=1e-9)  # a flat line too
    assert list(scores.columns) == list(SCORE_COLUMNS)


def test_carried_forward_takes_the_last_figure_before_the_origin_of_its_own_state() -> None:
    history = pd.concat([_monthly([1.0, 2.0, 3.0], "2019-10"),  # … 2019-12: 3
                         pd.DataFrame({"period": ["2019", "2020-01"], "state": "total",
                                       "value": [7.0, 99.0]}),
                         _monthly([50.0] * 3, "2019-10", state="group:dagpenge")])
    total = history[history["state"] == "total"]
    assert carried_forward(total, "2020-01") == 3.0  # the month 2019-12 over the year 2019: it starts later
    tests = pd.DataFrame({"period": ["2020-02", "2020-02"], "state": ["total", "group:dagpenge"]})
    assert list(benchmarks(history, tests, "2020-01")["carried_forward"]) == [3.0, 50.0]
    assert math.isnan(carried_forward(total, "2019-10"))


def test_horizon_counts_the_origin_month_as_one() -> None:
    assert horizon("2020-07", "2020-07") == 1
    assert horizon("2020-07..2021-06", "2020-07") == 12
    assert horizon("2021", "2020-07") == 18


def test_probability_and_brier_of_a_target() -> None:
    ensemble = np.array([480.0, 500.0, 505.0, 510.0, 530.0])
    assert probability_met(ensemble, 505.0, upper=True) == 0.6
    assert probability_met(ensemble, 505.0, upper=False) == 0.6
    row = score_target("2018-01", "Højst 509", "2018", "total", True, 509.0, 500.0, ensemble,
                       {"carried_forward": 520.0, "trend": float("nan")})
    assert row["met"] == 1 and row["probability"] == 0.6  # 480, 500 and 505 are at most 509
    assert row["brier"] == pytest.approx((0.6 - 1) ** 2)
    assert row["carried_forward_probability"] == 0.0 and row["carried_forward_brier"] == 1.0
    assert math.isnan(row["trend_probability"]) and math.isnan(row["trend_brier"])
    assert set(row) == set(BRIER_COLUMNS)


def test_summary_means_per_state_and_over_all() -> None:
    history = _monthly([100.0] * 24).assign(state="a")
    history = pd.concat([history, history.assign(state="b", value=200.0)])
    periods, states = ["2020-01", "2020-02", "2020-01", "2020-02"], ["a", "a", "b", "b"]
    actual = np.array([100.0, 110.0, 200.0, 220.0])
    ensemble = np.array([[90.0, 100.0, 110.0]] * 2 + [[190.0, 200.0, 210.0]] * 2)
    scores = score_figures("2020-01", periods, states, actual, ensemble, history)
    brier = pd.DataFrame([score_target("2020-01", "t", "2020-02", "b", True, 215.0, 220.0, ensemble[3],
                                       {"carried_forward": 200.0, "trend": 200.0})])
    summary = summarise(scores, brier).set_index("state")
    assert list(summary.reset_index().columns) == list(SUMMARY_COLUMNS)
    assert list(summary.index) == ["a", "b", ALL]
    assert summary.loc["a", "mape_carried_forward"] == pytest.approx(np.mean([0.0, 10 / 110]))
    assert summary.loc[ALL, "crps"] == pytest.approx(scores["crps"].mean())
    assert summary.loc[ALL, "coverage_90"] == pytest.approx(scores["inside_90"].mean())
    assert summary.loc["a", "targets"] == 0 and math.isnan(summary.loc["a", "brier"])
    # missed (220 > 215), yet every replication and the carried-forward 200 said met: both score 1
    assert summary.loc["b", "brier"] == 1.0 and summary.loc[ALL, "brier_carried_forward"] == 1.0


def test_vive_beside_the_model_by_hand() -> None:
    """Actual − expected by VIVE for every observed figure VIVE expects, and by the model beside it
    for the scored ones."""
    from sim.fitting.scores import vive_frame

    scores = pd.DataFrame({"origin": ["2020-07"] * 2, "period": ["2020-07..2021-06"] * 2,
                           "state": ["total", "group:dagpenge"], "actual": [620.0, 230.0],
                           "mean": [600.0, 240.0], "p05": [560.0, 215.0], "p95": [640.0, 265.0]})
    observed = pd.DataFrame({"period": ["2020-07..2021-06", "2019-07..2020-06", "2019-07..2020-06",
                                        "2019-01..2019-12"], "state": ["total"] * 4,
                             "measure": ["expected_full_year_persons", "expected_full_year_persons",
                                         "full_year_persons", "expected_full_year_persons"],
                             "value": [520.0, 460.0, 530.0, 450.0]})
    vive = vive_frame(scores, observed)
    assert list(vive["period"]) == ["2019-07..2020-06", "2020-07..2021-06"]  # 2019 has no actual: left out
    fitted, row = vive.iloc[0], vive.iloc[1]
    assert (row["origin"], row["actual_minus_vive"], row["actual_minus_model"]) == ("2020-07", 100.0, 20.0)
    assert not row["vive_inside_model_90"]  # 520 is below the model's 5 % quantile, 560
    assert (fitted["origin"], fitted["actual_minus_vive"]) == ("", 70.0)  # not forecast: VIVE's gap only
    assert np.isnan(fitted["model_mean"]) and np.isnan(fitted["actual_minus_model"])
