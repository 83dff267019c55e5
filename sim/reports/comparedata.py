"""A comparison folder read back: differences.csv beside the base/ and variant/ run folders.

Split from the comparison report so the console can print a comparison from its folder
without loading the chart and workbook libraries.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

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
