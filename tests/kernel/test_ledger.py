"""The person-day ledger against a brute-force day count of the same stays."""

from __future__ import annotations

import datetime as dt

import numpy as np

from sim.contract.calendar import Calendar
from sim.kernel.ledger import Ledger


def brute_force(calendar: Calendar, stays: list[tuple[int, float, float]], n_states: int) -> np.ndarray:
    """Person-days by clipping each stay to each month, independently of the ledger's trick."""
    edges = calendar.edges
    out = np.zeros((n_states, calendar.months))
    for state, a, b in stays:
        for m in range(calendar.months):
            out[state, m] += max(0.0, min(b, edges[m + 1]) - max(a, edges[m]))
    return out


def test_person_days_split_exactly_at_month_boundaries() -> None:
    calendar = Calendar.build(dt.date(2020, 1, 1), 14)  # a leap February inside
    rng = np.random.default_rng(7)
    ledger = Ledger(calendar, 3)
    stays = []
    for _ in range(400):
        path_state = int(rng.integers(3))
        t = float(rng.uniform(0, calendar.horizon))
        ledger.arrive(path_state, t)
        while True:
            nxt = t + float(rng.exponential(60))
            if nxt >= calendar.horizon:
                stays.append((path_state, t, calendar.horizon))
                break
            dest = int(rng.integers(3))
            if dest == path_state:
                stays.append((path_state, t, calendar.horizon))
                break
            ledger.move(path_state, dest, nxt)
            stays.append((path_state, t, nxt))
            path_state, t = dest, nxt
    ledger.stock(1, 5)
    stays += [(1, 0.0, calendar.horizon)] * 5
    person_days, stock_end, flows = ledger.close()
    np.testing.assert_allclose(person_days, brute_force(calendar, stays, 3), rtol=0, atol=1e-6)
    alive_at_end = np.bincount([s for s, _, b in stays if b == calendar.horizon], minlength=3)
    assert stock_end[:, -1].tolist() == alive_at_end.tolist()
    assert flows[3].sum() == 400  # every arrival counted once, from outside


def test_calendar_knows_month_lengths_and_full_years() -> None:
    calendar = Calendar.build(dt.date(2018, 1, 1), 24)
    assert calendar.days[:3].tolist() == [31, 28, 31]
    assert calendar.days.sum() == 365 + 365
    assert calendar.labels[-1] == "2019-12"
    assert list(calendar.full_years()) == [2018, 2019]
    assert list(Calendar.build(dt.date(2018, 7, 1), 24).full_years()) == [2019]
