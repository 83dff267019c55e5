"""What a feature adds to a batch's results: per-replication tables, target metrics, run-folder files.

Each registered feature (`sim.features.registry`) may bring a `FeatureOutputs`: the results layer
(metrics, targets, summaries) and the run folder iterate the registry and call these, so adding a
feature touches no module outside its own folder.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import pandas as pd

from sim.contract.catalogue import TOTAL
from sim.kernel.model import Model
from sim.kernel.records import ReplicationRecord
from sim.kernel.tables import STAT_COLUMNS, stats


@dataclass(frozen=True)
class ResolvedTarget:
    """A target with its rows, its period's columns and its numeric threshold."""

    name: str
    metric: str
    rows: tuple[int, ...]
    year_column: int
    """The year's column of the yearly tables; -1 for a month target."""
    threshold: float
    upper: bool
    months: slice = field(default_factory=lambda: slice(0, 0))
    """The target's months: its year's twelve, or its one month."""
    feature: int = -1
    """The team's or programme's index, for their metrics."""
    month_column: int = -1
    """The month's column of the monthly tables for a month target; -1 for a year target."""
    period: str = ""
    """'2018' or '2018-06'."""
    weeks_index: int = -1
    """For a min_weeks target: its threshold's index in the long_monthly/long_yearly tables."""
    basis: str = "jobindsats"
    """How full-year persons are counted (`Target.basis`)."""
    base: str = ""
    """For a change or difference target: `observed` or `assumed` (`Target.base`); else empty."""

    def met(self, values: np.ndarray) -> np.ndarray:
        """Whether each value meets the target (at or below an upper bound, at or above a lower)."""
        return values <= self.threshold if self.upper else values >= self.threshold

    @property
    def sense(self) -> str:
        """`at_most` or `at_least`."""
        return "at_most" if self.upper else "at_least"


class StoredTable(Protocol):
    """One stored table as [cell, replication]: an array, or the store's tiled view of one
    (indexed by cells, then one replication or a slice of consecutive ones)."""

    @property
    def shape(self) -> tuple[int, ...]:
        """(cells, replications)."""

    def __len__(self) -> int: ...

    def __getitem__(self, key: Any) -> Any: ...

    def __array__(self, dtype: Any = None, /, *, copy: bool | None = None) -> np.ndarray: ...


class Stored(Protocol):
    """The per-replication tables of a batch as the store keeps them: [cells, replication]."""

    @property
    def runs(self) -> int:
        """Replications in the batch."""

    @property
    def shapes(self) -> Mapping[str, tuple[int, ...]]:
        """The shape of one replication's value of each table."""

    @property
    def arrays(self) -> Mapping[str, StoredTable]:
        """Each table as [cell, replication]."""

    @property
    def flow_sum(self) -> np.ndarray:
        """Moves summed over replications [origin (last = outside), destination, month]."""

    @property
    def flow_sumsq(self) -> np.ndarray:
        """Their squares summed."""

    def chunks(self, name: str, max_values: int = ...) -> Iterator[tuple[slice, np.ndarray]]:
        """Blocks of cells of one table with all replications, one at a time."""


class FeatureOutputs:
    """A feature's part of the results; the defaults add nothing."""

    target_metrics: frozenset[str] = frozenset()
    """Target metrics the feature evaluates (`target_value`)."""
    bases: frozenset[str] = frozenset()
    """Counting bases of full_year_persons the feature evaluates (`basis_value`)."""
    files: tuple[str, ...] = ()
    """The run-folder tables `frames` writes, by file name without `.csv`."""

    def shapes(self, model: Model) -> dict[str, tuple[int, ...]]:
        """The shape of each table one replication gives (`measure`)."""
        return {}

    def measure(self, model: Model, record: ReplicationRecord) -> dict[str, np.ndarray]:
        """The replication's tables from its record (the feature's arrays: `record.features`)."""
        return {}

    def target_value(self, target: ResolvedTarget, tables: Mapping[str, np.ndarray]) -> float:
        """One replication's value of a target on one of `target_metrics`."""
        raise KeyError(target.metric)

    def monthly_columns(self, model: Model, store: Stored) -> tuple[list[str], np.ndarray] | None:
        """Columns the feature adds to monthly.csv, with their values [state-month cell, column]."""
        return None

    def basis_value(self, target: ResolvedTarget, tables: Mapping[str, np.ndarray]) -> float:
        """One replication's full_year_persons on one of `bases`."""
        raise KeyError(target.basis)

    def yearly_columns(self, model: Model, store: Stored) -> tuple[list[str], np.ndarray] | None:
        """Columns the feature adds to yearly.csv, with their values [state-year cell, column]."""
        return None

    def frames(self, model: Model, store: Stored) -> dict[str, pd.DataFrame]:
        """The feature's run-folder tables, by file name without `.csv`."""
        return {}


def table_stats(store: Stored, name: str) -> np.ndarray:
    """Statistics (`STAT_COLUMNS`) of every cell of a stored table, computed chunk by chunk."""
    blocks = [stats(block) for _, block in store.chunks(name)]
    return np.vstack(blocks) if blocks else np.zeros((0, len(STAT_COLUMNS)))


def state_rows(model: Model) -> list[str]:
    """The rows of the state tables: benefit states, then `total`."""
    return [*model.benefit_codes, TOTAL]


def order_by(rows: list[str]):  # type: ignore[no-untyped-def]
    """A sort key that orders a `state` column as `rows` and leaves other columns as they are."""
    rank = {code: i for i, code in enumerate(rows)}

    def key(col: pd.Series) -> pd.Series:
        return col.map(rank) if col.name == "state" else col

    return key


def feature_frame(key: str, names: list[str], measures: tuple[str, ...], values: np.ndarray,
                  months: tuple[str, ...], ratios: Mapping[str, tuple[str, str]]) -> pd.DataFrame:
    """Month, feature, the mean over replications of each measure, and ratios of sums.

    `values` is [feature, measure, month, replication]."""
    runs = values.shape[3]
    sums = values.sum(axis=3)
    rows = []
    for f, name in enumerate(names):
        for m, month in enumerate(months):
            row: dict[str, object] = {"month": month, key: name}
            row |= {measure: sums[f, k, m] / runs for k, measure in enumerate(measures)}
            for column, (num, den) in ratios.items():
                d = sums[f, measures.index(den), m]
                row[column] = sums[f, measures.index(num), m] / d if d else np.nan
            rows.append(row)
    return pd.DataFrame(rows)
