"""Number fields shared by the scenario schema's blocks."""

from __future__ import annotations

import itertools
import math
from typing import Annotated, Any

from pydantic import BeforeValidator


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


def _number(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{value!r} is not a number; {what}")
    return float(value)


def parse_bands(value: Any, what: str, positive: bool = False) -> Bands:
    """Read a number or a list of [from_week, value] pairs into validated bands."""
    sign = "> 0" if positive else "≥ 0"
    allowed = f"{what} must be a number {sign} or a list of [from_week, value] pairs"
    if isinstance(value, list | tuple):
        if not value:
            raise ValueError(f"an empty list; {allowed}")
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
    return tuple(pairs)
