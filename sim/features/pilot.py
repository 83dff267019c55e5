"""The initial stock's support history from the steady state: a pilot run of the same model.

At the start date the stock's cumulative weeks on public support are not known person by person.
At steady state they are the support counts with which citizens entered their current state
(independent of how long they have been there, since hazards depend only on weeks in the state),
so a long pilot of the scenario from an empty start, with its first year's average inflows,
records the counts at spell starts after a burn-in, and each initial citizen draws one.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from sim.contract.calendar import Calendar
from sim.contract.schema import Scenario
from sim.kernel.model import Model, compile_model

PILOT_YEARS = 10
BURN_IN_YEARS = 5
PILOT_PURPOSE = 7919
"""Spawn key that keeps the pilot's random numbers apart from every replication's."""


def entry_history(model: Model, seed: int) -> tuple[np.ndarray | None, ...]:
    """Support days at spell start by state, seen after the burn-in of a steady-state pilot."""
    from sim.kernel.engine import Replication  # the engine builds on the model; the pilot runs it

    assert model.economics is not None
    calendar = Calendar.build(model.calendar.start, PILOT_YEARS * 12)
    months = min(12, model.calendar.months)
    level = model.inflow_per_day[:, :months].mean(axis=1, keepdims=True)
    economics = dataclasses.replace(
        model.economics, daily_dkk=np.zeros((model.n_benefit, calendar.months)))
    pilot = dataclasses.replace(
        model, calendar=calendar, inflow_per_day=np.repeat(level, calendar.months, axis=1),
        initial=(0,) * model.n_states, economics=economics, entry_history=None)
    burn_in = calendar.edges[BURN_IN_YEARS * 12]
    replication = Replication(pilot, np.random.SeedSequence(seed, spawn_key=(PILOT_PURPOSE,)),
                              record_entries_after=burn_in)
    replication.run()
    assert replication.book is not None
    seen: list[list[float]] = [[] for _ in range(model.n_benefit)]
    for state, support in replication.book.entries:
        seen[state].append(support)
    return tuple(np.sort(np.asarray(s)) if s else None for s in seen)


def prepare_model(scenario: Scenario, seed: int) -> Model:
    """Compile the scenario and, when it costs an initial stock, estimate that stock's history."""
    model = compile_model(scenario)
    if model.economics is None or not any(model.initial):
        return model
    given = model.economics.initial_history
    if all(given[s] is not None or model.initial[s] == 0 for s in range(model.n_benefit)):
        return model
    return dataclasses.replace(model, entry_history=entry_history(model, seed))
