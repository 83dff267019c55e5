"""Jobindsats table exports read into the long observed format (period, state, measure, value, source).

An export as jobindsats.dk gives it, CSV or xlsx: a few title lines (the table's name, the
area, the unit), one or more header rows, then the figures, wide (a row per Område and
Ydelsesgruppe, a column per period, perhaps split by measure in a second header row) or long (a
Periode column and a column per measure, or a Måling column and one value column); see
`sim.fitting.jobindsats_layout`. Each figure becomes one observed row: its period in the
format's form, its ydelsesgruppe's state code, group or `total` and its measure from the mapping
(`sim.fitting.jobindsats_terms`), its value as a plain number, and a `source` naming the file,
the table, the row and the Jobindsats names. Missing figures (`..`, `-`, empty) give no row;
ydelsesgrupper and measures the mapping skips are counted and left out; anything else that
cannot be placed is an error naming the file, the row and the value.
"""

from __future__ import annotations

import csv
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import pandas as pd

from sim.fitting.jobindsats_layout import Layout, read_layout
from sim.fitting.jobindsats_terms import (
    PERIOD_FORMS,
    SHIPPED_MAPPING,
    SKIP,
    JobindsatsError,
    Mapping,
    danish_number,
    default_mapping,
    jobindsats_period,
    norm,
    read_mapping,
    text,
)
from sim.fitting.observations import COLUMNS, parse_period

__all__ = ["Imported", "JobindsatsError", "Mapping", "default_mapping", "plain", "read_jobindsats",
           "read_mapping", "write_observed"]

_TOTALS = frozenset({"i alt", "total", "alle"})


@dataclass
class Imported:
    """What an export gave: the observed rows (`frame`) and an account of what was left out."""

    path: Path
    mapping: Path
    table: str
    areas: list[str]
    header_rows: tuple[int, int]
    frame: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=list(COLUMNS)))
    data_rows: int = 0
    """Rows of the export that hold figures (or missing marks)."""
    missing: int = 0
    """Figures not given (`..`, `-`, empty)."""
    notes: int = 0
    """Lines after the header with no figures (a source note, "Kilde: Jobindsats")."""
    other_areas: int = 0
    """Rows of another Område than the one asked for."""
    skipped: Counter[str] = field(default_factory=Counter)
    """Figures the mapping skips, by ydelsesgruppe or measure."""


def read_jobindsats(path: str | Path, mapping: Mapping | str | Path | None = None, *,
                    area: str | None = None, measure: str | None = None,
                    ydelsesgruppe: str | None = None, table: str | None = None) -> Imported:
    """Read a Jobindsats export into the long observed format (`Imported.frame`).

    `mapping` is a mapping or its file (default: the shipped `calibration/jobindsats_mapping.yaml`).
    `area` keeps one Område of an export with several; `measure` names the measure of an export
    whose headings and title name none (a Jobindsats heading or a measure such as
    `full_year_persons`); `ydelsesgruppe` is the benefit of a table about one benefit (no
    Ydelsesgrupper column); `table` names the table in `source` (default: the first title line).
    """
    path = Path(path)
    if not isinstance(mapping, Mapping):
        mapping = read_mapping(Path(mapping) if mapping is not None else SHIPPED_MAPPING)
    layout = read_layout(path, mapping)
    defaults = _defaults(layout, mapping, measure, ydelsesgruppe)
    name = table or (layout.titles[0] if layout.titles else path.stem)
    result = Imported(path, mapping.path, name, [], layout.header)
    records, problems = _figures(layout, mapping, result, area, defaults)
    if records:
        result.frame = pd.DataFrame(records, columns=list(COLUMNS))
    if area is None and len(result.areas) > 1:
        problems = [f"{layout.sheet.where}: the export holds several areas ({', '.join(result.areas)}); "
                    "an observed file is one area's: give --area with one of them"]
    elif area is not None and not result.areas:
        column = layout.dims.get("area")
        there = sorted({text(row[column]) for _, row in layout.data if text(row[column])}) \
            if column is not None else [defaults.area] if defaults.area else []
        problems = [f"{layout.sheet.where}: no rows for Område {area!r}; the export's areas: "
                    f"{', '.join(there) or 'none named'}", *problems]
    if problems:
        raise JobindsatsError(problems)
    return result


@dataclass(frozen=True)
class _Defaults:
    """What a row takes when neither it nor its column says: a ydelsesgruppe, a measure, an area."""

    ydelse: str | None
    measure: tuple[str, str] | None  # (the format's measure, where it came from)
    area: str | None


def _defaults(layout: Layout, mapping: Mapping, measure: str | None, ydelse: str | None) -> _Defaults:
    """Check that every figure has a period, a ydelsesgruppe and a measure; the defaults for them."""
    where, dims, columns = layout.sheet.where, layout.dims, layout.columns
    problems = []
    if not columns:
        problems.append(f"{where}: no columns of figures (headed by periods such as 2024M01, measures "
                        "of the mapping, or Værdi)")
    if "period" in dims and any(c.period for c in columns):
        problems.append(f"{where}: both a Periode column and periods as headings")
    elif "period" not in dims and (lack := [c for c in columns if c.period is None]):
        problems.append(f'{where}: the column "{lack[0].heading}" has no period; periods are headings '
                        f"({PERIOD_FORMS}) or a Periode column")
    has_ydelse = "ydelse" in dims or any(c.ydelse for c in columns)
    if ydelse is not None and has_ydelse:
        problems.append(f"{where}: the export names its ydelsesgrupper; --ydelsesgruppe is for a table "
                        "about one benefit without them")
    elif ydelse is None and "ydelse" not in dims and any(c.ydelse is None for c in columns):
        problems.append(f"{where}: no Ydelsesgrupper column; for a table about one benefit, give "
                        "--ydelsesgruppe with its name (e.g. A-dagpenge)")
    found: tuple[str, str] | None = None
    needs_measure = "measure" not in dims and any(c.measure is None for c in columns)
    if measure is not None:
        named = measure.isidentifier() and measure.islower()
        target = mapping.measure(measure) or (measure if named else None)
        if not needs_measure:
            problems.append(f"{where}: the export names its measures; --measure is for one that does not")
        elif target is None or target == SKIP:
            problems.append(f"--measure {measure!r} is neither a measure heading of the mapping nor a "
                            "measure name such as full_year_persons")
        else:
            found = (target, f"--measure {measure}")
    elif needs_measure:
        titled = mapping.title_measure(layout.titles)
        found = (titled[0], f'"{titled[1]}" (the title)') if titled else None
        if found is None:
            problems.append(f"{where}: no measure: the headings name none, and the title lines "
                            f"({'; '.join(layout.titles) or 'none'}) name none or several of the mapping's "
                            "measures; give --measure (e.g. full_year_persons)")
    if problems:
        raise JobindsatsError(problems)
    areas = [t.split(":", 1)[1].strip() for t in layout.titles if norm(t).startswith("område:")]
    return _Defaults(ydelse, found, areas[0] if areas else None)


def _is_total(value: str) -> bool:
    key = norm(value)
    return key in _TOTALS or key.endswith(" i alt")


def _figures(layout: Layout, mapping: Mapping, result: Imported, area: str | None,
             defaults: _Defaults) -> tuple[list[tuple[str, str, str, float, str]], list[str]]:
    """The observed rows of the export's data rows, and the problems found in them."""
    records: list[tuple[str, str, str, float, str]] = []
    problems: list[str] = []
    unknown: dict[str, list[int]] = defaultdict(list)
    first: dict[tuple[str, str, str], tuple[int, str]] = {}
    carried: dict[int, str] = {}  # merged row labels: a blank dimension cell repeats the one above
    label_cols = [*layout.dims.values(), *layout.others]
    for n, row in layout.data:
        values = [row[c.index] for c in layout.columns]
        written = [v for v in row if text(v)]
        if not any(text(v) for v in values) and len(written) <= 1:
            result.notes += len(written)  # a line such as "Kilde: Jobindsats.dk", or a blank one
            continue
        labels = {c: text(row[c]) or carried.get(c, "") for c in label_cols}
        carried.update(labels)
        result.data_rows += 1
        where = f"{layout.sheet.where}, row {n}"
        parts = [f"{layout.others[c]} {labels[c]!r}" for c in layout.others if not _is_total(labels[c])]
        if parts:
            problems.append(f"{where}: {', '.join(parts)} is a part of the population, and the observed "
                            "format has no column for it; download the table with its total (… i alt)")
            continue
        dims = {role: labels[c] for role, c in layout.dims.items()}
        place = dims.get("area") or defaults.area
        if area is not None and norm(place or "") != norm(area):
            result.other_areas += 1
            continue
        if place and place not in result.areas:
            result.areas.append(place)
        row_period = None
        if "period" in dims and (row_period := jobindsats_period(dims["period"])) is None:
            problems.append(f'{where}: Periode "{dims["period"]}" is not a Jobindsats period '
                            f"({PERIOD_FORMS})")
            continue
        for column, cell in zip(layout.columns, values, strict=True):
            name = column.ydelse or dims.get("ydelse") or defaults.ydelse or ""
            state = mapping.ydelse(name)
            if not name:
                problems.append(f"{where}: the Ydelsesgrupper cell is empty")
                break
            if state is None:
                unknown[name].append(n)
                break
            if column.measure or "measure" in dims:
                label = column.measure or dims["measure"]
                measure, said = mapping.measure(label), f'"{label}"'
            else:
                assert defaults.measure is not None
                measure, said = defaults.measure
            if measure is None:
                problems.append(f'{where}: Måling "{label}" is not under measures: in {mapping.path}; add '
                                f"`{label}: <measure>` or `{label}: skip` and give the file with --mapping")
                break
            if SKIP in (state, measure):
                result.skipped[f"ydelsesgruppe {name}" if state == SKIP else f"measure {said}"] += 1
                continue
            code = column.period or dims["period"]
            period = jobindsats_period(code) if column.period else row_period
            assert period is not None
            try:
                value = danish_number(cell)
            except ValueError:
                problems.append(f'{where}, column "{column.heading}": {text(cell)!r} is not a number in '
                                "Danish notation (1.234,5) nor a missing figure (.., -)")
                continue
            if value is None:
                result.missing += 1
                continue
            key = (period[0], state, measure)
            if key in first:
                problems.append(f"{where}: {state} {measure} {period[0]} is given twice: Ydelsesgrupper "
                                f'"{name}" here and "{first[key][1]}" in row {first[key][0]}; map one of '
                                "them to skip or to a code of its own")
                continue
            first[key] = (n, name)
            reading = f" ({period[1]})" if "MAT" in code.upper() else ""
            place_said = f'Område "{place}", ' if place else ""
            records.append((period[0], state, measure, value,
                            f'Jobindsats export {result.path.name}, table "{result.table}", row {n}: '
                            f'{place_said}Ydelsesgrupper "{name}", Periode "{code}"{reading}, {said}'))
    for name, rows in unknown.items():
        listed = ", ".join(str(r) for r in rows[:5]) + (f" and {len(rows) - 5} more" if len(rows) > 5 else "")
        problems.append(f'{layout.sheet.where}: ydelsesgruppe "{name}" (row {listed}) is not in the mapping '
                        f"{mapping.path}: add `{name}: <code>` under ydelsesgrupper: (a state code such as "
                        f"a_dagpenge, group:<g> for a Jobindsats group, or total), or `{name}: skip` to "
                        "leave its rows out, and give the edited file with --mapping")
    return records, problems


def plain(value: float) -> str:
    """A value as the observed format writes it: dot decimal, no exponent, no trailing zeros."""
    written = format(Decimal(repr(float(value))), "f")
    return written.rstrip("0").rstrip(".") if "." in written else written


def write_observed(frame: pd.DataFrame, path: str | Path) -> None:
    """Write observed rows with the header `period,state,measure,value,source` (UTF-8, csv quoting)."""
    if not all(parse_period(p) for p in frame["period"]):
        raise ValueError("every period must be a year, a month or a range of months")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(COLUMNS)
        for period, state, measure, value, source in frame[list(COLUMNS)].itertuples(index=False):
            writer.writerow([period, state, measure, plain(float(str(value))), source])
