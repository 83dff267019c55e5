"""The deterministic twin of the engine: expected persons by state and days in the state.

Each state holds a vector of persons by whole days in the state; every day the same
piecewise-constant hazards, forced clocks and monthly inflows as the simulation move them
(competing risks exact within the day; arrivals come at uniform times within their first day). The
expected person-days per month and moves per month that come out are what the simulation's
means converge to, up to day rounding of band edges and clocks; calibration fits to these,
so what is fitted is what is simulated. Interventions and caseworker meetings are not in
the twin: their effects come on top of the fitted rates.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

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
    band_origin: np.ndarray
    """[band] origin state of each flattened band."""
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
    origins: list[int] = []
    clocks: list[tuple[int, int, np.ndarray, float]] = []
    for state, schedule in enumerate(model.schedules):
        first = len(splits)
        if schedule is None:
            splits.append(np.zeros(n))
            origins.append(state)
            band_of[state] = first
            continue
        rates, band = _day_rates(schedule, days)
        leave[state] = -np.expm1(-rates)
        band_of[state] = first + band
        for dests, cum in zip(schedule.dests, schedule.cum_probs, strict=True):
            split = np.zeros(n)
            split[list(dests)] = np.diff(np.concatenate([[0.0], cum]))
            splits.append(split)
            origins.append(state)
        for clock in schedule.clocks:
            shares = np.zeros(n)
            prev = 0.0
            for dest, upto in zip(clock.dests, clock.cum_shares, strict=True):
                if dest != STAY_HERE:
                    shares[dest] += upto - prev
                prev = upto
            clocks.append((state, round(clock.day), shares, clock.stay_share))
    return _Grid(leave, band_of, np.array(splits), np.array(origins), clocks), days


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
    person_days = np.zeros((n_states, months))
    flows = np.zeros((n_states + 1, n_states, months))
    stock_end = np.zeros((n_states, months))
    flat_band = grid.band_of.ravel()
    n_bands = len(grid.band_origin)
    origin_of = np.zeros((n_states, n_bands))
    origin_of[grid.band_origin, np.arange(n_bands)] = 1.0
    # Arrivals come at uniform times within their first day: the share that survives it and
    # their person-days that day (both → 1 and 1/2 as the hazard → 0), and where the others go.
    first = grid.leave[:, 0]
    rate0 = -np.log1p(-np.minimum(first, 1 - 1e-15))
    with np.errstate(divide="ignore", invalid="ignore"):
        survive0 = np.where(rate0 > 0, first / rate0, 1.0)
        credit0 = np.where(rate0 > 0, (1.0 - survive0) / rate0, 0.5)
    split0 = grid.band_split[grid.band_of[:, 0]]
    carried = np.zeros((n_states, n_states))  # moves of yesterday's arrivals who left within the day
    for day, month in enumerate(month_of_day):
        out = stock * grid.leave
        by_band = np.bincount(flat_band, weights=out.ravel(), minlength=n_bands)
        moves = origin_of @ (by_band[:, None] * grid.band_split)
        survivors = stock - out
        aged = np.zeros_like(stock)
        aged[:, 1:] = survivors[:, :-1]
        aged[:, -1] += survivors[:, -1]
        inflow = model.inflow_per_day[:, month]
        arriving = moves.sum(axis=0) + carried.sum(axis=0) + inflow
        carried = (arriving * (1.0 - survive0))[:, None] * split0
        person_days[:, month] += stock.sum(axis=1) - 0.5 * out.sum(axis=1) + arriving * credit0
        moves += carried
        for state, at, shares, stay in grid.clocks:
            struck = aged[state, at]
            aged[state, at] = struck * stay
            aged[:, 0] += struck * shares
            moves[state] += struck * shares
        aged[:, 0] += arriving * survive0
        flows[:n_states, :, month] += moves
        flows[n_states, :, month] += inflow
        stock = aged
        if day + 1 == len(month_of_day) or month_of_day[day + 1] != month:
            stock_end[:, month] = stock.sum(axis=1) + carried.sum(axis=0)
    return Expectation(person_days, flows, stock_end)
