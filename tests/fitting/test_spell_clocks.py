"""`caseflow calibrate --spells` with forced clocks, clock shares and inflows (`sim.fitting.spell_routes`).

Expected numbers: exposure, events and shares counted by hand in small tables; on spells the
engine made from known rates, shares and inflows, the estimates must lie within 4 standard
errors of the truth (and the Poisson GLM of statsmodels, an outside fitter, must agree with the
rates on the clock-censored table).
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

import sim
from sim.cli.app import app
from sim.fitting.spell_routes import (
    entries_from_outside,
    parse_clocks,
    scenario_clocks,
    spell_parameters,
    split_clock_moves,
)
from sim.fitting.spells import SpellDataError, engine_spells, fit_spells, validate_spells
from sim.kernel.engine import simulate
from sim.kernel.streams import replication_seeds

Z = 4.0

# ---------------------------------------------------------------------------------------------
# By hand: a clock at week 2 (day 14)

HAND = pd.DataFrame({
    "id": [1, 2, 3, 4, 5, 6, 7],
    "state": "sygedagpenge",
    "start": [0, 0, 0, 0, 0, 0, 21],
    "end": [7, 14, 14, 14, 28, 14, 35],  # weeks 1, 2, 2, 2, 4, 2 and 2 (the last from day 21)
    "to": ["job", "jobafklaring", "jobafklaring", "job", "job", "", "job"],
})


def test_clock_moves_are_censored_for_the_hazard_and_counted_for_the_shares() -> None:
    spells = validate_spells(HAND)
    hazard, clocks = split_clock_moves(spells, {"sygedagpenge": [2.0]})
    # spells 2, 3, 4 end at the clock with a move: clock moves, censored for the hazard.
    # Spell 6 is censored at the clock (unknown whether struck): not counted as reaching it.
    # Spell 5 reached week 2 and stayed; spell 1 left before; spell 7 left at its own week 2
    # but the clock is per spell duration: it too is a clock move.
    assert list(hazard["to"].fillna("-")) == ["job", "-", "-", "-", "job", "-", "-"]
    table = clocks.set_index("to")
    assert (table["reached"] == 5).all()
    assert table.loc["jobafklaring", "moved"] == 2 and table.loc["job", "moved"] == 2
    assert table.loc["stay", "moved"] == 1
    assert table.loc["jobafklaring", "share"] == pytest.approx(0.4)
    assert table.loc["jobafklaring", "se"] == pytest.approx(math.sqrt(0.4 * 0.6 / 5))
    fit = fit_spells(hazard, bands={"sygedagpenge": [0]})
    rates = fit.rates.set_index("to")
    # exposure 1 + 2 + 2 + 2 + 4 + 2 + 2 = 15 weeks; hazard events: spells 1 and 5 to job
    assert rates.loc["job", "exposure_weeks"] == pytest.approx(15)
    assert rates.loc["job", "events"] == 2
    assert "jobafklaring" not in rates.index  # it is only ever reached by the clock


def test_the_parameter_set_indexes_the_routes_it_writes() -> None:
    spells = validate_spells(HAND)
    hazard, clocks = split_clock_moves(spells, {"sygedagpenge": [2.0]})
    fit = fit_spells(hazard, bands={"sygedagpenge": [0]})
    params = spell_parameters(fit, clocks, entries_from_outside(spells), dates=False)
    routes = params.transitions["sygedagpenge"]
    assert routes[0] == {"to": "job", "rate_per_week": pytest.approx(2 / 15, rel=1e-5)}  # 6 digits
    # the clock: job and jobafklaring as shares, the one who stayed takes the rest
    assert routes[1:] == [{"to": "job", "at_week": 2, "share": 0.4},
                          {"to": "jobafklaring", "at_week": 2, "share": 0.4},
                          {"to": "stay", "at_week": 2, "share": "rest"}]
    assert params.values["transitions.sygedagpenge.1.share"] == 0.4
    assert params.bounds["transitions.sygedagpenge.2.share"] == (0.0, 1.0)
    cov = params.covariance()
    assert cov is not None
    names = list(params.values)
    i, j = names.index("transitions.sygedagpenge.1.share"), names.index("transitions.sygedagpenge.2.share")
    assert cov[i, j] == pytest.approx(-0.4 * 0.4 / 5)  # multinomial
    assert cov[i, i] == pytest.approx(0.4 * 0.6 / 5)
    sim.scenario_from_dict({"name": "t", "start": "2018-01-01", "months": 12,
                            "states": {"sygedagpenge": {}, "jobafklaring": {}},
                            "transitions": params.transitions})


def test_everyone_moved_at_the_clock_gives_the_largest_share_the_rest() -> None:
    spells = validate_spells(pd.DataFrame({
        "id": [1, 2, 3, 4], "state": "a_dagpenge", "start": 0, "end": [728, 728, 728, 100],
        "to": ["kontanthjaelp_jobparat", "kontanthjaelp_jobparat", "other", "job"]}))
    hazard, clocks = split_clock_moves(spells, {"a_dagpenge": [104.0]})
    params = spell_parameters(fit_spells(hazard, bands={"a_dagpenge": [0]}), clocks, None, dates=False)
    assert params.transitions["a_dagpenge"][1:] == [
        {"to": "other", "at_week": 104, "share": pytest.approx(1 / 3, rel=1e-5)},
        {"to": "kontanthjaelp_jobparat", "at_week": 104, "share": "rest"}]


def test_a_band_without_events_has_a_standard_error_and_one_without_exposure_is_unidentified() -> None:
    spells = validate_spells(pd.DataFrame({
        "id": [1, 2, 3], "state": "a_dagpenge", "start": 0, "end": [14, 35, 70], "to": ["job", "", ""]}))
    fit = fit_spells(spells, bands={"a_dagpenge": [0, 4, 20]})
    params = spell_parameters(fit, split_clock_moves(spells, {})[1], None, dates=False)
    # band 4–20 weeks: exposure 1 + 6 = 7 weeks, no event: rate 0, SE 1/7, not 0
    assert params.values["transitions.a_dagpenge.job.rate_per_week.1"] == 0
    assert params.standard_errors["transitions.a_dagpenge.job.rate_per_week.1"] == pytest.approx(1 / 7)
    # band 20+ weeks: nobody observed there
    assert "transitions.a_dagpenge.job.rate_per_week.2" in params.unidentified
    assert "transitions.a_dagpenge.job.rate_per_week.2" not in params.standard_errors


def test_inflows_from_outside_leave_out_transfers_and_the_stock_at_the_start() -> None:
    spells = validate_spells(pd.DataFrame({
        "id": [1, 1, 2, 3, 4, 5],
        "state": ["sygedagpenge", "jobafklaring", "sygedagpenge", "sygedagpenge", "sygedagpenge",
                  "jobafklaring"],
        "start": [0, 70, -30, 7, 140, 20],
        "end": [70, 140, 30, 50, 200, 280],
        "entry": [0, 70, 0, 7, 140, 20],
        "to": ["jobafklaring", "", "job", "job", "", "job"]}))
    table = entries_from_outside(spells).set_index("state")
    # window: day 0 (earliest entry) to day 280: 40 weeks. Sygedagpenge: ids 1, 3, 4 enter (id 2
    # was there at the start); jobafklaring: id 5 (id 1 came from sygedagpenge).
    assert table.loc["sygedagpenge", "entries"] == 3 and table.loc["jobafklaring", "entries"] == 1
    assert table.loc["sygedagpenge", "weeks"] == pytest.approx(40)
    assert table.loc["sygedagpenge", "rate_per_week"] == pytest.approx(3 / 40)
    assert table.loc["sygedagpenge", "se"] == pytest.approx(math.sqrt(3) / 40)


def test_clocks_from_a_scenario_and_from_the_command_line() -> None:
    s = sim.scenario_from_dict({"name": "t", "start": "2018-01-01", "months": 12,
                                "states": {"sygedagpenge": {}, "jobafklaring": {}},
                                "transitions": {"sygedagpenge": [
                                    {"to": "job", "rate_per_week": 0.1},
                                    {"to": "jobafklaring", "at_week": 22, "share": 0.3},
                                    {"to": "stay", "at_week": 22, "share": "rest"}]}})
    assert scenario_clocks(s) == {"sygedagpenge": [22.0]}
    assert parse_clocks(["sygedagpenge:22", "a_dagpenge:104", "sygedagpenge:52"]) == {
        "sygedagpenge": [22.0, 52.0], "a_dagpenge": [104.0]}
    for bad in ("sygedagpenge", "sygedagpenge:x", ":22", "sygedagpenge:0"):
        with pytest.raises(SpellDataError, match="STATE:WEEK"):
            parse_clocks([bad])


# ---------------------------------------------------------------------------------------------
# On spells the engine made

SICK: dict[str, Any] = {
    "name": "sick", "start": "2018-01-01", "months": 60,
    "states": {"sygedagpenge": {}, "jobafklaring": {}},
    "initial": {"sygedagpenge": 300, "jobafklaring": 100},
    "inflow_per_week": {"sygedagpenge": 30},
    "transitions": {"sygedagpenge": [{"to": "job", "rate_per_week": [[0, 0.1], [13, 0.05]]},
                                     {"to": "jobafklaring", "at_week": 22, "share": 0.3},
                                     {"to": "pension", "at_week": 22, "share": 0.1},
                                     {"to": "stay", "at_week": 22, "share": "rest"}],
                    "jobafklaring": [{"to": "job", "rate_per_week": 0.03}]}}


def _engine(seed: int = 5) -> pd.DataFrame:
    record = simulate(sim.compile_model(sim.scenario_from_dict(SICK)), replication_seeds(seed, 1)[0],
                      record_spells=True)
    assert record.spells is not None
    return validate_spells(engine_spells(record.spells))


def test_engine_rates_shares_and_inflow_are_recovered() -> None:
    spells = _engine()
    hazard, clocks = split_clock_moves(spells, {"sygedagpenge": [22.0]})
    fit = fit_spells(hazard, bands={"sygedagpenge": [0, 13], "jobafklaring": [0]})
    rates = fit.rates[fit.rates["state"] == "sygedagpenge"].set_index("band")
    for band, truth in ((0, 0.1), (1, 0.05)):
        assert abs(rates.loc[band, "rate_per_week"] - truth) < Z * rates.loc[band, "se"]
    shares = clocks[clocks["state"] == "sygedagpenge"].set_index("to")
    for dest, truth in (("jobafklaring", 0.3), ("pension", 0.1), ("stay", 0.6)):
        assert abs(shares.loc[dest, "share"] - truth) < Z * shares.loc[dest, "se"], dest
    assert "job" not in shares.index  # no hazard exit is taken for a clock move
    inflow = entries_from_outside(spells).set_index("state")
    assert abs(inflow.loc["sygedagpenge", "rate_per_week"] - 30) < Z * inflow.loc["sygedagpenge", "se"]
    assert inflow.loc["jobafklaring", "entries"] == 0  # all its entries came from sygedagpenge
    # Not censoring the clock moves puts them in the hazard of the band holding week 22.
    naive = fit_spells(spells, bands={"sygedagpenge": [0, 13]}).rates
    naive_job = naive[(naive["state"] == "sygedagpenge") & (naive["to"] == "jobafklaring")]
    assert (naive_job["events"] > 0).any()


def test_rates_on_the_censored_table_agree_with_a_poisson_glm() -> None:
    """statsmodels' Poisson GLM (log link, offset log exposure) on the clock-censored events and
    exposure per band: the MLE is the same, and so are its standard errors (delta method)."""
    import statsmodels.api as sm

    spells = _engine(seed=9)
    hazard, _ = split_clock_moves(spells, {"sygedagpenge": [22.0]})
    fit = fit_spells(hazard, bands={"sygedagpenge": [0, 13, 26]})
    rates = fit.rates[(fit.rates["state"] == "sygedagpenge") & (fit.rates["to"] == "job")]
    x = np.eye(len(rates))
    with warnings.catch_warnings():  # one parameter per cell: a saturated model, as meant
        warnings.simplefilter("ignore")
        glm = sm.GLM(rates["events"].to_numpy(dtype=float), x, family=sm.families.Poisson(),
                     offset=np.log(rates["exposure_weeks"].to_numpy(dtype=float))).fit()
    np.testing.assert_allclose(np.exp(glm.params), rates["rate_per_week"], rtol=1e-6)
    np.testing.assert_allclose(np.exp(glm.params) * glm.bse, rates["se"], rtol=1e-4)


def test_cli_spells_fit_for_a_scenario_loads_with_a_stock_fit(tmp_path: Path) -> None:
    """`caseflow calibrate SCENARIO --spells FILE`: clocks from the scenario, a fit file whose
    routes replace the scenario's, loaded next to another fit file and drawn per replication."""
    spells = _engine()
    spells.to_csv(tmp_path / "spells.csv", index=False)
    (tmp_path / "calibration").mkdir()
    own = {**SICK, "transitions": {
        "sygedagpenge": [{"to": "job", "rate_per_week": 0.2},
                         {"to": "jobafklaring", "at_week": 22, "share": 0.5},
                         {"to": "stay", "at_week": 22, "share": "rest"}],
        "jobafklaring": [{"to": "job", "rate_per_week": 0.01},
                         {"to": "pension", "at_week": 104, "share": "rest"}]},
        "inflow_per_week": {"sygedagpenge": {"rate": 10, "trend_per_year": 0.02}}, "months": 12}
    path = tmp_path / "sick.yaml"
    path.write_text(yaml.safe_dump(own, sort_keys=False), encoding="utf-8")
    result = CliRunner().invoke(app, ["calibrate", str(path), "--spells", str(tmp_path / "spells.csv")])
    assert result.exit_code == 0, result.output
    assert "Forced clocks" in result.output and "Inflows from outside" in result.output
    fit_file = tmp_path / "calibration" / "sick-spells-fit.yaml"
    written = yaml.safe_load(fit_file.read_text(encoding="utf-8"))
    assert written["inflow_per_week"]["sygedagpenge"] == pytest.approx(30, rel=0.05)
    assert "transitions.sygedagpenge.1.share" in written["standard_errors"]
    (tmp_path / "calibration" / "other.yaml").write_text(yaml.safe_dump(
        {"values": {"initial.sygedagpenge": 320.0}, "standard_errors": {"initial.sygedagpenge": 10.0}}),
        encoding="utf-8")
    used = {**own, "parameters": ["calibration/sick-spells-fit.yaml", "calibration/other.yaml"],
            "uncertainty": {"fitted": True, "split_runs": 0}}
    path.write_text(yaml.safe_dump(used, sort_keys=False), encoding="utf-8")
    loaded = sim.load_scenario(path)
    routes = loaded.transitions["sygedagpenge"]
    assert routes[0].to == "job" and len(routes[0].rates) > 1  # the fitted bands, not the scenario's one
    clock = {r.to: r.share for r in routes if r.at_week == 22}
    assert clock["jobafklaring"] == pytest.approx(0.3, abs=Z * 0.013) and clock["stay"] == "rest"
    # the data made without jobafklaring's 104-week clock: everyone who reached it stayed
    assert {r.to for r in loaded.transitions["jobafklaring"] if r.at_week == 104} == {"stay"}
    assert loaded.inflow_per_week["sygedagpenge"].trend_per_year == 0.02  # the scenario's trend, kept
    assert loaded.initial["sygedagpenge"] == 320
    fit = loaded.parameters
    assert fit is not None and len(fit.covariance) == len(fit.values)
    result_run = sim.run(loaded, runs=3, seed=1)
    assert len(result_run.yearly)


def test_cli_clock_option_without_a_scenario(tmp_path: Path) -> None:
    _engine().to_csv(tmp_path / "spells.csv", index=False)
    out = tmp_path / "fit.yaml"
    result = CliRunner().invoke(app, ["calibrate", "--spells", str(tmp_path / "spells.csv"), "--clock",
                                      "sygedagpenge:22", "--no-inflows", "--out", str(out)])
    assert result.exit_code == 0, result.output
    written = yaml.safe_load(out.read_text(encoding="utf-8"))
    assert written["inflow_per_week"] == {}
    assert any(r.get("at_week") == 22 for r in written["transitions"]["sygedagpenge"])
    bad = CliRunner().invoke(app, ["calibrate", "--spells", str(tmp_path / "spells.csv"), "--clock", "x"])
    assert bad.exit_code == 1 and "STATE:WEEK" in bad.output


def test_a_dated_spell_fit_anchors_its_inflow_on_its_window_in_any_scenario(tmp_path: Path) -> None:
    """Spells dated from 2019-01-01 to 2020-12-31 (730 days): the weekly inflow is the entries ÷
    104.29 weeks, anchored on the window's middle, 2020-01-01; a scenario from 2020 and one from
    2021 that load the fit have the same inflow in 2021, and January 2020 has rate × 1.1^(15.5/365.25)."""
    first = pd.Timestamp("2019-01-01")
    starts = [first + pd.Timedelta(days=int(d)) for d in np.linspace(0, 710, 60)]
    spells = pd.DataFrame({"id": range(60), "state": "sygedagpenge",
                           "start": [s.date().isoformat() for s in starts],
                           "end": [(s + pd.Timedelta(days=20)).date().isoformat() for s in starts],
                           "to": "job"})
    assert spells["end"].max() == "2020-12-31"
    spells.to_csv(tmp_path / "spells.csv", index=False)
    fit = tmp_path / "fit.yaml"
    done = CliRunner().invoke(app, ["calibrate", "--spells", str(tmp_path / "spells.csv"), "--out", str(fit)])
    assert done.exit_code == 0, done.output
    written = yaml.safe_load(fit.read_text(encoding="utf-8"))
    assert written["anchors"] == {"inflow_per_week.sygedagpenge": "2020-01-01"}
    rate = 60 / (730 / 7)
    assert written["inflow_per_week"]["sygedagpenge"] == pytest.approx(rate, rel=1e-5)

    def inflow(start: str, months: int) -> np.ndarray:
        path = tmp_path / f"from-{start}.yaml"
        path.write_text(yaml.safe_dump({
            "name": "anchored", "start": start, "months": months, "states": {"sygedagpenge": {}},
            "inflow_per_week": {"sygedagpenge": {"rate": 1.0, "trend_per_year": 0.1}},
            "transitions": {"sygedagpenge": [{"to": "job", "rate_per_week": 0.3}]}, "parameters": fit.name}),
            encoding="utf-8")
        loaded = sim.load_scenario(path)
        assert str(loaded.inflow_per_week["sygedagpenge"].trend_from) == "2020-01-01"
        return np.asarray(sim.compile_model(loaded).inflow_per_day[0])

    whole, later = inflow("2020-01-01", 24), inflow("2021-01-01", 12)
    np.testing.assert_allclose(later, whole[12:], rtol=1e-9)
    assert whole[0] * 7 == pytest.approx(written["inflow_per_week"]["sygedagpenge"] * 1.1 ** (15.5 / 365.25),
                                         rel=1e-12)
