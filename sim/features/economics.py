"""Economics compiled for the engine, and the DKK a replication's person-days cost.

Person-days are booked by state and staircase step (plus an unpaid step for, e.g., the
employer-paid start of sygedagpenge); each state's daily rate in each calendar year turns them
into gross DKK, and the step's municipal share into the net municipal cost.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.contract.calendar import Calendar
from sim.contract.catalogue import EXITS
from sim.contract.refusion import (
    COUNTED_EXITS,
    COVERED,
    DKK_PER_FULL_YEAR_PERSON_2018,
    SELF_SUPPORT_EXITS,
    UNPAID_FIRST_WEEKS,
)
from sim.contract.schema import Scenario


@dataclass(frozen=True)
class EconomicsModel:
    """Money rules per benefit state, in days, ready for the support book and the costing."""

    step_edges: tuple[float, ...]
    """Cumulative days on public support at which each staircase step starts (first is 0)."""
    shares: np.ndarray
    """Municipal share of each step, then 0 for the unpaid step."""
    counted: tuple[bool, ...]
    unpaid_days: tuple[float, ...]
    municipal: np.ndarray
    """[state, step]: the municipal share of the benefit on each step (1 where not refunded)."""
    daily_dkk: np.ndarray
    """[state, month]: gross DKK per person-day, the year's price level applied."""
    reset_days: float
    window_days: float
    exits: tuple[str, ...]
    """Per exit (in catalogue order after the benefit states): `self` (self-support, can reset
    the count), `counted` (its time counts toward cumulative support) or `none`."""
    initial_history: tuple[tuple[np.ndarray, np.ndarray, np.ndarray] | None, ...]
    """Per state: bands (lo days, hi days, shares) of prior support of the initial stock, if given."""

    @property
    def n_steps(self) -> int:
        """Staircase steps, without the unpaid step."""
        return len(self.step_edges)


def compile_economics(scenario: Scenario, calendar: Calendar) -> EconomicsModel | None:
    """The scenario's economics with catalogue defaults filled in, or None without an economics block."""
    econ = scenario.economics
    if econ is None:
        return None
    codes = list(scenario.states)
    edges = tuple(w * 7.0 for w, _ in econ.staircase)
    shares = np.array([s for _, s in econ.staircase] + [0.0])
    counted, unpaid, municipal, annual = [], [], [], []
    for code in codes:
        spec = econ.states.get(code)
        covered = code in COVERED
        counted.append(spec.counted if spec and spec.counted is not None else covered)
        refunded = spec.refunded if spec and spec.refunded is not None else covered
        weeks = spec.unpaid_first_weeks if spec and spec.unpaid_first_weeks is not None else (
            UNPAID_FIRST_WEEKS.get(code, 0.0))
        unpaid.append(weeks * 7.0)
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
    year_days = np.array([366.0 if (y % 4 == 0 and y % 100 != 0) or y % 400 == 0 else 365.0 for y in years])
    index = (1.0 + econ.price_index_per_year) ** (years - econ.base_year)
    daily = np.asarray(annual)[:, None] * index[None, :] / year_days[None, :]
    history = tuple(
        (np.array([b.from_week * 7.0 for b in bands]), np.array([b.to_week * 7.0 for b in bands]),
         np.array([b.share for b in bands])) if (bands := econ.initial_history.get(code)) else None
        for code in codes
    )
    exits = tuple("self" if e in SELF_SUPPORT_EXITS else "counted" if e in COUNTED_EXITS else "none"
                  for e in EXITS)
    return EconomicsModel(edges, shares, tuple(counted), tuple(unpaid), np.vstack(municipal), daily,
                          econ.reset_after_weeks * 7.0, econ.reset_window_weeks * 7.0, exits, history)


def costs(econ: EconomicsModel, step_days: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Gross and net municipal DKK [state, month] from person-days [state, step, month]."""
    gross = step_days[:, :-1, :].sum(axis=1) * econ.daily_dkk
    net = np.einsum("skm,sk->sm", step_days, econ.municipal) * econ.daily_dkk
    return gross, net
