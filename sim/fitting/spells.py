"""Fit piecewise-constant competing-risks hazards per state from spell data.

A spell is one stay of one person in one state: `id`, `state`, `start`, `end` and `to` (the
destination it left for, or empty / NaN / ``censored`` when the stay was still going on when
observation stopped). `start`, `end` and the optional `entry` are dates or numbers of days; the
duration in weeks is (end − start) days / 7. Other columns may carry attributes (sex, age
group, …) for hazard ratios.

The model. In each state, the hazard to destination j in duration band b (weeks
[e_b, e_{b+1}), the last band open) is a constant λ_bj. With D_bj moves to j in band b and
E_b person-weeks at risk in band b, the log-likelihood is Σ_bj (D_bj log λ_bj − λ_bj E_b), so
the maximum-likelihood estimate is λ_bj = D_bj / E_b with standard error √D_bj / E_b and an
exact (Garwood) Poisson interval from the χ² distribution. A move at exactly a band edge
counts in the band below it (where its exposure lies).

Censoring and left truncation. A censored spell contributes exposure but no event. A spell
with an `entry` time (same units as start and end) was only under observation from then on —
typically a stock already on the benefit when the data begin — so it contributes exposure only
from duration (entry − start) onwards (delayed entry): counting its earlier time would add
exposure in which it could not have been seen to leave. An entry before the start counts from
the start. Spells of zero length, or with entry at their end, contribute nothing.

Bands. Given per state, or chosen by AIC (2k − 2 log L, k = bands × destinations) among
subsets of `candidate_edges`: every subset when there are at most 10 candidates, otherwise
greedy forward selection. Subsets leaving a band with no exposure are not considered.

Hazard ratios. For each state and destination a Poisson GLM (log link, offset log exposure) on
the table of events and exposure split by band and attribute levels, with one free level per
band and one log hazard ratio per non-reference attribute level (additive main effects, all
attributes in one model). This assumes proportional hazards: an attribute multiplies the
hazard by the same factor in every band. Attribute values are treated as categories; the
reference level is the first in sorted order; spells with a missing attribute value are left
out of the hazard-ratio fits (not of the rates).

Everything is vectorised over spells: one pass builds exposure per (spell, fine band) and the
event counts; AIC and the GLMs then work on small aggregated arrays.
"""

from __future__ import annotations

import csv
import importlib
import itertools
import math
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import xlogy
from scipy.stats import chi2, norm

REQUIRED: tuple[str, ...] = ("id", "state", "start", "end", "to")
"""Columns every spell table needs."""
CENSORED: frozenset[str] = frozenset({"", "censored", "nan", "none", "<na>"})
"""Values of `to` (case-insensitive, stripped) that mark a censored spell."""
DEFAULT_EDGES: tuple[float, ...] = (4.0, 13.0, 26.0, 52.0, 104.0)
"""Candidate band edges in weeks for AIC selection: 1 month, a quarter, half a year, 1 and 2 years."""
ALL_SUBSETS_UP_TO = 10
"""With at most this many candidate edges every subset is tried; with more, greedy forward."""
_SHOW = 5
"""Rows listed by name in an error message before "and N more"."""


class SpellDataError(ValueError):
    """A spell table that cannot be fitted: the message names the rows and the column."""


# ---------------------------------------------------------------------------------------------
# Reading and validating


def read_spells(path: str | Path, states: Iterable[str] | None = None) -> pd.DataFrame:
    """Read and validate a spell CSV (see `validate_spells`); errors name the file's lines.

    `start`, `end` (and `entry`) become datetime64 when they are dates (YYYY-MM-DD), floats
    when every value is a number of days. `to` is None for censored spells; other columns stay
    text. The index is the line number in the file.
    """
    path = Path(path)
    try:
        with path.open(encoding="utf-8-sig", newline="") as f:
            reader = csv.reader(f, skipinitialspace=True)
            rows, lines = [], []
            for row in reader:
                if row:  # blank lines are skipped but keep the line count
                    rows.append(row)
                    lines.append(reader.line_num)
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise SpellDataError(f"{path}: cannot read the spell table: {exc}") from exc
    if not rows:
        raise SpellDataError(f"{path}: the file is empty; a spell table needs a header line "
                             f"{','.join(REQUIRED)}")
    header = [c.strip() for c in rows[0]]
    twice = sorted({c for c in header if header.count(c) > 1})
    if twice:
        raise SpellDataError(f"{path}: column{'s' if len(twice) > 1 else ''} "
                             f"{', '.join(map(repr, twice))} given more than once in the header")
    ragged = [(n, len(r)) for n, r in zip(lines[1:], rows[1:], strict=True) if len(r) != len(header)]
    if ragged:
        shown = "; ".join(f"line {n} has {k}" for n, k in ragged[:_SHOW])
        more = f" and {len(ragged) - _SHOW} more" if len(ragged) > _SHOW else ""
        raise SpellDataError(f"{path}: the header has {len(header)} fields but {shown}{more}")
    raw = pd.DataFrame(rows[1:], columns=header, dtype=object)
    raw.index = pd.Index(lines[1:], name="line")
    return _validate(raw, states, source=str(path), from_file=True)


def validate_spells(df: pd.DataFrame, states: Iterable[str] | None = None) -> pd.DataFrame:
    """A checked, normalised copy of a spell table; raises `SpellDataError` naming bad rows.

    Checks: the columns id, state, start, end, to exist; id and state are not empty; start,
    end (and entry, if present) are all numbers of days or all dates; end is not before start
    and entry not after end; a spell does not move to its own state; with `states`, every state
    and destination is one of them.
    """
    return _validate(df, states, source="spell table", from_file=False)


def _validate(df: pd.DataFrame, states: Iterable[str] | None, source: str, from_file: bool
              ) -> pd.DataFrame:
    missing = [c for c in REQUIRED if c not in df.columns]
    if missing:
        raise SpellDataError(
            f"{source}: missing column{'s' if len(missing) > 1 else ''} "
            f"{', '.join(repr(c) for c in missing)}; a spell table needs the columns "
            f"{', '.join(REQUIRED)} (entry and attribute columns are optional)")
    out = df.copy()
    problems: list[str] = []

    def where(mask: np.ndarray, column: str, what: str, values: pd.Series | None = None,
              detail: pd.Series | None = None) -> None:
        """Record a problem for the rows in `mask`, showing each one's value or `detail`."""
        pos = np.flatnonzero(mask)
        if len(pos) == 0:
            return
        ids = out["id"].to_numpy()
        names = []
        for p in pos[:_SHOW]:
            label = f"line {out.index[p]}" if from_file else f"row {_plain(out.index[p])!r}"
            shown = (f", {column} {_plain(values.iloc[p])!r}" if values is not None
                     else f", {detail.iloc[p]}" if detail is not None else "")
            names.append(f"{label} (id {_plain(ids[p])!r}{shown})")
        more = f" and {len(pos) - _SHOW} more" if len(pos) > _SHOW else ""
        problems.append(f"{source}: column {column!r}: {what} in {'; '.join(names)}{more}")

    for column in ("id", "state"):
        where(_blank(out[column]), column, "empty value")
    out["state"] = _text(out["state"], lower=False)

    text = _text(out["to"])
    censored = text.isin(CENSORED).to_numpy(dtype=bool)
    out["to"] = pd.Series(_text(out["to"], lower=False).where(~censored, None), index=out.index,
                          dtype=object)

    times = [c for c in ("start", "end", "entry") if c in out.columns]
    kind = _time_kind(out, times)
    for column in times:
        parsed, bad = _parse_times(out[column], kind, optional=column == "entry")
        where(bad, column, "not a number of days" if kind == "days" else "not a date (YYYY-MM-DD)",
              out[column])
        out[column] = parsed
    # values that did not parse are NaN / NaT and compare False: only parsed pairs are checked
    where((out["end"] < out["start"]).to_numpy(dtype=bool), "end", "end before start",
          detail="end " + out["end"].astype(str) + " < start " + out["start"].astype(str))
    if "entry" in out.columns:
        where((out["entry"] > out["end"]).to_numpy(dtype=bool), "entry", "entry after end",
              detail="entry " + out["entry"].astype(str) + " > end " + out["end"].astype(str))
    same = (~censored) & (out["to"].astype(object) == out["state"]).to_numpy(dtype=bool)
    where(same, "to", "a move to the spell's own state", out["to"])
    if states is not None:
        known = set(states)
        where(~out["state"].isin(known).to_numpy(dtype=bool) & ~_blank(out["state"]), "state",
              f"unknown state (known: {', '.join(sorted(known))})", out["state"])
        where(~censored & ~out["to"].isin(known).to_numpy(dtype=bool), "to",
              f"unknown destination (known: {', '.join(sorted(known))}, or empty/'censored')",
              out["to"])
    if problems:
        raise SpellDataError("\n".join(problems))
    return out


def _plain(v: Any) -> Any:
    """A NumPy scalar as the Python value (for messages)."""
    return v.item() if isinstance(v, np.generic) else v


def _text(s: pd.Series, lower: bool = True) -> pd.Series:
    """The column as stripped strings (missing: ""), lower-cased unless `lower` is False."""
    t = s.astype("string").str.strip().fillna("")
    return (t.str.lower() if lower else t).astype(object)


def _blank(s: pd.Series) -> np.ndarray:
    if pd.api.types.is_numeric_dtype(s) or pd.api.types.is_datetime64_any_dtype(s):
        return s.isna().to_numpy(dtype=bool)
    return (_text(s, lower=False) == "").to_numpy(dtype=bool)


def _time_kind(df: pd.DataFrame, columns: list[str]) -> str:
    """'days' when every filled time value is a number, else 'dates'."""
    for column in columns:
        s = df[column]
        if pd.api.types.is_datetime64_any_dtype(s):
            return "dates"
        if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
            continue
        filled = s[~_blank(s)]
        if pd.to_numeric(filled, errors="coerce").isna().any():
            return "dates"
    return "days"


def _parse_times(s: pd.Series, kind: str, optional: bool) -> tuple[pd.Series, np.ndarray]:
    """The column as floats (days) or datetime64, and a mask of values that are not."""
    blank = _blank(s)
    if kind == "days":
        values = pd.to_numeric(s.astype(object).where(~blank), errors="coerce").astype(float)
        bad = ~np.isfinite(values.to_numpy())
    elif pd.api.types.is_datetime64_any_dtype(s):
        values = s
        bad = s.isna().to_numpy()
    else:
        text = _text(s, lower=False).where(~blank, None)
        dates = pd.to_datetime(text, errors="coerce", format="ISO8601")
        bad = dates.isna().to_numpy()
        return dates, (bad & ~blank) if optional else bad
    if optional:
        bad = bad & ~blank
    return values, bad


# ---------------------------------------------------------------------------------------------
# Engine output


def engine_spells(table: pd.DataFrame, observe_from: float = 0.0) -> pd.DataFrame:
    """A `ReplicationRecord.spells` table (days) as a spell table for `fit_spells`.

    The engine's initial stock enters with elapsed durations, so its spells start before day 0
    (`start_day` < 0) but are only seen from day 0: `entry` = max(start, `observe_from`) makes
    the fit count their exposure from then on. Censored spells end at the horizon with `to`
    None. Extra columns are kept.
    """
    out = table.rename(columns={"start_day": "start", "end_day": "end"}).copy()
    out["entry"] = np.maximum(out["start"].to_numpy(dtype=float), observe_from)
    return out


# ---------------------------------------------------------------------------------------------
# Fitting


def poisson_interval(events: np.ndarray, exposure: np.ndarray, level: float = 0.95
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Exact (Garwood) interval of a Poisson rate events / exposure; no events: lower bound 0."""
    d = np.asarray(events, dtype=float)
    e = np.asarray(exposure, dtype=float)
    alpha = 1.0 - level
    with np.errstate(divide="ignore", invalid="ignore"):
        low = np.where(d > 0, chi2.ppf(alpha / 2, 2 * d) / 2, 0.0) / e
        high = chi2.ppf(1 - alpha / 2, 2 * d + 2) / 2 / e
    return low, high


@dataclass
class SpellFit:
    """Fitted hazards per state: rates by band and destination, hazard ratios, chosen bands."""

    rates: pd.DataFrame
    """state, to, band, from_week, to_week (inf for the last), events, exposure_weeks,
    rate_per_week, se, ci_low, ci_high."""
    hazard_ratios: pd.DataFrame
    """state, to, attribute, level, reference, hr, ci_low, ci_high, p_value, se_log_hr."""
    bands: pd.DataFrame
    """state, edges (weeks, first 0), chosen ('given' or 'aic'), aic, aic_one_band, spells."""

    def routes(self) -> dict[str, list[dict[str, Any]]]:
        """Scenario-style routes per state: [{"to": dest, "rate_per_week": [[from_week, rate], …]}].

        One band gives a plain number. A band with no exposure (rate unknown) takes the rate of
        the band before it.
        """
        out: dict[str, list[dict[str, Any]]] = {}
        for (state, dest), g in self.rates.groupby(["state", "to"], sort=False):
            g = g.sort_values("from_week")
            rates = g["rate_per_week"].ffill().bfill().fillna(0.0).to_numpy(dtype=float)
            value: float | list[list[float]]
            if len(g) == 1:
                value = float(rates[0])
            else:
                value = [[_num(w), float(r)] for w, r in zip(g["from_week"], rates, strict=True)]
            out.setdefault(str(state), []).append({"to": str(dest), "rate_per_week": value})
        return out

    def standard_errors(self) -> dict[str, float]:
        """SE of each rate by parameter path: `transitions.STATE.DEST.rate_per_week.BAND`
        (BAND 0-based), or `transitions.STATE.DEST.rate_per_week` for a one-band state."""
        out: dict[str, float] = {}
        n_bands = (self.rates.groupby("state")["band"].max() + 1).to_dict()
        for state, dest, band, se in zip(self.rates["state"], self.rates["to"], self.rates["band"],
                                         self.rates["se"], strict=True):
            path = f"transitions.{state}.{dest}.rate_per_week"
            if n_bands[state] > 1:
                path += f".{band}"
            out[path] = float(se)
        return out


def _num(w: float) -> float | int:
    return int(w) if float(w).is_integer() else float(w)


def fit_spells(df: pd.DataFrame, bands: dict[str, list[float]] | None = None,
               attributes: Sequence[str] = (), candidate_edges: Sequence[float] = DEFAULT_EDGES,
               level: float = 0.95) -> SpellFit:
    """Fit piecewise-constant competing-risks hazards per state (see the module docstring).

    `bands` gives band edges in weeks per state (0 is added if missing); states left out get
    theirs by AIC among subsets of `candidate_edges`. `attributes` names columns for hazard
    ratios. `level` is the confidence level of every interval.
    """
    spells = validate_spells(df)
    for a in attributes:
        if a not in spells.columns:
            raise SpellDataError(f"spell table: no attribute column {a!r} (columns: "
                                 f"{', '.join(map(str, spells.columns))})")
    given = {s: _edges(e, f"bands[{s!r}]") for s, e in (bands or {}).items()}
    candidates = _edges(candidate_edges, "candidate_edges")[1:]

    start, end = _days(spells["start"]), _days(spells["end"])
    entry = _days(spells["entry"]) if "entry" in spells.columns else start
    entry = np.where(np.isnan(entry), start, entry)
    t1 = (end - start) / 7.0
    t0 = np.clip((entry - start) / 7.0, 0.0, None)
    keep = t1 > t0
    states = spells["state"].astype(str).to_numpy()
    to = spells["to"].astype(object).where(spells["to"].notna(), None).to_numpy()

    rate_rows: list[pd.DataFrame] = []
    hr_rows: list[dict[str, Any]] = []
    band_rows: list[dict[str, Any]] = []
    for state in sorted(pd.unique(states)):
        rows = np.flatnonzero((states == state) & keep)
        dest_names = sorted({str(d) for d in to[rows] if d is not None})
        dest_code = pd.Categorical(to[rows], categories=dest_names).codes.astype(np.int64)  # -1: censored
        grid = np.array(given.get(state, [0.0, *candidates]))
        exposure, events, levels = _tabulate(
            t0[rows], t1[rows], dest_code, len(dest_names), grid,
            spells.iloc[rows][list(attributes)] if attributes else None)
        total_exp = exposure.sum(axis=0) if exposure.ndim == 2 else exposure
        total_ev = events.sum(axis=0) if events.ndim == 3 else events
        chosen = (np.arange(len(grid)) if state in given
                  else _select(total_exp, total_ev, ALL_SUBSETS_UP_TO))
        band_exp = np.add.reduceat(total_exp, chosen)
        band_ev = np.add.reduceat(total_ev, chosen, axis=0)
        edges = grid[chosen]
        band_rows.append({
            "state": state, "edges": [_num(e) for e in edges],
            "chosen": "given" if state in given else "aic",
            "aic": _aic(band_exp, band_ev), "aic_one_band": _aic(total_exp.sum(keepdims=True),
                                                                 total_ev.sum(axis=0, keepdims=True)),
            "spells": len(rows)})
        rate_rows.append(_rate_table(state, dest_names, edges, band_exp, band_ev, level))
        if attributes and levels is not None:
            hr_rows += _hazard_ratios(state, dest_names, np.add.reduceat(exposure, chosen, axis=1),
                                      np.add.reduceat(events, chosen, axis=1), levels, level)

    rate_cols = ["state", "to", "band", "from_week", "to_week", "events", "exposure_weeks",
                 "rate_per_week", "se", "ci_low", "ci_high"]
    hr_cols = ["state", "to", "attribute", "level", "reference", "hr", "ci_low", "ci_high",
               "p_value", "se_log_hr"]
    rates = (pd.concat(rate_rows, ignore_index=True) if rate_rows else pd.DataFrame(columns=rate_cols))
    return SpellFit(rates=rates[rate_cols],
                    hazard_ratios=pd.DataFrame(hr_rows, columns=hr_cols),
                    bands=pd.DataFrame(band_rows, columns=["state", "edges", "chosen", "aic",
                                                           "aic_one_band", "spells"]))


def _edges(edges: Sequence[float], name: str) -> list[float]:
    out = [float(e) for e in edges]
    if any(not math.isfinite(e) or e < 0 for e in out) or any(b <= a for a, b in itertools.pairwise(out)):
        raise ValueError(f"{name}: band edges are increasing, finite weeks ≥ 0 (got {list(edges)!r})")
    return out if out and out[0] == 0.0 else [0.0, *out]


def _days(s: pd.Series) -> np.ndarray:
    """A time column as float days (dates: days since 1970-01-01)."""
    if pd.api.types.is_datetime64_any_dtype(s):
        return ((s - pd.Timestamp("1970-01-01")) / pd.Timedelta(days=1)).to_numpy(dtype=float)
    return s.to_numpy(dtype=float)


def _tabulate(t0: np.ndarray, t1: np.ndarray, dest: np.ndarray, n_dest: int, grid: np.ndarray,
              attrs: pd.DataFrame | None
              ) -> tuple[np.ndarray, np.ndarray, pd.DataFrame | None]:
    """Exposure [band] and events [band, dest] over `grid`'s bands; with attributes, split by
    attribute combination: exposure [combo, band], events [combo, band, dest] and the combos'
    levels, with one extra last row for the spells missing an attribute value."""
    hi = np.append(grid[1:], np.inf)
    overlap = np.minimum(t1[:, None], hi[None, :]) - np.maximum(t0[:, None], grid[None, :])
    per_spell = np.clip(overlap, 0.0, None)
    band = np.clip(np.searchsorted(grid, t1, side="left") - 1, 0, len(grid) - 1)  # an edge: the band below
    moved = dest >= 0
    n_band = len(grid)
    if attrs is None or attrs.shape[1] == 0:
        exposure = per_spell.sum(axis=0)
        counts = np.bincount(band[moved] * n_dest + dest[moved], minlength=n_band * n_dest)
        return exposure, counts.reshape(n_band, n_dest).astype(float), None
    blank = np.column_stack([_blank(attrs[c]) for c in attrs.columns])  # NaN or "": missing
    cats = attrs.astype(object).where(~blank, None)
    present = cats.notna().all(axis=1).to_numpy()
    combo = np.full(len(cats), -1, dtype=np.int64)
    if present.any():
        combo[present] = cats[present].astype(str).groupby(list(cats.columns), sort=True).ngroup().to_numpy()
    levels = (cats[present].astype(str).drop_duplicates().sort_values(list(cats.columns))
              .reset_index(drop=True))
    n_combo = len(levels)
    exposure = np.zeros((max(n_combo, 1), n_band))
    events = np.zeros((max(n_combo, 1), n_band, n_dest))
    pooled_exp = per_spell.sum(axis=0)
    pooled_ev = np.bincount(band[moved] * n_dest + dest[moved], minlength=n_band * n_dest
                            ).reshape(n_band, n_dest).astype(float)
    if n_combo:
        c = combo[present]
        for b in range(n_band):
            exposure[:n_combo, b] = np.bincount(c, weights=per_spell[present, b], minlength=n_combo)
        m = moved & present
        flat = (combo[m] * n_band + band[m]) * n_dest + dest[m]
        events[:n_combo] = np.bincount(flat, minlength=n_combo * n_band * n_dest
                                       ).reshape(n_combo, n_band, n_dest)
    # pooled totals (all spells, also those missing an attribute) go in an extra last row
    exposure = np.vstack([exposure[:n_combo], (pooled_exp - exposure[:n_combo].sum(axis=0))[None]])
    events = np.concatenate([events[:n_combo], (pooled_ev - events[:n_combo].sum(axis=0))[None]])
    return exposure, events, levels


def _loglik(exposure: np.ndarray, events: np.ndarray) -> float:
    """Σ (d log(d/E) − d): the piecewise-exponential log-likelihood at its maximum."""
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where(exposure[:, None] > 0, events / exposure[:, None], 0.0)
    return float((xlogy(events, rate) - events).sum())


def _aic(exposure: np.ndarray, events: np.ndarray) -> float:
    k = events.shape[0] * events.shape[1]
    return 2.0 * k - 2.0 * _loglik(exposure, events)


def _select(exposure: np.ndarray, events: np.ndarray, all_up_to: int) -> np.ndarray:
    """Indices into the grid (0 first) of the bands with the lowest AIC; bands with no exposure
    are never formed."""
    n = len(exposure)

    def score(idx: tuple[int, ...]) -> float:
        chosen = np.array((0, *idx))
        e = np.add.reduceat(exposure, chosen)
        if np.any(e <= 0) and len(chosen) > 1:
            return math.inf
        return _aic(e, np.add.reduceat(events, chosen, axis=0))

    inner = range(1, n)
    best: tuple[int, ...] = ()
    best_aic = score(best)
    if n - 1 <= all_up_to:
        for r in range(1, n):
            for idx in itertools.combinations(inner, r):
                a = score(idx)
                if a < best_aic - 1e-9:
                    best, best_aic = idx, a
    else:
        while True:
            trials = [(score(tuple(sorted((*best, i)))), i) for i in inner if i not in best]
            if not trials:
                break
            a, i = min(trials)
            if a >= best_aic - 1e-9:
                break
            best, best_aic = tuple(sorted((*best, i))), a
    return np.array((0, *best))


def _rate_table(state: str, dests: list[str], edges: np.ndarray, exposure: np.ndarray,
                events: np.ndarray, level: float) -> pd.DataFrame:
    n_band, n_dest = events.shape
    d = events.T.ravel()  # dest-major: all bands of the first destination, then the next
    e = np.tile(exposure, n_dest)
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where(e > 0, d / e, np.nan)
        se = np.where(e > 0, np.sqrt(d) / e, np.nan)
    low, high = poisson_interval(d, np.where(e > 0, e, np.nan), level)
    upper = np.append(edges[1:], np.inf)
    return pd.DataFrame({
        "state": state, "to": np.repeat(dests, n_band), "band": np.tile(np.arange(n_band), n_dest),
        "from_week": np.tile(edges, n_dest), "to_week": np.tile(upper, n_dest),
        "events": d.astype(np.int64), "exposure_weeks": e, "rate_per_week": rate, "se": se,
        "ci_low": low, "ci_high": high})


def _hazard_ratios(state: str, dests: list[str], exposure: np.ndarray, events: np.ndarray,
                   levels: pd.DataFrame, level: float) -> list[dict[str, Any]]:
    """Poisson GLM per destination on the (combo × band) table, the pooled last row left out."""
    sm = importlib.import_module("statsmodels.api")  # untyped: imported as a module object
    exceptions = importlib.import_module("statsmodels.tools.sm_exceptions")

    n_combo = len(levels)
    exposure, events = exposure[:n_combo], events[:n_combo]
    n_band = exposure.shape[1]
    columns: list[tuple[str, str, str]] = []  # (attribute, level, reference)
    dummies: list[np.ndarray] = []
    for attr in levels.columns:
        values = levels[attr].to_numpy()
        found = sorted(set(values))
        for lv in found[1:]:
            columns.append((str(attr), lv, found[0]))
            dummies.append((values == lv).astype(float))
    if not columns:
        return []
    z = 1.0 - (1.0 - level) / 2
    out: list[dict[str, Any]] = []
    cell_combo = np.repeat(np.arange(n_combo), n_band)
    cell_band = np.tile(np.arange(n_band), n_combo)
    cell_exp = exposure.ravel()
    for j, dest in enumerate(dests):
        ev = events[:, :, j]
        bands_with = ev.sum(axis=0) > 0  # a band with no event has an infinite negative level
        use = (cell_exp > 0) & bands_with[cell_band]
        kept = np.flatnonzero(bands_with)
        x_band = (cell_band[use, None] == kept[None, :]).astype(float)
        x_attr = np.column_stack([d[cell_combo[use]] for d in dummies])
        y = ev.ravel()[use]
        rows: list[dict[str, Any]] = [
            {"state": state, "to": dest, "attribute": a, "level": lv, "reference": ref}
            for a, lv, ref in columns]
        # a level with no event to this destination has HR 0 and no finite interval; its cells
        # are left out so the other levels' fit stays finite
        zero = np.array([(x_attr[:, k] * y).sum() == 0 and x_attr[:, k].any()
                         for k in range(len(columns))])
        for k in np.flatnonzero(zero):
            rows[k].update(hr=0.0, ci_low=0.0, ci_high=math.nan, p_value=math.nan, se_log_hr=math.nan)
        cells = ~(x_attr[:, zero] > 0).any(axis=1)
        xa = x_attr[cells]
        # a level absent from the cells left, or present in all of them, cannot be estimated
        live = np.flatnonzero(~zero & xa.any(axis=0) & ~xa.all(axis=0))
        if y[cells].sum() > 0 and len(live):
            xb = x_band[cells]
            has = xb.any(axis=0)
            x = np.column_stack([xb[:, has], xa[:, live]])
            if np.linalg.matrix_rank(x) == x.shape[1]:  # else a level is confounded with bands
                for k, est in zip(live, _poisson_glm(sm, exceptions, y[cells], x,
                                                     np.log(cell_exp[use][cells]), n_b=int(has.sum()),
                                                     q=float(norm.ppf(z))), strict=True):
                    rows[k].update(est)
        for r in rows:
            r.setdefault("hr", math.nan)
            for key in ("ci_low", "ci_high", "p_value", "se_log_hr"):
                r.setdefault(key, math.nan)
        out += rows
    return out


def _poisson_glm(sm: Any, exceptions: Any, y: np.ndarray, x: np.ndarray, offset: np.ndarray,
                 n_b: int, q: float) -> list[dict[str, float]]:
    """HR, interval, p-value and SE of log HR of the columns after the first `n_b` (NaN if the
    fit fails)."""
    n = x.shape[1] - n_b
    failed = [dict.fromkeys(("hr", "ci_low", "ci_high", "p_value", "se_log_hr"), math.nan)] * n
    with warnings.catch_warnings():
        for kind in (exceptions.ConvergenceWarning, exceptions.PerfectSeparationWarning, RuntimeWarning):
            warnings.simplefilter("ignore", kind)
        try:
            fit = sm.GLM(y, x, family=sm.families.Poisson(), offset=offset).fit()
        except (ValueError, np.linalg.LinAlgError, exceptions.PerfectSeparationError):
            return failed
    coef = np.asarray(fit.params, dtype=float)[n_b:]
    se = np.asarray(fit.bse, dtype=float)[n_b:]
    p = np.asarray(fit.pvalues, dtype=float)[n_b:]
    with np.errstate(over="ignore", invalid="ignore"):
        hr, low, high = np.exp(coef), np.exp(coef - q * se), np.exp(coef + q * se)
    return [{"hr": float(hr[i]), "ci_low": float(low[i]), "ci_high": float(high[i]),
             "p_value": float(p[i]), "se_log_hr": float(se[i])} for i in range(n)]
