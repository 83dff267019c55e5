"""Economics: the DKK a replication's person-days cost, split by the refusion staircase.

A feature with no states to watch: it asks the registry for the support count (`support`) and,
at the end of a replication, splits the benefit spells that feature kept into person-days by
state, staircase step (plus an unpaid step for, e.g., the employer-paid start of sygedagpenge)
and month. Each state's daily rate in each calendar year turns them into gross DKK, and the
step's municipal share into the net municipal cost.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from sim.contract.calendar import Calendar, days_in_year
from sim.contract.refusion import COVERED, DKK_PER_FULL_YEAR_PERSON_2018
from sim.contract.schema import Scenario
from sim.features.support import KEY as SUPPORT
from sim.features.support import SupportFeature
from sim.kernel.ledger import interval_person_days
from sim.kernel.protocol import Feature, Run

KEY = "economics"
STEP_DAYS = "step_days"
"""The record's array: person-days [benefit state, staircase step (unpaid last), month]."""


@dataclass(frozen=True)
class EconomicsModel:
    """Money rules per benefit state, ready for the costing (the counting rules are `support`'s)."""

    step_edges: tuple[float, ...]
    """Cumulative days on public support at which each staircase step starts (first is 0)."""
    shares: np.ndarray
    """Municipal share of each step, then 0 for the unpaid step."""
    municipal: np.ndarray
    """[state, step]: the municipal share of the benefit on each step (1 where not refunded)."""
    daily_dkk: np.ndarray
    """[state, month]: gross DKK per person-day, the year's price level applied."""
    calendar: Calendar
    n_benefit: int
    key: str = field(default=KEY)

    @property
    def n_steps(self) -> int:
        """Staircase steps, without the unpaid step."""
        return len(self.step_edges)

    def open(self, run: Run, slot: int) -> EconomicsFeature:
        """The costing of one replication."""
        support = run.feature(SUPPORT)
        assert isinstance(support, SupportFeature)  # the registry opens what economics requires first
        return EconomicsFeature(self, support, slot)

    def step_days(self, support: SupportFeature) -> np.ndarray:
        """Person-days [benefit state, step (unpaid last), month] of the spells `support` kept."""
        state, start, paid, end, prior = support.spell_arrays()
        n_sub = self.n_steps + 1
        edges = np.asarray((*self.step_edges, np.inf))
        rows, lo, hi = [state * n_sub + n_sub - 1], [start], [paid]  # the unpaid start of each spell
        counted = np.asarray(support.rules.counted, dtype=bool)[state] if len(state) else np.zeros(0, bool)
        frozen = np.searchsorted(edges, prior, side="right") - 1  # the step of a spell that does not count
        rows.append(state[~counted] * n_sub + frozen[~counted])
        lo.append(paid[~counted])
        hi.append(end[~counted])
        for k in range(self.n_steps):  # a counted spell climbs the staircase as it goes on
            c = counted
            rows.append(state[c] * n_sub + k)
            lo.append(np.maximum(paid[c], paid[c] + edges[k] - prior[c]))
            hi.append(np.minimum(end[c], paid[c] + edges[k + 1] - prior[c]))
        person_days = interval_person_days(self.calendar, self.n_benefit * n_sub, np.concatenate(rows),
                                           np.concatenate(lo), np.concatenate(hi))
        return person_days.reshape(self.n_benefit, n_sub, -1)


class EconomicsFeature(Feature):
    """The costing during one replication: nothing to watch, the split at the end."""

    def __init__(self, plan: EconomicsModel, support: SupportFeature, slot: int) -> None:
        self.plan = plan
        self.support = support
        self.states = frozenset()
        self.spells = False
        self.slot = slot

    def close(self) -> dict[str, np.ndarray]:
        """Person-days by state, staircase step and month."""
        return {STEP_DAYS: self.plan.step_days(self.support)}


def compile_economics(scenario: Scenario, calendar: Calendar) -> EconomicsModel | None:
    """The scenario's economics with catalogue defaults filled in, or None without an economics block."""
    econ = scenario.economics
    if econ is None:
        return None
    codes = list(scenario.states)
    edges = tuple(w * 7.0 for w, _ in econ.staircase)
    shares = np.array([s for _, s in econ.staircase] + [0.0])
    municipal, annual = [], []
    for code in codes:
        spec = econ.states.get(code)
        refunded = spec.refunded if spec and spec.refunded is not None else code in COVERED
        if spec and spec.municipal_share is not None:
            row = np.full(len(shares), spec.municipal_share)
        else:
            row = shares.copy() if refunded else np.ones(len(shares))
        row[-1] = 0.0  # nobody pays for the unpaid step
        municipal.append(row)
        level = spec.dkk_per_full_year_person if spec and spec.dkk_per_full_year_person is not None else (
            DKK_PER_FULL_YEAR_PERSON_2018[code])
        annual.append(level)
    years = np.array([int(label[:4]) for label in calendar.labels])
    year_days = np.array([float(days_in_year(int(y))) for y in years])
    index = (1.0 + econ.price_index_per_year) ** (years - econ.base_year)
    daily = np.asarray(annual)[:, None] * index[None, :] / year_days[None, :]
    return EconomicsModel(edges, shares, np.vstack(municipal), daily, calendar, len(codes))


def costs(econ: EconomicsModel, step_days: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Gross and net municipal DKK [state, month] from person-days [state, step, month]."""
    gross = step_days[:, :-1, :].sum(axis=1) * econ.daily_dkk
    net = np.einsum("skm,sk->sm", step_days, econ.municipal) * econ.daily_dkk
    return gross, net
