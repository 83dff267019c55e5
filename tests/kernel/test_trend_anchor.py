"""An inflow's trend anchored to a date means the same whatever the scenario's start."""

from __future__ import annotations

import numpy as np
import pytest

import sim


def inflow(start: str, months: int, **spec: object) -> np.ndarray:
    scenario = sim.scenario_from_dict({
        "name": "trend", "start": start, "months": months, "states": {"a_dagpenge": {}},
        "inflow_per_week": {"a_dagpenge": {"rate": 14.0, "trend_per_year": 0.1, **spec}},
        "transitions": {"a_dagpenge": [{"to": "job", "rate_per_week": 0.1}]}})
    return np.asarray(sim.compile_model(scenario).inflow_per_day[0])


def test_a_later_start_with_the_same_anchor_continues_the_same_inflow() -> None:
    whole = inflow("2018-01-01", 36)
    later = inflow("2019-01-01", 24, trend_from="2018-01-01")
    np.testing.assert_allclose(later, whole[12:], rtol=1e-12)


def test_the_anchor_is_where_the_inflow_is_its_rate() -> None:
    """Mid-January 2020, 1.5 weeks after the anchor, the inflow is rate × 1.1^(15.5/365.25) a week."""
    got = inflow("2020-01-01", 12, trend_from="2020-01-01")[0] * 7
    assert got == pytest.approx(14.0 * 1.1 ** (15.5 / 365.25), rel=1e-12)
    # without an anchor the scenario's start is the anchor
    np.testing.assert_allclose(inflow("2020-01-01", 12), inflow("2020-01-01", 12, trend_from="2020-01-01"))
