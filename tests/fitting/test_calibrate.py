"""`caseflow calibrate SCENARIO`: least squares on the deterministic twin, priors, standard errors.

Expected numbers come from outside the fitter: a closed-form stock for one state with a
constant inflow (so the fitted inflow and its standard error are known in advance), and
figures generated from known parameters (which the fit must give back).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from helpers import refused_with_one_problem, scenario
from typer.testing import CliRunner

import sim
from sim.cli.app import app
from sim.contract.calibrate_spec import Calibrate
from sim.contract.parameters import ValueSetter, scenario_data, with_values
from sim.fitting.calibrate import calibrate, predict
from sim.fitting.observations import model_values, observations, period_value, value_matrix
from sim.kernel.model import compile_model

EXIT_RATE = 0.05
"""Exit rate per week of the one-state scenario."""


def _one_state(inflow: float = 10.0) -> sim.Scenario:
    return scenario(months=24, states={"a_dagpenge": {}}, initial={"a_dagpenge": 0},
                    inflow_per_week={"a_dagpenge": inflow},
                    transitions={"a_dagpenge": [{"to": "job", "rate_per_week": EXIT_RATE}]})


def _closed_form_year(inflow: float, year: int) -> float:
    """Mean stock over year `year` (0 or 1) from empty: λ/r (1 − e^{−rt}), averaged over the year."""
    r, days = EXIT_RATE / 7, (365.0, 365.0)
    lo = sum(days[:year])
    hi = lo + days[year]
    integral = (hi - lo) - (math.exp(-r * lo) - math.exp(-r * hi)) / r
    return inflow / 7 / r * integral / (hi - lo)


def test_twin_matches_closed_form_stock() -> None:
    model = compile_model(_one_state(10.0))
    frame = pd.DataFrame({"period": ["2018", "2019"], "state": "a_dagpenge",
                          "measure": "full_year_persons", "value": 0.0, "source": ""})
    obs, _ = observations(model, frame)
    fitted = predict(scenario_data(_one_state(10.0)), {}, obs)
    expected = [_closed_form_year(10.0, 0), _closed_form_year(10.0, 1)]
    np.testing.assert_allclose(fitted, expected, rtol=2e-3)


def test_fit_recovers_inflow_and_its_standard_error() -> None:
    """The stock is linear in the inflow, a = stock per unit inflow: λ̂ = y / a, SE = sd / a."""
    a = _closed_form_year(1.0, 1)
    observed = pd.DataFrame({"period": ["2019"], "state": ["a_dagpenge"], "measure": ["full_year_persons"],
                             "value": [a * 12.5], "source": [""]})
    spec = Calibrate.model_validate(  # measurement error alone (no process-noise pilot)
        {"process_runs": 0, "parameters": [{"path": "inflow_per_week.a_dagpenge", "bounds": [1, 50]}]})
    fit = calibrate(_one_state(10.0), spec, observed, relative_error=0.02)
    assert fit.success
    assert fit.values["inflow_per_week.a_dagpenge"] == pytest.approx(12.5, rel=3e-3)
    sd = 0.02 * a * 12.5
    assert fit.standard_errors["inflow_per_week.a_dagpenge"] == pytest.approx(sd / a, rel=0.01)
    assert fit.residuals["z"].abs().max() < 1e-3


def test_prior_pulls_an_unidentified_parameter_to_itself() -> None:
    """Two inflows but only their total observed: the prior decides the split and the SE is the prior's."""
    s = scenario(months=24, states={"a_dagpenge": {}, "sygedagpenge": {}}, initial={},
                 inflow_per_week={"a_dagpenge": 10, "sygedagpenge": 10},
                 transitions={"a_dagpenge": [{"to": "job", "rate_per_week": EXIT_RATE}],
                              "sygedagpenge": [{"to": "job", "rate_per_week": EXIT_RATE}]})
    a = _closed_form_year(1.0, 1)
    observed = pd.DataFrame({"period": ["2019"], "state": ["total"], "measure": ["full_year_persons"],
                             "value": [a * 30], "source": [""]})
    spec = Calibrate.model_validate({"process_runs": 0, "parameters": [
        {"path": "inflow_per_week.a_dagpenge", "bounds": [0, 60], "prior": 10, "spread": 2},
        {"path": "inflow_per_week.sygedagpenge", "bounds": [0, 60], "prior": 10, "spread": 2},
    ]})
    fit = calibrate(s, spec, observed, relative_error=0.001)
    # Equal priors, a sharp total of 30: each takes 15 (the posterior mean of a symmetric problem).
    assert fit.values["inflow_per_week.a_dagpenge"] == pytest.approx(15, rel=2e-3)
    assert fit.values["inflow_per_week.sygedagpenge"] == pytest.approx(15, rel=2e-3)
    # Their sum is pinned by the data, their difference only by the priors: correlation ≈ −1.
    corr = fit.covariance[0, 1] / math.sqrt(fit.covariance[0, 0] * fit.covariance[1, 1])
    assert corr < -0.99
    assert fit.standard_errors["inflow_per_week.a_dagpenge"] == pytest.approx(2 / math.sqrt(2), rel=0.02)


def test_fit_recovers_several_parameters_of_a_piecewise_model() -> None:
    base = scenario(
        months=24, states={"a_dagpenge": {}, "sygedagpenge": {}, "jobafklaring": {}},
        initial={"a_dagpenge": 300, "sygedagpenge": 200, "jobafklaring": 50},
        inflow_per_week={"a_dagpenge": 10, "sygedagpenge": 12},
        transitions={
            "a_dagpenge": [{"to": "job", "rate_per_week": [[0, 0.05], [13, 0.02]]}],
            "sygedagpenge": [{"to": "job", "rate_per_week": 0.1},
                             {"to": "jobafklaring", "at_week": 22, "share": 0.5},
                             {"to": "job", "at_week": 22, "share": "rest"}],
            "jobafklaring": [{"to": "job", "rate_per_week": 0.02}],
        })
    truth = {"inflow_per_week.a_dagpenge": 14.0, "inflow_per_week.sygedagpenge": 9.0,
             "transitions.a_dagpenge.job.rate_per_week.1": 0.03}
    model = compile_model(base)
    months = [f"{y}-{m:02d}" for y in (2018, 2019) for m in range(1, 13)]
    frame = pd.DataFrame([(p, s, "full_year_persons", 0.0, "") for p in months
                          for s in ("a_dagpenge", "sygedagpenge", "jobafklaring")],
                         columns=["period", "state", "measure", "value", "source"])
    obs, _ = observations(model, frame)
    frame["value"] = predict(scenario_data(base), truth, obs)
    spec = Calibrate.model_validate({"parameters": [
        {"path": "inflow_per_week.a_dagpenge", "bounds": [1, 40]},
        {"path": "inflow_per_week.sygedagpenge", "bounds": [1, 40]},
        {"path": "transitions.a_dagpenge.job.rate_per_week.1", "bounds": [0.001, 0.2]},
    ]})
    fit = calibrate(base, spec, frame)
    for name, value in truth.items():
        assert fit.values[name] == pytest.approx(value, rel=2e-3), name
    assert fit.chi2 < 1e-4


def _write_project(tmp_path: Path) -> Path:
    (tmp_path / "calibration").mkdir()
    (tmp_path / "scenarios").mkdir()
    a = _closed_form_year(1.0, 1)
    pd.DataFrame({"period": ["2019"], "state": ["a_dagpenge"], "measure": ["full_year_persons"],
                  "value": [round(a * 12.5, 3)], "source": ["test"]}).to_csv(
        tmp_path / "calibration" / "obs.csv", index=False)
    data = {"name": "one", "start": "2018-01-01", "months": 24, "states": {"a_dagpenge": {}},
            "inflow_per_week": {"a_dagpenge": 10},
            "transitions": {"a_dagpenge": [{"to": "job", "rate_per_week": EXIT_RATE}]},
            "calibrate": {"observed": "calibration/obs.csv",
                          "parameters": [{"path": "inflow_per_week.a_dagpenge", "bounds": [1, 50],
                                          "prior": 10, "spread": 5}]}}
    path = tmp_path / "scenarios" / "one.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def test_cli_writes_parameter_file_that_the_scenario_then_loads(tmp_path: Path) -> None:
    path = _write_project(tmp_path)
    result = CliRunner().invoke(app, ["calibrate", str(path)])
    assert result.exit_code == 0, result.output
    fit_file = tmp_path / "calibration" / "one-fit.yaml"
    assert fit_file.is_file()
    assert (tmp_path / "calibration" / "one-fit-residuals.csv").is_file()
    assert (tmp_path / "calibration" / "one-fit.png").read_bytes()[:4] == b"\x89PNG"
    written = yaml.safe_load(fit_file.read_text(encoding="utf-8"))
    fitted = written["values"]["inflow_per_week.a_dagpenge"]
    # A prior of 10 ± 5 against a datum worth 12.5 ± 0.25/a: nearly all weight on the datum.
    assert 12.3 < fitted < 12.5
    assert "parameters: calibration/one-fit.yaml" in result.output
    text = path.read_text(encoding="utf-8") + "parameters: calibration/one-fit.yaml\n"
    path.write_text(text, encoding="utf-8")
    loaded = sim.load_scenario(path)
    assert loaded.inflow_per_week["a_dagpenge"].rate == pytest.approx(fitted)
    assert loaded.parameters is not None and loaded.parameters.standard_errors
    again = sim.load_scenario(path, parameters=False)
    assert again.inflow_per_week["a_dagpenge"].rate == 10


def test_cli_refuses_missing_inputs(tmp_path: Path) -> None:
    path = _write_project(tmp_path)
    runner = CliRunner()
    result = runner.invoke(app, ["calibrate", str(path), "--observed", str(tmp_path / "nope.csv")])
    assert result.exit_code == 1 and "no such file" in result.output
    result = runner.invoke(app, ["calibrate"])
    assert result.exit_code == 1 and "give a SCENARIO" in result.output
    bad = tmp_path / "bad.csv"
    bad.write_text("period,state,value\n2019,a_dagpenge,3\n", encoding="utf-8")
    result = runner.invoke(app, ["calibrate", str(path), "--observed", str(bad)])
    assert result.exit_code == 1 and "missing column(s) measure" in result.output
    text = path.read_text(encoding="utf-8").replace("inflow_per_week.a_dagpenge", "inflow_per_week.nobody")
    path.write_text(text, encoding="utf-8")
    result = runner.invoke(app, ["calibrate", str(path)])
    assert result.exit_code == 1 and "calibrate.parameters[0].path" in result.output


def test_parameter_file_missing_is_a_load_error(tmp_path: Path) -> None:
    path = _write_project(tmp_path)
    text = path.read_text(encoding="utf-8") + "parameters: calibration/none.yaml\n"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(sim.ScenarioError, match="no parameter file"):
        sim.load_scenario(path)


def test_cli_spells_writes_rates_as_a_parameter_file(tmp_path: Path) -> None:
    """Rates from spells: events ÷ exposure, the same numbers as `sim.fitting.spells` gives."""
    rows = [(1, "sygedagpenge", 0, 14, "job"), (2, "sygedagpenge", 0, 70, "job"),
            (3, "sygedagpenge", 0, 35, ""), (4, "sygedagpenge", 7, 28, "pension")]
    path = tmp_path / "spells.csv"
    pd.DataFrame(rows, columns=["id", "state", "start", "end", "to"]).to_csv(path, index=False)
    out = tmp_path / "fit.yaml"
    result = CliRunner().invoke(app, ["calibrate", "--spells", str(path), "--bands", "", "--out", str(out)])
    assert result.exit_code == 0, result.output
    written = yaml.safe_load(out.read_text(encoding="utf-8"))
    # Exposure 2 + 10 + 5 + 3 = 20 weeks; two moves to job, one to pension.
    assert written["values"]["transitions.sygedagpenge.job.rate_per_week"] == pytest.approx(2 / 20)
    assert written["values"]["transitions.sygedagpenge.pension.rate_per_week"] == pytest.approx(1 / 20)
    assert written["standard_errors"]["transitions.sygedagpenge.job.rate_per_week"] == pytest.approx(
        math.sqrt(2) / 20, rel=1e-5)
    bad = CliRunner().invoke(app, ["calibrate", "--spells", str(path), "--bands", "x"])
    assert bad.exit_code == 1 and "--bands" in bad.output


def test_flows_are_fitted_too() -> None:
    """An observed inflow count over a year pins the weekly inflow: λ = count × 7 / 365; an
    outflow to job over a year is r × the year's person-weeks (the stock's exits)."""
    frame = pd.DataFrame({"period": ["2019", "2019"], "state": ["a_dagpenge", "a_dagpenge"],
                          "measure": ["inflow_count", "outflow_job_count"], "value": [0.0, 0.0],
                          "source": ["", ""]})
    model = compile_model(_one_state(10.0))
    obs, skipped = observations(model, frame, ("inflow_count", "outflow_job_count"))
    assert skipped.empty
    inflow, outflow = predict(scenario_data(_one_state(10.0)), {}, obs)
    assert inflow == pytest.approx(10 * 365 / 7, rel=1e-9)
    assert outflow == pytest.approx(EXIT_RATE * _closed_form_year(10.0, 1) * 365 / 7, rel=3e-3)
    frame["value"] = [13 * 365 / 7, 0.0]
    spec = Calibrate.model_validate({"measures": ["inflow_count"], "process_runs": 0, "parameters": [
        {"path": "inflow_per_week.a_dagpenge", "bounds": [1, 50]}]})
    fit = calibrate(_one_state(10.0), spec, frame)
    assert fit.values["inflow_per_week.a_dagpenge"] == pytest.approx(13, rel=1e-4)
    # A count's sd is its Poisson √count (more than 2 % of it here), so SE(λ) = √count × 7 / 365.
    assert fit.standard_errors["inflow_per_week.a_dagpenge"] == pytest.approx(
        math.sqrt(13 * 365 / 7) * 7 / 365, rel=0.01)


BASE = {"name": "t", "start": "2018-01-01", "months": 12, "states": {"a_dagpenge": {}},
        "initial": {"a_dagpenge": 10}, "inflow_per_week": {"a_dagpenge": 1},
        "transitions": {"a_dagpenge": [{"to": "job", "rate_per_week": 0.1}]}}


@pytest.mark.parametrize(("block", "path", "words"), [
    ({"calibrate": {"parameters": [{"path": "inflow_per_week.a_dagpenge", "bounds": [5, 1]}]}},
     "calibrate.parameters[0]", "low < high"),
    ({"calibrate": {"parameters": [{"path": "inflow_per_week.a_dagpenge", "bounds": [0, 9], "spread": -1}]}},
     "calibrate.parameters[0].spread", "> 0"),
    ({"calibrate": {"parameters": [{"path": "inflow_per_week.a_dagpenge"}]}},
     "calibrate.parameters[0].bounds", "[low, high]"),
    ({"calibrate": {"parameters": [{"path": "inflow_per_week.a_dagpenge", "bounds": [0, 9], "prior": 20}]}},
     "calibrate.parameters[0]", "outside the bounds"),
    ({"calibrate": {"parameters": [{"path": "transitions.a_dagpenge.job.rate_per_week.3",
                                    "bounds": [0, 1]}]}},
     "calibrate.parameters[0].path", "has 1 entries"),
    ({"uncertainty": {"fitted": "maybe"}}, "uncertainty.fitted", "true or false"),
    ({"uncertainty": {"parameters": [{"path": "transitions.a_dagpenge.nowhere", "sd": 1}]}},
     "uncertainty.parameters[0].path", "a route's destination"),
    ({"uncertainty": {"parameters": [{"path": "initial.a_dagpenge", "sd": 0}]}},
     "uncertainty.parameters[0].sd", "> 0"),
    ({"parameters": {"values": {"initial.nothing": 3}}}, "parameters.values", "no key 'nothing'"),
    ({"parameters": {"values": {"initial.a_dagpenge": 3}, "standard_errors": {"initial.x": 1}}},
     "parameters", "without a value"),
])
def test_bad_calibration_blocks_are_refused_with_one_clear_problem(
        tmp_path: Path, block: dict[str, object], path: str, words: str) -> None:
    refused_with_one_problem(tmp_path, BASE | block, path, words)


def test_an_existing_fit_is_replaced_only_with_force(tmp_path: Path) -> None:
    """A second calibration refuses to overwrite the fit a scenario loads, names that scenario and
    changes nothing; with --force it replaces it."""
    path = _write_project(tmp_path)
    assert CliRunner().invoke(app, ["calibrate", str(path), "--process-runs", "0"]).exit_code == 0
    fit_file = tmp_path / "calibration" / "one-fit.yaml"
    loads = path.read_text(encoding="utf-8") + "parameters: calibration/one-fit.yaml\n"
    path.write_text(loads, encoding="utf-8")
    before = fit_file.read_bytes()
    again = CliRunner().invoke(app, ["calibrate", str(path), "--process-runs", "0"])
    assert again.exit_code == 1
    assert "one-fit.yaml exists (one.yaml loads it); give --force" in " ".join(again.output.split())
    assert fit_file.read_bytes() == before
    forced = CliRunner().invoke(app, ["calibrate", str(path), "--process-runs", "0", "--force"])
    assert forced.exit_code == 0, forced.output


def test_a_fit_file_carries_no_absolute_path(tmp_path: Path) -> None:
    """Called with absolute paths, the fit file still records the scenario and the data relative
    to itself, so it stays true when the project moves."""
    path = _write_project(tmp_path)
    done = CliRunner().invoke(app, ["calibrate", str(path.resolve()), "--process-runs", "0"])
    assert done.exit_code == 0, done.output
    text = (tmp_path / "calibration" / "one-fit.yaml").read_text(encoding="utf-8")
    assert str(tmp_path.resolve()) not in text
    written = yaml.safe_load(text)
    assert written["scenario"] == "../scenarios/one.yaml" and written["observed"] == "obs.csv"


def test_observations_as_one_product_are_the_period_values() -> None:
    """`value_matrix` weights give each observation exactly what `period_value` reads, for stocks,
    inflows (from anywhere, from outside) and outflows over single months, ranges and years."""
    s = sim.load_scenario(Path(__file__).parents[2] / "scenarios" / "taarnby-2018.yaml")
    model = compile_model(s)
    states = list(model.codes[: model.n_benefit])
    measures = ["full_year_persons", "inflow_count", "inflow_from_outside_count", "outflow_job_count"]
    periods = ["2018", "2018-03", "2018-02..2018-07"]
    frame = pd.DataFrame([{"period": p, "state": st, "measure": m, "value": 1.0, "source": ""}
                          for p in periods for st in [*states[:3], "total"] for m in measures])
    obs, skipped = observations(model, frame, tuple(measures))
    assert skipped.empty and len(obs) == len(frame)
    rng = np.random.default_rng(3)
    person_days = rng.uniform(0, 100, (model.n_states, model.calendar.months))
    flows = rng.uniform(0, 10, (model.n_states + 1, model.n_states, model.calendar.months))
    direct = [period_value(model, person_days, flows, o) for o in obs]
    np.testing.assert_allclose(model_values(value_matrix(model, obs), person_days, flows), direct, rtol=1e-12)


def test_value_setter_sets_what_with_values_sets_and_shares_nothing_it_changes() -> None:
    """Each result equals `with_values` of the same values, and no later call changes an earlier
    result or the data it started from."""
    data = scenario_data(sim.load_scenario(Path(__file__).parents[2] / "scenarios" / "taarnby-2018.yaml"))
    paths = {"inflow_per_week.a_dagpenge": 31.5, "initial.sygedagpenge": 400.0,
             "transitions.a_dagpenge.job.rate_per_week.0": 0.07}
    setter = ValueSetter(data)
    first = setter(paths)
    assert first == with_values(data, paths)
    second = setter({"inflow_per_week.a_dagpenge": 5.0})
    assert second == with_values(data, {"inflow_per_week.a_dagpenge": 5.0})
    assert first["inflow_per_week"]["a_dagpenge"]["rate"] == 31.5 and setter.base == scenario_data(
        sim.load_scenario(Path(__file__).parents[2] / "scenarios" / "taarnby-2018.yaml"))
