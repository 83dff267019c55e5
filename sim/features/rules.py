"""Dated rules: clocks paused between two dates and clocks that change for spells from a date.

The scenario's `rules` block in days from its start (`DatedRules`), shared by the features it
touches: this one moves clocks, `dagpenge_period` leaves paused days unused, `payment` and
`economics` pay the unpaid first weeks between two dates, economics prices a staircase or a rate
from a date. Every rule is known in advance, so a clock is placed exactly when a spell's exit
is drawn: no event is needed at the dates themselves.

- A pause of [a, b) stops a state's clocks for the time in it: a clock due at day T of a spell
  that started on `entered` strikes at entered + T if that is before a, else that much later by
  the paused time the spell has lived through (b − max(a, entered)); pauses apply in date order,
  each on the clock as the ones before left it. Hazards do not pause.
- A clock change gives spells that start within its dates the state's clock at another week,
  or none; it moves the clock by the difference, so it composes with a period used up across
  spells (`sim.features.dagpenge`, opened earlier, moves every clock by the days used).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field

import numpy as np

from sim.contract.calendar import Calendar
from sim.contract.routes import clock_weeks
from sim.contract.rules_spec import ClockFrom, PauseClocks, RateFrom, RefundFromDayOne, StaircaseFrom
from sim.contract.schema import Scenario
from sim.kernel.citizen import Citizen
from sim.kernel.ledger import interval_person_days
from sim.kernel.model import Model
from sim.kernel.protocol import Feature, Run

KEY = "rules"

Span = tuple[float, float]
"""[a, b) in days from the scenario's start."""
Staircase = tuple[tuple[float, float], ...]
"""[from_week, municipal share] bands."""


def day_of(calendar: Calendar, date: dt.date) -> float:
    """Days from the scenario's start to the start of `date` (negative before it)."""
    return float((date - calendar.start).days)


def span_of(calendar: Calendar, start: dt.date | None, until: dt.date | None) -> Span:
    """A rule's dates as [a, b): from the start of `start` to the end of `until` (open ends
    infinite)."""
    return (day_of(calendar, start) if start is not None else -math.inf,
            day_of(calendar, until) + 1.0 if until is not None else math.inf)


@dataclass(frozen=True)
class ClockChange:
    """One clock of a state moved for spells starting within [lo, hi)."""

    index: int
    """The clock's position among the state's clocks (by day)."""
    lo: float
    hi: float
    delta: float
    """Days added to the clock (inf: the clock is gone)."""


@dataclass(frozen=True)
class DatedRules:
    """The scenario's dated rules by state index, in days from its start."""

    pauses: dict[int, tuple[Span, ...]] = field(default_factory=dict)
    """Per state: the spans its clocks stand still, in order, not overlapping."""
    clocks: dict[int, tuple[ClockChange, ...]] = field(default_factory=dict)
    day_one: dict[int, tuple[tuple[float, float, float], ...]] = field(default_factory=dict)
    """Per state: (a, b, share): between a and b that share of its unpaid first days is paid."""
    staircases: tuple[tuple[int, int, Staircase], ...] = ()
    """(m0, m1, staircase): the months [m0, m1) of the horizon a dated staircase covers, in date
    order (a later one wins)."""
    rates: tuple[tuple[int, int, int, float], ...] = ()
    """(state, m0, m1, DKK per full-year person) of each dated rate, in date order."""


def compile_dated(scenario: Scenario, calendar: Calendar) -> DatedRules:
    """The scenario's dated rules for the features (the loader has checked states and clocks)."""
    codes = list(scenario.states)
    pauses: dict[int, list[Span]] = {}
    clocks: dict[int, list[ClockChange]] = {}
    day_one: dict[int, list[tuple[float, float, float]]] = {}
    for rule in scenario.rules:
        if isinstance(rule, PauseClocks):
            pauses.setdefault(codes.index(rule.state), []).append(span_of(calendar, rule.start, rule.until))
        elif isinstance(rule, RefundFromDayOne):
            a, b = span_of(calendar, rule.start, rule.until)
            day_one.setdefault(codes.index(rule.state), []).append((a, b, float(rule.share)))
        elif isinstance(rule, ClockFrom):
            weeks = clock_weeks(scenario.transitions.get(rule.state, ()))
            lo, hi = span_of(calendar, rule.start, rule.until)
            delta = math.inf if rule.at_week == "never" else (float(rule.at_week) - rule.week) * 7.0
            clocks.setdefault(codes.index(rule.state), []).append(
                ClockChange(weeks.index(float(rule.week)), lo, hi, delta))
    by_date = sorted((r for r in scenario.rules if isinstance(r, StaircaseFrom | RateFrom)),
                     key=lambda r: r.start)
    staircases = tuple((*months_of(calendar, r.start, r.until), r.staircase)
                       for r in by_date if isinstance(r, StaircaseFrom))
    rates = tuple((codes.index(r.state), *months_of(calendar, r.start, r.until),
                   float(r.dkk_per_full_year_person)) for r in by_date if isinstance(r, RateFrom))
    return DatedRules({s: tuple(merge(v)) for s, v in pauses.items()},
                      {s: tuple(v) for s, v in clocks.items()},
                      {s: tuple(v) for s, v in day_one.items()}, staircases, rates)


def months_of(calendar: Calendar, start: dt.date, until: dt.date | None) -> tuple[int, int]:
    """The months [m0, m1) of the horizon a dated rule on prices covers (its dates are month
    boundaries, as the loader checks; before the start or past the end it is cut to the horizon)."""
    first = (start.year - calendar.start.year) * 12 + start.month - calendar.start.month
    last = ((until.year - calendar.start.year) * 12 + until.month - calendar.start.month + 1
            if until is not None else calendar.months)
    return min(max(first, 0), calendar.months), min(max(last, 0), calendar.months)


def merge(spans: list[Span]) -> list[Span]:
    """Spans in order with overlapping or touching ones joined."""
    out: list[Span] = []
    for a, b in sorted(spans):
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def paused_within(pauses: tuple[Span, ...], lo: float, hi: float) -> float:
    """Days of [lo, hi) inside the pauses."""
    return sum(max(0.0, min(b, hi) - max(a, lo)) for a, b in pauses)


def unpause(pauses: tuple[Span, ...], entered: float, day: float) -> float:
    """The day in the spell a clock due at `day` strikes when the pauses stop it."""
    at = entered + day
    for a, b in pauses:
        begin = max(a, entered)
        if b > begin and at >= begin:
            at += b - begin
    return at - entered


def unpause_many(pauses: tuple[Span, ...], entered: np.ndarray, days: np.ndarray) -> np.ndarray:
    """`unpause` for a row of clock days per spell (`entered` a start each), by the same steps; an
    infinite day (a clock gone) stays so."""
    at = entered[:, None] + days
    for a, b in pauses:
        begin = np.maximum(a, entered)[:, None]
        at = np.where((b > begin) & (at >= begin), at + (b - begin), at)
    return np.where(days < math.inf, at - entered[:, None], days)


@dataclass(frozen=True)
class RulesPlan:
    """The clock rules of a batch."""

    rules: DatedRules
    key: str = field(default=KEY)

    def open(self, run: Run, slot: int) -> RulesFeature:
        """The clock rules for one replication (they keep no state)."""
        return RulesFeature(self.rules, slot)


class RulesFeature(Feature):
    """Moves the clocks of the states a dated rule pauses or changes."""

    def __init__(self, rules: DatedRules, slot: int) -> None:
        self.rules = rules
        self.states = frozenset()
        self.spells = False
        self.slot = slot
        self.shifts = frozenset(rules.pauses) | frozenset(rules.clocks)

    def clock_days(self, c: Citizen, state: int, entered: float,
                   days: tuple[float, ...]) -> tuple[float, ...]:
        """The clock changes for spells started on `entered`, then the pauses."""
        out = list(days)
        for change in self.rules.clocks.get(state, ()):
            if change.lo <= entered < change.hi:
                out[change.index] += change.delta
        pauses = self.rules.pauses.get(state)
        if pauses:
            out = [unpause(pauses, entered, d) if d < math.inf else d for d in out]
        return tuple(out)

    def clock_days_many(self, who: np.ndarray, state: int, entered: np.ndarray,
                        days: np.ndarray) -> np.ndarray:
        """`clock_days` for many spells at once, by the same steps."""
        out = days.copy()
        for change in self.rules.clocks.get(state, ()):
            inside = (change.lo <= entered) & (entered < change.hi)
            out[inside, change.index] += change.delta
        pauses = self.rules.pauses.get(state)
        return unpause_many(pauses, entered, out) if pauses else out


def compile_rules_feature(scenario: Scenario, model: Model) -> RulesPlan:
    """The scenario's clock rules as a feature plan."""
    return RulesPlan(compile_dated(scenario, model.calendar))


def moves_clocks(scenario: Scenario) -> bool:
    """Whether a rule pauses or changes a clock (the feature is then active)."""
    return any(isinstance(r, PauseClocks | ClockFrom) for r in scenario.rules)


def waived_days(calendar: Calendar, n_rows: int, day_one: dict[int, tuple[tuple[float, float, float], ...]],
                state: np.ndarray, start: np.ndarray, paid: np.ndarray) -> np.ndarray:
    """Person-days [state, month] of the unpaid starts [start, paid) that dated rules pay: each
    rule's share of the days inside its dates."""
    out = np.zeros((n_rows, calendar.months))
    for s, windows in day_one.items():
        mine = state == s
        rows, lo, hi = state[mine], start[mine], paid[mine]
        for a, b, share in windows:
            out += share * interval_person_days(calendar, n_rows, rows, np.maximum(lo, a), np.minimum(hi, b))
    return out
