"""A small scenario for the what-if page's tests, and a `caseflow serve` started on it.

Sickness benefit is an M/M/∞ caseload (5 a week in, a mean stay of two weeks: 10 persons on
average, so 'at most 10 in 2019' holds about half the time, and at 10 a week almost never);
a-dagpenge has two clock shares at week 26, each assumed in 0–0.6, so that both at 0.6 is a
combination the scenario contract refuses (they would sum to 1.2).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import yaml

TARGET_SICK = "Sygedagpenge højst 10"
INFLOW = "inflow_per_week.sygedagpenge"
SHARES = ("transitions.a_dagpenge.1.share", "transitions.a_dagpenge.2.share")

DATA: dict[str, Any] = {
    "name": "Lille kommune",
    "start": "2018-07-01",
    "months": 18,
    "seed": 5,
    "states": {"a_dagpenge": {}, "sygedagpenge": {}},
    "initial": {"a_dagpenge": 50, "sygedagpenge": 10},
    "inflow_per_week": {"a_dagpenge": 4.0, "sygedagpenge": 5.0},
    "transitions": {
        "a_dagpenge": [{"to": "job", "rate_per_week": 0.05},
                       {"to": "job", "at_week": 26, "share": 0.3},
                       {"to": "other", "at_week": 26, "share": 0.3},
                       {"to": "education", "at_week": 26, "share": "rest"}],
        "sygedagpenge": [{"to": "job", "rate_per_week": 0.5}],
    },
    "assumptions": [{"path": SHARES[0], "low": 0.0, "high": 0.6, "reason": "Ikke i planen."},
                    {"path": SHARES[1], "low": 0.0, "high": 0.6, "reason": "Ikke i planen."}],
    "targets": [{"name": TARGET_SICK, "states": ["sygedagpenge"], "year": 2019, "at_most": 10},
                {"name": "A-dagpenge højst 60", "states": ["a_dagpenge"], "year": 2019, "at_most": 60}],
}


def write_small(folder: Path) -> Path:
    path = folder / "lille.yaml"
    path.write_text(yaml.safe_dump(DATA, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def _interruptible() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)  # a test runner may have started us ignoring it


class Served:
    """A `caseflow serve` process and every line it has printed so far (read by a thread, so
    nothing it prints is lost between the address and the end)."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.process = process
        self.lines: list[str] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line)

    def address(self, wait: float) -> str:
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            found = next((line for line in self.lines if "http://" in line), None)
            if found is not None:
                return "http://" + found.split("http://", 1)[1].split()[0]
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        self.process.kill()
        _, err = self.process.communicate()
        raise AssertionError(f"caseflow serve did not start: {self.lines!r} {err[-2000:]}")


def start_serve(*args: str, cwd: Path, wait: float = 90.0) -> tuple[Served, str]:
    """`caseflow serve ARGS` in `cwd`, and the address it says it listens on."""
    process = subprocess.Popen([sys.executable, "-m", "sim", "serve", *args], cwd=cwd, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, preexec_fn=_interruptible,
                               env={**os.environ, "PYTHONUNBUFFERED": "1"})
    served = Served(process)
    return served, served.address(wait)


def stop_serve(served: Served) -> tuple[int, str, str]:
    """Ctrl-C the server; its exit code, everything it printed and its standard error."""
    served.process.send_signal(signal.SIGINT)
    assert served.process.stderr is not None
    try:
        served.process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        served.process.kill()
        raise
    err = served.process.stderr.read()
    served.reader.join(timeout=10)
    return served.process.returncode, "".join(served.lines), err
