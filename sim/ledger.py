"""The person-day ledger: exact person-days per state and calendar month, O(1) per move.

A citizen entering state s on day t in month m books the rest of month m, (end_m − t), and +1
to the stock from month m + 1 on; leaving books the opposite. Full months are added at the
end from the stock at each month's start, so no stay is ever walked month by month.
"""

from __future__ import annotations

from bisect import bisect_right

import numpy as np

from sim.calendar import Calendar


class Ledger:
    """Collects entries, exits and moves of one replication; `close` turns them into arrays."""

    __slots__ = ("_edges", "_flow_idx", "_last", "_n_months", "_n_states", "_part_idx",
                 "_part_val", "_step_idx", "_step_val")

    def __init__(self, calendar: Calendar, n_states: int) -> None:
        self._edges = calendar.edges
        self._n_months = calendar.months
        self._last = calendar.months - 1
        self._n_states = n_states
        self._part_idx: list[int] = []
        self._part_val: list[float] = []
        self._step_idx: list[int] = []
        self._step_val: list[int] = []
        self._flow_idx: list[int] = []

    def month(self, day: float) -> int:
        """Month index of `day` (clamped to the horizon)."""
        m = bisect_right(self._edges, day) - 1
        return 0 if m < 0 else (self._last if m > self._last else m)

    def enter(self, state: int, day: float, month: int) -> None:
        """Book a citizen into `state` from `day` (in `month`)."""
        self._part_idx.append(state * self._n_months + month)
        self._part_val.append(self._edges[month + 1] - day)
        self._step_idx.append(state * (self._n_months + 1) + month + 1)
        self._step_val.append(1)

    def leave(self, state: int, day: float, month: int) -> None:
        """Book a citizen out of `state` from `day` (in `month`)."""
        self._part_idx.append(state * self._n_months + month)
        self._part_val.append(day - self._edges[month + 1])
        self._step_idx.append(state * (self._n_months + 1) + month + 1)
        self._step_val.append(-1)

    def flow(self, origin: int, dest: int, month: int) -> None:
        """Count a move; `origin` equal to the number of states means an arrival from outside."""
        self._flow_idx.append((origin * self._n_states + dest) * self._n_months + month)

    def close(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Person-days [state, month], persons at each month's end [state, month], flows [from, to, month]."""
        s, m = self._n_states, self._n_months
        part = np.bincount(self._part_idx, weights=self._part_val, minlength=s * m).reshape(s, m)
        steps = np.bincount(self._step_idx, weights=self._step_val,
                            minlength=s * (m + 1)).reshape(s, m + 1)
        stock = np.cumsum(steps, axis=1)  # persons at the start of month j (j = 0 … m)
        days = np.diff(np.asarray(self._edges))
        person_days = part + stock[:, :m] * days
        flows = np.bincount(self._flow_idx, minlength=(s + 1) * s * m).reshape(s + 1, s, m)
        return person_days, stock[:, 1:].astype(np.int64), flows
