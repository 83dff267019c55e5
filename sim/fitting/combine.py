"""The year so far: actual months joined to each replication's forecast months, and the targets on them.

After a restart (`sim.fitting.restart`) the forecast covers the months from the restart on; the
months before it are observed. For each replication the monthly full-time persons of the
original horizon are the actual months (the same in every replication) followed by that
replication's forecast months, and its full-year persons of a year the day-weighted mean of its
months, as the batch computes a year from its months. The scenario's targets are then evaluated
on these tables by the batch's own target code (`sim.results.targets.target_values`) and
summarised by its own (`sim.results.summary.targets_frame`, `sim.results.binomial`), so a
target's probability, its Monte Carlo error and its statistics mean what they mean in `run`:

- a target over a period wholly after the restart (`forecast`) is the restarted run's own;
- a full-year-persons target over a period partly observed (`combined`) takes the actual months
  and each replication's forecast months, on the target's basis (`jobindsats`: the actuals as
  given; `payment`: the actuals' payment-basis figure of the state, else its Jobindsats figure
  times the model's paid share of that state and month);
- one over a period wholly observed (`observed`) is decided by the actuals: its probability is 0
  or 1, with no Monte Carlo error (its interval is the point);
- any other target over a period that has begun (`not_tracked`: co-financing, costs, durations,
  meetings, programme use, and full-year persons beyond a spell's weeks) is undefined in every
  replication: the actuals count full-time persons by state, not money, spells or seniority,
  and a year's figure from its forecast months alone would be another target.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.batch.run import RunResult
from sim.features.outputs import ResolvedTarget, state_rows
from sim.kernel.model import Model
from sim.kernel.tables import STAT_COLUMNS, stats, with_total
from sim.results.summary import targets_frame
from sim.results.targets import target_values

BLOCK = 256
"""Replications joined at a time (bounded memory for any number of runs)."""
STATUSES = ("forecast", "combined", "observed", "not_tracked")
"""How a target was evaluated: see the module's text."""
PAYMENT_STATS = [f"payment_{c}" for c in STAT_COLUMNS]


@dataclass(frozen=True)
class Values:
    """Per-replication values of some targets, shaped as a batch store keeps them (for
    `targets_frame`): the `Stored` protocol with only a targets table."""

    targets: np.ndarray
    """[target, replication]."""

    @property
    def runs(self) -> int:
        """Replications."""
        return int(self.targets.shape[1])

    @property
    def shapes(self) -> Mapping[str, tuple[int, ...]]:
        """The one table's shape per replication."""
        return {"targets": (self.targets.shape[0],)}

    @property
    def arrays(self) -> Mapping[str, np.ndarray]:
        """The targets table."""
        return {"targets": self.targets}

    @property
    def flow_sum(self) -> np.ndarray:
        """No flows."""
        return np.zeros((0, 0, 0), dtype=np.int64)

    @property
    def flow_sumsq(self) -> np.ndarray:
        """No flows."""
        return np.zeros((0, 0, 0), dtype=np.int64)

    def chunks(self, name: str, max_values: int = 500_000) -> Iterator[tuple[slice, np.ndarray]]:
        """The whole table as one block (it is held in memory already)."""
        array = self.arrays[name]
        yield slice(0, array.shape[0]), array


@dataclass(frozen=True)
class Combined:
    """The original horizon's yearly figures and targets, actual months joined to forecast ones."""

    targets: pd.DataFrame
    """targets.csv: the scenario's targets in order, the columns of `targets_frame`, then status
    (`STATUSES`) and observed_months (the target's months before the restart)."""
    yearly: pd.DataFrame
    """yearly.csv: every full year of the original horizon; a year with observed months has the
    full-year persons statistics (and the payment basis's) and no costs."""
    replications: pd.DataFrame
    """replications.csv: replication, year, state, full_year_persons over the original years."""
    monthly: pd.DataFrame
    """The monthly table over the original horizon: the observed months hold the actuals (every
    statistic the actual figure, sd 0: known, not forecast), the months after them the forecast
    (the run folder writes the two parts as monthly_observed.csv and monthly.csv)."""
    costs: pd.DataFrame | None
    """costs.csv over the original horizon (empty costs in the observed months), with economics."""


def status_of(target: ResolvedTarget, observed_months: int) -> str:
    """How a target is evaluated when its first `observed_months` months are actual."""
    months = range(*target.months.indices(10**9))
    seen = sum(1 for m in months if m < observed_months)
    if seen == 0:
        return "forecast"
    if target.metric != "full_year_persons" or target.weeks_index >= 0:
        return "not_tracked"
    return "observed" if seen == len(months) else "combined"


def _forecast(result: RunResult, name: str, a: int, b: int) -> np.ndarray | None:
    """The restarted run's [row, month, replication] block of a monthly table, if it has it."""
    if name not in result.store.arrays:
        return None
    rows, months = result.store.shapes[name]
    return np.asarray(result.store.arrays[name][:, a:b]).reshape(rows, months, b - a)


def _years(model: Model, monthly: np.ndarray) -> np.ndarray:
    """[row, year, replication] full-year persons: the day-weighted mean of each full year's months."""
    days = model.calendar.days
    years = list(model.calendar.full_years().values())
    out = np.zeros((monthly.shape[0], len(years), monthly.shape[2]))
    for y, sl in enumerate(years):
        out[:, y] = np.einsum("rmj,m->rj", monthly[:, sl], days[sl]) / days[sl].sum()
    return out


def combine(model: Model, targets: list[ResolvedTarget], result: RunResult, actual: np.ndarray,
            paid: np.ndarray | None) -> Combined:
    """Targets and yearly figures of `model`'s horizon from the actual months and `result`'s forecast.

    `model` is the original scenario compiled (its features included), `targets` its targets
    resolved, `result` the restarted run, `actual` [benefit state, observed month] full-time
    persons on the Jobindsats basis and `paid` the same on the payment basis (None without an
    employer period)."""
    k, runs = actual.shape[1], result.runs
    status = [status_of(t, k) for t in targets]
    evaluated = [i for i, s in enumerate(status) if s in ("combined", "observed")]
    values = np.full((len(targets), runs), np.nan)
    yearly = np.zeros((model.n_benefit + 1, len(model.calendar.full_years()), runs))
    paid_yearly = np.zeros_like(yearly) if paid is not None else None
    bases = {"monthly": with_total(actual), "monthly_payment": with_total(paid) if paid is not None else None}
    for a in range(0, runs, BLOCK):
        b = min(a + BLOCK, runs)
        tables: dict[str, np.ndarray] = {}
        for name, observed in bases.items():
            ahead = _forecast(result, name, a, b)
            if observed is None or ahead is None:
                continue
            joined = np.concatenate([np.repeat(observed[:, :, None], b - a, axis=2), ahead], axis=1)
            tables[name] = joined
            tables[name.replace("monthly", "yearly")] = _years(model, joined)
        yearly[:, :, a:b] = tables["yearly"]
        if paid_yearly is not None and "yearly_payment" in tables:
            paid_yearly[:, :, a:b] = tables["yearly_payment"]
        chosen = [targets[i] for i in evaluated]
        for j in range(b - a):
            one = {name: table[..., j] for name, table in tables.items()}
            values[evaluated, a + j] = target_values(model, chosen, one) if chosen else []
    return Combined(_targets_table(targets, status, values, result, k),
                    _yearly_table(model, result, yearly, paid_yearly, k),
                    _replications_table(model, yearly), _monthly_table(model, result, actual, paid),
                    _costs_table(model, result, k))


def _monthly_table(model: Model, result: RunResult, actual: np.ndarray, paid: np.ndarray | None
                   ) -> pd.DataFrame:
    """monthly.csv: the actual months (their statistics the figure itself), then the forecast's."""
    rows, columns = state_rows(model), list(result.monthly.columns)
    jobindsats = with_total(actual)
    payment = with_total(paid) if paid is not None else jobindsats
    records = []
    for m in range(actual.shape[1]):
        for r, state in enumerate(rows):
            record: dict[str, object] = {"month": model.calendar.labels[m], "state": state}
            for prefix, values in (("", jobindsats), ("payment_", payment)):
                record |= {f"{prefix}{c}": values[r, m] for c in STAT_COLUMNS}
                record[f"{prefix}sd"] = 0.0
            records.append(record)
    observed = pd.DataFrame(records).reindex(columns=columns)
    return pd.concat([observed, result.monthly], ignore_index=True) if records else result.monthly


def _costs_table(model: Model, result: RunResult, k: int) -> pd.DataFrame | None:
    """costs.csv: a row with no costs for each actual month and state, then the forecast's."""
    costs = result.features.get("costs")
    if costs is None or k == 0:
        return costs
    observed = pd.DataFrame([{"month": model.calendar.labels[m], "state": s}
                             for m in range(k) for s in state_rows(model)]).reindex(columns=costs.columns)
    return pd.concat([observed, costs], ignore_index=True)


def _targets_table(targets: list[ResolvedTarget], status: list[str], values: np.ndarray,
                   result: RunResult, k: int) -> pd.DataFrame:
    """The targets frame: the restarted run's rows for targets ahead, the others summarised here."""
    ahead = iter(result.targets.to_dict("records"))
    rows = []
    for t, how, v in zip(targets, status, values, strict=True):
        if how == "forecast":
            row = dict(next(ahead))
        else:
            row = targets_frame([t], Values(v[None, :])).iloc[0].to_dict()
            if how == "observed":
                row["probability_low95"] = row["probability_high95"] = row["probability_met"]
        months = range(*t.months.indices(10**9))
        rows.append(row | {"status": how, "observed_months": sum(1 for m in months if m < k)})
    frame = pd.DataFrame(rows)
    first = [c for c in result.targets.columns if c in frame.columns]
    rest = [c for c in frame.columns if c not in first and c not in ("status", "observed_months")]
    return frame[[*first, *rest, "status", "observed_months"]] if rows else pd.DataFrame(
        columns=[*result.targets.columns, "status", "observed_months"])


def _yearly_table(model: Model, result: RunResult, yearly: np.ndarray, paid: np.ndarray | None,
                  k: int) -> pd.DataFrame:
    """yearly.csv over the original years: the restarted run's rows for years wholly ahead."""
    rows, columns = state_rows(model), list(result.yearly.columns)
    parts = []
    for y, (year, sl) in enumerate(model.calendar.full_years().items()):
        if sl.start >= k:
            parts.append(result.yearly[result.yearly["year"] == year])
            continue
        frame = pd.DataFrame(stats(yearly[:, y]), columns=STAT_COLUMNS)
        if paid is not None:
            frame[PAYMENT_STATS] = stats(paid[:, y])
        frame.insert(0, "state", rows)
        frame.insert(0, "year", year)
        parts.append(frame.reindex(columns=columns))
    if not parts:
        return result.yearly
    return pd.concat(parts, ignore_index=True)


def _replications_table(model: Model, yearly: np.ndarray) -> pd.DataFrame:
    """replication, year, state, full_year_persons: as `sim.results.summary.replications_frame`."""
    rows, years = state_rows(model), list(model.calendar.full_years())
    state, year, rep = np.meshgrid(np.arange(len(rows)), np.arange(len(years)), np.arange(yearly.shape[2]),
                                   indexing="ij")
    frame = pd.DataFrame({"replication": rep.ravel(), "year": np.asarray(years, dtype=int)[year.ravel()],
                          "state": np.asarray(rows)[state.ravel()], "full_year_persons": yearly.ravel()})
    return frame.sort_values(["replication", "year"], kind="stable", ignore_index=True)
