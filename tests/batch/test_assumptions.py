"""Named assumptions: each target's probability at both ends of each assumed value, against
closed forms, on common random numbers, and the same for any worker count.

The closed form: citizens arrive into a state only in January, as a Poisson stream of λ a week
(seasonality 1 in January, 0 after), and nothing leaves, so February's full-time persons are the
January arrivals, Poisson with mean λ · 31/7; a total over two such states is Poisson with the
sum of their means. A target "at least 89.5" then has P = P(N ≥ 90), read from scipy.stats.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from helpers import Z, scenario
from scipy.stats import poisson

import sim
from sim.batch.assumptions import (
    COLUMNS,
    check_assumptions,
    check_cost,
    check_runs,
    end_values,
    ends,
    sets_it,
)
from sim.batch.points import VALUE, PointModels, Study
from sim.contract.parameters import scenario_data, with_values
from sim.features import prepare_model
from sim.results.targets import resolve_targets

JANUARY_ONLY = [1.0] + [0.0] * 11
LAMBDA_A, LAMBDA_S = 20.0, 10.0
"""Weekly inflows into a_dagpenge and sygedagpenge (January only)."""
RANGE_A, RANGE_S = (15.0, 25.0), (5.0, 15.0)
THRESHOLDS = {"a mindst 90": 89.5, "a mindst 50": 49.5, "i alt mindst 135": 134.5}
RUNS, SEED = 400, 2018


def january(lam_a: float = LAMBDA_A, lam_s: float = LAMBDA_S, assumptions: bool = True) -> sim.Scenario:
    return scenario(
        months=2, states={"a_dagpenge": {}, "sygedagpenge": {}},
        inflow_per_week={"a_dagpenge": {"rate": lam_a, "seasonality": JANUARY_ONLY},
                         "sygedagpenge": {"rate": lam_s, "seasonality": JANUARY_ONLY}},
        targets=[{"name": "a mindst 90", "states": ["a_dagpenge"], "month": "2018-02", "at_least": 89.5},
                 {"name": "a mindst 50", "states": ["a_dagpenge"], "month": "2018-02", "at_least": 49.5},
                 {"name": "i alt mindst 135", "states": ["total"], "month": "2018-02", "at_least": 134.5}],
        assumptions=[
            {"path": "inflow_per_week.a_dagpenge.rate", "low": RANGE_A[0], "high": RANGE_A[1],
             "reason": "planen giver ingen tilgang"},
            {"path": "inflow_per_week.sygedagpenge", "low": RANGE_S[0], "high": RANGE_S[1],
             "reason": "ukendt"},
        ] if assumptions else [],
    )


def closed_form(target: str, lam_a: float, lam_s: float) -> float:
    """P(February's persons ≥ threshold) for Poisson arrivals over January's 31 days."""
    mean = (lam_a + (lam_s if target.startswith("i alt") else 0.0)) * 31 / 7
    return float(poisson.sf(math.ceil(THRESHOLDS[target]) - 1, mean))


def tolerance(p: float, n: int) -> float:
    """Z binomial standard errors of a share of n, the share kept 1/n inside (0, 1): at p = 1e-5 the
    standard error would be too small to allow a single miss that is not unlikely."""
    q = min(max(p, 1.0 / n), 1.0 - 1.0 / n)
    return Z * math.sqrt(q * (1.0 - q) / n)


@pytest.fixture(scope="module")
def checked() -> sim.RunResult:
    return sim.run(january(), runs=RUNS, seed=SEED, assumption_runs=RUNS)


def test_probabilities_at_both_ends_follow_the_poisson_closed_form(checked: sim.RunResult) -> None:
    frame = checked.assumptions
    assert frame is not None and list(frame.columns) == list(COLUMNS)
    assert len(frame) == 3 * 2 and set(frame["runs"]) == {RUNS}
    for r in frame.itertuples():
        ends = {"p_low": r.low, "p_point": r.point, "p_high": r.high}
        on_a = str(r.path).startswith("inflow_per_week.a_dagpenge")
        for column, value in ends.items():
            lam = (value, LAMBDA_S) if on_a else (LAMBDA_A, value)
            truth = closed_form(str(r.target), *lam)
            assert abs(getattr(r, column) - truth) < tolerance(truth, RUNS), (r.target, r.path, column, truth)


def test_a_range_that_takes_p_from_below_01_to_above_09_sets_the_target(checked: sim.RunResult) -> None:
    # the closed forms behind the flags: clearly below 0.1 and above 0.9 at the ends of λ_a's range
    assert closed_form("a mindst 90", RANGE_A[0], LAMBDA_S) < 0.01
    assert closed_form("a mindst 90", RANGE_A[1], LAMBDA_S) > 0.97
    # …while "at least 50" stays above 0.5 over the whole range, and sygedagpenge's inflow cannot
    # move a target on a-dagpenge alone
    assert closed_form("a mindst 50", RANGE_A[0], LAMBDA_S) > 0.98
    set_by = dict(zip(checked.targets["target"], checked.targets["set_by_assumption"], strict=True))
    assert set_by == {
        "a mindst 90": "inflow_per_week.a_dagpenge.rate",
        "a mindst 50": "",
        "i alt mindst 135": "inflow_per_week.a_dagpenge.rate; inflow_per_week.sygedagpenge",
    }
    assert checked.assumptions is not None
    sets = checked.assumptions.set_index(["target", "path"])["sets_it"]
    assert sets[("a mindst 90", "inflow_per_week.a_dagpenge.rate")]
    assert not sets[("a mindst 90", "inflow_per_week.sygedagpenge")]


def test_a_value_that_does_not_touch_a_target_leaves_its_probability_exactly(checked: sim.RunResult) -> None:
    """Common random numbers: a-dagpenge's arrivals come from their own stream, so moving
    sygedagpenge's inflow leaves each replication's a-dagpenge count exactly as it was (on
    independent seeds the ends would differ by about 0.035, one standard error)."""
    assert checked.assumptions is not None
    rows = checked.assumptions.set_index(["target", "path"])
    row = rows.loc[("a mindst 90", "inflow_per_week.sygedagpenge")]
    assert row["p_low"] == row["p_point"] == row["p_high"]


def test_the_point_is_the_batchs_own_first_replications(checked: sim.RunResult) -> None:
    """p_point is recomputed on the replications the ends ran: with K = runs, it is probability_met."""
    assert checked.assumptions is not None
    point = checked.assumptions.groupby("target", sort=False)["p_point"].first()
    met = checked.targets.set_index("target")["probability_met"]
    for name, p in point.items():
        assert p == met[name]
    few = sim.run(january(), runs=60, seed=SEED, assumption_runs=20)
    assert few.assumptions is not None and set(few.assumptions["runs"]) == {20}
    values = np.asarray(few.store.arrays["targets"])[0, :20]
    assert few.assumptions["p_point"].iloc[0] == np.mean(values >= 89.5)


def test_an_end_runs_on_the_batchs_seeds() -> None:
    """An end's replication i equals replication i of a plain run of the changed scenario with the
    batch's seed: the same streams, hence common random numbers with the point."""
    s, k = january(), 25
    prepared = prepare_model(s, SEED)
    point = sim.run(s, runs=k, seed=SEED)
    check = check_assumptions(prepared, resolve_targets(prepared), np.asarray(point.store.arrays["targets"]),
                              SEED, k)
    for e, (path, value) in enumerate([("inflow_per_week.a_dagpenge.rate", 15.0),
                                       ("inflow_per_week.a_dagpenge.rate", 25.0),
                                       ("inflow_per_week.sygedagpenge", 5.0)]):
        changed = sim.Scenario.model_validate(with_values(scenario_data(s), {path: value}))
        alone = sim.run(changed, runs=k, seed=SEED)
        np.testing.assert_array_equal(check.values[e], np.asarray(alone.store.arrays["targets"]))


def test_on_common_random_numbers_each_replication_moves_one_way() -> None:
    """An M/M/∞ state from an empty start, the exit rate assumed: each citizen's stay is its own
    exponential ÷ the rate, on its own stream, so a higher rate shortens every stay and each
    replication's full-year persons fall (never rise) from the low end to the high end."""
    s = scenario(months=12, states={"a_dagpenge": {}}, inflow_per_week={"a_dagpenge": 10},
                 transitions={"a_dagpenge": [{"to": "job", "rate_per_week": 0.1}]},
                 targets=[{"name": "højst 60", "states": ["a_dagpenge"], "year": 2018, "at_most": 60}],
                 assumptions=[{"path": "transitions.a_dagpenge.job.rate_per_week", "low": 0.08,
                               "high": 0.12, "reason": "afgangen er ikke målt"}])
    k = 40
    prepared = prepare_model(s, SEED)
    point = np.asarray(sim.run(s, runs=k, seed=SEED).store.arrays["targets"])[0]
    check = check_assumptions(prepared, resolve_targets(prepared), point[None, :], SEED, k)
    low, high = check.values[0, 0], check.values[1, 0]
    assert np.all(low >= point) and np.all(point >= high)
    assert np.all(low > high)
    row = check.frame.iloc[0]
    assert row["p_low"] <= row["p_point"] <= row["p_high"]
    # on independent seeds the same ends cross replication by replication: the test has teeth
    faster = sim.Scenario.model_validate(with_values(scenario_data(s), {
        "transitions.a_dagpenge.job.rate_per_week": 0.12}))
    other = np.asarray(sim.run(faster, runs=k, seed=SEED + 1).store.arrays["targets"])[0]
    assert np.any(other > point)


def test_one_or_two_workers_give_the_same_check() -> None:
    one = sim.run(january(), runs=24, seed=7, workers=1, assumption_runs=24)
    two = sim.run(january(), runs=24, seed=7, workers=2, assumption_runs=24)
    assert one.assumptions is not None and two.assumptions is not None
    assert one.assumptions.equals(two.assumptions)
    assert one.targets.equals(two.targets)


def test_the_batch_preparation_is_kept_at_each_end() -> None:
    """An end keeps the batch's pilot (the initial stock's support history): the stock at the
    start is the past, which an assumed inflow does not rewrite."""
    s = scenario(months=12, states={"kontanthjaelp": {}}, initial={"kontanthjaelp": 200},
                 inflow_per_week={"kontanthjaelp": 4},
                 transitions={"kontanthjaelp": [{"to": "job", "rate_per_week": 0.02}]},
                 economics={"states": {"kontanthjaelp": {"dkk_per_full_year_person": 150_000}}},
                 assumptions=[{"path": "inflow_per_week.kontanthjaelp", "low": 2, "high": 8, "reason": "?"}])
    prepared = prepare_model(s, SEED)
    history = prepared.feature("support").entry_history
    assert history is not None
    models = PointModels(Study(prepared, SEED, draw=True))
    for end in ends(s):
        model = models.built(end_values(end))[0]
        assert model.feature("support").entry_history is history
        assert model.inflow_per_day[0, 0] != prepared.inflow_per_day[0, 0]


@pytest.mark.parametrize(("ps", "expected"), [
    ((0.49, 0.50, 0.60), True),         # some below 0.5, some at it: the verdict turns
    ((0.50, 0.50, 0.90), False),        # all at or above 0.5
    ((0.10, 0.30, 0.49), False),        # all below
    ((0.05, math.nan, 0.95), True),     # a span from below 0.1 to above 0.9
    ((math.nan, math.nan, 0.3), False),  # one probability known: nothing to compare
])
def test_sets_it(ps: tuple[float, float, float], expected: bool) -> None:
    assert sets_it(ps) is expected


def test_what_the_check_costs_and_when_it_is_skipped() -> None:
    s = january()
    assert check_runs(s, 200, 50) == 50 and check_runs(s, 30, 50) == 30 and check_runs(s, 200, 0) == 0
    assert check_cost(s, 30, 50) == 2 * 2 * 30
    assert check_cost(s, 200, 50) == 2 * 2 * 50
    plain = january(assumptions=False)
    assert check_cost(plain, 200, 50) == 0
    result = sim.run(plain, runs=5, seed=1, assumption_runs=50)
    assert result.assumptions is None and set(result.targets["set_by_assumption"]) == {""}
    skipped = sim.run(s, runs=5, seed=1)  # from Python the check is asked for
    assert skipped.assumptions is None and set(skipped.targets["set_by_assumption"]) == {""}


def test_an_assumed_base_moves_the_threshold_at_each_end() -> None:
    """A change target on an assumed base: at each end the threshold is that end's base × 1.1,
    so P = P(N ≥ 1.1 · base) with N Poisson(λ · 31/7), and the base is what sets the target."""
    base = {"low": 70.5, "point": 80.5, "high": 90.5}
    s = scenario(
        months=2, states={"a_dagpenge": {}},
        inflow_per_week={"a_dagpenge": {"rate": LAMBDA_A, "seasonality": JANUARY_ONLY}},
        observed=[{"period": "2017-12", "state": "a_dagpenge", "value": base["point"], "source": "antaget"}],
        targets=[{"name": "10 % flere end i december", "states": ["a_dagpenge"], "month": "2018-02",
                  "change_at_least": 0.1, "base_month": "2017-12", "base": "assumed"}],
        assumptions=[{"path": "observed.0.value", "low": base["low"], "high": base["high"],
                      "reason": "december 2017 er ikke opgjort"}])
    result = sim.run(s, runs=RUNS, seed=SEED, assumption_runs=RUNS)
    assert result.assumptions is not None
    row = result.assumptions.iloc[0]
    for end, b in base.items():
        truth = float(poisson.sf(math.floor(1.1 * b), LAMBDA_A * 31 / 7))
        assert abs(row[f"p_{end}"] - truth) < tolerance(truth, RUNS), (end, truth)
    assert row["p_low"] > 0.8 and row["p_high"] < 0.2
    assert result.targets["base"].iloc[0] == "assumed"
    assert result.targets["set_by_assumption"].iloc[0] == "observed.0.value"
    # an observed figure moves thresholds only: its ends take the batch's values and cost nothing,
    # exactly what simulating them would give
    assert check_cost(s, RUNS, RUNS) == 0
    models = PointModels(Study(prepare_model(s, SEED), SEED, draw=True))
    stored = np.asarray(result.store.arrays["targets"])
    for i in range(5):
        np.testing.assert_array_equal(models.outcome(end_values(ends(s)[1]), i)[VALUE], stored[:, i])
