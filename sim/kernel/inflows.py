"""Poisson arrivals per state, exact for an intensity that is constant within each month."""

from __future__ import annotations

import numpy as np

from sim.kernel.model import Model
from sim.kernel.streams import ARRIVALS, Streams, state_key


def draw_arrivals(model: Model, streams: Streams) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All arrival days, states and ranks within their state of one replication, in time order.

    Each state's arrivals come from its own stream, so changing one state's inflow leaves every
    other state's arrivals as they were.
    """
    edges = np.asarray(model.calendar.edges)
    days = np.diff(edges)
    times: list[np.ndarray] = []
    states: list[np.ndarray] = []
    ranks: list[np.ndarray] = []
    for s, code in enumerate(model.codes):
        mean = model.inflow_per_day[s] * days
        if not mean.any():
            continue
        rng = streams.generator(ARRIVALS, state_key(code))
        counts = rng.poisson(mean)
        months = np.repeat(np.arange(len(days)), counts)
        t = np.sort(edges[months] + rng.random(counts.sum()) * days[months])
        times.append(t)
        states.append(np.full(len(t), s))
        ranks.append(np.arange(len(t)))
    if not times:
        return np.zeros(0), np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    day, state, rank = np.concatenate(times), np.concatenate(states), np.concatenate(ranks)
    order = np.argsort(day, kind="stable")
    return day[order], state[order].astype(np.int64), rank[order].astype(np.int64)
