"""Target kinds beyond a year's full-year persons: one month, a difference from an observed
base, and the mean duration of spells started in a period (censored at the horizon)."""

from __future__ import annotations

import copy
import datetime as dt
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from helpers import Z, refused_with_one_problem

import sim
from sim.kernel.model import compile_model
from sim.reports.rundata import TargetRow
from sim.reports.texts import spread_sentence, target_sentence

BASE: dict[str, Any] = {
    "name": "target kinds", "start": dt.date(2017, 1, 1), "months": 24,
    "states": {"a_dagpenge": {}, "sygedagpenge": {}, "jobafklaring": {}},
    "initial": {"a_dagpenge": 900, "sygedagpenge": 500, "jobafklaring": 100},
    "inflow_per_week": {"a_dagpenge": 18, "sygedagpenge": 45},
    "transitions": {
        "a_dagpenge": [{"to": "job", "rate_per_week": 0.02}],
        "sygedagpenge": [{"to": "job", "rate_per_week": 0.09}, {"to": "jobafklaring", "rate_per_week": 0.01}],
        "jobafklaring": [{"to": "job", "rate_per_week": 0.05}],
    },
    "observed": [
        {"period": "2017-01", "state": "total", "value": 1500},
        {"period": 2017, "state": "total", "value": 2529},
        {"period": 2017, "state": "sygedagpenge", "value": 520},
        {"period": 2017, "state": "jobafklaring", "value": 95},
        {"period": 2016, "state": "sygedagpenge", "measure": "mean_duration_weeks", "value": 11.5},
    ],
}


def scenario(*targets: dict[str, Any]) -> sim.Scenario:
    data = copy.deepcopy(BASE)
    data["targets"] = [{"name": f"t{i}", **t} for i, t in enumerate(targets)]
    return sim.scenario_from_dict(data)


def test_month_target_is_that_months_full_time_persons() -> None:
    """A month target's value is the month's full-time persons: monthly.csv's mean, summed over a group."""
    result = sim.run(scenario({"states": ["sygedagpenge"], "month": "2018-03", "at_most": 460},
                              {"groups": ["sygedagpenge"], "month": "2017-11", "at_least": 500},
                              {"states": ["total"], "month": "2018-01", "at_most": 1500}), runs=6, seed=4)
    monthly = result.monthly.set_index(["month", "state"])["mean"]
    means = result.targets["mean"].to_numpy()
    assert means[0] == pytest.approx(monthly["2018-03", "sygedagpenge"], rel=1e-12)
    assert means[1] == pytest.approx(monthly["2017-11", "sygedagpenge"] + monthly["2017-11", "jobafklaring"],
                                     rel=1e-12)
    assert means[2] == pytest.approx(monthly["2018-01", "total"], rel=1e-12)
    assert result.targets["sense"].tolist() == ["at_most", "at_least", "at_most"]
    assert "censored_share" not in result.targets.columns  # only with a duration target


def test_change_and_difference_thresholds_come_from_the_observed_base() -> None:
    """Thresholds by hand from the observed block: 1,500 × (1 + 0) for 'jan 2018 at most as jan 2017';
    520 + 95 − 250 for '250 fewer than 2017' on two states (summed); 2,529 + 100 (default base:
    the year before); 11.5 − 1 weeks for 'a week shorter than 2016'."""
    result = sim.run(scenario(
        {"states": ["total"], "month": "2018-01", "change_at_most": 0, "base_month": "2017-01"},
        {"states": ["sygedagpenge", "jobafklaring"], "month": "2018-12", "difference_at_most": -250,
         "base_year": 2017},
        {"states": ["total"], "year": 2018, "difference_at_least": 100},
        {"metric": "mean_duration_weeks", "states": ["sygedagpenge"], "year": 2018, "difference_at_most": -1,
         "base_year": 2016},
        {"states": ["total"], "month": "2018-06", "change_at_least": "-2.6%", "base_year": 2017},
    ), runs=4, seed=1)
    t = result.targets
    assert t["threshold"].tolist() == pytest.approx([1500, 365, 2629, 10.5, 2529 * 0.974])
    assert t["sense"].tolist() == ["at_most", "at_most", "at_least", "at_most", "at_least"]
    values = np.asarray(result.store.arrays["targets"])
    for i, r in t.iterrows():
        met = values[i] <= r["threshold"] if r["sense"] == "at_most" else values[i] >= r["threshold"]
        assert r["probability_met"] == pytest.approx(met.mean())


def _closed_form(rate_per_week: float, year_days: float, horizon: float) -> tuple[float, float]:
    """Spells starting uniformly over [0, Y] with T ~ Exp(μ), each followed to min(T, H − s):
    mean E[min(T, H − s)] = 1/μ − (e^{−μ(H−Y)} − e^{−μH}) / (μ² Y) in weeks, and the censored
    share P(T > H − s) = (e^{−μ(H−Y)} − e^{−μH}) / (μ Y)."""
    mu = rate_per_week / 7.0
    tail = (math.exp(-mu * (horizon - year_days)) - math.exp(-mu * horizon)) / (mu * year_days)
    return (1.0 / mu - tail / mu) / 7.0, tail


@pytest.mark.slow
def test_mean_duration_matches_the_censored_exponential_closed_form() -> None:
    """One state left at a constant 0.025 a week (0.015 to job, 0.01 to another benefit), Poisson
    inflow, 24 months: spells started in 2018 last min(T, H − s) with s uniform over the year.
    An initial stock of 2,000 is there too and must not count (its spells started before day 0)."""
    data: dict[str, Any] = {
        "name": "duration", "start": dt.date(2018, 1, 1), "months": 24,
        "states": {"kontanthjaelp_jobparat": {}, "sygedagpenge": {}},
        "initial": {"kontanthjaelp_jobparat": 2000},
        "inflow_per_week": {"kontanthjaelp_jobparat": 40},
        "transitions": {"kontanthjaelp_jobparat": [{"to": "job", "rate_per_week": 0.015},
                                                   {"to": "sygedagpenge", "rate_per_week": 0.01}],
                        "sygedagpenge": [{"to": "job", "rate_per_week": 0.1}]},
        "targets": [{"name": "d", "metric": "mean_duration_weeks", "states": ["kontanthjaelp_jobparat"],
                     "year": 2018, "at_most": 30}],
    }
    runs = 40
    result = sim.run(sim.scenario_from_dict(data), runs=runs, seed=11)
    values = np.asarray(result.store.arrays["targets"])[0]
    expected, censored = _closed_form(0.025, 365.0, 730.0)
    se = values.std(ddof=1) / math.sqrt(runs)
    assert abs(values.mean() - expected) < Z * se, (values.mean(), expected, se)
    assert expected < 40 - 5  # the horizon cuts the 40-week mean noticeably: the check has teeth
    # censored share: a binomial proportion over all replications' spells (~2,086 a run)
    row = result.targets.iloc[0]
    started = 40 / 7 * 365 * runs
    assert abs(row["censored_share"] - censored) < Z * math.sqrt(censored * (1 - censored) / started)


@pytest.mark.parametrize("fast_forward", [True, False])
def test_spell_durations_equal_the_recorded_spells(fast_forward: bool) -> None:
    """The ledger's O(1) bookings give, per state and start month, what the spell table (one row per
    stay) gives by brute force: spells started inside the horizon, their days to the end or the
    horizon, and how many are open at the horizon; the initial stock's spells are left out."""
    s = scenario({"metric": "mean_duration_weeks", "states": ["sygedagpenge"], "year": 2018, "at_most": 10})
    model = compile_model(s)
    record = sim.simulate(model, np.random.SeedSequence(3), record_spells=True, fast_forward=fast_forward)
    assert record.durations is not None and record.spells is not None
    spells = record.spells
    horizon, edges = model.calendar.horizon, np.asarray(model.calendar.edges)
    inside = spells[spells["start_day"] >= 0]
    assert len(inside) < len(spells)  # the initial stock was there and is left out
    expected = np.zeros((model.n_benefit, 3, model.calendar.months))
    rows = {code: i for i, code in enumerate(model.benefit_codes)}
    for r in inside.itertuples():
        m = int(np.searchsorted(edges, r.start_day, side="right") - 1)
        expected[rows[r.state], :, m] += [1, r.end_day - r.start_day, r.end_day >= horizon]
    np.testing.assert_allclose(record.durations[: model.n_benefit], expected, rtol=1e-9, atol=1e-6)


def test_only_initial_stock_gives_no_spells_started() -> None:
    """No inflow and no moves into the state: every spell in it started before day 0, so none counts."""
    data = copy.deepcopy(BASE) | {"inflow_per_week": {},
                                   "targets": [{"name": "d", "metric": "mean_duration_weeks",
                                                "states": ["a_dagpenge"], "year": 2017, "at_most": 50}]}
    result = sim.run(sim.scenario_from_dict(data), runs=2, seed=1)
    assert np.isnan(np.asarray(result.store.arrays["targets"])).all()
    assert np.isnan(result.targets["censored_share"].iloc[0])


def _cli_data(**target: Any) -> dict[str, Any]:
    data = copy.deepcopy(BASE)
    data["targets"] = [{"name": "t", "states": ["total"], **target}]
    return data


@pytest.mark.parametrize(("target", "path", "words"), [
    ({"month": "2018-01", "change_at_most": 0}, "targets[0].base_month",
     "give base_month (YYYY-MM) or base_year"),
    ({"month": "2018-01", "difference_at_most": -10, "base_month": "2016-12"}, "targets[0].base_month",
     "no observed full_year_persons for 'total' in 2016-12"),
    ({"year": 2018, "change_at_most": 0, "base_year": 2015}, "targets[0].base_year",
     "no observed full_year_persons for 'total' in 2015"),
    ({"month": "2019-01", "at_most": 10}, "targets[0].month", "outside the horizon"),
    ({"month": "2018-01", "year": 2018, "at_most": 10}, "targets[0].month", "give year or month, not both"),
    ({"month": "2018-13", "at_most": 10}, "targets[0].month", "a month like 2021-01"),
    ({"month": "2018-01", "difference_at_most": -10, "base_year": 2017, "base_month": "2017-01"},
     "targets[0].base_month", "not both"),
    ({"year": 2018, "metric": "mean_duration_weeks", "states": ["sygedagpenge", "jobafklaring"],
      "difference_at_most": -1, "base_year": 2016}, "targets[0].states", "one observed mean"),
])
def test_bad_target_periods_and_bases_are_refused(tmp_path: Path, target: dict[str, Any], path: str,
                                                  words: str) -> None:
    refused_with_one_problem(tmp_path, _cli_data(**target), path, words)


def _row(**kw: Any) -> TargetRow:
    base: dict[str, Any] = {"name": "t", "metric": "full_year_persons", "sense": "at_most",
                            "threshold": 365.0, "probability_met": 0.25, "mean": 380.0, "p10": 370.0,
                            "p50": 380.0, "p90": 390.0, "states": ("sygedagpenge",), "groups": (),
                            "year": None}
    return TargetRow(**(base | kw))


def test_sentences_name_the_month_the_base_and_weeks() -> None:
    month = _row(month="2018-12", difference=-250.0, base="2017")
    assert target_sentence(month, "da") == ("P(højst 365 fuldtidspersoner på sygedagpenge i december 2018 "
                                            "(−250 i forhold til 2017)) = 0,25")
    assert target_sentence(month, "en").startswith("P(at most 365 full-time persons on sickness benefit in "
                                                   "December 2018 (−250 relative to 2017))")
    change = _row(year=2021, month=None, change=0.0, base="2020-01", threshold=2400.0)
    expected = "helårspersoner på sygedagpenge i 2021 (0,0 % i forhold til januar 2020)"
    assert expected in target_sentence(change, "da")
    weeks = _row(metric="mean_duration_weeks", threshold=49.5, year=2023, p10=48.0, p50=50.1, p90=52.3,
                 censored_share=0.2)
    assert target_sentence(weeks, "en").startswith("P(mean duration at most 49.5 weeks on sickness benefit "
                                                   "for spells started in 2023)")
    assert "20.0% of the spells are still open" in spread_sentence(weeks, "en")
    assert "50,1" in spread_sentence(weeks, "da")


def _long_term_brute_force(spells: Any, rows: dict[str, int], edges: np.ndarray, weeks: float
                           ) -> np.ndarray:
    """Person-days past week `weeks` of each stay, clipped to each month by plain interval overlap."""
    out = np.zeros((len(rows), len(edges) - 1))
    for r in spells.itertuples():
        a, b = r.start_day + 7 * weeks, r.end_day
        for m in range(len(edges) - 1):
            out[rows[r.state], m] += max(0.0, min(b, edges[m + 1]) - max(a, edges[m]))
    return out


@pytest.mark.parametrize("fast_forward", [True, False])
def test_min_weeks_books_the_days_beyond_the_threshold_of_each_stay(fast_forward: bool) -> None:
    """The O(1) bookings of person-days beyond week 26 (and 52) of the current stay equal a brute-force
    clip of every recorded stay, the initial stock's included (it entered before day 0)."""
    s = scenario({"states": ["sygedagpenge"], "year": 2018, "min_weeks": 26, "at_most": 50},
                 {"states": ["total"], "month": "2018-06", "min_weeks": 52, "at_most": 500})
    model = compile_model(s)
    record = sim.simulate(model, np.random.SeedSequence(8), record_spells=True, fast_forward=fast_forward)
    assert record.long_term is not None and record.spells is not None
    rows = {code: i for i, code in enumerate(model.benefit_codes)}
    edges = np.asarray(model.calendar.edges)
    for k, weeks in enumerate((26.0, 52.0)):
        expected = _long_term_brute_force(record.spells, rows, edges, weeks)
        assert expected.sum() > 0
        np.testing.assert_allclose(record.long_term[k, : model.n_benefit], expected, rtol=1e-9, atol=1e-6)


@pytest.mark.slow
def test_min_weeks_matches_the_stationary_exponential_stock() -> None:
    """Inflow λ = 20 a week and exit rate μ = 0.02 a week from the steady state: the stock beyond
    week 52 stays λ/μ · e^{−52 μ} = 1000 · e^{−1.04} ≈ 353.5 full-time persons, in a year and in a month."""
    data: dict[str, Any] = {
        "name": "long-term", "start": dt.date(2018, 1, 1), "months": 24,
        "states": {"kontanthjaelp_jobparat": {}},
        "initial": {"kontanthjaelp_jobparat": 1000},
        "inflow_per_week": {"kontanthjaelp_jobparat": 20},
        "transitions": {"kontanthjaelp_jobparat": [{"to": "job", "rate_per_week": 0.02}]},
        "targets": [{"name": "year", "states": ["kontanthjaelp_jobparat"], "year": 2019, "min_weeks": 52,
                     "at_most": 350},
                    {"name": "month", "states": ["total"], "month": "2018-03", "min_weeks": 52,
                     "at_most": 350}],
    }
    runs = 30
    result = sim.run(sim.scenario_from_dict(data), runs=runs, seed=5)
    values = np.asarray(result.store.arrays["targets"])
    expected = 1000 * math.exp(-0.02 * 52)
    for v in values:
        assert abs(v.mean() - expected) < Z * v.std(ddof=1) / math.sqrt(runs), (v.mean(), expected)
    everyone = result.yearly.set_index(["year", "state"]).loc[(2019, "kontanthjaelp_jobparat"), "mean"]
    assert everyone > 900  # the threshold matters: all persons, ~1,000, are far more


def test_min_weeks_is_only_for_full_year_persons(tmp_path: Path) -> None:
    data = _cli_data(year=2018, metric="mean_duration_weeks", min_weeks=52, at_most=10)
    refused_with_one_problem(tmp_path, data, "targets[0].min_weeks", "use it with full_year_persons")


def test_min_weeks_base_reads_its_own_measure() -> None:
    """A change in long-term recipients is measured from the observed long-term figure, not all persons."""
    data = copy.deepcopy(BASE)
    data["observed"].append({"period": 2017, "state": "a_dagpenge", "value": 300,
                             "measure": "full_year_persons_over_52_weeks"})
    data["targets"] = [{"name": "t", "states": ["a_dagpenge"], "year": 2018, "min_weeks": 52,
                        "difference_at_most": -20}]
    result = sim.run(sim.scenario_from_dict(data), runs=2, seed=1)
    assert result.targets["threshold"].iloc[0] == pytest.approx(280)
    row = _row(min_weeks=52.0, year=2018, states=("a_dagpenge",))
    assert "på a-dagpenge i mere end 52 uger af forløbet i 2018" in target_sentence(row, "da")
