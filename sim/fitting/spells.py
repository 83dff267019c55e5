"""Fit piecewise-constant competing-risks hazards per state from spell data.

Spell tables (columns, parsing, validation, censoring and delayed entry) are described in
`sim.fitting.spell_data`; `read_spells`, `validate_spells` and the rest are importable here too.

The model. In each state, the hazard to destination j in duration band b (weeks
[e_b, e_{b+1}), the last band open) is a constant λ_bj. With D_bj moves to j in band b and
E_b person-weeks at risk in band b, the log-likelihood is Σ_bj (D_bj log λ_bj − λ_bj E_b), so
the maximum-likelihood estimate is λ_bj = D_bj / E_b with standard error √D_bj / E_b and an
exact (Garwood) Poisson interval from the χ² distribution. A move at exactly a band edge
counts in the band below it (where its exposure lies).

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

import importlib
import itertools
import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import xlogy
from scipy.stats import chi2, norm

from sim.fitting.spell_data import (
    CENSORED,
    REQUIRED,
    SpellDataError,
    engine_spells,
    is_blank,
    observed_weeks,
    read_spells,
    validate_spells,
)

__all__ = [  # the reading names are re-exported: callers import them from here
    "ALL_SUBSETS_UP_TO", "CENSORED", "DEFAULT_EDGES", "REQUIRED", "SpellDataError", "SpellFit",
    "engine_spells", "fit_spells", "poisson_interval", "read_spells", "validate_spells",
]

DEFAULT_EDGES: tuple[float, ...] = (4.0, 13.0, 26.0, 52.0, 104.0)
"""Candidate band edges in weeks for AIC selection: 1 month, a quarter, half a year, 1 and 2 years."""
ALL_SUBSETS_UP_TO = 10
"""With at most this many candidate edges every subset is tried; with more, greedy forward."""
_ESTIMATES: tuple[str, ...] = ("hr", "ci_low", "ci_high", "p_value", "se_log_hr")
"""The per-level columns of a hazard-ratio row, NaN when they cannot be estimated."""


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
            value: float | list[list[float]] = (
                float(rates[0]) if len(g) == 1
                else [[_num(w), float(r)] for w, r in zip(g["from_week"], rates, strict=True)])
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
    """A week as an int when whole, so routes and band edges read 13 rather than 13.0."""
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

    t0, t1 = observed_weeks(spells)
    keep = t1 > t0
    states = spells["state"].astype(str).to_numpy()
    to = spells["to"].astype(object).where(spells["to"].notna(), None).to_numpy()

    rate_rows: list[pd.DataFrame] = []
    hr_rows: list[dict[str, Any]] = []
    band_rows: list[dict[str, Any]] = []
    for state in sorted(pd.unique(states)):
        rows = np.flatnonzero((states == state) & keep)
        grid = np.array(given.get(state, [0.0, *candidates]))
        attrs = spells.iloc[rows][list(attributes)] if attributes else None
        state_rates, ratios, band_row = _fit_state(state, t0[rows], t1[rows], to[rows], grid,
                                                   state in given, attrs, level)
        rate_rows.append(state_rates)
        hr_rows += ratios
        band_rows.append(band_row)
    rate_cols = ["state", "to", "band", "from_week", "to_week", "events", "exposure_weeks",
                 "rate_per_week", "se", "ci_low", "ci_high"]
    hr_cols = ["state", "to", "attribute", "level", "reference", *_ESTIMATES]
    rates = (pd.concat(rate_rows, ignore_index=True) if rate_rows else pd.DataFrame(columns=rate_cols))
    return SpellFit(rates=rates[rate_cols],
                    hazard_ratios=pd.DataFrame(hr_rows, columns=hr_cols),
                    bands=pd.DataFrame(band_rows, columns=["state", "edges", "chosen", "aic",
                                                           "aic_one_band", "spells"]))


def _fit_state(state: str, t0: np.ndarray, t1: np.ndarray, to: np.ndarray, grid: np.ndarray,
               given: bool, attrs: pd.DataFrame | None, level: float
               ) -> tuple[pd.DataFrame, list[dict[str, Any]], dict[str, Any]]:
    """One state's rate table, hazard-ratio rows and band row from its spells with exposure;
    `grid` holds the given edges (`given`) or every candidate edge, among which AIC chooses."""
    dest_names = sorted({str(d) for d in to if d is not None})
    dest_code = pd.Categorical(to, categories=dest_names).codes.astype(np.int64)  # -1: censored
    exposure, events, levels = _tabulate(t0, t1, dest_code, len(dest_names), grid, attrs)
    total_exp = exposure.sum(axis=0) if exposure.ndim == 2 else exposure
    total_ev = events.sum(axis=0) if events.ndim == 3 else events
    chosen = np.arange(len(grid)) if given else _select(total_exp, total_ev, ALL_SUBSETS_UP_TO)
    band_exp = np.add.reduceat(total_exp, chosen)
    band_ev = np.add.reduceat(total_ev, chosen, axis=0)
    edges = grid[chosen]
    band_row = {
        "state": state, "edges": [_num(e) for e in edges], "chosen": "given" if given else "aic",
        "aic": _aic(band_exp, band_ev), "spells": len(t0),
        "aic_one_band": _aic(total_exp.sum(keepdims=True), total_ev.sum(axis=0, keepdims=True))}
    rates = _rate_table(state, dest_names, edges, band_exp, band_ev, level)
    ratios: list[dict[str, Any]] = []
    if attrs is not None and levels is not None:
        ratios = _hazard_ratios(state, dest_names, np.add.reduceat(exposure, chosen, axis=1),
                                np.add.reduceat(events, chosen, axis=1), levels, level)
    return rates, ratios, band_row


def _edges(edges: Sequence[float], name: str) -> list[float]:
    """Checked band edges in weeks starting at 0; `name` says in the error which argument was bad."""
    out = [float(e) for e in edges]
    if any(not math.isfinite(e) or e < 0 for e in out) or any(b <= a for a, b in itertools.pairwise(out)):
        raise ValueError(f"{name}: band edges are increasing, finite weeks ≥ 0 (got {list(edges)!r})")
    return out if out and out[0] == 0.0 else [0.0, *out]


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
    blank = np.column_stack([is_blank(attrs[c]) for c in attrs.columns])  # NaN or "": missing
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
    """2k − 2 log L with one rate per band and destination: the criterion bands are chosen by."""
    k = events.shape[0] * events.shape[1]
    return 2.0 * k - 2.0 * _loglik(exposure, events)


def _select(exposure: np.ndarray, events: np.ndarray, all_up_to: int) -> np.ndarray:
    """Indices into the grid (0 first) of the bands with the lowest AIC; bands with no exposure
    are never formed."""
    n = len(exposure)

    def score(idx: tuple[int, ...]) -> float:
        """AIC of the bands starting at grid indices 0 and `idx`; inf if one has no exposure."""
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
    """The `SpellFit.rates` rows of one state: events ÷ exposure per band and destination."""
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
    n_combo = len(levels)
    columns, dummies = _level_columns(levels)
    if not columns:
        return []
    q = float(norm.ppf(1.0 - (1.0 - level) / 2))
    out: list[dict[str, Any]] = []
    for j, dest in enumerate(dests):
        estimates = _destination_ratios(exposure[:n_combo], events[:n_combo, :, j], dummies, q)
        out += [{"state": state, "to": dest, "attribute": a, "level": lv, "reference": ref, **est}
                for (a, lv, ref), est in zip(columns, estimates, strict=True)]
    return out


def _level_columns(levels: pd.DataFrame) -> tuple[list[tuple[str, str, str]], list[np.ndarray]]:
    """(attribute, level, reference) of each non-reference level and its indicator by combination;
    the reference is the first level in sorted order."""
    columns: list[tuple[str, str, str]] = []
    dummies: list[np.ndarray] = []
    for attr in levels.columns:
        values = levels[attr].to_numpy()
        found = sorted(set(values))
        for lv in found[1:]:
            columns.append((str(attr), lv, found[0]))
            dummies.append((values == lv).astype(float))
    return columns, dummies


def _destination_ratios(exposure: np.ndarray, ev: np.ndarray, dummies: list[np.ndarray], q: float
                        ) -> list[dict[str, float]]:
    """Estimates for each level (`dummies`: its indicator by combination) from the exposure and
    events `ev` to one destination, both [combo, band]; levels that cannot be estimated get NaN.

    Cells of a band with no event (an infinite negative level) are left out; so are those of a
    level with no event (HR 0, no finite interval), so that the other levels' fit stays finite.
    """
    n, (n_combo, n_band) = len(dummies), exposure.shape
    cell_combo, cell_band = np.repeat(np.arange(n_combo), n_band), np.tile(np.arange(n_band), n_combo)
    cell_exp = exposure.ravel()
    bands_with = ev.sum(axis=0) > 0
    use = (cell_exp > 0) & bands_with[cell_band]
    kept = np.flatnonzero(bands_with)
    x_band = (cell_band[use, None] == kept[None, :]).astype(float)
    x_attr = np.column_stack([d[cell_combo[use]] for d in dummies])
    y = ev.ravel()[use]
    found: list[dict[str, float]] = [{} for _ in range(n)]
    zero = np.array([(x_attr[:, k] * y).sum() == 0 and x_attr[:, k].any() for k in range(n)])
    for k in np.flatnonzero(zero):
        found[k] = {"hr": 0.0, "ci_low": 0.0}
    rest = ~(x_attr[:, zero] > 0).any(axis=1)
    xa = x_attr[rest]
    # a level absent from the cells left, or present in all of them, cannot be estimated
    live = np.flatnonzero(~zero & xa.any(axis=0) & ~xa.all(axis=0))
    if y[rest].sum() > 0 and len(live):
        xb = x_band[rest]
        has = xb.any(axis=0)
        x = np.column_stack([xb[:, has], xa[:, live]])
        if np.linalg.matrix_rank(x) == x.shape[1]:  # else a level is confounded with bands
            fitted = _poisson_glm(y[rest], x, np.log(cell_exp[use][rest]), n_b=int(has.sum()), q=q)
            for k, est in zip(live, fitted, strict=True):
                found[k] = est
    return [{**dict.fromkeys(_ESTIMATES, math.nan), **est} for est in found]


def _poisson_glm(y: np.ndarray, x: np.ndarray, offset: np.ndarray, n_b: int, q: float
                 ) -> list[dict[str, float]]:
    """HR, interval, p-value and SE of log HR of the columns after the first `n_b` (NaN if the
    fit fails). Statsmodels is imported here, on first use, as it is slow to load."""
    sm = importlib.import_module("statsmodels.api")  # untyped: imported as a module object
    exceptions = importlib.import_module("statsmodels.tools.sm_exceptions")
    n = x.shape[1] - n_b
    with warnings.catch_warnings():
        for kind in (exceptions.ConvergenceWarning, exceptions.PerfectSeparationWarning, RuntimeWarning):
            warnings.simplefilter("ignore", kind)
        try:
            fit = sm.GLM(y, x, family=sm.families.Poisson(), offset=offset).fit()
        except (ValueError, np.linalg.LinAlgError, exceptions.PerfectSeparationError):
            return [dict.fromkeys(_ESTIMATES, math.nan)] * n
    coef = np.asarray(fit.params, dtype=float)[n_b:]
    se = np.asarray(fit.bse, dtype=float)[n_b:]
    p = np.asarray(fit.pvalues, dtype=float)[n_b:]
    with np.errstate(over="ignore", invalid="ignore"):
        hr, low, high = np.exp(coef), np.exp(coef - q * se), np.exp(coef + q * se)
    return [{"hr": float(hr[i]), "ci_low": float(low[i]), "ci_high": float(high[i]),
             "p_value": float(p[i]), "se_log_hr": float(se[i])} for i in range(n)]
