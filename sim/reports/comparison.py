"""The comparison report of `caseflow compare`: report.xlsx, report.html and charts/ of the pair.

A comparison folder holds `differences.csv` (paired differences variant − base, documented by
`sim.results.differences.DIFFERENCE_COLUMNS`) beside two complete run folders, `base/` and `variant/`. The
report is built from those files alone (`caseflow report DIR` rebuilds it): per target the two
means and probabilities, the difference with its 95 % interval and the single runs' spread,
one sentence each; full-year persons (and net DKK) per state and year; each state's and the
total's median paths with their 10–90 % bands overlaid; and the targets' differences as dots
with their intervals as error bars. Charts are picked (`overlay_series`, `difference_dots`)
and drawn (`charts.draw_overlay`, `charts.draw_differences`) in two steps, as in a run report.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from html import escape
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.formatting.rule import CellIsRule
from openpyxl.styles import PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from sim.contract.catalogue import TOTAL
from sim.reports.build import HTML, WORKBOOK, Reports, save_charts
from sim.reports.charts import (
    UNIT_SCALE,
    UNIT_TERM,
    DifferenceDots,
    FanSeries,
    OverlaySeries,
    difference_decimals,
    difference_unit,
    draw_differences,
    draw_overlay,
    fan_series,
    png,
    traffic_colour,
)
from sim.reports.comparedata import (
    BASE,
    NUMBERS,
    SPREAD,
    VARIANT,
    ComparisonData,
    TargetChange,
    load_comparison,
)
from sim.reports.html import image, page, table
from sim.reports.language import (
    Lang,
    capitalised,
    check_lang,
    millions,
    persons,
    probability,
    signed,
    state_label,
    term,
)
from sim.reports.rundata import RunData
from sim.reports.texts import metric_name, target_sentence, value_text
from sim.reports.workbook import TRAFFIC_FILLS, Column, flatten, metric_kind, write_table

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


def difference_texts(metric: str, values: Sequence[float], lang: Lang) -> list[str]:
    """Differences of one metric in its shown unit, signed, with decimals fitted to the interval.

    `values` is (difference, low95, high95[, more…]); all get the same decimals."""
    scale = UNIT_SCALE[difference_unit(metric)]
    shown = [v * scale for v in values]
    decimals = difference_decimals(shown[2] - shown[1], shown[0])
    return [signed(v, lang, decimals) for v in shown]


def unit_text(metric: str, lang: Lang) -> str:
    """The unit a difference is shown in: 'helårspersoner', 'procentpoint', 'mio. kr.'."""
    return term(UNIT_TERM[difference_unit(metric)], lang)


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


def input_changes(data: ComparisonData) -> list[tuple[str, Any, Any]]:
    """The resolved inputs (key paths) whose values differ between base and variant, name aside."""
    base, variant = dict(flatten(data.base.scenario)), dict(flatten(data.variant.scenario))
    keys = [k for k in dict.fromkeys([*base, *variant]) if k != "name"]
    return [(k, base.get(k), variant.get(k)) for k in keys if base.get(k) != variant.get(k)]


# --- workbook -----------------------------------------------------------------------------------


def _item(key: str) -> Callable[[dict[str, Any]], Any]:
    """A state-year row's value of `key`."""
    return lambda r: r[key]


def _number(key: str) -> Callable[[TargetChange], float]:
    """A target change's value of `key`."""
    return lambda c: c.numbers[key]


def _number_columns(names: Sequence[str], lang: Lang, kind: str) -> list[Column]:
    return [Column(term(name, lang), _item(name), kind) for name in names]


def summary_sheet(ws: Worksheet, data: ComparisonData, lang: Lang) -> None:
    """Per target: threshold, both means, the difference with its interval and spread, P(met) of each."""
    def kind(c: TargetChange) -> str:
        return metric_kind(c.target.metric)

    def change_kind(c: TargetChange) -> str:  # a change of a share in hundredths of a point
        return "share_change" if kind(c) == "share" else kind(c)

    def number_kind(k: str) -> str | Callable[[TargetChange], str]:
        return "share" if k.endswith("_met") else (change_kind if k.startswith("difference") else kind)

    columns = [
        Column(term("target", lang), lambda c: c.target.name, "text"),
        Column(term("metric", lang), lambda c: metric_name(c.target.metric, lang), "text"),
        Column(term("year", lang), lambda c: c.target.year, "year"),
        Column(term("sense", lang), lambda c: term(c.target.sense, lang), "text"),
        Column(term("threshold", lang), lambda c: c.target.threshold, kind),
        *(Column(term(k, lang), _number(k), number_kind(k))
          for k in NUMBERS),
    ]
    changes = data.target_changes()
    write_table(ws, changes, columns, lang)
    if not changes:
        ws.cell(row=2, column=1, value=term("no_targets", lang))
        return
    first = len(columns) - len(NUMBERS) + 1
    for name in ("base_probability_met", "variant_probability_met"):  # traffic lights, as a run's
        letter = get_column_letter(first + NUMBERS.index(name))
        for operator, formula, colour in TRAFFIC_FILLS:
            rule = CellIsRule(operator=operator, formula=formula, fill=PatternFill("solid", bgColor=colour),
                              stopIfTrue=True)
            ws.conditional_formatting.add(f"{letter}2:{letter}{len(changes) + 1}", rule)


def state_year_sheet(ws: Worksheet, data: ComparisonData, kind: str, lang: Lang) -> None:
    """Per year and state (differences.csv's order): both means, the difference, its interval and spread."""
    specs = data.state_specs
    columns = [Column(term("year", lang), lambda r: int(r["year"]), "year"),
               Column(term("state", lang), lambda r: state_label(str(r["name"]), lang, specs), "text"),
               Column(term("code", lang), lambda r: r["name"], "text"),
               *_number_columns(SPREAD, lang, "dkk" if kind == "net_dkk" else "persons")]
    write_table(ws, data.rows(kind), columns, lang)


def scenarios_sheet(ws: Worksheet, data: ComparisonData, lang: Lang) -> None:
    """The two runs' facts side by side, then every input that differs."""
    b, v = data.base.facts, data.variant.facts
    rows: list[tuple[str, Any, Any]] = [("name", data.base.name, data.variant.name)]
    rows += [(term(label, lang), b.get(key), v.get(key)) for label, key in (
        ("runs", "runs"), ("seed", "seed"), ("version", "caseflow_version"), ("created", "created"),
        ("command", "command"))]
    rows += input_changes(data)
    columns = [Column(term("key", lang), lambda r: r[0], "text"),
               Column(term("base", lang), lambda r: r[1], "general"),
               Column(term("variant", lang), lambda r: r[2], "general")]
    write_table(ws, rows, columns, lang, max_width=60)


def write_comparison_workbook(data: ComparisonData, path: Path, lang: Lang) -> Path:
    """report.xlsx of a comparison: Summary, Yearly, Costs (with net DKK rows) and Scenarios sheets."""
    wb = Workbook()
    summary = wb.active
    assert summary is not None
    summary.title = term("summary", lang)
    summary_sheet(summary, data, lang)
    state_year_sheet(wb.create_sheet(term("yearly", lang)), data, "full_year_persons", lang)
    if data.rows("net_dkk"):
        state_year_sheet(wb.create_sheet(term("costs", lang)), data, "net_dkk", lang)
    scenarios_sheet(wb.create_sheet(term("scenarios", lang)), data, lang)
    wb.save(path)
    return path


# --- HTML ---------------------------------------------------------------------------------------


def header_section(data: ComparisonData, lang: Lang) -> str:
    """Which runs are compared, how, and what the difference means."""
    f = data.base.facts
    title = term("comparison_title", lang).format(variant=data.variant.name, base=data.base.name)
    made = term("paired_by", lang).format(runs=f.get("runs", "?"), seed=f.get("seed", "?"),
                                          version=f.get("caseflow_version", "?"),
                                          created=str(f.get("created", "?")).replace("T", " "))
    return (f"<header><h1>{escape(title)}</h1><p class=\"muted\">{escape(made)}</p>"
            f"<p>{escape(term('difference_explained', lang))}</p></header>")


def targets_section(data: ComparisonData, dots_png: bytes | None, lang: Lang) -> str:
    """Each target's change as a sentence, its means and spread, then the differences chart."""
    changes = data.target_changes()
    out = [f"<section id=\"differences\"><h2>{escape(term('differences_title', lang))}</h2>"]
    if not changes:
        return out[0] + f"<p>{escape(term('no_targets', lang))}</p></section>"
    out.append('<ul class="targets">')
    for c in changes:
        light = traffic_colour(c.numbers["variant_probability_met"])
        out.append(f'<li style="--light: {light}"><strong>{escape(c.target.name)}</strong>'
                   f'<br><span class="sentence">{escape(change_sentence(c, lang, data.state_specs))}</span>'
                   f'<br><span class="muted">{escape(spread_line(c, lang))}</span></li>')
    out.append("</ul>")
    if dots_png is not None:
        out.append(f"<figure>{image(dots_png, term('difference_axis', lang), 'differences')}</figure>")
    return "".join(out) + "</section>"


def paths_section(data: ComparisonData, overlays: dict[str, bytes], lang: Lang) -> str:
    """One overlay chart per state, the total first."""
    out = [f"<section id=\"paths\"><h2>{escape(term('paths_title', lang))}</h2>"]
    for state in (TOTAL, *data.states):
        if state in overlays:
            label = capitalised(state_label(state, lang, data.state_specs))
            out.append(f"<figure>{image(overlays[state], label, 'overlay', state=state)}</figure>")
    return "".join(out) + "</section>"


def state_year_section(data: ComparisonData, kind: str, lang: Lang) -> str:
    """Per year and state: base, variant, the difference and its 95 % interval; '' without rows."""
    rows = data.rows(kind)
    if not rows:
        return "" if kind == "net_dkk" else (
            f"<section id=\"yearly\"><h2>{escape(term('yearly_difference_title', lang))}</h2>"
            f"<p>{escape(term('no_years', lang))}</p></section>")
    metric = "net_cost_dkk" if kind == "net_dkk" else "full_year_persons"
    headers = [term(k, lang) for k in ("state", "year", "base", "variant", "difference", "interval_95")]
    cells = []
    for r in rows:
        diff, low, high = difference_texts(metric, [r["difference"], r["difference_low95"],
                                                    r["difference_high95"]], lang)
        level = (persons(round(r[k]), lang) if kind == "full_year_persons" else millions(r[k], lang)
                 for k in ("base_mean", "variant_mean"))
        cells.append([state_label(str(r["name"]), lang, data.state_specs), str(r["year"]), *level, diff,
                      f"{low} {term('to', lang)} {high}"])
    title = term("net_difference_title" if kind == "net_dkk" else "yearly_difference_title", lang)
    section = "net" if kind == "net_dkk" else "yearly"
    body = table(headers, cells, [False, False, True, True, True, True], state_label(TOTAL, lang))
    return f"<section id=\"{section}\"><h2>{escape(title)}</h2>{body}</section>"


def changes_section(data: ComparisonData, lang: Lang) -> str:
    """The inputs the variant changes, by key path."""
    changes = input_changes(data)
    out = f"<section id=\"changes\"><h2>{escape(term('changes_title', lang))}</h2>"
    if not changes:
        return out + f"<p>{escape(term('no_changes', lang))}</p></section>"
    rows = [[k, _plain(b), _plain(v)] for k, b, v in changes]
    headers = [term(k, lang) for k in ("key", "base", "variant")]
    return out + table(headers, rows, [False, False, False]) + "</section>"


def _plain(value: Any) -> str:
    """An input value as the scenario file writes it; '–' where a run lacks the key."""
    return "–" if value is None else str(value)


def footer_section(data: ComparisonData, lang: Lang) -> str:
    """The command that made the comparison."""
    command = data.base.facts.get("command")
    if not command:
        return ""
    label = capitalised(term("command", lang))
    return f'<footer class="muted"><p>{escape(label)}: <code>{escape(str(command))}</code></p></footer>'


def build_comparison_html(data: ComparisonData, overlays: dict[str, bytes], dots_png: bytes | None,
                          lang: Lang) -> str:
    """The comparison's page: header, target differences, overlays, yearly tables, changes, command."""
    title = term("comparison_title", lang).format(variant=data.variant.name, base=data.base.name)
    return page(f"{title} – caseflow", lang, [
        header_section(data, lang), targets_section(data, dots_png, lang),
        paths_section(data, overlays, lang),
        state_year_section(data, "full_year_persons", lang), state_year_section(data, "net_dkk", lang),
        changes_section(data, lang), footer_section(data, lang)])


# --- build --------------------------------------------------------------------------------------


def write_comparison_report(folder: Path, lang: str = "da") -> Reports:
    """Read a comparison folder and (re)write its charts/, report.xlsx and report.html in `lang`."""
    language: Lang = check_lang(lang)
    data = load_comparison(folder)
    overlays = {series.state: png(draw_overlay(series, language))
                for series in overlay_serieses(data, language)}
    dots = difference_dots(data)
    dots_png = png(draw_differences(dots, language)) if dots.names else None
    written = save_charts(data.folder, {**{f"{s}.png": b for s, b in overlays.items()},
                                        DIFFERENCES_CHART: dots_png})
    workbook = write_comparison_workbook(data, data.folder / WORKBOOK, language)
    html = data.folder / HTML
    html.write_text(build_comparison_html(data, overlays, dots_png, language), encoding="utf-8")
    return Reports(workbook, html, tuple(written))
