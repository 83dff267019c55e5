"""Scenario blocks for fitted and uncertain parameters: `calibrate`, `parameters`, `uncertainty`.

A parameter is named by its path in the scenario file, e.g. `inflow_per_week.sygedagpenge.rate`
or `transitions.a_dagpenge.job.rate_per_week.1` (`sim.contract.parameters` reads and writes such paths).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from sim.contract.fields import Num, Whole

MAX_POOLS = 3
"""Pools a fit may have: their spreads are integrated on a product grid."""


class _Block(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FreeParameter(_Block):
    """A parameter `caseflow calibrate` may move: its bounds and, optionally, a normal prior."""

    path: str = Field(min_length=1)
    bounds: tuple[Num, Num]
    prior: Num | None = None
    """Prior mean; defaults to the value the scenario gives."""
    spread: Num | None = Field(default=None, gt=0, allow_inf_nan=False)
    """Prior standard deviation; without it the parameter has no prior penalty."""
    pool: str | None = Field(default=None, min_length=1)
    """Parameters with the same pool share one normal prior sd τ around their prior means, which
    the fit learns from them (partial pooling, `sim.fitting.pooling`); `spread` is then the
    scale of τ's half-normal prior. For parameters alike, such as every state's inflow trend."""

    @model_validator(mode="after")
    def _ordered(self) -> FreeParameter:
        low, high = self.bounds
        if not low < high:
            raise ValueError(f"bounds [{low:g}, {high:g}] must be [low, high] with low < high")
        if self.prior is not None and not low <= self.prior <= high:
            raise ValueError(f"prior {self.prior:g} lies outside the bounds [{low:g}, {high:g}]")
        if self.pool is not None and self.spread is None:
            raise ValueError(f"pool {self.pool!r} needs a spread: the scale of the pool's prior sd "
                             "(e.g. spread: 0.15 for trends a year)")
        return self


class Calibrate(_Block):
    """What `caseflow calibrate` fits: free parameters against observed stocks."""

    parameters: tuple[FreeParameter, ...] = ()
    observed: str | None = None
    """Default observed CSV (period, state, measure, value, source), relative to the scenario file."""
    periods: tuple[str, ...] = ()
    """Observed periods to fit (default: every period inside the horizon)."""
    measures: tuple[str, ...] = ("full_year_persons",)
    """Observed measures to fit: full_year_persons, inflow_count (entries from anywhere else, other
    benefit states included), inflow_from_outside_count (from outside public support only),
    outflow_<destination>_count (`sim.fitting.observations`)."""
    states: tuple[str, ...] = ()
    """Observed states, groups (`group:<g>`) or `total` to fit (default: every one the model has)."""
    relative_error: Num = Field(default=0.02, gt=0, le=1, allow_inf_nan=False)
    """Accuracy of an observed figure as a fraction of it: its measurement sd in the fit."""
    process_runs: Whole = Field(default=40, ge=0, le=10_000)
    """Engine replications at the first fit that measure the figures' process noise, which the
    error model adds to the measurement error (0: measurement error alone; else at least 2)."""

    @model_validator(mode="after")
    def _pools(self) -> Calibrate:
        members: dict[str, list[str]] = {}
        for p in self.parameters:
            if p.pool is not None:
                members.setdefault(p.pool, []).append(p.path)
        alone = sorted(name for name, paths in members.items() if len(paths) < 2)
        if alone:
            raise ValueError(f"pool {', '.join(map(repr, alone))} has one parameter; a pool learns its "
                             "spread from at least two (or give the parameter its own prior)")
        if len(members) > MAX_POOLS:
            raise ValueError(f"{len(members)} pools; at most {MAX_POOLS} (their spreads are integrated "
                             "on a grid): merge pools of parameters alike")
        return self

    @field_validator("process_runs")
    @classmethod
    def _two_or_none(cls, v: int) -> int:
        if v == 1:
            raise ValueError("1 replication gives no variance; give 0 (no pilot) or at least 2")
        return v

    @field_validator("periods", mode="before")
    @classmethod
    def _strings(cls, v: object) -> object:
        return tuple(str(p) for p in v) if isinstance(v, list | tuple) else v


class ParameterSet(_Block):
    """Fitted values (what the scenario's `parameters:` file holds), applied when the scenario loads."""

    source: str = ""
    """The file the values came from (several: their names joined by ", ")."""
    values: dict[str, Num] = Field(default_factory=dict)
    standard_errors: dict[str, Num] = Field(default_factory=dict)
    covariance: tuple[tuple[float, ...], ...] = ()
    """Covariance of the fitted values, in the order of `values` (empty: independent, from the SEs).
    Several files give a block-diagonal one: each file's values vary together, the files apart."""
    bounds: dict[str, tuple[Num, Num]] = Field(default_factory=dict)
    unidentified: dict[str, str] = Field(default_factory=dict)
    """Values the fit could not pin down (path: reason): they have no standard error, and a
    scenario does not draw them from the fit (`uncertainty.fitted`)."""

    @model_validator(mode="after")
    def _shapes(self) -> ParameterSet:
        n = len(self.values)
        if self.covariance and (len(self.covariance) != n or any(len(r) != n for r in self.covariance)):
            raise ValueError(f"covariance must be {n} × {n}, one row and column per value")
        unknown = sorted(set(self.standard_errors) - set(self.values))
        if unknown:
            raise ValueError(f"standard errors for parameters without a value: {', '.join(unknown)}")
        blind = sorted(set(self.unidentified) - set(self.values))
        if blind:
            raise ValueError(f"unidentified parameters without a value: {', '.join(blind)}")
        both = sorted(set(self.unidentified) & set(self.standard_errors))
        if both:
            raise ValueError(f"a standard error for unidentified parameters: {', '.join(both)}; "
                             "an unidentified parameter has none")
        return self


class DrawnParameter(_Block):
    """A parameter drawn per replication from a normal with this standard deviation, cut to bounds."""

    path: str = Field(min_length=1)
    sd: Num = Field(gt=0, allow_inf_nan=False)
    bounds: tuple[Num, Num] | None = None


class Uncertainty(_Block):
    """Parameter uncertainty drawn per replication, on top of process noise."""

    fitted: bool = True
    """Draw the `parameters` file's values from their fitted normal (with its covariance)."""
    parameters: tuple[DrawnParameter, ...] = ()
    split_runs: int = Field(default=50, ge=0, le=100_000)
    """Extra replications run with parameters fixed, to split the variance into its two layers
    (0 turns the split off)."""
