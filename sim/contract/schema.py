"""The scenario file's schema (pydantic): shapes, ranges and defaults of every key.

Cross-references between blocks (a route to an unknown state, a target year outside the
horizon, …) are checked by `sim.contract.loader`, which also turns errors into sentences for people.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, ClassVar, Literal

import numpy as np
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from sim.contract.calendar import YEAR_DAYS
from sim.contract.calibrate_spec import Calibrate, ParameterSet, Uncertainty
from sim.contract.caseworker_spec import TEAM_SHARES, Team
from sim.contract.fields import (
    DAY_WEEKS,
    MAX_RATE_PER_WEEK,
    MAX_STATES,
    Bands,
    ClockWeek,
    Num,
    ShareBands,
    Whole,
    _number,
    few_routes,
    flow_table_bytes,
    parse_bands,
    plausible_start,
    shown,
)
from sim.contract.intervention_spec import Intervention
from sim.contract.refusion import BASE_YEAR, RESET_SELF_SUPPORT_WEEKS, RESET_WINDOW_WEEKS, STAIRCASE_2016
from sim.contract.rules_spec import Assumption, DatedRule, NotEvaluated


def _months(value: Any) -> Any:
    allowed = "months must be a whole number from 1 to 600"
    if isinstance(value, str) and value.strip().isdigit() and len(value.strip()) <= 6:
        value = int(value)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{shown(value)} is not a whole number; {allowed}")
    if not 1 <= value <= 600:
        raise ValueError(f"{shown(value)} is not allowed; {allowed}")
    return value



RateBands = Annotated[Bands, BeforeValidator(lambda v: parse_bands(
    v, "a rate per week", high=MAX_RATE_PER_WEEK,
    limit=f"a rate per week is at most {MAX_RATE_PER_WEEK:g}, one move a day (a mean stay of a day, "
          "the person-day ledger's resolution)"))]
MeanBands = Annotated[Bands, BeforeValidator(lambda v: parse_bands(
    v, "a mean stay in weeks", positive=True, low=DAY_WEEKS,
    limit=f"a mean stay is at least one day (1/7 week, {DAY_WEEKS:.4f}), the person-day ledger's "
          "resolution"))]

MAX_PERSONS = 2_000_000
"""Largest initial stock of one state and of all together: more than Denmark's whole caseload, so
never a limit in use."""
MAX_INFLOW_PER_WEEK = 50_000
"""Largest weekly inflow into one state and into all together, for the same reason: typos like 1e9
fail at load, not in memory."""


def _none_as_empty(v: Any) -> Any:
    """`code:` with nothing after it means `code: {}`: a state with every default."""
    if isinstance(v, dict):
        return {k: ({} if s is None else s) for k, s in v.items()}
    return v


class Strict(BaseModel):
    """Base for every block: unknown keys are errors, values are frozen once loaded."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class StateSpec(Strict):
    """A benefit state the scenario models: a catalogue code, or a custom one with a group."""

    group: str | None = None
    label: str | None = None
    label_en: str | None = None


class InflowSpec(Strict):
    """Poisson arrivals per week, scaled by calendar-month seasonality and a yearly trend."""

    rate: Num = Field(ge=0, le=MAX_INFLOW_PER_WEEK, allow_inf_nan=False)
    seasonality: tuple[float, ...] | None = None
    trend_per_year: Num = Field(default=0.0, gt=-1, le=1, allow_inf_nan=False)
    trend_from: dt.date | None = None
    """The date on which the inflow is `rate` and from which the trend compounds (default: the
    scenario's start): with it a fitted rate and trend mean the same in a scenario that starts on
    another date (a restart from the observed caseload)."""

    def trend_factor(self, start: dt.date, years: np.ndarray) -> np.ndarray:
        """The trend's factor on the rate `years` (of `YEAR_DAYS`) after the scenario's `start`:
        it compounds from `trend_from`, where it is 1."""
        anchor = (self.trend_from - start).days / YEAR_DAYS if self.trend_from is not None else 0.0
        return np.asarray((1.0 + self.trend_per_year) ** (np.asarray(years, dtype=float) - anchor))

    @field_validator("seasonality")
    @classmethod
    def _twelve(cls, v: tuple[float, ...] | None) -> tuple[float, ...] | None:
        if v is not None and (len(v) != 12 or any(not 0 <= x <= 10 for x in v)):
            raise ValueError(f"seasonality is 12 monthly multipliers from 0 to 10 (got {len(v)} values)")
        return v


class Route(Strict):
    """One competing exit route from a state: a rate, a forced clock share, or both."""

    to: str
    rate_per_week: RateBands | None = None
    mean_weeks: MeanBands | None = None
    at_week: ClockWeek | None = Field(default=None, gt=0, allow_inf_nan=False)
    share: float | Literal["rest"] | None = None

    @field_validator("share", mode="before")
    @classmethod
    def _share(cls, v: Any) -> Any:
        if v is None or v == "rest":
            return v
        x = _number(v, "a clock share is a number in [0, 1] or 'rest'")
        if not 0 <= x <= 1:
            raise ValueError(f"{x:g} is outside [0, 1]; a clock share is a number in [0, 1] or 'rest'")
        return x

    @model_validator(mode="after")
    def _consistent(self) -> Route:
        if self.rate_per_week is not None and self.mean_weeks is not None:
            raise ValueError("give rate_per_week or mean_weeks, not both")
        if (self.at_week is None) != (self.share is None):
            raise ValueError("a forced clock needs both at_week and share")
        if self.rate_per_week is None and self.mean_weeks is None and self.at_week is None:
            raise ValueError("a route needs rate_per_week, mean_weeks, or a clock (at_week with share)")
        return self

    @property
    def rates(self) -> Bands:
        """The route's hazard per week as bands (mean_weeks converted to 1 / mean)."""
        if self.mean_weeks is not None:
            return tuple((w, 1.0 / m) for w, m in self.mean_weeks)
        return self.rate_per_week or ((0.0, 0.0),)


class _ShareBand(Strict):
    """A share of a state's citizens whose value lies in [low, high): bands as [low, high, share]."""

    fields: ClassVar[tuple[str, str]]
    """The names of the band's low and high ends."""

    @model_validator(mode="before")
    @classmethod
    def _from_list(cls, v: Any) -> Any:
        low, high = cls.fields
        if isinstance(v, list | tuple):
            if len(v) != 3:
                raise ValueError(f"{v!r} is not a [{low}, {high}, share] triple")
            return {low: v[0], high: v[1], "share": v[2]}
        return v

    @model_validator(mode="after")
    def _ordered(self) -> _ShareBand:
        low, high = self.fields
        if getattr(self, high) <= getattr(self, low):
            raise ValueError(f"{high} {getattr(self, high):g} must be above {low} {getattr(self, low):g}")
        return self


class DurationBand(_ShareBand):
    """A share of a state's initial stock whose elapsed weeks lie in [from_week, to_week)."""

    fields = ("from_week", "to_week")
    from_week: Num = Field(ge=0, allow_inf_nan=False)
    to_week: Num = Field(allow_inf_nan=False)
    share: Num = Field(ge=0, le=1)


TEAM_METRICS = TEAM_SHARES
"""Team metrics: the team shares, summed over the target year."""
PROGRAMME_METRICS = ("programme_starts", "programme_participants", "programme_cost_dkk")
"""Programme metrics over the year: starts, mean participants, cost."""
DURATION_METRIC = "mean_duration_weeks"
"""Mean weeks in the state(s) of the spells started in the target's period, each followed to its
end or to the horizon (censored)."""
METRICS = ("full_year_persons", "cofinancing_rate", "net_cost_dkk", "gross_cost_dkk",
           *TEAM_METRICS, *PROGRAMME_METRICS, DURATION_METRIC)
"""Target metrics: full-year persons; with economics, net ÷ gross, net and gross DKK; with
caseworkers (name the `team`), fokusmål and meeting shares; with interventions (name the
`programme`), starts, mean participants and cost; the mean duration of spells started."""
COST_METRICS = frozenset(METRICS[1:4])


class AgeBand(_ShareBand):
    """A share of a state's citizens whose age (at entry, or at the start) lies in [from_age, to_age)."""

    fields = ("from_age", "to_age")
    from_age: Num = Field(ge=0, le=120, allow_inf_nan=False)
    to_age: Num = Field(gt=0, le=120, allow_inf_nan=False)
    share: Num = Field(ge=0, le=1)



def _month_label(v: Any) -> Any:
    """A calendar month as 'YYYY-MM' (a date on the month's first day is accepted too)."""
    allowed = "a month like 2021-01 (YYYY-MM)"
    if v is None:
        return v
    if isinstance(v, dt.date):
        if v.day != 1:
            raise ValueError(f"{v.isoformat()} is not a month; give {allowed}")
        return f"{v.year:04d}-{v.month:02d}"
    text = str(v).strip() if isinstance(v, str) else None
    if text is None or len(text) != 7 or text[4] != "-" or not (text[:4] + text[5:]).isdigit() \
            or not 1 <= int(text[5:]) <= 12:
        raise ValueError(f"{v!r} is not a month; give {allowed}")
    return text


Month = Annotated[str, BeforeValidator(_month_label)]
"""A calendar month, 'YYYY-MM'."""
THRESHOLDS = ("at_most", "at_least", "change_at_most", "change_at_least", "difference_at_most",
              "difference_at_least")
"""A target's threshold keys: absolute, a fraction of the base, or an amount added to the base."""


class Target(Strict):
    """A plan's target on a metric over some states in a calendar year or one month."""

    name: str
    metric: str = "full_year_persons"
    states: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    year: Whole | None
    """The calendar year (required unless `month` is given)."""
    month: Month | None = None
    """One month instead of a year: that month's full-time persons (or spells started in it)."""
    at_most: Num | None = None
    at_least: Num | None = None
    change_at_most: Num | None = None
    change_at_least: Num | None = None
    difference_at_most: Num | None = None
    """An absolute change from the base: the base's observed value plus this amount."""
    difference_at_least: Num | None = None
    base_year: Whole | None = None
    base_month: Month | None = None
    """The base of a change or difference: the observed value with period 'YYYY-MM'."""
    min_weeks: Num | None = Field(default=None, gt=0, le=1040, allow_inf_nan=False)
    """For full_year_persons: count only the person-days beyond this many weeks of the current
    spell in the state (e.g. 52: long-term recipients)."""
    team: str | None = None
    """For team metrics: the caseworker team."""
    programme: str | None = None
    """For programme metrics: the intervention's name."""
    basis: Literal["jobindsats", "payment"] = "jobindsats"
    """How full-year persons are counted: `jobindsats` (every day on the benefit, Jobindsats'
    and VIVE's basis) or `payment` (from the day the municipality pays: sygedagpenge without the
    employer period, the basis of budgets and of "internt ledelsesinformationssystem")."""
    base: Literal["observed", "assumed"] = "observed"
    """Where a change or difference target's base comes from: `observed` (a figure of the plan or
    of the data, in the observed block) or `assumed` (no such figure: e.g. the model's own steady
    state), which targets.csv and the reports then say."""

    @model_validator(mode="before")
    @classmethod
    def _year_or_month(cls, v: Any) -> Any:
        """A month target needs no year: the year key is only required when month is absent."""
        if isinstance(v, dict) and "year" not in v and v.get("month") is not None:
            return {**v, "year": None}
        return v

    @field_validator("change_at_most", "change_at_least", mode="before")
    @classmethod
    def _percent(cls, v: Any) -> Any:
        if isinstance(v, str) and v.strip().endswith("%"):
            try:
                return float(v.strip()[:-1].replace(",", ".").replace("−", "-")) / 100
            except ValueError:
                raise ValueError(f"{v!r} is not a percentage like '-2.6%'") from None
        return v

    @model_validator(mode="after")
    def _one_threshold(self) -> Target:
        given = [k for k in THRESHOLDS if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(f"give exactly one of {', '.join(THRESHOLDS)} "
                             f"(got {', '.join(given) or 'none'})")
        if self.metric in TEAM_METRICS:
            if self.team is None:
                raise ValueError(f"metric {self.metric} needs team: the caseworker team it is about")
        elif self.metric in PROGRAMME_METRICS:
            if self.programme is None:
                raise ValueError(f"metric {self.metric} needs programme: the intervention it is about")
        elif not self.states and not self.groups:
            raise ValueError("a target needs states (state codes or 'total') or groups")
        return self

    @property
    def relative(self) -> bool:
        """True when the threshold is a change or difference relative to an observed base."""
        return any(getattr(self, k) is not None for k in THRESHOLDS[2:])

    @property
    def upper(self) -> bool:
        """True when the target is met at or below its threshold."""
        return any(getattr(self, k) is not None for k in THRESHOLDS[::2])

    @property
    def period(self) -> str:
        """The target's period as the observed block writes it: '2021' or '2021-01'."""
        return self.month if self.month is not None else str(self.year)

    @property
    def measure(self) -> str:
        """The observed measure the base is read from: the metric, or for a `min_weeks` target
        e.g. 'full_year_persons_over_52_weeks'."""
        return self.metric if self.min_weeks is None else f"{self.metric}_over_{self.min_weeks:g}_weeks"

    @property
    def base_period(self) -> str | None:
        """The observed period a change or difference is measured from: base_month, base_year,
        or for a year target the year before; None for a month target that names neither."""
        if self.base_month is not None:
            return self.base_month
        if self.base_year is not None:
            return str(self.base_year)
        return str(self.year - 1) if self.year is not None and self.month is None else None


class Observed(Strict):
    """One observed figure (history), long format: period, state or group, measure, value, source."""

    period: int | str
    state: str
    measure: str = "full_year_persons"
    value: Num = Field(allow_inf_nan=False)
    source: str | None = None




class OldRule(Strict):
    """The part of a state's initial stock still on rules from before the refusion reform."""

    share: Num = Field(ge=0, le=1, allow_inf_nan=False)
    """The probability that a citizen of the initial stock is on the old rules (each draws it)."""
    municipal_share: Num = Field(ge=0, le=1, allow_inf_nan=False)
    """The old rules' flat municipal share, whatever the weeks on support (e.g. 0.35 for fleksjob
    started before 2013: a 65 % refund)."""


class StateEconomics(Strict):
    """One state's money rules; anything left out takes the catalogue's default (sim.contract.refusion)."""

    dkk_per_full_year_person: Num | None = Field(default=None, ge=0, allow_inf_nan=False)
    counted: bool | None = None
    """Whether time on the state counts toward cumulative weeks on public support."""
    refunded: bool | None = None
    """Whether the state refunds part of the benefit by the staircase (else 100 % municipal)."""
    unpaid_first_weeks: Num | None = Field(default=None, ge=0, le=104, allow_inf_nan=False)
    """Weeks at a spell's start that cost the municipality nothing and are not counted."""
    municipal_share: Num | None = Field(default=None, ge=0, le=1, allow_inf_nan=False)
    """A flat municipal share instead of the staircase, for the whole state."""
    pricing: Literal["refunded", "cofinanced"] | None = None
    """`refunded`: the municipality pays the benefit and the state refunds part of it (gross =
    the benefit, refund = gross − net); `cofinanced`: someone else pays the benefit and the
    municipality pays its share of it with no refund (gross = net = the municipality's payment,
    refund 0; the level is still the gross benefit). Default: cofinanced for a-dagpenge and
    arbejdsmarkedsydelse (sim.contract.refusion.COFINANCED), else refunded."""
    old_rule: OldRule | None = None
    """A share of the initial stock priced at a flat municipal share (old rules); the rest of
    the stock and every new entrant follow the state's rules above."""


class Economics(Strict):
    """Benefit levels in DKK and the refusion staircase that splits them between state and municipality."""

    base_year: Whole = Field(default=BASE_YEAR, ge=1990, le=2100)
    """The price year of the DKK amounts."""
    price_index_per_year: Num = Field(default=0.0, ge=-0.5, le=1, allow_inf_nan=False)
    staircase: ShareBands = STAIRCASE_2016
    """[from_week, municipal share] by cumulative weeks on public support."""
    reset_after_weeks: Num = Field(default=RESET_SELF_SUPPORT_WEEKS, gt=0, allow_inf_nan=False)
    reset_window_weeks: Num = Field(default=RESET_WINDOW_WEEKS, gt=0, allow_inf_nan=False)
    states: Annotated[dict[str, StateEconomics], BeforeValidator(_none_as_empty)] = Field(
        default_factory=dict)
    initial_history: dict[str, tuple[DurationBand, ...]] = Field(default_factory=dict)
    """Prior weeks on public support of the initial stock before its current spell, per state;
    states left out get it from the steady state (a pilot run of the scenario)."""


class DagpengePeriod(Strict):
    """The dagpenge period used up across spells: a returner's clock continues where its last
    spells stopped (2 years, 3,848 hours, within a 3-year reference period)."""

    state: str = "a_dagpenge"
    """The state whose clocks count use across spells."""
    window_weeks: Num = Field(default=156, gt=0, le=1040, allow_inf_nan=False)
    """The reference period: weeks used within this many weeks before an entry count."""
    reearn_weeks: Num = Field(default=52, ge=0, le=1040, allow_inf_nan=False)
    """Weeks of self-support since the last spell that earn a new period (the law's 1,924 hours
    of work, about 52 weeks full time; simplified: any time in job or education counts)."""


class Scenario(Strict):
    """A validated what-if scenario: the one input the model runs from."""

    name: str = Field(min_length=1)
    start: Annotated[dt.date, AfterValidator(plausible_start)]
    months: Annotated[int, BeforeValidator(_months)]
    seed: Whole | None = Field(default=None, ge=0)
    states: Annotated[dict[str, StateSpec], BeforeValidator(_none_as_empty)]
    initial: dict[str, Annotated[Num, Field(ge=0, le=MAX_PERSONS, allow_inf_nan=False)]] = Field(
        default_factory=dict)
    initial_durations: dict[str, tuple[DurationBand, ...]] = Field(default_factory=dict)
    inflow_per_week: dict[str, InflowSpec] = Field(default_factory=dict)
    transitions: dict[str, Annotated[tuple[Route, ...], BeforeValidator(few_routes)]] = Field(
        default_factory=dict)
    targets: tuple[Target, ...] = ()
    observed: tuple[Observed, ...] = ()
    economics: Economics | None = None
    dagpenge_period: DagpengePeriod | None = None
    """With it, the state's clocks count weeks used across spells (`sim.features.dagpenge`)."""
    interventions: tuple[Intervention, ...] = ()
    caseworkers: tuple[Team, ...] = ()
    attributes: dict[str, dict[str, dict[str, Annotated[Num, Field(ge=0, le=1)]]]] = Field(
        default_factory=dict)
    """Citizen attributes for eligibility: {attribute: {state: {value: share}}}, e.g.
    {sex: {kontanthjaelp_jobparat: {female: 0.48, male: 0.52}}}; drawn at entry."""
    ages: dict[str, tuple[AgeBand, ...]] = Field(default_factory=dict)
    """Age distribution by state of those entering it and of its initial stock (for eligibility
    by age); citizens age as time goes on."""
    calibrate: Calibrate | None = None
    """Free parameters and observed data for `caseflow calibrate`."""
    parameters: ParameterSet | None = None
    """Fitted values, applied at load; in the file, the path of a `caseflow calibrate` output."""
    uncertainty: Uncertainty | None = None
    """Parameter uncertainty drawn per replication."""
    rules: tuple[DatedRule, ...] = ()
    """Dated rule changes (sim.contract.rules_spec): paused clocks, refunds from the first day,
    a staircase, a rate or a clock from a date."""
    assumptions: tuple[Assumption, ...] = ()
    """Values the plans do not give, each with a low–high range and its reason; `run` evaluates
    every target at both ends of each."""
    not_evaluated: tuple[NotEvaluated, ...] = ()
    """The plan's quantitative targets this scenario cannot evaluate, each with its reason."""

    @field_validator("states", mode="before")
    @classmethod
    def _few_states(cls, v: Any, info: ValidationInfo) -> Any:
        if isinstance(v, dict) and len(v) > MAX_STATES:
            months = info.data.get("months") or 1
            need = flow_table_bytes(len(v), months)
            raise ValueError(f"{len(v):,} states are more than the {MAX_STATES} allowed: their moves over "
                             f"{months} months need a flow table of ({len(v):,} + 5) × ({len(v):,} + 4) × "
                             f"{months} × 8 bytes, {need / 1e9:,.1f} GB, held about four times at once; "
                             "merge states or split the scenario")
        return v

    @field_validator("initial")
    @classmethod
    def _a_caseload(cls, v: dict[str, float]) -> dict[str, float]:
        total = sum(v.values())
        if total > MAX_PERSONS:
            raise ValueError(f"{total:,.0f} persons in all are more than the {MAX_PERSONS:,} allowed "
                             "(more than Denmark's whole caseload); each is simulated one by one")
        return v

    @field_validator("inflow_per_week")
    @classmethod
    def _an_inflow(cls, v: dict[str, InflowSpec]) -> dict[str, InflowSpec]:
        total = sum(spec.rate for spec in v.values())
        if total > MAX_INFLOW_PER_WEEK:
            raise ValueError(f"{total:,.0f} arrivals a week in all are more than the {MAX_INFLOW_PER_WEEK:,} "
                             "allowed (more than Denmark's whole inflow); each is simulated one by one")
        return v

    @field_validator("inflow_per_week", mode="before")
    @classmethod
    def _plain_rates(cls, v: Any) -> Any:
        if isinstance(v, dict):
            return {k: ({"rate": r} if not isinstance(r, dict) else r) for k, r in v.items()}
        return v
