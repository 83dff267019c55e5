"""The person-day ledger: exact person-days per state and calendar month, O(1) per move.

A citizen entering state s on day t in month m books the rest of month m, (end_m − t), and
+1 to the stock from month m + 1 on; leaving books the opposite. Full months are added at the
end from the stock at each month's start, so no stay is ever walked month by month. Bookings
may arrive in any time order.
"""

from __future__ import annotations

from bisect import bisect_right

import numpy as np

from sim.calendar import Calendar


class Ledger:
    """Collects the arrivals and moves of one replication; `close` turns them into arrays."""

    __slots__ = ("_edges", "_flow", "_index", "_last", "_n_months", "_n_states", "_value")

    def __init__(self, calendar: Calendar, n_states: int) -> None:
        self._edges = calendar.edges
        self._n_months = calendar.months
        self._last = calendar.months - 1
        self._n_states = n_states
        self._index: list[int] = []  # state * months + month of each booking
        self._value: list[float] = []  # days to the month's end: + entering, − leaving
        self._flow: list[int] = []  # (origin * states + destination) * months + month

    def arrive(self, state: int, day: float) -> None:
        """Book a citizen arriving from outside into `state` on `day`."""
        m = bisect_right(self._edges, day) - 1
        if m < 0:
            m = 0
        elif m > self._last:
            m = self._last
        months = self._n_months
        self._index.append(state * months + m)
        self._value.append(self._edges[m + 1] - day)
        self._flow.append((self._n_states * self._n_states + state) * months + m)

    def stock(self, state: int, count: int) -> None:
        """Book `count` citizens of the initial stock, present in `state` from day 0."""
        self._index.extend([state * self._n_months] * count)
        self._value.extend([self._edges[1]] * count)

    def move(self, origin: int, dest: int, day: float) -> None:
        """Book a move from `origin` to `dest` on `day`."""
        m = bisect_right(self._edges, day) - 1
        if m > self._last:
            m = self._last
        months = self._n_months
        rest = self._edges[m + 1] - day
        index, value = self._index, self._value
        index.append(origin * months + m)
        value.append(-rest)
        index.append(dest * months + m)
        value.append(rest)
        self._flow.append((origin * self._n_states + dest) * months + m)

    def close(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Person-days [state, month], persons at each month's end [state, month], moves [from, to, month].

        In the moves, origin index `n_states` stands for arrivals from outside.
        """
        s, m = self._n_states, self._n_months
        index = np.asarray(self._index, dtype=np.int64)
        value = np.asarray(self._value)
        part = np.bincount(index, weights=value, minlength=s * m).reshape(s, m)
        state, month = np.divmod(index, m)
        steps = np.bincount(state * (m + 1) + month + 1, weights=np.sign(value),
                            minlength=s * (m + 1)).reshape(s, m + 1)
        stock = np.cumsum(steps, axis=1)  # persons at the start of month j (j = 0 … m)
        days = np.diff(np.asarray(self._edges))
        person_days = part + stock[:, :m] * days
        flows = np.bincount(self._flow, minlength=(s + 1) * s * m).reshape(s + 1, s, m)
        return person_days, np.rint(stock[:, 1:]).astype(np.int64), flows


def interval_person_days(calendar: Calendar, n_rows: int, rows: np.ndarray, start: np.ndarray,
                         end: np.ndarray) -> np.ndarray:
    """Person-days [row, month] of one person in `rows[i]` over [start[i], end[i]), clipped to the horizon.

    The ledger's rule, vectorised: the rest of the first month, whole months from the stock, minus
    the rest of the last month.
    """
    edges = np.asarray(calendar.edges)
    months, horizon = calendar.months, edges[-1]
    a, b = np.clip(start, 0.0, horizon), np.clip(end, 0.0, horizon)
    keep = b > a
    rows, a, b = rows[keep], a[keep], b[keep]
    ma = np.minimum(np.searchsorted(edges, a, side="right") - 1, months - 1)
    ends = b < horizon
    mb = np.minimum(np.searchsorted(edges, b[ends], side="right") - 1, months - 1)
    part = np.bincount(np.concatenate([rows * months + ma, rows[ends] * months + mb]),
                       weights=np.concatenate([edges[ma + 1] - a, b[ends] - edges[mb + 1]]),
                       minlength=n_rows * months).reshape(n_rows, months)
    steps = np.bincount(np.concatenate([rows * (months + 1) + ma + 1, rows[ends] * (months + 1) + mb + 1]),
                        weights=np.concatenate([np.ones(len(ma)), -np.ones(len(mb))]),
                        minlength=n_rows * (months + 1)).reshape(n_rows, months + 1)
    return part + np.cumsum(steps, axis=1)[:, :months] * np.diff(edges)
