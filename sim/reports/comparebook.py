"""The comparison's workbook (report.xlsx of `caseflow compare`): every difference, with its interval.

Sheets: Budget (per benefit and year: full-year persons and net DKK of both runs with the paired
difference, its standard error and 95 % interval, from differences.csv; gross and refund DKK of
both runs and the difference of their means, from each run's yearly.csv), Oversigt/Summary (per
target: both means and probabilities, the difference with its interval and spread), År/Yearly
and Udgifter/Costs (differences.csv's state-year rows as they are), Indsatser/Programmes and
Sagsbehandlere/Caseworkers by year (both runs and the difference of the means: the folder holds no
paired programme or meeting counts, so these have no interval) and Scenarier/Scenarios (both
runs' facts and every input that differs).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
from openpyxl import Workbook
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from sim.contract.caseworker_spec import TEAM_SHARES
from sim.reports.budget import price_label
from sim.reports.comparedata import NUMBERS, SPREAD, ComparisonData, PairLine, TargetChange, budget_pairs
from sim.reports.language import Lang, capitalised, state_label, term
from sim.reports.texts import metric_name
from sim.reports.workbook import Column, flatten, keyed, metric_kind, traffic_lights, write_table
from sim.reports.yearly import PROGRAMME_MEANS, PROGRAMME_SUMS, programme_years, team_years

INTERVAL = ("difference", "difference_se", "difference_low95", "difference_high95")
"""The paired difference's columns the Budget sheet shows beside both means."""


def _number(key: str) -> Callable[[TargetChange], float]:
    """A target change's value of `key`."""
    return lambda c: c.numbers[key]


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
        *(Column(term(k, lang), _number(k), number_kind(k)) for k in NUMBERS),
    ]
    changes = data.target_changes()
    write_table(ws, changes, columns, lang)
    if not changes:
        ws.cell(row=2, column=1, value=term("no_targets", lang))
        return
    first = len(columns) - len(NUMBERS) + 1
    for name in ("base_probability_met", "variant_probability_met"):  # traffic lights, as a run's
        letter = get_column_letter(first + NUMBERS.index(name))
        traffic_lights(ws, f"{letter}2:{letter}{len(changes) + 1}")


def state_year_sheet(ws: Worksheet, data: ComparisonData, kind: str, lang: Lang) -> None:
    """Per year and state (differences.csv's order): both means, the difference, its interval and spread."""
    specs = data.state_specs
    unit = "dkk" if kind == "net_dkk" else "persons"
    columns = [Column(term("year", lang), lambda r: int(r["year"]), "year"),
               Column(term("state", lang), lambda r: state_label(str(r["name"]), lang, specs), "text"),
               Column(term("code", lang), lambda r: r["name"], "text"),
               *(keyed(name, unit, lang) for name in SPREAD)]
    write_table(ws, data.rows(kind), columns, lang)


def _paired(part: str, key: str, lang: Lang, unit: str, label: str) -> Column:
    """A Budget column of a paired difference (differences.csv's persons or net rows)."""
    def value(line: PairLine) -> Any:
        numbers = getattr(line, part)
        return None if numbers is None else numbers.get(key)
    return Column(f"{label}: {term(key, lang)}", value, f"{unit}_change" if key == "difference" else unit)


def _means(part: str, lang: Lang, label: str) -> list[Column]:
    """Budget columns of both runs' means and their difference (gross or refund)."""
    def side(i: int) -> Callable[[PairLine], float]:
        return lambda line: getattr(line, part)[i]

    def difference(line: PairLine) -> float:
        base, variant = getattr(line, part)
        return variant - base if math.isfinite(base) and math.isfinite(variant) else math.nan

    return [Column(f"{label}: {term('base', lang)}", side(0), "dkk"),
            Column(f"{label}: {term('variant', lang)}", side(1), "dkk"),
            Column(f"{label}: {term('difference', lang)}", difference, "dkk_change")]


def budget_sheet(ws: Worksheet, data: ComparisonData, lang: Lang) -> None:
    """Per benefit and year: full-year persons and money of both runs, each paired difference with
    its standard error and 95 % interval (gross and refund: the difference of the means)."""
    lines = budget_pairs(data)
    specs = data.state_specs
    columns = [Column(term("year", lang), lambda line: line.year, "year"),
               Column(term("state", lang), lambda line: capitalised(state_label(line.code, lang, specs)),
                      "text"),
               Column(term("code", lang), lambda line: line.code, "text")]
    persons = term("persons_short", lang)
    columns += [_paired("persons", k, lang, "persons", persons)
                for k in ("base_mean", "variant_mean", *INTERVAL)]
    if any(line.net is not None for line in lines):
        prices = price_label(data.base.scenario, lang)
        money = f"{term('dkk_unit', lang)}, {prices}" if prices else term("dkk_unit", lang)
        columns += _means("gross", lang, f"{term('gross_short', lang)} ({money})")
        columns += _means("refund", lang, f"{term('refund_short', lang)} ({money})")
        net = f"{term('net_short', lang)} ({money})"
        columns += [_paired("net", k, lang, "dkk", net) for k in ("base_mean", "variant_mean", *INTERVAL)]
    write_table(ws, lines, columns, lang)
    if not lines:
        ws.cell(row=2, column=1, value=term("no_years", lang))


def pair_frames(base: pd.DataFrame | None, variant: pd.DataFrame | None, key: str,
                 years: Callable[[pd.DataFrame], pd.DataFrame]) -> pd.DataFrame:
    """Both runs' yearly tables joined by (key, year), with the variant's columns suffixed."""
    empty = pd.DataFrame(columns=["year", key])
    a = years(base) if base is not None else empty
    b = years(variant) if variant is not None else empty
    return a.merge(b, on=["year", key], how="outer", suffixes=("_base", "_variant"), sort=False)


def _side_columns(columns: Sequence[str], lang: Lang, kinds: dict[str, str]) -> list[Column]:
    """For each column, the base's and the variant's value and the difference of the means."""
    def get(name: str) -> Callable[[dict[str, Any]], Any]:
        return lambda r: r.get(name)

    def difference(name: str) -> Callable[[dict[str, Any]], float]:
        def value(r: dict[str, Any]) -> float:
            a, b = r.get(f"{name}_base"), r.get(f"{name}_variant")
            return float(b) - float(a) if a is not None and b is not None else math.nan
        return value

    out = []
    for name in columns:
        label, kind = term(name, lang), kinds.get(name, "persons")
        change = {"share": "share_change", "dkk": "dkk_change", "persons": "persons_change"}.get(kind, kind)
        out += [Column(f"{label}: {term('base', lang)}", get(f"{name}_base"), kind),
                Column(f"{label}: {term('variant', lang)}", get(f"{name}_variant"), kind),
                Column(f"{label}: {term('difference', lang)}", difference(name), change)]
    return out


def programme_sheet(ws: Worksheet, data: ComparisonData, lang: Lang) -> None:
    """Programmes by year: both runs' use and cost and the difference of the means."""
    joined = pair_frames(data.base.programmes, data.variant.programmes, "programme", programme_years)
    kinds = {"cost_dkk": "dkk", "wait_days": "days", "mean_wait_days": "days"}
    columns = [Column(term("year", lang), lambda r: int(r["year"]), "year"),
               Column(term("programme", lang), lambda r: r["programme"], "text"),
               *_side_columns([*PROGRAMME_MEANS, *PROGRAMME_SUMS, "mean_wait_days"], lang, kinds)]
    write_table(ws, joined.to_dict("records"), columns, lang)


def caseworker_sheet(ws: Worksheet, data: ComparisonData, lang: Lang) -> None:
    """Caseworker teams by year: meetings due, held, late and missed and each share, both runs and
    the difference of the means."""
    joined = pair_frames(data.base.caseworkers, data.variant.caseworkers, "team", team_years)
    counts = [c for c in ("due", "held", "late", "missed") if f"{c}_base" in joined.columns]
    kinds = dict.fromkeys(TEAM_SHARES, "share")
    columns = [Column(term("year", lang), lambda r: int(r["year"]), "year"),
               Column(term("team", lang), lambda r: r["team"], "text"),
               *_side_columns([*counts, *TEAM_SHARES], lang, kinds)]
    write_table(ws, joined.to_dict("records"), columns, lang)


def input_changes(data: ComparisonData) -> list[tuple[str, Any, Any]]:
    """The resolved inputs (key paths) whose values differ between base and variant, name aside."""
    base, variant = dict(flatten(data.base.scenario)), dict(flatten(data.variant.scenario))
    keys = [k for k in dict.fromkeys([*base, *variant]) if k != "name"]
    return [(k, base.get(k), variant.get(k)) for k in keys if base.get(k) != variant.get(k)]


def scenarios_sheet(ws: Worksheet, data: ComparisonData, lang: Lang) -> None:
    """The two runs' facts side by side, then every input that differs."""
    b, v = data.base.facts, data.variant.facts
    rows: list[tuple[str, Any, Any]] = [("name", data.base.name, data.variant.name)]
    rows += [(term(label, lang), b.get(key), v.get(key)) for label, key in (
        ("runs", "runs"), ("seed", "seed"), ("version", "caseflow_version"), ("created", "created"),
        ("command", "command"))]
    rows += [(term("price_year_key", lang), price_label(data.base.scenario, lang),
              price_label(data.variant.scenario, lang))]
    rows += input_changes(data)
    columns = [Column(term("key", lang), lambda r: r[0], "text"),
               Column(term("base", lang), lambda r: r[1], "general"),
               Column(term("variant", lang), lambda r: r[2], "general")]
    write_table(ws, rows, columns, lang, max_width=60)


def write_comparison_workbook(data: ComparisonData, path: Path, lang: Lang) -> Path:
    """report.xlsx of a comparison: Budget, Summary, Yearly, Costs (with net DKK rows), Programmes
    and Caseworkers (when either run has them) and Scenarios sheets."""
    wb = Workbook()
    budget = wb.active
    assert budget is not None
    budget.title = term("budget", lang)
    budget_sheet(budget, data, lang)
    summary_sheet(wb.create_sheet(term("summary", lang)), data, lang)
    state_year_sheet(wb.create_sheet(term("yearly", lang)), data, "full_year_persons", lang)
    if data.rows("net_dkk"):
        state_year_sheet(wb.create_sheet(term("costs", lang)), data, "net_dkk", lang)
    if data.base.programmes is not None or data.variant.programmes is not None:
        programme_sheet(wb.create_sheet(term("programmes_yearly", lang)), data, lang)
    if data.base.caseworkers is not None or data.variant.caseworkers is not None:
        caseworker_sheet(wb.create_sheet(term("caseworkers", lang)), data, lang)
    scenarios_sheet(wb.create_sheet(term("scenarios", lang)), data, lang)
    wb.save(path)
    return path
