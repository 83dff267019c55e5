"""Array helpers over a replication's record: the `total` row, calendar years, statistics.

Shared by the features' outputs and the results layer, so that each computes its tables the
same way: rows are benefit states then `total`; a year is the sum of its twelve months.
"""

from __future__ import annotations

import numpy as np

from sim.kernel.model import Model

QUANTILES = (0.05, 0.10, 0.50, 0.90, 0.95)
STAT_COLUMNS = ["mean", "sd", "p05", "p10", "p50", "p90", "p95"]


def with_total(values: np.ndarray) -> np.ndarray:
    """Append the sum over benefit states (axis 0) as the `total` row."""
    return np.concatenate([values, values.sum(axis=0, keepdims=True)])


def by_year(model: Model, monthly: np.ndarray) -> np.ndarray:
    """Sum a [..., month] array over each full calendar year: [..., year]."""
    years = model.calendar.full_years().values()
    if not years:
        return np.zeros((*monthly.shape[:-1], 0))
    return np.stack([monthly[..., sl].sum(axis=-1) for sl in years], axis=-1)


def stats(values: np.ndarray) -> np.ndarray:
    """[cells, runs] → [cells, 7]: mean, sd (ddof 1), the five quantiles."""
    mean = values.mean(axis=1)
    sd = values.std(axis=1, ddof=1) if values.shape[1] > 1 else np.full(values.shape[0], np.nan)
    q = np.quantile(values, QUANTILES, axis=1).T
    return np.column_stack([mean, sd, q])
