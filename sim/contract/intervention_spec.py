"""The `interventions` block of a scenario: programmes with places, a queue, uptake and effects."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from sim.contract.fields import Num

Ratios = dict[str, Annotated[Num, Field(ge=0, le=100, allow_inf_nan=False)]]
"""Hazard ratios by destination (a route's `to`), e.g. {job: 0.5}."""


class Effects(BaseModel):
    """Hazard ratios on named routes while participating (lock-in) and for a while after."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    during: Ratios = Field(default_factory=dict)
    after: Ratios = Field(default_factory=dict)
    after_weeks: Num = Field(default=0.0, ge=0, le=520, allow_inf_nan=False)


class EffectUncertainty(BaseModel):
    """Per-replication spread of the effects: each ratio is multiplied by a lognormal factor."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    log_sd: Num = Field(ge=0, le=2, allow_inf_nan=False)
    """Standard deviation of the log of the factor (0.1: about ±10 %)."""


class Intervention(BaseModel):
    """A programme: who is eligible, how they are referred, its places, uptake, duration and effects."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    states: tuple[str, ...] = Field(min_length=1)
    """Benefit states whose citizens are eligible."""
    from_week: Num = Field(default=0.0, ge=0, allow_inf_nan=False)
    to_week: Num | None = Field(default=None, gt=0, allow_inf_nan=False)
    """The weeks-in-state window of eligibility (to_week open when left out)."""
    age: tuple[Num, Num] | None = None
    """[from, to) years of age at referral (the states need an `ages` block in the scenario)."""
    referral: Literal["on_entry", "at_week", "at_clock", "rate"] = "at_week"
    """on_entry: when the citizen becomes eligible; at_week: at from_week; at_clock: at the
    state's first forced clock (e.g. sygedagpenge's reassessment), just before it strikes; rate:
    a share of the eligible per week (rate_per_week), each eligible citizen at its own time."""
    attributes: dict[str, str] = Field(default_factory=dict)
    """Eligibility by attribute values, e.g. {sex: female} (the states need them in the
    scenario's `attributes` block)."""
    rate_per_week: Num | None = Field(default=None, gt=0, allow_inf_nan=False)
    places: int | None = Field(default=None, ge=1, le=1_000_000)
    """Participants at once (a SimPy resource); left out: no limit."""
    max_wait_weeks: Num | None = Field(default=None, ge=0, allow_inf_nan=False)
    """How long a referral waits for a place before it lapses; 0: no queue; left out: no limit."""
    uptake: Num = Field(default=1.0, ge=0, le=1, allow_inf_nan=False)
    duration_weeks: Num = Field(gt=0, le=520, allow_inf_nan=False)
    duration: Literal["fixed", "exponential"] = "fixed"
    effects: Effects = Field(default_factory=Effects)
    cost_per_week_dkk: Num = Field(default=0.0, ge=0, allow_inf_nan=False)
    uncertainty: EffectUncertainty | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Intervention:
        if self.referral == "rate" and self.rate_per_week is None:
            raise ValueError("referral: rate needs rate_per_week (share of the eligible referred per week)")
        if self.referral != "rate" and self.rate_per_week is not None:
            raise ValueError(f"rate_per_week goes with referral: rate, not referral: {self.referral}")
        if self.age is not None and not 0 <= self.age[0] < self.age[1] <= 120:
            raise ValueError(f"age {list(self.age)} must be [from, to) years with 0 ≤ from < to ≤ 120")
        if self.to_week is not None and self.to_week <= self.from_week:
            raise ValueError(f"to_week {self.to_week:g} must be above from_week {self.from_week:g}")
        return self
