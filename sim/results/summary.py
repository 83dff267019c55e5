"""Batch summaries: mean, sd and quantiles across replications, as tidy DataFrames."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd

from sim.batch.store import ReplicationStore
from sim.contract.caseworker_spec import TEAM_SHARES
from sim.contract.catalogue import TOTAL
from sim.contract.schema import DURATION_METRIC
from sim.features.caseworkers import MEASURES as TEAM_MEASURES
from sim.features.programmes import MEASURES
from sim.kernel.model import Model
from sim.results.targets import ResolvedTarget, duration_sums

QUANTILES = (0.05, 0.10, 0.50, 0.90, 0.95)
STAT_COLUMNS = ["mean", "sd", "p05", "p10", "p50", "p90", "p95"]


def _stats(values: np.ndarray) -> np.ndarray:
    """[cells, runs] → [cells, 7]: mean, sd (ddof 1), the five quantiles."""
    mean = values.mean(axis=1)
    sd = values.std(axis=1, ddof=1) if values.shape[1] > 1 else np.full(values.shape[0], np.nan)
    q = np.quantile(values, QUANTILES, axis=1).T
    return np.column_stack([mean, sd, q])


def table_stats(store: ReplicationStore, name: str) -> np.ndarray:
    """Statistics of every cell of a stored table, computed chunk by chunk."""
    blocks = [_stats(block) for _, block in store.chunks(name)]
    return np.vstack(blocks) if blocks else np.zeros((0, len(STAT_COLUMNS)))


def monthly_frame(model: Model, store: ReplicationStore) -> pd.DataFrame:
    """monthly.csv: month, state, full-time persons statistics (benefit states and total)."""
    rows = [*model.benefit_codes, TOTAL]
    stats = table_stats(store, "monthly")
    index = pd.MultiIndex.from_product([rows, model.calendar.labels], names=["state", "month"])
    frame = pd.DataFrame(stats, index=index, columns=STAT_COLUMNS).reset_index()
    return frame[["month", "state", *STAT_COLUMNS]].sort_values(["month", "state"], key=_order(rows),
                                                                 ignore_index=True)


def yearly_frame(model: Model, store: ReplicationStore) -> pd.DataFrame:
    """yearly.csv: year, state, full-year persons statistics, and the cost columns with economics."""
    rows = [*model.benefit_codes, TOTAL]
    years = list(model.calendar.full_years())
    stats = table_stats(store, "yearly")
    if model.economics is not None:
        stats = np.column_stack([stats, _cost_stats(store, "yearly")])
    index = pd.MultiIndex.from_product([rows, years], names=["state", "year"])
    columns = STAT_COLUMNS + (COST_COLUMNS if model.economics is not None else [])
    frame = pd.DataFrame(stats, index=index, columns=columns).reset_index()
    return frame[["year", "state", *columns]].sort_values(["year", "state"], key=_order(rows),
                                                          ignore_index=True)


COST_COLUMNS = ["gross_dkk", "refund_dkk", "net_dkk", "net_dkk_p10", "net_dkk_p90",
                "cofinancing_rate", "cofinancing_rate_p10", "cofinancing_rate_p90"]
"""Means across replications of gross benefit DKK, state refunds and net municipal cost, the
net cost's 10–90 % band, and the co-financing rate (net ÷ gross per replication) with its band."""


def _cost_stats(store: ReplicationStore, period: str) -> np.ndarray:
    """[cells, COST_COLUMNS] for `period` (yearly or monthly) gross and net tables."""
    out = []
    pairs = zip(store.chunks(f"{period}_gross"), store.chunks(f"{period}_net"), strict=True)
    for (_, gross), (_, net) in pairs:
        with np.errstate(invalid="ignore", divide="ignore"):
            rate = np.where(gross > 0, net / gross, np.nan)
        g, n = gross.mean(axis=1), net.mean(axis=1)
        n10, n90 = np.quantile(net, (0.1, 0.9), axis=1)
        has_rate = ~np.isnan(rate).all(axis=1)
        r = np.full((len(g), 3), np.nan)
        if has_rate.any():
            r[has_rate, 0] = np.nanmean(rate[has_rate], axis=1)
            r[has_rate, 1:] = np.nanquantile(rate[has_rate], (0.1, 0.9), axis=1).T
        out.append(np.column_stack([g, g - n, n, n10, n90, r]))
    return np.vstack(out) if out else np.zeros((0, len(COST_COLUMNS)))


def costs_frame(model: Model, store: ReplicationStore) -> pd.DataFrame:
    """costs.csv: month, state and the cost columns: DKK and co-financing by month."""
    rows = [*model.benefit_codes, TOTAL]
    index = pd.MultiIndex.from_product([rows, model.calendar.labels], names=["state", "month"])
    frame = pd.DataFrame(_cost_stats(store, "monthly"), index=index, columns=COST_COLUMNS).reset_index()
    return frame[["month", "state", *COST_COLUMNS]].sort_values(["month", "state"], key=_order(rows),
                                                                ignore_index=True)


def staircase_frame(model: Model, store: ReplicationStore) -> pd.DataFrame:
    """staircase.csv: year, state, step, mean person-weeks on each step of the refusion staircase."""
    assert model.economics is not None
    rows = [*model.benefit_codes, TOTAL]
    years = list(model.calendar.full_years())
    edges = [w / 7.0 for w in model.economics.step_edges]
    steps = [f"weeks {a + 1:g}–{b:g}" for a, b in itertools.pairwise(edges)] + [f"weeks {edges[-1] + 1:g}+",
                                                                                   "unpaid"]
    means = np.asarray(store.arrays["yearly_steps"]).mean(axis=1) if store.runs else np.zeros(0)
    index = pd.MultiIndex.from_product([rows, steps, years], names=["state", "step", "year"])
    frame = pd.DataFrame({"person_weeks": means}, index=index).reset_index()
    return frame[["year", "state", "step", "person_weeks"]].sort_values(
        ["year", "state"], key=_order(rows), kind="stable", ignore_index=True)


def targets_frame(targets: list[ResolvedTarget], store: ReplicationStore) -> pd.DataFrame:
    """targets.csv: target, metric, threshold, probability_met, p10, p50, p90; with a
    mean_duration_weeks target also censored_share, the share of its spells (over all
    replications) still open at the horizon, whose duration counts only up to it."""
    records = []
    values = np.asarray(store.arrays["targets"])
    durations = store.arrays.get("durations")
    for i, t in enumerate(targets):
        v = values[i]
        p10, p50, p90 = np.quantile(v, (0.10, 0.50, 0.90))
        record = {"target": t.name, "metric": t.metric, "sense": t.sense, "threshold": t.threshold,
                  "probability_met": float(t.met(v).mean()), "mean": float(v.mean()),
                  "p10": p10, "p50": p50, "p90": p90}
        if t.metric == DURATION_METRIC and durations is not None:
            started, _, still_open = duration_sums(t, np.asarray(durations).reshape(
                *store.shapes["durations"], store.runs)).sum(axis=1)
            record["censored_share"] = still_open / started if started > 0 else np.nan
        records.append(record)
    columns = ["target", "metric", "sense", "threshold", "probability_met", "mean", "p10", "p50", "p90"]
    if any(t.metric == DURATION_METRIC for t in targets):
        columns.append("censored_share")
    return pd.DataFrame(records, columns=columns)


def flows_frame(model: Model, store: ReplicationStore) -> pd.DataFrame:
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


def replications_frame(model: Model, store: ReplicationStore,
                       reps: slice | None = None) -> pd.DataFrame:
    """The per-replication yearly table: replication, year, state, full_year_persons."""
    rows = [*model.benefit_codes, TOTAL]
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


def _order(rows: list[str]):  # type: ignore[no-untyped-def]
    rank = {code: i for i, code in enumerate(rows)}

    def key(col: pd.Series) -> pd.Series:
        return col.map(rank) if col.name == "state" else col

    return key


def _feature_frame(key: str, names: list[str], measures: tuple[str, ...], values: np.ndarray,
                   months: tuple[str, ...], ratios: dict[str, tuple[str, str]]) -> pd.DataFrame:
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


def programmes_frame(model: Model, store: ReplicationStore) -> pd.DataFrame:
    """programmes.csv: month, programme, the mean over replications of each measure, and
    mean_wait_days (days waited per start, from the sums)."""
    names = [p.name for p in model.scenario.interventions]
    months = model.calendar.labels
    values = np.asarray(store.arrays["programmes"]).reshape(len(names), -1, len(months), store.runs)
    return _feature_frame("programme", names, MEASURES, values, months,
                          {"mean_wait_days": ("wait_days", "starts")})


def teams_frame(model: Model, store: ReplicationStore) -> pd.DataFrame:
    """caseworkers.csv: month, team, the mean of each measure over replications, and the shares
    (sim.contract.caseworker_spec.TEAM_SHARES)."""
    names = [t.team for t in model.scenario.caseworkers]
    months = model.calendar.labels
    values = np.asarray(store.arrays["teams"]).reshape(len(names), -1, len(months), store.runs)
    return _feature_frame("team", names, TEAM_MEASURES, values, months, TEAM_SHARES)
