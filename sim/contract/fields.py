"""Number fields shared by the scenario schema's blocks."""

from __future__ import annotations

import datetime as dt
import itertools
import math
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator


def shown(value: Any) -> str:
    """A bad value as messages show it: the file's writing (dates as 2018-01-01), cut to 60
    characters."""
    text = value.isoformat() if isinstance(value, dt.date) else repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _not_bool(value: Any) -> Any:
    """Refuse YAML's true/false/yes/no where a number is expected (pydantic would read 1/0)."""
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is a yes/no value; a number is needed here")
    return value


Num = Annotated[float, BeforeValidator(_not_bool)]
"""A number (not a yes/no value)."""
Whole = Annotated[int, BeforeValidator(_not_bool)]
"""A whole number (not a yes/no value)."""


Bands = tuple[tuple[float, float], ...]
"""Piecewise-constant values as (from week, value) pairs, weeks strictly increasing from 0."""

DAY_WEEKS = 1 / 7
"""One day in weeks: the shortest clock and the shortest mean stay. caseflow books person-days
and every series it is compared with counts days, so nothing shorter can be told apart."""
MAX_RATE_PER_WEEK = 7.0
"""The largest rate of a route: one move a day (a mean stay of one day). A typo such as 1.0e+6
would move each citizen 140,000 times a day and never finish; no benefit has a mean stay under a
day (the shipped scenarios' largest rate is 0.11 a week)."""
MAX_BANDS = 520
"""The most bands a rate may have: weekly bands for ten years. Each band edge redraws a citizen's
next move, so a file with a hundred thousand tiny bands would cost as many events per spell."""


START_YEARS = (1950, 2150)
"""The years a horizon may start in: a start outside them is a typo (9999, 0218), not a plan."""
MAX_STATES = 100
"""The most benefit states a scenario may declare: the Jobindsats catalogue has 21, and the
moves between states are counted per month in a table of (states + 5) × (states + 4) × months
integers of 8 bytes, held about four times at once (a replication's, its copy, the sum and the
sum of squares): 100 states over the longest horizon (600 months) take 52 MB a copy."""
MAX_ROUTES = 100
"""The most routes out of one state (the shipped scenarios have at most 10): every route and
every clock week is looked at on each of a citizen's moves."""


def flow_table_bytes(states: int, months: int) -> int:
    """Bytes of one copy of the flow table for `states` benefit states over `months` months."""
    return (states + 5) * (states + 4) * months * 8


def few_routes(v: Any) -> Any:
    """A state's routes, refused before each is validated when there are more than MAX_ROUTES."""
    if isinstance(v, list | tuple) and len(v) > MAX_ROUTES:
        raise ValueError(f"{len(v):,} routes are more than the {MAX_ROUTES} allowed out of one state")
    return v


def plausible_start(v: dt.date) -> dt.date:
    """The horizon's first day, in a year of START_YEARS."""
    first, last = START_YEARS
    if not first <= v.year <= last:
        raise ValueError(f"{v.isoformat()} is not allowed; the horizon starts in a year from {first} "
                         f"to {last}")
    return v


def _a_day_at_least(v: float) -> float:
    if v < DAY_WEEKS - 1e-6:  # 0.142857 is a day
        raise ValueError(f"{v!r} weeks is less than a day; a clock strikes at week 1/7 (one day, "
                         f"{DAY_WEEKS:.4f}) or later, as the person-day ledger counts days")
    return v


ClockWeek = Annotated[float, BeforeValidator(_not_bool), AfterValidator(_a_day_at_least)]
"""The week a forced clock strikes: at least one day into the spell."""


def _number(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{value!r} is not a number; {what}")
    return float(value)


def parse_bands(value: Any, what: str, positive: bool = False, low: float | None = None,
                high: float | None = None, limit: str = "") -> Bands:
    """Read a number or a list of [from_week, value] pairs into validated bands; each value
    must be ≥ 0 (> 0 if `positive`) and within [low, high] when given, `limit` saying why."""
    sign = "> 0" if positive else "≥ 0"
    allowed = f"{what} must be a number {sign} or a list of [from_week, value] pairs"
    if isinstance(value, list | tuple):
        if not value:
            raise ValueError(f"an empty list; {allowed}")
        if len(value) > MAX_BANDS:
            raise ValueError(f"{len(value):,} bands are more than the {MAX_BANDS} allowed (weekly bands "
                             "for ten years); each band edge costs an event per spell")
        pairs: list[tuple[float, float]] = []
        for item in value:
            if not isinstance(item, list | tuple) or len(item) != 2:
                raise ValueError(f"{item!r} is not a [from_week, value] pair; {allowed}")
            pairs.append((_number(item[0], allowed), _number(item[1], allowed)))
    else:
        pairs = [(0.0, _number(value, allowed))]
    if pairs[0][0] != 0:
        raise ValueError(f"the first band starts at week {pairs[0][0]:g}; it must start at week 0")
    for (w0, _), (w1, _) in itertools.pairwise(pairs):
        if w1 <= w0:
            raise ValueError(
                f"band weeks {[p[0] for p in pairs]} are not strictly increasing; "
                "each band must start after the one before"
            )
    for _, v in pairs:
        if v < 0 or (positive and v == 0):
            raise ValueError(f"{v:g} is not allowed; {allowed}")
        shown = f"{v:g}" if isinstance(value, list | tuple) else repr(value)  # as the message starts
        if low is not None and v < low:
            raise ValueError(f"{shown} is below {low:.4g}; {limit}")
        if high is not None and v > high:
            raise ValueError(f"{shown} is above {high:g}; {limit}")
    return tuple(pairs)


def _shares(bands: Bands) -> Bands:
    for _, share in bands:
        if share > 1:
            raise ValueError(f"{share:g} is above 1; a municipal share is a number in [0, 1]")
    return bands


ShareBands = Annotated[Bands, BeforeValidator(lambda v: _shares(parse_bands(v, "a municipal share")))]
"""A refusion staircase: [from_week, municipal share] bands, each share in [0, 1]."""
