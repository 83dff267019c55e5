"""Names in a run folder that the batch writing it and the reports reading it share."""

from __future__ import annotations

RUNNING = "running.json"
"""Present while a command writes the folder, and left behind when it was stopped or killed:
the folder is incomplete (`caseflow run --resume` completes a run's), and reports refuse it."""
FACTS = "run.json"
"""The run's facts (seed, runs, version, command), written when the run is complete."""
LOG_FILE = "run.log"
"""The command's log: its phases and progress, with times."""
SCENARIO_FILE = "scenario.yaml"
"""The resolved scenario, with the batch's seed."""
OBSERVED_MONTHS = "monthly_observed.csv"
"""A tracked forecast's actual months in monthly.csv's columns (each statistic the figure, sd 0):
monthly.csv itself runs from the first forecast month, and a report reads the two as one table."""
