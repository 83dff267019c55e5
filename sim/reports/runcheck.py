"""A run folder's files checked before any report is built from them.

`caseflow report` trusts nothing it reads: a file that is missing, empty, garbled or edited by
hand is refused with one sentence naming it, the line or key and what was expected, and no report
is written. Each table must have its columns, numbers where numbers belong, probabilities in
[0, 1], and one row for each month (or year) and state of the resolved scenario; scenario.yaml
must be the mapping `caseflow run` wrote, run.json an object with whole runs and seed.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from sim.contract.calendar import Calendar
from sim.contract.catalogue import TOTAL
from sim.contract.errors import ScenarioError
from sim.contract.yamlio import DuplicateKeyError, load_yaml, read_text
from sim.results.folder import OBSERVED_MONTHS

AGAIN = "run the scenario again to write a complete folder"
"""What to do about a folder that fails its checks."""


class NotARunFolder(ValueError):
    """A folder that lacks the files a report is built from, or holds one that is not as written."""


STATS = ("mean", "sd", "p05", "p10", "p50", "p90", "p95")
PAYMENT = tuple(f"payment_{c}" for c in STATS)
COSTS = ("gross_dkk", "refund_dkk", "net_dkk", "net_dkk_p10", "net_dkk_p90", "cofinancing_rate",
         "cofinancing_rate_p10", "cofinancing_rate_p90")


@dataclass(frozen=True, slots=True)
class TableSpec:
    """What one CSV of a run folder must hold: required columns, the columns that are numbers
    (where present; empty cells are allowed), those that are shares in [0, 1], and the text columns
    read as written (a target named '1.50' or a state 'null' stays so)."""

    required: tuple[str, ...]
    numbers: tuple[str, ...]
    shares: tuple[str, ...] = ()
    text: tuple[str, ...] = ()


_MONTHLY = TableSpec(("month", "state", *STATS), (*STATS, *PAYMENT), text=("month", "state"))
TABLES: dict[str, TableSpec] = {
    "monthly.csv": _MONTHLY,
    OBSERVED_MONTHS: _MONTHLY,  # a tracked forecast's actual months, in monthly.csv's columns
    "yearly.csv": TableSpec(("year", "state", *STATS), ("year", *STATS, *PAYMENT, *COSTS), text=("state",)),
    "targets.csv": TableSpec(
        ("target", "metric", "sense", "threshold", "probability_met", "mean", "p10", "p50", "p90"),
        ("threshold", "probability_met", "probability_se", "probability_low95", "probability_high95",
         "runs_for_002", "mean", "p10", "p50", "p90", "undefined_share", "censored_share"),
        ("probability_met", "probability_low95", "probability_high95", "undefined_share",
         "censored_share"), ("target",)),
    "costs.csv": TableSpec(("month", "state", "gross_dkk", "net_dkk", "cofinancing_rate"), COSTS,
                           text=("month", "state")),
    "programmes.csv": TableSpec(
        ("month", "programme", "participants", "queued", "referrals", "starts", "lapsed", "declined",
         "wait_days", "cost_dkk"),
        ("participants", "queued", "referrals", "starts", "lapsed", "declined", "wait_days", "cost_dkk")),
    "caseworkers.csv": TableSpec(("month", "team", "held"), ("held", "due", "late", "missed")),
    "layers.csv": TableSpec(
        ("quantity", "sd_parameters_drawn", "sd_parameters_fixed", "parameter_share", "dominant"),
        ("sd_parameters_drawn", "sd_parameters_fixed", "parameter_share"), ("parameter_share",)),
    "assumptions.csv": TableSpec(
        ("target", "path", "low", "point", "high", "runs", "p_low", "p_point", "p_high", "sets_it"),
        ("low", "point", "high", "runs", "p_low", "p_point", "p_high"), ("p_low", "p_point", "p_high"),
        ("target", "path")),
    "differences.csv": TableSpec(
        ("kind", "name", "year", "base_mean", "variant_mean", "difference"),
        ("base_mean", "variant_mean", "difference", "difference_se", "difference_low95",
         "difference_high95", "difference_p05", "difference_p50", "difference_p95",
         "base_probability_met", "variant_probability_met"),
        ("base_probability_met", "variant_probability_met"), ("kind", "name")),
}
"""The tables reports read, by file name."""


def read_table(path: Path) -> pd.DataFrame:
    """A run folder's CSV, checked against its `TABLES` entry (when it has one)."""
    spec = TABLES.get(path.name)
    text = {c: str for c in spec.text} if spec is not None else None
    try:  # only an empty cell is missing: 'NA' or 'null' in a name is text
        frame = pd.read_csv(path, keep_default_na=False, na_values=[""], dtype=text)
    except FileNotFoundError:
        raise NotARunFolder(f"{path} is missing; {AGAIN}") from None
    except pd.errors.EmptyDataError:
        raise NotARunFolder(f"{path} is empty; {AGAIN}") from None
    except UnicodeDecodeError as exc:
        raise NotARunFolder(f"{path} is not UTF-8 text ({exc.reason} at byte {exc.start}); {AGAIN}") from None
    except (pd.errors.ParserError, ValueError) as exc:
        raise NotARunFolder(f"{path} is not a CSV table ({_first_line(exc)}); {AGAIN}") from None
    except OSError as exc:
        raise NotARunFolder(f"{path} cannot be read: {exc.strerror or exc}") from None
    if spec is not None:
        _check_table(frame, path, spec)
    return frame


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def _check_table(frame: pd.DataFrame, path: Path, spec: TableSpec) -> None:
    missing = [c for c in spec.required if c not in frame.columns]
    if missing:
        raise NotARunFolder(f"{path} lacks the column{'s' if len(missing) > 1 else ''} {', '.join(missing)} "
                            f"(it has {', '.join(map(str, frame.columns))}); {AGAIN}")
    for column in (c for c in spec.numbers if c in frame.columns):
        values = pd.to_numeric(frame[column], errors="coerce")
        bad = values.isna() & frame[column].notna()
        if bad.any():
            i = int(bad.to_numpy().argmax())
            raise NotARunFolder(f"{path}: line {i + 2}: {column} is {frame[column].iloc[i]!r}, not a number; "
                                f"{AGAIN}")
        frame[column] = values
    for column in (c for c in spec.shares if c in frame.columns):
        outside = ~frame[column].between(0, 1) & frame[column].notna()
        if outside.any():
            i = int(outside.to_numpy().argmax())
            raise NotARunFolder(f"{path}: line {i + 2}: {column} is {frame[column].iloc[i]:g}, outside "
                                f"[0, 1] (it is a probability or share); {AGAIN}")


def check_rows(frame: pd.DataFrame, path: Path, period: str, periods: Sequence[str | int],
               states: Sequence[str]) -> None:
    """One row for each period (month or year) and state, nothing else."""
    wanted = {(str(p), s) for p in periods for s in states}
    seen: set[tuple[str, str]] = set()
    for i, key in enumerate(zip(frame[period].astype(str), frame["state"].astype(str), strict=True)):
        if key not in wanted:
            raise NotARunFolder(f"{path}: line {i + 2}: {period} {key[0]}, state {key[1]} is not one of the "
                                f"scenario's {len(periods)} {period}s × {len(states)} states; {AGAIN}")
        if key in seen:
            raise NotARunFolder(f"{path}: line {i + 2} repeats {period} {key[0]}, state {key[1]}; {AGAIN}")
        seen.add(key)
    if len(seen) != len(wanted):
        period_, state = min(wanted - seen)
        raise NotARunFolder(f"{path} has {len(seen)} rows where the scenario has {len(periods)} {period}s × "
                            f"{len(states)} states (with {TOTAL}): {period} {period_}, state {state} is "
                            f"missing; {AGAIN}")


def read_facts(path: Path) -> dict[str, Any]:
    """run.json: an object; runs a whole number ≥ 1 and seed a whole number ≥ 0 where given."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise NotARunFolder(f"{path} is missing; {AGAIN}") from None
    except UnicodeDecodeError as exc:
        raise NotARunFolder(f"{path} is not UTF-8 text ({exc.reason} at byte {exc.start}); {AGAIN}") from None
    except OSError as exc:
        raise NotARunFolder(f"{path} cannot be read: {exc.strerror or exc}") from None
    if not text.strip():
        raise NotARunFolder(f"{path} is empty; {AGAIN}")
    try:
        facts = json.loads(text)
    except ValueError as exc:
        raise NotARunFolder(f"{path} is not JSON ({exc}); {AGAIN}") from None
    if not isinstance(facts, dict):
        raise NotARunFolder(f"{path} holds {type(facts).__name__}, not an object of run facts "
                            f"(seed, runs, …); {AGAIN}")
    for key, least in (("runs", 1), ("seed", 0)):
        value = facts.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < least):
            raise NotARunFolder(f"{path}: {key} is {value!r}; it must be a whole number ≥ {least}; {AGAIN}")
    lang = facts.get("lang")
    if lang is not None and lang not in ("da", "en"):
        raise NotARunFolder(f"{path}: lang is {lang!r}; it must be da or en; {AGAIN}")
    return facts


def read_scenario(path: Path) -> dict[str, Any]:
    """scenario.yaml: the resolved scenario, with the blocks reports read in their shapes."""
    try:
        data, lines = load_yaml(read_text(path, "the resolved scenario a run wrote"))
    except ScenarioError as exc:
        raise NotARunFolder(f"{path} {exc.problems[0].message}; {AGAIN}") from None
    except DuplicateKeyError as exc:
        raise NotARunFolder(f"{path}: {exc}; {AGAIN}") from None
    except yaml.MarkedYAMLError as exc:
        line = f" at line {exc.problem_mark.line + 1}" if exc.problem_mark is not None else ""
        raise NotARunFolder(f"{path} is not the YAML a run writes ({exc.problem or exc.context}{line}); "
                            f"{AGAIN}") from None
    except yaml.YAMLError as exc:
        raise NotARunFolder(f"{path} is not YAML ({_first_line(exc)}); {AGAIN}") from None
    if not isinstance(data, dict):
        raise NotARunFolder(f"{path} holds {'nothing' if data is None else type(data).__name__}, not the "
                            f"scenario's mapping (name:, start:, months:, states:, …); {AGAIN}")

    def refuse(key: str, allowed: str) -> NotARunFolder:
        where = f":{lines[(key,)]}" if (key,) in lines else ""
        return NotARunFolder(f"{path}{where}: {key} is {data.get(key)!r}; it must be {allowed}; {AGAIN}")

    if not isinstance(data.get("name"), str) or not data["name"]:
        raise refuse("name", "the scenario's name")
    if start_of(data) is None:
        raise refuse("start", "a month's first day like 2018-01-01")
    months = data.get("months")
    if isinstance(months, bool) or not isinstance(months, int) or not 1 <= months <= 600:
        raise refuse("months", "a whole number from 1 to 600")
    states = data.get("states")
    if (not isinstance(states, dict) or not states or TOTAL in states
            or not all(isinstance(k, str) and (v is None or isinstance(v, dict)) for k, v in states.items())):
        raise refuse("states", "a mapping of state codes to their settings")
    for key in ("targets", "observed", "assumptions"):
        items = data.get(key)
        if items is not None and (not isinstance(items, list) or not all(isinstance(x, dict) for x in items)):
            raise refuse(key, "a list of mappings")
    if not all(isinstance(t.get("name"), str) for t in data.get("targets") or []):
        raise refuse("targets", "a list of targets, each with its name")
    return data


def start_of(scenario: dict[str, Any]) -> dt.date | None:
    """The resolved scenario's start (written as text, '2018-01-01'), or None if it is not a
    month's first day."""
    start = scenario.get("start")
    if isinstance(start, str):
        try:
            start = dt.date.fromisoformat(start.strip())
        except ValueError:
            return None
    return start if isinstance(start, dt.date) and start.day == 1 else None


def check_folder(scenario: dict[str, Any], folder: Path, monthly: pd.DataFrame, yearly: pd.DataFrame,
                 targets: pd.DataFrame, costs: pd.DataFrame | None) -> None:
    """The tables agree with the scenario: a row per month (year) and state, a row per target
    (matched by position: a target renamed in targets.csv is reported as the file names it)."""
    start = start_of(scenario)
    assert start is not None  # read_scenario refuses a folder without one
    calendar = Calendar.build(start, scenario["months"])
    states = [*scenario["states"], TOTAL]
    check_rows(monthly, folder / "monthly.csv", "month", calendar.labels, states)
    check_rows(yearly, folder / "yearly.csv", "year", list(calendar.full_years()), states)
    if costs is not None:
        check_rows(costs, folder / "costs.csv", "month", calendar.labels, states)
    names = [t["name"] for t in scenario.get("targets") or []]
    if len(targets) != len(names):
        raise NotARunFolder(f"{folder / 'targets.csv'} has {len(targets)} rows for the {len(names)} target"
                            f"{'s' if len(names) != 1 else ''} of scenario.yaml; {AGAIN}")
