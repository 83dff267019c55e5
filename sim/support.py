"""Support history: each citizen's cumulative time on public support as the staircase counts it.

The engine calls `SupportBook.closed` once per spell, when its end is known (a move, or the
horizon). The book carries the count across moves, exits and re-entries, starts it again after
enough self-support within the window, and books the spell's person-days by staircase step:
O(1) per spell (at most one segment per step), never rescanning a citizen's past.
"""

from __future__ import annotations

import math
from bisect import bisect_right

import numpy as np

from sim.calendar import Calendar
from sim.citizen import Citizen
from sim.economics import EconomicsModel
from sim.ledger import Ledger


class SupportBook:
    """Per-citizen support counts and person-days by state, step and month for one replication."""

    def __init__(self, econ: EconomicsModel, calendar: Calendar, n_benefit: int,
                 record_entries_after: float | None = None) -> None:
        self.econ = econ
        self.n_benefit = n_benefit
        self.n_sub = econ.n_steps + 1  # the staircase steps, then the unpaid step
        self.ledger = Ledger(calendar, n_benefit * self.n_sub)
        self.horizon = calendar.horizon
        self.edges = econ.step_edges
        self.record_after = record_entries_after
        self.entries: list[tuple[int, float]] = []
        """(state, support days at the spell's start) of spells starting after `record_after`."""

    def closed(self, c: Citizen, state: int, start: float, end: float) -> None:
        """Account for the citizen's spell in `state` over [start, end]."""
        econ = self.econ
        if state >= self.n_benefit:  # self-support: remembered for the reset rule
            if c.away is None:
                c.away = []
            c.away.append((start, end))
            c.returning = True
            return
        if c.returning:
            self._maybe_reset(c, start)
        if self.record_after is not None and start >= self.record_after:
            self.entries.append((state, c.support))
        p = start
        unpaid = econ.unpaid_days[state]
        base = state * self.n_sub
        if unpaid > 0.0:
            p = min(end, start + unpaid)
            self._interval(base + self.n_sub - 1, start, p)
        if p >= end:
            return
        edges = self.edges
        cum = c.support
        k = bisect_right(edges, cum) - 1
        if not econ.counted[state]:
            self._interval(base + k, p, end)
            return
        last = len(edges) - 1
        while p < end:
            to_edge = edges[k + 1] - cum if k < last else math.inf
            seg_end = min(end, p + to_edge)
            self._interval(base + k, p, seg_end)
            cum += seg_end - p
            p = seg_end
            k += 1
        c.support = cum

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

    def _interval(self, index: int, a: float, b: float) -> None:
        if b <= 0.0 or a >= self.horizon or b <= a:
            return
        self.ledger.interval(index, max(a, 0.0), min(b, self.horizon))

    def close(self) -> np.ndarray:
        """Person-days [benefit state, step (unpaid last), month]."""
        person_days, _, _ = self.ledger.close()
        return person_days.reshape(self.n_benefit, self.n_sub, -1)
