"""Elapsed durations at a restart: how long those in a state on the restart day have been there.

Implied by the model for the stock and its recent inflows, on a grid of whole days in the state.
Of those in state s on day T (the restart day, in days from the scenario's start), the ones who
entered d < T days earlier are the arrivals into s at T − d who are still there, a(T − d) · S(d),
where a is the arrivals per day into s from outside and from every other state (the
deterministic twin's moves, `sim.fitting.cohort`, or an observed inflow_count) and S the
survival in s under its hazards and clocks. The rest (d ≥ T) are the scenario's own initial
stock, aged by T: n₀ f₀(d − T) S(d) / S(d − T), with f₀ the stock's elapsed-duration density at
the start (the steady state S / mean stay, or the scenario's bands). This is what the model says
about this stock: the steady state alone would ignore that inflows rose or fell, and that the
initial stock has aged; the engine's own hazard effects (programmes, meetings) and dated rules
are not in it.

A snapshot gives them instead: persons by state and weeks-in-state band (`state, from_week,
to_week, persons`) or one row per person with the day the spell began (`state, entry`).
Either way the result is initial_durations bands, [from_week, to_week, share], cut at every
band edge and clock of the state's hazards and at the given weeks, and otherwise at quantiles.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

from sim.kernel.hazards import ExitSchedule
from sim.kernel.model import InitialBands

QUANTILE_BANDS = 32
"""Bands of equal share a state's implied distribution is cut into (besides its hazards' edges)."""
MAX_DAYS = 40_000
"""The longest elapsed duration kept, about 110 years (every real stay is shorter)."""
TAIL = 14.0
"""Mean stays of the last band's constant hazard kept beyond its start: e^−14 ≈ 1e-6 is left out."""

Band = tuple[float, float, float]
"""[from_week, to_week, share]."""


class SnapshotError(ValueError):
    """A snapshot that cannot be read as elapsed durations of the scenario's states."""


def survival(schedule: ExitSchedule, x: np.ndarray) -> np.ndarray:
    """S(x): the share of entrants still in the state x days after entering (clocks included)."""
    segs = schedule.segments()
    start = np.array([a for a, _, _, _ in segs])
    width = np.array([w for _, w, _, _ in segs])
    rate = np.array([r for _, _, r, _ in segs])
    surv = np.array([s for _, _, _, s in segs])
    k = np.maximum(np.searchsorted(start, x, side="right") - 1, 0)
    inside = (x - start[k]) < width[k]
    return np.where(inside, surv[k] * np.exp(-rate[k] * (x - start[k])), 0.0)


def reach(schedule: ExitSchedule) -> float:
    """Elapsed days beyond which (practically) nobody is still in the state: where a clock empties
    it, else TAIL mean stays of the last hazard past its start; inf when nobody ever leaves."""
    start, width, rate, _ = schedule.segments()[-1]
    if math.isfinite(width):
        return start + width
    return start + TAIL / rate if rate > 0 else math.inf


def stop_day(schedule: ExitSchedule) -> float | None:
    """The elapsed day from which nobody ever leaves (the hazard is 0 and no clock is left), or
    None: for an exit with routes back, those beyond it will never return."""
    start, width, rate, _ = schedule.segments()[-1]
    return start if math.isinf(width) and rate == 0.0 else None


def implied_weights(schedule: ExitSchedule, cut: int, arrivals: np.ndarray, stock: float,
                    bands: InitialBands | None) -> np.ndarray:
    """Expected persons in the state on day `cut` by whole days in it, [0, 1), [1, 2), …

    `arrivals` is the arrivals per day into the state on each day 0 … cut − 1; `stock` and
    `bands` the scenario's initial stock of the state and its elapsed-duration bands (days; None:
    the steady state)."""
    if bands is not None:
        oldest = cut + float(np.max(bands.hi))
    else:
        oldest = cut + reach(schedule) if stock > 0 else float(cut)
    days = int(min(math.ceil(min(oldest, cut + MAX_DAYS)), cut + MAX_DAYS))
    x = np.arange(days) + 0.5
    s = survival(schedule, x)
    out = np.zeros(days)
    out[:cut] = arrivals[::-1][:cut] * s[:cut]
    if stock > 0 and days > cut:
        aged = x[cut:] - cut
        if bands is None:
            out[cut:] = stock * s[cut:] / schedule.mean_stay()
        else:
            density = np.zeros(len(aged))
            for lo, hi, share in zip(bands.lo, bands.hi, bands.shares / bands.shares.sum(), strict=True):
                density += np.where((aged >= lo) & (aged < hi), share / (hi - lo), 0.0)
            before = survival(schedule, aged)
            with np.errstate(divide="ignore", invalid="ignore"):
                out[cut:] = np.where(before > 0, stock * density * s[cut:] / before, 0.0)
    return out


def to_bands(weights: np.ndarray, cuts: Iterable[float], quantiles: int = QUANTILE_BANDS
             ) -> tuple[Band, ...] | None:
    """initial_durations bands from persons by whole days in the state: edges at `cuts` (days,
    rounded) and at `quantiles` equal shares; None when nobody is there."""
    total = float(weights.sum())
    positive = np.flatnonzero(weights > 0)
    if total <= 0 or len(positive) == 0:
        return None
    first, last = int(positive[0]), int(positive[-1]) + 1
    share = np.cumsum(weights) / total
    at = np.searchsorted(share, np.arange(1, quantiles) / quantiles) + 1
    edges = sorted({first, last, *(round(c) for c in cuts), *(int(a) for a in at)})
    edges = [e for e in edges if first <= e <= last]
    out = []
    for a, b in itertools.pairwise(edges):
        part = float(weights[a:b].sum())
        if part > 0:
            out.append((round(a / 7.0, 6), round(b / 7.0, 6), part / total))
    return tuple(out)


def _number(value: object, what: str, row: int) -> float:
    try:
        x = float(str(value).replace(",", "."))
    except ValueError:
        raise SnapshotError(f"row {row}: {what} {value!r} is not a number") from None
    if not math.isfinite(x) or x < 0:
        raise SnapshotError(f"row {row}: {what} {value!r} is not allowed; give a number of 0 or more")
    return x


def snapshot_durations(frame: pd.DataFrame, states: Iterable[str], restart: dt.date,
                       cuts: Mapping[str, Iterable[float]]) -> dict[str, tuple[Band, ...]]:
    """Each state's elapsed-duration bands on the `restart` day from a snapshot: persons by band
    (columns state, from_week, to_week and persons or share) or by spell start (state, entry: a
    date before the restart day). `cuts` gives each state's edges in days for person rows."""
    frame = frame.rename(columns=lambda c: str(c).strip().lower())
    known = list(states)
    if "state" not in frame.columns:
        raise SnapshotError("a snapshot needs a state column, and either from_week, to_week and "
                            "persons (persons by weeks in the state) or entry (one row per person, "
                            "the day the spell began)")
    by_band = {"from_week", "to_week"} <= set(frame.columns)
    amount = "persons" if "persons" in frame.columns else "share" if "share" in frame.columns else None
    if (not by_band and "entry" not in frame.columns) or (by_band and amount is None):
        raise SnapshotError("a snapshot has columns state, from_week, to_week and persons (or share), "
                            "or state and entry (the day each person's spell began)")
    weights: dict[str, list[tuple[float, float, float]]] = {}
    elapsed: dict[str, list[int]] = {}
    for i, row in enumerate(frame.to_dict("records")):
        line, code = i + 2, str(row["state"]).strip()
        if code not in known:
            raise SnapshotError(f"row {line}: state {code!r} is not a benefit state of the scenario "
                                f"({', '.join(known)})")
        if by_band:
            lo, hi = _number(row["from_week"], "from_week", line), _number(row["to_week"], "to_week", line)
            if hi <= lo:
                raise SnapshotError(f"row {line}: to_week {hi:g} must be above from_week {lo:g}")
            assert amount is not None
            weights.setdefault(code, []).append((lo, hi, _number(row[amount], amount, line)))
            continue
        try:
            entry = pd.Timestamp(str(row["entry"]).strip()).date()
        except ValueError:
            raise SnapshotError(f"row {line}: entry {row['entry']!r} is not a date like 2018-03-14") from None
        if entry >= restart:
            raise SnapshotError(f"row {line}: entry {entry} is not before the restart day {restart}; a "
                                "snapshot holds those on the benefit when the forecast starts")
        elapsed.setdefault(code, []).append((restart - entry).days)
    out: dict[str, tuple[Band, ...]] = {}
    for code, given in weights.items():
        given.sort()
        total = sum(p for _, _, p in given)
        for (_, hi, _), (lo, _, _) in itertools.pairwise(given):
            if lo < hi:
                raise SnapshotError(f"{code}: the snapshot's bands overlap (one starts at week {lo:g}, "
                                    f"inside one ending at week {hi:g})")
        if total <= 0:
            raise SnapshotError(f"{code}: the snapshot has no persons")
        out[code] = tuple((lo, hi, p / total) for lo, hi, p in given if p > 0)
    for code, days in elapsed.items():
        counts = np.bincount(np.asarray(days) - 1)
        found = to_bands(counts.astype(float), cuts.get(code, ()))
        assert found is not None
        out[code] = found
    return out
