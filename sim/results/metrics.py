"""Per-replication metrics: full-time persons per month, full-year persons per year, features' tables.

Full-time (full-year) persons are person-days on a benefit ÷ days in the period, the unit of
every Jobindsats figure, target and budget. Rows: benefit states, then `total`. Each active
feature adds its own tables (sim.features.outputs).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.features.registry import kinds_of
from sim.kernel.ledger import SPELL_MEASURES
from sim.kernel.model import Model
from sim.kernel.records import ReplicationRecord, books_durations, min_weeks_of
from sim.kernel.tables import by_year, with_total


@dataclass(frozen=True)
class Metrics:
    """The numbers kept from one replication."""

    tables: dict[str, np.ndarray]
    """monthly [row, month] full-time persons; yearly [row, year] full-year persons; each
    feature's tables (`FeatureOutputs.measure`, e.g. economics' DKK); with a mean_duration_weeks
    target, durations [row, measure (sim.kernel.ledger.SPELL_MEASURES), start month] of the spells
    started inside the horizon; with min_weeks targets, long_monthly [threshold, row, month] and
    long_yearly [threshold, row, year]: full-time (full-year) persons beyond each threshold's weeks
    of the current spell."""
    flows: np.ndarray
    """Moves per month [origin incl. outside, destination, month]."""


def measure(model: Model, record: ReplicationRecord) -> Metrics:
    """All metrics of one replication."""
    days = model.calendar.days
    person_days = with_total(record.person_days[: model.n_benefit])
    year_days = by_year(model, days)
    tables = {"monthly": person_days / days, "yearly": by_year(model, person_days) / year_days}
    for kind in kinds_of(model):
        tables |= kind.outputs.measure(model, record)
    if record.durations is not None:
        tables["durations"] = with_total(record.durations[: model.n_benefit])
    if record.long_term is not None:
        long = record.long_term[:, : model.n_benefit]
        long = np.concatenate([long, long.sum(axis=1, keepdims=True)], axis=1)
        tables |= {"long_monthly": long / days, "long_yearly": by_year(model, long) / year_days}
    return Metrics(tables, record.flows)


def table_shapes(model: Model) -> dict[str, tuple[int, ...]]:
    """The shape of each metric table one replication gives."""
    rows, months, years = model.n_benefit + 1, model.calendar.months, len(model.calendar.full_years())
    shapes: dict[str, tuple[int, ...]] = {"monthly": (rows, months), "yearly": (rows, years)}
    for kind in kinds_of(model):
        shapes |= kind.outputs.shapes(model)
    if books_durations(model.scenario):
        shapes["durations"] = (rows, len(SPELL_MEASURES), months)
    if thresholds := min_weeks_of(model.scenario):
        k = len(thresholds)
        shapes |= {"long_monthly": (k, rows, months), "long_yearly": (k, rows, years)}
    return shapes
