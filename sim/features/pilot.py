"""The initial stock's support history from the steady state: a pilot run of the same model.

At the start date the stock's cumulative weeks on public support are not known person by person.
At steady state they are the support counts with which citizens entered their current state
(independent of how long they have been there, since hazards depend only on weeks in the state),
so a long pilot of the scenario from an empty start, with its first year's average inflows,
records the counts at spell starts after a burn-in, and each initial citizen draws one. This is
the support feature's preparation step, run once per batch.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from sim.contract.calendar import Calendar
from sim.features.economics.costing import KEY as ECONOMICS
from sim.features.support import KEY, SupportFeature, SupportPlan
from sim.kernel.engine import Replication
from sim.kernel.model import Model
from sim.kernel.protocol import FeaturePlan

PILOT_YEARS = 10
BURN_IN_YEARS = 5
PILOT_ENTROPY = 7919
"""Mixed into the batch seed for the pilot: replication i is `SeedSequence(seed)` spawned with key
(i,), so any spawn key could be some replication's; a different entropy is none's."""


def pilot_seed(seed: int) -> np.random.SeedSequence:
    """The pilot's seed sequence, apart from every replication's of the batch."""
    return np.random.SeedSequence((seed, PILOT_ENTROPY))


def entry_history(model: Model, plan: SupportPlan, seed: int) -> tuple[np.ndarray | None, ...]:
    """Support days at spell start by state, seen after the burn-in of a steady-state pilot."""
    calendar = Calendar.build(model.calendar.start, PILOT_YEARS * 12)
    months = min(12, model.calendar.months)
    level = model.inflow_per_day[:, :months].mean(axis=1, keepdims=True)
    burn_in = calendar.edges[BURN_IN_YEARS * 12]
    recording = dataclasses.replace(plan, entry_history=None, record_after=burn_in)
    features: tuple[FeaturePlan, ...] = tuple(
        recording if f.key == KEY else f for f in model.features if f.key != ECONOMICS)  # no path costs
    pilot = dataclasses.replace(
        model, calendar=calendar, inflow_per_day=np.repeat(level, calendar.months, axis=1),
        initial=(0,) * model.n_states, features=features)
    replication = Replication(pilot, pilot_seed(seed))
    replication.run()
    support = replication.feature(KEY)
    assert isinstance(support, SupportFeature)
    seen: list[list[float]] = [[] for _ in range(model.n_benefit)]
    for state, days in support.entries:
        seen[state].append(days)
    return tuple(np.sort(np.asarray(s)) if s else None for s in seen)


def prepare_support(model: Model, plan: SupportPlan, seed: int) -> SupportPlan:
    """The support plan with the pilot's entry history, when some initial stock needs it."""
    if not plan.needs_pilot(model):
        return plan
    return plan.with_history(entry_history(model, plan, seed))
