"""`caseflow compare BASE_RUN_DIR VARIANT`, `--set` on run and compare, and their help examples.

A saved base gives the comparison folder an ordinary compare writes (byte for byte but for the
command and the dates), runs only the variant, leaves the saved run as it was, and is refused
with its reason when its seed, runs, store or version would not pair.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import sim
from sim.batch.compare import NotComparable, SavedBaseError
from sim.batch.runfolder import scenario_hash
from sim.cli.app import app, compare

ROOT = Path(__file__).resolve().parents[2]

BASE = """\
name: Lille kommune 2019
start: 2019-01-01
months: 12
seed: 11
states: {a_dagpenge: {}, sygedagpenge: {}, kontanthjaelp_jobparat: {}}
initial: {a_dagpenge: 120, sygedagpenge: 80, kontanthjaelp_jobparat: 40}
inflow_per_week: {a_dagpenge: 4, sygedagpenge: 5}
transitions:
  a_dagpenge:
    - {to: job, rate_per_week: 0.04}
    - {to: kontanthjaelp_jobparat, at_week: 30, share: 0.3}
    - {to: other, at_week: 30, share: rest}
  sygedagpenge: [{to: job, mean_weeks: 10}]
  kontanthjaelp_jobparat: [{to: job, rate_per_week: 0.02}]
interventions:
  - {name: Kursus, states: [a_dagpenge], from_week: 8, places: 4, duration_weeks: 4,
     effects: {after: {job: 1.3}, after_weeks: 13}}
targets:
  - {name: Dagpenge højst 150, states: [a_dagpenge], year: 2019, at_most: 150}
"""
VARIANT = "extends: base.yaml\nname: Mere kursus\ninterventions:\n  - {name: Kursus, places: 12}\n"
ELSEWHERE = """\
name: Et andet sted 2019
start: 2019-01-01
months: 12
states: {ressourceforloeb: {}}
initial: {ressourceforloeb: 30}
transitions:
  ressourceforloeb: [{to: job, rate_per_week: 0.01}]
"""

runner = CliRunner()


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with base.yaml, variant.yaml and run/, a finished 6-run `caseflow run` of the base."""
    root = tmp_path_factory.mktemp("saved")
    (root / "base.yaml").write_text(BASE, encoding="utf-8")
    (root / "variant.yaml").write_text(VARIANT, encoding="utf-8")
    (root / "elsewhere.yaml").write_text(ELSEWHERE, encoding="utf-8")
    done = runner.invoke(app, ["run", str(root / "base.yaml"), "-n", "6", "-w", "1",
                               "--out", str(root / "run")])
    assert done.exit_code == 0, done.output
    return root


def tree(folder: Path) -> dict[str, bytes]:
    """Every file under `folder` by relative path, with its bytes."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


VARYING = ("run.json", "report.html", "report.xlsx", "run.log", "scenario.yaml")
"""Files that name the command, its folder or the time: compared apart."""


def test_a_saved_base_gives_the_folder_an_ordinary_compare_writes(saved: Path, tmp_path: Path) -> None:
    before = tree(saved / "run")
    reused = runner.invoke(app, ["compare", str(saved / "run"), str(saved / "variant.yaml"), "-w", "1",
                                 "--out", str(tmp_path / "reused")])
    assert reused.exit_code == 0, reused.output
    ordinary = runner.invoke(app, ["compare", str(saved / "base.yaml"), str(saved / "variant.yaml"),
                                   "-n", "6", "-w", "1", "--out", str(tmp_path / "ordinary")])
    assert ordinary.exit_code == 0, ordinary.output
    a, b = tree(tmp_path / "reused"), tree(tmp_path / "ordinary")
    assert a.keys() == b.keys()
    assert "base/store/monthly.npy" in a and "base/report.html" in a and "differences.csv" in a
    for name in a:
        if Path(name).name not in VARYING:
            assert a[name] == b[name], name
    for side in ("base", "variant"):
        text = {k: v.decode().replace(str(tmp_path / k), "") for k, v in
                (("reused", a[f"{side}/scenario.yaml"]), ("ordinary", b[f"{side}/scenario.yaml"]))}
        assert text["reused"] == text["ordinary"]
        facts = [json.loads(x[f"{side}/run.json"]) for x in (a, b)]
        for key in ("scenario", "seed", "runs", "caseflow_version", "lang"):
            assert facts[0][key] == facts[1][key], key
    assert tree(saved / "run") == before  # the saved run is as it was
    assert "reused from" in a["run.log"].decode()
    assert not (saved / "run" / "base").exists()


def test_only_the_variant_runs(saved: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import sim.batch.compare as module

    names: list[tuple[str, bool]] = []
    real = module.run

    def counting(scenario: sim.Scenario, *args: object, **kwargs: object) -> sim.RunResult:
        result = real(scenario, *args, **kwargs)  # type: ignore[arg-type]
        names.append((scenario.name, bool(kwargs.get("resume"))))
        return result

    monkeypatch.setattr(module, "run", counting)
    done = runner.invoke(app, ["compare", str(saved / "run"), str(saved / "variant.yaml"), "-w", "1",
                               "--out", str(tmp_path / "c")])
    assert done.exit_code == 0, done.output
    assert names == [("Lille kommune 2019", True), ("Mere kursus", False)]


def test_sim_compare_takes_a_run_folder(saved: Path) -> None:
    variant = sim.load_scenario(saved / "variant.yaml")
    from_folder = sim.compare(saved / "run", variant)
    from_scenario = sim.compare(sim.load_scenario(saved / "base.yaml"), variant, runs=6)
    pd.testing.assert_frame_equal(from_folder.differences, from_scenario.differences)
    pd.testing.assert_frame_equal(from_folder.base.yearly, from_scenario.base.yearly)
    assert (from_folder.base.runs, from_folder.base.seed) == (6, 11)
    with pytest.raises(SavedBaseError, match="--seed 12 differs from the seed 11"):
        sim.compare(saved / "run", variant, seed=12)
    with pytest.raises(SavedBaseError, match="--runs 7 differs from the 6 runs"):
        sim.compare(str(saved / "run"), variant, runs=7)


def test_arrays_of_another_scenario_are_refused_and_nothing_is_kept(saved: Path, tmp_path: Path) -> None:
    broken = tmp_path / "run"
    shutil.copytree(saved / "run", broken)
    (broken / "store" / "programmes.npy").unlink()  # an array the scenario's programmes need
    out = tmp_path / "c"
    done = runner.invoke(app, ["compare", str(broken), str(saved / "variant.yaml"), "-w", "1",
                               "--out", str(out)])
    assert done.exit_code == 1
    assert f"BASE_RUN_DIR {broken / 'store'} does not hold the arrays of 'Lille kommune 2019'" in done.output
    assert "programmes.npy" in done.output and not out.exists()
    shutil.rmtree(broken / "store")
    done = runner.invoke(app, ["compare", str(broken), str(saved / "variant.yaml"), "--out", str(out)])
    assert done.exit_code == 1 and "store is missing" in done.output and not out.exists()


def test_a_store_of_other_runs_is_refused(saved: Path, tmp_path: Path) -> None:
    broken = tmp_path / "run"
    shutil.copytree(saved / "run", broken)
    np.save(broken / "store" / "yearly.npy", np.zeros((1, 4, 5)))
    done = runner.invoke(app, ["compare", str(broken), str(saved / "variant.yaml"),
                               "--out", str(tmp_path / "c")])
    assert done.exit_code == 1
    assert "yearly.npy holds values of shape (1, 4, 5), not the (1, 4, 32)" in done.output


def test_a_base_scenario_edited_after_its_run_is_refused(saved: Path, tmp_path: Path) -> None:
    """Any value changed in the saved scenario.yaml, not only its seed, breaks the pairing."""
    edited = tmp_path / "run"
    shutil.copytree(saved / "run", edited)
    text = (edited / "scenario.yaml").read_text(encoding="utf-8")
    changed = text.replace("a_dagpenge: 120", "a_dagpenge: 121", 1)
    assert changed != text
    (edited / "scenario.yaml").write_text(changed, encoding="utf-8")
    out = tmp_path / "c"
    done = runner.invoke(app, ["compare", str(edited), str(saved / "variant.yaml"), "--out", str(out)])
    assert done.exit_code == 1 and "the scenario was edited after the run" in done.output
    assert not out.exists()


def test_two_scenarios_with_nothing_in_common_are_refused(saved: Path, tmp_path: Path) -> None:
    for first in (saved / "base.yaml", saved / "run"):
        out = tmp_path / first.stem
        done = runner.invoke(app, ["compare", str(first), str(saved / "elsewhere.yaml"), "-n", "2", "--out",
                                   str(out)] if first.suffix else
                             ["compare", str(first), str(saved / "elsewhere.yaml"), "--out", str(out)])
        assert done.exit_code == 1, done.output
        assert "have no target and no state in common" in done.output and not out.exists()
    other_years = ELSEWHERE.replace("2019-01-01", "2030-01-01").replace("{ressourceforloeb: {}}",
                                                                          "{a_dagpenge: {}}")
    other_years = other_years.replace("ressourceforloeb", "a_dagpenge")
    with pytest.raises(NotComparable, match="no full calendar year in common"):
        sim.compare(sim.load_scenario(saved / "base.yaml"), sim.parse_scenario(other_years), runs=2)


def test_set_changes_the_run_and_its_resolved_scenario(saved: Path, tmp_path: Path) -> None:
    out = tmp_path / "r"
    done = runner.invoke(app, ["run", str(saved / "variant.yaml"), "-n", "2", "-w", "1", "--out", str(out),
                               "--set", "interventions.Kursus.places=20", "--set", "name=Meget mere kursus"])
    assert done.exit_code == 0, done.output
    written = sim.load_scenario(out / "scenario.yaml")
    wanted = sim.load_scenario(saved / "variant.yaml", settings=[("interventions.Kursus.places", 20),
                                                                 ("name", "Meget mere kursus")])
    assert written.interventions[0].places == 20 and written.name == "Meget mere kursus"
    assert scenario_hash(written, 11) == scenario_hash(wanted, 11)


def test_set_on_compare_changes_the_variant(saved: Path, tmp_path: Path) -> None:
    out = tmp_path / "c"
    done = runner.invoke(app, ["compare", str(saved / "run"), str(saved / "base.yaml"), "-w", "1",
                               "--out", str(out), "--set", "inflow_per_week.a_dagpenge=6"])
    assert done.exit_code == 0, done.output
    assert sim.load_scenario(out / "variant" / "scenario.yaml").inflow_per_week["a_dagpenge"].rate == 6
    assert sim.load_scenario(out / "base" / "scenario.yaml").inflow_per_week["a_dagpenge"].rate == 4


@pytest.mark.parametrize(("args", "code", "words"), [
    (["--set", "inflow_per_week.a_dagpengee=6"], 1,
     "--set: inflow_per_week.a_dagpengee: 'inflow_per_week' has no key 'a_dagpengee'"),
    (["--set", "initial.a_dagpenge=-1"], 1, "--set: initial.a_dagpenge: -1 is not allowed"),
    (["--set", "months"], 2, "'months' is not PATH=VALUE"),
    (["--set", "months=[1, 2]"], 2, "the value is a list"),
])
def test_a_bad_set_is_refused_naming_the_option(saved: Path, tmp_path: Path, args: list[str], code: int,
                                                words: str) -> None:
    base = str(saved / "base.yaml")
    for verb in (["run", base], ["compare", base, base]):
        done = runner.invoke(app, [*verb, "-n", "2", "--out", str(tmp_path / "x"), *args])
        assert done.exit_code == code, done.output
        assert words in " ".join(done.output.split()), done.output
        assert not (tmp_path / "x").exists()


def test_the_compare_help_examples_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each `caseflow compare --help` example, with 2 replications, from the project's folder; the
    saved-base example on the first example's base/ (a finished 2-run folder of Tårnby)."""
    monkeypatch.chdir(ROOT)
    paragraphs = re.split(r"\n\s*\n", compare.__doc__ or "")
    examples = [" ".join(w for w in p.split("Example:", 1)[1].split() if w != "\\")
                for p in paragraphs if "Example:" in p]
    assert len(examples) == 3
    for k, example in enumerate(examples):
        words = example.split()
        assert words[:2] == ["caseflow", "compare"]
        args = [("2" if before == "--runs" else word) for before, word in zip(["", *words[:-1]], words,
                                                                               strict=True)]
        if args[2].startswith("outputs/"):
            assert k > 0 and examples[0].split()[2] == "scenarios/taarnby-2018.yaml"
            args[2] = str(tmp_path / "example-0" / "base")
        elif "--runs" not in args:
            args += ["--runs", "2"]
        done = runner.invoke(app, [*args[1:], "-w", "1", "--out", str(tmp_path / f"example-{k}")])
        assert done.exit_code == 0, (args, done.output)
        assert (tmp_path / f"example-{k}" / "differences.csv").exists()
