"""The engine against theory: Kolmogorov forward equations, Little's law, a stationary start,
and forced clocks seen in the recorded spells.

Expectations are computed here, independently of `sim.kernel.hazards` (see `helpers`); simulated
means are compared within 4 standard errors estimated from the replications (sd/√runs), or
binomial SEs for shares. Seeds are fixed, so the outcome of each test is reproducible.
"""

from __future__ import annotations

import itertools
import math
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from helpers import (
    CLOCK_SPLIT,
    START,
    Exits,
    Z,
    integral,
    kolmogorov_month_means,
    month_edges,
    month_label,
    scenario,
)

import sim

BENEFITS = ("a_dagpenge", "kontanthjaelp", "sygedagpenge", "jobafklaring")
EXITS = ("job", "education", "pension", "other")

# ---------------------------------------------------------------------------------------------
# 1. Kolmogorov forward equations with a source term (constant rates)

KOLMOGOROV_RATES = {  # per week
    "a_dagpenge": {"job": 0.08, "kontanthjaelp": 0.01, "sygedagpenge": 0.02},
    "kontanthjaelp": {"job": 0.03, "a_dagpenge": 0.01, "other": 0.01},
    "sygedagpenge": {"job": 0.10, "jobafklaring": 0.03, "a_dagpenge": 0.02},
    "jobafklaring": {"job": 0.04, "kontanthjaelp": 0.02, "sygedagpenge": 0.01},
    "job": {"a_dagpenge": 0.005},  # re-entry
}
KOLMOGOROV_INFLOW = {"a_dagpenge": 20.0, "kontanthjaelp": 8.0, "sygedagpenge": 25.0,
                     "jobafklaring": 2.0}
KOLMOGOROV_INITIAL = {"a_dagpenge": 400, "kontanthjaelp": 500, "sygedagpenge": 300,
                      "jobafklaring": 150}
KOLMOGOROV_RUNS = 100


def _route(to: str, rate: float) -> dict[str, Any]:
    # one route given as a mean stay, to exercise mean_weeks = 1 / rate
    if to == "jobafklaring":
        return {"to": to, "mean_weeks": 1 / rate}
    return {"to": to, "rate_per_week": rate}


@pytest.fixture(scope="module")
def kolmogorov_run() -> sim.RunResult:
    sc = scenario(
        states={s: {} for s in BENEFITS},
        initial=KOLMOGOROV_INITIAL,
        inflow_per_week=KOLMOGOROV_INFLOW,
        transitions={o: [_route(d, r) for d, r in routes.items()]
                     for o, routes in KOLMOGOROV_RATES.items()},
    )
    return sim.run(sc, runs=KOLMOGOROV_RUNS, seed=101, workers=2)


def _kolmogorov_expectation() -> tuple[list[str], np.ndarray, np.ndarray]:
    codes = [*BENEFITS, *EXITS]
    k = len(codes)
    rates = np.zeros((k, k))
    for origin, routes in KOLMOGOROV_RATES.items():
        for dest, r in routes.items():
            rates[codes.index(origin), codes.index(dest)] = r / 7.0
    inflow = np.array([KOLMOGOROV_INFLOW.get(c, 0.0) / 7.0 for c in codes])
    n0 = np.array([KOLMOGOROV_INITIAL.get(c, 0) for c in codes], dtype=float)
    edges = month_edges(START, 24)
    return codes, rates, kolmogorov_month_means(rates, inflow, n0, edges)


@pytest.mark.slow
def test_monthly_means_follow_the_kolmogorov_equations(kolmogorov_run: sim.RunResult) -> None:
    codes, _, expected = _kolmogorov_expectation()
    monthly = kolmogorov_run.monthly.set_index(["state", "month"])
    failures = []
    for month in (1, 6, 12, 24):
        label = month_label(START, month)
        for state in (*BENEFITS, "total"):
            exp = (expected[: len(BENEFITS), month - 1].sum() if state == "total"
                   else expected[codes.index(state), month - 1])
            row = monthly.loc[(state, label)]
            se = row["sd"] / math.sqrt(KOLMOGOROV_RUNS)
            if not abs(row["mean"] - exp) <= Z * se:
                failures.append(f"{state} {label}: {row['mean']:.2f} vs {exp:.2f} (SE {se:.2f})")
    assert not failures, failures


@pytest.mark.slow
def test_monthly_flows_follow_the_kolmogorov_equations(kolmogorov_run: sim.RunResult) -> None:
    # expected moves i → j in a month = rate_ij × ∫ n_i over the month; arrivals = λ × days
    codes, rates, expected = _kolmogorov_expectation()
    days = np.diff(month_edges(START, 24))
    flows = kolmogorov_run.flows.set_index(["month", "from", "to"])
    failures = []
    for month in (1, 12, 24):
        label = month_label(START, month)
        pairs = [(o, d) for o, routes in KOLMOGOROV_RATES.items() for d in routes]
        pairs += [("outside", s) for s in KOLMOGOROV_INFLOW]
        for origin, dest in pairs:
            if origin == "outside":
                exp = KOLMOGOROV_INFLOW[dest] / 7.0 * days[month - 1]
            else:
                i, j = codes.index(origin), codes.index(dest)
                exp = rates[i, j] * expected[i, month - 1] * days[month - 1]
            row = flows.loc[(label, origin, dest)]
            se = row["sd"] / math.sqrt(KOLMOGOROV_RUNS)
            if not abs(row["mean"] - exp) <= Z * se:
                failures.append(f"{origin}→{dest} {label}: {row['mean']:.2f} vs {exp:.2f} (SE {se:.2f})")
    assert not failures, failures


# ---------------------------------------------------------------------------------------------
# 2. Little's law in steady state with piecewise hazards

# sygedagpenge: total hazard [[0, 0.1], [8, 0.03], [30, 0.08]] per week
LITTLE_A: list[dict[str, Any]] = [
    {"to": "job", "rate_per_week": [[0, 0.07], [8, 0.02], [30, 0.05]]},
    {"to": "jobafklaring", "rate_per_week": [[0, 0.03], [8, 0.01], [30, 0.03]]},
]
# jobafklaring
LITTLE_B: list[dict[str, Any]] = [{"to": "job", "rate_per_week": [[0, 0.06], [12, 0.12]]}]
LITTLE_INFLOW = 40.0  # per week into sygedagpenge
LITTLE_RUNS = 60


@pytest.mark.slow
def test_littles_law_with_piecewise_hazards() -> None:
    """Started empty, after 3 years of warm-up: mean stock = inflow × mean stay, per state."""
    sc = scenario(
        months=60,
        states={"sygedagpenge": {}, "jobafklaring": {}},
        inflow_per_week={"sygedagpenge": LITTLE_INFLOW},
        transitions={"sygedagpenge": LITTLE_A, "jobafklaring": LITTLE_B},
    )
    result = sim.run(sc, runs=LITTLE_RUNS, seed=202, workers=2)
    reps = result.replications
    years = reps[reps["year"].isin([2021, 2022])]  # both 365 days: the plain mean is the time mean
    stock = years.groupby(["state", "replication"])["full_year_persons"].mean()

    a, b = Exits(LITTLE_A), Exits(LITTLE_B)
    lam_a = LITTLE_INFLOW / 7.0  # per day
    p_b = a.exit_prob("jobafklaring")
    lam_b = lam_a * p_b
    # Little's law: L = λ W, with W = ∫ S(t) dt (days)
    expected = {"sygedagpenge": lam_a * a.mean_stay(), "jobafklaring": lam_b * b.mean_stay()}
    # what is left of the empty start at the 3-year mark (t0), as an upper bound on the deficit:
    # A: λ ∫_t0^∞ S_A; B: λ (∫_0^t0 S_A(s) S_B(t0 − s) ds + p_B ∫_t0^∞ S_B)
    t0 = 3 * 365.0
    tail_a = a.integrate(lambda t: a.survival(t) * (t > t0), extra=[t0])
    tail_b = b.integrate(lambda t: b.survival(t) * (t > t0), extra=[t0])
    cuts = [*a.breakpoints(), *(t0 - x for x in b.breakpoints())]
    conv = integral(lambda s: a.survival(s) * b.survival(t0 - s), 0.0, t0, cuts)
    transient = {"sygedagpenge": lam_a * tail_a, "jobafklaring": lam_a * conv + lam_b * tail_b}
    assert transient["sygedagpenge"] < 0.05 and transient["jobafklaring"] < 0.05

    se = {}
    for state, level in expected.items():
        values = stock.loc[state].to_numpy()
        se[state] = values.std(ddof=1) / math.sqrt(values.size)
        got = values.mean()
        assert abs(got - level) <= Z * se[state] + transient[state], (
            f"{state}: mean stock {got:.2f} vs λW {level:.2f} (SE {se[state]:.2f})")
    # the check has power: ignoring the band edges (the first band's hazard, 0.1 per week,
    # for ever) would give sygedagpenge λ × 10 weeks, far outside the tolerance
    assert abs(lam_a * 70.0 - expected["sygedagpenge"]) > 20 * se["sygedagpenge"]


# ---------------------------------------------------------------------------------------------
# 3. A stationary start stays flat

# sygedagpenge: piecewise hazard and a clock at 22 weeks
STEADY_A: list[dict[str, Any]] = [
    {"to": "job", "rate_per_week": [[0, 0.1], [8, 0.03]]},
    {"to": "jobafklaring", "at_week": 22, "share": 0.3},
    {"to": "job", "at_week": 22, "share": "rest"},
]
# jobafklaring: piecewise hazard to job, a constant one to other, a clock at 52
STEADY_B: list[dict[str, Any]] = [
    {"to": "job", "rate_per_week": [[0, 0.05], [26, 0.1]]},
    {"to": "other", "rate_per_week": 0.01},
    {"to": "job", "at_week": 52, "share": 0.5},
    {"to": "other", "at_week": 52, "share": "rest"},
]
STEADY_INFLOW = {"sygedagpenge": 60.0, "jobafklaring": 3.0}  # per week
STEADY_RUNS = 80


def _steady_levels() -> dict[str, float]:
    """Stationary stock λW of each state (persons), inflows to jobafklaring included."""
    a, b = Exits(STEADY_A), Exits(STEADY_B)
    lam_a = STEADY_INFLOW["sygedagpenge"] / 7.0
    lam_b = STEADY_INFLOW["jobafklaring"] / 7.0 + lam_a * a.exit_prob("jobafklaring")
    return {"sygedagpenge": lam_a * a.mean_stay(), "jobafklaring": lam_b * b.mean_stay()}


@pytest.mark.slow
def test_stationary_start_stays_flat() -> None:
    levels = _steady_levels()
    initial = {s: round(v) for s, v in levels.items()}
    sc = scenario(
        states={"sygedagpenge": {}, "jobafklaring": {}},
        initial=initial,  # no initial_durations: the engine draws the stationary elapsed days
        inflow_per_week=STEADY_INFLOW,
        transitions={"sygedagpenge": STEADY_A, "jobafklaring": STEADY_B},
    )
    result = sim.run(sc, runs=STEADY_RUNS, seed=303, workers=2)
    monthly = result.monthly
    levels["total"] = sum(levels.values())
    # a stationary stock of n0 persons drifts to λW as n0 + (λW − n0) P(residual ≤ t):
    # rounding n0 to whole persons moves the expectation by at most 0.5 per state
    slack = {"sygedagpenge": 0.5, "jobafklaring": 0.5, "total": 1.0}
    failures = []
    for row in monthly.itertuples():
        se = row.sd / math.sqrt(STEADY_RUNS)
        if not abs(row.mean - levels[row.state]) <= Z * se + slack[row.state]:
            failures.append(f"{row.state} {row.month}: {row.mean:.2f} vs {levels[row.state]:.2f} "
                            f"(SE {se:.2f})")
    assert not failures, failures

    # The test has power: had the engine started everyone at elapsed 0 (fresh entrants: the
    # high early hazard at first, then the whole initial cohort at the clock together), the
    # expected sygedagpenge stock would be E N(t) = n0 S(t) + λ ∫_0^t S, whose month means
    # (1/L) ∫_a^b E N = (1/L) [n0 ∫_a^b S + λ ∫_0^b (b − max(u, a)) S(u) du] stray far from λW
    a = Exits(STEADY_A)
    lam_a = STEADY_INFLOW["sygedagpenge"] / 7.0
    n0 = initial["sygedagpenge"]
    edges = month_edges(START, 24)
    cuts = a.breakpoints()
    fresh = np.array([
        (n0 * integral(a.survival, lo, hi, cuts)
         + lam_a * integral(lambda u, lo=lo, hi=hi: (hi - max(u, lo)) * a.survival(u), 0.0, hi,
                            [*cuts, lo])) / (hi - lo)
        for lo, hi in itertools.pairwise(edges)
    ])
    syk = monthly[monthly["state"] == "sygedagpenge"]
    tolerance = Z * syk["sd"].max() / math.sqrt(STEADY_RUNS) + 0.5
    assert np.abs(fresh - levels["sygedagpenge"]).max() > 5 * tolerance


def test_initial_elapsed_durations_are_stationary() -> None:
    """The initial stock's elapsed days (−start_day of its spells) have density ∝ survival."""
    n = 20_000
    sc = scenario(
        months=1,
        states={"sygedagpenge": {}, "jobafklaring": {}},
        initial={"sygedagpenge": n, "jobafklaring": n},
        transitions={"sygedagpenge": STEADY_A, "jobafklaring": STEADY_B},
    )
    record = sim.simulate(sim.compile_model(sc), np.random.SeedSequence(404), record_spells=True)
    spells = record.spells
    assert spells is not None
    for state, routes, clock in (("sygedagpenge", STEADY_A, 22), ("jobafklaring", STEADY_B, 52)):
        exits = Exits(routes)
        elapsed = -spells.loc[(spells["state"] == state) & (spells["start_day"] <= 0),
                              "start_day"].to_numpy()
        assert elapsed.size == n
        assert elapsed.max() < clock * 7.0  # nobody starts past a clock that moves everyone
        se = elapsed.std(ddof=1) / math.sqrt(n)
        assert abs(elapsed.mean() - exits.mean_elapsed()) <= Z * se, state
        for week in (4, 8, 20):
            p = exits.elapsed_tail(week * 7.0)
            se = math.sqrt(p * (1 - p) / n)
            assert abs((elapsed > week * 7.0).mean() - p) <= Z * se, f"{state} > {week} weeks"


# ---------------------------------------------------------------------------------------------
# 4. Forced clocks, seen in the recorded spells

# a_dagpenge: 10-week clock, 0.4 to kontanthjaelp, the rest stays
CLOCK_STAY: list[dict[str, Any]] = [
    {"to": "job", "rate_per_week": [[0, 0.08], [5, 0.03]]},
    {"to": "kontanthjaelp", "at_week": 10, "share": 0.4},
    {"to": "stay", "at_week": 10, "share": "rest"},
]
CLOCK_REPS = 10
EPS = 1e-6  # days: spell ends are sums of floats; a clock move lands within rounding of its day


@pytest.fixture(scope="module", params=[True, False], ids=["fast-path", "event-path"])
def clock_spells(request: pytest.FixtureRequest) -> tuple[pd.DataFrame, float]:
    sc = scenario(
        states={s: {} for s in BENEFITS},
        initial={"sygedagpenge": 1500, "a_dagpenge": 1500},
        inflow_per_week={"sygedagpenge": 40, "a_dagpenge": 40},
        transitions={
            "sygedagpenge": CLOCK_SPLIT,
            "a_dagpenge": CLOCK_STAY,
            "jobafklaring": [{"to": "job", "rate_per_week": 0.1}],
            "kontanthjaelp": [{"to": "job", "rate_per_week": 0.1}],
        },
    )
    model = sim.compile_model(sc)
    seeds = np.random.SeedSequence(505).spawn(CLOCK_REPS)
    tables = []
    for i, seed in enumerate(seeds):
        spells = sim.simulate(model, seed, record_spells=True, fast_forward=request.param).spells
        assert spells is not None
        tables.append(spells.assign(rep=i))
    spells = pd.concat(tables, ignore_index=True)
    return spells.assign(days=spells["end_day"] - spells["start_day"]), model.calendar.horizon


def _share(hits: pd.Series, p: float, what: str) -> None:
    n, got = hits.size, float(hits.mean())
    se = math.sqrt(p * (1 - p) / n)
    assert abs(got - p) <= Z * se, f"{what}: {got:.4f} vs {p:.4f} (SE {se:.4f}, n {n})"


@pytest.mark.slow
def test_nobody_stays_past_a_clock_without_stay_share(clock_spells: tuple[pd.DataFrame, float]
                                                      ) -> None:
    spells, horizon = clock_spells
    day = 22 * 7.0
    syk = spells[spells["state"] == "sygedagpenge"]
    assert syk["days"].max() <= day + EPS
    clocked = syk[syk["to"].isin(["jobafklaring", "kontanthjaelp"])]
    assert len(clocked) > 1000
    assert np.all(np.abs(clocked["days"] - day) <= EPS)
    assert np.all(syk.loc[syk["to"] == "job", "days"] < day)
    _share(clocked["to"] == "jobafklaring", 0.3, "clock share to jobafklaring")
    # fresh entrants whose clock falls inside the horizon reach it with probability S(22 weeks)
    fresh = syk[(syk["start_day"] >= 0) & (syk["start_day"] + day < horizon)]
    _share(fresh["days"] >= day - EPS, math.exp(-0.05 * 22), "P(reaching the clock)")


@pytest.mark.slow
def test_clock_stay_share_is_kept(clock_spells: tuple[pd.DataFrame, float]) -> None:
    spells, horizon = clock_spells
    day = 10 * 7.0
    dag = spells[spells["state"] == "a_dagpenge"]
    ends_at_clock = np.abs(dag["days"] - day) <= EPS
    assert set(dag.loc[ends_at_clock, "to"]) == {"kontanthjaelp"}
    assert set(dag.loc[dag["to"] == "kontanthjaelp", "days"].round(6)) == {day}
    # spells whose clock strikes inside the horizon and that are still there when it strikes
    struck = dag[(dag["start_day"] + day > 0) & (dag["start_day"] + day < horizon)
                 & (dag["days"] >= day - EPS)]
    _share(struck["days"] > day + EPS, 0.6, "share staying at the 10-week clock")
    fresh = dag[(dag["start_day"] >= 0) & (dag["start_day"] + day < horizon)]
    _share(fresh["days"] >= day - EPS, Exits(CLOCK_STAY).survival(day, before=True),
           "P(reaching the clock)")


_STAY_ONLY_CLOCK = """
import numpy as np
import sim
sc = sim.scenario_from_dict({
    "name": "stay-only clock", "start": "2018-01-01", "months": 12,
    "states": {"a_dagpenge": {}}, "initial": {"a_dagpenge": 200},
    "inflow_per_week": {"a_dagpenge": 20},
    "transitions": {"a_dagpenge": [{"to": "job", "rate_per_week": 0.05},
                                   {"to": "stay", "at_week": 10, "share": 1}]},
})
model = sim.compile_model(sc)
for fast in (True, False):
    record = sim.simulate(model, np.random.SeedSequence(1), fast_forward=fast)
    assert record.stock_end.sum(axis=0)[-1] == record.n_initial + record.flows[-1].sum()
print("ok")
"""


def test_a_clock_that_keeps_everyone_does_not_stall_the_engine(tmp_path: Path) -> None:
    """A clock whose only share is 'stay' (a review that keeps everyone) is a no-op: the run
    ends as quickly as without it. It must not strike again at the same instant when the
    elapsed days, recomputed as (entered + clock day) − entered, round to just below the clock
    day. Run in a subprocess so that an engine stuck in that loop fails the test, not CI.
    """
    # the child imports the very `sim` this process tests
    package_root = str(Path(sim.__file__).resolve().parent.parent)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        p for p in (package_root, os.environ.get("PYTHONPATH")) if p)}
    try:
        done = subprocess.run([sys.executable, "-c", _STAY_ONLY_CLOCK], capture_output=True,
                              text=True, timeout=20, cwd=tmp_path, env=env)
    except subprocess.TimeoutExpired:
        pytest.fail("the engine did not finish a 12-month, ~1,200-person run in 20 s: a clock "
                    "with only a stay share keeps striking at the same instant")
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr
