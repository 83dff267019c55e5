"""Shared scenario builders and independent closed forms for the statistical tests.

Nothing here calls the engine's own hazard code: survival curves, mean stays, exit
probabilities and the Kolmogorov forward equations are computed from the scenario's route
dictionaries with plain arithmetic, `scipy.integrate.quad` and `scipy.linalg.expm`.
Times are in days (the engine's unit); rates in scenario routes are per week.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from scipy.integrate import quad
from scipy.linalg import expm
from typer.testing import CliRunner

import sim
from sim.cli.app import app
from sim.kernel.protocol import Feature

START = dt.date(2018, 1, 1)
Z = 4.0
"""Tolerance of every statistical comparison, in standard errors."""


CLOCK_SPLIT: list[dict[str, Any]] = [
    {"to": "job", "rate_per_week": 0.05},
    {"to": "jobafklaring", "at_week": 22, "share": 0.3},
    {"to": "kontanthjaelp", "at_week": 22, "share": "rest"},
]
"""sygedagpenge-like routes: a 22-week clock sends 0.3 to jobafklaring, the rest to kontanthjaelp."""


FAST_PATH: dict[str, Any] = {
    "name": "fast path", "start": START, "months": 12,
    "states": {"a_dagpenge": {}, "kontanthjaelp_jobparat": {}, "sygedagpenge": {}, "jobafklaring": {}},
    "initial": {"a_dagpenge": 300, "kontanthjaelp_jobparat": 200, "sygedagpenge": 300},
    "inflow_per_week": {"a_dagpenge": 8, "sygedagpenge": 10},
    "transitions": {
        "a_dagpenge": [{"to": "job", "rate_per_week": [[0, 0.08], [13, 0.03]]},
                       {"to": "kontanthjaelp_jobparat", "at_week": 52, "share": 0.5},
                       {"to": "other", "at_week": 52, "share": "rest"}],
        "kontanthjaelp_jobparat": [{"to": "job", "rate_per_week": 0.03}],
        "sygedagpenge": [{"to": "job", "mean_weeks": 8},
                         {"to": "jobafklaring", "at_week": 22, "share": 0.3},
                         {"to": "stay", "at_week": 22, "share": "rest"}],
        "jobafklaring": [{"to": "job", "rate_per_week": 0.02}],
        "job": [{"to": "a_dagpenge", "rate_per_week": 0.005}],
    },
}
"""Bands, split clocks, a clock share that stays and re-entry from job: the fast path's cases."""


CRN_BASE: dict[str, Any] = {
    "name": "crn", "start": START.isoformat(), "months": 24,
    "states": {"a_dagpenge": {}, "kontanthjaelp_jobparat": {}, "sygedagpenge": {}},
    "initial": {"a_dagpenge": 300, "kontanthjaelp_jobparat": 150, "sygedagpenge": 200},
    "inflow_per_week": {"a_dagpenge": 12, "sygedagpenge": 20},
    "transitions": {
        "a_dagpenge": [{"to": "job", "rate_per_week": [[0, 0.08], [26, 0.03]]},
                       {"to": "kontanthjaelp_jobparat", "at_week": 104, "share": 0.5},
                       {"to": "other", "at_week": 104, "share": "rest"}],
        "kontanthjaelp_jobparat": [{"to": "job", "rate_per_week": 0.04},
                                   {"to": "a_dagpenge", "rate_per_week": 0.01}],
        "sygedagpenge": [{"to": "job", "rate_per_week": 0.09},
                         {"to": "kontanthjaelp_jobparat", "at_week": 22, "share": 0.3},
                         {"to": "stay", "at_week": 22, "share": "rest"}],
    },
}
"""Three states with bands, clocks, a share that stays and a route back: the base that the
programme tests add interventions to."""


def scenario(**blocks: Any) -> sim.Scenario:
    """A validated scenario from keyword blocks, with defaults for name, start and months."""
    data: dict[str, Any] = {"name": "test", "start": START.isoformat(), "months": 24}
    data.update(blocks)
    return sim.scenario_from_dict(data)


def month_edges(start: dt.date, months: int) -> np.ndarray:
    """Days from `start` to the first day of each month: `months + 1` values."""
    firsts = [dt.date(start.year + (start.month - 1 + k) // 12, (start.month - 1 + k) % 12 + 1, 1)
              for k in range(months + 1)]
    return np.array([(d - start).days for d in firsts], dtype=float)


def month_label(start: dt.date, month: int) -> str:
    """`YYYY-MM` of month number `month` (1-based) from `start`."""
    y, m = divmod(start.month - 1 + month - 1, 12)
    return f"{start.year + y:04d}-{m + 1:02d}"


def integral(f: Callable[[float], float], lo: float, hi: float, cuts: Sequence[float] = ()
             ) -> float:
    """∫_lo^hi f, split at the `cuts` inside (where f may jump or kink)."""
    points = sorted({lo, hi, *(c for c in cuts if lo < c < hi)})
    return sum(quad(f, a, b, epsabs=0.0, epsrel=1e-13, limit=200)[0]
               for a, b in itertools.pairwise(points))


# ---------------------------------------------------------------------------------------------
# Survival of one state from its route dictionaries (as written in a scenario)


def _bands(rate: Any) -> list[tuple[float, float]]:
    """[(from_week, rate_per_week), ...] from a number or a list of pairs."""
    if isinstance(rate, int | float):
        return [(0.0, float(rate))]
    return [(float(w), float(r)) for w, r in rate]


@dataclass
class Exits:
    """The competing routes of one state, read independently of `sim.kernel.hazards`."""

    routes: Sequence[dict[str, Any]]

    def rated(self) -> list[tuple[str, list[tuple[float, float]]]]:
        """(destination, [(from_day, rate_per_day), ...]) for every route with a rate."""
        out = []
        for r in self.routes:
            if "rate_per_week" in r:
                bands = _bands(r["rate_per_week"])
            elif "mean_weeks" in r:
                bands = [(w, 1.0 / m) for w, m in _bands(r["mean_weeks"])]
            else:
                continue
            out.append((r["to"], [(w * 7.0, x / 7.0) for w, x in bands]))
        return out

    def clocks(self) -> dict[float, dict[str, float]]:
        """{day: {destination: share}} with 'rest' resolved (destination 'stay' keeps)."""
        by_day: dict[float, list[tuple[str, Any]]] = {}
        for r in self.routes:
            if "at_week" in r:
                by_day.setdefault(r["at_week"] * 7.0, []).append((r["to"], r["share"]))
        out = {}
        for day, shares in sorted(by_day.items()):
            fixed = sum(s for _, s in shares if s != "rest")
            split: dict[str, float] = {}
            for to, s in shares:
                split[to] = split.get(to, 0.0) + (1.0 - fixed if s == "rest" else s)
            out[day] = split
        return out

    def hazard(self, t: float, dest: str | None = None) -> float:
        """Hazard per day at `t` days in the state (of one destination, or in total)."""
        total = 0.0
        for to, bands in self.rated():
            if dest is not None and to != dest:
                continue
            total += next(r for w, r in reversed(bands) if w <= t)
        return total

    def cumhaz(self, t: float) -> float:
        """Integrated hazard over [0, t] days: sum of rate × overlap of each band."""
        total = 0.0
        for _, bands in self.rated():
            for i, (w, r) in enumerate(bands):
                end = bands[i + 1][0] if i + 1 < len(bands) else math.inf
                total += r * max(0.0, min(t, end) - w)
        return total

    def survival(self, t: float, before: bool = False) -> float:
        """P(still in the state after t days), clocks included; `before`: just before t."""
        s = math.exp(-self.cumhaz(t))
        for day, split in self.clocks().items():
            if day < t or (day == t and not before):
                s *= split.get("stay", 0.0)
        return s

    def breakpoints(self) -> list[float]:
        """Band edges and clock days (from 0): the survival is smooth between them."""
        return sorted({0.0, *(w for _, bands in self.rated() for w, _ in bands), *self.clocks()})

    def integrate(self, f: Callable[[float], float], extra: Sequence[float] = ()) -> float:
        """∫_0^∞ f(t) dt, piece by piece between breakpoints and `extra` points."""
        points = sorted({*self.breakpoints(), *extra})
        total = 0.0
        for i, a in enumerate(points):
            b = points[i + 1] if i + 1 < len(points) else math.inf
            if self.survival(a) == 0.0:
                break
            total += integral(f, a, b)
        return total

    def mean_stay(self) -> float:
        """E[T] = ∫ S(t) dt, in days."""
        return self.integrate(self.survival)

    def mean_elapsed(self) -> float:
        """Mean elapsed days of the stationary stock (density ∝ S): ∫ t S / ∫ S."""
        return self.integrate(lambda t: t * self.survival(t)) / self.mean_stay()

    def elapsed_tail(self, x: float) -> float:
        """P(stationary elapsed > x) = ∫_x^∞ S / ∫_0^∞ S."""
        return self.integrate(lambda t: self.survival(t) * (t > x), extra=[x]) / self.mean_stay()

    def exit_prob(self, dest: str) -> float:
        """P(the stay ends in `dest`): ∫ h_dest S dt plus the clock shares reaching it."""
        p = self.integrate(lambda t: self.hazard(t, dest) * self.survival(t))
        for day, split in self.clocks().items():
            p += self.survival(day, before=True) * split.get(dest, 0.0)
        return p


# ---------------------------------------------------------------------------------------------
# Kolmogorov forward equations with a source term


def kolmogorov_month_means(rates: np.ndarray, inflow: np.ndarray, n0: np.ndarray,
                           edges: np.ndarray) -> np.ndarray:
    """Expected mean persons per state in each month: dn/dt = Qᵀ n + λ, n(0) = n0.

    `rates[i, j]` is the rate per day from state i to j (i ≠ j), `inflow` arrivals per day.
    With y = (n, 1), y' = M y; the block matrix [[M, 0], [I, 0]] integrates y as well, so
    exp of it over a month gives both y at the month's end and the exact ∫ n over the month.
    """
    k = len(n0)
    q = rates - np.diag(rates.sum(axis=1))
    m = np.zeros((k + 1, k + 1))
    m[:k, :k] = q.T
    m[:k, k] = inflow
    w = np.zeros((2 * (k + 1), 2 * (k + 1)))
    w[: k + 1, : k + 1] = m
    w[k + 1:, : k + 1] = np.eye(k + 1)
    y = np.append(n0, 1.0)
    out = []
    for a, b in itertools.pairwise(edges):
        e = expm(w * (b - a))
        top = e[: k + 1, : k + 1] @ y
        integral = e[k + 1:, : k + 1] @ y
        out.append(integral[:k] / (b - a))
        y = top
    return np.array(out).T  # [state, month]


def validate_via_cli(tmp_path: Path, data: dict[str, Any]) -> tuple[int, str]:
    """Exit code and the problems printed (stderr) of `caseflow validate` on `data`."""
    path = tmp_path / "scenario.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    result = CliRunner().invoke(app, ["validate", str(path)])
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    return result.exit_code, result.stderr


def refused_with_one_problem(tmp_path: Path, data: dict[str, Any], path: str, words: str) -> None:
    """`caseflow validate` refuses `data` with exactly one problem, at `path`, naming `words`."""
    code, problems = validate_via_cli(tmp_path, data)
    assert code == 1, problems
    lines = problems.splitlines()
    assert len(lines) == 1, problems  # one problem, no follow-on noise
    assert re.match(rf"^\S*scenario\.yaml:\d+: {re.escape(path)}: ", lines[0]), problems
    assert words in lines[0], problems


@dataclass(frozen=True)
class WatchPlan:
    """A feature that watches states and does nothing: their moves become SimPy events."""

    watched: frozenset[int]
    key: str = "watch"

    def open(self, run: Any, slot: int) -> Watcher:
        return Watcher(self.watched, slot)


class Watcher(Feature):
    """The replication's side of `WatchPlan`."""

    def __init__(self, states: frozenset[int], slot: int) -> None:
        self.states = states
        self.spells = False
        self.slot = slot


def watching(model: sim.Model, states: Sequence[int] | frozenset[int]) -> sim.Model:
    """The model with one more feature, watching `states` and acting on nothing."""
    return dataclasses.replace(model, features=(*model.features, WatchPlan(frozenset(states))))
