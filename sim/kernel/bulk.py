"""Whole generations of moves at once: every citizen's path, a pair each a generation, up to where a
feature must see the citizen on the clock.

Each citizen's path is what `Replication._advance` draws for it: pair k from the same keyed
stream, the same floating-point steps (`Exits`, as `ExitSchedule.next_exit`), the same stops. Here
every citizen still moving takes its next step together, a generation at a time, and the
bookings are then laid out in the order the one-by-one path makes them (the initial stock state
by state, each citizen's moves after it; then each arrival in time order and its moves), so the
ledger sums the same numbers in the same order and its arrays are the same bit for bit.
Features that move a state's clocks per citizen answer for all the citizens in it at once, a
generation at a time, having been given the spells the generation before closed. Where
programmes watch states (`Watch`), each watched stay's first referral day is found for many
stays at once: a programme alone on its state with no limit on places has its acts done here
too, under the ratios they put in force; one with places alone on its state has the referral
taken up or declined here, and only a citizen who takes it up goes on; elsewhere the citizen is
handed to the clock at the draw that reaches that day (`Handoffs`), and only then made.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import NoReturn

import numba
import numpy as np

from sim.kernel.hazards import STAY_HERE, ExitSchedule
from sim.kernel.ledger import Ledger, day_months, top_pairs
from sim.kernel.protocol import ClocksMover
from sim.kernel.streams import TIERS, CohortDraws
from sim.kernel.timebase import TOLERANCE_DAYS

OverBudget = Callable[[str, list[tuple[int, int, int]]], NoReturn]
"""Stops the replication: what went over the budget, and the busiest (origin, destination, moves)."""

Closing = Callable[[np.ndarray, np.ndarray, np.ndarray, np.ndarray], None]
"""Takes the spells (citizen, state, start, end) one generation's moves close, in citizen order."""


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
    gone: np.ndarray
    """Citizens handed to the clock (`Handoffs`): their paths go on there, so the horizon closes none
    of their spells here."""

    def closed_spells(self, n_benefit: int, horizon: float) -> tuple[np.ndarray, ...]:
        """(citizen, state, start, end) of every spell as the one-by-one path closes them, in its
        order: at each move, citizen by citizen; then at the horizon each citizen still on a benefit."""
        order = np.empty(len(self.who), dtype=np.int64)
        firsts = np.cumsum(self.per_citizen) - self.per_citizen
        order[firsts[self.who] + self.nth] = np.arange(len(self.who))
        last = self.resting_spells(n_benefit, horizon)
        return tuple(np.concatenate([a[order], b]) for a, b in zip(
            (self.who, self.origin, self.entered, self.day), last, strict=True))

    def resting_spells(self, n_benefit: int, horizon: float) -> tuple[np.ndarray, ...]:
        """(citizen, state, start, end) of the spells the horizon closes: each citizen still on a benefit."""
        on = self.last_state < n_benefit
        on[self.gone] = False
        resting = np.flatnonzero(on)
        return resting, self.last_state[resting], self.last_entered[resting], np.full(len(resting), horizon)


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
    """The next exit of citizens in any states at once: every state's bands and clocks laid out as
    tables padded to one shape, walked for all citizens together by the floating-point steps of
    `ExitSchedule.next_exit`, so each element is what it gives for that citizen (a clock's
    `STAY_HERE` included); with each citizen's own clock days where features move them (`movers`,
    by state), as `ExitSchedule.with_clock_days` places them."""

    def __init__(self, schedules: Sequence[ExitSchedule | None],
                 movers: Sequence[Sequence[ClocksMover]] = (),
                 scaled: Sequence[tuple[int, ExitSchedule]] = ()) -> None:
        self.row_state = np.array([*range(len(schedules)), *(s for s, _ in scaled)], dtype=np.int64)
        """The state of each row: a state's own schedule, then its schedules under ratios in force
        (`scaled`: the state and the scaled schedule, as `Replication._scaled_schedule` makes it)."""
        self.movers = {s: tuple(m) for s, m in enumerate(movers) if m and schedules[s] is not None}
        """By state: the features' `clock_days_many`, asked of every citizen in it at every draw, in
        feature order, as on the one-by-one path."""
        schedules = [*schedules, *(schedule for _, schedule in scaled)]
        self.moving = np.array([s is not None for s in schedules])
        """Whether a row has a way out at all (only such rows are walked)."""
        real = [s for s in schedules if s is not None]
        n, bands = len(schedules), max((len(s.edges) for s in real), default=1)
        width = max((len(d) for s in real for d in s.dests), default=1)
        clocks = max((len(s.clocks) for s in real), default=0)
        shares = max((len(c.dests) for s in real for c in s.clocks), default=1)
        self.edges = np.full((n, bands), np.inf)
        """Each band's first day, padded with inf (never ≤ a day: `bisect_right` by counting)."""
        self.ends = np.full((n, bands), np.inf)
        self.totals = np.zeros((n, bands))
        self.cum = np.full((n, bands, width), np.inf)
        """Cumulative shares of each band's destinations, padded with inf (never ≤ u)."""
        self.dests = np.full((n, bands, width), STAY_HERE, dtype=np.int64)
        self.clock_days = np.full((n, clocks), np.inf)
        self.n_clocks = np.zeros(n, dtype=np.int64)
        self.clock_cum = np.full((n, max(clocks, 1), shares), np.inf)
        self.clock_dests = np.full((n, max(clocks, 1), shares), STAY_HERE, dtype=np.int64)
        self.clock_last = np.zeros((n, max(clocks, 1)), dtype=np.int64)
        """Each clock's last destination's place (`Clock.pick`'s fallback)."""
        self.constant = np.zeros(n)
        """The one constant hazard of a state with no clocks that no feature moves, else 0: its
        citizens need no walk (`ExitSchedule.next_exit`'s first branch)."""
        for i, schedule in enumerate(schedules):
            if schedule is None:
                continue
            m = len(schedule.edges)
            self.edges[i, :m], self.ends[i, :m] = schedule.edges, schedule.ends
            self.totals[i, :m] = schedule.totals
            for j, (dests, cum) in enumerate(zip(schedule.dests, schedule.cum_probs, strict=True)):
                self.cum[i, j, :len(cum)], self.dests[i, j, :len(dests)] = cum, dests
            self.n_clocks[i] = len(schedule.clocks)
            self.clock_days[i, :len(schedule.clocks)] = schedule.clock_days
            for j, clock in enumerate(schedule.clocks):
                self.clock_cum[i, j, :len(clock.dests)] = clock.cum_shares
                self.clock_dests[i, j, :len(clock.dests)] = clock.dests
                self.clock_last[i, j] = len(clock.dests) - 1
            if self.row_state[i] not in self.movers:
                self.constant[i] = schedule.constant

    def next(self, row: np.ndarray, elapsed: np.ndarray, e: np.ndarray, u: np.ndarray,
             who: np.ndarray, entered: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Day in the state of each next exit (inf where never) and its destination, for citizens in
        rows with a way out (`row`: each one's row, its state's unless ratios are in force; `who`,
        `entered`: each one's ident and day of entry, for the features that move clocks)."""
        rate = self.constant[row]
        if rate.all():
            return self._constant(row, elapsed, e, u)
        if not rate.any():
            return self._walk(row, elapsed, e, u, who, entered)
        t, dest = np.empty(len(e)), np.empty(len(e), dtype=np.int64)
        one = rate > 0.0
        t[one], dest[one] = self._constant(row[one], elapsed[one], e[one], u[one])
        other = ~one
        t[other], dest[other] = self._walk(row[other], elapsed[other], e[other], u[other], who[other],
                                           entered[other])
        return t, dest

    def _constant(self, row: np.ndarray, elapsed: np.ndarray, e: np.ndarray, u: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray]:
        """Citizens in states of one constant hazard: `next_exit`'s first branch."""
        t = elapsed + e / self.constant[row]
        cum = self.cum
        pick = (cum[row, 0, 0] <= u).astype(np.int64)  # bisect_right on each citizen's own row
        for j in range(1, cum.shape[2] - 1):
            pick += cum[row, 0, j] <= u
        return t, self.dests[row, 0, pick]

    def _walk(self, row: np.ndarray, elapsed: np.ndarray, e: np.ndarray, u: np.ndarray,
              who: np.ndarray, entered: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Citizens in any states: the bands walked to the first exit or clock, `next_exit`'s loop
        (`_walked`, each citizen by the same floating-point steps)."""
        days, which = self._clocks(row, who, entered)
        return _walked(row, elapsed, e, u, np.ascontiguousarray(days), np.ascontiguousarray(which),
                       self.edges, self.ends, self.totals, self.cum, self.dests, self.clock_cum,
                       self.clock_dests, self.clock_last)

    def _clocks(self, row: np.ndarray, who: np.ndarray, entered: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray]:
        """Each citizen's clock days in order of day (inf: none) and each one's place in its state's
        `clocks`: the state's, or as the features move them."""
        days = self.clock_days[row]
        if not self.movers:
            return days, np.broadcast_to(np.arange(days.shape[1]), days.shape)
        for s, moves in self.movers.items():
            here = np.flatnonzero(self.row_state[row] == s)
            if not here.size:
                continue
            width = self.n_clocks[s]  # (a scaled schedule keeps its state's clocks)
            base = days[here, :width]
            own = base
            for move_clocks in moves:
                own = move_clocks(who[here], s, entered[here], own)
            moved = (own != base).any(axis=1, keepdims=True)  # as `with_clock_days`: no sooner than at once
            days[here, :width] = np.where(moved & (own < np.inf), np.maximum(own, TOLERANCE_DAYS), own)
        which = np.argsort(days, axis=1, kind="stable")
        return np.take_along_axis(days, which, axis=1), which


@dataclass(frozen=True)
class Watch:
    """States whose handlers ask for times on a citizen (`Referring`): a citizen's path is drawn here
    up to the draw that reaches the first day asked for in its stay, and handed to the clock there;
    in a state whose one handler acts for many citizens at once (`Acting`), its acts are done here
    as the paths are drawn, and a citizen stays; in one whose one handler decides for many at once
    (`Deciding`), a citizen goes to the clock only if its decision needs it."""

    watched: np.ndarray
    """Whether each state is watched."""
    first: Callable[[np.ndarray, int, np.ndarray, np.ndarray], np.ndarray]
    """(positions in `Citizens`, state, stays' starts, days told) → each stay's first day asked for
    (inf: none), asked once a stay, in each citizen's time order."""
    told: np.ndarray
    """The day each citizen's first stay is told of (0 for the initial stock, else its arrival)."""
    acting: np.ndarray
    """Whether each state's acts are done here (`Acting`)."""
    act: Callable[[np.ndarray, int, np.ndarray], tuple[np.ndarray, np.ndarray, np.ndarray]]
    """(positions, state, days) → the acts due (`Acting.acts_many`): changed, ratios' index, next day."""
    left: Callable[[np.ndarray, int, np.ndarray], None]
    """(positions, state, days): citizens leave an acting state (`Acting.left_many`)."""
    rows: np.ndarray
    """[state, ratios' index] → the `Exits` row a citizen in the state is drawn from."""
    deciding: np.ndarray
    """Whether each state's first day asked for is decided here (`Deciding`): a citizen goes to the
    clock only if its decision needs it, and the others' paths are drawn on."""
    decide: Callable[[np.ndarray, int, np.ndarray], np.ndarray]
    """(positions, state, days) → whether each goes to the clock (`Deciding.decides_many`)."""


@dataclass(frozen=True)
class Handoffs:
    """Citizens handed to the clock, each at the draw that reached the first day asked for in its stay:
    where it stood (state, the stay's start, days in it at the draw, days at its last clock stayed
    through or −1), the draw (days in the stay and destination; none where the state has no way
    out: `drawn` false), and the pairs used by then."""

    who: np.ndarray
    state: np.ndarray
    entered: np.ndarray
    elapsed: np.ndarray
    clock_done: np.ndarray
    drawn: np.ndarray
    day: np.ndarray
    dest: np.ndarray
    used: np.ndarray
    clocks_seen: int
    """Clocks stayed through in watched states before the handoffs (events on the one-by-one path)."""


def draw_moves(schedules: Sequence[ExitSchedule | None], citizens: Citizens, draws: Sequence[CohortDraws],
               limits: Limits, over_budget: OverBudget, movers: Sequence[Sequence[ClocksMover]] = (),
               closing: Closing | None = None, watch: Watch | None = None,
               scaled: Sequence[tuple[int, ExitSchedule]] = ()) -> tuple[Moves, Handoffs]:
    """Every citizen's moves within the horizon, one generation (one pair each) at a time; `movers` by
    state move clocks per citizen, `closing` takes each generation's spells before the next draws,
    and with `watch` a citizen leaves at the first day asked for in a watched stay (`Handoffs`),
    or has its acts done here in an acting one, drawn under the ratios in force (`scaled` rows)."""
    exits = Exits(schedules, movers, scaled)
    n = len(citizens.state)
    per_citizen = np.zeros(n, dtype=np.int64)
    spells = limits.spells
    last_state, last_entered = (citizens.state.copy(), citizens.entered.copy()) if spells else (
        np.zeros(0, dtype=np.int64), np.zeros(0))
    sizes = np.array([d.size for d in draws], dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
    tier_row = offsets[citizens.cohort] + citizens.rank
    """Each citizen's row in the cohorts' tiers laid end to end."""
    gone: list[tuple[np.ndarray, ...]] = []
    clocks_seen = 0
    first = np.full(n, np.inf)
    if watch is not None:
        first = _first_days(watch, np.arange(n), citizens.state, citizens.entered, watch.told)
        still = ~exits.moving[citizens.state] & (first < np.inf)  # no way out, but a day asked for
        if still.any():
            out = np.flatnonzero(still)
            gone.append(_left(out, citizens.state[out], citizens.entered[out], citizens.elapsed[out],
                              np.full(len(out), -1.0), None, 0))
    who: np.ndarray = np.flatnonzero(exits.moving[citizens.state])
    state, entered, elapsed = citizens.state[who], citizens.entered[who], citizens.elapsed[who]
    row = state.copy()
    """Each citizen's row of `exits`: its state's, or its state's under the ratios in force."""
    first, clock_done = first[who], np.full(len(who), -1.0)
    fresh = np.zeros(len(who), dtype=bool)
    """Whether the citizen's next act was asked for by an act that changed its ratios: it comes after a
    move on its day drawn again then (as on the clock, acts of one day go in the order asked)."""
    chunks: list[tuple[np.ndarray, ...]] = []
    made = limits.already
    k = 0
    while who.size:
        if k < TIERS:
            e, u = _tier_pairs(draws, k, citizens.cohort[who], tier_row[who], sizes, offsets)
        else:
            e, u = _own_pairs(draws, k, citizens.cohort[who], citizens.rank[who])
        k += 1
        t, dest = exits.next(row, elapsed, e, u, who, entered)
        at = entered + t
        redrawn = np.zeros(len(who), dtype=bool)
        if watch is not None:
            due = ((first < at) | ((first == at) & ~fresh)) & (first < np.inf)
            fresh = np.zeros(len(who), dtype=bool)
            decided = np.flatnonzero(due & watch.deciding[state])
            if decided.size:  # decisions that need no clock leave the stay to the draw, done with
                stays = decided[~_decide(watch, decided, who, state, first)]
                first[stays], due[stays] = np.inf, False
            leaving = due & ~watch.acting[state]  # a day asked for before the move: to the clock
            if leaving.any():
                out = np.flatnonzero(leaving)
                gone.append(_left(who[out], state[out], entered[out], elapsed[out], clock_done[out],
                                  (t[out], dest[out]), k))
                keep = np.flatnonzero(~leaving)
                who, state, row, entered, elapsed, first, clock_done, t, dest, at, due, fresh, redrawn = (
                    a[keep] for a in (who, state, row, entered, elapsed, first, clock_done, t, dest, at, due,
                                      fresh, redrawn))
            if due.any():
                _act(watch, np.flatnonzero(due), who, state, row, entered, first, clock_done, t, at, fresh,
                     redrawn)
        inside = (at < limits.horizon) | redrawn
        stay = (dest == STAY_HERE) | redrawn
        moved = np.flatnonzero(inside & ~stay)
        mover = who[moved]
        if closing is not None:
            closing(mover, state[moved], entered[moved], at[moved])
        if watch is not None and moved.size:
            out = moved[watch.acting[state[moved]]]
            for s in np.unique(state[out]).tolist():
                here = out[state[out] == s]
                watch.left(who[here], s, at[here])
        chunks.append((mover, per_citizen[mover], state[moved], dest[moved], at[moved],
                       entered[moved] if spells else last_entered))
        per_citizen[mover] += 1
        if spells:
            last_state[mover], last_entered[mover] = dest[moved], at[moved]
        made += mover.size
        if stay.any():
            if watch is not None:
                kept = inside & stay & ~redrawn  # a clock stayed through (a redraw keeps the last one's)
                clocks_seen += int(np.count_nonzero(kept & watch.watched[state]))
                clock_done = np.where(kept, t, np.where(redrawn, clock_done, -1.0))
            state, entered = np.where(stay, state, dest), np.where(stay, entered, at)
            row = np.where(stay, row, dest)
            elapsed = np.where(stay, t, 0.0)
        else:
            state, row, entered, elapsed = dest, dest, at, np.zeros(len(at))
            clock_done = np.full(len(at), -1.0)
        if watch is not None and moved.size:
            into = moved[watch.watched[state[moved]]]
            first[into] = _first_days(watch, who[into], state[into], entered[into], entered[into])
            first[moved[~watch.watched[state[moved]]]] = np.inf
            still = ~exits.moving[row] & inside & (first < np.inf)
            if still.any():
                out = np.flatnonzero(still)
                gone.append(_left(who[out], state[out], entered[out], elapsed[out], clock_done[out], None, k))
        go = np.flatnonzero(inside & exits.moving[row])
        who, state, row, entered, elapsed, first, clock_done, fresh = (
            a[go] for a in (who, state, row, entered, elapsed, first, clock_done, fresh))
        if made > limits.budget:
            over_budget(f"{made:,} moves, more than the budget of {limits.budget:,} for this scenario's "
                        "expected citizens over its horizon", _busiest(chunks, len(schedules)))
        if who.size and k >= limits.max_moves:
            over_budget(f"one citizen made more than {limits.max_moves:,} moves in a row",
                        _busiest(chunks, len(schedules)))
    handoffs = _handoffs(gone, clocks_seen)
    if not chunks:
        none, never = np.zeros(0, dtype=np.int64), np.zeros(0)
        return Moves(none, none, none, none, never, never, per_citizen, last_state, last_entered,
                     handoffs.who), handoffs
    who, nth, origin, dest, day, entered = (np.concatenate(c) for c in zip(*chunks, strict=True))
    return Moves(who, nth, origin, dest, day, entered, per_citizen, last_state, last_entered,
                 handoffs.who), handoffs


def _act(watch: Watch, due: np.ndarray, who: np.ndarray, state: np.ndarray, row: np.ndarray,
         entered: np.ndarray, first: np.ndarray, clock_done: np.ndarray, t: np.ndarray, at: np.ndarray,
         fresh: np.ndarray, redrawn: np.ndarray) -> None:
    """The acts due before their citizens' drawn moves (positions `due`), in each citizen's time order,
    as `Replication._do_acts` does them: one that changes the ratios in force has the move drawn
    again from its day under the new ratios (`redrawn`, `t` now the days in the stay to draw from);
    after one that does not, the next act is done too if it still comes before the move."""
    while due.size:
        again = []
        for s in np.unique(state[due]).tolist():
            here = due[state[due] == s]
            day = first[here]
            changed, effect, later = watch.act(who[here], s, day)
            row[here] = watch.rows[s, effect]
            first[here] = later
            moved = here[changed]
            elapsed = day[changed] - entered[moved]
            close = np.abs(elapsed - clock_done[moved]) < TOLERANCE_DAYS  # it stayed through a clock then
            t[moved] = np.where(close, clock_done[moved], elapsed)
            redrawn[moved], fresh[moved] = True, True
            stands = here[~changed]
            again.append(stands[first[stands] < at[stands]])  # asked after the move was drawn: ties go to it
        due = np.concatenate(again)


def _decide(watch: Watch, due: np.ndarray, who: np.ndarray, state: np.ndarray, first: np.ndarray
            ) -> np.ndarray:
    """The decisions due (positions `due`, at their first day), state by state: whether each citizen
    goes to the clock."""
    clock = np.zeros(len(due), dtype=bool)
    for s in np.unique(state[due]).tolist():
        here = np.flatnonzero(state[due] == s)
        clock[here] = watch.decide(who[due[here]], s, first[due[here]])
    return clock


def _first_days(watch: Watch, who: np.ndarray, state: np.ndarray, entered: np.ndarray, told: np.ndarray
                ) -> np.ndarray:
    """Each stay's first day asked for (inf where the state is not watched or none is asked)."""
    out = np.full(len(who), np.inf)
    for s in np.unique(state[watch.watched[state]]).tolist():
        here = np.flatnonzero(state == s)
        out[here] = watch.first(who[here], s, entered[here], told[here])
    return out


def _left(who: np.ndarray, state: np.ndarray, entered: np.ndarray, elapsed: np.ndarray, done: np.ndarray,
          drawn: tuple[np.ndarray, np.ndarray] | None, used: int) -> tuple[np.ndarray, ...]:
    """Citizens handed to the clock, as `Handoffs` rows."""
    n = len(who)
    day, dest = drawn if drawn is not None else (np.full(n, np.nan), np.full(n, STAY_HERE))
    return (who, state, entered, elapsed, done, np.full(n, drawn is not None), day, dest,
            np.full(n, used, dtype=np.int64))


def _handoffs(gone: list[tuple[np.ndarray, ...]], clocks_seen: int) -> Handoffs:
    """The citizens handed to the clock, in ident order."""
    if not gone:
        none, never = np.zeros(0, dtype=np.int64), np.zeros(0)
        return Handoffs(none, none, never, never, never, np.zeros(0, dtype=bool), never, none, none,
                        clocks_seen)
    rows = [np.concatenate(c) for c in zip(*gone, strict=True)]
    order = np.argsort(rows[0], kind="stable")
    who, state, entered, elapsed, clock_done, drawn, day, dest, used = (r[order] for r in rows)
    return Handoffs(who, state, entered, elapsed, clock_done, drawn, day, dest, used, clocks_seen)


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
    table = day_months(tuple(edges.tolist()))
    if len(table):
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


@numba.njit(cache=True, error_model="numpy")
def _walked(row: np.ndarray, elapsed: np.ndarray, e: np.ndarray, u: np.ndarray, days: np.ndarray,
            which: np.ndarray, edges: np.ndarray, ends: np.ndarray, totals: np.ndarray, cum: np.ndarray,
            dests: np.ndarray, clock_cum: np.ndarray, clock_dests: np.ndarray, clock_last: np.ndarray
            ) -> tuple[np.ndarray, np.ndarray]:
    """`Exits._walk` for each citizen: from `elapsed` days into its row's bands, the exponential `e` spent
    band by band (`ExitSchedule.next_exit`'s steps) up to its exit, or its next clock (`days`, in
    order, inf padded; `which`: each one's place among the row's clocks); the destination picked by
    `u`. Gives the day in the state (inf: never) and the destination (`STAY_HERE` at a clock)."""
    n = len(row)
    out_day = np.full(n, np.inf)
    out_dest = np.full(n, STAY_HERE, dtype=np.int64)
    for i in range(n):
        s, d, left = row[i], elapsed[i], e[i]
        c = 0
        for j in range(days.shape[1]):  # bisect_right on the citizen's own clocks
            if days[i, j] <= d:
                c += 1
        clock_day, clock = np.inf, 0
        if c < days.shape[1]:
            clock_day, clock = days[i, c], which[i, c]
        k = -1
        for j in range(edges.shape[1]):
            if edges[s, j] <= d:
                k += 1
        band, struck = -1, -1
        while True:
            end, rate = ends[s, k], totals[s, k]
            cap = end if end < clock_day else clock_day
            t = d + left / rate
            if rate > 0.0 and t < cap:
                out_day[i], band = t, k
                break
            if rate > 0.0:
                left = left - rate * (cap - d)
            if cap == clock_day and cap < np.inf:
                out_day[i], struck = clock_day, clock
                break
            if not cap < np.inf:
                break
            d, k = cap, k + 1
        if band >= 0:
            pick = 0
            for j in range(cum.shape[2]):
                if cum[s, band, j] <= u[i]:
                    pick += 1
            out_dest[i] = dests[s, band, pick]
        elif struck >= 0:
            pick = 0
            for j in range(clock_cum.shape[2]):
                if clock_cum[s, struck, j] <= u[i]:
                    pick += 1
            out_dest[i] = clock_dests[s, struck, min(pick, clock_last[s, struck])]
    return out_day, out_dest
