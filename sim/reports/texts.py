"""Sentences and values by metric: how a target reads in a report.

`target_sentence` gives the plan's question and its answer in one line, e.g.
"P(højst 509 helårspersoner på sygedagpenge i 2018) = 0,62", or with the probability's Monte Carlo
error "… = 0,62 ± 0,07". The ± margin is the distance from the probability to the farther bound of
its Wilson 95 % interval (targets.csv's probability_low95/high95), rounded up to two decimals, so
p ± margin covers the whole interval, also at p = 0 and p = 1 where the standard error is 0.
`precision_sentence` says what ± means and how many runs a standard error of 0.02 would take.
`probability_note` follows the probability wherever it is shown: which assumed values set the
target ("· afgøres af inflow_per_week.sygedagpenge.rate") and whether its base is assumed
("· antaget basis"); nothing for a run folder without those columns.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from sim.reports.language import (
    Lang,
    group_label,
    long_month_name,
    millions,
    number,
    percent,
    persons,
    probability,
    probability_with_margin,
    signed,
    state_label,
    term,
)
from sim.reports.rundata import TargetRow

_TEMPLATES: dict[tuple[str, Lang], str] = {
    ("full_year_persons", "da"): "{sense} {amount} helårspersoner på {where}{year}",
    ("full_year_persons", "en"): "{sense} {amount} full-year persons on {where}{year}",
    ("cofinancing_rate", "da"): "medfinansiering {sense} {amount} på {where}{year}",
    ("cofinancing_rate", "en"): "co-financing {sense} {amount} on {where}{year}",
    ("net_cost_dkk", "da"): "nettoudgift {sense} {amount} mio. kr. på {where}{year}",
    ("net_cost_dkk", "en"): "net cost {sense} DKK {amount} million on {where}{year}",
    ("gross_cost_dkk", "da"): "bruttoudgift {sense} {amount} mio. kr. på {where}{year}",
    ("gross_cost_dkk", "en"): "gross cost {sense} DKK {amount} million on {where}{year}",
    ("full_time_persons", "da"): "{sense} {amount} fuldtidspersoner på {where}{year}",
    ("full_time_persons", "en"): "{sense} {amount} full-time persons on {where}{year}",
    ("mean_duration_weeks", "da"): "gennemsnitlig varighed {sense} {amount} uger på {where} for forløb "
                                   "startet{year}",
    ("mean_duration_weeks", "en"): "mean duration {sense} {amount} weeks on {where} for spells started{year}",
}
"""Sentences by metric; a month's full_year_persons reads as full-time persons (the month's average)."""

def amount(metric: str, value: float, lang: Lang) -> str:
    """A metric's value without unit words: persons, a percentage, or DKK millions."""
    if metric == "cofinancing_rate" or metric.endswith("_share"):
        return percent(value, lang)
    if metric == "mean_duration_weeks":
        return number(value, lang, 1)
    if metric.endswith("_dkk"):
        return millions(value, lang)
    return persons(value, lang)


def value_text(metric: str, value: float, lang: Lang) -> str:
    """A metric's value as a table shows it: '2.463', '74,3 %' or '12,3 mio. kr.'."""
    text = amount(metric, value, lang)
    return f"{text} {term('million', lang)}" if metric.endswith("_dkk") else text


def where(states: tuple[str, ...], groups: tuple[str, ...], lang: Lang,
          specs: Mapping[str, Mapping[str, Any]] | None = None) -> str:
    """The states and groups a target covers, joined: 'a-dagpenge og sygedagpenge'."""
    names = [state_label(s, lang, specs) for s in states] + [group_label(g, lang) for g in groups]
    if len(names) <= 1:
        return names[0] if names else "?"
    return ", ".join(names[:-1]) + (" og " if lang == "da" else " and ") + names[-1]


def period_text(year: int | None, month: str | None, lang: Lang) -> str:
    """' i 2018', ' i januar 2021' (da) or ' in 2018', ' in January 2021' (en); '' for neither."""
    if month:
        label = long_month_name(month, lang)
    elif year is not None:
        label = str(year)
    else:
        return ""
    return f" i {label}" if lang == "da" else f" in {label}"


def base_text(t: TargetRow, lang: Lang) -> str:
    """' (−2,6 % i forhold til 2017)' or ' (−250 i forhold til 2021)' for a change or difference
    target (the threshold is the base plus the change); '' for an absolute one."""
    if t.base is None or (t.change is None and t.difference is None):
        return ""
    base = period_text(None, t.base, lang).split(" ", 2)[-1] if "-" in t.base else t.base
    if t.change is not None:
        amount_text = signed(100.0 * t.change, lang) + (" %" if lang == "da" else "%")
    else:
        assert t.difference is not None
        amount_text = signed(t.difference, lang, 0 if float(t.difference).is_integer() else 1)
    relative = "i forhold til" if lang == "da" else "relative to"
    return f" ({amount_text} {relative} {base})"


def interval_margin(p: float, low: float, high: float) -> float:
    """How far an interval (low, high) reaches from the probability p, on the farther side, rounded
    up to two decimals (0.0612 → 0.07); NaN when any of them is not known."""
    if not all(math.isfinite(x) for x in (p, low, high)):
        return math.nan
    return math.ceil(round(100.0 * max(p - low, high - p), 9)) / 100.0


def margin_95(t: TargetRow) -> float:
    """The `interval_margin` of a target's probability within its Wilson 95 % interval."""
    return interval_margin(t.probability_met, t.probability_low95, t.probability_high95)


def probability_text(t: TargetRow, lang: Lang) -> str:
    """A target's probability with its margin: '0,58 ± 0,07'; the probability alone without one."""
    return probability_with_margin(t.probability_met, margin_95(t), lang)


def target_notes(t: TargetRow, lang: Lang) -> list[str]:
    """What a reader must know beside the probability: the assumed values that set the target
    ('afgøres af inflow_per_week.sygedagpenge.rate') and an assumed base ('antaget basis')."""
    notes = []
    if t.set_by_assumption:
        notes.append(term("set_by", lang).format(paths=t.set_by_assumption))
    if t.base_source == "assumed":
        notes.append(term("base_assumed", lang))
    return notes


def probability_note(t: TargetRow, lang: Lang) -> str:
    """`target_notes` to follow the probability: ' · afgøres af … · antaget basis'; '' for none."""
    return "".join(f" · {note}" for note in target_notes(t, lang))


def runs_needed(rows: list[TargetRow]) -> int | None:
    """The runs that would give every target's probability a standard error of 0.02: the largest
    runs_for_002 (defined replications) scaled up by the share of runs where the value is
    defined. A probability of 0 or 1 is left out (its estimated standard error is 0 however few
    the runs, so its runs_for_002 of 1 says nothing); None when no target is left."""
    needed = [math.ceil(round(t.runs_for_002 / (1.0 - t.undefined_share), 9)) for t in rows
              if math.isfinite(t.runs_for_002) and t.undefined_share < 1.0
              and 0.0 < t.probability_met < 1.0]
    return max(needed) if needed else None


def about(count: int) -> int:
    """A count rounded to two significant figures, halves up (2401 → 2400, 625 → 630); below
    100 unchanged."""
    if count < 100:
        return count
    step = 10 ** (len(str(count)) - 2)
    return (count + step // 2) // step * step


def precision_sentence(rows: list[TargetRow], lang: Lang) -> str:
    """'± dækker sandsynlighedens 95 %-interval (Wilson) over kørslerne. En standardfejl på ±0,02
    kræver ca. 630 kørsler.' for a run's targets: the runs are `runs_needed`, rounded by `about`;
    when every probability is 0 or 1 the second sentence says so instead ('' when no target's
    error is known)."""
    if not any(math.isfinite(margin_95(t)) for t in rows):
        return ""
    needed = runs_needed(rows)
    if needed is None:
        return term("margin_note", lang) + " " + term("all_certain", lang)
    shown = about(needed)
    runs = term("run" if shown == 1 else "runs", lang)
    return term("margin_note", lang) + " " + term("runs_for_002", lang).format(
        se=probability(0.02, lang), needed=number(shown, lang, 0), runs=runs)


def target_sentence(t: TargetRow, lang: Lang, specs: Mapping[str, Mapping[str, Any]] | None = None,
                    error: bool = False) -> str:
    """'P(højst 509 helårspersoner på sygedagpenge i 2018) = 0,62' for one target ('= 0,62 ± 0,07'
    with `error`: the probability's 95 % margin, see `margin_95`); a month's persons are full-time
    persons, a mean duration is in weeks of the spells started in the period, min_weeks names the
    spell length counted, and a change or difference names its base."""
    key = "full_time_persons" if t.metric == "full_year_persons" and t.month else t.metric
    template = _TEMPLATES.get((key, lang), "{sense} {amount} ({metric}) {where}{year}")
    places = where(t.states, t.groups, lang, specs)
    if t.min_weeks is not None:
        weeks = number(t.min_weeks, lang, 0 if float(t.min_weeks).is_integer() else 1)
        places += (f" i mere end {weeks} uger af forløbet" if lang == "da"
                   else f" beyond week {weeks} of their spell")
    question = template.format(sense=term(t.sense, lang), amount=amount(t.metric, t.threshold, lang),
                               where=places, year=period_text(t.year, t.month, lang), metric=t.metric)
    answer = probability_text(t, lang) if error else probability(t.probability_met, lang)
    return f"P({question}{base_text(t, lang)}) = {answer}"


def spread_sentence(t: TargetRow, lang: Lang) -> str:
    """'median 504 (10–90 %: 492–525)' for one target's simulated values; for a mean duration,
    also the share of spells the horizon cut short (their weeks count only up to it)."""
    if not math.isfinite(t.p50):
        return ""  # undefined in every replication: nothing simulated to show
    whole = t.metric == "full_year_persons"
    values = {q: value_text(t.metric, round(getattr(t, q)) if whole else getattr(t, q), lang)
              for q in ("p10", "p50", "p90")}
    text = term("median_range", lang).format(**values)
    if t.metric == "mean_duration_weeks" and math.isfinite(t.censored_share):
        share = percent(t.censored_share, lang)
        text += (f"; {share} af forløbene er ikke afsluttet ved horisontens slut og tæller kun med "
                 "til den, så den fulde varighed er længere" if lang == "da" else
                 f"; {share} of the spells are still open at the end of the horizon and count only up "
                 "to it, so the full mean is longer") if t.censored_share > 0 else \
            (" (alle forløb afsluttet inden horisontens slut)" if lang == "da"
             else " (every spell ended within the horizon)")
    return text


def metric_name(metric: str, lang: Lang) -> str:
    """A metric's name for people: 'helårspersoner', 'medfinansiering', …"""
    return term("cofinancing_rate_metric" if metric == "cofinancing_rate" else metric, lang)


def layer_quantity(quantity: str, lang: Lang) -> str:
    """A quantity of layers.csv for people: '2018 total full-year persons' → '2018: helårspersoner i
    alt'; a target's name as it is."""
    year, _, rest = quantity.partition(" ")
    if year.isdigit() and rest == "total full-year persons":
        return term("yearly_total", lang).format(year=year)
    return quantity
