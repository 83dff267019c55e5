"""Citizens' traits: age and attribute values drawn at entry from the scenario's bands.

Each citizen draws its traits from its own stream (`ARRIVAL_TRAITS`/`INITIAL_TRAITS`), ages first,
then the attributes in the scenario's order, so no feature's draws shift them and they shift none.
"""

from __future__ import annotations

import bisect
import math

import numpy as np

from sim.kernel.citizen import Citizen
from sim.kernel.model import Model
from sim.kernel.streams import CohortDraws
from sim.kernel.timebase import YEAR_DAYS


def has_traits(model: Model, state: int) -> bool:
    """Whether citizens entering `state` draw an age or attributes."""
    ages = bool(model.ages) and model.ages[state] is not None
    return ages or bool(model.attributes and model.attributes[state])


def draw_traits(model: Model, c: Citizen, draws: CohortDraws) -> None:
    """Age (as a day of birth) and attribute values for a citizen entering its state."""
    state, k = c.state, 0
    ages = model.ages[state] if model.ages else None
    if ages is not None:
        e, u = draws.pair(c.rank, k)
        k += 1
        cum = np.cumsum(ages.shares) / ages.shares.sum()
        band = min(int(np.searchsorted(cum, -math.expm1(-e), side="right")), len(cum) - 1)
        age = ages.lo[band] + u * (ages.hi[band] - ages.lo[band])
        c.born = max(c.entered, 0.0) - age * YEAR_DAYS
    attributes = model.attributes[state] if model.attributes else None
    if attributes:
        c.attrs = {}
        for name, (values, cum_shares) in attributes.items():
            _, u = draws.pair(c.rank, k)
            k += 1
            c.attrs[name] = values[min(bisect.bisect_right(cum_shares, u), len(values) - 1)]
