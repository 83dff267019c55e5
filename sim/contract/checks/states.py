"""Cross-checks of the scenario's head and its states: parameter paths, the start day, the
state codes and groups, and the states that initial, inflow_per_week and initial_durations name."""

from __future__ import annotations

import re

import numpy as np

from sim.contract.catalogue import CATALOGUE, EXITS, GROUPS, RESERVED
from sim.contract.checks.base import Checks, check_bands
from sim.contract.messages import did_you_mean
from sim.contract.parameters import PathError, get_value, scenario_data
from sim.contract.schema import MAX_INFLOW_PER_WEEK
from sim.contract.yamlio import Path

_CODE = re.compile(r"^[a-z][a-z0-9_]*$")


def check_parameters(c: Checks) -> None:
    """Every parameter path of `calibrate` and `uncertainty` names one number of the scenario."""
    s = c.s
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
            c.add(path, f"{name!r} does not name a number of the scenario: {exc}")


def check_start(c: Checks) -> None:
    """The horizon starts on a month's first day: reporting is by calendar month."""
    if c.s.start.day != 1:
        c.add(("start",), f"{c.s.start} is not the first of a month; reporting is by "
              "calendar month, so the horizon starts on a month's first day")


def check_states(c: Checks) -> None:
    """State codes are plain ASCII and not exits or reserved; groups are known and agree with
    the benefit catalogue; a custom state has one."""
    for code, spec in c.s.states.items():
        path: Path = ("states", code)
        if code in EXITS:
            c.add(path, f"{code!r} is a built-in exit, not a benefit state; exits need no declaration")
        elif code in RESERVED and code not in CATALOGUE:
            c.add(path, f"{code!r} is reserved; choose another code")
        elif not _CODE.match(code):
            c.add(path, f"{code!r} is not allowed; state codes are ASCII: lower-case "
                  "letters, digits and _ (labels carry the Danish letters)")
        elif spec.group is not None and spec.group not in GROUPS:
            c.add((*path, "group"), f"unknown group {spec.group!r}{did_you_mean(spec.group, list(GROUPS))}")
        elif code in CATALOGUE:
            if spec.group is not None and spec.group != CATALOGUE[code].group:
                c.add((*path, "group"), f"{spec.group!r} is not allowed: {code} is in group "
                      f"{CATALOGUE[code].group!r} in the benefit catalogue")
        elif spec.group is None:
            c.add((*path, "group"), f"custom state {code!r} needs a group; allowed: {', '.join(GROUPS)}")


def check_inflow_growth(c: Checks) -> None:
    """A trend keeps the inflow within the weekly bound over the whole horizon: a yearly trend
    compounds, so 100 % a year for 50 years would multiply it by 2^50."""
    ends = np.array([0.0, c.s.months / 12.0])  # a compounding trend is largest at one end
    for code, spec in c.s.inflow_per_week.items():
        peak_season = max(spec.seasonality) if spec.seasonality else 1.0
        peak = spec.rate * peak_season * float(spec.trend_factor(c.s.start, ends).max())
        if peak > MAX_INFLOW_PER_WEEK:
            c.add(("inflow_per_week", code, "trend_per_year"),
                  f"{spec.trend_per_year:g} a year takes the inflow to {peak:,.0f} a week by the horizon's "
                  f"end, more than the {MAX_INFLOW_PER_WEEK:,} a week an inflow may reach; give a smaller "
                  "trend or a shorter horizon")


def check_origins(c: Checks) -> None:
    """initial, inflow_per_week and initial_durations name declared benefit states, not exits; but
    an exit with routes back to support (re-entry) may hold recent leavers in initial, with their
    weeks since leaving in initial_durations (a restart from an observed caseload, `caseflow track`)."""
    declared = c.declared
    for block in ("initial", "inflow_per_week", "initial_durations"):
        for code in getattr(c.s, block):
            if code in EXITS and block != "inflow_per_week" and c.s.transitions.get(code):
                if block == "initial" and c.s.initial[code] > 0 and not c.s.initial_durations.get(code):
                    c.add((block, code), f"{c.s.initial[code]:g} persons start in the exit {code!r} (off "
                          f"public support, with routes back), but without initial_durations.{code}: "
                          "give the weeks since they left (leavers have no steady state to draw from)")
            elif code in EXITS:
                c.add((block, code), f"{code!r} is an exit state (off public support) used as an "
                      f"origin; {block} takes benefit states only: {', '.join(declared)}")
            elif code not in c.s.states:
                c.unknown((block, code), code, declared)


def check_initial_duration_bands(c: Checks) -> None:
    """Each state's initial_durations bands have shares summing to 1 and do not overlap."""
    for code, bands in c.s.initial_durations.items():
        check_bands(c, ("initial_durations", code), bands)
