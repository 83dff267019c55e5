"""Cross-checks of the transitions block and of what it means for the initial stock: routes
lead to known states, clock shares add up, and the initial stock's elapsed durations can be drawn."""

from __future__ import annotations

from collections import defaultdict

from sim.contract.catalogue import EXITS, STAY
from sim.contract.checks.base import Checks, band_text, bands_text
from sim.contract.routes import stay_profile
from sim.contract.schema import Route
from sim.contract.yamlio import Path


def check_transitions(c: Checks) -> set[str]:
    """Every origin and destination resolves and every clock's shares add up; returns the
    sound origins (no problem in their routes), the only ones whose stays can be reasoned about."""
    known = [*c.s.states, *EXITS]
    sound: set[str] = set()
    for origin, routes in c.s.transitions.items():
        if origin not in c.s.states and origin not in EXITS:
            c.unknown(("transitions", origin), origin, known)
            continue
        before = len(c.out)
        for i, r in enumerate(routes):
            _check_route(c, origin, i, r, known)
        if c.gaps.missing_routes(origin):
            continue  # a refused route may hold a share: sums are unknown
        _check_clock_shares(c, origin, routes)
        if len(c.out) == before:
            sound.add(origin)
    return sound


def _check_route(c: Checks, origin: str, i: int, r: Route, known: list[str]) -> None:
    """One route: 'stay' only as a clock share without a rate, no route to itself, a known
    destination, and out of an exit only back into a benefit state."""
    rp: Path = ("transitions", origin, i, "to")
    if r.to == STAY:
        if r.at_week is None:
            c.add(rp, "'stay' is only a clock share's destination (with at_week and share)")
        elif r.rate_per_week is not None or r.mean_weeks is not None:
            key = "rate_per_week" if r.rate_per_week is not None else "mean_weeks"
            c.add(("transitions", origin, i, key),
                  f"{bands_text(getattr(r, key))} is not allowed: a 'to: stay' clock share "
                  f"keeps citizens in {origin} at week {r.at_week:g} and takes no rate; remove {key}")
    elif r.to == origin:
        c.add(rp, f"{r.to!r} routes a state to itself; use a clock share 'to: stay' to keep citizens")
    elif r.to not in c.s.states and r.to not in EXITS:
        c.unknown(rp, r.to, known)
    elif origin in EXITS and r.to in EXITS:
        c.add(rp, f"{r.to!r} is an exit; routes out of the exit {origin!r} are re-entries "
              "and must lead into a benefit state")


def _check_clock_shares(c: Checks, origin: str, routes: tuple[Route, ...]) -> None:
    """The shares of each clock sum to 1: at most 1 fixed, at most one 'rest', and a 'rest'
    when the fixed shares fall short."""
    clocks: dict[float, list[tuple[int, float | str]]] = defaultdict(list)
    for i, r in enumerate(routes):
        if r.at_week is not None and r.share is not None:
            clocks[r.at_week].append((i, r.share))
    for week, shares in clocks.items():
        fixed = sum(float(x) for _, x in shares if x != "rest")
        rests = [i for i, x in shares if x == "rest"]
        where: Path = ("transitions", origin, shares[-1][0], "share")
        if fixed > 1 + 1e-9:
            c.add(where, f"clock shares at week {week:g} sum to {_share_sum(fixed)}, {fixed - 1:.2g} more "
                  "than 1; they must sum to at most 1")
        elif len(rests) > 1:
            c.add(where, f"more than one 'rest' share at week {week:g}; at most one route takes the rest")
        elif not rests and fixed < 1 - 1e-9:
            c.add(where, f"clock shares at week {week:g} sum to {_share_sum(fixed)}, {1 - fixed:.2g} short "
                  "of 1; give one route share: rest (to: stay keeps the citizen in the state)")


def _share_sum(total: float) -> str:
    """A sum of shares to as many digits as tell it from 1: 1.1, or 1.0000001 (not 1)."""
    return next(text for digits in range(3, 17) if (text := f"{total:.{digits}g}") != "1")


def check_initial_stock(c: Checks, sound: set[str]) -> None:
    """An initial stock without initial_durations has its elapsed durations drawn from the
    steady state, which needs a finite mean stay."""
    s, gaps = c.s, c.gaps
    for code, stock in s.initial.items():
        if (stock <= 0 or code not in s.states or code in EXITS or s.initial_durations.get(code)
                or gaps.missing_durations(code) or gaps.missing_routes(code)
                or (code in s.transitions and code not in sound)):
            continue
        why = _infinite_stay(code, s.transitions.get(code, ()))
        if why is not None:
            c.add(("initial", code),
                  f"{stock:g} persons start in {code} without initial_durations, but {why}, so the mean "
                  "stay is infinite and their elapsed durations cannot be drawn from the steady state; "
                  f"give initial_durations.{code} or a route out of {code} with a rate above 0")


def _infinite_stay(code: str, routes: tuple[Route, ...]) -> str | None:
    """Why the mean stay in `code` is infinite, or None if it is finite."""
    if not routes:
        return f"{code} has no routes out"
    profile = stay_profile(routes)
    if profile.finite:
        return None
    last = profile.last_change_week
    return (f"from week {last:g} in {code} its routes' total rate is 0 and no clock moves everyone on"
            if last > 0 else f"the routes out of {code} have a total rate of 0")


def check_initial_duration_clocks(c: Checks, sound: set[str]) -> None:
    """initial_durations bands end by the week a clock moves everyone out of the state."""
    for code, bands in c.s.initial_durations.items():
        if code not in c.s.states or code not in sound or c.gaps.missing_routes(code):
            continue
        week = stay_profile(c.s.transitions[code]).emptied_week
        if week is None:
            continue
        for i, b in enumerate(bands):
            if b.to_week > week + 1e-9:
                c.add(("initial_durations", code, i),
                      f"{band_text(b)} reaches past week {week:g}, where the clock (at_week {week:g}) "
                      f"moves everyone out of {code}, so nobody can have been there longer; "
                      f"allowed: bands that end by week {week:g}")
