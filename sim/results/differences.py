"""The columns of differences.csv, shared by the comparison that writes it and the reports that read it."""

from __future__ import annotations

DIFFERENCE_COLUMNS = ["kind", "name", "year", "base_mean", "variant_mean", "difference", "difference_se",
                      "difference_low95", "difference_high95", "difference_p05", "difference_p50",
                      "difference_p95", "base_probability_met", "variant_probability_met"]
"""differences.csv: one row per target and per state-year (full_year_persons, and net_dkk with
economics in both). `difference` is the mean of variant − base over paired replications, with
its standard error, the 95 % interval of that mean, and the 5/50/95 % points of the
per-replication differences."""
