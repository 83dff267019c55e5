"""Cross-checks of the blocks that pick citizens out: interventions, caseworkers, ages and
attributes. Programmes and teams name declared states, eligibility has the data it needs, and
effects name routes out of the eligible states."""

from __future__ import annotations

from sim.contract.catalogue import STAY
from sim.contract.checks.base import Checks
from sim.contract.routes import clock_weeks
from sim.contract.yamlio import Path


def check_intervention_ages(c: Checks) -> None:
    """A programme with eligibility by age has the ages of its states."""
    s = c.s
    for i, p in enumerate(s.interventions):
        missing = [code for code in p.states if code in s.states and code not in s.ages]
        if p.age is not None and missing:
            c.add(("interventions", i, "age"), f"eligibility by age needs the ages of "
                  f"{', '.join(missing)}; give them in the scenario's ages block "
                  "([from_age, to_age, share] bands)")


def check_age_states(c: Checks) -> None:
    """The ages block names declared states."""
    for code in c.s.ages:
        if code not in c.s.states:
            c.unknown(("ages", code), code, c.declared)


def check_attributes(c: Checks) -> None:
    """The attributes block names declared states, and each state's shares sum to 1."""
    for name, by_state in c.s.attributes.items():
        for code, shares in by_state.items():
            if code not in c.s.states:
                c.unknown(("attributes", name, code), code, c.declared)
            elif abs(sum(shares.values()) - 1) > 1e-6:
                c.add(("attributes", name, code), f"shares sum to {sum(shares.values()):g}; "
                      "they must sum to 1")


def check_eligibility(c: Checks) -> None:
    """A programme's attribute values are given for its states, and a referral at_clock has a
    forced clock in each of them."""
    s = c.s
    for i, p in enumerate(s.interventions):
        for name, value in p.attributes.items():
            given = s.attributes.get(name, {})
            lacking = [code for code in p.states if code in s.states and value not in given.get(code, {})]
            if lacking:
                c.add(("interventions", i, "attributes", name), f"{value!r} is not a value of {name!r} "
                      f"in {', '.join(lacking)}; give it in the scenario's attributes block")
        if p.referral == "at_clock":
            clockless = [code for code in p.states if code in s.states
                         and not clock_weeks(s.transitions.get(code, ()))]
            if clockless:
                c.add(("interventions", i, "referral"), f"referral at_clock needs a forced clock in "
                      f"{', '.join(clockless)}; give a route with at_week there, or use at_week")


def check_age_shares(c: Checks) -> None:
    """Each state's age bands have shares summing to 1."""
    for code, bands in c.s.ages.items():
        if bands and abs(sum(b.share for b in bands) - 1) > 1e-6:
            c.add(("ages", code), f"shares sum to {sum(b.share for b in bands):g}; they must sum to 1")


def check_programmes_and_teams(c: Checks) -> None:
    """Programmes and teams each have their own name, name declared states, and have effects
    only on routes out of those states."""
    features: list[tuple[Path, str, tuple[str, ...], dict[str, dict[str, float]]]] = [
        (("interventions", i), p.name, p.states,
         {"effects.during": p.effects.during, "effects.after": p.effects.after})
        for i, p in enumerate(c.s.interventions)]
    features += [(("caseworkers", i), t.team, t.states,
                  {"effect_per_meeting": t.effect_per_meeting, "change_effect": t.change_effect})
                 for i, t in enumerate(c.s.caseworkers)]
    names: set[tuple[str, str]] = set()
    for path, name, states, effects in features:
        key = str(path[0]), name
        if key in names:
            field = "name" if path[0] == "interventions" else "team"
            c.add((*path, field), f"{name!r} is used twice; each needs its own name")
        names.add(key)
        for j, code in enumerate(states):
            if code not in c.s.states:
                c.unknown((*path, "states", j), code, c.declared)
        _check_effects(c, path, states, effects)


def _check_effects(c: Checks, path: Path, states: tuple[str, ...],
                   effects: dict[str, dict[str, float]]) -> None:
    """Each effect's destination is reached by a route out of one of the eligible states."""
    routes = {r.to for code in states for r in c.s.transitions.get(code, ()) if r.to != STAY}
    for when, ratios in effects.items():
        for dest in ratios:
            if dest not in routes:
                allowed = ", ".join(sorted(routes)) or "none"
                c.add((*path, *when.split("."), dest),
                      f"no route from {', '.join(states)} leads to {dest!r}; effects are hazard "
                      f"ratios on routes out of the eligible states: {allowed}")
