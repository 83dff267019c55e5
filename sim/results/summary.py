"""Batch summaries: mean, sd and quantiles across replications, as tidy DataFrames."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from sim.contract.schema import DURATION_METRIC
from sim.features.outputs import ResolvedTarget, Stored, order_by, state_rows, table_stats
from sim.features.registry import kinds_of
from sim.kernel.model import Model
from sim.kernel.tables import STAT_COLUMNS
from sim.results.binomial import probability_error
from sim.results.targets import duration_sums


def _with_feature_columns(model: Model, store: Stored, period: str) -> tuple[np.ndarray, list[str]]:
    """The statistics of a monthly or yearly table and the columns features add to it."""
    values, columns = table_stats(store, period), list(STAT_COLUMNS)
    for kind in kinds_of(model):
        extra = (kind.outputs.monthly_columns(model, store) if period == "monthly"
                 else kind.outputs.yearly_columns(model, store))
        if extra is not None:
            columns += extra[0]
            values = np.column_stack([values, extra[1]])
    return values, columns


def monthly_frame(model: Model, store: Stored) -> pd.DataFrame:
    """monthly.csv: month, state, full-time persons statistics (benefit states and total), and the
    columns features add (with an employer period: the payment basis)."""
    rows = state_rows(model)
    values, columns = _with_feature_columns(model, store, "monthly")
    index = pd.MultiIndex.from_product([rows, model.calendar.labels], names=["state", "month"])
    frame = pd.DataFrame(values, index=index, columns=columns).reset_index()
    return frame[["month", "state", *columns]].sort_values(["month", "state"], key=order_by(rows),
                                                           ignore_index=True)


def yearly_frame(model: Model, store: Stored) -> pd.DataFrame:
    """yearly.csv: year, state, full-year persons statistics, and the columns features add
    (economics: the cost columns; with an employer period: the payment basis)."""
    rows = state_rows(model)
    years = list(model.calendar.full_years())
    values, columns = _with_feature_columns(model, store, "yearly")
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


def targets_frame(targets: list[ResolvedTarget], store: Stored,
                  set_by: Sequence[str] | None = None) -> pd.DataFrame:
    """targets.csv: target, metric, basis, base, sense, threshold, probability_met, probability_se,
    probability_low95, probability_high95, runs_for_002, mean, p10, p50, p90, undefined_share and
    set_by_assumption.
    base is `observed` or `assumed` for a change or difference target (where its base comes
    from, `Target.base`), empty otherwise. A value undefined in a replication (no spell started,
    no meeting due, no citizen senior enough) counts neither as met nor as missed:
    probability_met and the statistics are over the n replications where it is defined, and
    undefined_share says how many were not. With a
    mean_duration_weeks target also censored_share, the share of its spells (over all
    replications) still open at the horizon, whose duration counts only up to it.

    The probability's Monte Carlo error treats the k replications meeting the target as a
    binomial count of n: probability_se is the standard error √(p(1 − p)/n);
    probability_low95/high95 the Wilson score 95 % interval, (k + z²/2 ± z√(k(n − k)/n + z²/4))
    / (n + z²) with z the normal 97.5 % quantile, which stays inside [0, 1] and keeps a width at
    p = 0 and p = 1 (the same as scipy.stats.binomtest(k, n).proportion_ci(method="wilson"),
    written out so that this module loads no scipy); runs_for_002 the defined replications that
    would give a standard error of 0.02 (±0.02 as one standard error, not as the 95 % half-width)
    at this p, ⌈p(1 − p)/0.02²⌉ and at least 1, computed in integers from k and n. All four are
    NaN when no replication is defined.

    set_by_assumption names, per target, the assumed values (their paths, joined by "; " in the
    scenario's order) whose low–high range moves the probability across 0.5 or from below 0.1 to
    above 0.9 (`set_by`, from `sim.batch.assumptions`); empty when the scenario assumes nothing
    or the check was not run."""
    records = []
    values = np.asarray(store.arrays["targets"])
    durations = store.arrays.get("durations")
    for i, t in enumerate(targets):
        v = values[i]
        defined = v[~np.isnan(v)]
        n, k = len(defined), int(np.count_nonzero(t.met(defined)))
        p10, p50, p90 = np.quantile(defined, (0.10, 0.50, 0.90)) if n else (np.nan,) * 3
        p, se, low, high, runs_for_002 = probability_error(k, n)
        basis = t.basis if t.metric == "full_year_persons" else ""
        record = {"target": t.name, "metric": t.metric, "basis": basis, "base": t.base,
                  "sense": t.sense,
                  "threshold": t.threshold,
                  "probability_met": p, "probability_se": se, "probability_low95": low,
                  "probability_high95": high, "runs_for_002": runs_for_002,
                  "mean": float(defined.mean()) if n else np.nan,
                  "p10": p10, "p50": p50, "p90": p90, "undefined_share": 1.0 - n / len(v),
                  "set_by_assumption": set_by[i] if set_by is not None else ""}
        if t.metric == DURATION_METRIC and durations is not None:
            started, _, still_open = duration_sums(t, np.asarray(durations).reshape(
                *store.shapes["durations"], store.runs)).sum(axis=1)
            record["censored_share"] = still_open / started if started > 0 else np.nan
        records.append(record)
    columns = ["target", "metric", "basis", "base", "sense", "threshold", "probability_met", "probability_se",
               "probability_low95", "probability_high95", "runs_for_002", "mean", "p10", "p50", "p90",
               "undefined_share", "set_by_assumption"]
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
