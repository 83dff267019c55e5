"""The budget table every report opens with: per benefit (budget line) and year, full-year persons
and gross, refund and net DKK, beside the plan's own budget figures where the scenario has them.

The numbers are yearly.csv's: full-year persons on the payment basis (what the municipality pays
for, as budgets count them; the same as the Jobindsats basis for a benefit without an employer
period), with their 10–90 % spread, and the cost columns with net DKK's spread and the
co-financing rate. The plan's figures are the resolved scenario's `observed` rows with a budget
measure (`budget_full_year_persons`, `budget_dkk`, `refund_dkk`, `net_dkk`) for a calendar year:
on a state or on `total`, or on several states, read as calibration reads an observed state (a
Jobindsats group, or a catalogue state the scenario splits, such as kontanthjaelp into its
jobparate and aktivitetsparate), which becomes a budget line of its own whose forecast is the sum
of its states' means (quantiles do not add, so it has no spread). The
price year is the economics block's: its `base_year`, indexed by `price_index_per_year` when that
is not zero.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import pandas as pd

from sim.contract.catalogue import CATALOGUE, GROUPS, TOTAL
from sim.reports.language import Lang, capitalised, group_label, percent, state_label, term
from sim.reports.rundata import RunData

PLAN_MEASURES = {"budget_full_year_persons": "persons", "budget_dkk": "gross", "refund_dkk": "refund",
                 "net_dkk": "net"}
"""The observed measures that are a plan's budget figures, and the forecast column each sits beside."""
GROUP_PREFIX = "group:"

MONEY = ("gross", "refund", "net")
"""The budget's amounts, in the order the tables show them."""


@dataclass(frozen=True, slots=True)
class BudgetLine:
    """One row of the budget table: a benefit (a state, a group of states or the total) in one year."""

    year: int
    code: str
    """A state code, 'total', or the observed code of a budget line over several states (a group,
    'group:<group>', or a catalogue state the scenario splits into sub-states)."""
    label: str
    persons: float
    persons_p10: float
    persons_p90: float
    gross: float = math.nan
    refund: float = math.nan
    net: float = math.nan
    net_p10: float = math.nan
    net_p90: float = math.nan
    cofinancing: float = math.nan
    cofinancing_p10: float = math.nan
    cofinancing_p90: float = math.nan
    plan: dict[str, float] = field(default_factory=dict)
    """The plan's figures for this line and year, by column: persons, gross, refund, net."""

    @property
    def is_total(self) -> bool:
        """Whether this is the line of all public support."""
        return self.code == TOTAL

    is_group: bool = False
    """Whether this line sums several states (a budget line of the plan over a group of them)."""


@dataclass(frozen=True)
class Budget:
    """The budget table of a run: its lines, year by year, and what it can show."""

    lines: tuple[BudgetLine, ...]
    money: bool
    """Whether the run has costs (an economics block)."""
    payment_basis: bool
    """Whether some state's persons differ between the payment and the Jobindsats basis."""
    plan_columns: tuple[str, ...]
    """The columns (persons, gross, refund, net) that have a plan figure in some line."""
    price_note: str
    """'Beløb i 2018-priser.' (or the index), '' without economics."""

    @property
    def years(self) -> list[int]:
        """The calendar years of the table, in order."""
        return list(dict.fromkeys(line.year for line in self.lines))

    def in_year(self, year: int) -> list[BudgetLine]:
        """The lines of one year: states in the run's order, the plan's group lines, then the total."""
        return [line for line in self.lines if line.year == year]


def _year(period: Any) -> int | None:
    """An observed period as a calendar year (2018 or '2018'), else None (a month or a span)."""
    text = str(period).strip()
    return int(text) if text.isdigit() and len(text) == 4 else None


def line_states(code: str, data: RunData) -> tuple[str, ...] | None:
    """The run's states an observed figure's state stands for, as calibration reads it
    (`sim.fitting.observations.state_rows`): `total` every state; `group:<g>` the group's; a
    declared state itself; a catalogue state the scenario splits (kontanthjaelp into
    kontanthjaelp_jobparat and kontanthjaelp_aktivitetsparat) its declared sub-states; a group code
    that is no state (dagpenge) the group. None for anything else."""
    if code == TOTAL:
        return tuple(data.states)
    if code in data.state_specs:
        return (code,)
    if code in CATALOGUE and not code.startswith(GROUP_PREFIX):
        parts = tuple(s for s in data.states if s.startswith(code + "_"))
        if parts:
            return parts
    group = code.removeprefix(GROUP_PREFIX)
    members = tuple(group_states(group, data)) if group in GROUPS else ()
    return members or None


def group_states(group: str, data: RunData) -> list[str]:
    """The run's states in a Jobindsats group (the scenario's `group`, else the catalogue's)."""
    def of(code: str) -> str | None:
        entry = CATALOGUE.get(code)
        return data.state_specs.get(code, {}).get("group") or (entry.group if entry else None)
    return [s for s in data.states if of(s) == group]


def plan_figures(data: RunData) -> dict[tuple[str, int], dict[str, float]]:
    """The plan's budget figures by (observed state, year): the scenario's observed budget rows on
    something the run has (`line_states`)."""
    out: dict[tuple[str, int], dict[str, float]] = {}
    for row in data.scenario.get("observed") or []:
        column = PLAN_MEASURES.get(str(row.get("measure")))
        year, value, code = _year(row.get("period")), row.get("value"), str(row.get("state"))
        known = line_states(code, data) is not None
        if column is None or year is None or not isinstance(value, int | float) or not known:
            continue
        out.setdefault((code, year), {})[column] = abs(float(value))  # a refund is the state's share
    return out


def _prices(scenario: Mapping[str, Any]) -> tuple[Any, float] | None:
    """The economics block's base year and its price index a year (0 for none); None without one."""
    economics = scenario.get("economics")
    if not isinstance(economics, dict):
        return None
    rate = economics.get("price_index_per_year") or 0.0
    return economics.get("base_year", "?"), float(rate) if isinstance(rate, int | float) else 0.0


def price_note(scenario: Mapping[str, Any], lang: Lang) -> str:
    """The price year of the amounts: 'Beløb i 2018-priser.', or the index when it is not zero."""
    prices = _prices(scenario)
    if prices is None:
        return ""
    year, rate = prices
    if rate != 0:
        return term("price_index", lang).format(year=year, rate=percent(rate, lang))
    return term("price_year", lang).format(year=year)


def price_label(scenario: Mapping[str, Any], lang: Lang) -> str:
    """The price year for a column heading: '2018-priser', or 'løbende priser fra 2018' with an index."""
    prices = _prices(scenario)
    if prices is None:
        return ""
    year, rate = prices
    return term("prices_current" if rate != 0 else "prices_year", lang).format(year=year)


def _value(row: Mapping[str, Any], column: str) -> float:
    value = row.get(column)
    return math.nan if value is None or pd.isna(value) else float(value)


def build_budget(data: RunData, lang: Lang) -> Budget:
    """The run's budget table from yearly.csv and the scenario's observed budget figures."""
    yearly = data.yearly
    money = "net_dkk" in yearly.columns
    payment = "payment_mean" in yearly.columns
    basis = "payment_" if payment else ""
    plan = plan_figures(data)
    lines: list[BudgetLine] = []
    records: list[dict[str, Any]] = yearly.to_dict("records")  # type: ignore[assignment]
    by = {(str(r["state"]), int(r["year"])): r for r in records}
    groups = [code for code in dict.fromkeys(code for code, _ in plan)
              if code != TOTAL and code not in data.state_specs]
    for year in sorted({int(y) for y in yearly["year"]}):
        for code in data.states:
            lines.append(_state_line(by[(code, year)], code, year, basis, money, data, lang,
                                     plan.get((code, year), {})))
        for code in groups:
            members = line_states(code, data) or ()
            if (code, year) in plan:
                lines.append(_group_line(code, year, [by[(s, year)] for s in members], basis, money, lang,
                                         plan[(code, year)]))
        lines.append(_state_line(by[(TOTAL, year)], TOTAL, year, basis, money, data, lang,
                                 plan.get((TOTAL, year), {})))
    differs = payment and bool((yearly["payment_mean"] - yearly["mean"]).abs().gt(1e-9).any())
    columns = tuple(c for c in ("persons", *MONEY) if any(c in line.plan for line in lines))
    return Budget(tuple(lines), money, differs, columns, price_note(data.scenario, lang) if money else "")


def _state_line(row: Mapping[str, Any], code: str, year: int, basis: str, money: bool, data: RunData,
                lang: Lang, plan: dict[str, float]) -> BudgetLine:
    line = BudgetLine(year, code, capitalised(state_label(code, lang, data.state_specs)),
                      _value(row, f"{basis}mean"), _value(row, f"{basis}p10"), _value(row, f"{basis}p90"),
                      plan=plan)
    if not money:
        return line
    return replace(line, gross=_value(row, "gross_dkk"), refund=_value(row, "refund_dkk"),
                   net=_value(row, "net_dkk"), net_p10=_value(row, "net_dkk_p10"),
                   net_p90=_value(row, "net_dkk_p90"), cofinancing=_value(row, "cofinancing_rate"),
                   cofinancing_p10=_value(row, "cofinancing_rate_p10"),
                   cofinancing_p90=_value(row, "cofinancing_rate_p90"))


def _group_line(code: str, year: int, rows: list[Mapping[str, Any]], basis: str, money: bool, lang: Lang,
                plan: dict[str, float]) -> BudgetLine:
    def total(column: str) -> float:
        return math.fsum(_value(r, column) for r in rows)

    group = code.removeprefix(GROUP_PREFIX)
    name = state_label(code, lang) if code in CATALOGUE else group_label(group, lang)
    label = term("group_line", lang).format(label=capitalised(name))
    line = BudgetLine(year, code, label, total(f"{basis}mean"), math.nan, math.nan, plan=plan, is_group=True)
    if not money:
        return line
    return replace(line, gross=total("gross_dkk"), refund=total("refund_dkk"), net=total("net_dkk"))


def plan_measures(budget: Budget) -> str:
    """The observed measures behind the plan columns, for the table's note ('budget_dkk, net_dkk')."""
    names = {v: k for k, v in PLAN_MEASURES.items()}
    return ", ".join(names[c] for c in budget.plan_columns)
