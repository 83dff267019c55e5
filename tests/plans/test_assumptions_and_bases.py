"""The shipped scenarios' assumptions, bases and dated rules are what their comments say.

Each named assumption resolves to one number of its scenario, which lies in its range; a change or
difference target says `base: assumed` exactly when its base is not a plan figure; the Tårnby
what-if variant differs from its base only where it says; and the fleksjob reassessment (seed 000)
is a clock on post-2013 spells only.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.contract.loader import load_scenario
from sim.contract.parameters import get_value, scenario_data
from sim.contract.rules_spec import ClockFrom
from sim.contract.schema import Scenario

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"
SHIPPED = sorted(p.stem for p in SCENARIOS.glob("*.yaml"))
MAX_ASSUMPTIONS = 7
"""Each assumption costs two extra batches at run time: a scenario names only those that matter most."""


def load(stem: str) -> Scenario:
    return load_scenario(SCENARIOS / f"{stem}.yaml")


@pytest.mark.parametrize("stem", SHIPPED)
def test_every_assumption_names_one_number_inside_its_range(stem: str) -> None:
    scenario = load(stem)
    data = scenario_data(scenario)
    assert len(scenario.assumptions) <= MAX_ASSUMPTIONS, stem
    paths = [a.path for a in scenario.assumptions]
    assert len(paths) == len(set(paths)), f"{stem}: an assumption is named twice"
    for a in scenario.assumptions:
        value = get_value(data, a.path)
        assert a.low <= value <= a.high, (f"scenarios/{stem}.yaml: assumption {a.path} is {value:g}, "
                                          f"outside its range [{a.low:g}, {a.high:g}]")
        if a.path.startswith("observed."):
            row = data["observed"][int(a.path.split(".")[1])]
            assert str(row.get("source", "")).startswith("ASSUMED"), (
                f"scenarios/{stem}.yaml: assumption {a.path} names an observed row whose source is not "
                f"ASSUMED: {row}")


@pytest.mark.parametrize("stem", SHIPPED)
def test_a_relative_target_says_assumed_exactly_when_its_base_is(stem: str) -> None:
    scenario = load(stem)
    rows = {(str(o.period), o.state, o.measure): o for o in scenario.observed}
    for t in scenario.targets:
        if not t.relative:
            continue
        period = t.base_period
        assert period is not None, t.name
        base = [rows[(period, c, t.measure)] for c in (*t.states, *t.groups)]
        assumed = any((o.source or "").startswith("ASSUMED") for o in base)
        assert t.base == ("assumed" if assumed else "observed"), (
            f"scenarios/{stem}.yaml: {t.name!r} has base: {t.base}, but its base rows' sources are "
            f"{[o.source for o in base]}")
        if not assumed:
            assert all("seed" in (o.source or "") for o in base), (
                f"scenarios/{stem}.yaml: {t.name!r}: an observed base must name its seed")


def test_the_tarnby_variant_differs_from_its_base_only_in_name_and_places() -> None:
    base = scenario_data(load("taarnby-2018"))
    variant = scenario_data(load("taarnby-2018-jobsoegning-x3"))
    places = {}
    for label, data in (("base", base), ("variant", variant)):
        data.pop("name")
        places[label] = {p["name"]: p.pop("places", None) for p in data["interventions"]}
    assert variant == base, "taarnby-2018-jobsoegning-x3.yaml must be taarnby-2018.yaml but name and places"
    course = [n for n in places["base"] if n.startswith("Jobsøgningsforløb")]
    assert len(course) == 2
    assert {n: 3 * places["base"][n] for n in course} == {n: places["variant"][n] for n in course}
    assert {n: k for n, k in places["base"].items() if n not in course} == {
        n: k for n, k in places["variant"].items() if n not in course}


@pytest.mark.parametrize("stem", ["taarnby-2018", "taarnby-2018-jobsoegning-x3"])
def test_post_2013_fleksjob_is_reassessed_at_four_and_a_half_years(stem: str) -> None:
    scenario = load(stem)
    clocks = [(i, r) for i, r in enumerate(scenario.transitions["fleksjob"]) if r.at_week is not None]
    assert {r.at_week for _, r in clocks} == {234.0}
    leave = [(i, r) for i, r in clocks if r.to != "stay"]
    assert [r.to for _, r in leave] == ["job"] and [r.share for _, r in clocks if r.to == "stay"] == ["rest"]
    (rule,) = [r for r in scenario.rules if isinstance(r, ClockFrom)]
    assert rule.until is not None
    assert (rule.state, rule.week, rule.at_week, rule.until.isoformat()) == (
        "fleksjob", 234.0, "never", "2012-12-31")
    ((index, _),) = leave
    assert f"transitions.fleksjob.{index}.share" in {a.path for a in scenario.assumptions}
