"""Per-replication metrics: full-time persons per month, full-year persons per year.

Full-time (full-year) persons are person-days on a benefit ÷ days in the period, the unit of
every Jobindsats figure, target and budget. Row order: benefit states, then `total`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.model import Model
from sim.records import ReplicationRecord


@dataclass(frozen=True)
class Metrics:
    """The numbers kept from one replication."""

    monthly: np.ndarray
    """Full-time persons [benefit states + total, month]."""
    yearly: np.ndarray
    """Full-year persons [benefit states + total, full calendar year]."""
    flows: np.ndarray
    """Moves per month [origin incl. outside, destination, month]."""


def benefit_person_days(model: Model, record: ReplicationRecord) -> np.ndarray:
    """Person-days per benefit state and month, with the total (all public support) as last row."""
    pd_benefit = record.person_days[: model.n_benefit]
    return np.vstack([pd_benefit, pd_benefit.sum(axis=0, keepdims=True)])


def measure(model: Model, record: ReplicationRecord) -> Metrics:
    """Monthly and yearly full-time persons and the flow counts of one replication."""
    days = model.calendar.days
    person_days = benefit_person_days(model, record)
    years = model.calendar.full_years()
    yearly = np.column_stack(
        [person_days[:, sl].sum(axis=1) / days[sl].sum() for sl in years.values()]
    ) if years else np.zeros((person_days.shape[0], 0))
    return Metrics(person_days / days, yearly, record.flows)
