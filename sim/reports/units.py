"""Units of a difference: how variant − base is shown for each kind of metric.

Persons stay persons, a co-financing rate's difference is in percentage points and money in DKK
million, with decimals fitted to the width of the difference's interval. Shared by the charts,
the comparison report and the console (which must not load the chart library).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from sim.reports.language import Lang, signed, term

UNIT_SCALE = {"persons": 1.0, "share": 100.0, "dkk": 1e-6}
"""Factor from a stored difference to the unit shown: persons, percentage points, DKK million."""
UNIT_TERM = {"persons": "persons_unit", "share": "percentage_points", "dkk": "million"}
"""The word of each unit (`sim.reports.terms`)."""
UNIT_SHORT = {"persons": "", "share": "percentage_points_short", "dkk": "million_short"}
"""The abbreviated word of each unit, for narrow columns ('pct.-point', 'mio.')."""


def difference_unit(metric: str) -> str:
    """How a metric's difference is shown: 'persons', 'share' (as percentage points) or 'dkk' (millions)."""
    if metric == "cofinancing_rate" or metric.endswith("_share"):
        return "share"
    return "dkk" if metric.endswith("_dkk") else "persons"


def difference_decimals(width: float, value: float) -> int:
    """Decimals to show a difference with (both in the unit shown): whole numbers unless its
    interval is narrower than 2 (then 1 decimal; below 0.2, 2 decimals)."""
    scale = width if math.isfinite(width) and width > 0 else abs(value)
    if not math.isfinite(scale):
        return 0
    return 0 if scale >= 2 or scale == 0 else (1 if scale >= 0.2 else 2)


def difference_texts(metric: str, values: Sequence[float], lang: Lang) -> list[str]:
    """Differences of one metric in its shown unit, signed, with decimals fitted to the interval.

    `values` is (difference, low95, high95[, more…]); all get the same decimals."""
    scale = UNIT_SCALE[difference_unit(metric)]
    shown = [float(v) * scale for v in values]
    decimals = difference_decimals(shown[2] - shown[1], shown[0])
    return [signed(v, lang, decimals) for v in shown]


def unit_text(metric: str, lang: Lang) -> str:
    """The unit a difference is shown in: 'helårspersoner', 'procentpoint', 'mio. kr.'."""
    return term(UNIT_TERM[difference_unit(metric)], lang)


def short_unit(metric: str, lang: Lang) -> str:
    """The abbreviated unit of a difference ('' for persons, 'pct.-point', 'mio.')."""
    key = UNIT_SHORT[difference_unit(metric)]
    return term(key, lang) if key else ""
