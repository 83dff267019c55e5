"""Sentences and values by metric: how a target reads in a report.

`target_sentence` gives the plan's question and its answer in one line, e.g.
"P(højst 509 helårspersoner på sygedagpenge i 2018) = 0,62".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sim.reports.language import (
    Lang,
    group_label,
    millions,
    percent,
    persons,
    probability,
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
}


def amount(metric: str, value: float, lang: Lang) -> str:
    """A metric's value without unit words: persons, a percentage, or DKK millions."""
    if metric == "cofinancing_rate" or metric.endswith("_share"):
        return percent(value, lang)
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


def target_sentence(t: TargetRow, lang: Lang, specs: Mapping[str, Mapping[str, Any]] | None = None) -> str:
    """'P(højst 509 helårspersoner på sygedagpenge i 2018) = 0,62' for one target."""
    template = _TEMPLATES.get((t.metric, lang), "{sense} {amount} ({metric}) {where}{year}")
    year = "" if t.year is None else (f" i {t.year}" if lang == "da" else f" in {t.year}")
    question = template.format(sense=term(t.sense, lang), amount=amount(t.metric, t.threshold, lang),
                               where=where(t.states, t.groups, lang, specs), year=year, metric=t.metric)
    return f"P({question}) = {probability(t.probability_met, lang)}"


def spread_sentence(t: TargetRow, lang: Lang) -> str:
    """'median 504 (10–90 %: 492–525)' for one target's simulated values."""
    whole = t.metric == "full_year_persons"
    values = {q: value_text(t.metric, round(getattr(t, q)) if whole else getattr(t, q), lang)
              for q in ("p10", "p50", "p90")}
    return term("median_range", lang).format(**values)


def metric_name(metric: str, lang: Lang) -> str:
    """A metric's name for people: 'helårspersoner', 'medfinansiering', …"""
    return term("cofinancing_rate_metric" if metric == "cofinancing_rate" else metric, lang)
