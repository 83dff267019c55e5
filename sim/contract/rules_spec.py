"""The scenario's dated rules, named assumptions and targets it cannot evaluate (schema blocks).

Dated rules change how benefits are counted or priced between dates, as the law did (the
dagpenge freeze of 2020–21, sygedagpenge refunded from the first day until 28 February 2022, a
new staircase or rate from a date). Assumptions name a value the plans do not give, with the
range it could take and why; `caseflow run` evaluates each target at both ends of that range.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import ConfigDict, Field, model_validator

from sim.contract.calibrate_spec import _Block
from sim.contract.fields import ClockWeek, Num, ShareBands


class _Dated(_Block):
    """A rule in force from one date (inclusive) until another (inclusive; open if left out)."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)
    start: dt.date = Field(alias="from")
    until: dt.date | None = None
    source: str | None = None
    """Where the rule comes from (a law, a seed's words)."""

    @model_validator(mode="after")
    def _ordered(self) -> _Dated:
        if self.until is not None and self.start is not None and self.until < self.start:
            raise ValueError(f"until ({self.until}) is before from ({self.start})")
        return self


class PauseClocks(_Dated):
    """A state's clocks stand still between the dates: time in the state then does not count
    toward its forced moves (the dagpenge period's exhaustion), so each is that much later; with
    `dagpenge_period` the paused days are not used up either. Hazards go on as before."""

    kind: Literal["pause_clocks"]
    state: str
    until: dt.date


class RefundFromDayOne(_Dated):
    """Between the dates the municipality pays (and counts) a state's unpaid first weeks (the
    employer period of sygedagpenge) for this share of the days in them (COVID-19: refusion from
    the first day for those sick with corona, until 28 February 2022, seed 001)."""

    kind: Literal["refund_from_day_one"]
    state: str = "sygedagpenge"
    share: Num = Field(default=1.0, ge=0, le=1, allow_inf_nan=False)


class StaircaseFrom(_Dated):
    """From the date (the first of a month) the refusion staircase's municipal shares are these;
    the steps (their from-weeks) stay the scenario's."""

    kind: Literal["staircase"]
    staircase: ShareBands


class RateFrom(_Dated):
    """From the date (the first of a month) a state's benefit costs this many DKK per full-year
    person (in the economics block's base-year prices)."""

    kind: Literal["rate"]
    state: str
    dkk_per_full_year_person: Num = Field(ge=0, allow_inf_nan=False)


class ClockFrom(_Dated):
    """Spells that start between the dates have the state's clock at `week` at `at_week` instead
    (`never`: no such clock), e.g. only fleksjob started from 2013 is reassessed after 4½ years."""

    kind: Literal["clock"]
    start: dt.date | None = Field(default=None, alias="from")  # type: ignore[assignment]
    """The first spell start the change applies to (left out: every spell before `until`)."""
    state: str
    week: Num = Field(gt=0, allow_inf_nan=False)
    """The clock as the transitions give it (its at_week)."""
    at_week: ClockWeek | Literal["never"] = "never"
    """The clock's week for those spells: at least a day (1/7 week), like every clock."""


DatedRule = Annotated[PauseClocks | RefundFromDayOne | StaircaseFrom | RateFrom | ClockFrom,
                      Field(discriminator="kind")]
RULE_KINDS = ("pause_clocks", "refund_from_day_one", "staircase", "rate", "clock")


class Assumption(_Block):
    """A value the plans do not give: its parameter path, the range it could take and why."""

    path: str = Field(min_length=1)
    """A parameter path (sim.contract.parameters), e.g. inflow_per_week.sygedagpenge.rate."""
    low: Num = Field(allow_inf_nan=False)
    high: Num = Field(allow_inf_nan=False)
    reason: str = Field(min_length=1)

    @model_validator(mode="after")
    def _range(self) -> Assumption:
        if not self.low <= self.high:
            raise ValueError(f"low ({self.low:g}) is above high ({self.high:g})")
        return self


class NotEvaluated(_Block):
    """A quantitative target of the plan that the scenario cannot evaluate, and why."""

    target: str = Field(min_length=1)
    """The plan's words (or a faithful short form)."""
    plan: str = Field(min_length=1)
    """Where it stands: the seed file and its section."""
    reason: str = Field(min_length=1)
