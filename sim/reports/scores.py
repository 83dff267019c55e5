"""The report of `caseflow backtest`: report.html, report.xlsx and charts/ of a backtest folder.

A backtest folder holds `scores.csv` (one row per origin and observed figure: the forecast's
quantiles, band coverage, CRPS, WIS and APE beside the two benchmarks'), `summary.csv` (their
means per state and over all figures), `brier.csv` (targets the test figures decide) and
`run.json`, beside one `origin-<YYYY-MM>/` folder per origin (its fit and forecast run folder).
The report is built from those files alone (`caseflow report DIR` rebuilds it): the summary,
the median's absolute percentage error by horizon against the benchmarks', the bands' coverage
against their nominal level, the targets' Brier scores and every figure scored.
"""

from __future__ import annotations

import json
import math
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator
from openpyxl import Workbook

from sim.contract.catalogue import TOTAL
from sim.contract.errors import ScenarioError
from sim.contract.yamlio import load_yaml, read_text
from sim.reports.build import Reports, report_files, save_charts
from sim.reports.charts import BAND_COLOUR, DPI, NEUTRAL_COLOUR, OVERLAY_COLOURS, png
from sim.reports.html import Chart, Page, Section, chart, command_of, render, table
from sim.reports.language import (
    LANGS,
    Lang,
    check_lang,
    folder_lang,
    group_label,
    number,
    percent,
    state_label,
    timestamp,
)
from sim.reports.rundata import NotARunFolder
from sim.reports.workbook import Column, write_table

SCORES, SUMMARY, BRIER, FACTS = "scores.csv", "summary.csv", "brier.csv", "run.json"
VIVE = "vive.csv"
ERRORS_CHART = "mape-by-horizon.png"
COVERAGE_CHART = "band-coverage.png"
ALL = "all"
BANDS = (50, 80, 90)
TREND_COLOUR = OVERLAY_COLOURS["variant"]

_T: dict[str, tuple[str, str]] = {
    "title": ("Backtest af prognosen", "Forecast backtest"),
    "made": ("{origins} prognoseudgangspunkt(er): {list}. {runs} kørsler hver, frø {seed}; "
             "caseflow {version}, {created}.",
             "{origins} forecast origin(s): {list}. {runs} replications each, seed {seed}; "
             "caseflow {version}, {created}."),
    "from_origin": ("Hver prognose starter i udgangspunktets måned fra den observerede bestand, med de "
                    "værdier, der er estimeret på tallene før den.",
                    "Each forecast starts in the origin's month from the observed stock, with the values "
                    "fitted to the figures before it."),
    "from_start": ("Hver prognose kører fra scenariets start med de værdier, der er estimeret på tallene "
                   "før udgangspunktet (ikke fra den observerede bestand ved udgangspunktet).",
                   "Each forecast runs from the scenario's start with the values fitted to the figures "
                   "before the origin (not from the observed stock at the origin)."),
    "method": ("Båndene er de centrale 50, 80 og 90 % af kørslerne. CRPS er beregnet på kørslernes "
               "fordeling; WIS vægter medianens absolutte fejl med ½ og hvert bånds intervalscore med α/2 "
               "(α = 0,5, 0,2, 0,1). MAPE er medianens gennemsnitlige absolutte fejl i procent. "
               "Sammenlignet med to punktprognoser: det sidste observerede tal ført videre, og en lineær "
               "trend fittet til tallene fra de 24 måneder før udgangspunktet; for dem er CRPS og WIS den "
               "absolutte fejl.",
               "The bands are the central 50, 80 and 90 % of the replications. CRPS is that of the "
               "replications' distribution; WIS weights the median's absolute error by ½ and each band's "
               "interval score by α/2 (α = 0.5, 0.2, 0.1). MAPE is the median's mean absolute percentage "
               "error. Compared with two point forecasts: the last observed figure carried forward, and a "
               "linear trend fitted to the figures of the 24 months before the origin; for them CRPS and WIS "
               "are the absolute error."),
    "summary": ("Oversigt", "Summary"),
    "summary_note": ("Prognose / sidste observerede / trend. Et gennemsnit er over de tal, hvor prognosen "
                     "findes (trenden kræver to tidligere tal).",
                     "Forecast / last observed / trend. Each mean is over the figures where that forecast "
                     "exists (the trend needs two earlier figures)."),
    "state": ("Ydelse", "State"), "figures": ("Tal", "Figures"),
    "in_band": ("I {band} %-båndet", "In {band} % band"), "brier": ("Brier", "Brier"),
    "all": ("Alle tal", "All figures"),
    "errors_axis": ("Medianens absolutte procentfejl (gns.)", "Median's absolute percentage error (mean)"),
    "horizon_axis": ("Måneder efter udgangspunktet", "Months after the origin"),
    "errors_title": ("Fejl efter horisont", "Error by horizon"),
    "coverage_title": ("Båndenes dækning", "Coverage of the bands"),
    "coverage_axis": ("Andel af de faktiske tal i båndet", "Share of actuals inside the band"),
    "nominal": ("Nominel", "Nominal"), "forecast": ("Prognose", "Forecast"),
    "carried_forward": ("Sidste observerede", "Last observed"), "trend": ("Lineær trend", "Linear trend"),
    "targets": ("Mål afgjort af testtallene", "Targets the test figures decide"),
    "no_targets": ("Ingen af scenariets mål afgøres af testtallene (helårspersoner på Jobindsats-grundlag "
                   "for én ydelse, gruppe eller i alt, over en testperiode).",
                   "None of the scenario's targets is decided by the test figures (full-year persons on the "
                   "Jobindsats basis of one state, group or the total, over a test period)."),
    "target": ("Mål", "Target"), "period": ("Periode", "Period"), "threshold": ("Grænse", "Threshold"),
    "actual": ("Faktisk", "Actual"), "met": ("Nået", "Met"), "probability": ("Sandsynlighed", "Probability"),
    "yes": ("ja", "yes"), "no": ("nej", "no"),
    "all_figures": ("Alle scorede tal", "Every figure scored"), "origin": ("Udgangspunkt", "Origin"),
    "horizon": ("Md.", "h"), "median": ("Median", "Median"), "band_80": ("10–90 %", "10–90 %"),
    "inside": ("I 50/80/90 %", "In 50/80/90 %"), "command": ("Kommando", "Command"),
    "scores_sheet": ("Scorer", "Scores"), "targets_sheet": ("Mål", "Targets"),
}


def _t(key: str, lang: Lang) -> str:
    pair = _T.get(key)
    return key if pair is None else pair[LANGS.index(lang)]


@dataclass(frozen=True)
class BacktestData:
    """A backtest folder read back: its tables, facts and the scenario's state labels."""

    folder: Path
    scores: pd.DataFrame
    summary: pd.DataFrame
    brier: pd.DataFrame
    facts: dict[str, Any]
    state_specs: dict[str, Any]
    vive: pd.DataFrame = field(default_factory=pd.DataFrame)
    """vive.csv when VIVE expects some test figures (actual − expected by VIVE and by the model)."""

    @property
    def name(self) -> str:
        """The scenario's name."""
        return str(self.facts.get("scenario", self.folder.name))

    @property
    def origins(self) -> list[str]:
        """The origins, in order."""
        return [str(o) for o in dict.fromkeys(self.scores["origin"].astype(str))]


def is_backtest_folder(folder: Path) -> bool:
    """Whether `folder` is one `caseflow backtest` wrote (scores.csv and summary.csv in it)."""
    return (Path(folder) / SCORES).is_file() and (Path(folder) / SUMMARY).is_file()


def load_backtest(folder: Path) -> BacktestData:
    """Read a backtest folder; NotARunFolder names the first missing file."""
    folder = Path(folder)
    for name in (SCORES, SUMMARY, FACTS):
        if not (folder / name).is_file():
            raise NotARunFolder(f"{folder} is not a complete backtest folder: {name} is missing")
    facts = json.loads((folder / FACTS).read_text(encoding="utf-8"))
    brier = pd.read_csv(folder / BRIER) if (folder / BRIER).is_file() else pd.DataFrame()
    scores = pd.read_csv(folder / SCORES, dtype={"origin": str, "period": str, "state": str})
    specs: dict[str, Any] = {}
    first = next(iter(sorted(folder.glob("origin-*/forecast/scenario.yaml"))), None)
    if first is not None:
        try:
            data, _ = load_yaml(read_text(first))
        except (ScenarioError, yaml.YAMLError) as exc:
            raise NotARunFolder(f"{first} cannot be read: {exc}") from None
        specs = (data if isinstance(data, dict) else {}).get("states") or {}
    summary = pd.read_csv(folder / SUMMARY, dtype={"state": str})
    vive = (pd.read_csv(folder / VIVE, dtype={"origin": str, "period": str, "state": str})
            if (folder / VIVE).is_file() else pd.DataFrame())
    return BacktestData(folder, scores, summary, brier, facts, specs, vive)


def figure_label(code: str, lang: Lang, specs: dict[str, Any] | None = None) -> str:
    """A scored figure's state for people: a state's or the total's label, a group's, or 'all figures'."""
    if code == ALL:
        return _t("all", lang)
    if code.startswith("group:"):
        return group_label(code[len("group:"):], lang)
    return state_label(code, lang, specs) if code == TOTAL or specs is None or code in specs else code


# --- chart data and drawing ----------------------------------------------------------------------


@dataclass(frozen=True)
class HorizonErrors:
    """The error chart's numbers: mean APE of the forecast's median and of each benchmark by horizon."""

    horizons: tuple[int, ...]
    forecast: tuple[float, ...]
    carried_forward: tuple[float, ...]
    trend: tuple[float, ...]


def horizon_errors(data: BacktestData) -> HorizonErrors:
    """Mean APE per horizon over every origin and state, from scores.csv."""
    by = data.scores.groupby("horizon", sort=True)
    columns = ("ape", "carried_forward_ape", "trend_ape")
    means = {c: by[c].mean() for c in columns}
    return HorizonErrors(tuple(int(h) for h in means["ape"].index),
                         *(tuple(float(v) for v in means[c]) for c in columns))


def draw_horizon_errors(errors: HorizonErrors, lang: Lang) -> Figure:
    """Lines (dots for one horizon) of each forecast's mean APE by horizon."""
    fig = Figure(figsize=(7.6, 3.0), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    style = "o-" if len(errors.horizons) > 1 else "o"
    for values, colour, key in ((errors.forecast, BAND_COLOUR, "forecast"),
                                (errors.carried_forward, NEUTRAL_COLOUR, "carried_forward"),
                                (errors.trend, TREND_COLOUR, "trend")):
        if any(math.isfinite(v) for v in values):
            ax.plot(errors.horizons, values, style, color=colour, label=_t(key, lang), markersize=4, gid=key)
    if len(errors.horizons) <= 24:
        ax.set_xticks(errors.horizons)
    else:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    if errors.horizons:
        ax.set_xlim(min(errors.horizons) - 0.5, max(errors.horizons) + 0.5)
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: percent(v, lang, 0)))
    ax.set_ylim(bottom=0)
    ax.set_xlabel(_t("horizon_axis", lang), fontsize=8)
    ax.set_ylabel(_t("errors_axis", lang), fontsize=8)
    ax.set_title(_t("errors_title", lang), fontsize=11, loc="left")
    ax.tick_params(labelsize=8)
    ax.grid(axis="y", color="#dddddd", linewidth=0.6)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=7, frameon=False)
    return fig


def draw_coverage(observed: Sequence[float], lang: Lang) -> Figure:
    """Bars of each band's observed coverage (summary.csv's `all` row) with its nominal level marked."""
    fig = Figure(figsize=(5.0, 2.6), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    x = np.arange(len(BANDS))
    ax.bar(x, [v if math.isfinite(v) else 0.0 for v in observed], width=0.55, color=BAND_COLOUR,
           label=_t("forecast", lang), gid="observed")
    ax.hlines([b / 100 for b in BANDS], x - 0.35, x + 0.35, color="#1a202c", linewidth=1.5,
              label=_t("nominal", lang), zorder=3, gid="nominal")
    ax.set_xticks(x, [f"{b} %" for b in BANDS], fontsize=8)
    ax.set_ylim(0, 1.05)
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: percent(v, lang, 0)))
    ax.set_ylabel(_t("coverage_axis", lang), fontsize=8)
    ax.set_title(_t("coverage_title", lang), fontsize=11, loc="left")
    ax.tick_params(labelsize=8)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=7, frameon=False)
    return fig


def overall_coverage(data: BacktestData) -> list[float]:
    """Observed coverage of each band over all figures (summary.csv's `all` row)."""
    row = data.summary[data.summary["state"] == ALL]
    return [float(row[f"coverage_{b}"].iloc[0]) if len(row) else math.nan for b in BANDS]


# --- HTML ----------------------------------------------------------------------------------------------


def _num(value: Any, lang: Lang, decimals: int = 1) -> str:
    return number(float(value), lang, decimals)  # '–' when not a number


def _pct(value: Any, lang: Lang) -> str:
    return percent(float(value), lang, 0)


def _three(row: Any, key: str, show: Callable[[Any, Lang], str], lang: Lang) -> str:
    """The forecast's, the last observed figure's and the trend's `key` of summary.csv ('crps',
    'crps_carried_forward', 'crps_trend'), joined: '12,3 / 15,0 / 14,1'."""
    return " / ".join(show(row[f"{key}{s}"], lang) for s in ("", "_carried_forward", "_trend"))


def _brier_three(row: Any, lang: Lang) -> str:
    """The Brier scores of one row of brier.csv, whose benchmarks' columns lead with the
    benchmark ('brier', 'carried_forward_brier', 'trend_brier'; `sim.fitting.scores.BRIER_COLUMNS`)."""
    return " / ".join(_num(row[f"{p}brier"], lang, 2) for p in ("", "carried_forward_", "trend_"))


def summary_rows(data: BacktestData, lang: Lang) -> tuple[list[str], list[list[str]]]:
    """The summary table's headers and formatted rows (state, figures, coverage, CRPS, WIS, MAPE, Brier)."""
    headers = [_t("state", lang), _t("figures", lang), *(_t("in_band", lang).format(band=b) for b in BANDS),
               "CRPS", "WIS", "MAPE", _t("brier", lang)]
    rows = []
    for r in data.summary.to_dict("records"):
        brier = _three(r, "brier", lambda v, lg: _num(v, lg, 2), lang) if int(r["targets"]) else "–"
        rows.append([figure_label(str(r["state"]), lang, data.state_specs), str(int(r["figures"])),
                     *(_pct(r[f"coverage_{b}"], lang) for b in BANDS),
                     _three(r, "crps", _num, lang), _three(r, "wis", _num, lang),
                     _three(r, "mape", _pct, lang), brier])
    return headers, rows


def _brier_section(data: BacktestData, lang: Lang) -> Section:
    if data.brier.empty:
        return Section("targets", _t("targets", lang), (_t("no_targets", lang),))
    keys = ("origin", "target", "period", "threshold", "actual", "met", "probability")
    headers = [_t(k, lang) for k in keys]
    headers += [f"{_t(k, lang)}: {_t('probability', lang).lower()}" for k in ("carried_forward", "trend")]
    headers += [_t("brier", lang)]
    rows = [[str(r["origin"]), str(r["target"]), str(r["period"]), _num(r["threshold"], lang),
             _num(r["actual"], lang), _t("yes" if int(r["met"]) else "no", lang),
             _num(r["probability"], lang, 2),
             _num(r["carried_forward_probability"], lang, 0), _num(r["trend_probability"], lang, 0),
             _brier_three(r, lang)] for r in data.brier.to_dict("records")]
    numeric = [False, False, False, True, True, False, True, True, True, True]
    return Section("targets", _t("targets", lang), (), (table(headers, rows, numeric),))


VIVE_CHART = "vive-gap.png"


def draw_vive(vive: pd.DataFrame, lang: Lang, specs: dict[str, Any]) -> Figure:
    """Actual − expected per group, a panel per period: VIVE's bar beside the model's (where the
    backtest forecast that period; a label names the origin when several did)."""
    periods = list(dict.fromkeys(vive["period"]))
    widths = [max(2, int((vive["period"] == p).sum())) for p in periods]
    fig = Figure(figsize=(min(max(6.4, 0.8 * sum(widths) + 1.6), 16.0), 3.4), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, len(periods), sharey=True, squeeze=False, width_ratios=widths)[0]
    several = vive.groupby("period")["origin"].nunique().max() > 1
    for ax, period in zip(axes, periods, strict=True):
        rows = vive[vive["period"] == period]
        x = np.arange(len(rows))
        ax.bar(x - 0.2, rows["actual_minus_vive"], width=0.4, color=BAND_COLOUR, label="VIVE", gid="vive")
        ax.bar(x + 0.2, rows["actual_minus_model"], width=0.4, color=TREND_COLOUR,
               label="model" if lang == "en" else "modellen", gid="model")
        ax.axhline(0.0, color="#1a202c", linewidth=0.8)
        labels = [textwrap.fill(figure_label(str(r["state"]), lang, specs), 30, break_long_words=False)
                  + (f"\n{r['origin']}" if several and r["origin"] else "") for r in rows.to_dict("records")]
        ax.set_xticks(x, labels, fontsize=7, rotation=30, ha="right", rotation_mode="anchor")
        ax.set_xlim(-0.6, max(len(rows), 2) - 0.4)
        ax.set_title(str(period), fontsize=9, loc="left")
        ax.tick_params(labelsize=8)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
    axes[0].set_ylabel("faktisk − forventet" if lang == "da" else "actual − expected", fontsize=8)
    fig.suptitle("Faktisk − forventet: VIVE og modellen" if lang == "da" else
                 "Actual − expected: VIVE and the model", fontsize=11, x=0.01, ha="left")
    axes[-1].legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=7, frameon=False)
    return fig


def _vive_section(data: BacktestData, lang: Lang) -> Section | None:
    """VIVE's benchmark beside the model's: actual − expected per period and group, by each."""
    if data.vive.empty:
        return None
    da = lang == "da"
    headers = (["Periode", "Gruppe", "Faktisk", "VIVE forventet", "Faktisk − VIVE", "Model forventet",
                "Model 5–95 %", "Faktisk − model", "VIVE i modellens 90 %-bånd"] if da else
               ["Period", "Group", "Actual", "VIVE expected", "Actual − VIVE", "Model expected",
                "Model 5–95 %", "Actual − model", "VIVE inside the model's 90 % band"])
    rows = []
    for r in data.vive.to_dict("records"):
        forecast = not pd.isna(r["model_mean"])
        rows.append([str(r["period"]), figure_label(str(r["state"]), lang, data.state_specs),
                     _num(r["actual"], lang, 0), _num(r["vive_expected"], lang, 0),
                     _num(r["actual_minus_vive"], lang, 0), _num(r["model_mean"], lang, 0),
                     f"{_num(r['model_p05'], lang, 0)}–{_num(r['model_p95'], lang, 0)}" if forecast else "–",
                     _num(r["actual_minus_model"], lang, 0),
                     _t("yes" if _yes(r["vive_inside_model_90"]) else "no", lang) if forecast else "–"])
    note = ("Modellens forventning er backtestens prognose fra perioden før, kalibreret på det, der kom før; "
            "en periode, backtesten kalibrerede på i stedet for at forudsige, har kun VIVE's forskel."
            if da else "The model's expectation is the backtest's forecast from before the period, "
            "fitted on what came before it; a period the backtest fitted on rather than forecast has "
            "VIVE's gap only.")
    return Section("vive", vive_title(lang), (note,),
                   (table(headers, rows, [False, False, True, True, True, True, True, True, False]),))


def _yes(value: Any) -> bool:
    """A yes/no cell of vive.csv, as written (a bool) or read back (a bool or its text)."""
    return str(value).strip().lower() == "true"


def vive_title(lang: Lang) -> str:
    """The VIVE section's heading."""
    return ("VIVE's benchmark og modellens forventning" if lang == "da"
            else "VIVE's benchmark and the model's expectation")


def _figures_section(data: BacktestData, lang: Lang) -> Section:
    keys = ("origin", "period", "horizon", "state", "actual", "median", "band_80", "inside")
    headers = [*(_t(k, lang) for k in keys), "CRPS", "WIS", "APE", _t("carried_forward", lang),
               _t("trend", lang)]
    rows = []
    for r in data.scores.to_dict("records"):
        inside = "/".join(_t("yes" if bool(r[f"inside_{b}"]) else "no", lang) for b in BANDS)
        rows.append([str(r["origin"]), str(r["period"]), str(int(r["horizon"])),
                     figure_label(str(r["state"]), lang, data.state_specs), _num(r["actual"], lang, 0),
                     _num(r["p50"], lang), f"{_num(r['p10'], lang, 0)}–{_num(r['p90'], lang, 0)}", inside,
                     _num(r["crps"], lang), _num(r["wis"], lang), _pct(r["ape"], lang),
                     _num(r["carried_forward"], lang), _num(r["trend"], lang)])
    numeric = [False, False, True, False, True, True, True, False, True, True, True, True, True]
    return Section("figures", _t("all_figures", lang), (), (table(headers, rows, numeric),))


def build_backtest_html(data: BacktestData, charts: dict[str, bytes], lang: Lang) -> str:
    """The backtest's page: how it was made, the summary, the charts, targets and every figure."""
    f = data.facts
    made = _t("made", lang).format(origins=len(data.origins), list=", ".join(data.origins),
                                   runs=f.get("runs", "?"), seed=f.get("seed", "?"),
                                   version=f.get("caseflow_version", "?"),
                                   created=timestamp(f.get("created"), lang))
    start = _t("from_origin" if f.get("forecast_start") == "origin" else "from_start", lang)
    title = f"{data.name}: {_t('title', lang).lower()}"
    page = Page(f"{title} – caseflow", lang, title, made, ((start, ""), (_t("method", lang), "muted")),
                command_of(f), _t("command", lang))
    headers, rows = summary_rows(data, lang)
    numeric = [False] + [True] * (len(headers) - 1)
    summary = Section("summary", _t("summary", lang), (_t("summary_note", lang),),
                      (table(headers, rows, numeric, bold_first=_t("all", lang)),))
    summary_charts: list[Chart] = [chart(charts[name], _t(key, lang), key, wide=name == ERRORS_CHART)
                                   for name, key in ((ERRORS_CHART, "errors_title"),
                                                     (COVERAGE_CHART, "coverage_title")) if name in charts]
    vive = _vive_section(data, lang)
    vive_charts = [chart(charts[VIVE_CHART], vive_title(lang), "vive", wide=True)] if (
        vive is not None and VIVE_CHART in charts) else []
    return render("backtest.html", page=page, summary=summary, summary_charts=summary_charts,
                  brier=_brier_section(data, lang), vive=vive, vive_charts=vive_charts,
                  figures=_figures_section(data, lang))


# --- workbook -------------------------------------------------------------------------------------------


def _kind(column: str) -> str:
    if column.startswith(("coverage_", "inside_")) or column.endswith("ape"):
        return "share"
    if column in ("origin", "period", "state", "target", "sense"):
        return "text"
    if column in ("horizon", "figures", "targets", "trend_figures", "trend_forecasts", "met"):
        return "0"
    if "brier" in column or column.endswith("probability"):
        return "probability"
    return "persons"


def _sheet_columns(frame: pd.DataFrame) -> list[Column]:
    def value(column: str) -> Callable[[dict[str, Any]], Any]:
        def get(row: dict[str, Any]) -> Any:
            v = row[column]
            return bool(v) if column.startswith("inside_") else v
        return get
    return [Column(c, value(c), _kind(c)) for c in frame.columns]


def write_backtest_workbook(data: BacktestData, path: Path, lang: Lang) -> Path:
    """report.xlsx: the summary, every figure scored and the targets' Brier scores, one sheet each."""
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = _t("summary", lang)
    for title, frame in ((None, data.summary), (_t("scores_sheet", lang), data.scores),
                         (_t("targets_sheet", lang), data.brier)):
        sheet = ws if title is None else wb.create_sheet(title)
        write_table(sheet, frame.to_dict("records"), _sheet_columns(frame), lang)
    wb.save(path)
    return path


def write_backtest_report(folder: Path, lang: str = "da") -> Reports:
    """Read the backtest folder and (re)write its charts, workbook and HTML report in `lang` (the
    folder's own language as report.html, the other as report.<lang>.html: `report_files`)."""
    language = check_lang(lang)
    data = load_backtest(folder)
    files = report_files(data.folder, language, folder_lang(data.facts))
    charts = {ERRORS_CHART: png(draw_horizon_errors(horizon_errors(data), language)),
              COVERAGE_CHART: png(draw_coverage(overall_coverage(data), language))}
    if not data.vive.empty:
        charts[VIVE_CHART] = png(draw_vive(data.vive, language, data.state_specs))
    written = save_charts(data.folder, dict(charts), *files.under)
    workbook = write_backtest_workbook(data, files.workbook, language)
    files.html.write_text(build_backtest_html(data, charts, language), encoding="utf-8")
    return Reports(workbook, files.html, tuple(written), files.charts)
