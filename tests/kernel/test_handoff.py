"""Citizens made only at their first referral see the process the one-by-one path sees.

With programmes alone watching states (`Referring`), the kernel draws every path a generation
at a time and makes a citizen, on the clock, only at the draw that reaches the first day a
programme asks for in a watched stay (`sim.kernel.bulk.Handoffs`); everyone else never becomes
an object. Held here to the path citizen by citizen (`bulk=False`) and to the path where every
watched move is an event (`ahead=False`): the same draws, so the same counts exactly, and the
same days up to the order in which sums add. The variants reach each branch of the handoff:
referrals of every kind, queued places (times asked for) and places without limit (acts), a
referral drawn at a rate across several stays, eligibility by age and attribute drawn when the
citizen is made, the dagpenge period and dated rules moving clocks, the initial stock in watched
states, and a watched state with no way out; the shipped Tårnby (economics: the support count's
spells from both paths) is held to the event path in test_ahead.py.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from test_ahead import PROGRAMMES, events, same_process

import sim
from sim.features.programmes.programme import MEASURES
from sim.features.registry import prepare_model
from sim.kernel.engine import Replication

ROOT = Path(__file__).resolve().parents[2]


def variants() -> dict[str, dict[str, Any]]:
    """The programmes of every referral kind, and variants that reach the other branches."""
    out = {"queued places, every referral kind": copy.deepcopy(PROGRAMMES)}
    acts = copy.deepcopy(PROGRAMMES)
    for spec in acts["interventions"]:
        spec.pop("places", None)
        spec.pop("max_wait_weeks", None)
    out["no limit on places: acts"] = acts
    mixed = copy.deepcopy(PROGRAMMES)
    mixed["ages"] = {"kontanthjaelp_jobparat": [[18, 30, 0.3], [30, 67, 0.7]],
                     "a_dagpenge": [[18, 30, 0.4], [30, 67, 0.6]],
                     "sygedagpenge": [[18, 40, 0.5], [40, 67, 0.5]]}
    mixed["attributes"] = {"sex": {"sygedagpenge": {"female": 0.5, "male": 0.5}}}
    mixed["interventions"][0]["age"] = [18, 30]
    mixed["interventions"][1]["attributes"] = {"sex": "female"}
    mixed["interventions"][2]["rate_per_week"] = 0.05  # across several stays: draws carried over
    mixed["transitions"]["job"] = [{"to": "kontanthjaelp_jobparat", "rate_per_week": 0.03},
                                   {"to": "a_dagpenge", "rate_per_week": 0.02}]
    mixed["dagpenge_period"] = {"window_weeks": 104, "reearn_weeks": 20}
    mixed["rules"] = [{"kind": "pause_clocks", "state": "a_dagpenge", "from": "2018-09-01",
                       "until": "2018-12-31"}]
    out["ages, attributes, rate across stays, period, rules"] = mixed
    still = copy.deepcopy(PROGRAMMES)  # a watched state with no way out: referred all the same
    still["states"] = {**still.get("states", {}), "revalidering": {}}
    still["initial"] = {**still["initial"], "revalidering": 40}
    still["initial_durations"] = {"revalidering": [{"from_week": 0, "to_week": 4, "share": 1}]}
    still["inflow_per_week"] = {**still["inflow_per_week"], "revalidering": 3}
    still["interventions"].append({"name": "still", "states": ["revalidering"], "referral": "at_week",
                                   "from_week": 2, "duration_weeks": 4, "uptake": 0.5,
                                   "effects": {"during": {}}})
    out["a watched state with no way out"] = still
    return out


def made(model: sim.Model, seed: int) -> tuple[bool, int, int]:
    """Whether the generation-at-a-time path runs, citizens made one by one, citizens in all."""
    rep = Replication(model, np.random.SeedSequence(seed))
    rep.run()
    return rep.bulk, rep.n_made, rep.n_citizens


@pytest.mark.parametrize("name", list(variants()))
def test_citizens_made_at_their_first_referral_see_the_same_process(name: str) -> None:
    model = prepare_model(sim.scenario_from_dict(variants()[name]), 1)
    for seed in (1, 2):
        bulk, n_made, n = made(model, seed)
        assert bulk and 0 < n_made < n, (bulk, n_made, n)  # some made, some never
        handed = sim.simulate(model, np.random.SeedSequence(seed))
        same_process(handed, sim.simulate(model, np.random.SeedSequence(seed), bulk=False))
        same_process(handed, sim.simulate(model, np.random.SeedSequence(seed), ahead=False))
        assert handed.features["programmes"].sum() > 0


def test_the_variants_have_teeth() -> None:
    """Age and attribute decide eligibility, and the no-way-out state's programme starts citizens."""
    data = variants()["ages, attributes, rate across stays, period, rules"]
    model = prepare_model(sim.scenario_from_dict(data), 1)
    record = sim.simulate(model, np.random.SeedSequence(1))
    open_to_all = copy.deepcopy(data)
    open_to_all["interventions"][0].pop("age")
    open_to_all["interventions"][1].pop("attributes")
    wider = sim.simulate(prepare_model(sim.scenario_from_dict(open_to_all), 1), np.random.SeedSequence(1))
    referrals = MEASURES.index("referrals")
    for k in (0, 1):
        fewer, more = record.features["programmes"][k, referrals], wider.features["programmes"][k, referrals]
        assert fewer.sum() < more.sum()
    still = prepare_model(sim.scenario_from_dict(variants()["a watched state with no way out"]), 1)
    last = sim.simulate(still, np.random.SeedSequence(1)).features["programmes"][-1]
    assert last[MEASURES.index("starts")].sum() > 0


def test_shipped_tarnby_makes_only_the_referred() -> None:
    """Tårnby's four programmes refer; its caseload mostly never is, and needs no object."""
    model = prepare_model(sim.load_scenario(ROOT / "scenarios" / "taarnby-2018.yaml"), 1)
    bulk, n_made, n = made(model, 5)
    assert bulk and 0 < n_made < n


def test_teams_keep_every_citizen_one_by_one() -> None:
    """A caseworker team reads the caseload during the run: no handoff, every citizen made."""
    model = prepare_model(sim.load_scenario(ROOT / "scenarios" / "lyngby-taarbaek-2020.yaml"), 1)
    assert not Replication(model, np.random.SeedSequence(1)).bulk


def test_a_programme_alone_on_its_state_with_no_limit_needs_no_citizen_made() -> None:
    """Its referrals, places and after-effects are done as the paths are drawn, a generation at a
    time (`Acting`): no citizen is made, no SimPy event, and the process is the event path's."""
    data = copy.deepcopy(PROGRAMMES)
    data["interventions"] = [
        {"name": "own", "states": ["sygedagpenge"], "referral": "at_week", "from_week": 3, "to_week": 30,
         "uptake": 0.6, "duration_weeks": 6, "duration": "exponential",
         "effects": {"during": {"job": 0.5}, "after": {"job": 1.8}, "after_weeks": 10}},
        {"name": "rate", "states": ["kontanthjaelp_jobparat"], "referral": "rate", "rate_per_week": 0.2,
         "uptake": 0.7, "duration_weeks": 4, "effects": {"during": {"a_dagpenge": 2.0}}}]
    model = prepare_model(sim.scenario_from_dict(data), 1)
    for seed in (1, 2):
        bulk, n_made, _ = made(model, seed)
        steps, drawn = events(model, seed, bulk=True)
        assert bulk and n_made == 0 and steps == 0
        same_process(drawn, sim.simulate(model, np.random.SeedSequence(seed), ahead=False))
        starts = drawn.features["programmes"][:, MEASURES.index("starts")].sum(axis=1)
        assert (starts > 50).all()


@pytest.mark.parametrize("uptake", [0.0, 0.6])
def test_a_queued_programme_alone_on_its_state_makes_only_those_who_take_up_its_referral(
        uptake: float) -> None:
    """Its referrals are taken up or declined as the paths are drawn (`Deciding`): a citizen is made
    only to queue for a place, and the process is the event path's and the one-by-one path's; with
    every referral declined, no citizen is made and there is no SimPy event."""
    data = copy.deepcopy(PROGRAMMES)
    data["interventions"] = [
        {"name": "queue", "states": ["a_dagpenge"], "referral": "at_week", "from_week": 4, "places": 15,
         "max_wait_weeks": 6, "uptake": uptake, "duration_weeks": 10, "effects": {"during": {"job": 0.5}}},
        {"name": "rate", "states": ["kontanthjaelp_jobparat"], "referral": "rate", "rate_per_week": 0.2,
         "places": 4, "uptake": uptake, "duration_weeks": 3, "effects": {"during": {"a_dagpenge": 2.0}}}]
    model = prepare_model(sim.scenario_from_dict(data), 1)
    for seed in (1, 2):
        bulk, n_made, _ = made(model, seed)
        steps, drawn = events(model, seed, bulk=True)
        same_process(drawn, sim.simulate(model, np.random.SeedSequence(seed), ahead=False))
        same_process(drawn, sim.simulate(model, np.random.SeedSequence(seed), bulk=False))
        totals = drawn.features["programmes"].sum(axis=2)
        referred, declined = totals[:, MEASURES.index("referrals")], totals[:, MEASURES.index("declined")]
        assert bulk and (referred > 50).all()
        assert n_made <= (referred - declined).sum()  # at most one citizen made a referral taken up
        if uptake == 0.0:
            assert n_made == 0 and steps == 0
        else:
            assert n_made > 0 and (declined > 10).all()
