"""Spell fits a scenario loads: forced clocks, their shares, inflows from outside, one parameter set.

Forced clocks. A state's clock at week w (a-dagpenge's exhaustion at 104, sygedagpenge's
reassessment at 22) moves everyone still in the state at w, so a spell that ends exactly then
left by the clock, not by a hazard: within half a day when the times are whole days (dates, or
day numbers), within a millionth of a day when they are not (the engine's own spells). For the
hazards such a spell is censored at w: it was at risk until w and left by no hazard. For the
clock it is one of the n
spells under observation at w (observed from before w, and either struck by the clock or still
in the state after it), of which k_d moved to d: the share p_d = k_d / n has the binomial
standard error √(p_d (1 − p_d) / n), and the shares of one clock covary as a multinomial's
(−p_d p_e / n). Those still in the state after w stayed (`to: stay`). A hazard exit on the
clock's own day is taken for a clock move; a clock that the scenario moves (paused clocks, a
dagpenge period counted across spells) is not at w, and its moves count as hazard events.

Inflows from outside. The spells are observed from the earliest entry (or start) to the latest
end. A spell that starts inside that window is an entry into its state, from another state
when a spell of the same id ended in a move to it on the same day, else from outside (a state
the data do not cover counts as outside). Entries from outside ÷ the window's weeks is the
weekly inflow, with the Poisson standard error √entries ÷ weeks; with dates, its anchor (the
date the rate holds on, `trend_from`) is the window's middle. A scenario with seasonality
multiplies the window's average by its monthly factors.

Standard errors. A band's rate D ÷ E has the Poisson standard error √D ÷ E; a band with
exposure but no event has rate 0 and standard error 1 ÷ E (the posterior sd under a flat prior),
never 0; a band without exposure has no rate of its own (it takes the band before's) and is
unidentified, as is a clock no spell reached.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from sim.contract.catalogue import STAY
from sim.contract.routes import clock_weeks
from sim.contract.schema import Scenario
from sim.fitting.spell_data import SpellDataError, observed_weeks, spell_days
from sim.fitting.spells import SpellFit

CLOCK_TOLERANCE_DAYS = 0.5
"""A spell of whole days that ends within this many days of a clock's week left by the clock."""
EXACT_TOLERANCE_DAYS = 1e-6
"""The same for spells whose times are not whole days."""
_EPOCH = dt.date(1970, 1, 1)


def parse_clocks(texts: Iterable[str]) -> dict[str, list[float]]:
    """`STATE:WEEK` texts (e.g. `sygedagpenge:22`) as weeks per state."""
    out: dict[str, list[float]] = {}
    for text in texts:
        state, _, week = text.partition(":")
        try:
            w = float(week)
        except ValueError:
            w = math.nan
        if not state.strip() or not math.isfinite(w) or w <= 0:
            raise SpellDataError(f"--clock {text!r} is not STATE:WEEK with a week above 0, "
                                 "e.g. sygedagpenge:22")
        out.setdefault(state.strip(), []).append(w)
    return out


def scenario_clocks(scenario: Scenario) -> dict[str, list[float]]:
    """The weeks of each state's forced clocks in a scenario."""
    out: dict[str, list[float]] = {}
    for state, routes in scenario.transitions.items():
        weeks = clock_weeks(routes)
        if weeks:
            out[state] = weeks
    return out


def split_clock_moves(spells: pd.DataFrame, clocks: dict[str, list[float]]
                      ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The spells with every clock move censored at its clock (for the hazards), and the clocks'
    table: state, week, reached, to, moved, share, se (one row per destination and one `stay`;
    a clock no spell reached has one row with reached 0 and no destination)."""
    t0, t1 = observed_weeks(spells)
    start, end, _ = spell_days(spells)
    whole = bool(np.all(np.isclose(start, np.round(start), rtol=0, atol=1e-9)
                        & np.isclose(end, np.round(end), rtol=0, atol=1e-9)))
    tol = (CLOCK_TOLERANCE_DAYS if whole else EXACT_TOLERANCE_DAYS) / 7.0 + 1e-12
    states = spells["state"].astype(str).to_numpy()
    to = spells["to"].astype(object).where(spells["to"].notna(), None).to_numpy()
    moved = np.array([d is not None for d in to], dtype=bool)
    censor = np.zeros(len(spells), dtype=bool)
    rows: list[dict[str, Any]] = []
    for state in sorted(clocks):
        for week in sorted(set(clocks[state])):
            before = (states == state) & (t0 < week - tol)
            struck = before & moved & (np.abs(t1 - week) <= tol)
            reached = int((struck | (before & (t1 > week + tol))).sum())
            censor |= struck
            if reached == 0:
                rows.append({"state": state, "week": week, "reached": 0, "to": None, "moved": 0,
                             "share": math.nan, "se": math.nan})
                continue
            counts = pd.Series(to[struck], dtype=object).value_counts()
            stayed = reached - int(struck.sum())
            for dest, k in [*sorted((str(d), int(k)) for d, k in counts.items()), (STAY, stayed)]:
                p = k / reached
                rows.append({"state": state, "week": week, "reached": reached, "to": dest, "moved": k,
                             "share": p, "se": math.sqrt(p * (1 - p) / reached)})
    out = spells.copy()
    kept = [None if c else d for c, d in zip(censor, to, strict=True)]
    out["to"] = pd.Series(kept, index=spells.index, dtype="object")
    table = pd.DataFrame(rows, columns=["state", "week", "reached", "to", "moved", "share", "se"])
    return out, table


def entries_from_outside(spells: pd.DataFrame) -> pd.DataFrame:
    """Per state: entries from outside inside the observation window, the window (days; dates
    as days since 1970-01-01) and the weekly rate with its standard error."""
    start, end, seen = spell_days(spells)
    first, last = float(np.nanmin(seen)), float(np.nanmax(end))
    weeks = (last - first) / 7.0
    key = pd.DataFrame({"id": spells["id"].astype(str).to_numpy(),
                        "state": spells["state"].astype(str).to_numpy(),
                        "day": np.round(start, 6), "row": np.arange(len(spells))})
    to = spells["to"].astype(object).where(spells["to"].notna(), None).to_numpy()
    ends = pd.DataFrame({"id": key["id"], "state": [str(d) if d is not None else "" for d in to],
                         "day": np.round(end, 6)})
    ends = ends[[d is not None for d in to]].drop_duplicates()
    transfer = np.zeros(len(spells), dtype=bool)
    transfer[key.merge(ends, on=["id", "state", "day"])["row"].to_numpy()] = True
    inside = (start >= first) & (start < last) & ~transfer
    rows = []
    for state in sorted(pd.unique(key["state"])):
        n = int((inside & (key["state"] == state).to_numpy()).sum())
        rows.append({"state": state, "entries": n, "from_day": first, "to_day": last, "weeks": weeks,
                     "rate_per_week": n / weeks if weeks > 0 else math.nan,
                     "se": (math.sqrt(n) if n else 1.0) / weeks if weeks > 0 else math.nan})
    return pd.DataFrame(rows, columns=["state", "entries", "from_day", "to_day", "weeks", "rate_per_week",
                                       "se"])


def day_date(day: float) -> dt.date:
    """A spell table's day (days since 1970-01-01) as a date."""
    return _EPOCH + dt.timedelta(days=math.floor(day))


@dataclass
class SpellParameters:
    """A spell fit as a parameter file: what a scenario's `parameters:` applies and draws."""

    values: dict[str, float] = field(default_factory=dict)
    standard_errors: dict[str, float] = field(default_factory=dict)
    bounds: dict[str, tuple[float, float]] = field(default_factory=dict)
    unidentified: dict[str, str] = field(default_factory=dict)
    transitions: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    """Each fitted state's routes as a scenario writes them: hazards by band, then clock shares."""
    inflow_per_week: dict[str, float] = field(default_factory=dict)
    anchors: dict[str, str] = field(default_factory=dict)
    shares: list[tuple[int, list[str]]] = field(default_factory=list)
    """Each clock's spells reached and its share paths, which covary as a multinomial's."""
    not_estimated: dict[str, str] = field(default_factory=dict)
    """What the spells could not estimate at all (a clock no spell reached), with the reason."""

    def covariance(self) -> np.ndarray | None:
        """Covariance in the order of `values`: the shares of one clock multinomial, the rest
        independent; None when nothing covaries (the standard errors say it all)."""
        if not any(len(group) > 1 for _, group in self.shares):
            return None
        names = list(self.values)
        at = {n: i for i, n in enumerate(names)}
        cov = np.diag([self.standard_errors.get(n, 0.0) ** 2 for n in names])
        for reached, group in self.shares:
            for a in group:
                for b in group:
                    if a != b:
                        cov[at[a], at[b]] = -self.values[a] * self.values[b] / reached
        return cov


def spell_parameters(fit: SpellFit, clocks: pd.DataFrame, inflows: pd.DataFrame | None,
                     dates: bool) -> SpellParameters:
    """The fitted rates, clock shares and inflows as paths, values and errors, with the
    scenario-ready routes and inflows they index into."""
    out = SpellParameters()
    for (state, dest), g in fit.rates.groupby(["state", "to"], sort=False):
        g = g.sort_values("band")
        rates = g["rate_per_week"].ffill().bfill().fillna(0.0).to_numpy(dtype=float)
        bands = len(g) > 1
        rates = np.array([_r(r) for r in rates])
        route: dict[str, Any] = {"to": str(dest), "rate_per_week": (
            [[_week(w), float(r)] for w, r in zip(g["from_week"], rates, strict=True)] if bands
            else float(rates[0]))}
        out.transitions.setdefault(str(state), []).append(route)
        for row, r in zip(g.itertuples(index=False), rates, strict=True):
            path = f"transitions.{state}.{dest}.rate_per_week" + (f".{row.band}" if bands else "")
            out.values[path] = float(r)
            exposure = float(str(row.exposure_weeks))
            if exposure <= 0:
                out.unidentified[path] = (f"no exposure in weeks {_weeks(row.from_week, row.to_week)}: "
                                          "the band takes the rate of the band before")
            else:
                out.standard_errors[path] = (float(str(row.se)) if int(str(row.events)) > 0
                                             else 1.0 / exposure)
    for (state, week), g in clocks.groupby(["state", "week"], sort=True):
        _clock_routes(out, str(state), float(str(week)), g)
    if inflows is not None:
        for row in inflows.itertuples(index=False):
            if not math.isfinite(float(str(row.rate_per_week))):
                continue
            path = f"inflow_per_week.{row.state}"
            out.inflow_per_week[str(row.state)] = _r(float(str(row.rate_per_week)))
            out.values[path] = out.inflow_per_week[str(row.state)]
            out.standard_errors[path] = float(str(row.se))
            if dates:
                middle = (float(str(row.from_day)) + float(str(row.to_day))) / 2
                out.anchors[path] = day_date(middle).isoformat()
    return out


def _clock_routes(out: SpellParameters, state: str, week: float, g: pd.DataFrame) -> None:
    """One clock's routes (its shares, one taking the rest) and share paths, added to `out`."""
    reached = int(g["reached"].iloc[0])
    if reached == 0:
        out.not_estimated[f"transitions.{state} at week {_week(week)}"] = (
            "no spell under observation reached the clock: a scenario keeps its own shares")
        return
    moves = {str(r.to): int(str(r.moved)) for r in g.itertuples(index=False)}
    stayed = moves.pop(STAY, 0)
    dests = [d for d, k in moves.items() if k > 0]
    rest = STAY if stayed > 0 or not dests else max(dests, key=lambda d: (moves[d], -dests.index(d)))
    routes = out.transitions.setdefault(state, [])
    group = []
    for dest in dests:
        if dest == rest:
            continue
        path = f"transitions.{state}.{len(routes)}.share"
        p = _r(moves[dest] / reached)
        routes.append({"to": dest, "at_week": _week(week), "share": p})
        out.values[path] = p
        out.standard_errors[path] = math.sqrt(p * (1 - p) / reached)
        out.bounds[path] = (0.0, 1.0)
        group.append(path)
    routes.append({"to": rest, "at_week": _week(week), "share": "rest"})
    out.shares.append((reached, group))


def _r(x: float) -> float:
    """Six significant digits, as the parameter file writes its values."""
    return float(f"{x:.6g}")


def _week(w: Any) -> float | int:
    x = float(w)
    return int(x) if x.is_integer() else x


def _weeks(lo: Any, hi: Any) -> str:
    top = float(hi)
    return f"{_week(lo)}–{_week(top)}" if math.isfinite(top) else f"{_week(lo)}+"
