"""The page's desk without a browser: questions answered in the background and superseded, the
contract's refusals, a variant saved as an overlay that loads to the values set, and its full
report written under outputs/ with nothing anywhere else."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from smallworld import INFLOW, SHARES, TARGET_SICK, write_small

import sim
from sim.contract.parameters import get_value, scenario_data
from sim.serve.desk import Desk, Reply
from sim.serve.export import WHATIF, overlay_text

RUNS = 16


def settled(desk: Desk, page: str, wait: float = 60.0) -> Reply:
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        reply = desk.reply(page)
        if reply is not None and not reply.working:
            return reply
        time.sleep(0.05)
    raise AssertionError(f"no settled reply in {wait} s")


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Desk]:
    folder = tmp_path_factory.mktemp("desk")
    path = write_small(folder)
    made = Desk([(path, sim.load_scenario(path))], folder / "outputs", workers=2, most=RUNS)
    yield made
    made.close()


def files_outside(folder: Path) -> set[Path]:
    return {p for p in folder.rglob("*") if p.is_file() and "outputs" not in p.relative_to(folder).parts}


def test_a_question_is_answered_to_the_most_runs_and_the_base_matches_a_run(desk: Desk) -> None:
    reply = desk.ask("a", "lille", {})
    found = settled(desk, "a")
    assert found is reply and not found.error and not found.refusal
    assert found.answer is not None and found.answer.runs == RUNS and found.answer.point == ()
    ran = sim.run(desk.scenarios["lille"], runs=RUNS, seed=desk.seed_of("lille"))
    row = ran.targets.set_index("target").loc[TARGET_SICK]
    assert found.answer.probability[0] == row["probability_met"]


def test_a_new_question_supersedes_the_page_s_last(desk: Desk) -> None:
    first = desk.ask("b", "lille", {INFLOW: 7.0})
    second = desk.ask("b", "lille", {INFLOW: 9.0})
    assert second.asked > first.asked
    assert desk.point("b") == ("lille", ((INFLOW, 9.0),))
    done = settled(desk, "b")
    assert done is second and done.answer is not None and done.answer.runs == RUNS
    deadline = time.monotonic() + 30
    while first.working and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not first.working
    assert first.answer is None or first.answer.runs < RUNS  # stopped before its last level
    # the same question again keeps its reply (and its runs)
    assert desk.ask("b", "lille", {INFLOW: 9.0}) is second
    # another page's questions are its own
    assert desk.point("a") == ("lille", ())


def test_a_refused_combination_runs_nothing_and_says_why(desk: Desk) -> None:
    reply = desk.ask("c", "lille", dict.fromkeys(SHARES, 0.6))
    assert not reply.working and reply.answer is None
    assert "clock shares at week 26 sum to 1.2" in reply.refusal


def test_a_saved_overlay_loads_to_the_values_set(desk: Desk) -> None:
    before = files_outside(desk.outputs.parent)
    path = desk.save("lille", "Lille kommune, flere syge", {INFLOW: 8.5, SHARES[0]: 0.4})
    assert path.parent == desk.outputs / WHATIF and path.suffix == ".yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert data["extends"] == "../../lille.yaml"
    assert data["set"] == {INFLOW: 8.5, SHARES[0]: 0.4}
    loaded = sim.load_scenario(path)
    plain = scenario_data(loaded)
    assert loaded.name == "Lille kommune, flere syge"
    assert get_value(plain, INFLOW) == 8.5 and get_value(plain, SHARES[0]) == 0.4
    base = scenario_data(desk.scenarios["lille"])
    assert {k: v for k, v in plain.items() if k not in ("name", "inflow_per_week", "transitions")} == {
        k: v for k, v in base.items() if k not in ("name", "inflow_per_week", "transitions")}
    assert files_outside(desk.outputs.parent) == before


def test_the_full_report_is_a_run_folder_under_outputs(desk: Desk) -> None:
    before = files_outside(desk.outputs.parent)
    job = desk.report("d", "lille", "Lille kommune, flere syge", {INFLOW: 6.0})
    assert desk.report_job("d") is job
    deadline = time.monotonic() + 180
    while not job.done and time.monotonic() < deadline:
        time.sleep(0.2)
    assert job.returncode == 0, job.error
    assert job.folder.parent == desk.outputs and job.report.is_file()
    targets = (job.folder / "targets.csv").read_text(encoding="utf-8")
    assert TARGET_SICK in targets
    ran = yaml.safe_load((job.folder / "scenario.yaml").read_text(encoding="utf-8"))
    assert ran["inflow_per_week"]["sygedagpenge"]["rate"] == 6.0
    assert files_outside(desk.outputs.parent) == before


def test_overlay_text_names_its_base_relative_to_where_it_goes(tmp_path: Path) -> None:
    import datetime as dt

    base = tmp_path / "scenarios" / "x.yaml"
    values = {"a.b": 40.400000000000006, "c": 6.0}
    text = overlay_text(base, tmp_path / "outputs" / "whatif", "X, hvad nu hvis", values,
                        dt.datetime(2026, 1, 2, 3, 4))
    data = yaml.safe_load(text)
    assert data == {"extends": "../../scenarios/x.yaml", "name": "X, hvad nu hvis",
                    "set": {"a.b": 40.4, "c": 6}}
    assert text.startswith("# A what-if made on the caseflow page on 2026-01-02 03:04")
