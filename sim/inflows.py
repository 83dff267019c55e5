"""Poisson arrivals per state, exact for an intensity that is constant within each month."""

from __future__ import annotations

import numpy as np

from sim.model import Model


def draw_arrivals(model: Model, rng: np.random.Generator) -> tuple[list[float], list[int]]:
    """All arrival days and states of one replication, in time order."""
    edges = np.asarray(model.calendar.edges)
    days = np.diff(edges)
    counts = rng.poisson(model.inflow_per_day * days)  # [state, month]
    flat = counts.ravel()
    n_months = len(days)
    states = np.repeat(np.arange(counts.shape[0]).repeat(n_months), flat)
    months = np.repeat(np.tile(np.arange(n_months), counts.shape[0]), flat)
    times = edges[months] + rng.random(flat.sum()) * days[months]
    order = np.argsort(times, kind="stable")
    return times[order].tolist(), states[order].tolist()
