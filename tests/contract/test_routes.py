"""The contract's own reading of a state's routes agrees with the kernel's compiled hazards.

`sim.contract.routes.stay_profile` answers what the cross-checks ask (is the mean stay finite,
from which week is the rate constant, where does a clock empty the state) without the kernel;
here each answer is compared with `sim.kernel.hazards.schedule_from_routes` on the same routes.
"""

from __future__ import annotations

import ast
import math
from pathlib import Path
from typing import Any

import pytest

import sim.contract
from sim.contract.catalogue import EXITS
from sim.contract.routes import stay_profile, stay_shares
from sim.contract.schema import Route
from sim.kernel.hazards import ExitSchedule, schedule_from_routes

ROUTE_SETS: dict[str, list[dict[str, Any]]] = {
    "zero routes": [],
    "constant rate": [{"to": "job", "rate_per_week": 0.05}],
    "constant zero rate": [{"to": "job", "rate_per_week": 0}],
    "mean weeks": [{"to": "job", "mean_weeks": [[0, 10], [26, 40]]}],
    "bands ending in zero rate": [{"to": "job", "rate_per_week": [[0, 0.1], [52, 0]]},
                                  {"to": "other", "rate_per_week": [[0, 0.01], [13, 0]]}],
    "zero rate, then a rate": [{"to": "job", "rate_per_week": [[0, 0], [40, 0.2]]}],
    "one route's last band is 0, another's is not": [{"to": "job", "rate_per_week": [[0, 0.1], [52, 0]]},
                                                      {"to": "other", "rate_per_week": 0.001}],
    "full clock": [{"to": "job", "rate_per_week": [[0, 0.1], [10, 0]]},
                   {"to": "kontanthjaelp", "at_week": 22, "share": 0.3},
                   {"to": "other", "at_week": 22, "share": "rest"}],
    "full clock without rates": [{"to": "job", "at_week": 30, "share": 1}],
    "clock with a stay share": [{"to": "job", "rate_per_week": [[0, 0.1], [10, 0]]},
                                {"to": "other", "at_week": 20, "share": 0.5},
                                {"to": "stay", "at_week": 20, "share": "rest"}],
    "clock with a stay share and a rate": [{"to": "job", "rate_per_week": 0.02},
                                           {"to": "other", "at_week": 20, "share": 0.5},
                                           {"to": "stay", "at_week": 20, "share": 0.5}],
    "clock with a zero stay share": [{"to": "other", "at_week": 20, "share": 1},
                                     {"to": "stay", "at_week": 20, "share": 0}],
    "stay clock, then a full clock": [{"to": "job", "at_week": 30, "share": 0.4},
                                      {"to": "stay", "at_week": 30, "share": "rest"},
                                      {"to": "other", "at_week": 50, "share": 1}],
    "full clock, then a stay clock": [{"to": "job", "at_week": 50, "share": 0.4},
                                      {"to": "stay", "at_week": 50, "share": "rest"},
                                      {"to": "other", "at_week": 30, "share": 1}],
}
"""Route sets whose clock shares add up, as the cross-checks require before reading them."""


def _routes(raw: list[dict[str, Any]]) -> tuple[Route, ...]:
    return tuple(Route.model_validate(r) for r in raw)


def _schedule(routes: tuple[Route, ...]) -> ExitSchedule:
    index = {code: i for i, code in enumerate(("kontanthjaelp", *EXITS))}
    return schedule_from_routes(routes, index)


@pytest.mark.parametrize("name", list(ROUTE_SETS))
def test_finite_mean_stay_agrees_with_the_kernel(name: str) -> None:
    routes = _routes(ROUTE_SETS[name])
    assert stay_profile(routes).finite == math.isfinite(_schedule(routes).mean_stay())


@pytest.mark.parametrize("name", list(ROUTE_SETS))
def test_emptying_clock_agrees_with_the_kernel(name: str) -> None:
    routes = _routes(ROUTE_SETS[name])
    ends = [c.day / 7.0 for c in _schedule(routes).clocks if c.stay_share <= 0.0]
    week = stay_profile(routes).emptied_week
    if ends:
        assert week == pytest.approx(min(ends), abs=1e-12)
    else:
        assert week is None


UNBOUNDED = [name for name, raw in ROUTE_SETS.items()
             if raw and not math.isfinite(_schedule(_routes(raw)).mean_stay())]
"""The route sets (with routes) whose mean stay is infinite: there the message names a week."""


@pytest.mark.parametrize("name", UNBOUNDED)
def test_last_change_is_the_start_of_the_kernels_last_segment(name: str) -> None:
    routes = _routes(ROUTE_SETS[name])
    last = _schedule(routes).segments()[-1][0] / 7.0
    assert stay_profile(routes).last_change_week == pytest.approx(last, abs=1e-12)


def test_the_route_sets_cover_both_answers() -> None:
    answers = {stay_profile(_routes(raw)).finite for raw in ROUTE_SETS.values()}
    assert answers == {True, False}


def test_rest_is_resolved_in_the_stay_share() -> None:
    routes = _routes(ROUTE_SETS["stay clock, then a full clock"])
    assert stay_shares(routes) == {30: pytest.approx(0.6), 50: 0.0}


def test_the_contract_imports_nothing_from_the_layers_above() -> None:
    root = Path(sim.contract.__file__).parent
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module or ""]
            else:
                continue
            above = [n for n in names if n.split(".")[0] == "sim" and not n.startswith("sim.contract")]
            assert not above, f"{path.relative_to(root)} imports {above}: the contract is the bottom layer"
