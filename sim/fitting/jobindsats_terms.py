"""The terms of a Jobindsats export: its period codes, Danish numbers, and the mapping of its names.

Periods: `2024M01` → `2024-01`; `2024Q1` → `2024-01..2024-03`; `2024H1` → `2024-01..2024-06`;
`2024` and `2024Y01` → `2024`; `2024QMAT02` ("kvartal, MAT": a moving annual total by quarter,
the four quarters to the end of quarter 2, as VIVE's benchmark counts) → `2023-07..2024-06`,
and `2024QMAT04` → `2024`. Numbers are in Danish notation (`1.234,5`: a point separates
thousands, a comma decimals); `..`, `-` and empty cells hold no figure. The mapping (YAML,
`calibration/jobindsats_mapping.yaml`) turns ydelsesgrupper into state codes, `group:<g>` or
`total`, and measure headings into the observed format's measures, or skips them.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import yaml

from sim.contract.catalogue import CATALOGUE, GROUPS, TOTAL
from sim.contract.observed_terms import GROUP_PREFIX, is_measure
from sim.contract.yamlio import DuplicateKeyError, format_path, load_yaml

Cell = str | float
"""A cell as read: text (stripped), or a real number from an xlsx."""

SKIP = "skip"
"""The mapping's word for a ydelsesgruppe or measure to leave out."""
MAPPING_NAME = "jobindsats_mapping.yaml"
SHIPPED_MAPPING = Path(__file__).resolve().parents[2] / "calibration" / MAPPING_NAME
"""The default mapping of a caseflow checkout (`calibration/jobindsats_mapping.yaml`)."""
MISSING = frozenset({"", "..", "...", ".", "-", "–", "—", "x"})
"""Cells that hold no figure (Jobindsats writes `..` for a figure withheld, `-` for none)."""
PERIOD_FORMS = "2024M01, 2024Q1, 2024H1, 2024QMAT02, 2024 or 2024Y01"
MAX_PROBLEMS = 20
"""Problems listed before "… and N more"."""

_CODE = re.compile(r"^[a-z][a-z0-9_]*$")
_NUMBER = re.compile(r"^-?(?:\d{1,3}(?:\.\d{3})+|\d+)(?:,\d+)?$")
_PERIODISH = re.compile(r"^\d{4}(?:(?:QMAT|[A-Z])\d{1,2})?$")
_PERIOD = re.compile(r"^(\d{4})(?:(M|Q|H|Y|QMAT)(\d{1,2}))?$")


class JobindsatsError(ValueError):
    """An export or mapping that cannot be read; `problems` names each with its file and row."""

    def __init__(self, problems: list[str]) -> None:
        extra = len(problems) - MAX_PROBLEMS
        self.problems = problems[:MAX_PROBLEMS] + ([f"… and {extra} more"] if extra > 0 else [])
        super().__init__("\n".join(self.problems))


def norm(text: str) -> str:
    """Text as the mapping matches it: case folded, spaces collapsed, Danish letters composed."""
    return " ".join(unicodedata.normalize("NFC", text).casefold().split())


def text(cell: Cell) -> str:
    """A cell as text (an xlsx number without a trailing .0)."""
    if isinstance(cell, float):
        return str(int(cell)) if cell.is_integer() else repr(cell)
    return cell


def danish_number(cell: Cell) -> float | None:
    """A figure in Danish notation (`1.234,5`), an xlsx number as it is, or None when missing.

    Raises ValueError for anything else (`12.5`: a point separates thousands in Danish).
    """
    if isinstance(cell, float):
        return cell
    figure = cell.replace("\xa0", "").replace(" ", "").replace("−", "-")
    if figure.lower() in MISSING:
        return None
    if not _NUMBER.match(figure):
        raise ValueError(figure)
    return float(figure.replace(".", "").replace(",", "."))


def jobindsats_period(code: str) -> tuple[str, str] | None:
    """The observed period of a Jobindsats period code and how it was read, or None."""
    found = _PERIOD.match(code.strip().upper())
    if not found:
        return None
    year, kind, number = int(found[1]), found[2], int(found[3] or 0)

    def months(first: int, last: int, first_year: int = year) -> str:
        return f"{first_year}-{first:02d}..{year}-{last:02d}"

    if kind is None or (kind == "Y" and number == 1):
        return str(year), "a calendar year"
    if kind == "M" and 1 <= number <= 12:
        return f"{year}-{number:02d}", "a month"
    if kind == "Q" and 1 <= number <= 4:
        return months(3 * number - 2, 3 * number), f"quarter {number}"
    if kind == "H" and number in (1, 2):
        return months(6 * number - 5, 6 * number), f"half-year {number}"
    if kind == "QMAT" and 1 <= number <= 4:
        first = 3 * number + 1
        read = f"kvartal, MAT: the 12 months to the end of quarter {number}"
        return (str(year) if number == 4 else months(first, 3 * number, year - 1)), read
    return None


def is_figure(cell: Cell) -> bool:
    """Whether a cell is a number or a missing figure."""
    try:
        danish_number(cell)
    except ValueError:
        return False
    return True


def looks_like_period(heading: str) -> bool:
    """Whether a heading is written like a period code (`2024M01`), valid or not."""
    return bool(_PERIODISH.match(heading.strip().upper()))


# ---------------------------------------------------------------------------------------------
# The mapping


@dataclass(frozen=True)
class Mapping:
    """Ydelsesgrupper to state codes and measure headings to measures, by normalised name."""

    path: Path
    ydelsesgrupper: dict[str, str]
    measures: dict[str, str]

    def ydelse(self, name: str) -> str | None:
        return self.ydelsesgrupper.get(norm(name))

    def measure(self, label: str) -> str | None:
        """A heading's measure; `…: Faktisk antal` is also looked up by its last part."""
        key = norm(label)
        found = self.measures.get(key)
        if found is None and ":" in key:
            found = self.measures.get(key.rsplit(":", 1)[1].strip())
        return found

    def title_measure(self, titles: list[str]) -> tuple[str, str] | None:
        """The one measure the title lines name (`… (fuldtidspersoner)`) and the words that name it,
        or None if they name none or several."""
        found = {key: target for title in titles for key, target in self.measures.items()
                 if target != SKIP and re.search(rf"(?<!\w){re.escape(key)}(?!\w)", norm(title))}
        if len(set(found.values())) != 1:
            return None
        key = max(found, key=len)
        return found[key], key


def _state_ok(code: str) -> bool:
    if code.startswith(GROUP_PREFIX):
        return code[len(GROUP_PREFIX):] in GROUPS
    return code in (TOTAL, SKIP) or code in CATALOGUE or bool(_CODE.match(code))


def read_mapping(path: str | Path) -> Mapping:
    """Read a mapping file; every bad entry is named with its line."""
    path = Path(path)
    try:
        data, lines = load_yaml(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise JobindsatsError([f"{path}: no such mapping file"]) from None
    except (yaml.YAMLError, DuplicateKeyError, UnicodeDecodeError) as exc:
        raise JobindsatsError([f"{path}: not a readable YAML mapping ({exc})"]) from None
    if not isinstance(data, dict) or not isinstance(data.get("ydelsesgrupper"), dict):
        raise JobindsatsError([f"{path}: a mapping needs `ydelsesgrupper:` (name: code) "
                               "and may have `measures:` (heading: measure)"])
    problems: list[str] = []
    sections: dict[str, dict[str, str]] = {}
    for section in ("ydelsesgrupper", "measures"):
        entries = data.get(section) or {}
        sections[section] = {}
        if not isinstance(entries, dict):
            problems.append(f"{path}, line {lines.get((section,))}: {section}: must map names to codes")
            continue
        for name, code in entries.items():
            key = (section, str(name))
            where = f"{path}, line {lines.get(key)}: {format_path(key)}"
            good = (_state_ok(str(code)) if section == "ydelsesgrupper"
                    else str(code) == SKIP or is_measure(str(code)))
            if not isinstance(code, str) or not good:
                allowed = ("a state code (a_dagpenge), group:<g> with g one of " + ", ".join(GROUPS)
                           + f", {TOTAL} or {SKIP}") if section == "ydelsesgrupper" else \
                    f"a measure of calibration/README.md (full_year_persons, persons_count, …) or {SKIP}"
                problems.append(f"{where}: {code!r} is not {allowed}")
            elif norm(str(name)) in sections[section]:
                problems.append(f"{where}: named twice (names are matched without case or spacing)")
            else:
                sections[section][norm(str(name))] = code
    if problems:
        raise JobindsatsError(problems)
    return Mapping(path, sections["ydelsesgrupper"], sections["measures"])


def default_mapping(out: str | Path) -> Path | None:
    """`calibration/jobindsats_mapping.yaml` in the project `out` is written into, else the shipped one."""
    here = Path(out).resolve().parent
    for folder in (here, *here.parents):
        if (folder / "calibration" / MAPPING_NAME).is_file():
            return folder / "calibration" / MAPPING_NAME
    return SHIPPED_MAPPING if SHIPPED_MAPPING.is_file() else None


