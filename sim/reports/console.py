"""The summary a run prints: full-year persons per year, costs in DKK millions, and the targets.

Printed from the run folder's files (as every report is), so what the console shows is what the
folder holds, and `caseflow run` and `caseflow compare` print the folder they just wrote. The
console is in English; a target's probability shows with its 95 % margin ("0.58 ± 0.07", see
`sim.reports.texts.margin_95`) and a line under the table says how many runs a standard error
of 0.02 would take. Next to the probability stand the assumed values that set the target and
an assumed base ("0.58 ± 0.07 · set by inflow_per_week.sygedagpenge.rate · base assumed").
"""

from __future__ import annotations

import pandas as pd
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from sim.contract.caseworker_spec import TEAM_SHARES
from sim.contract.catalogue import TOTAL
from sim.reports.comparedata import ComparisonData
from sim.reports.rundata import RunData
from sim.reports.texts import precision_sentence, probability_note, probability_text


def _amount(metric: str, value: float) -> str:
    """A target value as people read it: persons, DKK millions or a percentage ('–' if undefined)."""
    if value != value:
        return "–"
    if metric == "cofinancing_rate" or metric.endswith("_share"):
        return f"{value:.1%}"
    if metric.endswith("_dkk"):
        return f"{value / 1e6:,.1f} mio."
    if metric == "mean_duration_weeks":
        return f"{value:,.1f} wk"
    return f"{value:,.0f}"


def _batch(run: RunData) -> str:
    """'100 runs, seed 1' from run.json."""
    return f"{run.facts.get('runs')} runs, seed {run.facts.get('seed')}"


def print_summary(run: RunData, console: Console) -> None:
    """Print the yearly full-year persons (and costs), then the targets table, from a run folder."""
    yearly = run.yearly
    years = sorted(yearly["year"].unique())
    if not years:
        console.print("The horizon covers no full calendar year; see monthly.csv.")
    costs = "net_dkk" in yearly.columns
    for year in years:
        title = f"{run.name}, {year}: full-year persons ({_batch(run)})"
        table = Table(title=title)
        table.add_column("state", no_wrap=True)
        table.add_column("mean", justify="right")
        table.add_column("p10–p90", justify="right")
        if costs:
            for name in ("gross DKK mio.", "net DKK mio.", "co-financing"):
                table.add_column(name, justify="right")
        rows = yearly[yearly["year"] == year].set_index("state")
        for state in [*run.states, TOTAL]:
            r = rows.loc[state]
            cells = [f"{r['mean']:,.0f}", f"{r['p10']:,.0f}–{r['p90']:,.0f}"]
            if costs and pd.isna(r["net_dkk"]):
                cells += ["–"] * 3  # a year with actual months (caseflow track): the actuals have no money
            elif costs:
                cells += [f"{r['gross_dkk'] / 1e6:,.1f}", f"{r['net_dkk'] / 1e6:,.1f}",
                          f"{r['cofinancing_rate']:.1%}"]
            table.add_row(state, *cells, style="bold" if state == TOTAL else None)
        console.print(table)
    _print_programmes(run, console)
    _print_teams(run, console)
    _print_layers(run, console)
    if run.targets.empty:
        return
    targets = Table(title="Targets")
    rows = run.target_rows()
    noted = any(probability_note(row, "en") for row in rows)
    for name in ("target", "threshold", "P(met)", "p10", "p50", "p90"):
        targets.add_column(name, justify="left" if name == "target" or (noted and name == "P(met)")
                           else "right", no_wrap=name == "P(met)" and not noted,
                           overflow="fold" if name == "P(met)" else "ellipsis")
    for row in rows:
        sense = "≤" if row.sense == "at_most" else "≥"
        p = row.probability_met
        colour = "green" if p >= 0.8 else ("yellow" if p >= 0.5 else "red")
        note = escape(probability_note(row, "en"))
        targets.add_row(row.name, f"{sense} {_amount(row.metric, row.threshold)}",
                        f"[{colour}]{probability_text(row, 'en')}[/]{note}",
                        *(_amount(row.metric, getattr(row, q)) for q in ("p10", "p50", "p90")))
    console.print(targets)
    precision = precision_sentence(rows, "en")
    if precision:
        console.print(precision, markup=False, highlight=False)
    checked = assumption_sentence(run)
    if checked:
        console.print(checked, markup=False, highlight=False)
    for _, t in run.targets.iterrows():
        share = t.get("censored_share")
        if t["metric"] == "mean_duration_weeks" and share is not None and share == share:
            console.print(f"{t['target']}: mean weeks of the spells started in the target's period; "
                          f"{share:.1%} of them are still open at the horizon and count only up to it"
                          + (", so the full mean is longer." if share > 0 else "."))


def assumption_sentence(run: RunData) -> str:
    """What 'set by' means and what the check cost, from assumptions.csv ('' without one)."""
    frame = run.assumptions
    if frame is None or frame.empty:
        return ""
    paths, runs = list(dict.fromkeys(frame["path"])), int(frame["runs"].iloc[0])
    setting = sum(1 for row in run.target_rows() if row.set_by_assumption)
    return (f"Assumptions: {len(paths)} assumed value{'s' if len(paths) != 1 else ''}, each run at its low "
            f"and high end on the first {runs} runs (common random numbers); 'set by' marks a value "
            "whose range moves P(met) across 0.5 (or from below 0.1 to above 0.9): "
            f"{setting} of {len(frame['target'].unique())} targets. See assumptions.csv.")


def print_differences(comparison: ComparisonData, console: Console) -> None:
    """Print variant − base per target and for the total, with 95 % intervals, from a comparison folder."""
    d = comparison.differences
    base = comparison.base
    table = Table(title=f"{comparison.variant.name} − {base.name} "
                        f"({base.facts.get('runs')} paired runs, seed {base.facts.get('seed')})")
    for name in ("", "year", "base", "variant", "difference", "95 % interval", "P(met) base → variant"):
        table.add_column(name, justify="left" if name == "" else "right")
    metric = {str(t["target"]): str(t["metric"]) for _, t in base.targets.iterrows()}
    for _, r in d[d["kind"] == "target"].iterrows():
        m = metric.get(str(r["name"]), "full_year_persons")
        table.add_row(str(r["name"]), str(r["year"]), _amount(m, r["base_mean"]),
                      _amount(m, r["variant_mean"]), _signed(m, r["difference"]),
                      f"{_signed(m, r['difference_low95'])} … {_signed(m, r['difference_high95'])}",
                      f"{r['base_probability_met']:.2f} → {r['variant_probability_met']:.2f}")
    for _, r in d[(d["kind"] == "full_year_persons") & (d["name"] == TOTAL)].iterrows():
        m = "full_year_persons"
        table.add_row("total, full-year persons", str(r["year"]), _amount(m, r["base_mean"]),
                      _amount(m, r["variant_mean"]), _signed(m, r["difference"]),
                      f"{_signed(m, r['difference_low95'])} … {_signed(m, r['difference_high95'])}", "")
    console.print(table)


def _signed(metric: str, value: float) -> str:
    text = _amount(metric, abs(value))
    return f"−{text}" if value < 0 else f"+{text}"


def _by_year(frame: pd.DataFrame, key: str) -> list[tuple[tuple[str, str], pd.DataFrame]]:
    grouped = frame.assign(year=frame["month"].str[:4]).groupby([key, "year"], sort=False)
    return [((str(k[0]), str(k[1])), part) for k, part in grouped]


def _print_programmes(run: RunData, console: Console) -> None:
    """Programme use per year: mean participants and queue, starts, lapses, mean wait, cost."""
    if run.programmes is None:
        return
    table = Table(title="Programmes (means over runs)")
    for name in ("programme", "year", "participants", "queue", "starts", "lapsed", "wait, days",
                 "DKK mio."):
        table.add_column(name, justify="left" if name == "programme" else "right")
    for (name, year), part in _by_year(run.programmes, "programme"):
        starts = part["starts"].sum()
        wait = part["wait_days"].sum() / starts if starts else float("nan")
        table.add_row(name, year, f"{part['participants'].mean():,.1f}",
                      f"{part['queued'].mean():,.1f}", f"{starts:,.0f}", f"{part['lapsed'].sum():,.0f}",
                      f"{wait:,.1f}", f"{part['cost_dkk'].sum() / 1e6:,.2f}")
    console.print(table)


def _print_teams(run: RunData, console: Console) -> None:
    """Caseworker teams per year: meetings held, late and missed shares, utilisation, fokusmål."""
    if run.caseworkers is None:
        return
    table = Table(title="Caseworker teams (fokusmål: among citizens with 12 months' seniority)")
    for name in ("team", "year", "held", "late", "missed", "utilisation", "first ≤ 14 d",
                 "no offer 12 m", "< 4 meetings 12 m"):  # the order of TEAM_SHARES
        table.add_column(name, justify="left" if name == "team" else "right")

    def share(part: pd.DataFrame, num: str, den: str) -> str:
        d = part[den].sum()
        return f"{part[num].sum() / d:.0%}" if d else "–"

    for (name, year), part in _by_year(run.caseworkers, "team"):
        table.add_row(name, year, f"{part['held'].sum():,.0f}",
                      *(share(part, num, den) for num, den in TEAM_SHARES.values()))
    console.print(table)


def _print_layers(run: RunData, console: Console) -> None:
    """Which uncertainty layer dominates each yearly total and target (with parameter draws)."""
    layers = run.layers
    if layers is None or layers.empty:
        return
    table = Table(title="Uncertainty: parameters drawn against fixed (layers.csv)")
    for name in ("quantity", "sd, drawn", "sd, fixed", "parameters' share", "dominant"):
        table.add_column(name, justify="left" if name in ("quantity", "dominant") else "right")
    for _, r in layers.iterrows():
        table.add_row(str(r["quantity"]), f"{r['sd_parameters_drawn']:,.3g}",
                      f"{r['sd_parameters_fixed']:,.3g}", f"{r['parameter_share']:.0%}", str(r["dominant"]))
    console.print(table)
    main = layers.iloc[0]
    console.print(f"{main['dominant'].capitalize()} uncertainty dominates the {main['quantity']}: "
                  f"{main['parameter_share']:.0%} of its variance comes from the parameters.")
