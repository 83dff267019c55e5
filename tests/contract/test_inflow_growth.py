"""A compounding trend may not take an inflow past the weekly bound within the horizon."""

from __future__ import annotations

from helpers import refused_with_one_problem


def test_a_trend_that_explodes_over_the_horizon_is_refused(tmp_path) -> None:  # type: ignore[no-untyped-def]
    data = {"name": "x", "start": "2018-01-01", "months": 600, "states": {"a_dagpenge": {}},
            "inflow_per_week": {"a_dagpenge": {"rate": 10, "trend_per_year": 1}},
            "transitions": {"a_dagpenge": [{"to": "job", "rate_per_week": 0.1}]}}
    # 10 × 2^50 a week at the end of 50 years
    refused_with_one_problem(tmp_path, data, "inflow_per_week.a_dagpenge.trend_per_year",
                             "11,258,999,068,426,240 a week")


def test_the_same_trend_over_a_short_horizon_loads(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from helpers import validate_via_cli

    data = {"name": "x", "start": "2018-01-01", "months": 24, "states": {"a_dagpenge": {}},
            "inflow_per_week": {"a_dagpenge": {"rate": 10, "trend_per_year": 1}},
            "transitions": {"a_dagpenge": [{"to": "job", "rate_per_week": 0.1}]}}
    code, problems = validate_via_cli(tmp_path, data)
    assert code == 0, problems
