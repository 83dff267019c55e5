"""What-ifs answered while one waits: a scenario's levers, and each target's probability at a
variant, from small batches on the base run's random numbers that grow as more runs arrive.

A variant is the scenario with some of its numbers set (`sim.contract.parameters` paths), run as
a study's point (`sim.batch.points`): replication i of the variant and of the base use the
batch's replication i seed and the base's preparation, so the base's runs are made once, kept,
and every variant is read against them run by run (a paired difference, far surer than two
probabilities apart). Answers come at 8, 16, 32, … runs up to the most asked for; each says how
many runs it rests on and how sure it is.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

import numpy as np

from sim.batch.executors import Executor, InProcess, Work
from sim.batch.points import (
    MET,
    VALUE,
    PointModels,
    Study,
    Values,
    as_values,
    declared_ranges,
    whole_only,
)
from sim.contract.errors import ScenarioError
from sim.contract.loader import scenario_from_dict
from sim.contract.parameters import PathError, get_value, key_path, scenario_data, with_values
from sim.contract.schema import Scenario
from sim.features import prepare_model
from sim.results.binomial import probability_error

FIRST_RUNS = 8
"""Runs behind the first answer: two workers make them in about a second for the largest
shipped scenario."""
MOST_RUNS = 200
"""Runs behind the last answer (a probability's standard error ≤ 0.035)."""
QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
"""The fan chart's bands: 90 % and 50 %, and the median."""
KEPT_VARIANTS = 16
"""Variants whose runs are kept, so that moving a lever back answers at once."""
BASE: Values = ()
SPAN, ALLOWED = "span", "allowed"
"""Lever range sources besides the declared ones (`assumption`, `uncertainty`)."""


@dataclass(frozen=True, slots=True)
class Lever:
    """One number a user may move: its path, what it is of, its range and the scenario's value."""

    path: str
    kind: str
    """`inflow`, `programme`, `caseworkers` or `assumption`."""
    subject: str
    """The state (an inflow), the programme or team named, or the assumed value's path."""
    field: str
    """What of the subject: `rate`, `places`, `uptake`, `effects.after.job`, `headcount`, …"""
    low: float
    high: float
    whole: bool
    value: float
    source: str = SPAN
    """Where the range comes from: `assumption`, `uncertainty` (± 2 sd), `allowed` (what the
    contract allows, e.g. an uptake's 0–1) or `span` (half to twice the scenario's value)."""
    reason: str = ""
    """An assumption's own reason (empty for the other sources)."""


def _span(value: float) -> tuple[float, float]:
    """The range of a value no block declares: half to twice it (as goal-seek searches)."""
    return (value / 2, value * 2) if value > 0 else (0.0, 1.0)


def _ref(name: str, names: list[str], i: int) -> str:
    """How a path names entry i of a list: by its name where that is one path part naming one
    entry (as a reader writes it), else by its position."""
    return name if "." not in name and names.count(name) == 1 and not name.isdigit() else str(i)


def levers(scenario: Scenario) -> list[Lever]:
    """The scenario's levers: each inflow, each programme's places, uptake, referral rate and
    effects, each caseworker team's headcount, then every assumed or uncertain value with its
    range. A value a fit (`parameters:`) sets is left out: the fit's, drawn from it in each
    replication or not, an overlay may not change it. A number reached by two paths appears
    once, with its declared range."""
    data = scenario_data(scenario)
    declared = declared_ranges(scenario)
    by_keys = {key_path(data, path): (path, span) for path, span in declared.items()}
    reasons = {a.path: a.reason for a in scenario.assumptions}
    found: dict[tuple[str | int, ...], Lever] = {}
    fitted = {key_path(data, path) for path in (scenario.parameters.values if scenario.parameters else ())}

    def add(path: str, kind: str, subject: str, field: str,
            allowed: tuple[float, float] | None = None) -> None:
        try:
            keys = key_path(data, path)
            value = get_value(data, path)
        except PathError:
            return
        if keys in found or keys in fitted:  # a fit's value is the fit's: an overlay may not change it
            return
        reason = ""
        if keys in by_keys:
            own, (low, high, source) = by_keys[keys]
            reason = reasons.get(own, "")
        elif allowed is not None:
            (low, high), source = allowed, ALLOWED
        else:
            (low, high), source = _span(value), SPAN
        whole = whole_only(scenario, path)
        if whole:
            low, high = float(math.ceil(low)), float(math.floor(high))
        if low < high:
            found[keys] = Lever(path, kind, subject, field, float(low), float(high), whole, value, source,
                                reason)

    for state in scenario.inflow_per_week:
        add(f"inflow_per_week.{state}", "inflow", state, "rate")
    programmes = [p.name for p in scenario.interventions]
    for i, p in enumerate(scenario.interventions):
        base = f"interventions.{_ref(p.name, programmes, i)}"
        if p.places is not None:
            add(f"{base}.places", "programme", p.name, "places", (1, max(2 * p.places, p.places + 10)))
        add(f"{base}.uptake", "programme", p.name, "uptake", (0.0, 1.0))
        if p.rate_per_week is not None:
            add(f"{base}.rate_per_week", "programme", p.name, "rate_per_week")
        for when in ("during", "after"):
            for to, ratio in getattr(p.effects, when).items():
                add(f"{base}.effects.{when}.{to}", "programme", p.name, f"effects.{when}.{to}",
                    None if ratio > 0 else (0.0, 2.0))
    teams = [team.team for team in scenario.caseworkers]
    for i, team in enumerate(scenario.caseworkers):
        add(f"caseworkers.{_ref(team.team, teams, i)}.headcount", "caseworkers", team.team, "headcount")
    for path in declared:
        add(path, "assumption", path, path.rsplit(".", 1)[-1])
    return list(found.values())


def point_of(scenario: Scenario, values: Mapping[str, float]) -> Values:
    """The variant as a study's point: only the values that differ from the scenario's, in path
    order (so one variant is one point however it was reached)."""
    data = scenario_data(scenario)
    changed = {path: float(v) for path, v in values.items()
               if not math.isclose(float(v), get_value(data, path), rel_tol=1e-12, abs_tol=0.0)}
    return as_values(dict(sorted(changed.items())))


def refusal(scenario: Scenario, point: Values) -> str | None:
    """Why the scenario contract refuses the variant, in its words, or None. The variant is
    checked whole, as its overlay file will load: an assumed value keeps its range, and the
    scenario must stay sound at each end of every range with the other values as set."""
    if not point:
        return None
    try:
        scenario_from_dict(with_values(scenario_data(scenario), dict(point)), source="the values set")
    except ScenarioError as exc:
        return "; ".join(f"{p.path or 'the scenario'}: {p.message}" for p in exc.problems)
    except PathError as exc:
        return str(exc)
    return None


@dataclass(frozen=True)
class Answer:
    """The targets' probabilities and the total's fan at a variant, from `runs` runs."""

    point: Values
    runs: int
    most: int
    probability: np.ndarray
    """Per target: the share of runs that meet it (NaN where no run defines it)."""
    se: np.ndarray
    low: np.ndarray
    high: np.ndarray
    """Wilson 95 % interval."""
    base: np.ndarray
    """Per target: the base's probability on the same runs."""
    change: np.ndarray
    """Per target: variant − base, the mean of the paired run-by-run differences."""
    change_se: np.ndarray
    value: np.ndarray
    """Per target: the mean of its value (a count, a share, DKK) over the runs."""
    fan: np.ndarray
    """[quantile, month]: the total caseload (full-time persons) at QUANTILES."""
    base_fan: np.ndarray

    @property
    def final(self) -> bool:
        return self.runs >= self.most


def answer_of(point: Values, most: int, variant: np.ndarray, base: np.ndarray,
              totals: np.ndarray, base_totals: np.ndarray) -> Answer:
    """An Answer from a variant's and the base's outcomes [run, VALUE or MET, target] and their
    totals [run, month], on the same runs."""
    runs = variant.shape[0]
    met, was = variant[:, MET, :], base[:, MET, :]
    targets = met.shape[1]
    p, se, low, high, b = (np.full(targets, np.nan) for _ in range(5))
    change, change_se = np.full(targets, np.nan), np.full(targets, np.nan)
    for k in range(targets):
        own = met[~np.isnan(met[:, k]), k]
        if own.size:
            p[k], se[k], low[k], high[k], _ = probability_error(int(own.sum()), own.size)
        both = ~np.isnan(met[:, k]) & ~np.isnan(was[:, k])
        if both.any():
            b[k] = float(was[both, k].mean())
            d = met[both, k] - was[both, k]
            change[k] = float(d.mean())
            change_se[k] = float(d.std(ddof=1) / math.sqrt(d.size)) if d.size > 1 else math.nan
    with np.errstate(all="ignore"):
        value = np.array([np.nanmean(c) if np.isfinite(c).any() else np.nan for c in variant[:, VALUE, :].T])
    return Answer(point, runs, most, p, se, low, high, b, change, change_se, value,
                  np.quantile(totals, QUANTILES, axis=0), np.quantile(base_totals, QUANTILES, axis=0))


def _levels(first: int, most: int) -> list[int]:
    levels = [min(first, most)]
    while levels[-1] < most:
        levels.append(min(2 * levels[-1], most))
    return levels


class _Runs:
    """A point's outcomes and monthly totals, by replication."""

    def __init__(self) -> None:
        self.outcome: dict[int, np.ndarray] = {}
        self.total: dict[int, np.ndarray] = {}

    def missing(self, upto: int) -> list[int]:
        return [i for i in range(upto) if i not in self.outcome]

    def first(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        return (np.stack([self.outcome[i] for i in range(n)]), np.stack([self.total[i] for i in range(n)]))


Task = tuple[Values, int]


def _step(models: PointModels, task: Task) -> tuple[Values, int, np.ndarray, np.ndarray]:
    point, i = task
    outcome, metrics = models.measured(point, i)
    return point, i, outcome, metrics.tables["monthly"][-1]


class WhatIf:
    """A scenario prepared once (its pilot included) and its base runs kept; `answers` runs a
    variant on the base's random numbers and says what it finds as the runs arrive. Safe to use
    from several threads: one batch runs at a time (the workers are shared anyway), and every
    run made is kept for whoever asks next, so no run is made twice."""

    def __init__(self, scenario: Scenario, seed: int, executor: Executor | None = None,
                 first: int = FIRST_RUNS, most: int = MOST_RUNS) -> None:
        if not 1 <= first <= most:
            raise ValueError(f"first ({first}) must be at least 1 and at most most ({most})")
        self.scenario = scenario
        self.seed = seed
        self.most = most
        self.levels = _levels(first, most)
        self.executor: Executor = executor if executor is not None else InProcess()
        self.work = Work(Study(prepare_model(scenario, seed), seed, draw=True), PointModels, _step)
        self.levers = levers(scenario)
        self.months: list[str] = list(self.work.payload.prepared.calendar.labels)
        self.targets: list[str] = [t.name for t in scenario.targets]
        self._runs: OrderedDict[Values, _Runs] = OrderedDict({BASE: _Runs()})
        self._lock = threading.Lock()
        self._running = threading.Lock()

    def point(self, values: Mapping[str, float]) -> Values:
        """The variant `values` make (only those that differ from the scenario's)."""
        return point_of(self.scenario, values)

    def refusal(self, point: Values) -> str | None:
        """The contract's message when the scenario refuses the variant, else None."""
        return refusal(self.scenario, point)

    def _kept(self, point: Values) -> _Runs:
        with self._lock:
            if point not in self._runs:
                self._runs[point] = _Runs()
                while len(self._runs) > KEPT_VARIANTS + 1:
                    oldest = next(p for p in self._runs if p != BASE)
                    del self._runs[oldest]
            self._runs.move_to_end(point)
            return self._runs[point]

    def answers(self, point: Values, stop: Callable[[], bool] | None = None) -> Iterator[Answer]:
        """The variant's answers at each level of runs (8, 16, … up to `most`), each as soon as
        its runs (and the base's on the same seeds) are in. Closing the iterator, or `stop()`
        turning true (asked as each chunk of runs arrives), stops the runs not yet started;
        those finished are kept for the next ask."""
        own, base = self._kept(point), self._kept(BASE)
        for level in self.levels:
            with self._running:  # one batch at a time: two askers of the same runs never make them twice
                if stop is not None and stop():
                    return
                tasks: list[Task] = [(point, i) for i in own.missing(level)]
                if point != BASE:
                    tasks += [(BASE, i) for i in base.missing(level)]
                if tasks:
                    flow = self.executor.run(self.work, tasks)
                    try:
                        for results in flow:
                            for p, i, outcome, total in results:
                                held = own if p == point else base
                                held.outcome[i], held.total[i] = outcome, total
                            if stop is not None and stop():
                                return
                    finally:
                        flow.close()  # type: ignore[attr-defined]
            variant, totals = own.first(level)
            was, was_totals = base.first(level)
            yield answer_of(point, self.most, variant, was, totals, was_totals)

    def answer(self, point: Values, runs: int | None = None) -> Answer:
        """The variant's answer at `runs` (rounded up to a level; the last level by default)."""
        last: Answer | None = None
        for found in self.answers(point):
            last = found
            if runs is not None and found.runs >= runs:
                break
        assert last is not None
        return last
