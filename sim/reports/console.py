"""The summary a run prints: the budget by year, the plan's budget, the features, and the targets.

Printed from the run folder's files (as every report is), so what the console shows is what the
folder holds, and `caseflow run` and `caseflow compare` print the folder they just wrote. It
speaks the report's language (`lang`, by default the run's own: Danish numbers, labels and words
unless the run was made with `--lang en`), shows labels rather than codes, and stays readable in
80 columns: a label wraps, and a number is never cut, since a table too wide for the console is
split into tables that fit, each with the label columns (`Grid`). A target's probability shows
with its 95 % margin ("0,58 ± 0,07", see `sim.reports.texts.margin_95`) and the assumed values
that set it ("0,58 ± 0,07 · afgøres af inflow_per_week.sygedagpenge.rate · antaget basis"); a
line under the table says how many runs a standard error of 0.02 would take.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from sim.contract.caseworker_spec import TEAM_SHARES
from sim.contract.catalogue import TOTAL
from sim.reports.budget import BudgetLine, build_budget, price_label
from sim.reports.comparedata import ComparisonData, budget_pairs
from sim.reports.language import (
    Lang,
    capitalised,
    check_lang,
    folder_lang,
    millions,
    number,
    percent,
    persons,
    probability,
    term,
)
from sim.reports.rundata import RunData
from sim.reports.texts import amount, layer_quantity, precision_sentence, probability_note, probability_text
from sim.reports.units import difference_texts, difference_unit, short_unit
from sim.reports.yearly import programme_years, team_years

LABEL_MIN = 12
"""The narrowest a label column may get before a table is split in two."""
LABEL_WORD = 22
"""A label column is at least as wide as its longest word, up to this many characters (a longer
word folds)."""


@dataclass
class Grid:
    """A console table of already formatted cells: label columns that wrap, number columns that
    keep their width. `show` prints it, split into tables that fit the console's width when needed,
    each with the label columns, so that no number is ever cut."""

    title: str
    labels: list[str]
    numbers: list[str]
    rows: list[tuple[list[str], list[str], str | None]] = field(default_factory=list)
    """Per row: its label cells, its number cells and a style ('bold' for the total)."""
    label_widths: list[int] = field(default_factory=list)
    """The least width of each label column (LABEL_MIN where not given)."""

    def add(self, labels: Sequence[str], numbers: Sequence[str], style: str | None = None) -> None:
        """One more row."""
        self.rows.append((list(labels), list(numbers), style))

    def width(self, i: int) -> int:
        """Number column i's width: its widest cell or its header's longest line."""
        texts = (self.numbers[i], *(row[1][i] for row in self.rows))
        return max(len(line) for text in texts for line in text.split("\n"))

    def least(self, j: int) -> int:
        """Label column j's least width: as given, else its longest word (LABEL_MIN to LABEL_WORD)."""
        if j < len(self.label_widths):
            return self.label_widths[j]
        words = [len(w) for row in self.rows for w in row[0][j].split()] + [len(self.labels[j])]
        return max(LABEL_MIN, min(LABEL_WORD, max(words)))

    def chunks(self, width: int) -> list[list[int]]:
        """The number columns of each table, so that each fits `width` beside its label columns (a
        column takes its width and two of padding and separator)."""
        room = width - sum(self.least(j) + 2 for j in range(len(self.labels)))
        out: list[list[int]] = [[]]
        used = 0
        for i in range(len(self.numbers)):
            need = self.width(i) + 2
            if out[-1] and used + need > room:
                out.append([])
                used = 0
            out[-1].append(i)
            used += need
        return out

    def tables(self, width: int, cell: Callable[[int, int, str], str] | None = None) -> list[Table]:
        """The rich tables to print, without titles; `cell(row, label column, text)` may mark up a
        label cell."""
        out = []
        for part in self.chunks(width):
            table = Table(box=box.SIMPLE_HEAD, show_edge=False, collapse_padding=True)
            for j, name in enumerate(self.labels):
                table.add_column(escape(name), overflow="fold", min_width=self.least(j))
            for i in part:
                table.add_column(escape(self.numbers[i]), justify="right", no_wrap=True,
                                 min_width=self.width(i))
            for r, (labels, numbers, style) in enumerate(self.rows):
                shown = [cell(r, j, text) if cell else escape(text) for j, text in enumerate(labels)]
                table.add_row(*shown, *(escape(numbers[i]) for i in part), style=style)
            out.append(table)
        return out

    def show(self, console: Console, cell: Callable[[int, int, str], str] | None = None,
             adjust: Callable[[Table], None] | None = None) -> None:
        """Print the title (wrapped at the console's width) and the table, or its parts, each with
        the label columns; `adjust` may change each table before it is printed."""
        tables = self.tables(console.width, cell)
        for k, table in enumerate(tables):
            title = self.title if k == 0 else f"{self.title} ({k + 1}/{len(tables)})"
            console.print(title, markup=False, highlight=False, style="bold")
            if adjust is not None:
                adjust(table)
            console.print(table)


def longest_word(texts: Sequence[str]) -> int:
    """The longest word of some label cells, LABEL_MIN to LABEL_WORD: a label column's least width."""
    return max(LABEL_MIN, min(LABEL_WORD, max((len(w) for t in texts for w in t.split()), default=0)))


def _lang(run: RunData, lang: str | None) -> Lang:
    """The language asked for, else the run's own."""
    return check_lang(lang) if lang is not None else folder_lang(run.facts)


def _batch(run: RunData, lang: Lang) -> str:
    """'100 kørsler, seed 1' from run.json."""
    return term("batch", lang).format(runs=run.facts.get("runs"), seed=run.facts.get("seed"))


def console_amount(metric: str, value: float, lang: Lang) -> str:
    """A target's value for a narrow column: persons, a percentage, '134,0 mio.' or '12,5 uger'."""
    if not math.isfinite(value):
        return "–"
    if metric.endswith("_dkk"):
        return f"{millions(value, lang)} {term('million_short', lang)}"
    if metric == "mean_duration_weeks":
        return f"{number(value, lang, 1)} {term('weeks_short', lang)}"
    return amount(metric, value, lang)


def value_range(metric: str, low: float, high: float, lang: Lang) -> str:
    """'484–528', '72,8–73,1 %', '128,2–144,3 mio.' (the unit once); '–' when unknown."""
    if not (math.isfinite(low) and math.isfinite(high)):
        return "–"
    if metric == "cofinancing_rate" or metric.endswith("_share"):
        return f"{number(100 * low, lang, 1)}–{percent(high, lang)}"  # the sign once, as the locale puts it
    if metric.endswith("_dkk"):
        return f"{millions(low, lang)}–{millions(high, lang)} {term('million_short', lang)}"
    if metric == "mean_duration_weeks":
        return f"{number(low, lang, 1)}–{number(high, lang, 1)} {term('weeks_short', lang)}"
    return f"{persons(round(low), lang)}–{persons(round(high), lang)}"


def print_summary(run: RunData, console: Console, lang: str | None = None) -> None:
    """Print the budget by year (and the plan's), the features, then the targets, from a run folder,
    in `lang` (default: the run's language)."""
    language = _lang(run, lang)
    _print_budget(run, console, language)
    _print_programmes(run, console, language)
    _print_teams(run, console, language)
    _print_layers(run, console, language)
    if not run.targets.empty:
        _print_targets(run, console, language)


def _print_budget(run: RunData, console: Console, lang: Lang) -> None:
    """Per year: full-year persons with their spread and, with economics, gross, refund and net DKK
    million and the co-financing rate; then the plan's budget figures against the forecast."""
    budget = build_budget(run, lang)
    if not budget.years:
        console.print(term("no_year_console", lang), markup=False, highlight=False)
        return
    names = [term("persons_column", lang), term("band_80", lang)]
    if budget.money:
        names += [term(k, lang) for k in ("gross_short", "refund_short", "net_short", "cofinancing_console")]
    prices = price_label(run.scenario, lang)
    for year in budget.years:
        key = "console_year_title" if budget.money else "console_year_persons"
        grid = Grid(term(key, lang).format(name=run.name, year=year, batch=_batch(run, lang), prices=prices),
                    [term("state", lang)], names)
        for line in budget.in_year(year):
            spread = (f"{persons(round(line.persons_p10), lang)}–{persons(round(line.persons_p90), lang)}"
                      if math.isfinite(line.persons_p10) and math.isfinite(line.persons_p90) else "")
            cells = [persons(round(line.persons), lang), spread]
            if budget.money:
                cells += [millions(line.gross, lang), millions(line.refund, lang), millions(line.net, lang),
                          percent(line.cofinancing, lang)]
            grid.add([line.label], cells, "bold" if line.is_total else None)
        grid.show(console)
    if budget.plan_columns:
        _print_plan(run, budget.lines, console, lang)


def _print_plan(run: RunData, lines: Sequence[BudgetLine], console: Console, lang: Lang) -> None:
    """The plan's budget figures beside the forecast: one row per line, year and figure."""
    grid = Grid(term("plan_against", lang).format(name=run.name),
                [term("state", lang), term("measure", lang)],
                [term("year", lang), term("plan_column", lang), term("forecast_column", lang)],
                label_widths=[longest_word([line.label for line in lines]), 8])
    words = {"persons": "persons_short", "gross": "gross_short", "refund": "refund_short", "net": "net_short"}

    def show(column: str, value: float) -> str:
        if not math.isfinite(value):
            return "–"
        return persons(round(value), lang) if column == "persons" else (
            f"{millions(value, lang)} {term('million_short', lang)}")

    for line in lines:
        for column, value in line.plan.items():
            grid.add([line.label, term(words[column], lang)],
                     [str(line.year), show(column, value), show(column, getattr(line, column))])
    grid.show(console)


def _print_targets(run: RunData, console: Console, lang: Lang) -> None:
    """The targets: the probability with its margin and notes, the threshold, the median and 10–90 %."""
    rows = run.target_rows()
    grid = Grid(term("targets", lang), [term("target", lang), term("p_met", lang)],
                [term("threshold", lang), term("median", lang).capitalize(), term("band_80", lang)],
                label_widths=[longest_word([r.name for r in rows]),
                              max(len(probability_text(r, lang)) for r in rows)])
    for row in rows:
        sense = "≤" if row.sense == "at_most" else "≥"
        whole = row.metric == "full_year_persons" and math.isfinite(row.p50)
        median = persons(round(row.p50), lang) if whole else console_amount(row.metric, row.p50, lang)
        grid.add([row.name, probability_text(row, lang) + probability_note(row, lang)],
                 [f"{sense} {console_amount(row.metric, row.threshold, lang)}", median,
                  value_range(row.metric, row.p10, row.p90, lang)])
    colours = ["green" if r.probability_met >= 0.8 else ("yellow" if r.probability_met >= 0.5 else "red")
               for r in rows]

    def light(r: int, j: int, text: str) -> str:
        if j == 0:
            return escape(text)
        p, _, note = text.partition(" · ")
        return f"[{colours[r]}]{escape(p)}[/]" + (escape(f" · {note}") if note else "")

    def narrow(table: Table) -> None:  # in a narrow console the notes wrap, so that the names get room
        if console.width < 120:
            table.columns[1].max_width = max(grid.least(1), console.width // 4)

    grid.show(console, light, narrow)
    for line in (precision_sentence(rows, lang), assumption_sentence(run, lang)):
        if line:
            console.print(line, markup=False, highlight=False)
    for row in rows:
        if row.metric == "mean_duration_weeks" and math.isfinite(row.censored_share):
            share = percent(row.censored_share, lang)
            text = term("censored_console", lang).format(target=row.name, share=share)
            console.print(text + (term("censored_longer", lang) if row.censored_share > 0 else "."),
                          markup=False, highlight=False)


def assumption_sentence(run: RunData, lang: Lang = "en") -> str:
    """What 'set by' means and what the check cost, from assumptions.csv ('' without one)."""
    frame = run.assumptions
    if frame is None or frame.empty:
        return ""
    paths, runs = list(dict.fromkeys(frame["path"])), int(frame["runs"].iloc[0])
    setting = sum(1 for row in run.target_rows() if row.set_by_assumption)
    key = "assumptions_console_one" if len(paths) == 1 else "assumptions_console"
    return term(key, lang).format(count=len(paths), runs=runs, setting=setting,
                                  targets=len(frame["target"].unique()))


def print_differences(comparison: ComparisonData, console: Console, lang: str | None = None) -> None:
    """Print variant − base per target and for the total per year, with 95 % intervals, from a
    comparison folder, in `lang` (default: the base run's language)."""
    language = _lang(comparison.base, lang)
    base = comparison.base
    title = term("paired_title", language).format(variant=comparison.variant.name, base=base.name,
                                                  runs=base.facts.get("runs"), seed=base.facts.get("seed"))
    grid = Grid(title, [""], [term("year", language), term("levels_console", language),
                              term("difference_console", language), term("p_base_variant", language)])

    def levels(metric: str, a: float, b: float) -> str:
        def show(v: float) -> str:
            whole = difference_unit(metric) == "persons" and math.isfinite(v)
            return persons(round(v), language) if whole else console_amount(metric, v, language)
        return f"{show(a)} → {show(b)}"

    def change(metric: str, numbers: dict[str, float]) -> str:
        diff, low, high = difference_texts(metric, [numbers["difference"], numbers["difference_low95"],
                                                    numbers["difference_high95"]], language)
        unit = short_unit(metric, language)
        return f"{diff}{' ' + unit if unit else ''}\n({low} … {high})"

    for target in comparison.target_changes():
        t, n = target.target, target.numbers
        grid.add([t.name], [str(t.year or ""), levels(t.metric, n["base_mean"], n["variant_mean"]),
                            change(t.metric, n),
                            f"{probability(n['base_probability_met'], language)} → "
                            f"{probability(n['variant_probability_met'], language)}"])
    for line in budget_pairs(comparison):
        if line.code == TOTAL and line.persons is not None:
            p = line.persons
            grid.add([capitalised(term("total_persons_row", language))],
                     [str(line.year), f"{persons(round(p['base_mean']), language)} → "
                                      f"{persons(round(p['variant_mean']), language)}",
                      change("full_year_persons", p), ""], "bold")
    grid.show(console)


def _print_programmes(run: RunData, console: Console, lang: Lang) -> None:
    """Programme use, a table a year: mean participants and queue, starts, lapses, mean wait, cost."""
    if run.programmes is None:
        return
    names = [term(k, lang) for k in ("participants_short", "queue_short", "starts", "lapsed_short",
                                     "wait_short", "cost_console")]
    years = programme_years(run.programmes)
    for year in dict.fromkeys(years["year"]):
        grid = Grid(term("programmes_console", lang).format(year=year), [term("programme", lang)], names)
        for r in years[years["year"] == year].to_dict("records"):
            wait = r["mean_wait_days"]
            grid.add([str(r["programme"])], [number(r["participants"], lang), number(r["queued"], lang),
                                             number(r["starts"], lang, 0), number(r["lapsed"], lang, 0),
                                             number(wait, lang) if wait == wait else "–",
                                             millions(r["cost_dkk"], lang, 2)])
        grid.show(console)


def _print_teams(run: RunData, console: Console, lang: Lang) -> None:
    """Caseworker teams, a table a year: meetings held, late and missed shares, utilisation, fokusmål."""
    if run.caseworkers is None:
        return
    short = ("late_short", "missed_short", "utilisation_short", "first_short", "no_offer_short",
             "few_meetings_short")  # the order of TEAM_SHARES
    years = team_years(run.caseworkers)
    for year in dict.fromkeys(years["year"]):
        grid = Grid(term("teams_console", lang).format(year=year), [term("team", lang)],
                    [term("held_short", lang), *(term(k, lang) for k in short)])
        for r in years[years["year"] == year].to_dict("records"):
            grid.add([str(r["team"])], [number(r["held"], lang, 0),
                                        *(percent(r[k], lang, 0) for k in TEAM_SHARES)])
        grid.show(console)


def dominant(value: object) -> str:
    """layers.csv's `dominant` as a word key: 'parameters' or 'process'."""
    return "parameters" if str(value).strip().lower().startswith("param") else "process"


def _print_layers(run: RunData, console: Console, lang: Lang) -> None:
    """Which uncertainty layer dominates each yearly total and target (with parameter draws)."""
    layers = run.layers
    if layers is None or layers.empty:
        return
    grid = Grid(term("layers_title", lang), [term("quantity", lang), term("dominant", lang)],
                [term("sd_drawn_console", lang), term("sd_fixed_console", lang), term("share_console", lang)],
                label_widths=[longest_word([layer_quantity(str(q), lang) for q in layers["quantity"]]), 10])
    for r in layers.to_dict("records"):
        layer = term(f"dominant_{dominant(r['dominant'])}", lang)
        grid.add([layer_quantity(str(r["quantity"]), lang), layer],
                 [number(r["sd_parameters_drawn"], lang), number(r["sd_parameters_fixed"], lang),
                  percent(r["parameter_share"], lang, 0)])
    grid.show(console)
    main = layers.iloc[0]
    console.print(term("layers_sentence", lang).format(
        kind=term(f"dominant_{dominant(main['dominant'])}_kind", lang),
        quantity=layer_quantity(str(main["quantity"]), lang),
        share=percent(float(main["parameter_share"]), lang, 0)), markup=False, highlight=False)
