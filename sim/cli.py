"""The `caseflow` command: validate scenarios and run Monte Carlo forecasts."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from sim.errors import ScenarioError
from sim.loader import load_scenario

app = typer.Typer(
    help="caseflow: simulate a Danish jobcentre's caseload, forecast it and test its targets.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console()
err = Console(stderr=True)


@app.callback()
def main() -> None:
    """caseflow: simulate a Danish jobcentre's caseload, forecast it and test its targets."""


@app.command()
def validate(
    files: list[Path] = typer.Argument(..., help="Scenario YAML files to check."),
) -> None:
    """Check scenario files and print OK or every problem found; exit 1 on any problem.

    Example:  caseflow validate scenarios/taarnby-2018.yaml
    """
    failed = False
    for file in files:
        try:
            load_scenario(file)
        except ScenarioError as exc:
            failed = True
            for problem in exc.problems:
                err.print(str(problem), markup=False, highlight=False, soft_wrap=True)
        else:
            out.print(f"{file}: OK", markup=False, highlight=False)
    if failed:
        raise typer.Exit(code=1)
