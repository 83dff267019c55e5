"""Scores of a forecast against what happened, and of two simple benchmarks beside it.

Pure functions on arrays and frames: no model and no run. A forecast is an ensemble (one value
per Monte Carlo replication) for each observed figure; it is scored by

- **coverage**: whether the actual lies inside the central 50, 80 and 90 % bands (the 25–75,
  10–90 and 5–95 % quantiles of the ensemble, ends included);
- **CRPS**, the continuous ranked probability score of the ensemble's empirical distribution,
  E|X − y| − ½ E|X − X′| (`scoringrules.crps_ensemble`, its default quantile-decomposition
  estimator, which gives exactly this);
- **WIS**, the weighted interval score over the three bands and the median (Bracher et al. 2021):
  (½ |y − m| + Σₖ αₖ/2 · ISₐₖ) ÷ (K + ½), with α = 0.5, 0.2, 0.1 and ISₐ the interval score of the
  central (1 − α) band (`scoringrules.interval_score`'s formula, through
  `scoringrules.weighted_interval_score` with these weights); with these weights WIS approximates
  the CRPS;
- **APE**, the absolute percentage error of the median, |m − y| ÷ |y| (a fraction; undefined
  for y = 0).

The benchmarks are point forecasts: the **last observed figure carried forward**, and a **linear
trend** fitted by least squares to the figures of the 24 months before the origin (as
Washington State's Caseload Forecast Council scores its forecasts) and read off at the test
figure's midpoint. A point forecast is an ensemble of one, so its CRPS and its WIS both equal its
absolute error; they are computed by the same functions. A target's probability is scored by
the Brier score, (p − outcome)²; a point forecast's implied probability is 0 or 1.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import scoringrules as sr  # type: ignore[import-untyped]

from sim.fitting.observations import STOCK, parse_period

BANDS = (0.5, 0.8, 0.9)
"""The central bands scored, as their nominal coverage."""
ALPHAS = np.array([1.0 - b for b in BANDS])
"""Each band's α: the probability outside it."""
WIS_MEDIAN_WEIGHT = 0.5
WIS_BAND_WEIGHTS = ALPHAS / 2.0
"""The weighted interval score's weights: ½ on the median's absolute error, αₖ/2 on each band."""
QUANTILES = (0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95)
QUANTILE_COLUMNS = tuple(f"p{round(q * 100):02d}" for q in QUANTILES)
BAND_COLUMNS = tuple(f"inside_{round(b * 100)}" for b in BANDS)
TREND_MONTHS = 24
"""The linear-trend benchmark is fitted to the figures of this many months before the origin."""
BENCHMARKS = ("carried_forward", "trend")
SCORES = ("crps", "wis", "ape")


def _bounds(band: float) -> tuple[str, str]:
    """The quantile columns of a central band: 0.8 → ('p10', 'p90')."""
    low = (1.0 - band) / 2.0
    return (QUANTILE_COLUMNS[QUANTILES.index(round(low, 10))],
            QUANTILE_COLUMNS[QUANTILES.index(round(1 - low, 10))])


def crps(actual: np.ndarray, ensemble: np.ndarray) -> np.ndarray:
    """CRPS of each row of `ensemble` [figure, member] against `actual` [figure]; NaN where either
    has a missing value."""
    actual = np.asarray(actual, dtype=float)
    ensemble = np.atleast_2d(np.asarray(ensemble, dtype=float))
    out = np.full(len(actual), np.nan)
    ok = np.isfinite(actual) & np.isfinite(ensemble).all(axis=1)
    if ok.any():
        out[ok] = np.atleast_1d(sr.crps_ensemble(actual[ok], ensemble[ok]))
    return out


def weighted_interval_score(actual: np.ndarray, median: np.ndarray, lower: np.ndarray,
                            upper: np.ndarray) -> np.ndarray:
    """WIS of each figure: `median` [figure], `lower` and `upper` [figure, band] in the order of BANDS.

    The median's term is added here rather than left to the library (scoringrules 0.10's NumPy
    backend adds the median itself instead of its absolute error), so the bands are scored by
    `scoringrules.weighted_interval_score` with the median's weight 0 and the result does not
    depend on the backend.
    """
    actual, median = np.asarray(actual, dtype=float), np.asarray(median, dtype=float)
    lower = np.atleast_2d(np.asarray(lower, dtype=float))
    upper = np.atleast_2d(np.asarray(upper, dtype=float))
    out = np.full(len(actual), np.nan)
    ok = (np.isfinite(actual) & np.isfinite(median)
          & np.isfinite(lower).all(axis=1) & np.isfinite(upper).all(axis=1))
    if ok.any():
        bands = np.atleast_1d(sr.weighted_interval_score(actual[ok], median[ok], lower[ok], upper[ok], ALPHAS,
                                                         w_median=0.0, w_alpha=WIS_BAND_WEIGHTS))
        out[ok] = bands + WIS_MEDIAN_WEIGHT * np.abs(actual[ok] - median[ok]) / (len(ALPHAS) + 0.5)
    return out


def absolute_percentage_error(actual: np.ndarray, point: np.ndarray) -> np.ndarray:
    """|point − actual| ÷ |actual| as a fraction; NaN where the actual is 0 or either is missing."""
    actual, point = np.asarray(actual, dtype=float), np.asarray(point, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(actual != 0, np.abs(point - actual) / np.abs(actual), np.nan)


def ensemble_scores(actual: np.ndarray, ensemble: np.ndarray) -> pd.DataFrame:
    """Per figure (a row of `ensemble` [figure, member]): mean, the quantiles, whether the actual
    lies inside each band, CRPS, WIS and the median's APE."""
    actual = np.asarray(actual, dtype=float)
    ensemble = np.atleast_2d(np.asarray(ensemble, dtype=float)).reshape(len(actual), -1)
    q = np.quantile(ensemble, QUANTILES, axis=1).T if ensemble.shape[1] else np.full((len(actual), 7), np.nan)
    frame = pd.DataFrame(q, columns=list(QUANTILE_COLUMNS))
    frame.insert(0, "mean", ensemble.mean(axis=1) if ensemble.shape[1] else np.nan)
    for band, column in zip(BANDS, BAND_COLUMNS, strict=True):
        low, high = _bounds(band)
        frame[column] = (frame[low].to_numpy() <= actual) & (actual <= frame[high].to_numpy())
    lower = frame[[_bounds(b)[0] for b in BANDS]].to_numpy()
    upper = frame[[_bounds(b)[1] for b in BANDS]].to_numpy()
    median = frame["p50"].to_numpy()
    frame["crps"] = crps(actual, ensemble)
    frame["wis"] = weighted_interval_score(actual, median, lower, upper)
    frame["ape"] = absolute_percentage_error(actual, median)
    return frame


def point_scores(actual: np.ndarray, point: np.ndarray) -> pd.DataFrame:
    """CRPS, WIS and APE of a point forecast (an ensemble of one: CRPS = WIS = |point − actual|);
    NaN where the point is missing."""
    point = np.asarray(point, dtype=float)
    bands = np.repeat(point[:, None], len(BANDS), axis=1)
    return pd.DataFrame({"crps": crps(actual, point[:, None]),
                         "wis": weighted_interval_score(actual, point, bands, bands),
                         "ape": absolute_percentage_error(actual, point)})


def month_number(label: str) -> int:
    """'2019-07' → months since year 0."""
    return int(label[:4]) * 12 + int(label[5:7]) - 1


def month_text(number: int) -> str:
    """The inverse of `month_number`."""
    return f"{number // 12:04d}-{number % 12 + 1:02d}"


def period_span(period: str) -> tuple[int, int]:
    """A period's first and last month as month numbers; ValueError if it is not a period."""
    bounds = parse_period(period)
    if bounds is None:
        raise ValueError(f"{period!r} is not a year, a month or a range of months")
    return month_number(bounds[0]), month_number(bounds[1])


def horizon(period: str, origin: str) -> int:
    """Months from the origin (1: the origin's own month) to the period's last month."""
    return period_span(period)[1] - month_number(origin) + 1


def carried_forward(history: pd.DataFrame, origin: str) -> float:
    """The last figure observed before `origin` (the latest to end; of those, the latest to start),
    from rows of period and value; NaN without one."""
    start = month_number(origin)
    spans = [(*period_span(str(p)), float(v))
             for p, v in zip(history["period"], history["value"], strict=True)]
    before = [s for s in spans if s[1] < start]
    return max(before, key=lambda s: (s[1], s[0]))[2] if before else float("nan")


def linear_trend(history: pd.DataFrame, origin: str, period: str, months: int = TREND_MONTHS
                 ) -> tuple[float, int]:
    """The least-squares line through the figures that lie wholly in the `months` months before
    `origin` (each at its period's midpoint), read off at `period`'s midpoint; and how many figures
    it was fitted to. NaN when fewer than two distinct midpoints are available."""
    start = month_number(origin)
    points = [((a + b) / 2.0, float(v)) for p, v in zip(history["period"], history["value"], strict=True)
              for a, b in [period_span(str(p))] if start - months <= a and b < start]
    x = np.array([p[0] for p in points])
    if len(np.unique(x)) < 2:
        return float("nan"), len(points)
    slope, intercept = np.polyfit(x, np.array([p[1] for p in points]), 1)
    first, last = period_span(period)
    return float(intercept + slope * (first + last) / 2.0), len(points)


def benchmarks(history: pd.DataFrame, tests: pd.DataFrame, origin: str) -> pd.DataFrame:
    """Both benchmarks' forecasts of each test figure (rows of period and state) from the observed
    `history` (rows of period, state and value of the same measure): carried_forward, trend and
    trend_figures (the figures the trend was fitted to)."""
    rows = []
    for period, state in zip(tests["period"], tests["state"], strict=True):
        own = history[history["state"] == state]
        trend, used = linear_trend(own, origin, str(period))
        rows.append({"carried_forward": carried_forward(own, origin), "trend": trend, "trend_figures": used})
    return pd.DataFrame(rows, columns=["carried_forward", "trend", "trend_figures"])


SCORE_COLUMNS = ("origin", "period", "horizon", "state", "actual", "mean", *QUANTILE_COLUMNS, *BAND_COLUMNS,
                 *SCORES, *(f"{b}{s}" for b in BENCHMARKS for s in ("", *(f"_{x}" for x in SCORES))),
                 "trend_figures")
"""The columns of scores.csv: one row per origin and observed figure."""


def score_figures(origin: str, periods: Sequence[str], states: Sequence[str], actual: np.ndarray,
                  ensemble: np.ndarray, history: pd.DataFrame) -> pd.DataFrame:
    """Score the forecast of each figure (`ensemble` [figure, member]) and both benchmarks (from
    `history`, the figures observed before `origin`: period, state, value) against `actual`."""
    actual = np.asarray(actual, dtype=float)
    head = pd.DataFrame({"origin": origin, "period": list(periods),
                         "horizon": [horizon(str(p), origin) for p in periods], "state": list(states),
                         "actual": actual})
    points = benchmarks(history, head, origin)
    parts = [head, ensemble_scores(actual, ensemble)]
    for name in BENCHMARKS:
        scored = point_scores(actual, points[name].to_numpy())
        parts.append(pd.DataFrame({name: points[name], **{f"{name}_{s}": scored[s] for s in SCORES}}))
    parts.append(points[["trend_figures"]])
    return pd.concat(parts, axis=1)[list(SCORE_COLUMNS)]


def probability_met(ensemble: np.ndarray, threshold: float, upper: bool) -> float:
    """The share of the ensemble at or below (`upper`) or at or above the threshold; NaN if empty."""
    values = np.asarray(ensemble, dtype=float)
    values = values[np.isfinite(values)]
    if not len(values):
        return float("nan")
    return float(np.mean(values <= threshold if upper else values >= threshold))


def brier(outcome: np.ndarray, probability: np.ndarray) -> np.ndarray:
    """The Brier score (p − outcome)² of each probability against its 0/1 outcome; NaN where p is."""
    outcome, probability = np.asarray(outcome, dtype=float), np.asarray(probability, dtype=float)
    out = np.full(len(outcome), np.nan)
    ok = np.isfinite(probability) & np.isfinite(outcome)
    if ok.any():
        out[ok] = np.atleast_1d(sr.brier_score(outcome[ok], probability[ok]))
    return out


BRIER_COLUMNS = ("origin", "target", "period", "state", "sense", "threshold", "actual", "met",
                 "probability", "brier",
                 *(f"{b}{s}" for b in BENCHMARKS for s in ("", "_probability", "_brier")))
"""The columns of brier.csv: one row per origin and target the test data decide."""


def score_target(origin: str, target: str, period: str, state: str, upper: bool, threshold: float,
                 actual: float, ensemble: np.ndarray, points: dict[str, float]) -> dict[str, object]:
    """A target's row of brier.csv: its outcome (met: 1, missed: 0), the forecast's probability
    (the ensemble's share meeting it) and each benchmark's (`points`: 1 if its point forecast meets
    the threshold, 0 if not, NaN without a forecast), with their Brier scores."""
    met = float(actual <= threshold if upper else actual >= threshold)
    row: dict[str, object] = {"origin": origin, "target": target, "period": period, "state": state,
                              "sense": "at_most" if upper else "at_least", "threshold": threshold,
                              "actual": actual, "met": int(met)}
    p = probability_met(ensemble, threshold, upper)
    row |= {"probability": p, "brier": brier(np.array([met]), np.array([p]))[0]}
    for name in BENCHMARKS:
        x = points[name]
        implied = probability_met(np.array([x]), threshold, upper) if np.isfinite(x) else float("nan")
        row |= {name: x, f"{name}_probability": implied,
                f"{name}_brier": brier(np.array([met]), np.array([implied]))[0]}
    return row


ALL = "all"
"""The summary's row over every figure (and every target)."""
SUMMARY_SCORES = {"crps": "crps", "wis": "wis", "ape": "mape"}
"""Each score of scores.csv and the name of its mean in summary.csv (the mean APE is the MAPE)."""
SUMMARY_COLUMNS = ("state", "figures", *(f"coverage_{round(b * 100)}" for b in BANDS),
                   *(f"{m}{suffix}" for m in SUMMARY_SCORES.values()
                     for suffix in ("", "_carried_forward", "_trend")),
                   "trend_forecasts", "targets", "brier", "brier_carried_forward", "brier_trend")
"""The columns of summary.csv: one row per state and one over all figures."""


def _means(scores: pd.DataFrame, brier_rows: pd.DataFrame, state: str) -> dict[str, object]:
    row: dict[str, object] = {"state": state, "figures": len(scores)}
    for band, column in zip(BANDS, BAND_COLUMNS, strict=True):
        row[f"coverage_{round(band * 100)}"] = scores[column].astype(float).mean() if len(scores) else np.nan
    for score, mean in SUMMARY_SCORES.items():
        for suffix, prefix in (("", ""), ("_carried_forward", "carried_forward_"), ("_trend", "trend_")):
            values = scores[f"{prefix}{score}"].astype(float) if len(scores) else pd.Series(dtype=float)
            row[f"{mean}{suffix}"] = values.mean() if values.notna().any() else np.nan
    row["trend_forecasts"] = int(scores["trend"].notna().sum()) if len(scores) else 0
    row["targets"] = len(brier_rows)
    for suffix, prefix in (("", ""), ("_carried_forward", "carried_forward_"), ("_trend", "trend_")):
        values = brier_rows[f"{prefix}brier"].astype(float) if len(brier_rows) else pd.Series(dtype=float)
        row[f"brier{suffix}"] = values.mean() if values.notna().any() else np.nan
    return row


def summarise(scores: pd.DataFrame, brier_rows: pd.DataFrame, states: Sequence[str] | None = None
              ) -> pd.DataFrame:
    """Mean coverage per band, mean CRPS, WIS and APE (MAPE) of the forecast and each benchmark,
    and mean Brier scores: one row per state (in order of appearance, or `states`) and one over all
    (`all`). Each mean is over the figures where that forecast is defined (the trend needs two
    earlier figures; `trend_forecasts` counts where it is); a state's Brier scores are those of
    the targets on it."""
    order = list(states) if states is not None else list(dict.fromkeys(scores["state"]))
    rows = [_means(scores[scores["state"] == s], brier_rows[brier_rows["state"] == s] if len(brier_rows)
                   else brier_rows, s) for s in order]
    rows.append(_means(scores, brier_rows, ALL))
    return pd.DataFrame(rows, columns=list(SUMMARY_COLUMNS))


EXPECTED = "expected_full_year_persons"
"""The observed measure of VIVE's benchmark: the full-year persons its model expects of the
municipality in a period, given its population and labour market (seed 001's benchmark table)."""

VIVE_COLUMNS = ("origin", "period", "state", "actual", "vive_expected", "actual_minus_vive", "model_mean",
                "model_p05", "model_p95", "actual_minus_model", "vive_inside_model_90")
"""vive.csv: per figure VIVE expects that was observed: the actual, VIVE's expectation and, for a
scored figure, the model's own (the backtest's forecast from the origin, fitted on what came
before), each gap; a figure the backtest did not forecast has no origin and no model columns."""


def vive_frame(scores: pd.DataFrame, observed: pd.DataFrame) -> pd.DataFrame:
    """Actual − expected per period and state (or group) by VIVE for every figure of `observed`
    (period, state, measure, value) that has both a VIVE expectation and an actual, with the
    model's expectation beside it where the backtest scored that figure (once per origin)."""
    def figures(measure: str) -> dict[tuple[str, str], float]:
        rows = observed[observed["measure"].astype(str) == measure]
        keys = zip(rows["period"].astype(str).str.strip(), rows["state"].astype(str).str.strip(), strict=True)
        return dict(zip(keys, rows["value"].astype(float), strict=True))

    expected, actuals = figures(EXPECTED), figures(STOCK)
    scored: dict[tuple[str, str], list[Any]] = {}
    for r in scores.to_dict("records"):
        scored.setdefault((str(r["period"]), str(r["state"])), []).append(r)
    rows = []
    for figure, vive in expected.items():
        period, state = figure
        found = scored.get(figure)
        actual = float(found[0]["actual"]) if found else actuals.get(figure)
        if actual is None:
            continue  # VIVE expects a figure the data does not give
        gap = {"period": period, "state": state, "actual": actual, "vive_expected": vive,
               "actual_minus_vive": actual - vive}
        if not found:
            rows.append({"origin": "", **gap, "model_mean": np.nan, "model_p05": np.nan, "model_p95": np.nan,
                         "actual_minus_model": np.nan, "vive_inside_model_90": pd.NA})
        for r in found or ():
            mean, lo, hi = float(r["mean"]), float(r["p05"]), float(r["p95"])
            rows.append({"origin": r["origin"], **gap, "model_mean": mean, "model_p05": lo, "model_p95": hi,
                         "actual_minus_model": actual - mean, "vive_inside_model_90": bool(lo <= vive <= hi)})
    rows.sort(key=lambda r: (str(r["period"]), str(r["state"]) != "total", str(r["state"])))
    return pd.DataFrame(rows, columns=list(VIVE_COLUMNS))
