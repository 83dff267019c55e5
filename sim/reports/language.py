"""Language of the reports: words, labels, and numbers, percentages and dates in each locale.

Everything a report shows to people passes through here. Numbers, percentages, months and
timestamps are formatted by Babel in the report's locale (Danish `da_DK`, English `en_GB`), so
the separators, the percent pattern and the month names are CLDR's; the words are
`sim.reports.terms`. Files keep English code names and plain CSV numbers: only what a person
reads changes with the language. A minus is written "−" (U+2212) and the percent sign's no-break
space as a plain one, so that a reader's search for "62,3 %" finds it.

>>> number(1234.5, "da"), number(1234.5, "en"), percent(0.623, "da"), percent(0.623, "en")
('1.234,5', '1,234.5', '62,3 %', '62.3%')
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from functools import cache
from typing import Any, Literal

from babel import Locale
from babel.dates import format_date, format_time, get_datetime_format
from babel.numbers import format_decimal, format_percent

from sim.contract.catalogue import CATALOGUE, TOTAL
from sim.reports.terms import TERMS

Lang = Literal["da", "en"]
LANGS: tuple[Lang, ...] = ("da", "en")
"""The report languages; the first is the default."""

LOCALES: dict[Lang, str] = {"da": "da_DK", "en": "en_GB"}
"""The Babel (CLDR) locale of each report language."""

EXCEL_LOCALE: dict[Lang, str] = {"da": "[$-406]", "en": "[$-409]"}
"""Locale prefix of an Excel date format, so month names follow the report language (0x406 = Danish)."""

MINUS = "−"
NO_BREAK = "\u00a0"

_TOTAL_LABEL = ("offentlig forsørgelse i alt", "all public support")

_GROUP_LABELS: dict[str, tuple[str, str]] = {
    "dagpenge": ("dagpengegruppen", "the dagpenge group"),
    "sygedagpenge": ("sygedagpengegruppen", "the sygedagpenge group"),
    "kontanthjaelp": ("kontanthjælpsgruppen", "the kontanthjælp group"),
    "fleksjob": ("fleksjobgruppen", "the fleksjob group"),
}
"""Labels of the Jobindsats groups (a group's label differs from its namesake state's)."""


def term(key: str, lang: Lang) -> str:
    """A word or phrase of the reports in `lang`; unknown keys are returned unchanged."""
    pair = TERMS.get(key)
    return key if pair is None else pair[LANGS.index(lang)]


@cache
def _percent_pattern(lang: Lang, decimals: int) -> str:
    """The locale's percent pattern with `decimals` fixed decimals ('#,##0.0 %' in Danish)."""
    pattern = Locale.parse(LOCALES[lang]).percent_formats[None].pattern
    return pattern.replace("0", "0." + "0" * decimals, 1) if decimals else pattern


def _tidy(text: str) -> str:
    """Babel's output as the reports write it: a true minus, plain spaces."""
    return text.replace("-", MINUS).replace(NO_BREAK, " ").replace("\u202f", " ")


def number(value: float, lang: Lang, decimals: int = 1) -> str:
    """`value` with thousands separators and `decimals` decimals: 1.234,5 (da) or 1,234.5 (en); '–' for
    a value that is not a finite number."""
    value = float(value)
    if not math.isfinite(value):
        return "–"
    pattern = "#,##0" + ("." + "0" * decimals if decimals else "")
    return _tidy(format_decimal(value, format=pattern, locale=LOCALES[lang]))


def percent(share: float, lang: Lang, decimals: int = 1) -> str:
    """A share as a percentage: 0.623 → '62,3 %' (da) or '62.3%' (en); '–' when not a number."""
    share = float(share)
    if not math.isfinite(share):
        return "–"
    return _tidy(format_percent(share, format=_percent_pattern(lang, decimals), locale=LOCALES[lang]))


def plain(value: float, lang: Lang) -> str:
    """A number as a scenario writes it, without trailing zeros (33, 0,045, 1.234,5 in Danish), to
    six decimals; '–' when not a finite number."""
    value = float(value)
    if not math.isfinite(value):
        return "–"
    return _tidy(format_decimal(value, format="#,##0.######", locale=LOCALES[lang]))


def probability(p: float, lang: Lang) -> str:
    """A probability with two decimals, as the plans write it: 0,62 (da) or 0.62 (en)."""
    return number(p, lang, 2)


def probability_with_margin(p: float, margin: float, lang: Lang) -> str:
    """A probability with its ± margin, both with two decimals: '0,58 ± 0,07' (da) or '0.58 ± 0.07'
    (en); without a margin (NaN) the probability alone, and '–' for an undefined probability."""
    if not math.isfinite(p):
        return "–"
    if not math.isfinite(margin):
        return probability(p, lang)
    return f"{probability(p, lang)} ± {probability(margin, lang)}"


def persons(value: float, lang: Lang) -> str:
    """A count of (full-year) persons: whole, or with one decimal when that matters (509,5)."""
    value = float(value)
    if not math.isfinite(value):
        return "–"
    return number(value, lang, 0 if abs(value - round(value)) < 0.05 else 1)


def signed(value: float, lang: Lang, decimals: int = 1) -> str:
    """A difference with its sign: '+12', '−3,4' (da); zero (also after rounding) has none; NaN '–'."""
    if not math.isfinite(value):
        return "–"
    text = number(value, lang, decimals)
    if text.lstrip(MINUS).strip("0.,") == "":
        return text.lstrip(MINUS)
    return text if text.startswith(MINUS) else "+" + text


def millions(dkk: float, lang: Lang, decimals: int = 1) -> str:
    """DKK as millions: 12.345.678 → '12,3'; '–' when not a number."""
    return number(float(dkk) / 1e6, lang, decimals)


def month_date(label: str) -> dt.datetime:
    """'2018-03' → the month's first day (a real date for the workbook)."""
    year, month = label.split("-")
    return dt.datetime(int(year), int(month), 1)


def month_name(label: str, lang: Lang) -> str:
    """'2018-03' → 'mar. 2018' (da) or 'Mar 2018' (en): the locale's short month and the year."""
    return format_date(month_date(label), "LLL y", locale=LOCALES[lang])


def long_month_name(label: str, lang: Lang) -> str:
    """'2018-03' → 'marts 2018' (da) or 'March 2018' (en)."""
    return format_date(month_date(label), "MMMM y", locale=LOCALES[lang])


def timestamp(value: Any, lang: Lang) -> str:
    """run.json's `created` ('2025-01-02T13:05:00') as the locale writes a date and time
    ('2. jan. 2025 13.05'); the text as it is when it is not an ISO timestamp, '?' when missing."""
    if value is None:
        return "?"
    try:
        when = dt.datetime.fromisoformat(str(value))
    except ValueError:
        return str(value).replace("T", " ")
    locale = LOCALES[lang]
    joined = str(get_datetime_format("medium", locale=locale)).replace("'", "")
    return _tidy(joined.format(format_time(when, "short", locale=locale),
                               format_date(when, "medium", locale=locale)))


def state_label(code: str, lang: Lang, states: Mapping[str, Mapping[str, Any]] | None = None) -> str:
    """A state's name for people: the scenario's label, else the catalogue's, else the code.

    `states` is the scenario's `states` block (code → {group, label, label_en}); `label` is
    Danish, `label_en` English. A custom state with only a Danish label keeps it in English.
    """
    if code == TOTAL:
        return _TOTAL_LABEL[LANGS.index(lang)]
    spec = (states or {}).get(code) or {}
    entry = CATALOGUE.get(code)
    if lang == "en":
        candidates = [spec.get("label_en"), entry.label_en if entry else None, spec.get("label")]
    else:
        candidates = [spec.get("label"), entry.label_da if entry else None]
    return str(next((c for c in candidates if c), code))


def group_label(group: str, lang: Lang) -> str:
    """A Jobindsats group's name for people ('the sygedagpenge group'), else the code."""
    pair = _GROUP_LABELS.get(group)
    return group if pair is None else pair[LANGS.index(lang)]


def capitalised(text: str) -> str:
    """The first letter upper case, the rest untouched ('a-dagpenge' → 'A-dagpenge')."""
    return text[:1].upper() + text[1:]


def check_lang(lang: str) -> Lang:
    """`lang` as a `Lang`, or a ValueError naming the languages allowed."""
    if lang not in LANGS:
        raise ValueError(f"language {lang!r} is not available; use one of {', '.join(LANGS)}")
    return lang


def folder_lang(facts: Mapping[str, Any]) -> Lang:
    """The language a run folder's reports were first written in (run.json's `lang`), else Danish."""
    lang = facts.get("lang")
    return lang if lang in LANGS else LANGS[0]
