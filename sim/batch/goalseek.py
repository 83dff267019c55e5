"""Goal-seek: the least change of one value (a lever) for which a target's probability reaches a goal.

The lever is any number of the scenario by its path (programme places, a team's headcount, an
effect ratio, an inflow rate). Its probability p(x) of meeting the target is estimated at a value
x by the share of replications meeting it, every value on the same replications 0, 1, … of the
batch seed (common random numbers), so the estimates at two values differ through the lever
alone, and a value's replications can be extended without rerunning the first ones.

Direction. The probability at both bounds says which way the lever helps: the bound with the
higher probability. The answer is the value nearest the other bound that still reaches the goal
(the smallest number of places, the largest inflow): the least the lever must move.

A verdict at x: with n replications whose value is defined, x is *above* the goal w when
p̂ − w > z·√(w(1 − w)/n), *below* when p̂ − w < −z·√(w(1 − w)/n) (the binomial standard error
under p = w), else *undecided*, and then the replications are doubled (keeping the first ones),
up to `max_runs`. The run count never falls between steps, so it grows as the bracket narrows
and the probabilities near it come closer to the goal. z = Φ⁻¹(1 − 0.025 / K) for the K run
counts a verdict may look at (Bonferroni over the looks): each verdict is wrong with at most
2.5 % probability.

Search. The bounds are judged first: the helpful one above the goal and the other not, the value
is bracketed and the bracket halved (a whole-number lever at whole numbers) while its width is
above `tolerance` (default: 1 % of the bounds' span; 1 for a whole-number lever). A midpoint that
stays undecided with `max_runs` replications lies within the Monte Carlo error of the goal: it
stays inside the bracket, and the search goes on halving the gaps between it and each end,
stopping when both are within the tolerance, so the bracket is as narrow as these runs can tell.
Its ends, one judged above and one below the goal (or a bound), hold the least value with at
least 95 % confidence when p is monotone in the lever; `value` is the end judged above, with
the probability reached there.

Outcomes (`status`): `found`; `met_throughout` (both bounds reach the goal: the value is the
bound farthest against the target); `not_reached` (no value within the bounds reaches it: the
helpful bound is judged below the goal); `not_confirmed` (the helpful bound stays within the
Monte Carlo error of the goal with `max_runs`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.stats import norm

from sim.batch.executors import Executor
from sim.batch.points import (
    MET,
    Progress,
    Study,
    StudyError,
    check_point,
    current_value,
    declared_ranges,
    run_points,
    seconds_per_run,
    whole_only,
)
from sim.batch.run import default_workers, fresh_seed
from sim.contract.checks.assumptions import drawn_from_fit
from sim.contract.parameters import scenario_data
from sim.contract.schema import Scenario
from sim.features import prepare_model
from sim.results.binomial import probability_error

COLUMNS = ("target", "lever", "wanted", "direction", "status", "value", "low", "high", "probability",
           "probability_se", "runs", "probability_at", "point", "change", "bound_low", "bound_high",
           "evaluations", "replications")
"""goal-seek.csv: one row. `probability` is measured at `probability_at`: the value, or (when no
value reaches the goal) the helpful bound."""
STEP_COLUMNS = ("step", "role", "value", "runs", "probability", "probability_se", "verdict")
"""goal-seek-steps.csv: each verdict, in the order made."""
STATUSES = ("found", "met_throughout", "not_reached", "not_confirmed")
DEFAULT_PROBABILITY = 0.8
DEFAULT_RUNS = 50
"""Replications at each value to start with."""
DEFAULT_MAX_RUNS = 800
"""The most replications at one value (a standard error of about ±0.014 at p = 0.8)."""
CONFIDENCE = 0.95
"""Of the bracket: each of its two ends is judged wrong with at most half the rest."""
SPAN_PARTS = 100
"""The default tolerance: the bounds' span in this many parts."""
ABOVE, BELOW, UNDECIDED = "above", "below", "undecided"


@dataclass(frozen=True, slots=True)
class Lever:
    """The value moved: its path, the bounds searched, whole numbers only or not, the scenario's value."""

    path: str
    low: float
    high: float
    whole: bool
    point: float


def lever_for(scenario: Scenario, path: str, bounds: tuple[float, float] | None = None,
              integer: bool | None = None) -> Lever:
    """The lever at `path`: searched within `bounds`, else the path's assumed range, else its
    uncertain range (± 2 sd), else half to twice its value; whole numbers when `integer` or when
    the scenario allows only those there (StudyError for a lever that cannot be searched)."""
    point = current_value(scenario, path)
    if drawn_from_fit(scenario, scenario_data(scenario), path) is not None:
        source = scenario.parameters.source if scenario.parameters is not None else ""
        raise StudyError(f"{path} is drawn from {source or 'the fit'} in every replication "
                         "(uncertainty.fitted), so a value set for it would not be used; set "
                         "uncertainty.fitted: false to search it")
    whole = whole_only(scenario, path) if integer is None else integer
    if bounds is None:
        declared = declared_ranges(scenario).get(path)
        if declared is not None:
            bounds = declared[0], declared[1]
        elif point != 0:
            bounds = (min(point / 2, point * 2), max(point / 2, point * 2))
        else:
            raise StudyError(f"{path} is 0 in the scenario and neither assumed nor uncertain: "
                             "give --bounds LO,HI")
    low, high = float(bounds[0]), float(bounds[1])
    if whole:
        low, high = float(math.ceil(low)), float(math.floor(high))
    if not low < high:
        raise StudyError(f"{path}: the bounds {bounds[0]:g}–{bounds[1]:g} hold no range to search"
                         + (" of whole numbers" if whole else "") + "; give a low below the high")
    for end in (low, high):
        check_point(scenario, {path: end}, f"{path} = {end:g}")
    return Lever(path, low, high, whole, point)


def run_levels(runs: int, max_runs: int) -> list[int]:
    """The replications a verdict may look at: `runs`, doubled up to `max_runs` (the last)."""
    levels = [runs]
    while levels[-1] < max_runs:
        levels.append(min(2 * levels[-1], max_runs))
    return levels


def critical_z(levels: int, confidence: float = CONFIDENCE) -> float:
    """z of a one-sided test at (1 − confidence) / 2, shared among the `levels` looks."""
    return float(norm.ppf(1.0 - (1.0 - confidence) / 2.0 / levels))


@dataclass
class GoalSeekPlan:
    """A goal-seek prepared, before any replication runs: its most replications can be stated first."""

    scenario: Scenario
    target: str
    target_index: int
    lever: Lever
    wanted: float
    runs: int
    max_runs: int
    tolerance: float
    study: Study = field(repr=False)

    @property
    def seed(self) -> int:
        """The batch seed of every value's replications."""
        return self.study.seed

    @property
    def max_steps(self) -> int:
        """The most midpoints the bracket can be narrowed at (each end's gap halved to the
        tolerance: twice the halvings of the span)."""
        span = self.lever.high - self.lever.low
        return 2 * max(0, math.ceil(math.log2(max(1.0, span / self.tolerance))))

    @property
    def max_replications(self) -> int:
        """The most replications the search can take: both bounds and every midpoint at `max_runs`."""
        return (2 + self.max_steps) * self.max_runs

    def seconds_per_run(self, pilot: int = 3) -> float:
        """Seconds a replication takes, measured on `pilot` replications at the lower bound."""
        return seconds_per_run(self.study, {self.lever.path: self.lever.low}, min(pilot, self.runs))


def plan_goal_seek(scenario: Scenario, target: str, lever: str, probability: float = DEFAULT_PROBABILITY,
                   bounds: tuple[float, float] | None = None, integer: bool | None = None,
                   runs: int = DEFAULT_RUNS, max_runs: int = DEFAULT_MAX_RUNS, tolerance: float | None = None,
                   seed: int | None = None) -> GoalSeekPlan:
    """Check the request, choose the lever's bounds and prepare the model (StudyError when the
    search cannot be made as asked)."""
    names = [t.name for t in scenario.targets]
    if target not in names:
        known = "; ".join(names) or "none"
        raise StudyError(f"the scenario has no target named {target!r} (its targets: {known})")
    if not 0 < probability < 1:
        raise StudyError(f"the probability to reach must lie strictly between 0 and 1, got {probability:g}")
    if runs < 1 or max_runs < runs:
        raise StudyError(f"runs ({runs}) must be at least 1 and at most max_runs ({max_runs})")
    chosen = lever_for(scenario, lever, bounds, integer)
    if tolerance is None:
        tolerance = 1.0 if chosen.whole else (chosen.high - chosen.low) / SPAN_PARTS
    if not tolerance > 0:
        raise StudyError(f"the tolerance must be above 0, got {tolerance:g}")
    if chosen.whole:
        tolerance = max(tolerance, 1.0)  # whole numbers are never nearer than 1
    if seed is None:
        seed = scenario.seed if scenario.seed is not None else fresh_seed()
    study = Study(prepare_model(scenario, seed), seed, draw=True)
    return GoalSeekPlan(scenario, target, names.index(target), chosen, probability, runs, max_runs, tolerance,
                        study)


class _Seeker:
    """The met indicators of each value tried, extended on demand, and the verdicts made."""

    def __init__(self, plan: GoalSeekPlan, workers: int, executor: Executor | None,
                 progress: Progress | None) -> None:
        self.plan = plan
        self.workers, self.executor = workers, executor
        self.progress = progress
        self.levels = run_levels(plan.runs, plan.max_runs)
        self.z = critical_z(len(self.levels))
        self.level = 0
        self.met: dict[float, np.ndarray] = {}
        self.steps: list[dict[str, object]] = []

    def extend(self, x: float, n: int) -> np.ndarray:
        """The met indicators of replications 0 … n − 1 at x (running only those not yet run)."""
        have = self.met.get(x, np.empty(0))
        if len(have) < n:
            more = run_points(self.plan.study, [{self.plan.lever.path: x}], range(len(have), n), self.workers,
                              self.progress, self.executor)
            have = np.concatenate([have, more[0, MET, self.plan.target_index]])
            self.met[x] = have
        return have[:n]

    @staticmethod
    def estimate(met: np.ndarray) -> tuple[float, float, int]:
        """The share met among the defined replications, its binomial standard error, and how many."""
        defined = met[~np.isnan(met)]
        p, se, *_ = probability_error(int(np.count_nonzero(defined)), len(defined))
        return p, se, len(defined)

    def verdict(self, x: float, role: str) -> str:
        """Whether x is above, below or (at `max_runs`) undecided about the goal, doubling the
        replications while it is undecided."""
        wanted = self.plan.wanted
        while True:
            n = self.levels[self.level]
            p, se, defined = self.estimate(self.extend(x, n))
            margin = self.z * math.sqrt(wanted * (1 - wanted) / defined) if defined else math.inf
            found = ABOVE if p - wanted > margin else BELOW if wanted - p > margin else UNDECIDED
            if found == UNDECIDED and self.level + 1 < len(self.levels):
                self.level += 1
                continue
            self.steps.append({"step": len(self.steps) + 1, "role": role, "value": x, "runs": n,
                               "probability": p, "probability_se": se, "verdict": found})
            return found

    def at(self, x: float) -> tuple[float, float, int]:
        """The estimate at x on every replication run there."""
        p, se, _ = self.estimate(self.met[x])
        return p, se, len(self.met[x])


@dataclass
class GoalSeekResult:
    """A finished goal-seek: the answer (goal-seek.csv) and the verdicts behind it."""

    scenario: Scenario
    seed: int
    summary: pd.DataFrame
    """One row (`COLUMNS`): the value, its interval, the probability reached there and how."""
    steps: pd.DataFrame
    """`STEP_COLUMNS`: each verdict (a bound or a midpoint), its replications and probability."""

    @property
    def status(self) -> str:
        """found, met_throughout, not_reached or not_confirmed."""
        return str(self.summary["status"].iloc[0])

    @property
    def value(self) -> float:
        """The least value of the lever that reaches the goal (NaN when none does)."""
        return float(self.summary["value"].iloc[0])


def run_goal_seek(plan: GoalSeekPlan, workers: int = 1, executor: Executor | None = None,
                  progress: Progress | None = None) -> GoalSeekResult:
    """Judge both bounds, then halve the bracket until it is narrow enough or the Monte Carlo
    error cannot tell its midpoint from the goal."""
    seeker = _Seeker(plan, workers, executor, progress)
    lever = plan.lever
    verdicts = {x: seeker.verdict(x, "bound") for x in (lever.low, lever.high)}
    common = min(len(seeker.met[lever.low]), len(seeker.met[lever.high]))
    p_low = seeker.estimate(seeker.met[lever.low][:common])[0]
    p_high = seeker.estimate(seeker.met[lever.high][:common])[0]
    rank = {ABOVE: 2, UNDECIDED: 1, BELOW: 0}
    same = p_high == p_low or (math.isnan(p_low) and math.isnan(p_high))
    flat = same and verdicts[lever.low] == verdicts[lever.high]
    if not same and not (math.isnan(p_low) or math.isnan(p_high)):
        rising = p_high > p_low  # on the replications both bounds ran
    elif not flat:
        rising = rank[verdicts[lever.high]] > rank[verdicts[lever.low]]
    else:  # the lever does not move it: the bound nearer the scenario's value
        rising = abs(lever.high - lever.point) < abs(lever.low - lever.point)
    helpful, other = (lever.high, lever.low) if rising else (lever.low, lever.high)
    direction = "none" if flat else "increase" if rising else "decrease"
    low = high = value = math.nan
    if verdicts[helpful] == ABOVE and verdicts[other] == ABOVE:
        status = "met_throughout"
        kept = other if direction != "none" else float(np.clip(lever.point, lever.low, lever.high))
        value = low = high = kept
        if value not in seeker.met:
            seeker.verdict(value, "point")
    elif verdicts[helpful] == ABOVE:
        status, value, low, high = "found", *_bisect(seeker, other, helpful)
    elif verdicts[helpful] == BELOW:
        status = "not_reached"
    else:
        status, value = "not_confirmed", helpful
    shown = value if not math.isnan(value) else helpful
    p, se, runs = seeker.at(shown)
    summary = pd.DataFrame([{
        "target": plan.target, "lever": lever.path, "wanted": plan.wanted, "direction": direction,
        "status": status, "value": value, "low": low, "high": high, "probability": p, "probability_se": se,
        "runs": runs, "probability_at": shown, "point": lever.point, "change": value - lever.point,
        "bound_low": lever.low, "bound_high": lever.high, "evaluations": len(seeker.steps),
        "replications": sum(len(m) for m in seeker.met.values())}], columns=list(COLUMNS))
    steps = pd.DataFrame(seeker.steps, columns=list(STEP_COLUMNS))
    return GoalSeekResult(plan.scenario, plan.seed, summary, steps)


def _bisect(seeker: _Seeker, bad: float, good: float) -> tuple[float, float, float]:
    """Narrow [bad, good] (bad below the goal or a bound, good above it): the value (good) and the
    bracket's low and high ends.

    The bracket is halved while it is wider than the tolerance. A midpoint left undecided with
    `max_runs` lies within the Monte Carlo error of the goal: it stays inside, and the gap between
    it and each end is halved on, the wider first, until that gap is within the tolerance or its
    own midpoint is undecided too (that end then lies next to the noise: more halving there would
    only find more undecided values)."""
    plan = seeker.plan
    middle: Callable[[float, float], float] = ((lambda a, b: float(math.floor((a + b) / 2)))
                                               if plan.lever.whole else (lambda a, b: (a + b) / 2))
    undecided: list[float] = []
    settled: set[str] = set()
    while True:
        inside = [u for u in undecided if min(bad, good) < u < max(bad, good)]
        near_bad = min(inside, key=lambda u: abs(u - bad), default=good)
        near_good = min(inside, key=lambda u: abs(u - good), default=bad)
        gaps = sorted([(abs(near_bad - bad), "bad", bad, near_bad),
                       (abs(good - near_good), "good", near_good, good)], reverse=True)
        chosen = next(((side, a, b) for w, side, a, b in gaps if side not in settled
                       and w > plan.tolerance * (1 + 1e-9) and middle(a, b) not in (a, b)), None)
        if chosen is None:
            return good, min(bad, good), max(bad, good)
        side, a, b = chosen
        m = middle(a, b)
        found = seeker.verdict(m, "midpoint")
        if found == ABOVE:
            good = m
        elif found == BELOW:
            bad = m
        else:
            if inside:
                settled.add(side)
            undecided.append(m)


def goal_seek(scenario: Scenario, target: str, lever: str, probability: float = DEFAULT_PROBABILITY,
              bounds: tuple[float, float] | None = None, integer: bool | None = None,
              runs: int = DEFAULT_RUNS, max_runs: int = DEFAULT_MAX_RUNS, tolerance: float | None = None,
              seed: int | None = None,
              workers: int | None = 1, executor: Executor | None = None,
              progress: Progress | None = None) -> GoalSeekResult:
    """The least change of `lever` (a parameter path) for which P(`target` met) ≥ `probability`,
    with an interval for the value and the probability reached there (`sim.batch.goalseek`).

    `bounds` default to the lever's assumed range, else ± 2 sd of an uncertain one, else half to
    twice its value; `integer` (default: when the scenario allows only whole numbers there)
    searches whole numbers. Each value starts with `runs` replications, doubled while the
    verdict is undecided, up to `max_runs`. Results do not depend on `workers` or `executor`.
    """
    plan = plan_goal_seek(scenario, target, lever, probability, bounds, integer, runs, max_runs, tolerance,
                          seed)
    return run_goal_seek(plan, default_workers() if workers is None else max(1, workers), executor, progress)
