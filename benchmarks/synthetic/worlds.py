"""Synthetic municipalities with a known truth, simulated exactly and independently of the engine.

A world is a handful of benefit states, each with duration-dependent exit hazards (piecewise
constant in weeks in the state, one rate per band and destination), possibly a forced clock (a
week at which every spell still running ends, split between destinations by fixed shares, a
`stay` share continuing), and an inflow from outside public support that is Poisson with a
constant intensity within each calendar month: weekly rate × the month's seasonal factor ×
(1 + trend) ** (years from the scenario's start to the month's middle), with a year of 365.25
days. That is the arithmetic a scenario file's `inflow_per_week` block states, so a scenario
with the world's structure is the right model of it (`sim.kernel` is not used to say so).

The simulation is exact: each spell's sojourn is drawn band by band from competing exponentials
(the total hazard of the band, then the destination in proportion to its rate), a clock strikes
at its exact week, and a move to another benefit state starts a new spell there at that instant.
It begins empty `burn_in_years` before the scenario's start, so the stock on the first day has
the elapsed-duration mix its own history gives it (the trend is held at its level of
`TREND_YEARS_BEFORE` years before the start for the earlier burn-in). Only numpy and pandas.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

EXITS = ("job", "education", "pension", "other")
"""Destinations off public support (absorbing in these worlds)."""
STAY = "stay"
"""A clock's share that keeps the spell going."""
YEAR_DAYS = 365.25
TREND_YEARS_BEFORE = 3.0
"""The inflow trend compounds back this many years before the start and is flat before that."""
STOCK = "full_year_persons"
INFLOW = "inflow_count"
INFLOW_OUTSIDE = "inflow_from_outside_count"
TOTAL = "total"


@dataclass(frozen=True)
class Route:
    """A hazard route: a rate per week for each band of the state's `edges`."""

    to: str
    rates: tuple[float, ...]


@dataclass(frozen=True)
class Clock:
    """A forced clock: spells still in the state at `week` leave by `shares` (a `stay` share stays)."""

    week: float
    shares: tuple[tuple[str, float], ...]


@dataclass(frozen=True)
class StateTruth:
    """One benefit state of a world: its hazards, clock and inflow from outside."""

    code: str
    edges: tuple[float, ...]
    """Band starts in weeks in the state, the first 0."""
    routes: tuple[Route, ...]
    clock: Clock | None
    inflow: float
    """Persons a week from outside at the scenario's start, before the seasonal factor."""
    trend: float
    """Yearly growth of the inflow (0.05: 5 % a year, compounding)."""
    seasonality: tuple[float, ...]
    """Twelve monthly factors on the inflow, January first."""


@dataclass(frozen=True)
class World:
    """A synthetic municipality: its states, calendar and the seed of its one history."""

    index: int
    states: tuple[StateTruth, ...]
    start: dt.date = dt.date(2021, 1, 1)
    months: int = 36
    burn_in_years: float = 15.0
    seed: int = 0

    @property
    def codes(self) -> tuple[str, ...]:
        """The benefit states' codes, in order."""
        return tuple(s.code for s in self.states)

    def state(self, code: str) -> StateTruth:
        """The state with this code."""
        return next(s for s in self.states if s.code == code)


# --- random worlds ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Template:
    """A benefit's typical structure: band starts, routes' rates per band, clock, inflow a week."""

    edges: tuple[float, ...]
    routes: tuple[tuple[str, tuple[float, ...]], ...]
    clock: tuple[float, tuple[tuple[str, float], ...]] | None
    inflow: float


TEMPLATES: dict[str, _Template] = {
    "a_dagpenge": _Template((0, 13, 52), (("job", (0.065, 0.03, 0.014)), ("other", (0.004, 0.004, 0.006))),
                            (104, (("kontanthjaelp_jobparat", 0.35), ("other", 0.65))), 14.0),
    "sygedagpenge": _Template((0, 8, 22), (("job", (0.13, 0.06, 0.035)),
                                           ("a_dagpenge", (0.004, 0.006, 0.006))),
                              (22, (("jobafklaring", 0.2), ("job", 0.3), (STAY, 0.5))), 18.0),
    "kontanthjaelp_jobparat": _Template((0, 26, 78), (
        ("job", (0.04, 0.02, 0.01)), ("kontanthjaelp_aktivitetsparat", (0.004, 0.006, 0.008)),
        ("education", (0.004, 0.003, 0.002))), None, 4.0),
    "kontanthjaelp_aktivitetsparat": _Template((0, 52), (("job", (0.01, 0.005)),
                                                         ("ressourceforloeb", (0.002, 0.004)),
                                                         ("other", (0.003, 0.002))), None, 1.5),
    "jobafklaring": _Template((0, 26), (("job", (0.018, 0.009)), ("ressourceforloeb", (0.004, 0.006)),
                                        ("pension", (0.002, 0.004))),
                              (104, (("ressourceforloeb", 0.4), ("other", 0.6))), 0.6),
    "ressourceforloeb": _Template((0, 52), (("job", (0.004, 0.002)), ("pension", (0.002, 0.004)),
                                            ("other", (0.001, 0.001))), None, 0.4),
}
"""Plausible Danish benefits (rates per week; cf. `calibration/durations.csv`); worlds draw around them."""
ALWAYS = "a_dagpenge"
"""Every world has a-dagpenge and its 104-week exhaustion clock."""


def _seasonality(rng: np.random.Generator) -> tuple[float, ...]:
    """A smooth yearly profile with mean 1: an amplitude of up to 25 % and a random peak month."""
    amplitude, peak = rng.uniform(0.0, 0.25), rng.uniform(0, 12)
    months = np.arange(12)
    profile = 1.0 + amplitude * np.cos(2 * np.pi * (months - peak) / 12.0)
    return tuple(float(round(x, 4)) for x in profile / profile.mean())


def random_world(index: int, seed: int, n_states: int | None = None) -> World:
    """World `index` of a study with `seed`: 3–5 states (a-dagpenge and 2–4 others), their rates,
    inflows, trends and seasonal profiles drawn around `TEMPLATES`; a destination the world lacks
    becomes `other`."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, index, 1]))
    others = [c for c in TEMPLATES if c != ALWAYS]
    k = int(rng.integers(2, 5)) if n_states is None else n_states - 1
    chosen = [ALWAYS, *(others[i] for i in sorted(rng.choice(len(others), size=k, replace=False)))]
    size = float(np.exp(rng.uniform(np.log(0.6), np.log(2.0))))
    states = []
    for code in chosen:
        t = TEMPLATES[code]
        routes: dict[str, np.ndarray] = {}
        for to, rates in t.routes:
            dest = to if to in chosen or to in EXITS else "other"
            drawn = np.asarray(rates) * float(np.exp(rng.normal(0.0, 0.25)))
            routes[dest] = routes.get(dest, 0.0) + drawn
        clock = None
        if t.clock is not None:
            week, shares = t.clock
            merged: dict[str, float] = {}
            for to, share in shares:
                dest = to if to in chosen or to in EXITS or to == STAY else "other"
                merged[dest] = merged.get(dest, 0.0) + share
            clock = Clock(week, tuple(merged.items()))
        trend = float(np.clip(rng.normal(0.0, 0.06), -0.15, 0.15))
        states.append(StateTruth(
            code, tuple(float(e) for e in t.edges),
            tuple(Route(to, tuple(float(round(r, 6)) for r in rates)) for to, rates in routes.items()),
            clock, float(round(t.inflow * size * np.exp(rng.normal(0.0, 0.2)), 4)), round(trend, 4),
            _seasonality(rng)))
    return World(index, tuple(states), seed=int(rng.integers(2**31)))


# --- exact simulation -----------------------------------------------------------------------------------

OUTSIDE = -1
"""The source of a spell that began with an arrival from outside public support."""


@dataclass
class History:
    """Every spell of a world's one history, as arrays (times in days from the scenario's start)."""

    world: World
    state: np.ndarray
    """Index into `world.states`."""
    start: np.ndarray
    end: np.ndarray
    """The day the spell ended; inf if it runs past the last simulated day."""
    source: np.ndarray
    """The state index the spell came from, or OUTSIDE."""
    dest: np.ndarray
    """The destination code's index in `destinations`, or -1 while running."""
    destinations: tuple[str, ...]
    edges: np.ndarray = field(default_factory=lambda: np.zeros(0))
    """Month edges of the scenario's horizon in days (months + 1 values)."""


def month_edges(start: dt.date, months: int, before: int = 0) -> np.ndarray:
    """Days from `start` to the first day of each month, from `before` months before it to the end."""
    first = pd.Timestamp(start) - pd.DateOffset(months=before)
    stamps = pd.date_range(first, periods=months + before + 1, freq="MS")
    return np.asarray((stamps - pd.Timestamp(start)).days, dtype=float)


def month_numbers(start: dt.date, months: int, before: int = 0) -> np.ndarray:
    """Calendar month (1–12) of each month from `before` months before `start`."""
    first = pd.Timestamp(start) - pd.DateOffset(months=before)
    return np.asarray(pd.date_range(first, periods=months + before, freq="MS").month)


def _arrivals(rng: np.random.Generator, s: StateTruth, edges: np.ndarray, calendar: np.ndarray) -> np.ndarray:
    """Arrival days from outside: Poisson per month with the month's constant intensity, uniform in it."""
    days = np.diff(edges)
    years = np.maximum((edges[:-1] + days / 2.0) / YEAR_DAYS, -TREND_YEARS_BEFORE)
    season = np.asarray(s.seasonality)[calendar - 1]
    mean = s.inflow / 7.0 * season * (1.0 + s.trend) ** years * days
    counts = rng.poisson(mean)
    month = np.repeat(np.arange(len(days)), counts)
    return np.sort(edges[month] + rng.random(len(month)) * days[month])


def sojourn(rng: np.random.Generator, s: StateTruth, destinations: tuple[str, ...],
            elapsed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Days each spell stays from `elapsed` days in the state on, and its destination's index.

    Band by band: an exponential with the band's total hazard decides whether it leaves before
    the band ends and when, the destination then drawn in proportion to the routes' rates; at the
    clock's day those still there leave by its shares (or stay and go on to the next band).
    """
    edges = [7.0 * e for e in s.edges]
    clock_day = 7.0 * s.clock.week if s.clock is not None else None
    cuts = sorted({*edges, *([clock_day] if clock_day is not None else [])})
    bounds = [*cuts[1:], np.inf]
    band_of = np.searchsorted(np.asarray(edges), np.asarray(cuts), side="right") - 1
    rates = np.array([r.rates for r in s.routes]) / 7.0 if s.routes else np.zeros((0, len(edges)))
    route_dest = np.array([destinations.index(r.to) for r in s.routes], dtype=int)
    at = np.asarray(elapsed, dtype=float).copy()
    leave_at = np.full(len(at), np.inf)
    dest = np.full(len(at), -1)
    done = np.zeros(len(at), dtype=bool)
    for bound, band in zip(bounds, band_of, strict=True):
        idx = np.flatnonzero(~done & (at < bound))
        if not len(idx):
            continue
        lam = rates[:, band] if len(rates) else np.zeros(0)
        total = float(lam.sum())
        wait = rng.exponential(1.0 / total, len(idx)) if total > 0 else np.full(len(idx), np.inf)
        gone = wait < bound - at[idx]
        left = idx[gone]
        leave_at[left] = at[left] + wait[gone]
        if len(left):
            dest[left] = route_dest[rng.choice(len(lam), size=len(left), p=lam / total)]
        done[left] = True
        stayed = idx[~gone]
        at[stayed] = bound
        if clock_day is not None and bound == clock_day and len(stayed):
            assert s.clock is not None
            names = [n for n, _ in s.clock.shares]
            shares = np.array([x for _, x in s.clock.shares])
            pick = rng.choice(len(names), size=len(stayed), p=shares / shares.sum())
            for j, name in enumerate(names):
                if name == STAY:
                    continue
                hit = stayed[pick == j]
                leave_at[hit] = clock_day
                dest[hit] = destinations.index(name)
                done[hit] = True
    return leave_at - np.asarray(elapsed, dtype=float), dest


Queue = list[tuple[int, np.ndarray, np.ndarray, np.ndarray]]
"""Spells to follow, per state: (state index, day they are taken up, days already in the state, source)."""


def _follow(rng: np.random.Generator, world: World, queue: Queue, end_day: float) -> dict[str, np.ndarray]:
    """Every spell of `queue` to its end (or past `end_day`, where it is cut: end inf) and every
    spell it leads to, as arrays state, start, end, source, dest."""
    codes = world.codes
    destinations = (*codes, *EXITS)
    parts: dict[str, list[np.ndarray]] = {k: [] for k in ("state", "start", "end", "source", "dest")}
    for _ in range(100):
        if not any(len(t) for _, t, _, _ in queue):
            break
        moved: dict[int, tuple[list[np.ndarray], list[np.ndarray]]] = {i: ([], []) for i in range(len(codes))}
        for i, t, elapsed, src in queue:
            if not len(t):
                continue
            stay, dest = sojourn(rng, world.states[i], destinations, elapsed)
            end = t + stay
            running = end >= end_day
            end[running], dest[running] = np.inf, -1
            for k, v in (("state", np.full(len(t), i)), ("start", t - elapsed), ("end", end), ("source", src),
                         ("dest", dest)):
                parts[k].append(v)
            for j in range(len(codes)):
                hit = dest == j
                moved[j][0].append(end[hit])
                moved[j][1].append(np.full(int(hit.sum()), i))
        queue = [(j, np.concatenate(ts), np.zeros(sum(len(x) for x in ts)), np.concatenate(ss))
                 for j, (ts, ss) in moved.items()]
    else:
        raise RuntimeError("spells kept leading to spells for 100 generations")
    out = {k: np.concatenate(v) if v else np.zeros(0) for k, v in parts.items()}
    for k in ("state", "source", "dest"):
        out[k] = out[k].astype(int)
    return out


def _arrival_queue(rng: np.random.Generator, world: World, edges: np.ndarray, calendar: np.ndarray) -> Queue:
    """Each state's arrivals from outside over the months of `edges`, as spells to follow."""
    arrivals = [_arrivals(rng, s, edges, calendar) for s in world.states]
    return [(i, t, np.zeros(len(t)), np.full(len(t), OUTSIDE)) for i, t in enumerate(arrivals)]


def simulate(world: World) -> History:
    """The world's one history: arrivals from `burn_in_years` before the start to the horizon's end,
    each spell and every spell it leads to, exactly; on the world's own seed."""
    rng = np.random.default_rng(np.random.SeedSequence([world.seed, 7]))
    before = round(world.burn_in_years * 12)
    edges = month_edges(world.start, world.months, before)
    calendar = month_numbers(world.start, world.months, before)
    spells = _follow(rng, world, _arrival_queue(rng, world, edges, calendar), edges[-1])
    return History(world, spells["state"], spells["start"], spells["end"], spells["source"], spells["dest"],
                   (*world.codes, *EXITS), month_edges(world.start, world.months))


def continuations(history: History, month: int, runs: int, seed: int) -> np.ndarray:
    """The truth's own forecast from the first day of `month` (0-based): `runs` futures of the
    history, each following the spells running that day (their elapsed days known) and new
    arrivals on a fresh stream. Full-time persons [run, state, month] for the months from `month`."""
    world = history.world
    day = history.edges[month]
    running = (history.start < day) & (history.end > day)
    edges = history.edges[month:]
    calendar = month_numbers(world.start, world.months)[month:]
    out = np.zeros((runs, len(world.states), len(edges) - 1))
    for r, ss in enumerate(np.random.SeedSequence([seed, 13]).spawn(runs)):
        rng = np.random.default_rng(ss)
        queue = _arrival_queue(rng, world, edges, calendar)
        for i in range(len(world.states)):
            mine = running & (history.state == i)
            _, t, e, src = queue[i]
            queue[i] = (i, np.concatenate([np.full(int(mine.sum()), day), t]),
                        np.concatenate([day - history.start[mine], e]),
                        np.concatenate([history.source[mine], src]))
        spells = _follow(rng, world, queue, edges[-1])
        future = History(world, spells["state"], spells["start"], spells["end"], spells["source"],
                         spells["dest"], history.destinations, edges)
        out[r] = person_days(future) / np.diff(edges)
    return out


# --- what the history shows -------------------------------------------------------------------------------

def person_days(history: History) -> np.ndarray:
    """Person-days [state, month] over the scenario's months: each spell's overlap with each month."""
    lo, hi = history.edges[:-1], history.edges[1:]
    out = np.zeros((len(history.world.states), len(lo)))
    for i in range(len(history.world.states)):
        mine = (history.state == i) & (history.end > lo[0]) & (history.start < hi[-1])
        a, b = history.start[mine][:, None], history.end[mine][:, None]
        out[i] = np.clip(np.minimum(b, hi[None, :]) - np.maximum(a, lo[None, :]), 0.0, None).sum(axis=0)
    return out


def entries(history: History, outside_only: bool) -> np.ndarray:
    """Spells started [state, month] in the horizon: from outside only, or from anywhere else."""
    n, months = len(history.world.states), len(history.edges) - 1
    keep = (history.start >= history.edges[0]) & (history.start < history.edges[-1])
    if outside_only:
        keep &= history.source == OUTSIDE
    month = np.searchsorted(history.edges, history.start[keep], side="right") - 1
    counts = np.bincount(history.state[keep] * months + month, minlength=n * months)
    return counts.reshape(n, months).astype(float)


def initial_stock(history: History) -> dict[str, np.ndarray]:
    """Each state's persons on the first day, as their elapsed days in the state then."""
    there = (history.start < 0) & (history.end > 0)
    return {s.code: -history.start[there & (history.state == i)] for i, s in enumerate(history.world.states)}


def transfers_in(world: World) -> set[str]:
    """The states some other state's route or clock moves spells into."""
    out: set[str] = set()
    for s in world.states:
        out |= {r.to for r in s.routes if r.to in world.codes}
        if s.clock is not None:
            out |= {n for n, _ in s.clock.shares if n in world.codes}
    return out


def labels(world: World) -> list[str]:
    """`YYYY-MM` of each month of the horizon."""
    return [f"{d:%Y-%m}" for d in pd.date_range(pd.Timestamp(world.start), periods=world.months, freq="MS")]


def observed_frame(history: History) -> pd.DataFrame:
    """The figures a jobcentre would see, in the long observed format: monthly and yearly
    full-year persons of each state and the total (person-days ÷ days), monthly entries from
    outside (`inflow_from_outside_count`) and, for a state other states feed, from anywhere else
    (`inflow_count`)."""
    world = history.world
    days = np.diff(history.edges)
    pdays = person_days(history)
    outside, anywhere = entries(history, True), entries(history, False)
    fed = transfers_in(world)
    months = labels(world)
    source = f"synthetic world {world.index}: exact"
    rows: list[tuple[str, str, str, float, str]] = []
    series = {**{s.code: pdays[i] for i, s in enumerate(world.states)}, TOTAL: pdays.sum(axis=0)}
    for code, pd_ in series.items():
        rows += [(m, code, STOCK, float(pd_[k] / days[k]), source) for k, m in enumerate(months)]
        for y in sorted({m[:4] for m in months}):
            ks = [k for k, m in enumerate(months) if m.startswith(y)]
            if len(ks) == 12:
                rows.append((y, code, STOCK, float(pd_[ks].sum() / days[ks].sum()), source))
    for i, s in enumerate(world.states):
        rows += [(m, s.code, INFLOW_OUTSIDE, outside[i, k], source) for k, m in enumerate(months)]
        if s.code in fed:
            rows += [(m, s.code, INFLOW, anywhere[i, k], source) for k, m in enumerate(months)]
    frame = pd.DataFrame(rows, columns=["period", "state", "measure", "value", "source"])
    frame["value"] = frame["value"].round(6)
    return frame


def yearly_truth(observed: pd.DataFrame) -> pd.DataFrame:
    """The yearly full-year persons of each state and the total, one row per year and state."""
    years = observed[(observed["measure"] == STOCK) & (observed["period"].str.len() == 4)]
    return years[["period", "state", "value"]].reset_index(drop=True)


def duration_bands(elapsed_days: np.ndarray) -> list[list[float]]:
    """`initial_durations` bands [from_week, to_week, share] of a stock's elapsed durations: four
    weeks wide to two years, 13 weeks to five years, a year beyond."""
    weeks = np.asarray(elapsed_days) / 7.0
    if not len(weeks):
        return []
    top = float(np.ceil(weeks.max() / 52.0) * 52.0 + 52.0)
    cuts = np.unique(np.concatenate([np.arange(0, 104, 4), np.arange(104, 260, 13),
                                     np.arange(260, top + 1, 52)]))
    counts = np.histogram(weeks, bins=cuts)[0]
    out = [[float(a), float(b), float(c)] for a, b, c in zip(cuts[:-1], cuts[1:], counts, strict=True) if c]
    total = sum(c for _, _, c in out)
    shares = [round(c / total, 6) for _, _, c in out]
    shares[int(np.argmax(shares))] += round(1.0 - sum(shares), 6)
    return [[a, b, s] for (a, b, _), s in zip(out, shares, strict=True)]
