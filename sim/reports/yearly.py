"""Programme use and caseworker meetings by year, summed from their monthly tables.

programmes.csv and caseworkers.csv hold means over the runs by month; a year's participants and
queue are the mean of its months, its referrals, starts, lapses, refusals, days waited and cost
the sum, its mean wait the days waited ÷ the starts, and a team's shares each numerator's sum ÷
its denominator's (`sim.contract.caseworker_spec.TEAM_SHARES`). The HTML page, the workbook and
the console all show these same numbers.
"""

from __future__ import annotations

import math

import pandas as pd

from sim.contract.caseworker_spec import TEAM_SHARES

PROGRAMME_SUMS = ("referrals", "starts", "lapsed", "declined", "wait_days", "cost_dkk")
PROGRAMME_MEANS = ("participants", "queued")


def programme_years(frame: pd.DataFrame) -> pd.DataFrame:
    """Per programme (in their order) and year: mean participants and queue, the sums, and the
    mean wait in days (NaN without starts)."""
    rows = []
    grouped = frame.assign(year=frame["month"].str[:4]).groupby(["programme", "year"], sort=False)
    for (name, year), part in grouped:
        sums = {k: float(part[k].sum()) for k in PROGRAMME_SUMS}
        wait = sums["wait_days"] / sums["starts"] if sums["starts"] else math.nan
        rows.append({"year": int(str(year)), "programme": str(name),
                     **{k: float(part[k].mean()) for k in PROGRAMME_MEANS}, **sums, "mean_wait_days": wait})
    columns = ["year", "programme", *PROGRAMME_MEANS, *PROGRAMME_SUMS, "mean_wait_days"]
    return pd.DataFrame(rows, columns=columns)


def team_years(frame: pd.DataFrame) -> pd.DataFrame:
    """Per team (in their order) and year: meetings due, held, late and missed, and each share."""
    rows = []
    grouped = frame.assign(year=frame["month"].str[:4]).groupby(["team", "year"], sort=False)
    counts = [c for c in ("due", "held", "late", "missed") if c in frame.columns]
    for (name, year), part in grouped:
        row: dict[str, object] = {"year": int(str(year)), "team": str(name)}
        row |= {k: float(part[k].sum()) for k in counts}
        for share, (num, den) in TEAM_SHARES.items():
            d = float(part[den].sum()) if den in part.columns else 0.0
            row[share] = float(part[num].sum()) / d if d and num in part.columns else math.nan
        rows.append(row)
    return pd.DataFrame(rows, columns=["year", "team", *counts, *TEAM_SHARES])
