"""A probability estimated from runs: its standard error, Wilson 95 % interval and the runs for ±0.02.

Pure arithmetic, shared by targets.csv (`sim.results.summary`) and the reports that read older
run folders without these columns (`sim.reports.rundata`).
"""

from __future__ import annotations

import math

Z95 = 1.959963984540054
"""The standard normal 97.5 % quantile (scipy.special.ndtri(0.975))."""


def probability_error(k: int, n: int) -> tuple[float, float, float, float, float]:
    """p = k/n, its binomial standard error, the Wilson score 95 % interval (exactly 0 and 1 at the
    edges) and the runs that would give a standard error of 0.02 at this p, ⌈p(1 − p)/0.02²⌉ and
    at least 1, computed in integers; all NaN when n = 0."""
    if n <= 0:
        return (math.nan,) * 5
    p, z2 = k / n, Z95 * Z95
    centre = (k + z2 / 2.0) / (n + z2)
    half = Z95 * math.sqrt(k * (n - k) / n + z2 / 4.0) / (n + z2)
    low = 0.0 if k == 0 else max(0.0, centre - half)
    high = 1.0 if k == n else min(1.0, centre + half)
    runs = float(max(1, -(-2500 * k * (n - k) // (n * n))))  # ⌈k(n − k)/(n² · 0.02²)⌉
    return p, math.sqrt(p * (1.0 - p) / n), low, high, runs
