"""The README's engine benchmark runs, and its implementations agree with the Kolmogorov expectation."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_the_engine_benchmark_agrees_with_the_forward_equations_and_times_taarnby_both_ways() -> None:
    command = [sys.executable, str(ROOT / "benchmarks" / "engine.py"), "--reps", "3", "--rounds", "1"]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert "all implementations agree with the expectation" in done.stdout, done.stdout
    events = re.findall(r"^\((?:h|i)\) .*?\s+[\d.]+\s+([\d,]+)\s+[\d.]+", done.stdout, flags=re.M)
    assert len(events) == 2 and events[0] == events[1], done.stdout  # the same process both ways
