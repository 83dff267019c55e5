"""Cross-checks of the targets and observed blocks: metrics, states, teams and programmes
resolve, periods fit the horizon, and a relative target's base is observed."""

from __future__ import annotations

from sim.contract.calendar import Calendar
from sim.contract.catalogue import GROUPS, TOTAL
from sim.contract.checks.base import Checks
from sim.contract.messages import did_you_mean
from sim.contract.observed_terms import MEASURES, is_measure, unknown_word
from sim.contract.schema import COST_METRICS, DURATION_METRIC, METRICS, Target
from sim.contract.yamlio import Path

Observations = dict[tuple[str, str, str], float]
"""Observed values by (period, state, measure)."""


def check_targets(c: Checks) -> None:
    """Each target names what it measures and a period inside the horizon, and a relative one
    its observed base."""
    s = c.s
    calendar = Calendar.build(s.start.replace(day=1), s.months)
    full_years, months = list(calendar.full_years()), list(calendar.labels)
    observed = {(str(o.period), o.state, o.measure): o.value for o in s.observed}
    for i, t in enumerate(s.targets):
        tp: Path = ("targets", i)
        _check_measured(c, t, tp)
        _check_period(c, t, tp, full_years, months)
        if t.base_year is not None and t.base_month is not None:
            c.add((*tp, "base_month"), f"{t.base_month} is not allowed together with base_year "
                  f"{t.base_year}; give base_year or base_month, not both")
        elif t.relative:
            _check_base(c, t, tp, observed)


def _check_measured(c: Checks, t: Target, tp: Path) -> None:
    """The target's metric, team, programme, states and groups exist, and min_weeks goes with
    full-year persons."""
    s = c.s
    if t.metric not in METRICS:
        c.add((*tp, "metric"), f"unknown metric {t.metric!r}{did_you_mean(t.metric, list(METRICS))}")
    elif t.metric in COST_METRICS and s.economics is None:
        c.add((*tp, "metric"), f"{t.metric!r} needs an economics block (DKK per full-year "
              "person and the refusion staircase); add economics: or use full_year_persons")
    teams, programmes = [team.team for team in s.caseworkers], [p.name for p in s.interventions]
    if t.team is not None and t.team not in teams:
        c.add((*tp, "team"), f"unknown team {t.team!r}{did_you_mean(t.team, teams)}")
    if t.programme is not None and t.programme not in programmes:
        c.add((*tp, "programme"), f"unknown programme {t.programme!r}{did_you_mean(t.programme, programmes)}")
    for j, code in enumerate(t.states):
        if code != TOTAL and code not in s.states:
            c.unknown((*tp, "states", j), code, [*c.declared, TOTAL])
    for j, g in enumerate(t.groups):
        if g not in GROUPS:
            c.add((*tp, "groups", j), f"unknown group {g!r}{did_you_mean(g, list(GROUPS))}")
    if t.basis == "payment" and (t.metric != "full_year_persons" or t.min_weeks is not None):
        c.add((*tp, "basis"), f"payment is not allowed with metric {t.metric}"
              + (" and min_weeks" if t.min_weeks is not None else "") + ": the payment basis "
              "counts full-year persons from the day the municipality pays; use it with "
              "full_year_persons (without min_weeks)")
    if t.min_weeks is not None and t.metric != "full_year_persons":
        c.add((*tp, "min_weeks"), f"{t.min_weeks:g} is not allowed with metric {t.metric}: "
              "min_weeks counts the full-year persons beyond that many weeks of the current spell; "
              "use it with full_year_persons")


def _check_period(c: Checks, t: Target, tp: Path, full_years: list[int], months: list[str]) -> None:
    """A target is over one calendar year or one month, inside the horizon (unless the horizon
    itself was refused)."""
    s, open_horizon = c.s, not c.gaps.horizon and c.s.start.day == 1
    if t.year is not None and t.month is not None:
        c.add((*tp, "month"), f"{t.month} is not allowed together with year {t.year}: a target "
              "is over one calendar year or one month; give year or month, not both")
    elif t.month is not None:
        if t.month not in months and open_horizon:
            c.add((*tp, "month"), f"{t.month} is outside the horizon ({s.start} + {s.months} "
                  f"months); allowed: a month inside it ({months[0]}–{months[-1]})")
    elif t.year not in full_years and open_horizon:
        covered = (f"{full_years[0]}–{full_years[-1]}" if len(full_years) > 1
                   else str(full_years[0]) if full_years else "none")
        c.add((*tp, "year"), f"{t.year} is outside the horizon ({s.start} + {s.months} months); "
              f"allowed: a full calendar year inside it ({covered})")


def _check_base(c: Checks, t: Target, tp: Path, observed: Observations) -> None:
    """A change or difference target's base: a period, one observed value per state or group,
    and for a mean duration one state or group (a mean is not a sum)."""
    kind = "a change" if t.change_at_most is not None or t.change_at_least is not None else "a difference"
    base = t.base_period
    if base is None:
        c.add((*tp, "base_month"), f"required key is missing; {kind} target over a month ({t.month}) "
              "needs the base it is measured from: give base_month (YYYY-MM) or base_year")
        return
    if t.metric == DURATION_METRIC and len(t.states) + len(t.groups) > 1:
        codes = ", ".join((*t.states, *t.groups))
        c.add((*tp, "states" if t.states else "groups"), f"{codes} is not allowed: {kind} in "
              f"{DURATION_METRIC} is measured from one observed mean; name one state or group")
        return
    if c.gaps.observed:
        return
    key = "base_month" if t.base_month is not None else "base_year"
    unit = "month" if t.base_month is not None else "year"
    for code in (*t.states, *t.groups):
        if (base, code, t.measure) not in observed:
            c.add((*tp, key), f"no observed {t.measure} for {code!r} in {base}; {kind} target needs "
                  f"the base {unit}'s value in the observed block (period {base}, state {code}, "
                  f"measure {t.measure})")


def check_observed(c: Checks) -> None:
    """Each observed figure is about a declared state, a group or the total, is not below 0 (every
    measure is a stock, count, duration or amount), and is the only one of its period, state and
    measure (a second would silently replace the first)."""
    allowed = (TOTAL, *GROUPS, *(f"group:{g}" for g in GROUPS))
    first: dict[tuple[str, str, str], int] = {}
    for i, o in enumerate(c.s.observed):
        if o.state not in c.s.states and o.state not in allowed:
            c.unknown(("observed", i, "state"), o.state, [*c.declared, TOTAL, *GROUPS])
        if not is_measure(o.measure):
            c.add(("observed", i, "measure"), f"{unknown_word('measure', o.measure, MEASURES)}; the measures "
                  "are listed in calibration/README.md")
        if o.value < 0:
            c.add(("observed", i, "value"), f"{o.value:g} is below 0; an observed {o.measure} is a stock, "
                  "count, duration or amount, never negative")
        key = (str(o.period), o.state, o.measure)
        if key in first:
            j = first[key]
            c.add(("observed", i), f"period {key[0]}, state {o.state}, measure {o.measure} is observed "
                  f"twice: here ({o.value:g}) and in observed[{j}] ({c.s.observed[j].value:g}); keep one")
        else:
            first[key] = i
