"""Per-replication metrics: full-time persons per month, full-year persons per year, and costs.

Full-time (full-year) persons are person-days on a benefit ÷ days in the period, the unit of
every Jobindsats figure, target and budget. Rows: benefit states, then `total`. With economics,
gross and net municipal DKK per month and year, and person-weeks by staircase step per year.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.features.caseworkers import MEASURES as TEAM_MEASURES
from sim.features.economics import costs
from sim.features.programmes import MEASURES
from sim.kernel.ledger import SPELL_MEASURES
from sim.kernel.model import Model
from sim.kernel.records import ReplicationRecord, books_durations, min_weeks_of


@dataclass(frozen=True)
class Metrics:
    """The numbers kept from one replication."""

    tables: dict[str, np.ndarray]
    """monthly [row, month] full-time persons; yearly [row, year] full-year persons; with
    economics also monthly_gross, monthly_net, yearly_gross, yearly_net (DKK) and
    yearly_steps [row, step (unpaid last), year] person-weeks; with a mean_duration_weeks
    target, durations [row, measure (sim.kernel.ledger.SPELL_MEASURES), start month] of the spells
    started inside the horizon; with min_weeks targets, long_monthly [threshold, row, month] and
    long_yearly [threshold, row, year]: full-time (full-year) persons beyond each threshold's weeks
    of the current spell."""
    flows: np.ndarray
    """Moves per month [origin incl. outside, destination, month]."""


def with_total(values: np.ndarray) -> np.ndarray:
    """Append the sum over benefit states (axis 0) as the `total` row."""
    return np.concatenate([values, values.sum(axis=0, keepdims=True)])


def by_year(model: Model, monthly: np.ndarray) -> np.ndarray:
    """Sum a [..., month] array over each full calendar year: [..., year]."""
    years = model.calendar.full_years().values()
    if not years:
        return np.zeros((*monthly.shape[:-1], 0))
    return np.stack([monthly[..., sl].sum(axis=-1) for sl in years], axis=-1)


def measure(model: Model, record: ReplicationRecord) -> Metrics:
    """All metrics of one replication."""
    days = model.calendar.days
    person_days = with_total(record.person_days[: model.n_benefit])
    year_days = by_year(model, days)
    tables = {"monthly": person_days / days, "yearly": by_year(model, person_days) / year_days}
    if model.economics is not None and record.step_days is not None:
        gross, net = (with_total(x) for x in costs(model.economics, record.step_days))
        tables |= {"monthly_gross": gross, "monthly_net": net,
                   "yearly_gross": by_year(model, gross), "yearly_net": by_year(model, net),
                   "yearly_steps": by_year(model, with_total(record.step_days)) / 7.0}
    if record.programmes is not None:
        tables["programmes"] = record.programmes
    if record.teams is not None:
        tables["teams"] = record.teams
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
    if model.economics is not None:
        shapes |= {"monthly_gross": (rows, months), "monthly_net": (rows, months),
                   "yearly_gross": (rows, years), "yearly_net": (rows, years),
                   "yearly_steps": (rows, model.economics.n_steps + 1, years)}
    if model.scenario.interventions:
        shapes["programmes"] = (len(model.scenario.interventions), len(MEASURES), months)
    if model.scenario.caseworkers:
        shapes["teams"] = (len(model.scenario.caseworkers), len(TEAM_MEASURES), months)
    if books_durations(model.scenario):
        shapes["durations"] = (rows, len(SPELL_MEASURES), months)
    if thresholds := min_weeks_of(model.scenario):
        k = len(thresholds)
        shapes |= {"long_monthly": (k, rows, months), "long_yearly": (k, rows, years)}
    return shapes
