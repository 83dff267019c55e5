"""Language of the reports: Danish or English words, month names and number formats.

Everything a report shows to people passes through here, so a third language is one more
column in the tables below. Files keep English code names and plain CSV numbers; only the
workbook's labels and formats and the HTML's text change with the language.

>>> number(1234.5, "da"), number(1234.5, "en"), percent(0.623, "da"), percent(0.623, "en")
('1.234,5', '1,234.5', '62,3 %', '62.3%')
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from typing import Any, Literal

from sim.contract.catalogue import CATALOGUE, TOTAL

Lang = Literal["da", "en"]
LANGS: tuple[Lang, ...] = ("da", "en")
"""The report languages; the first is the default."""

_MONTHS: dict[Lang, tuple[str, ...]] = {
    "da": ("jan", "feb", "mar", "apr", "maj", "jun", "jul", "aug", "sep", "okt", "nov", "dec"),
    "en": ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
}

EXCEL_LOCALE: dict[Lang, str] = {"da": "[$-406]", "en": "[$-409]"}
"""Locale prefix of an Excel date format, so month names follow the report language (0x406 = Danish)."""

_TERMS: dict[str, tuple[str, str]] = {
    # sheet names and headings
    "summary": ("Oversigt", "Summary"),
    "monthly": ("Måneder", "Monthly"),
    "yearly": ("År", "Yearly"),
    "costs": ("Udgifter", "Costs"),
    "scenario": ("Scenarie", "Scenario"),
    "targets": ("Mål", "Targets"),
    "forecast": ("Prognose pr. ydelse", "Forecast by benefit"),
    "full_year_persons_title": ("Helårspersoner pr. år", "Full-year persons by year"),
    "costs_title": ("Udgifter pr. år (mio. kr.)", "Costs by year (DKK million)"),
    "programmes_title": ("Indsatser pr. år", "Programmes by year"),
    "teams_title": ("Sagsbehandlere og fokusmål pr. år", "Caseworkers and fokusmål by year"),
    "team": ("Team", "Team"),
    "meetings_held": ("Samtaler holdt", "Meetings held"),
    "meetings_late_share": ("Forsinkede", "Late"),
    "meetings_missed_share": ("Ikke holdt", "Missed"),
    "utilisation": ("Udnyttelse", "Utilisation"),
    "first_meeting_within_14_days_share": ("1. samtale ≤ 14 dage", "First meeting ≤ 14 days"),
    "fokus_no_offer_share": ("Uden tilbud i 12 mdr. (≥ 12 mdr. anc.)",
                             "No offer in 12 months (≥ 12 months' seniority)"),
    "fokus_few_meetings_share": ("< 4 samtaler i 12 mdr. (≥ 12 mdr. anc.)",
                     "< 4 meetings in 12 months (≥ 12 months' seniority)"),
    "programme": ("Indsats", "Programme"),
    "participants": ("Deltagere i gns.", "Participants (mean)"),
    "queued": ("I kø i gns.", "Queue (mean)"),
    "referrals": ("Henvisninger", "Referrals"),
    "starts": ("Starter", "Starts"),
    "lapsed": ("Bortfaldet i kø", "Lapsed in queue"),
    "declined": ("Takket nej", "Declined"),
    "mean_wait_days": ("Gns. ventetid, dage", "Mean wait, days"),
    "programme_cost": ("Udgift, mio. kr.", "Cost, DKK million"),
    "costs_monthly_title": ("Udgifter pr. måned, i alt (mio. kr.)", "Costs by month, total (DKK million)"),
    "no_targets": ("Scenariet har ingen mål.", "The scenario has no targets."),
    "no_years": ("Horisonten dækker intet helt kalenderår; se månedstallene.",
                 "The horizon covers no full calendar year; see the monthly figures."),
    # columns
    "target": ("Mål", "Target"),
    "metric": ("Måleenhed", "Metric"),
    "sense": ("Retning", "Sense"),
    "threshold": ("Grænse", "Threshold"),
    "probability_met": ("Sandsynlighed for at nå målet", "Probability met"),
    "mean": ("Middel", "Mean"),
    "sd": ("Spredning", "SD"),
    "month": ("Måned", "Month"),
    "year": ("År", "Year"),
    "state": ("Ydelse", "Benefit"),
    "code": ("Kode", "Code"),
    "gross_dkk": ("Brutto, kr.", "Gross, DKK"),
    "refund_dkk": ("Refusion, kr.", "Refund, DKK"),
    "net_dkk": ("Netto, kr.", "Net, DKK"),
    "net_dkk_p10": ("Netto p10, kr.", "Net p10, DKK"),
    "net_dkk_p90": ("Netto p90, kr.", "Net p90, DKK"),
    "cofinancing_rate": ("Medfinansiering", "Co-financing"),
    "cofinancing_rate_p10": ("Medfinansiering p10", "Co-financing p10"),
    "cofinancing_rate_p90": ("Medfinansiering p90", "Co-financing p90"),
    "key": ("Nøgle", "Key"),
    "value": ("Værdi", "Value"),
    # senses and metrics
    "at_most": ("højst", "at most"),
    "at_least": ("mindst", "at least"),
    "full_year_persons": ("helårspersoner", "full-year persons"),
    "net_cost_dkk": ("nettoudgift", "net cost"),
    "gross_cost_dkk": ("bruttoudgift", "gross cost"),
    "cofinancing_rate_metric": ("medfinansiering", "co-financing"),
    "mean_duration_weeks": ("gennemsnitlig varighed i uger", "mean duration in weeks"),
    # run facts
    "runs": ("kørsler", "runs"),
    "run": ("kørsel", "run"),
    "seed": ("seed", "seed"),
    "version": ("caseflow-version", "caseflow version"),
    "created": ("kørt", "run on"),
    "command": ("kommando", "command"),
    # charts
    "band_90": ("5–95 %", "5–95%"),
    "band_80": ("10–90 %", "10–90%"),
    "median": ("median", "median"),
    "observed": ("observeret", "observed"),
    "full_time_persons": ("fuldtidspersoner pr. måned", "full-time persons per month"),
    "probability_axis": ("sandsynlighed for at nå målet", "probability of meeting the target"),
    "median_range": ("median {p50} (10–90 %: {p10}–{p90})", "median {p50} (10–90%: {p10}–{p90})"),
    "made_by": ("{runs} kørsler, seed {seed}, caseflow {version}, {created}",
                "{runs} runs, seed {seed}, caseflow {version}, {created}"),
    "million": ("mio. kr.", "DKK million"),
    # a probability's Monte Carlo error
    "margin_note": ("± dækker sandsynlighedens 95 %-interval (Wilson) over kørslerne.",
                    "± covers the probability's 95% interval (Wilson) over the runs."),
    "runs_for_002": ("En standardfejl på ±{se} kræver ca. {needed} {runs}.",
                     "A standard error of ±{se} would take about {needed} {runs}."),
    "precision": ("præcision", "precision"),
    "all_certain": ("Alle sandsynligheder er 0 eller 1 i disse kørsler, så kun intervallet viser "
                    "usikkerheden.",
                    "Every probability is 0 or 1 in these runs, so only the interval shows the "
                    "uncertainty."),
    # named assumptions (the assumption check of caseflow run)
    "set_by": ("afgøres af {paths}", "set by {paths}"),
    "base_assumed": ("antaget basis", "base assumed"),
    "note": ("Bemærkning", "Note"),
    "assumptions": ("Antagelser", "Assumptions"),
    "assumptions_explained": (
        "Værdier, planerne ikke giver. Hvert måls sandsynlighed er fundet ved hver antagelses lave og "
        "høje ende, én ad gangen, på de samme {runs} kørsler (fælles tilfældige tal). En antagelse "
        "afgør et mål, når sandsynligheden inden for intervallet krydser 0,5 (eller går fra under "
        "0,1 til over 0,9).",
        "Values the plans do not give. Each target's probability was found at the low and the high "
        "end of each assumption, one at a time, on the same {runs} runs (common random numbers). An "
        "assumption sets a target when the probability crosses 0.5 within the range (or goes from "
        "below 0.1 to above 0.9)."),
    "path": ("Sti", "Path"),
    "low": ("Lav", "Low"),
    "point": ("Scenariets værdi", "Scenario's value"),
    "high": ("Høj", "High"),
    "reason": ("Begrundelse", "Reason"),
    "p_low": ("Sandsynlighed ved lav", "Probability at low"),
    "p_point": ("Sandsynlighed ved scenariets værdi", "Probability at the scenario's value"),
    "p_high": ("Sandsynlighed ved høj", "Probability at high"),
    "sets_it": ("Afgør målet", "Sets the target"),
    "sets_targets": ("Afgør (sandsynlighed ved lav / scenariets værdi / høj)",
                     "Sets (probability at low / scenario's value / high)"),
    "yes": ("ja", "yes"),
    "no": ("nej", "no"),
    "none": ("intet mål", "no target"),
    # comparison report (caseflow compare)
    "base": ("Basis", "Base"),
    "variant": ("Variant", "Variant"),
    "comparison_title": ("{variant} sammenlignet med {base}", "{variant} compared with {base}"),
    "paired_by": ("{runs} parrede kørsler med fælles tilfældige tal, seed {seed}, caseflow {version}, "
                  "{created}",
                  "{runs} paired runs on common random numbers, seed {seed}, caseflow {version}, {created}"),
    "difference_explained": (
        "Forskellen er variant − basis: middel over kørselsparrene, med middelværdiens 95 %-interval. "
        "5–95 % er spredningen af de enkelte kørslers forskelle.",
        "The difference is variant − base: the mean over the paired runs, with the 95% interval of "
        "that mean. 5–95% is the spread of the single runs' differences."),
    "differences_title": ("Forskelle pr. mål", "Differences by target"),
    "paths_title": ("Basis og variant pr. ydelse", "Base and variant by benefit"),
    "yearly_difference_title": ("Helårspersoner pr. år: basis, variant og forskel",
                                "Full-year persons by year: base, variant and difference"),
    "net_difference_title": ("Nettoudgift pr. år (mio. kr.): basis, variant og forskel",
                             "Net cost by year (DKK million): base, variant and difference"),
    "changes_title": ("Hvad varianten ændrer", "What the variant changes"),
    "no_changes": ("Basis og variant har de samme input.", "Base and variant have the same inputs."),
    "scenarios": ("Scenarier", "Scenarios"),
    "difference": ("Forskel", "Difference"),
    "difference_se": ("Standardfejl", "Standard error"),
    "difference_low95": ("95 %-interval fra", "95% interval from"),
    "difference_high95": ("95 %-interval til", "95% interval to"),
    "difference_p05": ("Forskel p05", "Difference p05"),
    "difference_p50": ("Forskel p50", "Difference p50"),
    "difference_p95": ("Forskel p95", "Difference p95"),
    "base_mean": ("Basis, middel", "Base, mean"),
    "variant_mean": ("Variant, middel", "Variant, mean"),
    "base_probability_met": ("Basis, sandsynlighed", "Base, probability met"),
    "variant_probability_met": ("Variant, sandsynlighed", "Variant, probability met"),
    "interval_95": ("95 %-interval", "95% interval"),
    "to": ("til", "to"),
    "difference_sentence": ("{variant}: {question} {p_base} → {p_variant}; forskel {difference} {unit} "
                            "(95 %-interval {low} til {high})",
                            "{variant}: {question} {p_base} → {p_variant}; difference {difference} {unit} "
                            "(95% interval {low} to {high})"),
    "difference_spread": ("middel {base} → {variant}; de enkelte kørslers forskel 5–95 %: {p05} til {p95}",
                          "mean {base} → {variant}; single runs' difference 5–95%: {p05} to {p95}"),
    "difference_axis": ("forskel, variant − basis", "difference, variant − base"),
    "percentage_points": ("procentpoint", "percentage points"),
    "persons_unit": ("helårspersoner", "full-year persons"),
}

_TOTAL_LABEL = ("offentlig forsørgelse i alt", "all public support")

_GROUP_LABELS: dict[str, tuple[str, str]] = {
    "dagpenge": ("dagpengegruppen", "the dagpenge group"),
    "sygedagpenge": ("sygedagpengegruppen", "the sygedagpenge group"),
    "kontanthjaelp": ("kontanthjælpsgruppen", "the kontanthjælp group"),
    "fleksjob": ("fleksjobgruppen", "the fleksjob group"),
}
"""Labels of the Jobindsats groups (a group's label differs from its namesake state's)."""


_TERMS |= {f"payment_{k}": (f"{_TERMS.get(k, (k, k))[0]} (betalingsgrundlag)",
                             f"{_TERMS.get(k, (k, k))[1]} (payment basis)")
           for k in ("mean", "sd", "p05", "p10", "p50", "p90", "p95")}
"""The payment-basis statistics of monthly.csv and yearly.csv, named after their Jobindsats twins."""


def term(key: str, lang: Lang) -> str:
    """A word or phrase of the reports in `lang`; unknown keys are returned unchanged."""
    pair = _TERMS.get(key)
    return key if pair is None else pair[LANGS.index(lang)]


def number(value: float, lang: Lang, decimals: int = 1) -> str:
    """`value` with thousands separators and `decimals` decimals: 1.234,5 (da) or 1,234.5 (en)."""
    text = f"{value:,.{decimals}f}"
    if lang == "da":
        text = text.replace(",", "\0").replace(".", ",").replace("\0", ".")
    return text.replace("-", "−")


def percent(share: float, lang: Lang, decimals: int = 1) -> str:
    """A share as a percentage: 0.623 → '62,3 %' (da, with a space) or '62.3%' (en)."""
    return number(100.0 * share, lang, decimals) + (" %" if lang == "da" else "%")


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
    return number(value, lang, 0 if abs(value - round(value)) < 0.05 else 1)


def signed(value: float, lang: Lang, decimals: int = 1) -> str:
    """A difference with its sign: '+12', '−3,4' (da); zero (also after rounding) has none; NaN '–'."""
    if not math.isfinite(value):
        return "–"
    text = number(value, lang, decimals)
    if text.lstrip("−").strip("0.,") == "":
        return text.lstrip("−")
    return text if text.startswith("−") else "+" + text


def millions(dkk: float, lang: Lang) -> str:
    """DKK as millions with one decimal: 12.345.678 → '12,3'."""
    return number(dkk / 1e6, lang, 1)


def month_name(label: str, lang: Lang) -> str:
    """'2018-03' → 'mar 2018' (da) or 'Mar 2018' (en)."""
    year, month = label.split("-")
    return f"{_MONTHS[lang][int(month) - 1]} {year}"


def month_date(label: str) -> dt.datetime:
    """'2018-03' → the month's first day (a real date for the workbook)."""
    year, month = label.split("-")
    return dt.datetime(int(year), int(month), 1)


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
