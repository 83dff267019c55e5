"""An honest fit: the error model carries process noise, unidentified parameters are named, a fit
file's inflows are anchored to a date, several fit files load together.

Truth comes from outside the fitter: linear models whose estimator's sampling covariance is a
closed form, data the engine itself made from known parameters (the fitted standard errors must
cover the truth about as often as they promise), and the twin's own inflow arithmetic.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

import sim
from sim.batch.uncertain import ParameterDraws, capped_shares
from sim.cli.app import app
from sim.contract.calibrate_spec import Calibrate
from sim.contract.parameters import scenario_data, with_values
from sim.fitting.calibrate import calibrate, predict
from sim.fitting.cohort import expect
from sim.fitting.error_model import fit_errors, unidentified
from sim.fitting.observations import observations, period_value
from sim.kernel.engine import simulate
from sim.kernel.model import compile_model
from sim.kernel.streams import replication_seeds

# ---------------------------------------------------------------------------------------------
# The error model on linear problems, where the answer is a closed form


def _ar1(n: int, rho: float) -> np.ndarray:
    """The covariance of a stationary AR(1) series with unit variance."""
    lags = np.abs(np.subtract.outer(np.arange(n), np.arange(n)))
    return np.asarray(rho**lags, dtype=float)


def test_without_correlation_the_covariance_is_the_textbook_one() -> None:
    """Independent figures, no pilot: Cov = (JᵀJ + P)⁻¹ and E[χ²] = n − tr(H)."""
    rng = np.random.default_rng(3)
    j = rng.normal(size=(30, 3))
    prior = np.zeros((1, 3))
    prior[0, 2] = 1 / 0.5  # a prior of sd 0.5 on the third parameter
    z = rng.normal(size=30)
    errors = fit_errors(j, prior, z, np.ones(30), None, np.ones(3, dtype=bool))
    a = j.T @ j + prior.T @ prior
    want = np.linalg.inv(a)
    scale = errors.scale
    np.testing.assert_allclose(errors.covariance / scale, want, rtol=1e-9)
    hat = j @ want @ j.T
    assert errors.expected_chi2 == pytest.approx(30 - np.trace(hat), rel=1e-9)
    assert errors.dispersion == pytest.approx(float(z @ z) / errors.expected_chi2)
    assert scale == max(errors.dispersion or 0.0, 1.0)


def test_sandwich_carries_correlated_noise_that_independent_weights_miss() -> None:
    """A level and a slope fitted to 120 months of AR(1) noise (ρ = 0.9): the sandwich from 400
    pilot series matches the estimator's exact covariance (XᵀX)⁻¹ XᵀΣX (XᵀX)⁻¹ within Monte Carlo
    error, several times the naive (XᵀX)⁻¹; and E[χ²] is the exact tr(M Σ Mᵀ)."""
    n, rho, runs = 120, 0.9, 400
    x = np.column_stack([np.ones(n), np.linspace(-1, 1, n)])
    sigma = _ar1(n, rho)
    exact = np.linalg.inv(x.T @ x) @ x.T @ sigma @ x @ np.linalg.inv(x.T @ x)
    rng = np.random.default_rng(11)
    pilot = rng.multivariate_normal(np.zeros(n), sigma, size=runs)
    pilot -= pilot.mean(axis=0)
    errors = fit_errors(x, np.zeros((0, 2)), np.zeros(n), np.zeros(n), pilot, np.ones(2, dtype=bool))
    # a variance estimated from 400 draws is within about ±7 % (one sd)
    np.testing.assert_allclose(np.diag(errors.covariance), np.diag(exact), rtol=0.25)
    naive = np.diag(np.linalg.inv(x.T @ x))
    assert (np.diag(errors.covariance) > 5 * naive).all()
    m = np.eye(n) - x @ np.linalg.inv(x.T @ x) @ x.T
    assert errors.expected_chi2 == pytest.approx(float(np.trace(m @ sigma @ m.T)), rel=0.15)
    # 120 figures this correlated are worth far fewer independent ones
    assert errors.effective_figures < 20


def test_a_zero_column_and_a_collinear_pair_are_unidentified() -> None:
    j = np.array([[1.0, 2.0, 2.0, 0.0], [0.5, 1.0, 1.0, 0.0], [3.0, 0.1, 0.1, 0.0]])
    found = unidentified(j, np.ones(4), ["a", "b", "c", "d"])
    assert set(found) == {"b", "c", "d"}
    assert "no observed figure" in found["d"] and "collinear" in found["b"] and "c" in found["b"]
    # a prior row breaks the tie: then only the unobserved one is left
    found = unidentified(np.vstack([j, [0.0, 1.0, 0.0, 0.0]]), np.ones(4), ["a", "b", "c", "d"])
    assert set(found) == {"d"}


# ---------------------------------------------------------------------------------------------
# The error model on data the engine made

STATES = ("a_dagpenge", "sygedagpenge")
RATES = {"a_dagpenge": 25.0, "sygedagpenge": 20.0}
TRENDS = {"a_dagpenge": 0.05, "sygedagpenge": -0.04}
EXITS = {"a_dagpenge": 0.05, "sygedagpenge": 0.09}


def _trending(start: str = "2016-01-01", months: int = 36, **inflow: Any) -> sim.Scenario:
    return sim.scenario_from_dict({
        "name": "trending", "start": start, "months": months, "states": {s: {} for s in STATES},
        "initial": {s: round(RATES[s] / EXITS[s]) for s in STATES},
        "inflow_per_week": {s: {"rate": RATES[s], "trend_per_year": TRENDS[s], **inflow} for s in STATES},
        "transitions": {s: [{"to": "job", "rate_per_week": [[0, EXITS[s]], [26, 0.6 * EXITS[s]]]}]
                        for s in STATES}})


TRUTH = {**{f"inflow_per_week.{s}.rate": RATES[s] for s in STATES},
         **{f"inflow_per_week.{s}.trend_per_year": TRENDS[s] for s in STATES}}


def _spec(process_runs: int, trends: bool = True) -> Calibrate:
    free = [{"path": f"inflow_per_week.{s}.rate", "bounds": [5, 80]} for s in STATES]
    if trends:
        free += [{"path": f"inflow_per_week.{s}.trend_per_year", "bounds": [-0.5, 0.5]} for s in STATES]
    return Calibrate.model_validate({"parameters": free, "process_runs": process_runs})


def _months(model: Any, states: tuple[str, ...] = STATES, source: str = "") -> pd.DataFrame:
    """An observed frame with a zero for each month of the horizon and each state."""
    return pd.DataFrame([(m, s, "full_year_persons", 0.0, source) for m in model.calendar.labels
                         for s in states], columns=["period", "state", "measure", "value", "source"])


def _engine_data(scenario: sim.Scenario, seed: np.random.SeedSequence, noise: float = 0.02,
                 noise_seed: int = 0) -> pd.DataFrame:
    """Monthly full-time persons of each state from one engine replication, measured with a
    relative error `noise` (the 2 % the fit assumes)."""
    model = compile_model(scenario)
    frame = _months(model)
    obs, _ = observations(model, frame)
    record = simulate(model, seed)
    made = np.array([period_value(model, record.person_days, record.flows, o) for o in obs])
    frame["value"] = made * (1 + noise * np.random.default_rng(noise_seed).standard_normal(len(made)))
    return frame


@pytest.mark.slow
def test_standard_errors_cover_the_truth_on_data_the_engine_made() -> None:
    """Ten data sets, each one engine replication of a scenario with known inflows and trends
    (72 autocorrelated monthly figures) measured with 2 % error, fitted for 4 parameters.

    With measurement error alone the fit treats the figures as independent: χ²/n is far above 1
    and the estimates miss the truth by several of their standard errors. With the pilot's
    process noise the dispersion φ = χ²/E₀ is about 1 and (θ̂ − θ) / SE is about standard normal:
    its RMS within 1 ± 0.4 (40 z's, two per state and data set and correlated, so worth about
    25: their RMS has an sd of about 0.14; the SEs themselves come from 40-replication pilots)
    and 95 % intervals cover at least 85 %. Measured with these seeds: RMS z 5.0 with measurement
    error alone → 0.74, 95 % coverage 25 % → 100 %, χ²/n 5.1 against 2 % alone, φ 1.19. (On 20
    data sets of 6 states × 48 months: RMS 8.7 → 1.02, coverage 19 % → 93 %; calibration/README.md.)
    """
    scenario = _trending()
    naive_z, honest_z, phi, chi2_n, chi2_measurement_n = [], [], [], [], []
    for k, seed in enumerate(replication_seeds(2024, 10)):
        data = _engine_data(scenario, seed, noise_seed=k)
        fit = calibrate(scenario, _spec(40), data)
        naive = calibrate(scenario, _spec(0), data)
        unscaled = np.sqrt(np.diag(naive.covariance) / naive.errors.scale)
        for i, name in enumerate(fit.values):
            honest_z.append((fit.values[name] - TRUTH[name]) / fit.standard_errors[name])
            naive_z.append((naive.values[name] - TRUTH[name]) / unscaled[i])
        phi.append(fit.errors.dispersion)
        chi2_n.append(fit.chi2 / fit.n_observations)
        chi2_measurement_n.append(fit.chi2_measurement / fit.n_observations)
    rms = math.sqrt(np.mean(np.square(honest_z)))
    coverage = np.mean(np.abs(honest_z) < 1.96)
    assert 0.6 < rms < 1.4, rms
    assert coverage >= 0.85, coverage
    assert math.sqrt(np.mean(np.square(naive_z))) > 2.0  # the old error model, for contrast
    assert np.mean(chi2_measurement_n) > 3.0
    assert 0.6 < np.mean(phi) < 1.5, phi


def test_process_noise_enters_each_figure_and_the_fit_file(tmp_path: Path) -> None:
    """The pilot's per-figure sd is in the residual table; the fit file says what the error model
    is, with χ²/n, the expected χ² and the dispersion."""
    scenario = _trending(months=12)
    data = _engine_data(scenario, replication_seeds(5, 1)[0])
    fit = calibrate(scenario, _spec(12, trends=False), data)
    table = fit.residuals
    assert (table["sd_process"] > 0).all()
    np.testing.assert_allclose(table["sd"] ** 2, table["sd_measurement"] ** 2 + table["sd_process"] ** 2)
    quality = fit.about()["quality"]
    assert quality["process_runs"] == 12 and "process noise from 12" in quality["error_model"]
    assert quality["chi2_per_figure"] == pytest.approx(fit.chi2 / 24, abs=1e-4)
    assert quality["dispersion"] == pytest.approx(fit.chi2 / fit.errors.expected_chi2, rel=1e-3)
    assert quality["covariance_scale"] >= 1
    # the pilot is seeded: the same fit twice gives the same numbers
    again = calibrate(scenario, _spec(12, trends=False), data)
    assert again.values == fit.values and again.standard_errors == fit.standard_errors


def test_a_misfit_is_flagged_and_widens_the_standard_errors() -> None:
    """Data with a 20 %-a-year trend fitted by a scenario without one: the twin misses by far more
    than the error model explains, φ ≫ 1, the fit says so, and the covariance carries φ."""
    truth = _trending(months=36)
    model = compile_model(truth)
    frame = _months(model)
    obs, _ = observations(model, frame)
    steep = {f"inflow_per_week.{s}.trend_per_year": 0.2 for s in STATES}
    frame["value"] = predict(scenario_data(truth), steep, obs)
    fit = calibrate(truth, _spec(0, trends=False), frame)
    assert fit.errors.dispersion is not None and fit.errors.dispersion > 5
    assert fit.errors.misfit and fit.about()["quality"]["misfit"] is True
    assert fit.errors.scale == pytest.approx(fit.errors.dispersion)
    name = "inflow_per_week.a_dagpenge.rate"
    assert fit.standard_errors[name] ** 2 == pytest.approx(fit.covariance[0, 0])


def test_one_figure_one_parameter_leaves_no_dispersion_to_estimate() -> None:
    scenario = _trending(months=12)
    data = pd.DataFrame({"period": ["2016"], "state": ["a_dagpenge"], "measure": ["full_year_persons"],
                         "value": [480.0], "source": [""]})
    spec = Calibrate.model_validate({"process_runs": 0, "parameters": [
        {"path": "inflow_per_week.a_dagpenge.rate", "bounds": [5, 80]}]})
    fit = calibrate(scenario, spec, data)
    assert fit.errors.dispersion is None and fit.errors.scale == 1.0
    assert fit.about()["quality"]["dispersion"] is None


def test_process_runs_of_one_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 2"):
        Calibrate.model_validate({"process_runs": 1})


# ---------------------------------------------------------------------------------------------
# Unidentified parameters


def _project(tmp_path: Path, extra: dict[str, Any] | None = None, frame: pd.DataFrame | None = None) -> Path:
    """A scenario file with a calibrate block and its observed CSV, in a project folder."""
    (tmp_path / "calibration").mkdir(exist_ok=True)
    (tmp_path / "scenarios").mkdir(exist_ok=True)
    scenario = _trending(months=24)
    model = compile_model(scenario)
    if frame is None:
        frame = _months(model, ("a_dagpenge",), "test")
        obs, _ = observations(model, frame)
        frame["value"] = predict(scenario_data(scenario), {}, obs).round(3)
    frame.to_csv(tmp_path / "calibration" / "obs.csv", index=False)
    data = scenario_data(scenario)
    data["calibrate"] = {"observed": "calibration/obs.csv", "process_runs": 0, "parameters": [
        {"path": "inflow_per_week.a_dagpenge.rate", "bounds": [5, 80]},
        {"path": "inflow_per_week.sygedagpenge.rate", "bounds": [5, 80]}]}
    data |= extra or {}
    path = tmp_path / "scenarios" / "t.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def test_an_unobserved_parameter_is_reported_unidentified_and_not_drawn(tmp_path: Path) -> None:
    """Only a-dagpenge is observed: sygedagpenge's inflow moves no figure and has no prior."""
    path = _project(tmp_path)
    result = CliRunner().invoke(app, ["calibrate", str(path)])
    assert result.exit_code == 0, result.output
    assert "inflow_per_week.sygedagpenge.rate is unidentified" in result.output
    written = yaml.safe_load((tmp_path / "calibration" / "t-fit.yaml").read_text(encoding="utf-8"))
    assert "inflow_per_week.sygedagpenge.rate" in written["unidentified"]
    assert "inflow_per_week.sygedagpenge.rate" not in written["standard_errors"]
    assert written["standard_errors"]["inflow_per_week.a_dagpenge.rate"] > 0
    assert written["covariance"][1] == [0.0, 0.0]
    text = path.read_text(encoding="utf-8")
    use = text + "parameters: calibration/t-fit.yaml\nuncertainty: {fitted: true, split_runs: 0}\n"
    path.write_text(use, encoding="utf-8")
    with pytest.raises(sim.ScenarioError, match="unidentified"):
        sim.load_scenario(path)
    # drawn with an sd of one's own, or not drawn from the fit: accepted
    own = text + ("parameters: calibration/t-fit.yaml\nuncertainty: {fitted: true, split_runs: 0, "
                  "parameters: [{path: inflow_per_week.sygedagpenge.rate, sd: 2}]}\n")
    path.write_text(own, encoding="utf-8")
    loaded = sim.load_scenario(path)
    assert loaded.parameters is not None and loaded.parameters.unidentified
    path.write_text(text + "parameters: calibration/t-fit.yaml\nuncertainty: {fitted: false}\n",
                    encoding="utf-8")
    sim.load_scenario(path)


def test_two_inflows_seen_only_through_their_total_are_unidentified(tmp_path: Path) -> None:
    scenario = _trending(months=24)
    model = compile_model(scenario)
    frame = _months(model, ("total",))
    obs, _ = observations(model, frame)
    frame["value"] = predict(scenario_data(scenario), {}, obs)
    # equal exit rates and trends make the two inflows' effects on the total the same
    same = sim.scenario_from_dict({**scenario_data(scenario), "transitions": {
        s: [{"to": "job", "rate_per_week": 0.05}] for s in STATES},
        "inflow_per_week": {s: {"rate": 20.0, "trend_per_year": 0.02} for s in STATES}})
    spec = Calibrate.model_validate({"process_runs": 0, "parameters": [
        {"path": f"inflow_per_week.{s}.rate", "bounds": [5, 80]} for s in STATES]})
    fit = calibrate(same, spec, frame)
    assert set(fit.unidentified) == {f"inflow_per_week.{s}.rate" for s in STATES}
    assert "collinear" in fit.unidentified["inflow_per_week.a_dagpenge.rate"]
    assert fit.standard_errors == {}


# ---------------------------------------------------------------------------------------------
# Anchors: a fitted rate and trend mean the same in a scenario that starts on another date


def test_a_fitted_trend_means_the_same_in_a_scenario_starting_a_year_later(tmp_path: Path) -> None:
    truth = {"inflow_per_week.a_dagpenge.rate": 30.0, "inflow_per_week.a_dagpenge.trend_per_year": 0.1}
    scenario = _trending(months=24)
    model = compile_model(scenario)
    frame = _months(model, ("a_dagpenge",), "test")
    obs, _ = observations(model, frame)
    frame["value"] = predict(scenario_data(scenario), truth, obs)
    path = _project(tmp_path, frame=frame)
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["calibrate"]["parameters"] = [{"path": p, "bounds": [-0.5, 80]} for p in truth]
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    result = CliRunner().invoke(app, ["calibrate", str(path)])
    assert result.exit_code == 0, result.output
    written = yaml.safe_load((tmp_path / "calibration" / "t-fit.yaml").read_text(encoding="utf-8"))
    assert written["anchors"] == {"inflow_per_week.a_dagpenge": "2016-01-01"}
    # a scenario from 2017 that uses the fit: the same inflow in each calendar month of 2017
    later = {**data, "start": "2017-01-01", "months": 12, "parameters": "calibration/t-fit.yaml"}
    later.pop("calibrate")
    later_path = tmp_path / "scenarios" / "later.yaml"
    later_path.write_text(yaml.safe_dump(later, sort_keys=False), encoding="utf-8")
    loaded = sim.load_scenario(later_path)
    assert loaded.inflow_per_week["a_dagpenge"].trend_from is not None
    fitted = compile_model(sim.scenario_from_dict(with_values(scenario_data(scenario), written["values"])))
    np.testing.assert_allclose(compile_model(loaded).inflow_per_day[0], fitted.inflow_per_day[0, 12:],
                               rtol=1e-9)
    # without the anchor the later scenario would start the trend again from its own start
    unanchored = compile_model(sim.scenario_from_dict(with_values(
        {**scenario_data(scenario), "start": "2017-01-01", "months": 12}, written["values"])))
    assert unanchored.inflow_per_day[0, 0] < 0.95 * fitted.inflow_per_day[0, 12]
    assert written["values"]["inflow_per_week.a_dagpenge.trend_per_year"] == pytest.approx(0.1, rel=1e-3)


# ---------------------------------------------------------------------------------------------
# Several parameter files


def _fit_file(path: Path, values: dict[str, float], errors: dict[str, float],
              covariance: list[list[float]] | None = None) -> None:
    data: dict[str, Any] = {"values": values, "standard_errors": errors}
    if covariance is not None:
        data["covariance"] = covariance
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")


def _two_files(tmp_path: Path) -> Path:
    (tmp_path / "calibration").mkdir(exist_ok=True)
    _fit_file(tmp_path / "calibration" / "inflows.yaml",
              {"inflow_per_week.a_dagpenge.rate": 30.0, "inflow_per_week.sygedagpenge.rate": 15.0},
              {"inflow_per_week.a_dagpenge.rate": 2.0, "inflow_per_week.sygedagpenge.rate": 1.0},
              [[4.0, 1.6], [1.6, 1.0]])
    _fit_file(tmp_path / "calibration" / "rates.yaml",
              {"transitions.a_dagpenge.job.rate_per_week.0": 0.06},
              {"transitions.a_dagpenge.job.rate_per_week.0": 0.004})
    data = scenario_data(_trending(months=12))
    data["parameters"] = ["calibration/inflows.yaml", "calibration/rates.yaml"]
    data["uncertainty"] = {"fitted": True, "split_runs": 0}
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def test_several_fit_files_merge_and_are_drawn_block_diagonally(tmp_path: Path) -> None:
    loaded = sim.load_scenario(_two_files(tmp_path))
    assert loaded.inflow_per_week["a_dagpenge"].rate == 30.0
    assert loaded.transitions["a_dagpenge"][0].rates[0][1] == 0.06
    fit = loaded.parameters
    assert fit is not None and fit.source == "calibration/inflows.yaml, calibration/rates.yaml"
    np.testing.assert_allclose(fit.covariance, [[4.0, 1.6, 0.0], [1.6, 1.0, 0.0], [0.0, 0.0, 0.004**2]])
    draws = ParameterDraws(compile_model(loaded))
    table = pd.DataFrame([draws.values(s) for s in replication_seeds(8, 4000)])
    cov = np.cov(table.to_numpy().T)
    # sample covariance of 4000 draws: within about 4 standard errors of each entry
    assert cov[0, 0] == pytest.approx(4.0, rel=0.1) and cov[1, 1] == pytest.approx(1.0, rel=0.1)
    assert cov[0, 1] == pytest.approx(1.6, rel=0.15)
    assert math.sqrt(cov[2, 2]) == pytest.approx(0.004, rel=0.1)
    assert abs(cov[0, 2]) / math.sqrt(cov[0, 0] * cov[2, 2]) < 4 / math.sqrt(4000)


def test_a_path_fitted_in_two_files_is_refused(tmp_path: Path) -> None:
    path = _two_files(tmp_path)
    _fit_file(tmp_path / "calibration" / "rates.yaml", {"inflow_per_week.a_dagpenge.rate": 31.0},
              {"inflow_per_week.a_dagpenge.rate": 1.0})
    twice = r"fitted in both 'calibration/inflows\.yaml' and 'calibration/rates\.yaml'"
    with pytest.raises(sim.ScenarioError, match=twice) as info:
        sim.load_scenario(path)
    assert info.value.problems[0].path == "parameters[1]"


def test_calibrate_applies_the_other_fits_and_redoes_its_own(tmp_path: Path) -> None:
    """The scenario lists a rate fit and its own (not yet written) inflow fit: the calibration
    starts from the rate fit's values and leaves out the file it is about to write."""
    path = _project(tmp_path)
    _fit_file(tmp_path / "calibration" / "rates.yaml", {"transitions.a_dagpenge.job.rate_per_week.0": 0.06},
              {"transitions.a_dagpenge.job.rate_per_week.0": 0.004})
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["parameters"] = ["calibration/rates.yaml", "calibration/t-fit.yaml"]
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    first = CliRunner().invoke(app, ["calibrate", str(path)])
    assert first.exit_code == 0, first.output
    again = CliRunner().invoke(app, ["calibrate", str(path), "--force"])  # t-fit.yaml redone, not applied
    assert again.exit_code == 0, again.output
    written = yaml.safe_load((tmp_path / "calibration" / "t-fit.yaml").read_text(encoding="utf-8"))
    # the data were made with a-dagpenge's job rate 0.05; with 0.06 applied, more inflow is fitted
    assert written["values"]["inflow_per_week.a_dagpenge.rate"] > RATES["a_dagpenge"] * 1.1
    loaded = sim.load_scenario(path)
    assert loaded.parameters is not None and len(loaded.parameters.values) == 3


def test_drawn_shares_of_one_clock_are_kept_within_one() -> None:
    plain = {"transitions": {"sygedagpenge": [
        {"to": "job", "rate_per_week": 0.1},
        {"to": "jobafklaring", "at_week": 22, "share": 0.5},
        {"to": "pension", "at_week": 22, "share": 0.2},
        {"to": "stay", "at_week": 22, "share": "rest"}]}}
    fine = capped_shares(plain, {"transitions.sygedagpenge.1.share": 0.6})
    assert fine == {"transitions.sygedagpenge.1.share": 0.6}
    capped = capped_shares(plain, {"transitions.sygedagpenge.1.share": 0.7,
                                   "transitions.sygedagpenge.2.share": 0.5})
    assert sum(capped.values()) == pytest.approx(1.0)
    assert capped["transitions.sygedagpenge.1.share"] / capped["transitions.sygedagpenge.2.share"] == (
        pytest.approx(0.7 / 0.5))
    alone = capped_shares(plain, {"transitions.sygedagpenge.jobafklaring.share": 0.9})
    assert alone["transitions.sygedagpenge.jobafklaring.share"] == pytest.approx(0.8)


# ---------------------------------------------------------------------------------------------
# The observed measures


def test_inflow_count_counts_entries_from_other_states_and_the_outside_count_does_not() -> None:
    """a_dagpenge → kontanthjaelp_jobparat at 0.02 a week: kontanthjælp's inflow_count is its own
    inflow plus those moves; inflow_from_outside_count only its own inflow (and returns from job)."""
    s = sim.scenario_from_dict({
        "name": "chain", "start": "2018-01-01", "months": 12,
        "states": {"a_dagpenge": {}, "kontanthjaelp_jobparat": {}},
        "initial": {"a_dagpenge": 500, "kontanthjaelp_jobparat": 100},
        "inflow_per_week": {"a_dagpenge": 10, "kontanthjaelp_jobparat": 3},
        "transitions": {"a_dagpenge": [{"to": "job", "rate_per_week": 0.03},
                                       {"to": "kontanthjaelp_jobparat", "rate_per_week": 0.02}],
                        "kontanthjaelp_jobparat": [{"to": "job", "rate_per_week": 0.04}],
                        "job": [{"to": "kontanthjaelp_jobparat", "rate_per_week": 0.001}]}})
    model = compile_model(s)
    measures = ("inflow_count", "inflow_from_outside_count")
    frame = pd.DataFrame([("2018", state, m, 0.0, "") for state in ("kontanthjaelp_jobparat", "total")
                          for m in measures], columns=["period", "state", "measure", "value", "source"])
    obs, skipped = observations(model, frame, measures)
    assert skipped.empty
    got = dict(zip([(o.state, o.measure) for o in obs], predict(scenario_data(s), {}, obs), strict=True))
    expected = expect(model)
    k, a, job, outside = (model.codes.index("kontanthjaelp_jobparat"), model.codes.index("a_dagpenge"),
                          model.codes.index("job"), model.n_states)
    transfers = expected.flows[a, k].sum()
    own = expected.flows[outside, k].sum() + expected.flows[job, k].sum()
    assert transfers > 100 and own == pytest.approx(3 * 365 / 7 + expected.flows[job, k].sum())
    assert got[("kontanthjaelp_jobparat", "inflow_count")] == pytest.approx(own + transfers)
    assert got[("kontanthjaelp_jobparat", "inflow_from_outside_count")] == pytest.approx(own)
    # for total, moves between its own states are no inflow: both measures agree
    assert got[("total", "inflow_count")] == pytest.approx(got[("total", "inflow_from_outside_count")])
