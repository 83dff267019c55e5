"""A target's probability with its Monte Carlo error: targets.csv's probability_se, Wilson interval
and runs_for_002, recomputed here by hand from the per-replication target values in the store.

The probability over the n replications where a value is defined is a binomial proportion k/n:
its standard error is √(p(1 − p)/n), its Wilson score interval is written out below from the
textbook formula (and checked against scipy's), and runs_for_002 is ⌈p(1 − p)/0.02²⌉ computed in
exact fractions.
"""

from __future__ import annotations

import math
from fractions import Fraction
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
from scipy.stats import binom, binomtest, norm

import sim
from sim.features.outputs import ResolvedTarget
from sim.results.summary import targets_frame

ERROR = ["probability_se", "probability_low95", "probability_high95", "runs_for_002"]
Z = float(norm.ppf(0.975))
RATE = 0.0137
"""The single citizen's exit rate per week."""
TRUE_P = 1.0 - math.exp(-RATE / 7.0 * 182.5)
"""P(at most half a full-year person in 2018) = P(the citizen leaves within 182.5 days), ≈ 0.30."""


def one_citizen(**extra: Any) -> sim.Scenario:
    """One citizen on a-dagpenge from 1 January 2018, leaving at a constant rate: the year's
    full-year persons are min(T, 365)/365 with T exponential, so each replication meets
    'at most 0.5' with probability TRUE_P, independently."""
    data: dict[str, Any] = {
        "name": "one citizen", "start": "2018-01-01", "months": 12,
        "states": {"a_dagpenge": {}, "sygedagpenge": {}},
        "initial": {"a_dagpenge": 1},
        "transitions": {"a_dagpenge": [{"to": "job", "rate_per_week": RATE}],
                        "sygedagpenge": [{"to": "job", "rate_per_week": 0.5}]},
        "targets": [{"name": "half", "states": ["a_dagpenge"], "year": 2018, "at_most": 0.5}],
    }
    data.update(extra)
    return sim.scenario_from_dict(data)


def wilson(k: int, n: int) -> tuple[float, float]:
    """The Wilson score interval (p̂ + z²/2n ± z√(p̂(1 − p̂)/n + z²/4n²)) / (1 + z²/n)."""
    p = k / n
    centre = (p + Z**2 / (2 * n)) / (1 + Z**2 / n)
    half = Z * math.sqrt(p * (1 - p) / n + Z**2 / (4 * n**2)) / (1 + Z**2 / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def runs_for_002(k: int, n: int) -> int:
    p = Fraction(k, n)
    return max(1, math.ceil(p * (1 - p) / Fraction(2, 100) ** 2))


def by_hand(values: np.ndarray, met: np.ndarray) -> dict[str, float]:
    """p, SE, Wilson bounds and runs_for_002 of one target from its per-replication values."""
    defined = ~np.isnan(values)
    n, k = int(defined.sum()), int((met & defined).sum())
    p = k / n
    low, high = wilson(k, n)
    return {"probability_met": p, "probability_se": math.sqrt(p * (1 - p) / n), "probability_low95": low,
            "probability_high95": high, "runs_for_002": runs_for_002(k, n), "n": n, "k": k}


def test_columns_follow_probability_met() -> None:
    targets = sim.run(one_citizen(), runs=5, seed=1, workers=1).targets
    columns = list(targets.columns)
    at = columns.index("probability_met")
    assert columns[at + 1: at + 5] == ERROR
    assert columns[-2:] == ["undefined_share", "set_by_assumption"]


def test_error_columns_recomputed_from_the_stored_values() -> None:
    """A full-year-persons target (every replication defined) and a mean duration of sygedagpenge
    spells, which start in only some replications (n < runs)."""
    scenario = one_citizen(
        inflow_per_week={"sygedagpenge": 0.02},
        targets=[{"name": "half", "states": ["a_dagpenge"], "year": 2018, "at_most": 0.5},
                 {"name": "short", "metric": "mean_duration_weeks", "states": ["sygedagpenge"],
                  "year": 2018, "at_most": 1.5}])
    runs = 300
    result = sim.run(scenario, runs=runs, seed=4, workers=1)
    values = np.asarray(result.store.arrays["targets"])
    frame = result.targets.set_index("target")
    for i, name, threshold in ((0, "half", 0.5), (1, "short", 1.5)):
        v = values[i]
        expected = by_hand(v, v <= threshold)
        row = frame.loc[name]
        assert 0 < expected["k"] < expected["n"], name  # a probability strictly inside (0, 1)
        assert expected["n"] == pytest.approx(runs * (1 - row["undefined_share"]))
        for column in ("probability_met", *ERROR):
            assert row[column] == pytest.approx(expected[column], rel=1e-12, abs=1e-15), (name, column)
        ci = binomtest(expected["k"], expected["n"]).proportion_ci(method="wilson")
        assert (row["probability_low95"], row["probability_high95"]) == pytest.approx((ci.low, ci.high),
                                                                                        rel=1e-12)
    assert frame.loc["short", "undefined_share"] > 0.1  # the second target is the n < runs case
    assert frame.loc["half", "probability_se"] == pytest.approx(
        math.sqrt(frame.loc["half", "probability_met"] * (1 - frame.loc["half", "probability_met"]) / runs))


def test_wilson_bounds_at_zero_and_one() -> None:
    """Always met: p = 1, SE 0, interval [n/(n + z²), 1]; never met: p = 0, [0, z²/(n + z²)];
    both need only 1 run for a standard error of 0.02."""
    scenario = one_citizen(targets=[
        {"name": "always", "states": ["a_dagpenge"], "year": 2018, "at_most": 2},
        {"name": "never", "states": ["a_dagpenge"], "year": 2018, "at_least": 2}])
    n = 40
    frame = sim.run(scenario, runs=n, seed=2, workers=1).targets.set_index("target")
    always, never = frame.loc["always"], frame.loc["never"]
    assert always["probability_met"] == 1.0 and never["probability_met"] == 0.0
    assert always["probability_se"] == 0.0 and never["probability_se"] == 0.0
    assert always["probability_high95"] == 1.0 and never["probability_low95"] == 0.0
    assert always["probability_low95"] == pytest.approx(n / (n + Z**2), rel=1e-12)
    assert never["probability_high95"] == pytest.approx(Z**2 / (n + Z**2), rel=1e-12)
    assert always["runs_for_002"] == 1 and never["runs_for_002"] == 1


def test_an_undefined_probability_has_no_error() -> None:
    """No sygedagpenge spell ever starts: the mean duration is undefined in every replication."""
    scenario = one_citizen(targets=[{"name": "none", "metric": "mean_duration_weeks",
                                     "states": ["sygedagpenge"], "year": 2018, "at_most": 10}])
    row = sim.run(scenario, runs=4, seed=1, workers=1).targets.iloc[0]
    assert row["undefined_share"] == 1.0
    assert all(np.isnan(row[c]) for c in ("probability_met", *ERROR))


def _frame(values: np.ndarray) -> Any:
    """targets_frame of one 'at most 0.5' target over given per-replication values."""
    target = ResolvedTarget("t", "full_year_persons", (0,), 0, 0.5, True)
    store = SimpleNamespace(arrays={"targets": values.reshape(1, -1)}, runs=values.size, shapes={})
    return targets_frame([target], store).iloc[0]  # type: ignore[arg-type]


@pytest.mark.parametrize("n", [1, 2, 7, 50, 625, 2401])
def test_every_count_against_scipy(n: int) -> None:
    """For every k of n: the Wilson bounds equal scipy's, the SE the binomial formula, and
    runs_for_002 the exact ceiling (at p = 1/2: 625, the largest there is)."""
    for k in sorted({0, 1, n // 3, n // 2, n - 1, n}):
        row = _frame(np.array([0.0] * k + [1.0] * (n - k)))
        ci = binomtest(k, n).proportion_ci(method="wilson")
        assert row["probability_low95"] == pytest.approx(ci.low, rel=1e-12, abs=1e-15), (k, n)
        assert row["probability_high95"] == pytest.approx(ci.high, rel=1e-12, abs=1e-15), (k, n)
        assert row["probability_se"] == pytest.approx(math.sqrt(k / n * (1 - k / n) / n), abs=1e-15)
        assert row["runs_for_002"] == runs_for_002(k, n)
    assert _frame(np.array([0.0, 1.0] * 50))["runs_for_002"] == 625


@pytest.mark.slow  # a coverage study: thousands of intervals
def test_the_95_interval_covers_the_true_probability_95_percent_of_the_time() -> None:
    """200 independent batches of 40 replications (one run's replications, each on its own stream,
    split into consecutive blocks): the share of Wilson intervals containing TRUE_P matches the
    interval's exact coverage at n = 40 (≈ 0.95), within 4 standard errors."""
    batches, n = 200, 40
    result = sim.run(one_citizen(), runs=batches * n, seed=20240601, workers=1)
    values = np.asarray(result.store.arrays["targets"])
    pooled = float(np.mean(values[0] <= 0.5))
    assert pooled == pytest.approx(TRUE_P, abs=4 * math.sqrt(TRUE_P * (1 - TRUE_P) / values.shape[1]))
    inside = 0
    for b in range(batches):
        row = targets_frame(result.targets_resolved, SimpleNamespace(
            arrays={"targets": values[:, b * n:(b + 1) * n]}, runs=n, shapes={})).iloc[0]  # type: ignore[arg-type]
        inside += row["probability_low95"] <= TRUE_P <= row["probability_high95"]
    ks = np.arange(n + 1)
    covers = np.array([wilson(int(k), n)[0] <= TRUE_P <= wilson(int(k), n)[1] for k in ks])
    coverage = float(binom.pmf(ks, n, TRUE_P)[covers].sum())
    assert 0.93 < coverage < 0.97
    assert inside / batches == pytest.approx(coverage, abs=4 * math.sqrt(coverage * (1 - coverage) / batches))
