"""Backtests (`sim.fitting.backtest`): windows, origins, the restart at each origin, and honest bands.

A backtest must fit only on the data before each origin (refusing explicit windows that overlap),
forecast from the observed stock at the origin with both layers of uncertainty, and score the
figures after it. On data the model itself generated from known parameters, its bands must
cover the actual at least as often as they promise.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helpers import Z, scenario

import sim
from sim.fitting.backtest import (
    BacktestError,
    backtest,
    check_windows,
    every_origins,
    origin_windows,
    parse_origins,
    replication_values,
    rolling_backtest,
)
from sim.fitting.observations import observations, read_observed
from sim.fitting.scores import BRIER_COLUMNS, SCORE_COLUMNS, month_number, month_text
from sim.kernel.model import compile_model

DRAGOER = Path("scenarios/dragoer-backtest-2019.yaml")
FIT = ("2019-07..2020-06",)
TEST = "2020-07..2021-06"
STATES = ("a_dagpenge", "sygedagpenge", "total")


def test_overlapping_windows_are_refused_naming_both() -> None:
    with pytest.raises(BacktestError) as caught:
        check_windows(("2019-07..2020-06", "2020-01..2020-12"), (TEST,))
    message = str(caught.value)
    assert "2020-01..2020-12" in message and TEST in message and "2020-07..2020-12 in both" in message
    with pytest.raises(BacktestError, match="2021-07 does not end before the forecast origin 2020-07"):
        check_windows(("2021-07",), (TEST,))  # later than the test window: no overlap, still refused
    assert check_windows(FIT, (TEST,)) == "2020-07"
    with pytest.raises(BacktestError, match="'2019-13'"):
        check_windows(("2019-13",), (TEST,))


def test_origins_are_months() -> None:
    assert parse_origins("2019-07, 2019-01,2019-07") == ("2019-01", "2019-07")
    for bad in ("2019-7", "2019-13", "july", ""):
        with pytest.raises(BacktestError):
            parse_origins(bad)


def test_dragoer_backtest_fits_on_the_year_before_and_forecasts_from_the_observed_stock() -> None:
    scenario_ = sim.load_scenario(DRAGOER, parameters=False)
    observed = read_observed("calibration/dragoer.csv")
    result = backtest(scenario_, observed, FIT, TEST, runs=30, seed=1)
    (done,) = result.origins
    assert set(done.fit.residuals["period"]) == set(FIT)
    scores = done.scores
    assert list(scores.columns) == list(SCORE_COLUMNS)
    assert list(scores["state"]) == ["total", "group:dagpenge", "group:kontanthjaelp", "group:sygedagpenge"]
    assert (scores["period"] == TEST).all() and (scores["horizon"] == 12).all()
    assert list(scores["actual"]) == [620.0, 230.0, 190.0, 200.0]  # seed 001, Jul-20 til jun-21
    quantiles = scores[["p05", "p10", "p25", "p50", "p75", "p90", "p95"]].to_numpy()
    assert (np.diff(quantiles, axis=1) >= 0).all()
    assert list(scores["carried_forward"]) == [530.0, 150.0, 190.0, 190.0]  # Jul-19 til jun-20
    assert scores["trend"].isna().all()  # one earlier figure: no line through it
    assert (scores["carried_forward_crps"] == (scores["actual"] - scores["carried_forward"]).abs()).all()
    assert result.brier.columns.tolist() == list(BRIER_COLUMNS) and result.brier.empty  # no plan targets
    # The forecast starts on the origin's first day from the observed stock, drawing the fitted values.
    assert str(done.scenario.start) == "2020-07-01" and done.scenario.months == 12
    assert done.stock is not None and done.stock["initial"].sum() > 0
    assert not any(p.startswith("initial.") for p in done.scenario.parameters.values)
    assert done.result.layers is None  # no split runs asked for in a backtest
    assert done.scenario.uncertainty is not None and done.scenario.uncertainty.fitted


def _monthly_scenario(months: int = 36, **extra: object) -> sim.Scenario:
    """Two states near their steady state (200 and 100 persons), their inflows free in the fit."""
    return scenario(
        months=months, states={"a_dagpenge": {}, "sygedagpenge": {}},
        initial={"a_dagpenge": 200, "sygedagpenge": 100},
        inflow_per_week={"a_dagpenge": {"rate": 10}, "sygedagpenge": {"rate": 10}},
        transitions={"a_dagpenge": [{"to": "job", "rate_per_week": 0.05}],
                     "sygedagpenge": [{"to": "job", "rate_per_week": 0.1}]},
        calibrate={"relative_error": 0.03, "parameters": [
            {"path": "inflow_per_week.a_dagpenge.rate", "bounds": [2, 40], "prior": 10, "spread": 3},
            {"path": "inflow_per_week.sygedagpenge.rate", "bounds": [2, 40], "prior": 10, "spread": 3}]},
        **extra)


def _made_data(truth: sim.Scenario, seed: int = 99, yearly: bool = False) -> pd.DataFrame:
    """One DES replication of the scenario, published as monthly (and with `yearly`, yearly) figures."""
    run = sim.run(truth, runs=1, seed=seed)
    rows = [(r.month, r.state, "full_year_persons", float(r.mean), "made")
            for r in run.monthly.itertuples(index=False) if r.state in STATES]
    if yearly:
        rows += [(str(r.year), r.state, "full_year_persons", float(r.mean), "made")
                 for r in run.yearly.itertuples(index=False) if r.state in STATES]
    return pd.DataFrame(rows, columns=["period", "state", "measure", "value", "source"])


def test_several_origins_each_fit_only_on_the_data_before_them() -> None:
    truth = _monthly_scenario()
    observed = _made_data(truth)
    result = rolling_backtest(truth, observed, ("2018-07", "2019-01"), runs=8, seed=1, horizon=6)
    assert [o.windows.origin for o in result.origins] == ["2018-07", "2019-01"]
    for done in result.origins:
        origin = month_number(done.windows.origin)
        fitted = set(done.fit.residuals["period"])
        months_before = {p for p in observed["period"] if month_number(p) < origin}
        assert fitted == months_before  # every month before the origin, and none after it
        scored = set(done.scores["period"])
        assert all(origin <= month_number(p) < origin + 6 for p in scored) and len(scored) == 6
        assert sorted(done.scores["horizon"].unique()) == [1, 2, 3, 4, 5, 6]
        assert set(done.scores["state"]) == set(STATES)
        assert done.scenario.start.strftime("%Y-%m") == done.windows.origin
        assert done.stock is not None
        through = month_text(origin - 1)
        before = observed[(observed["period"] == through) & (observed["state"] == "a_dagpenge")]
        stock = done.stock.set_index("state")
        assert stock.loc["a_dagpenge", "observed"] == float(before["value"].iloc[0])
    scores = result.scores
    assert list(scores["origin"].unique()) == ["2018-07", "2019-01"] and len(scores) == 2 * 6 * 3
    assert scores["carried_forward"].notna().all() and scores["trend"].notna().all()
    summary = result.summary.set_index("state")
    assert summary.loc["all", "figures"] == 36 and summary.loc["total", "figures"] == 12


def test_origins_every_n_months_and_the_windows_they_get() -> None:
    truth = _monthly_scenario(months=24)
    observed = _made_data(truth)
    assert every_origins(truth, observed, 6, horizon=6) == ("2018-07", "2019-01", "2019-07")
    model = compile_model(truth)
    w = origin_windows(truth, model, observed.assign(period=observed["period"].where(
        observed["period"] != "2018-06", "2018-05..2018-07")), "2018-07", 3)
    assert "2018-05..2018-07" in w.left_out  # straddles the origin: neither fitted nor scored
    assert max(month_number(p) for p in w.fit) < month_number("2018-07")
    assert set(w.test) == {"2018-07", "2018-08", "2018-09"}
    with pytest.raises(BacktestError, match="origin 2018-01"):
        rolling_backtest(truth, observed, ("2018-01",), runs=2, seed=1)


def test_a_target_the_test_figures_decide_gets_brier_scores() -> None:
    target = {"name": "Højst 320 i 2020", "states": ["total"], "year": 2020, "at_most": 320}
    truth = _monthly_scenario(targets=[target])
    observed = _made_data(truth, yearly=True)
    result = rolling_backtest(truth, observed, ("2020-01",), runs=10, seed=3, horizon=12)
    brier = result.brier
    assert len(brier) == 1
    row = brier.iloc[0]
    actual = float(observed.query("period == '2020' and state == 'total'")["value"].iloc[0])
    assert row["period"] == "2020" and row["state"] == "total" and row["actual"] == actual
    assert row["met"] == int(actual <= 320)
    assert row["brier"] == pytest.approx((row["probability"] - row["met"]) ** 2)
    assert row["carried_forward_probability"] in (0.0, 1.0)
    assert row["carried_forward_brier"] == (row["carried_forward_probability"] - row["met"]) ** 2
    summary = result.summary.set_index("state")
    assert summary.loc["all", "targets"] == 1 and summary.loc["all", "brier"] == row["brier"]


@pytest.mark.slow
def test_bands_are_not_too_narrow_on_data_the_model_made() -> None:
    """Backtests on data simulated from known parameters: the actual must fall inside the 50 % and
    90 % bands at least as often as they promise, within 4 standard errors of a proportion.

    20 data sets × 3 groups. Each data set is one DES replication of the scenario's own values
    (the truth), read as VIVE would publish it; the backtest fits on its first year and forecasts
    the year after it from the stock that first year implies. Measured: the 50 % bands cover 82 %,
    the 80 % bands 97 % and the 90 % bands 98 % of the 60 figures: conservative, since one year's
    three figures pin down few of the nine free parameters and the forecast draws the rest from
    their priors.
    """
    scenario_ = sim.load_scenario(DRAGOER, parameters=False)
    datasets = 20
    truth = sim.run(scenario_, runs=datasets, seed=777)
    groups = ("group:dagpenge", "group:kontanthjaelp", "group:sygedagpenge")
    frame = pd.DataFrame([(p, g, "full_year_persons", 0.0, "") for p in (*FIT, TEST) for g in groups],
                         columns=["period", "state", "measure", "value", "source"])
    obs, _ = observations(truth.model, frame)
    made = replication_values(truth, obs)
    inside_50, inside_90 = [], []
    for k in range(datasets):
        frame["value"] = [float(v[k]) for v in made]
        scores = backtest(scenario_, frame, FIT, TEST, runs=30, seed=1000 + k).scores
        inside_50 += list(scores["inside_50"])
        inside_90 += list(scores["inside_90"])
    n = len(inside_90)
    assert np.mean(inside_90) >= 0.9 - Z * math.sqrt(0.9 * 0.1 / n), np.mean(inside_90)
    assert np.mean(inside_50) >= 0.5 - Z * math.sqrt(0.5 * 0.5 / n), np.mean(inside_50)
