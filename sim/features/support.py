"""Support history: each citizen's cumulative time on public support as the staircase counts it.

The engine calls `SupportBook.closed` once per spell, when its end is known (a move, or the
horizon). The book carries the count across moves, exits and re-entries and starts it again
after enough self-support within the window: O(1) per spell, never rescanning a citizen's past.
The spells' person-days by staircase step and month are split in one vectorised pass at the end.
"""

from __future__ import annotations

import numpy as np

from sim.contract.calendar import Calendar
from sim.features.economics import EconomicsModel
from sim.kernel.citizen import Citizen
from sim.kernel.ledger import interval_person_days


class SupportBook:
    """Per-citizen support counts and person-days by state, step and month for one replication.

    Each spell is kept as (state, start, paid from, end, support at start); the split by step
    and month is done for all spells at once in `close`.
    """

    def __init__(self, econ: EconomicsModel, calendar: Calendar, n_benefit: int,
                 record_entries_after: float | None = None) -> None:
        self.econ = econ
        self.calendar = calendar
        self.n_benefit = n_benefit
        self.record_after = record_entries_after
        self.entries: list[tuple[int, float]] = []
        """(state, support days at the spell's start) of spells starting after `record_after`."""
        self._state: list[int] = []
        self._start: list[float] = []
        self._paid: list[float] = []
        self._end: list[float] = []
        self._support: list[float] = []

    def closed(self, c: Citizen, state: int, start: float, end: float) -> None:
        """Account for the citizen's spell in `state` over [start, end]."""
        econ = self.econ
        if state >= self.n_benefit:
            kind = econ.exits[state - self.n_benefit]
            if kind == "self":  # self-support: remembered for the reset rule
                if c.away is None:
                    c.away = []
                c.away.append((start, end))
                c.returning = True
            elif kind == "counted":
                c.support += end - start
            c.on_support = False
            return
        if c.returning:
            self._maybe_reset(c, start)
        support = c.support
        if self.record_after is not None and start >= self.record_after:
            self.entries.append((state, support))
        paid = start if c.on_support else start + econ.unpaid_days[state]
        if paid > end:
            paid = end
        c.on_support = True
        self._state.append(state)
        self._start.append(start)
        self._paid.append(paid)
        self._end.append(end)
        self._support.append(support)
        if econ.counted[state]:
            c.support = support + (end - paid)

    def _maybe_reset(self, c: Citizen, start: float) -> None:
        """Start the count again after enough self-support within the window before `start`."""
        c.returning = False
        if c.away is None:
            return
        lo = start - self.econ.window_days
        c.away = [(a, b) for a, b in c.away if b > lo]
        away = sum(min(b, start) - max(a, lo) for a, b in c.away)
        if away >= self.econ.reset_days:
            c.support = 0.0
            c.away = None

    def close(self) -> np.ndarray:
        """Person-days [benefit state, step (unpaid last), month]."""
        econ = self.econ
        state = np.asarray(self._state, dtype=np.int64)
        start, paid, end = (np.asarray(x) for x in (self._start, self._paid, self._end))
        support = np.asarray(self._support)
        n_sub = econ.n_steps + 1
        edges = np.asarray((*econ.step_edges, np.inf))
        rows, lo, hi = [state * n_sub + n_sub - 1], [start], [paid]  # the unpaid start of each spell
        counted = np.asarray(econ.counted, dtype=bool)[state] if len(state) else np.zeros(0, bool)
        frozen = np.searchsorted(edges, support, side="right") - 1  # the step of a spell that does not count
        rows.append(state[~counted] * n_sub + frozen[~counted])
        lo.append(paid[~counted])
        hi.append(end[~counted])
        for k in range(econ.n_steps):  # a counted spell climbs the staircase as it goes on
            c = counted
            rows.append(state[c] * n_sub + k)
            lo.append(np.maximum(paid[c], paid[c] + edges[k] - support[c]))
            hi.append(np.minimum(end[c], paid[c] + edges[k + 1] - support[c]))
        person_days = interval_person_days(self.calendar, self.n_benefit * n_sub, np.concatenate(rows),
                                           np.concatenate(lo), np.concatenate(hi))
        return person_days.reshape(self.n_benefit, n_sub, -1)
