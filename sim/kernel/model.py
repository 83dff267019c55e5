"""A scenario compiled for the engine: states numbered, hazards merged, inflows per month.

Compiling once per batch (per worker) keeps the per-replication work to simulation alone.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.contract.calendar import Calendar
from sim.contract.catalogue import CATALOGUE, EXITS
from sim.contract.schema import Scenario
from sim.kernel.hazards import ExitSchedule, schedule_from_routes
from sim.kernel.protocol import FeaturePlan
from sim.kernel.timebase import YEAR_DAYS


@dataclass(frozen=True)
class InitialBands:
    """User-given bands with shares: elapsed days of a state's initial stock, or ages in years."""

    lo: np.ndarray
    hi: np.ndarray
    shares: np.ndarray


@dataclass(frozen=True)
class Model:
    """Everything one replication needs, derived from a validated scenario."""

    scenario: Scenario
    codes: tuple[str, ...]
    """Benefit states in scenario order, then the four exits."""
    n_benefit: int
    calendar: Calendar
    schedules: tuple[ExitSchedule | None, ...]
    """Exit routes per state; None where a state (an exit without re-entry) has none."""
    inflow_per_day: np.ndarray
    """Poisson intensity per day, [state, month], constant within a calendar month."""
    initial: tuple[int, ...]
    initial_bands: tuple[InitialBands | None, ...]
    ages: tuple[InitialBands | None, ...] = ()
    """Per state: age bands (years) of citizens entering it and of its initial stock."""
    attributes: tuple[dict[str, tuple[tuple[str, ...], tuple[float, ...]]], ...] = ()
    """Per state: attribute → (values, cumulative shares), drawn for each citizen at entry."""
    features: tuple[FeaturePlan, ...] = ()
    """The scenario's features, compiled (`sim.features.compile_model`); the kernel runs them
    through the protocol of `sim.kernel.protocol` and names none of them."""

    def feature(self, key: str) -> FeaturePlan | None:
        """The compiled feature registered under `key`, if the scenario has it."""
        return next((f for f in self.features if f.key == key), None)

    @property
    def n_states(self) -> int:
        """Number of states including the exits."""
        return len(self.codes)

    @property
    def benefit_codes(self) -> tuple[str, ...]:
        """The states on public support."""
        return self.codes[: self.n_benefit]

    def groups(self) -> dict[str, list[int]]:
        """Benefit state indices by Jobindsats group."""
        out: dict[str, list[int]] = {}
        for i, code in enumerate(self.benefit_codes):
            spec = self.scenario.states[code]
            group = spec.group or CATALOGUE[code].group
            assert group is not None
            out.setdefault(group, []).append(i)
        return out


def compile_model(scenario: Scenario) -> Model:
    """Number the states, merge each state's routes into an exit schedule, tabulate inflows
    (the kernel's part; `sim.features.compile_model` adds the features)."""
    codes = (*scenario.states, *EXITS)
    index = {c: i for i, c in enumerate(codes)}
    calendar = Calendar.build(scenario.start, scenario.months)
    schedules = tuple(
        schedule_from_routes(scenario.transitions[c], index) if scenario.transitions.get(c) else None
        for c in codes
    )
    inflow = np.zeros((len(codes), scenario.months))
    months = calendar.calendar_months
    mid_years = (np.asarray(calendar.edges[:-1]) + calendar.days / 2) / YEAR_DAYS
    for code, spec in scenario.inflow_per_week.items():
        season = np.asarray(spec.seasonality)[months - 1] if spec.seasonality else 1.0
        inflow[index[code]] = spec.rate / 7.0 * season * spec.trend_factor(scenario.start, mid_years)
    initial = tuple(round(scenario.initial.get(c, 0)) for c in codes)
    bands: list[InitialBands | None] = []
    for c in codes:
        given = scenario.initial_durations.get(c)
        if given:
            bands.append(InitialBands(
                np.array([b.from_week * 7.0 for b in given]),
                np.array([b.to_week * 7.0 for b in given]),
                np.array([b.share for b in given]),
            ))
        else:
            bands.append(None)
    ages = tuple(
        InitialBands(np.array([b.from_age for b in age_bands]), np.array([b.to_age for b in age_bands]),
                     np.array([b.share for b in age_bands])) if (age_bands := scenario.ages.get(c)) else None
        for c in codes)
    attributes = tuple(
        {name: (tuple(by_state[c]), tuple(np.cumsum(list(by_state[c].values())) / sum(by_state[c].values())))
         for name, by_state in scenario.attributes.items() if c in by_state}
        for c in codes)
    return Model(scenario, codes, len(scenario.states), calendar, schedules, inflow, initial,
                 tuple(bands), ages, attributes)
