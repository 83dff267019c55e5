"""`caseflow serve`: the what-if page in a browser, on this machine only unless told otherwise."""

from __future__ import annotations

import ipaddress
import signal
import sys
from pathlib import Path

import typer

from sim.cli.common import Language, checked_workers, fail, load_or_exit, say

DEFAULT_PORT = 8050
LOOPBACK = "127.0.0.1"
SHIPPED = Path("scenarios")
"""Where the shipped scenarios are looked for when no scenario is given (the project's folder)."""
DEFAULT_RUNS, MAX_RUNS = 200, 10_000


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def serve_command(
    scenario_files: list[Path] | None = typer.Argument(
        None, metavar="SCENARIO",
        help="Scenario files to offer (default: every scenarios/*.yaml of the current folder)."),
    port: int = typer.Option(DEFAULT_PORT, "--port", "-p", min=0, max=65535,
                             help="Port to listen on (0: any free port, printed)."),
    host: str = typer.Option(LOOPBACK, "--host",
                             help="Address to listen on: this machine only by default; 0.0.0.0 opens the "
                                  "page to every machine that can reach this one."),
    workers: int | None = typer.Option(None, "--workers", "-w", min=1,
                                       help="Worker processes for the runs (default: all cores)."),
    seed: int | None = typer.Option(None, "--seed", "-s", min=0,
                                    help="Batch seed (default: each scenario's own)."),
    runs: int = typer.Option(DEFAULT_RUNS, "--runs", "-n", min=8, max=MAX_RUNS,
                             help="Runs behind the last answer to a question, and in a full report."),
    lang: Language = typer.Option(Language.da, "--lang", "-l", help="The page's language."),
) -> None:
    """Open the what-if page: move a scenario's levers, see each target's probability move.

    The page lists the scenarios given (or the shipped ones), a slider for each lever (inflows,
    programme places, uptake and effects, caseworker headcount, every assumed or uncertain
    value within its range) and answers each change from 8 runs on the scenario's own random
    numbers within seconds, then 16, 32, … up to --runs. A variant can be saved as an overlay
    file (outputs/whatif/) and run as a full report (a run folder under outputs/); nothing is
    written anywhere else. Stop the server with Ctrl-C.

    Example:  caseflow serve scenarios/taarnby-2018.yaml

    Example:  caseflow serve --port 8060 --lang en

    Example:  caseflow serve scenarios/koege-2018.yaml scenarios/taarnby-2018.yaml --runs 400
    """
    files = list(scenario_files or sorted(SHIPPED.glob("*.yaml")))
    if not files:
        raise fail(f"no scenario given and none in {SHIPPED}/: give a scenario file, e.g. "
                   "caseflow serve scenarios/taarnby-2018.yaml")
    offered = [(path, load_or_exit(path)) for path in files]  # a bad file is refused before anything starts
    from waitress.server import create_server

    from sim.batch.run import default_workers
    from sim.batch.runfolder import OUTPUTS
    from sim.serve.desk import Desk
    from sim.serve.page import make_app

    desk = Desk(offered, OUTPUTS, checked_workers(workers) or default_workers(), seed, most=runs)
    app = make_app(desk, "en" if lang is Language.en else "da")
    try:
        server = create_server(app.server, host=host, port=port, threads=8)
    except OSError as exc:
        desk.close()
        raise fail(f"cannot listen on {host}:{port} ({exc.strerror or exc}); give another --port") from None
    desk.warm(next(iter(desk.files)))
    signal.signal(signal.SIGTERM, _as_interrupt)
    try:
        shown = f"[{host}]" if ":" in host else host
        listening = getattr(server, "effective_port", port)  # the port chosen when given 0
        say(f"caseflow serve: http://{shown}:{listening}/  (Ctrl-C stops it)")
        if not _loopback(host):
            say(f"warning: the page listens on {host}, so anyone who can reach this machine can run "
                "scenarios on it and write under outputs/")
        sys.stdout.flush()
        server.run()  # returns when Ctrl-C (or SIGTERM) stops its loop
    except KeyboardInterrupt:
        pass
    finally:
        server.close()
        desk.close()
    say("stopped")


def _as_interrupt(_number: int, _frame: object) -> None:
    raise KeyboardInterrupt
