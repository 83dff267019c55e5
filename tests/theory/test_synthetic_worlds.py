"""The synthetic worlds of `benchmarks/synthetic` against closed forms, and the backtest's bands on them.

The generator shares no code with the engine, so it is checked on its own: an M/M/∞ queue (a
stationary stock that is Poisson with mean inflow ÷ hazard, elapsed durations exponential), a
two-state chain started empty (the stock by the matrix exponential of its generator), a banded
hazard (the stock's elapsed mix ∝ survival), a forced clock (the share it moves and the exact
week), and a seasonal, trending inflow (the monthly counts' means). Each comparison is within
`Z` standard errors.

The slow test runs the whole workflow (fit on 24 months, restart, forecast 12) on a few worlds
and asks the bands to cover as often as they promise, within two standard errors estimated
across the units that are independent (worlds, or a world's states); the same check on the
same forecasts with the parameters fixed at the fitted values (over-confident: process noise
only) must fail.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import multiprocessing
import subprocess
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helpers import Z
from scipy.linalg import expm

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))

from synthetic.scenario import origin, scenario_dict, truth_values  # noqa: E402
from synthetic.worlds import (  # noqa: E402
    OUTSIDE,
    Clock,
    Route,
    StateTruth,
    World,
    entries,
    initial_stock,
    month_edges,
    observed_frame,
    person_days,
    random_world,
    simulate,
)

import sim  # noqa: E402
from sim.contract.parameters import with_values  # noqa: E402
from sim.fitting.backtest import observed_before  # noqa: E402
from sim.fitting.restart import restart  # noqa: E402

FLAT = (1.0,) * 12


def _world(states: tuple[StateTruth, ...], seed: int, burn_in_years: float = 15.0, months: int = 12) -> World:
    return World(0, states, dt.date(2021, 1, 1), months, burn_in_years, seed)


def _state(code: str, edges: tuple[float, ...], routes: tuple[Route, ...], inflow: float,
           clock: Clock | None = None, trend: float = 0.0, seasonality: tuple[float, ...] = FLAT
           ) -> StateTruth:
    return StateTruth(code, edges, routes, clock, inflow, trend, seasonality)


def test_the_generator_imports_nothing_of_the_engine() -> None:
    code = ("import sys; sys.path.insert(0, 'benchmarks'); import synthetic.worlds, synthetic.scenario; "
            "bad = [m for m in sys.modules if m == 'sim' or m.startswith('sim.')]; assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)


def test_mm_infinity_stock_is_poisson_with_mean_inflow_over_hazard() -> None:
    """λ = 20 a week, μ = 0.1 a week, 15 years of burn-in: the stock on the first day is Poisson
    with mean λ/μ = 200, its elapsed weeks exponential with mean 1/μ = 10, and each month's
    full-time persons average 200 (200 worlds: SE of the mean ≈ 1)."""
    lam, mu, k = 20.0, 0.1, 200
    states = (_state("a_dagpenge", (0.0,), (Route("job", (mu,)),), lam),)
    counts, elapsed, monthly = [], [], []
    for seed in range(k):
        h = simulate(_world(states, seed))
        stock = initial_stock(h)["a_dagpenge"]
        counts.append(len(stock))
        elapsed.append(stock / 7.0)
        monthly.append(person_days(h)[0] / np.diff(h.edges))
    mean = lam / mu
    assert abs(np.mean(counts) - mean) < Z * math.sqrt(mean / k)
    # Poisson: the variance equals the mean (the sample variance's sd is about mean·√(2/k))
    assert abs(np.var(counts, ddof=1) - mean) < Z * mean * math.sqrt(2.0 / k)
    weeks = np.concatenate(elapsed)
    # the persons of one world's stock are independent, and so are the worlds
    assert abs(weeks.mean() - 1.0 / mu) < Z * (1.0 / mu) / math.sqrt(len(weeks))
    # each month's average stock: the same mean; its sd is below √200 (an average over the month)
    months = np.array(monthly)
    assert np.all(np.abs(months.mean(axis=0) - mean) < Z * months.std(axis=0, ddof=1) / math.sqrt(k))


def test_two_state_chain_started_empty_follows_the_matrix_exponential() -> None:
    """A (inflow 15 a week) → B at α, A → job at β, B → job at γ, from empty half a year before the
    start: the expected stock on the first day is ∫ e^{M(t−s)} λ ds, from expm of the augmented
    generator; the counts are Poisson, so the SE is √(mean ÷ worlds)."""
    lam, alpha, beta, gamma, k = 15.0, 0.04, 0.06, 0.03, 300
    states = (_state("sygedagpenge", (0.0,), (Route("jobafklaring", (alpha,)), Route("job", (beta,))), lam),
              _state("jobafklaring", (0.0,), (Route("job", (gamma,)),), 0.0))
    world = _world(states, 0, burn_in_years=0.5)
    t = -month_edges(world.start, 0, 6)[0] / 7.0  # weeks from the first arrival month to the start
    m = np.array([[-(alpha + beta), 0.0], [alpha, -gamma]])
    augmented = np.zeros((3, 3))
    augmented[:2, :2], augmented[:2, 2] = m, [lam, 0.0]
    expected = expm(augmented * t)[:2, 2]
    counts = np.array([[len(v) for v in initial_stock(simulate(dataclasses.replace(world, seed=s))).values()]
                       for s in range(k)])
    assert np.all(np.abs(counts.mean(axis=0) - expected) < Z * np.sqrt(expected / k)), counts.mean(0)


def test_banded_hazard_gives_a_stock_whose_elapsed_mix_follows_survival() -> None:
    """Hazard 0.08 a week for 13 weeks, then 0.02: in the stationary stock the share with under 13
    weeks is ∫₀¹³ S ÷ ∫₀^∞ S (binomial SE over the stock's persons)."""
    h1, h2, edge = 0.08, 0.02, 13.0
    states = (_state("kontanthjaelp_jobparat", (0.0, edge), (Route("job", (h1, h2)),), 30.0),)
    weeks = np.concatenate([initial_stock(simulate(_world(states, s)))["kontanthjaelp_jobparat"] / 7.0
                            for s in range(40)])
    early = (1 - math.exp(-h1 * edge)) / h1
    late = math.exp(-h1 * edge) / h2
    share = early / (early + late)
    assert abs(np.mean(weeks < edge) - share) < Z * math.sqrt(share * (1 - share) / len(weeks))
    # and the mean stay is ∫ S = early + late weeks (Little: stock ÷ inflow)
    assert abs(len(weeks) / 40 / 30.0 - (early + late)) < Z * math.sqrt(len(weeks) / 40 / 40) / 30.0


def test_a_clock_moves_its_share_at_its_exact_week_and_the_rest_stay() -> None:
    """Hazard 0.05 a week to job and a clock at week 22 sending 40 % to other, 60 % staying (then
    0.05 still): P(leave at the clock) = e^{−0.05·22} × 0.4, and those spells last exactly 154 days."""
    mu, week, share = 0.05, 22.0, 0.4
    clock = Clock(week, (("other", share), ("stay", 1 - share)))
    states = (_state("sygedagpenge", (0.0,), (Route("job", (mu,)),), 40.0, clock=clock),)
    h = simulate(_world(states, 3, burn_in_years=6.0))
    # spells that began more than three years before the end: all but e^{-7.8} of them have ended
    done = (h.source == OUTSIDE) & (h.start < h.edges[-1] - 3 * 365.25)
    assert np.isinf(h.end[done]).sum() < 5
    done &= np.isfinite(h.end)
    stay = h.end[done] - h.start[done]
    at_clock = h.dest[done] == h.destinations.index("other")
    p = math.exp(-mu * week) * share
    assert abs(at_clock.mean() - p) < Z * math.sqrt(p * (1 - p) / done.sum())
    np.testing.assert_allclose(stay[at_clock], 7 * week, rtol=0, atol=1e-9)
    # beyond the clock the stayers go on at the same hazard: their mean extra stay is 1/μ weeks
    later = stay[~at_clock & (stay > 7 * week)] / 7.0 - week
    assert abs(later.mean() - 1 / mu) < Z * (1 / mu) / math.sqrt(len(later))


def test_inflow_counts_follow_the_seasonal_profile_and_the_trend() -> None:
    """Monthly arrivals from outside over three years: mean rate/7 × season × (1 + trend)^(years to
    the month's middle) × days (Poisson: SE √(mean ÷ worlds) per month), the scenario's arithmetic."""
    season = tuple(1.0 + 0.3 * math.cos(2 * math.pi * m / 12) for m in range(12))
    states = (_state("a_dagpenge", (0.0,), (Route("job", (0.5,)),), 25.0, trend=0.1, seasonality=season),)
    k = 60
    world = _world(states, 0, burn_in_years=0.1, months=36)
    counts = np.array([entries(simulate(dataclasses.replace(world, seed=s)), True)[0] for s in range(k)])
    edges = month_edges(world.start, 36)
    days = np.diff(edges)
    years = (edges[:-1] + days / 2) / 365.25
    expected = 25.0 / 7 * np.tile(season, 3) * 1.1**years * days
    z = (counts.mean(axis=0) - expected) / np.sqrt(expected / k)
    assert np.all(np.abs(z) < Z), z
    assert abs(float(np.sum(z**2)) - 36) < Z * math.sqrt(2 * 36)  # χ²₃₆ around its mean


def test_observed_figures_add_up() -> None:
    """Yearly figures are the day-weighted mean of their months, the total the sum of the states,
    and entries from anywhere at least those from outside."""
    routes = (Route("job", (0.06, 0.02)), Route("kontanthjaelp", (0.01, 0.01)))
    clock = Clock(104.0, (("kontanthjaelp", 0.5), ("other", 0.5)))
    states = (_state("a_dagpenge", (0.0, 13.0), routes, 20.0, clock=clock),
              _state("kontanthjaelp", (0.0,), (Route("job", (0.03,)),), 5.0))
    h = simulate(_world(states, 5, months=24))
    frame = observed_frame(h)
    stock = frame[frame["measure"] == "full_year_persons"].set_index(["period", "state"])["value"]
    days = pd.Series(np.diff(h.edges), index=[f"{p:%Y-%m}" for p in pd.date_range("2021-01-01", periods=24,
                                                                                   freq="MS")])
    for year in ("2021", "2022"):
        months = [m for m in days.index if m.startswith(year)]
        for state in ("a_dagpenge", "kontanthjaelp", "total"):
            mean = sum(stock[(m, state)] * days[m] for m in months) / days[months].sum()
            assert stock[(year, state)] == pytest.approx(mean, rel=1e-6)
    for m in days.index:
        assert stock[(m, "total")] == pytest.approx(stock[(m, "a_dagpenge")] + stock[(m, "kontanthjaelp")],
                                                    rel=1e-6)
    flows = frame[(frame["state"] == "kontanthjaelp") & (frame["measure"] != "full_year_persons")].pivot(
        index="period", columns="measure", values="value")
    assert (flows["inflow_count"] >= flows["inflow_from_outside_count"]).all()
    assert (flows["inflow_count"] > flows["inflow_from_outside_count"]).any()
    assert "inflow_count" not in set(frame[frame["state"] == "a_dagpenge"]["measure"])  # nothing feeds it


def test_the_restart_stock_sd_explains_the_stock_on_the_cut_day() -> None:
    """The backtest restarts from December's average; the stock on 1 January differs from it by
    what came and went late in December. `sim.fitting.restart.stock_sd` (from the twin's moves)
    must explain the true stock of each world's states: (true − restarted) ÷ sd has an RMS of
    about 1 (8 worlds, about 30 states: the RMS has an sd of about 0.13)."""
    z = []
    for k in range(8):
        world = random_world(k, 3)
        h = simulate(world)
        observed = observed_frame(h)
        data = scenario_dict(world, observed, initial_stock(h))
        data.pop("calibrate")
        truth = sim.scenario_from_dict(with_values(data, truth_values(world)))
        cut = origin(world)
        done = restart(truth, observed_before(observed, cut), "2022-12", stock_noise=True)
        assert done.scenario.uncertainty is not None
        sd = {p.path.split(".")[1]: p.sd for p in done.scenario.uncertainty.parameters}
        stock = done.stock.set_index("state")["initial"]
        day = h.edges[24]
        for i, code in enumerate(world.codes):
            true = int(((h.state == i) & (h.start < day) & (h.end > day)).sum())
            z.append((true - float(stock[code])) / sd[code])
    rms = math.sqrt(float(np.mean(np.square(z))))
    assert abs(rms - 1.0) < 3 * math.sqrt(1 / (2 * len(z))), rms


# ---------------------------------------------------------------------------------------------
# The whole workflow on a few worlds (slow)

WORLDS = (0, 1, 2, 3)
"""Worlds of seed 2, three states each, every state's inflow, trend and first-band exit rate free
(9 parameters: a cheaper fit than the study's 15–20, about 20 s a world)."""
SE_TOLERANCE = 2.0


def _units(scores: list[pd.DataFrame]) -> pd.DataFrame:
    """Coverage of each band per world and state over the 12 state-months after the cut: the unit
    of independence (a state's months move together; worlds and states far less)."""
    frames = []
    for world, s in enumerate(scores):
        monthly = s[(s["period"].str.len() == 7) & (s["state"] != "total")]
        frames.append(monthly.groupby("state")[["inside_50", "inside_80", "inside_90"]].mean()
                      .astype(float).assign(world=world))
    return pd.concat(frames)


def _mean_se(x: pd.Series) -> tuple[float, float]:
    return float(x.mean()), float(x.std(ddof=1) / math.sqrt(len(x)))


def miss_ratio(units: pd.DataFrame) -> pd.Series:
    """Per unit, the misses of the 50, 80 and 90 % bands over their nominal misses (0.8): 1 when
    the bands are honest, above 1 when they are too narrow."""
    return ((1 - units["inside_50"]) + (1 - units["inside_80"]) + (1 - units["inside_90"])) / 0.8


def honest(scores: list[pd.DataFrame]) -> bool:
    """Whether the bands are not too narrow: the miss ratio at most 1 + 2 SE and the 90 % band's
    coverage at least 0.9 − 2 SE (SEs across the world-states)."""
    units = _units(scores)
    ratio, ratio_se = _mean_se(miss_ratio(units))
    cover, cover_se = _mean_se(units["inside_90"])
    return ratio <= 1.0 + SE_TOLERANCE * ratio_se and cover >= 0.9 - SE_TOLERANCE * cover_se


def _study(index: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """World `index`'s honest and fixed-parameter forecasts, scored (`synthetic_study.run_world`)."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from synthetic_study import run_world

    done = run_world(index, 2, runs=50, out=None, process_runs=20, n_states=3, rate_bands=1)
    return done.scores["model"], done.scores["fixed"]


@pytest.mark.slow
def test_bands_cover_on_synthetic_worlds_and_fixed_parameters_cover_clearly_less() -> None:
    """Four worlds fitted on 24 months, restarted at the cut and forecast 12 months, as `caseflow
    backtest` does: over the state-months the bands miss no more than they promise, within two
    standard errors across the 12 world-states; the same forecasts with the parameters fixed at
    the fitted values (process noise only: an over-confident fit) fail that same check, and cover
    clearly less, by more than two standard errors of the paired difference.

    Measured before the trends were pooled: the honest bands cover 0.48 / 0.78 / 0.87 (50 / 80 /
    90 %), miss ratio 1.09 ± 0.24; the fixed ones 0.34 / 0.66 / 0.74 (1.57 ± 0.25), 0.13 less on
    average, 3.5 standard errors of the paired difference.
    About 30 s on two idle cores (70 s on a busy machine).
    """
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=2, mp_context=context) as pool:
        done = list(pool.map(_study, WORLDS))
    model = [m for m, _ in done]
    fixed = [f for _, f in done]
    units = _units(model)
    assert honest(model), (units.mean(), _mean_se(miss_ratio(units)))
    assert not honest(fixed), (_units(fixed).mean(), _mean_se(miss_ratio(_units(fixed))))
    bands = ["inside_50", "inside_80", "inside_90"]
    paired = (units[bands] - _units(fixed)[bands]).mean(axis=1)
    gap, gap_se = _mean_se(paired)
    assert gap > SE_TOLERANCE * gap_se, (gap, gap_se)
