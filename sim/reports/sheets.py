"""The workbook's sheets of money and of the features: Budget, Programmes, Caseworkers, Uncertainty.

The Budget sheet is the budget table of `sim.reports.budget` in kroner (not millions): per
benefit and year the full-year persons (payment basis) with their 10–90 % spread, gross, refund
and net DKK with net's spread, the co-financing rate with its spread, and the plan's budget
figures beside them when the scenario has them; the price year is in the money headers and a
row of the Scenario sheet. Programmes get two sheets, by month (programmes.csv as it is) and by
year (`sim.reports.yearly`), caseworkers one by month (caseworkers.csv), and layers.csv one.
"""

from __future__ import annotations

from typing import Any

from openpyxl import Workbook
from openpyxl.worksheet.worksheet import Worksheet

from sim.reports.budget import BudgetLine, build_budget, price_label
from sim.reports.language import Lang, month_date, term
from sim.reports.rundata import RunData
from sim.reports.texts import layer_quantity
from sim.reports.workbook import Column, keyed, write_table
from sim.reports.yearly import programme_years

PROGRAMME_KINDS = {"participants": "persons", "queued": "persons", "referrals": "persons",
                   "starts": "persons", "lapsed": "persons", "declined": "persons", "wait_days": "days",
                   "cost_dkk": "dkk", "mean_wait_days": "days"}
"""The number format of each programme column (means over runs, so fractional counts)."""


def _field(name: str) -> Any:
    return lambda line: getattr(line, name)


def _planned(column: str) -> Any:
    return lambda line: line.plan.get(column)


def budget_columns(data: RunData, lang: Lang, plan_columns: tuple[str, ...], money: bool,
                   payment: bool) -> list[Column]:
    """The Budget sheet's columns: forecast and, where the plan has them, budget figures."""
    prices = price_label(data.scenario, lang)
    persons = term("persons_short", lang) + (f" ({term('payment_basis', lang)})" if payment else "")
    plan = term("plan_column", lang).lower()
    columns = [Column(term("year", lang), lambda line: line.year, "year"),
               Column(term("state", lang), lambda line: line.label, "text"),
               Column(term("code", lang), lambda line: line.code, "text"),
               Column(persons, _field("persons"), "persons"),
               Column(f"{persons} p10", _field("persons_p10"), "persons"),
               Column(f"{persons} p90", _field("persons_p90"), "persons")]
    if "persons" in plan_columns:
        columns.append(Column(f"{term('persons_short', lang)}, {plan}", _planned("persons"), "persons"))
    if not money:
        return columns
    for column in ("gross", "refund", "net"):
        head = f"{term(column + '_short', lang)}, {term('dkk_unit', lang)} ({prices})"
        columns.append(Column(head, _field(column), "dkk"))
        if column == "net":
            columns += [Column(f"{term('net_short', lang)} p10", _field("net_p10"), "dkk"),
                        Column(f"{term('net_short', lang)} p90", _field("net_p90"), "dkk")]
        if column in plan_columns:
            columns.append(Column(f"{term(column + '_short', lang)}, {plan}", _planned(column), "dkk"))
    cofinancing = term("cofinancing_short", lang)
    return [*columns, Column(cofinancing, _field("cofinancing"), "share"),
            Column(f"{cofinancing} p10", _field("cofinancing_p10"), "share"),
            Column(f"{cofinancing} p90", _field("cofinancing_p90"), "share")]


def budget_sheet(ws: Worksheet, data: RunData, lang: Lang) -> None:
    """The budget table, a row per benefit (budget line) and year, the total last in each year."""
    budget = build_budget(data, lang)
    lines: list[BudgetLine] = list(budget.lines)
    columns = budget_columns(data, lang, budget.plan_columns, budget.money, budget.payment_basis)
    write_table(ws, lines, columns, lang)
    if not lines:
        ws.cell(row=2, column=1, value=term("no_years", lang))


def programme_sheets(wb: Workbook, data: RunData, lang: Lang) -> None:
    """Programmes by month (programmes.csv's columns in its order) and by year."""
    assert data.programmes is not None
    frame = data.programmes
    monthly = [Column(term("month", lang), lambda r: month_date(str(r["month"])), "month"),
               keyed("programme", "text", lang)]
    monthly += [keyed(c, PROGRAMME_KINDS[c], lang) for c in frame.columns if c in PROGRAMME_KINDS]
    write_table(wb.create_sheet(term("programmes", lang)), frame.to_dict("records"), monthly, lang)
    years = programme_years(frame)
    yearly = [Column(term("year", lang), lambda r: int(r["year"]), "year"), keyed("programme", "text", lang)]
    yearly += [keyed(c, PROGRAMME_KINDS[c], lang) for c in years.columns if c in PROGRAMME_KINDS]
    write_table(wb.create_sheet(term("programmes_yearly", lang)), years.to_dict("records"), yearly, lang)


def caseworker_sheet(ws: Worksheet, data: RunData, lang: Lang) -> None:
    """Caseworker teams by month: meetings due, held, late and missed, hours and fokusmål, then the
    shares (caseworkers.csv's columns in its order)."""
    assert data.caseworkers is not None
    frame = data.caseworkers
    columns = [Column(term("month", lang), lambda r: month_date(str(r["month"])), "month"),
               keyed("team", "text", lang)]
    columns += [keyed(c, "share" if c.endswith("_share") or c == "utilisation" else "persons", lang)
                for c in frame.columns if c not in ("month", "team")]
    write_table(ws, frame.to_dict("records"), columns, lang)


def layers_sheet(ws: Worksheet, data: RunData, lang: Lang) -> None:
    """layers.csv: per quantity the spread with parameters drawn and fixed, and which layer dominates."""
    assert data.layers is not None
    columns = [Column(term("quantity", lang), lambda r: layer_quantity(str(r["quantity"]), lang), "text"),
               keyed("sd_parameters_drawn", "sd", lang), keyed("sd_parameters_fixed", "sd", lang),
               keyed("parameter_share", "share", lang),
               Column(term("dominant", lang), lambda r: term(f"dominant_{r['dominant']}", lang), "text")]
    write_table(ws, data.layers.to_dict("records"), columns, lang, max_width=50)
