"""ExitSchedule against closed forms: exit times, survival, destination shares, clocks,
stationary elapsed durations and the mean stay.

Expectations come from `helpers.Exits`, which reads the same route dictionaries with plain
arithmetic and `scipy.integrate.quad`, never from `sim.kernel.hazards`. Sampled quantities are
compared within 4 standard errors (SE of a mean: sd/√n; of a proportion: √(p(1−p)/n));
the seeds are fixed, so every run draws the same numbers.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from helpers import CLOCK_SPLIT, Exits, Z

from sim.contract.schema import Route
from sim.kernel.hazards import STAY_HERE, ExitSchedule, schedule_from_routes

INDEX = {"a_dagpenge": 0, "job": 1, "kontanthjaelp": 2, "jobafklaring": 3, "other": 4}
NAMES = {v: k for k, v in INDEX.items()} | {STAY_HERE: "stay"}
NEVER = -99
N = 40_000

PIECEWISE: list[dict[str, Any]] = [
    {"to": "job", "rate_per_week": [[0, 0.06], [8, 0.02], [30, 0.05]]},
    {"to": "kontanthjaelp", "rate_per_week": [[0, 0.04], [8, 0.01], [30, 0.03]]},
]
"""Total hazard [[0, 0.1], [8, 0.03], [30, 0.08]] per week; the split changes by band."""

SHIFTING: list[dict[str, Any]] = [
    {"to": "job", "rate_per_week": [[0, 0.12], [6, 0.02]]},
    {"to": "kontanthjaelp", "rate_per_week": [[0, 0.01], [10, 0.09]]},
    {"to": "other", "mean_weeks": 40},
]
"""Routes whose band edges differ, so the destination odds change at weeks 6 and 10."""

CLOCK = CLOCK_SPLIT

CLOCK_STAY: list[dict[str, Any]] = [
    {"to": "job", "rate_per_week": [[0, 0.08], [5, 0.03]]},
    {"to": "kontanthjaelp", "at_week": 10, "share": 0.4},
    {"to": "stay", "at_week": 10, "share": "rest"},
    {"to": "other", "at_week": 30, "share": 0.25},
    {"to": "stay", "at_week": 30, "share": 0.75},
]


def schedule(routes: list[dict[str, Any]]) -> ExitSchedule:
    return schedule_from_routes(tuple(Route.model_validate(r) for r in routes), INDEX)


def sample(sched: ExitSchedule, n: int = N, seed: int = 1, elapsed: float = 0.0
           ) -> tuple[np.ndarray, np.ndarray]:
    """n next exits from `elapsed`: times (inf if never) and destinations (NEVER if never)."""
    rng = np.random.default_rng(seed)
    es, us = rng.standard_exponential(n), rng.random(n)
    times, dests = np.full(n, math.inf), np.full(n, NEVER)
    for i in range(n):
        nxt = sched.next_exit(elapsed, float(es[i]), float(us[i]))
        if nxt is not None:
            times[i], dests[i] = nxt
    return times, dests


def assert_proportion(hits: np.ndarray, p: float, what: str) -> None:
    n = hits.size
    se = math.sqrt(p * (1 - p) / n)
    got = hits.mean()
    assert abs(got - p) <= Z * se, f"{what}: {got:.5f} vs {p:.5f} (SE {se:.5f}, n {n})"


def assert_mean(values: np.ndarray, expected: float, what: str) -> None:
    se = values.std(ddof=1) / math.sqrt(values.size)
    got = values.mean()
    assert abs(got - expected) <= Z * se, f"{what}: {got:.4f} vs {expected:.4f} (SE {se:.4f})"


def test_constant_rate_gives_exponential_mean() -> None:
    sched = schedule([{"to": "job", "rate_per_week": 0.2}])
    times, dests = sample(sched, seed=11)
    assert np.all(dests == INDEX["job"])
    assert_mean(times, 7 / 0.2, "mean exit day")
    # memoryless: from 50 days in, the remaining stay has the same mean
    later, _ = sample(sched, seed=12, elapsed=50.0)
    assert later.min() >= 50.0
    assert_mean(later - 50.0, 7 / 0.2, "mean remaining days from day 50")


@pytest.mark.parametrize("routes", [PIECEWISE, SHIFTING], ids=["piecewise", "shifting"])
def test_piecewise_survival_matches_cumulative_hazard(routes: list[dict[str, Any]]) -> None:
    exits = Exits(routes)
    times, _ = sample(schedule(routes), seed=21)
    for week in (2, 6, 8, 10, 20, 30, 45):
        t = week * 7.0
        assert_proportion(times > t, math.exp(-exits.cumhaz(t)), f"S({week} weeks)")


def test_survival_from_an_elapsed_duration_is_conditional() -> None:
    exits = Exits(PIECEWISE)
    start = 10 * 7.0
    times, _ = sample(schedule(PIECEWISE), seed=22, elapsed=start)
    assert times.min() >= start
    for week in (12, 20, 30, 40):
        t = week * 7.0
        p = exits.survival(t) / exits.survival(start)
        assert_proportion(times > t, p, f"S({week} weeks | 10 weeks)")


def test_destination_shares_match_rate_ratios() -> None:
    _, dests = sample(schedule([{"to": "job", "rate_per_week": 0.06},
                                {"to": "kontanthjaelp", "rate_per_week": 0.04}]), seed=31)
    assert_proportion(dests == INDEX["job"], 0.6, "share to job, constant rates")


@pytest.mark.parametrize("routes", [PIECEWISE, SHIFTING], ids=["piecewise", "shifting"])
def test_destination_shares_follow_the_hazard_in_each_band(routes: list[dict[str, Any]]) -> None:
    exits = Exits(routes)
    times, dests = sample(schedule(routes), seed=32)
    for dest in {r["to"] for r in routes}:
        assert_proportion(dests == INDEX[dest], exits.exit_prob(dest), f"P(exit to {dest})")
    # within the first band, the odds are the rate ratio
    first = times < 6 * 7.0
    rates = {r["to"]: exits.hazard(0.0, r["to"]) for r in routes}
    p = rates["job"] / sum(rates.values())
    assert_proportion(dests[first] == INDEX["job"], p, "share to job in the first band")


def test_zero_hazard_tail_means_never() -> None:
    sched = schedule([{"to": "job", "rate_per_week": [[0, 0.1], [10, 0.0]]}])
    times, dests = sample(sched, seed=41)
    never = dests == NEVER
    assert np.all(np.isinf(times[never])) and np.all(times[~never] < 70.0)
    assert_proportion(never, math.exp(-1.0), "P(never leaves)")


def test_clock_splits_at_its_day() -> None:
    exits = Exits(CLOCK)
    times, dests = sample(schedule(CLOCK), seed=51)
    day = 22 * 7.0
    assert times.max() <= day
    at_clock = times == day
    assert np.all(dests[~at_clock] == INDEX["job"])
    assert set(dests[at_clock].tolist()) <= {INDEX["jobafklaring"], INDEX["kontanthjaelp"]}
    assert_proportion(at_clock, exits.survival(day, before=True), "P(reaching the clock)")
    assert_proportion(dests[at_clock] == INDEX["jobafklaring"], 0.3, "clock share to jobafklaring")


def test_clock_with_a_stay_share_returns_stay_then_continues() -> None:
    exits = Exits(CLOCK_STAY)
    sched = schedule(CLOCK_STAY)
    times, dests = sample(sched, seed=52)
    first = 10 * 7.0
    at_clock = times == first
    assert_proportion(at_clock, exits.survival(first, before=True), "P(reaching the first clock)")
    assert_proportion(dests[at_clock] == STAY_HERE, 0.6, "stay share at the first clock")
    # a redraw from the clock's own day does not strike the same clock again
    later, later_dests = sample(sched, seed=53, elapsed=first)
    assert later.min() > first
    second = 30 * 7.0
    at_second = later == second
    p = exits.survival(second, before=True) / exits.survival(first)
    assert_proportion(at_second, p, "P(reaching the second clock | past the first)")
    assert_proportion(later_dests[at_second] == INDEX["other"], 0.25, "share to other at 30 weeks")


@pytest.mark.parametrize("routes", [PIECEWISE, SHIFTING, CLOCK, CLOCK_STAY],
                         ids=["piecewise", "shifting", "clock", "clock-stay"])
def test_stationary_elapsed_has_density_proportional_to_survival(routes: list[dict[str, Any]]
                                                                  ) -> None:
    exits = Exits(routes)
    sched = schedule(routes)
    rng = np.random.default_rng(61)
    u = rng.random((N, 2))
    elapsed = np.array([sched.stationary_elapsed(float(a), float(b)) for a, b in u])
    # the vectorised version (the engine's initial stock) inverts the same way
    np.testing.assert_allclose(sched.stationary_elapsed_many(u[:, 0], u[:, 1]), elapsed,
                               rtol=1e-12, atol=1e-9)
    assert elapsed.min() >= 0.0
    assert_mean(elapsed, exits.mean_elapsed(), "mean stationary elapsed days")
    for week in (4, 8, 15, 30, 45):
        x = week * 7.0
        assert_proportion(elapsed > x, exits.elapsed_tail(x), f"P(elapsed > {week} weeks)")
    if routes is CLOCK:
        assert elapsed.max() < 22 * 7.0  # nobody in the stock is past a clock without stay


@pytest.mark.parametrize("routes", [PIECEWISE, SHIFTING, CLOCK, CLOCK_STAY],
                         ids=["piecewise", "shifting", "clock", "clock-stay"])
def test_survival_area_is_the_stationary_elapsed_distribution(routes: list[dict[str, Any]]) -> None:
    """∫₀ˣ S ÷ mean stay = P(elapsed ≤ x) at steady state: the deterministic twin's initial stock."""
    exits = Exits(routes)
    sched = schedule(routes)
    weeks = np.array([0.0, 4, 8, 15, 22, 30, 45, 200])
    area = sched.survival_area(weeks * 7.0) / sched.mean_stay()
    expected = [1.0 - exits.elapsed_tail(w * 7.0) for w in weeks]
    np.testing.assert_allclose(area, expected, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("routes", [
    [{"to": "job", "rate_per_week": 0.2}],
    [{"to": "job", "mean_weeks": [[0, 10], [26, 40]]}],
    PIECEWISE, SHIFTING, CLOCK, CLOCK_STAY,
], ids=["constant", "mean-weeks", "piecewise", "shifting", "clock", "clock-stay"])
def test_mean_stay_equals_the_survival_integral(routes: list[dict[str, Any]]) -> None:
    assert schedule(routes).mean_stay() == pytest.approx(Exits(routes).mean_stay(), rel=1e-9)


def test_mean_stay_closed_forms() -> None:
    # the integral helper itself, against hand-derived values (weeks → days)
    assert Exits([{"to": "job", "rate_per_week": 0.2}]).mean_stay() == pytest.approx(35.0, rel=1e-12)
    clock = 7 * (1 - math.exp(-0.05 * 22)) / 0.05
    assert Exits(CLOCK).mean_stay() == pytest.approx(clock, rel=1e-12)
    piecewise = 7 * ((1 - math.exp(-0.8)) / 0.1 + math.exp(-0.8) * (1 - math.exp(-0.66)) / 0.03
                     + math.exp(-1.46) / 0.08)
    assert Exits(PIECEWISE).mean_stay() == pytest.approx(piecewise, rel=1e-12)
