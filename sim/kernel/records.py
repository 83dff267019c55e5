"""What one replication leaves behind: small typed arrays, the contract between engine and summaries."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from sim.contract.schema import DURATION_METRIC, Scenario


@dataclass(slots=True)
class ReplicationRecord:
    """The outcome of one replication."""

    person_days: np.ndarray
    """Person-days per state (benefits then exits) and month."""
    stock_end: np.ndarray
    """Persons in each state at the end of each month."""
    flows: np.ndarray
    """Moves per month, [origin (last = outside), destination, month]."""
    n_initial: int
    """Citizens in the initial stock."""
    n_events: int
    """Events processed (arrivals and moves)."""
    spells: pd.DataFrame | None = None
    """One row per completed or censored stay when asked for: id, state, start_day, end_day, to."""
    features: dict[str, np.ndarray] = field(default_factory=dict)
    """Each feature's arrays (`Feature.close`), by name, e.g. `step_days` with economics."""
    durations: np.ndarray | None = None
    """With a mean_duration_weeks target: spells started inside the horizon,
    [state (benefits then exits), measure (sim.kernel.ledger.SPELL_MEASURES), start month]."""
    long_term: np.ndarray | None = None
    """With min_weeks targets: person-days beyond each threshold (`min_weeks_of`) of the current
    spell, [threshold, state (benefits then exits), month]."""


def books_durations(scenario: Scenario) -> bool:
    """Whether a replication books spell durations: only when a target asks for them."""
    return any(t.metric == DURATION_METRIC for t in scenario.targets)


def min_weeks_of(scenario: Scenario) -> tuple[float, ...]:
    """The distinct `min_weeks` thresholds of the scenario's targets, in increasing order."""
    return tuple(sorted({float(t.min_weeks) for t in scenario.targets if t.min_weeks is not None}))
