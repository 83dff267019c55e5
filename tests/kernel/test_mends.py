"""The kernel's house rules: one year length and tolerance, keyed streams, the pilot apart,
undefined target values reported, no private SimPy attributes, no test-only fields in the model."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import numpy as np

import sim
from sim.features.pilot import pilot_seed
from sim.kernel.streams import replication_seeds

SIM = Path(__file__).resolve().parents[2] / "sim"


def _code(folder: str) -> list[tuple[Path, str]]:
    return [(p, p.read_text(encoding="utf-8")) for p in sorted((SIM / folder).rglob("*.py"))]


def test_one_year_length_and_one_time_tolerance() -> None:
    """No other year length or time epsilon is written in the kernel or the features."""
    for folder in ("kernel", "features"):
        for path, text in _code(folder):
            if path.name == "timebase.py":
                continue
            code = re.sub(r'"""[\s\S]*?"""|#.*', "", text)
            assert not re.search(r"\b365(\.25)?\b|\b1e-[0-9]+\b", code), path


def test_no_private_simpy_attributes() -> None:
    """SimPy's internals are touched in one place only: the kernel's `Clock`, which extends SimPy's
    scheduling by holding a place in its order (`tests/kernel/test_clock.py` holds it to SimPy's own
    order, so a SimPy that changes them fails there)."""
    for folder in ("kernel", "features"):
        for path, text in _code(folder):
            assert not re.search(r"\b(ev|event|e)\._value\b", text), path
            if path.name != "clock.py":
                assert not re.search(r"\._(queue|eid|now|ok|value|delay)\b", text), path


def test_the_model_carries_no_test_only_field() -> None:
    assert "watched" not in {f.name for f in dataclasses.fields(sim.Model)}


def test_the_pilot_draws_apart_from_every_replication() -> None:
    """Replication i of a batch is the batch seed spawned with key (i,); the pilot's sequence is
    none of them, however many runs (before, it was replication 7919's)."""
    seed = 20180101
    pilot = tuple(pilot_seed(seed).generate_state(4))
    reps = {tuple(s.generate_state(4)) for s in replication_seeds(seed, 10_000)}
    assert pilot not in reps
    assert pilot != tuple(np.random.SeedSequence(seed).generate_state(4))


def test_an_undefined_target_value_is_neither_met_nor_missed() -> None:
    """A mean duration of spells that never start is undefined in every replication: the
    probability is undefined too (not 0), and undefined_share says so."""
    data = {"name": "no sick", "start": "2018-01-01", "months": 12,
            "states": {"sygedagpenge": {}, "a_dagpenge": {}},
            "initial": {"a_dagpenge": 100}, "inflow_per_week": {"a_dagpenge": 2},
            "transitions": {"a_dagpenge": [{"to": "job", "rate_per_week": 0.05}],
                            "sygedagpenge": [{"to": "job", "rate_per_week": 0.1}]},
            "targets": [{"name": "kort", "metric": "mean_duration_weeks", "states": ["sygedagpenge"],
                         "year": 2018, "at_most": 10},
                        {"name": "a", "states": ["a_dagpenge"], "year": 2018, "at_most": 1000}]}
    targets = sim.run(sim.scenario_from_dict(data), runs=4, seed=1).targets.set_index("target")
    assert targets.loc["kort", "undefined_share"] == 1.0
    assert np.isnan(targets.loc["kort", "probability_met"])
    assert targets.loc["a", "undefined_share"] == 0.0 and targets.loc["a", "probability_met"] == 1.0
