"""What every `caseflow` verb shares: the consoles, loading a scenario or exiting with its
problems, and what an interrupt (Ctrl-C) or a failed write says.

Every refusal prints one line per problem to standard error and exits 1; an option click
refuses exits 2 (click's usage error); an interrupt exits 130 and says what was kept."""

from __future__ import annotations

import signal
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


def tell(text: str) -> None:
    """Print a line to standard error as it is (no markup, no highlighting, no wrapping)."""
    err.print(text, markup=False, highlight=False, soft_wrap=True)


def load_or_exit(path: Path, parameters: bool = True) -> Scenario:
    """Load a scenario, or print every problem and exit 1."""
    from sim.contract.errors import ScenarioError
    from sim.contract.loader import load_scenario  # on first use: `--help` needs no scenario schema
    from sim.contract.yamlio import check_file

    try:
        check_file(path)  # a pipe, a device or a huge file is refused before it is read
        return load_scenario(path, parameters)
    except ScenarioError as exc:
        for problem in exc.problems:
            tell(str(problem))
        raise typer.Exit(code=1) from None


@contextmanager
def starting() -> Iterator[list[Callable[[], None]]]:
    """A verb's start-up (loading, the imports of the numerical libraries, checks, creating its
    folder): a Ctrl-C waits until it is over (an import cut in half can crash the interpreter as it
    exits; a second Ctrl-C stops at once), then runs what the block asked to undo (the yielded
    list), says nothing was written and exits 130, without a traceback."""
    undo: list[Callable[[], None]] = []
    asked: list[int] = []

    def later(number: int, _: object) -> None:
        if asked:  # pressed again: stop now
            raise KeyboardInterrupt
        asked.append(number)

    try:
        previous = signal.signal(signal.SIGINT, later)
    except ValueError:  # not the main thread: interrupts are not delivered here anyway
        previous = None
    try:
        yield undo
    except KeyboardInterrupt:
        asked.append(signal.SIGINT)
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
    if asked:
        for step in undo:
            step()
        tell("interrupted while starting; nothing was written")
        raise typer.Exit(code=130)


@contextmanager
def writing(folder: Path, left: str = "what it holds is incomplete") -> Iterator[None]:
    """Writing a folder's files: a failed write or an interrupt says so and what is `left` (exit
    1 or 130), without a traceback."""
    try:
        yield
    except OSError as exc:
        tell(f"error: cannot write in {folder}/: {exc.strerror or exc}"
             + (f" ({exc.filename})" if exc.filename else "") + f"; {left}")
        raise typer.Exit(code=1) from None
    except KeyboardInterrupt:
        tell(f"interrupted while writing in {folder}/; {left}")
        raise typer.Exit(code=130) from None


@contextmanager
def progress_bar(label: str, total: int, folder: Path, discard: Callable[[], None] | None = None
                 ) -> Iterator[Callable[[int], None]]:
    """A progress bar for a batch; an interrupt says what was kept and exits 130. Interrupted
    before the first replication finished, `discard` removes what the run wrote (nothing is kept)."""
    done = 0
    with Progress(TextColumn("[progress.description]{task.description}"), BarColumn(),
                  MofNCompleteColumn(), TimeElapsedColumn(), TimeRemainingColumn(),
                  console=err, transient=False) as bar:
        task = bar.add_task(label, total=total)

        def advance(k: int) -> None:
            nonlocal done
            done += k
            bar.advance(task, k)

        try:
            yield advance
        except KeyboardInterrupt:
            bar.stop()
            if done == 0 and discard is not None:
                discard()
                tell("interrupted before the first replication finished; nothing was written")
            else:
                tell(f"interrupted: nothing summarised; {folder}/ holds the replications finished so far")
            raise typer.Exit(code=130) from None
