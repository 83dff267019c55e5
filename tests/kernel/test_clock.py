"""The clock's held places (`sim.kernel.clock`) and the compiled person-days of intervals
(`sim.kernel.ledger.interval_person_days`), each against an independent reckoning."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from simpy.events import Timeout

from sim.contract.calendar import Calendar
from sim.kernel.clock import Clock
from sim.kernel.ledger import interval_person_days


def _order(hold: set[int], times: list[float], release_at: float) -> list[int]:
    """The order events 0..n-1 at `times` are processed in when scheduled in turn at day 0, those in
    `hold` only taking their place then and put on the clock at `release_at`."""
    env, out, held = Clock(), [], []
    for i, t in enumerate(times):
        if i in hold:
            held.append((env.hold(t), i))
        else:
            Timeout(env, t, i).callbacks.append(lambda e: out.append(e.value))

    def release(_: object) -> None:
        for place, i in held:
            env.put(place, i).callbacks.append(lambda e: out.append(e.value))

    Timeout(env, release_at).callbacks.append(release)
    env.run()
    return out


def test_a_held_event_is_processed_in_the_place_it_took() -> None:
    """Ties on whole days decide by the order events were scheduled in: events held and put on the
    clock later keep the place they took, as if they had been scheduled at once."""
    rng = np.random.default_rng(3)
    for _ in range(50):
        n = 30
        times = rng.integers(2, 6, n).astype(float).tolist()
        hold = set(rng.choice(n, 10, replace=False).tolist())
        plain = sorted(range(n), key=lambda i: (times[i], i))  # time, then order scheduled
        assert _order(hold, times, 1.0) == plain
        assert _order(set(), times, 1.0) == plain


def test_a_held_event_is_not_put_in_the_past() -> None:
    env = Clock()
    place = env.hold(1.0)

    def late(_: object) -> None:
        env.put(place, None)

    Timeout(env, 2.0).callbacks.append(late)
    with pytest.raises(ValueError, match="held event"):
        env.run()


def _by_day(calendar: Calendar, n_rows: int, rows: np.ndarray, start: np.ndarray,
            end: np.ndarray) -> np.ndarray:
    """Person-days by counting: each interval's overlap with each month, month by month."""
    edges = np.asarray(calendar.edges)
    out = np.zeros((n_rows, calendar.months))
    for r, a, b in zip(rows, start, end, strict=True):
        for m in range(calendar.months):
            lo, hi = max(a, edges[m]), min(b, edges[m + 1])
            if hi > lo:
                out[r, m] += hi - lo
    return out


@pytest.mark.parametrize("whole", [True, False])
def test_interval_person_days_count_each_month_overlap(whole: bool) -> None:
    """Against the overlap of each interval with each month; intervals before, across and after the
    horizon, empty ones and ones not a number. Months off whole days take the searched path."""
    calendar = Calendar.build(dt.date(2018, 1, 1), 14)
    if not whole:
        shifted = tuple(e + 0.25 * (i > 0) for i, e in enumerate(calendar.edges))
        calendar = Calendar(calendar.start, calendar.months, shifted, calendar.labels)
    rng = np.random.default_rng(11)
    n = 2_000
    rows = rng.integers(0, 5, n)
    start = rng.uniform(-200.0, 500.0, n)
    end = start + rng.exponential(120.0, n)
    end[:50] = start[:50]  # empty
    start[50:60] = np.nan
    start[60:70] = calendar.edges[3]  # on a month's first day
    end[70:80] = calendar.edges[-1]
    got = interval_person_days(calendar, 5, rows, start, end)
    keep = ~np.isnan(start)
    want = _by_day(calendar, 5, rows[keep], start[keep], end[keep])
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-9)
