"""Moves held off the clock while a place or its after-effect is still to end (`Run.set_effect`'s
`until`, `sim.kernel.clock`) all come back: the caseload under a programme with places whose hazard
ratios change at known weeks is the M/G/∞ caseload of the piecewise-exponential stay (a closed form
by quadrature), in standard errors over replications."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from scipy.integrate import quad

import sim
from sim.features.programmes.programme import MEASURES
from sim.features.registry import prepare_model

RATE, INFLOW = 0.1, 40.0  # exits a week, arrivals a week
PLACE, AFTER_WEEKS = 6.0, 10.0  # weeks of the place and of its after-effect


def data(during: float, after: float) -> dict[str, Any]:
    """One benefit, a programme with places for all, its ratios in the place and after it."""
    return {
        "name": "held", "start": "2018-01-01", "months": 12,
        "states": {"a_dagpenge": {}}, "initial": {}, "inflow_per_week": {"a_dagpenge": INFLOW},
        "transitions": {"a_dagpenge": [{"to": "job", "rate_per_week": RATE}]},
        "interventions": [{"name": "place", "states": ["a_dagpenge"], "referral": "on_entry",
                           "places": 100_000, "uptake": 1.0, "duration_weeks": PLACE,
                           "effects": {"during": {"job": during}, "after": {"job": after},
                                       "after_weeks": AFTER_WEEKS}}],
    }


def survival(weeks: float, during: float, after: float) -> float:
    """Still on the benefit `weeks` into the stay: the hazard is RATE × the ratio in force."""
    a = min(weeks, PLACE)
    b = min(max(weeks - PLACE, 0.0), AFTER_WEEKS)
    c = max(weeks - PLACE - AFTER_WEEKS, 0.0)
    return math.exp(-RATE * (during * a + after * b + c))


@pytest.mark.parametrize("during, after", [(3.0, 0.4), (3.0, 3.0), (0.5, 1.0)])
def test_held_moves_all_come_back_to_the_closed_form_caseload(during: float, after: float) -> None:
    """Ratios that change at the place's end, that stay the same there (the move held for the end of
    the place must go on the clock before the after-effect ends) and that end with the place."""
    model = prepare_model(sim.scenario_from_dict(data(during, after)), 1)
    horizon_weeks = model.calendar.horizon / 7.0
    points = [PLACE, PLACE + AFTER_WEEKS]
    # person-weeks over the horizon: INFLOW ∫₀ᴴ S(u)(H − u) du; the caseload at the end: INFLOW ∫₀ᴴ S(u) du
    weeks = INFLOW * quad(lambda u: survival(u, during, after) * (horizon_weeks - u), 0, horizon_weeks,
                          points=points)[0]
    end = INFLOW * quad(lambda u: survival(u, during, after), 0, horizon_weeks, points=points)[0]
    runs = [sim.simulate(model, np.random.SeedSequence([7, i])) for i in range(30)]
    days = np.array([r.person_days[0].sum() for r in runs]) / 7.0
    stock = np.array([r.stock_end[0, -1] for r in runs], dtype=float)
    for got, want in ((days, weeks), (stock, end)):
        se = got.std(ddof=1) / math.sqrt(len(got))
        assert abs(got.mean() - want) < 4 * se, (got.mean(), want, se)
    starts = np.array([r.features["programmes"][0, MEASURES.index("starts")].sum() for r in runs])
    assert starts.min() > 0  # the places were taken
