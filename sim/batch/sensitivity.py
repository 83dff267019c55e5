"""Global sensitivity of the targets to the scenario's assumed and uncertain values (SALib).

The factors are the scenario's assumed values (`assumptions`: each path over its low–high
range), then its uncertain ones (`uncertainty.parameters`: the scenario's value ± 2 sd, cut to
the draw's bounds, or at 0), or the paths given instead. SALib's sampler lays out the points:
Sobol' (Saltelli's scheme, first and total order, no second order: N × (D + 2) points for D
factors) or Morris (N trajectories of D + 1 points on a 4-level grid). Every point runs the same
replications 0 … runs − 1 of the batch seed (common random numbers), so two points differ only
through their values: a factor that changes nothing gives identical outcomes at the points that
differ in it alone, and its indices are 0, not noise.

Each target has two outputs per point: its probability (the share of the point's replications
where the value is defined that meet it) and its metric's mean over them. SALib's analysers give,
per target, output and factor, Sobol's S1 and ST with their 95 % bootstrap half-widths, or
Morris's μ*, its half-width and σ. An output that is the same at every point has all indices 0;
one that is undefined at some point has none (NaN).

At a point the studied values are fixed, and the scenario's other drawn parameters are not drawn
either: the design is the parameter variation, and a point's replications differ by process
noise alone. A factor that must be a whole number (programme places) is rounded at each point.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from sim.batch.executors import Executor
from sim.batch.points import (
    MET,
    VALUE,
    Progress,
    Study,
    StudyError,
    check_point,
    current_value,
    declared_ranges,
    run_points,
    seconds_per_run,
    shares_met,
    whole_only,
)
from sim.batch.run import default_workers, fresh_seed
from sim.contract.schema import Scenario
from sim.features import prepare_model

METHODS = ("sobol", "morris")
OUTPUTS = ("probability", "mean")
"""A target's two outputs: the probability it is met, and its metric's mean."""
COLUMNS = ("target", "output", "parameter", "method", "S1", "S1_conf", "ST", "ST_conf", "mu_star",
           "mu_star_conf", "sigma")
"""sensitivity.csv: one row per target, output and factor; the other method's columns are NaN."""
FACTOR_COLUMNS = ("parameter", "low", "high", "point", "source")
"""The factors table: each path's range, the scenario's own value and where the range comes from."""
DEFAULT_RUNS = 20
"""Replications at each point."""
DEFAULT_SAMPLES = {"sobol": 64, "morris": 10}
"""Sobol's base samples N (a power of 2) or Morris's trajectories."""
LEVELS = 4
"""Morris's grid levels."""
RESAMPLES = 200
"""Bootstrap resamples behind the confidence half-widths."""


@dataclass(frozen=True, slots=True)
class Factor:
    """One studied value: its path, its range, where the range comes from and the scenario's value."""

    path: str
    low: float
    high: float
    source: str
    """`assumption`, `uncertainty` or `given`."""
    whole: bool
    """Rounded to a whole number at each point."""
    point: float
    """The scenario's own value."""


def factors(scenario: Scenario, given: Mapping[str, tuple[float, float]] | None = None) -> list[Factor]:
    """The factors of a study: the `given` paths and ranges, else the scenario's assumed values
    then its uncertain ones (value ± 2 sd, cut to the draw's bounds or at 0), each path once."""
    ranges = ({path: (float(low), float(high), "given") for path, (low, high) in given.items()} if given
              else declared_ranges(scenario))
    if not ranges:
        raise StudyError("the scenario names no assumed value (assumptions:) and no uncertain one "
                         "(uncertainty.parameters:): give the values to study, e.g. "
                         "--parameter inflow_per_week.sygedagpenge.rate=30,40")
    out = []
    for path, (low, high, source) in ranges.items():
        point = current_value(scenario, path)
        if not low < high:
            raise StudyError(f"{path}: the range {low:g}–{high:g} is empty; give a low below the high")
        for end in (low, high):
            check_point(scenario, {path: end}, f"{path} = {end:g}")
        out.append(Factor(path, low, high, source, whole_only(scenario, path), point))
    return out


def problem(chosen: Sequence[Factor]) -> dict[str, object]:
    """SALib's problem description of the factors."""
    return {"num_vars": len(chosen), "names": [f.path for f in chosen],
            "bounds": [[f.low, f.high] for f in chosen]}


def design(chosen: Sequence[Factor], method: str, samples: int, seed: int) -> np.ndarray:
    """The points [point, factor]: SALib's Sobol' or Morris sample, whole factors rounded."""
    from SALib.sample import morris, sobol  # type: ignore[import-untyped]

    spec = problem(chosen)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # a base sample that is not a power of 2 still works
        if method == "sobol":
            x = sobol.sample(spec, samples, calc_second_order=False, seed=seed)
        else:
            x = morris.sample(spec, samples, num_levels=LEVELS, seed=seed)
    x = np.asarray(x, dtype=float)
    for j, f in enumerate(chosen):
        if f.whole:
            x[:, j] = np.round(x[:, j])
    return x


@dataclass
class SensitivityPlan:
    """A study laid out and prepared, before any point runs: its cost can be stated first."""

    scenario: Scenario
    method: str
    factors: list[Factor]
    samples: int
    runs: int
    points: np.ndarray
    """[point, factor]: the values of each point."""
    study: Study = field(repr=False)

    @property
    def seed(self) -> int:
        """The batch seed: the design's and every point's replications'."""
        return self.study.seed

    @property
    def replications(self) -> int:
        """Replications the study runs: points × runs."""
        return len(self.points) * self.runs

    def point(self, p: int) -> dict[str, float]:
        """Point p as paths and values."""
        return {f.path: float(v) for f, v in zip(self.factors, self.points[p], strict=True)}

    def seconds_per_run(self, pilot: int = 3) -> float:
        """Seconds a replication takes, measured on `pilot` replications of the first point."""
        return seconds_per_run(self.study, self.point(0), min(pilot, self.runs))


def plan_sensitivity(scenario: Scenario, method: str = "sobol",
                     parameters: Mapping[str, tuple[float, float]] | None = None, runs: int = DEFAULT_RUNS,
                     samples: int | None = None, seed: int | None = None) -> SensitivityPlan:
    """Choose the factors, lay out SALib's points and prepare the model (StudyError when the
    study cannot be made as asked)."""
    if method not in METHODS:
        raise StudyError(f"method {method!r} is not one of {', '.join(METHODS)}")
    if runs < 1:
        raise StudyError(f"runs must be at least 1, got {runs}")
    samples = DEFAULT_SAMPLES[method] if samples is None else samples
    if samples < 2:
        raise StudyError(f"samples must be at least 2, got {samples}")
    if not scenario.targets:
        raise StudyError("the scenario has no targets: a study measures how their probabilities move")
    if seed is None:
        seed = scenario.seed if scenario.seed is not None else fresh_seed()
    chosen = factors(scenario, parameters)
    points = design(chosen, method, samples, seed)
    study = Study(prepare_model(scenario, seed), seed, draw=False)
    return SensitivityPlan(scenario, method, chosen, samples, runs, points, study)


@dataclass
class SensitivityResult:
    """A finished study: the indices, the points' outcomes and the factors, as DataFrames."""

    scenario: Scenario
    method: str
    seed: int
    runs: int
    samples: int
    indices: pd.DataFrame
    """sensitivity.csv (`COLUMNS`): per target, output and factor, the method's indices."""
    points: pd.DataFrame
    """Per point and target: the factors' values, the probability and the mean, and the
    replications where the value is defined."""
    factors: pd.DataFrame
    """`FACTOR_COLUMNS`: each factor's range, the scenario's value and the range's source."""


def run_sensitivity(plan: SensitivityPlan, workers: int = 1, executor: Executor | None = None,
                    progress: Progress | None = None) -> SensitivityResult:
    """Run every point on replications 0 … runs − 1 and analyse each target's two outputs."""
    points = [plan.point(p) for p in range(len(plan.points))]
    outcomes = run_points(plan.study, points, range(plan.runs), workers, progress, executor)
    share, defined = shares_met(outcomes[:, MET])  # [point, target]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # an undefined target has no mean
        means = np.nanmean(outcomes[:, VALUE], axis=-1)
    names = [t.name for t in plan.scenario.targets]
    rows: list[dict[str, object]] = []
    for k, name in enumerate(names):
        for output, y in zip(OUTPUTS, (share[:, k], means[:, k]), strict=True):
            rows.extend({"target": name, "output": output, **r} for r in analyse(plan, y))
    return SensitivityResult(plan.scenario, plan.method, plan.seed, plan.runs, plan.samples,
                             pd.DataFrame(rows, columns=list(COLUMNS)),
                             _points_frame(plan, names, share, means, defined), factors_frame(plan))


def analyse(plan: SensitivityPlan, y: np.ndarray) -> list[dict[str, object]]:
    """One output's indices per factor: SALib's analyser, all 0 for an output that never moves,
    NaN for one that is undefined at some point."""
    from SALib.analyze import morris, sobol  # type: ignore[import-untyped]

    nan = math.nan
    d = len(plan.factors)
    keys: tuple[str, ...] = (("S1", "S1_conf", "ST", "ST_conf") if plan.method == "sobol"
                             else ("mu_star", "mu_star_conf", "sigma"))
    if not np.all(np.isfinite(y)):
        found = {key: np.full(d, nan) for key in keys}
    elif np.ptp(y) == 0:
        found = {key: np.zeros(d) for key in keys}
    elif plan.method == "sobol":
        found = dict(sobol.analyze(problem(plan.factors), y, calc_second_order=False,
                                   num_resamples=RESAMPLES, seed=plan.seed + 1))
    else:
        found = dict(morris.analyze(problem(plan.factors), plan.points, y, num_resamples=RESAMPLES,
                                    num_levels=LEVELS, seed=plan.seed + 1))
    empty = dict.fromkeys(COLUMNS[4:], nan)
    return [{"parameter": f.path, "method": plan.method,
             **(empty | {key: float(np.asarray(found[key])[j]) for key in keys})}
            for j, f in enumerate(plan.factors)]


def factors_frame(plan: SensitivityPlan) -> pd.DataFrame:
    """Each factor's range, the scenario's own value there and the range's source."""
    return pd.DataFrame([{"parameter": f.path, "low": f.low, "high": f.high,
                          "point": f.point, "source": f.source}
                         for f in plan.factors], columns=list(FACTOR_COLUMNS))


def _points_frame(plan: SensitivityPlan, names: list[str], share: np.ndarray, means: np.ndarray,
                  defined: np.ndarray) -> pd.DataFrame:
    rows = []
    for p in range(len(plan.points)):
        values = plan.point(p)
        for k, name in enumerate(names):
            rows.append({"point": p, **values, "target": name, "probability": share[p, k],
                         "mean": means[p, k], "defined": int(defined[p, k])})
    return pd.DataFrame(rows, columns=["point", *(f.path for f in plan.factors), "target", "probability",
                                       "mean", "defined"])


def sensitivity(scenario: Scenario, method: str = "sobol",
                parameters: Mapping[str, tuple[float, float]] | None = None, runs: int = DEFAULT_RUNS,
                samples: int | None = None, seed: int | None = None, workers: int | None = 1,
                executor: Executor | None = None, progress: Progress | None = None) -> SensitivityResult:
    """How much each assumed or uncertain value (or each of `parameters`, path → (low, high))
    moves every target's probability and its metric's mean: Sobol' S1 and ST, or Morris μ* and σ.

    `samples` is Sobol's base sample N (N × (factors + 2) points; default 64) or Morris's
    trajectories (N × (factors + 1) points; default 10); each point runs `runs` replications of
    the batch seed (the same at every point). Results do not depend on `workers` or `executor`.
    """
    plan = plan_sensitivity(scenario, method, parameters, runs, samples, seed)
    return run_sensitivity(plan, default_workers() if workers is None else max(1, workers), executor,
                           progress)
