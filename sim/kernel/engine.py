"""One replication on SimPy's event loop: arrivals, exact hazard-driven moves, the ledger.

Arrivals come in time order: SimPy events, or all placed before the clock starts when every
feature that watches a state may hear of them ahead of it. From each arrival the citizen's
moves are drawn exactly from its state's hazards; moves that no feature watches
(`Feature.states`) are booked at once, and so are watched moves whose every handler may be told
ahead of the clock (`Handler.ahead`) when they come before the first time a feature acts on the
citizen (`Run.wake`), or after every feature is done with what it asked for (`Run.done_with`);
the first move that a feature must see as it happens becomes the citizen's one pending event
(a Timeout with a callback, never a generator process), put on the clock only after the time
asked for when that comes first and may change it (`DEFERRED`), or held in its place in the
clock's order while a place or an effect that may change it is still to end (`Run.set_effect`'s
`until`, `sim.kernel.clock`), so a change of hazards leaves no stale event. Acts on one citizen alone
(`Run.act`) are done as its moves are drawn, where those may go ahead of the clock; spells that
features take only after the horizon (`Feature.late_spells`) are kept and given at once. Nothing
past the horizon is scheduled; random numbers come in blocks. Unless a caseworker team watches
a state, every path is drawn a generation at a time over all citizens (`sim.kernel.bulk`): to the
same numbers bit for bit when no feature watches a state; with programmes, a programme alone on
its state with no limit on places acts there too, one with places alone on its state has its
referrals taken up or declined there, and a citizen is made and goes on here, on the clock, only
from its first other referral or one taken up (`Referring`, `Acting`, `Deciding`), the same
process up to the order in which sums add.
`fast_forward=False` makes every move an event: the plain DES, kept as the reference the fast
path is tested against. Features plug in through `sim.kernel.protocol`; the engine names none of them.
"""

from __future__ import annotations

import gc
import math
from collections.abc import Callable
from functools import partial
from heapq import heappop, heappush
from typing import Any, NoReturn, cast

import numpy as np
import pandas as pd
import simpy
from simpy.events import Timeout

from sim.kernel.bulk import Citizens, Handoffs, Limits, Watch, book, chained_days, draw_moves
from sim.kernel.citizen import ARRIVED, STOCK, Citizen
from sim.kernel.clock import Clock, Held
from sim.kernel.effects import EffectBook, ratio_key
from sim.kernel.hazards import STAY_HERE, ExitSchedule
from sim.kernel.inflows import draw_arrivals
from sim.kernel.ledger import Booked, Ledger, SpellLedger, booked, packed
from sim.kernel.model import Model
from sim.kernel.protocol import Act, Acting, ClockMover, Deciding, Feature, Handler, Later, Ratios, Referring
from sim.kernel.records import ReplicationRecord, books_durations, min_weeks_of
from sim.kernel.streams import (
    ARRIVAL_PATHS,
    ARRIVAL_TRAITS,
    INITIAL,
    INITIAL_PATHS,
    INITIAL_TRAITS,
    CohortDraws,
    CohortStream,
    Streams,
    state_key,
)
from sim.kernel.timebase import TOLERANCE_DAYS, YEAR_DAYS
from sim.kernel.traits import draw_traits, has_traits

MOVES_PER_CITIZEN_YEAR = 10_000
"""The event budget, a guard against a scenario whose moves never end (a cycle of tiny clocks,
huge rates): far above any real caseload (a citizen moving every hour all year is 8,766), so
never a limit in use. A replication over it stops with `EventBudgetExceeded`."""


DEFERRED = object()
"""A citizen's `pending` when its next move is drawn but not yet on the clock: a time a feature
asked for comes first and decides (`Replication._woken` puts the move on the clock if it still
stands then)."""


class EventBudgetExceeded(RuntimeError):
    """A replication made more moves than its event budget: the message names the states."""


class Replication:
    """The state of one running replication."""

    def __init__(self, model: Model, seed: np.random.SeedSequence, record_spells: bool = False,
                 fast_forward: bool = True, bulk: bool = True, ahead: bool = True) -> None:
        self.model = model
        self.streams = Streams(seed)
        self.env = Clock()
        self.durations, min_weeks = books_durations(model.scenario), min_weeks_of(model.scenario)
        self.ledger = (SpellLedger(model.calendar, model.n_states, min_weeks) if self.durations or min_weeks
                       else Ledger(model.calendar, model.n_states))  # spells only when a target asks
        self.horizon = model.calendar.horizon
        self.effects = EffectBook()
        self.cohort_sizes: dict[tuple[int, int], int] = {
            (STOCK, s): n for s, n in enumerate(model.initial) if n}
        self.features: list[Feature] = []
        self._by_key: dict[str, Feature] = {}
        for slot, plan in enumerate(model.features):
            feature = self._by_key[plan.key] = plan.open(self, slot)
            self.features.append(feature)
        self.hooks: dict[int, list[Handler]] = {}
        for feature in self.features:
            for state in sorted(feature.states):
                self.hooks.setdefault(state, []).extend(feature.handlers(state))
        self.spell_hooks = [f.spell_closed for f in self.features if f.spells]
        self.late = [f for f in self.features if f.spells and f.late_spells]
        """Features that take their spells all at once after the horizon (`Feature.late_spells`)."""
        self.spell_hooks_of = tuple(
            tuple(f.spell_closed for f in self.features
                  if f.spells and not f.late_spells and (f.spell_states is None or s in f.spell_states))
            for s in range(model.n_states))
        """By state: the spell hooks that want its spells as they close, in feature order."""
        self.late_of = tuple(any(f.spell_states is None or s in f.spell_states for f in self.late)
                             for s in range(model.n_states))
        """By state: whether a late feature wants its spells, kept in `late_book` as they close."""
        self.late_book: Booked = booked()
        """The spells the late features want, four numbers each: citizen, state, start, end."""
        self.movers: dict[int, list[ClockMover]] = {}
        for f in self.features:
            for s in sorted(f.shifts):
                self.movers.setdefault(s, []).append(f.clock_days)
        self.admits = [f.admit for f in self.features if type(f).admit is not Feature.admit]
        self.traits = tuple(has_traits(model, s) for s in range(model.n_states))
        self.trait_draws = self.cohort_stream((ARRIVAL_TRAITS, INITIAL_TRAITS))
        self.n_slots = len(self.features) if self.admits else 0  # slots only for features that keep any
        watched = frozenset(self.hooks)
        self.watched = watched if fast_forward else frozenset(range(model.n_states))
        self.scaled: dict[tuple[int, int], ExitSchedule] = {}
        years = max(model.calendar.horizon / YEAR_DAYS, 1.0 / 12.0)
        expected = sum(model.initial) + float(np.sum(model.inflow_per_day * model.calendar.days))
        self.max_moves = int(MOVES_PER_CITIZEN_YEAR * years)
        """Moves one citizen may make in one draw of its path (the horizon at the budget's pace)."""
        self.event_budget = int(MOVES_PER_CITIZEN_YEAR * years * max(expected, 1.0))
        """Moves of the whole replication: the budget for its expected citizens over the horizon."""
        self.n_events = 0
        self.n_citizens = 0
        self.n_made = 0
        """Citizens made as objects (on the generation-at-a-time path, only those handed to the clock)."""
        self.acting: Citizen | None = None
        """The citizen whose act (`act`) the kernel is doing ahead of the clock, if any …"""
        self.changed = False
        """… and whether that act changed the citizen's hazards."""
        self.acts_asked = 0
        """Acts asked for so far. On one day, acts and moves go in the order they were asked for or
        drawn, as SimPy orders events of one time by when they were scheduled."""
        self.changed_at = 0
        """`acts_asked` when the act being done changed the hazards: its move is drawn again at that
        point, before any act it asks for afterwards."""
        self.spells: list[tuple[int, int, float, float, int]] | None = [] if record_spells else None
        self.hooks_of: list[tuple[Handler, ...]] = [tuple(self.hooks.get(s, ()))
                                                    for s in range(model.n_states)]
        """`hooks` as a list by state, as the hot path reads them."""
        self.book_move = self.ledger.move
        self.on_move = self._on_move
        self.alive: dict[int, Citizen] | None = {} if record_spells else None
        self.resting: dict[int, Citizen] | None = {} if self.spell_hooks else None
        """With spell hooks: citizens on a benefit with no further move in the horizon, whose last
        spell is closed at the end (a later redraw may still move them)."""
        self.cohorts = tuple(tuple((kind, s) for s in range(model.n_states)) for kind in (ARRIVED, STOCK))
        """Each cohort's key, made once: `cohorts[kind][state]`."""
        self.ahead_of = tuple(ahead and fast_forward and all(h.ahead for h in hooks)
                              for hooks in self.hooks_of)
        """By state: whether every handler may be told of its moves ahead of the clock (`ahead=False`
        or `fast_forward=False`: never, as the tests compare)."""
        movers_of = tuple(tuple(self.movers.get(s, ())) for s in range(model.n_states))
        self.advancing = (model.schedules, self.watched, self.horizon, self.book_move, self.spells,
                          self.spell_hooks_of, self.resting, movers_of, self.ahead_of, self.hooks_of,
                          self.late_of, self.late_book)
        """What `_advance` reads on every call, in one tuple."""
        referring = all(self.ahead_of) and all(
            isinstance(h, Referring) for hooks in self.hooks_of for h in hooks) and not any(
            f.spells and not f.late_spells and not f.shifts for f in self.features)
        """Whether citizens may be made only at their first day asked for: every handler refers, and
        every feature that wants spells takes them after the horizon or in parts (`spells_closed`)."""
        seen = (self.hooks and not referring) or any(
            type(f).admit is not Feature.admit and not f.states for f in self.features) or any(
            type(f).spells_closed is Feature.spells_closed for f in self.features if f.spells) or any(
            type(f).clock_days_many is Feature.clock_days_many for f in self.features if f.shifts)
        self.bulk = bulk and fast_forward and not seen and self.spells is None
        """Whether every path is drawn a generation at a time (`sim.kernel.bulk`): features see a
        citizen only from the first day one asks for in a watched stay (`Referring`), when the citizen
        is made and goes on one by one (those that want spells take them in parts, those that move
        clocks answer for many citizens at once), and no spell table is asked for; `bulk=False` keeps
        the one-by-one path (the tests compare them)."""

    def run(self) -> ReplicationRecord:
        """Simulate the horizon and return the replication's record.

        The cyclic garbage collector is paused meanwhile: what the run discards goes by reference
        counting, and the collector would only scan the run's live objects again and again (a
        quarter of the time with programmes and teams). The run's own cycles go after it.
        """
        collecting = gc.isenabled()
        gc.disable()
        try:
            return self._run()
        finally:
            if collecting:
                gc.enable()

    def _run(self) -> ReplicationRecord:
        if self.bulk:
            return self._run_bulk()
        n_initial = self._seed_initial_stock()
        times, states, ranks = draw_arrivals(self.model, self.streams)
        if len(times):
            self._arrivals(times.tolist(), states.tolist(), ranks.tolist())
        self.env.run(until=self.horizon)
        self._close_resting()
        if self.late:
            kept = packed(self.late_book).reshape(-1, 4)
            who, state = kept[:, 0].astype(np.int64), kept[:, 1].astype(np.int64)
            self._spells_closed(self.late, who, state, kept[:, 2], kept[:, 3])
            del self.late_book[:]
        return self._record(n_initial)

    @staticmethod
    def _spells_closed(features: list[Feature], who: np.ndarray, state: np.ndarray, start: np.ndarray,
                       end: np.ndarray) -> None:
        """Give each feature the spells it wants of every spell closed (`Feature.spells_closed`)."""
        for feature in features:
            if feature.spell_states is None:
                feature.spells_closed(who, state, start, end)
            else:
                mine = np.isin(state, np.fromiter(feature.spell_states, dtype=np.int64))
                feature.spells_closed(who[mine], state[mine], start[mine], end[mine])

    def _run_bulk(self) -> ReplicationRecord:
        """The replication with every path drawn a generation at a time (`sim.kernel.bulk`), each up to
        the first day a feature asks for in a watched stay, where the citizen is made and goes on one
        by one on the clock: the process of `_run`, its numbers bit for bit when no state is watched
        and else up to the order in which sums add."""
        model, ledger = self.model, self.ledger
        stock = list(model.initial)
        state: list[np.ndarray] = []
        elapsed: list[np.ndarray] = []
        cohort: list[np.ndarray] = []
        rank: list[np.ndarray] = []
        draws: list[CohortDraws] = []
        keys: list[tuple[int, int]] = []
        for s, n in enumerate(stock):
            if n == 0:
                continue
            days = self._stock_elapsed(s, n)
            ledger.keep_elapsed(s, days)
            for feature in self.features:
                feature.stock(s, n)
            state.append(np.full(n, s))
            elapsed.append(days)
            cohort.append(np.full(n, len(draws)))
            rank.append(np.arange(n))
            draws.append(self.streams.cohort(INITIAL_PATHS, model.codes[s], n))
            keys.append((STOCK, s))
        times, states, ranks = draw_arrivals(model, self.streams)
        arrivals = chained_days(times)
        counts = np.bincount(states, minlength=model.n_states)
        cohort_of = np.full(model.n_states, -1)
        for s in np.flatnonzero(counts).tolist():
            cohort_of[s] = len(draws)
            draws.append(self.streams.cohort(ARRIVAL_PATHS, model.codes[s], int(counts[s])))
            keys.append((ARRIVED, s))
            self.cohort_sizes[ARRIVED, s] = int(counts[s])
        state_at = np.concatenate([*state, states]).astype(np.int64)
        stock_elapsed = np.concatenate([*elapsed, np.zeros(0)])
        citizens = Citizens(state_at, np.concatenate([-stock_elapsed, arrivals]),
                            np.concatenate([stock_elapsed, np.zeros(len(arrivals))]),
                            np.concatenate([*cohort, cohort_of[states]]).astype(np.int64),
                            np.concatenate([*rank, ranks]).astype(np.int64))
        spells = [f for f in self.features if f.spells and not f.shifts]
        shifting = [f for f in self.features if f.spells and f.shifts]
        """Features that move clocks from the spells they are given: a generation's spells at a time."""
        limits = Limits(self.horizon, self.max_moves, self.event_budget, len(arrivals),
                        bool(spells or shifting) or ledger.books_spells)
        movers = [[f.clock_days_many for f in self.features if s in f.shifts] for s in range(model.n_states)]
        watch: Watch | None = None
        scaled: list[tuple[int, ExitSchedule]] = []
        if self.hooks:
            kind, home = np.array([k for k, _ in keys]), np.array([h for _, h in keys])
            kinds, homes, ranks = kind[citizens.cohort], home[citizens.cohort], citizens.rank
            acting, rows, scaled = self._acting()
            watch = Watch(np.array([bool(h) for h in self.hooks_of]),
                          partial(self._first_days, kinds, homes, ranks),
                          np.concatenate([np.zeros(len(stock_elapsed)), arrivals]), acting,
                          partial(self._acts_many, kinds, homes, ranks), self._left_many, rows,
                          self._deciding(), partial(self._decides_many, kinds, homes, ranks))
        moves, handoffs = draw_moves(model.schedules, citizens, draws, limits, self._over_budget, movers,
                                     partial(self._spells_closed, shifting) if shifting else None, watch,
                                     scaled)
        book(ledger, np.asarray(model.calendar.edges, dtype=float), model.n_states, citizens, stock, arrivals,
             moves)
        late = [f for f in spells if f.late_spells]
        closed = moves.closed_spells(model.n_benefit, self.horizon) if spells else ()
        early = [f for f in spells if not f.late_spells]
        if early:
            self._spells_closed(early, *closed)
        if shifting:
            self._spells_closed(shifting, *moves.resting_spells(model.n_benefit, self.horizon))
        self.n_events = len(arrivals) + len(moves.who) + handoffs.clocks_seen
        self.n_citizens = len(state_at)
        if len(handoffs.who):
            self._hand_over(handoffs, citizens, draws, keys)
            self.env.run(until=self.horizon)
            self._close_resting()
        if late:
            book_late = packed(self.late_book).reshape(-1, 4)
            self._spells_closed(late, *(np.concatenate([a, b]) for a, b in zip(closed, (
                book_late[:, 0].astype(np.int64), book_late[:, 1].astype(np.int64), book_late[:, 2],
                book_late[:, 3]), strict=True)))
            del self.late_book[:]
        return self._record(sum(stock))

    def _first_days(self, kind: np.ndarray, home: np.ndarray, rank: np.ndarray, who: np.ndarray, state: int,
                    entered: np.ndarray, told: np.ndarray) -> np.ndarray:
        """The first day any handler of `state` asks for in each of these stays (`Referring.first_days`,
        every handler asked, in order, as `entered` is told)."""
        first = np.full(len(who), np.inf)
        for handler in self.hooks_of[state]:
            days = cast(Referring, handler).first_days(who, kind[who], home[who], rank[who], state, entered,
                                                       told)
            first = np.minimum(first, days)
        return first

    def _acting(self) -> tuple[np.ndarray, np.ndarray, list[tuple[int, ExitSchedule]]]:
        """The states whose acts the bulk draw does (one handler, `Acting`, and a way out); for each,
        the `Exits` row of each of the ratios its acts may put in force, and the scaled schedules
        those rows add (as `_scaled_schedule` makes them from the ratios `EffectBook` puts in force)."""
        n = self.model.n_states
        acting = np.zeros(n, dtype=bool)
        width = max((len(h.effects) for hooks in self.hooks_of for h in hooks if isinstance(h, Acting)),
                    default=1)
        rows = np.tile(np.arange(n)[:, None], (1, width))
        scaled: list[tuple[int, ExitSchedule]] = []
        for s, hooks in enumerate(self.hooks_of):
            base = self.model.schedules[s]
            if len(hooks) != 1 or not isinstance(hooks[0], Acting) or not hooks[0].acting or base is None:
                continue
            acting[s] = True
            for j, ratios in enumerate(hooks[0].effects):
                key = ratio_key(ratios)
                if key:
                    rows[s, j] = n + len(scaled)
                    scaled.append((s, base.scaled(dict(key))))
        return acting, rows, scaled

    def _deciding(self) -> np.ndarray:
        """The states whose first day asked for the bulk draw decides (one handler, `Deciding`)."""
        return np.array([len(hooks) == 1 and isinstance(hooks[0], Deciding) and hooks[0].deciding
                         for hooks in self.hooks_of], dtype=bool)

    def _decides_many(self, kind: np.ndarray, home: np.ndarray, rank: np.ndarray, who: np.ndarray, state: int,
                      day: np.ndarray) -> np.ndarray:
        """The decisions due in a deciding state (`Deciding.decides_many` of its one handler)."""
        handler = cast(Deciding, self.hooks_of[state][0])
        return handler.decides_many(who, kind[who], home[who], rank[who], state, day)

    def _acts_many(self, kind: np.ndarray, home: np.ndarray, rank: np.ndarray, who: np.ndarray, state: int,
                   day: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The acts due in an acting state (`Acting.acts_many` of its one handler)."""
        handler = cast(Acting, self.hooks_of[state][0])
        return handler.acts_many(who, kind[who], home[who], rank[who], state, day)

    def _left_many(self, who: np.ndarray, state: int, day: np.ndarray) -> None:
        """Citizens not yet made leave an acting state (`Acting.left_many` of its one handler)."""
        cast(Acting, self.hooks_of[state][0]).left_many(who, day)

    def _hand_over(self, handoffs: Handoffs, citizens: Citizens, draws: list[CohortDraws],
                   keys: list[tuple[int, int]]) -> None:
        """Make each citizen handed to the clock, in ident order, where the bulk draw left it: in its
        stay, its handlers asked again for what they found (`Referring.resume`), its drawn move as
        `_advance` would have it."""
        hooks = self.hooks_of
        for i, state, entered, elapsed, clock_done, drawn, day, dest, used in zip(
                handoffs.who.tolist(), handoffs.state.tolist(), handoffs.entered.tolist(),
                handoffs.elapsed.tolist(), handoffs.clock_done.tolist(), handoffs.drawn.tolist(),
                handoffs.day.tolist(), handoffs.dest.tolist(), handoffs.used.tolist(), strict=True):
            k = int(citizens.cohort[i])
            kind, home = keys[k]
            c = self._new_citizen(home, float(citizens.entered[i]), draws[k], int(citizens.rank[i]), kind, i)
            c.state, c.entered, c.used, c.clock_done = state, entered, used, clock_done
            c.wake, c.wakes, c.asked, c.acts, c.hold = math.inf, [], 0, [], -math.inf
            for handler in hooks[state]:
                cast(Referring, handler).resume(c)
            self._advance(c, 0.0, elapsed, (day, dest) if drawn else None)

    def _close_resting(self) -> None:
        """At the horizon: the last spell of each citizen on a benefit with no move left, to the spell
        hooks and the late features' book."""
        if self.resting is None:
            return
        late, book = self.late_of, self.late_book
        for c in self.resting.values():
            for hook in self.spell_hooks_of[c.state]:
                hook(c, c.state, c.entered, self.horizon)
            if late[c.state]:
                book.extend((c.ident, c.state, c.entered, self.horizon))

    def _record(self, n_initial: int) -> ReplicationRecord:
        """The replication's record from its ledger and features, once the horizon is run."""
        person_days, stock_end, flows = self.ledger.close()
        features: dict[str, np.ndarray] = {}
        for feature in self.features:
            features |= feature.close()
        spells = self.ledger if isinstance(self.ledger, SpellLedger) else None
        durations = spells.spells() if spells is not None and self.durations else None
        long_term = spells.long_term() if spells is not None and spells.min_weeks else None
        self.ledger.release()
        return ReplicationRecord(person_days, stock_end, flows, n_initial, self.n_events,
                                 self._spell_table(), features, durations, long_term)

    # --- what features see (sim.kernel.protocol.Run) ----------------------------------------

    def generator(self, *key: int) -> np.random.Generator:
        """A generator of the replication's stream keyed by `key`."""
        return self.streams.generator(*key)

    def feature(self, key: str) -> Feature | None:
        """The replication's feature registered under `key`, if it is open."""
        return self._by_key.get(key)

    def cohort_stream(self, keys: tuple[int, int], *purpose: int) -> CohortStream:
        """A feature's own pairs for every cohort (see `CohortStream`)."""
        return CohortStream(self.streams, self.model.codes, self.cohort_sizes, keys, purpose)

    def set_effect(self, c: Citizen, source: object, ratios: Ratios | None, now: float,
                   done: bool = False, until: Later | None = None) -> None:
        """The hook features use: `source`'s hazard ratios apply to the citizen from `now` (with `done`,
        and `done_with` said first; with `until`, and a time to come back: `Run.set_effect`)."""
        if c is self.acting:  # an act ahead of the clock: its move is drawn again once it is done
            if done or until is not None:
                raise RuntimeError("an act has no time asked for to be done with, and no time on the clock "
                                   "to come back to: it asks for further acts (`Run.act`)")
            if self.effects.set(c, source, ratios):
                if self.changed:
                    raise RuntimeError("an act changed a citizen's hazards twice: one act changes them at "
                                       "most once (ask for another act at the same day)")
                self.changed, self.changed_at = True, self.acts_asked
            return
        env = self.env
        if c.entered > env.now + TOLERANCE_DAYS:
            raise RuntimeError(f"a feature changed the hazards of a citizen whose stay starts on day "
                               f"{c.entered:.2f}, ahead of the clock (day {env.now:.2f}): a handler "
                               "that changes hazards must not declare `ahead`")
        released = done and self._release_time(c)  # said first: the move is drawn again once
        if until is not None:
            when = env.now + until[0]  # the day of the event, as the clock reckons it
            if c.hold <= env.now or when < c.hold:
                c.hold = when  # the earliest such time to come in the stay
        if self.effects.set(c, source, ratios):
            self._redraw(c, now)
        elif released:
            self._book_ahead(c)
        if until is not None:
            days, act, value = until
            Timeout(env, days, value).callbacks.append(partial(self._later, c, c.entered, act))

    def wake(self, c: Citizen, at: float, callback: Callable[[simpy.Event], None], value: Any) -> None:
        """`callback` at day `at` if the citizen is still in its stay then (see `Run.wake`)."""
        if at < c.wake:
            c.wake = at
        c.asked += 1
        if c.wakes is not None:
            c.wakes.append((at, callback, value))
        else:
            Timeout(self.env, at - self.env.now, value).callbacks.extend(
                (callback, partial(self._woken, c, c.entered)))

    def act(self, c: Citizen, at: float, act: Act, value: Any) -> None:
        """`act(c, day, value)` at day `at` if the citizen is still in its stay then (see `Run.act`): done
        ahead of the clock as the citizen's moves are drawn, else a time asked for (`_acted`)."""
        acts = c.acts
        if acts is not None:
            self.acts_asked += 1
            heappush(acts, (at, self.acts_asked, act, value))
        else:
            self._act_on_clock(c, at, act, value)

    def _act_on_clock(self, c: Citizen, at: float, act: Act, value: Any) -> None:
        """The act as a time asked for in the citizen's stay, done as the clock reaches it (`_acted`)."""
        self.wake(c, at, partial(self._acted, c, c.entered, act), value)

    def _later(self, c: Citizen, stay: float, act: Act, ev: simpy.Event) -> None:
        """A time of `set_effect`'s `until`: the act, if the citizen is still in the stay that began on
        day `stay`; then a move held for it, if it still stands and comes before any such time still
        to come, goes on the clock in its place."""
        if c.entered != stay:
            return
        act(c, self.env.now, ev.value)
        held = c.pending
        if type(held) is Held and c.entered == stay and not self.env.now < c.hold < held.when:
            ev = self.env.put(held, c)
            ev.callbacks.append(self.on_move)
            c.pending = ev

    def _acted(self, c: Citizen, stay: float, act: Act, ev: simpy.Event) -> None:
        """An act on the clock, if the citizen is still in the stay that began on day `stay`; then the
        time asked for it is done with."""
        if c.entered == stay:
            act(c, self.env.now, ev.value)
            self.done_with(c)

    def _do_acts(self, c: Citizen, acts: list[tuple[float, int, Act, Any]], by: float,
                 mark: int) -> float | None:
        """Do the stay's acts due before the drawn move on day `by` (or the horizon), on that day those
        asked for by `mark` (before the move was drawn), and before any time asked for: the day of the
        first that changes the citizen's hazards (the move is drawn again from then), or None when
        the drawn move stands."""
        first, horizon = c.wake, self.horizon
        while acts and (acts[0][0] < by or (acts[0][0] == by and acts[0][1] <= mark)) and acts[0][0] < first \
                and acts[0][0] < horizon:
            day, _, act, value = heappop(acts)
            self.acting, self.changed = c, False
            try:
                act(c, day, value)
            finally:
                self.acting = None
            if self.changed:
                return day
        return None

    def _acts_on_clock(self, c: Citizen, move: float = math.inf, mark: int = -1) -> list[Any]:
        """The stay's acts not done ahead of the clock become times asked for, done as the clock
        reaches them: those before the citizen's move on day `move` (drawn when `mark` acts had been
        asked for) now; those after it are returned, to be asked for once the move is on the clock."""
        acts, c.acts = c.acts, None
        after = []
        if acts:
            for at, seq, act, value in sorted(acts, key=lambda a: (a[0], a[1])):
                if at > move or (at == move and seq > mark):
                    after.append((at, seq, act, value))
                else:
                    self._act_on_clock(c, at, act, value)
        return after

    def _acts_after(self, c: Citizen, after: list[Any]) -> None:
        """Ask for the acts that come after the citizen's move, now on the clock (`_acts_on_clock`)."""
        for at, _, act, value in after:
            self._act_on_clock(c, at, act, value)

    def _woken(self, c: Citizen, stay: float, _: simpy.Event) -> None:
        """After a time asked for in the stay that began on day `stay`: a move of that stay left off
        the clock until then, if it still stands, goes on it."""
        if c.pending is DEFERRED and c.entered == stay:
            env = self.env
            ev = Timeout(env, c.entered + c.next_elapsed - env.now, c)
            ev.callbacks.append(self.on_move)
            c.pending = ev

    def done_with(self, c: Citizen) -> None:
        """A feature is done with a time it asked for in the citizen's stay (see `Run.done_with`):
        when none is left and its pending move may be told ahead of the clock, that move and the
        ones after it are booked now, as before the first time asked for."""
        if self._release_time(c):
            self._book_ahead(c)

    def _release_time(self, c: Citizen) -> bool:
        """One time asked for in the citizen's stay is done with: whether none is left and its moves may
        again be booked ahead of the clock."""
        c.asked -= 1
        if c.asked > 0 or not self.ahead_of[c.state]:
            return False
        c.wake = math.inf
        return True

    def _book_ahead(self, c: Citizen) -> None:
        """The citizen's pending move and those after it booked now, where they may be told ahead."""
        dest = c.next_dest
        if c.pending is None or not (dest == STAY_HERE or self.ahead_of[dest]):
            return
        c.pending = None  # the event, when it fires, is stale
        self._advance(c, self.env.now, drawn=(c.next_elapsed, dest))

    @staticmethod
    def _enter(c: Citizen, handlers: tuple[Handler, ...], now: float) -> None:
        """Tell the state's handlers that the citizen entered it at `now`: a new stay, with no day
        asked for yet (the last stay's, if never scheduled, are dropped); those they ask for now wait
        for the citizen's next move to be drawn."""
        c.wake, c.wakes, c.asked, c.acts, c.hold = math.inf, None, 0, None, -math.inf
        if handlers:
            c.wakes, c.acts = [], []
            for handler in handlers:
                handler.entered(c, now)

    def _schedule_wakes(self, c: Citizen) -> None:
        """The times features asked for during `entered`: the citizen is still there, so now events."""
        wakes, c.wakes = c.wakes, None
        if wakes:
            env, woken = self.env, partial(self._woken, c, c.entered)
            for at, callback, value in wakes:
                Timeout(env, at - env.now, value).callbacks.extend((callback, woken))

    def _redraw(self, c: Citizen, now: float) -> None:
        """The citizen's hazards changed at `now`: draw its next exit again, exactly."""
        elapsed = now - c.entered
        if abs(elapsed - c.clock_done) < TOLERANCE_DAYS:
            elapsed = c.clock_done  # it stayed through a clock at this instant: that clock is done
        c.pending = None
        self._advance(c, now, elapsed)

    def _new_citizen(self, state: int, entered: float, draws: CohortDraws, rank: int, kind: int,
                     ident: int = -1) -> Citizen:
        """A citizen who came in through `state` on `entered` (ident: the next, or as the bulk draw
        numbered it), its traits drawn and admitted by the features."""
        if ident < 0:
            ident = self.n_citizens
            self.n_citizens += 1
        c = Citizen(ident, state, entered, draws, rank, self.cohorts[kind][state], self.n_slots)
        self.n_made += 1
        if self.alive is not None:
            self.alive[c.ident] = c
        if self.traits[state]:
            draw_traits(self.model, c, self.trait_draws(c))
        for admit in self.admits:
            admit(c)
        return c

    def _stock_elapsed(self, state: int, n: int) -> np.ndarray:
        """Days in `state` before day 0 of its n citizens of the initial stock: from the scenario's
        bands, else from the steady state of the state's routes."""
        rng = self.streams.generator(INITIAL, state_key(self.model.codes[state]))
        bands = self.model.initial_bands[state]
        if bands is not None:
            pick = rng.choice(len(bands.shares), size=n, p=bands.shares / bands.shares.sum())
            return np.asarray(bands.lo[pick] + rng.random(n) * (bands.hi[pick] - bands.lo[pick]))
        schedule = self.model.schedules[state]
        assert schedule is not None  # the loader refuses a stock with no way out
        u = rng.random((2, n))
        return schedule.stationary_elapsed_many(u[0], u[1])

    def _seed_initial_stock(self) -> int:
        total = 0
        for state, n in enumerate(self.model.initial):
            if n == 0:
                continue
            code = self.model.codes[state]
            elapsed = self._stock_elapsed(state, n).tolist()
            self.ledger.stock(state, n, elapsed)
            for feature in self.features:
                feature.stock(state, n)
            draws = self.streams.cohort(INITIAL_PATHS, code, n)
            hooks, new_citizen, advance, enter = (self.hooks_of[state], self._new_citizen, self._advance,
                                                  self._enter)
            for rank, e in enumerate(elapsed):
                c = new_citizen(state, -e, draws, rank, STOCK)
                if hooks:
                    enter(c, hooks, 0.0)
                advance(c, 0.0, e)
            total += n
        return total

    def _arrivals(self, times: list[float], states: list[int], ranks: list[int]) -> None:
        """The horizon's arrivals, in time order: SimPy events, or all at once before the clock
        starts when every handler of every state may hear of them ahead of it (`Handler.ahead`)."""
        env, ledger, codes = self.env, self.ledger, self.model.codes
        counts = np.bincount(states, minlength=self.model.n_states)
        self.cohort_sizes |= {(ARRIVED, s): int(n) for s, n in enumerate(counts) if n}
        draws = [self.streams.cohort(ARRIVAL_PATHS, codes[s], int(n)) for s, n in enumerate(counts)]
        hooks, book_arrival = self.hooks_of, ledger.arrive
        new_citizen, advance, enter = self._new_citizen, self._advance, self._enter

        def place(now: float, state: int, rank: int) -> None:
            book_arrival(state, now)
            self.n_events += 1
            c = new_citizen(state, now, draws[state], rank, ARRIVED)
            if hooks[state]:
                enter(c, hooks[state], now)
            advance(c, now)

        if all(self.ahead_of):
            for now, state, rank in zip(times, states, ranks, strict=True):
                place(now, state, rank)
            return
        position = [0]

        def arrive(_: simpy.Event) -> None:
            i = position[0]
            now = env.now
            place(now, states[i], ranks[i])
            i += 1
            position[0] = i
            if i < len(times):
                Timeout(env, times[i] - now).callbacks.append(arrive)

        Timeout(self.env, times[0]).callbacks.append(arrive)

    def _advance(self, c: Citizen, now: float, elapsed: float = 0.0,
                 drawn: tuple[float, int] | None = None) -> None:
        """Draw the citizen's moves from `now`, `elapsed` days into its stay (the first already
        `drawn`, as days in the stay and destination, when a pending move is booked after all).

        Moves no feature watches are booked at once, and so are watched moves that every handler
        may hear of ahead of the clock, before the first time a feature acts on the citizen; the
        first other one is scheduled, after the times the handlers asked for. The time in the
        state is carried, not recomputed from dates, so a clock that keeps the citizen is never
        struck twice through rounding.
        """
        (schedules, watched, horizon, move, spells, hooks, resting, movers, ahead, handlers, late,
         late_book) = self.advancing
        if resting is not None:
            resting.pop(c.ident, None)
        if self.n_events > self.event_budget:
            self._over_budget(f"{self.n_events:,} moves, more than the budget of {self.event_budget:,} "
                              f"for this scenario's expected citizens over its horizon")
        draws = c.draws
        assert draws is not None
        state, entered, rank, tiers, used = c.state, c.entered, c.rank, draws.tiers, c.used
        stop = used + self.max_moves  # a pair is drawn a step: the guard against a path without end
        nxt: tuple[float, int] | None
        since = -1  # after a change of hazards by an act: the acts asked for before the move is drawn again
        mark = -1  # the acts asked for before the drawn move (read only while the stay has acts)
        while True:
            if drawn is not None:
                nxt, drawn = drawn, None
            else:
                schedule = schedules[state]
                if schedule is None:  # no way out: only acts may be left to do
                    nxt = None
                    if not c.acts:
                        break
                else:
                    if c.effect is not None:
                        schedule = self._scaled_schedule(state, c.effect)
                    if movers[state]:
                        days = schedule.clock_days
                        for move_clocks in movers[state]:
                            days = move_clocks(c, state, entered, days)
                        if days != schedule.clock_days:
                            schedule = schedule.with_clock_days(days)
                    if used < len(tiers):  # `draws.pair(rank, used)`, inlined
                        tier, i = tiers[used], rank + rank
                        e, u = tier[i], tier[i + 1]
                    else:
                        e, u = draws.pair(rank, used)
                    used += 1
                    nxt = schedule.next_exit(elapsed, e, u)
            acts = c.acts
            if acts:  # acts are asked for only before a draw (`entered`) or by acts done here
                mark, since = (self.acts_asked if since < 0 else since), -1
                by = entered + nxt[0] if nxt is not None else horizon
                if ahead[state] and (acts[0][0] < by or (acts[0][0] == by and acts[0][1] <= mark)):
                    c.state, c.entered, c.used = state, entered, used  # acts due before the move: done now
                    day = self._do_acts(c, acts, by, mark)
                    if day is not None:  # the act changed the hazards: the move is drawn again from its day
                        elapsed = day - entered
                        if abs(elapsed - c.clock_done) < TOLERANCE_DAYS:
                            elapsed = c.clock_done
                        since = self.changed_at
                        continue
            if nxt is None:
                break
            at = entered + nxt[0]
            if at >= horizon:
                break
            dest = nxt[1]
            seen = state in watched or dest in watched
            told = seen and ahead[state] and (dest == STAY_HERE or ahead[dest])  # may go ahead of the clock
            if seen and not (told and at < c.wake):
                c.state, c.entered, c.next_dest, c.next_elapsed, c.used = state, entered, dest, nxt[0], used
                after = self._acts_on_clock(c, at, mark) if c.acts is not None else None
                if c.wakes is not None:
                    self._schedule_wakes(c)
                env = self.env
                if told and c.wake > env.now and not (after and after[0][0] == at):
                    c.pending = DEFERRED  # a time asked for comes first; it may move the citizen otherwise
                    if after:
                        self._acts_after(c, after)
                    return
                delay = at - env.now
                if env.now < c.hold < env.now + delay:  # a change of hazards may come first
                    c.pending = env.hold(delay)
                else:
                    ev = Timeout(env, delay, c)
                    ev.callbacks.append(self.on_move)
                    c.pending = ev
                if after:
                    self._acts_after(c, after)
                return
            # booked now; a watched one as `_on_move` would at `at`, its handlers told ahead of the clock
            if dest == STAY_HERE:
                elapsed = nxt[0]
                if seen:
                    self.n_events += 1
                    c.clock_done = elapsed
            else:
                self.n_events += 1
                if seen:
                    c.state, c.entered = state, entered
                    for handler in handlers[state]:
                        handler.left(c, at)
                    c.effect = c.effects = None  # effects end with the stay (EffectBook.clear)
                move(state, dest, at, entered)
                if spells is not None:
                    spells.append((c.ident, state, entered, at, dest))
                for hook in hooks[state]:
                    hook(c, state, entered, at)
                if late[state]:
                    late_book.extend((c.ident, state, entered, at))
                state, entered, elapsed, since = dest, at, 0.0, -1
                if seen:  # `_enter`, inlined
                    c.state, c.entered, c.clock_done = dest, at, -1.0
                    c.wake, c.wakes, c.asked, c.acts, c.hold = math.inf, None, 0, None, -math.inf
                    entering = handlers[dest]
                    if entering:
                        c.wakes, c.acts = [], []
                        for handler in entering:
                            handler.entered(c, at)
            if used >= stop:
                self._over_budget(f"one citizen made more than {self.max_moves:,} moves in a row, last in "
                                  f"{self.model.codes[state]!r}")

        c.state, c.entered, c.pending, c.used = state, entered, None, used
        if c.acts is not None:
            self._acts_on_clock(c)
        if c.wakes is not None:
            self._schedule_wakes(c)
        if resting is not None and state < self.model.n_benefit:
            resting[c.ident] = c

    def _over_budget(self, what: str, busiest: list[tuple[int, int, int]] | None = None) -> NoReturn:
        """Stop the replication: its moves would not end (the states that moved most are named)."""
        busiest = self.ledger.busiest(3) if busiest is None else busiest
        pairs = ", ".join(f"{self.model.codes[a]} → {self.model.codes[b]} ({n:,})" for a, b, n in busiest)
        raise EventBudgetExceeded(
            f"the simulation stopped: {what} ({MOVES_PER_CITIZEN_YEAR:,} a citizen-year). Most moves: "
            f"{pairs}. A clock of a few hours or a rate of thousands a week between these states "
            "makes moves without end; check their routes")

    def _on_move(self, ev: simpy.Event) -> None:
        c = cast(Citizen, ev.value)
        if c.pending is not ev:
            return  # superseded by a redraw
        now = self.env.now
        if c.next_dest == STAY_HERE:
            self.n_events += 1
            c.clock_done = c.next_elapsed
            self._advance(c, now, c.next_elapsed)
            return
        hooks = self.hooks_of
        for handler in hooks[c.state]:
            handler.left(c, now)
        EffectBook.clear(c)  # effects end with the stay in the state they were given in
        origin, dest, entered = c.state, c.next_dest, c.entered
        self.n_events += 1
        self.book_move(origin, dest, now, entered)
        if self.spells is not None:
            self.spells.append((c.ident, origin, entered, now, dest))
        for hook in self.spell_hooks_of[origin]:
            hook(c, origin, entered, now)
        if self.late_of[origin]:
            self.late_book.extend((c.ident, origin, entered, now))
        c.state, c.entered, c.clock_done = dest, now, -1.0
        self._enter(c, hooks[dest], now)
        self._advance(c, now)

    def _scaled_schedule(self, state: int, ratios: dict[int, float]) -> ExitSchedule:
        key = (state, id(ratios))
        found = self.scaled.get(key)
        if found is None:
            base = self.model.schedules[state]
            assert base is not None
            found = self.scaled[key] = base.scaled(ratios)
        return found

    def _spell_table(self) -> pd.DataFrame | None:
        if self.spells is None or self.alive is None:
            return None
        n_benefit = self.model.n_benefit
        rows = list(self.spells)
        rows += [(c.ident, c.state, c.entered, self.horizon, -1)
                 for c in self.alive.values() if c.state < n_benefit]
        codes = self.model.codes
        table = pd.DataFrame(rows, columns=["id", "state", "start_day", "end_day", "to"])
        table = table[table["state"] < n_benefit].copy()
        table["state"] = [codes[s] for s in table["state"]]
        table["to"] = [codes[d] if d >= 0 else None for d in table["to"]]
        return table.sort_values(["id", "start_day"], ignore_index=True)


def simulate(model: Model, seed: np.random.SeedSequence, record_spells: bool = False,
             fast_forward: bool = True, bulk: bool = True, ahead: bool = True) -> ReplicationRecord:
    """Run one replication of `model` from its seed sequence (`bulk=False`: never all paths at once;
    `ahead=False`: every watched move an event)."""
    return Replication(model, seed, record_spells, fast_forward, bulk, ahead).run()
