"""Goal-seek against a closed form: the inflow at which an M/M/∞ caseload meets its target with
probability 0.8, on common random numbers, and the same for any worker count.

The closed form. One state with Poisson inflow λ a day and exponential stays of rate μ a day is an
M/M/∞ queue. Started six months before the target year (26 weeks, 13 mean stays: the start is
forgotten to within e^(−13) ≈ 2·10⁻⁶), the year is stationary: the caseload's mean over the year's
T = 365 days has mean λ/μ and, from the autocovariance (λ/μ)·e^(−μτ),

    Var = (2λ/μ) / T² · (T/μ − (1 − e^(−μT)) / μ²).

With a normal approximation, P(mean ≤ c) = Φ((c − λ/μ) / √Var), and the λ at which it is 0.8 is
found by brentq (the skewness's Cornish–Fisher term at z = 0.84 moves it by about 0.003 a week,
well inside the search's resolution). Neither the engine nor the search is used to compute it.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helpers import scenario
from scipy.optimize import brentq
from scipy.stats import norm

import sim
from sim.batch.goalseek import (
    COLUMNS,
    STEP_COLUMNS,
    GoalSeekResult,
    critical_z,
    goal_seek,
    lever_for,
    plan_goal_seek,
    run_levels,
)
from sim.batch.points import StudyError, whole_only
from sim.reports.studies import goal_seek_sentence, write_goal_seek_report

MU_WEEK = 0.5
"""Exit rate a week: a mean stay of two weeks."""
THRESHOLD = 10.0
"""At most 10 full-year persons in 2019."""
LEVER = "inflow_per_week.sygedagpenge.rate"
TARGET = "Sygedagpenge højst 10"
WANTED = 0.8
BOUNDS = (2.0, 10.0)
SEED = 1
ROOT = Path(__file__).resolve().parents[2]


def mm_infinity(inflow: float = 5.0) -> sim.Scenario:
    """An M/M/∞ caseload, six months of warm-up before the target year."""
    return scenario(start="2018-07-01", months=18, states={"sygedagpenge": {}},
                    initial={"sygedagpenge": 10}, inflow_per_week={"sygedagpenge": inflow},
                    transitions={"sygedagpenge": [{"to": "job", "rate_per_week": MU_WEEK}]},
                    targets=[{"name": TARGET, "states": ["sygedagpenge"], "year": 2019,
                              "at_most": THRESHOLD}])


def p_closed(inflow_week: float, days: float = 365.0) -> float:
    """P(the year's mean caseload ≤ THRESHOLD) under the normal approximation."""
    lam, mu = inflow_week / 7.0, MU_WEEK / 7.0
    var = (2.0 * lam / mu) / days**2 * (days / mu - (1.0 - math.exp(-mu * days)) / mu**2)
    return float(norm.cdf((THRESHOLD - lam / mu) / math.sqrt(var)))


def inflow_closed() -> float:
    """The inflow a week at which the closed form gives WANTED."""
    return float(brentq(lambda x: p_closed(x) - WANTED, 1.0, 10.0, xtol=1e-10))


@pytest.fixture(scope="module")
def sought() -> GoalSeekResult:
    return goal_seek(mm_infinity(), TARGET, LEVER, WANTED, bounds=BOUNDS, seed=SEED)


def test_the_interval_holds_the_closed_form_inflow(sought: GoalSeekResult) -> None:
    truth = inflow_closed()
    assert 4.6 < truth < 4.7  # the closed form itself: about 4.65 a week
    row = sought.summary.iloc[0]
    assert list(sought.summary.columns) == list(COLUMNS)
    assert row["status"] == "found" and row["direction"] == "decrease"
    assert row["low"] <= truth <= row["high"], (row["low"], truth, row["high"])
    assert row["value"] == row["low"]  # the largest inflow confirmed to reach the goal
    assert row["high"] - row["low"] <= 0.3
    # the probability reached there is confirmed above the goal, on the runs made there
    z = norm.ppf(1 - 0.025 / 5)  # Bonferroni over the five looks at 50, 100, 200, 400 and 800 runs
    assert row["probability"] - WANTED > z * math.sqrt(WANTED * (1 - WANTED) / row["runs"])
    assert row["change"] == pytest.approx(row["value"] - 5.0)


def test_each_verdict_agrees_with_the_closed_form(sought: GoalSeekResult) -> None:
    """A value judged above the goal has a closed-form probability above it, and below below,
    within 4 binomial standard errors of the runs behind the verdict."""
    steps = sought.steps
    assert list(steps.columns) == list(STEP_COLUMNS)
    assert list(steps["role"][:2]) == ["bound", "bound"]
    for s in steps.itertuples():
        truth = p_closed(float(s.value))
        slack = 4 * math.sqrt(WANTED * (1 - WANTED) / s.runs)
        assert abs(s.probability - truth) < slack + 1e-9, (s.value, s.probability, truth)
        if s.verdict == "above":
            assert truth > WANTED - slack
        elif s.verdict == "below":
            assert truth < WANTED + slack
    assert (np.diff(steps["runs"]) >= 0).all()  # more runs as the bracket narrows, never fewer


def test_the_runs_double_and_the_test_is_shared_among_the_looks() -> None:
    assert run_levels(50, 800) == [50, 100, 200, 400, 800]
    assert run_levels(50, 120) == [50, 100, 120]
    assert critical_z(5) == pytest.approx(norm.ppf(1 - 0.025 / 5))
    assert critical_z(1) == pytest.approx(1.959964, abs=1e-6)


def test_one_and_two_workers_give_the_same_search() -> None:
    one, two = (goal_seek(mm_infinity(), TARGET, LEVER, WANTED, bounds=BOUNDS, runs=20, max_runs=80, seed=3,
                          workers=w) for w in (1, 2))
    pd.testing.assert_frame_equal(one.summary, two.summary)
    pd.testing.assert_frame_equal(one.steps, two.steps)


def test_no_value_within_the_bounds_is_said_plainly() -> None:
    result = goal_seek(mm_infinity(), TARGET, LEVER, WANTED, bounds=(8.0, 10.0), runs=20, seed=SEED)
    row = result.summary.iloc[0]
    assert result.status == "not_reached" and math.isnan(result.value)
    assert row["probability_at"] == 8.0 and row["probability"] == 0.0  # the best bound, judged below
    assert goal_seek_sentence(row, "en").startswith(f"No value of {LEVER} from 8 to 10")
    assert goal_seek_sentence(row, "da").startswith("Ingen værdi af")


def test_a_goal_met_throughout_gives_the_farthest_bound() -> None:
    """Both bounds above the goal: the answer is the bound farthest against the target (the largest
    inflow); when the bounds' probabilities are equal the direction is unknown, and the answer is
    the value nearest the scenario's (5, outside the bounds: 3)."""
    assert p_closed(4.4) > 0.9
    result = goal_seek(mm_infinity(), TARGET, LEVER, WANTED, bounds=(1.0, 4.4), seed=SEED)
    row = result.summary.iloc[0]
    assert result.status == "met_throughout" and row["direction"] == "decrease"
    assert result.value == 4.4 and row["low"] == row["high"] == 4.4
    assert "throughout" in goal_seek_sentence(row, "en")
    flat = goal_seek(mm_infinity(), TARGET, LEVER, WANTED, bounds=(1.0, 3.0), seed=SEED).summary.iloc[0]
    assert (flat["status"], flat["direction"], flat["value"]) == ("met_throughout", "none", 3.0)


def test_a_whole_number_lever_is_searched_at_whole_numbers() -> None:
    plan = plan_goal_seek(mm_infinity(), TARGET, LEVER, WANTED, bounds=(2.3, 9.7), integer=True, seed=SEED)
    assert (plan.lever.low, plan.lever.high, plan.tolerance) == (3.0, 9.0, 1.0)
    result = goal_seek(mm_infinity(), TARGET, LEVER, WANTED, bounds=(2.3, 9.7), integer=True, runs=50,
                       max_runs=200, seed=SEED)
    assert all(float(v).is_integer() for v in result.steps["value"])
    row = result.summary.iloc[0]
    assert row["status"] == "found" and row["high"] - row["low"] <= 1
    assert row["low"] <= inflow_closed() <= row["high"]
    taarnby = sim.load_scenario(ROOT / "scenarios" / "taarnby-2018.yaml")
    assert whole_only(taarnby, "interventions.Brobygning til uddannelse.places")  # programme places: int
    assert not whole_only(taarnby, "inflow_per_week.sygedagpenge.rate")


def test_default_bounds_and_refusals() -> None:
    plain = mm_infinity()
    assert lever_for(plain, LEVER) == lever_for(plain, LEVER, (2.5, 10.0))  # half to twice its value
    assumed = scenario(**{**_blocks(), "assumptions": [{"path": LEVER, "low": 4, "high": 6, "reason": "x"}]})
    assert (lever_for(assumed, LEVER).low, lever_for(assumed, LEVER).high) == (4.0, 6.0)
    drawn = scenario(**{**_blocks(), "uncertainty": {"parameters": [{"path": LEVER, "sd": 2.0}]}})
    assert (lever_for(drawn, LEVER).low, lever_for(drawn, LEVER).high) == (1.0, 9.0)
    with pytest.raises(StudyError, match="no target named 'nope'"):
        plan_goal_seek(plain, "nope", LEVER)
    with pytest.raises(StudyError, match="strictly between 0 and 1"):
        plan_goal_seek(plain, TARGET, LEVER, probability=1.0)
    with pytest.raises(StudyError, match="hold no range"):
        plan_goal_seek(plain, TARGET, LEVER, bounds=(6.0, 6.0))
    with pytest.raises(StudyError, match="makes the scenario invalid"):
        plan_goal_seek(plain, TARGET, LEVER, bounds=(-1.0, 6.0))
    with pytest.raises(StudyError, match="no key"):
        plan_goal_seek(plain, TARGET, "inflow_per_week.nowhere.rate")
    fitted = scenario(**{**_blocks(), "inflow_per_week": {"sygedagpenge": {"rate": 5.0}},
                         "parameters": {"values": {LEVER: 5.0}, "standard_errors": {LEVER: 0.5}},
                         "uncertainty": {"fitted": True, "split_runs": 0}})
    with pytest.raises(StudyError, match="drawn from the fit in every replication"):
        plan_goal_seek(fitted, TARGET, LEVER)


def _blocks() -> dict[str, object]:
    return {"start": "2018-07-01", "months": 18, "states": {"sygedagpenge": {}},
            "initial": {"sygedagpenge": 10}, "inflow_per_week": {"sygedagpenge": 5.0},
            "transitions": {"sygedagpenge": [{"to": "job", "rate_per_week": MU_WEEK}]},
            "targets": [{"name": TARGET, "states": ["sygedagpenge"], "year": 2019, "at_most": THRESHOLD}]}


def test_the_report_shows_the_answer(sought: GoalSeekResult, tmp_path: Path) -> None:
    folder = tmp_path
    written = write_goal_seek_report(folder, sought.summary, sought.steps, {"name": "M/M/∞", "seed": SEED},
                                     "en")
    page = (folder / "report.html").read_text(encoding="utf-8")
    assert all(p.is_file() for p in written) and (folder / "charts" / "goal-seek.png").stat().st_size > 1000
    assert goal_seek_sentence(sought.summary.iloc[0], "en").split(" (")[0] in page
    assert page.count("<tr>") == len(sought.steps) + 1


@pytest.mark.slow
def test_the_interval_covers_the_closed_form_across_seeds() -> None:
    """On 20 seeds and shifted bounds (so the bisection's grid differs), the interval holds the
    closed form at least 17 times (at 95 % coverage, fewer has probability 0.016)."""
    truth = inflow_closed()
    held = 0
    for k in range(20):
        shift = 0.37 * k % 1.0
        result = goal_seek(mm_infinity(), TARGET, LEVER, WANTED, bounds=(2.0 + shift, 10.0 + shift),
                           seed=100 + k)
        row = result.summary.iloc[0]
        held += int(row["status"] == "found" and row["low"] <= truth <= row["high"])
    assert held >= 17
