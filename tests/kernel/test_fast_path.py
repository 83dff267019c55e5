"""Drawing unwatched moves ahead gives the same process as running every move as an event."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import FAST_PATH, watching

import sim
from sim.kernel.model import compile_model


def scenario() -> sim.Scenario:
    return sim.scenario_from_dict(FAST_PATH)


def monthly_totals(model: sim.Model, runs: int, seed: int, fast_forward: bool) -> np.ndarray:
    seeds = np.random.SeedSequence(seed).spawn(runs)
    return np.array([sim.simulate(model, s, fast_forward=fast_forward).person_days[: model.n_benefit]
                     / model.calendar.days for s in seeds])


@pytest.mark.slow
def test_fast_path_matches_the_event_by_event_des() -> None:
    model = compile_model(scenario())
    fast = monthly_totals(model, 60, 1, True)
    des = monthly_totals(model, 60, 2, False)
    se = np.sqrt(fast.var(axis=0, ddof=1) / 60 + des.var(axis=0, ddof=1) / 60)
    z = np.abs(fast.mean(axis=0) - des.mean(axis=0)) / se
    assert z.max() < 4.5, f"largest difference {z.max():.1f} SE"  # 48 cells: 4.5 SE, family-wise


def test_watched_states_run_as_events_and_change_nothing_in_law() -> None:
    """Watching a state turns its moves into SimPy events; the ledger sees the same moves."""
    model = compile_model(scenario())
    watched = watching(model, {0, 2})
    seed = np.random.SeedSequence(5)
    a = sim.simulate(model, seed)
    b = sim.simulate(watched, seed)
    c = sim.simulate(model, seed, fast_forward=False)
    # same number of citizens and conservation in all three modes
    for rec in (a, b, c):
        arrivals = rec.flows[-1].sum(axis=0).cumsum()
        assert (rec.stock_end.sum(axis=0) == rec.n_initial + arrivals).all()
    # a fully watched model is the same as the event-by-event mode: identical numbers
    everything = watching(model, range(model.n_states))
    np.testing.assert_array_equal(sim.simulate(everything, seed).person_days, c.person_days)
