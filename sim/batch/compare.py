"""Compare two scenarios under common random numbers: paired differences per replication.

Both scenarios run with one seed, so replication i of each draws the same numbers for the same
citizens; the difference of each replication's values (variant − base) is far less noisy than
either forecast, and its standard error is that of the paired differences.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sim.batch.executors import Executor
from sim.batch.run import Progress, RunResult, fresh_seed, run
from sim.contract.catalogue import TOTAL
from sim.contract.schema import Scenario
from sim.results.differences import DIFFERENCE_COLUMNS


@dataclass
class Comparison:
    """Two runs on common random numbers and their paired differences."""

    base: RunResult
    variant: RunResult
    differences: pd.DataFrame


def compare(base: Scenario, variant: Scenario, runs: int = 100, seed: int | None = None,
            workers: int | None = 1, store_dirs: tuple[Path, Path] | None = None,
            progress: Progress | None = None, executor: Executor | None = None) -> Comparison:
    """Run both scenarios with one seed and tabulate variant − base per target and state-year
    (`executor`, when given, replaces `workers`: `sim.batch.executors`)."""
    if seed is None:
        seed = base.seed if base.seed is not None else fresh_seed()
    dirs = store_dirs or (None, None)
    a = run(base, runs, seed, workers, dirs[0], progress, executor=executor)
    b = run(variant, runs, seed, workers, dirs[1], progress, executor=executor)
    return Comparison(a, b, differences(a, b))


def differences(a: RunResult, b: RunResult) -> pd.DataFrame:
    """Paired differences of two runs made with the same seed and number of runs."""
    if (a.seed, a.runs) != (b.seed, b.runs):
        raise ValueError("paired differences need two runs with the same seed and number of runs")
    rows: list[dict[str, object]] = []
    targets_a = {t.name: i for i, t in enumerate(a.targets_resolved)}
    for j, t in enumerate(b.targets_resolved):
        if t.name not in targets_a:
            continue
        i = targets_a[t.name]
        va, vb = np.asarray(a.store.arrays["targets"][i]), np.asarray(b.store.arrays["targets"][j])
        ta = a.targets_resolved[i]
        spec = a.scenario.targets[i]
        year = spec.year if spec.year is not None else int(spec.period[:4])  # a month target: its year
        rows.append(_row("target", t.name, year, va, vb)
                    | {"base_probability_met": float(ta.met(va).mean()),
                       "variant_probability_met": float(t.met(vb).mean())})
    tables = ["yearly"] + (["yearly_net"] if "yearly_net" in a.store.arrays and "yearly_net" in b.store.arrays
                           else [])
    for table in tables:
        kind = "full_year_persons" if table == "yearly" else "net_dkk"
        ya, yb = _by_state_year(a, table), _by_state_year(b, table)
        for key in ya.keys() & yb.keys():
            rows.append(_row(kind, key[0], key[1], ya[key], yb[key]))
    frame = pd.DataFrame(rows, columns=DIFFERENCE_COLUMNS)
    order = {"target": 0, "full_year_persons": 1, "net_dkk": 2}
    rank = {code: i for i, code in enumerate([*a.model.benefit_codes, TOTAL])}
    frame["_k"] = frame["kind"].map(order)
    frame["_s"] = [rank.get(str(n), -1) if k != "target" else i for i, (k, n) in
                   enumerate(zip(frame["kind"], frame["name"], strict=True))]
    return frame.sort_values(["_k", "year", "_s"], ignore_index=True).drop(columns=["_k", "_s"])


def _by_state_year(result: RunResult, table: str) -> dict[tuple[str, int], np.ndarray]:
    rows = [*result.model.benefit_codes, TOTAL]
    years = list(result.model.calendar.full_years())
    values = np.asarray(result.store.arrays[table]).reshape(len(rows), len(years), result.runs)
    return {(code, year): values[r, y] for r, code in enumerate(rows) for y, year in enumerate(years)}


def _row(kind: str, name: str, year: int, base: np.ndarray, variant: np.ndarray) -> dict[str, object]:
    diff = variant - base
    n = len(diff)
    se = float(diff.std(ddof=1) / np.sqrt(n)) if n > 1 else float("nan")
    mean = float(diff.mean())
    p05, p50, p95 = np.quantile(diff, (0.05, 0.50, 0.95))
    return {"kind": kind, "name": name, "year": year, "base_mean": float(base.mean()),
            "variant_mean": float(variant.mean()), "difference": mean, "difference_se": se,
            "difference_low95": mean - 1.96 * se, "difference_high95": mean + 1.96 * se,
            "difference_p05": p05, "difference_p50": p50, "difference_p95": p95,
            "base_probability_met": np.nan, "variant_probability_met": np.nan}
