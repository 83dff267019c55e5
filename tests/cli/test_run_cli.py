"""`caseflow run` end to end: the run folder's files, their columns, and never overwriting."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

import sim
from sim.cli.app import app, run

SCENARIO = """
name: Lille kommune 2019
start: 2019-01-01
months: 12
seed: 11
states: {a_dagpenge: {}, sygedagpenge: {}, fleksjob: {}}
initial: {a_dagpenge: 120, sygedagpenge: 80, fleksjob: 60}
inflow_per_week: {a_dagpenge: 4, sygedagpenge: 5}
transitions:
  a_dagpenge: [{to: job, rate_per_week: 0.04}]
  sygedagpenge:
    - {to: job, mean_weeks: 10}
    - {to: fleksjob, at_week: 30, share: 0.2}
    - {to: other, at_week: 30, share: rest}
  fleksjob: [{to: pension, rate_per_week: 0.004}]
targets:
  - {name: Sygedagpenge højst 60, states: [sygedagpenge], year: 2019, at_most: 60}
  - {name: Dagpenge-gruppen mindst 50, groups: [dagpenge], year: 2019, at_least: 50}
"""

runner = CliRunner()


@pytest.fixture()
def scenario_file(tmp_path: Path) -> Path:
    path = tmp_path / "lille.yaml"
    path.write_text(SCENARIO, encoding="utf-8")
    return path


def test_run_writes_the_contracted_files(scenario_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    result = runner.invoke(app, ["run", str(scenario_file), "--runs", "6", "--workers", "1",
                                 "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "Sygedagpenge højst 60" in result.output
    monthly = pd.read_csv(out / "monthly.csv")
    stats = ["mean", "sd", "p05", "p10", "p50", "p90", "p95"]
    assert list(monthly.columns) == ["month", "state", *stats, *(f"payment_{s}" for s in stats)]
    assert len(monthly) == 12 * 4
    assert set(monthly["state"]) == {"a_dagpenge", "sygedagpenge", "fleksjob", "total"}
    assert monthly["month"].iloc[0] == "2019-01"
    by_month = monthly.pivot(index="month", columns="state", values="mean")
    parts = by_month[["a_dagpenge", "sygedagpenge", "fleksjob"]].sum(axis=1)
    pd.testing.assert_series_equal(parts, by_month["total"], check_names=False)
    assert (monthly["p05"] <= monthly["p50"]).all() and (monthly["p50"] <= monthly["p95"]).all()
    yearly = pd.read_csv(out / "yearly.csv")
    assert list(yearly.columns[:2]) == ["year", "state"] and set(yearly["year"]) == {2019}
    targets = pd.read_csv(out / "targets.csv")
    assert list(targets.columns) == ["target", "metric", "basis", "base", "sense", "threshold",
                                     "probability_met", "probability_se", "probability_low95",
                                     "probability_high95", "runs_for_002", "mean", "p10", "p50", "p90",
                                     "undefined_share", "set_by_assumption"]
    assert targets["probability_met"].between(0, 1).all()
    reps = pd.read_csv(out / "replications.csv")
    assert len(reps) == 6 * 4 and reps["replication"].nunique() == 6
    flows = pd.read_csv(out / "flows.csv")
    assert set(flows.columns) == {"month", "from", "to", "mean", "sd"}
    assert (flows["from"] == "outside").any()
    facts = json.loads((out / "run.json").read_text())
    assert facts["seed"] == 11 and facts["runs"] == 6 and facts["caseflow_version"]
    resolved = yaml.safe_load((out / "scenario.yaml").read_text())
    assert resolved["seed"] == 11


def test_resolved_scenario_repeats_the_run_exactly(scenario_file: Path, tmp_path: Path) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    assert runner.invoke(app, ["run", str(scenario_file), "-n", "4", "-w", "1", "--seed", "99",
                               "--out", str(first)]).exit_code == 0
    again = runner.invoke(app, ["run", str(first / "scenario.yaml"), "-n", "4", "-w", "2",
                                "--out", str(second)])
    assert again.exit_code == 0, again.output
    for name in ("monthly.csv", "yearly.csv", "targets.csv", "replications.csv", "flows.csv"):
        assert (first / name).read_bytes() == (second / name).read_bytes(), name


def test_a_run_never_overwrites_another(scenario_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                        ) -> None:
    out = tmp_path / "taken"
    out.mkdir()
    (out / "monthly.csv").write_text("keep me")
    result = runner.invoke(app, ["run", str(scenario_file), "-n", "2", "--out", str(out)])
    assert result.exit_code == 1
    assert "not empty" in result.output
    assert (out / "monthly.csv").read_text() == "keep me"
    monkeypatch.chdir(tmp_path)
    for _ in range(2):
        assert runner.invoke(app, ["run", str(scenario_file), "-n", "2", "-w", "1"]).exit_code == 0
    folders = sorted(p.name for p in (tmp_path / "outputs").iterdir())
    assert len(folders) == 2 and all(f.startswith("lille-kommune-2019-") for f in folders)


def test_help_shows_examples() -> None:
    for verb in ("run", "validate"):
        result = runner.invoke(app, [verb, "--help"])
        assert result.exit_code == 0 and "Example" in result.output


def test_a_horizon_without_a_full_calendar_year_still_runs(tmp_path: Path) -> None:
    text = SCENARIO.replace("start: 2019-01-01", "start: 2019-03-01").replace("months: 12", "months: 6")
    text = text[: text.index("targets:")] + "economics: {}\n"
    path = tmp_path / "short.yaml"
    path.write_text(text, encoding="utf-8")
    out = tmp_path / "run"
    result = runner.invoke(app, ["run", str(path), "-n", "3", "-w", "1", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert len(pd.read_csv(out / "monthly.csv")) == 6 * 4
    assert pd.read_csv(out / "yearly.csv").empty
    assert len(pd.read_csv(out / "costs.csv")) == 6 * 4
    assert "intet helt kalenderår" in result.output


def test_the_help_examples_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each `caseflow run --help` example, with 2 replications, in a folder of its own; the
    resume example on a run stopped after its replications were stored."""
    from sim.batch.runfolder import scenario_hash

    root = Path(__file__).resolve().parents[2]
    monkeypatch.chdir(root)
    examples = [line.split("Example:", 1)[1].split() for line in (run.__doc__ or "").splitlines()
                if "Example:" in line]
    assert len(examples) >= 5
    for k, words in enumerate(examples):
        args = [("2" if before == "--runs" else word) for before, word in zip(["", *words[:-1]], words,
                                                                               strict=True)]
        if "--resume" in args:
            stopped = tmp_path / "stopped"
            done = runner.invoke(app, ["run", "scenarios/taarnby-2018.yaml", "-n", "2", "-w", "1",
                                       "--no-assumption-check", "--out", str(stopped)])
            assert done.exit_code == 0, done.output
            scenario = sim.load_scenario(stopped / "scenario.yaml")
            seed = json.loads((stopped / "run.json").read_text(encoding="utf-8"))["seed"]
            (stopped / "running.json").write_text(json.dumps({
                "status": "interrupted", "seed": seed, "runs": 2, "assumption_runs": 0, "lang": "da",
                "caseflow_version": sim.__version__, "scenario_sha256": scenario_hash(scenario, seed)}))
            args[args.index("--resume") + 1] = str(stopped)
        else:
            args += ["--out", str(tmp_path / f"example-{k}")]
        result = runner.invoke(app, args[1:])
        assert result.exit_code == 0, (args, result.output)
