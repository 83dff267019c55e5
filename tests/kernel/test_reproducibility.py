"""Reproducibility: one seed gives the same numbers bit for bit, whatever the number of
workers; different seeds give different numbers; scenarios run with one seed share their
arrivals (common random numbers).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from helpers import scenario

import sim

RUNS = 12
SEED = 4242

BLOCKS: dict[str, Any] = {
    "months": 24,
    "seed": SEED,
    "states": {"a_dagpenge": {}, "kontanthjaelp": {}, "sygedagpenge": {}},
    "initial": {"a_dagpenge": 300, "kontanthjaelp": 200, "sygedagpenge": 150},
    "inflow_per_week": {"a_dagpenge": 8, "sygedagpenge": {"rate": 6, "trend_per_year": 0.03}},
    "transitions": {
        "a_dagpenge": [
            {"to": "job", "rate_per_week": [[0, 0.08], [13, 0.03]]},
            {"to": "kontanthjaelp", "at_week": 40, "share": 0.5},
            {"to": "stay", "at_week": 40, "share": "rest"},
        ],
        "sygedagpenge": [
            {"to": "job", "rate_per_week": 0.1},
            {"to": "kontanthjaelp", "at_week": 22, "share": 0.2},
            {"to": "job", "at_week": 22, "share": "rest"},
        ],
        "kontanthjaelp": [{"to": "job", "rate_per_week": 0.02}, {"to": "other", "mean_weeks": 200}],
        "job": [{"to": "a_dagpenge", "rate_per_week": [[0, 0.02], [26, 0.004]]}],
    },
    "targets": [{"name": "sygedagpenge under 140", "states": ["sygedagpenge"], "year": 2018,
                 "at_most": 140}],
}
FRAMES = ("monthly", "yearly", "targets", "flows", "replications")


def _frames(result: sim.RunResult) -> dict[str, pd.DataFrame]:
    return {name: getattr(result, name) for name in FRAMES}


def _assert_identical(a: sim.RunResult, b: sim.RunResult) -> None:
    for name, frame in _frames(a).items():
        other = getattr(b, name)
        assert len(frame) > 0, name
        pd.testing.assert_frame_equal(frame, other, check_exact=True, obj=name)


@pytest.fixture(scope="module")
def one_worker() -> sim.RunResult:
    return sim.run(scenario(**BLOCKS), runs=RUNS, seed=SEED, workers=1)


def test_same_seed_same_numbers(one_worker: sim.RunResult) -> None:
    _assert_identical(one_worker, sim.run(scenario(**BLOCKS), runs=RUNS, seed=SEED, workers=1))


def test_scenario_seed_is_the_default(one_worker: sim.RunResult) -> None:
    again = sim.run(scenario(**BLOCKS), runs=RUNS, workers=1)
    assert again.seed == SEED
    _assert_identical(one_worker, again)


def test_worker_count_does_not_change_results(one_worker: sim.RunResult) -> None:
    _assert_identical(one_worker, sim.run(scenario(**BLOCKS), runs=RUNS, seed=SEED, workers=4))


def test_different_seeds_differ(one_worker: sim.RunResult) -> None:
    other = sim.run(scenario(**BLOCKS), runs=RUNS, seed=SEED + 1, workers=1)
    a = one_worker.monthly["mean"].to_numpy()
    b = other.monthly["mean"].to_numpy()
    assert (a != b).mean() > 0.9  # every month after the first moves differently
    assert not one_worker.replications.equals(other.replications)


def test_replications_differ_within_a_batch(one_worker: sim.RunResult) -> None:
    reps = one_worker.replications.pivot_table(index="replication", columns=["year", "state"],
                                               values="full_year_persons")
    assert len(reps.drop_duplicates()) == RUNS


def test_simulate_is_a_pure_function_of_its_seed() -> None:
    model = sim.compile_model(scenario(**BLOCKS))
    seed = np.random.SeedSequence(99)
    a = sim.simulate(model, seed, record_spells=True)
    b = sim.simulate(model, seed, record_spells=True)  # the same SeedSequence object, reused
    c = sim.simulate(model, np.random.SeedSequence(99), record_spells=True)
    for other in (b, c):
        np.testing.assert_array_equal(a.person_days, other.person_days)
        np.testing.assert_array_equal(a.stock_end, other.stock_end)
        np.testing.assert_array_equal(a.flows, other.flows)
        assert a.spells is not None and other.spells is not None
        pd.testing.assert_frame_equal(a.spells, other.spells, check_exact=True)


def test_record_spells_does_not_change_the_numbers() -> None:
    model = sim.compile_model(scenario(**BLOCKS))
    a = sim.simulate(model, np.random.SeedSequence(98), record_spells=True)
    b = sim.simulate(model, np.random.SeedSequence(98))
    np.testing.assert_array_equal(a.person_days, b.person_days)
    np.testing.assert_array_equal(a.flows, b.flows)


def test_common_random_numbers_share_arrivals(one_worker: sim.RunResult) -> None:
    """A scenario that differs only in a downstream rate gets the very same arrivals."""
    changed = {**BLOCKS, "transitions": {**BLOCKS["transitions"],
                                         "kontanthjaelp": [{"to": "job", "rate_per_week": 0.05}]}}
    other = sim.run(scenario(**changed), runs=RUNS, seed=SEED, workers=1)

    def arrivals(result: sim.RunResult) -> pd.DataFrame:
        flows = result.flows
        return flows[flows["from"] == "outside"].reset_index(drop=True)

    pd.testing.assert_frame_equal(arrivals(one_worker), arrivals(other), check_exact=True)
    kontant = ("kontanthjaelp", "2018-06")
    a = one_worker.monthly.set_index(["state", "month"]).loc[kontant, "mean"]
    b = other.monthly.set_index(["state", "month"]).loc[kontant, "mean"]
    assert a != b
