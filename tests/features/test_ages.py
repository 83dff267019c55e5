"""Eligibility by age: citizens get ages from the scenario's bands and age as time goes on."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np

import sim
from sim.features.programmes.programme import MEASURES


def scenario(age: list[float] | None) -> sim.Scenario:
    programme: dict[str, Any] = {"name": "kursus", "states": ["kontanthjaelp_jobparat"],
                                 "referral": "on_entry", "duration_weeks": 1}
    if age is not None:
        programme["age"] = age
    return sim.scenario_from_dict({
        "name": "ages", "start": dt.date(2018, 1, 1), "months": 12,
        "states": {"kontanthjaelp_jobparat": {}},
        "inflow_per_week": {"kontanthjaelp_jobparat": 40},
        "transitions": {"kontanthjaelp_jobparat": [{"to": "job", "rate_per_week": 0.05}]},
        "ages": {"kontanthjaelp_jobparat": [[18, 30, 0.3], [30, 40, 0.45], [40, 67, 0.25]]},
        "interventions": [programme],
    })


def referrals(age: list[float] | None, seed: int) -> float:
    model = sim.compile_model(scenario(age))
    record = sim.simulate(model, np.random.SeedSequence(seed))
    assert record.features["programmes"] is not None
    return float(record.features["programmes"][0, MEASURES.index("referrals")].sum())


def test_only_the_programmes_ages_are_referred() -> None:
    everyone = np.array([referrals(None, s) for s in range(6)])
    over_30 = np.array([referrals([30, 67], s) for s in range(6)])
    share = over_30.sum() / everyone.sum()
    n = everyone.sum()
    assert abs(share - 0.70) < 4 * np.sqrt(0.7 * 0.3 / n)  # 45 % + 25 % of entrants are 30 or over


def test_eligibility_by_age_needs_the_states_ages() -> None:
    data = scenario([30, 67]).model_dump(mode="json")
    data.pop("ages")
    try:
        sim.scenario_from_dict(data)
    except sim.ScenarioError as exc:
        assert "interventions[0].age" in str(exc) and "ages block" in str(exc)
    else:
        raise AssertionError("a programme limited by age was accepted without ages")


def test_attributes_limit_eligibility() -> None:
    """Only the programme's target group is referred: 48 % of entrants are women."""
    data = scenario(None).model_dump(mode="json")
    data["attributes"] = {"sex": {"kontanthjaelp_jobparat": {"female": 0.48, "male": 0.52}}}
    women_only = {**data, "interventions": [{**data["interventions"][0], "attributes": {"sex": "female"}}]}
    got = []
    for d in (data, women_only):
        model = sim.compile_model(sim.scenario_from_dict(d))
        records = [sim.simulate(model, np.random.SeedSequence(s)) for s in range(4)]
        got.append(sum(float(r.features["programmes"][0, 2].sum()) for r in records))
    share = got[1] / got[0]
    assert abs(share - 0.48) < 4 * np.sqrt(0.48 * 0.52 / got[0])


def test_referral_at_a_clock_reaches_those_the_clock_keeps() -> None:
    """Sygedagpenge's reassessment at week 22 sends 40 % on and keeps the rest: only those kept
    are referred, just after the clock, so referrals = kept at the clock (binomial, 4 SE)."""
    model = sim.compile_model(sim.scenario_from_dict({
        "name": "clock", "start": dt.date(2018, 1, 1), "months": 24,
        "states": {"sygedagpenge": {}, "jobafklaring": {}},
        "inflow_per_week": {"sygedagpenge": 30},
        "transitions": {"sygedagpenge": [{"to": "job", "rate_per_week": 0.05},
                                         {"to": "jobafklaring", "at_week": 22, "share": 0.4},
                                         {"to": "stay", "at_week": 22, "share": "rest"}],
                        "jobafklaring": [{"to": "job", "rate_per_week": 0.02}]},
        "interventions": [{"name": "opfølgning", "states": ["sygedagpenge"], "referral": "at_clock",
                           "duration_weeks": 1}],
    }))
    record = sim.simulate(model, np.random.SeedSequence(2), record_spells=True)
    assert record.features["programmes"] is not None and record.spells is not None
    spells = record.spells[record.spells["state"] == "sygedagpenge"]
    reached = spells[(spells["end_day"] - spells["start_day"] >= 22 * 7 - 1e-6)
                     & (spells["start_day"] + 22 * 7 < model.calendar.horizon)]
    kept = int((reached["to"] != "jobafklaring").sum())
    referrals = float(record.features["programmes"][0, 2].sum())
    assert referrals == kept
    assert abs(kept / len(reached) - 0.6) < 4 * np.sqrt(0.24 / len(reached))
