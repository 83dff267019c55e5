"""Parameter uncertainty: each replication draws its own parameters, and the variance is split by layer.

A replication with parameter uncertainty draws the fitted parameters (normal with the fit's
covariance; with several parameter files, each file's values with its own covariance and the
files independently: the loader merges them into one block-diagonal covariance) and any extra
ones the `uncertainty` block names, from its own stream, and runs the scenario with those
values. Drawn clock shares of one clock that add up to more than 1 are scaled back to 1. A
few extra replications with the parameters fixed at their point values give the process-only
variance; the rest of the variance is the parameters'.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from sim.batch.store import ReplicationStore
from sim.contract.parameters import draw_values, get_value, scenario_data, with_values
from sim.contract.schema import Scenario
from sim.features import carry_preparation, compile_model
from sim.kernel.model import Model
from sim.kernel.streams import PARAMETER_DRAWS, Streams
from sim.results.metrics import Metrics
from sim.results.targets import ResolvedTarget


def draws_parameters(scenario: Scenario) -> bool:
    """Whether each replication of the scenario draws its own parameters."""
    u = scenario.uncertainty
    if u is None:
        return False
    fitted = u.fitted and scenario.parameters is not None and bool(scenario.parameters.values)
    return fitted or bool(u.parameters)


class ParameterDraws:
    """Builds each replication's model from the scenario with freshly drawn parameter values."""

    def __init__(self, model: Model) -> None:
        scenario = model.scenario
        assert scenario.uncertainty is not None
        self.model = model
        self.plain: dict[str, Any] = scenario_data(scenario)
        self.uncertainty = scenario.uncertainty
        self.fitted = scenario.parameters if scenario.uncertainty.fitted else None
        self.centres = {p.path: get_value(self.plain, p.path) for p in scenario.uncertainty.parameters}
        if self.fitted is not None:
            own = set(self.centres)
            blind = [p for p in self.fitted.unidentified if p not in own]
            if blind:
                raise ValueError(f"{', '.join(blind)}: unidentified in {self.fitted.source or 'the fit'}, "
                                 "so not drawn from it; give an sd under uncertainty.parameters or set "
                                 "uncertainty.fitted: false")

    def values(self, seed: np.random.SeedSequence) -> dict[str, float]:
        """The replication's parameter values, from its own stream (the same for any worker count)."""
        rng = Streams(seed).generator(PARAMETER_DRAWS)
        return capped_shares(self.plain, draw_values(self.fitted, self.uncertainty.parameters,
                                                     self.centres, rng))

    def model_for(self, seed: np.random.SeedSequence) -> Model:
        """The replication's model: the scenario with its drawn values, the batch's pilot kept."""
        drawn = Scenario.model_validate(with_values(self.plain, self.values(seed)))
        return carry_preparation(compile_model(drawn), self.model)


def capped_shares(plain: dict[str, Any], values: dict[str, float]) -> dict[str, float]:
    """`values` with the drawn clock shares (`transitions.STATE.ROUTE.share`) of each clock that
    add up, with the clock's other fixed shares, to more than 1 scaled down to fit (its `rest`
    then gets 0)."""
    drawn: dict[tuple[str, float], list[str]] = {}
    for path in values:
        parts = path.split(".")
        if len(parts) == 4 and parts[0] == "transitions" and parts[3] == "share":
            route = _route(plain, parts[1], parts[2])
            if route is not None and route.get("at_week") is not None:
                drawn.setdefault((parts[1], float(route["at_week"])), []).append(path)
    out = dict(values)
    for (state, week), paths in drawn.items():
        routes = [r for r in plain["transitions"][state] if r.get("at_week") == week]
        mine = {id(_route(plain, state, p.split(".")[2])) for p in paths}
        fixed = sum(float(r["share"]) for r in routes
                    if id(r) not in mine and isinstance(r.get("share"), int | float))
        total = sum(out[p] for p in paths)
        if fixed + total > 1 and total > 0:
            factor = max(0.0, 1.0 - fixed) / total
            for p in paths:
                out[p] = out[p] * factor
    return out


def _route(plain: dict[str, Any], state: str, name: str) -> dict[str, Any] | None:
    """A state's route by position or destination (the first route to it), as parameter paths name it."""
    routes = (plain.get("transitions") or {}).get(state) or []
    if name.isdigit():
        return routes[int(name)] if int(name) < len(routes) else None
    return next((r for r in routes if r.get("to") == name), None)


def layer_split(drawn: dict[str, np.ndarray], fixed: dict[str, np.ndarray]) -> pd.DataFrame:
    """Variance with parameters drawn against fixed, per quantity: which layer dominates.

    `drawn` and `fixed` map a quantity's name to its per-replication values. The parameter
    share is 1 − var(fixed) ÷ var(drawn), floored at 0 (with few fixed runs it is an estimate).
    """
    rows = []
    for name, values in drawn.items():
        sd_drawn = float(np.nanstd(values, ddof=1)) if len(values) > 1 else float("nan")
        base = fixed.get(name, np.array([]))
        sd_fixed = float(np.nanstd(base, ddof=1)) if len(base) > 1 else float("nan")
        share = max(0.0, 1.0 - sd_fixed**2 / sd_drawn**2) if sd_drawn > 0 else 0.0
        rows.append({"quantity": name, "sd_parameters_drawn": sd_drawn, "sd_parameters_fixed": sd_fixed,
                     "parameter_share": share,
                     "dominant": "parameters" if share > 0.5 else "process"})
    return pd.DataFrame(rows, columns=["quantity", "sd_parameters_drawn", "sd_parameters_fixed",
                                       "parameter_share", "dominant"])


def layers_frame(model: Model, targets: list[ResolvedTarget], store: ReplicationStore,
                 fixed: list[tuple[Metrics, np.ndarray]]) -> pd.DataFrame:
    """The layer split of every target and of each year's total (store: parameters drawn)."""
    years = list(model.calendar.full_years())
    total = model.n_benefit
    yearly = np.asarray(store.arrays["yearly"]).reshape(*store.shapes["yearly"], store.runs)
    drawn = {f"{year} total full-year persons": yearly[total, j] for j, year in enumerate(years)}
    base = {f"{year} total full-year persons": np.array([m.tables["yearly"][total, j] for m, _ in fixed])
            for j, year in enumerate(years)}
    values = np.asarray(store.arrays["targets"])
    for k, t in enumerate(targets):
        drawn[t.name] = values[k]
        base[t.name] = np.array([v[k] for _, v in fixed])
    return layer_split(drawn, base)
