"""Hostile scenario files at the boundary: nothing a file holds makes reading or validating it
unbounded, and every refusal names what is wrong and what is allowed.

YAML's own escape hatches (anchors and aliases, deep nesting, tags, huge or endless files) are
refused while the text is read; the limits of the schema (a clock of at least a day, rates of at
most one move a day, at most 100 states and 100 routes a state, a start year from 1950 to 2150)
while it is validated; observed figures must be unique and not negative.
"""

from __future__ import annotations

import copy
import datetime as dt
import os
import threading
from pathlib import Path
from typing import Any

import pytest
import yaml

import sim
from sim.contract.errors import ScenarioError
from sim.contract.fields import DAY_WEEKS, MAX_BANDS, MAX_RATE_PER_WEEK, MAX_ROUTES, MAX_STATES
from sim.contract.yamlio import MAX_BYTES, MAX_DEPTH, check_file, dump_yaml, load_yaml, read_text
from sim.features import compile_model

BASE: dict[str, Any] = {
    "name": "Fjendtlig 2020",
    "start": "2020-01-01",
    "months": 12,
    "states": {"a_dagpenge": {}, "sygedagpenge": {}},
    "initial": {"a_dagpenge": 100, "sygedagpenge": 50},
    "inflow_per_week": {"a_dagpenge": 5, "sygedagpenge": 10},
    "transitions": {
        "a_dagpenge": [{"to": "job", "rate_per_week": 0.05}],
        "sygedagpenge": [{"to": "job", "rate_per_week": 0.09},
                         {"to": "a_dagpenge", "at_week": 22, "share": 0.2},
                         {"to": "stay", "at_week": 22, "share": "rest"}],
    },
}


def changed(**blocks: Any) -> dict[str, Any]:
    data = copy.deepcopy(BASE)
    data.update(blocks)
    return data


def problems_of(text: str) -> list[str]:
    """Every problem `parse_scenario` finds in the text, as printed."""
    with pytest.raises(ScenarioError) as caught:
        sim.parse_scenario(text, "hostile.yaml")
    return [str(p) for p in caught.value.problems]


def problems_in(data: dict[str, Any]) -> list[str]:
    return problems_of(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))


def the_problem(data: dict[str, Any] | str) -> str:
    found = problems_of(data) if isinstance(data, str) else problems_in(data)
    assert len(found) == 1, found
    return found[0]


GOOD = yaml.safe_dump(BASE, sort_keys=False)


def test_the_base_is_valid() -> None:
    assert sim.parse_scenario(GOOD).name == "Fjendtlig 2020"


# --- YAML itself --------------------------------------------------------------------------------

def _alias_bomb(levels: int) -> str:
    lines = ['a0: &a0 ["x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    for i in range(1, levels):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]")
    return "\n".join(lines) + "\n"


def test_an_alias_bomb_is_refused_at_its_first_anchor() -> None:
    text = _alias_bomb(9)  # 9^9 ≈ 387 million strings if it were expanded
    assert len(text) < 600
    line = the_problem(text)
    assert line.startswith("hostile.yaml:1: (top level): unsupported YAML: anchors and aliases"), line
    assert "write the value out in each place it is used" in line


def test_a_single_anchor_and_alias_are_refused_too() -> None:
    text = GOOD.replace("a_dagpenge: 100", "a_dagpenge: &n 100") + "seed: *n\n"
    assert "anchors and aliases (&name, *name) are not read" in the_problem(text)


def test_nesting_deeper_than_the_limit_is_refused_before_the_parser_recurses() -> None:
    text = GOOD + "name: " + "[" * 100_000 + "]" * 100_000 + "\n"
    line = the_problem(text)
    assert f"nesting deeper than {MAX_DEPTH} levels is not read" in line, line


def test_the_deepest_scenario_value_is_far_from_the_depth_limit() -> None:
    bands = changed(transitions={**BASE["transitions"],
                                 "a_dagpenge": [{"to": "job", "rate_per_week": [[0, 0.1], [26, 0.05]]}]})
    assert sim.parse_scenario(yaml.safe_dump(bands)).transitions["a_dagpenge"][0].rates[1] == (26.0, 0.05)
    assert MAX_DEPTH >= 2 * 7


def test_a_text_over_the_size_limit_is_refused_before_it_is_parsed() -> None:
    text = GOOD + "#" * (MAX_BYTES + 1) + "\n"
    assert "more than the 5 MB a YAML file may have" in the_problem(text)


@pytest.mark.parametrize(("text", "words"), [
    ("name: !!binary aGVsbG8=\n", "the tag '!!binary' is not allowed"),
    ("name: !!python/name:os.system x\n", "the tag '!!python/name:os.system' is not allowed"),
    ("name: !local x\n", "the tag '!local' is not allowed"),
    ("name: x\n<<: {months: 12}\n", "merge keys (<<) are not allowed"),
    ("? [a, b]\n: 1\n", "a key is a list or a mapping"),
    ("states: !!set {a_dagpenge}\n", "the tag 'tag:yaml.org,2002:set' is not allowed"),
])
def test_tags_merge_keys_and_complex_keys_are_refused(text: str, words: str) -> None:
    line = the_problem(text)
    assert "unsupported YAML" in line and words in line, line


@pytest.mark.parametrize(("written", "read"), [
    ("1e9", 1e9), ("1E9", 1e9), ("-2e-3", -0.002), ("1.5e3", 1500.0), ("2.5E+2", 250.0), (".5e1", 5.0),
    ("1_000e1", 10_000.0), ("'1e9'", "1e9"), ("1e400", float("inf")),
])
def test_numbers_with_an_exponent_are_numbers(written: str, read: Any) -> None:
    data, _ = load_yaml(f"x: {written}\n")
    assert data["x"] == read and type(data["x"]) is type(read)


def test_an_exponent_is_read_as_the_number_it_is_and_checked_as_one() -> None:
    text = GOOD.replace("sygedagpenge: 10", "sygedagpenge: 1e9")
    assert "inflow_per_week.sygedagpenge.rate: 1000000000.0 is not allowed; rate must be ≤ 50,000" in \
        the_problem(text)
    assert sim.parse_scenario(GOOD.replace("sygedagpenge: 10", "sygedagpenge: 1e1")).inflow_per_week[
        "sygedagpenge"].rate == 10


@pytest.mark.parametrize(("start", "words"), [
    ("2018-02-30", "'2018-02-30' is not a date: February 2018 has 28 days"),
    ("2020-02-30", "'2020-02-30' is not a date: February 2020 has 29 days"),
    ("2020-13-45", "'2020-13-45' is not a date: there is no month 13"),
    ("2020-04-31", "April 2020 has 30 days"),
    ("9999-12-01", "9999-12-01 is not allowed; the horizon starts in a year from 1950 to 2150"),
    ("0218-01-01", "0218-01-01 is not allowed; the horizon starts in a year from 1950 to 2150"),
])
def test_an_impossible_or_implausible_start_names_the_key_and_what_is_allowed(start: str, words: str) -> None:
    line = the_problem(GOOD.replace("start: '2020-01-01'", f"start: {start}"))
    assert line.startswith("hostile.yaml:2: start: "), line
    assert words in line, line


def test_an_impossible_date_deeper_in_the_file_names_its_key() -> None:
    rule = {"kind": "pause_clocks", "state": "sygedagpenge", "from": "2020-02-30", "until": "2020-08-31"}
    line = the_problem(yaml.safe_dump(changed(rules=[rule])).replace("'2020-02-30'", "2020-02-30"))
    assert ": rules[0].from: '2020-02-30' is not a date: February 2020 has 29 days; from must be" in line


def test_a_number_too_long_to_read_stays_text_for_the_schema_to_refuse() -> None:
    line = the_problem(GOOD.replace("months: 12", "months: " + "9" * 5000))
    assert line.startswith("hostile.yaml:3: months: ")
    assert "is not a whole number; months must be a whole number from 1 to 600" in line


def test_dump_yaml_writes_no_anchors_so_load_yaml_reads_back_what_it_wrote() -> None:
    shared = [1, 2, 3]
    text = dump_yaml({"a": shared, "b": shared, "c": {"d": shared}})
    assert "&" not in text and "*" not in text
    assert load_yaml(text)[0] == {"a": shared, "b": shared, "c": {"d": shared}}


# --- files ----------------------------------------------------------------------------------------

def test_a_fifo_is_refused_without_opening_it(tmp_path: Path) -> None:
    fifo = tmp_path / "scenario.yaml"
    os.mkfifo(fifo)
    outcome: list[BaseException | None] = []

    def read() -> None:
        try:
            read_text(fifo)
        except ScenarioError as exc:
            outcome.append(exc)
        else:
            outcome.append(None)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(timeout=10)  # an open() of a FIFO without a writer would block forever
    assert outcome and isinstance(outcome[0], ScenarioError)
    assert "is not a regular file (a pipe, device or socket)" in str(outcome[0])


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
def test_an_endless_device_is_refused(device: str) -> None:
    with pytest.raises(ScenarioError, match="is not a regular file"):
        check_file(device)


def test_a_file_over_the_size_limit_is_refused_before_it_is_read(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    with big.open("wb") as f:
        f.truncate(50 * MAX_BYTES)  # sparse: no disk used
    with pytest.raises(ScenarioError, match=r"is 250\.0 MB, more than the 5 MB a YAML file may have"):
        read_text(big)
    with pytest.raises(ScenarioError, match=r"is 250\.0 MB"):
        check_file(big)


@pytest.mark.parametrize(("make", "words"), [
    (lambda p: p, "no such file"),
    (lambda p: (p.mkdir(), p)[1], "is a folder"),
    (lambda p: (p.write_bytes(b"name: \xff\xfe\n"), p)[1],
     "is not UTF-8 text (invalid start byte at byte 6)"),
])
def test_what_is_not_a_readable_text_file_is_named(tmp_path: Path, make: Any, words: str) -> None:
    with pytest.raises(ScenarioError) as caught:
        read_text(make(tmp_path / "x.yaml"))
    (problem,) = caught.value.problems
    assert problem.file.endswith("x.yaml") and words in problem.message


# --- the schema's limits --------------------------------------------------------------------------

def _route(origin: str, i: int, **change: Any) -> dict[str, Any]:
    data = copy.deepcopy(BASE)
    data["transitions"][origin][i].update(change)
    return data


def test_a_rate_above_one_move_a_day_is_refused() -> None:
    line = the_problem(_route("a_dagpenge", 0, rate_per_week=1.0e6))
    assert "transitions.a_dagpenge[0].rate_per_week: 1000000.0 is above 7; a rate per week is at most 7, " \
           "one move a day" in line, line
    band = the_problem(_route("a_dagpenge", 0, rate_per_week=[[0, 0.1], [26, 8]]))
    assert "[[0, 0.1], [26, 8]] is not allowed: 8 is above 7" in band, band
    assert sim.scenario_from_dict(_route("a_dagpenge", 0, rate_per_week=MAX_RATE_PER_WEEK))


def test_a_mean_stay_under_a_day_is_refused() -> None:
    line = the_problem(_route("a_dagpenge", 0, rate_per_week=None, mean_weeks=0.01))
    assert "mean_weeks: 0.01 is below 0.1429; a mean stay is at least one day (1/7 week" in line, line
    assert sim.scenario_from_dict(_route("a_dagpenge", 0, rate_per_week=None, mean_weeks=DAY_WEEKS))


def test_a_cycle_of_tiny_clocks_is_refused_at_both_clocks() -> None:
    data = changed(transitions={
        "a_dagpenge": [{"to": "sygedagpenge", "at_week": 0.000001, "share": 1}],
        "sygedagpenge": [{"to": "a_dagpenge", "at_week": 0.000001, "share": 1}]})
    lines = problems_in(data)
    assert [line.split(": ")[1] for line in lines] == ["transitions.a_dagpenge[0].at_week",
                                                       "transitions.sygedagpenge[0].at_week"]
    assert all("1e-06 weeks is less than a day; a clock strikes at week 1/7 (one day" in x for x in lines)


def test_a_clock_of_one_day_is_allowed_as_people_write_it() -> None:
    for week in (DAY_WEEKS, 0.142857, 1):
        clocks = [{"to": "sygedagpenge", "at_week": week, "share": 0.5},
                  {"to": "stay", "at_week": week, "share": "rest"}, {"to": "job", "rate_per_week": 0.1}]
        assert sim.scenario_from_dict(changed(transitions={**BASE["transitions"], "a_dagpenge": clocks}))


def test_more_bands_than_allowed_are_refused() -> None:
    bands = [[w, 0.01] for w in range(MAX_BANDS + 1)]
    line = the_problem(_route("a_dagpenge", 0, rate_per_week=bands))
    assert f"{MAX_BANDS + 1} bands are more than the {MAX_BANDS} allowed" in line, line


def test_more_states_than_allowed_are_refused_with_the_memory_they_would_need() -> None:
    states = {**BASE["states"], **{f"s{i}": {"group": "dagpenge"} for i in range(10_000)}}
    line = the_problem(changed(states=states))
    assert line.startswith("hostile.yaml:4: states: "), line
    assert f"10,002 states are more than the {MAX_STATES} allowed" in line
    assert "(10,002 + 5) × (10,002 + 4) × 12 × 8 bytes, 9.6 GB" in line


def test_as_many_states_as_allowed_validate() -> None:
    states = {f"s{i}": {"group": "dagpenge"} for i in range(MAX_STATES)}
    assert len(sim.scenario_from_dict(changed(states=states, initial={}, inflow_per_week={},
                                              transitions={})).states) == MAX_STATES


def test_more_routes_out_of_a_state_than_allowed_are_refused() -> None:
    routes = [{"to": "job", "rate_per_week": 0.001} for _ in range(MAX_ROUTES + 1)]
    line = the_problem(changed(transitions={**BASE["transitions"], "a_dagpenge": routes}))
    assert "transitions.a_dagpenge: " in line and f"101 routes are more than the {MAX_ROUTES} allowed" in line


def test_a_clock_whose_shares_exceed_1_by_a_hair_says_by_how_much() -> None:
    data = _route("sygedagpenge", 1, share=0.5000001)
    data["transitions"]["sygedagpenge"][2]["share"] = 0.5
    line = the_problem(data)
    assert "clock shares at week 22 sum to 1.0000001, 1e-07 more than 1; they must sum to at most 1" in line


def test_a_clock_whose_shares_fall_short_says_by_how_much() -> None:
    data = _route("sygedagpenge", 1, share=0.3)
    data["transitions"]["sygedagpenge"][2]["share"] = 0.6
    assert "sum to 0.9, 0.1 short of 1; give one route share: rest" in the_problem(data)


def test_a_fractional_initial_stock_is_rounded_to_the_nearest_person_as_stated() -> None:
    stock = {"a_dagpenge": 120.4, "sygedagpenge": 49.6}
    model = compile_model(sim.scenario_from_dict(changed(initial=stock)))
    assert model.initial[:2] == (120, 50)


# --- observed figures -----------------------------------------------------------------------------

def test_a_figure_observed_twice_names_both_entries() -> None:
    data = changed(observed=[
        {"period": 2019, "state": "total", "value": 2529},
        {"period": 2019, "state": "sygedagpenge", "value": 500},
        {"period": 2019, "state": "total", "measure": "full_year_persons", "value": 2480}])
    line = the_problem(data)
    assert line.startswith("hostile.yaml:") and ": observed[2]: " in line, line
    assert "period 2019, state total, measure full_year_persons is observed twice: here (2480) and in " \
           "observed[0] (2529); keep one" in line


def test_the_same_period_and_state_with_another_measure_is_not_a_duplicate() -> None:
    data = changed(observed=[{"period": 2019, "state": "total", "value": 2529},
                             {"period": 2019, "state": "total", "measure": "inflow_count", "value": 900}])
    assert len(sim.scenario_from_dict(data).observed) == 2


@pytest.mark.parametrize("measure", ["full_year_persons", "inflow_count", "mean_duration_weeks"])
def test_a_negative_observed_figure_is_refused(measure: str) -> None:
    figure = {"period": 2019, "state": "total", "measure": measure, "value": -5}
    line = the_problem(changed(observed=[figure]))
    assert f"observed[0].value: -5 is below 0; an observed {measure} is a stock, count, duration or " \
           "amount, never negative" in line, line


def test_more_persons_or_arrivals_in_all_than_denmark_has_are_refused() -> None:
    stock = the_problem(changed(initial={"a_dagpenge": 1_500_000, "sygedagpenge": 1_500_000}))
    assert "initial: " in stock and "3,000,000 persons in all are more than the 2,000,000 allowed" in stock
    inflow = the_problem(changed(inflow_per_week={"a_dagpenge": 30_000, "sygedagpenge": 30_000}))
    assert "inflow_per_week: " in inflow and "60,000 arrivals a week in all are more than the" in inflow


def test_a_negative_initial_stock_is_refused() -> None:
    line = the_problem(changed(initial={"a_dagpenge": -1, "sygedagpenge": 50}))
    assert "initial.a_dagpenge: -1 is not allowed" in line and "≥ 0" in line


def test_the_shipped_scenarios_are_within_every_limit() -> None:
    root = Path(__file__).resolve().parents[2] / "scenarios"
    for path in sorted(root.glob("*.yaml")):
        assert sim.load_scenario(path).start >= dt.date(1950, 1, 1), path
