"""The payment basis against closed forms: the employer period's share of a sick-leave caseload."""

from __future__ import annotations

import math

import numpy as np
import pytest

import sim

Z = 4.0  # tolerance in standard errors; replications are the independent unit
UNPAID = 30.0  # the employer's first 30 days (seed 003, note 1)


def one_state(rate_per_week: float, inflow: float, **extra: object) -> sim.Scenario:
    """Sygedagpenge alone: Poisson inflow from outside, exponential stays, a stationary start."""
    stock = inflow / rate_per_week
    return sim.scenario_from_dict({
        "name": "sick", "start": "2018-01-01", "months": 24,
        "states": {"sygedagpenge": {}}, "initial": {"sygedagpenge": round(stock)},
        "inflow_per_week": {"sygedagpenge": inflow},
        "transitions": {"sygedagpenge": [{"to": "job", "rate_per_week": rate_per_week}]},
        "targets": [{"name": "paid", "states": ["sygedagpenge"], "year": 2019, "at_most": stock,
                     "basis": "payment"},
                    {"name": "all", "states": ["sygedagpenge"], "year": 2019, "at_most": stock}],
        **extra})


@pytest.mark.parametrize("rate", [0.08, 0.2])
def test_the_employer_period_share_follows_the_closed_form(rate: float) -> None:
    """In an M/M/∞ caseload with stays of rate μ, a spell's first u days are unpaid: of λ/μ persons,
    λ/μ · e^(−μu) are past the employer period, so the payment basis is e^(−μu) of Jobindsats'."""
    mu = rate / 7.0
    result = sim.run(one_state(rate, 40.0), runs=60, seed=3)
    values = result.store.arrays["targets"]
    paid, every = np.asarray(values[0]), np.asarray(values[1])
    lam = 40.0 / 7.0
    for got, expected in ((every, lam / mu), (paid, lam / mu * math.exp(-mu * UNPAID))):
        se = got.std(ddof=1) / math.sqrt(len(got))
        assert abs(got.mean() - expected) < Z * se + 1e-9, (got.mean(), expected, se)
    share = 1 - paid.mean() / every.mean()
    assert share == pytest.approx(1 - math.exp(-mu * UNPAID), abs=0.02)


def test_yearly_and_monthly_carry_both_bases() -> None:
    result = sim.run(one_state(0.1, 20.0), runs=4, seed=1)
    yearly = result.yearly.set_index(["year", "state"])
    row = yearly.loc[(2019, "sygedagpenge")]
    assert row["payment_mean"] < row["mean"]
    assert yearly.loc[(2019, "total"), "payment_mean"] == pytest.approx(row["payment_mean"])
    assert {"payment_p10", "payment_p90"} <= set(result.monthly.columns)


def test_sick_straight_from_another_benefit_is_paid_from_day_one() -> None:
    """A citizen moving from a-dagpenge to sygedagpenge has no employer period: with every
    sick-listed citizen coming from a-dagpenge, the two bases agree (after the initial stock)."""
    data = {
        "name": "from benefit", "start": "2018-01-01", "months": 24,
        "states": {"a_dagpenge": {}, "sygedagpenge": {}}, "initial": {"a_dagpenge": 400},
        "inflow_per_week": {"a_dagpenge": 10},
        "transitions": {"a_dagpenge": [{"to": "sygedagpenge", "rate_per_week": 0.02},
                                       {"to": "job", "rate_per_week": 0.02}],
                        "sygedagpenge": [{"to": "job", "rate_per_week": 0.1}]},
    }
    yearly = sim.run(sim.scenario_from_dict(data), runs=3, seed=2).yearly.set_index(["year", "state"])
    row = yearly.loc[(2019, "sygedagpenge")]
    assert row["mean"] > 10 and row["payment_mean"] == pytest.approx(row["mean"], rel=1e-12)


def test_payment_basis_goes_with_full_year_persons_only(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from helpers import refused_with_one_problem

    data = {"name": "x", "start": "2018-01-01", "months": 12, "states": {"sygedagpenge": {}},
            "initial": {"sygedagpenge": 10},
            "transitions": {"sygedagpenge": [{"to": "job", "rate_per_week": 0.1}]},
            "targets": [{"name": "t", "metric": "mean_duration_weeks", "states": ["sygedagpenge"],
                         "year": 2018, "at_most": 9, "basis": "payment"}]}
    refused_with_one_problem(tmp_path, data, "targets[0].basis", "full_year_persons")


def test_the_support_count_and_the_payment_basis_apply_one_employer_period() -> None:
    """The support count keeps each spell's first paid day inline, the payment basis books the
    unpaid starts itself: over one replication both give the same unpaid person-days inside the
    horizon (the initial stock's employer periods may have begun before it)."""
    from sim.features.payment import UNPAID
    from sim.kernel.engine import Replication

    data = {
        "name": "both", "start": "2018-01-01", "months": 24,
        "states": {"a_dagpenge": {}, "sygedagpenge": {}},
        "initial": {"a_dagpenge": 300, "sygedagpenge": 200},
        "inflow_per_week": {"a_dagpenge": 8, "sygedagpenge": 10},
        "transitions": {"a_dagpenge": [{"to": "sygedagpenge", "rate_per_week": 0.02},
                                       {"to": "job", "rate_per_week": 0.03}],
                        "sygedagpenge": [{"to": "job", "rate_per_week": 0.1}],
                        "job": [{"to": "sygedagpenge", "rate_per_week": 0.01}]},
        "economics": {},
    }
    rep = Replication(sim.compile_model(sim.scenario_from_dict(data)), np.random.SeedSequence(4))
    record = rep.run()
    _, start, paid, _, _, _ = rep.feature("support").spell_arrays()  # type: ignore[union-attr]
    horizon = rep.horizon
    inside = np.clip(np.minimum(paid, horizon) - np.maximum(start, 0.0), 0.0, None)  # days in the horizon
    assert record.features[UNPAID].sum() == pytest.approx(inside.sum(), rel=1e-12)
    assert inside.sum() > 1000
