"""Observed figures in the long format (period, state, measure, value, source), matched to a model.

Periods are a year (`2018`), a month (`2018-03`) or an inclusive range of months
(`2017-01..2017-10`); states are a state code, a Jobindsats group or `total`. A figure of
full-year persons over a period is the model's person-days on those states over the
period's months ÷ the period's days, the same measure the batch reports. The counts are moves
over the period's months, as the ledger books them:

- `inflow_count`: moves into those states from anywhere else: from outside public support (the
  scenario's inflows), from an exit state (a return from job, education, …) and from every
  other benefit state (a sygedagpenge spell that goes on to jobafklaring is an inflow of
  jobafklaring). Moves between the observation's own states do not count, so the inflow of
  `total` or a group is the entries from outside it.
- `inflow_from_outside_count`: moves into those states from outside public support only (the
  scenario's inflows and returns from an exit state), not from another benefit state.
- `outflow_<destination>_count`: moves out of those states to a destination state
  (`outflow_job_count`).

Where a code is both a state and a group (sygedagpenge), `group:sygedagpenge` names the group.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import sparse

from sim.contract.catalogue import CATALOGUE, TOTAL
from sim.contract.observed_terms import GROUP_PREFIX, KNOWN_STATES, MEASURES, is_measure, unknown_word
from sim.kernel.model import Model

COLUMNS = ("period", "state", "measure", "value", "source")
BASIS_COLUMN = "basis"
JOBINDSATS, PAYMENT = "jobindsats", "payment"
BASES = (JOBINDSATS, PAYMENT)
"""An optional column's words: a figure counts every day on the benefit (`jobindsats`, the
default) or the days from which the municipality pays (`payment`; `sim.fitting.actuals`)."""
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


class ObservedDataError(ValueError):
    """An observed-data file that cannot be read as the long format."""


def read_observed(path: str | Path) -> pd.DataFrame:
    """Read an observed CSV; every problem is named with its row and column."""
    try:
        frame = pd.read_csv(path, dtype={"period": str, "state": str, "measure": str, "source": str},
                            keep_default_na=False)
    except FileNotFoundError:
        raise ObservedDataError(f"{path}: no such file; give an observed CSV "
                                f"with columns {', '.join(COLUMNS)}") from None
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        raise ObservedDataError(f"{path}: not a readable CSV ({exc})") from None
    missing = [c for c in COLUMNS[:4] if c not in frame.columns]
    if missing:
        raise ObservedDataError(f"{path}: missing column(s) {', '.join(missing)}; "
                                f"the columns are {', '.join(COLUMNS)} (source optional)")
    values = pd.to_numeric(frame["value"], errors="coerce")
    bad = frame.index[values.isna() | ~np.isfinite(values.fillna(0))]
    if len(bad):
        row = int(bad[0])
        raise ObservedDataError(f"{path}, row {row + 2}: value {frame.loc[row, 'value']!r} is not a number")
    counted = frame["measure"].map(_is_count)
    negative = frame.index[(values < 0) & counted]
    if len(negative):
        row = int(negative[0])
        raise ObservedDataError(f"{path}, row {row + 2}: value {values[row]:g} is negative; observed persons "
                                "and counts are 0 or more")
    frame["value"] = values.astype(float)
    for column in COLUMNS[:3]:
        frame[column] = frame[column].str.strip()
    compared = frame["measure"].map(lambda m: str(m) in (STOCK, INFLOW, INFLOW_OUTSIDE)
                                    or outflow_destination(str(m)) is not None)
    key = frame["period"] + "|" + frame["state"] + "|" + frame["measure"]
    if BASIS_COLUMN in frame.columns:
        frame[BASIS_COLUMN] = _bases(frame[BASIS_COLUMN], path)
        key = key + "|" + frame[BASIS_COLUMN]
    repeated = [int(i) for i in frame.index[key.duplicated(keep=False) & compared]]
    if repeated:  # a figure the fit compares, given twice, would count twice (targets may repeat)
        first = repeated[0]
        second = next(i for i in repeated[1:] if key[i] == key[first])
        period, state, measure = (str(frame.loc[first, c]) for c in ("period", "state", "measure"))
        basis = str(frame.loc[first, BASIS_COLUMN]) if BASIS_COLUMN in frame.columns else ""
        on = f" on the {basis} basis" if basis else ""
        raise ObservedDataError(f"{path}, rows {first + 2} and {second + 2}: the same period, state and "
                                f"measure ({period}, {state}, {measure}) twice{on}; keep one")
    for i, measure in enumerate(frame["measure"]):
        if not is_measure(str(measure)):
            word = unknown_word("measure", str(measure), MEASURES)
            raise ObservedDataError(f"{path}, row {i + 2}: {word}; the measures are listed in "
                                    "calibration/README.md")
    for i, period in enumerate(frame["period"]):
        if parse_period(period) is None:
            raise ObservedDataError(f"{path}, row {i + 2}: period {period!r} is not a year (2018), "
                                    "a month (2018-03) or a range of months (2017-01..2017-10)")
    if "source" not in frame.columns:
        frame["source"] = ""
    frame.attrs["path"] = str(path)
    return frame


def _bases(column: pd.Series, path: str | Path) -> pd.Series:
    """The basis column in lower case, empty cells as `jobindsats`; another word is an error."""
    bases = column.astype(str).str.strip().str.lower().replace("", JOBINDSATS)
    wrong = bases.index[~bases.isin(BASES)]
    if len(wrong):
        row = int(wrong[0])
        raise ObservedDataError(f"{path}, row {row + 2}: basis {column[row]!r} is not allowed; give "
                                "jobindsats (every day on the benefit, the default) or payment (from the "
                                "day the municipality pays)")
    return bases


def check_states(frame: pd.DataFrame, codes: Iterable[str]) -> None:
    """Refuse a row whose state is neither one of the scenario's state `codes` nor a word of the
    vocabulary (a typo): before a fit or a restart, not one of the rows it leaves out."""
    known = KNOWN_STATES | set(codes)
    for i, state in enumerate(frame["state"]):
        if str(state) not in known:
            where = frame.attrs.get("path", "observed data")
            raise ObservedDataError(
                f"{where}, row {i + 2}: {unknown_word('state', str(state), known)}; a state is one of the "
                "scenario's, a catalogue state or group, total, or a custom code of calibration/README.md")


def parse_period(period: str) -> tuple[str, str] | None:
    """The first and last month (`YYYY-MM`) of a period, or None if it is not a period."""
    text = str(period).strip()
    if re.fullmatch(r"\d{4}", text):
        return f"{text}-01", f"{text}-12"
    if ".." in text:
        first, _, last = text.partition("..")
        if _MONTH.match(first) and _MONTH.match(last) and first <= last and _valid(first) and _valid(last):
            return first, last
        return None
    if _MONTH.match(text) and _valid(text):
        return text, text
    return None


def _valid(month: str) -> bool:
    return 1 <= int(month[5:]) <= 12


def period_months(model: Model, period: str) -> slice | None:
    """The period's months in the model's horizon, or None when it is not wholly inside it."""
    bounds = parse_period(period)
    labels = model.calendar.labels
    if bounds is None or bounds[0] not in labels or bounds[1] not in labels:
        return None
    return slice(labels.index(bounds[0]), labels.index(bounds[1]) + 1)


def state_rows(model: Model, state: str) -> tuple[int, ...] | None:
    """Benefit-state indices an observed row's state stands for, or None if the model lacks it.

    `total` is every benefit state; `group:<g>` the Jobindsats group's states; a declared
    state itself; a catalogue state the scenario splits (kontanthjaelp into
    kontanthjaelp_jobparat and kontanthjaelp_aktivitetsparat) its declared sub-states; a
    group code that is no state (dagpenge) the group.
    """
    codes = model.benefit_codes
    if state == TOTAL:
        return tuple(range(model.n_benefit))
    if state.startswith(GROUP_PREFIX):
        members = model.groups().get(state[len(GROUP_PREFIX):])
        return tuple(members) if members else None
    if state in codes:
        return (codes.index(state),)
    if state in CATALOGUE:
        parts = tuple(i for i, c in enumerate(codes) if c.startswith(state + "_"))
        return parts or None
    members = model.groups().get(state)
    return tuple(members) if members else None


@dataclass(frozen=True)
class Observation:
    """One observed figure the model can say something about."""

    period: str
    state: str
    measure: str
    value: float
    source: str
    rows: tuple[int, ...]
    months: slice


def observations(model: Model, frame: pd.DataFrame, measures: tuple[str, ...] = ("full_year_persons",),
                 periods: tuple[str, ...] = (), states: tuple[str, ...] = ()
                 ) -> tuple[list[Observation], pd.DataFrame]:
    """The rows the model can be compared with, and the rows left out with the reason."""
    check_states(frame, model.codes)
    kept: list[Observation] = []
    skipped: list[dict[str, object]] = []
    bases = frame[BASIS_COLUMN] if BASIS_COLUMN in frame.columns else pd.Series(JOBINDSATS, index=frame.index)
    for row, basis in zip(frame.itertuples(index=False), bases, strict=True):
        period, state, measure = str(row.period), str(row.state), str(row.measure)
        reason = ""
        months = period_months(model, period)
        rows = state_rows(model, state)
        if basis == PAYMENT:
            reason = "on the payment basis; the fit compares figures of every day on the benefit"
        elif measure not in measures:
            reason = f"measure {measure} is not fitted"
        elif not can_compare(model, measure):
            reason = f"the model has no measure {measure}"
        elif periods and period not in periods:
            reason = "period not selected"
        elif states and state not in states:
            reason = "state not selected"
        elif months is None:
            reason = "period not inside the horizon"
        elif rows is None:
            reason = f"{state} is not a state or group of the scenario"
        if reason:
            skipped.append({"period": period, "state": state, "measure": measure, "reason": reason})
            continue
        assert months is not None and rows is not None
        kept.append(Observation(period, state, measure, float(str(row.value)), str(row.source),
                                rows, months))
    return kept, pd.DataFrame(skipped, columns=["period", "state", "measure", "reason"])


def _is_count(measure: str) -> bool:
    """Whether a measure is a stock or a count, which cannot be negative (a change or money can)."""
    text = str(measure)
    return "change" not in text and (text == "count" or text.endswith("_count")
                                     or "full_year_persons" in text)


STOCK = "full_year_persons"
INFLOW = "inflow_count"
"""Moves into the observation's states from any other state (benefit or exit) or from outside public
support, in the period; moves between the observation's own states do not count."""
INFLOW_OUTSIDE = "inflow_from_outside_count"
"""Moves into the observation's states from outside public support (the scenario's inflows) or
from an exit state (a return), in the period: not from another benefit state."""
OUTFLOW_PREFIX, OUTFLOW_SUFFIX = "outflow_", "_count"
"""`outflow_<destination>_count`: moves from the observation's states to a destination (e.g. job)."""


def outflow_destination(measure: str) -> str | None:
    """The destination of an `outflow_<destination>_count` measure, else None."""
    if measure.startswith(OUTFLOW_PREFIX) and measure.endswith(OUTFLOW_SUFFIX):
        return measure[len(OUTFLOW_PREFIX): -len(OUTFLOW_SUFFIX)] or None
    return None


def period_average(person_days: np.ndarray, days: np.ndarray, obs: Observation) -> float | np.ndarray:
    """Full-year persons of an observation's states over its period, from [state, month] (or
    [replication, state, month]) person-days."""
    summed = person_days[..., list(obs.rows), obs.months].sum(axis=(-2, -1))
    return summed / days[obs.months].sum()


def period_value(model: Model, person_days: np.ndarray, flows: np.ndarray, obs: Observation) -> float:
    """The model's value of an observation: a stock (full-year persons) or a flow count.

    `flows` is [origin (last = outside), destination, month], as the ledger books moves.
    """
    if obs.measure == STOCK:
        return float(period_average(person_days, model.calendar.days, obs))
    rows = list(obs.rows)
    moves = flows[..., obs.months].sum(axis=-1)
    if obs.measure == INFLOW:
        others = [o for o in range(moves.shape[0]) if o not in obs.rows]
        return float(moves[np.ix_(others, rows)].sum())
    if obs.measure == INFLOW_OUTSIDE:
        outside = list(range(model.n_benefit, moves.shape[0]))  # exit states, then outside
        return float(moves[np.ix_(outside, rows)].sum())
    dest = outflow_destination(obs.measure)
    assert dest is not None and dest in model.codes
    return float(moves[rows, model.codes.index(dest)].sum())


def value_matrix(model: Model, obs: list[Observation]) -> sparse.csr_array:
    """[observation, cell]: each observation's `period_value` as weights on the model's person-days
    [state, month] and flows [origin, destination, month], flattened and joined (`model_values`), so
    that a fit's many evaluations of the same observations are one product (sparse: an observation
    weighs a few states and months of many)."""
    n, months = model.n_states, model.calendar.months
    flows_at = n * months  # the flows' cells come after the person-days'
    rows: list[np.ndarray] = []
    cols: list[np.ndarray] = []
    weights: list[np.ndarray] = []
    for i, o in enumerate(obs):
        month = np.arange(months)[o.months]
        if o.measure == STOCK:
            cells = (np.array(o.rows)[:, None] * months + month).ravel()
            weight = 1.0 / model.calendar.days[o.months].sum()
        else:
            if o.measure == INFLOW:
                origins, dests = [k for k in range(n + 1) if k not in o.rows], list(o.rows)
            elif o.measure == INFLOW_OUTSIDE:
                origins, dests = list(range(model.n_benefit, n + 1)), list(o.rows)
            else:
                dest = outflow_destination(o.measure)
                assert dest is not None and dest in model.codes
                origins, dests = list(o.rows), [model.codes.index(dest)]
            pairs = (np.array(origins)[:, None] * n + np.array(dests)).ravel()
            cells = flows_at + (pairs[:, None] * months + month).ravel()
            weight = 1.0
        rows.append(np.full(len(cells), i))
        cols.append(cells)
        weights.append(np.full(len(cells), weight))
    shape = (len(obs), flows_at + (n + 1) * n * months)
    if not obs:
        return sparse.csr_array(shape)
    where = (np.concatenate(rows), np.concatenate(cols))
    return sparse.csr_array((np.concatenate(weights), where), shape=shape)


def model_values(matrix: sparse.csr_array, person_days: np.ndarray, flows: np.ndarray) -> np.ndarray:
    """The observations of `value_matrix` from a model's person-days and flows."""
    return np.asarray(matrix @ np.concatenate([person_days.ravel(), flows.ravel()]))


def can_compare(model: Model, measure: str) -> bool:
    """Whether the model gives a measure: a stock, an inflow, or an outflow to one of its states."""
    dest = outflow_destination(measure)
    return measure in (STOCK, INFLOW, INFLOW_OUTSIDE) or (dest is not None and dest in model.codes)
