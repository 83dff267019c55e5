"""Cross-checks of the dated rules: each names a declared state that has what the rule changes
(a clock to pause or move, unpaid first weeks to pay), and a rule on prices has an economics
block and starts and ends at a month's boundary (the costing is monthly)."""

from __future__ import annotations

import datetime as dt

from sim.contract.checks.base import Checks
from sim.contract.refusion import UNPAID_FIRST_WEEKS
from sim.contract.routes import clock_weeks
from sim.contract.rules_spec import ClockFrom, PauseClocks, RateFrom, RefundFromDayOne, StaircaseFrom


def _unpaid_weeks(c: Checks, state: str) -> float:
    econ = c.s.economics
    spec = econ.states.get(state) if econ is not None else None
    if spec is not None and spec.unpaid_first_weeks is not None:
        return float(spec.unpaid_first_weeks)
    return UNPAID_FIRST_WEEKS.get(state, 0.0)


def _month_end(d: dt.date) -> bool:
    return (d + dt.timedelta(days=1)).day == 1


def check_rules(c: Checks) -> None:
    """Every dated rule applies to something the scenario has."""
    for i, rule in enumerate(c.s.rules):
        at = ("rules", i)
        state = getattr(rule, "state", None)
        if state is not None and state not in c.s.states:
            c.unknown((*at, "state"), state, c.declared)
            continue
        if isinstance(rule, PauseClocks) and not clock_weeks(c.s.transitions.get(rule.state, ())):
            c.add((*at, "state"), f"{rule.state!r} has no clock (a route with at_week) to pause; "
                  "pause the state whose forced move the rule stops, or leave the rule out")
        elif isinstance(rule, ClockFrom):
            weeks = clock_weeks(c.s.transitions.get(rule.state, ()))
            if float(rule.week) not in weeks:
                have = ", ".join(f"{w:g}" for w in weeks) or "none"
                c.add((*at, "week"), f"{rule.state!r} has no clock at week {rule.week:g} (its clocks: "
                      f"{have}); week names a clock of transitions.{rule.state} by its at_week")
        elif isinstance(rule, RefundFromDayOne) and _unpaid_weeks(c, rule.state) <= 0:
            c.add((*at, "state"), f"{rule.state!r} has no unpaid first weeks to pay from day one "
                  f"(economics.states.{rule.state}.unpaid_first_weeks; sygedagpenge has its employer period)")
        elif isinstance(rule, StaircaseFrom | RateFrom):
            if c.s.economics is None:
                c.add((*at, "kind"), f"a dated {rule.kind} changes prices, and the scenario has no "
                      "economics block; add one (economics: {}) or leave the rule out")
            if rule.start.day != 1:
                c.add((*at, "from"), f"{rule.start} is not the first of a month; a dated {rule.kind} "
                      "starts on a month's first day (costs are reckoned by month)")
            if rule.until is not None and not _month_end(rule.until):
                c.add((*at, "until"), f"{rule.until} is not the last day of a month; a dated "
                      f"{rule.kind} ends on a month's last day (costs are reckoned by month)")
            if isinstance(rule, StaircaseFrom) and rule.staircase[0][0] != 0:
                c.add((*at, "staircase"), f"the staircase starts at week {rule.staircase[0][0]:g}; its "
                      "first step must start at week 0")
