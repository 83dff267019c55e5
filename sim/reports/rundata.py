"""A run folder read back: the tables and facts every report is built from.

Reports never re-simulate: they read `monthly.csv`, `yearly.csv`, `targets.csv`, `costs.csv`
(when economics were given), `programmes.csv`, `caseworkers.csv` and `layers.csv` (when the
scenario has them), `scenario.yaml` and `run.json`, so `caseflow report RUN_DIR`
rebuilds them from the folder alone, and a comparison report can load two folders the same way.
With the assumption check, `assumptions.csv` too; targets.csv's `base` (where a change target's
base comes from) and `set_by_assumption` columns are read when present, and a folder written
before them shows neither.

A run folder written before targets.csv had the probabilities' Monte Carlo error (probability_se,
probability_low95, probability_high95, runs_for_002) is still read: the missing columns are
computed from probability_met and run.json's runs, as `sim.results.summary.targets_frame` computes
them, over runs × (1 − undefined_share) defined replications (all of them when undefined_share is
missing too); without runs in run.json they stay NaN and the reports show the probability alone.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from sim.contract.catalogue import TOTAL
from sim.reports.runcheck import AGAIN, NotARunFolder, check_folder, read_facts, read_scenario, read_table
from sim.results.binomial import probability_error
from sim.results.folder import OBSERVED_MONTHS, RUNNING

REQUIRED = ("monthly.csv", "yearly.csv", "targets.csv", "scenario.yaml", "run.json")
"""Files a run folder must hold for its reports to be built."""


NUMBERS = ("threshold", "probability_met", "mean", "p10", "p50", "p90")
"""The numeric columns of targets.csv."""

ERROR = ("probability_se", "probability_low95", "probability_high95", "runs_for_002")
"""targets.csv's columns of the probability's Monte Carlo error, after probability_met."""


ASSUMPTIONS = "assumptions.csv"
"""The assumption check's table (sim.batch.assumptions), when it was run."""


@dataclass(frozen=True, slots=True)
class TargetRow:
    """One target: its row of targets.csv with the scenario's states, groups and year."""

    name: str
    metric: str
    sense: str
    threshold: float
    probability_met: float
    mean: float
    p10: float
    p50: float
    p90: float
    states: tuple[str, ...]
    groups: tuple[str, ...]
    year: int | None
    month: str | None = None
    """'YYYY-MM' for a target over one month (then year is None)."""
    change: float | None = None
    """For a change target: the fraction relative to the base (−0.026)."""
    difference: float | None = None
    """For a difference target: the amount relative to the base (−250)."""
    base: str | None = None
    """The observed period a change or difference is measured from ('2021' or '2021-01')."""
    censored_share: float = math.nan
    """For mean_duration_weeks: the share of its spells still open at the horizon."""
    min_weeks: float | None = None
    """For full_year_persons: only person-days beyond this many weeks of the current spell."""
    probability_se: float = math.nan
    """The binomial standard error of probability_met (NaN: not known)."""
    probability_low95: float = math.nan
    """The lower bound of probability_met's Wilson 95 % interval."""
    probability_high95: float = math.nan
    """The upper bound of probability_met's Wilson 95 % interval."""
    runs_for_002: float = math.nan
    """Defined replications that would give probability_met a standard error of 0.02."""
    undefined_share: float = 0.0
    """The share of replications where the value is undefined (left out of the probability)."""
    base_source: str = ""
    """targets.csv's base: `observed` or `assumed` for a change or difference target, else ''."""
    set_by_assumption: str = ""
    """The paths of the assumed values that set the target, joined by '; ' ('' for none)."""


@dataclass(frozen=True, slots=True)
class ObservedValue:
    """One observed full-year-persons figure for a state: a year ('2017') or a month ('2017-06')."""

    period: str
    value: float


@dataclass(frozen=True)
class RunData:
    """The contents of one run folder, as DataFrames and plain dicts."""

    folder: Path
    monthly: pd.DataFrame
    yearly: pd.DataFrame
    targets: pd.DataFrame
    costs: pd.DataFrame | None
    scenario: dict[str, Any]
    facts: dict[str, Any]
    programmes: pd.DataFrame | None = None
    """programmes.csv, when the scenario has interventions."""
    caseworkers: pd.DataFrame | None = None
    """caseworkers.csv, when the scenario has caseworker teams."""
    layers: pd.DataFrame | None = None
    """layers.csv, when parameter uncertainty was split from process uncertainty."""
    assumptions: pd.DataFrame | None = None
    """assumptions.csv, when the scenario's assumed values were checked."""

    @property
    def name(self) -> str:
        """The scenario's name."""
        return str(self.scenario.get("name", self.facts.get("scenario", self.folder.name)))

    @property
    def states(self) -> list[str]:
        """The benefit states in the order of monthly.csv, without the total."""
        return [s for s in dict.fromkeys(self.monthly["state"]) if s != TOTAL]

    @property
    def months(self) -> list[str]:
        """The horizon's months, 'YYYY-MM', in order."""
        return list(dict.fromkeys(self.monthly["month"]))

    @property
    def state_specs(self) -> dict[str, dict[str, Any]]:
        """The scenario's `states` block: code → {group, label, label_en}."""
        return {k: (v or {}) for k, v in (self.scenario.get("states") or {}).items()}

    @property
    def assumption_specs(self) -> list[dict[str, Any]]:
        """The scenario's `assumptions` block: each {path, low, high, reason}."""
        return [a for a in self.scenario.get("assumptions") or [] if isinstance(a, dict)]

    def target_rows(self) -> list[TargetRow]:
        """targets.csv joined by position with the scenario's targets (same order, same names)."""
        specs = list(self.scenario.get("targets") or [])
        out = []
        records: list[dict[str, Any]] = self.targets.to_dict("records")  # type: ignore[assignment]
        for i, row in enumerate(records):
            spec = specs[i] if i < len(specs) and specs[i].get("name") == str(row["target"]) else {}
            year, month = spec.get("year"), spec.get("month")
            numbers = {k: float(row[k]) for k in NUMBERS}
            change = next((spec[k] for k in ("change_at_most", "change_at_least")
                           if spec.get(k) is not None), None)
            difference = next((spec[k] for k in ("difference_at_most", "difference_at_least")
                               if spec.get(k) is not None), None)
            base = spec.get("base_month") or spec.get("base_year")
            if base is None and (change is not None or difference is not None) and year is not None:
                base = int(year) - 1
            censored = row.get("censored_share")
            error = {k: _number(row.get(k)) for k in ERROR}
            out.append(TargetRow(
                name=str(row["target"]), metric=str(row["metric"]), sense=str(row["sense"]), **numbers,
                states=tuple(spec.get("states") or ()), groups=tuple(spec.get("groups") or ()),
                year=int(year) if year is not None else None, month=str(month) if month else None,
                change=_fraction(change), difference=float(difference) if difference is not None else None,
                base=str(base) if base is not None else None,
                censored_share=float(censored) if censored is not None else math.nan,
                min_weeks=float(spec["min_weeks"]) if spec.get("min_weeks") is not None else None,
                **error, undefined_share=_number(row.get("undefined_share"), 0.0),
                base_source=_text(row.get("base")), set_by_assumption=_text(row.get("set_by_assumption"))))
        return out

    def observed(self, state: str) -> list[ObservedValue]:
        """The scenario's observed full-year persons for `state` (a code or 'total')."""
        out = []
        for o in self.scenario.get("observed") or []:
            value = o.get("value")
            if (o.get("state") == state and o.get("measure", "full_year_persons") == "full_year_persons"
                    and isinstance(value, int | float) and math.isfinite(value)):
                out.append(ObservedValue(str(o.get("period")), float(value)))
        return out


def _number(value: Any, missing: float = math.nan) -> float:
    """A cell of targets.csv as a float; `missing` for an absent column or an empty cell."""
    if value is None:
        return missing
    number = float(value)
    return missing if math.isnan(number) else number


def _text(value: Any) -> str:
    """A text cell of targets.csv; '' for an absent column or an empty cell (read as NaN)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value).strip()


def with_probability_error(targets: pd.DataFrame, runs: Any) -> pd.DataFrame:
    """targets.csv with the columns of the probability's Monte Carlo error: as read when the
    folder has them, else computed from probability_met over runs × (1 − undefined_share) defined
    replications (NaN when run.json gives no runs), inserted after probability_met."""
    if all(c in targets.columns for c in ERROR) or "probability_met" not in targets.columns:
        return targets
    known = isinstance(runs, int | float) and not isinstance(runs, bool) and runs > 0
    computed: dict[str, list[float]] = {c: [] for c in ERROR}
    undefined = targets["undefined_share"] if "undefined_share" in targets.columns else None
    for i, p in enumerate(targets["probability_met"].astype(float)):
        share = _number(undefined.iloc[i], 0.0) if undefined is not None else 0.0
        n = round(float(runs) * (1.0 - share)) if known else 0
        row = (math.nan,) * 4 if math.isnan(p) else probability_error(round(p * n), n)[1:]  # NaN at n = 0
        for column, value in zip(ERROR, row, strict=True):
            computed[column].append(value)
    out = targets.copy()
    at = list(out.columns).index("probability_met") + 1
    for offset, column in enumerate(c for c in ERROR if c not in out.columns):
        out.insert(at + offset, column, computed[column])
    return out


def _fraction(value: Any) -> float | None:
    """A change as written in the scenario (-0.026 or '-2.6%') as a fraction."""
    if value is None:
        return None
    if isinstance(value, str) and value.strip().endswith("%"):
        return float(value.strip()[:-1].replace(",", ".").replace("−", "-")) / 100
    return float(value)


def read_csv(path: Path) -> pd.DataFrame:
    """A run CSV as a DataFrame, checked (`sim.reports.runcheck`): NotARunFolder says what is wrong."""
    return read_table(Path(path))


def with_sets_it(frame: pd.DataFrame) -> pd.DataFrame:
    """An assumptions table with sets_it as booleans."""
    if "sets_it" in frame.columns:
        frame["sets_it"] = [v is True or str(v).strip().lower() in ("true", "1") for v in frame["sets_it"]]
    return frame


def incomplete(folder: Path) -> str:
    """Why a folder whose command was stopped (or is still running) is not reported."""
    try:
        facts = json.loads((folder / RUNNING).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        facts = {}
    facts = facts if isinstance(facts, dict) else {}
    done, runs = facts.get("finished"), facts.get("runs")
    counted = isinstance(done, int) and isinstance(runs, int)
    held = f" ({done:,} of {runs:,} replications finished)" if counted else ""
    how = (f"complete it with: caseflow run --resume {folder}" if "scenario_sha256" in facts
           else "run the command again in a new folder")
    return (f"{folder} is incomplete{held}: its command was stopped or is still running ({RUNNING}); "
            f"{how}")


def load_run(folder: Path) -> RunData:
    """Read a run folder and check every file it holds (`sim.reports.runcheck`); NotARunFolder
    names the first missing or wrong one, and nothing is reported from it."""
    folder = Path(folder)
    try:
        if not folder.is_dir():
            raise NotARunFolder(f"{folder} is not a folder; give the run folder `caseflow run` wrote")
        running = (folder / RUNNING).is_file()
        missing = [name for name in REQUIRED if not (folder / name).is_file()]
    except OSError as exc:
        raise NotARunFolder(f"{folder} cannot be read: {exc.strerror or exc}") from None
    if running:
        raise NotARunFolder(incomplete(folder))
    if missing:
        raise NotARunFolder(f"{folder} is not a complete run folder: {missing[0]} is missing "
                            f"(a run folder holds {', '.join(REQUIRED)}); {AGAIN}")

    def optional(name: str) -> pd.DataFrame | None:
        return read_csv(folder / name) if (folder / name).is_file() else None

    facts = read_facts(folder / "run.json")
    scenario = read_scenario(folder / "scenario.yaml")
    monthly, yearly = read_csv(folder / "monthly.csv"), read_csv(folder / "yearly.csv")
    observed = optional(OBSERVED_MONTHS)  # a tracked forecast's actual months, before monthly.csv's
    if observed is not None:
        monthly = pd.concat([observed, monthly], ignore_index=True)
    targets, costs = read_csv(folder / "targets.csv"), optional("costs.csv")
    check_folder(scenario, folder, monthly, yearly, targets, costs)
    assumptions = optional(ASSUMPTIONS)
    return RunData(
        folder=folder,
        monthly=monthly,
        yearly=yearly,
        targets=with_probability_error(targets, facts.get("runs")),
        costs=costs,
        scenario=scenario,
        facts=facts,
        programmes=optional("programmes.csv"),
        caseworkers=optional("caseworkers.csv"),
        layers=optional("layers.csv"),
        assumptions=with_sets_it(assumptions) if assumptions is not None else None,
    )


def run_language(folder: Path) -> str:
    """The language a run's reports were first written in (run.json's `lang`), else 'da'."""
    try:
        facts = json.loads((Path(folder) / "run.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return "da"
    lang = facts.get("lang") if isinstance(facts, dict) else None
    return lang if lang in ("da", "en") else "da"
