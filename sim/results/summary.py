"""Batch summaries: mean, sd and quantiles across replications, as tidy DataFrames."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.contract.schema import DURATION_METRIC
from sim.features.outputs import ResolvedTarget, Stored, order_by, state_rows
from sim.features.registry import kinds_of
from sim.kernel.model import Model
from sim.kernel.tables import STAT_COLUMNS, stats
from sim.results.targets import duration_sums


def table_stats(store: Stored, name: str) -> np.ndarray:
    """Statistics of every cell of a stored table, computed chunk by chunk."""
    blocks = [stats(block) for _, block in store.chunks(name)]
    return np.vstack(blocks) if blocks else np.zeros((0, len(STAT_COLUMNS)))


def monthly_frame(model: Model, store: Stored) -> pd.DataFrame:
    """monthly.csv: month, state, full-time persons statistics (benefit states and total)."""
    rows = state_rows(model)
    index = pd.MultiIndex.from_product([rows, model.calendar.labels], names=["state", "month"])
    frame = pd.DataFrame(table_stats(store, "monthly"), index=index, columns=STAT_COLUMNS).reset_index()
    return frame[["month", "state", *STAT_COLUMNS]].sort_values(["month", "state"], key=order_by(rows),
                                                                 ignore_index=True)


def yearly_frame(model: Model, store: Stored) -> pd.DataFrame:
    """yearly.csv: year, state, full-year persons statistics, and the columns features add
    (economics: the cost columns)."""
    rows = state_rows(model)
    years = list(model.calendar.full_years())
    values, columns = table_stats(store, "yearly"), list(STAT_COLUMNS)
    for kind in kinds_of(model):
        extra = kind.outputs.yearly_columns(model, store)
        if extra is not None:
            columns += extra[0]
            values = np.column_stack([values, extra[1]])
    index = pd.MultiIndex.from_product([rows, years], names=["state", "year"])
    frame = pd.DataFrame(values, index=index, columns=columns).reset_index()
    return frame[["year", "state", *columns]].sort_values(["year", "state"], key=order_by(rows),
                                                          ignore_index=True)


def feature_frames(model: Model, store: Stored) -> dict[str, pd.DataFrame]:
    """Every active feature's run-folder tables (costs, staircase, programmes, caseworkers, …)."""
    out: dict[str, pd.DataFrame] = {}
    for kind in kinds_of(model):
        out |= kind.outputs.frames(model, store)
    return out


def targets_frame(targets: list[ResolvedTarget], store: Stored) -> pd.DataFrame:
    """targets.csv: target, metric, sense, threshold, probability_met, mean, p10, p50, p90 and
    undefined_share. A value undefined in a replication (no spell started, no meeting due, no
    citizen senior enough) counts neither as met nor as missed: probability_met and the
    statistics are over the replications where it is defined, and undefined_share says how many
    were not. With a mean_duration_weeks target also censored_share, the share of its spells (over
    all replications) still open at the horizon, whose duration counts only up to it."""
    records = []
    values = np.asarray(store.arrays["targets"])
    durations = store.arrays.get("durations")
    for i, t in enumerate(targets):
        v = values[i]
        defined = v[~np.isnan(v)]
        p10, p50, p90 = np.quantile(defined, (0.10, 0.50, 0.90)) if len(defined) else (np.nan,) * 3
        record = {"target": t.name, "metric": t.metric, "sense": t.sense, "threshold": t.threshold,
                  "probability_met": float(t.met(defined).mean()) if len(defined) else np.nan,
                  "mean": float(defined.mean()) if len(defined) else np.nan,
                  "p10": p10, "p50": p50, "p90": p90, "undefined_share": 1.0 - len(defined) / len(v)}
        if t.metric == DURATION_METRIC and durations is not None:
            started, _, still_open = duration_sums(t, np.asarray(durations).reshape(
                *store.shapes["durations"], store.runs)).sum(axis=1)
            record["censored_share"] = still_open / started if started > 0 else np.nan
        records.append(record)
    columns = ["target", "metric", "sense", "threshold", "probability_met", "mean", "p10", "p50", "p90",
               "undefined_share"]
    if any(t.metric == DURATION_METRIC for t in targets):
        columns.append("censored_share")
    return pd.DataFrame(records, columns=columns)


def flows_frame(model: Model, store: Stored) -> pd.DataFrame:
    """flows.csv: month, from, to, mean and sd of the count of moves (from `outside` = inflow)."""
    n = max(1, store.runs)
    mean = store.flow_sum / n
    var = (store.flow_sumsq - n * mean**2) / max(1, n - 1)
    origin, dest, month = np.nonzero(store.flow_sum)
    names = [*model.codes, "outside"]
    frame = pd.DataFrame({
        "month": np.asarray(model.calendar.labels)[month],
        "from": np.asarray(names)[origin],
        "to": np.asarray(names)[dest],
        "mean": mean[origin, dest, month],
        "sd": np.sqrt(np.maximum(var[origin, dest, month], 0.0)),
    })
    return frame.sort_values(["month", "from", "to"], ignore_index=True)


def replications_frame(model: Model, store: Stored,
                       reps: slice | None = None) -> pd.DataFrame:
    """The per-replication yearly table: replication, year, state, full_year_persons."""
    rows = state_rows(model)
    years = list(model.calendar.full_years())
    reps = reps or slice(0, store.runs)
    block = np.asarray(store.arrays["yearly"][:, reps])
    ids = np.arange(store.runs)[reps]
    values = block.reshape(len(rows), len(years), len(ids))
    state, year, rep = np.meshgrid(np.arange(len(rows)), np.arange(len(years)), ids, indexing="ij")
    frame = pd.DataFrame({
        "replication": rep.ravel(),
        "year": np.asarray(years, dtype=int)[year.ravel()] if years else year.ravel(),
        "state": np.asarray(rows)[state.ravel()],
        "full_year_persons": values.ravel(),
    })
    return frame.sort_values(["replication", "year"], kind="stable", ignore_index=True)
