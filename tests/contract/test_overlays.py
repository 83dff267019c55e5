"""Variants as overlays: `extends:` a base, merge what differs, `set:` and `--set` single values.

Each rule of the merge (mappings key by key, named entries by name, other lists replaced), the
provenance of each value (a problem names the overlay's file and line for what it wrote, the
base's for the rest), the refusals (cycles, a missing base, too deep a chain, unsafe files, paths
that name nothing) and the files a base names (found next to the base, wherever the overlay is).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

import sim
from sim.batch.runfolder import resolved, scenario_hash
from sim.contract.errors import ScenarioError
from sim.contract.loader import find_relative, load_scenario
from sim.contract.overlay import MAX_EXTENDS, parse_setting, resolve_file
from sim.contract.parameters import scenario_data
from sim.contract.yamlio import dump_yaml

ROOT = Path(__file__).resolve().parents[2]

BASE = """\
name: Lille kommune 2019
start: 2019-01-01
months: 12
seed: 11
states: {a_dagpenge: {}, sygedagpenge: {}, kontanthjaelp_jobparat: {}}
initial: {a_dagpenge: 120, sygedagpenge: 80, kontanthjaelp_jobparat: 40}
inflow_per_week:
  a_dagpenge: 4
  sygedagpenge: {rate: 5, seasonality: [1.2, 1.1, 1, 1, 1, 0.9, 0.8, 0.9, 1, 1, 1, 1.1]}
transitions:
  a_dagpenge:
    - {to: job, rate_per_week: [[0, 0.05], [26, 0.02]]}
    - {to: other, rate_per_week: 0.002}
    - {to: kontanthjaelp_jobparat, at_week: 104, share: 0.3}
    - {to: other, at_week: 104, share: rest}
  sygedagpenge:
    - {to: job, mean_weeks: 10}
  kontanthjaelp_jobparat:
    - {to: job, rate_per_week: 0.02}
interventions:
  - name: Kursus
    states: [a_dagpenge]
    from_week: 13
    places: 5
    duration_weeks: 4
    effects: {during: {job: 0.8}, after: {job: 1.2}, after_weeks: 13}
  - name: Praktik
    states: [kontanthjaelp_jobparat]
    places: 3
    duration_weeks: 8
targets:
  - {name: Syge højst 60, states: [sygedagpenge], year: 2019, at_most: 60}
  - {name: Dagpenge højst 150, states: [a_dagpenge], year: 2019, at_most: 150}
"""


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def overlay(folder: Path, text: str, name: str = "variant.yaml", base: str = "base.yaml") -> Path:
    """base.yaml (BASE) next to an overlay holding `extends: base.yaml` and `text`."""
    if not (folder / base).exists():
        write(folder, base, BASE)
    return write(folder, name, f"extends: {base}\n{text}")


def line_of(text: str, fragment: str) -> int:
    """The 1-based line of the only line holding `fragment`."""
    found = [i + 1 for i, line in enumerate(text.splitlines()) if fragment in line]
    assert len(found) == 1, (fragment, found)
    return found[0]


def problems(path: Path, **kwargs: object) -> list[str]:
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path, **kwargs)  # type: ignore[arg-type]
    return [str(p) for p in caught.value.problems]


def base_data(tmp_path: Path) -> dict[str, object]:
    write(tmp_path, "base.yaml", BASE)
    return scenario_data(load_scenario(tmp_path / "base.yaml"))


# --- the shipped variant --------------------------------------------------------------------------

def test_the_shipped_variant_is_its_base_with_its_name_and_three_times_the_course() -> None:
    base = scenario_data(sim.load_scenario(ROOT / "scenarios" / "taarnby-2018.yaml"))
    text = (ROOT / "scenarios" / "taarnby-2018-jobsoegning-x3.yaml").read_text(encoding="utf-8")
    assert len([line for line in text.splitlines() if line and not line.startswith("#")]) <= 8
    variant = scenario_data(sim.load_scenario(ROOT / "scenarios" / "taarnby-2018-jobsoegning-x3.yaml"))
    expected = {**base, "name": "Tårnby 2018, jobsøgningsforløb ×3 (three times the course's places)"}
    expected["interventions"] = [
        {**p, "places": 3 * p["places"]} if p["name"].startswith("Jobsøgningsforløb") else p
        for p in base["interventions"]]
    assert variant == expected


# --- the merge ------------------------------------------------------------------------------------

def test_mappings_merge_key_by_key_and_a_number_sets_an_inflows_rate(tmp_path: Path) -> None:
    path = overlay(tmp_path, "inflow_per_week: {sygedagpenge: 7, kontanthjaelp_jobparat: 2}\n"
                             "initial: {sygedagpenge: 90}\n")
    s = load_scenario(path)
    assert s.inflow_per_week["sygedagpenge"].rate == 7
    assert s.inflow_per_week["sygedagpenge"].seasonality == (1.2, 1.1, 1, 1, 1, 0.9, 0.8, 0.9, 1, 1, 1, 1.1)
    assert s.inflow_per_week["a_dagpenge"].rate == 4 and s.inflow_per_week["kontanthjaelp_jobparat"].rate == 2
    assert s.initial == {"a_dagpenge": 120, "sygedagpenge": 90, "kontanthjaelp_jobparat": 40}
    assert s.name == "Lille kommune 2019"


def test_routes_merge_by_destination_and_clock_week(tmp_path: Path) -> None:
    path = overlay(tmp_path, "transitions:\n  a_dagpenge:\n"
                             "    - {to: job, rate_per_week: 0.06}\n"
                             "    - {to: other, rate_per_week: 0.004}\n"
                             "    - {to: kontanthjaelp_jobparat, share: 0.4}\n"
                             "    - {to: other, at_week: 104, share: rest}\n"
                             "    - {to: education, rate_per_week: 0.001}\n")
    routes = load_scenario(path).transitions["a_dagpenge"]
    assert [(r.to, r.at_week) for r in routes] == [("job", None), ("other", None),
                                                    ("kontanthjaelp_jobparat", 104), ("other", 104),
                                                    ("education", None)]
    assert routes[0].rate_per_week == ((0.0, 0.06),) and routes[1].rate_per_week == ((0.0, 0.004),)
    assert routes[2].share == 0.4
    assert load_scenario(path).transitions["sygedagpenge"][0].mean_weeks == ((0.0, 10.0),)


def test_named_entries_merge_deeply_are_added_and_removed(tmp_path: Path) -> None:
    path = overlay(tmp_path, "interventions:\n"
                             "  - {name: Kursus, places: 15, effects: {after: {job: 1.4}}}\n"
                             "  - {name: Praktik, remove: true}\n"
                             "  - {name: Mentor, states: [sygedagpenge], duration_weeks: 6}\n"
                             "targets:\n  - {name: Syge højst 60, at_most: 55}\n")
    s = load_scenario(path)
    assert [p.name for p in s.interventions] == ["Kursus", "Mentor"]
    kursus = s.interventions[0]
    assert (kursus.places, kursus.from_week, kursus.duration_weeks) == (15, 13, 4)
    assert (kursus.effects.during, kursus.effects.after, kursus.effects.after_weeks) == (
        {"job": 0.8}, {"job": 1.4}, 13)
    assert [(t.name, t.at_most) for t in s.targets] == [("Syge højst 60", 55), ("Dagpenge højst 150", 150)]


def test_other_lists_are_replaced(tmp_path: Path) -> None:
    path = overlay(tmp_path, "interventions:\n  - {name: Kursus, states: [sygedagpenge]}\n"
                             "transitions:\n  a_dagpenge:\n    - {to: job, rate_per_week: [[0, 0.07]]}\n")
    s = load_scenario(path)
    assert s.interventions[0].states == ("sygedagpenge",)
    assert s.transitions["a_dagpenge"][0].rate_per_week == ((0.0, 0.07),)


def test_set_names_values_by_path_and_the_command_lines_set_comes_last(tmp_path: Path) -> None:
    path = overlay(tmp_path, "interventions:\n  - {name: Kursus, places: 15}\n"
                             "set:\n"
                             "  transitions.a_dagpenge.job.rate_per_week.1: 0.03\n"
                             "  inflow_per_week.sygedagpenge: 6\n"
                             "  interventions.Kursus.places: 20\n"
                             "  name: Lille kommune, mere kursus\n"
                             "  targets.Syge højst 60.at_most: 58\n")
    s = load_scenario(path)
    assert s.transitions["a_dagpenge"][0].rate_per_week == ((0.0, 0.05), (26.0, 0.03))
    assert s.inflow_per_week["sygedagpenge"].rate == 6 and s.inflow_per_week["sygedagpenge"].seasonality
    assert s.interventions[0].places == 20 and s.name == "Lille kommune, mere kursus"
    assert s.targets[0].at_most == 58
    again = load_scenario(path, settings=[("interventions.Kursus.places", 25), ("seed", 12)])
    assert again.interventions[0].places == 25 and again.seed == 12


def test_set_works_on_a_full_scenario_from_the_command_line(tmp_path: Path) -> None:
    path = write(tmp_path, "base.yaml", BASE)
    s = load_scenario(path, settings=[parse_setting("transitions.sygedagpenge.job.mean_weeks=12")])
    assert s.transitions["sygedagpenge"][0].mean_weeks == ((0.0, 12.0),)


def test_an_overlay_of_an_overlay(tmp_path: Path) -> None:
    overlay(tmp_path, "interventions:\n  - {name: Kursus, places: 15}\n", name="middle.yaml")
    top = write(tmp_path, "top.yaml", "extends: middle.yaml\nset: {interventions.Praktik.places: 9}\n")
    s = load_scenario(top)
    assert [p.places for p in s.interventions] == [15, 9]


def test_a_scenario_without_extends_loads_as_before(tmp_path: Path) -> None:
    path = write(tmp_path, "base.yaml", BASE)
    assert scenario_data(load_scenario(path)) == scenario_data(sim.parse_scenario(BASE, "base.yaml"))


# --- the resolved scenario ------------------------------------------------------------------------

def test_the_resolved_dump_is_complete_and_reloads_to_the_same_scenario(tmp_path: Path) -> None:
    path = overlay(tmp_path, "interventions:\n  - {name: Kursus, places: 15}\n"
                             "set: {inflow_per_week.a_dagpenge: 5}\n")
    s = load_scenario(path, settings=[("initial.sygedagpenge", 85)])
    dumped = resolved(s, 11)
    assert "extends" not in dumped and "set" not in dumped
    assert {"states", "initial", "inflow_per_week", "transitions", "interventions", "targets"} <= set(dumped)
    again = write(tmp_path / "elsewhere", "scenario.yaml", dump_yaml(dumped))
    reloaded = load_scenario(again)
    assert scenario_hash(reloaded, 11) == scenario_hash(s, 11)
    assert reloaded.interventions[1].name == "Praktik" and reloaded.initial["sygedagpenge"] == 85


# --- where problems are named ---------------------------------------------------------------------

def test_a_problem_in_the_overlay_names_the_overlay_and_its_line(tmp_path: Path) -> None:
    text = "name: V\ninterventions:\n  - name: Kursus\n    places: 0\n"
    path = overlay(tmp_path, text)
    (found,) = problems(path)
    assert found.startswith(f"{path}:5: interventions[0].places: 0 is not allowed")


def test_a_problem_in_the_base_names_the_base_and_its_line(tmp_path: Path) -> None:
    bad = BASE.replace("places: 3", "places: -3")
    write(tmp_path, "base.yaml", bad)
    path = overlay(tmp_path, "interventions:\n  - {name: Kursus, remove: true}\n")
    (found,) = problems(path)
    # Praktik is now interventions[0]; its value and line are the base's
    assert found.startswith(f"{tmp_path / 'base.yaml'}:{line_of(bad, 'places: -3')}: interventions[0].places")


def test_a_cross_check_names_the_file_that_wrote_the_value(tmp_path: Path) -> None:
    path = overlay(tmp_path, "set:\n  transitions.sygedagpenge.job.mean_weeks: 10\n"
                             "transitions:\n  sygedagpenge:\n    - {to: nowhere, rate_per_week: 0.01}\n")
    found = problems(path)
    at = f"{path}:6: transitions.sygedagpenge[1].to"
    assert any(p.startswith(at) and "nowhere" in p for p in found), found


def test_set_and_the_command_lines_set_name_their_source(tmp_path: Path) -> None:
    path = overlay(tmp_path, "set:\n  initial.a_dagpenge: -1\n")
    (found,) = problems(path)
    assert found.startswith(f"{path}:3: initial.a_dagpenge: -1 is not allowed")
    (found,) = problems(tmp_path / "base.yaml", settings=[("initial.a_dagpenge", -2)])
    assert found.startswith("--set: initial.a_dagpenge: -2 is not allowed")


@pytest.mark.parametrize(("path", "words"), [
    ("transitions.a_dagpenge.jobb.rate_per_week", "'transitions.a_dagpenge' has no entry 'jobb'"),
    ("interventions.Kursus.plces", "'interventions.Kursus' has no key 'plces'"),
    ("transitions.a_dagpenge.job.rate_per_week", "has 2 duration bands; name one"),
    ("interventions.Kursus", "is a block of keys"),
    ("interventions.Kursus.states", "is a list of 1 entries"),
    ("nothing", "the scenario has no key 'nothing'"),
])
def test_a_path_that_names_no_single_value_is_refused_naming_the_option(tmp_path: Path, path: str,
                                                                       words: str) -> None:
    write(tmp_path, "base.yaml", BASE)
    (found,) = problems(tmp_path / "base.yaml", settings=[(path, 7)])
    assert found.startswith(f"--set: {path}: ") and words in found


def test_a_set_value_is_a_single_value(tmp_path: Path) -> None:
    path = overlay(tmp_path, "set:\n  initial.a_dagpenge: [1, 2]\n")
    (found,) = problems(path)
    assert found.startswith(f"{path}:3: set.initial.a_dagpenge: [1, 2] is not a single value")
    for text, words in [("months", "is not PATH=VALUE"), ("=3", "is not PATH=VALUE"),
                        ("months=[1, 2]", "the value is a list"), ("name=a: b", "the value is a mapping"),
                        ("name=&x 3", "cannot be read as YAML")]:
        with pytest.raises(ValueError, match=words):
            parse_setting(text)
    assert parse_setting("start=2019-02-01")[1].isoformat() == "2019-02-01"
    assert parse_setting("x.y = 1e3") == ("x.y", 1000.0)
    assert parse_setting("name=Tårnby") == ("name", "Tårnby")


@pytest.mark.parametrize(("text", "words"), [
    ("set: 3\n", "set: 3 is not a mapping"),
    ("interventions:\n  - {places: 3}\n", "gives the name of the base's entry it changes"),
    ("interventions:\n  - just text\n", "'just text' is not an entry"),
    ("interventions:\n  - {name: Nope, remove: true}\n",
     "the base has no entry of interventions with name 'Nope'"),
    ("interventions:\n  - {name: Kursus, remove: yes please}\n", "'yes please' is not allowed; remove: true"),
    ("interventions:\n  - {name: Kursus, places: 1}\n  - {name: Kursus, places: 2}\n", "changed twice"),
    ("transitions:\n  a_dagpenge:\n    - {to: other, at_week: 52, share: 0.1}\n",
     "the base has 2 routes to 'other' (at_week: none, 104); give the at_week"),
])
def test_an_overlay_that_names_no_entry_clearly_is_refused_at_its_line(tmp_path: Path, text: str,
                                                                      words: str) -> None:
    path = overlay(tmp_path, text)
    (found,) = problems(path)
    assert found.startswith(f"{path}:") and words in found, found


def test_set_without_a_base_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "full.yaml", BASE + "set: {months: 6}\n")
    (found,) = problems(path)
    assert found.startswith(f"{path}:{len(BASE.splitlines()) + 1}: set: ")
    assert "give the base with extends:" in found


# --- refusals of the chain ------------------------------------------------------------------------

def test_a_missing_base_is_refused_at_the_extends_line(tmp_path: Path) -> None:
    path = write(tmp_path, "variant.yaml", "name: V\nextends: gone.yaml\n")
    (found,) = problems(path)
    gone = tmp_path / "gone.yaml"
    assert found.startswith(f"{path}:2: extends: no base scenario 'gone.yaml': there is no {gone}")
    path = write(tmp_path, "v2.yaml", "extends: [a, b]\n")
    assert "is not a file name" in problems(path)[0]


def test_a_cycle_is_refused(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", "extends: b.yaml\n")
    write(tmp_path, "b.yaml", "extends: sub/../a.yaml\n")
    (found,) = problems(tmp_path / "a.yaml")
    assert found.startswith(f"{tmp_path / 'b.yaml'}:1: extends: ") and "a cycle" in found
    assert "a.yaml → b.yaml → sub/../a.yaml" in found
    (found,) = problems(write(tmp_path, "self.yaml", "extends: self.yaml\n"))
    assert "a cycle" in found


def test_a_chain_deeper_than_the_limit_is_refused(tmp_path: Path) -> None:
    write(tmp_path, "level0.yaml", BASE)
    for i in range(1, MAX_EXTENDS + 2):
        text = f"extends: level{i - 1}.yaml\nset: {{initial.a_dagpenge: {100 + i}}}\n"
        write(tmp_path, f"level{i}.yaml", text)
    assert load_scenario(tmp_path / f"level{MAX_EXTENDS}.yaml").initial["a_dagpenge"] == 100 + MAX_EXTENDS
    (found,) = problems(tmp_path / f"level{MAX_EXTENDS + 1}.yaml")
    assert f"may stack at most {MAX_EXTENDS} bases" in found
    assert found.startswith(str(tmp_path / "level1.yaml"))


def test_each_file_of_the_chain_is_read_safely(tmp_path: Path) -> None:
    write(tmp_path, "alias.yaml", BASE.replace("a_dagpenge: 4", "a_dagpenge: &four 4"))
    (found,) = problems(write(tmp_path, "v1.yaml", "extends: alias.yaml\n"))
    assert found.startswith(f"{tmp_path / 'alias.yaml'}:8:") and "anchors and aliases" in found
    os.mkfifo(tmp_path / "pipe.yaml")
    (found,) = problems(write(tmp_path, "v2.yaml", "extends: pipe.yaml\n"))
    assert found.startswith(f"{tmp_path / 'v2.yaml'}:1: extends: the base 'pipe.yaml' is not a regular file")
    with (tmp_path / "huge.yaml").open("wb") as f:
        f.truncate(6_000_000)
    (found,) = problems(write(tmp_path, "v3.yaml", "extends: huge.yaml\n"))
    assert "the base 'huge.yaml' is 6.0 MB, more than the 5 MB" in found
    (tmp_path / "folder.yaml").mkdir()
    (found,) = problems(write(tmp_path, "v4.yaml", "extends: folder.yaml\n"))
    assert "the base 'folder.yaml' is a folder" in found
    write(tmp_path, "empty.yaml", "")
    assert "the file is empty" in problems(write(tmp_path, "v5.yaml", "extends: empty.yaml\n"))[0]
    write(tmp_path, "dup.yaml", BASE + "months: 6\n")
    (found,) = problems(write(tmp_path, "v6.yaml", "extends: dup.yaml\n"))
    assert found.startswith(f"{tmp_path / 'dup.yaml'}:") and "'months' appears twice" in found


# --- files a base names ---------------------------------------------------------------------------

FIT = "values: {inflow_per_week.a_dagpenge: 6.5}\nstandard_errors: {inflow_per_week.a_dagpenge: 0.5}\n"


def test_files_a_base_names_are_found_next_to_the_base(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                                       ) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path, "plans/fits/fit.yaml", FIT)
    write(tmp_path, "plans/data/observed.csv", "period,state,measure,value,source\n")
    write(tmp_path, "plans/base.yaml", BASE + "parameters: fits/fit.yaml\n"
                                              "calibrate:\n  observed: data/observed.csv\n")
    variant = write(tmp_path, "variants/deep/variant.yaml", "extends: ../../plans/base.yaml\nname: V\n")
    s = load_scenario(variant)
    assert s.inflow_per_week["a_dagpenge"].rate == 6.5 and s.parameters is not None
    assert s.parameters.source == "fits/fit.yaml"
    assert s.calibrate is not None and s.calibrate.observed is not None
    found = find_relative(s.calibrate.observed, str(variant))
    assert found is not None and found.resolve() == (tmp_path / "plans/data/observed.csv").resolve()
    missing = write(tmp_path, "plans/other.yaml", BASE + "parameters: fits/none.yaml\n")
    (problem,) = problems(write(tmp_path, "variants/v2.yaml", "extends: ../plans/other.yaml\n"))
    assert problem.startswith(f"{missing}:{len(BASE.splitlines()) + 1}: parameters: no parameter file")


def test_an_overlays_own_parameter_file_is_found_next_to_it(tmp_path: Path) -> None:
    write(tmp_path, "plans/base.yaml", BASE)
    write(tmp_path, "variants/fit.yaml", FIT)
    variant = write(tmp_path, "variants/v.yaml", "extends: ../plans/base.yaml\nparameters: fit.yaml\n")
    assert load_scenario(variant).inflow_per_week["a_dagpenge"].rate == 6.5


def test_a_change_a_bases_fit_would_replace_is_refused(tmp_path: Path) -> None:
    write(tmp_path, "fit.yaml", FIT)
    write(tmp_path, "base.yaml", BASE + "parameters: fit.yaml\n")
    path = write(tmp_path, "v.yaml", "extends: base.yaml\ninflow_per_week: {a_dagpenge: 9}\n")
    (found,) = problems(path)
    assert found.startswith(f"{path}:2: inflow_per_week.a_dagpenge: inflow_per_week.a_dagpenge is fitted by "
                            f"'fit.yaml' (the parameters: of {tmp_path / 'base.yaml'})")
    (found,) = problems(tmp_path / "base.yaml", settings=[("inflow_per_week.a_dagpenge", 9)])
    assert found.startswith("--set: inflow_per_week.a_dagpenge: ") and "is fitted by 'fit.yaml'" in found
    dropped = write(tmp_path, "v2.yaml",
                    "extends: base.yaml\ninflow_per_week: {a_dagpenge: 9}\nparameters: []\n")
    s = load_scenario(dropped)
    assert s.inflow_per_week["a_dagpenge"].rate == 9 and s.parameters is None
    other = write(tmp_path, "v3.yaml", "extends: base.yaml\ninflow_per_week: {sygedagpenge: 9}\n")
    assert load_scenario(other).inflow_per_week["a_dagpenge"].rate == 6.5


def test_resolve_file_gives_the_merged_data_before_validation(tmp_path: Path) -> None:
    path = overlay(tmp_path, "interventions:\n  - {name: Kursus, places: 15}\n")
    data, provenance = resolve_file(path)
    assert data["targets"] == yaml.safe_load(BASE)["targets"]
    assert provenance.where(("interventions", 0, "places"), str(path)) == (str(path), 3)
    assert provenance.where(("interventions", 1, "places"), str(path)) == (
        str(tmp_path / "base.yaml"), line_of(BASE, "places: 3"))
    assert provenance.order == (str(tmp_path / "base.yaml"), str(path))


def test_the_readme_example_loads(tmp_path: Path) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("### Variants as overlays"):]
    example = section[section.index("```yaml\n") + 8:section.index("```\n", section.index("```yaml"))]
    (tmp_path / "taarnby-2018.yaml").write_text(
        (ROOT / "scenarios" / "taarnby-2018.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    s = load_scenario(write(tmp_path, "mine.yaml", example))
    shipped = sim.load_scenario(ROOT / "scenarios" / "taarnby-2018-jobsoegning-x3.yaml")
    assert s.interventions == shipped.interventions and s.name == shipped.name
    assert s.transitions["a_dagpenge"][0].rate_per_week is not None
    assert s.transitions["a_dagpenge"][0].rate_per_week[1] == (13.0, 0.018)
