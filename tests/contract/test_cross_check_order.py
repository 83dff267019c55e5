"""`cross_check` finds the same problems, in the same order and the same words, as before it was
split into one check per block; and no check grows past 40 lines.

The expected problems in cross_check_expected.json were written by the single-function
`cross_check` this package replaced, on the scenarios below (a problem in every block it reads).
"""

from __future__ import annotations

import ast
import json
from pathlib import Path
from typing import Any

import pytest

import sim.contract
from sim.contract.crosscheck import cross_check
from sim.contract.messages import Gaps
from sim.contract.schema import Scenario

MANY: dict[str, Any] = {
    "name": "many problems",
    "start": "2020-01-15",
    "months": 24,
    "states": {
        "a_dagpenge": {"group": "sygedagpenge"},
        "sygedagpenge": {},
        "Mine": {"group": "dagpenge"},
        "custom": {},
        "odd": {"group": "nogroup"},
        "job": {},
        "solo": {"group": "kontanthjaelp"},
        "idle": {"group": "kontanthjaelp"},
        "parked": {"group": "kontanthjaelp"},
    },
    "initial": {"a_dagpenge": 100, "sygedagpenge": 50, "custom": 10, "pension": 5, "kontanthjaelp": 3,
                "solo": 7, "idle": 4, "parked": 2},
    "initial_durations": {"sygedagpenge": [[0, 10, 0.5], [10, 30, 0.4]], "nosuch": [[0, 5, 1]]},
    "inflow_per_week": {"sygedagpenge": 10, "other": 1},
    "transitions": {
        "a_dagpenge": [{"to": "job", "rate_per_week": [[0, 0.1], [52, 0]]}],
        "sygedagpenge": [{"to": "job", "rate_per_week": 0.05},
                         {"to": "a_dagpenge", "at_week": 22, "share": 0.3},
                         {"to": "other", "at_week": 22, "share": "rest"}],
        "custom": [{"to": "custom", "rate_per_week": 0.1},
                   {"to": "stay", "rate_per_week": 0.1},
                   {"to": "stay", "at_week": 3, "share": 0.5, "rate_per_week": 0.2},
                   {"to": "jb", "at_week": 3, "share": 0.2}],
        "job": [{"to": "other", "rate_per_week": 0.01}],
        "ghost": [{"to": "job", "rate_per_week": 0.01}],
        "idle": [{"to": "job", "rate_per_week": 0}],
        "parked": [{"to": "job", "rate_per_week": [[0, 0.1], [10, 0]]},
                   {"to": "other", "at_week": 20, "share": 0.5},
                   {"to": "stay", "at_week": 20, "share": "rest"}],
    },
    "economics": {"reset_after_weeks": 60, "reset_window_weeks": 52,
                  "states": {"nosuch": {"dkk_per_full_year_person": 1}},
                  "initial_history": {"a_dagpenge": [[0, 10, 0.7]]}},
    "interventions": [
        {"name": "p", "states": ["sygedagpenge", "nosuch"], "age": [20, 30], "duration_weeks": 4,
         "attributes": {"sex": "female"}, "referral": "at_clock", "effects": {"during": {"pension": 0.5}}},
        {"name": "p", "states": ["a_dagpenge"], "duration_weeks": 4, "referral": "at_clock"},
    ],
    "caseworkers": [{"team": "t", "states": ["a_dagpenge", "missing"], "headcount": 1, "hours_per_week": 10,
                     "hours_per_meeting": 1, "change_effect": {"education": 0.9}}],
    "attributes": {"sex": {"a_dagpenge": {"female": 0.5, "male": 0.4}, "nosuch": {"female": 1}}},
    "ages": {"a_dagpenge": [[18, 30, 0.5]], "nosuch": [[18, 30, 1]]},
    "targets": [
        {"name": "a", "metric": "net_cost", "states": ["total"], "year": 2021, "at_most": 1},
        {"name": "b", "metric": "gross_cost_dkk", "states": ["kontanthjaelp"], "groups": ["nogroup"],
         "year": 2025, "at_most": 1, "min_weeks": 52, "team": "tt", "programme": "pp"},
        {"name": "c", "states": ["total"], "year": 2021, "month": "2021-03", "at_most": 1},
        {"name": "d", "states": ["total"], "month": "2030-01", "change_at_most": -0.1},
        {"name": "e", "states": ["a_dagpenge", "sygedagpenge"], "year": 2021, "change_at_most": -0.1},
        {"name": "f", "metric": "mean_duration_weeks", "states": ["a_dagpenge", "sygedagpenge"],
         "year": 2021, "difference_at_most": 1},
        {"name": "g", "states": ["total"], "year": 2021, "base_year": 2019, "base_month": "2019-01",
         "change_at_most": 0.1},
    ],
    "observed": [{"period": 2020, "state": "a_dagpenge", "value": 1},
                 {"period": 2020, "state": "nowhere", "value": 1}],
    "calibrate": {"parameters": [{"path": "inflow_per_week.sygedagpenge.rate", "bounds": [1, 20]},
                                 {"path": "inflow_per_week.nosuch.rate", "bounds": [1, 20]}]},
}

VARIANTS: dict[str, tuple[dict[str, Any], Gaps]] = {
    "mid-month start": (MANY, Gaps()),
    "first of month": ({**MANY, "start": "2020-01-01"}, Gaps()),
    "refused routes, durations, horizon and observed": (
        {**MANY, "start": "2020-01-01"},
        Gaps(horizon=True, routes={"a_dagpenge", "custom"}, durations={"sygedagpenge"}, observed=True)),
    "whole transitions and initial_durations refused": (
        {**MANY, "start": "2020-01-01"}, Gaps(routes=None, durations=None)),
}
"""The scenarios checked, each with what the schema is taken to have refused."""

EXPECTED = Path(__file__).with_name("cross_check_expected.json")
MAX_LINES = 40


def problems(variant: str) -> list[list[Any]]:
    """The problems `cross_check` finds in one variant, as JSON lists: [[key path], message]."""
    data, gaps = VARIANTS[variant]
    return [[list(path), message] for path, message in cross_check(Scenario.model_validate(data), gaps)]


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_the_same_problems_in_the_same_order_and_words(variant: str) -> None:
    expected = json.loads(EXPECTED.read_text(encoding="utf-8"))[variant]
    assert problems(variant) == expected


def test_every_block_is_checked() -> None:
    heads = {path[0] for variant in VARIANTS for path, _ in problems(variant)}
    assert heads >= {"start", "states", "initial", "inflow_per_week", "initial_durations", "transitions",
                     "economics", "interventions", "caseworkers", "attributes", "ages", "targets",
                     "observed", "calibrate"}


def _cross_check_modules() -> list[Path]:
    root = Path(sim.contract.__file__).parent
    return [root / "crosscheck.py", *sorted((root / "checks").glob("*.py"))]


@pytest.mark.parametrize("path", _cross_check_modules(), ids=lambda p: p.name)
def test_no_check_is_longer_than_40_lines(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    long = [(node.name, node.end_lineno - node.lineno + 1) for node in ast.walk(tree)
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.end_lineno is not None
            and node.end_lineno - node.lineno + 1 > MAX_LINES]
    assert not long, f"{path.name}: functions over {MAX_LINES} lines: {long}"


def test_the_loader_still_finds_cross_check() -> None:
    from sim.contract import loader

    assert loader.cross_check is cross_check
