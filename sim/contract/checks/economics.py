"""Cross-checks of the economics block: money rules name declared states, every state has a
benefit level, an old-rule share belongs to a state with an initial stock, support histories
are sound bands, and the reset rule fits its window."""

from __future__ import annotations

from sim.contract.checks.base import Checks, check_bands
from sim.contract.refusion import DKK_PER_FULL_YEAR_PERSON_2018
from sim.contract.routes import clock_weeks


def check_dagpenge_period(c: Checks) -> None:
    """The dagpenge period names a declared state that has a clock to count across spells."""
    period = c.s.dagpenge_period
    if period is None:
        return
    if period.state not in c.s.states:
        c.unknown(("dagpenge_period", "state"), period.state, c.declared)
    elif not clock_weeks(c.s.transitions.get(period.state, ())):
        c.add(("dagpenge_period", "state"), f"{period.state!r} has no clock (a route with at_week) "
              "to count across spells; give it its exhaustion clock or leave dagpenge_period out")


def check_economics(c: Checks) -> None:
    """Money rules name declared states, every state has a benefit level, and an old-rule share
    has an initial stock to apply to."""
    economics = c.s.economics
    if economics is None:
        return
    declared = c.declared
    for block in ("states", "initial_history"):
        for code in getattr(economics, block):
            if code not in c.s.states:
                c.unknown(("economics", block, code), code, declared)
    for code in declared:
        spec = economics.states.get(code)
        given = spec is not None and spec.dkk_per_full_year_person is not None
        if code not in DKK_PER_FULL_YEAR_PERSON_2018 and not given:
            c.add(("economics", "states", code), f"{code!r} has no default benefit level (it is not in "
                  f"the catalogue); give economics.states.{code}.dkk_per_full_year_person")
    for code, spec in economics.states.items():
        if spec.old_rule is not None and code in c.s.states and not c.s.initial.get(code, 0):
            c.add(("economics", "states", code, "old_rule"),
                  f"{code!r} has no initial stock (initial.{code}); old_rule is the share of the "
                  f"initial stock on the old rules, so give {code} an initial stock or leave old_rule out")
    for code, bands in economics.initial_history.items():
        check_bands(c, ("economics", "initial_history", code), bands)
    if economics.reset_after_weeks > economics.reset_window_weeks:
        c.add(("economics", "reset_after_weeks"),
              f"{economics.reset_after_weeks:g} weeks of self-support cannot fit in the "
              f"{economics.reset_window_weeks:g}-week window (reset_window_weeks); allowed: at most "
              f"{economics.reset_window_weeks:g}")
