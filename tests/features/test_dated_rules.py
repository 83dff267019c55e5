"""Dated rules against hand computation: a paused clock, a clock changed for spells from a date,
unpaid first days paid between two dates, a staircase and a rate from a date."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pytest
from helpers import refused_with_one_problem

import sim

WEEK = 7.0
START = dt.date(2018, 1, 1)


def day(date: str) -> float:
    return float((dt.date.fromisoformat(date) - START).days)


def clock_only(months: int = 60, **extra: Any) -> sim.Scenario:
    """a-dagpenge with no way out but its 104-week clock: every spell ends at the clock."""
    return sim.scenario_from_dict({
        "name": "clock", "start": START.isoformat(), "months": months,
        "states": {"a_dagpenge": {}, "kontanthjaelp_jobparat": {}},
        "initial": {"a_dagpenge": 200}, "inflow_per_week": {"a_dagpenge": 5},
        "transitions": {"a_dagpenge": [{"to": "kontanthjaelp_jobparat", "at_week": 104, "share": 1}],
                        "kontanthjaelp_jobparat": [{"to": "job", "rate_per_week": 0.05}]},
        **extra})


def exhaustions(scenario: sim.Scenario, seed: int = 5) -> Any:
    record = sim.simulate(sim.compile_model(scenario), np.random.SeedSequence(seed), record_spells=True)
    spells = record.spells
    assert spells is not None
    return spells[spells["state"] == "a_dagpenge"].set_index("id")


PAUSE = {"kind": "pause_clocks", "state": "a_dagpenge", "from": "2019-03-09", "until": "2020-06-30"}
A, B = day("2019-03-09"), day("2020-06-30") + 1.0  # the pause is [A, B): through its last day


def by_hand(entered: float) -> float:
    """The day a 104-week clock strikes for a spell started on `entered`, the pause written out:
    the clock needs 728 days of unpaused time in the spell."""
    need, t = 104 * WEEK, entered
    if t < A:
        run = min(need, A - t)
        need, t = need - run, t + run
        if need == 0:
            return t
    t = max(t, B)
    return t + need


def test_a_pause_moves_every_exhaustion_by_the_paused_time_it_lived_through() -> None:
    plain = exhaustions(clock_only())
    paused = exhaustions(clock_only(rules=[PAUSE]))
    ended = paused[paused["to"] == "kontanthjaelp_jobparat"]
    assert len(ended) > 300
    for ident, row in ended.iterrows():
        assert row["end_day"] == pytest.approx(by_hand(row["start_day"]), abs=1e-6), ident
    # the same spells on common random numbers: a spell that lives through the whole pause ends
    # exactly the pause's length later, one that ends before it is untouched
    both = plain.join(paused.add_suffix("_paused"), how="inner")
    both = both[both["start_day"] == both["start_day_paused"]]
    clocked = both["to_paused"] == "kontanthjaelp_jobparat"
    whole = both[(both["start_day"] < A) & (both["end_day"] >= A) & clocked]
    assert len(whole) > 50
    np.testing.assert_allclose(whole["end_day_paused"] - whole["end_day"], B - A, atol=1e-6)
    before = both[both["end_day"] < A]
    assert len(before) > 20
    np.testing.assert_allclose(before["end_day_paused"], before["end_day"], atol=1e-9)


def test_a_pause_leaves_the_hazards_running() -> None:
    """With a hazard out too, a pause can only make stays longer, and spells that end by the
    hazard end on the same day (common random numbers)."""
    routes = {"a_dagpenge": [{"to": "job", "rate_per_week": 0.01},
                             {"to": "kontanthjaelp_jobparat", "at_week": 104, "share": 1}],
              "kontanthjaelp_jobparat": [{"to": "job", "rate_per_week": 0.05}]}
    plain = exhaustions(clock_only(transitions=routes))
    paused = exhaustions(clock_only(transitions=routes, rules=[PAUSE]))
    both = plain.join(paused.add_suffix("_paused"), how="inner")
    both = both[both["start_day"] == both["start_day_paused"]]
    job = both[(both["to"] == "job") & (both["to_paused"] == "job")]
    assert len(job) > 20
    np.testing.assert_allclose(job["end_day_paused"], job["end_day"], atol=1e-9)
    assert (both["end_day_paused"] >= both["end_day"] - 1e-9).all()


def test_paused_days_are_not_used_up_across_spells() -> None:
    """A returner's period counts its earlier spells less their days inside the pause."""
    from types import SimpleNamespace

    from sim.features.dagpenge import DagpengeFeature, DagpengePlan

    plan = DagpengePlan(0, 156 * WEEK, 52 * WEEK, frozenset({2}), ((100.0, 160.0),))
    f = DagpengeFeature(plan, slot=0)
    c: Any = SimpleNamespace(ident=0)
    f.spell_closed(c, 0, 50.0, 200.0)  # 150 days, 60 of them paused
    f.spell_closed(c, 5, 200.0, 250.0)  # not self-support
    assert f.clock_shift(c, 250.0) == pytest.approx(90.0)
    assert f.clock_days(c, 0, 250.0, (728.0,)) == pytest.approx((638.0,))


def test_a_clock_changed_for_spells_before_a_date() -> None:
    """Only spells started from the reform are reassessed at week 104 here: older ones never
    meet the clock, and later ones at week 52 when the rule moves it."""
    cut = "2018-06-30"
    never = exhaustions(clock_only(rules=[{"kind": "clock", "state": "a_dagpenge", "week": 104,
                                           "until": cut, "at_week": "never"}]))
    old = never[never["start_day"] <= day(cut)]
    assert len(old) > 100 and old["to"].isna().all()  # still there at the horizon
    new = never[never["start_day"] > day(cut)]
    ended = new[new["to"].notna()]
    assert len(ended) > 50
    np.testing.assert_allclose(ended["end_day"] - ended["start_day"], 104 * WEEK, atol=1e-6)
    moved = exhaustions(clock_only(rules=[{"kind": "clock", "state": "a_dagpenge", "week": 104,
                                           "from": "2019-01-01", "at_week": 52}]))
    late = moved[(moved["start_day"] >= day("2019-01-01")) & moved["to"].notna()]
    assert len(late) > 50
    np.testing.assert_allclose(late["end_day"] - late["start_day"], 52 * WEEK, atol=1e-6)


def sick(**extra: Any) -> sim.Scenario:
    return sim.scenario_from_dict({
        "name": "sick", "start": START.isoformat(), "months": 24,
        "states": {"sygedagpenge": {}}, "initial": {"sygedagpenge": 300},
        "inflow_per_week": {"sygedagpenge": 30},
        "transitions": {"sygedagpenge": [{"to": "job", "rate_per_week": 0.1}]},
        "economics": {},
        "targets": [{"name": "paid", "states": ["sygedagpenge"], "year": 2019, "at_most": 300,
                     "basis": "payment"},
                    {"name": "all", "states": ["sygedagpenge"], "year": 2019, "at_most": 300}],
        **extra})


@pytest.mark.parametrize("share", [1.0, 0.4])
def test_refund_from_day_one_pays_that_share_of_the_employer_period(share: float) -> None:
    """Between the dates the payment basis gains the share of the employer-period days: across
    the whole of 2019 with share 1 the two bases agree for 2019; the net cost does not move
    (those days are refunded in full) and the gross grows by the days paid at the daily rate."""
    rule = {"kind": "refund_from_day_one", "state": "sygedagpenge", "from": "2019-01-01",
            "until": "2019-12-31", "share": share}
    plain, waived = sim.run(sick(), runs=3, seed=4), sim.run(sick(rules=[rule]), runs=3, seed=4)
    paid0, every0 = (np.asarray(v) for v in plain.store.arrays["targets"])
    paid1, every1 = (np.asarray(v) for v in waived.store.arrays["targets"])
    np.testing.assert_allclose(every1, every0)  # the same paths
    np.testing.assert_allclose(paid1, paid0 + share * (every0 - paid0), rtol=1e-9)
    yearly0 = plain.yearly.set_index(["year", "state"]).loc[(2019, "sygedagpenge")]
    yearly1 = waived.yearly.set_index(["year", "state"]).loc[(2019, "sygedagpenge")]
    assert yearly1["net_dkk"] == pytest.approx(yearly0["net_dkk"], rel=1e-9)
    daily = 134_031_172 / 648 / 365  # Køge's 2018 sygedagpenge per full-year person a day
    gained = (paid1 - paid0).mean() * 365 * daily
    assert yearly1["gross_dkk"] - yearly0["gross_dkk"] == pytest.approx(gained, rel=1e-6)
    steps = waived.staircase
    assert steps is not None
    on_day_one = steps[(steps["step"] == "refunded from day one") & (steps["state"] == "sygedagpenge")]
    assert on_day_one.set_index("year").loc[2019, "person_weeks"] * 7 == pytest.approx(
        (paid1 - paid0).mean() * 365, rel=1e-9)


def test_a_staircase_and_a_rate_from_a_date() -> None:
    """From July 2019 a flat 50 % staircase and a doubled rate: 2018's costs are untouched, the
    second half of 2019 costs net 0.5 × the doubled rate of its benefit days."""
    rules = [{"kind": "staircase", "from": "2019-07-01", "staircase": [[0, 0.5]]},
             {"kind": "rate", "state": "sygedagpenge", "from": "2019-07-01",
              "dkk_per_full_year_person": 2 * 134_031_172 / 648}]
    plain, dated = sim.run(sick(), runs=2, seed=9), sim.run(sick(rules=rules), runs=2, seed=9)
    costs0 = plain.costs.set_index(["month", "state"]).xs("sygedagpenge", level="state")
    costs1 = dated.costs.set_index(["month", "state"]).xs("sygedagpenge", level="state")
    early = [m for m in costs0.index if m < "2019-07"]
    late = [m for m in costs0.index if m >= "2019-07"]
    np.testing.assert_allclose(costs1.loc[early, "net_dkk"], costs0.loc[early, "net_dkk"], rtol=1e-9)
    np.testing.assert_allclose(costs1.loc[late, "gross_dkk"], 2 * costs0.loc[late, "gross_dkk"], rtol=1e-9)
    np.testing.assert_allclose(costs1.loc[late, "net_dkk"], 0.5 * costs1.loc[late, "gross_dkk"], rtol=1e-9)


@pytest.mark.parametrize(("rule", "where", "words"), [
    ({"kind": "pause_clocks", "state": "sygedagpenge", "from": "2019-01-01", "until": "2019-06-30"},
     "rules[0].state", "has no clock"),
    ({"kind": "clock", "state": "sygedagpenge", "week": 30, "from": "2019-01-01"}, "rules[0].week",
     "no clock at week 30"),
    ({"kind": "staircase", "from": "2019-01-15", "staircase": [[0, 0.5]]}, "rules[0].from",
     "first of a month"),
    ({"kind": "rate", "state": "sygedagpenge", "from": "2019-01-01", "until": "2019-06-15",
      "dkk_per_full_year_person": 1}, "rules[0].until", "last day of a month"),
    ({"kind": "refund_from_day_one", "state": "kontanthjaelp", "from": "2019-01-01"}, "rules[0].state",
     "unknown state"),
    ({"kind": "pauze", "state": "sygedagpenge"}, "rules[0]", "kind 'pauze' is not known"),
    ({"kind": "staircase", "from": "2019-01-01", "staircase": [[0, 1.5]]}, "rules[0].staircase",
     "1.5 is above 1"),
    ({"kind": "rate", "state": "sygedagpenge", "from": "2019-01-01", "dkk_per_full_year_person": -1},
     "rules[0].dkk_per_full_year_person", "must be ≥ 0"),
    ({"kind": "pause_clocks", "state": "sygedagpenge", "from": "2019-06-01", "until": "2019-01-31"},
     "rules[0]", "is before from"),
])
def test_a_rule_that_cannot_apply_is_refused(tmp_path, rule, where, words) -> None:  # type: ignore[no-untyped-def]
    data = sick(rules=[]).model_dump(mode="json", exclude_none=True, by_alias=True)
    data["rules"] = [rule]
    refused_with_one_problem(tmp_path, data, where, words)
