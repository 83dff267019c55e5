"""Named assumptions checked: each target's probability at both ends of each assumed value.

A scenario's `assumptions` name values the plans do not give, each with a low–high range and its
reason. For each assumption and each end of its range, the scenario with that one value changed
(every other assumed value at its point) runs on the main batch's seeds: replication i of an end
uses replication i's streams (common random numbers), so a target's probabilities at the low end,
the point value and the high end differ only through the value, not through new noise.

Runs. The check runs the first min(assumption_runs, runs) replications of the batch at each end,
2 × (number of assumptions) batches of that size; the point probability is recomputed from the
main batch's values of those same replications, so all three stand on the same random numbers.
An assumed `observed` figure (the base of a change or difference target) moves thresholds only
(no part of the simulation reads the observed block), so its ends take the batch's own values of
those replications, judged against their own thresholds, and cost no replication.
`caseflow run` checks 50 by default (`--assumption-runs`, `--no-assumption-check`);
`sim.run(…, assumption_runs=50)` does the same from Python, whose default (0) skips the check,
as `compare` and the fitting verbs, which call `run` many times, need.

Preparation. The changed scenario keeps the batch's preparation (the pilot that gives the initial
stock its support history), as the parameter draws of `sim.batch.uncertain` do: the stock at the
start is the past, which an assumed inflow or rate over the horizon does not rewrite; the changed
model then differs from the point model in the assumed value alone (a second pilot would add its
own noise to the comparison); and no end costs a pilot. An assumed inflow thus changes who
arrives, not the history of those already there. With parameter uncertainty, an end's
replications draw their parameters as the batch's do (from the same streams), centred on the end's
value when the uncertainty block draws the assumed value itself; a value the fit draws in every
replication cannot be assumed (the loader refuses it: its ends would never be run).

Sets it. A target is set by an assumption when its three probabilities (low end, point, high end)
do not all lie on one side of 0.5: the smallest is below 0.5 and the largest at or above it, so
within the assumed range the target goes from more likely missed than met to at least even
chances. A span from below 0.1 to above 0.9 across the range is the strong case of this and is
always included. A probability that is undefined (no replication where the value is defined) is
left out; with fewer than two left, nothing is set. `set_by_assumption` joins the paths that set
a target with "; ", in the scenario's order.

Parallel workers give the same numbers as one: every replication's values depend on its end and
its seed alone, and they are placed by index, not by when they finish.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.batch.executors import Executor
from sim.batch.points import VALUE, PointModels, Study, Values, as_values, run_points
from sim.contract.parameters import get_value
from sim.contract.schema import Scenario
from sim.kernel.model import Model
from sim.results.targets import ResolvedTarget

DEFAULT_RUNS = 50
"""Replications of the check at each end of each assumed value, at most the batch's runs."""
EVEN, UNLIKELY, LIKELY = 0.5, 0.1, 0.9
"""The probabilities a target's must cross (EVEN) or span (UNLIKELY to LIKELY) to be set."""
SEPARATOR = "; "
"""Between the paths of set_by_assumption when several assumptions set one target."""
COLUMNS = ("target", "path", "low", "point", "high", "runs", "p_low", "p_point", "p_high", "sets_it")
"""assumptions.csv: one row per target and assumption."""

Progress = Callable[[int], None]


@dataclass(frozen=True, slots=True)
class End:
    """One end of one assumption's range: the scenario with `path` at `value`."""

    assumption: int
    path: str
    value: float


def ends(scenario: Scenario) -> list[End]:
    """Each assumption's low end, then its high end, in the scenario's order."""
    return [End(i, a.path, float(v)) for i, a in enumerate(scenario.assumptions) for v in (a.low, a.high)]


def check_runs(scenario: Scenario, runs: int, assumption_runs: int) -> int:
    """Replications the check runs at each end (0: no check)."""
    return min(runs, assumption_runs) if scenario.assumptions and assumption_runs > 0 else 0


THRESHOLD_ONLY = ("observed",)
"""Blocks the simulation never reads: an assumed value there moves the targets' thresholds only."""


def simulated(end: End) -> bool:
    """Whether the end must be simulated (its value is read by the model, not only by a threshold)."""
    return end.path.split(".", 1)[0] not in THRESHOLD_ONLY


def check_cost(scenario: Scenario, runs: int, assumption_runs: int) -> int:
    """Replications the whole check runs: `check_runs` for each end that must be simulated (2 per
    assumed value outside the observed block)."""
    return sum(map(simulated, ends(scenario))) * check_runs(scenario, runs, assumption_runs)


def sets_it(probabilities: Sequence[float]) -> bool:
    """Whether the probabilities (low, point, high) make the target's verdict turn on the value:
    some below 0.5 and some at or above it, or a span from below 0.1 to above 0.9."""
    known = [p for p in probabilities if math.isfinite(p)]
    if len(known) < 2:
        return False
    low, high = min(known), max(known)
    return low < EVEN <= high or (low < UNLIKELY and high > LIKELY)


def probability(target: ResolvedTarget, values: np.ndarray) -> float:
    """The share of the replications where the value is defined that meet the target (NaN: none)."""
    defined = values[~np.isnan(values)]
    return float(np.count_nonzero(target.met(defined))) / len(defined) if len(defined) else math.nan


def end_values(end: End) -> Values:
    """The end as a study's point: its one value set."""
    return as_values({end.path: end.value})


@dataclass
class AssumptionCheck:
    """The check's outcome: assumptions.csv, each target's set_by_assumption, the values behind."""

    frame: pd.DataFrame
    """assumptions.csv (`COLUMNS`): per target and assumption, the probabilities at both ends."""
    set_by: list[str]
    """Per target, the paths of the assumptions that set it, joined by "; " ('' for none)."""
    values: np.ndarray
    """[end, target, replication]: each end's target values (ends in `ends` order)."""


def check_assumptions(prepared: Model, targets: list[ResolvedTarget], point: np.ndarray, seed: int, runs: int,
                      workers: int = 1, progress: Progress | None = None,
                      executor: Executor | None = None) -> AssumptionCheck:
    """Run each end of each assumption on the batch's replications 0 … runs − 1 (the study's
    points of `sim.batch.points`, the batch's preparation kept) and compare each target's
    probability there with its probability at the point, from `point` [target, replication]: the
    batch's own values of those replications."""
    study = Study(prepared, seed, draw=True)
    models = PointModels(study)
    found = ends(prepared.scenario)
    values = np.full((len(found), len(targets), runs), np.nan)
    moved = [e for e, end in enumerate(found) if simulated(end)]
    for e, end in enumerate(found):
        if not simulated(end):
            values[e] = point  # the same dynamics: only the end's thresholds differ
    if moved:
        outcomes = run_points(study, [dict(end_values(found[e])) for e in moved], range(runs), workers,
                              progress, executor)
        values[moved] = outcomes[:, VALUE]
    records = []
    set_by: list[list[str]] = [[] for _ in targets]
    for k, t in enumerate(targets):
        p_point = probability(t, point[k])
        for a, spec in enumerate(prepared.scenario.assumptions):
            low_targets = models.built(end_values(found[2 * a]))[1]
            high_targets = models.built(end_values(found[2 * a + 1]))[1]
            p_low = probability(low_targets[k], values[2 * a, k])
            p_high = probability(high_targets[k], values[2 * a + 1, k])
            sets = sets_it((p_low, p_point, p_high))
            if sets:
                set_by[k].append(spec.path)
            records.append({"target": t.name, "path": spec.path, "low": float(spec.low),
                            "point": get_value(models.plain, spec.path), "high": float(spec.high),
                            "runs": runs, "p_low": p_low, "p_point": p_point, "p_high": p_high,
                            "sets_it": sets})
    return AssumptionCheck(pd.DataFrame(records, columns=list(COLUMNS)),
                           [SEPARATOR.join(paths) for paths in set_by], values)
