"""Checks that span the scenario's blocks: every name resolves, clocks add up, targets fit the
horizon, the initial stock can be placed."""

from __future__ import annotations

import itertools
import math
import re
from collections import defaultdict
from collections.abc import Callable

from sim.contract.calendar import Calendar
from sim.contract.catalogue import CATALOGUE, EXITS, GROUPS, RESERVED, STAY, TOTAL
from sim.contract.messages import Gaps, did_you_mean
from sim.contract.parameters import PathError, get_value, scenario_data
from sim.contract.refusion import DKK_PER_FULL_YEAR_PERSON_2018
from sim.contract.schema import COST_METRICS, DURATION_METRIC, METRICS, DurationBand, Scenario, Target
from sim.contract.yamlio import Path
from sim.kernel.hazards import schedule_from_routes

_CODE = re.compile(r"^[a-z][a-z0-9_]*$")


def cross_check(s: Scenario, gaps: Gaps) -> list[tuple[Path, str]]:
    """Checks that span blocks: every name resolves, clocks add up, targets fit the horizon,
    the initial stock can be placed. `gaps` names what the schema refused, to be skipped."""
    out: list[tuple[Path, str]] = []
    declared = list(s.states)
    benefit_set = set(declared)
    known = declared + list(EXITS)

    def unknown(path: Path, code: str, choices: list[str]) -> None:
        if code in CATALOGUE and code not in EXITS and code not in benefit_set:
            out.append((path, f"unknown state {code!r}: it is in the benefit catalogue but not declared; "
                        f"add it under states, or use one of: {', '.join(choices)}"))
        else:
            out.append((path, f"unknown state {code!r}{did_you_mean(code, choices)}"))

    _check_parameters(s, out)
    if s.start.day != 1:
        out.append((("start",), f"{s.start} is not the first of a month; reporting is by "
                    "calendar month, so the horizon starts on a month's first day"))
    for code, spec in s.states.items():
        path: Path = ("states", code)
        if code in EXITS:
            out.append((path, f"{code!r} is a built-in exit, not a benefit state; exits need no declaration"))
        elif code in RESERVED and code not in CATALOGUE:
            out.append((path, f"{code!r} is reserved; choose another code"))
        elif not _CODE.match(code):
            out.append((path, f"{code!r} is not allowed; state codes are ASCII: lower-case "
                        "letters, digits and _ (labels carry the Danish letters)"))
        elif spec.group is not None and spec.group not in GROUPS:
            out.append(((*path, "group"),
                        f"unknown group {spec.group!r}{did_you_mean(spec.group, list(GROUPS))}"))
        elif code in CATALOGUE:
            if spec.group is not None and spec.group != CATALOGUE[code].group:
                out.append(((*path, "group"), f"{spec.group!r} is not allowed: {code} is in group "
                            f"{CATALOGUE[code].group!r} in the benefit catalogue"))
        elif spec.group is None:
            out.append(((*path, "group"),
                        f"custom state {code!r} needs a group; allowed: {', '.join(GROUPS)}"))

    for block in ("initial", "inflow_per_week", "initial_durations"):
        for code in getattr(s, block):
            if code in EXITS:
                out.append(((block, code), f"{code!r} is an exit state (off public support) used as an "
                            f"origin; {block} takes benefit states only: {', '.join(declared)}"))
            elif code not in benefit_set:
                unknown((block, code), code, declared)

    for code, bands in s.initial_durations.items():
        _check_bands(("initial_durations", code), bands, out)

    sound: set[str] = set()  # origins whose routes all resolve and whose clocks add up
    for origin, routes in s.transitions.items():
        if origin not in benefit_set and origin not in EXITS:
            unknown(("transitions", origin), origin, known)
            continue
        before = len(out)
        clocks: dict[float, list[tuple[int, float | str]]] = defaultdict(list)
        for i, r in enumerate(routes):
            rp: Path = ("transitions", origin, i, "to")
            if r.to == STAY:
                if r.at_week is None:
                    out.append((rp, "'stay' is only a clock share's destination (with at_week and share)"))
                elif r.rate_per_week is not None or r.mean_weeks is not None:
                    key = "rate_per_week" if r.rate_per_week is not None else "mean_weeks"
                    out.append((("transitions", origin, i, key),
                                f"{_bands(getattr(r, key))} is not allowed: a 'to: stay' clock share "
                                f"keeps citizens in {origin} at week {r.at_week:g} and takes no rate; "
                                f"remove {key}"))
            elif r.to == origin:
                out.append((rp, f"{r.to!r} routes a state to itself; use a clock share 'to: stay' "
                            "to keep citizens"))
            elif r.to not in benefit_set and r.to not in EXITS:
                unknown(rp, r.to, known)
            elif origin in EXITS and r.to in EXITS:
                out.append((rp, f"{r.to!r} is an exit; routes out of the exit {origin!r} are re-entries "
                            "and must lead into a benefit state"))
            if r.at_week is not None and r.share is not None:
                clocks[r.at_week].append((i, r.share))
        if gaps.missing_routes(origin):
            continue  # a refused route may hold a share: sums are unknown
        for week, shares in clocks.items():
            fixed = sum(float(x) for _, x in shares if x != "rest")
            rests = [i for i, x in shares if x == "rest"]
            where: Path = ("transitions", origin, shares[-1][0], "share")
            if fixed > 1 + 1e-9:
                out.append((where, f"clock shares at week {week:g} sum to {fixed:g}; they must sum to "
                            "at most 1"))
            elif len(rests) > 1:
                out.append((where, f"more than one 'rest' share at week {week:g}; at most one route "
                            "takes the rest"))
            elif not rests and fixed < 1 - 1e-9:
                out.append((where, f"clock shares at week {week:g} sum to {fixed:g}, below 1; give one route "
                            "share: rest (to: stay keeps the citizen in the state)"))
        if len(out) == before:
            sound.add(origin)

    _check_initial_stock(s, gaps, sound, out)
    if s.economics is not None:
        _check_economics(s, out, unknown)
    _check_interventions(s, out, unknown)

    calendar = Calendar.build(s.start.replace(day=1), s.months)
    full_years, months = list(calendar.full_years()), list(calendar.labels)
    observed = {(str(o.period), o.state, o.measure): o.value for o in s.observed}
    for i, t in enumerate(s.targets):
        tp: Path = ("targets", i)
        if t.metric not in METRICS:
            out.append(((*tp, "metric"),
                        f"unknown metric {t.metric!r}{did_you_mean(t.metric, list(METRICS))}"))
        elif t.metric in COST_METRICS and s.economics is None:
            out.append(((*tp, "metric"), f"{t.metric!r} needs an economics block (DKK per full-year "
                        "person and the refusion staircase); add economics: or use full_year_persons"))
        if t.team is not None and t.team not in [team.team for team in s.caseworkers]:
            out.append(((*tp, "team"), f"unknown team {t.team!r}"
                        f"{did_you_mean(t.team, [team.team for team in s.caseworkers])}"))
        if t.programme is not None and t.programme not in [p.name for p in s.interventions]:
            out.append(((*tp, "programme"), f"unknown programme {t.programme!r}"
                        f"{did_you_mean(t.programme, [p.name for p in s.interventions])}"))
        for j, code in enumerate(t.states):
            if code != TOTAL and code not in benefit_set:
                unknown((*tp, "states", j), code, [*declared, TOTAL])
        for j, g in enumerate(t.groups):
            if g not in GROUPS:
                out.append(((*tp, "groups", j), f"unknown group {g!r}{did_you_mean(g, list(GROUPS))}"))
        if t.min_weeks is not None and t.metric != "full_year_persons":
            out.append(((*tp, "min_weeks"), f"{t.min_weeks:g} is not allowed with metric {t.metric}: "
                        "min_weeks counts the full-year persons beyond that many weeks of the current spell; "
                        "use it with full_year_persons"))
        if t.year is not None and t.month is not None:
            out.append(((*tp, "month"), f"{t.month} is not allowed together with year {t.year}: a target "
                        "is over one calendar year or one month; give year or month, not both"))
        elif t.month is not None:
            if t.month not in months and not gaps.horizon and s.start.day == 1:
                out.append(((*tp, "month"), f"{t.month} is outside the horizon ({s.start} + {s.months} "
                            f"months); allowed: a month inside it ({months[0]}–{months[-1]})"))
        elif t.year not in full_years and not gaps.horizon and s.start.day == 1:
            covered = (f"{full_years[0]}–{full_years[-1]}" if len(full_years) > 1
                       else str(full_years[0]) if full_years else "none")
            out.append(((*tp, "year"), f"{t.year} is outside the horizon ({s.start} + {s.months} months); "
                        f"allowed: a full calendar year inside it ({covered})"))
        if t.base_year is not None and t.base_month is not None:
            out.append(((*tp, "base_month"), f"{t.base_month} is not allowed together with base_year "
                        f"{t.base_year}; give base_year or base_month, not both"))
        elif t.relative:
            _check_base(t, tp, observed, gaps, out)
    for i, o in enumerate(s.observed):
        if o.state not in benefit_set and o.state not in (TOTAL, *GROUPS, *(f"group:{g}" for g in GROUPS)):
            unknown(("observed", i, "state"), o.state, [*declared, TOTAL, *GROUPS])
    return out


def _check_base(t: Target, tp: Path, observed: dict[tuple[str, str, str], float], gaps: Gaps,
                out: list[tuple[Path, str]]) -> None:
    """A change or difference target's base: a period, one observed value per state or group,
    and for a mean duration one state or group (a mean is not a sum)."""
    kind = "a change" if t.change_at_most is not None or t.change_at_least is not None else "a difference"
    base = t.base_period
    if base is None:
        out.append(((*tp, "base_month"), f"required key is missing; {kind} target over a month ({t.month}) "
                    "needs the base it is measured from: give base_month (YYYY-MM) or base_year"))
        return
    if t.metric == DURATION_METRIC and len(t.states) + len(t.groups) > 1:
        codes = ", ".join((*t.states, *t.groups))
        out.append(((*tp, "states" if t.states else "groups"), f"{codes} is not allowed: {kind} in "
                    f"{DURATION_METRIC} is measured from one observed mean; name one state or group"))
        return
    if gaps.observed:
        return
    key = "base_month" if t.base_month is not None else "base_year"
    unit = "month" if t.base_month is not None else "year"
    for code in (*t.states, *t.groups):
        if (base, code, t.measure) not in observed:
            out.append(((*tp, key), f"no observed {t.measure} for {code!r} in {base}; {kind} target needs "
                        f"the base {unit}'s value in the observed block (period {base}, state {code}, "
                        f"measure {t.measure})"))


def _check_interventions(s: Scenario, out: list[tuple[Path, str]],
                         unknown: Callable[[Path, str, list[str]], None]) -> None:
    """Programmes and teams name declared states, and their effects name routes out of those states."""
    declared = list(s.states)
    features = [(("interventions", i), p.name, p.states,
                 {"effects.during": p.effects.during, "effects.after": p.effects.after})
                for i, p in enumerate(s.interventions)]
    features += [(("caseworkers", i), t.team, t.states,
                  {"effect_per_meeting": t.effect_per_meeting, "change_effect": t.change_effect})
                 for i, t in enumerate(s.caseworkers)]
    names: set[tuple[str, str]] = set()
    for i, p in enumerate(s.interventions):
        missing = [code for code in p.states if code in s.states and code not in s.ages]
        if p.age is not None and missing:
            out.append((("interventions", i, "age"), f"eligibility by age needs the ages of "
                        f"{', '.join(missing)}; give them in the scenario's ages block "
                        "([from_age, to_age, share] bands)"))
    for code in s.ages:
        if code not in s.states:
            unknown(("ages", code), code, declared)
    for name, by_state in s.attributes.items():
        for code, shares in by_state.items():
            if code not in s.states:
                unknown(("attributes", name, code), code, declared)
            elif abs(sum(shares.values()) - 1) > 1e-6:
                out.append((("attributes", name, code), f"shares sum to {sum(shares.values()):g}; "
                            "they must sum to 1"))
    for i, p in enumerate(s.interventions):
        for name, value in p.attributes.items():
            given = s.attributes.get(name, {})
            lacking = [c for c in p.states if c in s.states and value not in given.get(c, {})]
            if lacking:
                out.append((("interventions", i, "attributes", name), f"{value!r} is not a value of {name!r} "
                            f"in {', '.join(lacking)}; give it in the scenario's attributes block"))
        if p.referral == "at_clock":
            clockless = [c for c in p.states if c in s.states and not any(
                r.at_week is not None for r in s.transitions.get(c, ()))]
            if clockless:
                out.append((("interventions", i, "referral"), f"referral at_clock needs a forced clock in "
                            f"{', '.join(clockless)}; give a route with at_week there, or use at_week"))
    for code, bands in s.ages.items():
        if bands and abs(sum(b.share for b in bands) - 1) > 1e-6:
            out.append((("ages", code), f"shares sum to {sum(b.share for b in bands):g}; they must sum to 1"))
    for path, name, states, effects in features:
        key = str(path[0]), name
        if key in names:
            field = "name" if path[0] == "interventions" else "team"
            out.append(((*path, field), f"{name!r} is used twice; each needs its own name"))
        names.add(key)
        for j, code in enumerate(states):
            if code not in s.states:
                unknown((*path, "states", j), code, declared)
        routes = {r.to for code in states for r in s.transitions.get(code, ()) if r.to != STAY}
        for when, ratios in effects.items():
            for dest in ratios:
                if dest not in routes:
                    allowed = ", ".join(sorted(routes)) or "none"
                    out.append(((*path, *when.split("."), dest),
                                f"no route from {', '.join(states)} leads to {dest!r}; effects are hazard "
                                f"ratios on routes out of the eligible states: {allowed}"))


def _check_bands(path: Path, bands: tuple[DurationBand, ...], out: list[tuple[Path, str]]) -> None:
    """Weeks bands with shares: shares sum to 1, bands do not overlap."""
    if bands and abs(sum(b.share for b in bands) - 1) > 1e-6:
        out.append((path, f"shares sum to {sum(b.share for b in bands):g}; they must sum to 1"))
    for i, (a, b) in enumerate(itertools.pairwise(bands)):
        if b.from_week < a.to_week:
            out.append(((*path, i + 1), f"{_band(b)} starts at week {b.from_week:g}, inside the band before "
                        f"(to week {a.to_week:g}); bands must not overlap and weeks must increase"))


def _check_economics(s: Scenario, out: list[tuple[Path, str]], unknown: Callable[[Path, str, list[str]], None]
                     ) -> None:
    """Money rules name declared states, and every state has a benefit level."""
    assert s.economics is not None
    declared = list(s.states)
    for block in ("states", "initial_history"):
        for code in getattr(s.economics, block):
            if code not in s.states:
                unknown(("economics", block, code), code, declared)
    for code in declared:
        spec = s.economics.states.get(code)
        given = spec is not None and spec.dkk_per_full_year_person is not None
        if code not in DKK_PER_FULL_YEAR_PERSON_2018 and not given:
            out.append((("economics", "states", code), f"{code!r} has no default benefit level (it is not in "
                        "the catalogue); give economics.states."
                        f"{code}.dkk_per_full_year_person"))
    for code, bands in s.economics.initial_history.items():
        _check_bands(("economics", "initial_history", code), bands, out)
    if s.economics.reset_after_weeks > s.economics.reset_window_weeks:
        out.append((("economics", "reset_after_weeks"),
                    f"{s.economics.reset_after_weeks:g} weeks of self-support cannot fit in the "
                    f"{s.economics.reset_window_weeks:g}-week window (reset_window_weeks); allowed: at most "
                    f"{s.economics.reset_window_weeks:g}"))


def _check_initial_stock(s: Scenario, gaps: Gaps, sound: set[str], out: list[tuple[Path, str]]) -> None:
    """The initial stock's elapsed durations must be drawable: from the given bands, which must
    end where a clock empties the state, or from the steady state, which needs a finite mean stay."""
    index = {c: i for i, c in enumerate((*s.states, *EXITS))}
    for code, stock in s.initial.items():
        if (stock <= 0 or code not in s.states or code in EXITS or s.initial_durations.get(code)
                or gaps.missing_durations(code) or gaps.missing_routes(code)
                or (code in s.transitions and code not in sound)):
            continue
        routes = s.transitions.get(code, ())
        schedule = schedule_from_routes(routes, index) if routes else None
        if schedule is not None and math.isfinite(schedule.mean_stay()):
            continue
        if schedule is None:
            why = f"{code} has no routes out"
        else:
            last = schedule.segments()[-1][0] / 7.0
            why = (f"from week {last:g} in {code} its routes' total rate is 0 and no clock moves everyone on"
                   if last > 0 else f"the routes out of {code} have a total rate of 0")
        out.append((("initial", code),
                    f"{stock:g} persons start in {code} without initial_durations, but {why}, so the mean "
                    "stay is infinite and their elapsed durations cannot be drawn from the steady state; "
                    f"give initial_durations.{code} or a route out of {code} with a rate above 0"))
    for code, bands in s.initial_durations.items():
        if code not in s.states or code not in sound or gaps.missing_routes(code):
            continue
        schedule = schedule_from_routes(s.transitions[code], index)
        ends = [c.day / 7.0 for c in schedule.clocks if c.stay_share <= 0.0]
        if not ends:
            continue
        week = min(ends)
        for i, b in enumerate(bands):
            if b.to_week > week + 1e-9:
                out.append((("initial_durations", code, i),
                            f"{_band(b)} reaches past week {week:g}, where the clock (at_week {week:g}) "
                            f"moves everyone out of {code}, so nobody can have been there longer; "
                            f"allowed: bands that end by week {week:g}"))


def _band(b: DurationBand) -> str:
    return f"[{b.from_week:g}, {b.to_week:g}, {b.share:g}]"


def _bands(bands: tuple[tuple[float, float], ...] | None) -> str:
    if not bands:
        return "None"
    if len(bands) == 1:
        return f"{bands[0][1]:g}"
    return "[" + ", ".join(f"[{w:g}, {v:g}]" for w, v in bands) + "]"


def _check_parameters(s: Scenario, out: list[tuple[Path, str]]) -> None:
    """Every parameter path of `calibrate` and `uncertainty` names one number of the scenario."""
    named: list[tuple[Path, str]] = []
    if s.calibrate is not None:
        named += [(("calibrate", "parameters", i, "path"), p.path)
                  for i, p in enumerate(s.calibrate.parameters)]
    if s.uncertainty is not None:
        named += [(("uncertainty", "parameters", i, "path"), p.path)
                  for i, p in enumerate(s.uncertainty.parameters)]
    if not named:
        return
    data = scenario_data(s)
    for path, name in named:
        try:
            get_value(data, name)
        except PathError as exc:
            out.append((path, f"{name!r} does not name a number of the scenario: {exc}"))
