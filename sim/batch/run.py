"""The Monte Carlo batch: replications spawned from one seed, run by an executor, kept on disk."""

from __future__ import annotations

import logging
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from sim.batch.assumptions import AssumptionCheck, check_assumptions, check_runs
from sim.batch.executors import Executor, Work, executor_for
from sim.batch.store import ReplicationStore
from sim.batch.uncertain import ParameterDraws, draws_parameters, layers_frame
from sim.contract.schema import Scenario
from sim.features import REGISTRY, prepare_model
from sim.kernel.engine import simulate
from sim.kernel.model import Model
from sim.kernel.streams import replication_seed
from sim.results import summary
from sim.results.metrics import Metrics, measure, table_shapes
from sim.results.targets import ResolvedTarget, resolve_targets, target_values

LOG = logging.getLogger("caseflow.batch")

FEATURE_FILES = frozenset(name for kind in REGISTRY for name in kind.outputs.files)
"""Every table a registered feature can add to a run (and to the run folder)."""

Progress = Callable[[int], None]
"""Called with the number of replications just completed."""


@dataclass
class RunResult:
    """A finished batch: the summary tables as DataFrames, the per-replication store behind them."""

    scenario: Scenario
    seed: int
    runs: int
    model: Model
    targets_resolved: list[ResolvedTarget]
    store: ReplicationStore
    monthly: pd.DataFrame
    yearly: pd.DataFrame
    targets: pd.DataFrame
    flows: pd.DataFrame
    features: dict[str, pd.DataFrame] = field(default_factory=dict)
    """Each active feature's tables by file name: with economics `costs` (DKK and co-financing by
    month and state) and `staircase` (person-weeks by step); with interventions `programmes`;
    with caseworkers `caseworkers`. Also readable as attributes (`result.costs`), None when the
    scenario lacks the feature."""
    layers: pd.DataFrame | None = None
    """With parameter uncertainty: per target and yearly total, the spread with parameters drawn
    against fixed, and which layer dominates (layers.csv)."""
    assumptions: pd.DataFrame | None = None
    """With the assumption check: per target and assumed value, the probability at both ends of
    its range and whether the value sets the target (assumptions.csv, `sim.batch.assumptions`)."""
    _tmp: tempfile.TemporaryDirectory[str] | None = field(default=None, repr=False)

    def __getattr__(self, name: str) -> pd.DataFrame | None:
        features = self.__dict__.get("features", {})
        if name in features:
            return features[name]
        if name in FEATURE_FILES:
            return None
        raise AttributeError(name)

    @property
    def replications(self) -> pd.DataFrame:
        """Full-year persons per replication, year and state (read from the store)."""
        return summary.replications_frame(self.model, self.store)


@dataclass(frozen=True)
class Batch:
    """What every replication of a batch needs, prepared once and shipped once to each worker."""

    model: Model
    targets: list[ResolvedTarget]
    draws: ParameterDraws | None
    seed: int

    def replicate(self, i: int, draw: bool = True) -> tuple[int, Metrics, np.ndarray]:
        """Replication i's tables and target values (its parameters drawn when the batch draws them)."""
        seq = replication_seed(self.seed, i)
        own = self.draws.model_for(seq) if draw and self.draws is not None else self.model
        metrics = measure(self.model, simulate(own, seq))
        return i, metrics, target_values(self.model, self.targets, metrics.tables)


def _as_is(batch: Batch) -> Batch:
    return batch


def _drawn(batch: Batch, i: int) -> tuple[int, Metrics, np.ndarray]:
    return batch.replicate(i)


def _fixed(batch: Batch, i: int) -> tuple[int, Metrics, np.ndarray]:
    return batch.replicate(i, draw=False)


def fresh_seed() -> int:
    """A new batch seed from the operating system's entropy, small enough to type."""
    return int(np.random.SeedSequence().generate_state(1)[0])


def default_workers() -> int:
    """All cores."""
    return os.cpu_count() or 1


def run(scenario: Scenario, runs: int = 100, seed: int | None = None, workers: int | None = 1,
        store_dir: Path | None = None, progress: Progress | None = None,
        assumption_runs: int = 0, executor: Executor | None = None, resume: bool = False) -> RunResult:
    """Run `runs` replications of `scenario` and summarise them.

    The seed defaults to the scenario's, else a fresh one (kept in the result). Results are
    identical for any number of `workers` (None means all cores) and any `executor` (which, when
    given, replaces `workers`: `sim.batch.executors`, a Dask cluster among them). Per-replication
    values go to `store_dir` (a temporary folder if not given) as they finish; with `resume`, the
    replications a stopped batch left there are kept and only the others are run.

    With `assumption_runs` above 0 and a scenario with assumptions, each target's probability is
    also found at both ends of each assumed value, on the batch's first min(assumption_runs, runs)
    replications (2 × assumptions × that many more, none for an assumed observed figure;
    `sim.batch.assumptions`): the result's
    `assumptions` table and the targets' set_by_assumption column. `caseflow run` asks for 50.
    """
    if runs < 1:
        raise ValueError(f"runs must be at least 1, got {runs}")
    if seed is None:
        seed = scenario.seed if scenario.seed is not None else fresh_seed()
    workers = default_workers() if workers is None else max(1, workers)
    started = time.process_time()
    model = prepare_model(scenario, seed)
    LOG.debug("%s: model prepared in %.1f s of CPU (seed %d)", scenario.name,
              time.process_time() - started, seed)
    targets = resolve_targets(model)
    tmp = None
    if store_dir is None:
        tmp = tempfile.TemporaryDirectory(prefix="caseflow-")
        store_dir = Path(tmp.name)
    store = ReplicationStore(
        store_dir, runs, table_shapes(model) | {"targets": (len(targets),)},
        (model.n_states + 1, model.n_states, model.calendar.months), resume=resume,
    )
    draws = ParameterDraws(model) if draws_parameters(scenario) else None
    batch = Batch(model, targets, draws, seed)
    todo = store.missing()
    if progress is not None and runs > len(todo):
        progress(runs - len(todo))
    chosen = executor_for(workers, len(todo), executor)
    LOG.debug("%s: %d of %d replications to run on %s", scenario.name, len(todo), runs, chosen.describe())
    try:
        for results in chosen.run(Work(batch, _as_is, _drawn), todo):
            for i, metrics, values in results:
                store.put(i, metrics, values)
            if progress is not None:
                progress(len(results))
    finally:  # stopped or not, what finished is recorded as done
        store.flush()
    layers = None
    if draws is not None and scenario.uncertainty is not None and scenario.uncertainty.split_runs > 1:
        split = range(scenario.uncertainty.split_runs)
        chosen = executor_for(workers, len(split), executor)
        fixed = sorted((r for results in chosen.run(Work(batch, _as_is, _fixed), split) for r in results),
                       key=lambda r: r[0])
        layers = layers_frame(model, targets, store, [(m, v) for _, m, v in fixed])
    checked = _check(model, targets, store, seed, workers, executor, progress, assumption_runs)
    return RunResult(
        scenario, seed, runs, model, targets, store,
        summary.monthly_frame(model, store), summary.yearly_frame(model, store),
        summary.targets_frame(targets, store, checked.set_by if checked is not None else None),
        summary.flows_frame(model, store), summary.feature_frames(model, store), layers,
        checked.frame if checked is not None else None, tmp,
    )


def _check(model: Model, targets: list[ResolvedTarget], store: ReplicationStore, seed: int,
           workers: int, executor: Executor | None, progress: Progress | None,
           assumption_runs: int) -> AssumptionCheck | None:
    """The assumption check on the batch's first replications, or None when there is none to make."""
    k = check_runs(model.scenario, store.runs, assumption_runs)
    if k == 0:
        return None
    point = np.asarray(store.arrays["targets"])[:, :k]
    return check_assumptions(model, targets, point, seed, k, workers, progress, executor)
