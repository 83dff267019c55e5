"""Whole generations of moves at once, for a replication in which no feature sees a citizen.

Each citizen's path is what `Replication._advance` draws for it: pair k from the same keyed
stream, the same floating-point steps (`ExitSchedule.next_exit_many`), the same stops. Here
every citizen still moving takes its next step together, a generation at a time, and the
bookings are then laid out in the order the one-by-one path makes them (the initial stock state
by state, each citizen's moves after it; then each arrival in time order and its moves), so the
ledger sums the same numbers in the same order and its arrays are the same bit for bit.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import NoReturn

import numpy as np

from sim.kernel.hazards import STAY_HERE, ExitSchedule
from sim.kernel.ledger import Ledger, top_pairs
from sim.kernel.streams import TIERS, CohortDraws

OverBudget = Callable[[str, list[tuple[int, int, int]]], NoReturn]
"""Stops the replication: what went over the budget, and the busiest (origin, destination, moves)."""


@dataclass(frozen=True)
class Citizens:
    """Every citizen of a replication at its first step, in the one-by-one path's order."""

    state: np.ndarray
    entered: np.ndarray
    """Day of entry into `state` (before 0 for the initial stock)."""
    elapsed: np.ndarray
    """Days in `state` at its first step (0 for an arrival)."""
    cohort: np.ndarray
    """Index into the cohorts' draws."""
    rank: np.ndarray
    """Rank in its cohort."""


@dataclass(frozen=True)
class Moves:
    """Every move of the replication, generation by generation: whose (`who`, a position in
    `Citizens`), its place in that citizen's path (`nth`), from, to, when, and when the citizen
    entered the state it left. `book` lays them out in the one-by-one path's order."""

    who: np.ndarray
    nth: np.ndarray
    origin: np.ndarray
    dest: np.ndarray
    day: np.ndarray
    entered: np.ndarray
    """Empty unless the spells are asked for (`draw_moves(spells=True)`), as are the last two."""
    per_citizen: np.ndarray
    """Moves of each citizen."""
    last_state: np.ndarray
    """Each citizen's state at the end of its path, and the day it entered it."""
    last_entered: np.ndarray

    def closed_spells(self, n_benefit: int, horizon: float) -> tuple[np.ndarray, ...]:
        """(citizen, state, start, end) of every spell as the one-by-one path closes them, in its
        order: at each move, citizen by citizen; then at the horizon each citizen still on a benefit."""
        order = np.empty(len(self.who), dtype=np.int64)
        firsts = np.cumsum(self.per_citizen) - self.per_citizen
        order[firsts[self.who] + self.nth] = np.arange(len(self.who))
        resting = np.flatnonzero(self.last_state < n_benefit)
        return (np.concatenate([self.who[order], resting]),
                np.concatenate([self.origin[order], self.last_state[resting]]),
                np.concatenate([self.entered[order], self.last_entered[resting]]),
                np.concatenate([self.day[order], np.full(len(resting), horizon)]))


@dataclass(frozen=True)
class Limits:
    """Where the paths stop and the guards against a path without end."""

    horizon: float
    max_moves: int
    """Pairs one citizen may use."""
    budget: int
    """Moves of the whole replication (arrivals included in `already`)."""
    already: int
    """Events counted before the paths (the arrivals)."""
    spells: bool
    """Whether the spells are asked for: each move's day of entry and each citizen's last state."""


def chained_days(times: np.ndarray) -> np.ndarray:
    """The days arrivals at `times` happen on when each is scheduled from the one before it
    (`now + (t − now)`, as the event-by-event path schedules them). For 0 ≤ now ≤ t that is t in
    all of 4 million steps tried; the recurrence is kept so that no rounding case can part the
    two paths (a day off, and the next step follows it)."""
    days = times.copy()
    while days.size > 1:
        step = days[:-1] + (times[1:] - days[:-1])
        if np.array_equal(step, days[1:]):
            break
        days[1:] = step
    return days


class Exits:
    """The next exit of citizens in any states: states of one constant hazard all at once, from
    tables by state, the others state by state (`ExitSchedule.next_exit_many`)."""

    def __init__(self, schedules: Sequence[ExitSchedule | None]) -> None:
        self.schedules = schedules
        self.moving = np.array([s is not None for s in schedules])
        """Whether a state has a way out at all."""
        constant = [s is not None and s.constant > 0.0 for s in schedules]
        width = max((len(s.dests[0]) for s, c in zip(schedules, constant, strict=True)
                     if s is not None and c), default=1)
        self.rate = np.ones(len(schedules))
        self.cum = np.full((len(schedules), width), np.inf)
        """Cumulative shares of each constant state's destinations, padded with inf (never ≤ u)."""
        self.dests = np.full((len(schedules), width), STAY_HERE, dtype=np.int64)
        for i, s in enumerate(schedules):
            if s is not None and constant[i]:
                self.rate[i] = s.constant
                self.cum[i, :len(s.dests[0])] = s.cum_probs[0]
                self.dests[i, :len(s.dests[0])] = s.dests[0]
        self.varying = [i for i, c in enumerate(constant) if not c and schedules[i] is not None]

    def next(self, state: np.ndarray, elapsed: np.ndarray, e: np.ndarray, u: np.ndarray
             ) -> tuple[np.ndarray, np.ndarray]:
        """Day in the state of each next exit (inf where never) and its destination."""
        t = elapsed + e / self.rate[state]
        pick = (self.cum[state, 0] <= u).astype(np.int64)  # bisect_right on each citizen's own row
        for j in range(1, self.cum.shape[1] - 1):
            pick += self.cum[state, j] <= u
        dest = self.dests[state, pick]
        if self.varying:
            present = np.bincount(state, minlength=len(self.schedules))
            for s in self.varying:
                if present[s]:
                    here = np.flatnonzero(state == s)
                    schedule = self.schedules[s]
                    assert schedule is not None
                    t[here], dest[here] = schedule.next_exit_many(elapsed[here], e[here], u[here])
        return t, dest


def draw_moves(schedules: Sequence[ExitSchedule | None], citizens: Citizens, draws: Sequence[CohortDraws],
               limits: Limits, over_budget: OverBudget) -> Moves:
    """Every citizen's moves within the horizon, one generation (one pair each) at a time."""
    exits = Exits(schedules)
    n = len(citizens.state)
    per_citizen = np.zeros(n, dtype=np.int64)
    spells = limits.spells
    last_state, last_entered = (citizens.state.copy(), citizens.entered.copy()) if spells else (
        np.zeros(0, dtype=np.int64), np.zeros(0))
    sizes = np.array([d.size for d in draws], dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
    row = offsets[citizens.cohort] + citizens.rank
    """Each citizen's row in the cohorts' tiers laid end to end."""
    who = np.flatnonzero(exits.moving[citizens.state])
    state, entered, elapsed = citizens.state[who], citizens.entered[who], citizens.elapsed[who]
    chunks: list[tuple[np.ndarray, ...]] = []
    made = limits.already
    k = 0
    while who.size:
        if k < TIERS:
            e, u = _tier_pairs(draws, k, citizens.cohort[who], row[who], sizes, offsets)
        else:
            e, u = _own_pairs(draws, k, citizens.cohort[who], citizens.rank[who])
        k += 1
        t, dest = exits.next(state, elapsed, e, u)
        at = entered + t
        inside = at < limits.horizon
        stay = dest == STAY_HERE
        moved = np.flatnonzero(inside & ~stay)
        mover = who[moved]
        chunks.append((mover, per_citizen[mover], state[moved], dest[moved], at[moved],
                       entered[moved] if spells else last_entered))
        per_citizen[mover] += 1
        if spells:
            last_state[mover], last_entered[mover] = dest[moved], at[moved]
        made += mover.size
        if stay.any():
            state, entered = np.where(stay, state, dest), np.where(stay, entered, at)
            elapsed = np.where(stay, t, 0.0)
        else:
            state, entered, elapsed = dest, at, np.zeros(len(at))
        go = np.flatnonzero(inside & exits.moving[state])
        who, state, entered, elapsed = who[go], state[go], entered[go], elapsed[go]
        if made > limits.budget:
            over_budget(f"{made:,} moves, more than the budget of {limits.budget:,} for this scenario's "
                        "expected citizens over its horizon", _busiest(chunks, len(schedules)))
        if who.size and k >= limits.max_moves:
            over_budget(f"one citizen made more than {limits.max_moves:,} moves in a row",
                        _busiest(chunks, len(schedules)))
    if not chunks:
        none, never = np.zeros(0, dtype=np.int64), np.zeros(0)
        return Moves(none, none, none, none, never, never, per_citizen, last_state, last_entered)
    who, nth, origin, dest, day, entered = (np.concatenate(c) for c in zip(*chunks, strict=True))
    return Moves(who, nth, origin, dest, day, entered, per_citizen, last_state, last_entered)


def _tier_pairs(draws: Sequence[CohortDraws], k: int, cohort: np.ndarray, row: np.ndarray, sizes: np.ndarray,
                offsets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pair k (< `TIERS`) of each citizen: its cohort's tier k, drawn for the cohorts still moving."""
    present = np.bincount(cohort, minlength=len(draws))
    e, u = np.empty(int(sizes.sum())), np.empty(int(sizes.sum()))  # a cohort no longer moving is never read
    for c in np.flatnonzero(present).tolist():
        e[offsets[c]:offsets[c] + sizes[c]], u[offsets[c]:offsets[c] + sizes[c]] = draws[c].tier(k)
    return e[row], u[row]


def _own_pairs(draws: Sequence[CohortDraws], k: int, cohort: np.ndarray, rank: np.ndarray
               ) -> tuple[np.ndarray, np.ndarray]:
    """Pair k (≥ `TIERS`) of each citizen, from its own stream."""
    got = np.array([draws[c].pair(r, k) for c, r in zip(cohort.tolist(), rank.tolist(), strict=True)])
    return got[:, 0], got[:, 1]


def _busiest(chunks: list[tuple[np.ndarray, ...]], n_states: int) -> list[tuple[int, int, int]]:
    """The 3 (origin, destination, moves) pairs with the most moves in `chunks`."""
    return top_pairs(np.concatenate([c[2] * n_states + c[3] for c in chunks]), n_states, 3)


def month_of(edges: np.ndarray, day: np.ndarray) -> np.ndarray:
    """The month each day in [0, horizon) falls in, as `bisect_right(edges, day) − 1` finds it: by a
    table of whole days, since months start on whole days (else by search)."""
    if np.array_equal(edges, np.floor(edges)) and edges[0] == 0.0:
        table = np.repeat(np.arange(len(edges) - 1), np.diff(edges).astype(np.int64))
        return table[np.minimum(day.astype(np.int64), len(table) - 1)]
    return np.searchsorted(edges, day, side="right") - 1


def book(ledger: Ledger, edges: np.ndarray, n_states: int, citizens: Citizens, stock: Sequence[int],
         arrivals: np.ndarray, moves: Moves) -> None:
    """Give the ledger every booking in the one-by-one path's order: the stock of each state and its
    citizens' moves, then each arrival followed by its moves.

    `stock[s]` is the initial stock of state s (its citizens come first in `citizens`, state by
    state); `arrivals` are the days of the rest, in order. Positions come from counts (no sort).
    """
    months = len(edges) - 1
    n = len(citizens.state)
    n_stock = n - len(arrivals)
    arrived = np.arange(n_stock, n)
    # index/value entries: a block per stocked state before its first citizen, one per arrival, two a move
    lead = np.zeros(n, dtype=np.int64)
    firsts = np.concatenate([[0], np.cumsum(stock)[:-1]]).astype(np.int64)
    stocked = np.flatnonzero(np.asarray(stock))
    lead[firsts[stocked]] = np.asarray(stock)[stocked]
    lead[arrived] = 1
    start = np.concatenate([[0], np.cumsum(lead + 2 * moves.per_citizen)[:-1]])
    size = int(lead.sum() + 2 * moves.per_citizen.sum())
    index = np.empty(size, dtype=np.int64)
    value = np.empty(size)
    for s in stocked.tolist():
        at = start[firsts[s]] + np.arange(stock[s])
        index[at], value[at] = ledger.stock_entries(s, stock[s])
    state_in = citizens.state[arrived]
    m_in = np.clip(month_of(edges, arrivals), 0, months - 1)
    index[start[arrived]] = state_in * months + m_in
    value[start[arrived]] = edges[m_in + 1] - arrivals
    m = np.minimum(month_of(edges, moves.day), months - 1)
    rest = edges[m + 1] - moves.day
    at = start[moves.who] + lead[moves.who] + 2 * moves.nth
    index[at], value[at] = moves.origin * months + m, -rest
    index[at + 1], value[at + 1] = moves.dest * months + m, rest
    # flow entries, with their days: one per arrival, one a move
    lead_flow = np.zeros(n, dtype=np.int64)
    lead_flow[arrived] = 1
    start_flow = np.concatenate([[0], np.cumsum(lead_flow + moves.per_citizen)[:-1]])
    size_flow = len(arrivals) + len(moves.who)
    flow = np.empty(size_flow, dtype=np.int64)
    first = start_flow[arrived]
    flow[first] = (n_states * n_states + state_in) * months + m_in
    at = start_flow[moves.who] + lead_flow[moves.who] + moves.nth
    flow[at] = (moves.origin * n_states + moves.dest) * months + m
    if not ledger.books_spells:
        ledger.extend(index, value, flow)
        return
    day = np.empty(size_flow)
    entered = np.empty(size_flow)
    day[first], entered[first] = arrivals, -1.0
    day[at], entered[at] = moves.day, moves.entered
    ledger.extend(index, value, flow, day, entered)
