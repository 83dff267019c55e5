"""Common random numbers: each citizen's draws are its own, keyed by cohort and rank."""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

import numpy as np
from helpers import watching

import sim

BASE: dict[str, Any] = {
    "name": "crn", "start": dt.date(2018, 1, 1), "months": 24,
    "states": {"a_dagpenge": {}, "kontanthjaelp_jobparat": {}, "sygedagpenge": {}, "jobafklaring": {}},
    "initial": {"a_dagpenge": 400, "kontanthjaelp_jobparat": 150, "sygedagpenge": 300, "jobafklaring": 60},
    "inflow_per_week": {"a_dagpenge": 9, "sygedagpenge": 25},
    "transitions": {
        "a_dagpenge": [{"to": "job", "rate_per_week": [[0, 0.06], [26, 0.02]]},
                       {"to": "kontanthjaelp_jobparat", "at_week": 104, "share": 0.5},
                       {"to": "other", "at_week": 104, "share": "rest"}],
        "kontanthjaelp_jobparat": [{"to": "job", "rate_per_week": 0.03}],
        "sygedagpenge": [{"to": "job", "rate_per_week": 0.08},
                         {"to": "jobafklaring", "at_week": 22, "share": 0.4},
                         {"to": "stay", "at_week": 22, "share": "rest"}],
        "jobafklaring": [{"to": "job", "rate_per_week": 0.02}],
    },
}


def same(a: np.ndarray, b: np.ndarray) -> None:
    """The same citizens' paths: equal up to the order in which the ledger summed the days."""
    np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-9)


def person_days(data: dict[str, Any], seed: int, fast_forward: bool = True) -> np.ndarray:
    model = sim.compile_model(sim.scenario_from_dict(data))
    return sim.simulate(model, np.random.SeedSequence(seed), fast_forward=fast_forward).person_days


def test_the_fast_path_is_the_event_by_event_des_exactly() -> None:
    """With every citizen on its own numbers, drawing ahead changes nothing at all."""
    same(person_days(BASE, 3, True), person_days(BASE, 3, False))


def test_a_change_to_sickness_leaves_the_unemployed_untouched() -> None:
    variant = copy.deepcopy(BASE)
    variant["transitions"]["sygedagpenge"][0]["rate_per_week"] = 0.12
    variant["inflow_per_week"]["sygedagpenge"] = 30
    base, other = person_days(BASE, 7), person_days(variant, 7)
    dagpenge = [0, 1]  # a_dagpenge and kontanthjaelp_jobparat: no route from sickness reaches them
    same(base[dagpenge], other[dagpenge])
    assert not np.array_equal(base[2], other[2])


def test_state_order_in_the_file_does_not_change_the_numbers() -> None:
    reordered = copy.deepcopy(BASE)
    reordered["states"] = dict(reversed(list(BASE["states"].items())))
    base, other = person_days(BASE, 11), person_days(reordered, 11)
    same(base[:4], other[:4][::-1])


def test_long_paths_draw_past_the_cohort_tiers() -> None:
    """A citizen with many moves uses its own overflow stream, still keyed and reproducible."""
    ping_pong = copy.deepcopy(BASE)
    ping_pong["transitions"]["kontanthjaelp_jobparat"] = [{"to": "a_dagpenge", "rate_per_week": 0.5}]
    ping_pong["transitions"]["a_dagpenge"][0] = {"to": "kontanthjaelp_jobparat", "rate_per_week": 0.5}
    a, b = person_days(ping_pong, 5), person_days(ping_pong, 5)
    np.testing.assert_array_equal(a, b)
    same(a, person_days(ping_pong, 5, fast_forward=False))


def test_watching_one_state_changes_no_path() -> None:
    """A watched state's moves are events, the others are drawn ahead: a citizen passing from an
    unwatched state into a watched one must still arrive on time, so nothing at all changes."""
    chain = copy.deepcopy(BASE)  # a-dagpenge → kontanthjælp → jobafklaring: drawn ahead, then watched
    chain["transitions"]["a_dagpenge"].append({"to": "kontanthjaelp_jobparat", "rate_per_week": 0.03})
    chain["transitions"]["kontanthjaelp_jobparat"].append({"to": "jobafklaring", "rate_per_week": 0.05})
    model = sim.compile_model(sim.scenario_from_dict(chain))
    for watched in ({3}, {2}, {1}, {0, 3}):
        seed = np.random.SeedSequence(21)
        plain = sim.simulate(model, seed).person_days
        some = sim.simulate(watching(model, watched), seed).person_days
        same(plain, some)
