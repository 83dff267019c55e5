"""The model's calendar: time in days from the start date, reported by calendar month and year."""

from __future__ import annotations

import calendar as cal
import datetime as dt
from dataclasses import dataclass

import numpy as np

YEAR_DAYS = 365.25
"""Days in a year, wherever a rate per year, an age or a trend is turned into days (calendar
years themselves come from the calendar). The kernel's `sim.kernel.timebase` takes it from here."""


@dataclass(frozen=True)
class Calendar:
    """Month boundaries (in days from the start) of a horizon that starts on a month's first day."""

    start: dt.date
    months: int
    edges: tuple[float, ...]
    """Day offset of each month's first day, plus the end of the horizon (months + 1 values)."""
    labels: tuple[str, ...]
    """`YYYY-MM` of each month."""

    @classmethod
    def build(cls, start: dt.date, months: int) -> Calendar:
        """The calendar of `months` calendar months from `start` (a month's first day)."""
        firsts = []
        for i in range(months + 1):
            y, m = divmod(start.month - 1 + i, 12)
            firsts.append(dt.date(start.year + y, m + 1, 1))
        edges = tuple(float((d - start).days) for d in firsts)
        labels = tuple(d.strftime("%Y-%m") for d in firsts[:-1])
        return cls(start, months, edges, labels)

    @property
    def horizon(self) -> float:
        """Length of the horizon in days."""
        return self.edges[-1]

    @property
    def days(self) -> np.ndarray:
        """Days in each month."""
        return np.diff(np.asarray(self.edges))

    @property
    def calendar_months(self) -> np.ndarray:
        """Calendar month (1–12) of each month of the horizon."""
        return np.array([int(label[5:]) for label in self.labels])

    def full_years(self) -> dict[int, slice]:
        """Calendar years the horizon covers completely, with their slice of months."""
        out: dict[int, slice] = {}
        for i, label in enumerate(self.labels):
            if label.endswith("-01") and i + 12 <= self.months:
                out[int(label[:4])] = slice(i, i + 12)
        return out


def days_in_year(year: int) -> int:
    """Days in a calendar year (366 in a leap year)."""
    return 366 if cal.isleap(year) else 365
