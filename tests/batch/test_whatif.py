"""What-ifs against the M/M/∞ closed form of the goal-seek tests, against `caseflow run`'s own
numbers for the base, and the same numbers for any executor.

Each point's probability is one binomial estimate (its runs are independent replications), so
it is held to the closed form within 4 standard errors of the closed form's p; the paired change
between two points on the same random numbers is held within 4 of its own standard errors plus
the closed form's normal-approximation slack (≤ 0.01 here).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from helpers import scenario
from test_goalseek import MU_WEEK, ROOT, SEED, TARGET, mm_infinity, p_closed

import sim
from sim.batch.executors import InProcess, Standing
from sim.batch.whatif import QUANTILES, WhatIf, levers, point_of, refusal
from sim.contract.parameters import get_value, key_path, scenario_data

Z = 4.0
RUNS = 400
LEVER = "inflow_per_week.sygedagpenge"


@pytest.fixture(scope="module")
def taarnby() -> sim.Scenario:
    return sim.load_scenario(ROOT / "scenarios" / "taarnby-2018.yaml")


@pytest.fixture(scope="module")
def koege() -> sim.Scenario:
    return sim.load_scenario(ROOT / "scenarios" / "koege-2018.yaml")


@pytest.fixture(scope="module")
def whatif() -> WhatIf:
    return WhatIf(mm_infinity(5.0), SEED, InProcess(), first=8, most=RUNS)


def test_a_variant_and_the_base_hold_the_closed_form(whatif: WhatIf) -> None:
    point = whatif.point({LEVER: 4.0})
    assert point == ((LEVER, 4.0),)
    found = whatif.answer(point)
    assert found.runs == RUNS and found.final
    for p_hat, inflow in ((found.probability[0], 4.0), (found.base[0], 5.0)):
        truth = p_closed(inflow)
        assert abs(p_hat - truth) < Z * math.sqrt(truth * (1 - truth) / RUNS), (inflow, p_hat, truth)
    truth = p_closed(4.0) - p_closed(5.0)
    assert abs(found.change[0] - truth) < Z * found.change_se[0] + 0.01
    # the paired change is surer than two probabilities apart: its se below the unpaired one's
    unpaired = math.sqrt(found.se[0] ** 2 + found.base[0] * (1 - found.base[0]) / RUNS)
    assert found.change_se[0] < unpaired
    # the year's mean caseload: λ/μ = 8 persons, within 4 se of the stationary variance
    lam, mu, days = 4.0 / 7, MU_WEEK / 7, 365.0
    var = (2 * lam / mu) / days**2 * (days / mu - (1 - math.exp(-mu * days)) / mu**2)
    assert abs(found.value[0] - lam / mu) < Z * math.sqrt(var / RUNS)


def test_answers_come_at_doubling_runs_and_each_says_how_sure_it_is(whatif: WhatIf) -> None:
    seen = list(whatif.answers(whatif.point({LEVER: 6.0})))
    assert [a.runs for a in seen] == [8, 16, 32, 64, 128, 256, 400]
    assert [a.final for a in seen] == [False] * 6 + [True]
    for a in seen:
        p, n = a.probability[0], a.runs
        assert a.se[0] == pytest.approx(math.sqrt(p * (1 - p) / n))
        assert a.low[0] <= p <= a.high[0]
        assert a.fan.shape == (len(QUANTILES), len(whatif.months))
        assert (np.diff(a.fan, axis=0) >= 0).all()  # quantiles in order, month by month
    widths = [a.high[0] - a.low[0] for a in seen]
    assert widths[-1] < widths[0] / 3  # 50 times the runs: about a seventh of the width


def test_the_base_is_what_caseflow_run_finds_with_the_same_seed() -> None:
    model = mm_infinity(5.0)
    found = WhatIf(model, 7, InProcess(), first=16, most=16).answer(())
    ran = sim.run(model, runs=16, seed=7)
    row = ran.targets.set_index("target").loc[TARGET]
    assert found.probability[0] == row["probability_met"]
    assert found.value[0] == pytest.approx(row["mean"], rel=1e-12)
    assert found.change[0] == 0.0 and found.base[0] == found.probability[0]


def test_standing_workers_give_the_numbers_of_this_process() -> None:
    model = mm_infinity(5.0)
    here = WhatIf(model, 3, InProcess(), first=8, most=24)
    pool = Standing(2)
    try:
        there = WhatIf(model, 3, pool, first=8, most=24)
        for values in ({}, {LEVER: 6.5}):
            a, b = here.answer(here.point(values)), there.answer(there.point(values))
            for name in ("probability", "base", "change", "value", "fan", "base_fan"):
                np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    finally:
        pool.close()


def test_a_stopped_question_keeps_its_runs_for_the_next_ask(whatif: WhatIf) -> None:
    point = whatif.point({LEVER: 3.0})
    asked = [0]

    def stop() -> bool:
        asked[0] += 1
        return asked[0] >= 4

    seen = list(whatif.answers(point, stop=stop))
    assert seen == []  # stopped within the first level (8 runs of the variant, the base's were kept)
    again = whatif.answer(point, runs=8)
    assert again.runs == 8


def test_the_scenario_s_own_values_are_the_base() -> None:
    model = mm_infinity(5.0)
    assert point_of(model, {LEVER: 5.0}) == ()
    assert point_of(model, {LEVER: 5.0 + 1e-9}) == ((LEVER, 5.0 + 1e-9),)


def test_taarnby_s_levers(taarnby: sim.Scenario) -> None:
    found = levers(taarnby)
    by_path = {x.path: x for x in found}
    data = scenario_data(taarnby)
    for state in taarnby.inflow_per_week:
        lever = by_path[f"inflow_per_week.{state}"]
        assert lever.value == get_value(data, lever.path) and lever.low < lever.value < lever.high
    sick = by_path["inflow_per_week.sygedagpenge"]
    assumed = next(a for a in taarnby.assumptions if a.path == "inflow_per_week.sygedagpenge.rate")
    assert (sick.low, sick.high, sick.reason) == (assumed.low, assumed.high, assumed.reason)
    assert sick.source == "assumption"
    other = by_path["inflow_per_week.a_dagpenge"]  # no block declares it: half to twice
    assert (other.low, other.high) == (other.value / 2, other.value * 2)
    assert (other.source, other.reason) == ("span", "")
    # every assumed value is a lever once, with its range, however its path names it
    keys = [key_path(data, x.path) for x in found]
    assert len(keys) == len(set(keys))
    for a in taarnby.assumptions:
        lever = found[keys.index(key_path(data, a.path))]
        assert (lever.low, lever.high) == (a.low, a.high)
    places = [x for x in found if x.field == "places"]
    assert len(places) == 3 and all(x.whole and x.low == 1 and x.source == "allowed" for x in places)
    assert all(x.low <= x.value <= x.high for x in found)


def test_a_fitted_value_is_no_lever(koege: sim.Scenario) -> None:
    assert koege.parameters is not None and koege.parameters.values
    data = scenario_data(koege)
    fitted = {key_path(data, p) for p in koege.parameters.values}
    assert not fitted & {key_path(data, x.path) for x in levers(koege)}


SHARES = scenario(
    start="2019-01-01", months=12, states={"a_dagpenge": {}, "kontanthjaelp": {}},
    initial={"a_dagpenge": 50, "kontanthjaelp": 20}, inflow_per_week={"a_dagpenge": 4.0},
    transitions={"a_dagpenge": [{"to": "job", "rate_per_week": 0.05},
                                {"to": "job", "at_week": 26, "share": 0.3},
                                {"to": "other", "at_week": 26, "share": 0.3},
                                {"to": "kontanthjaelp", "at_week": 26, "share": "rest"}],
                 "kontanthjaelp": [{"to": "job", "rate_per_week": 0.03}]},
    assumptions=[{"path": "transitions.a_dagpenge.1.share", "low": 0.0, "high": 0.6, "reason": "r"},
                 {"path": "transitions.a_dagpenge.2.share", "low": 0.0, "high": 0.6, "reason": "r"}],
    targets=[{"name": "Højst 60 på a-dagpenge", "states": ["a_dagpenge"], "year": 2019, "at_most": 60}])


def test_a_combination_the_contract_refuses_is_said_in_its_words() -> None:
    one = point_of(SHARES, {"transitions.a_dagpenge.1.share": 0.4})
    assert refusal(SHARES, one) is None  # the other's range still ends at a sound 0.4 + 0.6
    further = refusal(SHARES, point_of(SHARES, {"transitions.a_dagpenge.1.share": 0.5}))
    assert further is not None and "a range whose ends the scenario can run with" in further
    both = point_of(SHARES, {"transitions.a_dagpenge.1.share": 0.6, "transitions.a_dagpenge.2.share": 0.6})
    said = refusal(SHARES, both)
    assert said is not None and "clock shares at week 26 sum to 1.2" in said
    negative = refusal(SHARES, point_of(SHARES, {LEVER.replace("sygedagpenge", "a_dagpenge"): -1.0}))
    assert negative is not None and "must be ≥ 0" in negative and "assumptions" not in negative
