"""The schema's models, as messages.py finds them, are every model reachable from `Scenario`;
and pydantic's errors still read the same for people.

The expected messages were written by messages.py when it listed the schema's classes by hand.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from typing import Annotated, Any, Literal, Optional, Union

import pytest
from pydantic import BaseModel, Field

import sim.contract
from sim.contract.errors import ScenarioError
from sim.contract.loader import scenario_from_dict
from sim.contract.messages import schema_models
from sim.contract.schema import Scenario


def _contract_models() -> set[type[BaseModel]]:
    """Every pydantic model class defined in a module of the contract package."""
    found: set[type[BaseModel]] = set()
    for info in pkgutil.walk_packages(sim.contract.__path__, "sim.contract."):
        module = importlib.import_module(info.name)
        found |= {cls for _, cls in inspect.getmembers(module, inspect.isclass)
                  if issubclass(cls, BaseModel) and cls.__module__ == info.name}
    return found


def test_every_contract_model_reachable_from_scenario_is_found() -> None:
    reachable = {"Scenario", *Scenario.model_json_schema()["$defs"]}  # pydantic's own walk
    expected = {cls for cls in _contract_models() if cls.__name__ in reachable}
    assert len(expected) == len(reachable)
    assert set(schema_models()) == expected


def test_the_models_include_those_once_listed_by_hand() -> None:
    names = {m.__name__ for m in schema_models()}
    assert names >= {"Scenario", "StateSpec", "InflowSpec", "Route", "DurationBand", "Target", "Observed",
                     "Economics", "StateEconomics", "Intervention", "Effects", "EffectUncertainty", "Team",
                     "AgeBand", "Calibrate", "FreeParameter", "ParameterSet", "DrawnParameter", "Uncertainty"}
    assert schema_models()[0] is Scenario


class _InList(BaseModel):
    x: int = 0


class _InDictOfTuples(BaseModel):
    x: int = 0


class _InOptional(BaseModel):
    x: int = 0


class _InUnion(BaseModel):
    x: int = 0


class _Deeper(BaseModel):
    x: int = 0


class _InAnnotated(BaseModel):
    deeper: _Deeper | None = None


class _Unused(BaseModel):
    x: int = 0


class _Root(BaseModel):
    items: list[_InList] = []
    by_key: dict[str, tuple[_InDictOfTuples, ...]] = {}
    maybe: Optional[_InOptional] = None  # noqa: UP045 (the old spelling is what is tested)
    either: Union[_InUnion, int] = 0  # noqa: UP007
    wrapped: Annotated[dict[str, Annotated[_InAnnotated, Field(description="x")]],
                       Field(default_factory=dict)]
    kind: Literal["a", "b"] = "a"


def test_models_are_found_inside_lists_dicts_unions_and_annotations() -> None:
    assert set(schema_models(_Root)) == {_Root, _InList, _InDictOfTuples, _InOptional, _InUnion,
                                         _InAnnotated, _Deeper}


BASE: dict[str, Any] = {
    "name": "messages", "start": "2020-01-01", "months": 24,
    "states": {"a_dagpenge": {}, "sygedagpenge": {}},
    "initial": {"a_dagpenge": 100, "sygedagpenge": 50},
    "transitions": {"a_dagpenge": [{"to": "job", "rate_per_week": 0.05}],
                    "sygedagpenge": [{"to": "job", "rate_per_week": 0.1}]},
}

PROGRAMME = {"name": "p", "states": ["a_dagpenge"], "duration_weeks": 4}
TEAM = {"team": "t", "states": ["a_dagpenge"], "headcount": 2, "hours_per_week": 20, "hours_per_meeting": 1}

BAD: dict[str, tuple[dict[str, Any], list[tuple[str, str]]]] = {
    "unknown top-level key": (
        {"targetz": []},
        [("targetz", "unknown key 'targetz'; did you mean 'targets'? Allowed: name, start, months, seed, "
                     "states, initial, initial_durations, inflow_per_week, transitions, targets, observed, "
                     "economics, dagpenge_period, interventions, caseworkers, attributes, ages, calibrate, "
                     "parameters, uncertainty, rules, assumptions, not_evaluated")]),
    "unknown key in a programme's effects": (
        {"interventions": [{**PROGRAMME, "effects": {"durin": {"job": 0.5}}}]},
        [("interventions[0].effects.durin",
          "unknown key 'durin'; did you mean 'during'? Allowed: during, after, after_weeks")]),
    "text for a team's headcount": (
        {"caseworkers": [{**TEAM, "headcount": "two"}]},
        [("caseworkers[0].headcount", "'two' is not allowed; headcount must be a number")]),
    "unknown key in a calibrate parameter": (
        {"calibrate": {"parameters": [{"path": "inflow_per_week.a_dagpenge.rate", "bound": [1, 2]}]}},
        [("calibrate.parameters[0].bounds", "required key is missing; give bounds: [low, high], the range "
                                            "the fit may move the parameter in"),
         ("calibrate.parameters[0].bound",
          "unknown key 'bound'; did you mean 'bounds'? Allowed: path, bounds, prior, spread, pool")]),
    "negative sd of a drawn parameter": (
        {"uncertainty": {"parameters": [{"path": "transitions.a_dagpenge.0.rate_per_week", "sd": -1}]}},
        [("uncertainty.parameters[0].sd", "-1 is not allowed; sd must be > 0")]),
    "observed figure without a value": (
        {"observed": [{"period": 2020, "state": "total"}]},
        [("observed[0].value", "required key is missing; give value: a number")]),
    "a route's share above 1, and a stock left without routes": (
        {"transitions": {"a_dagpenge": [{"to": "job", "at_week": 10, "share": 1.5}]}},
        [("transitions.a_dagpenge[0].share",
          "1.5 is outside [0, 1]; a clock share is a number in [0, 1] or 'rest'"),
         ("initial.sygedagpenge",
          "50 persons start in sygedagpenge without initial_durations, but sygedagpenge has no routes "
          "out, so the mean stay is infinite and their elapsed durations cannot be drawn from the steady "
          "state; give initial_durations.sygedagpenge or a route out of sygedagpenge with a rate above 0")]),
    "wrong type in economics' state rules": (
        {"economics": {"states": {"a_dagpenge": {"refunded": "maybe"}}}},
        [("economics.states.a_dagpenge.refunded", "'maybe' is not allowed; refunded must be true or false")]),
}


@pytest.mark.parametrize("case", list(BAD))
def test_schema_errors_read_as_before(case: str) -> None:
    change, expected = BAD[case]
    with pytest.raises(ScenarioError) as refused:
        scenario_from_dict({**BASE, **change})
    assert [(p.path, p.message) for p in refused.value.problems] == expected
