"""A scenario whose moves never end stops with a message naming the states, not a hang."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import sim
from sim.kernel.engine import MOVES_PER_CITIZEN_YEAR, EventBudgetExceeded
from sim.kernel.hazards import ExitSchedule


def ping_pong(rate_per_week: float, watched: bool = False) -> sim.Scenario:
    data = {"name": "ping-pong", "start": "2018-01-01", "months": 1,
            "states": {"a_dagpenge": {}, "kontanthjaelp": {}}, "initial": {"a_dagpenge": 2},
            "transitions": {"a_dagpenge": [{"to": "kontanthjaelp", "rate_per_week": rate_per_week}],
                            "kontanthjaelp": [{"to": "a_dagpenge", "rate_per_week": rate_per_week}]}}
    if watched:
        data["interventions"] = [{"name": "watch", "states": ["a_dagpenge"], "from_week": 0, "to_week": 1,
                                  "referral": "on_entry", "uptake": 0.0, "duration_weeks": 1}]
    return sim.scenario_from_dict(data)


@pytest.mark.parametrize("watched", [False, True])
def test_moves_without_end_stop_with_the_states_named(watched: bool) -> None:
    """Moving 50,000 times a week each way is 2.6 million moves a citizen-year, over the budget of
    10,000: the replication stops and names the pair of states. (The loader refuses such rates;
    the schedules are swapped in after it, as the second guard must hold on its own.)"""
    model = sim.compile_model(ping_pong(5.0, watched))
    frantic = [ExitSchedule.build([(dest, ((0.0, 50_000.0),))], []) for dest in (1, 0)]
    model = dataclasses.replace(model, schedules=(*frantic, *model.schedules[2:]))
    with pytest.raises(EventBudgetExceeded) as stopped:
        sim.simulate(model, np.random.SeedSequence(1))
    text = str(stopped.value)
    assert "a_dagpenge → kontanthjaelp" in text or "kontanthjaelp → a_dagpenge" in text
    assert f"{MOVES_PER_CITIZEN_YEAR:,}" in text


def test_a_busy_but_finite_caseload_is_within_the_budget() -> None:
    """Five moves a week each way (≈ 260 a year) is far inside the budget and runs."""
    record = sim.simulate(sim.compile_model(ping_pong(5.0)), np.random.SeedSequence(1))
    assert 0 < record.n_events < MOVES_PER_CITIZEN_YEAR
