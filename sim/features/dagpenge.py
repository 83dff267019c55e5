"""The dagpenge period used up across spells: a returner does not get a fresh two years.

The law: at most 3,848 hours (104 weeks) of dagpenge within a 3-year reference period; a citizen
who returns continues where the last spells stopped, and a new period needs 1,924 hours of work
(DOMAIN.md, "Bases and rules"). The feature watches no state: it keeps each citizen's spells in
the state (`spell_closed`) and, at each new spell, moves the state's clocks earlier by the days
used within the reference period before the spell's start (`clock_days`), so the exhaustion
clock strikes when the period is used up. Days within a pause of the state's clocks (a dated
rule, `sim.features.rules`: the freeze of 2020–21) are not used up. Simplified, and so
documented: the use is counted at the spell's start (days leaving the window during the spell
give nothing back), the window is not lengthened by a pause, and any time in self-support
(job, education) since the last spell counts toward re-earning, a full `reearn_weeks` of it
starting a new period.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from sim.contract.catalogue import EXITS
from sim.contract.refusion import SELF_SUPPORT_EXITS
from sim.contract.schema import Scenario
from sim.features.rules import Span, compile_dated, paused_within
from sim.kernel.citizen import Citizen
from sim.kernel.model import Model
from sim.kernel.protocol import Feature, Run

KEY = "dagpenge_period"


@dataclass(frozen=True)
class DagpengePlan:
    """The period's state, reference window and re-earning time, in days."""

    state: int
    window_days: float
    reearn_days: float
    self_support: frozenset[int]
    """Exit states whose time re-earns a period (job, education)."""
    pauses: tuple[Span, ...] = ()
    """Spans in which the state's clocks stand still: days in them are not used up."""
    key: str = field(default=KEY)

    def open(self, run: Run, slot: int) -> DagpengeFeature:
        """The period's bookkeeping for one replication."""
        return DagpengeFeature(self, slot)


class DagpengeFeature(Feature):
    """Each citizen's spells in the state and self-support since, by citizen ident."""

    def __init__(self, plan: DagpengePlan, slot: int) -> None:
        self.plan = plan
        self.states = frozenset()
        self.spells = True
        self.spell_states = plan.self_support | {plan.state}  # the period's spells and what re-earns one
        self.slot = slot
        self.shifts = frozenset({plan.state})
        self.state, self.self_support = plan.state, plan.self_support
        self.used: dict[int, list[tuple[float, float]]] = {}
        """Spells (start, end) in the state, of citizens who have had one."""
        self.earned: dict[int, float] = {}
        """Days of self-support since the citizen's last spell in the state."""
        self.asked: dict[int, tuple[float, float]] = {}
        """The shift last given to each citizen, by the start of its spell: (entered, days)."""

    def spell_closed(self, c: Citizen, state: int, start: float, end: float) -> None:
        """Remember a spell in the state; count self-support after one."""
        self._closed(c.ident, state, start, end)

    def spells_closed(self, who: np.ndarray, state: np.ndarray, start: np.ndarray, end: np.ndarray) -> None:
        """`spell_closed` for each spell, in order (a generation's at a time on the bulk path)."""
        closed = self._closed
        for i, s, a, b in zip(who.tolist(), state.tolist(), start.tolist(), end.tolist(), strict=True):
            closed(i, s, a, b)

    def _closed(self, i: int, state: int, start: float, end: float) -> None:
        if state == self.state:
            self.used.setdefault(i, []).append((start, end))
            self.earned[i] = 0.0
        elif state in self.self_support and i in self.used:
            self.earned[i] += end - start

    def clock_days(self, c: Citizen, state: int, entered: float,
                   days: tuple[float, ...]) -> tuple[float, ...]:
        """The clocks earlier by the days of the period used before `entered`."""
        used = self.clock_shift(c, entered)
        return tuple(d - used for d in days) if used > 0.0 else days

    def clock_days_many(self, who: np.ndarray, state: int, entered: np.ndarray,
                        days: np.ndarray) -> np.ndarray:
        """`clock_days` for many spells at once: only a citizen with a spell before has days used."""
        used = np.zeros(len(who))
        before, shift = self.used, self._shift
        for n, (i, at) in enumerate(zip(who.tolist(), entered.tolist(), strict=True)):
            if i in before:
                used[n] = shift(i, at)
        return np.where(used[:, None] > 0.0, days - used[:, None], days)

    def clock_shift(self, c: Citizen, entered: float) -> float:
        """Days of the period used within the reference window before `entered`."""
        return self._shift(c.ident, entered)

    def _shift(self, i: int, entered: float) -> float:
        asked = self.asked.get(i)
        if asked is not None and asked[0] == entered:
            return asked[1]
        days = self.used_before(i, entered)
        self.asked[i] = (entered, days)
        return days

    def used_before(self, i: int, entered: float) -> float:
        """The period used by citizen `i` at a spell starting on `entered` (0 after re-earning)."""
        spells = self.used.get(i)
        if not spells:
            return 0.0
        if self.earned.get(i, 0.0) >= self.plan.reearn_days:
            del self.used[i]
            del self.earned[i]
            return 0.0
        lo = entered - self.plan.window_days
        pauses = self.plan.pauses
        used = 0.0
        for a, b in spells:
            start, end = max(a, lo), min(b, entered)
            if end > start:
                used += end - start - (paused_within(pauses, start, end) if pauses else 0.0)
        return used


def compile_dagpenge(scenario: Scenario, model: Model) -> DagpengePlan:
    """The scenario's dagpenge_period block as a feature plan."""
    period = scenario.dagpenge_period
    assert period is not None  # the registry compiles it only when the block is there
    codes = list(model.codes)
    state = codes.index(period.state)
    return DagpengePlan(state, period.window_weeks * 7.0, period.reearn_weeks * 7.0,
                        frozenset(codes.index(e) for e in EXITS if e in SELF_SUPPORT_EXITS),
                        compile_dated(scenario, model.calendar).pauses.get(state, ()))
