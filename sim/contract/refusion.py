"""The refusion rules and benefit levels the economics default to, each with its source.

Refusionsreformen (in force from 4 January 2016; seed 000 uses it): the state refunds a share
of each benefit by the citizen's cumulative weeks on public support, so the municipality's
co-financing is 20 % in weeks 1–4, 60 % in weeks 5–26, 70 % in weeks 27–52 and 80 % from week
53. The count starts again only after 52 whole weeks of self-support within the last 3 years
(DOMAIN.md, from the public rule texts).

Two ways a benefit reaches the municipal accounts (`PRICING`):

- `refunded` (most benefits): the municipality pays the benefit to the citizen and the state
  refunds it the staircase's remaining share. Gross DKK is the benefit paid out, the refund is
  booked against the budget's refunds line, net is the municipality's share.
- `cofinanced` (a-dagpenge): the a-kasse pays the benefit and the municipality pays the a-kasse's
  funding its co-financing, the staircase share of the benefit, with no refund. The budget line
  (Køge's 5.57.78 "dagpenge til forsikrede ledige", seed 003) is that co-financing, so gross DKK is
  the municipality's payment, the refund is 0 and net equals gross; the benefit level given is
  still the gross benefit per full-year person, and the co-financing rate is net ÷ that benefit.
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
ledighedsydelse and fleksløntilskud). Assumption: arbejdsmarkedsydelse and kontantydelse count
like a-dagpenge; every ledighedsydelse and fleksjob citizen is assessed after 1 July 2014 unless
the scenario gives an old-rule share of the initial stock (`economics.states.<state>.old_rule`)."""

COFINANCED: frozenset[str] = frozenset({"a_dagpenge", "arbejdsmarkedsydelse"})
"""States the municipality co-finances instead of paying (pricing `cofinanced`); every other
state is `refunded`.

- a-dagpenge: the a-kasse pays it; since 2016 the municipality pays 20 / 60 / 70 / 80 % of it by
  weeks on support and gets no refund (DOMAIN.md, "Bases and rules"; the authorised groupings of
  function 5.57.78 are "Dagpenge, 20 pct. kommunal medfinansiering" … "80 pct.", of the dagpenge
  paid out by the a-kasser, in the municipal chart of accounts).
- arbejdsmarkedsydelse (the temporary benefit after exhausted dagpenge, 2014–2016): also paid by
  the a-kasse, and co-financed under the same ordinance as dagpenge (bekendtgørelse om
  kommunernes medfinansiering af arbejdsløshedsdagpenge, midlertidig arbejdsmarkedsydelse og
  befordringsgodtgørelse): the same rule, so the same pricing.
- kontantydelse is not: the municipality pays it out itself (lov om kontantydelse; function
  5.57.79, grouping 013 "Kontantydelse") and is refunded by the staircase (80 % in weeks 1–4 …
  20 % from week 53, the same function's description), so it is `refunded`, like kontanthjælp."""

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


A_DAGPENGE_MAX_2018 = 223_596.0
"""The 2018 maximum rate of a-dagpenge for a full-time insured, DKK a year (18,633 a month;
DOMAIN.md, from the public rate tables)."""

KOEGE_A_DAGPENGE_WEEKS_2018: tuple[float, ...] = (4349, 13971, 9013, 9251)
"""Køge's a-dagpenge person-weeks in 2018 on staircase steps 1–4 (weeks 1–4, 5–26, 27–52, 53+ of
cumulative support) as the model forecasts them: staircase.csv of `caseflow run
scenarios/koege-2018.yaml --runs 200 --seed 1` (36,584 person-weeks = 701.6 full-year persons,
against the budget's 697). They depend on the flows and the support count only, not on prices."""

KOEGE_A_DAGPENGE_SHARE_2018 = sum(
    w * s for w, (_, s) in zip(KOEGE_A_DAGPENGE_WEEKS_2018, STAIRCASE_2016, strict=True)
) / sum(KOEGE_A_DAGPENGE_WEEKS_2018)
"""The municipal share averaged over those person-weeks: (0.2 × 4,349 + 0.6 × 13,971 + 0.7 ×
9,013 + 0.8 × 9,251) ÷ 36,584 = 22,962.3 ÷ 36,584 = 0.62766 (Tårnby's plan expects 66.4 % for
its a-dagpenge, seed 000, Table 1)."""

A_DAGPENGE_GROSS_2018 = _per_person("dagpenge") / KOEGE_A_DAGPENGE_SHARE_2018
"""The average gross a-dagpenge per full-year person, 2018 DKK: 216,944.

Derivation. Køge's budget line 5.57.78 "dagpenge til forsikrede ledige" is 94,908,608 DKK for
697 budgeted full-year persons (seed 003): 136,167 DKK per full-year person, and that is the
municipality's co-financing, not the benefit (the a-kasse pays the benefit; COFINANCED). The
municipality pays the staircase share of the gross benefit G, so 136,167 = G × the mean share of
Køge's a-dagpenge person-weeks, 0.62766 (KOEGE_A_DAGPENGE_SHARE_2018, the model's own
distribution of weeks on support): G = 136,167 ÷ 0.62766 = 216,944 DKK, 97.0 % of the 2018
maximum (223,596): most full-time insured get the maximum, the rest (part-time insured at
two thirds of it, graduates at 71.5–82 %) pull the mean a little below it. The model's forecast
then is 701.6 full-year persons × 0.62766 × 216,944 = 95.5 m kr. of net a-dagpenge, 0.7 % above
the budget line (the full-year persons' own gap: 701.6 against 697). Another municipality's
a-dagpenge take this level too: the maximum rate is national, the share below it an assumption."""

ARBEJDSMARKEDSYDELSE_GROSS_2018 = 0.7 * A_DAGPENGE_MAX_2018
"""Gross arbejdsmarkedsydelse per full-year person, 2018 DKK: 156,517. The benefit is 80 % of the
dagpenge maximum for providers and 60 % for others (2018 rate tables: 688 and 516 DKK a day
against dagpenge's 860); ASSUMED half and half, so 70 % of the maximum."""

_AREA_OF = {
    "kontantydelse": "kontant- og uddannelseshjælp",
    "sygedagpenge": "sygedagpenge", "jobafklaring": "ressourceforløb og jobafklaring",
    "ressourceforloeb": "ressourceforløb og jobafklaring", "revalidering": "revalidering",
    "fleksjob": "fleksjob", "ledighedsydelse": "ledighedsydelse",
    "integrationsydelse": "integrationsydelse",
    **{c: "kontant- og uddannelseshjælp" for c in (
        "kontanthjaelp", "kontanthjaelp_jobparat", "kontanthjaelp_aktivitetsparat", "uddannelseshjaelp",
        "uddannelseshjaelp_uddannelsesparat", "uddannelseshjaelp_aabenlyst",
        "uddannelseshjaelp_aktivitetsparat")},
}

DKK_PER_FULL_YEAR_PERSON_2018: dict[str, float] = {
    **{c: _per_person(a) for c, a in _AREA_OF.items()},
    "a_dagpenge": A_DAGPENGE_GROSS_2018,
    "arbejdsmarkedsydelse": ARBEJDSMARKEDSYDELSE_GROSS_2018,
}
"""Gross DKK per full-year person in 2018 by state, the benefit paid to the citizen whoever pays
it: for refunded states, Køge's 2018 budget line for the state's benefit area ÷ the area's
budgeted full-year persons (seed 003), sub-groups sharing their area's average; kontantydelse
takes kontant- og uddannelseshjælp's (its rates are kontanthjælp's for those over 30: 14,808
and 11,143 DKK a month in 2017, with and without children). For the cofinanced a-dagpenge and
arbejdsmarkedsydelse the gross benefit, of which the municipality pays the staircase share
(A_DAGPENGE_GROSS_2018, ARBEJDSMARKEDSYDELSE_GROSS_2018). An assumption for other
municipalities; a scenario gives its own to override."""

BASE_YEAR = 2018
"""The price year of the default benefit levels."""
