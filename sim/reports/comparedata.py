"""A comparison folder read back: differences.csv beside the base/ and variant/ run folders.

Split from the comparison report so the console can print a comparison from its folder
without loading the chart and workbook libraries.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from sim.contract.catalogue import TOTAL
from sim.reports.rundata import (
    NotARunFolder,
    RunData,
    TargetRow,
    incomplete,
    load_run,
    read_csv,
    run_language,
)
from sim.results.differences import DIFFERENCE_COLUMNS
from sim.results.folder import RUNNING

DIFFERENCES = "differences.csv"
BASE, VARIANT = "base", "variant"
NUMBERS = tuple(DIFFERENCE_COLUMNS[3:])
"""The numeric columns of differences.csv, from base_mean to variant_probability_met."""
SPREAD = NUMBERS[:9]
"""The numbers a state-year row has: means, difference, its standard error, interval and spread."""


def is_comparison_folder(folder: Path) -> bool:
    """Whether `folder` is what `caseflow compare` writes: differences.csv, base/ and variant/."""
    folder = Path(folder)
    return (folder / DIFFERENCES).is_file() and (folder / BASE).is_dir() and (folder / VARIANT).is_dir()


def comparison_language(folder: Path) -> str:
    """The language the comparison was first reported in: the base run's."""
    return run_language(Path(folder) / BASE)


@dataclass(frozen=True)
class TargetChange:
    """One target of both runs: the base's row of targets.csv and its row of differences.csv."""

    target: TargetRow
    numbers: dict[str, float]


@dataclass(frozen=True)
class ComparisonData:
    """A comparison folder read back: both runs and the paired differences."""

    folder: Path
    base: RunData
    variant: RunData
    differences: pd.DataFrame

    @property
    def states(self) -> list[str]:
        """The benefit states of either run, the base's order first."""
        return list(dict.fromkeys([*self.base.states, *self.variant.states]))

    @property
    def state_specs(self) -> dict[str, dict[str, Any]]:
        """Both scenarios' `states` blocks, the base's labels winning."""
        return {**self.variant.state_specs, **self.base.state_specs}

    def rows(self, kind: str) -> list[dict[str, Any]]:
        """differences.csv's rows of one kind ('target', 'full_year_persons', 'net_dkk'), in order."""
        part = self.differences[self.differences["kind"] == kind]
        return part.to_dict("records")  # type: ignore[return-value]

    def target_changes(self) -> list[TargetChange]:
        """Each target's differences joined by name with the base's target (variant's if missing)."""
        known = {t.name: t for t in self.variant.target_rows()} | {t.name: t for t in self.base.target_rows()}
        return [TargetChange(known[str(r["name"])], {k: float(r[k]) for k in NUMBERS})
                for r in self.rows("target") if str(r["name"]) in known]


@dataclass(frozen=True, slots=True)
class PairLine:
    """One benefit and year of both runs: the paired differences of full-year persons and net DKK
    (differences.csv's rows, None where it has none), and gross and refund DKK of each run's
    yearly.csv (base, variant; NaN without economics), whose difference is that of the means."""

    year: int
    code: str
    persons: dict[str, float] | None
    net: dict[str, float] | None = None
    gross: tuple[float, float] = (math.nan, math.nan)
    refund: tuple[float, float] = (math.nan, math.nan)

    @property
    def is_total(self) -> bool:
        """Whether this is the line of all public support."""
        return self.code == TOTAL


def _means(run: RunData, column: str) -> dict[tuple[str, int], float]:
    """A yearly.csv column by (state, year); empty when the run has no such column."""
    if column not in run.yearly.columns:
        return {}
    return {(str(r["state"]), int(r["year"])): float(r[column]) for r in run.yearly.to_dict("records")}


def budget_pairs(data: ComparisonData) -> list[PairLine]:
    """The comparison's budget lines, year by year: each state of either run, then the total."""
    persons = {(str(r["name"]), int(r["year"])): {k: float(r[k]) for k in SPREAD}
               for r in data.rows("full_year_persons")}
    net = {(str(r["name"]), int(r["year"])): {k: float(r[k]) for k in SPREAD} for r in data.rows("net_dkk")}
    money = {(side, c): _means(run, c) for side, run in ((BASE, data.base), (VARIANT, data.variant))
             for c in ("gross_dkk", "refund_dkk")}

    def pair(column: str, key: tuple[str, int]) -> tuple[float, float]:
        return (money[(BASE, column)].get(key, math.nan), money[(VARIANT, column)].get(key, math.nan))

    years = sorted({year for _, year in persons})
    return [PairLine(year, code, persons.get((code, year)), net.get((code, year)),
                     pair("gross_dkk", (code, year)), pair("refund_dkk", (code, year)))
            for year in years for code in (*data.states, TOTAL) if (code, year) in persons]


def load_comparison(folder: Path) -> ComparisonData:
    """Read a comparison folder; NotARunFolder says what is missing."""
    folder = Path(folder)
    if (folder / RUNNING).is_file():
        raise NotARunFolder(incomplete(folder))
    if not is_comparison_folder(folder):
        raise NotARunFolder(f"{folder} is not a comparison folder: it needs {DIFFERENCES}, {BASE}/ and "
                            f"{VARIANT}/ as `caseflow compare` writes them")
    differences = read_csv(folder / DIFFERENCES)
    missing = [c for c in DIFFERENCE_COLUMNS if c not in differences.columns]
    if missing:
        raise NotARunFolder(f"{folder / DIFFERENCES} lacks the columns {', '.join(missing)}")
    return ComparisonData(folder, load_run(folder / BASE), load_run(folder / VARIANT), differences)
