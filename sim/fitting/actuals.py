"""Actuals: the full-time persons observed so far, per benefit state and period, for a restart.

Read from the long observed format (`sim.fitting.observations.read_observed`; a Jobindsats
export converted by `caseflow import jobindsats` is one). An optional `basis` column says how a
figure counts: `jobindsats` (the default: every day on the benefit, as Jobindsats counts) or
`payment` (from the day the municipality pays, as budgets count: sygedagpenge without the
employer period). For a state without days the municipality does not pay the two bases are the
same figure, so either serves.

A state's figure for a period is its own row. Failing that, it is its part of the smallest figure
that holds it (a catalogue aggregate such as `kontanthjaelp`, a Jobindsats group, `group:<g>` or
`total`): what is left of that figure after the members that have rows of their own, split among
the others in proportion to the model's expected persons (`weights`). Payment-basis figures are
used for the state they name only (an aggregate on the payment basis is not split).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sim.contract.catalogue import TOTAL
from sim.fitting.observations import (
    BASES,
    BASIS_COLUMN,
    JOBINDSATS,
    PAYMENT,
    STOCK,
    ObservedDataError,
    check_states,
    parse_period,
    read_observed,
    state_rows,
)
from sim.kernel.model import Model

INFLOW = "inflow_count"


RUN_COLUMNS = ("month", "state", "mean")
"""The columns by which a run folder's monthly.csv is recognised as actuals."""


def from_monthly(frame: pd.DataFrame, source: str) -> pd.DataFrame:
    """A run's monthly.csv as actuals: each state's monthly mean on the Jobindsats basis, and its
    payment-basis mean where the run has one (the total is left out: it is the states' sum)."""
    states = frame[frame["state"] != TOTAL]
    parts = [pd.DataFrame({"period": states["month"], "state": states["state"], "measure": STOCK,
                           "value": states["mean"], "source": f"{source}: mean", "basis": JOBINDSATS})]
    if "payment_mean" in states.columns:
        differ = states[states["payment_mean"] != states["mean"]]
        parts.append(pd.DataFrame({"period": differ["month"], "state": differ["state"], "measure": STOCK,
                                   "value": differ["payment_mean"], "source": f"{source}: payment_mean",
                                   "basis": PAYMENT}))
    return pd.concat(parts, ignore_index=True)


def read_actuals(path: str | Path) -> pd.DataFrame:
    """Actuals from an observed CSV (the long format, with an optional basis column) or from a run
    folder's monthly.csv (`from_monthly`)."""
    try:
        head = pd.read_csv(path, nrows=0)
    except FileNotFoundError:
        raise ObservedDataError(f"{path}: no such file; give an observed CSV or a run's "
                                "monthly.csv") from None
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        raise ObservedDataError(f"{path}: not a readable CSV ({exc})") from None
    if set(RUN_COLUMNS) <= set(head.columns) and "period" not in head.columns:
        return from_monthly(pd.read_csv(path, dtype={"month": str, "state": str}), str(path))
    return read_observed(path)


class ActualsError(ValueError):
    """Actuals that cannot give what a restart or a tracked target needs."""


@dataclass(frozen=True)
class Figure:
    """One observed figure of full-time persons that the model's states can be matched to."""

    period: str
    code: str
    """The observed row's state: a state code, an aggregate, a group or `total`."""
    value: float
    rows: tuple[int, ...]
    """The benefit states it covers."""
    first: str
    last: str
    """The period's first and last month."""


@dataclass(frozen=True)
class Found:
    """A state's value for a period, with where it came from."""

    value: float
    figure: Figure
    split: bool
    """Whether it is a part of an aggregate's figure, split by the model's expected persons."""

    @property
    def source(self) -> str:
        """'sygedagpenge 2018-06', or 'total 2018-06, split by the model'."""
        text = f"{self.figure.code} {self.figure.period}"
        return text + ", split by the model" if self.split else text


def month_label(first: str, offset: int) -> str:
    """The month `offset` months after 'YYYY-MM' (negative: before)."""
    index = int(first[:4]) * 12 + int(first[5:]) - 1 + offset
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def months_between(first: str, last: str) -> int:
    """Months from `first` to `last` ('YYYY-MM'), negative when `last` is earlier."""
    return (int(last[:4]) - int(first[:4])) * 12 + int(last[5:]) - int(first[5:])


class Actuals:
    """The actuals' figures of full-time persons (and inflows), indexed for a model's states."""

    def __init__(self, frame: pd.DataFrame, model: Model, unpaid: Sequence[float]) -> None:
        """`unpaid`: days at a spell's start the municipality does not pay, per benefit state."""
        self.model = model
        self.figures: dict[tuple[str, str], list[Figure]] = {}
        """(basis, last month) → the figures whose period ends in that month."""
        self.inflows: dict[tuple[str, int], float] = {}
        """(month, state) → the inflow_count observed for the state itself."""
        check_states(frame, model.codes)
        bases = frame[BASIS_COLUMN] if BASIS_COLUMN in frame.columns else pd.Series([JOBINDSATS] * len(frame))
        same_bases = {i for i, d in enumerate(unpaid) if d <= 0}
        for i, (row, basis) in enumerate(zip(frame.itertuples(index=False), bases, strict=True)):
            basis = ("" if pd.isna(basis) else str(basis)).strip().lower() or JOBINDSATS
            if basis not in BASES:
                raise ActualsError(f"row {i + 2}: basis {basis!r} is not allowed; give jobindsats (every "
                                   "day on the benefit, the default) or payment (from the day the "
                                   "municipality pays)")
            span, rows = parse_period(str(row.period)), state_rows(model, str(row.state))
            if span is None or rows is None:
                continue
            own = len(rows) == 1 and row.state in model.codes
            if str(row.measure) == INFLOW and span[0] == span[1] and own:
                self.inflows[(span[0], rows[0])] = float(str(row.value))
            if str(row.measure) != STOCK:
                continue
            figure = Figure(str(row.period), str(row.state), float(str(row.value)), rows, *span)
            self.figures.setdefault((basis, span[1]), []).append(figure)
            if basis == PAYMENT and set(rows) <= same_bases:
                self.figures.setdefault((JOBINDSATS, span[1]), []).append(figure)

    def last_month(self) -> str | None:
        """The last month some figure of full-time persons ends in."""
        months = [m for (_, m) in self.figures]
        return max(months) if months else None

    def find(self, state: int, last: str, weights: np.ndarray, basis: str = JOBINDSATS,
             months_only: bool = False) -> Found | None:
        """State `state`'s value over the period ending in month `last` (its own figure, shortest
        period first; else its part of the smallest figure holding it), None if there is none.

        `weights` are the model's expected persons per benefit state over that period, for a
        split; `months_only` takes figures of that one month only."""
        figures = [f for f in self.figures.get((basis, last), []) if state in f.rows
                   and (not months_only or f.first == f.last)]
        if not figures:
            return None
        own = [f for f in figures if f.rows == (state,)]
        if own:
            figure = min(own, key=lambda f: months_between(f.first, f.last))
            return Found(figure.value, figure, False)
        if basis == PAYMENT:
            return None
        figure = min(figures, key=lambda f: (len(f.rows), months_between(f.first, f.last)))
        mine = {s: self._own(s, figure) for s in figure.rows}
        rest = [s for s, v in mine.items() if v is None]
        left = max(0.0, figure.value - sum(v for v in mine.values() if v is not None))
        total = float(sum(weights[s] for s in rest))
        part = weights[state] / total if total > 0 else 1.0 / len(rest)
        return Found(left * part, figure, True)

    def _own(self, state: int, like: Figure) -> float | None:
        """The state's own figure over the same period as `like`, if the actuals give one."""
        for f in self.figures.get((JOBINDSATS, like.last), []):
            if f.rows == (state,) and f.period == like.period:
                return f.value
        return None

    def month_values(self, months: Sequence[str], weights: np.ndarray, basis: str = JOBINDSATS
                     ) -> np.ndarray:
        """Full-time persons [benefit state, month] for each of `months` (figures of the month itself;
        `weights` [benefit state, month] for splits); NaN where the actuals have nothing."""
        out = np.full((self.model.n_benefit, len(months)), np.nan)
        for j, month in enumerate(months):
            for s in range(self.model.n_benefit):
                found = self.find(s, month, weights[:, j], basis, months_only=True)
                if found is not None:
                    out[s, j] = found.value
        return out

    def missing(self, values: np.ndarray, months: Sequence[str]) -> None:
        """Raise for the first state and month without a figure (NaN in `values`)."""
        gaps = np.argwhere(np.isnan(values))
        if len(gaps):
            s, j = gaps[0]
            code = self.model.benefit_codes[s]
            raise ActualsError(
                f"the actuals have no full_year_persons for {code} in {months[j]} (nor for a group, "
                f"an aggregate or total that holds it); every benefit state needs a figure for every "
                f"month from the scenario's start through the last actual month ({months[0]}–{months[-1]})")
