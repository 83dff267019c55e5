"""Memory does not grow with replications: the main process's peak at 2,000 runs with 2 workers
is within 10 % of its peak at 200 (benchmarks/memory.py measures both, each in a fresh process)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_peak_memory_at_2000_runs_is_within_10_percent_of_200() -> None:
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "memory.py"), "--runs", "200", "2000",
                           "--workers", "2"], capture_output=True, text=True, check=True, timeout=600)
    rows = [line.split("|")[1:-1] for line in done.stdout.splitlines() if line.startswith("| 2")]
    peaks = {int(cells[0].strip().replace(",", "")): float(cells[1]) for cells in rows}
    assert set(peaks) == {200, 2000}, done.stdout
    assert peaks[2000] <= 1.10 * peaks[200], done.stdout
