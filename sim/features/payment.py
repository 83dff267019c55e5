"""The payment basis: full-year persons counted from the day the municipality pays.

Jobindsats counts every day on a benefit. A municipality's budget and its own follow-up count
what it pays (KMD payment data, seed 003 note 1): for sygedagpenge not the employer's first 30
days (arbejdsgiverperiode), and none of them when a citizen falls sick straight from another
benefit. The feature watches no state: at every closed spell of a state with an employer period
it books the unpaid start, and the payment basis is the Jobindsats basis less those days. Between
the dates of a dated `refund_from_day_one` rule (sygedagpenge until 28 February 2022, seed 001)
the municipality pays the rule's share of those days, so they are on the payment basis. The
initial stock is taken to have come from outside support (its past spells are unknown).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from sim.contract.schema import Scenario
from sim.features.outputs import FeatureOutputs, ResolvedTarget, Stored, table_stats
from sim.features.rules import compile_dated, waived_days
from sim.features.support import KEY as SUPPORT
from sim.features.support import SupportFeature, compile_rules
from sim.kernel.ledger import interval_person_days
from sim.kernel.model import Model
from sim.kernel.protocol import Feature, Run
from sim.kernel.records import ReplicationRecord
from sim.kernel.tables import STAT_COLUMNS, by_year, with_total

KEY = "payment"
UNPAID = "unpaid_days"
"""The record's array: person-days [benefit state, month] before the municipality pays."""
PAYMENT_COLUMNS = [f"payment_{c}" for c in STAT_COLUMNS]
"""monthly.csv and yearly.csv: the statistics of full-time (full-year) persons on the payment basis."""


def unpaid_days(scenario: Scenario) -> tuple[float, ...]:
    """Days at the start of a spell from outside support that the municipality does not pay, by state."""
    return compile_rules(scenario).unpaid_days


def has_employer_period(scenario: Scenario) -> bool:
    """Whether the bases differ: some state has days the municipality does not pay."""
    return any(d > 0 for d in unpaid_days(scenario))


@dataclass(frozen=True)
class PaymentPlan:
    """The unpaid start of each benefit state, in days."""

    unpaid: tuple[float, ...]
    n_benefit: int
    day_one: dict[int, tuple[tuple[float, float, float], ...]] = field(default_factory=dict)
    """Dated rules paying a share of the unpaid days between two dates (`DatedRules.day_one`)."""
    key: str = field(default=KEY)

    def open(self, run: Run, slot: int) -> PaymentFeature:
        """The payment basis of one replication."""
        return PaymentFeature(self, run, slot)


class PaymentFeature(Feature):
    """Books the unpaid starts of one replication's spells (idents are dense, in creation order):
    a benefit spell from outside public support is paid after the state's unpaid start
    (sygedagpenge's employer period), one straight from another benefit from day 1. The support
    count applies the same rule to every spell it keeps; when it runs, the unpaid starts are read
    from its spells rather than booked twice."""

    def __init__(self, plan: PaymentPlan, run: Run, slot: int) -> None:
        self.plan = plan
        self.calendar = run.model.calendar
        self.states = frozenset()
        support = run.feature(SUPPORT)
        self.support = (support if isinstance(support, SupportFeature) and support.unpaid_days == plan.unpaid
                        else None)
        """The support count of the same replication, when it runs: it keeps every benefit spell with
        the day it is paid from by this rule, so the unpaid starts are read from it at the end."""
        self.spells = self.support is None
        self.late_spells = True  # nothing reads the unpaid starts during the run
        self.slot = slot
        self.unpaid, self.n_benefit = plan.unpaid, plan.n_benefit
        self.bulk: list[np.ndarray] = []
        """The unpaid starts, three numbers each (state, start, paid from), booked all at once
        after the horizon (`spells_closed`)."""

    def spells_closed(self, who: np.ndarray, state: np.ndarray, start: np.ndarray, end: np.ndarray) -> None:
        """Every spell at once, each citizen's in its own order: a benefit spell from outside public
        support is paid after its unpaid start, one that follows a benefit spell from day 1."""
        order = np.argsort(who, kind="stable")
        w, s = who[order], state[order]
        after_benefit = np.zeros(len(who), dtype=bool)
        after_benefit[order[1:]] = (w[1:] == w[:-1]) & (s[:-1] < self.n_benefit)
        on = state < self.n_benefit
        unpaid = np.zeros(len(state))
        unpaid[on] = np.asarray(self.unpaid, dtype=float)[state[on]]
        paid = np.where(after_benefit, start, np.minimum(start + unpaid, end))
        keep = on & (paid > start)
        self.bulk.append(np.stack([state[keep].astype(float), start[keep], paid[keep]], axis=1).ravel())

    def close(self) -> dict[str, np.ndarray]:
        """Unpaid person-days [benefit state, month]."""
        if self.support is not None:
            every, begun, paid_from = self.support.spell_arrays()[:3]
            unpaid = paid_from > begun
            state, start, paid = every[unpaid], begun[unpaid], paid_from[unpaid]
        else:
            kept = (np.concatenate(self.bulk) if self.bulk else np.zeros(0)).reshape(-1, 3)
            state, start, paid = kept[:, 0].astype(np.int64), kept[:, 1], kept[:, 2]
        days = interval_person_days(self.calendar, self.plan.n_benefit, state, start, paid)
        if self.plan.day_one:
            days -= waived_days(self.calendar, self.plan.n_benefit, self.plan.day_one, state, start, paid)
        return {UNPAID: days}


def compile_payment(scenario: Scenario, model: Model) -> PaymentPlan:
    """The employer periods as a feature plan."""
    return PaymentPlan(unpaid_days(scenario), model.n_benefit,
                       compile_dated(scenario, model.calendar).day_one)


class PaymentOutputs(FeatureOutputs):
    """monthly_payment and yearly_payment [row, period]; the payment columns of monthly/yearly.csv."""

    def shapes(self, model: Model) -> dict[str, tuple[int, ...]]:
        """Full-time persons per month and full-year persons per year on the payment basis."""
        rows = model.n_benefit + 1
        return {"monthly_payment": (rows, model.calendar.months),
                "yearly_payment": (rows, len(model.calendar.full_years()))}

    bases = frozenset({"payment"})

    def measure(self, model: Model, record: ReplicationRecord) -> dict[str, np.ndarray]:
        """The Jobindsats person-days less the unpaid ones."""
        paid = with_total(record.person_days[: model.n_benefit] - record.features[UNPAID])
        days = model.calendar.days
        return {"monthly_payment": paid / days, "yearly_payment": by_year(model, paid) / by_year(model, days)}

    def monthly_columns(self, model: Model, store: Stored) -> tuple[list[str], np.ndarray]:
        """The payment columns of monthly.csv."""
        return PAYMENT_COLUMNS, table_stats(store, "monthly_payment")

    def yearly_columns(self, model: Model, store: Stored) -> tuple[list[str], np.ndarray]:
        """The payment columns of yearly.csv."""
        return PAYMENT_COLUMNS, table_stats(store, "yearly_payment")

    def basis_value(self, target: ResolvedTarget, tables: Mapping[str, np.ndarray]) -> float:
        """A full_year_persons target's value on the payment basis."""
        rows = list(target.rows)
        if target.month_column >= 0:
            return float(tables["monthly_payment"][rows, target.month_column].sum())
        return float(tables["yearly_payment"][rows, target.year_column].sum())

