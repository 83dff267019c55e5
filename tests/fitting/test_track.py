"""Restarting a scenario from its actuals (`sim.fitting.restart`, `restart_scenario`) and joining the
actual months to the forecast ones (`sim.fitting.combine`), against outside truths.

- An M/M/∞ state restarted from an observed stock N relaxes to λ/μ as N e^{−μt} + (λ/μ)(1 − e^{−μt}).
- A restart from the model's own expected month reproduces the model's later months: exactly
  enough in the deterministic twin, within noise in the simulation.
- A year target half observed: with the actual months fixed, its probability is the share of the
  replications whose forecast months bring the year's average to the threshold, computed by hand.
- A snapshot's elapsed durations are used: everyone within four weeks of a clock that empties the
  state has left four weeks later.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
from typing import Any

import numpy as np
import pandas as pd
import pytest
from helpers import START, Z, scenario

import sim
from sim.fitting.actuals import ActualsError
from sim.fitting.cohort import expect
from sim.fitting.combine import combine
from sim.fitting.elapsed import SnapshotError, survival
from sim.fitting.restart import restart
from sim.fitting.track import actual_months, check_actuals, restart_scenario, track
from sim.kernel.engine import simulate
from sim.kernel.model import compile_model
from sim.kernel.streams import replication_seeds
from sim.results.targets import resolve_targets


def actuals_of(model: sim.Model, monthly: np.ndarray, months: int, **extra: Any) -> pd.DataFrame:
    """Long-format actuals: full-time persons [benefit state, month] of the first `months` months."""
    rows = [{"period": model.calendar.labels[m], "state": code, "measure": "full_year_persons",
             "value": float(monthly[s, m]), "source": "test", **extra}
            for m in range(months) for s, code in enumerate(model.benefit_codes)]
    return pd.DataFrame(rows)


def twin_monthly(s: sim.Scenario) -> tuple[sim.Model, np.ndarray]:
    """The deterministic twin's expected full-time persons [state, month] of a scenario."""
    model = compile_model(s)
    return model, expect(model).person_days / model.calendar.days


def _rich() -> sim.Scenario:
    """Duration bands, clocks with stay shares, a clock that empties a state, seasonality, a trend
    and re-entry from job (whose leavers must be carried over a restart)."""
    return scenario(
        months=30,
        states={"a_dagpenge": {}, "kontanthjaelp": {}, "sygedagpenge": {}, "jobafklaring": {}},
        initial={"a_dagpenge": 400, "kontanthjaelp": 300, "sygedagpenge": 250, "jobafklaring": 80},
        inflow_per_week={
            "a_dagpenge": {"rate": 10, "seasonality": [1.3, 1.2, 1.1, 1, 0.9, 0.8, 0.8, 0.9, 1, 1, 1, 1]},
            "sygedagpenge": {"rate": 16, "trend_per_year": -0.1},
            "kontanthjaelp": 3,
        },
        transitions={
            "a_dagpenge": [{"to": "job", "rate_per_week": [[0, 0.05], [13, 0.02], [52, 0.01]]},
                           {"to": "kontanthjaelp", "at_week": 104, "share": 0.4},
                           {"to": "other", "at_week": 104, "share": "rest"}],
            "kontanthjaelp": [{"to": "job", "rate_per_week": [[0, 0.03], [26, 0.012]]},
                              {"to": "other", "rate_per_week": 0.004}],
            "sygedagpenge": [{"to": "job", "rate_per_week": [[0, 0.15], [8, 0.05]]},
                             {"to": "jobafklaring", "at_week": 22, "share": 0.3},
                             {"to": "stay", "at_week": 22, "share": "rest"}],
            "jobafklaring": [{"to": "job", "rate_per_week": 0.01},
                             {"to": "pension", "at_week": 104, "share": 1.0}],
            "job": [{"to": "sygedagpenge", "rate_per_week": [[0, 0.01], [26, 0.0]]},
                    {"to": "a_dagpenge", "rate_per_week": [[0, 0.012], [52, 0.0]]}],
        },
        targets=[{"name": "syg 2018", "states": ["sygedagpenge"], "year": 2018, "at_most": 250},
                 {"name": "alle 2019", "states": ["total"], "year": 2019, "at_most": 1000},
                 {"name": "jan 2020", "states": ["total"], "month": "2020-01", "at_most": 1000}],
    )


# --- the restarted scenario ------------------------------------------------------------------


def test_the_restart_starts_the_month_after_through_and_ends_where_the_horizon_did() -> None:
    s = _rich()
    model, monthly = twin_monthly(s)
    r = restart_scenario(s, actuals_of(model, monthly, 7), "2018-07")
    assert r.start == dt.date(2018, 8, 1) and r.months == 30 - 7
    assert compile_model(r).calendar.labels[-1] == model.calendar.labels[-1]
    assert [t.name for t in r.targets] == ["alle 2019", "jan 2020"]  # 2018 has begun: not a scenario's
    assert {code for code in r.initial} >= {"a_dagpenge", "job"}  # job: the leavers who may come back
    assert restart_scenario(s, actuals_of(model, monthly, 7), "2018-07") == r  # pure


def test_the_default_through_is_the_last_actual_month() -> None:
    s = _rich()
    model, monthly = twin_monthly(s)
    assert restart(s, actuals_of(model, monthly, 5)).through == "2018-05"


def test_inflows_keep_their_trend_and_seasonality_after_the_restart() -> None:
    s = _rich()
    model, monthly = twin_monthly(s)
    r = compile_model(restart_scenario(s, actuals_of(model, monthly, 9), "2018-09"))
    n = model.n_benefit
    np.testing.assert_allclose(r.inflow_per_day[:n], model.inflow_per_day[:n, 9:], rtol=1e-12)


def test_the_stock_is_the_actual_month_carried_to_its_end_by_the_models_ratio() -> None:
    s = _rich()
    model, monthly = twin_monthly(s)
    e = expect(compile_model(s.model_copy(update={"months": 6})))
    done = restart(s, actuals_of(model, 1.1 * monthly, 6), "2018-06")
    for i, code in enumerate(model.benefit_codes):
        ratio = e.stock_end[i, 5] / (e.person_days[i, 5] / model.calendar.days[5])
        assert done.scenario.initial[code] == pytest.approx(1.1 * monthly[i, 5] * ratio, rel=1e-9)
        assert done.stock.set_index("state").loc[code, "source"] == f"{code} 2018-06"


def test_restart_from_the_models_own_month_reproduces_its_later_months_in_the_twin() -> None:
    """The twin of the restart, started from the twin's own expected month, follows the twin of the
    scenario: the elapsed durations, the month-end ratio and the carried leavers are what the model
    implies (without the leavers, the returns from job would start again from nobody)."""
    s = _rich()
    model, monthly = twin_monthly(s)
    for cut in (3, 8, 14):
        through = model.calendar.labels[cut - 1]
        _, later = twin_monthly(restart_scenario(s, actuals_of(model, monthly, cut), through))
        np.testing.assert_allclose(later[: model.n_benefit], monthly[: model.n_benefit, cut:], rtol=2e-3,
                                   err_msg=f"restart after month {cut}")


def test_elapsed_durations_are_the_arrivals_still_there_and_the_aged_initial_stock() -> None:
    """One state, constant inflow λ, exponential stay: the implied stock by elapsed weeks is
    λ e^{−μd} for d < T, plus the steady-state stock's survivors beyond, as bands of those shares."""
    mu, lam = 0.05, 20.0
    s = scenario(months=24, states={"a_dagpenge": {}}, initial={"a_dagpenge": 300},
                 inflow_per_week={"a_dagpenge": lam},
                 transitions={"a_dagpenge": [{"to": "job", "rate_per_week": [[0, mu], [26, mu]]}]})
    model, monthly = twin_monthly(s)
    r = restart_scenario(s, actuals_of(model, monthly, 6), "2018-06")
    bands = r.initial_durations["a_dagpenge"]
    cut_weeks = 181 / 7
    for b in bands:
        lo, hi = b.from_week, b.to_week
        entrants = lam / mu * (math.exp(-mu * min(lo, cut_weeks)) - math.exp(-mu * min(hi, cut_weeks)))
        old = 300 * (math.exp(-mu * max(lo, cut_weeks)) - math.exp(-mu * max(hi, cut_weeks)))
        total = lam / mu * (1 - math.exp(-mu * cut_weeks)) + 300 * math.exp(-mu * cut_weeks)
        assert b.share == pytest.approx((entrants + old) / total, rel=2e-2, abs=2e-4), b


def test_an_aggregate_figure_is_split_among_its_states_by_the_model() -> None:
    s = _rich()
    model, monthly = twin_monthly(s)
    frame = actuals_of(model, monthly, 6)
    frame = frame[~frame.state.isin(["sygedagpenge", "jobafklaring"])]
    total = float(monthly[: model.n_benefit, 5].sum())
    row = {"period": "2018-06", "state": "total", "measure": "full_year_persons", "value": total}
    frame = pd.concat([frame, pd.DataFrame([row])])
    done = restart(s, frame, "2018-06")
    stock = done.stock.set_index("state")
    parts = stock.loc[["sygedagpenge", "jobafklaring"], "observed"]
    assert parts.sum() == pytest.approx(monthly[2, 5] + monthly[3, 5], rel=1e-9)
    assert stock.loc["sygedagpenge", "source"] == "total 2018-06, split by the model"


def test_fitted_and_assumed_values_of_the_initial_stock_are_dropped() -> None:
    s = _rich()
    data = sim.contract.parameters.scenario_data(s)
    data["parameters"] = {"source": "fit", "values": {"initial.a_dagpenge": 400.0,
                                                      "inflow_per_week.kontanthjaelp": 3.0},
                          "standard_errors": {"initial.a_dagpenge": 20.0,
                                              "inflow_per_week.kontanthjaelp": 0.5},
                          "covariance": [[400.0, 1.0], [1.0, 0.25]]}
    data["assumptions"] = [{"path": "initial.kontanthjaelp", "low": 250, "high": 350, "reason": "x"},
                           {"path": "targets.2.at_most", "low": 900, "high": 1100, "reason": "y"},
                           {"path": "targets.0.at_most", "low": 200, "high": 300, "reason": "z"}]
    s = sim.scenario_from_dict(data)
    model, monthly = twin_monthly(s)
    r = restart_scenario(s, actuals_of(model, 0.9 * monthly, 6), "2018-06")
    assert r.parameters is not None and list(r.parameters.values) == ["inflow_per_week.kontanthjaelp"]
    assert r.parameters.covariance == ((0.25,),)
    assert r.initial["a_dagpenge"] == pytest.approx(0.9 * monthly[0, 5], rel=0.05)
    assert [a.path for a in r.assumptions] == ["targets.1.at_most"]  # jan 2020, renumbered


def test_a_restart_at_the_start_takes_the_stock_of_the_month_before() -> None:
    s = _rich()
    frame = pd.DataFrame([{"period": "2017-12", "state": c, "measure": "full_year_persons", "value": 100.0}
                          for c in s.states])
    r = restart_scenario(s, frame, "2017-12")
    assert r.start == s.start and r.months == s.months
    assert all(r.initial[c] == 100.0 for c in s.states)


# --- against the simulation ------------------------------------------------------------------


def test_mm_infinity_restarted_from_an_observed_stock_relaxes_as_the_closed_form() -> None:
    """λ/μ = 200; restarted from N = 420 at the end of month 4: the expected stock t days on is
    N e^{−μt} + (λ/μ)(1 − e^{−μt}); each month's mean of it against the simulated mean, in SEs."""
    mu, lam, n_obs = 0.08, 16.0, 420.0
    s = scenario(months=16, states={"a_dagpenge": {}}, initial={"a_dagpenge": lam / mu},
                 inflow_per_week={"a_dagpenge": lam},
                 transitions={"a_dagpenge": [{"to": "job", "rate_per_week": mu}]})
    model = compile_model(s)
    frame = actuals_of(model, np.full((1, 4), n_obs), 4)
    r = restart_scenario(s, frame, "2018-04")
    assert r.initial["a_dagpenge"] == pytest.approx(n_obs, rel=1e-3)  # at steady state the ratio is 1
    result = sim.run(r, runs=400, seed=7)
    edges = compile_model(r).calendar.edges
    rate, level = mu / 7.0, lam / mu
    rows = result.monthly[result.monthly.state == "a_dagpenge"]
    for (a, b), mean, sd in zip(itertools.pairwise(edges), rows["mean"], rows["sd"], strict=True):
        expected = level + (n_obs - level) * (math.exp(-rate * a) - math.exp(-rate * b)) / (rate * (b - a))
        assert abs(mean - expected) < Z * sd / math.sqrt(result.runs), (a, mean, expected)


@pytest.mark.slow
def test_restart_from_the_models_own_month_reproduces_the_simulated_later_means() -> None:
    s = _rich()
    model, monthly = twin_monthly(s)
    cut = 8
    before = sim.run(s, runs=300, seed=11, workers=2)
    restarted = restart_scenario(s, actuals_of(model, monthly, cut), "2018-08")
    after = sim.run(restarted, runs=300, seed=12, workers=2)
    for code in model.benefit_codes:
        a = before.monthly[(before.monthly.state == code) & (before.monthly.month > "2018-08")]
        b = after.monthly[after.monthly.state == code]
        se = np.sqrt((a["sd"].to_numpy() ** 2 + b["sd"].to_numpy() ** 2) / 300)
        z = (b["mean"].to_numpy() - a["mean"].to_numpy()) / se
        assert np.all(np.abs(z) < Z), (code, np.round(z, 1))


# --- the year so far ---------------------------------------------------------------------------


def _sick() -> sim.Scenario:
    return scenario(
        months=24, states={"a_dagpenge": {}, "sygedagpenge": {}},
        initial={"a_dagpenge": 150, "sygedagpenge": 120},
        inflow_per_week={"a_dagpenge": 6, "sygedagpenge": 12},
        transitions={"a_dagpenge": [{"to": "job", "rate_per_week": 0.04}],
                     "sygedagpenge": [{"to": "job", "rate_per_week": 0.1},
                                      {"to": "a_dagpenge", "at_week": 22, "share": 0.2},
                                      {"to": "other", "at_week": 22, "share": "rest"}]},
        targets=[{"name": "syg 2018", "states": ["sygedagpenge"], "year": 2018, "at_most": 114},
                 {"name": "syg betalt 2018", "states": ["sygedagpenge"], "year": 2018, "at_most": 81,
                  "basis": "payment"},
                 {"name": "alle marts", "states": ["total"], "month": "2018-03", "at_most": 260},
                 {"name": "alle 2019", "states": ["total"], "year": 2019, "at_most": 265}])


def test_a_half_observed_year_target_is_decided_by_the_actual_and_the_forecast_months() -> None:
    s = _sick()
    model = sim.compile_model(s)
    actual = np.array([[140, 142, 145, 147, 150, 151], [125, 124, 120, 118, 116, 112]], dtype=float)
    paid = actual[1] * 0.8
    frame = pd.concat([actuals_of(model, actual, 6),
                       pd.DataFrame({"period": model.calendar.labels[:6], "state": "sygedagpenge",
                                     "measure": "full_year_persons", "value": paid, "basis": "payment"})])
    done = check_actuals(s, frame, "2018-06")
    result = sim.run(done.scenario, runs=60, seed=3)
    jobindsats, payment = actual_months(s, model, frame, "2018-06", done.expected, None)
    np.testing.assert_allclose(payment[1], paid)
    joined = combine(model, resolve_targets(model), result, jobindsats, payment)
    days = model.calendar.days
    forecast = np.asarray(result.store.arrays["monthly"]).reshape(3, 18, 60)[1, :6]  # Jul–Dec, sygedagpenge
    paid_forecast = np.asarray(result.store.arrays["monthly_payment"]).reshape(3, 18, 60)[1, :6]
    year = (actual[1] @ days[:6] + days[6:12] @ forecast) / days[:12].sum()
    year_paid = (paid @ days[:6] + days[6:12] @ paid_forecast) / days[:12].sum()
    t = joined.targets.set_index("target")
    for name, values, bound in (("syg 2018", year, 114), ("syg betalt 2018", year_paid, 81)):
        p = float(np.mean(values <= bound))
        assert 0 < p < 1, name  # the test is about a target the forecast months decide
        assert t.loc[name, "probability_met"] == pytest.approx(p, abs=1e-12)
        assert t.loc[name, "probability_se"] == pytest.approx(math.sqrt(p * (1 - p) / 60), abs=1e-12)
        assert t.loc[name, "mean"] == pytest.approx(values.mean(), rel=1e-12)
        assert t.loc[name, "status"] == "combined" and t.loc[name, "observed_months"] == 6
    march = float(actual[:, 2].sum())
    assert t.loc["alle marts", "status"] == "observed" and t.loc["alle marts", "mean"] == pytest.approx(march)
    assert march > 260  # missed: decided, with no Monte Carlo error
    assert (t.loc["alle marts", ["probability_met", "probability_se", "probability_low95",
                                 "probability_high95"]] == 0.0).all()
    assert t.loc["alle 2019", "status"] == "forecast"
    assert t.loc["alle 2019", "probability_met"] == result.targets.set_index("target").loc["alle 2019",
                                                                                            "probability_met"]
    y2018 = joined.yearly[(joined.yearly.year == 2018) & (joined.yearly.state == "sygedagpenge")].iloc[0]
    assert y2018["mean"] == pytest.approx(year.mean(), rel=1e-12)
    assert y2018["payment_mean"] == pytest.approx(year_paid.mean(), rel=1e-12)


def test_a_payment_target_without_payment_actuals_takes_the_plans_paid_share() -> None:
    s = _sick()
    model = sim.compile_model(s)
    actual = np.array([[140, 142, 145], [125, 124, 120]], dtype=float)
    plan = sim.run(s, runs=10, seed=1)
    done = check_actuals(s, actuals_of(model, actual, 3), "2018-03")
    _, payment = actual_months(s, model, actuals_of(model, actual, 3), "2018-03", done.expected, plan)
    rows = plan.monthly[(plan.monthly.state == "sygedagpenge") & (plan.monthly.month <= "2018-03")]
    share = (rows["payment_mean"] / rows["mean"]).to_numpy()
    assert payment is not None and 0.6 < share.mean() < 0.95
    np.testing.assert_allclose(payment[1], actual[1] * share, rtol=1e-12)
    np.testing.assert_allclose(payment[0], actual[0])  # a-dagpenge: both bases are one


def test_the_path_has_the_plan_and_every_month_of_the_year_so_far() -> None:
    s = _sick()
    model, monthly = twin_monthly(s)
    done = track(s, actuals_of(model, monthly, 4), "2018-04", runs=8, seed=5, track_runs=4)
    path = done.path
    assert list(dict.fromkeys(path["through"])) == ["", "2018-01", "2018-02", "2018-03", "2018-04"]
    assert list(dict.fromkeys(path["forecast_from"])) == [f"2018-0{m}" for m in range(1, 6)]
    assert path.groupby("through")["runs"].first().to_dict() == {"": 4, "2018-01": 4, "2018-02": 4,
                                                               "2018-03": 4, "2018-04": 8}
    march = path[path.target == "alle marts"].set_index("through")["status"].to_dict()
    assert march == {"": "forecast", "2018-01": "forecast", "2018-02": "forecast", "2018-03": "observed",
                     "2018-04": "observed"}
    last = path[path.through == "2018-04"].set_index("target")["probability_met"]
    pd.testing.assert_series_equal(last, done.combined.targets.set_index("target")["probability_met"],
                                   check_names=False)


# --- the snapshot ------------------------------------------------------------------------------


def _clocked() -> sim.Scenario:
    """sygedagpenge whose clock at week 22 moves everyone out; no inflow into it."""
    return scenario(
        months=12, states={"sygedagpenge": {}, "a_dagpenge": {}},
        initial={"sygedagpenge": 100, "a_dagpenge": 50}, inflow_per_week={"a_dagpenge": 2},
        transitions={"sygedagpenge": [{"to": "job", "rate_per_week": 0.02},
                                      {"to": "other", "at_week": 22, "share": 1.0}],
                     "a_dagpenge": [{"to": "job", "rate_per_week": 0.05}]})


def _emptied_within_four_weeks(snapshot: pd.DataFrame) -> None:
    s = _clocked()
    model, monthly = twin_monthly(s)
    frame = actuals_of(model, np.array([[0.0] * 3, monthly[1, :3]]), 3)
    frame.loc[frame.state == "sygedagpenge", "value"] = 80.0
    r = restart_scenario(s, frame, "2018-03", snapshot)
    assert r.initial_durations["sygedagpenge"][0].from_week >= 18 - 1e-9
    restarted = compile_model(r)
    day = 28.0
    for seq in replication_seeds(2, 5):
        record = simulate(restarted, seq, record_spells=True)
        spells = record.spells
        assert spells is not None
        initial = spells[(spells.state == "sygedagpenge") & (spells.start_day < 0)]
        assert len(initial) == round(r.initial["sygedagpenge"]) > 50
        assert (initial.end_day <= day + 1e-9).all()
        assert set(initial.to) <= {"job", "other"}


def test_a_snapshot_by_band_is_used() -> None:
    """Everyone between weeks 18 and 22 of a state whose clock at week 22 moves all out: gone by 4 weeks."""
    _emptied_within_four_weeks(pd.DataFrame({"state": ["sygedagpenge"] * 2, "from_week": [18, 20],
                                             "to_week": [20, 22], "persons": [30, 50]}))


def test_a_snapshot_by_person_is_used() -> None:
    restart_day = dt.date(2018, 4, 1)
    entries = [restart_day - dt.timedelta(days=int(d)) for d in np.linspace(18 * 7 + 1, 22 * 7, 40)]
    snapshot = pd.DataFrame({"state": "sygedagpenge", "entry": [e.isoformat() for e in entries]})
    _emptied_within_four_weeks(snapshot)


def test_a_snapshot_past_the_clock_that_empties_the_state_is_refused() -> None:
    s = _clocked()
    model, monthly = twin_monthly(s)
    snapshot = pd.DataFrame({"state": ["sygedagpenge"], "from_week": [20], "to_week": [30], "persons": [10]})
    with pytest.raises(SnapshotError, match="past week 22"):
        restart_scenario(s, actuals_of(model, monthly, 3), "2018-03", snapshot)


def test_a_snapshot_of_an_unknown_state_is_refused() -> None:
    s = _clocked()
    model, monthly = twin_monthly(s)
    snapshot = pd.DataFrame({"state": ["kontanthjaelp"], "entry": ["2018-01-05"]})
    with pytest.raises(SnapshotError, match="'kontanthjaelp' is not a benefit state"):
        restart_scenario(s, actuals_of(model, monthly, 3), "2018-03", snapshot)


# --- errors ------------------------------------------------------------------------------------


def test_through_after_the_horizon_is_refused() -> None:
    s = _sick()
    model, monthly = twin_monthly(s)
    with pytest.raises(ActualsError, match=r"2019-12 leaves no month to forecast.*2017-12 … 2019-11"):
        restart_scenario(s, actuals_of(model, monthly, 24), "2019-12")
    with pytest.raises(ActualsError, match="before the scenario's start"):
        restart_scenario(s, actuals_of(model, monthly, 3), "2017-06")


def test_actuals_missing_a_state_with_a_stock_are_refused() -> None:
    s = _sick()
    model, monthly = twin_monthly(s)
    frame = actuals_of(model, monthly, 5)
    with pytest.raises(ActualsError, match=r"no full_year_persons for sygedagpenge in 2018-05.*about 1"):
        restart_scenario(s, frame[frame.state != "sygedagpenge"], "2018-05")


def test_a_missing_month_is_refused() -> None:
    s = _sick()
    model, monthly = twin_monthly(s)
    frame = actuals_of(model, monthly, 5)
    frame = frame[~((frame.period == "2018-03") & (frame.state == "a_dagpenge"))]
    restart_scenario(s, frame, "2018-05")  # the restart itself needs only the last month
    with pytest.raises(ActualsError, match=r"no full_year_persons for a_dagpenge in 2018-03"):
        check_actuals(s, frame, "2018-05")


def test_a_basis_that_is_not_one_is_refused() -> None:
    s = _sick()
    model, monthly = twin_monthly(s)
    with pytest.raises(ActualsError, match="basis 'kmd' is not allowed"):
        restart_scenario(s, actuals_of(model, monthly, 3, basis="kmd"), "2018-03")


def test_survival_has_the_clocks_jump_and_the_bands_slopes() -> None:
    model = compile_model(_rich())
    schedule = model.schedules[2]  # sygedagpenge: 0.15 a week to week 8, then 0.05; 70 % stay at week 22
    assert schedule is not None
    x = np.array([7.0 * 4, 7.0 * 21.9, 7.0 * 22.1])
    expected = [math.exp(-0.15 * 4), math.exp(-0.15 * 8 - 0.05 * 13.9),
                0.7 * math.exp(-0.15 * 8 - 0.05 * 14.1)]
    np.testing.assert_allclose(survival(schedule, x), expected, rtol=1e-12)
    assert START.year == 2018


def test_an_exit_with_routes_back_may_hold_leavers_with_their_weeks_since_leaving() -> None:
    """What a restart writes for the leavers loads; an exit without routes back, or leavers without
    their weeks since leaving, are refused with the reason."""
    base = {"states": {"a_dagpenge": {}}, "initial": {"a_dagpenge": 100, "job": 40},
            "initial_durations": {"job": [[0, 26, 1.0]]},
            "transitions": {"a_dagpenge": [{"to": "job", "rate_per_week": 0.05}],
                            "job": [{"to": "a_dagpenge", "rate_per_week": [[0, 0.01], [26, 0]]}]}}
    loaded = scenario(**base)
    assert compile_model(loaded).initial[loaded_index(loaded, "job")] == 40
    with pytest.raises(sim.ScenarioError, match=r"initial.job: 40 persons start in the exit 'job'.*"
                                                r"initial_durations.job"):
        scenario(**{**base, "initial_durations": {}})
    with pytest.raises(sim.ScenarioError, match="'pension' is an exit state"):
        scenario(**{**base, "initial": {"a_dagpenge": 100, "pension": 5}})


def loaded_index(s: sim.Scenario, code: str) -> int:
    """A state's index in the compiled model (benefit states, then the exits)."""
    return compile_model(s).codes.index(code)


def test_observed_inflows_weigh_the_recent_entrants() -> None:
    """Three times the model's entrants in the last month before the restart: more of the stock
    is in its first weeks than the model alone implies."""
    s = _sick()
    model, monthly = twin_monthly(s)
    frame = actuals_of(model, monthly, 6)
    plain = restart_scenario(s, frame, "2018-06").initial_durations["a_dagpenge"]
    entrants = expect(compile_model(s.model_copy(update={"months": 6}))).flows[:, 0, 5].sum()
    row = {"period": "2018-06", "state": "a_dagpenge", "measure": "inflow_count", "value": 3 * entrants}
    busy = pd.concat([frame, pd.DataFrame([row])])
    heavy = restart_scenario(s, busy, "2018-06").initial_durations["a_dagpenge"]

    def recent(bands: tuple[Any, ...]) -> float:
        return sum(b.share * max(0.0, min(b.to_week, 30 / 7) - b.from_week) / (b.to_week - b.from_week)
                   for b in bands if b.from_week < 30 / 7)

    assert recent(heavy) > 1.5 * recent(plain)


def test_an_old_rule_share_shrinks_to_the_initial_stock_still_there() -> None:
    s = _sick()
    data = sim.contract.parameters.scenario_data(s)
    data["economics"] = {"states": {"a_dagpenge": {"old_rule": {"share": 0.5, "municipal_share": 0.35}}}}
    s = sim.scenario_from_dict(data)
    model, monthly = twin_monthly(s)
    r = restart_scenario(s, actuals_of(model, monthly, 6), "2018-06")
    assert r.economics is not None
    share = r.economics.states["a_dagpenge"].old_rule
    assert share is not None
    left = 150 * math.exp(-0.04 * 181 / 7)  # the initial a-dagpenge stock still there (no returns)
    at_cut = expect(compile_model(s.model_copy(update={"months": 6}))).stock_end[0, 5]
    assert share.share == pytest.approx(0.5 * left / at_cut, rel=1e-2)


def test_track_draws_the_restarted_stock_with_the_sd_its_month_average_leaves() -> None:
    """The stock on the restart day is not observed, only the month's average: each forecast
    draws it (`uncertainty.parameters` on `initial.<state>`, sd from `stock_sd`), as the backtests
    do. The first forecast month's variance grows by the drawn variance times the share of the
    drawn stock still there in it (over ½ here: stays of weeks to years); with 200 runs a
    variance is known to ±10 %, so the test asks for at least 0.3 of the drawn variance more."""
    from sim.fitting.restart import restart

    s = _sick()
    model, monthly = twin_monthly(s)
    frame = actuals_of(model, monthly, 4)
    done = check_actuals(s, frame, "2018-04")
    assert done.scenario.uncertainty is not None
    drawn = {p.path: p.sd for p in done.scenario.uncertainty.parameters}
    assert set(drawn) == {f"initial.{code}" for code, n in done.scenario.initial.items() if n > 0}
    assert all(sd > 0 for sd in drawn.values())
    tracked = track(s, frame, "2018-04", runs=12, seed=5, track_runs=0)
    assert tracked.restart.scenario.uncertainty == done.scenario.uncertainty
    plain = sim.run(restart(s, frame, "2018-04").scenario, runs=200, seed=5).monthly
    noisy = sim.run(done.scenario, runs=200, seed=5).monthly
    first = [m[(m.month == "2018-05") & (m.state == "total")]["sd"].iloc[0] ** 2 for m in (plain, noisy)]
    assert first[1] - first[0] > 0.3 * sum(sd**2 for sd in drawn.values()), (first, drawn)
