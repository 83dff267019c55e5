"""The dagpenge period used up across spells: hand-computed paths and every simulated path."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

import sim
from sim.features.dagpenge import DagpengeFeature, DagpengePlan

WEEK = 7.0
PERIOD = 104 * WEEK
WINDOW = 156 * WEEK
REEARN = 52 * WEEK
A, JOB, OTHER = 0, 2, 5  # a-dagpenge, job, a state that is not self-support


def feature() -> DagpengeFeature:
    return DagpengeFeature(DagpengePlan(A, WINDOW, REEARN, frozenset({JOB})), slot=0)


def citizen(ident: int = 0) -> Any:
    return SimpleNamespace(ident=ident)


def test_a_first_spell_has_the_whole_period() -> None:
    assert feature().clock_shift(citizen(), 100.0) == 0.0


def test_a_returner_continues_where_it_stopped() -> None:
    """300 days on dagpenge, 100 days in a job: back on day 400 with 300 days used, so the
    104-week clock strikes 300 days early (at day 400 + 728 − 300 = 828)."""
    f, c = feature(), citizen()
    f.spell_closed(c, A, 0.0, 300.0)
    f.spell_closed(c, JOB, 300.0, 400.0)
    assert f.clock_shift(c, 400.0) == 300.0


def test_use_counts_only_inside_the_reference_period() -> None:
    """Spells [0, 200] and [500, 600], back on day 1,200: the window is [108, 1,200], so 92 + 100
    days are used."""
    f, c = feature(), citizen()
    f.spell_closed(c, A, 0.0, 200.0)
    f.spell_closed(c, OTHER, 200.0, 500.0)
    f.spell_closed(c, A, 500.0, 600.0)
    f.spell_closed(c, OTHER, 600.0, 1_200.0)
    assert f.clock_shift(c, 1_200.0) == pytest.approx(92.0 + 100.0)


def test_a_year_of_work_earns_a_new_period() -> None:
    f, c = feature(), citizen()
    f.spell_closed(c, A, 0.0, 400.0)
    f.spell_closed(c, JOB, 400.0, 400.0 + REEARN - 1)
    assert f.clock_shift(c, 400.0 + REEARN - 1) == 400.0  # one day short of a year
    g = feature()
    g.spell_closed(c, A, 0.0, 400.0)
    g.spell_closed(c, JOB, 400.0, 400.0 + REEARN)
    assert g.clock_shift(c, 400.0 + REEARN) == 0.0
    # time outside support that is not self-support (moved, ill, …) earns nothing
    h = feature()
    h.spell_closed(c, A, 0.0, 400.0)
    h.spell_closed(c, OTHER, 400.0, 400.0 + 2 * REEARN)
    back = 400.0 + 2 * REEARN
    assert h.clock_shift(c, back) == pytest.approx(400.0 - (back - WINDOW))  # what is left in the window


def _scenario(**extra: Any) -> sim.Scenario:
    return sim.scenario_from_dict({
        "name": "returners", "start": "2018-01-01", "months": 72,
        "states": {"a_dagpenge": {}, "kontanthjaelp_jobparat": {}},
        "initial": {"a_dagpenge": 300}, "inflow_per_week": {"a_dagpenge": 6},
        "transitions": {
            "a_dagpenge": [{"to": "job", "rate_per_week": 0.012},
                           {"to": "kontanthjaelp_jobparat", "at_week": 104, "share": 1}],
            "kontanthjaelp_jobparat": [{"to": "job", "rate_per_week": 0.05}],
            "job": [{"to": "a_dagpenge", "rate_per_week": 0.04}],
        },
        **extra})


def _used(spells: list[tuple[str, float, float]], start: float) -> float:
    """The period used before a spell starting on `start`, recomputed from the citizen's own earlier
    spells by the rule (window, re-earning), independently of the feature. The spell table keeps
    benefit spells only; in this scenario every gap between two of them is time in a job."""
    used: list[tuple[float, float]] = []
    earned, last_end = 0.0, None
    for state, a, b in spells:
        if a >= start:
            break
        if last_end is not None and used:
            earned += a - last_end  # the job in between
            if earned >= REEARN:
                used, earned = [], 0.0
        if state == "a_dagpenge":
            used.append((a, b))
            earned = 0.0
        last_end = b
    if last_end is not None and used:
        earned += start - last_end
        if earned >= REEARN:
            used = []
    lo = start - WINDOW
    return sum(max(0.0, min(b, start) - max(a, lo)) for a, b in used)


def test_every_simulated_exhaustion_comes_when_the_period_is_used_up() -> None:
    """Each a-dagpenge spell that ends at the clock lasts exactly the period left at its start
    (104 weeks less what was used); every other spell ends before that."""
    model = sim.compile_model(_scenario(dagpenge_period={}))
    record = sim.simulate(model, np.random.SeedSequence(11), record_spells=True)
    spells = record.spells
    assert spells is not None
    exhausted = returners = 0
    for _, own in spells.groupby("id"):
        path = list(zip(own["state"], own["start_day"], own["end_day"], strict=True))
        for (state, a, b), to in zip(path, own["to"], strict=True):
            if state != "a_dagpenge" or a < 0:  # the initial stock's first spell: no past
                continue
            left = max(PERIOD - _used(path, a), 0.0)
            if to == "kontanthjaelp_jobparat":
                exhausted += 1
                returners += left < PERIOD
                assert b - a == pytest.approx(left, abs=1e-5), (path, a)
            else:
                assert b - a <= left + 1e-6
    assert exhausted > 50 and returners > 20  # the rule was exercised on returners


def test_without_the_block_a_returner_gets_a_fresh_period() -> None:
    record = sim.simulate(sim.compile_model(_scenario()), np.random.SeedSequence(11), record_spells=True)
    spells = record.spells
    assert spells is not None
    clock = spells[(spells["state"] == "a_dagpenge") & (spells["to"] == "kontanthjaelp_jobparat")
                   & (spells["start_day"] >= 0)]
    assert len(clock) > 0 and np.allclose(clock["end_day"] - clock["start_day"], PERIOD)


def test_the_period_needs_a_state_with_a_clock(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from helpers import refused_with_one_problem

    data = {"name": "x", "start": "2018-01-01", "months": 12, "states": {"a_dagpenge": {}},
            "initial": {"a_dagpenge": 10},
            "transitions": {"a_dagpenge": [{"to": "job", "rate_per_week": 0.1}]},
            "dagpenge_period": {}}
    refused_with_one_problem(tmp_path, data, "dagpenge_period.state", "has no clock")
