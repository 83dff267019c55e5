"""Ctrl-C while the command line loads: held back until it has loaded, then one line and exit 130.

An import cut in half can crash the interpreter as it exits, and typer ends a Ctrl-C that
reaches it while it builds the command with exit 130 and no word; so from the moment the command
starts (`defer_until_loaded`, called by `sim.__main__`) until a verb begins (`loaded`, called by
each verb's wrapper), a Ctrl-C is only noted (a second one stops at once). Used in-process
(tests, a notebook), nothing is deferred but the package's own import (`loading`).
"""

from __future__ import annotations

import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

_asked: list[int] = []
_waiting: list[Any] = []
"""The handler to put back once the command line has loaded (empty: not waiting)."""


def _later(number: int, _: Any) -> None:
    if _asked:  # pressed again: stop now
        raise KeyboardInterrupt
    _asked.append(number)


def _stop_if_asked() -> None:
    if _asked:
        sys.stderr.write("interrupted while starting; nothing was written\n")
        raise SystemExit(130)


@contextmanager
def loading() -> Iterator[None]:
    """Import the command line with Ctrl-C held back; if it was pressed, stop after the imports."""
    try:
        previous: Any = signal.signal(signal.SIGINT, _later)
    except ValueError:  # imported outside the main thread: no interrupt reaches it
        previous = None
    try:
        yield
    except KeyboardInterrupt:
        _asked.append(signal.SIGINT)
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
    _stop_if_asked()


def defer_until_loaded() -> None:
    """Hold a Ctrl-C back until `loaded` (the command's entry point calls this before the app)."""
    with suppress(ValueError):  # not the main thread: no interrupt reaches it
        _waiting.append(signal.signal(signal.SIGINT, _later))


def loaded() -> None:
    """A verb is about to start: Ctrl-C works again (each verb's start-up holds it back on its
    own while it loads), or, if it was pressed meanwhile, the command ends here."""
    if _waiting:
        signal.signal(signal.SIGINT, _waiting.pop())
    _stop_if_asked()
