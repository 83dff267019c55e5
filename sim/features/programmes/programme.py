"""Interventions in one replication: SimPy resources with a queue, referrals, uptake and effects.

A programme watches its eligible states: the engine tells it when a citizen enters or leaves
one. Referrals come at a week in the state, on entry, or at a rate; a referral that is taken up
asks for a place (a SimPy Resource, FIFO: a request with two callbacks, the grant and the
end of its patience, rather than a process per waiting citizen), waits at most
`max_wait_weeks`, and a citizen who
gets one participates for the programme's duration with the `during` hazard ratios (lock-in),
then has the `after` ratios for `after_weeks`. Each change of ratios redraws the citizen's next
exit exactly. A citizen who leaves the state leaves the queue or the programme. Decisions draw
from the citizen's own programme stream, so a programme leaves other citizens' paths untouched.
A programme with no limit on its places shares nothing between citizens: its referral, start,
end and after-effect are acts on the one citizen (`Run.act`), done as the kernel draws the
citizen's moves, with no event on the clock. With places, a referral is still taken up or
declined by the citizen alone (`decides_many`, as the kernel draws the paths): only a citizen who
takes it up is made, to queue for a place on the clock.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, cast

import numpy as np
import simpy
from simpy.events import Timeout

from sim.contract.calendar import Calendar
from sim.contract.intervention_spec import Intervention
from sim.contract.schema import Scenario
from sim.kernel.citizen import Citizen
from sim.kernel.effects import ratio_key
from sim.kernel.ledger import MonthTally, interval_person_days
from sim.kernel.protocol import AskAct, DoneWith, Feature, Run, SetEffect, Wake
from sim.kernel.streams import (
    ARRIVAL_DECISIONS,
    INITIAL_DECISIONS,
    PROGRAMME_EFFECTS,
    TIERS,
    CohortDraws,
    CohortStream,
    state_key,
)
from sim.kernel.timebase import TOLERANCE_DAYS, YEAR_DAYS

KEY = "interventions"
RECORD = "programmes"
"""The record's array: [programme, measure (MEASURES), month]."""

MEASURES = ("participants", "queued", "referrals", "starts", "lapsed", "declined", "wait_days", "cost_dkk")
"""Per programme and month: average participants and queue length (person-days ÷ days), counts
of referrals, starts, lapsed and declined referrals, days waited by those who started, and DKK."""
PARTICIPANTS, QUEUED, REFERRALS, STARTS, LAPSED, DECLINED, WAIT, COST = range(len(MEASURES))
AT_WEEK, RATE, AT_CLOCK, ON_ENTRY = range(4)
NONE, DURING, AFTER = range(3)
"""The ratios a programme puts in force, by index (`Programme.effects`)."""
REFERRAL, PLACED, AFTERWARDS, DONE = range(4)
"""Where a stay of a citizen not yet made stands: referral to come, in its place, after-effect to end,
nothing left to do."""
REFERRALS_BY_NAME = {"at_week": AT_WEEK, "rate": RATE, "at_clock": AT_CLOCK, "on_entry": ON_ENTRY}
"""The referral kinds (`Intervention.referral`) as the hot path compares them."""



class Participation:
    """A citizen's programme history: per programme its own decision stream and draws used so
    far, its queues and places, and its last offer."""

    __slots__ = ("draws", "last_offer", "places", "used")

    def __init__(self, n_programmes: int) -> None:
        self.draws: list[CohortDraws | None] = [None] * n_programmes  # pair(rank, used[k])
        self.used = [0] * n_programmes
        self.places: dict[int, tuple[str, Any, float]] = {}  # programme → (queued or participating,
        # its SimPy request, since)
        self.last_offer = -math.inf  # day the last programme (an active offer) started


class Programme:
    """One intervention during one replication."""

    ahead = True
    """`entered` only asks for the referral's day (`Run.wake`), and `left` acts only on a citizen
    in the queue or the programme, who got there at a referral, on the clock: the kernel may
    tell it of a move ahead of the clock (`Handler.ahead`). Once a referral has come to nothing,
    or the place and its effects are over, the programme is done with the citizen's stay
    (`Run.done_with`). With no limit on places (`own`), every step is an act (`Run.act`)."""

    def __init__(self, spec: Intervention, index: dict[str, int], env: simpy.Environment, calendar: Calendar,
                 set_effect: SetEffect, wake: Wake, done_with: DoneWith, act: AskAct, slot: int,
                 stream: CohortStream,
                 k: int, n_programmes: int, effect_factor: float = 1.0,
                 clock_days: dict[int, float] | None = None, n_states: int = 0) -> None:
        self.spec = spec
        self.slot = slot  # the citizen's Participation is ext[slot]
        self.stream = stream  # the citizen's decision stream for this programme
        self.k = k  # its index among the replication's programmes
        self.n_programmes = n_programmes
        self.env = env
        self.states = frozenset(index[s] for s in spec.states)
        self.resource = simpy.Resource(env, capacity=spec.places) if spec.places else None
        self.own = self.resource is None
        """Whether every step touches only its own citizen (no places to share): acts, not events."""
        self.during = self._ratios(spec.effects.during, index, effect_factor)
        self.after = self._ratios(spec.effects.after, index, effect_factor)
        self.calendar = calendar
        self.set_effect = set_effect
        self.wake = wake
        self.done_with = done_with
        self.act = act
        self.clock_days = clock_days or {}  # the first forced clock of each eligible state, in days
        self.horizon = calendar.horizon
        self.referral = REFERRALS_BY_NAME[spec.referral]
        self.from_days = spec.from_week * 7.0
        self.to_days = spec.to_week * 7.0 if spec.to_week is not None else math.inf
        self.attributes = tuple(spec.attributes.items())
        self.place = id(self)  # its key in a citizen's Participation.places
        self.tally = MonthTally(calendar, len(MEASURES))
        self.span_what: list[int] = []  # PARTICIPANTS or QUEUED, …
        self.span_from: list[float] = []  # … from, …
        self.span_to: list[float] = []  # … to, of each stay in the programme or its queue that ended
        self.members: dict[int, tuple[int, float]] = {}  # citizen → (what, since), while in it
        self.waiting: dict[Any, Citizen] = {}  # each queued citizen by its request for a place
        self.n_states = n_states
        self.first_day = np.zeros(0)
        """By ident, for citizens not yet made: the last referral day `first_days` found (inf: none) …"""
        self.first_stay = np.zeros(0)
        """… and the start of the stay it was found in."""
        self.drawn = np.zeros(0, dtype=np.int64)
        """Pairs each citizen not yet made has used of its decision stream (`_pairs`), by ident."""
        self.acting = self.own and spec.age is None and not self.attributes
        """Whether its acts can be done for many citizens not yet made at once (`acts_many`): no limit on
        places, and no trait of the citizen decides (those are drawn only when a citizen is made)."""
        self.deciding = not self.own and spec.age is None and not self.attributes
        """Whether its referrals can be taken up or declined for many citizens not yet made at once
        (`decides_many`): places to queue for, and no trait of the citizen decides."""
        self.taken = np.zeros(0, dtype=bool)
        """By ident: whether `decides_many` found the referral of the citizen's current stay taken up."""
        self.effects: tuple[dict[int, float] | None, ...] = (None, self.during, self.after)
        """The ratios `acts_many` may put in force, by index (NONE, DURING, AFTER)."""
        self.keys = tuple(ratio_key(r) for r in self.effects)
        """Each one's interned form: two are the same ratios in force when these are equal."""
        self.phase = np.zeros(0, dtype=np.int8)
        """By ident, for citizens not yet made: where the current stay stands (REFERRAL … DONE)."""
        self.since = np.zeros(0)
        """By ident: the day the place began (PLACED)."""
        self.started: dict[int, float] = {}
        """The day of the last place begun, of each citizen not yet made (its `last_offer`)."""
        self.bulk_spans: list[tuple[np.ndarray, np.ndarray]] = []
        """The places of citizens not yet made that ended: (from, to) arrays."""

    @staticmethod
    def _ratios(given: dict[str, float], index: dict[str, int], factor: float) -> dict[int, float] | None:
        ratios = {index[d]: r * factor for d, r in given.items()}
        return {d: r for d, r in ratios.items() if r != 1.0} or None

    # --- the engine's hook ------------------------------------------------------------------

    def entered(self, c: Citizen, now: float) -> None:
        """A citizen entered an eligible state at `now`: schedule its referral, if any."""
        referral, start = self.referral, c.entered + self.from_days
        if referral == AT_WEEK:
            at = start
            if at < now:
                return
        elif referral == RATE:
            spec = self.spec
            assert spec.rate_per_week is not None  # the schema requires it with referral: rate
            at = max(now, start) + self._draw_exp(c) / (spec.rate_per_week / 7.0)
        elif referral == AT_CLOCK:
            at = c.entered + self.clock_days[c.state] + TOLERANCE_DAYS  # just after: those kept
            if at < now:
                return
        else:
            at = max(now, start)
            if c.entered < now and start < now:
                return  # in the initial stock past the window's start: referred before the horizon
        end = c.entered + self.to_days
        if at >= end or at >= self.horizon:
            return
        self._ask(c, at)

    def _ask(self, c: Citizen, at: float) -> None:
        """The citizen's referral in its current stay, at day `at`: an act, or a time asked for."""
        if self.own:
            self.act(c, at, self._referred, None)
        else:
            self.wake(c, at, self._refer, (c, c.entered))

    def first_days(self, who: np.ndarray, kind: np.ndarray, home: np.ndarray, rank: np.ndarray, state: int,
                   entered: np.ndarray, now: np.ndarray) -> np.ndarray:
        """`entered`'s referral day for each of these stays (inf: none), by its steps, drawing as it
        draws (`Referring.first_days`); the days are kept for `resume`."""
        referral, start = self.referral, entered + self.from_days
        if referral == AT_WEEK:
            at = np.where(start < now, np.inf, start)
        elif referral == RATE:
            spec = self.spec
            assert spec.rate_per_week is not None
            at = np.maximum(now, start) + self._pairs(who, kind, home, rank)[0] / (spec.rate_per_week / 7.0)
        elif referral == AT_CLOCK:
            at = entered + self.clock_days[state] + TOLERANCE_DAYS
            at = np.where(at < now, np.inf, at)
        else:
            at = np.where((entered < now) & (start < now), np.inf, np.maximum(now, start))
        at = np.where((at >= entered + self.to_days) | (at >= self.horizon), np.inf, at)
        self._grow(int(who.max(initial=-1)) + 1)
        asked = at < np.inf
        self.first_day[who[asked]], self.first_stay[who[asked]] = at[asked], entered[asked]
        if self.acting:
            self.phase[who] = np.where(asked, REFERRAL, DONE)
        return at

    def acts_many(self, who: np.ndarray, kind: np.ndarray, home: np.ndarray, rank: np.ndarray, state: int,
                  day: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The act each citizen not yet made has due at `day` in its stay (`Acting.acts_many`): its
        referral, the end of its place, the end of its after-effect, by the steps of `_referred`,
        `_start`, `_finished` and `_after_over`. Gives whether the ratios in force changed, the
        ratios now in force (`effects` index, 0: none) and the day of the next act (inf: none)."""
        phase = self.phase[who]
        n = len(who)
        changed, effect, later = np.zeros(n, dtype=bool), np.zeros(n, dtype=np.int64), np.full(n, np.inf)
        spec, keys = self.spec, self.keys
        at = np.flatnonzero(phase == REFERRAL)
        if at.size:
            referred = day[at]
            self.tally.count_many(REFERRALS, referred)
            u = self._pairs(who[at], kind[at], home[at], rank[at])[1]
            took = u < spec.uptake
            self.tally.count_many(DECLINED, referred[~took])
            self.phase[who[at[~took]]] = DONE
            go = at[took]
            now = day[go]
            self.tally.count_many(STARTS, now)
            self.started.update(zip(who[go].tolist(), now.tolist(), strict=True))
            weeks = np.full(len(go), float(spec.duration_weeks))
            if spec.duration != "fixed":
                weeks = spec.duration_weeks * self._pairs(who[go], kind[go], home[go], rank[go])[0]
            self.since[who[go]] = now
            self.phase[who[go]] = PLACED
            changed[go], effect[go] = bool(keys[DURING]), DURING
            later[go] = now + weeks * 7.0
        at = np.flatnonzero(phase == PLACED)
        if at.size:
            now = day[at]
            self.bulk_spans.append((self.since[who[at]], now))
            if self.after and spec.effects.after_weeks > 0:
                self.phase[who[at]] = AFTERWARDS
                changed[at], effect[at] = keys[AFTER] != keys[DURING], AFTER
                later[at] = now + spec.effects.after_weeks * 7.0
            else:
                self.phase[who[at]] = DONE
                changed[at] = bool(keys[DURING])
        at = np.flatnonzero(phase == AFTERWARDS)
        if at.size:
            self.phase[who[at]] = DONE
            changed[at] = bool(keys[AFTER])
        return changed, effect, np.where(later < self.horizon, later, np.inf)

    def decides_many(self, who: np.ndarray, kind: np.ndarray, home: np.ndarray, rank: np.ndarray, state: int,
                     day: np.ndarray) -> np.ndarray:
        """The referral due at `day` of each citizen not yet made (`Deciding.decides_many`), by the steps
        of `_referred` before it asks for a place: counted, and taken up or declined by the citizen's
        own draw. Gives whether each took it up: those go to the clock, to ask for a place there."""
        self.tally.count_many(REFERRALS, day)
        took = self._pairs(who, kind, home, rank)[1] < self.spec.uptake
        self.tally.count_many(DECLINED, day[~took])
        self.taken[who[took]] = True
        return took

    def left_many(self, who: np.ndarray, day: np.ndarray) -> None:
        """Citizens not yet made leave the state at `day`: a place ends with the stay."""
        placed = self.phase[who] == PLACED
        self.bulk_spans.append((self.since[who[placed]], day[placed]))
        self.phase[who] = DONE

    def resume(self, c: Citizen) -> None:
        """Ask for the referral `first_days` found in the citizen's current stay, if it found one."""
        i = c.ident
        if i >= len(self.first_day):
            return
        at, stay, taken = float(self.first_day[i]), float(self.first_stay[i]), bool(self.taken[i])
        self.first_day[i], self.taken[i] = np.inf, False
        if at == np.inf or stay != c.entered:
            return
        if taken:  # the referral was taken up as the path was drawn: only its place is left to ask for
            self.wake(c, at, self._take, (c, c.entered))
        else:
            self._ask(c, at)

    def _pairs(self, who: np.ndarray, kind: np.ndarray, home: np.ndarray, rank: np.ndarray
               ) -> tuple[np.ndarray, np.ndarray]:
        """The next pair of each citizen's decision stream for this programme (`_draw` for citizens not
        yet made), counted in `drawn` by ident."""
        self._grow(int(who.max(initial=-1)) + 1)
        drawn = self.drawn
        used = drawn[who]
        n = len(who)
        e, u = np.empty(n), np.empty(n)
        if not n:
            return e, u
        cohort = kind * self.n_states + home
        group = cohort * (int(used.max(initial=0)) + 1) + used  # one group a (cohort, pair) in turn
        order = np.argsort(group, kind="stable")
        cuts = (np.flatnonzero(np.diff(group[order])) + 1).tolist()
        for lo, hi in zip([0, *cuts], [*cuts, n], strict=True):
            at = order[lo:hi]
            key, k = int(cohort[at[0]]), int(used[at[0]])
            draws = self.stream.of((key // self.n_states, key % self.n_states))
            if k < TIERS:
                tier = draws.tier(k)
                e[at], u[at] = tier[0][rank[at]], tier[1][rank[at]]
            else:
                e[at], u[at] = np.array([draws.pair(r, k) for r in rank[at].tolist()]).reshape(-1, 2).T
        drawn[who] += 1
        return e, u

    def _grow(self, need: int) -> None:
        """Room in the by-ident arrays for idents below `need`."""
        if len(self.drawn) >= need:
            return
        size = max(need, 2 * len(self.drawn))
        for name, fill in (("drawn", 0), ("phase", DONE), ("since", 0.0), ("first_day", np.inf),
                           ("first_stay", 0.0), ("taken", False)):
            old = getattr(self, name)
            grown = np.full(size, fill, dtype=old.dtype)
            grown[:len(old)] = old
            setattr(self, name, grown)

    def left(self, c: Citizen, now: float) -> None:
        """A citizen left an eligible state: it leaves the queue or the programme, effects end."""
        record = c.ext[self.slot]
        if record is None:
            return
        state = record.places.pop(self.place, None)
        if state is None:
            return
        kind, request, _ = state
        if kind == "queued":
            request.cancel()
            del self.waiting[request]
        else:
            self._release(request)
        self._leave(c, now)

    # --- referral, queue, participation ------------------------------------------------------

    def _refer(self, ev: simpy.Event) -> None:
        c, spell = cast(tuple[Citizen, float], ev.value)
        if c.entered != spell or c.state not in self.states:
            return  # the citizen has moved on since the referral was scheduled
        self._referred(c, self.env.now, None)

    def _take(self, ev: simpy.Event) -> None:
        """A referral `decides_many` found taken up: its place is asked for (`_taken_up`)."""
        c, spell = cast(tuple[Citizen, float], ev.value)
        if c.entered != spell or c.state not in self.states:
            return
        self._taken_up(c, self.env.now)

    def _done(self, c: Citizen) -> None:
        """Done with the time asked for the citizen's referral (an act needs no word: `Run.act`)."""
        if not self.own:
            self.done_with(c)

    def _referred(self, c: Citizen, now: float, _: object) -> None:
        """The citizen, still in its stay, is referred at `now`."""
        if self.spec.age is not None:
            age = (now - c.born) / YEAR_DAYS
            if not self.spec.age[0] <= age < self.spec.age[1]:
                self._done(c)
                return  # not of the programme's age
        if self.attributes and any((c.attrs or {}).get(k) != v for k, v in self.attributes):
            self._done(c)
            return  # not of the programme's target group
        self.tally.add(REFERRALS, now)
        if self._draw_uniform(c) >= self.spec.uptake:
            self.tally.add(DECLINED, now)
            self._done(c)
            return
        self._taken_up(c, now)

    def _taken_up(self, c: Citizen, now: float) -> None:
        """The citizen took up its referral at `now`: it starts, gets a place or queues for one."""
        if self.resource is None:
            self._start(c, now, None, now)
            return
        request = self.resource.request()
        if request.triggered:
            self._start(c, now, request, now)
            return
        wait = self.spec.max_wait_weeks
        if wait == 0:
            request.cancel()
            self.tally.add(LAPSED, now)
            self._done(c)
            return
        c.ext[self.slot].places[self.place] = ("queued", request, now)
        self._join(c, QUEUED, now)
        self.waiting[request] = c
        request.callbacks.append(self._granted)  # a place came free, …
        if wait is not None:  # … or patience ran out
            Timeout(self.env, wait * 7.0, request).callbacks.append(self._patience_over)

    def _granted(self, ev: simpy.Event) -> None:
        self._queue_over(ev)

    def _patience_over(self, ev: simpy.Event) -> None:
        self._queue_over(ev.value)

    def _queue_over(self, request: Any) -> None:
        """The queued citizen got a place or waited too long, whichever came first."""
        c = self.waiting.get(request)
        if c is None:
            return  # the citizen left while queued, or already has its place
        places = c.ext[self.slot].places
        mine = places.get(self.place)
        if mine is None or mine[0] != "queued" or mine[1] is not request:
            return
        since = mine[2]
        now = self.env.now
        self._leave(c, now)
        places.pop(self.place)
        del self.waiting[request]
        if request.triggered:
            self._start(c, now, request, since)
        else:
            request.cancel()
            self.tally.add(LAPSED, now)
            self.done_with(c)

    def _start(self, c: Citizen, now: float, request: Any, referred: float) -> None:
        self.tally.add(STARTS, now)
        record = c.ext[self.slot]
        record.last_offer = now
        self.tally.add(WAIT, now, now - referred)
        spec = self.spec
        weeks = spec.duration_weeks if spec.duration == "fixed" else spec.duration_weeks * self._draw_exp(c)
        record.places[self.place] = ("participating", request, now)
        self._join(c, PARTICIPANTS, now)
        self._effect_until(c, now, self.during, weeks * 7.0, self._finished, request)

    def _effect_until(self, c: Citizen, now: float, ratios: dict[int, float] | None, days: float,
                      step: Callable[[Citizen, float, Any], None], value: Any) -> None:
        """The programme's `ratios` on the citizen from `now`, and `step(c, day, value)` `days` later if
        it is still in its stay: an act (`Run.act`) with no limit on places, else a time on the clock
        the kernel knows may change the hazards again (`Run.set_effect`'s `until`)."""
        if self.own:
            self.set_effect(c, self, ratios, now)
            self.act(c, now + days, step, value)
        else:
            self.set_effect(c, self, ratios, now, until=(days, step, value))

    def _finished(self, c: Citizen, now: float, request: Any) -> None:
        """The citizen's place, got by `request`, ends at `now` (if it is still the citizen's)."""
        places = c.ext[self.slot].places
        mine = places.get(self.place)
        if mine is None or mine[1] is not request or mine[0] != "participating":
            return
        del places[self.place]
        self._release(request)
        self._leave(c, now)
        if self.after and self.spec.effects.after_weeks > 0:
            self._effect_until(c, now, self.after, self.spec.effects.after_weeks * 7.0, self._after_over,
                               self.after)
        else:
            self.set_effect(c, self, None, now, done=not self.own)

    def _after_over(self, c: Citizen, now: float, ratios: dict[int, float]) -> None:
        """The after-effect `ratios` end at `now`, if they are still the programme's on the citizen."""
        if c.effects and c.effects.get(self) is ratios:
            self.set_effect(c, self, None, now, done=not self.own)

    def _release(self, request: Any) -> None:
        if request is not None and self.resource is not None:
            self.resource.release(request)

    # --- random numbers and bookkeeping ----------------------------------------------------

    def _draw(self, c: Citizen) -> tuple[float, float]:
        """The next pair of the citizen's own decision stream for this programme."""
        record, k = c.ext[self.slot], self.k
        if record is None:  # the citizen's first referral
            record = c.ext[self.slot] = Participation(self.n_programmes)
        draws = record.draws[k]
        if draws is None:
            draws = record.draws[k] = self.stream(c)
        pair = draws.pair(c.rank, record.used[k])
        record.used[k] += 1
        return pair

    def _draw_exp(self, c: Citizen) -> float:
        return self._draw(c)[0]

    def _draw_uniform(self, c: Citizen) -> float:
        return self._draw(c)[1]

    def _join(self, c: Citizen, what: int, now: float) -> None:
        self.members[c.ident] = (what, now)

    def _leave(self, c: Citizen, now: float) -> None:
        what, since = self.members.pop(c.ident)
        self.span_what.append(what)
        self.span_from.append(since)
        self.span_to.append(now)

    def close(self) -> np.ndarray:
        """[measure, month]: average participants and queue, counts, days waited and DKK."""
        calendar = self.calendar
        out = self.tally.array()
        what = self.span_what + [what for what, _ in self.members.values()]
        start = self.span_from + [since for _, since in self.members.values()]
        end = self.span_to + [calendar.horizon] * len(self.members)
        placed = self.since[self.phase == PLACED]  # citizens not yet made, in their places at the horizon
        spans = [*self.bulk_spans, (placed, np.full(len(placed), calendar.horizon))]
        bulk = sum(len(a) for a, _ in spans)
        if what or bulk:
            days = interval_person_days(
                calendar, len(MEASURES), np.concatenate([np.asarray(what, dtype=np.int64),
                                                         np.full(bulk, PARTICIPANTS, dtype=np.int64)]),
                np.concatenate([np.asarray(start, dtype=float), *(a for a, _ in spans)]),
                np.concatenate([np.asarray(end, dtype=float), *(b for _, b in spans)]))
            out[PARTICIPANTS] = days[PARTICIPANTS] / calendar.days
            out[QUEUED] = days[QUEUED] / calendar.days
            out[COST] = days[PARTICIPANTS] / 7.0 * self.spec.cost_per_week_dkk
        return out


@dataclass(frozen=True)
class ProgrammesPlan:
    """The scenario's interventions, compiled for a batch."""

    specs: tuple[Intervention, ...]
    key: str = field(default=KEY)

    def open(self, run: Run, slot: int) -> ProgrammesFeature:
        """The programmes of one replication."""
        return ProgrammesFeature(self, run, slot)


class ProgrammesFeature(Feature):
    """Every programme of one replication, behind one slot per citizen."""

    def __init__(self, plan: ProgrammesPlan, run: Run, slot: int) -> None:
        model = run.model
        self.run = run
        self.slot = slot
        index = {code: i for i, code in enumerate(model.codes)}
        self.programmes = []
        for k, spec in enumerate(plan.specs):
            name = state_key(spec.name)
            factor = 1.0
            if spec.uncertainty is not None:
                rng = run.generator(PROGRAMME_EFFECTS, name)
                factor = float(np.exp(rng.normal(0.0, spec.uncertainty.log_sd)))
            clocks = {index[code]: sched.clock_days[0] for code in spec.states
                      if (sched := model.schedules[index[code]]) is not None and sched.clock_days}
            stream = run.cohort_stream((ARRIVAL_DECISIONS, INITIAL_DECISIONS), name)
            self.programmes.append(Programme(spec, index, run.env, model.calendar, run.set_effect, run.wake,
                                             run.done_with, run.act, slot, stream, k, len(plan.specs), factor,
                                             clocks, model.n_states))
        self.states = frozenset().union(*(p.states for p in self.programmes))
        self.by_state = {s: [p for p in self.programmes if s in p.states] for s in self.states}
        self.drawing = [(k, p) for k, p in enumerate(self.programmes)
                        if p.referral == RATE or p.acting or p.deciding]
        """The programmes whose referrals draw (`Programme.first_days` may draw for citizens not yet made)."""
        self.spells = False

    def admit(self, c: Citizen) -> None:
        """A new citizen: no programme yet (its record is made at its first draw), or, made at its first
        referral (`Programme.first_days`), the draws its stays so far have used."""
        record = None
        i = c.ident
        for k, programme in self.drawing:
            drawn = programme.drawn
            if i < len(drawn) and drawn[i]:
                if record is None:
                    record = Participation(len(self.programmes))
                record.used[k] = int(drawn[i])
                record.last_offer = max(record.last_offer, programme.started.get(i, -math.inf))
        c.ext[self.slot] = record

    def last_offer(self, c: Citizen) -> float:
        """The day the citizen last started a programme (an active offer), or −∞."""
        record: Participation | None = c.ext[self.slot]
        return record.last_offer if record is not None else -math.inf

    def handlers(self, state: int) -> list[Programme]:
        """The state's programmes, each told of entries and exits itself."""
        return self.by_state[state]

    def close(self) -> dict[str, np.ndarray]:
        """[programme, measure, month]."""
        return {RECORD: np.stack([p.close() for p in self.programmes])}


def compile_programmes(scenario: Scenario) -> ProgrammesPlan:
    """The interventions block as a feature plan."""
    return ProgrammesPlan(scenario.interventions)
