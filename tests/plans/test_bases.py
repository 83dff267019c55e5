"""Every shipped target on full-year persons that counts sick leave says on which basis it counts."""

from __future__ import annotations

from pathlib import Path

import pytest

import sim
from sim.contract.catalogue import CATALOGUE, TOTAL
from sim.contract.overlay import resolve_file
from sim.contract.schema import Target
from sim.features.payment import unpaid_days

SCENARIOS = sorted((Path(__file__).resolve().parents[2] / "scenarios").glob("*.yaml"))


def _counts_sick_leave(scenario: sim.Scenario, target: Target) -> bool:
    """Whether the target counts a state whose bases differ (one with an employer period)."""
    codes = list(scenario.states)
    differ = {code for code, days in zip(codes, unpaid_days(scenario), strict=True) if days > 0}
    groups = {scenario.states[code].group or CATALOGUE[code].group for code in differ}
    return bool(differ) and (TOTAL in target.states or bool(differ & set(target.states))
                             or bool(groups & set(target.groups)))


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_sick_leave_targets_state_their_basis(path: Path) -> None:
    scenario = sim.load_scenario(path)
    raw = resolve_file(path)[0].get("targets") or []  # an overlay's targets are its base's
    for target, given in zip(scenario.targets, raw, strict=True):
        if target.metric == "full_year_persons" and _counts_sick_leave(scenario, target):
            assert "basis" in given, f"{path.name}: {target.name!r} counts sick leave but states no basis"


def test_the_plans_bases() -> None:
    """Tårnby's targets and Køge's budget are payment-system figures (seeds 000 and 003, note 1);
    Køge's national level and 2017 comparisons and Lyngby's targets are Jobindsats figures."""
    bases = {}
    for path in SCENARIOS:
        for t in sim.load_scenario(path).targets:
            bases[(path.stem, t.name)] = t.basis
    assert bases[("taarnby-2018", "Sygedagpenge i Tårnby i gennemsnit højst 509 helårspersoner")] == "payment"
    assert bases[("koege-2018", "Budget 2018: sygedagpenge højst 648 (betalingsgrundlag)")] == "payment"
    assert bases[("koege-2018", "Niveau med hele landet: sygedagpenge højst 677")] == "jobindsats"
    assert bases[("lyngby-taarbaek-2020", "Mål 3: sygemeldte ned med 4 % (januar 2020 → januar 2021)")] == (
        "jobindsats")
