"""The caseflow command line.

A Ctrl-C while the command line itself loads (typer, rich, the verbs) waits until it has loaded
(an import cut in half can crash the interpreter as it exits; a second Ctrl-C stops at once), then
ends it like one during a verb's start-up: a line saying nothing was written and exit 130, never
a traceback.
"""

import signal
import sys
from typing import Any

_asked: list[int] = []


def _later(number: int, _: Any) -> None:
    if _asked:  # pressed again: stop now
        raise KeyboardInterrupt
    _asked.append(number)


try:
    _previous: Any = signal.signal(signal.SIGINT, _later)
except ValueError:  # imported outside the main thread: no interrupt reaches it
    _previous = None
try:
    from sim.cli.app import app
except KeyboardInterrupt:
    _asked.append(signal.SIGINT)
finally:
    if _previous is not None:
        signal.signal(signal.SIGINT, _previous)
if _asked:
    sys.stderr.write("interrupted while starting; nothing was written\n")
    raise SystemExit(130)

__all__ = ["app"]
