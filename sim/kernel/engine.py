"""One replication on SimPy's event loop: arrivals, exact hazard-driven moves, the ledger.

Arrivals are SimPy events in time order. From each arrival the citizen's moves are drawn
exactly from its state's hazards; moves that no feature watches (see `Model.watched`) are
booked at once, and the first move that a feature must see becomes the citizen's one pending
event (a Timeout with a callback, never a generator process). Nothing past the horizon is
scheduled; random numbers come in blocks. `fast_forward=False` makes every move an event:
the plain DES, kept as the reference the fast path is tested against.
"""

from __future__ import annotations

import bisect
import math

import numpy as np
import pandas as pd
import simpy
from simpy.events import Timeout

from sim.features.caseworkers import CaseworkerTeam
from sim.features.programmes import Programme
from sim.features.support import SupportBook
from sim.kernel.citizen import Citizen
from sim.kernel.effects import EffectBook
from sim.kernel.hazards import STAY_HERE, ExitSchedule
from sim.kernel.inflows import draw_arrivals
from sim.kernel.ledger import Ledger, SpellLedger
from sim.kernel.model import Model
from sim.kernel.records import ReplicationRecord, books_durations, min_weeks_of
from sim.kernel.streams import (
    ARRIVAL_DECISIONS,
    ARRIVAL_PATHS,
    ARRIVAL_TEAMS,
    INITIAL,
    INITIAL_DECISIONS,
    INITIAL_PATHS,
    INITIAL_TEAMS,
    PROGRAMME_EFFECTS,
    CohortDraws,
    Streams,
    state_key,
)

YEAR_DAYS = 365.25


class Replication:
    """The state of one running replication."""

    def __init__(self, model: Model, seed: np.random.SeedSequence, record_spells: bool = False,
                 fast_forward: bool = True, record_entries_after: float | None = None) -> None:
        self.model = model
        self.streams = Streams(seed)
        self.env = simpy.Environment()
        self.durations, min_weeks = books_durations(model.scenario), min_weeks_of(model.scenario)
        self.ledger = (SpellLedger(model.calendar, model.n_states, min_weeks) if self.durations or min_weeks
                       else Ledger(model.calendar, model.n_states))  # spells only when a target asks
        self.horizon = model.calendar.horizon
        self.effects = EffectBook()
        self.programmes = self._open_programmes()
        index = {code: i for i, code in enumerate(model.codes)}
        self.teams = [CaseworkerTeam(spec, index, self.env, model.calendar, self.set_effect)
                      for spec in model.scenario.caseworkers]
        self.hooks: dict[int, list[Programme | CaseworkerTeam]] = {}
        features: list[Programme | CaseworkerTeam] = [*self.programmes, *self.teams]
        for feature in features:
            for state in feature.states:
                self.hooks.setdefault(state, []).append(feature)
        self.decides = bool(self.programmes or self.teams)
        watched = model.watched | frozenset(self.hooks)
        self.watched = watched if fast_forward else frozenset(range(model.n_states))
        self.scaled: dict[tuple[int, int], ExitSchedule] = {}
        self.n_events = 0
        self.n_citizens = 0
        self.spells: list[tuple[int, int, float, float, int]] | None = [] if record_spells else None
        self.alive: dict[int, Citizen] | None = {} if record_spells else None
        self.book = (SupportBook(model.economics, model.calendar, model.n_benefit, record_entries_after)
                     if model.economics is not None else None)
        self.resting: dict[int, Citizen] = {}
        """With economics: citizens on a benefit with no further move in the horizon, whose last
        spell the support book closes at the end (a later redraw may still move them)."""

    def run(self) -> ReplicationRecord:
        """Simulate the horizon and return the replication's record."""
        n_initial = self._seed_initial_stock()
        times, states, ranks = draw_arrivals(self.model, self.streams)
        if times:
            self._arrival_chain(times, states, ranks)
        self.env.run(until=self.horizon)
        if self.book is not None:
            for c in self.resting.values():
                self.book.closed(c, c.state, c.entered, self.horizon)
        person_days, stock_end, flows = self.ledger.close()
        programmes = np.stack([p.close() for p in self.programmes]) if self.programmes else None
        teams = np.stack([t.close() for t in self.teams]) if self.teams else None
        spells = self.ledger if isinstance(self.ledger, SpellLedger) else None
        durations = spells.spells() if spells is not None and self.durations else None
        long_term = spells.long_term() if spells is not None and spells.min_weeks else None
        return ReplicationRecord(person_days, stock_end, flows, n_initial, self.n_events,
                                 self._spell_table(), self.book.close() if self.book else None, programmes,
                                 teams, durations, long_term)

    def _open_programmes(self) -> list[Programme]:
        """The scenario's interventions, each with its effect factor for this replication."""
        index = {code: i for i, code in enumerate(self.model.codes)}
        out = []
        for k, spec in enumerate(self.model.scenario.interventions):
            factor = 1.0
            if spec.uncertainty is not None:
                rng = self.streams.generator(PROGRAMME_EFFECTS, k)
                factor = float(np.exp(rng.normal(0.0, spec.uncertainty.log_sd)))
            clocks = {index[code]: sched.clock_days[0] for code in spec.states
                      if (sched := self.model.schedules[index[code]]) is not None and sched.clock_days}
            out.append(Programme(spec, index, self.env, self.model.calendar, self.set_effect, factor, clocks))
        return out

    def set_effect(self, c: Citizen, source: object, ratios: dict[int, float] | None, now: float) -> None:
        """The hook features use: `source`'s hazard ratios apply to the citizen from `now`."""
        if self.effects.set(c, source, ratios):
            self._redraw(c, now)

    def _redraw(self, c: Citizen, now: float) -> None:
        """The citizen's hazards changed at `now`: draw its next exit again, exactly."""
        elapsed = now - c.entered
        if abs(elapsed - c.clock_done) < 1e-6:
            elapsed = c.clock_done  # it stayed through a clock at this instant: that clock is done
        c.pending = None
        self._advance(c, now, elapsed)

    def _new_citizen(self, state: int, entered: float, draws: CohortDraws, rank: int,
                     decisions: CohortDraws | None = None, team_draws: CohortDraws | None = None) -> Citizen:
        c = Citizen(self.n_citizens, state, entered, draws, rank)
        self.n_citizens += 1
        if self.alive is not None:
            self.alive[c.ident] = c
        if decisions is not None or team_draws is not None:
            c.programme_draws = decisions
            c.team_draws = team_draws
            if decisions is not None:
                self._draw_traits(c, state, entered, decisions)
        return c

    def _draw_traits(self, c: Citizen, state: int, entered: float, decisions: CohortDraws) -> None:
        """Age and attribute values from the scenario's bands, from the citizen's own stream."""
        ages = self.model.ages[state] if self.model.ages else None
        if ages is not None:
            e, u = decisions.pair(c.rank, c.programme_used)
            c.programme_used += 1
            cum = np.cumsum(ages.shares) / ages.shares.sum()
            band = min(int(np.searchsorted(cum, -math.expm1(-e), side="right")), len(cum) - 1)
            age = ages.lo[band] + u * (ages.hi[band] - ages.lo[band])
            c.born = max(entered, 0.0) - age * YEAR_DAYS
        attributes = self.model.attributes[state] if self.model.attributes else None
        if attributes:
            c.attrs = {}
            for name, (values, cum_shares) in attributes.items():
                _, u = decisions.pair(c.rank, c.programme_used)
                c.programme_used += 1
                c.attrs[name] = values[min(bisect.bisect_right(cum_shares, u), len(values) - 1)]

    def _seed_initial_stock(self) -> int:
        total = 0
        for state, n in enumerate(self.model.initial):
            if n == 0:
                continue
            code = self.model.codes[state]
            rng = self.streams.generator(INITIAL, state_key(code))
            bands = self.model.initial_bands[state]
            if bands is not None:
                pick = rng.choice(len(bands.shares), size=n, p=bands.shares / bands.shares.sum())
                elapsed = (bands.lo[pick] + rng.random(n) * (bands.hi[pick] - bands.lo[pick])).tolist()
            else:
                schedule = self.model.schedules[state]
                assert schedule is not None  # the loader refuses a stock with no way out
                u = rng.random((2, n))
                elapsed = schedule.stationary_elapsed_many(u[0], u[1]).tolist()
            self.ledger.stock(state, n, elapsed)
            prior = self._prior_support(state, n, rng)
            draws = self.streams.cohort(INITIAL_PATHS, code, n)
            decisions = self.streams.cohort(INITIAL_DECISIONS, code, n) if self.decides else None
            team_draws = self.streams.cohort(INITIAL_TEAMS, code, n) if self.teams else None
            for rank, (e, p) in enumerate(zip(elapsed, prior, strict=True)):
                c = self._new_citizen(state, -e, draws, rank, decisions, team_draws)
                for feature in self.hooks.get(state, ()):
                    feature.entered(c, 0.0)
                c.support = p
                self._advance(c, 0.0, e)
            total += n
        return total

    def _prior_support(self, state: int, n: int, rng: np.random.Generator) -> list[float]:
        """Days on public support before the current spell, for n initial citizens of `state`."""
        econ, seen = self.model.economics, self.model.entry_history
        if econ is None:
            return [0.0] * n
        bands = econ.initial_history[state]
        if bands is not None:
            lo, hi, shares = bands
            pick = rng.choice(len(shares), size=n, p=shares / shares.sum())
            return (lo[pick] + rng.random(n) * (hi[pick] - lo[pick])).tolist()
        entries = seen[state] if seen is not None else None
        if entries is not None:
            return rng.choice(entries, size=n).tolist()
        return [0.0] * n

    def _arrival_chain(self, times: list[float], states: list[int], ranks: list[int]) -> None:
        env, ledger, codes = self.env, self.ledger, self.model.codes
        counts = np.bincount(states, minlength=self.model.n_states)
        draws = [self.streams.cohort(ARRIVAL_PATHS, codes[s], int(n)) for s, n in enumerate(counts)]
        decisions = [self.streams.cohort(ARRIVAL_DECISIONS, codes[s], int(n)) if self.decides else None
                     for s, n in enumerate(counts)]
        team_draws = [self.streams.cohort(ARRIVAL_TEAMS, codes[s], int(n)) if self.teams else None
                      for s, n in enumerate(counts)]
        hooks = self.hooks
        position = [0]

        def arrive(_: simpy.Event) -> None:
            i = position[0]
            now = env.now
            state, rank = states[i], ranks[i]
            ledger.arrive(state, now)
            self.n_events += 1
            c = self._new_citizen(state, now, draws[state], rank, decisions[state], team_draws[state])
            for feature in hooks.get(state, ()):
                feature.entered(c, now)
            self._advance(c, now)
            i += 1
            position[0] = i
            if i < len(times):
                Timeout(env, times[i] - now).callbacks.append(arrive)

        Timeout(self.env, times[0]).callbacks.append(arrive)

    def _advance(self, c: Citizen, now: float, elapsed: float = 0.0) -> None:
        """Draw the citizen's moves from `now`, `elapsed` days into its stay.

        Moves no feature watches are booked at once; the first watched one is scheduled. The
        time in the state is carried, not recomputed from dates, so a clock that keeps the
        citizen is never struck twice through rounding.
        """
        schedules, watched, horizon = self.model.schedules, self.watched, self.horizon
        move, spells, book = self.ledger.move, self.spells, self.book
        if book is not None:
            self.resting.pop(c.ident, None)
        assert c.draws is not None
        state, entered, pair = c.state, c.entered, c.draws.pair
        while True:
            schedule = schedules[state]
            if schedule is None:
                break
            if c.effect is not None:
                schedule = self._scaled_schedule(state, c.effect)
            e, u = pair(c.rank, c.used)
            c.used += 1
            nxt = schedule.next_exit(elapsed, e, u)
            if nxt is None:
                break
            at = entered + nxt[0]
            if at >= horizon:
                break
            dest = nxt[1]
            if state in watched or dest in watched:
                c.state, c.entered, c.next_dest, c.next_elapsed = state, entered, dest, nxt[0]
                ev = Timeout(self.env, at - self.env.now, c)
                ev.callbacks.append(self._on_move)
                c.pending = ev
                return
            if dest == STAY_HERE:
                elapsed = nxt[0]
            else:
                self.n_events += 1
                move(state, dest, at, entered)
                if spells is not None:
                    spells.append((c.ident, state, entered, at, dest))
                if book is not None:
                    book.closed(c, state, entered, at)
                state, entered, elapsed = dest, at, 0.0

        c.state, c.entered, c.pending = state, entered, None
        if book is not None and state < self.model.n_benefit:
            self.resting[c.ident] = c

    def _book(self, c: Citizen, dest: int, day: float) -> None:
        self.n_events += 1
        self.ledger.move(c.state, dest, day, c.entered)
        if self.spells is not None:
            self.spells.append((c.ident, c.state, c.entered, day, dest))
        if self.book is not None:
            self.book.closed(c, c.state, c.entered, day)
        c.state = dest
        c.entered = day

    def _on_move(self, ev: simpy.Event) -> None:
        c: Citizen = ev._value
        if c.pending is not ev:
            return  # superseded by a redraw
        now = self.env.now
        if c.next_dest == STAY_HERE:
            self.n_events += 1
            c.clock_done = c.next_elapsed
            self._advance(c, now, c.next_elapsed)
            return
        origin = c.state
        for feature in self.hooks.get(origin, ()):
            feature.left(c, now)
        EffectBook.clear(c)  # effects end with the stay in the state they were given in
        self._book(c, c.next_dest, now)
        c.clock_done = -1.0
        for feature in self.hooks.get(c.state, ()):
            feature.entered(c, now)
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
             fast_forward: bool = True) -> ReplicationRecord:
    """Run one replication of `model` from its seed sequence."""
    return Replication(model, seed, record_spells, fast_forward).run()
