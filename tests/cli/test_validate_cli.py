"""`caseflow validate` and `caseflow run` on bad scenario files, through the CLI.

Every problem is printed as `file:line: key.path: <bad value> … <what is allowed>`, all of them,
with exit code 1, no traceback, and nothing written. Each bad case is one change to a small
valid scenario and must give exactly one problem: no follow-on noise.
"""

from __future__ import annotations

import copy
import datetime as dt
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner, Result

from sim.cli.app import app

BASE: dict[str, Any] = {
    "name": "Testkommune 2020",
    "start": dt.date(2020, 1, 1),
    "months": 24,
    "states": {"a_dagpenge": {"group": "dagpenge"}, "sygedagpenge": {}},
    "initial": {"a_dagpenge": 100, "sygedagpenge": 50},
    "inflow_per_week": {"a_dagpenge": 5, "sygedagpenge": 10},
    "transitions": {
        "a_dagpenge": [
            {"to": "job", "rate_per_week": [[0, 0.05], [26, 0.02]]},
            {"to": "sygedagpenge", "rate_per_week": 0.003},
        ],
        "sygedagpenge": [
            {"to": "job", "rate_per_week": 0.09},
            {"to": "a_dagpenge", "at_week": 22, "share": 0.2},
            {"to": "stay", "at_week": 22, "share": "rest"},
        ],
    },
    "targets": [{"name": "Syg", "states": ["sygedagpenge"], "year": 2020, "at_most": 120}],
}


def dump(data: dict[str, Any]) -> str:
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def write(name: str, change: Callable[[dict[str, Any]], Any] | None = None) -> Path:
    """Write BASE, changed in place by `change`, or the text `change` returns, to `name`."""
    data = copy.deepcopy(BASE)
    text = change(data) if change else None
    path = Path(name)
    path.write_text(text if isinstance(text, str) else dump(data), encoding="utf-8")
    return path


def cli(*args: str) -> Result:
    result = CliRunner().invoke(app, list(args))
    # CliRunner swallows a crash into result.exception; only a clean exit is allowed
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    return result


def problems(result: Result) -> list[str]:
    return result.stderr.splitlines()


@pytest.fixture(autouse=True)
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run in an empty folder: short file names in messages, and stray outputs are visible."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_base_scenario_is_ok() -> None:
    write("good.yaml")
    result = cli("validate", "good.yaml")
    assert (result.exit_code, result.stdout, result.stderr) == (0, "good.yaml: OK\n", "")


def route(origin: str, i: int, **change: Any) -> Callable[[dict[str, Any]], None]:
    return lambda d: d["transitions"][origin][i].update(change)


def put(block: str, **change: Any) -> Callable[[dict[str, Any]], None]:
    return lambda d: d[block].update(change) if block in d else d.update({block: change})


def no_clock_stay(d: dict[str, Any]) -> None:
    d["transitions"]["sygedagpenge"][2] = {"to": "other", "at_week": 22, "share": "rest"}
    d["initial_durations"] = {"sygedagpenge": [[0, 10, 0.5], [10, 30, 0.5]]}


CASES = [
    # (id, change, key path, fragments of the message)
    ("malformed-yaml", lambda d: dump(d) + "seed: [1, 2\n", "(top level)",
     ["malformed YAML", "expected ',' or ']'", "flow sequence from line"]),
    ("tab-indent", lambda d: dump(d).replace("  a_dagpenge: 100", "\ta_dagpenge: 100"), "(top level)",
     ["malformed YAML", "indent with spaces"]),
    ("python-tag", lambda d: "!!python/object/apply:os.system [echo hi]\n", "(top level)",
     ["unsupported YAML", "python/object/apply:os.system"]),
    ("empty-file", lambda d: "# nothing yet\n", "(top level)", ["the file is empty", "name:, start:"]),
    ("not-a-mapping", lambda d: "- a_dagpenge\n", "(top level)", ["['a_dagpenge']", "YAML mapping"]),
    ("duplicated-state", lambda d: dump(d).replace("\nstates:\n", "\nstates:\n  sygedagpenge: {}\n"),
     "states.sygedagpenge", ["duplicated state", "'sygedagpenge' appears twice", "declared once"]),
    ("duplicated-key", lambda d: dump(d) + "months: 12\n", "months",
     ["duplicated key", "'months' appears twice", "only once"]),
    ("missing-required", lambda d: d.pop("months"), "months",
     ["required key is missing", "from 1 to 600"]),
    ("missing-nested", lambda d: d["targets"][0].pop("year"), "targets[0].year",
     ["required key is missing", "calendar year"]),
    ("unknown-key", lambda d: d.update(monhts=24), "monhts",
     ["'monhts'", "did you mean 'months'?", "Allowed: name"]),
    ("unknown-nested-key", route("a_dagpenge", 0, rate_per_wek=0.1), "transitions.a_dagpenge[0].rate_per_wek",
     ["did you mean 'rate_per_week'?", "Allowed: to, rate_per_week, mean_weeks, at_week, share"]),
    ("unknown-state-key", put("states", a_dagpenge={"grup": "dagpenge"}), "states.a_dagpenge.grup",
     ["did you mean 'group'?", "Allowed: group, label"]),
    ("unknown-route-state", route("a_dagpenge", 1, to="sygedagpenger"), "transitions.a_dagpenge[1].to",
     ["'sygedagpenger'", "did you mean 'sygedagpenge'?", "Allowed: a_dagpenge, sygedagpenge, job"]),
    ("undeclared-catalogue-state", route("a_dagpenge", 1, to="kontanthjaelp"), "transitions.a_dagpenge[1].to",
     ["'kontanthjaelp'", "not declared", "add it under states"]),
    ("unknown-origin", put("transitions", kontanthjelp=[{"to": "job", "rate_per_week": 0.1}]),
     "transitions.kontanthjelp", ["'kontanthjelp'", "allowed: a_dagpenge, sygedagpenge, job"]),
    ("unknown-target-state", lambda d: d["targets"][0].update(states=["sygdagpenge"]),
     "targets[0].states[0]", ["'sygdagpenge'", "did you mean 'sygedagpenge'?", "total"]),
    ("unknown-inflow-state", put("inflow_per_week", sygdagpenge=3), "inflow_per_week.sygdagpenge",
     ["'sygdagpenge'", "did you mean 'sygedagpenge'?"]),
    ("negative-rate", route("a_dagpenge", 1, rate_per_week=-0.1), "transitions.a_dagpenge[1].rate_per_week",
     ["-0.1", "a number ≥ 0 or a list of [from_week, value] pairs"]),
    ("non-numeric-rate", route("a_dagpenge", 1, rate_per_week="fast"),
     "transitions.a_dagpenge[1].rate_per_week", ["'fast' is not a number", "a rate per week must be"]),
    ("negative-band-rate", route("a_dagpenge", 0, rate_per_week=[[0, 0.1], [26, -0.2]]),
     "transitions.a_dagpenge[0].rate_per_week", ["[[0, 0.1], [26, -0.2]]", "-0.2", "≥ 0"]),
    ("band-weeks-not-increasing", route("a_dagpenge", 0, rate_per_week=[[0, 0.1], [26, 0.1], [13, 0.2]]),
     "transitions.a_dagpenge[0].rate_per_week", ["[0.0, 26.0, 13.0]", "not strictly increasing"]),
    ("band-not-from-week-0", route("a_dagpenge", 0, mean_weeks=[[4, 20]], rate_per_week=None),
     "transitions.a_dagpenge[0].mean_weeks", ["week 4", "must start at week 0"]),
    ("non-numeric-inflow", put("inflow_per_week", sygedagpenge="many"), "inflow_per_week.sygedagpenge.rate",
     ["'many'", "rate must be a number"]),
    ("negative-inflow", put("inflow_per_week", sygedagpenge=-3), "inflow_per_week.sygedagpenge.rate",
     ["-3", "rate must be ≥ 0"]),
    ("yes-no-as-number", put("initial", sygedagpenge=True), "initial.sygedagpenge",
     ["True", "a number is needed"]),
    ("huge-inflow", put("inflow_per_week", sygedagpenge=1e9), "inflow_per_week.sygedagpenge.rate",
     ["1000000000.0", "rate must be ≤ 50,000"]),
    ("huge-stock", put("initial", sygedagpenge=3e7), "initial.sygedagpenge", ["30000000.0", "≤ 2,000,000"]),
    ("bad-seasonality", put("inflow_per_week", sygedagpenge={"rate": 1, "seasonality": [1] * 11}),
     "inflow_per_week.sygedagpenge.seasonality", ["[1, 1,", "12 monthly multipliers", "got 11"]),
    ("share-above-1", route("sygedagpenge", 1, share=1.5), "transitions.sygedagpenge[1].share",
     ["1.5", "outside [0, 1]"]),
    ("share-negative", route("sygedagpenge", 1, share=-0.1), "transitions.sygedagpenge[1].share",
     ["-0.1", "outside [0, 1]"]),
    ("shares-sum-above-1", route("sygedagpenge", 2, share=0.9), "transitions.sygedagpenge[2].share",
     ["week 22 sum to 1.1", "at most 1"]),
    ("shares-sum-below-1", route("sygedagpenge", 2, share=0.5), "transitions.sygedagpenge[2].share",
     ["sum to 0.7, 0.3 short of 1", "share: rest"]),
    ("stay-with-rate", route("sygedagpenge", 2, rate_per_week=0.1),
     "transitions.sygedagpenge[2].rate_per_week",
     ["0.1 is not allowed", "takes no rate", "remove rate_per_week"]),
    ("months-zero", lambda d: d.update(months=0), "months",
     ["0 is not allowed", "months must be a whole number from 1 to 600"]),
    ("months-fraction", lambda d: d.update(months=2.5), "months", ["2.5", "whole number from 1 to 600"]),
    ("months-text", lambda d: d.update(months="two years"), "months",
     ["'two years'", "whole number from 1 to 600"]),
    ("months-too-many", lambda d: d.update(months=601), "months", ["601", "from 1 to 600"]),
    ("start-not-a-date", lambda d: d.update(start="2020-13-01"), "start", ["'2020-13-01'", "a date like"]),
    ("start-mid-month", lambda d: d.update(start=dt.date(2020, 1, 15)), "start",
     ["2020-01-15", "first of a month"]),
    ("target-year-outside", lambda d: d["targets"][0].update(year=2023), "targets[0].year",
     ["2023 is outside the horizon", "2020–2021"]),
    ("exit-as-initial-origin", put("initial", job=5), "initial.job", ["'job' is an exit state", "origin"]),
    ("exit-as-inflow-origin", put("inflow_per_week", pension=1), "inflow_per_week.pension",
     ["'pension' is an exit state", "benefit states only: a_dagpenge, sygedagpenge"]),
    ("exit-declared-as-state", put("states", job={}), "states.job", ["'job' is a built-in exit"]),
    ("exit-to-exit", put("transitions", job=[{"to": "other", "rate_per_week": 0.01}]),
     "transitions.job[0].to", ["'other' is an exit", "must lead into a benefit state"]),
    ("union-wrong-type", lambda d: d.update(observed=[{"period": [2019], "state": "total", "value": 1}]),
     "observed[0].period", ["[2019] is not allowed", "a whole number or text"]),
    ("routes-not-a-list", put("transitions", a_dagpenge={"to": "job", "rate_per_week": 0.1}),
     "transitions.a_dagpenge", ["{'to': 'job'", "must be a list"]),
    ("route-without-rate", route("a_dagpenge", 1, rate_per_week=None), "transitions.a_dagpenge[1]",
     ["{'to': 'sygedagpenge', 'rate_per_week': None}", "a route needs rate_per_week"]),
    ("stock-without-way-out", lambda d: d["transitions"].pop("a_dagpenge"), "initial.a_dagpenge",
     ["100 persons", "no routes out", "give initial_durations.a_dagpenge or a route out"]),
    ("stock-last-band-rate-0",
     put("transitions", a_dagpenge=[{"to": "job", "rate_per_week": [[0, 0.1], [52, 0]]}]),
     "initial.a_dagpenge", ["100 persons", "from week 52", "total rate is 0", "initial_durations"]),
    ("durations-past-clock", no_clock_stay, "initial_durations.sygedagpenge[1]",
     ["[10, 30, 0.5]", "past week 22", "end by week 22"]),
]


@pytest.mark.parametrize(("change", "path", "fragments"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_scenario_names_file_path_value_and_what_is_allowed(
        change: Callable[[dict[str, Any]], Any], path: str, fragments: list[str]) -> None:
    write("bad.yaml", change)
    result = cli("validate", "bad.yaml")
    assert result.exit_code == 1
    assert result.stdout == ""
    (line,) = problems(result)
    assert re.match(rf"bad\.yaml(:\d+)?: {re.escape(path)}: ", line), line
    for fragment in fragments:
        assert fragment in line, line


def test_the_line_number_points_at_the_bad_value() -> None:
    write("bad.yaml", route("sygedagpenge", 1, share=1.5))
    (line,) = problems(cli("validate", "bad.yaml"))
    number = int(line.split(":")[1])
    assert "share: 1.5" in Path("bad.yaml").read_text(encoding="utf-8").splitlines()[number - 1]


def test_missing_file() -> None:
    result = cli("validate", "nowhere.yaml")
    assert result.exit_code == 1
    assert problems(result) == [
        "nowhere.yaml: (top level): no such file; give the path of a scenario YAML file"]


def test_every_problem_is_reported_not_only_the_first() -> None:
    def three(d: dict[str, Any]) -> None:
        d["months"] = 0                                               # schema
        d["inflow_per_week"]["sygedagpenge"] = -1                     # schema, another block
        d["transitions"]["a_dagpenge"][1]["to"] = "sygdagpenge"       # cross-reference
    write("bad.yaml", three)
    lines = problems(cli("validate", "bad.yaml"))
    assert [line.split(": ")[1] for line in lines] == [
        "months", "inflow_per_week.sygedagpenge.rate", "transitions.a_dagpenge[1].to"]


def test_problems_after_a_refused_item_keep_their_own_index() -> None:
    def two(d: dict[str, Any]) -> None:
        d["targets"][0]["at_most"] = "many"
        d["targets"].append({"name": "B", "states": ["sygdagpenge"], "year": 2020, "at_most": 1})
        d["transitions"]["a_dagpenge"][0]["rate_per_week"] = -1
    write("bad.yaml", two)
    paths = [line.split(": ")[1] for line in problems(cli("validate", "bad.yaml"))]
    assert sorted(paths) == sorted(["targets[0].at_most", "targets[1].states[0]",
                                    "transitions.a_dagpenge[0].rate_per_week"])


def test_run_validates_first_and_writes_nothing(in_tmp: Path) -> None:
    write("bad.yaml", lambda d: (route("a_dagpenge", 0, rate_per_week=-1)(d),
                                 route("a_dagpenge", 1, to="sygdagpenge")(d)))
    expected = problems(cli("validate", "bad.yaml"))
    assert len(expected) == 2
    for extra in (["--out", str(in_tmp / "run")], []):
        result = cli("run", "bad.yaml", "--runs", "2", "--workers", "1", *extra)
        assert result.exit_code == 1
        assert problems(result) == expected
    assert sorted(p.name for p in in_tmp.iterdir()) == ["bad.yaml"]  # no run/, no outputs/


def test_run_on_the_good_file_does_write_the_run_folder(in_tmp: Path) -> None:
    # the control for the test above: the same command on a valid file creates the folder
    write("good.yaml")
    result = cli("run", "good.yaml", "--runs", "2", "--workers", "1", "--out", str(in_tmp / "run"))
    assert result.exit_code == 0, result.output
    assert (in_tmp / "run" / "monthly.csv").exists()


def test_validate_several_files() -> None:
    write("good.yaml")
    write("bad.yaml", lambda d: d.update(months=0))
    result = cli("validate", "good.yaml", "bad.yaml", "gone.yaml", "good.yaml")
    assert result.exit_code == 1
    assert result.stdout == "good.yaml: OK\ngood.yaml: OK\n"
    assert [line.split(":")[0] for line in problems(result)] == ["bad.yaml", "gone.yaml"]


def test_validate_several_good_files_exits_0() -> None:
    write("a.yaml")
    write("b.yaml", lambda d: d.update(name="B"))
    result = cli("validate", "a.yaml", "b.yaml")
    assert (result.exit_code, result.stdout) == (0, "a.yaml: OK\nb.yaml: OK\n")


def test_the_installed_command_prints_no_traceback() -> None:
    write("bad.yaml", lambda d: dump(d) + "months: [\n")
    command = Path(sys.executable).with_name("caseflow")
    done = subprocess.run([str(command), "validate", "bad.yaml"], capture_output=True, text=True)
    assert done.returncode == 1
    assert done.stderr.startswith("bad.yaml:") and "malformed YAML" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout
