"""Read and validate spell tables: the column contract, parsing, and errors that name the rows.

A spell is one stay of one person in one state: `id`, `state`, `start`, `end` and `to` (the
destination it left for, or empty / NaN / ``censored`` when the stay was still going on when
observation stopped). `start`, `end` and the optional `entry` are dates or numbers of days; the
duration in weeks is (end − start) days / 7. Other columns may carry attributes (sex, age
group, …) for hazard ratios.

Censoring and left truncation. A censored spell contributes exposure but no event. A spell
with an `entry` time (same units as start and end) was only under observation from then on —
typically a stock already on the benefit when the data begin — so it contributes exposure only
from duration (entry − start) onwards (delayed entry): counting its earlier time would add
exposure in which it could not have been seen to leave. An entry before the start counts from
the start. Spells of zero length, or with entry at their end, contribute nothing.

This module needs only NumPy and pandas, so checking a spell file does not load the fitting's
statistics libraries; `sim.fitting.spells` fits the hazards.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

REQUIRED: tuple[str, ...] = ("id", "state", "start", "end", "to")
"""Columns every spell table needs."""
CENSORED: frozenset[str] = frozenset({"", "censored", "nan", "none", "<na>"})
"""Values of `to` (case-insensitive, stripped) that mark a censored spell."""
_SHOW = 5
"""Rows listed by name in an error message before "and N more"."""


class SpellDataError(ValueError):
    """A spell table that cannot be fitted: the message names the rows and the column."""


# ---------------------------------------------------------------------------------------------
# Reading


def read_spells(path: str | Path, states: Iterable[str] | None = None) -> pd.DataFrame:
    """Read and validate a spell CSV (see `validate_spells`); errors name the file's lines.

    `start`, `end` (and `entry`) become datetime64 when they are dates (YYYY-MM-DD), floats
    when every value is a number of days. `to` is None for censored spells; other columns stay
    text. The index is the line number in the file.
    """
    path = Path(path)
    rows, lines = _csv_rows(path)
    if not rows:
        raise SpellDataError(f"{path}: the file is empty; a spell table needs a header line "
                             f"{','.join(REQUIRED)}")
    header = [c.strip() for c in rows[0]]
    twice = sorted({c for c in header if header.count(c) > 1})
    if twice:
        raise SpellDataError(f"{path}: column{'s' if len(twice) > 1 else ''} "
                             f"{', '.join(map(repr, twice))} given more than once in the header")
    ragged = [(n, len(r)) for n, r in zip(lines[1:], rows[1:], strict=True) if len(r) != len(header)]
    if ragged:
        shown = "; ".join(f"line {n} has {k}" for n, k in ragged[:_SHOW])
        more = f" and {len(ragged) - _SHOW} more" if len(ragged) > _SHOW else ""
        raise SpellDataError(f"{path}: the header has {len(header)} fields but {shown}{more}")
    raw = pd.DataFrame(rows[1:], columns=header, dtype=object)
    raw.index = pd.Index(lines[1:], name="line")
    return _validate(raw, states, source=str(path), from_file=True)


def _csv_rows(path: Path) -> tuple[list[list[str]], list[int]]:
    """The file's non-blank rows and their line numbers, so messages can point into the file."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as f:
            reader = csv.reader(f, skipinitialspace=True)
            rows, lines = [], []
            for row in reader:
                if row:  # blank lines are skipped but keep the line count
                    rows.append(row)
                    lines.append(reader.line_num)
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise SpellDataError(f"{path}: cannot read the spell table: {exc}") from exc
    return rows, lines


# ---------------------------------------------------------------------------------------------
# Validating


def validate_spells(df: pd.DataFrame, states: Iterable[str] | None = None) -> pd.DataFrame:
    """A checked, normalised copy of a spell table; raises `SpellDataError` naming bad rows.

    Checks: the columns id, state, start, end, to exist; id and state are not empty; start,
    end (and entry, if present) are all numbers of days or all dates; end is not before start
    and entry not after end; a spell does not move to its own state; with `states`, every state
    and destination is one of them.
    """
    return _validate(df, states, source="spell table", from_file=False)


@dataclass
class _Problems:
    """Problems found in a spell table, each naming its first rows, so all are reported at once."""

    frame: pd.DataFrame
    source: str
    from_file: bool
    messages: list[str] = field(default_factory=list)

    def add(self, mask: np.ndarray, column: str, what: str, values: pd.Series | None = None,
            detail: pd.Series | None = None) -> None:
        """Record a problem for the rows in `mask`, showing each one's value or `detail`."""
        pos = np.flatnonzero(mask)
        if len(pos) == 0:
            return
        index = self.frame.index
        ids = self.frame["id"].to_numpy()
        names = []
        for p in pos[:_SHOW]:
            label = f"line {index[p]}" if self.from_file else f"row {_plain(index[p])!r}"
            shown = (f", {column} {_plain(values.iloc[p])!r}" if values is not None
                     else f", {detail.iloc[p]}" if detail is not None else "")
            names.append(f"{label} (id {_plain(ids[p])!r}{shown})")
        more = f" and {len(pos) - _SHOW} more" if len(pos) > _SHOW else ""
        self.messages.append(f"{self.source}: column {column!r}: {what} in {'; '.join(names)}{more}")


def _validate(df: pd.DataFrame, states: Iterable[str] | None, source: str, from_file: bool
              ) -> pd.DataFrame:
    """The normalised copy behind `read_spells` and `validate_spells`; rows named by line or label."""
    missing = [c for c in REQUIRED if c not in df.columns]
    if missing:
        raise SpellDataError(
            f"{source}: missing column{'s' if len(missing) > 1 else ''} "
            f"{', '.join(repr(c) for c in missing)}; a spell table needs the columns "
            f"{', '.join(REQUIRED)} (entry and attribute columns are optional)")
    out = df.copy()
    problems = _Problems(out, source, from_file)
    for column in ("id", "state"):
        problems.add(is_blank(out[column]), column, "empty value")
    out["state"] = _text(out["state"], lower=False)

    censored = _text(out["to"]).isin(CENSORED).to_numpy(dtype=bool)
    out["to"] = pd.Series(_text(out["to"], lower=False).where(~censored, None), index=out.index,
                          dtype=object)
    _check_times(out, problems)
    same = (~censored) & (out["to"].astype(object) == out["state"]).to_numpy(dtype=bool)
    problems.add(same, "to", "a move to the spell's own state", out["to"])
    if states is not None:
        _check_states(out, set(states), censored, problems)
    if problems.messages:
        raise SpellDataError("\n".join(problems.messages))
    return out


def _check_times(out: pd.DataFrame, problems: _Problems) -> None:
    """Parse start, end and entry in place (all days or all dates) and check their order."""
    times = [c for c in ("start", "end", "entry") if c in out.columns]
    kind = _time_kind(out, times)
    for column in times:
        parsed, bad = _parse_times(out[column], kind, optional=column == "entry")
        problems.add(bad, column, "not a number of days" if kind == "days" else "not a date (YYYY-MM-DD)",
                     out[column])
        out[column] = parsed
    # values that did not parse are NaN / NaT and compare False: only parsed pairs are checked
    problems.add((out["end"] < out["start"]).to_numpy(dtype=bool), "end", "end before start",
                 detail="end " + out["end"].astype(str) + " < start " + out["start"].astype(str))
    if "entry" in out.columns:
        problems.add((out["entry"] > out["end"]).to_numpy(dtype=bool), "entry", "entry after end",
                     detail="entry " + out["entry"].astype(str) + " > end " + out["end"].astype(str))


def _check_states(out: pd.DataFrame, known: set[str], censored: np.ndarray, problems: _Problems) -> None:
    """Every state and (uncensored) destination must be one of `known`."""
    problems.add(~out["state"].isin(known).to_numpy(dtype=bool) & ~is_blank(out["state"]), "state",
                 f"unknown state (known: {', '.join(sorted(known))})", out["state"])
    problems.add(~censored & ~out["to"].isin(known).to_numpy(dtype=bool), "to",
                 f"unknown destination (known: {', '.join(sorted(known))}, or empty/'censored')",
                 out["to"])


# ---------------------------------------------------------------------------------------------
# Column helpers


def _plain(v: Any) -> Any:
    """A NumPy scalar as the Python value (for messages)."""
    return v.item() if isinstance(v, np.generic) else v


def _text(s: pd.Series, lower: bool = True) -> pd.Series:
    """The column as stripped strings (missing: ""), lower-cased unless `lower` is False."""
    t = s.astype("string").str.strip().fillna("")
    return (t.str.lower() if lower else t).astype(object)


def is_blank(s: pd.Series) -> np.ndarray:
    """Mask of missing values: NaN / NaT, or text that is empty once stripped."""
    if pd.api.types.is_numeric_dtype(s) or pd.api.types.is_datetime64_any_dtype(s):
        return s.isna().to_numpy(dtype=bool)
    return (_text(s, lower=False) == "").to_numpy(dtype=bool)



def _days(s: pd.Series) -> np.ndarray:
    """A validated time column as float days (dates: days since 1970-01-01)."""
    if pd.api.types.is_datetime64_any_dtype(s):
        return ((s - pd.Timestamp("1970-01-01")) / pd.Timedelta(days=1)).to_numpy(dtype=float)
    return s.to_numpy(dtype=float)


def _time_kind(df: pd.DataFrame, columns: list[str]) -> str:
    """'days' when every filled time value is a number, else 'dates'."""
    for column in columns:
        s = df[column]
        if pd.api.types.is_datetime64_any_dtype(s):
            return "dates"
        if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
            continue
        filled = s[~is_blank(s)]
        if pd.to_numeric(filled, errors="coerce").isna().any():
            return "dates"
    return "days"


def _parse_times(s: pd.Series, kind: str, optional: bool) -> tuple[pd.Series, np.ndarray]:
    """The column as floats (days) or datetime64, and a mask of values that are not."""
    blank = is_blank(s)
    if kind == "days":
        values = pd.to_numeric(s.astype(object).where(~blank), errors="coerce").astype(float)
        bad = ~np.isfinite(values.to_numpy())
    elif pd.api.types.is_datetime64_any_dtype(s):
        values = s
        bad = s.isna().to_numpy()
    else:
        text = _text(s, lower=False).where(~blank, None)
        dates = pd.to_datetime(text, errors="coerce", format="ISO8601")
        bad = dates.isna().to_numpy()
        return dates, (bad & ~blank) if optional else bad
    if optional:
        bad = bad & ~blank
    return values, bad


def spell_days(spells: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Start, end and the day observation of each validated spell begins (its entry, else its
    start; an entry before the start counts from the start), as float days (dates: days since
    1970-01-01)."""
    start, end = _days(spells["start"]), _days(spells["end"])
    entry = _days(spells["entry"]) if "entry" in spells.columns else start
    entry = np.where(np.isnan(entry), start, entry)
    return start, end, np.maximum(entry, start)


def in_dates(spells: pd.DataFrame) -> bool:
    """Whether the validated spells' times are dates (else numbers of days)."""
    return bool(pd.api.types.is_datetime64_any_dtype(spells["start"]))


def observed_weeks(spells: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Durations in weeks at which each validated spell comes under observation (t0) and ends (t1).

    Exposure lies in [t0, t1): a missing entry, or one before the start, counts from the start.
    """
    start, end = _days(spells["start"]), _days(spells["end"])
    entry = _days(spells["entry"]) if "entry" in spells.columns else start
    entry = np.where(np.isnan(entry), start, entry)
    t1 = (end - start) / 7.0
    t0 = np.clip((entry - start) / 7.0, 0.0, None)
    return t0, t1


# ---------------------------------------------------------------------------------------------
# Engine output


def engine_spells(table: pd.DataFrame, observe_from: float = 0.0) -> pd.DataFrame:
    """A `ReplicationRecord.spells` table (days) as a spell table for `fit_spells`.

    The engine's initial stock enters with elapsed durations, so its spells start before day 0
    (`start_day` < 0) but are only seen from day 0: `entry` = max(start, `observe_from`) makes
    the fit count their exposure from then on. Censored spells end at the horizon with `to`
    None. Extra columns are kept.
    """
    out = table.rename(columns={"start_day": "start", "end_day": "end"}).copy()
    out["entry"] = np.maximum(out["start"].to_numpy(dtype=float), observe_from)
    return out
