"""Caseworker teams in one replication: meetings due on a schedule, held within weekly hours.

Each team is a SimPy process that, at the end of each day, holds the meetings that have fallen
due (each at the time it fell due that day, or at the day's start if it was waiting), oldest
first, as far as its hours reach (headcount × hours per week, a seventh of it each day, unused
hours carried over up to a week's worth, each meeting taking `hours_per_meeting`); the rest wait,
and a meeting not held within `give_up_weeks` is missed. Too few staff shows as late and missed
meetings. A meeting held can raise named hazards for a while; caseworker changes, at a rate per
citizen, multiply named hazards for the rest of the stay. After the round of each month's last
day the team counts Dragør's fokusmål among its citizens with 12 months' seniority: no active
offer in the last 12 months, and fewer than 4 meetings in the last 12 months.
"""

from __future__ import annotations

import heapq
import itertools
import math
from collections.abc import Callable, Generator, Iterable
from dataclasses import dataclass, field
from typing import Any, cast

import numpy as np
import simpy
from simpy.events import Timeout

from sim.contract.calendar import Calendar
from sim.contract.caseworker_spec import Team
from sim.contract.schema import Scenario
from sim.features.programmes.programme import KEY as PROGRAMMES
from sim.features.programmes.programme import ProgrammesFeature
from sim.features.support import KEY as SUPPORT
from sim.features.support import SupportFeature
from sim.kernel.citizen import Citizen
from sim.kernel.ledger import MonthTally
from sim.kernel.protocol import Feature, Run, SetEffect
from sim.kernel.streams import ARRIVAL_TEAMS, INITIAL_TEAMS, CohortDraws
from sim.kernel.timebase import TOLERANCE_DAYS, YEAR_DAYS

KEY = "caseworkers"
RECORD = "teams"
"""The record's array: [team, measure (MEASURES), month]."""

MEASURES = ("due", "held", "late", "missed", "first_held", "first_within_14_days", "hours_available",
            "hours_used", "fokus_seniority_12m", "fokus_no_offer", "fokus_few_meetings")
"""Per team and month: meetings due, held, held late, missed; first meetings held and those within
14 days of entry; meeting hours available and used; citizens with ≥ 12 months' seniority at the
month end, and of them those with no active offer, and with fewer than 4 meetings, in 12 months."""
(DUE, HELD, LATE, MISSED, FIRST_HELD, FIRST_14, HOURS_AVAILABLE, HOURS_USED, SENIOR, NO_OFFER,
 FEW_MEETINGS) = range(len(MEASURES))
YEAR = YEAR_DAYS
"""The window of "the last 12 months" (fokusmål, meetings kept)."""
DAY_END = TOLERANCE_DAYS
"""How long before midnight the daily round runs (in days)."""


class Meetings:
    """A citizen's caseworker history: its own stream (meeting phase, changes), recent meetings."""

    __slots__ = ("draws", "held", "used")

    def __init__(self, draws: CohortDraws) -> None:
        self.draws = draws
        self.used = 0
        self.held: list[float] | None = None  # days of the meetings held in the last year


class CaseworkerTeam:
    """One team during one replication."""

    ahead = False
    """A team's `entered` may change hazards and its meetings read the whole caseload, so the kernel
    tells it of every move as it happens (`Handler.ahead`)."""

    def __init__(self, spec: Team, index: dict[str, int], env: simpy.Environment, calendar: Calendar,
                 set_effect: SetEffect, slot: int,
                 seniors: Callable[[Iterable[Citizen], float, float], list[Citizen]],
                 last_offer: Callable[[Citizen], float]) -> None:
        self.spec = spec
        self.slot = slot  # the citizen's Meetings are ext[slot]
        self.seniors = seniors
        self.last_offer = last_offer
        self.env = env
        self.calendar = calendar
        self.horizon = calendar.horizon
        self.set_effect = set_effect
        self.states = frozenset(index[s] for s in spec.states)
        self.meeting_effect = {index[d]: r for d, r in spec.effect_per_meeting.items() if r != 1.0} or None
        self.effect_days = spec.effect_weeks * 7.0 if self.meeting_effect and spec.effect_weeks > 0 else 0.0
        self.change_ratios = {index[d]: r for d, r in spec.change_effect.items()}
        self.turnover = spec.turnover_per_year > 0 and bool(self.change_ratios)
        self.first_days = spec.first_meeting_weeks * 7.0
        self.members: dict[int, Citizen] = {}
        self.due: list[tuple[float, int, Citizen, float, bool]] = []  # (due, tie, citizen, spell, first)
        self.tie = itertools.count()
        self.effect_until: dict[int, float] = {}
        self.pending_due: dict[int, float] = {}  # citizen → due day of its next meeting
        bands = spec.every_weeks
        self.fixed_interval = bands[0][1] * 7.0 if len(bands) == 1 else 0.0
        self.last_round = -math.inf
        self.changes: dict[int, int] = {}
        self.tally = MonthTally(calendar, len(MEASURES))
        # the team's meeting hours: a seventh of a week's hours comes in each day, unused hours
        # carry over up to a week's worth, and each meeting takes its hours
        self.hours = 0.0
        self.hours_capacity = spec.headcount * spec.hours_per_week
        env.process(self._daily())

    # --- the engine's hook ------------------------------------------------------------------

    def entered(self, c: Citizen, now: float) -> None:
        """A citizen entered a team state: its meetings fall due, its caseworker may change."""
        i = c.ident
        self.members[i] = c
        self.changes[i] = 0
        first = c.entered + self.first_days
        if first >= now:
            if first < self.horizon:
                self.pending_due[i] = first
                heapq.heappush(self.due, (first, next(self.tie), c, c.entered, True))
        else:  # in the initial stock: the next meeting is due somewhere in its current interval,
            # and the meetings of the past year were held on schedule before the start
            _, u = self._draw(c)
            interval = self._interval(now - c.entered)
            due = now + u * interval
            self._schedule(c, due, False)
            past, t, year_ago, fixed = [], due - interval, now - YEAR, self.fixed_interval
            while t > year_ago and t > c.entered:
                past.append(t)
                t -= fixed or self._interval(t - c.entered)
            c.ext[self.slot].held = sorted(past) or None
        if self.turnover:
            if c.entered < now:  # in the initial stock: the changes it has had so far this stay
                rate, k, t = self.spec.turnover_per_year / YEAR, 0, c.entered
                while True:
                    t += self._draw(c)[0] / rate
                    if t >= now:
                        break
                    k += 1
                if k:
                    self.changes[i] = k
                    ratios = {d: r ** k for d, r in self.change_ratios.items()}
                    self.set_effect(c, (self, "changes"), ratios, now)
            self._next_change(c, now)

    def left(self, c: Citizen, now: float) -> None:
        """A citizen left the team's states: a meeting already due and not held is missed."""
        i = c.ident
        due = self.pending_due.pop(i, None)
        if due is not None and due <= self.last_round:  # a round could have held it, and did not
            self.tally.add(DUE, due)
            self.tally.add(MISSED, now)
        self.members.pop(i, None)
        if self.effect_until:
            self.effect_until.pop(i, None)
        self.changes.pop(i, None)

    # --- meetings ---------------------------------------------------------------------------

    def _interval(self, weeks_in_state_days: float) -> float:
        if self.fixed_interval:
            return self.fixed_interval
        days = weeks_in_state_days + TOLERANCE_DAYS
        interval = next(i for w, i in reversed(self.spec.every_weeks) if w * 7.0 <= days)
        return interval * 7.0

    def _schedule(self, c: Citizen, due: float, first: bool) -> None:
        if due >= self.horizon:
            return
        self.pending_due[c.ident] = due
        heapq.heappush(self.due, (due, next(self.tie), c, c.entered, first))

    def _daily(self) -> Generator[simpy.Event, Any, None]:
        """At the end of each day: hold what fell due, oldest first, while the day's hours last."""
        spec, tally = self.spec, self.tally
        give_up, late = spec.give_up_weeks * 7.0, spec.late_after_weeks * 7.0
        per_meeting = spec.hours_per_meeting
        per_day = spec.headcount * spec.hours_per_week / 7.0  # hours
        month_ends = iter(self.calendar.edges[1:])
        month_end = next(month_ends)
        cells, months, month_of, edges = tally.cells, tally.months, tally.month, tally.edges
        due_heap, members, pending, tie = self.due, self.members, self.pending_due, self.tie
        heappop, heappush = heapq.heappop, heapq.heappush
        fixed, horizon, slot = self.fixed_interval, self.horizon, self.slot
        first_14 = 14.0 + TOLERANCE_DAYS  # day 14 itself counts
        yield self.env.timeout(1.0 - DAY_END)  # the rounds run just before midnight, so the last
        while True:                              # day of the horizon has one too
            now = self.last_round = self.env.now
            start = now - (1.0 - DAY_END)
            at_start, at_now = month_of(start), month_of(now)
            month_from, month_to = edges[at_start], edges[at_start + 1]  # the month of `start`
            cells[HOURS_AVAILABLE * months + at_start] += per_day
            self.hours += max(0.0, min(per_day, self.hours_capacity - self.hours))
            held, available = 0, self.hours
            missed = 0
            while due_heap and due_heap[0][0] <= now and available >= per_meeting:
                due, _, c, spell, first = heappop(due_heap)
                if c.entered != spell or c.ident not in members:
                    continue  # the citizen has left the team's states: that meeting never fell due
                at_due = at_start if month_from <= due < month_to else month_of(due)
                cells[DUE * months + at_due] += 1.0
                if now - due > give_up:
                    missed += 1
                else:
                    held += 1
                    available -= per_meeting
                    if due > start:
                        day, at_day = due, at_due
                    else:
                        day, at_day = start, at_start
                    cells[HELD * months + at_day] += 1.0
                    if day - due > late:
                        cells[LATE * months + at_day] += 1.0
                    if first:
                        cells[FIRST_HELD * months + at_day] += 1.0
                        if day - c.entered <= first_14:
                            cells[FIRST_14 * months + at_day] += 1.0
                    record = c.ext[slot]
                    kept = record.held
                    if kept is None:
                        record.held = [day]
                    else:
                        if kept[0] <= day - YEAR:
                            _trim(kept, day - YEAR)
                        kept.append(day)
                    if self.effect_days:
                        self._meeting_effect(c)
                nxt = due + (fixed or self._interval(due - c.entered))
                if nxt < horizon:
                    pending[c.ident] = nxt
                    heappush(due_heap, (nxt, next(tie), c, spell, False))
                else:
                    pending.pop(c.ident, None)
            while due_heap and due_heap[0][0] < now - give_up:  # too old to be held any more
                due, _, c, spell, _ = heappop(due_heap)
                if c.entered == spell and c.ident in members:
                    cells[DUE * months + month_of(due)] += 1.0
                    missed += 1
                    nxt = due + (fixed or self._interval(due - c.entered))
                    if nxt < horizon:
                        pending[c.ident] = nxt
                        heappush(due_heap, (nxt, next(tie), c, spell, False))
                    else:
                        pending.pop(c.ident, None)
            if missed:
                cells[MISSED * months + at_now] += missed
            self.hours -= min(held * per_meeting, self.hours)
            cells[HOURS_USED * months + at_start] += held * spec.hours_per_meeting
            if now + DAY_END >= month_end - 0.5:  # the round of a month's last day: fokusmål
                self._month_end(now)
                month_end = next(month_ends, math.inf)
            yield self.env.timeout(1.0)

    def _meeting_effect(self, c: Citizen) -> None:
        """A meeting held at today's round: its effect starts now, at the day's end."""
        now = self.env.now
        until = now + self.effect_days
        self.effect_until[c.ident] = until
        self.set_effect(c, (self, "meeting"), self.meeting_effect, now)
        Timeout(self.env, until - now, (c, c.entered)).callbacks.append(self._meeting_effect_over)

    def _meeting_effect_over(self, ev: simpy.Event) -> None:
        c, spell = cast(tuple[Citizen, float], ev.value)
        now = self.env.now
        if c.entered == spell and self.effect_until.get(c.ident, math.inf) <= now:
            del self.effect_until[c.ident]
            self.set_effect(c, (self, "meeting"), None, now)

    # --- caseworker changes -----------------------------------------------------------------

    def _draw(self, c: Citizen) -> tuple[float, float]:
        """The next (exponential, uniform) pair of the citizen's own caseworker stream."""
        record = c.ext[self.slot]
        pair = record.draws.pair(c.rank, record.used)
        record.used += 1
        return pair

    def _next_change(self, c: Citizen, now: float) -> None:
        e, _ = self._draw(c)
        at = now + e / (self.spec.turnover_per_year / YEAR)
        if at < self.horizon:
            Timeout(self.env, at - now, (c, c.entered)).callbacks.append(self._change)

    def _change(self, ev: simpy.Event) -> None:
        c, spell = cast(tuple[Citizen, float], ev.value)
        if c.entered != spell or c.ident not in self.members:
            return
        now = self.env.now
        k = self.changes[c.ident] = self.changes[c.ident] + 1
        self.set_effect(c, (self, "changes"), {d: r ** k for d, r in self.change_ratios.items()}, now)
        self._next_change(c, now)

    # --- fokusmål and bookkeeping -----------------------------------------------------------

    def _month_end(self, now: float) -> None:
        """Count Dragør's fokusmål among the team's citizens with 12 months' seniority."""
        seniors = self.seniors(self.members.values(), now, YEAR)
        if not seniors:
            return
        slot, last_offer, year_ago = self.slot, self.last_offer, now - YEAR
        no_offer = few = 0
        for c in seniors:
            if last_offer(c) < year_ago:
                no_offer += 1
            held = c.ext[slot].held
            if held is None or len([t for t in held if t > year_ago]) < 4:
                few += 1
        tally = self.tally
        tally.add(SENIOR, now, len(seniors))
        tally.add(NO_OFFER, now, no_offer)
        tally.add(FEW_MEETINGS, now, few)

    def close(self) -> np.ndarray:
        """[measure, month] of the replication."""
        for due, _, c, spell, _ in self.due:  # fallen due, still waiting at the horizon
            if due < self.horizon and c.entered == spell and c.ident in self.members:
                self.tally.add(DUE, due)
                self.pending_due.pop(c.ident, None)
        self.due = []
        return self.tally.array()


def _trim(days: list[float], cut: float) -> None:
    """Drop the days up to `cut` from the front of a citizen's meeting days (held in order)."""
    n = 0
    for t in days:
        if t > cut:
            break
        n += 1
    if n:
        del days[:n]


@dataclass(frozen=True)
class TeamsPlan:
    """The scenario's caseworker teams, compiled for a batch."""

    specs: tuple[Team, ...]
    key: str = field(default=KEY)

    def open(self, run: Run, slot: int) -> TeamsFeature:
        """The teams of one replication."""
        return TeamsFeature(self, run, slot)


def _no_offer(c: Citizen) -> float:
    return -math.inf


class TeamsFeature(Feature):
    """Every team of one replication, behind one slot per citizen.

    Seniority is time on public support, asked of the `support` feature (which the registry opens
    first); an active offer is a programme start, asked of `interventions` when there are any.
    """

    def __init__(self, plan: TeamsPlan, run: Run, slot: int) -> None:
        model = run.model
        self.run = run
        self.slot = slot
        self.stream = run.cohort_stream((ARRIVAL_TEAMS, INITIAL_TEAMS))
        index = {code: i for i, code in enumerate(model.codes)}
        support = run.feature(SUPPORT)
        assert isinstance(support, SupportFeature)
        support.read_during_run()  # the seniors at each month's end
        programmes = run.feature(PROGRAMMES)
        last_offer = programmes.last_offer if isinstance(programmes, ProgrammesFeature) else _no_offer
        self.teams = [CaseworkerTeam(spec, index, run.env, model.calendar, run.set_effect, slot,
                                     support.seniors, last_offer) for spec in plan.specs]
        self.states = frozenset().union(*(team.states for team in self.teams))
        self.by_state = {s: [team for team in self.teams if s in team.states] for s in self.states}
        self.spells = False

    def record(self, c: Citizen) -> Meetings:
        """The citizen's caseworker history (its slot)."""
        record: Meetings = c.ext[self.slot]
        return record

    def admit(self, c: Citizen) -> None:
        """A new citizen: its own caseworker stream."""
        c.ext[self.slot] = Meetings(self.stream(c))

    def handlers(self, state: int) -> list[CaseworkerTeam]:
        """The state's teams, each told of entries and exits itself."""
        return self.by_state[state]

    def close(self) -> dict[str, np.ndarray]:
        """[team, measure, month]."""
        return {RECORD: np.stack([team.close() for team in self.teams])}


def compile_teams(scenario: Scenario) -> TeamsPlan:
    """The caseworkers block as a feature plan."""
    return TeamsPlan(scenario.caseworkers)
