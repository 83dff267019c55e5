"""The words of observed data: every measure and every state code an observed figure may carry.

The vocabulary is closed so that a typo (`full_year_person`, `sygedagpeng`) is an error naming
its row rather than a figure quietly left out of a fit. calibration/README.md explains each word;
a test keeps the two lists the same.
"""

from __future__ import annotations

from sim.contract.catalogue import CATALOGUE, EXITS, GROUPS, TOTAL
from sim.contract.messages import did_you_mean

GROUP_PREFIX = "group:"
"""Marks a Jobindsats group where its code is also a state's (sygedagpenge, kontanthjaelp, fleksjob)."""

MEASURES: frozenset[str] = frozenset({
    "full_year_persons", "budget_full_year_persons", "national_full_year_persons",
    "expected_full_year_persons", "budget_dkk", "refund_dkk", "net_dkk", "target_full_year_persons",
    "target_change", "target_cofinancing_rate", "budget_cofinancing_rate", "mean_duration_weeks",
    "target_mean_duration_weeks", "share", "target_share", "count", "target_count",
    "target_change_full_year_persons", "target_change_mean_duration_weeks", "change", "change_count",
    "share_change", "inflow_count", "inflow_from_outside_count", "persons_count", "spells_count",
    *(f"outflow_{code}_count" for code in EXITS),
})
"""Every measure an observed figure may have (calibration/README.md, "Measures"); the outflows
are one per exit state of the catalogue."""

OVER_WEEKS_SUFFIX = "_weeks"
"""A duration-threshold stock, `full_year_persons_over_52_weeks`, is a measure too (targets with
`min_weeks` read their base from it)."""

CUSTOM_STATES: frozenset[str] = frozenset({
    "integrationsydelse_oevrige", "kontant_og_uddannelseshjaelp", "ressourceforloeb_og_jobafklaring",
    "egu", "forsoergelsesydelser", "kontanthjaelp_langtidsledige", "ressourceforloeb_virksomhedsrettet",
    "flygtninge", "jobparate", "jobparate_over_30", "jobparate_langtidsledige", "unge_under_30",
    "bruttoledige", "integrationsydelse_kvinder",
})
"""Populations the catalogue has no state for, which plans report figures on (calibration/README.md,
"Custom state codes"); a model is never compared with them."""

KNOWN_STATES: frozenset[str] = frozenset({
    *(code for code, s in CATALOGUE.items() if s.group is not None), *GROUPS,
    *(f"{GROUP_PREFIX}{g}" for g in GROUPS), TOTAL, *CUSTOM_STATES,
})
"""Every state word an observed figure may carry whatever the scenario: the catalogue's benefit
states, the groups, `total` and the custom codes; a scenario's own states are added to it."""


def is_measure(measure: str) -> bool:
    """Whether `measure` is a word of the vocabulary (a duration-threshold stock included)."""
    if measure in MEASURES:
        return True
    head, _, weeks = measure.removesuffix(OVER_WEEKS_SUFFIX).rpartition("_over_")
    return (measure.endswith(OVER_WEEKS_SUFFIX) and head == "full_year_persons"
            and weeks.replace(".", "", 1).isdigit())


def unknown_word(kind: str, word: str, known: frozenset[str] | set[str]) -> str:
    """"unknown measure 'full_year_person'; did you mean 'full_year_persons'?", for an error."""
    return f"unknown {kind} {word!r}{did_you_mean(word, sorted(known))}"
