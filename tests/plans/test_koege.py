"""The shipped Køge 2018 scenario reproduces its seed's 2017 table and its targets resolve.

scenarios/koege-2018.yaml was built (flow balance) so that each benefit's 2017 average
reproduces seed 003's Jan–Oct 2017 full-year persons (Tabel 1); the observed block holds those
figures, so a short run must land close to them.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import sim

SCENARIO = Path(__file__).resolve().parents[2] / "scenarios" / "koege-2018.yaml"
STATES = (
    "a_dagpenge", "kontanthjaelp_jobparat", "kontanthjaelp_aktivitetsparat", "integrationsydelse",
    "integrationsydelse_oevrige", "uddannelseshjaelp_uddannelsesparat", "uddannelseshjaelp_aktivitetsparat",
    "sygedagpenge", "revalidering", "ledighedsydelse", "jobafklaring", "ressourceforloeb", "fleksjob",
)


@pytest.fixture(scope="module")
def scenario() -> sim.Scenario:
    return sim.load_scenario(SCENARIO)


@pytest.fixture(scope="module")
def result(scenario: sim.Scenario) -> sim.RunResult:
    return sim.run(scenario, runs=8, seed=1, workers=1)


def observed_2017(scenario: sim.Scenario) -> dict[str, float]:
    return {o.state: float(o.value) for o in scenario.observed
            if str(o.period) == "2017" and o.measure == "full_year_persons"}


def yearly_mean(result: sim.RunResult, year: int, state: str) -> float:
    y = result.yearly
    return float(y[(y["year"] == year) & (y["state"] == state)]["mean"].iloc[0])


def test_scenario_loads_with_the_thirteen_benefits_of_the_plan(scenario: sim.Scenario) -> None:
    assert tuple(scenario.states) == STATES
    assert scenario.start.isoformat() == "2017-01-01" and scenario.months == 24
    assert scenario.states["integrationsydelse_oevrige"].group == "kontanthjaelp"
    assert scenario.states["integrationsydelse_oevrige"].label == "integrationsydelse (øvrige)"
    assert scenario.economics is not None
    assert all(o.source and "seed 003" in o.source for o in scenario.observed)
    assert set(observed_2017(scenario)) == {*STATES, "total"}


def test_every_inflow_is_free_in_the_calibrate_block(scenario: sim.Scenario) -> None:
    assert scenario.calibrate is not None
    freed = {p.path.split(".")[1] for p in scenario.calibrate.parameters}
    assert freed == set(scenario.inflow_per_week)
    for p in scenario.calibrate.parameters:
        assert p.prior is not None and p.spread == pytest.approx(0.25 * p.prior, rel=0.02)


def test_2017_reproduces_the_jan_oct_2017_table(scenario: sim.Scenario, result: sim.RunResult) -> None:
    """Each benefit within 3 % of its Jan–Oct 2017 figure (the scenario's inflows were set so, on
    20 runs); for the small states (62 and 76 persons) 8 runs cannot resolve 3 %, so there the
    allowance is 3 standard errors of the 8-run mean when that is wider."""
    observed = observed_2017(scenario)
    y = result.yearly
    for state in STATES:
        sd = float(y[(y["year"] == 2017) & (y["state"] == state)]["sd"].iloc[0])
        allowed = max(0.03 * observed[state], 3 * sd / np.sqrt(8))
        assert yearly_mean(result, 2017, state) == pytest.approx(observed[state], abs=allowed), state
    assert yearly_mean(result, 2017, "total") == pytest.approx(observed["total"], rel=0.02)


def test_every_target_resolves(scenario: sim.Scenario, result: sim.RunResult) -> None:
    targets = result.targets
    assert len(targets) == len(scenario.targets)
    assert list(targets["target"]) == [t.name for t in scenario.targets]
    for column in ("threshold", "probability_met", "mean"):
        values = targets[column].to_numpy(dtype=float)
        assert np.isfinite(values).all(), column
    assert targets["probability_met"].between(0, 1).all()
