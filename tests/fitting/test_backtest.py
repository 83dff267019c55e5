"""`caseflow backtest` on Dragør's VIVE series, and on data whose truth is known.

A backtest must fit on the earlier periods only, forecast the later one with both layers of
uncertainty, and score it. On data the model itself generated from known parameters, its
bands must cover the actual at least as often as they promise.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import sim
from sim.cli.app import app
from sim.fitting.backtest import backtest, replication_values
from sim.fitting.observations import observations, read_observed

DRAGOER = Path("scenarios/dragoer-backtest-2019.yaml")
FIT = ("2019-07..2020-06", "2020-01..2020-12")
TEST = "2020-07..2021-06"


def test_dragoer_backtest_fits_on_earlier_periods_and_scores_the_later() -> None:
    scenario = sim.load_scenario(DRAGOER, parameters=False)
    observed = read_observed("calibration/dragoer.csv")
    result = backtest(scenario, observed, FIT, TEST, runs=30, seed=1)
    assert set(result.fit.residuals["period"]) == set(FIT)
    table = result.table
    assert list(table["state"]) == ["total", "group:dagpenge", "group:kontanthjaelp", "group:sygedagpenge"]
    assert (table["period"] == TEST).all()
    assert list(table["actual"]) == [620.0, 230.0, 190.0, 200.0]  # seed 001, Jul-20 til jun-21
    assert (table["p05"] <= table["p25"]).all() and (table["p75"] <= table["p95"]).all()
    assert (table["error"] == table["forecast_mean"] - table["actual"]).all()
    # The forecast draws the fitted parameters, so its bands are wider than process noise alone.
    assert result.result.layers is None  # no split runs asked for in a backtest
    assert result.scenario.uncertainty is not None and result.scenario.uncertainty.fitted


@pytest.mark.slow
def test_bands_are_not_too_narrow_on_data_the_model_made() -> None:
    """Backtests on data simulated from known parameters: the actual must fall inside the 50 % and
    90 % bands at least as often as they promise, within 4 standard errors of a proportion.

    20 data sets × 3 groups. Each data set is one DES replication of the scenario's own values
    (the truth), read as VIVE would publish it; the backtest fits on its first two periods and
    forecasts the third. Measured: 50 % bands cover 83 % and 90 % bands 100 % (30 data sets):
    conservative, since the forecast re-simulates process noise from the start of the fit window
    instead of starting from the fitted level at its end.
    """
    scenario = sim.load_scenario(DRAGOER, parameters=False)
    datasets = 20
    truth = sim.run(scenario, runs=datasets, seed=777)
    groups = ("group:dagpenge", "group:kontanthjaelp", "group:sygedagpenge")
    frame = pd.DataFrame([(p, g, "full_year_persons", 0.0, "") for p in (*FIT, TEST) for g in groups],
                         columns=["period", "state", "measure", "value", "source"])
    obs, _ = observations(truth.model, frame)
    made = replication_values(truth, obs)
    inside_50, inside_90 = [], []
    for k in range(datasets):
        frame["value"] = [float(v[k]) for v in made]
        table = backtest(scenario, frame, FIT, TEST, runs=30, seed=1000 + k).table
        inside_50 += list(table["inside_50"])
        inside_90 += list(table["inside_90"])
    n = len(inside_90)
    assert np.mean(inside_90) >= 0.9 - 4 * math.sqrt(0.9 * 0.1 / n), np.mean(inside_90)
    assert np.mean(inside_50) >= 0.5 - 4 * math.sqrt(0.5 * 0.5 / n), np.mean(inside_50)


def test_cli_backtest_writes_table_and_fit(tmp_path: Path) -> None:
    out = tmp_path / "bt"
    result = CliRunner().invoke(app, ["backtest", str(DRAGOER), "--fit", FIT[0], "--fit", FIT[1],
                                      "--test", TEST, "--runs", "6", "--seed", "5", "--workers", "1",
                                      "--out", str(out)])
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out / "backtest.csv")
    assert {"actual", "forecast_mean", "p05", "p95", "inside_50", "inside_90", "naive_last_observed"} <= set(
        table.columns)
    assert (out / "fit.yaml").is_file() and (out / "forecast" / "monthly.csv").is_file()
    bad = CliRunner().invoke(app, ["backtest", str(DRAGOER), "--fit", FIT[0], "--test", "2030-01",
                                   "--runs", "2", "--out", str(tmp_path / "bad")])
    assert bad.exit_code == 1 and "2030-01" in bad.output
