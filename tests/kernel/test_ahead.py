"""Moves that programmes watch but do not act on need no SimPy event (`Handler.ahead`, `Run.wake`).

The kernel books such a move when it draws it, tells the programmes ahead of the clock, and
schedules a referral only once it knows the citizen is still in its stay then. `ahead=False`
keeps the path where every watched move and every referral is an event, the path these tests
hold the new one to: the same draws, so the same counts exactly, and the same person-days up to
the order in which the ledger sums them (the last bits of a float).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from helpers import CRN_BASE

import sim
from sim.features.programmes.programme import MEASURES, Programme
from sim.features.registry import prepare_model
from sim.kernel.citizen import Citizen
from sim.kernel.engine import Replication
from sim.kernel.protocol import Feature
from sim.kernel.records import ReplicationRecord

ROOT = Path(__file__).resolve().parents[2]
COUNTS = [MEASURES.index(m) for m in ("referrals", "starts", "lapsed", "declined")]
"""The programme measures that are counts of events (the others are sums of days)."""

PROGRAMMES: dict[str, Any] = {
    **CRN_BASE, "name": "ahead",
    "inflow_per_week": {"a_dagpenge": 12, "kontanthjaelp_jobparat": 4, "sygedagpenge": 20},
    "interventions": [
        {"name": "queue", "states": ["a_dagpenge", "kontanthjaelp_jobparat"], "referral": "at_week",
         "from_week": 4, "places": 15, "max_wait_weeks": 6, "uptake": 0.7, "duration_weeks": 10,
         "duration": "exponential", "effects": {"during": {"job": 0.5}, "after": {"job": 1.6},
                                                "after_weeks": 8}},
        {"name": "entry", "states": ["sygedagpenge"], "referral": "on_entry", "places": 5,
         "duration_weeks": 6, "effects": {"during": {"job": 0.7}}},
        {"name": "rate", "states": ["kontanthjaelp_jobparat"], "referral": "rate", "rate_per_week": 0.2,
         "to_week": 40, "duration_weeks": 3, "max_wait_weeks": 0, "places": 4,
         "effects": {"during": {"a_dagpenge": 2.0}}},
        {"name": "clock", "states": ["sygedagpenge"], "referral": "at_clock", "duration_weeks": 4,
         "effects": {"during": {"job": 1.5}}},
    ],
}


def both(model: sim.Model, seed: int,
         record_spells: bool = False) -> tuple[ReplicationRecord, ReplicationRecord]:
    """The replication with moves told ahead of the clock, and with every watched move an event."""
    ss = np.random.SeedSequence(seed)
    return (sim.simulate(model, ss, record_spells=record_spells),
            sim.simulate(model, ss, record_spells=record_spells, ahead=False))


def same_process(a: ReplicationRecord, b: ReplicationRecord) -> None:
    assert a.n_events == b.n_events
    np.testing.assert_array_equal(a.stock_end, b.stock_end)
    np.testing.assert_array_equal(a.flows, b.flows)
    np.testing.assert_allclose(a.person_days, b.person_days, rtol=1e-12, atol=1e-9)
    assert a.features.keys() == b.features.keys()
    for name in a.features:
        np.testing.assert_allclose(a.features[name], b.features[name], rtol=1e-12, atol=1e-9, err_msg=name)
    if "programmes" in a.features:
        counts_a, counts_b = a.features["programmes"][:, COUNTS], b.features["programmes"][:, COUNTS]
        np.testing.assert_array_equal(counts_a, counts_b)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_programmes_of_every_referral_kind_see_the_same_process(seed: int) -> None:
    model = sim.compile_model(sim.scenario_from_dict(PROGRAMMES))
    a, b = both(model, seed, record_spells=True)
    same_process(a, b)
    assert a.spells is not None and b.spells is not None
    np.testing.assert_array_equal(a.spells["id"], b.spells["id"])
    np.testing.assert_array_equal(a.spells["to"].fillna(""), b.spells["to"].fillna(""))
    np.testing.assert_allclose(a.spells["end_day"], b.spells["end_day"], rtol=1e-12)
    totals = a.features["programmes"].sum(axis=2)
    assert (totals[:, MEASURES.index("starts")] > 0).all()  # every programme ran


@pytest.mark.parametrize("name", ["taarnby-2018.yaml", "lyngby-taarbaek-2020.yaml"])
def test_shipped_scenarios_see_the_same_process(name: str) -> None:
    """Tårnby (programmes only: every watched move can go ahead) and Lyngby-Taarbæk (caseworker
    teams beside programmes: the teams' states keep their events)."""
    model = prepare_model(sim.load_scenario(ROOT / "scenarios" / name), 1)
    for seed in (11, 12):
        same_process(*both(model, seed))


def referrals(model: sim.Model, monkeypatch: pytest.MonkeyPatch, ahead: bool) -> tuple[list[bool], int]:
    """Whether each referral event of one replication found its citizen still in the stay (a referral,
    or one taken up as the path was drawn, its place to ask for), and the referrals declined as the
    paths were drawn (no event)."""
    seen: list[bool] = []
    declined = [0]
    refer, take, decides_many = Programme._refer, Programme._take, Programme.decides_many

    def found(ev: Any, states: frozenset[int]) -> None:
        c, spell = ev.value
        seen.append(c.entered == spell and c.state in states)

    def counting(self: Programme, ev: Any) -> None:
        found(ev, self.states)
        refer(self, ev)

    def taking(self: Programme, ev: Any) -> None:
        found(ev, self.states)
        take(self, ev)

    def deciding(self: Programme, *args: Any) -> np.ndarray:
        took: np.ndarray = decides_many(self, *args)
        declined[0] += int(np.count_nonzero(~took))
        return took

    with monkeypatch.context() as patch:
        patch.setattr(Programme, "_refer", counting)
        patch.setattr(Programme, "_take", taking)
        patch.setattr(Programme, "decides_many", deciding)
        sim.simulate(model, np.random.SeedSequence(5), ahead=ahead)
    return seen, declined[0]


def test_a_referral_becomes_an_event_once_its_citizen_is_known_to_be_there(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Ahead of the clock the kernel schedules a stay's referrals once it knows the citizen is
    still there at the first of them: with one programme a state every referral event finds its
    citizen; with several, those after the first may not. With one programme a state the referral
    is even decided as the path is drawn (`Deciding`): only one taken up becomes an event, to ask
    for a place. The event path makes the same referrals that reach a citizen, and many more that
    find none."""
    one_each = {**PROGRAMMES, "interventions": PROGRAMMES["interventions"][:2]}
    for data, all_found in ((one_each, True), (PROGRAMMES, False)):
        model = sim.compile_model(sim.scenario_from_dict(data))
        (ahead, declined), (events, none) = (referrals(model, monkeypatch, True),
                                             referrals(model, monkeypatch, False))
        assert none == 0
        assert sum(ahead) + declined == sum(events) > 100
        assert len(events) > len(ahead)
        assert all(ahead) == all_found
        assert declined > 50  # a_dagpenge's one programme declines as the paths are drawn


def events(model: sim.Model, seed: int, ahead: bool = True,
           bulk: bool = False) -> tuple[int, ReplicationRecord]:
    """The SimPy events one replication processes, citizen by citizen unless `bulk` (drawn a generation
    at a time, it needs fewer still: test_handoff.py), and its record."""
    run = Replication(model, np.random.SeedSequence(seed), ahead=ahead, bulk=bulk)
    processed = [0]
    step = run.env.step

    def counted() -> None:
        processed[0] += 1
        step()

    run.env.step = counted  # type: ignore[method-assign]
    record = run.run()
    return processed[0], record


@pytest.mark.parametrize("kind", [{"referral": "at_week", "from_week": 3}, {"referral": "on_entry"},
                                  {"referral": "rate", "rate_per_week": 0.3}])
def test_a_referral_that_comes_to_nothing_is_the_only_event_of_its_stay(kind: dict[str, Any]) -> None:
    """With every referral declined (uptake 0) the programme acts on no one, so the kernel needs
    one event a referral (and SimPy one for the horizon's end) and none for any move: the moves
    before it, the move it was waiting on and those after it are all booked ahead of the clock
    (`Run.done_with`). With no limit on places the referral is an act on the one citizen
    (`Run.act`), done as its moves are drawn: no event at all. The event path sees the same process
    through an event a watched move."""
    for places, events_a_referral in (({"places": 10_000}, 1), ({}, 0)):
        data = {**PROGRAMMES, "interventions": [
            {"name": "declined", "states": ["a_dagpenge", "kontanthjaelp_jobparat", "sygedagpenge"], **kind,
             **places, "uptake": 0.0, "duration_weeks": 4, "effects": {"during": {"job": 0.5}}}]}
        model = sim.compile_model(sim.scenario_from_dict(data))
        ahead, record = events(model, 3)
        plain, reference = events(model, 3, ahead=False)
        same_process(record, reference)
        made = int(record.features["programmes"][0, MEASURES.index("referrals")].sum())
        declined = int(record.features["programmes"][0, MEASURES.index("declined")].sum())
        assert made == declined > 100
        assert ahead == events_a_referral * made + 1
        assert plain > made + record.n_events // 2


def test_a_programme_with_no_limit_on_places_acts_with_no_event() -> None:
    """Referral, start, end and after-effect of a programme with no limit on places are acts on the
    one citizen: no SimPy event but the horizon's end, and the same process, effects and redraws
    included, as the event path where each is an event on the clock."""
    data = {**PROGRAMMES, "interventions": [
        {"name": "own", "states": ["a_dagpenge", "sygedagpenge"], "referral": "at_week", "from_week": 2,
         "uptake": 0.6, "duration_weeks": 5, "duration": "exponential",
         "effects": {"during": {"job": 0.5}, "after": {"job": 2.0}, "after_weeks": 6}},
        {"name": "also", "states": ["sygedagpenge"], "referral": "rate", "rate_per_week": 0.2,
         "duration_weeks": 3, "effects": {"during": {"job": 0.8, "kontanthjaelp_jobparat": 1.5}}}]}
    model = sim.compile_model(sim.scenario_from_dict(data))
    for seed in (3, 4):
        ahead, record = events(model, seed)
        _, reference = events(model, seed, ahead=False)
        same_process(record, reference)
        starts = record.features["programmes"][:, MEASURES.index("starts")].sum(axis=1)
        assert (starts > 100).all()
        assert ahead == 1


@pytest.mark.parametrize(("weeks", "after_weeks"), [(22, 4), (18, 4), (21, 4)])
def test_an_act_on_the_day_of_a_clock_comes_after_the_move_drawn_before_it(weeks: int,
                                                                          after_weeks: int) -> None:
    """On one day, acts and moves go in the order they were asked for or drawn, as SimPy orders the
    events of one time. A place that ends (or an after-effect that ends) on the very day of
    sygedagpenge's 22-week clock was asked for after the move drawn when the place began, so the
    clock strikes first, both ahead of the clock and on it (21 weeks: no tie, for contrast). Done
    first, the act would redraw from the clock's day as if the clock were past."""
    data = {**PROGRAMMES, "interventions": [
        {"name": "to the clock", "states": ["sygedagpenge"], "referral": "on_entry", "uptake": 1.0,
         "duration_weeks": weeks, "effects": {"during": {"job": 0.5}, "after": {"job": 2.0},
                                              "after_weeks": after_weeks}}]}
    model = sim.compile_model(sim.scenario_from_dict(data))
    for seed in (1, 2):
        same_process(*both(model, seed))


class Meddler(Feature):
    """A feature that declares `ahead` but changes hazards in `entered`: a misuse of the protocol."""

    ahead = True

    def __init__(self, run: Any, states: frozenset[int], slot: int) -> None:
        self.run, self.states, self.spells, self.slot = run, states, False, slot

    def entered(self, c: Citizen, now: float) -> None:
        self.run.set_effect(c, self, {self.run.model.codes.index("job"): 2.0}, now)


@dataclasses.dataclass(frozen=True)
class MisusePlan:
    """A misusing feature on sygedagpenge, added to a compiled model."""

    kind: type[Meddler] | type[Twice]
    states: frozenset[int]
    key: str = "misuse"

    def open(self, run: Any, slot: int) -> Meddler | Twice:
        return self.kind(run, self.states, slot)


def with_misuse(kind: type[Meddler] | type[Twice]) -> sim.Model:
    model = sim.compile_model(sim.scenario_from_dict(PROGRAMMES))
    plan = MisusePlan(kind, frozenset({model.codes.index("sygedagpenge")}))
    return dataclasses.replace(model, features=(*model.features, plan))


def test_a_handler_ahead_of_the_clock_may_not_change_hazards() -> None:
    """A handler that declares `ahead` but changes hazards in `entered` is stopped with a message."""
    with pytest.raises(RuntimeError, match="ahead of the clock"):
        sim.simulate(with_misuse(Meddler), np.random.SeedSequence(1))


class Twice(Feature):
    """A feature whose act changes a citizen's hazards twice: a misuse of `Run.act`."""

    ahead = True

    def __init__(self, run: Any, states: frozenset[int], slot: int) -> None:
        self.run, self.states, self.spells, self.slot = run, states, False, slot
        self.job = run.model.codes.index("job")

    def entered(self, c: Citizen, now: float) -> None:
        self.run.act(c, now + 1.0, self._both, None)

    def _both(self, c: Citizen, day: float, _: object) -> None:
        self.run.set_effect(c, self, {self.job: 2.0}, day)
        self.run.set_effect(c, "another source", {self.job: 3.0}, day)


def test_an_act_may_change_hazards_once() -> None:
    """An act done ahead of the clock has its citizen's move drawn again once; a second change in
    the same act would need a draw of its own, so it is stopped with a message."""
    with pytest.raises(RuntimeError, match="changed a citizen's hazards twice"):
        sim.simulate(with_misuse(Twice), np.random.SeedSequence(1))
