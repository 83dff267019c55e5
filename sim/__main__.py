"""`python -m sim`: the `caseflow` command line (also the console script's entry point)."""

import logging
import os
import sys

from sim.cli.app import app
from sim.cli.interrupts import defer_until_loaded

STOPPED = (130, 143)
"""The exit codes of a command stopped by Ctrl-C or SIGTERM."""


def main() -> None:
    """Run the command line under its installed name, so help and errors say `caseflow`.

    A command stopped by an interrupt has already written what it keeps and stopped its workers
    when it exits 130 or 143; it then leaves at once, so that no thread of a stopped worker pool
    (whose pipes the killed workers no longer read) can hold the exit up."""
    defer_until_loaded()
    try:
        app(prog_name="caseflow")
    except SystemExit as exc:
        if exc.code in STOPPED:
            sys.stdout.flush()
            sys.stderr.flush()
            logging.shutdown()
            os._exit(int(exc.code))
        raise


if __name__ == "__main__":
    main()
