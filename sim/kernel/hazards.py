"""Competing exit routes of one state: piecewise-constant hazards in weeks-in-state, forced clocks.

Sampling is exact: one standard exponential is spent against the cumulative hazard, walking
band edges (equivalent to redrawing at each edge, by memorylessness), and a clock stops the
walk at its week. Times here are in days in the state.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from dataclasses import dataclass, field

import numpy as np

from sim.contract.catalogue import STAY
from sim.contract.schema import Route
from sim.kernel.timebase import TOLERANCE_DAYS

STAY_HERE = -1
"""Destination of a clock share that keeps the citizen in its state."""


@dataclass(frozen=True, slots=True)
class Clock:
    """A forced move at a fixed time in the state, split by shares over destinations."""

    day: float
    dests: tuple[int, ...]
    cum_shares: tuple[float, ...]

    @property
    def stay_share(self) -> float:
        """The share that stays in the state past the clock."""
        prev = 0.0
        for dest, cum in zip(self.dests, self.cum_shares, strict=True):
            if dest == STAY_HERE:
                return cum - prev
            prev = cum
        return 0.0

    def pick(self, u: float) -> int:
        """The destination for a uniform draw `u`."""
        for dest, cum in zip(self.dests, self.cum_shares, strict=True):
            if u < cum:
                return dest
        return self.dests[-1]


@dataclass(frozen=True, slots=True)
class ExitSchedule:
    """All the ways out of one state: bands of total hazard with route splits, and clocks."""

    edges: tuple[float, ...]
    """Start day of each band in the state; the first is 0, the last band is open-ended."""
    totals: tuple[float, ...]
    """Total hazard per day in each band."""
    dests: tuple[tuple[int, ...], ...]
    """Destinations with a positive hazard in each band."""
    cum_probs: tuple[tuple[float, ...], ...]
    """Cumulative share of each destination of the band's total hazard."""
    clocks: tuple[Clock, ...]
    """Forced clocks, by day."""
    clock_days: tuple[float, ...] = ()
    """Days in the state at which clocks strike."""
    constant: float = 0.0
    """The total hazard when it is one constant band and there are no clocks, else 0."""
    ends: tuple[float, ...] = field(init=False)
    """End day of each band (inf for the last): `next_exit`'s walk, made once."""
    clock_at: tuple[float, ...] = field(init=False)
    """`clock_days` and inf after them."""
    first_clock: int = field(init=False)
    """The first clock still to strike on the day of entry."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "ends", (*self.edges[1:], math.inf))
        object.__setattr__(self, "clock_at", (*self.clock_days, math.inf))
        object.__setattr__(self, "first_clock", bisect_right(self.clock_days, 0.0))

    @classmethod
    def build(cls, routes: list[tuple[int, tuple[tuple[float, float], ...]]],
              clocks: list[Clock]) -> ExitSchedule:
        """Merge routes given as (destination, [(from_week, rate_per_week), …]) into bands."""
        edges = sorted({w * 7.0 for _, bands in routes for w, _ in bands} | {0.0})
        totals, dests, cums = [], [], []
        for e in edges:
            rates = []
            for dest, bands in routes:
                rate = next(r for w, r in reversed(bands) if w * 7.0 <= e) / 7.0
                if rate > 0:
                    rates.append((dest, rate))
            total = sum(r for _, r in rates)
            totals.append(total)
            dests.append(tuple(d for d, _ in rates))
            acc, cum = 0.0, []
            for _, r in rates:
                acc += r
                cum.append(acc / total)
            if cum:
                cum[-1] = 1.0  # so a uniform draw in [0, 1) always finds its route
            cums.append(tuple(cum))
        ordered = tuple(sorted(clocks, key=lambda c: c.day))
        constant = totals[0] if len(edges) == 1 and not ordered else 0.0
        return cls(tuple(edges), tuple(totals), tuple(dests), tuple(cums), ordered,
                   tuple(c.day for c in ordered), constant)

    def scaled(self, ratios: dict[int, float]) -> ExitSchedule:
        """The same routes with the hazard to each destination in `ratios` multiplied by its ratio."""
        totals, dests, cums = [], [], []
        for total, band_dests, band_cum in zip(self.totals, self.dests, self.cum_probs, strict=True):
            prev, rates = 0.0, []
            for d, c in zip(band_dests, band_cum, strict=True):
                rates.append((d, total * (c - prev) * ratios.get(d, 1.0)))
                prev = c
            rates = [(d, r) for d, r in rates if r > 0]
            new_total = sum(r for _, r in rates)
            acc, cum = 0.0, []
            for _, r in rates:
                acc += r
                cum.append(acc / new_total)
            if cum:
                cum[-1] = 1.0
            totals.append(new_total)
            dests.append(tuple(d for d, _ in rates))
            cums.append(tuple(cum))
        constant = totals[0] if len(self.edges) == 1 and not self.clocks else 0.0
        return ExitSchedule(self.edges, tuple(totals), tuple(dests), tuple(cums), self.clocks,
                            self.clock_days, constant)

    def with_clock_days(self, days: tuple[float, ...]) -> ExitSchedule:
        """The same hazards with each clock at its day in `days` (in the order of `clocks`; inf
        drops the clock; a clock already due strikes at once)."""
        moved = sorted((Clock(max(d, TOLERANCE_DAYS), c.dests, c.cum_shares)
                        for c, d in zip(self.clocks, days, strict=True) if d < math.inf),
                       key=lambda c: c.day)
        clocks = tuple(moved)
        constant = self.totals[0] if len(self.edges) == 1 and not clocks else 0.0
        return ExitSchedule(self.edges, self.totals, self.dests, self.cum_probs, clocks,
                            tuple(c.day for c in clocks), constant)

    def next_exit(self, elapsed: float, e: float, u: float) -> tuple[float, int] | None:
        """Day in the state of the next exit after `elapsed` and its destination, or None if never.

        `e` is a standard exponential draw, `u` a uniform one. A clock's `STAY_HERE` is returned
        as such: the caller redraws from the clock with fresh numbers.
        """
        if self.constant:
            return elapsed + e / self.constant, self.dests[0][bisect_right(self.cum_probs[0], u)]
        if elapsed == 0.0:  # on entry: the first band (the first edge is day 0)
            k, c = 0, self.first_clock
        else:
            k, c = bisect_right(self.edges, elapsed) - 1, bisect_right(self.clock_days, elapsed)
        ends, totals, clock_day = self.ends, self.totals, self.clock_at[c]
        d = elapsed
        while True:
            end = ends[k]
            cap = end if end < clock_day else clock_day
            rate = totals[k]
            if rate > 0.0:
                t = d + e / rate
                if t < cap:
                    return t, self.dests[k][bisect_right(self.cum_probs[k], u)]
                e -= rate * (cap - d)
            if cap == math.inf:
                return None
            if cap == clock_day:
                return clock_day, self.clocks[c].pick(u)
            d = cap
            k += 1

    def segments(self) -> list[tuple[float, float, float, float]]:
        """(start day, width or inf, total hazard, survival at start) for the survival curve."""
        cuts = sorted(set(self.edges) | set(self.clock_days))
        out, surv = [], 1.0
        clocks = {c.day: c for c in self.clocks}
        for i, start in enumerate(cuts):
            if start in clocks:
                surv *= clocks[start].stay_share
            if surv <= 0.0:
                break
            width = cuts[i + 1] - start if i + 1 < len(cuts) else math.inf
            rate = self.totals[bisect_right(self.edges, start) - 1]
            out.append((start, width, rate, surv))
            surv *= math.exp(-rate * width) if width < math.inf else 0.0
        return out

    def mean_stay(self) -> float:
        """Expected days in the state from entry (the survival integral); inf if unbounded."""
        return sum(_seg_area(w, r, s) for _, w, r, s in self.segments())

    def survival_area(self, t: np.ndarray) -> np.ndarray:
        """∫₀ᵗ S(u) du for each day t in the state: expected days spent there by then, per entrant."""
        segs = self.segments()
        start = np.array([a for a, _, _, _ in segs])
        width = np.array([w for _, w, _, _ in segs])
        rate = np.array([r for _, _, r, _ in segs])
        surv = np.array([s for _, _, _, s in segs])
        before = np.concatenate([[0.0], np.cumsum([_seg_area(w, r, s) for _, w, r, s in segs])[:-1]])
        k = np.searchsorted(start, t, side="right") - 1
        d = np.minimum(t - start[k], width[k])
        with np.errstate(divide="ignore", invalid="ignore"):
            part = np.where(rate[k] > 0, surv[k] * -np.expm1(-rate[k] * d) / rate[k], surv[k] * d)
        return np.asarray(before[k] + part)

    def stationary_elapsed_many(self, u1: np.ndarray, u2: np.ndarray) -> np.ndarray:
        """Vectorised `stationary_elapsed` for arrays of uniform draws."""
        if self.constant:  # one open band from day 0: the general formula's open end, term for term
            return np.asarray(0.0 - np.log1p(-u2) / self.constant)
        segs = self.segments()
        areas = np.array([_seg_area(w, r, s) for _, w, r, s in segs])
        start = np.array([a for a, _, _, _ in segs])
        width = np.array([w for _, w, _, _ in segs])
        rate = np.array([r for _, _, r, _ in segs])
        cum = np.cumsum(areas)
        k = np.minimum(np.searchsorted(cum, u1 * cum[-1], side="right"), len(segs) - 1)
        w, r = width[k], rate[k]
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            finite = start[k] - np.log1p(-u2 * -np.expm1(-r * w)) / r
            open_end = start[k] - np.log1p(-u2) / r
            flat = start[k] + u2 * w
        return np.where(r == 0.0, flat, np.where(np.isinf(w), open_end, finite))

    def stationary_elapsed(self, u1: float, u2: float) -> float:
        """Elapsed days of a stock member at steady state (density ∝ survival), by inversion."""
        return float(self.stationary_elapsed_many(np.array([u1]), np.array([u2]))[0])


def _seg_area(width: float, rate: float, surv: float) -> float:
    if rate == 0.0:
        return surv * width
    if width == math.inf:
        return surv / rate
    return surv * -math.expm1(-rate * width) / rate


def schedule_from_routes(routes: tuple[Route, ...], index: dict[str, int]) -> ExitSchedule:
    """Compile a state's routes from the scenario, destinations numbered by `index`."""
    rated = [(index[r.to], r.rates) for r in routes
             if r.rate_per_week is not None or r.mean_weeks is not None]
    by_week: dict[float, list[tuple[int, float | str]]] = {}
    for r in routes:
        if r.at_week is not None and r.share is not None:
            by_week.setdefault(r.at_week, []).append(
                (STAY_HERE if r.to == STAY else index[r.to], r.share))
    clocks = []
    for week, shares in by_week.items():
        fixed = sum(float(s) for _, s in shares if s != "rest")
        acc, dests, cums = 0.0, [], []
        for dest, share in shares:
            acc += max(0.0, 1.0 - fixed) if share == "rest" else float(share)
            dests.append(dest)
            cums.append(acc)
        if acc < 1.0:  # a clock whose shares sum below 1 without a rest route cannot load
            cums[-1] = 1.0
        clocks.append(Clock(week * 7.0, tuple(dests), tuple(cums)))
    return ExitSchedule.build(rated, clocks)
