"""Reports of the two studies: a sensitivity study's tornado chart and a goal-seek's search.

Both are built from the tables the studies write (sensitivity.csv and its factors, goal-seek.csv
and its steps) and the study's facts, never from the simulation: a chart function draws exactly
the rows it is given, a section function returns an HTML fragment (so a run's page could carry
it), and `write_*_report` writes the chart under charts/ and a small report.html in the study's
folder: one self-contained page (the chart inline, the style sheet inline, nothing fetched).
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Mapping, Sequence
from html import escape
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator

from sim.reports.charts import BAND_COLOUR, DPI, NEUTRAL_COLOUR, TARGET_COLOUR, TRAFFIC, png
from sim.reports.html import data_uri
from sim.reports.language import Lang, check_lang, number, probability, probability_with_margin
from sim.results.binomial import Z95

TORNADO = "tornado.png"
GOAL_SEEK_CHART = "goal-seek.png"
HTML = "report.html"
CHARTS = "charts"

_TERMS: dict[str, tuple[str, str]] = {
    "sensitivity": ("Følsomhed", "Sensitivity"),
    "goal_seek": ("Hvad skal der til?", "What it would take"),
    "probability": ("Sandsynlighed for at nå målet", "Probability of meeting the target"),
    "mean": ("Middelværdi", "Mean"),
    "parameter": ("Værdi", "Value"),
    "low": ("Lav", "Low"),
    "high": ("Høj", "High"),
    "point": ("Scenariets", "Scenario's"),
    "source": ("Kilde", "Source"),
    "assumption": ("antagelse", "assumption"),
    "uncertainty": ("usikker (± 2 sd)", "uncertain (± 2 sd)"),
    "given": ("angivet", "given"),
    "target": ("Mål", "Target"),
    "output": ("Udfald", "Output"),
    "made": ("{method}, {points} punkter × {runs} kørsler (de samme frø i hvert punkt), frø {seed}, "
             "caseflow {version}",
             "{method}, {points} points × {runs} runs (the same seeds at every point), seed {seed}, "
             "caseflow {version}"),
    "sobol_note": ("S1: den andel af udfaldets varians, værdien giver alene; ST: med dens samspil. "
                   "± er 95 %-intervallet (bootstrap).",
                   "S1: the share of the output's variance the value gives alone; ST: with its "
                   "interactions. ± is the 95% interval (bootstrap)."),
    "morris_note": ("μ*: den gennemsnitlige absolutte virkning af at flytte værdien; σ: hvor meget "
                    "den skifter med de andre. ± er 95 %-intervallet.",
                    "μ*: the mean absolute effect of moving the value; σ: how much it changes with the "
                    "others. ± is the 95% interval."),
    "of_probability": ("Sandsynligheden for at nå «{target}»", "The probability of meeting “{target}”"),
    "of_mean": ("Middelværdien af «{target}»", "The mean of “{target}”"),
    "moves_most": ("{subject} flyttes mest af {path}: {index}.",
                   "{subject} moves most with {path}: {index}."),
    "moves_none": ("{subject} flyttes ikke af de undersøgte værdier.",
                   "{subject} is not moved by the values studied."),
    "undefined": ("{subject} er ikke defineret i alle punkter.", "{subject} is not defined at every point."),
    "found": ("{lever} = {value} (interval {low} til {high}) giver P({target}) = {p} (ønsket mindst "
              "{wanted}) på {runs} kørsler; scenariet har {point}, en ændring på {change}.",
              "{lever} = {value} (interval {low} to {high}) gives P({target}) = {p} (wanted at least "
              "{wanted}) on {runs} runs; the scenario has {point}, a change of {change}."),
    "met_throughout": ("Målet nås med mindst {wanted} i hele intervallet {blow} til {bhigh}: selv med "
                       "{lever} = {value} er P({target}) = {p}.",
                       "The goal of at least {wanted} is reached throughout {blow} to {bhigh}: even "
                       "with {lever} = {value}, P({target}) = {p}."),
    "not_reached": ("Ingen værdi af {lever} fra {blow} til {bhigh} giver P({target}) på mindst {wanted}: "
                    "den bedste, {at}, giver {p}.",
                    "No value of {lever} from {blow} to {bhigh} gives P({target}) of at least {wanted}: "
                    "the best, {at}, gives {p}."),
    "not_confirmed": ("Med {lever} = {at}, den bedste grænse, er P({target}) = {p}: inden for "
                      "Monte Carlo-usikkerheden om {wanted} på {runs} kørsler, så det kan ikke "
                      "bekræftes inden for grænserne.",
                      "With {lever} = {at}, the best bound, P({target}) = {p}: within the Monte "
                      "Carlo error of {wanted} on {runs} runs, so it cannot be confirmed within the "
                      "bounds."),
    "seek_made": ("Søgt mellem {blow} og {bhigh} på de samme frø i hver værdi (frø {seed}): {evaluations} "
                  "afgørelser, {replications} kørsler i alt, caseflow {version}. Intervallet holder "
                  "den mindste ændring med mindst 95 % sikkerhed.",
                  "Searched from {blow} to {bhigh} on the same seeds at every value (seed {seed}): "
                  "{evaluations} verdicts, {replications} runs in all, caseflow {version}. The interval "
                  "holds the least change with at least 95% confidence."),
    "value": ("Værdi", "Value"),
    "runs": ("Kørsler", "Runs"),
    "verdict": ("Afgørelse", "Verdict"),
    "role": ("Hvad", "What"),
    "above": ("over målet", "above the goal"),
    "below": ("under målet", "below the goal"),
    "undecided": ("uafgjort", "undecided"),
    "bound": ("grænse", "bound"),
    "midpoint": ("midtpunkt", "midpoint"),
    "wanted": ("Ønsket sandsynlighed", "Wanted probability"),
    "interval": ("Interval", "Interval"),
}
STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 2rem auto;
       max-width: 60rem; padding: 0 1rem; color: #1a202c; line-height: 1.4; }
h2 { border-bottom: 1px solid #cbd5e0; padding-bottom: 0.2rem; }
.muted { color: #4a5568; font-size: 0.9rem; } .sentence { font-size: 1.1rem; }
figure { margin: 1rem 0; } img { max-width: 100%; height: auto; }
table { border-collapse: collapse; margin: 0.6rem 0 1.2rem; font-size: 0.9rem; }
th, td { padding: 0.25rem 0.6rem; border-bottom: 1px solid #e2e8f0; text-align: left; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
"""
VERDICT_COLOURS = {"above": TRAFFIC[0][0], "below": TRAFFIC[2][0], "undecided": TRAFFIC[1][0]}


def text(key: str, lang: Lang) -> str:
    """A phrase of the study reports in `lang`."""
    return _TERMS[key][0 if lang == "da" else 1]


def _image(png_bytes: bytes, alt: str, css: str) -> str:
    """An <img> with the PNG inline as a data URI."""
    return f'<img class="{css}" alt="{escape(alt)}" src="{data_uri(png_bytes)}">'


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]], numeric: Sequence[bool]) -> str:
    """An HTML table of formatted cells; `numeric` columns are right-aligned."""
    def cls(i: int) -> str:
        return ' class="n"' if numeric[i] else ""
    head = "".join(f"<th{cls(i)}>{escape(h)}</th>" for i, h in enumerate(headers))
    body = "".join("<tr>" + "".join(f"<td{cls(i)}>{escape(c)}</td>" for i, c in enumerate(row)) + "</tr>"
                   for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _page(title: str, lang: Lang, body: str) -> str:
    """A complete HTML document with `title` as its heading and `body` below it."""
    return (f'<!DOCTYPE html>\n<html lang="{lang}">\n<head>\n<meta charset="utf-8">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{escape(title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
            f"<h1>{escape(title)}</h1>\n{body}\n</body>\n</html>\n")


def lever_value(x: float, lang: Lang) -> str:
    """A lever's value: whole without decimals, else to three significant digits without trailing
    zeros (4,75; 0,5; 0,0125); '–' for NaN."""
    if not math.isfinite(x):
        return "–"
    if x == round(x):
        return number(x, lang, 0)
    return _three_digits(x, lang)


def _three_digits(x: float, lang: Lang) -> str:
    """`x` to three significant digits, trailing zeros dropped."""
    shown = number(x, lang, min(8, max(0, 2 - math.floor(math.log10(abs(x))))))
    mark = "," if lang == "da" else "."
    return shown.rstrip("0").rstrip(mark) if mark in shown else shown


def index_number(x: float, lang: Lang) -> str:
    """An index or effect to three significant digits (0,72; 54,3; 0,000412); '–' for NaN."""
    if not math.isfinite(x):
        return "–"
    return number(0, lang, 0) if x == 0 else _three_digits(x, lang)


def _signed(x: float, lang: Lang) -> str:
    shown = lever_value(x, lang)
    return shown if x <= 0 or shown == "–" else "+" + shown


def _wrapped(path: str) -> str:
    return "\n".join(textwrap.wrap(path, 38, break_on_hyphens=False)) or path


# ---------------------------------------------------------------------------------------------
# Sensitivity


def main_index(method: str) -> tuple[str, str, str | None]:
    """The index a method's bars show, its half-width column and the inner bar's (S1) or None."""
    return ("ST", "ST_conf", "S1") if method == "sobol" else ("mu_star", "mu_star_conf", None)


def draw_tornado(indices: pd.DataFrame, lang: Lang) -> Figure:
    """A row per target, a panel per output: each value's index as a bar, largest on top, with its
    95 % half-width (Sobol: ST, S1 inside it; Morris: μ*, σ as a dot)."""
    targets = list(dict.fromkeys(indices["target"]))
    outputs = list(dict.fromkeys(indices["output"]))
    method = str(indices["method"].iloc[0]) if len(indices) else "sobol"
    key, conf, inner = main_index(method)
    n_factors = max(1, indices["parameter"].nunique())
    fig = Figure(figsize=(10, max(1, len(targets)) * (0.9 + 0.42 * n_factors)), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(max(1, len(targets)), max(1, len(outputs)), squeeze=False)
    for r, name in enumerate(targets):
        for c, output in enumerate(outputs):
            ax = axes[r][c]
            part = indices[(indices["target"] == name) & (indices["output"] == output)]
            part = part.assign(_order=part[key].fillna(-1.0)).sort_values("_order", ascending=True)
            y = np.arange(len(part))
            values = part[key].to_numpy(dtype=float)
            ax.barh(y, np.nan_to_num(values), xerr=np.nan_to_num(part[conf].to_numpy(dtype=float)),
                    color="#bee3f8", edgecolor=BAND_COLOUR, height=0.6, capsize=3, label=key)
            if inner is not None:
                ax.barh(y, np.nan_to_num(part[inner].to_numpy(dtype=float)), color=BAND_COLOUR, height=0.3,
                        label=inner)
            else:
                ax.plot(part["sigma"].to_numpy(dtype=float), y, "o", color=TARGET_COLOUR, markersize=4,
                        label="σ")
            ax.set_yticks(y, [_wrapped(str(p)) for p in part["parameter"]], fontsize=7)
            ax.axvline(0, color=NEUTRAL_COLOUR, linewidth=0.8)
            if not np.nan_to_num(values).any():
                ax.set_xlim(0, 1)
            ax.xaxis.set_major_locator(MaxNLocator(4))
            ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: index_number(v, lang)))
            ax.set_title(textwrap.fill(f"{name}: {text(output, lang).lower()}", 48), fontsize=8)
            ax.tick_params(axis="x", labelsize=7)
            for side in ("top", "right"):
                ax.spines[side].set_visible(False)
            if r == 0 and c == 0:
                ax.legend(fontsize=7, frameon=False, loc="lower right")
    return fig


def _index_text(row: Mapping[str, Any] | pd.Series, method: str, lang: Lang) -> str:
    if method == "sobol":
        return (f"ST {probability_with_margin(float(row['ST']), float(row['ST_conf']), lang)}, "
                f"S1 {probability_with_margin(float(row['S1']), float(row['S1_conf']), lang)}")
    return f"μ* {_with_conf(row, 'mu_star', lang)}, σ {index_number(float(row['sigma']), lang)}"


def _with_conf(row: Mapping[Any, Any] | pd.Series, key: str, lang: Lang) -> str:
    """An index with its 95 % half-width: '1,13 ± 0,347'."""
    return f"{index_number(float(row[key]), lang)} ± {index_number(float(row[key + '_conf']), lang)}"


def sensitivity_lines(indices: pd.DataFrame, lang: Lang) -> list[str]:
    """A sentence per target and output: the value that moves it most, with its indices."""
    lines = []
    for (name, output), part in indices.groupby(["target", "output"], sort=False):
        method = str(part["method"].iloc[0])
        key = main_index(method)[0]
        words = {"subject": text(f"of_{output}", lang).format(target=name)}
        if part[key].isna().any():
            lines.append(text("undefined", lang).format(**words))
        elif not (part[key] > 0).any():
            lines.append(text("moves_none", lang).format(**words))
        else:
            top = part.iloc[int(np.argmax(part[key].to_numpy(dtype=float)))]
            lines.append(text("moves_most", lang).format(**words, path=top["parameter"],
                                                          index=_index_text(top, method, lang)))
    return lines


def sensitivity_section(indices: pd.DataFrame, factors: pd.DataFrame, facts: Mapping[str, Any],
                        tornado_png: bytes | None, lang: Lang) -> str:
    """The study as an HTML fragment: how it was made, a sentence per target and output, the
    values studied, the tornado chart and every index."""
    method = str(facts.get("method", "sobol"))
    made = text("made", lang).format(method=method.capitalize(), points=facts.get("points", "?"),
                                     runs=facts.get("runs", "?"), seed=facts.get("seed", "?"),
                                     version=facts.get("caseflow_version", "?"))
    out = [f'<section id="sensitivity"><h2>{escape(text("sensitivity", lang))}</h2>',
           f'<p class="muted">{escape(made)}</p><ul>']
    out += [f"<li>{escape(line)}</li>" for line in sensitivity_lines(indices, lang)]
    out.append("</ul>")
    out.append(_table([text(k, lang) for k in ("parameter", "low", "point", "high", "source")],
                     [[str(r["parameter"]), *(lever_value(float(r[k]), lang) for k in ("low", "point",
                                                                                       "high")),
                       text(str(r["source"]), lang)]
                      for r in factors.to_dict("records")], [False, True, True, True, False]))
    if tornado_png is not None:
        out.append(f"<figure>{_image(tornado_png, text('sensitivity', lang), 'tornado')}</figure>")
    out.append(f'<p class="muted">{escape(text(method + "_note", lang))}</p>')
    columns = ["S1", "ST"] if method == "sobol" else ["mu_star", "sigma"]
    rows = []
    for r in indices.to_dict("records"):
        if method == "sobol":
            cells = [probability_with_margin(float(r["S1"]), float(r["S1_conf"]), lang),
                     probability_with_margin(float(r["ST"]), float(r["ST_conf"]), lang)]
        else:
            cells = [_with_conf(r, "mu_star", lang), index_number(float(r["sigma"]), lang)]
        rows.append([str(r["target"]), text(str(r["output"]), lang), str(r["parameter"]), *cells])
    out.append(_table([text("target", lang), text("output", lang), text("parameter", lang),
                      *("μ*" if c == "mu_star" else "σ" if c == "sigma" else c for c in columns)],
                     rows, [False, False, False, True, True]))
    return "".join(out) + "</section>"


def write_sensitivity_report(folder: Path, indices: pd.DataFrame, factors: pd.DataFrame,
                             facts: Mapping[str, Any], lang: str = "da") -> list[Path]:
    """charts/tornado.png and report.html in the study's folder; the paths written."""
    language = check_lang(lang)
    chart = png(draw_tornado(indices, language)) if len(indices) else None
    written = []
    if chart is not None:
        (folder / CHARTS).mkdir(exist_ok=True)
        (folder / CHARTS / TORNADO).write_bytes(chart)
        written.append(folder / CHARTS / TORNADO)
    title = f"{facts.get('name', '')} – {text('sensitivity', language)}"
    html = folder / HTML
    html.write_text(_page(title, language, sensitivity_section(indices, factors, facts, chart, language)),
                    encoding="utf-8")
    return [html, *written]


# ---------------------------------------------------------------------------------------------
# Goal-seek


def goal_seek_sentence(row: Mapping[Any, Any] | pd.Series, lang: Lang) -> str:
    """The answer in one sentence: the value, its interval and the probability reached there, or
    plainly that no value within the bounds reaches the goal."""
    status = str(row["status"])
    p = probability_with_margin(float(row["probability"]), Z95 * float(row["probability_se"]), lang)
    return text(status, lang).format(
        lever=row["lever"], target=row["target"], wanted=probability(float(row["wanted"]), lang), p=p,
        value=lever_value(float(row["value"]), lang), low=lever_value(float(row["low"]), lang),
        high=lever_value(float(row["high"]), lang), runs=int(row["runs"]),
        point=lever_value(float(row["point"]), lang), change=_signed(float(row["change"]), lang),
        at=lever_value(float(row["probability_at"]), lang), blow=lever_value(float(row["bound_low"]), lang),
        bhigh=lever_value(float(row["bound_high"]), lang))


def draw_goal_seek(summary: pd.DataFrame, steps: pd.DataFrame, lang: Lang) -> Figure:
    """Each verdict's probability against the lever's value (95 % bars, coloured by verdict),
    the wanted probability and the interval found."""
    row = summary.iloc[0]
    fig = Figure(figsize=(7.6, 4.2), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    if math.isfinite(float(row["low"])) and float(row["high"]) > float(row["low"]):
        ax.axvspan(float(row["low"]), float(row["high"]), color="#bee3f8", alpha=0.6,
                   label=text("interval", lang))
    ax.axhline(float(row["wanted"]), color=TARGET_COLOUR, linestyle="--", linewidth=1,
               label=text("wanted", lang))
    for verdict, part in steps.groupby("verdict", sort=False):
        ax.errorbar(part["value"].to_numpy(dtype=float), part["probability"].to_numpy(dtype=float),
                    yerr=Z95 * part["probability_se"].to_numpy(dtype=float), fmt="o",
                    color=VERDICT_COLOURS.get(str(verdict), NEUTRAL_COLOUR), capsize=3, markersize=4,
                    label=text(str(verdict), lang))
    if math.isfinite(float(row["value"])):
        ax.axvline(float(row["value"]), color=BAND_COLOUR, linewidth=1)
    ax.set_ylim(-0.03, 1.03)
    ax.set_xlabel(textwrap.fill(str(row["lever"]), 70), fontsize=8)
    ax.set_ylabel(text("probability", lang), fontsize=8)
    ax.set_title(textwrap.fill(str(row["target"]), 70), fontsize=9)
    ax.tick_params(labelsize=8)
    ax.legend(fontsize=7, frameon=False)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    return fig


def goal_seek_section(summary: pd.DataFrame, steps: pd.DataFrame, facts: Mapping[str, Any],
                      chart_png: bytes | None, lang: Lang) -> str:
    """The answer as an HTML fragment: the sentence, how it was searched, the chart and each verdict."""
    row = summary.iloc[0].to_dict()
    made = text("seek_made", lang).format(
        blow=lever_value(float(row["bound_low"]), lang), bhigh=lever_value(float(row["bound_high"]), lang),
        seed=facts.get("seed", "?"), evaluations=int(row["evaluations"]),
        replications=int(row["replications"]), version=facts.get("caseflow_version", "?"))
    out = [f'<section id="goal-seek"><h2>{escape(text("goal_seek", lang))}</h2>',
           f'<p class="sentence">{escape(goal_seek_sentence(row, lang))}</p>',
           f'<p class="muted">{escape(made)}</p>']
    if chart_png is not None:
        out.append(f"<figure>{_image(chart_png, text('goal_seek', lang), 'goal-seek')}</figure>")
    rows = [[str(int(s["step"])), text(str(s["role"]), lang),
             lever_value(float(s["value"]), lang), str(int(s["runs"])),
             probability_with_margin(float(s["probability"]), Z95 * float(s["probability_se"]), lang),
             text(str(s["verdict"]), lang)] for s in steps.to_dict("records")]
    out.append(_table(["#", text("role", lang), text("value", lang), text("runs", lang),
                      text("probability", lang), text("verdict", lang)], rows,
                     [True, False, True, True, True, False]))
    return "".join(out) + "</section>"


def write_goal_seek_report(folder: Path, summary: pd.DataFrame, steps: pd.DataFrame,
                           facts: Mapping[str, Any], lang: str = "da") -> list[Path]:
    """charts/goal-seek.png and report.html in the study's folder; the paths written."""
    language = check_lang(lang)
    chart = png(draw_goal_seek(summary, steps, language))
    (folder / CHARTS).mkdir(exist_ok=True)
    (folder / CHARTS / GOAL_SEEK_CHART).write_bytes(chart)
    title = f"{facts.get('name', '')} – {text('goal_seek', language)}"
    html = folder / HTML
    html.write_text(_page(title, language, goal_seek_section(summary, steps, facts, chart, language)),
                    encoding="utf-8")
    return [html, folder / CHARTS / GOAL_SEEK_CHART]
