"""The workbook (report.xlsx): the budget, targets, monthly and yearly forecasts, every cost and the inputs.

Sheets, in order: Budget (per benefit and year: full-year persons, gross, refund and net DKK
with the plan's budget beside them, `sim.reports.sheets`), Oversigt/Summary (the targets),
Måneder/Monthly and År/Yearly (full-year persons), Udgifter/Costs (costs by month and state),
Indsatser/Programmes and Indsatser pr. år (programme use and cost by month and year),
Sagsbehandlere/Caseworkers (meetings due, held, late, missed and fokusmål by month), Usikkerhed
(layers.csv), Antagelser/Assumptions, Sporing/Track and Scenarie/Scenario, each when the run has
it. Cells hold numbers and dates, never numbers as text; number formats give thousands separators
and percentages, which Excel shows in the reader's own locale (1.234,5 in a Danish Excel).
Month names follow the report language through the date format's locale tag. A target's
probability is the number itself, shown as "0,58 ± 0,07": its 95 % margin (see
`sim.reports.texts.margin_95`) is literal text of the cell's number format, in the report
language, so the traffic lights, sorting and formulas still see the probability; the Scenario
sheet's `præcision`/`precision` row says what ± means and how many runs a standard error of 0.02
would take. Beside the probability, a note column names the assumed values that set a target and
an assumed base (when any target has either), and with the assumption check the Assumptions sheet
(Antagelser) gives each target's probability at both ends of each assumed value. Every table
sheet has its header in row 1, frozen, with a filter, and columns sized to their contents.
`write_table` is the one table writer, so a comparison workbook adds sheets the same way.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from openpyxl import Workbook
from openpyxl.formatting.rule import CellIsRule
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from sim.reports.budget import price_note
from sim.reports.language import EXCEL_LOCALE, Lang, month_date, probability, state_label, term
from sim.reports.rundata import RunData, TargetRow
from sim.reports.texts import margin_95, metric_name, precision_sentence, target_notes

HEADER_FILL = PatternFill("solid", fgColor="DDE6F0")
TRAFFIC_FILLS = (("greaterThanOrEqual", ["0.8"], "C6EFCE"), ("between", ["0.5", "0.8"], "FFEB9C"),
                 ("lessThan", ["0.5"], "FFC7CE"))
"""Conditional fills of a probability: green from 0.8, amber from 0.5, red below."""

STAT_COLUMNS = ("mean", "sd", "p05", "p10", "p50", "p90", "p95")
PAYMENT_COLUMNS = tuple(f"payment_{c}" for c in STAT_COLUMNS)
"""The same statistics on the payment basis (monthly.csv and yearly.csv with an employer period)."""
COST_COLUMNS = ("gross_dkk", "refund_dkk", "net_dkk", "net_dkk_p10", "net_dkk_p90",
                "cofinancing_rate", "cofinancing_rate_p10", "cofinancing_rate_p90")


def formats(lang: Lang) -> dict[str, str]:
    """Excel number formats by kind of value: the separators are Excel's own, shown in the reader's
    locale; only the percent sign's space and the month names follow the report language."""
    return {"persons": "#,##0.0", "dkk": "#,##0", "count": "#,##0", "days": "#,##0.0",
            "share": "0.0 %" if lang == "da" else "0.0%",
            "share_change": "+0.00 %;-0.00 %;0.00 %" if lang == "da" else "+0.00%;-0.00%;0.00%",
            "dkk_change": "+#,##0;-#,##0;0", "persons_change": "+#,##0.0;-#,##0.0;0.0",
            "probability": "0.00", "sd": "#,##0.00",
            "year": "0", "month": EXCEL_LOCALE[lang] + "mmm yyyy", "date": "yyyy-mm-dd hh:mm",
            "text": "@", "general": "General"}


def kind_of(column: str) -> str:
    """The kind of a CSV column: persons, DKK or a share (co-financing)."""
    if column.startswith("cofinancing_rate") or column == "probability_met":
        return "share"
    if "_dkk" in column:
        return "dkk"
    return {"year": "year", "month": "month"}.get(column, "persons")


def probability_format(t: TargetRow, lang: Lang) -> str:
    """The number format of a target's probability: two decimals and its margin as literal text,
    '0.00" ± 0,07"' (da); the 'probability' kind (two decimals) when the margin is not known."""
    margin = margin_95(t)
    return f'0.00" ± {probability(margin, lang)}"' if math.isfinite(margin) else "probability"


def metric_kind(metric: str) -> str:
    """The kind of a target's values: co-financing is a share, costs DKK, else persons."""
    return kind_of(metric) if metric != "full_year_persons" else "persons"


@dataclass(frozen=True)
class Column:
    """One workbook column: its header, how to get each row's value, and its kind (format)."""

    header: str
    value: Callable[[Any], Any]
    kind: str | Callable[[Any], str]


def keyed(name: str, kind: str | Callable[[Any], str], lang: Lang) -> Column:
    """A column of a table of dict rows: the row's value of `name`, headed by its term."""
    return Column(term(name, lang), lambda r: r[name], kind)


def traffic_lights(ws: Worksheet, cells: str) -> None:
    """Colour the probabilities in `cells` (a range, 'E2:E9') green, amber or red (`TRAFFIC_FILLS`)."""
    for operator, formula, colour in TRAFFIC_FILLS:
        rule = CellIsRule(operator=operator, formula=formula, fill=PatternFill("solid", bgColor=colour),
                          stopIfTrue=True)
        ws.conditional_formatting.add(cells, rule)


def cell_value(value: Any) -> Any:
    """A Python value openpyxl writes natively: floats for numpy numbers, None for NaN."""
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


HEADER_WIDTH = 16
"""The most characters a header widens its column by; a longer one wraps in its cell."""

FORMULA_STARTS = ("=", "+", "-", "@")
"""What makes a spreadsheet read a typed text as a formula."""


def as_text(cell: Any) -> None:
    """Keep a text cell that begins like a formula (a target named '=HYPERLINK(…)') text: never
    a formula, and still text when someone edits it in Excel (the quote prefix)."""
    if isinstance(cell.value, str) and cell.value.startswith(FORMULA_STARTS):
        cell.data_type = "s"
        cell.quotePrefix = True


def _shown_width(value: Any, kind: str) -> int:
    """About how many characters a cell shows (for sizing its column)."""
    if value is None:
        return 0
    if isinstance(value, int | float) and not isinstance(value, bool):
        if kind == "share":
            return 7
        if kind == "probability":
            return 4
        if kind.startswith('0.00"'):  # a probability with its margin: '0,58 ± 0,07'
            return 4 + len(kind.split('"')[1])
        digits = len(f"{abs(value):,.0f}") + (2 if kind == "persons" else 0)
        return digits + (value < 0)
    if isinstance(value, dt.datetime):
        return 10 if kind == "month" else 16
    return max(len(line) for line in str(value).split("\n"))


def write_table(ws: Worksheet, rows: Iterable[Any], columns: Sequence[Column], lang: Lang,
                max_width: int = 60) -> None:
    """Write a header row and one row per item; freeze the header, add a filter, size columns.
    A column's kind names a format of `formats`, or is an Excel number format itself."""
    fmt = formats(lang)
    widths = [min(len(c.header), HEADER_WIDTH) for c in columns]  # a longer header wraps
    ws.append([c.header for c in columns])
    for cell in ws[1]:
        as_text(cell)
        cell.font = Font(bold=True)
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    for r, item in enumerate(rows, start=2):
        for c, column in enumerate(columns, start=1):
            value = cell_value(column.value(item))
            kind = column.kind(item) if callable(column.kind) else column.kind
            cell = ws.cell(row=r, column=c, value=value)
            as_text(cell)
            if kind not in ("text", "general"):
                cell.number_format = fmt.get(kind, kind)
            widths[c - 1] = max(widths[c - 1], _shown_width(value, kind))
    lines = 1
    for c, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(c)].width = min(max_width, width + 2)
        lines = max(lines, math.ceil(len(columns[c - 1].header) / max(1, min(max_width, width + 1))))
    ws.row_dimensions[1].height = 15 * min(lines, 4)  # Excel does not grow a wrapped row it did not write
    ws.freeze_panes = "A2"
    if ws.max_row > 1:
        ws.auto_filter.ref = ws.dimensions


def frame_columns(frame: pd.DataFrame, data: RunData, lang: Lang, period: str) -> list[Column]:
    """Columns for a monthly or yearly table: period, state label, code, then the statistics (a
    yearly table's costs are the Budget sheet's)."""
    specs = data.state_specs

    def when(r: dict[str, Any]) -> Any:
        return month_date(r["month"]) if period == "month" else int(r["year"])

    def stat(name: str) -> Column:
        return Column(term(name, lang), lambda r: r[name], kind_of(name))

    columns = [
        Column(term(period, lang), when, period),
        Column(term("state", lang), lambda r: state_label(r["state"], lang, specs), "text"),
        Column(term("code", lang), lambda r: r["state"], "text"),
    ]
    known = {*STAT_COLUMNS, *PAYMENT_COLUMNS} if period == "year" else {*STAT_COLUMNS, *PAYMENT_COLUMNS,
                                                                        *COST_COLUMNS}
    return columns + [stat(name) for name in frame.columns if name in known]  # in the CSV's order


def by_state(frame: pd.DataFrame, data: RunData) -> list[dict[str, Any]]:
    """The rows of a state-by-period table grouped by state (run order, total last), then period."""
    order = {s: i for i, s in enumerate([*data.states, "total"])}
    ranked = frame.assign(_rank=frame["state"].map(order)).sort_values(["_rank"], kind="stable")
    return ranked.drop(columns="_rank").to_dict("records")  # type: ignore[return-value]


def summary_sheet(ws: Worksheet, data: RunData, lang: Lang) -> None:
    """Targets: threshold, probability met (traffic lights; shown with its 95 % margin), mean and
    p10/p50/p90."""
    def value_kind(t: TargetRow) -> str:
        return metric_kind(t.metric)

    def stat(q: str) -> Column:
        return Column(term(q, lang), lambda t: getattr(t, q), value_kind)

    columns = [
        Column(term("target", lang), lambda t: t.name, "text"),
        Column(term("metric", lang), lambda t: metric_name(t.metric, lang), "text"),
        Column(term("sense", lang), lambda t: term(t.sense, lang), "text"),
        Column(term("threshold", lang), lambda t: t.threshold, value_kind),
        Column(term("probability_met", lang), lambda t: t.probability_met,
               lambda t: probability_format(t, lang)),
        *(stat(q) for q in ("mean", "p10", "p50", "p90")),
    ]
    rows = data.target_rows()
    if any(target_notes(t, lang) for t in rows):
        columns.insert(5, Column(term("note", lang), lambda t: " · ".join(target_notes(t, lang)), "text"))
    write_table(ws, rows, columns, lang)
    if rows:
        traffic_lights(ws, f"E2:E{len(rows) + 1}")
    else:
        ws.cell(row=2, column=1, value=term("no_targets", lang))


def assumptions_sheet(ws: Worksheet, data: RunData, lang: Lang) -> None:
    """assumptions.csv: per target and assumed value, the range with its reason, the runs, the
    probability at the low end, the scenario's value and the high end, and whether it sets it."""
    assert data.assumptions is not None
    reasons = {str(a.get("path")): str(a.get("reason", "")) for a in data.assumption_specs}

    columns = [
        keyed("target", "text", lang), keyed("path", "text", lang),
        *(keyed(name, "general", lang) for name in ("low", "point", "high")),
        Column(term("runs", lang).capitalize(), lambda r: int(r["runs"]), "general"),
        *(keyed(name, "probability", lang) for name in ("p_low", "p_point", "p_high")),
        Column(term("sets_it", lang), lambda r: term("yes" if r["sets_it"] else "no", lang), "text"),
        Column(term("reason", lang), lambda r: reasons.get(str(r["path"]), ""), "text"),
    ]
    write_table(ws, data.assumptions.to_dict("records"), columns, lang, max_width=80)


def flatten(value: Any, path: str = "") -> list[tuple[str, Any]]:
    """Key paths and leaf values of a nested scenario: ('transitions.a_dagpenge[0].to', 'job').

    Lists of plain values or of pairs (bands) stay one cell, written as compact JSON text.
    """
    if isinstance(value, dict):
        out = []
        for k, v in value.items():
            out += flatten(v, f"{path}.{k}" if path else str(k))
        return out or [(path, "{}")]
    if isinstance(value, list) and any(isinstance(v, dict) for v in value):
        return [pair for i, v in enumerate(value) for pair in flatten(v, f"{path}[{i}]")]
    if isinstance(value, list):
        return [(path, json.dumps(value, ensure_ascii=False))]
    return [(path, value)]


def scenario_sheet(ws: Worksheet, data: RunData, lang: Lang) -> None:
    """The run facts (runs, the probabilities' precision, seed, version, date, command), then every
    resolved input by key path."""
    facts = data.facts
    created = facts.get("created")
    with contextlib.suppress(ValueError):
        created = dt.datetime.fromisoformat(created) if isinstance(created, str) else created
    rows: list[tuple[str, Any, str]] = [
        ("name", data.name, "text"),
        (term("runs", lang), facts.get("runs"), "general"),
        (term("seed", lang), facts.get("seed"), "general"),
        (term("version", lang), facts.get("caseflow_version"), "text"),
        (term("created", lang), created, "date" if isinstance(created, dt.datetime) else "text"),
        (term("command", lang), facts.get("command"), "text"),
    ]
    precision = precision_sentence(data.target_rows(), lang)
    if precision:
        rows.insert(2, (term("precision", lang), precision, "text"))
    prices = price_note(data.scenario, lang)
    if prices:
        rows.insert(1, (term("price_year_key", lang), prices, "text"))
    rows += [(key, value, "general") for key, value in flatten(data.scenario) if key != "name"]
    columns = [Column(term("key", lang), lambda r: r[0], "text"),
               Column(term("value", lang), lambda r: r[1], lambda r: r[2])]
    write_table(ws, rows, columns, lang, max_width=80)


def write_workbook(data: RunData, path: Path, lang: Lang,
                   sheets: Sequence[tuple[str, Callable[[Worksheet], None]]] = ()) -> Path:
    """Write report.xlsx: Budget, Summary, Monthly, Yearly, Costs (with economics), Programmes and
    Caseworkers (when the scenario has them), Uncertainty (with layers.csv), Assumptions (with the
    assumption check), each of `sheets` (a name and what writes it: a tracked forecast's path,
    `sim.reports.track`) and Scenario sheets."""
    from sim.reports.sheets import budget_sheet, caseworker_sheet, layers_sheet, programme_sheets

    wb = Workbook()
    budget = wb.active
    assert budget is not None
    budget.title = term("budget", lang)
    budget_sheet(budget, data, lang)
    summary_sheet(wb.create_sheet(term("summary", lang)), data, lang)
    for name, frame, period in (("monthly", data.monthly, "month"), ("yearly", data.yearly, "year"),
                                ("costs", data.costs, "month")):
        if frame is None:
            continue
        ws = wb.create_sheet(term(name, lang))
        write_table(ws, by_state(frame, data), frame_columns(frame, data, lang, period), lang)
    if data.programmes is not None:
        programme_sheets(wb, data, lang)
    if data.caseworkers is not None:
        caseworker_sheet(wb.create_sheet(term("caseworkers", lang)), data, lang)
    if data.layers is not None:
        layers_sheet(wb.create_sheet(term("layers", lang)), data, lang)
    if data.assumptions is not None:
        assumptions_sheet(wb.create_sheet(term("assumptions", lang)), data, lang)
    for name, write in sheets:
        write(wb.create_sheet(name))
    scenario_sheet(wb.create_sheet(term("scenario", lang)), data, lang)
    wb.save(path)
    return path
