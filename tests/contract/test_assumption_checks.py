"""The assumptions block is checked at load: each path names one number of the scenario, the
scenario's value lies in its range, no number is assumed twice, and a value the fit draws in
every replication is not assumed; each problem is one sentence naming the key path."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from helpers import refused_with_one_problem, validate_via_cli

import sim

BASE: dict[str, Any] = {
    "name": "antagelser", "start": "2018-01-01", "months": 12,
    "states": {"a_dagpenge": {}, "sygedagpenge": {}},
    "initial": {"a_dagpenge": 100},
    "inflow_per_week": {"a_dagpenge": 5, "sygedagpenge": {"rate": 22, "seasonality": [1] * 12}},
    "transitions": {"a_dagpenge": [{"to": "job", "rate_per_week": [[0, 0.06], [26, 0.03]]},
                                   {"to": "other", "rate_per_week": 0.01}],
                    "sygedagpenge": [{"to": "job", "rate_per_week": 0.1}]},
    "targets": [{"name": "højst 120", "states": ["total"], "year": 2018, "at_most": 120}],
}


def with_assumptions(*assumptions: dict[str, Any], **blocks: Any) -> dict[str, Any]:
    data = copy.deepcopy(BASE) | blocks
    data["assumptions"] = [{"reason": "planen siger intet"} | a for a in assumptions]
    return data


def test_a_sound_block_loads_and_keeps_its_order() -> None:
    s = sim.scenario_from_dict(with_assumptions(
        {"path": "inflow_per_week.sygedagpenge.rate", "low": 15, "high": 30},
        {"path": "transitions.a_dagpenge.job.rate_per_week.1", "low": 0.02, "high": 0.03},
        {"path": "initial.a_dagpenge", "low": 100, "high": 100}))
    assert [a.path for a in s.assumptions] == ["inflow_per_week.sygedagpenge.rate",
                                               "transitions.a_dagpenge.job.rate_per_week.1",
                                               "initial.a_dagpenge"]


def test_a_path_that_names_no_number_is_refused(tmp_path: Path) -> None:
    refused_with_one_problem(
        tmp_path, with_assumptions({"path": "inflow_per_week.kontanthjaelp.rate", "low": 1, "high": 2}),
        "assumptions[0].path", "'inflow_per_week.kontanthjaelp.rate' does not name a number of the scenario")


def test_a_banded_rate_must_name_its_band(tmp_path: Path) -> None:
    refused_with_one_problem(
        tmp_path, with_assumptions({"path": "transitions.a_dagpenge.job.rate_per_week", "low": 0.01,
                                    "high": 0.1}),
        "assumptions[0].path", "has 2 duration bands; name one")


@pytest.mark.parametrize(("low", "high", "key", "words"), [
    (25, 30, "low", "25 leaves the scenario's value of inflow_per_week.sygedagpenge.rate (22) outside "
                    "the range [25, 30]"),
    (10, 20, "high", "20 leaves the scenario's value of inflow_per_week.sygedagpenge.rate (22) outside "
                     "the range [10, 20]"),
])
def test_the_scenarios_value_must_lie_in_the_range(tmp_path: Path, low: float, high: float, key: str,
                                                    words: str) -> None:
    refused_with_one_problem(
        tmp_path, with_assumptions({"path": "inflow_per_week.sygedagpenge.rate", "low": low, "high": high}),
        f"assumptions[0].{key}", words)


def test_low_above_high_is_the_schemas_to_refuse(tmp_path: Path) -> None:
    code, problems = validate_via_cli(
        tmp_path, with_assumptions({"path": "inflow_per_week.a_dagpenge", "low": 6, "high": 4}))
    assert code == 1 and "low (6) is above high (4)" in problems, problems


@pytest.mark.parametrize(("first", "second"), [
    ("inflow_per_week.sygedagpenge", "inflow_per_week.sygedagpenge.rate"),  # a plain inflow's rate
    ("transitions.a_dagpenge.other.rate_per_week", "transitions.a_dagpenge.1.rate_per_week"),  # by position
    ("inflow_per_week.a_dagpenge", "inflow_per_week.a_dagpenge"),
])
def test_one_number_is_assumed_once(tmp_path: Path, first: str, second: str) -> None:
    high = 7 if first.startswith("transitions") else 100  # a rate is at most 7 a week
    point = sim.scenario_from_dict(with_assumptions({"path": first, "low": 0, "high": high})).assumptions[0]
    assert point.path == first
    refused_with_one_problem(
        tmp_path, with_assumptions({"path": first, "low": 0, "high": high},
                                   {"path": second, "low": 0, "high": high}),
        "assumptions[1].path", f"{second!r} names the same number as assumptions[0] ({first!r}); assume "
                               "each value once")


def test_a_value_drawn_from_the_fit_cannot_be_assumed(tmp_path: Path) -> None:
    fitted = {"values": {"inflow_per_week.a_dagpenge": 5.0},
              "standard_errors": {"inflow_per_week.a_dagpenge": 0.5}}
    data = with_assumptions({"path": "inflow_per_week.a_dagpenge", "low": 4, "high": 6},
                            parameters=fitted, uncertainty={"fitted": True})
    refused_with_one_problem(tmp_path, data, "assumptions[0].path",
                             "is drawn from the fit in every replication (parameters: "
                             "inflow_per_week.a_dagpenge, uncertainty.fitted)")
    data["uncertainty"] = {"fitted": False}  # the fit's value is the scenario's, and nothing draws it
    assert sim.scenario_from_dict(data).assumptions[0].low == 4


def test_every_problem_of_the_block_is_listed(tmp_path: Path) -> None:
    code, problems = validate_via_cli(tmp_path, with_assumptions(
        {"path": "inflow_per_week.nowhere", "low": 1, "high": 2},
        {"path": "initial.a_dagpenge", "low": 150, "high": 200},
        {"path": "initial.a_dagpenge", "low": 50, "high": 200}))
    lines = problems.splitlines()
    assert code == 1 and len(lines) == 3, problems
    assert [line.split(": ")[1] for line in lines] == ["assumptions[0].path", "assumptions[1].low",
                                                        "assumptions[2].path"]


def test_the_scenario_must_be_valid_at_each_end(tmp_path: Path) -> None:
    """`caseflow run` runs the scenario with the value at each end, so each end must pass the schema
    and the cross-checks as the scenario does."""
    clocked = copy.deepcopy(BASE)
    clocked["transitions"]["sygedagpenge"] += [{"to": "jobafklaring", "at_week": 22, "share": 0.3},
                                               {"to": "stay", "at_week": 22, "share": "rest"}]
    clocked["states"]["jobafklaring"] = {}
    clocked["transitions"]["jobafklaring"] = [{"to": "job", "rate_per_week": 0.02}]
    share = "transitions.sygedagpenge.jobafklaring.share"
    clocked["assumptions"] = [{"path": share, "low": 0.2, "high": 1.2, "reason": "ukendt"}]
    refused_with_one_problem(tmp_path, clocked, "assumptions[0].high",
                             f"1.2 is not allowed: with {share} at 1.2 the scenario fails its checks "
                             "(transitions.sygedagpenge[1].share: 1.2 is outside [0, 1]")
    rate = "transitions.a_dagpenge.other.rate_per_week"
    only_rate = {"a_dagpenge": [{"to": "other", "rate_per_week": 0.01}],
                 "sygedagpenge": [{"to": "job", "rate_per_week": 0.1}]}
    refused_with_one_problem(
        tmp_path, with_assumptions({"path": rate, "low": 0, "high": 0.02}, transitions=only_rate),
        "assumptions[0].low", f"0 is not allowed: with {rate} at 0 the scenario fails its checks "
                              "(initial.a_dagpenge: 100 persons start in a_dagpenge")
