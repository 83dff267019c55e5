"""The path of each target's probability through the year, from a tracked forecast's track.csv.

A folder `caseflow track` wrote holds track.csv: every target's probability as the scenario
forecast it from its start, and as each restart from the actuals through a month of the year
forecast it (`sim.fitting.track`). The reports read it from the folder, as they read every file:
a chart of the probabilities by the month each forecast starts, with their Wilson 95 % intervals
(`track_series`, `draw_track`), and a table of them, a target a row and a forecast a column, in
the HTML page, the workbook (sheet Sporing / Track, one row per forecast and target) and the
console. A target the actuals cannot measure shows "–" once its period has begun, and one the
actuals decide shows its probability (0 or 1) with "afgjort" / "decided".
"""

from __future__ import annotations

import math
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FixedLocator, FuncFormatter
from openpyxl.worksheet.worksheet import Worksheet
from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from sim.reports.charts import DPI, WIDE, month_index, month_label
from sim.reports.html import Section, table
from sim.reports.language import (
    Lang,
    folder_lang,
    month_date,
    month_name,
    percent,
    probability,
    probability_with_margin,
)
from sim.reports.rundata import RunData
from sim.reports.texts import interval_margin
from sim.reports.workbook import Column, write_table

TRACK = "track.csv"
"""The path's file in a tracked forecast's folder."""
CHART = "track.png"

_TERMS: dict[str, tuple[str, str]] = {
    "title": ("Sporing mod de faktiske tal", "Tracking against the actuals"),
    "plan": ("Planen", "Plan"),
    "through": ("t.o.m. {month}", "to {month}"),
    "met": ("nået", "met"),
    "missed": ("ikke nået", "missed"),
    "decided": ("afgjort", "decided"),
    "target": ("Mål", "Target"),
    "forecast_from": ("Prognosen starter", "Forecast starts"),
    "actuals_through": ("Faktiske tal til og med", "Actuals through"),
    "runs": ("Kørsler", "Runs"),
    "status": ("Status", "Status"),
    "probability": ("Sandsynlighed", "Probability"),
    "se": ("Standardfejl", "Standard error"),
    "low": ("95 %-interval, fra", "95% interval, from"),
    "high": ("95 %-interval, til", "95% interval, to"),
    "mean": ("Middel", "Mean"),
    "axis": ("Sandsynlighed for at nå målet", "Probability of meeting the target"),
    "sheet": ("Sporing", "Track"),
    "console_title": ("Sporing: P(nået) som planen forudsagde det, og efter de faktiske tal for hver måned "
                      "af {year}",
                      "Tracking: P(met) as the plan forecast it, and after the actuals of each month of "
                      "{year}"),
    "console_widest": ("Her er ± højst {first} med {first_runs} kørsler og {last} med den sidste prognoses "
                       "{last_runs}.",
                       "Here ± is at most {first} with {first_runs} runs and {last} with the last forecast's "
                       "{last_runs}."),
    "explained": (
        "Sandsynligheden for hvert mål, som den så ud fra hver måned: først scenariets egen prognose "
        "fra dets start, så genstartet fra de faktiske tal til og med hver måned i året ({path} kørsler "
        "hver; den sidste, {runs} kørsler, er rapportens prognose). ± er 95 %-intervallet over "
        "kørslerne. Et mål, de faktiske tal ikke måler (medfinansiering, udgifter, varigheder), følges "
        "ikke, når dets periode er begyndt (–).",
        "Each target's probability as it looked from each month: first the scenario's own forecast "
        "from its start, then restarted from the actuals through each month of the year ({path} runs "
        "each; the last, {runs} runs, is this report's forecast). ± is the 95% interval over the runs. "
        "A target the actuals do not measure (co-financing, costs, durations) is not tracked once its "
        "period has begun (–)."),
}


def text(key: str, lang: Lang) -> str:
    """A phrase of the track reports in `lang`."""
    return _TERMS[key][0 if lang == "da" else 1]


def read_track(folder: Path) -> pd.DataFrame | None:
    """track.csv of a run folder, or None when the folder is not a tracked forecast's."""
    path = Path(folder) / TRACK
    if not path.is_file():
        return None
    return pd.read_csv(path, dtype={"through": str, "forecast_from": str}, keep_default_na=False,
                       na_values={c: [""] for c in ("probability_met", "probability_se", "probability_low95",
                                                    "probability_high95", "mean", "p10", "p50", "p90")})


@dataclass(frozen=True)
class TrackSeries:
    """What the chart draws: per target, its probability by the month each forecast starts."""

    targets: tuple[str, ...]
    months: tuple[tuple[str, ...], ...]
    """Per target: the forecasts' first months (`YYYY-MM`) where its probability is known."""
    probabilities: tuple[np.ndarray, ...]
    low95: tuple[np.ndarray, ...]
    high95: tuple[np.ndarray, ...]


def track_series(frame: pd.DataFrame) -> TrackSeries:
    """The chart's numbers from track.csv: every target with a known probability somewhere."""
    names, months, p, low, high = [], [], [], [], []
    for name in dict.fromkeys(frame["target"]):
        rows = frame[(frame["target"] == name) & frame["probability_met"].notna()]
        if rows.empty:
            continue
        names.append(str(name))
        months.append(tuple(rows["forecast_from"]))
        p.append(rows["probability_met"].to_numpy(dtype=float))
        low.append(rows["probability_low95"].to_numpy(dtype=float))
        high.append(rows["probability_high95"].to_numpy(dtype=float))
    return TrackSeries(tuple(names), tuple(months), tuple(p), tuple(low), tuple(high))


def draw_track(series: TrackSeries, lang: Lang) -> Figure:
    """Each target's probability (a line with dots; its 95 % interval as error bars) by the month
    its forecast starts. Target i's line has the gid 'track-<i>'."""
    fig = Figure(figsize=(WIDE, 3.2), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    every = sorted({month_index(m) for months in series.months for m in months})
    for i, name in enumerate(series.targets):
        x = np.array([month_index(m) for m in series.months[i]], dtype=float) + 0.5 + 0.06 * (i - 1)
        p = series.probabilities[i]
        err = np.vstack([np.nan_to_num(p - series.low95[i]), np.nan_to_num(series.high95[i] - p)])
        bars = ax.errorbar(x, p, yerr=np.clip(err, 0.0, None), fmt="-o", capsize=3, markersize=4,
                           linewidth=1.5, label=textwrap.shorten(name, 60))
        bars.lines[0].set_gid(f"track-{i}")
    ax.axhline(0.5, color="#a0aec0", linewidth=0.8, linestyle="--")
    ax.set_ylim(-0.03, 1.03)
    ax.yaxis.set_major_locator(FixedLocator([0, 0.25, 0.5, 0.75, 1.0]))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: percent(v, lang, 0)))
    if every:
        ax.set_xlim(every[0] - 0.2, every[-1] + 1.2)
        ax.xaxis.set_major_locator(FixedLocator([m + 0.5 for m in every]))
        ax.set_xticklabels([month_name(month_label(m), lang) for m in every], fontsize=8, rotation=0)
    ax.tick_params(axis="y", labelsize=8)
    ax.set_xlabel(text("forecast_from", lang), fontsize=8)
    ax.set_ylabel(text("axis", lang), fontsize=8)
    ax.grid(axis="y", color="#dddddd", linewidth=0.6)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.18), fontsize=7, frameon=False, ncol=1)
    return fig


def cell(row: dict[str, Any], lang: Lang, margin: bool = True) -> str:
    """A target's probability from one forecast: '0,58 ± 0,07' (without `margin`: '0,58'), 'nået
    (afgjort)' when the actuals decide it, '–' when it is not tracked."""
    p = float(row["probability_met"])
    if row["status"] == "observed" and math.isfinite(p):
        outcome = text("met" if p >= 0.5 else "missed", lang)
        return f"{outcome} ({text('decided', lang)})" if margin else outcome
    low, high = float(row["probability_low95"]), float(row["probability_high95"])
    return probability_with_margin(p, interval_margin(p, low, high) if margin else math.nan, lang)


def forecasts(frame: pd.DataFrame, lang: Lang) -> list[tuple[str, str]]:
    """The forecasts in order, each (through, its column heading)."""
    out = []
    for through in dict.fromkeys(frame["through"]):
        label = (text("plan", lang) if not through
                 else text("through", lang).format(month=month_name(str(through), lang)))
        out.append((str(through), label))
    return out


def track_table(frame: pd.DataFrame, lang: Lang, margin: bool = True) -> tuple[list[str], list[list[str]]]:
    """Headings and rows of the path's table: a target a row, a forecast a column (without
    `margin`: the probabilities alone, under the months' short names)."""
    columns = forecasts(frame, lang)
    records: list[dict[str, Any]] = frame.to_dict("records")  # type: ignore[assignment]
    by = {(str(r["target"]), str(r["through"])): r for r in records}
    rows = [[str(name), *(cell(by[(str(name), t)], lang, margin) if (str(name), t) in by else ""
                          for t, _ in columns)]
            for name in dict.fromkeys(frame["target"])]
    labels = [label if margin or not t else month_name(t, lang)[:3] for t, label in columns]
    return [text("target", lang), *labels], rows


def _sentence(frame: pd.DataFrame, lang: Lang) -> str:
    runs = frame.drop_duplicates("through")["runs"].tolist()
    return text("explained", lang).format(path=runs[0] if len(runs) > 1 else runs[-1], runs=runs[-1])


def track_section(frame: pd.DataFrame, lang: Lang) -> Section:
    """The HTML page's section: what the path shows and its table (the chart is in the page's grid)."""
    headers, rows = track_table(frame, lang)
    return Section("track", text("title", lang), (_sentence(frame, lang),),
                   (table(headers, rows, [False] + [True] * (len(headers) - 1)),))


def track_sheet(ws: Worksheet, frame: pd.DataFrame, lang: Lang) -> None:
    """The workbook's sheet: one row per forecast and target, as track.csv."""
    def number(name: str, kind: str) -> Column:
        return Column(text(name, lang), lambda r: r[{"probability": "probability_met", "se": "probability_se",
                                                     "low": "probability_low95", "high": "probability_high95",
                                                     "mean": "mean"}[name]], kind)

    columns = [
        Column(text("forecast_from", lang), lambda r: month_date(str(r["forecast_from"])), "month"),
        Column(text("actuals_through", lang),
               lambda r: month_date(str(r["through"])) if r["through"] else text("plan", lang),
               lambda r: "month" if r["through"] else "text"),
        Column(text("runs", lang), lambda r: int(r["runs"]), "general"),
        Column(text("target", lang), lambda r: str(r["target"]), "text"),
        Column(text("status", lang), lambda r: str(r["status"]), "text"),
        number("probability", "probability"), number("se", "probability"), number("low", "probability"),
        number("high", "probability"), number("mean", "general"),
    ]
    write_table(ws, frame.to_dict("records"), columns, lang)


def print_track(run: RunData, console: Console, lang: str | None = None) -> None:
    """The path's table on the console in `lang` (default: the run's language), when the folder has one."""
    frame = read_track(run.folder)
    if frame is None or frame.empty:
        return
    language: Lang = lang if lang in ("da", "en") else folder_lang(run.facts)  # type: ignore[assignment]
    headers, rows = track_table(frame, language, margin=False)
    year = str(frame["through"].iloc[-1])[:4]
    out = Table(title=text("console_title", language).format(year=year), box=box.SIMPLE_HEAD)
    for i, name in enumerate(headers):
        out.add_column(escape(name), justify="left" if i == 0 else "right", overflow="fold",
                       min_width=16 if i == 0 else max(len(name), *(len(r[i]) for r in rows)), no_wrap=i > 0)
    for row in rows:
        out.add_row(*(escape(c) for c in row))
    console.print(out)
    widest = [_widest(frame[frame["through"] == through]) for through in dict.fromkeys(frame["through"])]
    runs = frame.drop_duplicates("through")["runs"].tolist()
    console.print(_sentence(frame, language) + " " + text("console_widest", language).format(
        first=probability(widest[0], language), first_runs=runs[0], last=probability(widest[-1], language),
        last_runs=runs[-1]), markup=False, highlight=False)


def _widest(part: pd.DataFrame) -> float:
    """The widest 95 % margin among one forecast's targets (NaN when none is known)."""
    margins = [interval_margin(float(p), float(lo), float(hi)) for p, lo, hi in zip(
        part["probability_met"], part["probability_low95"], part["probability_high95"], strict=True)]
    known = [m for m in margins if math.isfinite(m)]
    return max(known) if known else math.nan
