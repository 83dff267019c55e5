"""`caseflow run` checks a scenario's assumptions: assumptions.csv and targets.csv's
set_by_assumption, skipped with --no-assumption-check, the same for any --workers."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from sim.batch.assumptions import COLUMNS, DEFAULT_RUNS
from sim.cli.app import DEFAULT_ASSUMPTION_RUNS, app

SCENARIO = """
name: Antaget tilgang 2018
start: 2018-01-01
months: 2
seed: 5
states: {a_dagpenge: {}, sygedagpenge: {}}
inflow_per_week:
  a_dagpenge: {rate: 20, seasonality: [1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]}
  sygedagpenge: {rate: 10, seasonality: [1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]}
targets:
  - {name: A-dagpenge mindst 90, states: [a_dagpenge], month: 2018-02, at_least: 89.5}
  - {name: A-dagpenge mindst 50, states: [a_dagpenge], month: 2018-02, at_least: 49.5}
assumptions:
  - {path: inflow_per_week.a_dagpenge.rate, low: 15, high: 25, reason: Planen giver ingen tilgang}
  - {path: inflow_per_week.sygedagpenge, low: 5, high: 15, reason: Ukendt}
"""
"""January arrivals only, nothing leaves: February's persons are Poisson(λ · 31/7); at λ = 15 and 25
a-dagpenge's P(≥ 90) is 0.003 and 0.98 (see tests/batch/test_assumptions.py)."""

runner = CliRunner()


@pytest.fixture()
def scenario_file(tmp_path: Path) -> Path:
    path = tmp_path / "antaget.yaml"
    path.write_text(SCENARIO, encoding="utf-8")
    return path


def run(scenario_file: Path, out: Path, *options: str) -> str:
    result = runner.invoke(app, ["run", str(scenario_file), "--runs", "40", "--out", str(out), *options],
                           env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    return result.output


def set_by(out: Path) -> dict[str, str]:
    targets = pd.read_csv(out / "targets.csv", keep_default_na=False)
    return dict(zip(targets["target"], targets["set_by_assumption"], strict=True))


def test_run_checks_the_assumptions(scenario_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    output = run(scenario_file, out, "--workers", "1", "--assumption-runs", "30")
    frame = pd.read_csv(out / "assumptions.csv")
    assert list(frame.columns) == list(COLUMNS) and len(frame) == 2 * 2 and set(frame["runs"]) == {30}
    assert set_by(out) == {"A-dagpenge mindst 90": "inflow_per_week.a_dagpenge.rate",
                           "A-dagpenge mindst 50": ""}
    assert "afgøres af" in output and "inflow_per_week.a_dagpenge.rate" in output
    assert "assumptions.csv" in output


def test_no_assumption_check_writes_no_table_and_leaves_the_column_empty(scenario_file: Path,
                                                                          tmp_path: Path) -> None:
    out = tmp_path / "run"
    output = run(scenario_file, out, "--workers", "1", "--no-assumption-check")
    assert not (out / "assumptions.csv").exists()
    assert set(set_by(out).values()) == {""}
    assert "afgøres af" not in output


def test_one_and_two_workers_write_the_same_assumptions_csv(scenario_file: Path, tmp_path: Path) -> None:
    run(scenario_file, tmp_path / "one", "--workers", "1")
    run(scenario_file, tmp_path / "two", "--workers", "2")
    for name in ("assumptions.csv", "targets.csv"):
        assert (tmp_path / "one" / name).read_bytes() == (tmp_path / "two" / name).read_bytes(), name


def test_help_says_what_the_check_costs() -> None:
    result = runner.invoke(app, ["run", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    text = " ".join(result.output.split())
    assert "--no-assumption-check" in text and "--assumption-runs" in text
    assert "2 × (assumed values)" in text and "--no-assumption-check" in text.split("Example")[-1]
    assert DEFAULT_ASSUMPTION_RUNS == DEFAULT_RUNS  # the command line's default is the check's
