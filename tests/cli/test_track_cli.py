"""`caseflow track` end to end: the run folder's files, the path, the reports, errors, reproducibility.

The command is registered here on its own Typer app, as the command line registers it.
"""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

import sim
from sim.cli.app import app as caseflow
from sim.cli.tracking import track_command
from sim.fitting.track import TRACK_COLUMNS
from sim.reports.rundata import load_run
from sim.reports.track import draw_track, read_track, track_series

SCENARIO = """
name: Lille kommune 2019
start: 2019-01-01
months: 24
seed: 11
states: {a_dagpenge: {}, sygedagpenge: {}, fleksjob: {}}
initial: {a_dagpenge: 120, sygedagpenge: 80, fleksjob: 60}
inflow_per_week:
  a_dagpenge: 4
  sygedagpenge: {rate: 6, seasonality: [1.3, 1.2, 1.1, 1, 0.9, 0.8, 0.7, 0.8, 1, 1, 1.1, 1.1]}
transitions:
  a_dagpenge: [{to: job, rate_per_week: 0.04}]
  sygedagpenge:
    - {to: job, mean_weeks: 10}
    - {to: fleksjob, at_week: 30, share: 0.2}
    - {to: other, at_week: 30, share: rest}
  fleksjob: [{to: pension, rate_per_week: 0.004}]
  job: [{to: a_dagpenge, rate_per_week: [[0, 0.01], [26, 0]]}]
economics: {}
targets:
  - {name: Sygedagpenge højst 60, states: [sygedagpenge], year: 2019, at_most: 60, basis: payment}
  - {name: I alt marts højst 270, states: [total], month: 2019-03, at_most: 270}
  - {name: Medfinansiering 2019, metric: cofinancing_rate, states: [total], year: 2019, at_most: 0.8}
  - {name: I alt 2020 højst 280, states: [total], year: 2020, at_most: 280}
"""

app = typer.Typer()
app.command(name="track")(track_command)


@app.callback()
def _main() -> None:
    """The command line with `track` alone."""


runner = CliRunner()


@pytest.fixture(scope="module")
def plan(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The scenario file and a run of it, whose monthly.csv serves as actuals."""
    root = tmp_path_factory.mktemp("track")
    scenario = root / "lille.yaml"
    scenario.write_text(SCENARIO, encoding="utf-8")
    done = runner.invoke(caseflow, ["run", str(scenario), "--runs", "20", "--seed", "3", "--workers", "1",
                                    "--out", str(root / "plan")])
    assert done.exit_code == 0, done.output
    return scenario, root / "plan" / "monthly.csv"


def _track(scenario: Path, actuals: Path, out: Path, *more: str) -> tuple[int, str]:
    done = runner.invoke(app, ["track", str(scenario), "--actuals", str(actuals), "--through", "2019-05",
                               "--runs", "8", "--track-runs", "3", "--out", str(out), *more])
    assert "Traceback" not in done.output
    return done.exit_code, done.output


def test_track_writes_a_run_folder_with_the_year_so_far_and_the_path(plan: tuple[Path, Path],
                                                                      tmp_path: Path) -> None:
    scenario, actuals = plan
    code, output = _track(scenario, actuals, tmp_path / "out", "--workers", "1", "--lang", "en")
    assert code == 0, output
    out = tmp_path / "out"
    for name in ("monthly.csv", "monthly_observed.csv", "yearly.csv", "targets.csv", "flows.csv",
                 "replications.csv", "scenario.yaml",
                 "run.json", "track.csv", "restart.csv", "restart.yaml", "actuals.csv", "costs.csv",
                 "report.html", "report.xlsx", "charts/track.png"):
        assert (out / name).is_file(), name
    ahead, observed = pd.read_csv(out / "monthly.csv"), pd.read_csv(out / "monthly_observed.csv")
    assert ahead["month"].min() == "2019-06" and len(ahead) == 19 * 4  # from the first forecast month
    assert list(observed.columns) == list(ahead.columns) and len(observed) == 5 * 4
    assert (observed["sd"] == 0).all() and (observed["p05"] == observed["mean"]).all()
    assert (ahead["sd"] > 0).all()
    assert len(load_run(out).monthly) == 24 * 4  # a report reads every month of the plan's horizon
    given = pd.read_csv(actuals).set_index(["month", "state"])["mean"]
    got = observed.set_index(["month", "state"])["mean"]
    pd.testing.assert_series_equal(got.drop("total", level=1), given.loc[got.drop("total", level=1).index],
                                   check_names=False)
    assert pd.read_csv(out / "flows.csv")["month"].min() == "2019-06"
    targets = pd.read_csv(out / "targets.csv").set_index("target")
    assert targets["status"].to_dict() == {
        "Sygedagpenge højst 60": "combined", "I alt marts højst 270": "observed",
        "Medfinansiering 2019": "not_tracked", "I alt 2020 højst 280": "forecast"}
    assert targets.loc["Sygedagpenge højst 60", "observed_months"] == 5
    assert pd.isna(targets.loc["Medfinansiering 2019", "probability_met"])
    yearly = pd.read_csv(out / "yearly.csv")
    assert sorted(set(yearly["year"])) == [2019, 2020]
    assert yearly[yearly.year == 2019]["net_dkk"].isna().all()
    assert yearly[yearly.year == 2020]["net_dkk"].notna().all()
    assert sorted(set(pd.read_csv(out / "replications.csv")["year"])) == [2019, 2020]
    path = pd.read_csv(out / "track.csv", dtype={"through": str}, keep_default_na=False)
    assert list(path.columns) == list(TRACK_COLUMNS)
    assert list(dict.fromkeys(path["through"])) == ["", "2019-01", "2019-02", "2019-03", "2019-04", "2019-05"]
    facts = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert facts["track"] == {"through": "2019-05", "forecast_from": "2019-06", "observed_months": 5,
                              "track_runs": 3}
    assert sim.load_scenario(out / "scenario.yaml").start.isoformat() == "2019-01-01"
    restarted = sim.load_scenario(out / "restart.yaml")
    assert restarted.start.isoformat() == "2019-06-01" and "job" in restarted.initial
    html = (out / "report.html").read_text(encoding="utf-8")
    assert 'id="track"' in html and "Tracking against the actuals" in html
    assert "Track" in openpyxl.load_workbook(out / "report.xlsx").sheetnames
    assert "Tracking: P(met)" in output and "actuals through 2019-05" in output
    series = track_series(read_track(out))  # the chart draws track.csv's numbers
    assert "Medfinansiering 2019" in series.targets  # known for the plan's own forecast only
    for i, name in enumerate(series.targets):
        rows = path[(path.target == name) & (path.probability_met != "")]
        assert series.months[i] == tuple(rows["forecast_from"])
        lines = draw_track(series, "en").axes[0].lines
        drawn = next(line for line in lines if line.get_gid() == f"track-{i}")
        assert list(drawn.get_ydata()) == pytest.approx(rows["probability_met"].astype(float).tolist())


def test_track_results_do_not_depend_on_the_workers(plan: tuple[Path, Path], tmp_path: Path) -> None:
    scenario, actuals = plan
    assert _track(scenario, actuals, tmp_path / "one", "--workers", "1")[0] == 0
    assert _track(scenario, actuals, tmp_path / "two", "--workers", "2")[0] == 0
    for name in ("track.csv", "targets.csv", "yearly.csv", "monthly.csv"):
        one, two = (pd.read_csv(tmp_path / side / name) for side in ("one", "two"))
        pd.testing.assert_frame_equal(one, two)


def test_a_report_rebuilt_from_the_folder_shows_the_path(plan: tuple[Path, Path], tmp_path: Path) -> None:
    scenario, actuals = plan
    assert _track(scenario, actuals, tmp_path / "out", "--workers", "1", "--track-runs", "0")[0] == 0
    (tmp_path / "out" / "report.html").unlink()
    done = runner.invoke(caseflow, ["report", str(tmp_path / "out")])
    assert done.exit_code == 0, done.output
    html = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert "Sporing mod de faktiske tal" in html
    path = pd.read_csv(tmp_path / "out" / "track.csv", dtype={"through": str}, keep_default_na=False)
    assert list(dict.fromkeys(path["through"])) == ["2019-05"]


@pytest.mark.parametrize(("args", "words"), [
    (["--through", "2020-12"], "2020-12 leaves no month to forecast"),
    (["--through", "2019-13"], "not a month like 2018-06"),
])
def test_a_through_outside_the_horizon_is_refused_before_anything_runs(
        plan: tuple[Path, Path], tmp_path: Path, args: list[str], words: str) -> None:
    scenario, actuals = plan
    done = runner.invoke(app, ["track", str(scenario), "--actuals", str(actuals), *args,
                               "--out", str(tmp_path / "out")])
    assert done.exit_code == 1 and words in done.output
    assert not (tmp_path / "out").exists()


def test_actuals_missing_a_state_are_refused(plan: tuple[Path, Path], tmp_path: Path) -> None:
    scenario, actuals = plan
    frame = pd.read_csv(actuals)
    partial = tmp_path / "partial.csv"
    frame[frame.state != "fleksjob"].to_csv(partial, index=False)
    code, output = _track(scenario, partial, tmp_path / "out")
    assert code == 1 and "no full_year_persons for fleksjob in 2019-05" in output
    code, output = _track(scenario, tmp_path / "none.csv", tmp_path / "out")
    assert code == 1 and "no such file" in output


def test_help_explains_the_command_with_an_example() -> None:
    done = runner.invoke(app, ["track", "--help"])
    assert done.exit_code == 0
    assert "Example:" in done.output and "--actuals" in done.output and "--track-runs" in done.output


def _long_format(actuals: Path, path: Path) -> Path:
    """The run's monthly means written by hand in the calibration's long format, a basis per row."""
    monthly = pd.read_csv(actuals)
    states = monthly[monthly.state != "total"]
    paid = states[states.payment_mean != states["mean"]]
    rows = [pd.DataFrame({"period": part.month, "state": part.state, "measure": "full_year_persons",
                          "value": part[column], "source": "register", "basis": basis})
            for part, column, basis in ((states, "mean", "jobindsats"), (paid, "payment_mean", "payment"))]
    pd.concat(rows).to_csv(path, index=False)
    return path


def test_long_format_actuals_track_as_the_run_folder_they_hold(plan: tuple[Path, Path],
                                                               tmp_path: Path) -> None:
    scenario, actuals = plan
    long = _long_format(actuals, tmp_path / "long.csv")
    assert _track(scenario, actuals, tmp_path / "run", "--workers", "1")[0] == 0
    code, output = _track(scenario, long, tmp_path / "long", "--workers", "1")
    assert code == 0, output
    for name in ("track.csv", "targets.csv", "restart.csv"):
        one, two = (pd.read_csv(tmp_path / side / name) for side in ("run", "long"))
        columns = [c for c in one.columns if c != "source"]  # restart.csv names the figure's file
        pd.testing.assert_frame_equal(one[columns], two[columns])


def test_a_snapshot_file_sets_the_elapsed_weeks_of_its_state(plan: tuple[Path, Path], tmp_path: Path) -> None:
    scenario, actuals = plan
    snapshot = tmp_path / "stock.csv"
    snapshot.write_text("state,from_week,to_week,persons\nsygedagpenge,0,10,40\nsygedagpenge,10,20,25\n"
                        "sygedagpenge,20,30,5\n", encoding="utf-8")
    code, output = _track(scenario, actuals, tmp_path / "out", "--snapshot", str(snapshot), "--workers", "1")
    assert code == 0, output
    out = tmp_path / "out"
    pd.testing.assert_frame_equal(pd.read_csv(out / "snapshot.csv"), pd.read_csv(snapshot))
    how = pd.read_csv(out / "restart.csv").set_index("state")["durations"]
    assert how["sygedagpenge"] == "snapshot" and how["a_dagpenge"] == "model" and how["fleksjob"] == "model"
    bands = sim.load_scenario(out / "restart.yaml").initial_durations["sygedagpenge"]
    assert [(b.from_week, b.to_week) for b in bands] == [(0, 10), (10, 20), (20, 30)]
    assert [b.share for b in bands] == pytest.approx([40 / 70, 25 / 70, 5 / 70])


@pytest.mark.parametrize(("text", "words"), [
    ("state,from_week,to_week,persons\nsygedagpenge,0,40,10\n", "past week 30, where a clock moves everyone"),
    ("state,from_week,to_week,persons\nkontanthjaelp,0,4,10\n", "state 'kontanthjaelp' is not a benefit"),
    ("state,weeks\nsygedagpenge,3\n", "a snapshot has columns state, from_week, to_week and persons"),
])
def test_a_bad_snapshot_is_refused_with_its_file_and_reason(plan: tuple[Path, Path], tmp_path: Path,
                                                            text: str, words: str) -> None:
    scenario, actuals = plan
    snapshot = tmp_path / "stock.csv"
    snapshot.write_text(text, encoding="utf-8")
    code, output = _track(scenario, actuals, tmp_path / "out", "--snapshot", str(snapshot))
    assert code == 1 and str(snapshot) in output.replace("\n", "") and words in output.replace("\n", " ")
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_the_readme_track_example_runs(tmp_path: Path) -> None:
    """The README's Tårnby example with fewer runs: six actual months join the full-year targets'
    forecasts, the co-financing and long-term dagpenge targets are not tracked once 2018 has begun."""
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    block = next(b for b in re.findall(r"```bash\n(.*?)```", readme, flags=re.S)
                 if "caseflow track scenarios/taarnby-2018.yaml" in b)
    lines = [line for line in block.splitlines() if line.startswith("caseflow ")]
    assert [line.split()[1] for line in lines] == ["run", "track"]
    root = Path(__file__).resolve().parents[2]
    for line in lines:
        args = shlex.split(line.replace("outputs/", f"{tmp_path}/").replace("--runs 200", "--runs 12"))[1:]
        args = [str(root / a) if a.startswith("scenarios/") else a for a in args]
        if args[0] == "track":
            args += ["--track-runs", "4", "--out", str(tmp_path / "track")]
        done = runner.invoke(caseflow, [*args, "--workers", "1"])
        assert done.exit_code == 0, done.output
    targets = pd.read_csv(tmp_path / "track" / "targets.csv")
    status = dict(zip(targets["target"], targets["status"], strict=True))
    assert sorted(status.values()) == ["combined", "combined", "not_tracked", "not_tracked", "not_tracked"]
    assert all(("medfinansieringsgrad" in n.lower() or "over et års" in n) == (s == "not_tracked")
               for n, s in status.items())
    assert set(targets["observed_months"]) == {6}
    path = pd.read_csv(tmp_path / "track" / "track.csv", dtype={"through": str}, keep_default_na=False)
    assert list(dict.fromkeys(path["through"])) == ["", *(f"2018-{m:02d}" for m in range(1, 7))]
    assert pd.read_csv(tmp_path / "track" / "monthly.csv")["month"].min() == "2018-07"


def _danish(x: float) -> str:
    """A number as Jobindsats writes it: a decimal comma (thousands points), two decimals."""
    return f"{x:,.2f}".replace(",", "#").replace(".", ",").replace("#", ".")


def test_a_jobindsats_export_imported_tracks_the_plan(plan: tuple[Path, Path], tmp_path: Path) -> None:
    """A Jobindsats table of the run's monthly means (Danish numbers, header rows), imported with
    `caseflow import jobindsats`, restarts the forecast from those means to their two decimals."""
    scenario, actuals = plan
    monthly = pd.read_csv(actuals)
    months = [f"2019-{m:02d}" for m in range(1, 6)]
    names = {"a_dagpenge": "A-dagpenge", "sygedagpenge": "Sygedagpenge", "fleksjob": "Fleksjob"}
    lines = ["Offentligt forsørgede (fuldtidspersoner)", "Område: Lille", "",
             ";;" + ";".join(m.replace("-", "M") for m in months),
             "Område;Ydelsesgrupper;" + ";".join(["Antal fuldtidspersoner"] * len(months))]
    for state, name in names.items():
        means = monthly[monthly.state == state].set_index("month")["mean"]
        lines.append(f"Lille;{name};" + ";".join(_danish(means[m]) for m in months))
    export = tmp_path / "jobindsats.csv"
    export.write_text("\n".join(lines) + "\nKilde: Jobindsats.dk\n", encoding="utf-8")
    observed = tmp_path / "lille.csv"
    done = runner.invoke(caseflow, ["import", "jobindsats", str(export), "--out", str(observed)])
    assert done.exit_code == 0, done.output
    code, output = _track(scenario, observed, tmp_path / "out", "--workers", "1")
    assert code == 0, output
    stock = pd.read_csv(tmp_path / "out" / "restart.csv").set_index("state")
    for state in names:
        mean = float(monthly[(monthly.state == state) & (monthly.month == "2019-05")]["mean"].iloc[0])
        assert stock.loc[state, "observed"] == pytest.approx(round(mean, 2), abs=1e-9)
    targets = pd.read_csv(tmp_path / "out" / "targets.csv")
    assert targets["status"].tolist() == ["combined", "observed", "not_tracked", "forecast"]
