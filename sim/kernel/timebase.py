"""The kernel's units: one year length and one time tolerance, used wherever time is compared.

Time runs in days from the start date. A year is 365.25 days wherever a rate per year, an age
or a trend is turned into days (calendar years themselves come from the calendar). Two times
closer than `TOLERANCE_DAYS` are the same instant: a clock struck at the moment of a redraw,
a referral just after a clock, the daily meeting round just before midnight.
"""

from __future__ import annotations

from sim.contract.calendar import YEAR_DAYS

__all__ = ["TOLERANCE_DAYS", "YEAR_DAYS"]

TOLERANCE_DAYS = 1e-6
"""The time tolerance: far below any modelled duration, far above rounding in day sums."""
