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


@pytest.mark.slow
def test_the_parts_benchmark_times_every_variant() -> None:
    """The README's `benchmarks/parts.py` runs: the scenario, it without programmes, and each of
    Tårnby's four programmes in three ways, each row with its time and events."""
    command = [sys.executable, str(ROOT / "benchmarks" / "parts.py"), "--reps", "1", "--rounds", "1"]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    rows = re.findall(r"^(.+?)\s+([\d.]+)\s+([\d,]+)$", done.stdout, flags=re.M)
    names = [name for name, _, _ in rows]
    assert names[:2] == ["as given", "no programmes"] and len(rows) == 2 + 3 * 4, done.stdout
    assert all(float(ms) > 0 and int(events.replace(",", "")) > 10_000 for _, ms, events in rows)
