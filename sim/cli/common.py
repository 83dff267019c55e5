"""What every `caseflow` verb shares: the consoles and loading a scenario or exiting with its problems."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

if TYPE_CHECKING:
    from sim.contract.schema import Scenario

console = Console()
err = Console(stderr=True)


def say(text: str) -> None:
    """Print plain text (no markup, no highlighting) to standard output."""
    console.print(text, markup=False, highlight=False, soft_wrap=True)


def fail(text: str) -> typer.Exit:
    """Print an error to standard error and return the exit to raise."""
    err.print(f"error: {text}", markup=False, highlight=False, soft_wrap=True)
    return typer.Exit(code=1)


def load_or_exit(path: Path, parameters: bool = True) -> Scenario:
    """Load a scenario, or print every problem and exit 1."""
    from sim.contract.errors import ScenarioError
    from sim.contract.loader import load_scenario  # on first use: `--help` needs no scenario schema

    try:
        return load_scenario(path, parameters)
    except ScenarioError as exc:
        for problem in exc.problems:
            err.print(str(problem), markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(code=1) from None


@contextmanager
def progress_bar(label: str, total: int, folder: Path) -> Iterator[Callable[[int], None]]:
    """A progress bar for a batch; an interrupt says what was kept and exits 130."""
    with Progress(TextColumn("[progress.description]{task.description}"), BarColumn(),
                  MofNCompleteColumn(), TimeElapsedColumn(), TimeRemainingColumn(),
                  console=err, transient=False) as bar:
        task = bar.add_task(label, total=total)
        try:
            yield lambda k: bar.advance(task, k)
        except KeyboardInterrupt:
            bar.stop()
            err.print(f"interrupted: nothing summarised; {folder}/ holds the replications finished so far",
                      markup=False, highlight=False)
            raise typer.Exit(code=130) from None
