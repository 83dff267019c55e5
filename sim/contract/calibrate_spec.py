"""Scenario blocks for fitted and uncertain parameters: `calibrate`, `parameters`, `uncertainty`.

A parameter is named by its path in the scenario file, e.g. `inflow_per_week.sygedagpenge.rate`
or `transitions.a_dagpenge.job.rate_per_week.1` (`sim.contract.parameters` reads and writes such paths).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from sim.contract.fields import Num


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

    @model_validator(mode="after")
    def _ordered(self) -> FreeParameter:
        low, high = self.bounds
        if not low < high:
            raise ValueError(f"bounds [{low:g}, {high:g}] must be [low, high] with low < high")
        if self.prior is not None and not low <= self.prior <= high:
            raise ValueError(f"prior {self.prior:g} lies outside the bounds [{low:g}, {high:g}]")
        return self


class Calibrate(_Block):
    """What `caseflow calibrate` fits: free parameters against observed stocks."""

    parameters: tuple[FreeParameter, ...] = ()
    observed: str | None = None
    """Default observed CSV (period, state, measure, value, source), relative to the scenario file."""
    periods: tuple[str, ...] = ()
    """Observed periods to fit (default: every period inside the horizon)."""
    measures: tuple[str, ...] = ("full_year_persons",)
    """Observed measures to fit: full_year_persons, inflow_count, outflow_<destination>_count."""
    states: tuple[str, ...] = ()
    """Observed states, groups (`group:<g>`) or `total` to fit (default: every one the model has)."""
    relative_error: Num = Field(default=0.02, gt=0, le=1, allow_inf_nan=False)
    """Accuracy of an observed figure as a fraction of it: its standard deviation in the fit."""

    @field_validator("periods", mode="before")
    @classmethod
    def _strings(cls, v: object) -> object:
        return tuple(str(p) for p in v) if isinstance(v, list | tuple) else v


class ParameterSet(_Block):
    """Fitted values (what the scenario's `parameters:` file holds), applied when the scenario loads."""

    source: str = ""
    """The file the values came from."""
    values: dict[str, Num] = Field(default_factory=dict)
    standard_errors: dict[str, Num] = Field(default_factory=dict)
    covariance: tuple[tuple[float, ...], ...] = ()
    """Covariance of the fitted values, in the order of `values` (empty: independent, from the SEs)."""
    bounds: dict[str, tuple[Num, Num]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _shapes(self) -> ParameterSet:
        n = len(self.values)
        if self.covariance and (len(self.covariance) != n or any(len(r) != n for r in self.covariance)):
            raise ValueError(f"covariance must be {n} × {n}, one row and column per value")
        unknown = sorted(set(self.standard_errors) - set(self.values))
        if unknown:
            raise ValueError(f"standard errors for parameters without a value: {', '.join(unknown)}")
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
