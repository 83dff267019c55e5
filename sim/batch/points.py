"""Points of a study: the scenario with some values changed, each run on the batch's replication seeds.

A sensitivity study, a goal-seek, the assumption check (`sim.batch.assumptions`: each end of
each assumed range) and the what-if page (`sim.batch.whatif`) all ask how the targets move when
a few numbers of the scenario change. A point is the scenario with those numbers set
(`sim.contract.parameters` paths); replication i of every point uses the batch's replication i
seed (common random numbers), so two points differ only through their values, not through new
noise. Each point's model keeps the batch's preparation (the pilot that gives the initial stock
its history): a changed inflow or rate changes the horizon, not the past of the stock already
there.

The payload (the prepared model and the seed) is shipped once to each worker, which builds each
point's model the first time it meets it; a replication's result depends on its point and its
index alone, so any executor and worker count give the same numbers.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from pydantic import ValidationError

from sim.batch.executors import Executor, Work, executor_for
from sim.batch.uncertain import ParameterDraws, draws_parameters
from sim.contract.errors import ScenarioError
from sim.contract.loader import scenario_from_dict
from sim.contract.parameters import PathError, get_value, scenario_data, with_values
from sim.contract.schema import Scenario
from sim.features import carry_preparation, compile_model
from sim.kernel.engine import simulate
from sim.kernel.model import Model
from sim.kernel.streams import replication_seed
from sim.results.metrics import Metrics, measure
from sim.results.targets import ResolvedTarget, resolve_targets, target_values

Values = tuple[tuple[str, float], ...]
"""A point: each changed path with its value, in a fixed order (hashable, so a worker caches it)."""
Progress = Callable[[int], None]
"""Called with the number of replications just completed."""
VALUE, MET = 0, 1
"""The two rows of a replication's outcome: each target's value, and whether it is met (1, 0,
NaN where the value is undefined)."""
CACHED_POINTS = 8
"""Point models a worker keeps built (tasks come point by point, so a few suffice)."""
SD_SPAN = 2.0
"""An uncertain value's range: its value ± this many standard deviations."""


class StudyError(ValueError):
    """A study that cannot be run as asked: the message says which value or option, and why."""


@dataclass(frozen=True)
class Study:
    """What every replication of a study needs, prepared once and shipped once to each worker."""

    prepared: Model
    seed: int
    draw: bool
    """Whether a point's replications draw the scenario's uncertain parameters as a batch does."""


class PointModels:
    """Each point's model, targets and parameter draws, built once in each process."""

    def __init__(self, study: Study) -> None:
        self.study = study
        self.plain: dict[str, Any] = scenario_data(study.prepared.scenario)
        self._built: OrderedDict[Values, tuple[Model, list[ResolvedTarget], ParameterDraws | None]] = (
            OrderedDict())

    def built(self, values: Values) -> tuple[Model, list[ResolvedTarget], ParameterDraws | None]:
        """The point's model (the batch's preparation kept), its targets and its draws."""
        if values in self._built:
            self._built.move_to_end(values)
            return self._built[values]
        changed = Scenario.model_validate(with_values(self.plain, dict(values)))
        model = carry_preparation(compile_model(changed), self.study.prepared)
        draws = ParameterDraws(model) if self.study.draw and draws_parameters(changed) else None
        self._built[values] = (model, resolve_targets(model), draws)
        while len(self._built) > CACHED_POINTS:
            self._built.popitem(last=False)
        return self._built[values]

    def outcome(self, values: Values, i: int) -> np.ndarray:
        """Replication i at the point: [VALUE or MET, target]."""
        return self.measured(values, i)[0]

    def measured(self, values: Values, i: int) -> tuple[np.ndarray, Metrics]:
        """Replication i at the point: its outcome [VALUE or MET, target] and all its metrics."""
        model, targets, draws = self.built(values)
        seed = replication_seed(self.study.seed, i)
        own = draws.model_for(seed) if draws is not None else model
        metrics = measure(model, simulate(own, seed))
        found = target_values(model, targets, metrics.tables)
        met = np.full(len(targets), np.nan)
        for k, t in enumerate(targets):
            if not math.isnan(found[k]):
                met[k] = float(t.met(np.asarray(found[k])))
        return np.stack([found, met]), metrics


Task = tuple[int, Values, int]
"""(point, its values, replication)."""


def _outcome(models: PointModels, task: Task) -> tuple[int, int, np.ndarray]:
    point, values, i = task
    return point, i, models.outcome(values, i)


def as_values(point: Mapping[str, float]) -> Values:
    """A point as the hashable pairs a task carries."""
    return tuple((path, float(value)) for path, value in point.items())


def run_points(study: Study, points: Sequence[Mapping[str, float]], replications: Sequence[int],
               workers: int = 1, progress: Progress | None = None, executor: Executor | None = None
               ) -> np.ndarray:
    """Each point's outcomes on the given replications: [point, VALUE or MET, target, replication]
    (in the order of `replications`; `executor`, when given, replaces `workers`)."""
    targets = len(study.prepared.scenario.targets)
    out = np.full((len(points), 2, targets, len(replications)), np.nan)
    if not points or not replications:
        return out
    column = {i: c for c, i in enumerate(replications)}
    tasks = [(p, as_values(point), i) for p, point in enumerate(points) for i in replications]
    chosen = executor_for(workers, len(tasks), executor)
    for results in chosen.run(Work(study, PointModels, _outcome), tasks):
        for p, i, result in results:
            out[p, :, :, column[i]] = result
        if progress is not None:
            progress(len(results))
    return out


def seconds_per_run(study: Study, point: Mapping[str, float], runs: int = 3) -> float:
    """Wall-clock seconds of one replication at `point` in this process, from `runs` of them (the
    pilot a study's cost is estimated from: its first replications, which the study runs again)."""
    models = PointModels(study)
    values = as_values(point)
    models.built(values)  # building the point is not part of a replication's time
    started = time.perf_counter()
    for i in range(runs):
        models.outcome(values, i)
    return (time.perf_counter() - started) / max(1, runs)


def check_point(scenario: Scenario, point: Mapping[str, float], what: str) -> None:
    """Refuse a point whose scenario is not valid (StudyError naming `what` and each problem). An
    assumed value's range does not bound a study of it: the study sets the value itself."""
    try:
        data = with_values(scenario_data(scenario), point)
        data["assumptions"] = [a for a in data.get("assumptions", []) if a.get("path") not in point]
        scenario_from_dict(data, source=what)
    except PathError as exc:
        raise StudyError(f"{what}: {exc}") from None
    except ScenarioError as exc:
        problems = "; ".join(f"{p.path or 'the scenario'}: {p.message}" for p in exc.problems)
        raise StudyError(f"{what} makes the scenario invalid: {problems}") from None


def current_value(scenario: Scenario, path: str) -> float:
    """The scenario's own value at `path` (StudyError when the path names no number)."""
    try:
        return get_value(scenario_data(scenario), path)
    except PathError as exc:
        raise StudyError(str(exc)) from None


def declared_ranges(scenario: Scenario) -> dict[str, tuple[float, float, str]]:
    """The ranges the scenario gives its values, by path: each assumed value's low–high range
    (source `assumption`), then each uncertain one's value ± 2 sd, cut to the draw's bounds or at 0
    (`uncertainty`); a path both assumed and uncertain keeps its assumed range."""
    found: dict[str, tuple[float, float, str]] = {}
    for a in scenario.assumptions:
        found.setdefault(a.path, (float(a.low), float(a.high), "assumption"))
    for p in scenario.uncertainty.parameters if scenario.uncertainty is not None else ():
        if p.path not in found:
            centre = current_value(scenario, p.path)
            low, high = p.bounds if p.bounds is not None else (0.0, math.inf)
            found[p.path] = (max(low, centre - SD_SPAN * p.sd), min(high, centre + SD_SPAN * p.sd),
                             "uncertainty")
    return found


def whole_only(scenario: Scenario, path: str) -> bool:
    """Whether the number at `path` must be a whole number (programme places): the scenario
    refuses it with a half added."""
    plain = scenario_data(scenario)
    try:
        Scenario.model_validate(with_values(plain, {path: get_value(plain, path) + 0.5}))
    except ValidationError as exc:
        return any(e["type"] == "int_from_float" for e in exc.errors())
    except PathError as exc:
        raise StudyError(str(exc)) from None
    return False


def shares_met(met: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per row of `met` [..., replication]: the share met among the defined replications (NaN
    when none is defined) and how many are defined."""
    defined = np.count_nonzero(~np.isnan(met), axis=-1)
    hits = np.nansum(met, axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(defined > 0, hits / np.maximum(defined, 1), np.nan)
    return share, defined
