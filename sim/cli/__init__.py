"""The caseflow command line.

A Ctrl-C while the command line itself loads (typer, rich, the verbs) waits until it has loaded,
then ends it like one during a verb's start-up: a line saying nothing was written and exit 130,
never a traceback (`sim.cli.interrupts`).
"""

from sim.cli.interrupts import loading

with loading():
    from sim.cli.app import app

__all__ = ["app"]
