"""The benefit catalogue: every state the model knows, with its Danish and English label and group.

Codes are ASCII; labels carry the Danish letters. Groups follow Jobindsats (seed 001):
`dagpenge`, `sygedagpenge`, `kontanthjaelp`, plus `fleksjob` for the flex-job states.
"""

from __future__ import annotations

from dataclasses import dataclass

GROUPS: tuple[str, ...] = ("dagpenge", "sygedagpenge", "kontanthjaelp", "fleksjob")
"""Jobindsats benefit groups; every state on public support belongs to one."""

TOTAL = "total"
"""The pseudo-state meaning all public support together (offentlig forsørgelse)."""

STAY = "stay"
"""The pseudo-destination of a clock share that keeps the citizen in its state."""


@dataclass(frozen=True, slots=True)
class BenefitState:
    """One benefit state (ydelse) or exit, as the catalogue describes it."""

    code: str
    label_da: str
    label_en: str
    group: str | None  # None for exits, which are off public support



_BENEFITS = (
    BenefitState("a_dagpenge", "a-dagpenge", "unemployment insurance benefit", "dagpenge"),
    BenefitState("arbejdsmarkedsydelse", "arbejdsmarkedsydelse", "labour market benefit", "dagpenge"),
    BenefitState("kontantydelse", "kontantydelse", "cash benefit after exhaustion", "dagpenge"),
    BenefitState("sygedagpenge", "sygedagpenge", "sickness benefit", "sygedagpenge"),
    BenefitState("jobafklaring", "jobafklaringsforløb", "job clarification", "sygedagpenge"),
    BenefitState("kontanthjaelp", "kontanthjælp", "social assistance", "kontanthjaelp"),
    BenefitState(
        "kontanthjaelp_jobparat", "kontanthjælp, jobparate",
        "social assistance, job-ready", "kontanthjaelp",
    ),
    BenefitState(
        "kontanthjaelp_aktivitetsparat", "kontanthjælp, aktivitetsparate",
        "social assistance, not job-ready", "kontanthjaelp",
    ),
    BenefitState("uddannelseshjaelp", "uddannelseshjælp", "education benefit (under 30)", "kontanthjaelp"),
    BenefitState(
        "uddannelseshjaelp_uddannelsesparat", "uddannelseshjælp, uddannelsesparate",
        "education benefit, education-ready", "kontanthjaelp",
    ),
    BenefitState(
        "uddannelseshjaelp_aabenlyst", "uddannelseshjælp, åbenlyst uddannelsesparate",
        "education benefit, obviously education-ready", "kontanthjaelp",
    ),
    BenefitState(
        "uddannelseshjaelp_aktivitetsparat", "uddannelseshjælp, aktivitetsparate",
        "education benefit, not education-ready", "kontanthjaelp",
    ),
    BenefitState("revalidering", "revalidering", "vocational rehabilitation", "kontanthjaelp"),
    BenefitState("ressourceforloeb", "ressourceforløb", "rehabilitation programme", "kontanthjaelp"),
    BenefitState(
        "integrationsydelse", "selvforsørgelses- og hjemrejseydelse (integrationsydelse)",
        "integration benefit (refugees)", "kontanthjaelp",
    ),
    BenefitState(
        "ledighedsydelse", "ledighedsydelse",
        "unemployment benefit awaiting a flex-job", "kontanthjaelp",
    ),
    BenefitState("fleksjob", "fleksjob", "flex-job with wage subsidy", "fleksjob"),
)

_EXITS = (
    BenefitState("job", "job (selvforsørgelse)", "job (self-support)", None),
    BenefitState("education", "uddannelse (selvforsørgelse)", "education (self-support)", None),
    BenefitState("pension", "førtidspension", "disability pension", None),
    BenefitState("other", "andet (fraflytning, alderspension, død)", "other (moved, retired, died)", None),
)

CATALOGUE: dict[str, BenefitState] = {s.code: s for s in _BENEFITS + _EXITS}
"""All known states by code, benefits first, then exits."""

EXITS: tuple[str, ...] = tuple(s.code for s in _EXITS)
"""The built-in exit codes: absorbing unless a scenario gives routes out of them."""

RESERVED: frozenset[str] = frozenset({*EXITS, TOTAL, STAY, *GROUPS})
"""Codes a custom state may not take."""
