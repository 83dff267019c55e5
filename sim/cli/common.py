"""What every `caseflow` verb shares: the consoles, loading a scenario or exiting with its
problems, and what an interrupt (Ctrl-C) or a failed write says.

Every refusal prints one line per problem to standard error and exits 1; an option click
refuses exits 2 (click's usage error); an interrupt exits 130 and says what was kept."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
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

from sim.results.folder import LOG_FILE

if TYPE_CHECKING:
    from sim.contract.schema import Scenario

console = Console()
err = Console(stderr=True)


def checked_workers(workers: int | None) -> int | None:
    """--workers, refused (click's usage error, exit 2) beyond 4 processes a core: more only
    compete for the cores, and 100,000 would be a fork bomb."""
    cores = os.cpu_count() or 1
    if workers is not None and workers > 4 * cores:
        raise typer.BadParameter(f"{workers} is more than 4 processes for each of this machine's {cores} "
                                 f"cores; give at most {4 * cores}", param_hint="'--workers'")
    return workers


class Language(StrEnum):
    """Report and page languages: Danish (default) or English."""

    da = "da"
    en = "en"


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


LOG = logging.getLogger("caseflow")
"""The commands' log: progress and phases, to run.log in the run folder and, when no one watches
a terminal, to standard error."""
STEP = 0.05
"""A log line each time this share more of a batch is done."""


QUIET_HELP = "Say nothing but errors and the result (no progress); run.log still records it."
VERBOSE_HELP = "Log every phase (preparation, where the replications run, each check) to standard error."


@dataclass
class Talk:
    """How much a long command says: `quiet` only errors and the result, `verbose` every phase."""

    quiet: bool = False
    verbose: bool = False


def _clock(seconds: float) -> str:
    """'1 h 02 min', '3 min 05 s', '12 s'."""
    s = round(seconds)
    if s >= 3600:
        return f"{s // 3600} h {s % 3600 // 60:02d} min"
    return f"{s // 60} min {s % 60:02d} s" if s >= 60 else f"{s} s"


class _Terminated(KeyboardInterrupt):
    """SIGTERM, handled as an interrupt."""


@contextmanager
def _terminate_as_interrupt() -> Iterator[None]:
    """While a batch runs, SIGTERM stops it the way Ctrl-C does (and exits 143, not 130)."""
    def stop(_number: int, _frame: object) -> None:
        raise _Terminated

    try:
        previous = signal.signal(signal.SIGTERM, stop)
    except ValueError:  # not the main thread
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextmanager
def _logging_to(folder: Path, talk: Talk, lines: bool) -> Iterator[None]:
    """run.log in `folder` for the command's duration; with `lines`, log lines on standard error too."""
    handlers: list[logging.Handler] = []
    with contextlib.suppress(OSError):
        handlers.append(logging.FileHandler(folder / LOG_FILE, encoding="utf-8"))
    if lines:
        handlers.append(logging.StreamHandler(sys.stderr))
    for handler in handlers:
        handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%Y-%m-%d %H:%M:%S"))
        LOG.addHandler(handler)
    level = LOG.level
    LOG.setLevel(logging.DEBUG if talk.verbose else logging.INFO)
    try:
        yield
    finally:
        LOG.setLevel(level)
        for handler in handlers:
            LOG.removeHandler(handler)
            handler.close()


@contextmanager
def progress_bar(label: str, total: int, folder: Path, discard: Callable[[], None] | None = None,
                 kept: Callable[[], str] | None = None, talk: Talk | None = None
                 ) -> Iterator[Callable[[int], None]]:
    """Progress of a batch: a bar in a terminal, else (or with -v) log lines every 5 % with the
    time left; both into run.log. An interrupt (Ctrl-C, SIGINT, SIGTERM) says what was kept and
    exits 130 (143 for SIGTERM): before the first replication finished, `discard` removes what
    the run wrote (nothing is kept); after it, `kept()` says what the folder holds."""
    talk = talk or Talk()
    done, start = 0, time.monotonic()
    bar_wanted = err.is_terminal and not talk.quiet and not talk.verbose
    columns = (TextColumn("[progress.description]{task.description}"), BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn(), TimeRemainingColumn())
    logged = 0.0
    with _logging_to(folder, talk, lines=not bar_wanted and not talk.quiet), _terminate_as_interrupt(), \
            Progress(*columns, console=err, transient=False, disable=not bar_wanted) as bar:
        task = bar.add_task(label, total=total)
        LOG.info("%s: %d replications", label, total)

        def advance(k: int) -> None:
            nonlocal done, logged
            done += k
            bar.advance(task, k)
            share = done / total if total else 1.0
            if share >= logged + STEP or done == total:
                logged = share - share % STEP
                elapsed = time.monotonic() - start
                left = elapsed / share * (1 - share) if share > 0 else 0.0
                LOG.info("%s: %d of %d (%.0f %%), %s elapsed, about %s left", label, done, total,
                         100 * share, _clock(elapsed), _clock(left))

        try:
            yield advance
        except KeyboardInterrupt as exc:
            bar.stop()
            code = 143 if isinstance(exc, _Terminated) else 130
            why = "terminated" if code == 143 else "interrupted"
            if done == 0 and discard is not None:
                discard()
                message = f"{why} before the first replication finished; nothing was written"
            elif kept is not None:
                message = f"{why}: {kept()}"
            else:
                message = f"{why}: nothing summarised; {folder}/ holds the replications finished so far"
            LOG.info("%s", message)
            tell(message)
            raise typer.Exit(code=code) from None
        LOG.info("%s: done in %s", label, _clock(time.monotonic() - start))
