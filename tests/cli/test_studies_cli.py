"""`caseflow sensitivity` and `caseflow goal-seek` end to end: their files, the cost said before a
study starts, plain refusals, and the `--help` examples run with small numbers."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from sim.batch.goalseek import COLUMNS as GOAL_COLUMNS
from sim.batch.sensitivity import COLUMNS as SENSITIVITY_COLUMNS
from sim.cli.studies import goal_seek_command, sensitivity_command

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = """
name: Lille kommune 2019
start: 2018-07-01
months: 18
seed: 11
states: {sygedagpenge: {}, kontanthjaelp: {}}
initial: {sygedagpenge: 10}
inflow_per_week: {sygedagpenge: 5}
transitions:
  sygedagpenge: [{to: job, rate_per_week: 0.5}]
  kontanthjaelp: [{to: job, rate_per_week: 0.05}]
targets:
  - {name: Sygedagpenge højst 10, states: [sygedagpenge], year: 2019, at_most: 10}
assumptions:
  - {path: inflow_per_week.sygedagpenge.rate, low: 4, high: 6, reason: planen giver ingen tilgang}
  - {path: transitions.kontanthjaelp.job.rate_per_week, low: 0.01, high: 0.1, reason: ukendt}
"""

runner = CliRunner()
app = typer.Typer()
app.command(name="sensitivity")(sensitivity_command)
app.command(name="goal-seek")(goal_seek_command)


@pytest.fixture()
def scenario_file(tmp_path: Path) -> Path:
    path = tmp_path / "lille.yaml"
    path.write_text(SCENARIO, encoding="utf-8")
    return path


def test_sensitivity_writes_its_files_and_says_its_cost_first(scenario_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "study"
    done = runner.invoke(app, ["sensitivity", str(scenario_file), "--samples", "8", "--runs", "2", "-w", "1",
                               "--out", str(out), "--lang", "en"])
    assert done.exit_code == 0, done.output
    first = done.output.splitlines()[0]
    assert first.startswith("Sensitivity (sobol) of 2 values: 32 points × 2 runs = 64 replications of about ")
    assert "(timed on 3)" in first
    indices = pd.read_csv(out / "sensitivity.csv")
    assert list(indices.columns) == list(SENSITIVITY_COLUMNS) and len(indices) == 2 * 2
    empty = indices[indices["parameter"] == "transitions.kontanthjaelp.job.rate_per_week"]
    assert (empty[["S1", "ST"]] == 0).all().all()
    assert len(pd.read_csv(out / "points.csv")) == 32
    assert list(pd.read_csv(out / "factors.csv")["source"]) == ["assumption", "assumption"]
    facts = json.loads((out / "study.json").read_text(encoding="utf-8"))
    assert [facts[k] for k in ("study", "seed", "points", "replications")] == ["sensitivity", 11, 32, 64]
    assert (out / "charts" / "tornado.png").is_file() and (out / "scenario.yaml").is_file()
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "moves most with inflow_per_week.sygedagpenge.rate" in page
    assert not (out / "running.json").exists()
    assert f"Wrote {out}/ (seed 11)" in done.output


def test_goal_seek_writes_its_files(scenario_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "seek"
    done = runner.invoke(app, ["goal-seek", str(scenario_file), "--target", "Sygedagpenge højst 10",
                               "--lever", "inflow_per_week.sygedagpenge.rate", "--bounds", "2,10",
                               "--runs", "50", "--max-runs", "200", "-w", "1", "--out", str(out),
                               "--lang", "en"])
    assert done.exit_code == 0, done.output
    assert done.output.splitlines()[0].startswith(
        "Goal-seek of inflow_per_week.sygedagpenge.rate from 2 to 10: at most 3,200 replications")
    row = pd.read_csv(out / "goal-seek.csv").iloc[0]
    assert list(pd.read_csv(out / "goal-seek.csv").columns) == list(GOAL_COLUMNS)
    assert row["status"] == "found" and row["low"] <= 4.65 <= row["high"]  # the closed form: 4.65
    assert f"inflow_per_week.sygedagpenge.rate = {row['value']:g}" in done.output
    steps = pd.read_csv(out / "goal-seek-steps.csv")
    assert len(steps) == row["evaluations"] and (out / "charts" / "goal-seek.png").is_file()
    assert json.loads((out / "study.json").read_text(encoding="utf-8"))["study"] == "goal-seek"


def test_goal_seek_says_plainly_when_the_bounds_cannot_reach_it(scenario_file: Path, tmp_path: Path) -> None:
    done = runner.invoke(app, ["goal-seek", str(scenario_file), "--target", "Sygedagpenge højst 10",
                               "--lever", "inflow_per_week.sygedagpenge.rate", "--bounds", "8,10", "-w", "1",
                               "--out", str(tmp_path / "none")])
    assert done.exit_code == 0, done.output
    assert "Ingen værdi af inflow_per_week.sygedagpenge.rate fra 8 til 10 giver" in done.output


@pytest.mark.parametrize(("args", "code", "says"), [
    (["sensitivity", "{s}", "--parameter", "inflow_per_week.sygedagpenge.rate:4-6"], 2, "PATH=LO,HI"),
    (["sensitivity", "{s}", "--parameter", "inflow_per_week.sygedagpenge.rate=4"], 2, "LO,HI"),
    (["sensitivity", "{s}", "--parameter", "nowhere.rate=1,2"], 1, "has no key 'nowhere'"),
    (["sensitivity", "{s}", "--method", "fast"], 2, "fast"),
    (["goal-seek", "{s}", "--target", "nope", "--lever", "inflow_per_week.sygedagpenge.rate"], 1,
     "no target named 'nope'"),
    (["goal-seek", "{s}", "--target", "Sygedagpenge højst 10", "--lever", "inflow_per_week.sygedagpenge.rate",
      "--bounds", "-3,6"], 1, "makes the scenario invalid"),
    (["goal-seek", "{s}", "--target", "Sygedagpenge højst 10", "--lever", "x", "--bounds", "3"], 2, "LO,HI"),
])
def test_refusals_write_nothing(scenario_file: Path, tmp_path: Path, args: list[str], code: int,
                                says: str) -> None:
    out = tmp_path / "refused"
    done = runner.invoke(app, [a.replace("{s}", str(scenario_file)) for a in args] + ["--out", str(out)])
    assert done.exit_code == code, done.output
    assert says in done.output
    assert not out.exists()


def _examples(doc: str | None) -> list[list[str]]:
    """Each `Example:` paragraph of a docstring (continued on the lines below it), as arguments."""
    found, current = [], None
    for line in (doc or "").splitlines():
        if "Example:" in line:
            current = [line.split("Example:", 1)[1].strip()]
            found.append(current)
        elif current is not None and line.strip():
            current.append(line.strip())
        else:
            current = None
    return [shlex.split(" ".join(parts)) for parts in found]


SMALL = {"--runs": "1", "--samples": "2", "--max-runs": "2"}
"""The examples' numbers, made small: each example then runs in a few seconds."""


def _run_examples(command: object, which: slice, folder: Path) -> None:
    """Run the chosen `--help` examples of a verb with small numbers, each in a folder of its own."""
    examples = _examples(getattr(command, "__doc__", None))
    assert len(examples) >= 2
    for k, words in list(enumerate(examples))[which]:
        assert words[0] == "caseflow"
        args = [SMALL.get(before, word) for before, word in zip(["", *words[:-1]], words, strict=True)]
        done = runner.invoke(app, [*args[1:], "-w", "1", "-q", "--out", str(folder / f"example-{k}")])
        assert done.exit_code == 0, (args, done.output)
        assert (folder / f"example-{k}" / "report.html").is_file()


@pytest.mark.parametrize("command", [sensitivity_command, goal_seek_command],
                         ids=["sensitivity", "goal-seek"])
def test_the_first_example_runs(command: object, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    _run_examples(command, slice(0, 1), tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize("command", [sensitivity_command, goal_seek_command],
                         ids=["sensitivity", "goal-seek"])
def test_every_help_example_runs(command: object, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    _run_examples(command, slice(None), tmp_path)


def test_the_commands_defaults_are_the_studies() -> None:
    """The defaults the command line states without loading the studies are theirs."""
    from sim.batch import goalseek, sensitivity
    from sim.cli import studies

    assert studies.DEFAULT_RUNS == sensitivity.DEFAULT_RUNS
    assert (studies.DEFAULT_SEEK_RUNS, studies.DEFAULT_MAX_RUNS) == (goalseek.DEFAULT_RUNS,
                                                                     goalseek.DEFAULT_MAX_RUNS)


def test_help_explains_with_examples() -> None:
    for verb, words in (("sensitivity", ["--method", "--parameter", "--samples"]),
                        ("goal-seek", ["--target", "--lever", "--probability", "--bounds", "--integer"])):
        done = runner.invoke(app, [verb, "--help"])
        assert done.exit_code == 0 and "Example:" in done.output
        assert all(w in done.output for w in words)
