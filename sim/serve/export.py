"""A variant made on the page, kept: as an overlay scenario file (`extends:` the scenario it
was made from, `set:` each value moved) and as a full report (`caseflow run` on that file).

Everything is written under the outputs folder: the overlay in `outputs/whatif/`, the report in
a run folder beside the others.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from sim.batch.runfolder import slug
from sim.contract.errors import ScenarioError
from sim.contract.loader import load_scenario
from sim.contract.overlay import EXTENDS, SET

WHATIF = "whatif"
"""The folder under outputs/ that holds the overlays the page saves."""


class ExportError(ValueError):
    """A variant that could not be kept: the message says why."""


def overlay_text(base: Path, folder: Path, name: str, values: Mapping[str, float], made: dt.datetime) -> str:
    """The overlay file of a variant: its base by a path relative to `folder` (where the file
    goes), its name and each value set, with a line saying where it was made."""
    relative = Path(os.path.relpath(base.resolve(), folder.resolve())).as_posix()
    data = {EXTENDS: relative, "name": name, SET: {path: _plain(v) for path, v in values.items()}}
    head = (f"# A what-if made on the caseflow page on {made:%Y-%m-%d %H:%M} from {base.as_posix()}.\n"
            "# `caseflow run` on this file runs it; `caseflow compare` on it and its base compares.\n")
    return head + yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100)


def _plain(value: float) -> int | float:
    """A whole number as an int (places, headcounts), else the float rounded to 12 significant
    digits (a slider's steps leave binary tails like 40.400000000000006)."""
    rounded = float(f"{value:.12g}")
    return int(rounded) if rounded.is_integer() else rounded


def save_overlay(base: Path, outputs: Path, name: str, values: Mapping[str, float]) -> Path:
    """Write the variant's overlay to outputs/whatif/<name>-<time>.yaml and check that it loads
    as a scenario (ExportError, and no file left, when it does not)."""
    made = dt.datetime.now()
    folder = outputs / WHATIF
    folder.mkdir(parents=True, exist_ok=True)
    path = _unused(folder, f"{slug(name)}-{made:%Y%m%d-%H%M%S}", ".yaml")
    path.write_text(overlay_text(base, folder, name, values, made), encoding="utf-8")
    try:
        load_scenario(path)
    except ScenarioError as exc:
        path.unlink()
        raise ExportError(f"the variant does not load as a scenario: {exc}") from None
    return path


@dataclass
class ReportJob:
    """`caseflow run` on a saved overlay, in its own process, writing a run folder under outputs/."""

    overlay: Path
    folder: Path
    runs: int
    seed: int
    started: float = field(default_factory=time.monotonic)
    returncode: int | None = None
    error: str = ""
    _process: subprocess.Popen[str] | None = None

    def start(self) -> ReportJob:
        command = [sys.executable, "-m", "sim", "run", str(self.overlay), "--runs", str(self.runs),
                   "--seed", str(self.seed), "--out", str(self.folder), "--quiet"]
        self._process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                         stdin=subprocess.DEVNULL, text=True)
        threading.Thread(target=self._wait, daemon=True).start()
        return self

    def _wait(self) -> None:
        assert self._process is not None
        _, err = self._process.communicate()
        self.error = err.strip().splitlines()[-1] if err.strip() else ""
        self.returncode = self._process.returncode

    @property
    def done(self) -> bool:
        return self.returncode is not None

    @property
    def report(self) -> Path:
        return self.folder / "report.html"

    def seconds(self) -> float:
        return time.monotonic() - self.started

    def stop(self) -> None:
        """Stop the run (its folder is marked interrupted, as a Ctrl-C leaves it)."""
        if self._process is not None and self.returncode is None:
            self._process.terminate()


def report_folder(outputs: Path, name: str) -> Path:
    """A new run folder's path for the variant's report: outputs/<name>-<time>/ (not yet made)."""
    return _unused(outputs, f"{slug(name)}-{dt.datetime.now():%Y%m%d-%H%M%S}", "")


def _unused(folder: Path, stem: str, suffix: str) -> Path:
    """folder/stem+suffix, or stem-2, stem-3, … when that is taken (two saves in one second)."""
    path, n = folder / f"{stem}{suffix}", 1
    while path.exists():
        n += 1
        path = folder / f"{stem}-{n}{suffix}"
    return path
