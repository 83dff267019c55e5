"""The deterministic twin (`sim.fitting.cohort`) against the simulation it stands in for when fitting.

What is fitted must be what is simulated: on a scenario with duration bands, forced clocks
with stay shares, re-entry routes, seasonality and a trend, the twin's expected full-time
persons per state and month must agree with the DES mean within 4 standard errors, and the
twin must conserve persons exactly (initial stock + arrivals = persons in all states).
"""

from __future__ import annotations

import numpy as np
import pytest
from helpers import scenario

import sim
from sim.contract.parameters import scenario_data
from sim.contract.schema import Scenario
from sim.fitting.cohort import Expectation, _first_day, _grid, _initial, expect
from sim.kernel.model import compile_model

Z = 4.0


def _piecewise() -> Scenario:
    return scenario(
        months=24,
        states={"a_dagpenge": {}, "kontanthjaelp": {}, "sygedagpenge": {}, "jobafklaring": {}},
        initial={"a_dagpenge": 400, "kontanthjaelp": 300, "sygedagpenge": 250, "jobafklaring": 80},
        inflow_per_week={
            "a_dagpenge": {"rate": 12, "seasonality": [1.3, 1.2, 1.1, 1, 0.9, 0.8, 0.8, 0.9, 1, 1, 1, 1]},
            "sygedagpenge": {"rate": 14, "trend_per_year": -0.1},
            "kontanthjaelp": 3,
        },
        transitions={
            "a_dagpenge": [
                {"to": "job", "rate_per_week": [[0, 0.05], [13, 0.02], [52, 0.01]]},
                {"to": "kontanthjaelp", "at_week": 104, "share": 0.4},
                {"to": "other", "at_week": 104, "share": "rest"},
            ],
            "kontanthjaelp": [{"to": "job", "rate_per_week": [[0, 0.03], [26, 0.012]]},
                              {"to": "other", "rate_per_week": 0.004}],
            "sygedagpenge": [
                {"to": "job", "rate_per_week": [[0, 0.15], [8, 0.05]]},
                {"to": "jobafklaring", "at_week": 22, "share": 0.3},
                {"to": "stay", "at_week": 22, "share": "rest"},
            ],
            "jobafklaring": [{"to": "job", "rate_per_week": 0.01},
                             {"to": "pension", "at_week": 104, "share": 1.0}],
            "job": [{"to": "sygedagpenge", "rate_per_week": [[0, 0.004], [26, 0.0]]},
                    {"to": "a_dagpenge", "rate_per_week": [[0, 0.006], [52, 0.0]]}],
        },
    )


@pytest.fixture(scope="module")
def twin_and_des() -> tuple[Scenario, np.ndarray, sim.RunResult]:
    s = _piecewise()
    model = compile_model(s)
    return s, expect(model).person_days, sim.run(s, runs=120, seed=20240611)


def test_twin_agrees_with_des_mean_within_4_se(
        twin_and_des: tuple[Scenario, np.ndarray, sim.RunResult]) -> None:
    s, person_days, result = twin_and_des
    model = compile_model(s)
    days = model.calendar.days
    monthly = result.monthly
    worst = 0.0
    for i, code in enumerate(model.benefit_codes):
        rows = monthly[monthly.state == code]
        se = rows["sd"].to_numpy() / np.sqrt(result.runs)
        z = (rows["mean"].to_numpy() - person_days[i] / days) / np.maximum(se, 1e-9)
        worst = max(worst, float(np.abs(z).max()))
        assert np.all(np.abs(z) < Z), (code, np.round(z, 1))
    assert worst > 0.5  # the comparison sees noise, so it is not comparing a thing with itself


def test_twin_conserves_persons() -> None:
    model = compile_model(_piecewise())
    e = expect(model)
    arrived = e.flows[model.n_states].sum()
    assert e.stock_end[:, -1].sum() == pytest.approx(sum(model.initial) + arrived, rel=1e-12)
    moved_in = e.flows.sum(axis=0)
    moved_out = e.flows[: model.n_states].sum(axis=1)
    change = e.stock_end[:, -1] - np.asarray(model.initial)
    np.testing.assert_allclose(change, moved_in.sum(axis=1) - moved_out.sum(axis=1), atol=1e-8)


def test_twin_stationary_start_stays_flat() -> None:
    """With inflow = stock ÷ mean stay and the steady-state start, the expected stock does not move."""
    stay_weeks = 1 / 0.05 * (1 - np.exp(-0.05 * 13)) + np.exp(-0.05 * 13) / 0.02
    s = scenario(months=12, states={"a_dagpenge": {}}, initial={"a_dagpenge": 1000},
                 inflow_per_week={"a_dagpenge": 1000 / stay_weeks},
                 transitions={"a_dagpenge": [{"to": "job", "rate_per_week": [[0, 0.05], [13, 0.02]]}]})
    model = compile_model(s)
    monthly = expect(model).person_days[0] / model.calendar.days
    np.testing.assert_allclose(monthly, 1000, rtol=2e-3)


def _array_recurrence(model: sim.Model) -> Expectation:
    """The twin's recurrence written again a day at a time over whole arrays (numpy, every state
    followed over all the grid's days, to the last band edge or clock of any state): an independent
    statement of the same rules."""
    grid, days = _grid(model)
    n_states, months = model.n_states, model.calendar.months
    stock = _initial(model, days)
    month_of_day = np.repeat(np.arange(months), model.calendar.days.astype(int))
    person_days = np.zeros((n_states, months))
    flows = np.zeros((n_states + 1, n_states, months))
    stock_end = np.zeros((n_states, months))
    n_bands = len(grid.band_split)
    survive0, credit0, split0 = _first_day(grid)  # the day loop is what is checked here
    carried = np.zeros((n_states, n_states))
    for day, month in enumerate(month_of_day):
        out = stock * grid.leave
        by_band = np.bincount(grid.band_of.ravel(), weights=out.ravel(), minlength=n_bands)
        moves = np.zeros((n_states, n_states))
        for state in range(n_states):
            mine = np.unique(grid.band_of[state])
            moves[state] = by_band[mine] @ grid.band_split[mine]
        survivors = stock - out
        aged = np.zeros_like(stock)
        aged[:, 1:] = survivors[:, :-1]
        aged[:, -1] += survivors[:, -1]
        inflow = model.inflow_per_day[:, month]
        arriving = moves.sum(axis=0) + carried.sum(axis=0) + inflow
        carried = (arriving * (1.0 - survive0))[:, None] * split0
        person_days[:, month] += stock.sum(axis=1) - 0.5 * out.sum(axis=1) + arriving * credit0
        moves += carried
        for state, at, shares, stay in grid.clocks:
            struck = aged[state, at]
            aged[state, at] = struck * stay
            aged[:, 0] += struck * shares
            moves[state] += struck * shares
        aged[:, 0] += arriving * survive0
        flows[:n_states, :, month] += moves
        flows[n_states, :, month] += inflow
        stock = aged
        if day + 1 == len(month_of_day) or month_of_day[day + 1] != month:
            stock_end[:, month] = stock.sum(axis=1) + carried.sum(axis=0)
    return Expectation(person_days, flows, stock_end)


@pytest.mark.parametrize("path", ["scenarios/taarnby-2018.yaml", "scenarios/dragoer-backtest-2019.yaml",
                                  None])
def test_compiled_twin_is_the_array_recurrence(path: str | None) -> None:
    """The compiled twin (each state followed only to its own last band edge or clock) gives what the
    array recurrence gives, to rounding: every person-day, move and end-of-month stock."""
    model = compile_model(sim.load_scenario(path) if path else _piecewise())
    fast, reference = expect(model), _array_recurrence(model)
    for name in ("person_days", "flows", "stock_end"):
        got, want = getattr(fast, name), getattr(reference, name)
        assert np.abs(want).max() > 10
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-9 * np.abs(want).max(), err_msg=name)


def test_shipped_scenario_round_trips_through_plain_data() -> None:
    s = sim.load_scenario("scenarios/taarnby-2018.yaml")
    assert Scenario.model_validate(scenario_data(s)) == s
