"""The person-day ledger: exact person-days per state and calendar month, O(1) per move.

A citizen entering state s on day t in month m books the rest of month m, (end_m − t), and
+1 to the stock from month m + 1 on; leaving books the opposite. Full months are added at the
end from the stock at each month's start, so no stay is ever walked month by month. Bookings
may arrive in any time order, one at a time or (`extend`) as arrays of many. One at a time, a
booking is kept as it comes (from, to, day) and turned into its entries with the others at once,
in booking order, by the same steps `book_entries` would take one by one.
"""

from __future__ import annotations

import math
from array import array
from bisect import bisect_right
from functools import lru_cache

import numba
import numpy as np

from sim.contract.calendar import Calendar

Booked = array  # array[float] ("d") or array[int] ("q"): one alias for both kinds
"""Numbers booked one at a time: packed doubles (`array("d")`) or 64-bit integers (`array("q")`), so
each is stored as it comes rather than as an object of its own, and made an array by one copy."""


def booked(dtype: type = np.float64) -> Booked:
    """An empty `Booked` for numbers of `dtype` (np.float64 or np.int64)."""
    return array("q" if dtype is np.int64 else "d")


def packed(values: list[float] | list[int] | Booked, dtype: type = np.float64) -> np.ndarray:
    """Python numbers as an array: a `Booked` by one copy, a list element by element (quicker than
    `np.asarray` for a long list)."""
    if isinstance(values, array):
        kind = np.int64 if values.typecode == "q" else np.float64  # the buffer's own kind, then `dtype`
        return np.frombuffer(values, dtype=kind).astype(dtype) if len(values) else np.zeros(0, dtype=dtype)
    return np.fromiter(values, dtype=dtype, count=len(values))


def joined(parts: list[np.ndarray], items: list[float] | list[int] | Booked,
           dtype: type = np.float64) -> np.ndarray:
    """Arrays booked so far, then the numbers booked one at a time since: one array, in booking order."""
    last = packed(items, dtype)
    arrays = [a for a in (*parts, last) if len(a)]
    return arrays[0] if len(arrays) == 1 else np.concatenate(arrays) if arrays else last


def top_pairs(pairs: np.ndarray, n_states: int, k: int) -> list[tuple[int, int, int]]:
    """The k (origin, destination, moves) pairs with the most moves, from each move's
    `origin * n_states + destination`."""
    counts = np.bincount(pairs, minlength=n_states * n_states)
    top = np.argsort(counts)[::-1][:k]
    return [(int(i // n_states), int(i % n_states), int(counts[i])) for i in top if counts[i]]


ARRIVAL = -1
"""The origin of a booking kept as it comes that is an arrival from outside."""


class Ledger:
    """Collects the arrivals and moves of one replication; `close` turns them into arrays."""

    __slots__ = ("_edges", "_last", "_n_months", "_n_states", "_parts", "_raw")

    WIDTH = 3
    """Numbers kept a booking as it comes: from (`ARRIVAL` for an arrival), to, day."""

    def __init__(self, calendar: Calendar, n_states: int) -> None:
        self._edges = calendar.edges
        self._n_months = calendar.months
        self._last = calendar.months - 1
        self._n_states = n_states
        self._raw = booked()  # the bookings as they come, `WIDTH` numbers each
        self._parts: dict[str, list[np.ndarray]] = {"index": [], "value": [], "flow": [], "day": [],
                                                    "entered": []}
        """Entries made arrays (`stock`, `extend`, `_flush`), each after those made before it: index
        (state * months + month) and value (days to the month's end: + entering, − leaving) of each
        booking, and one flow code ((origin * states + destination) * months + month), day and day
        of entry into the origin an arrival or move."""

    def arrive(self, state: int, day: float) -> None:
        """Book a citizen arriving from outside into `state` on `day`."""
        self._raw.extend((ARRIVAL, state, day))

    def _flush(self) -> None:
        """Turn the bookings kept as they come into entries, after every entry so far."""
        raw = self._raw
        if not raw:
            return
        rows = packed(raw).reshape(-1, self.WIDTH)
        del raw[:]
        origin, dest, day = rows[:, 0].astype(np.int64), rows[:, 1].astype(np.int64), rows[:, 2]
        edges, months, s = np.asarray(self._edges), self._n_months, self._n_states
        moving = origin != ARRIVAL
        m = np.minimum(np.searchsorted(edges, day, side="right") - 1, self._last)  # as `bisect_right` − 1
        m[~moving] = np.maximum(m[~moving], 0)
        rest = edges[m + 1] - day
        width = 1 + moving
        first = np.cumsum(width) - width
        index = np.empty(int(width.sum()), dtype=np.int64)
        value = np.empty(len(index))
        arrived, moved = first[~moving], first[moving]
        index[arrived], value[arrived] = dest[~moving] * months + m[~moving], rest[~moving]
        index[moved], value[moved] = origin[moving] * months + m[moving], -rest[moving]
        index[moved + 1], value[moved + 1] = dest[moving] * months + m[moving], rest[moving]
        flow = np.where(moving, origin * s + dest, s * s + dest) * months + m
        self._add_parts(index, value, flow, day, rows[:, 3] if self.WIDTH > 3 else None)

    def _add_parts(self, index: np.ndarray, value: np.ndarray, flow: np.ndarray, day: np.ndarray | None,
                   entered: np.ndarray | None) -> None:
        """Bookings as arrays, after every booking so far."""
        parts = self._parts
        parts["index"].append(index)
        parts["value"].append(value)
        parts["flow"].append(flow)
        if self.books_spells:
            assert day is not None and entered is not None
            parts["day"].append(day)
            parts["entered"].append(entered)

    def stock(self, state: int, count: int, elapsed: list[float] | None = None) -> None:
        """Book `count` citizens of the initial stock, present in `state` from day 0 (`elapsed`:
        their days in the state before day 0, which only `SpellLedger` uses)."""
        self._flush()
        index, value = self.stock_entries(state, count)
        self._parts["index"].append(index)
        self._parts["value"].append(value)

    def stock_entries(self, state: int, count: int) -> tuple[np.ndarray, np.ndarray]:
        """The (index, value) entries `stock` books for `count` citizens in `state`, as arrays."""
        return (np.full(count, state * self._n_months, dtype=np.int64), np.full(count, self._edges[1]))

    def keep_elapsed(self, state: int, elapsed: list[float] | np.ndarray) -> None:
        """The initial stock's days in `state` before day 0, for a ledger that books spells (here: none)."""

    books_spells = False
    """Whether `extend` needs the day of each arrival and move and of its entry (`SpellLedger`)."""

    def extend(self, index: np.ndarray, value: np.ndarray, flow: np.ndarray, day: np.ndarray | None = None,
               entered: np.ndarray | None = None) -> None:
        """Book many entries at once, after every booking so far: `index`/`value` as `arrive`,
        `stock` and `move` append them (two a move), `flow` with `day` and `entered` one per arrival
        or move (`entered` −1 for an arrival; only a ledger that `books_spells` reads them)."""
        self._flush()
        self._add_parts(index, value, flow, day, entered)

    def _columns(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """index, value and flow of every booking, in booking order."""
        self._flush()
        parts = self._parts
        index, value = joined(parts["index"], [], np.int64), joined(parts["value"], [])
        return index, value, self._flows()

    def _flows(self) -> np.ndarray:
        """The flow code of every arrival and move, in booking order."""
        self._flush()
        return joined(self._parts["flow"], [], np.int64)

    def move(self, origin: int, dest: int, day: float, entered: float = -1.0) -> None:
        """Book a move from `origin` to `dest` on `day` (`entered`: the day the citizen entered
        `origin`, which only `SpellLedger` uses)."""
        self._raw.extend((origin, dest, day))

    def busiest(self, k: int) -> list[tuple[int, int, int]]:
        """The k (origin, destination, moves) pairs with the most moves so far (arrivals left out)."""
        pairs = self._flows() // self._n_months
        return top_pairs(pairs[pairs // self._n_states < self._n_states], self._n_states, k)

    def release(self) -> None:
        """Drop the bookings once every array is made: freed at once, not left for the collector to
        scan with the replication's cycles."""
        del self._raw[:]
        for parts in self._parts.values():
            parts.clear()

    def close(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Person-days [state, month], persons at each month's end [state, month], moves [from, to, month].

        In the moves, origin index `n_states` stands for arrivals from outside.
        """
        s, m = self._n_states, self._n_months
        index, value, flow = self._columns()
        part = np.bincount(index, weights=value, minlength=s * m).reshape(s, m)
        steps = np.bincount(index, weights=np.sign(value), minlength=s * m).reshape(s, m)  # in − out by month
        stock = np.zeros((s, m + 1))  # persons at the start of month j (j = 0 … m); whole numbers, exact
        np.cumsum(steps, axis=1, out=stock[:, 1:])
        days = np.diff(np.asarray(self._edges))
        person_days = part + stock[:, :m] * days
        flows = np.bincount(flow, minlength=(s + 1) * s * m).reshape(s + 1, s, m)
        return person_days, np.rint(stock[:, 1:]).astype(np.int64), flows


class MonthTally:
    """Amounts by measure and calendar month, added as they happen: a feature's counts without a
    list of (measure, day, amount) to sort out at the end. Each cell is summed in the order its
    amounts come, as a sequential pass over the same amounts would sum them."""

    __slots__ = ("cells", "edges", "last", "months", "searched")

    def __init__(self, calendar: Calendar, n_measures: int) -> None:
        self.edges = calendar.edges
        self.searched = np.asarray(calendar.edges, dtype=float)
        """The edges as an array, for `count_many` (searching a tuple would make one at each call)."""
        self.months = calendar.months
        self.last = calendar.months - 1
        self.cells = [0.0] * (n_measures * calendar.months)
        """Cell `measure * months + month`."""

    def month(self, day: float) -> int:
        """The month of `day`; a day outside the horizon counts in its first or last month."""
        m = bisect_right(self.edges, day) - 1
        return 0 if m < 0 else self.last if m > self.last else m

    def add(self, measure: int, day: float, amount: float = 1.0) -> None:
        """Add `amount` to `measure` in the month of `day` (as `month` finds it)."""
        m = bisect_right(self.edges, day) - 1
        if m < 0:
            m = 0
        elif m > self.last:
            m = self.last
        self.cells[measure * self.months + m] += amount

    def count_many(self, measure: int, days: np.ndarray) -> None:
        """`add(measure, day)` of 1 for each day (whole counts: exact in any order)."""
        m = np.clip(np.searchsorted(self.searched, days, side="right") - 1, 0, self.last)
        for month, n in enumerate(np.bincount(m, minlength=self.months).tolist()):
            if n:
                self.cells[measure * self.months + month] += n

    def array(self) -> np.ndarray:
        """[measure, month]."""
        return np.array(self.cells, dtype=float).reshape(-1, self.months)


SPELL_MEASURES = ("started", "days", "open")
"""What `SpellLedger.spells` gives per state and start month: spells started, their days in the
state (to their end, or to the horizon while still open) and how many are open at the horizon."""


class SpellLedger(Ledger):
    """A ledger that also books the duration of every spell started inside the horizon.

    Each arrival or move also keeps its day and the day the citizen entered the state it leaves
    (two appends, O(1)); `spells` then resolves them at once: every booking starts a spell in its
    destination, and a move ends the spell in its origin if that started inside the horizon.
    A spell's days run to its end, or to the horizon H while it is still open (censored). Spells
    of the initial stock (entered before day 0) are not counted. Used only when a target needs it.
    """

    __slots__ = ("_calendar", "_stock", "min_weeks")

    WIDTH = 4
    """Numbers kept a booking as it comes: from (`ARRIVAL`), to, day, and the day the mover entered
    its origin (−1: an arrival)."""

    def __init__(self, calendar: Calendar, n_states: int, min_weeks: tuple[float, ...] = ()) -> None:
        super().__init__(calendar, n_states)
        self._calendar = calendar
        self._stock: list[tuple[int, list[float] | np.ndarray]] = []  # the initial stock's elapsed days
        self.min_weeks = min_weeks
        """Thresholds for `long_term`: weeks of the current spell after which person-days count."""

    def stock(self, state: int, count: int, elapsed: list[float] | None = None) -> None:
        """Book the initial stock and keep its elapsed days (for `long_term`)."""
        super().stock(state, count)
        if elapsed is not None:
            self.keep_elapsed(state, elapsed)

    def keep_elapsed(self, state: int, elapsed: list[float] | np.ndarray) -> None:
        """Keep the initial stock's days in `state` before day 0 (for `long_term`)."""
        self._stock.append((state, elapsed))

    books_spells = True

    def _spell_columns(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """flow, day and entered of every arrival and move, in booking order."""
        flow = self._flows()
        day, entered = joined(self._parts["day"], []), joined(self._parts["entered"], [])
        return flow, day, entered

    def arrive(self, state: int, day: float) -> None:
        """Book an arrival and the spell it starts."""
        self._raw.extend((ARRIVAL, state, day, -1.0))

    def move(self, origin: int, dest: int, day: float, entered: float = -1.0) -> None:
        """Book a move: the end of the spell in `origin`, entered on day `entered`, and the start
        of the spell in `dest`."""
        self._raw.extend((origin, dest, day, entered))

    def release(self) -> None:
        """Drop the bookings and the spells' days once every array is made."""
        super().release()
        self._stock.clear()

    def spells(self) -> np.ndarray:
        """[state, measure (SPELL_MEASURES), start month]: spells started, their days and how many
        are still open at the horizon."""
        s, m = self._n_states, self._n_months
        edges = np.asarray(self._edges)
        flow, day, entered = self._spell_columns()
        pair, month = np.divmod(flow, m)
        origin, dest = np.divmod(pair, s)
        left = edges[-1] - day  # days from the booking to the horizon
        ends = (origin < s) & (entered >= 0.0) & ~np.signbit(entered)
        start_month = np.searchsorted(edges, entered[ends], side="right") - 1
        start_cell = np.concatenate([dest * m + month, origin[ends] * m + start_month])
        started = np.bincount(dest * m + month, minlength=s * m).reshape(s, m)
        ended = np.bincount(origin[ends] * m + start_month, minlength=s * m).reshape(s, m)
        days = np.bincount(start_cell, weights=np.concatenate([left, -left[ends]]),
                           minlength=s * m).reshape(s, m)
        return np.stack([started, days, started - ended], axis=1).astype(float)

    def long_term(self) -> np.ndarray:
        """[threshold (min_weeks), state, month]: person-days beyond `min_weeks` weeks of the
        current spell. A spell entered on day t (t < 0 for the initial stock) counts over
        [t + 7w, H) when it starts and −[max(end, t + 7w), H) when it ends: together its days past
        week w, however the stay ends. Resolved at once from the bookings, O(1) per move."""
        s, m = self._n_states, self._n_months
        horizon = self._edges[-1]
        flow, day, entered = self._spell_columns()
        origin, dest = np.divmod(flow // m, s)
        moves = origin < s
        stock_rows = np.concatenate([np.full(len(e), st, dtype=np.int64) for st, e in self._stock] or
                                    [np.zeros(0, dtype=np.int64)])
        stock_start = -np.concatenate([np.asarray(e, dtype=float) for _, e in self._stock] or [np.zeros(0)])
        start_rows = np.concatenate([dest, stock_rows])
        start_day = np.concatenate([day, stock_start])
        out = []
        for weeks in self.min_weeks:
            w = 7.0 * weeks
            begins = start_day + w
            ends = np.maximum(day[moves], entered[moves] + w)
            plus = interval_person_days(self._calendar, s, start_rows, begins, np.full(len(begins), horizon))
            minus = interval_person_days(self._calendar, s, origin[moves], ends, np.full(len(ends), horizon))
            out.append(plus - minus)
        return np.stack(out) if out else np.zeros((0, s, m))


def interval_person_days(calendar: Calendar, n_rows: int, rows: np.ndarray, start: np.ndarray,
                         end: np.ndarray) -> np.ndarray:
    """Person-days [row, month] of one person in `rows[i]` over [start[i], end[i]), clipped to the horizon.

    The ledger's rule: the rest of the first month, whole months from the stock, minus the rest of
    the last month (`_interval_parts`, one compiled pass, then the whole months at once).
    """
    edges = np.asarray(calendar.edges, dtype=float)
    part, steps = _interval_parts(edges, day_months(calendar.edges), n_rows,
                                  np.asarray(rows, dtype=np.int64), np.asarray(start, dtype=float),
                                  np.asarray(end, dtype=float))
    return part + np.cumsum(steps, axis=1)[:, :calendar.months] * np.diff(edges)


@lru_cache(maxsize=16)
def day_months(edges: tuple[float, ...]) -> np.ndarray:
    """The month of each whole day of the horizon, when months start on whole days from day 0 (as a
    calendar's do); else empty (the month of a day is then searched for)."""
    if edges[0] != 0.0 or any(e != math.floor(e) for e in edges):
        return np.zeros(0, dtype=np.int64)
    table = np.repeat(np.arange(len(edges) - 1), np.diff(np.asarray(edges)).astype(np.int64))
    table.setflags(write=False)
    return table


@numba.njit(cache=True)
def _interval_parts(edges: np.ndarray, day_months: np.ndarray, n_rows: int, rows: np.ndarray,
                    start: np.ndarray, end: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """[row, month] part-month days and [row, month + 1] steps in the count of persons of intervals
    [start, end) clipped to [0, horizon): the first month's rest and a +1 for each, then the last
    month's rest off and a −1 for each that ends before the horizon, added in that order (the
    order `np.bincount` adds a concatenation of the two in, so the sums are the same to the bit).
    A day's month is `bisect_right(edges, day) − 1`: from `day_months` by whole day when given."""
    months = len(edges) - 1
    horizon = edges[months]
    by_day, last = len(day_months) > 0, months - 1
    part = np.zeros((n_rows, months))
    steps = np.zeros((n_rows, months + 1))
    n = len(rows)
    kept = np.empty(n, dtype=np.int64)
    n_kept = 0
    for i in range(n):
        a, b = start[i], end[i]
        a = 0.0 if a < 0.0 else (horizon if a > horizon else a)
        b = 0.0 if b < 0.0 else (horizon if b > horizon else b)
        if not b > a:  # empty, or not a number
            continue
        m = day_months[int(a)] if by_day else min(int(np.searchsorted(edges, a, "right")) - 1, last)
        r = rows[i]
        part[r, m] += edges[m + 1] - a
        steps[r, m + 1] += 1.0
        kept[n_kept] = i
        n_kept += 1
    for j in range(n_kept):
        i = kept[j]
        b = end[i]  # above its start, so above 0
        if b < horizon:
            m = day_months[int(b)] if by_day else min(int(np.searchsorted(edges, b, "right")) - 1, last)
            r = rows[i]
            part[r, m] += b - edges[m + 1]
            steps[r, m + 1] -= 1.0
    return part, steps
