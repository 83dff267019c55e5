"""The `caseworkers` block: teams with limited meeting hours, meeting schedules and turnover."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from sim.contract.fields import Bands, Num, parse_bands
from sim.contract.intervention_spec import Ratios

TEAM_SHARES: dict[str, tuple[str, str]] = {
    "meetings_late_share": ("late", "held"),
    "meetings_missed_share": ("missed", "due"),
    "utilisation": ("hours_used", "hours_available"),
    "first_meeting_within_14_days_share": ("first_within_14_days", "first_held"),
    "fokus_no_offer_share": ("fokus_no_offer", "fokus_seniority_12m"),
    "fokus_few_meetings_share": ("fokus_few_meetings", "fokus_seniority_12m"),
}
"""A team's shares as (numerator, denominator) of its measures (sim.features.caseworkers.MEASURES), summed
over the period: columns of caseworkers.csv, the reports' team tables and target metrics."""


class Team(BaseModel):
    """A team of caseworkers meeting the citizens of some states on a schedule, within its hours."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    team: str = Field(min_length=1)
    states: tuple[str, ...] = Field(min_length=1)
    headcount: Num = Field(gt=0, le=10_000, allow_inf_nan=False)
    hours_per_week: Num = Field(gt=0, le=60, allow_inf_nan=False)
    """Hours per caseworker per week available for meetings."""
    hours_per_meeting: Num = Field(gt=0, le=40, allow_inf_nan=False)
    first_meeting_weeks: Num = Field(default=2.0, ge=0, le=104, allow_inf_nan=False)
    """The first meeting is due this many weeks after the citizen enters a team state."""
    every_weeks: Annotated[Bands, BeforeValidator(
        lambda v: parse_bands(v, "a meeting interval in weeks", positive=True))] = ((0.0, 4.0),)
    """[from_week, interval in weeks] bands: e.g. [[0, 6.5], [26, 13]] is 4 meetings in the first
    26 weeks, then one a quarter."""
    late_after_weeks: Num = Field(default=1.0, ge=0, allow_inf_nan=False)
    """A meeting held more than this after it was due counts as late."""
    give_up_weeks: Num = Field(default=4.0, gt=0, allow_inf_nan=False)
    """A meeting not held this long after it was due is missed; the next one is still due."""
    effect_per_meeting: Ratios = Field(default_factory=dict)
    """Hazard ratios by route destination for `effect_weeks` after each meeting held."""
    effect_weeks: Num = Field(default=0.0, ge=0, le=104, allow_inf_nan=False)
    turnover_per_year: Num = Field(default=0.0, ge=0, le=52, allow_inf_nan=False)
    """Caseworker changes per citizen per year."""
    change_effect: Ratios = Field(default_factory=dict)
    """Hazard ratios applied at each caseworker change, for the rest of the stay (cumulative: two
    changes at 0.78 give 0.78²; Lyngby-Taarbæk cites −22 % job chance per change, seed 002)."""
