"""Parameter uncertainty carried into the forecast: per-replication draws and the layer split.

With an inflow drawn per replication, the yearly stock's variance is the process variance
plus (stock per unit inflow)² × var(inflow) (law of total variance; the stock is linear in
the inflow), so the drawn spread is known in advance from the fixed-parameter spread.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from helpers import scenario

import sim
from sim.batch.uncertain import ParameterDraws

EXIT = 0.05


def _uncertain(sd: float, fitted: bool = False) -> sim.Scenario:
    blocks: dict[str, object] = dict(
        months=24, states={"a_dagpenge": {}}, initial={"a_dagpenge": 200},
        inflow_per_week={"a_dagpenge": 10},
        transitions={"a_dagpenge": [{"to": "job", "rate_per_week": EXIT}]},
        targets=[{"name": "højst 210", "states": ["total"], "year": 2019, "at_most": 210}],
        uncertainty={"parameters": [{"path": "inflow_per_week.a_dagpenge", "sd": sd}], "split_runs": 200},
    )
    if fitted:
        blocks["parameters"] = {"values": {"transitions.a_dagpenge.job.rate_per_week": EXIT},
                                "standard_errors": {"transitions.a_dagpenge.job.rate_per_week": 0.005}}
        blocks["uncertainty"] = {"fitted": True, "split_runs": 50}
    return scenario(**blocks)


def test_draws_are_per_replication_and_reproducible() -> None:
    s = _uncertain(2.0)
    draws = ParameterDraws(sim.compile_model(s))
    seeds = np.random.SeedSequence(5).spawn(400)
    values = np.array([draws.values(q)["inflow_per_week.a_dagpenge"] for q in seeds])
    again = np.array([draws.values(q)["inflow_per_week.a_dagpenge"] for q in seeds])
    np.testing.assert_array_equal(values, again)
    se_mean, se_sd = 2.0 / math.sqrt(400), 2.0 / math.sqrt(2 * 399)
    assert abs(values.mean() - 10) < 4 * se_mean
    assert abs(values.std(ddof=1) - 2.0) < 4 * se_sd


def test_drawn_variance_is_process_plus_parameter_variance() -> None:
    s = _uncertain(2.0)
    result = sim.run(s, runs=400, seed=11)
    layers = result.layers
    assert layers is not None
    row = layers.set_index("quantity").loc["2019 total full-year persons"]
    # Stock per unit weekly inflow over 2019 (second year, from a stationary start at 200):
    # the stationary level is inflow / rate, so d(mean)/d(inflow) → 1/r = 20 within a year or so.
    slope = 1 / EXIT * (1 - math.exp(-EXIT * 52) * (1 - math.exp(-EXIT * 52)) / (EXIT * 52))
    expected = math.sqrt(row["sd_parameters_fixed"] ** 2 + (slope * 2.0) ** 2)
    # SE of a sample sd from 400 runs is about sd / sqrt(2 × 399).
    assert abs(row["sd_parameters_drawn"] - expected) < 4 * expected / math.sqrt(2 * 399)
    assert row["dominant"] == "parameters"
    assert result.layers is not None and len(result.layers) == 3  # two years and one target


def test_no_uncertainty_means_no_layers() -> None:
    s = scenario(months=12, states={"a_dagpenge": {}}, initial={"a_dagpenge": 100},
                 inflow_per_week={"a_dagpenge": 5},
                 transitions={"a_dagpenge": [{"to": "job", "rate_per_week": EXIT}]})
    result = sim.run(s, runs=5, seed=3)
    assert result.layers is None


def test_fitted_parameters_are_drawn_from_their_standard_errors() -> None:
    s = _uncertain(0.0001, fitted=True)
    draws = ParameterDraws(sim.compile_model(s))
    values = np.array([draws.values(q)["transitions.a_dagpenge.job.rate_per_week"]
                       for q in np.random.SeedSequence(2).spawn(300)])
    assert abs(values.mean() - EXIT) < 4 * 0.005 / math.sqrt(300)
    assert values.std(ddof=1) == pytest.approx(0.005, rel=4 / math.sqrt(2 * 299))


def test_same_numbers_for_any_worker_count() -> None:
    s = _uncertain(2.0)
    one = sim.run(s, runs=8, seed=4, workers=1)
    two = sim.run(s, runs=8, seed=4, workers=2)
    np.testing.assert_array_equal(one.yearly["mean"].to_numpy(), two.yearly["mean"].to_numpy())
    assert one.layers is not None and two.layers is not None
    np.testing.assert_array_equal(one.layers["sd_parameters_fixed"], two.layers["sd_parameters_fixed"])
