"""Targets: thresholds from the seed plans, probabilities from the per-replication values."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

import sim


def scenario(**target: object) -> sim.Scenario:
    return sim.scenario_from_dict({
        "name": "targets", "start": dt.date(2017, 1, 1), "months": 24,
        "states": {"a_dagpenge": {}, "sygedagpenge": {}, "jobafklaring": {}},
        "initial": {"a_dagpenge": 900, "sygedagpenge": 500, "jobafklaring": 100},
        "inflow_per_week": {"a_dagpenge": 18, "sygedagpenge": 45},
        "transitions": {
            "a_dagpenge": [{"to": "job", "rate_per_week": 0.02}],
            "sygedagpenge": [{"to": "job", "rate_per_week": 0.09},
                             {"to": "jobafklaring", "rate_per_week": 0.01}],
            "jobafklaring": [{"to": "job", "rate_per_week": 0.05}],
        },
        "targets": [{"name": "t", "year": 2018, **target}],
        "observed": [{"period": 2017, "state": "total", "value": 2529, "source": "seed 000"},
                     {"period": 2017, "state": "sygedagpenge", "value": 520}],
    })


def test_relative_target_reproduces_taarnby_threshold() -> None:
    """Seed 000: a 2.6 % fall from 2,529 full-year persons is 'an average of 2,463'."""
    result = sim.run(scenario(states=["total"], change_at_most="-2.6%"), runs=2, seed=1)
    assert result.targets["threshold"].iloc[0] == pytest.approx(2463, abs=0.5)
    assert result.targets["sense"].iloc[0] == "at_most"


def test_probability_met_is_the_share_of_replications_meeting_it() -> None:
    result = sim.run(scenario(states=["sygedagpenge"], at_most=500), runs=40, seed=3)
    reps = result.replications
    values = reps[(reps["year"] == 2018) & (reps["state"] == "sygedagpenge")]["full_year_persons"]
    assert len(values) == 40
    row = result.targets.iloc[0]
    assert row["probability_met"] == pytest.approx(np.mean(values.to_numpy() <= 500))
    assert row["p50"] == pytest.approx(np.median(values))


def test_group_target_sums_its_states() -> None:
    result = sim.run(scenario(groups=["sygedagpenge"], at_least=100), runs=5, seed=2)
    yearly = result.yearly[result.yearly["year"] == 2018].set_index("state")["mean"]
    expected = yearly["sygedagpenge"] + yearly["jobafklaring"]
    assert result.targets["mean"].iloc[0] == pytest.approx(expected)
    assert result.targets["sense"].iloc[0] == "at_least"


@pytest.mark.parametrize(("headcount", "on_time"), [(10, True), (2, False)])
def test_team_targets_follow_the_staffing(headcount: int, on_time: bool) -> None:
    """Ample staff hold every first meeting within 14 days and 13 meetings a year; two
    caseworkers for ~650 citizens (a meeting every 4 weeks needs ~160 a week) cannot."""
    scenario = sim.scenario_from_dict({
        "name": "team", "start": dt.date(2018, 1, 1), "months": 24,
        "states": {"kontanthjaelp_aktivitetsparat": {}},
        "initial": {"kontanthjaelp_aktivitetsparat": 600},
        "inflow_per_week": {"kontanthjaelp_aktivitetsparat": 6},
        "transitions": {"kontanthjaelp_aktivitetsparat": [{"to": "job", "rate_per_week": 0.01}]},
        "caseworkers": [{"team": "A", "states": ["kontanthjaelp_aktivitetsparat"], "headcount": headcount,
                         "hours_per_week": 20, "hours_per_meeting": 1, "first_meeting_weeks": 1,
                         "every_weeks": [[0, 4]]}],
        "targets": [
            {"name": "first", "metric": "first_meeting_within_14_days_share", "team": "A", "year": 2019,
             "at_least": 0.9},
            {"name": "few", "metric": "fokus_few_meetings_share", "team": "A", "year": 2019, "at_most": 0.2},
        ],
    })
    targets = sim.run(scenario, runs=4, seed=1).targets.set_index("target")
    if on_time:
        assert targets.loc["first", "mean"] == 1.0 and targets.loc["few", "mean"] == 0.0
        assert (targets["probability_met"] == 1.0).all()
    else:
        assert targets.loc["first", "mean"] < 0.5 and targets.loc["few", "mean"] > 0.5
        assert (targets["probability_met"] == 0.0).all()
