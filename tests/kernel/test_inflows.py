"""Poisson inflows with seasonality and trend: monthly arrival counts against their closed form."""

from __future__ import annotations

import datetime as dt

import numpy as np

import sim
from sim.kernel.inflows import draw_arrivals
from sim.kernel.model import compile_model
from sim.kernel.streams import Streams

SEASON = [1.4, 1.2, 1.1, 1.0, 0.9, 0.8, 0.6, 0.8, 1.0, 1.1, 1.2, 1.3]


def test_monthly_arrivals_follow_rate_seasonality_and_trend() -> None:
    model = compile_model(sim.scenario_from_dict({
        "name": "inflow", "start": dt.date(2018, 1, 1), "months": 24,
        "states": {"sygedagpenge": {}},
        "inflow_per_week": {"sygedagpenge": {"rate": 30, "seasonality": SEASON, "trend_per_year": 0.10}},
        "transitions": {"sygedagpenge": [{"to": "job", "rate_per_week": 0.1}]},
    }))
    edges = np.array([(dt.date(2018 + m // 12, m % 12 + 1, 1) - dt.date(2018, 1, 1)).days for m in range(25)])
    days = np.diff(edges)
    mid_years = (edges[:-1] + days / 2) / 365.25
    expected = 30 / 7 * days * np.array(SEASON * 2) * 1.10 ** mid_years  # Poisson mean per month
    runs = 400
    counts = np.zeros((runs, 24))
    for r, seed in enumerate(np.random.SeedSequence(2018).spawn(runs)):
        times, states, ranks = draw_arrivals(model, Streams(seed))
        assert (np.diff(times) >= 0).all() and set(states.tolist()) == {0}
        assert ranks.tolist() == list(range(len(times)))
        counts[r] = np.histogram(times, bins=edges)[0]
    se = np.sqrt(expected / runs)  # Poisson: variance = mean
    z = np.abs(counts.mean(axis=0) - expected) / se
    assert z.max() < 4, z.round(1)
    assert abs(counts.var(axis=0, ddof=1).mean() / expected.mean() - 1) < 0.1  # Poisson dispersion
