"""The refusion rules and benefit levels the economics default to, each with its source.

Refusionsreformen (in force from 4 January 2016; seed 000 uses it): the state refunds a share
of each benefit by the citizen's cumulative weeks on public support, so the municipality's
co-financing is 20 % in weeks 1–4, 60 % in weeks 5–26, 70 % in weeks 27–52 and 80 % from week
53. The count starts again only after 52 whole weeks of self-support within the last 3 years
(DOMAIN.md, from the public rule texts).
"""

from __future__ import annotations

STAIRCASE_2016: tuple[tuple[float, float], ...] = ((0.0, 0.20), (4.0, 0.60), (26.0, 0.70), (52.0, 0.80))
"""(from week of cumulative support, municipal share): the 2016 reform's staircase."""

RESET_SELF_SUPPORT_WEEKS = 52.0
"""Whole weeks of self-support that start the count again …"""
RESET_WINDOW_WEEKS = 156.0
"""… within this many weeks (3 years) before the return to support."""

COVERED: frozenset[str] = frozenset({
    "a_dagpenge", "arbejdsmarkedsydelse", "kontantydelse", "sygedagpenge", "jobafklaring",
    "kontanthjaelp", "kontanthjaelp_jobparat", "kontanthjaelp_aktivitetsparat",
    "uddannelseshjaelp", "uddannelseshjaelp_uddannelsesparat", "uddannelseshjaelp_aabenlyst",
    "uddannelseshjaelp_aktivitetsparat", "revalidering", "ressourceforloeb", "integrationsydelse",
    "ledighedsydelse", "fleksjob",
})
"""Catalogue states that count toward cumulative time and are refunded by the staircase
(DOMAIN.md: a-dagpenge, kontanthjælp, uddannelseshjælp, sygedagpenge, integrationsydelse,
revalidering, ressourceforløb, jobafklaring, and for citizens assessed from 1 July 2014
ledighedsydelse and fleksløntilskud). Assumption: arbejdsmarkedsydelse and kontantydelse follow
a-dagpenge, and every ledighedsydelse and fleksjob citizen is assessed after 1 July 2014."""

SELF_SUPPORT_EXITS: frozenset[str] = frozenset({"job", "education"})
"""Exits that are self-support (selvforsørgelse), the time that can start the count again."""
COUNTED_EXITS: frozenset[str] = frozenset({"pension"})
"""Exits whose time still counts toward cumulative support: førtidspension, for citizens
assessed from 1 July 2014 (DOMAIN.md). `other` (moved, retired, died) neither counts nor resets."""

UNPAID_FIRST_WEEKS: dict[str, float] = {"sygedagpenge": 30 / 7}
"""Weeks at the start of a spell the municipality neither pays nor counts: the employer pays
sygedagpenge's first 30 days (arbejdsgiverperiode; seed 003, note 1). Only a spell that starts
from outside public support has them: sick while on another benefit, the municipality pays
from the first day."""

KOEGE_BUDGET_2018: dict[str, tuple[float, tuple[str, ...], tuple[float, ...]]] = {
    "sygedagpenge": (134_031_172, ("sygedagpenge",), (648,)),
    "kontant- og uddannelseshjælp": (172_082_442, ("kontanthjaelp", "uddannelseshjaelp"), (844, 425)),
    "dagpenge": (94_908_608, ("a_dagpenge",), (697,)),
    "revalidering": (19_023_746, ("revalidering",), (85,)),
    "fleksjob": (137_954_194, ("fleksjob",), (752,)),
    "ledighedsydelse": (29_056_526, ("ledighedsydelse",), (165,)),
    "ressourceforløb og jobafklaring": (72_822_849, ("ressourceforloeb", "jobafklaring"), (218, 181)),
    "integrationsydelse": (26_675_807, ("integrationsydelse",), (290,)),
}
"""Køge's budget 2018 (seed 003): benefit area → (DKK, the states in it, their budget 2018
full-year persons). Integrationsydelse counts both lines (225 + 65); sygedagpenge's 648 is the
payment system's figure, without the employer period."""


def _per_person(area: str) -> float:
    dkk, _, persons = KOEGE_BUDGET_2018[area]
    return dkk / sum(persons)


_AREA_OF = {
    "a_dagpenge": "dagpenge", "arbejdsmarkedsydelse": "dagpenge", "kontantydelse": "dagpenge",
    "sygedagpenge": "sygedagpenge", "jobafklaring": "ressourceforløb og jobafklaring",
    "ressourceforloeb": "ressourceforløb og jobafklaring", "revalidering": "revalidering",
    "fleksjob": "fleksjob", "ledighedsydelse": "ledighedsydelse",
    "integrationsydelse": "integrationsydelse",
    **{c: "kontant- og uddannelseshjælp" for c in (
        "kontanthjaelp", "kontanthjaelp_jobparat", "kontanthjaelp_aktivitetsparat", "uddannelseshjaelp",
        "uddannelseshjaelp_uddannelsesparat", "uddannelseshjaelp_aabenlyst",
        "uddannelseshjaelp_aktivitetsparat")},
}

DKK_PER_FULL_YEAR_PERSON_2018: dict[str, float] = {c: _per_person(a) for c, a in _AREA_OF.items()}
"""Gross DKK per full-year person in 2018 by state: Køge's 2018 budget line for the state's
benefit area ÷ the area's budgeted full-year persons (seed 003). Sub-groups share their area's
average. An assumption for other municipalities; a scenario gives its own to override."""

BASE_YEAR = 2018
"""The price year of the default benefit levels."""
