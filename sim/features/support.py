"""Time on public support: each citizen's cumulative weeks as the refusion staircase counts them.

A feature with no states to watch: it sees every closed spell (`spell_closed`), carries the count
across moves, exits and re-entries, and starts it again after enough self-support within the
window: O(1) per spell, never rescanning a citizen's past. It keeps each benefit spell as (state,
start, paid from, end, support at start, citizen ident), which economics turns into person-days
by staircase step (the ident tells it a citizen on a state's old rules), and answers
`support_days` for features that need a citizen's seniority (`seniors` for many at once, as the
caseworkers ask at each month's end). The rules come from the scenario's economics block, or its
defaults when there is none. When no feature reads the counts during the run, the kernel gives
every spell at once after the horizon (`late_spells`), and one compiled pass counts them, citizen
by citizen, to the same numbers.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace

import numba
import numpy as np

from sim.contract.catalogue import EXITS
from sim.contract.refusion import COUNTED_EXITS, COVERED, SELF_SUPPORT_EXITS, UNPAID_FIRST_WEEKS
from sim.contract.schema import Economics, Scenario
from sim.kernel.citizen import Citizen
from sim.kernel.ledger import booked, packed
from sim.kernel.model import Model
from sim.kernel.protocol import Feature, Run
from sim.kernel.streams import PRIOR_SUPPORT, state_key

KEY = "support"
SpellArrays = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]
"""The benefit spells as arrays: state, start, paid from, end, support at start, citizen ident."""
EXIT_KINDS = {"none": 0, "self": 1, "counted": 2}
"""`SupportRules.exits` as the compiled count reads them."""


@dataclass(frozen=True)
class SupportRules:
    """The counting rules per benefit state, in days."""

    counted: tuple[bool, ...]
    unpaid_days: tuple[float, ...]
    reset_days: float
    window_days: float
    exits: tuple[str, ...]
    """Per exit (in catalogue order after the benefit states): `self` (self-support, can reset
    the count), `counted` (its time counts toward cumulative support) or `none`."""
    initial_history: tuple[tuple[np.ndarray, np.ndarray, np.ndarray] | None, ...]
    """Per state: bands (lo days, hi days, shares) of prior support of the initial stock, if given."""


def compile_rules(scenario: Scenario) -> SupportRules:
    """The scenario's counting rules, with the refusion defaults where it gives none."""
    econ = scenario.economics if scenario.economics is not None else Economics()
    counted, unpaid = [], []
    for code in scenario.states:
        spec = econ.states.get(code)
        counted.append(spec.counted if spec and spec.counted is not None else code in COVERED)
        weeks = spec.unpaid_first_weeks if spec and spec.unpaid_first_weeks is not None else (
            UNPAID_FIRST_WEEKS.get(code, 0.0))
        unpaid.append(weeks * 7.0)
    history = tuple(
        (np.array([b.from_week * 7.0 for b in bands]), np.array([b.to_week * 7.0 for b in bands]),
         np.array([b.share for b in bands])) if (bands := econ.initial_history.get(code)) else None
        for code in scenario.states
    )
    exits = tuple("self" if e in SELF_SUPPORT_EXITS else "counted" if e in COUNTED_EXITS else "none"
                  for e in EXITS)
    return SupportRules(tuple(counted), tuple(unpaid), econ.reset_after_weeks * 7.0,
                        econ.reset_window_weeks * 7.0, exits, history)


@dataclass(frozen=True)
class SupportPlan:
    """Support counting compiled for a batch (the pilot's entry history included, once prepared)."""

    rules: SupportRules
    n_benefit: int
    entry_history: tuple[np.ndarray | None, ...] | None = None
    """Per state: support days at spell start seen in a steady-state pilot (`sim.features.pilot`),
    from which the initial stock's prior support is drawn."""
    record_after: float | None = None
    """For the pilot: keep (state, support at start) of the spells starting after this day."""
    key: str = field(default=KEY)

    def open(self, run: Run, slot: int) -> SupportFeature:
        """The support count of one replication."""
        return SupportFeature(self, run, slot)

    def needs_pilot(self, model: Model) -> bool:
        """Whether some initial stock has no given prior history, so a pilot must estimate it."""
        given = self.rules.initial_history
        return any(model.initial[s] and given[s] is None for s in range(self.n_benefit))

    def with_history(self, history: tuple[np.ndarray | None, ...]) -> SupportPlan:
        """The plan with the pilot's entry history."""
        return replace(self, entry_history=history)


class SupportFeature(Feature):
    """Per-citizen support counts and the benefit spells, for one replication.

    The counts are kept by citizen ident (idents are dense, in creation order, and a state's
    initial stock is created right after `stock`), so no per-citizen object is made.
    """

    def __init__(self, plan: SupportPlan, run: Run, slot: int) -> None:
        self.plan = plan
        self.rules = plan.rules
        self.run = run
        self.states = frozenset()
        self.spells = True
        self.late_spells = True
        """Until a feature reads the counts during the run (`read_during_run`), the kernel gives
        the spells all at once after the horizon (`spells_closed`)."""
        self.slot = slot
        self.n_benefit = plan.n_benefit
        self.entries: list[tuple[int, float]] = []
        """(state, support days at the spell's start) of spells starting after `record_after`."""
        self.days: list[float] = []
        """Days on public support as the staircase counts them, by citizen ident."""
        self.on_support = bytearray()
        """By ident: the last spell was on a benefit (paid from day 1 at a move from it; the rule of
        `sim.features.payment.PaymentFeature`, inlined here on the hot path)."""
        self.away: dict[int, list[tuple[float, float]]] = {}
        """Recent self-support periods by ident (the reset rule)."""
        self.returning: set[int] = set()
        """Citizens back from self-support whose next benefit spell checks the reset rule."""
        self.kept = booked()
        """The benefit spells, six numbers each: state, start, paid from, end, support at start,
        citizen ident."""
        self.record_after = plan.record_after
        self._arrays: tuple[int, SpellArrays] | None = None
        """`spell_arrays` as last made, with the length of `kept` it was made from."""
        rules = plan.rules
        self.exit_kinds, self.unpaid_days, self.counted = rules.exits, rules.unpaid_days, rules.counted

    def stock(self, state: int, n: int) -> None:
        """The prior support of the state's initial stock (given bands, else the pilot's)."""
        priors = self._priors(state, n) if state < self.n_benefit else None
        self.days.extend(priors if priors is not None else [0.0] * n)
        self.on_support.extend(bytes(n))

    def _priors(self, state: int, n: int) -> list[float] | None:
        rng = self.run.generator(PRIOR_SUPPORT, state_key(self.run.model.codes[state]))
        given = self.rules.initial_history[state]
        seen = self.plan.entry_history[state] if self.plan.entry_history is not None else None
        if given is not None:
            lo, hi, shares = given
            pick = rng.choice(len(shares), size=n, p=shares / shares.sum())
            return (lo[pick] + rng.random(n) * (hi[pick] - lo[pick])).tolist()
        if seen is not None:
            return rng.choice(seen, size=n).tolist()
        return None

    def read_during_run(self) -> None:
        """A feature that reads the counts during the run (`support_days`, `seniors`) says so when it
        opens: the spells are then counted one by one as they close (`spell_closed`)."""
        self.late_spells = False

    def _live(self) -> None:
        if self.late_spells:
            raise RuntimeError("the support counts were read during the run by a feature that did not "
                               "say so when it opened (`SupportFeature.read_during_run`)")

    def support_days(self, c: Citizen, now: float) -> float:
        """The citizen's days on public support by `now`: its count plus the open spell."""
        self._live()
        i = c.ident
        return (self.days[i] if i < len(self.days) else 0.0) + (now - c.entered)

    def seniors(self, citizens: Iterable[Citizen], now: float, days: float) -> list[Citizen]:
        """The citizens with at least `days` on public support by `now` (as `support_days` counts)."""
        self._live()
        count, n = self.days, len(self.days)
        return [c for c in citizens if (count[c.ident] if c.ident < n else 0.0) + (now - c.entered) >= days]

    def spell_closed(self, c: Citizen, state: int, start: float, end: float) -> None:
        """Account for the citizen's spell in `state` over [start, end]."""
        i, days, on_support = c.ident, self.days, self.on_support
        if i >= len(days):  # an arrival's first spell
            while len(days) <= i:
                days.append(0.0)
                on_support.append(0)
        if state >= self.n_benefit:
            on_support[i] = 0
            kind = self.exit_kinds[state - self.n_benefit]
            if kind == "self":  # self-support: remembered for the reset rule
                self.away.setdefault(i, []).append((start, end))
                self.returning.add(i)
            elif kind == "counted":
                days[i] += end - start
            return
        if i in self.returning:
            self.returning.discard(i)
            self._maybe_reset(i, start)
        support = days[i]
        if self.record_after is not None and start >= self.record_after:
            self.entries.append((state, support))
        if on_support[i]:
            paid = start
        else:
            paid = start + self.unpaid_days[state]
            if end < paid:  # min(start + unpaid, end)
                paid = end
        on_support[i] = 1
        self.kept.fromlist([state, start, paid, end, support, i])
        if self.counted[state]:
            days[i] = support + (end - paid)

    def _maybe_reset(self, i: int, start: float) -> None:
        """Start the count again after enough self-support within the window before `start`."""
        lo = start - self.rules.window_days
        away = self.away[i] = [(a, b) for a, b in self.away[i] if b > lo]
        total = 0.0  # added in turn, as the compiled count adds them (not `sum`, which may compensate)
        for a, b in away:
            total += min(b, start) - max(a, lo)
        if total >= self.rules.reset_days:
            self.days[i] = 0.0
            del self.away[i]

    def spells_closed(self, who: np.ndarray, state: np.ndarray, start: np.ndarray, end: np.ndarray) -> None:
        """`spell_closed` for every spell at once, in the order it would have seen them: each
        citizen's spells in turn by one compiled pass (`_count`), the same steps in the same order."""
        n = max(len(self.days), int(who.max()) + 1 if len(who) else 0)
        days = np.zeros(n)
        days[:len(self.days)] = self.days
        order = np.argsort(who, kind="stable")
        rules = self.rules
        kinds = np.array([EXIT_KINDS[k] for k in self.exit_kinds], dtype=np.int64)
        unpaid, counted = np.asarray(self.unpaid_days, dtype=float), np.asarray(self.counted, dtype=bool)
        paid, support = _count(order, who, state, start, end, days, self.n_benefit, kinds, unpaid, counted,
                               rules.reset_days, rules.window_days)
        self.days = days.tolist()
        on = state < self.n_benefit
        if self.record_after is not None:
            recorded = on & (start >= self.record_after)
            self.entries.extend(zip(state[recorded].tolist(), support[recorded].tolist(), strict=True))
        self.kept = booked()
        self._arrays = (0, (state[on].astype(np.int64), start[on], paid[on], end[on], support[on],
                            who[on].astype(np.int64)))

    def spell_arrays(self) -> SpellArrays:
        """The benefit spells: state, start, paid from, end, support at start, citizen ident (made
        again only when spells were kept since the last call: economics and the payment basis both
        read them after the horizon)."""
        if self._arrays is None or self._arrays[0] != len(self.kept):
            kept = packed(self.kept).reshape(-1, 6)
            self._arrays = (len(self.kept), (kept[:, 0].astype(np.int64), kept[:, 1], kept[:, 2], kept[:, 3],
                                             kept[:, 4], kept[:, 5].astype(np.int64)))
        return self._arrays[1]


SELF_SUPPORT, COUNTED_EXIT = EXIT_KINDS["self"], EXIT_KINDS["counted"]


@numba.njit(cache=True)
def _count(order: np.ndarray, who: np.ndarray, state: np.ndarray, start: np.ndarray, end: np.ndarray,
           days: np.ndarray, n_benefit: int, kinds: np.ndarray, unpaid: np.ndarray, counted: np.ndarray,
           reset_days: float, window_days: float) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover
    """`SupportFeature.spell_closed`'s steps for every spell, citizen by citizen (`order`: the spells
    sorted stably by citizen, so each citizen's come in its own order): the day each benefit spell is
    paid from and the support days at its start; `days` (by ident) is updated to the counts at the
    end. A citizen's self-support periods end in time order, so the reset rule's window drops a
    prefix of them."""
    n = len(order)
    paid = np.zeros(n)
    support = np.zeros(n)
    away = np.empty(n, dtype=np.int64)  # the current citizen's self-support spells, in order
    i = 0
    while i < n:
        c = who[order[i]]
        head = 0
        tail = 0
        on_support = False
        returning = False
        while i < n and who[order[i]] == c:
            k = order[i]
            s = state[k]
            i += 1
            if s >= n_benefit:
                on_support = False
                kind = kinds[s - n_benefit]
                if kind == SELF_SUPPORT:
                    away[tail] = k
                    tail += 1
                    returning = True
                elif kind == COUNTED_EXIT:
                    days[c] += end[k] - start[k]
                continue
            if returning:
                returning = False
                lo = start[k] - window_days
                while head < tail and end[away[head]] <= lo:
                    head += 1
                total = 0.0
                for j in range(head, tail):
                    a = start[away[j]]
                    b = end[away[j]]
                    total += (b if b < start[k] else start[k]) - (a if a > lo else lo)
                if total >= reset_days:
                    days[c] = 0.0
                    head = tail
            here = days[c]
            support[k] = here
            if on_support:
                p = start[k]
            else:
                p = start[k] + unpaid[s]
                if end[k] < p:
                    p = end[k]
            paid[k] = p
            on_support = True
            if counted[s]:
                days[c] = here + (end[k] - p)
    return paid, support
