"""The shape of a Jobindsats export: its rows of cells, title lines, header rows and columns.

A CSV (UTF-8 or Windows-1252; `;`, tab or `,` as the delimiter, whichever splits the header
row into its labels) or an xlsx (every sheet; the first with a header row is read). The header
row is the first naming a row dimension (Område, Ydelsesgrupper; else Periode or Måling); the
rows just above it with cells only over the figures are header rows too (a period over each
measure, merged cells carried to the right; a caption such as "Periode" is passed over), as
are those just below with text under the figures; the lines above them are the title. A
column is a dimension if its label says so; else its headings place it: a period, a measure or
a ydelsesgruppe of the mapping, or, when its cells are text, another dimension (Køn, Alder, …)
whose rows must be its total.
"""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from sim.fitting.jobindsats_terms import (
    PERIOD_FORMS,
    Cell,
    JobindsatsError,
    Mapping,
    is_figure,
    jobindsats_period,
    looks_like_period,
    norm,
    text,
)

DIMENSIONS = {"område": "area", "kommune": "area", "jobcenter": "area", "ydelsesgrupper": "ydelse",
              "ydelsesgruppe": "ydelse", "ydelse": "ydelse", "ydelser": "ydelse", "periode": "period",
              "måling": "measure", "målinger": "measure"}
"""Header labels of the dimensions the observed format has a place for, by role."""
VALUE_LABELS = frozenset({"værdi", "værdier", "value"})
"""Headings of a long export's one value column (its measure is in a Måling column)."""


@dataclass(frozen=True, slots=True)
class Sheet:
    """A CSV file or an xlsx sheet: where it is (for messages) and its rows, by 1-based number."""

    where: str
    rows: list[tuple[int, list[Cell]]]


def read_sheets(path: Path) -> list[Sheet]:
    """The sheets of an export: a CSV's one, or every sheet of an xlsx."""
    if not path.is_file():
        raise JobindsatsError([f"{path}: no such file; give a Jobindsats export (CSV or xlsx)"])
    suffix = path.suffix.lower()
    if suffix == ".xls":
        raise JobindsatsError([f"{path}: an old-style .xls workbook; save it as .xlsx or CSV"])
    if suffix in (".xlsx", ".xlsm"):
        return _xlsx_sheets(path)
    raw = path.read_bytes()
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            content = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise JobindsatsError([f"{path}: neither UTF-8 nor Windows-1252 text; save the export as CSV"])
    reader = csv.reader(io.StringIO(content, newline=""), delimiter=_delimiter(content))
    try:
        rows: list[tuple[int, list[Cell]]] = [(n, [c.strip() for c in row])
                                              for n, row in enumerate(reader, start=1)]
    except csv.Error as exc:
        raise JobindsatsError([f"{path}: not a readable CSV ({exc})"]) from None
    return [Sheet(str(path), rows)]


def _delimiter(content: str) -> str:
    """The delimiter that splits a header line into a dimension label, else the commonest one."""
    for line in content.splitlines()[:200]:
        for delimiter in (";", "\t", ","):
            if any(norm(part.strip().strip('"')) in DIMENSIONS for part in line.split(delimiter)):
                return delimiter
    return max((";", "\t", ","), key=content.count)


def _xlsx_sheets(path: Path) -> list[Sheet]:
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        book = load_workbook(path, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError) as exc:
        raise JobindsatsError([f"{path}: not a readable xlsx workbook ({exc})"]) from None
    return [Sheet(f"{path}, sheet {sheet.title}",
                  [(n, [_xlsx_cell(v) for v in row])
                   for n, row in enumerate(sheet.iter_rows(min_row=1, values_only=True), start=1)])
            for sheet in book.worksheets]


def _xlsx_cell(value: object) -> Cell:
    if value is None:
        return ""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return str(value).strip()


@dataclass
class Column:
    """A column of figures and what its headings say: a period, a measure, a ydelsesgruppe."""

    index: int
    heading: str
    period: str | None = None
    measure: str | None = None
    ydelse: str | None = None


@dataclass
class Layout:
    """A sheet's title lines, header rows, dimension columns, columns of figures and data rows."""

    sheet: Sheet
    titles: list[str]
    header: tuple[int, int]
    dims: dict[str, int] = field(default_factory=dict)
    others: dict[int, str] = field(default_factory=dict)
    columns: list[Column] = field(default_factory=list)
    data: list[tuple[int, list[Cell]]] = field(default_factory=list)


def read_layout(path: Path, mapping: Mapping) -> Layout:
    """The layout of an export's first sheet that has a header row."""
    for sheet in read_sheets(path):
        layout = _layout(sheet, mapping)
        if layout is not None:
            return layout
    raise JobindsatsError([f"{path}: no header row: no cell reads Område, Ydelsesgrupper or Periode; "
                           "give the table as Jobindsats exports it"])


def _layout(sheet: Sheet, mapping: Mapping) -> Layout | None:
    rows = sheet.rows
    named = [{DIMENSIONS[norm(c)] for c in row if isinstance(c, str) and norm(c) in DIMENSIONS}
             for _, row in rows]
    # the row labels' row (Område, Ydelsesgrupper); a Periode over the figures is a caption of theirs
    label = next((i for i, roles in enumerate(named) if roles & {"area", "ydelse"}),
                 next((i for i, roles in enumerate(named) if roles), None))
    if label is None:
        return None
    width = max(len(row) for _, row in rows)
    cells = [row + [""] * (width - len(row)) for _, row in rows]
    dim_cols = {c for c, v in enumerate(cells[label]) if isinstance(v, str) and norm(v) in DIMENSIONS}

    def filled(i: int) -> set[int]:
        return {c for c, v in enumerate(cells[i]) if text(v)}

    def over_figures(i: int) -> bool:
        return bool(filled(i)) and filled(i).isdisjoint(dim_cols)

    first, last = label, label
    while first > 0 and over_figures(first - 1) and filled(first - 1) != {0}:
        first -= 1
    while last + 1 < len(rows) and over_figures(last + 1) and not any(
            isinstance(v, float) or is_figure(v) for v in cells[last + 1] if text(v)):
        last += 1
    headers = [[text(v) for v in cells[i]] for i in range(first, last + 1)]
    for row in headers[:-1]:  # merged cells of the upper header rows: carry the heading right
        carried = ""
        for c in range(width):
            carried = "" if c in dim_cols else (row[c] or carried)
            row[c] = row[c] or carried
    titles = [" ".join(text(v) for v in cells[i] if text(v)) for i in range(first) if filled(i)]
    layout = Layout(sheet, titles, (rows[first][0], rows[last][0]),
                    data=[(rows[i][0], cells[i]) for i in range(last + 1, len(rows))])
    where = f"{sheet.where}, row {rows[label][0]}"
    problems: list[str] = []
    for c in range(width):
        parts = [row[c] for row in headers if row[c]]
        if c in dim_cols:
            role = DIMENSIONS[norm(str(cells[label][c]))]
            if role in layout.dims:
                problems.append(f"{where}: two {cells[label][c]} columns")
            layout.dims[role] = c
            continue
        figures = any(text(row[c]) for _, row in layout.data)
        if not headers[-1][c] and not figures:
            continue  # past the table's edge: only a heading carried over from the left, no figures
        column = Column(c, " / ".join(parts))
        unplaced = [p for p in parts if not _place(p, column, mapping, problems, where)]
        if not parts:
            if figures:
                problems.append(f"{sheet.where}: column {c + 1} has figures but no heading")
        elif not unplaced:
            layout.columns.append(column)
        elif not all(is_figure(row[c]) for _, row in layout.data):
            layout.others[c] = parts[-1]  # text under it: a dimension such as Køn or Alder
        else:
            name = unplaced[0]
            problems.append(
                f'{where}: the heading "{name}" is neither a period ({PERIOD_FORMS}) nor in the mapping '
                f"{mapping.path}: add `{name}: <measure>` under measures: or, if it is a ydelsesgruppe, "
                f"`{name}: <state code>` under ydelsesgrupper: (either may be `{name}: skip`), and give "
                "the edited file with --mapping")
    if problems:
        raise JobindsatsError(problems)
    return layout


def _place(part: str, column: Column, mapping: Mapping, problems: list[str], where: str) -> bool:
    """Put one heading into its column as the period, measure or ydelsesgruppe; False if it is none."""
    if norm(part) in VALUE_LABELS or norm(part) in DIMENSIONS:  # Værdi, or a caption such as Periode
        return True
    if looks_like_period(part):
        kind = "period"
        if jobindsats_period(part) is None:
            problems.append(f'{where}: the heading "{part}" is not a Jobindsats period ({PERIOD_FORMS})')
    elif mapping.measure(part) is not None:
        kind = "measure"
    elif mapping.ydelse(part) is not None:
        kind = "ydelse"
    else:
        return False
    if getattr(column, kind) is not None:
        problems.append(f'{where}: the column "{column.heading}" has two {kind} headings')
    setattr(column, kind, part)
    return True
