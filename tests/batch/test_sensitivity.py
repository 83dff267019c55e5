"""Sensitivity studies against truths from outside the code: Sobol' indices of λ/μ by quadrature,
and a value that moves nothing getting indices of exactly 0 on common random numbers.

The caseload is one state with Poisson inflow λ and exponential stays of rate μ (an M/M/∞
queue) started six months before the target year, so the year's mean caseload has mean λ/μ (the
start is forgotten to within e^(−0.4 × 26) ≈ 3·10⁻⁵). With λ ~ U[a, b] and μ ~ U[c, d] independent,
f = λ/μ has Var f = E[λ²]E[μ⁻²] − E[λ]²E[μ⁻¹]², V_λ = Var(λ)·E[μ⁻¹]², V_μ = E[λ]²·Var(μ⁻¹), so
S1_λ = V_λ / Var f, S1_μ = V_μ / Var f, ST_λ = 1 − S1_μ and ST_μ = 1 − S1_λ; the moments of μ⁻¹ are
computed here by quadrature. A second state that no one ever enters has an exit rate that moves
nothing: with the same seeds at every point, the points that differ in it alone give identical
outcomes, so its indices are 0 exactly, not noise. Tolerances: Z = 4 standard errors, each
SALib's 95 % bootstrap half-width ÷ 1.96 (the process noise of two replications a point adds
about 6 % to the output's variance, well inside).
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest
from helpers import Z, scenario
from scipy.integrate import quad

import sim
from sim.batch.points import StudyError
from sim.batch.sensitivity import (
    COLUMNS,
    FACTOR_COLUMNS,
    SensitivityResult,
    factors,
    plan_sensitivity,
    sensitivity,
)
from sim.reports.studies import sensitivity_lines, write_sensitivity_report

LAMBDA = (4.0, 8.0)
"""Inflow a week."""
MU = (0.4, 0.6)
"""Exit rate a week."""
INFLOW = "inflow_per_week.sygedagpenge.rate"
EXIT = "transitions.sygedagpenge.job.rate_per_week"
EMPTY = "transitions.kontanthjaelp.job.rate_per_week"
RANGES = {INFLOW: LAMBDA, EXIT: MU, EMPTY: (0.01, 0.1)}
TARGET = "Sygedagpenge højst 12"
SEED = 5


def caseload(**more: object) -> sim.Scenario:
    """The M/M/∞ caseload with an empty second state."""
    return scenario(start="2018-07-01", months=18, states={"sygedagpenge": {}, "kontanthjaelp": {}},
                    initial={"sygedagpenge": 12}, inflow_per_week={"sygedagpenge": 6.0},
                    transitions={"sygedagpenge": [{"to": "job", "rate_per_week": 0.5}],
                                 "kontanthjaelp": [{"to": "job", "rate_per_week": 0.05}]},
                    targets=[{"name": TARGET, "states": ["sygedagpenge"], "year": 2019, "at_most": 12}],
                    **more)


def sobol_truth() -> dict[str, tuple[float, float]]:
    """(S1, ST) of λ and μ for f = λ/μ, the moments of 1/μ by quadrature."""
    (a, b), (c, d) = LAMBDA, MU
    e_lam, var_lam = (a + b) / 2, (b - a) ** 2 / 12
    e_inv = quad(lambda m: 1 / m, c, d)[0] / (d - c)
    e_inv2 = quad(lambda m: 1 / m**2, c, d)[0] / (d - c)
    total = (var_lam + e_lam**2) * e_inv2 - e_lam**2 * e_inv**2
    s_lam, s_mu = var_lam * e_inv**2 / total, e_lam**2 * (e_inv2 - e_inv**2) / total
    return {INFLOW: (s_lam, 1 - s_mu), EXIT: (s_mu, 1 - s_lam)}


@pytest.fixture(scope="module")
def sobol_study() -> SensitivityResult:
    return sensitivity(caseload(), "sobol", RANGES, runs=2, samples=256, seed=SEED)


def _rows(result: SensitivityResult, output: str) -> pd.DataFrame:
    frame = result.indices
    return frame[frame["output"] == output].set_index("parameter")


def test_sobol_indices_of_the_mean_match_quadrature(sobol_study: SensitivityResult) -> None:
    truth = sobol_truth()
    assert 0.70 < truth[INFLOW][0] < 0.74 and 0.26 < truth[EXIT][0] < 0.28  # the quadrature itself
    rows = _rows(sobol_study, "mean")
    for path, (s1, st) in truth.items():
        r = rows.loc[path]
        assert abs(r["S1"] - s1) <= Z * r["S1_conf"] / 1.96, (path, r["S1"], s1, r["S1_conf"])
        assert abs(r["ST"] - st) <= Z * r["ST_conf"] / 1.96, (path, r["ST"], st, r["ST_conf"])
        assert 0 < r["S1_conf"] < 0.2 and 0 < r["ST_conf"] < 0.2


def test_a_value_that_moves_nothing_has_indices_of_exactly_zero(sobol_study: SensitivityResult) -> None:
    for output in ("probability", "mean"):
        r = _rows(sobol_study, output).loc[EMPTY]
        assert (r["S1"], r["S1_conf"], r["ST"], r["ST_conf"]) == (0.0, 0.0, 0.0, 0.0), output
    # the probability moves too, mostly with the inflow (its threshold sits at the mean caseload)
    prob = _rows(sobol_study, "probability")
    assert prob.loc[INFLOW, "ST"] > prob.loc[EXIT, "ST"] > 0


def test_the_tables_have_their_columns(sobol_study: SensitivityResult) -> None:
    assert list(sobol_study.indices.columns) == list(COLUMNS)
    assert len(sobol_study.indices) == 1 * 2 * 3
    assert sobol_study.indices[["mu_star", "mu_star_conf", "sigma"]].isna().all().all()
    assert list(sobol_study.factors.columns) == list(FACTOR_COLUMNS)
    assert list(sobol_study.factors["point"]) == [6.0, 0.5, 0.05]
    points = sobol_study.points
    assert len(points) == 256 * (3 + 2) and set(points["defined"]) == {2}
    assert points[INFLOW].between(*LAMBDA).all() and points[EXIT].between(*MU).all()
    assert points["probability"].isin([0.0, 0.5, 1.0]).all()


def test_morris_screening_zero_for_no_effect_and_effects_within_the_grid() -> None:
    """Morris's elementary effect of λ on λ/μ (per unit of the normalised range, as SALib reports
    it) is (b − a)/μ at the trajectory's μ level, so μ* lies between (b − a)/d and (b − a)/c."""
    result = sensitivity(caseload(), "morris", RANGES, runs=4, samples=10, seed=SEED)
    rows = _rows(result, "mean")
    assert (rows.loc[EMPTY, "mu_star"], rows.loc[EMPTY, "sigma"]) == (0.0, 0.0)
    (a, b), (c, d) = LAMBDA, MU
    r = rows.loc[INFLOW]
    slack = Z * r["mu_star_conf"] / 1.96
    assert (b - a) / d - slack <= r["mu_star"] <= (b - a) / c + slack
    assert result.indices[["S1", "ST"]].isna().all().all()
    assert len(result.points) == 10 * (3 + 1)


def test_one_and_two_workers_give_the_same_indices() -> None:
    one, two = (sensitivity(caseload(), "sobol", RANGES, runs=2, samples=8, seed=2, workers=w)
                for w in (1, 2))
    pd.testing.assert_frame_equal(one.indices, two.indices)
    pd.testing.assert_frame_equal(one.points, two.points)


def test_factors_come_from_the_assumptions_and_the_uncertain_values() -> None:
    s = caseload(assumptions=[{"path": EXIT, "low": 0.45, "high": 0.55, "reason": "ikke i planen"}],
                 uncertainty={"parameters": [{"path": INFLOW, "sd": 4.0}, {"path": EXIT, "sd": 0.1}],
                              "split_runs": 0})
    found = factors(s)
    assert [(f.path, f.low, f.high, f.source) for f in found] == [
        (EXIT, 0.45, 0.55, "assumption"),  # an assumed value keeps its range
        (INFLOW, 0.0, 14.0, "uncertainty"),  # 6 ± 2 × 4, cut at 0
    ]
    given = factors(s, {EMPTY: (0.01, 0.02)})
    assert [(f.path, f.source) for f in given] == [(EMPTY, "given")]
    assert not any(f.whole for f in found)


def test_refusals() -> None:
    with pytest.raises(StudyError, match="names no assumed value"):
        plan_sensitivity(caseload())
    with pytest.raises(StudyError, match="range 3–3 is empty"):
        plan_sensitivity(caseload(), parameters={INFLOW: (3.0, 3.0)})
    with pytest.raises(StudyError, match="no key"):
        plan_sensitivity(caseload(), parameters={"inflow_per_week.nowhere.rate": (1.0, 2.0)})
    with pytest.raises(StudyError, match="makes the scenario invalid"):
        plan_sensitivity(caseload(), parameters={INFLOW: (-2.0, 3.0)})
    with pytest.raises(StudyError, match="not one of sobol, morris"):
        plan_sensitivity(caseload(), "fast", RANGES)


def test_a_study_states_its_cost_before_it_runs() -> None:
    plan = plan_sensitivity(caseload(), "sobol", RANGES, runs=3, samples=4, seed=1)
    assert len(plan.points) == 4 * 5 and plan.replications == 60
    assert 0 < plan.seconds_per_run() < 1
    assert math.isfinite(plan.seconds_per_run(pilot=1))


def test_the_report_shows_the_tornado_and_each_index(sobol_study: SensitivityResult, tmp_path: Path) -> None:
    facts = {"name": "M/M/∞", "method": "sobol", "points": 256 * 5, "runs": 2, "seed": SEED}
    written = write_sensitivity_report(tmp_path, sobol_study.indices, sobol_study.factors, facts, "en")
    assert all(p.is_file() for p in written) and (tmp_path / "charts" / "tornado.png").stat().st_size > 1000
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert all(path in page for path in RANGES) and 'src="data:image/png;base64,' in page
    lines = sensitivity_lines(sobol_study.indices, "en")
    assert lines[0].startswith(f"The probability of meeting “{TARGET}” moves most with {INFLOW}")
    assert lines[1].startswith(f"The mean of “{TARGET}” moves most with {INFLOW}: ST ")
