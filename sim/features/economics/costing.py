"""Economics: the DKK a replication's person-days cost, split by the refusion staircase.

A feature with no states to watch: it asks the registry for the support count (`support`) and,
at the end of a replication, splits the benefit spells that feature kept into person-days by
state, staircase step (plus an old-rule step when some state has one, and an unpaid step for,
e.g., the employer-paid start of sygedagpenge) and month. Each state's daily rate in each
calendar year turns them into the benefit paid out, and the step's municipal share into the net
municipal cost.

Pricing (sim.contract.refusion): a `refunded` state's gross DKK is the benefit paid out and its
refund gross − net; a `cofinanced` state's (a-dagpenge: the a-kasse pays the benefit, the
municipality its staircase share of it) gross DKK is the municipality's payment, so net = gross
and the refund is 0. The co-financing rate is net ÷ the benefit paid out for both.

Old rules: a state's `old_rule` gives the share of its initial stock on the rules from before the
reform (fleksjob started before 2013, ledighedsydelse assessed before 1 July 2014). Each citizen
of that stock draws whether it is, on its own stream (`OLD_RULE`, keyed by the state); an
old-rule citizen's spells in that state are priced at the old rule's flat municipal share on the
old-rule step instead of climbing the staircase, a return to the state after a spell elsewhere
included (right for ledighedsydelse, whose assessment date stays; a fleksjob started after a
pre-2013 one is strictly new-rule, a small share of returns over a two-year horizon). Its time
still counts toward cumulative support as the state's `counted` says (the count is `support`'s,
unchanged). The draws take no other stream's numbers, so every path is the same with or without
an old rule.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from sim.contract.calendar import Calendar, days_in_year
from sim.contract.refusion import COFINANCED, COVERED, DKK_PER_FULL_YEAR_PERSON_2018
from sim.contract.schema import Scenario
from sim.features.rules import compile_dated, waived_days
from sim.features.support import KEY as SUPPORT
from sim.features.support import SupportFeature
from sim.kernel.ledger import interval_person_days
from sim.kernel.protocol import Feature, Run
from sim.kernel.streams import OLD_RULE, state_key

KEY = "economics"
STEP_DAYS = "step_days"
"""The record's array: person-days [benefit state, step, month]; the steps are the staircase's,
then the old-rule step if some state has an old rule, then the unpaid step (last)."""


@dataclass(frozen=True)
class EconomicsModel:
    """Money rules per benefit state, ready for the costing (the counting rules are `support`'s)."""

    step_edges: tuple[float, ...]
    """Cumulative days on public support at which each staircase step starts (first is 0): the
    scenario's steps, joined with those of any staircase a dated rule brings in."""
    shares: np.ndarray
    """Municipal share of each staircase step (the scenario's staircase)."""
    municipal: np.ndarray
    """[state, step, month]: the municipal share of the benefit on each step in each month (1
    where not refunded; on the old-rule step the old rule's share; 0 on the day-one and unpaid
    steps)."""
    daily_dkk: np.ndarray
    """[state, month]: the benefit per person-day, the year's price level applied."""
    calendar: Calendar
    n_benefit: int
    cofinanced: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    """Per state: priced `cofinanced` (gross = net = the municipality's payment, no refund)."""
    old_rule_shares: tuple[float, ...] = ()
    """Per state: the probability that a citizen of its initial stock is on the old rules."""
    day_one: dict[int, tuple[tuple[float, float, float], ...]] = field(default_factory=dict)
    """Per state: (a, b, share) of dated rules paying its unpaid first days (`DatedRules.day_one`),
    priced on the day-one step: paid out, refunded in full, not counted."""
    key: str = field(default=KEY)

    @property
    def n_steps(self) -> int:
        """Staircase steps, without the old-rule, day-one and unpaid steps."""
        return len(self.step_edges)

    @property
    def has_old_rule(self) -> bool:
        """Whether some state has an old-rule share (and so the old-rule step)."""
        return any(p > 0 for p in self.old_rule_shares)

    @property
    def has_day_one(self) -> bool:
        """Whether a dated rule pays some unpaid first days (and so the day-one step)."""
        return bool(self.day_one)

    @property
    def n_sub(self) -> int:
        """Steps of the person-days array: the staircase's, the old-rule step if any, the day-one
        step if any, unpaid."""
        return self.n_steps + self.has_old_rule + self.has_day_one + 1

    def open(self, run: Run, slot: int) -> EconomicsFeature:
        """The costing of one replication."""
        support = run.feature(SUPPORT)
        assert isinstance(support, SupportFeature)  # the registry opens what economics requires first
        return EconomicsFeature(self, support, slot, run)

    def step_days(self, support: SupportFeature, old_rule: np.ndarray | None = None) -> np.ndarray:
        """Person-days [benefit state, step, month] of the spells `support` kept; `old_rule` gives,
        by citizen ident, the state whose old rules the citizen is on (-1: none)."""
        state, start, paid, end, prior, who = support.spell_arrays()
        n_sub = self.n_sub
        edges = np.asarray((*self.step_edges, np.inf))
        rows, lo, hi = [state * n_sub + n_sub - 1], [start], [paid]  # the unpaid start of each spell
        counted = np.asarray(support.rules.counted, dtype=bool)[state] if len(state) else np.zeros(0, bool)
        staircase = np.ones(len(state), dtype=bool)
        if old_rule is not None and len(old_rule) and len(state):
            known = who < len(old_rule)
            old = np.zeros(len(state), dtype=bool)
            old[known] = old_rule[who[known]] == state[known]
            rows.append(state[old] * n_sub + self.n_steps)  # an old-rule spell: the old-rule step throughout
            lo.append(paid[old])
            hi.append(end[old])
            staircase = ~old
        frozen = np.searchsorted(edges, prior, side="right") - 1  # the step of a spell that does not count
        still = staircase & ~counted
        rows.append(state[still] * n_sub + frozen[still])
        lo.append(paid[still])
        hi.append(end[still])
        c = staircase & counted
        row, paid_c, end_c, prior_c = state[c] * n_sub, paid[c], end[c], prior[c]
        for k in range(self.n_steps):  # a counted spell climbs the staircase as it goes on
            rows.append(row + k)
            lo.append(np.maximum(paid_c, paid_c + edges[k] - prior_c))
            hi.append(np.minimum(end_c, paid_c + edges[k + 1] - prior_c))
        person_days = interval_person_days(self.calendar, self.n_benefit * n_sub, np.concatenate(rows),
                                           np.concatenate(lo), np.concatenate(hi))
        out = person_days.reshape(self.n_benefit, n_sub, -1)
        if self.day_one:
            paid_early = waived_days(self.calendar, self.n_benefit, self.day_one, state, start, paid)
            out[:, n_sub - 2] += paid_early
            out[:, n_sub - 1] -= paid_early
        return out


class EconomicsFeature(Feature):
    """The costing during one replication: nothing to watch but who of the initial stock is on
    old rules, the split at the end."""

    def __init__(self, plan: EconomicsModel, support: SupportFeature, slot: int,
                 run: Run | None = None) -> None:
        self.plan = plan
        self.support = support
        self.run = run
        self.states = frozenset()
        self.spells = False
        self.slot = slot
        self.created = 0
        """Citizens of the initial stock placed so far: the ident of the next one."""
        self.old_rule: list[int] = []
        """By ident of the initial stock: the state whose old rules the citizen is on, or -1."""

    def stock(self, state: int, n: int) -> None:
        """Draw who of the state's initial stock (the next n idents) is on its old rules."""
        shares = self.plan.old_rule_shares
        share = shares[state] if state < len(shares) else 0.0
        if share > 0 and self.run is not None:
            self.old_rule.extend([-1] * (self.created - len(self.old_rule)))
            rng = self.run.generator(OLD_RULE, state_key(self.run.model.codes[state]))
            self.old_rule.extend(np.where(rng.random(n) < share, state, -1).tolist())
        self.created += n

    def close(self) -> dict[str, np.ndarray]:
        """Person-days by state, step and month."""
        old = np.asarray(self.old_rule, dtype=np.int64) if self.old_rule else None
        return {STEP_DAYS: self.plan.step_days(self.support, old)}


def compile_economics(scenario: Scenario, calendar: Calendar) -> EconomicsModel | None:
    """The scenario's economics with catalogue defaults and dated rules filled in, or None
    without an economics block."""
    econ = scenario.economics
    if econ is None:
        return None
    codes = list(scenario.states)
    dated = compile_dated(scenario, calendar)
    staircases = [(m0, m1, np.asarray(bands)) for m0, m1, bands in dated.staircases]
    edges = tuple(sorted({w * 7.0 for w, _ in econ.staircase}
                         | {w * 7.0 for _, _, bands in staircases for w in bands[:, 0]}))
    base = np.asarray(econ.staircase, dtype=float)
    old_shares = tuple(float(spec.old_rule.share) if (spec := econ.states.get(code)) and spec.old_rule
                       else 0.0 for code in codes)
    has_old = any(p > 0 for p in old_shares)
    day_one = dated.day_one
    months = calendar.months
    by_month = np.repeat(on_steps(base, edges)[:, None], months, axis=1)  # [step, month]
    for m0, m1, bands in staircases:
        by_month[:, m0:m1] = on_steps(bands, edges)[:, None]
    municipal, annual, cofinanced = [], [], []
    for code in codes:
        spec = econ.states.get(code)
        refunded = spec.refunded if spec and spec.refunded is not None else code in COVERED
        if spec and spec.municipal_share is not None:
            rows = np.full((len(edges), months), float(spec.municipal_share))
        else:
            rows = by_month.copy() if refunded else np.ones((len(edges), months))
        extra = [float(spec.old_rule.municipal_share) if spec and spec.old_rule else 0.0] * has_old
        extra += [0.0] * bool(day_one) + [0.0]  # refunded in full from day one; nobody pays the unpaid step
        municipal.append(np.vstack([rows, np.repeat(np.asarray(extra)[:, None], months, axis=1)]))
        level = spec.dkk_per_full_year_person if spec and spec.dkk_per_full_year_person is not None else (
            DKK_PER_FULL_YEAR_PERSON_2018[code])
        annual.append(np.full(months, float(level)))
        pricing = spec.pricing if spec and spec.pricing is not None else (
            "cofinanced" if code in COFINANCED else "refunded")
        cofinanced.append(pricing == "cofinanced")
    for state, m0, m1, level in dated.rates:
        annual[state][m0:m1] = level
    years = np.array([int(label[:4]) for label in calendar.labels])
    year_days = np.array([float(days_in_year(int(y))) for y in years])
    index = (1.0 + econ.price_index_per_year) ** (years - econ.base_year)
    daily = np.vstack(annual) * index[None, :] / year_days[None, :]
    return EconomicsModel(edges, base[:, 1].copy(), np.stack(municipal), daily, calendar, len(codes),
                          np.asarray(cofinanced, dtype=bool), old_shares, day_one)


def on_steps(staircase: np.ndarray, edges: tuple[float, ...]) -> np.ndarray:
    """A staircase's municipal share on each of `edges`' steps ([from_week, share] rows)."""
    starts = staircase[:, 0] * 7.0
    return np.asarray(staircase[np.searchsorted(starts, np.asarray(edges), side="right") - 1, 1])



def benefit_paid(econ: EconomicsModel, step_days: np.ndarray) -> np.ndarray:
    """The benefit paid out to citizens, DKK [state, month], whoever pays it: the base of the
    co-financing rate (every step but the unpaid one, at the state's level)."""
    return step_days[:, :-1, :].sum(axis=1) * econ.daily_dkk


def costs(econ: EconomicsModel, step_days: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Gross and net municipal DKK [state, month] from person-days [state, step, month]: gross is
    the benefit paid out for a refunded state and the municipality's payment (= net) for a
    cofinanced one."""
    net = np.einsum("skm,skm->sm", step_days, econ.municipal) * econ.daily_dkk
    gross = benefit_paid(econ, step_days)
    if econ.cofinanced.any():
        gross = np.where(econ.cofinanced[:, None], net, gross)
    return gross, net
