"""A world's scenario file: its structure, with the rates, inflows and trends to fit left free.

The scenario states what an analyst would know of the world (its states and routes, clock
weeks and shares, seasonal profiles, the stock on the first day and its elapsed durations) and
leaves `calibrate:` to find the rest. The free parameters are each state's inflow rate and trend
and the main exit route's rate in its first two bands (all its bands in a three-state world,
to keep 15–20 free), each with a rough prior: the truth times a random factor in [0.6, 1.6] as
the prior mean and half that mean as the prior sd (a trend: 0 ± 0.15 a year, or the trends pooled:
one prior sd for all, learnt by the fit, with 0.15 as its scale). The scenario
starts from the prior means; the routes and values not fitted are the truth. Plain dicts: no
import of `sim`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from synthetic.worlds import STOCK, TOTAL, World, duration_bands, labels

FIT_MONTHS = 24
"""The backtest fits on the first 24 months and scores the 12 after them."""
PRIOR_FACTOR = (0.6, 1.6)
PRIOR_SPREAD = 0.5
"""A rate's prior sd as a share of its prior mean."""
TREND_PRIOR = (0.0, 0.15)
"""A trend's prior (own) or its pool's spread scale (pooled), a year."""
TREND = ".trend_per_year"
TREND_BOUNDS = (-0.5, 0.6)
MIN_FREE = 15
RELATIVE_ERROR = 0.005
"""The observed figures are exact register counts: a small measurement error (sd at least 1)."""


@dataclass(frozen=True)
class Free:
    """One free parameter: its path, the truth, the prior mean and sd, and its bounds."""

    path: str
    truth: float
    prior: float
    spread: float
    bounds: tuple[float, float]


def free_parameters(world: World, rate_bands: int | None = None) -> list[Free]:
    """The world's free parameters and their priors, drawn on the world's own stream; `rate_bands`
    (default: 2, or 3 with three states) is how many bands of each main route's rate are free."""
    rng = np.random.default_rng(np.random.SeedSequence([world.seed, 11]))
    out: list[Free] = []

    def rate(path: str, truth: float) -> None:
        prior = truth * float(rng.uniform(*PRIOR_FACTOR))
        low, high = min(truth, prior) / 5.0, max(truth, prior) * 5.0
        out.append(Free(path, truth, round(prior, 6), round(PRIOR_SPREAD * prior, 6),
                        (round(low, 8), round(high, 6))))

    bands = (2 if len(world.states) > 3 else 3) if rate_bands is None else rate_bands
    for s in world.states:
        rate(f"inflow_per_week.{s.code}.rate", s.inflow)
        out.append(Free(f"inflow_per_week.{s.code}{TREND}", s.trend, TREND_PRIOR[0], TREND_PRIOR[1],
                        TREND_BOUNDS))
        for b in range(min(bands, len(s.edges))):
            rate(f"transitions.{s.code}.0.rate_per_week.{b}", s.routes[0].rates[b])
    if len(out) < MIN_FREE and rate_bands is None:
        for s in world.states:
            if len(s.routes) > 1 and len(out) < MIN_FREE:
                rate(f"transitions.{s.code}.1.rate_per_week.0", s.routes[1].rates[0])
    return out


def _routes(world: World, code: str, values: dict[str, float]) -> list[dict[str, Any]]:
    s = world.state(code)
    out: list[dict[str, Any]] = []
    for i, r in enumerate(s.routes):
        bands = [[e, values.get(f"transitions.{code}.{i}.rate_per_week.{b}", x)]
                 for b, (e, x) in enumerate(zip(s.edges, r.rates, strict=True))]
        out.append({"to": r.to, "rate_per_week": bands})
    if s.clock is not None:
        shares = list(s.clock.shares)
        for j, (to, share) in enumerate(shares):
            last = j == len(shares) - 1
            out.append({"to": to, "at_week": s.clock.week, "share": "rest" if last else share})
    return out


def target_rows(world: World, observed: pd.DataFrame) -> list[dict[str, Any]]:
    """Targets of the kind plans set: next year's full-year persons on each state, and on the total,
    at most this year's observed level."""
    years = sorted({m[:4] for m in labels(world)})
    last_fit, test = years[FIT_MONTHS // 12 - 1], years[FIT_MONTHS // 12]
    out = []
    for code in (*world.codes, TOTAL):
        level = observed.query("period == @last_fit and state == @code and measure == @STOCK")["value"]
        out.append({"name": f"{code} {test} at most {last_fit}", "metric": STOCK, "states": [code],
                    "year": int(test), "at_most": round(float(level.iloc[0]), 4)})
    return out


def scenario_dict(world: World, observed: pd.DataFrame, initial: dict[str, np.ndarray],
                  observed_file: str = "observed.csv", process_runs: int = 40,
                  rate_bands: int | None = None, pool_trends: bool = True) -> dict[str, Any]:
    """The world's scenario (a plain dict for `sim.scenario_from_dict` or a YAML file), with its
    `calibrate:` block (`free_parameters`) and targets; `initial` holds each state's elapsed days
    on the first day. `pool_trends`: the states' trends share one prior whose spread the fit
    learns (`pool: trends`, its scale the trends' 0.15), else each has its own 0 ± 0.15."""
    free = free_parameters(world, rate_bands)
    start = {f.path: f.prior for f in free}
    months = labels(world)
    inflows = {s.code: {"rate": start[f"inflow_per_week.{s.code}.rate"], "seasonality": list(s.seasonality),
                        "trend_per_year": start[f"inflow_per_week.{s.code}.trend_per_year"]}
               for s in world.states}
    return {
        "name": f"Synthetic world {world.index}",
        "start": world.start.isoformat(),
        "months": world.months,
        "seed": int(world.seed),
        "states": {c: {} for c in world.codes},
        "initial": {c: len(initial[c]) for c in world.codes},
        "initial_durations": {c: duration_bands(initial[c]) for c in world.codes if len(initial[c])},
        "inflow_per_week": inflows,
        "transitions": {c: _routes(world, c, start) for c in world.codes},
        "targets": target_rows(world, observed),
        "calibrate": {
            "observed": observed_file,
            "measures": sorted(set(observed["measure"])),
            "states": list(world.codes),
            "periods": months,
            "relative_error": RELATIVE_ERROR,
            "process_runs": process_runs,
            "parameters": [{"path": f.path, "bounds": list(f.bounds), "prior": f.prior, "spread": f.spread}
                           | ({"pool": "trends"} if pool_trends and f.path.endswith(TREND) else {})
                           for f in free],
        },
    }


def origin(world: World) -> str:
    """The backtest's forecast origin: the first month after the fit window."""
    return labels(world)[FIT_MONTHS]


def truth_values(world: World, rate_bands: int | None = None) -> dict[str, float]:
    """The true value of each free parameter."""
    return {f.path: f.truth for f in free_parameters(world, rate_bands)}


__all__ = ["Free", "free_parameters", "origin", "scenario_dict", "target_rows", "truth_values"]
