"""The comparison report of `caseflow compare`: report.xlsx, report.html and charts/ of the pair.

A comparison folder holds `differences.csv` (paired differences variant − base, documented by
`sim.results.differences.DIFFERENCE_COLUMNS`) beside two complete run folders, `base/` and
`variant/`. The report is built from those files alone (`caseflow report DIR` rebuilds it). The
page (template `comparison.html`) opens, as a run's, with the budget: per benefit and year both
runs' full-year persons and net DKK with the paired difference and its 95 % interval; then per
target one sentence with both probabilities and the difference, the programmes of both runs,
the inputs the variant changes, and last the charts: the targets' differences as dots with
their intervals, and each state's and the total's median paths with their 10–90 % bands
overlaid. Charts are picked (`overlay_series`, `difference_dots`) and drawn
(`charts.draw_overlay`, `charts.draw_differences`) in two steps, as in a run report; the
workbook is `sim.reports.comparebook`.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from sim.contract.catalogue import TOTAL
from sim.reports.budget import price_note
from sim.reports.build import Reports, report_files, save_charts
from sim.reports.charts import (
    DifferenceDots,
    FanSeries,
    OverlaySeries,
    draw_differences,
    draw_overlay,
    fan_series,
    png,
    traffic_colour,
)
from sim.reports.comparebook import input_changes, pair_frames, write_comparison_workbook
from sim.reports.comparedata import (
    BASE,
    NUMBERS,
    VARIANT,
    ComparisonData,
    PairLine,
    TargetChange,
    budget_pairs,
    load_comparison,
)
from sim.reports.html import Cell, Chart, Page, Row, Section, Table, chart, command_of, render, table
from sim.reports.language import (
    Lang,
    capitalised,
    check_lang,
    folder_lang,
    millions,
    number,
    persons,
    plain,
    probability,
    signed,
    state_label,
    term,
    timestamp,
)
from sim.reports.rundata import RunData
from sim.reports.texts import target_sentence, value_text
from sim.reports.units import difference_texts, difference_unit, unit_text
from sim.reports.yearly import programme_years

__all__ = ["NUMBERS", "load_comparison", "write_comparison_report"]

DIFFERENCES_CHART = "targets-difference.png"
"""The difference chart's file name (a hyphen, so no state code can take it)."""


# --- chart data ---------------------------------------------------------------------------------


def difference_dots(data: ComparisonData) -> DifferenceDots:
    """The differences chart's numbers: differences.csv's target rows, in order."""
    changes = data.target_changes()
    return DifferenceDots(
        names=tuple(c.target.name for c in changes), metrics=tuple(c.target.metric for c in changes),
        senses=tuple(c.target.sense for c in changes),
        differences=tuple(c.numbers["difference"] for c in changes),
        low95=tuple(c.numbers["difference_low95"] for c in changes),
        high95=tuple(c.numbers["difference_high95"] for c in changes))


def side_label(data: ComparisonData, side: str, lang: Lang) -> str:
    """'Basis: Tårnby 2018' or 'Variant: Tårnby 2018, hurtigere afklaring'."""
    run = data.base if side == BASE else data.variant
    return f"{term(side, lang)}: {run.name}"


def overlay_series(data: ComparisonData, state: str, lang: Lang) -> OverlaySeries:
    """Both runs' monthly quantiles of `state` (read from their monthly.csv) for one overlay chart."""
    def fan(run: RunData) -> FanSeries | None:
        return fan_series(run, state, lang) if state == TOTAL or state in run.states else None

    return OverlaySeries(state, capitalised(state_label(state, lang, data.state_specs)),
                         fan(data.base), fan(data.variant),
                         side_label(data, BASE, lang), side_label(data, VARIANT, lang))


def overlay_serieses(data: ComparisonData, lang: Lang) -> list[OverlaySeries]:
    """The total first, then every benefit state of either run."""
    return [overlay_series(data, s, lang) for s in (TOTAL, *data.states)]


# --- texts --------------------------------------------------------------------------------------


def level_text(metric: str, value: float, lang: Lang) -> str:
    """A mean as a table shows it: whole persons, a percentage or DKK millions."""
    return value_text(metric, round(value) if difference_unit(metric) == "persons" else value, lang)


def change_sentence(change: TargetChange, lang: Lang, specs: dict[str, dict[str, Any]]) -> str:
    """'Variant: P(højst 509 … i 2018) 0,50 → 0,71; forskel −12 helårspersoner (95 %-interval −14 til
    −10)': the question of `texts.target_sentence`, both probabilities and the difference."""
    t, n = change.target, change.numbers
    question = target_sentence(t, lang, specs).rsplit(" = ", 1)[0]
    diff, low, high = difference_texts(t.metric, [n["difference"], n["difference_low95"],
                                                  n["difference_high95"]], lang)
    return term("difference_sentence", lang).format(
        variant=term("variant", lang), question=question, p_base=probability(n["base_probability_met"], lang),
        p_variant=probability(n["variant_probability_met"], lang), difference=diff,
        unit=unit_text(t.metric, lang), low=low, high=high)


def spread_line(change: TargetChange, lang: Lang) -> str:
    """'middel 245 → 227; de enkelte kørslers forskel 5–95 %: −20 til −18'."""
    t, n = change.target, change.numbers
    _, _, _, p05, p95 = difference_texts(t.metric, [n[k] for k in ("difference", "difference_low95",
                                                                  "difference_high95", "difference_p05",
                                                                  "difference_p95")], lang)
    return term("difference_spread", lang).format(base=level_text(t.metric, n["base_mean"], lang),
                                                  variant=level_text(t.metric, n["variant_mean"], lang),
                                                  p05=p05, p95=p95)


# --- HTML ---------------------------------------------------------------------------------------


def _pair_cells(numbers: dict[str, float] | None, metric: str, lang: Lang) -> list[Cell]:
    """Base, variant, the difference and its 95 % interval of one paired quantity ('' for none)."""
    if numbers is None:
        return [Cell("", True)] * 4
    level = (persons(round(numbers[k]), lang) if metric == "full_year_persons" else millions(numbers[k], lang)
             for k in ("base_mean", "variant_mean"))
    diff, low, high = difference_texts(metric, [numbers[k] for k in ("difference", "difference_low95",
                                                                    "difference_high95")], lang)
    return [*(Cell(v, True) for v in level), Cell(diff, True), Cell(f"{low} {term('to', lang)} {high}", True)]


def budget_table(lines: list[PairLine], data: ComparisonData, lang: Lang) -> Table:
    """Per benefit and year: both runs' full-year persons and net DKK, the difference and its interval."""
    money = any(line.net is not None for line in lines)
    sides = [term(k, lang) for k in ("base", "variant", "difference", "interval_95")]
    groups = [Cell(""), Cell(term("persons_short", lang), False, "group", 4)]
    headers = [Cell(term("state", lang)), *(Cell(s, True) for s in sides)]
    if money:
        groups.append(Cell(f"{term('net_short', lang)}, {term('million_heading', lang)}", False, "group", 4))
        headers += [Cell(s, True) for s in sides]
    rows: list[Row] = []
    for year in dict.fromkeys(line.year for line in lines):
        rows.append(Row((Cell(str(year), False, "", len(headers)),), "year"))
        for line in (x for x in lines if x.year == year):
            cells = [Cell(capitalised(state_label(line.code, lang, data.state_specs))),
                     *_pair_cells(line.persons, "full_year_persons", lang)]
            if money:
                cells += _pair_cells(line.net, "net_cost_dkk", lang)
            rows.append(Row(tuple(cells), "total" if line.is_total else ""))
    return Table(tuple(headers), tuple(rows), tuple(groups), "budget")


def budget_section(data: ComparisonData, lang: Lang) -> Section:
    """The page's first section: the budget of both runs and their differences."""
    lines = budget_pairs(data)
    if not lines:
        return Section("budget", term("budget_difference_title", lang), (term("no_years", lang),))
    notes = [n for n in (price_note(data.base.scenario, lang), term("difference_explained", lang)) if n]
    return Section("budget", term("budget_difference_title", lang), (" ".join(notes),),
                   (budget_table(lines, data, lang),))


def targets_table(data: ComparisonData, lang: Lang) -> Table | None:
    """A row per target: its name, the sentence of both probabilities and the difference, the spread."""
    changes = data.target_changes()
    if not changes:
        return None
    rows = tuple(Row((Cell(c.target.name, css="name"),
                      Cell(change_sentence(c, lang, data.state_specs), css="sentence"),
                      Cell(spread_line(c, lang), css="spread")),
                     style=f"--light: {traffic_colour(c.numbers['variant_probability_met'])}")
                 for c in changes)
    headers = (Cell(term("target", lang)), Cell(term("difference", lang)), Cell(term("mean", lang)))
    return Table(headers, rows, css="targets")


def programmes_section(data: ComparisonData, lang: Lang) -> Section | None:
    """Programmes by year: starts and cost in both runs and the difference of the means."""
    if data.base.programmes is None and data.variant.programmes is None:
        return None
    joined = pair_frames(data.base.programmes, data.variant.programmes, "programme", programme_years)
    sides = [term(k, lang) for k in ("base", "variant", "difference")]
    groups = (Cell(""), Cell(""), Cell(term("starts", lang), False, "group", 3),
              Cell(term("programme_cost", lang), False, "group", 3))
    headers = (Cell(term("programme", lang)), Cell(term("year", lang)), *(Cell(s, True) for s in sides * 2))
    rows = []
    for r in joined.to_dict("records"):
        starts = [r.get("starts_base", math.nan), r.get("starts_variant", math.nan)]
        cost = [r.get("cost_dkk_base", math.nan), r.get("cost_dkk_variant", math.nan)]
        cells = [Cell(str(r["programme"])), Cell(str(r["year"])),
                 *(Cell(number(v, lang, 1), True) for v in starts),
                 Cell(signed(starts[1] - starts[0], lang, 1), True),
                 *(Cell(millions(v, lang, 2), True) for v in cost),
                 Cell(signed((cost[1] - cost[0]) / 1e6, lang, 2), True)]
        rows.append(Row(tuple(cells)))
    return Section("programmes", term("programmes_title", lang), (term("no_pairs_note", lang),),
                   (Table(headers, tuple(rows), groups),))


def changes_section(data: ComparisonData, lang: Lang) -> Section:
    """The inputs the variant changes, by key path."""
    changes = input_changes(data)
    if not changes:
        return Section("changes", term("changes_title", lang), (term("no_changes", lang),))
    rows = [[k, _plain(b, lang), _plain(v, lang)] for k, b, v in changes]
    headers = [term(k, lang) for k in ("key", "base", "variant")]
    return Section("changes", term("changes_title", lang), (), (table(headers, rows, [False, False, False]),))


def _plain(value: Any, lang: Lang) -> str:
    """An input value as the scenario file writes it, a number in the report's locale (33, 0,045);
    '–' where a run lacks the key."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, int | float) and not isinstance(value, bool):
        return plain(value, lang)
    if isinstance(value, str) and value.startswith("["):  # a list flattened as JSON: [[0, 0.085]]
        try:
            return _listed(json.loads(value), lang)
        except ValueError:
            return value
    return str(value)


def _listed(value: Any, lang: Lang) -> str:
    """A list of numbers (or of lists of them) in the report's locale: '[[0; 0,085]]' in Danish, whose
    decimal comma needs another separator, '[[0, 0.085]]' in English."""
    if isinstance(value, list):
        return "[" + ("; " if lang == "da" else ", ").join(_listed(v, lang) for v in value) + "]"
    if isinstance(value, int | float) and not isinstance(value, bool):
        return plain(value, lang)
    return json.dumps(value, ensure_ascii=False)


def comparison_page(data: ComparisonData, lang: Lang) -> Page:
    """Which runs are compared, how, and what the difference means."""
    f = data.base.facts
    title = term("comparison_title", lang).format(variant=data.variant.name, base=data.base.name)
    made = term("paired_by", lang).format(runs=f.get("runs", "?"), seed=f.get("seed", "?"),
                                          version=f.get("caseflow_version", "?"),
                                          created=timestamp(f.get("created"), lang))
    return Page(f"{title} – caseflow", lang, title, made, command=command_of(f),
                command_label=capitalised(term("command", lang)))


def build_comparison_html(data: ComparisonData, overlays: dict[str, bytes], dots_png: bytes | None,
                          lang: Lang) -> str:
    """The comparison's page: budget differences, target differences, programmes, changes, charts."""
    charts: list[Chart] = []
    if dots_png is not None:
        charts.append(chart(dots_png, term("difference_axis", lang), "differences", wide=True))
    charts += [chart(overlays[s], capitalised(state_label(s, lang, data.state_specs)), "overlay", state=s)
               for s in (TOTAL, *data.states) if s in overlays]
    details = [s for s in (programmes_section(data, lang), changes_section(data, lang)) if s is not None]
    return render("comparison.html", page=comparison_page(data, lang), budget=budget_section(data, lang),
                  targets=targets_table(data, lang), targets_title=term("differences_title", lang),
                  no_targets=term("no_targets", lang), details=details, charts=charts,
                  charts_title=term("paths_title", lang))


# --- build --------------------------------------------------------------------------------------


def write_comparison_report(folder: Path, lang: str = "da") -> Reports:
    """Read a comparison folder and (re)write its charts/, report.xlsx and report.html in `lang` (the
    folder's own language, its base run's, as report.html; the other as report.<lang>.html)."""
    language: Lang = check_lang(lang)
    data = load_comparison(folder)
    files = report_files(data.folder, language, folder_lang(data.base.facts))
    overlays = {series.state: png(draw_overlay(series, language))
                for series in overlay_serieses(data, language)}
    dots = difference_dots(data)
    dots_png = png(draw_differences(dots, language)) if dots.names else None
    written = save_charts(data.folder, {**{f"{s}.png": b for s, b in overlays.items()},
                                        DIFFERENCES_CHART: dots_png}, *files.under)
    workbook = write_comparison_workbook(data, files.workbook, language)
    files.html.write_text(build_comparison_html(data, overlays, dots_png, language), encoding="utf-8")
    return Reports(workbook, files.html, tuple(written), files.charts)
