"""The HTML report (report.html): one self-contained page, readable offline, from Jinja2 templates.

Each page has its template under `sim/reports/templates/` (`run.html`, `comparison.html`,
`backtest.html`), extending `base.html` (the style sheet and the layout) and using the macros of
`macros.html` (a table, a section, the chart grid). Autoescaping is on: every text a run folder
holds (a target named `<script>`, a label with `&`) reaches the page escaped. Python builds the
views the templates show, with every number already formatted for the report's locale
(`sim.reports.language`): `Table` (headers, rows of cells, the total row marked), `Section` (a
heading, notes and tables), `Chart` (a PNG embedded as a data URI). A run's page opens with the
budget table, then the targets with their probabilities and error, the assumptions and the
path through the year, the programme, caseworker and uncertainty tables, and last the charts,
two or three a row.
"""

from __future__ import annotations

import base64
import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined

from sim.contract.caseworker_spec import TEAM_SHARES
from sim.contract.catalogue import TOTAL
from sim.reports.budget import Budget, BudgetLine, build_budget, plan_measures, price_note
from sim.reports.charts import traffic_colour
from sim.reports.language import (
    Lang,
    capitalised,
    millions,
    month_name,
    number,
    percent,
    persons,
    plain,
    probability_with_margin,
    state_label,
    term,
    timestamp,
)
from sim.reports.rundata import RunData
from sim.reports.texts import (
    layer_quantity,
    precision_sentence,
    probability_note,
    spread_sentence,
    target_sentence,
)
from sim.reports.yearly import programme_years, team_years


@dataclass(frozen=True, slots=True)
class Cell:
    """One table cell: its text, whether it is a number (right-aligned), a CSS class and a span."""

    text: str
    numeric: bool = False
    css: str = ""
    span: int = 1


@dataclass(frozen=True, slots=True)
class Row:
    """One table row: its cells, a CSS class ('total', 'year') and an inline style (a traffic light)."""

    cells: tuple[Cell, ...]
    css: str = ""
    style: str = ""


@dataclass(frozen=True)
class Table:
    """A table of formatted cells; `groups` is an upper header row whose cells span columns."""

    headers: tuple[Cell, ...]
    rows: tuple[Row, ...]
    groups: tuple[Cell, ...] = ()
    css: str = ""


@dataclass(frozen=True)
class Section:
    """A section of a page: an id, a heading, notes above and tables."""

    id: str
    title: str
    notes: tuple[str, ...] = ()
    tables: tuple[Table, ...] = ()
    after: tuple[str, ...] = ()
    """Notes below the tables."""


@dataclass(frozen=True, slots=True)
class Chart:
    """A chart on the page: a PNG as a data URI, its alt text and class; `wide` spans two columns."""

    src: str
    alt: str
    css: str
    state: str = ""
    wide: bool = False


@dataclass(frozen=True)
class Page:
    """What a page template shows besides its own blocks: title, language and the command."""

    title: str
    lang: Lang
    heading: str
    made: str
    lines: tuple[tuple[str, str], ...] = ()
    """More header lines: (text, CSS class: 'muted' or '')."""
    command: str = ""
    command_label: str = ""


@cache
def environment() -> Environment:
    """The templates' environment: package templates, autoescaped, strict about missing names."""
    return Environment(loader=PackageLoader("sim.reports", "templates"), autoescape=True,
                       undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                       keep_trailing_newline=True)


def render(template: str, **context: Any) -> str:
    """A page rendered from its template."""
    return environment().get_template(template).render(**context)


def data_uri(png: bytes) -> str:
    """A PNG as a data URI, so the page needs no file beside it."""
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def chart(png: bytes, alt: str, css: str, state: str = "", wide: bool = False) -> Chart:
    """A chart of the page's grid."""
    return Chart(data_uri(png), alt, css, state, wide)


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], numeric: Sequence[bool],
          bold_first: str | None = None) -> Table:
    """A plain table of already formatted cells; `numeric` columns are right-aligned; a row whose
    first cell equals `bold_first` is shown in bold (the total)."""
    head = tuple(Cell(h, numeric[i]) for i, h in enumerate(headers))
    body = tuple(Row(tuple(Cell(c, numeric[i]) for i, c in enumerate(row)),
                     "total" if bold_first is not None and row[0] == bold_first else "") for row in rows)
    return Table(head, body)


def command_of(facts: dict[str, Any]) -> str:
    """The command that made a folder, '' when run.json does not say."""
    return str(facts.get("command") or "")


# --- the budget ----------------------------------------------------------------------------------


def _range(low: float, high: float, show: Any) -> str:
    """'2.584–2.650' ('' when either end is unknown)."""
    if not (math.isfinite(low) and math.isfinite(high)):
        return ""
    return f"{show(low)}–{show(high)}"


def _plan(line: BudgetLine, column: str, show: Any) -> Cell:
    value = line.plan.get(column)
    return Cell(show(value) if value is not None else "", True, "plan")


def budget_table(budget: Budget, lang: Lang) -> Table:
    """The budget table: a row per benefit and year (a year heading row between years), forecast
    columns with their 10–90 % spread and, where the plan has figures, its budget beside them."""
    def whole(v: float) -> str:
        return persons(round(v), lang) if math.isfinite(v) else "–"

    def mio(v: float) -> str:
        return millions(v, lang)

    spread, plan = term("band_80", lang), term("plan_column", lang)
    forecast = term("forecast_column", lang)
    groups: list[Cell] = [Cell("")]
    headers: list[Cell] = [Cell(term("state", lang))]

    def block(title: str, column: str, with_spread: bool) -> None:
        cells = [Cell(forecast, True)] + ([Cell(spread, True)] if with_spread else [])
        cells += [Cell(plan, True, "plan")] if column in budget.plan_columns else []
        groups.append(Cell(title, False, "group", len(cells)))
        headers.extend(cells)

    block(term("persons_short", lang), "persons", True)
    if budget.money:
        million = term("million_heading", lang)
        block(f"{term('gross_short', lang)}, {million}", "gross", False)
        block(f"{term('refund_short', lang)}, {million}", "refund", False)
        block(f"{term('net_short', lang)}, {million}", "net", True)
        groups.append(Cell("", False, "group"))
        headers.append(Cell(term("cofinancing_short", lang), True))
    rows: list[Row] = []
    for year in budget.years:
        rows.append(Row((Cell(str(year), False, "", len(headers)),), "year"))
        for line in budget.in_year(year):
            cells = [Cell(line.label), Cell(whole(line.persons), True),
                     Cell(_range(line.persons_p10, line.persons_p90, whole), True)]
            cells += [_plan(line, "persons", whole)] if "persons" in budget.plan_columns else []
            if budget.money:
                for column in ("gross", "refund", "net"):
                    cells.append(Cell(mio(getattr(line, column)), True))
                    if column == "net":
                        cells.append(Cell(_range(line.net_p10, line.net_p90, mio), True))
                    if column in budget.plan_columns:
                        cells.append(_plan(line, column, mio))
                cells.append(Cell(percent(line.cofinancing, lang) if math.isfinite(line.cofinancing) else "",
                                  True))
            css = "total" if line.is_total else ("group-line" if line.is_group else "")
            rows.append(Row(tuple(cells), css))
    return Table(tuple(headers), tuple(rows), tuple(groups), "budget")


def budget_section(data: RunData, lang: Lang) -> Section:
    """The page's first section: the budget table with its price year and what its columns mean."""
    budget = build_budget(data, lang)
    if not budget.years:
        title = term("budget_title" if data.costs is not None else "budget_persons_title", lang)
        return Section("budget", title, (term("no_years", lang),))
    notes = [n for n in (budget.price_note, term("refund_positive", lang) if budget.money else "") if n]
    after = [term("intervals_note", lang)]
    if budget.payment_basis:
        after.append(term("payment_basis_note", lang))
    if budget.plan_columns:
        after.append(term("plan_note", lang).format(measures=plan_measures(budget)))
    if not budget.money:
        after.append(term("no_money", lang))
    elif any(line.persons == line.persons and line.net != line.net for line in budget.lines):
        after.append(term("actual_months", lang))
    title = term("budget_title" if budget.money else "budget_persons_title", lang)
    return Section("budget", title, (" ".join(notes),) if notes else (), (budget_table(budget, lang),),
                   tuple(after))


def monthly_costs_section(data: RunData, lang: Lang) -> Section | None:
    """Costs by month, total, for a horizon with no full calendar year; None otherwise."""
    if data.costs is None or len(data.yearly):
        return None
    monthly = data.costs[data.costs["state"] == TOTAL]
    headers = [term(k, lang) for k in ("month", "gross_dkk", "net_dkk", "cofinancing_rate")]
    rows = [[month_name(r["month"], lang), millions(r["gross_dkk"], lang), millions(r["net_dkk"], lang),
             percent(r["cofinancing_rate"], lang) if r["cofinancing_rate"] == r["cofinancing_rate"] else ""]
            for r in monthly.to_dict("records")]
    return Section("costs", term("costs_monthly_title", lang), (price_note(data.scenario, lang),),
                   (table(headers, rows, [False, True, True, True]),))


# --- targets and the tables after them -----------------------------------------------------------


def targets_table(data: RunData, lang: Lang) -> Table | None:
    """A row per target: its name, the plan's question with its probability and margin (and the
    assumed values that set it), and the simulated median with its 10–90 % range."""
    rows = data.target_rows()
    if not rows:
        return None
    body = []
    for t in rows:
        sentence = target_sentence(t, lang, data.state_specs, error=True) + probability_note(t, lang)
        body.append(Row((Cell(t.name, css="name"), Cell(sentence, css="sentence"),
                         Cell(spread_sentence(t, lang), css="spread")),
                        style=f"--light: {traffic_colour(t.probability_met)}"))
    headers = (Cell(term("target", lang)), Cell(term("probability_met", lang)),
               Cell(capitalised(term("median", lang))))
    return Table(headers, tuple(body), css="targets")


def assumptions_section(data: RunData, lang: Lang) -> Section | None:
    """Each assumed value: its range around the scenario's value, its reason, and the targets it
    sets, with their probabilities at the low end, the scenario's value and the high end; None
    when the check was not run."""
    frame = data.assumptions
    if frame is None or frame.empty:
        return None
    reasons = {str(a.get("path")): str(a.get("reason", "")) for a in data.assumption_specs}
    headers = [term(k, lang) for k in ("path", "low", "point", "high", "reason", "sets_targets")]
    rows = []
    for path, part in frame.groupby("path", sort=False):
        first = part.iloc[0]
        sets = [f"{r['target']} (" + " / ".join(probability_with_margin(r[k], math.nan, lang)
                                              for k in ("p_low", "p_point", "p_high")) + ")"
                for r in part.to_dict("records") if r["sets_it"]]
        rows.append([str(path), *(plain(first[k], lang) for k in ("low", "point", "high")),
                     reasons.get(str(path), ""), "; ".join(sets) or term("none", lang)])
    note = term("assumptions_explained", lang).format(runs=int(frame["runs"].iloc[0]))
    return Section("assumptions", term("assumptions", lang), (note,),
                   (table(headers, rows, [False, True, True, True, False, False]),))


def programmes_section(data: RunData, lang: Lang) -> Section | None:
    """Programme use by year: mean participants and queue, referrals, starts, lapses, wait, cost."""
    if data.programmes is None or data.programmes.empty:
        return None
    counts = ("referrals", "starts", "lapsed", "declined")
    headers = [term(k, lang) for k in ("programme", "year", "participants", "queued", *counts,
                                       "mean_wait_days", "programme_cost")]
    rows = [[str(r["programme"]), str(r["year"]), number(r["participants"], lang), number(r["queued"], lang),
             *(number(r[k], lang, 0) for k in counts),
             number(r["mean_wait_days"], lang) if r["mean_wait_days"] == r["mean_wait_days"] else "",
             millions(r["cost_dkk"], lang, 2)] for r in programme_years(data.programmes).to_dict("records")]
    notes = (price_note(data.scenario, lang),) if data.costs is not None else ()
    return Section("programmes", term("programmes_title", lang), notes,
                   (table(headers, rows, [False, False] + [True] * 8),))


def teams_section(data: RunData, lang: Lang) -> Section | None:
    """Caseworker teams by year: meetings held, late and missed shares, hours used, first meetings
    within 14 days and Dragør's fokusmål; None without teams."""
    if data.caseworkers is None or data.caseworkers.empty:
        return None
    headers = [term(k, lang) for k in ("team", "year", "meetings_held", *TEAM_SHARES)]
    rows = [[str(r["team"]), str(r["year"]), number(r["held"], lang, 0),
             *(percent(r[k], lang) if r[k] == r[k] else "" for k in TEAM_SHARES)]
            for r in team_years(data.caseworkers).to_dict("records")]
    return Section("teams", term("teams_title", lang), (),
                   (table(headers, rows, [False, False] + [True] * 7),))


def layers_section(data: RunData, lang: Lang) -> Section | None:
    """Which layer of uncertainty dominates each yearly total and target (layers.csv)."""
    layers = data.layers
    if layers is None or layers.empty:
        return None
    headers = [term(k, lang) for k in ("quantity", "sd_parameters_drawn", "sd_parameters_fixed",
                                       "parameter_share", "dominant")]
    rows = [[layer_quantity(str(r["quantity"]), lang), number(r["sd_parameters_drawn"], lang),
             number(r["sd_parameters_fixed"], lang), percent(r["parameter_share"], lang, 0),
             term(f"dominant_{r['dominant']}", lang)] for r in layers.to_dict("records")]
    return Section("layers", term("layers_title", lang), (),
                   (table(headers, rows, [False, True, True, True, False]),))


# --- the page ------------------------------------------------------------------------------------


def run_page(data: RunData, lang: Lang) -> Page:
    """The page's title, heading and how the run was made."""
    f = data.facts
    made = term("made_by", lang).format(runs=f.get("runs", "?"), seed=f.get("seed", "?"),
                                        version=f.get("caseflow_version", "?"),
                                        created=timestamp(f.get("created"), lang))
    return Page(f"{data.name} – caseflow", lang, data.name, made, command=command_of(f),
                command_label=capitalised(term("command", lang)))


def fan_charts(data: RunData, fans: dict[str, bytes], lang: Lang) -> list[Chart]:
    """One fan chart per state, the total first."""
    return [chart(fans[s], capitalised(state_label(s, lang, data.state_specs)), "fan", state=s)
            for s in (TOTAL, *data.states) if s in fans]


def build_html(data: RunData, fans: dict[str, bytes], bars_png: bytes | None, lang: Lang,
               track: Section | None = None, track_png: bytes | None = None) -> str:
    """The run's report: the budget, the targets, the assumptions checked, a tracked forecast's
    path (`sim.reports.track`), programmes, caseworkers and uncertainty layers, then the charts."""
    charts = []
    if track_png is not None:
        charts.append(chart(track_png, term("probability_axis", lang), "track", wide=True))
    if bars_png is not None:
        charts.append(chart(bars_png, term("probability_axis", lang), "probabilities", wide=True))
    charts += fan_charts(data, fans, lang)
    details = [s for s in (assumptions_section(data, lang), track, programmes_section(data, lang),
                           teams_section(data, lang), layers_section(data, lang)) if s is not None]
    return render("run.html", page=run_page(data, lang), budget=budget_section(data, lang),
                  costs=monthly_costs_section(data, lang), targets=targets_table(data, lang),
                  targets_title=term("targets", lang), no_targets=term("no_targets", lang),
                  precision=precision_sentence(data.target_rows(), lang), details=details,
                  charts=charts, charts_title=term("charts", lang))
