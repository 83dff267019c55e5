"""The Monte Carlo batch: replications spawned from one seed, run by an executor, kept on disk."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from sim.batch.assumptions import AssumptionCheck, check_assumptions, check_runs
from sim.batch.store import ReplicationStore
from sim.batch.uncertain import ParameterDraws, draws_parameters, layers_frame
from sim.contract.schema import Scenario
from sim.features import REGISTRY, prepare_model
from sim.kernel.engine import simulate
from sim.kernel.model import Model
from sim.kernel.streams import replication_seeds
from sim.results import summary
from sim.results.metrics import Metrics, measure, table_shapes
from sim.results.targets import ResolvedTarget, resolve_targets, target_values

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


def _replicate(model: Model, targets: list[ResolvedTarget], seed: np.random.SeedSequence,
               draws: ParameterDraws | None) -> tuple[Metrics, np.ndarray]:
    own = draws.model_for(seed) if draws is not None else model
    metrics = measure(model, simulate(own, seed))
    return metrics, target_values(model, targets, metrics.tables)


_WORKER: tuple[Model, list[ResolvedTarget], ParameterDraws | None] | None = None


def _init_worker(scenario: Scenario, seed: int) -> None:
    global _WORKER
    model = prepare_model(scenario, seed)
    _WORKER = (model, resolve_targets(model), ParameterDraws(model) if draws_parameters(scenario) else None)


def _run_chunk(seeds: list[tuple[int, np.random.SeedSequence]], draw: bool
               ) -> list[tuple[int, Metrics, np.ndarray]]:
    assert _WORKER is not None
    model, targets, draws = _WORKER
    return [(i, *_replicate(model, targets, s, draws if draw else None)) for i, s in seeds]


def _in_process(model: Model, targets: list[ResolvedTarget], seeds: list[np.random.SeedSequence],
                draws: ParameterDraws | None) -> Iterator[tuple[int, Metrics, np.ndarray]]:
    for i, s in enumerate(seeds):
        yield (i, *_replicate(model, targets, s, draws))


def _local_processes(scenario: Scenario, seed: int, seeds: list[np.random.SeedSequence], workers: int,
                     draw: bool) -> Iterator[tuple[int, Metrics, np.ndarray]]:
    indexed = list(enumerate(seeds))
    size = max(1, min(16, len(indexed) // (workers * 4)))
    chunks = [indexed[a:a + size] for a in range(0, len(indexed), size)]
    with ProcessPoolExecutor(max_workers=workers, initializer=_init_worker,
                             initargs=(scenario, seed)) as pool:
        futures = [pool.submit(_run_chunk, chunk, draw) for chunk in chunks]
        for future in as_completed(futures):
            yield from future.result()


def _replications(scenario: Scenario, seed: int, model: Model, targets: list[ResolvedTarget],
                  seeds: list[np.random.SeedSequence], workers: int, draws: ParameterDraws | None
                  ) -> Iterator[tuple[int, Metrics, np.ndarray]]:
    """Replications in-process or in local processes (the same numbers either way)."""
    if workers == 1 or len(seeds) == 1:
        return _in_process(model, targets, seeds, draws)
    return _local_processes(scenario, seed, seeds, min(workers, len(seeds)), draws is not None)


def fresh_seed() -> int:
    """A new batch seed from the operating system's entropy, small enough to type."""
    return int(np.random.SeedSequence().generate_state(1)[0])


def default_workers() -> int:
    """All cores."""
    return os.cpu_count() or 1


def run(scenario: Scenario, runs: int = 100, seed: int | None = None, workers: int | None = 1,
        store_dir: Path | None = None, progress: Progress | None = None,
        assumption_runs: int = 0) -> RunResult:
    """Run `runs` replications of `scenario` and summarise them.

    The seed defaults to the scenario's, else a fresh one (kept in the result). Results are
    identical for any number of `workers` (None means all cores). Per-replication values go
    to `store_dir` (a temporary folder if not given) as they finish.

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
    model = prepare_model(scenario, seed)
    targets = resolve_targets(model)
    tmp = None
    if store_dir is None:
        tmp = tempfile.TemporaryDirectory(prefix="caseflow-")
        store_dir = Path(tmp.name)
    store = ReplicationStore(
        store_dir, runs, table_shapes(model) | {"targets": (len(targets),)},
        (model.n_states + 1, model.n_states, model.calendar.months),
    )
    seeds = replication_seeds(seed, runs)
    draws = ParameterDraws(model) if draws_parameters(scenario) else None
    for i, metrics, values in _replications(scenario, seed, model, targets, seeds, workers, draws):
        store.put(i, metrics, values)
        if progress is not None:
            progress(1)
    store.flush()
    layers = None
    if draws is not None and scenario.uncertainty is not None and scenario.uncertainty.split_runs > 1:
        fixed = sorted(_replications(scenario, seed, model, targets,
                                     seeds[: scenario.uncertainty.split_runs], workers, None),
                       key=lambda r: r[0])
        layers = layers_frame(model, targets, store, [(m, v) for _, m, v in fixed])
    checked = _check(model, targets, store, seeds, workers, progress, assumption_runs)
    return RunResult(
        scenario, seed, runs, model, targets, store,
        summary.monthly_frame(model, store), summary.yearly_frame(model, store),
        summary.targets_frame(targets, store, checked.set_by if checked is not None else None),
        summary.flows_frame(model, store), summary.feature_frames(model, store), layers,
        checked.frame if checked is not None else None, tmp,
    )


def _check(model: Model, targets: list[ResolvedTarget], store: ReplicationStore,
           seeds: list[np.random.SeedSequence], workers: int, progress: Progress | None,
           assumption_runs: int) -> AssumptionCheck | None:
    """The assumption check on the batch's first replications, or None when there is none to make."""
    k = check_runs(model.scenario, len(seeds), assumption_runs)
    if k == 0:
        return None
    point = np.asarray(store.arrays["targets"])[:, :k]
    return check_assumptions(model, targets, point, seeds[:k], workers, progress)
