"""The summary a run prints: targets with their probability, and full-year persons per year."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from sim.batch import RunResult
from sim.catalogue import TOTAL


def print_summary(result: RunResult, console: Console) -> None:
    """Print the targets table and the yearly full-year persons of the run."""
    yearly = result.yearly
    table = Table(title=f"{result.scenario.name}: full-year persons ({result.runs} runs, seed {result.seed})")
    table.add_column("state")
    years = sorted(yearly["year"].unique())
    for year in years:
        table.add_column(f"{year} mean", justify="right")
        table.add_column("p10–p90", justify="right")
    for state in [*result.model.benefit_codes, TOTAL]:
        rows = yearly[yearly["state"] == state].set_index("year")
        cells = []
        for year in years:
            r = rows.loc[year]
            cells += [f"{r['mean']:,.0f}", f"{r['p10']:,.0f}–{r['p90']:,.0f}"]
        table.add_row(state, *cells, style="bold" if state == TOTAL else None)
    if not years:
        console.print("The horizon covers no full calendar year; see monthly.csv.")
    else:
        console.print(table)
    if result.targets.empty:
        return
    targets = Table(title="Targets")
    for name, justify in (("target", "left"), ("threshold", "right"), ("P(met)", "right"),
                          ("p10", "right"), ("p50", "right"), ("p90", "right")):
        targets.add_column(name, justify=justify)  # type: ignore[arg-type]
    for _, t in result.targets.iterrows():
        sense = "≤" if t["sense"] == "at_most" else "≥"
        p = t["probability_met"]
        colour = "green" if p >= 0.8 else ("yellow" if p >= 0.5 else "red")
        targets.add_row(t["target"], f"{sense} {t['threshold']:,.0f}", f"[{colour}]{p:.2f}[/]",
                        f"{t['p10']:,.0f}", f"{t['p50']:,.0f}", f"{t['p90']:,.0f}")
    console.print(targets)
