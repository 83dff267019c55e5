"""The deterministic twin of the engine: expected persons by state and days in the state.

Each state holds a vector of persons by whole days in the state, to its last band edge or clock
(the last day holding every later one); every day the same piecewise-constant hazards, forced
clocks and monthly inflows as the simulation move them (competing risks exact within the day;
arrivals come at uniform times within their first day), in a loop compiled by numba: a fit calls
the twin hundreds of times. The
expected person-days per month and moves per month that come out are what the simulation's
means converge to, up to day rounding of band edges and clocks; calibration fits to these,
so what is fitted is what is simulated. Interventions and caseworker meetings are not in
the twin: their effects come on top of the fitted rates.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numba
import numpy as np

from sim.kernel.hazards import STAY_HERE, ExitSchedule
from sim.kernel.model import Model


@dataclass(frozen=True)
class Expectation:
    """Expected person-days and moves per month of a model, as the engine's ledger books them."""

    person_days: np.ndarray
    """[state, month], states as in `Model.codes` (benefits, then exits)."""
    flows: np.ndarray
    """Moves [origin (last = outside), destination, month]."""
    stock_end: np.ndarray
    """Persons in each state at the end of each month."""


@dataclass(frozen=True)
class _Grid:
    """Per-state, per-day hazard arrays padded to a common number of days-in-state buckets."""

    leave: np.ndarray
    """[state, day] probability of leaving within the day."""
    band_of: np.ndarray
    """[state, day] index into the flattened (state, band) list."""
    band_split: np.ndarray
    """[band, destination] share of each destination among the band's exits."""
    clocks: list[tuple[int, int, np.ndarray, float]]
    """(state, day, destination shares of those moved, share that stays)."""


def _day_rates(schedule: ExitSchedule, days: int) -> tuple[np.ndarray, np.ndarray]:
    """Total hazard per day and band index for days 0..days-1 in the state (edges rounded to days)."""
    starts = np.round(np.asarray(schedule.edges)).astype(int)
    band = np.searchsorted(starts, np.arange(days), side="right") - 1
    return np.asarray(schedule.totals)[band], band


def _grid(model: Model) -> tuple[_Grid, int]:
    """The model's hazards on a grid of whole days in the state."""
    n = model.n_states
    cuts = [0.0]
    for s in model.schedules:
        if s is not None:
            cuts += [*s.edges, *s.clock_days]
    days = math.ceil(max(cuts)) + 2
    leave = np.zeros((n, days))
    band_of = np.zeros((n, days), dtype=int)
    splits: list[np.ndarray] = []
    clocks: list[tuple[int, int, np.ndarray, float]] = []
    for state, schedule in enumerate(model.schedules):
        first = len(splits)
        if schedule is None:
            splits.append(np.zeros(n))
            band_of[state] = first
            continue
        rates, band = _day_rates(schedule, days)
        leave[state] = -np.expm1(-rates)
        band_of[state] = first + band
        for dests, cum in zip(schedule.dests, schedule.cum_probs, strict=True):
            split = np.zeros(n)
            split[list(dests)] = np.diff(np.concatenate([[0.0], cum]))
            splits.append(split)
        for clock in schedule.clocks:
            shares = np.zeros(n)
            prev = 0.0
            for dest, upto in zip(clock.dests, clock.cum_shares, strict=True):
                if dest != STAY_HERE:
                    shares[dest] += upto - prev
                prev = upto
            clocks.append((state, round(clock.day), shares, clock.stay_share))
    return _Grid(leave, band_of, np.array(splits), clocks), days


def _initial(model: Model, days: int) -> np.ndarray:
    """The initial stock by day in the state: given bands, else the steady state (density ∝ survival),
    the same distribution the engine draws elapsed durations from."""
    out = np.zeros((model.n_states, days))
    given = model.scenario.initial
    for s, code in enumerate(model.codes):
        count = float(given.get(code, 0.0))  # unrounded, so that a fitted stock moves the twin smoothly
        if count == 0:
            continue
        bands = model.initial_bands[s]
        if bands is not None:
            edges = np.arange(days + 1, dtype=float)
            weight = np.zeros(days)
            for lo, hi, share in zip(bands.lo, bands.hi, bands.shares, strict=True):
                overlap = np.clip(np.minimum(edges[1:], hi) - np.maximum(edges[:-1], lo), 0.0, None)
                weight += share * overlap / (hi - lo)
            weight[-1] += max(0.0, 1.0 - weight.sum())
        else:
            schedule = model.schedules[s]
            assert schedule is not None
            area = schedule.survival_area(np.arange(days, dtype=float))
            weight = np.diff(np.append(area, schedule.mean_stay()))  # ∫ S over each day, the last open
        out[s] = count * weight / weight.sum()
    return out


def expect(model: Model) -> Expectation:
    """Expected person-days, moves and end-of-month stocks over the model's horizon."""
    grid, days = _grid(model)
    n_states, months = model.n_states, model.calendar.months
    stock = _initial(model, days)
    month_of_day = np.repeat(np.arange(months), model.calendar.days.astype(int))
    survive0, credit0, split0 = _first_day(grid)
    n_clocks = len(grid.clocks)
    clock_state = np.array([c[0] for c in grid.clocks], dtype=np.int64)
    clock_day = np.array([c[1] for c in grid.clocks], dtype=np.int64)
    clock_shares = np.array([c[2] for c in grid.clocks]).reshape(n_clocks, n_states)
    clock_stay = np.array([c[3] for c in grid.clocks], dtype=float)
    widths = np.array([_width(schedule) for schedule in model.schedules], dtype=np.int64)
    for state, width in enumerate(widths.tolist()):  # past its last edge and clock a state's days are alike
        stock[state, width - 1] = stock[state, width - 1:].sum()
        stock[state, width:] = 0.0
    days_out: tuple[np.ndarray, np.ndarray, np.ndarray] = _days(
        np.ascontiguousarray(stock), widths, grid.leave, grid.band_of.astype(np.int64), grid.band_split,
        clock_state, clock_day, clock_shares, clock_stay, month_of_day.astype(np.int64),
        np.ascontiguousarray(model.inflow_per_day[:, :months], dtype=float), survive0, credit0, split0,
        months)
    return Expectation(*days_out)


def _first_day(grid: _Grid) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Arrivals come at uniform times within their first day: per state the share that survives it
    and their person-days that day (both → 1 and 1/2 as the hazard → 0), and where the others go."""
    first = grid.leave[:, 0]
    rate0 = -np.log1p(-np.minimum(first, 1 - 1e-15))
    with np.errstate(divide="ignore", invalid="ignore"):
        survive0 = np.where(rate0 > 0, first / rate0, 1.0)
        credit0 = np.where(rate0 > 0, (1.0 - survive0) / rate0, 0.5)
    return survive0, credit0, grid.band_split[grid.band_of[:, 0]]


def _width(schedule: ExitSchedule | None) -> int:
    """Days in the state the recurrence follows one by one: to its last band edge or clock, then
    one for all later days (their hazard is the last band's, and no clock comes)."""
    cuts = [0.0, *schedule.edges, *schedule.clock_days] if schedule is not None else [0.0]
    return math.ceil(max(cuts)) + 2


@numba.njit(cache=True)
def _days(stock: np.ndarray, widths: np.ndarray, leave: np.ndarray, band_of: np.ndarray,
          band_split: np.ndarray, clock_state: np.ndarray, clock_day: np.ndarray, clock_shares: np.ndarray,
          clock_stay: np.ndarray,
          month_of_day: np.ndarray, inflow: np.ndarray, survive0: np.ndarray, credit0: np.ndarray,
          split0: np.ndarray, months: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # pragma: no cover
    """The day-by-day recurrence, compiled: every day each state's persons by day in the state
    leave by that day's hazard, move to their bands' destinations (arriving there the same day,
    at uniform times), age a day, and are struck by the clocks due; yesterday's arrivals who left
    within their first day arrive in their destinations today. `stock` [state, day in state] is
    updated in place; state s uses its first `widths[s]` days, the last holding every later one."""
    n = stock.shape[0]
    n_bands = band_split.shape[0]
    person_days = np.zeros((n, months))
    flows = np.zeros((n + 1, n, months))
    stock_end = np.zeros((n, months))
    moves = np.zeros((n, n))
    by_band = np.zeros(n_bands)
    arriving = np.zeros(n)
    carried_in = np.zeros(n)  # yesterday's arrivals who left within their first day, by destination
    for day in range(len(month_of_day)):
        month = month_of_day[day]
        moves[:, :] = 0.0
        for s in range(n):
            width = widths[s]
            held = 0.0
            gone = 0.0
            for b in range(n_bands):
                by_band[b] = 0.0
            for d in range(width):
                x = stock[s, d]
                out = x * leave[s, d]
                held += x
                gone += out
                by_band[band_of[s, d]] += out
                stock[s, d] = x - out
            for b in range(n_bands):
                if by_band[b] != 0.0:
                    for j in range(n):
                        moves[s, j] += by_band[b] * band_split[b, j]
            last = stock[s, width - 1] + stock[s, width - 2]  # the last day in the state holds all later ones
            for d in range(width - 2, 0, -1):
                stock[s, d] = stock[s, d - 1]
            stock[s, width - 1] = last
            stock[s, 0] = 0.0
            person_days[s, month] += held - 0.5 * gone
        for j in range(n):
            total = carried_in[j] + inflow[j, month]
            for s in range(n):
                total += moves[s, j]
            arriving[j] = total
        for j in range(n):
            carried_in[j] = 0.0
        for s in range(n):
            person_days[s, month] += arriving[s] * credit0[s]
            left = arriving[s] * (1.0 - survive0[s])
            for j in range(n):
                carry = left * split0[s, j]
                carried_in[j] += carry
                moves[s, j] += carry
        for k in range(len(clock_state)):
            s = clock_state[k]
            struck = stock[s, clock_day[k]]
            stock[s, clock_day[k]] = struck * clock_stay[k]
            for j in range(n):
                stock[j, 0] += struck * clock_shares[k, j]
                moves[s, j] += struck * clock_shares[k, j]
        for s in range(n):
            stock[s, 0] += arriving[s] * survive0[s]
            flows[n, s, month] += inflow[s, month]
            for j in range(n):
                flows[s, j, month] += moves[s, j]
        if day + 1 == len(month_of_day) or month_of_day[day + 1] != month:
            for s in range(n):
                total = carried_in[s]
                for d in range(widths[s]):
                    total += stock[s, d]
                stock_end[s, month] = total
    return person_days, flows, stock_end
