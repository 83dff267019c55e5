"""The HTML report (report.html): one self-contained page, readable offline.

Charts are embedded as base64 PNG, the style sheet is inline, and nothing is fetched. The page
is assembled from section functions that each return an HTML fragment, and `table` renders any
table, so a comparison report can reuse the sections and add its own (differences with
intervals) without a second template.
"""

from __future__ import annotations

import base64
import math
from collections.abc import Sequence
from html import escape

import pandas as pd

from sim.contract.caseworker_spec import TEAM_SHARES
from sim.contract.catalogue import TOTAL
from sim.reports.charts import traffic_colour
from sim.reports.language import (
    Lang,
    capitalised,
    millions,
    month_name,
    number,
    percent,
    persons,
    probability_with_margin,
    state_label,
    term,
)
from sim.reports.rundata import RunData
from sim.reports.texts import precision_sentence, probability_note, spread_sentence, target_sentence

STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 2rem auto;
       max-width: 60rem; padding: 0 1rem; color: #1a202c; line-height: 1.4; }
h1 { margin-bottom: 0.2rem; } h2 { border-bottom: 1px solid #cbd5e0; padding-bottom: 0.2rem; }
.muted { color: #4a5568; font-size: 0.9rem; }
ul.targets { list-style: none; padding: 0; } ul.targets li { margin: 0.6rem 0; padding-left: 0.8rem;
  border-left: 0.35rem solid var(--light); }
.sentence { font-size: 1.1rem; font-variant-numeric: tabular-nums; }
figure { margin: 1rem 0; } img { max-width: 100%; height: auto; }
table { border-collapse: collapse; margin: 0.6rem 0 1.2rem; font-size: 0.9rem; }
th, td { padding: 0.25rem 0.6rem; border-bottom: 1px solid #e2e8f0; text-align: left; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.total td { font-weight: 600; }
"""


def image(png: bytes, alt: str, css_class: str, **data: str) -> str:
    """An <img> with the PNG inline as a data URI."""
    attrs = "".join(f' data-{k}="{escape(v)}"' for k, v in data.items())
    encoded = base64.b64encode(png).decode("ascii")
    return f'<img class="{css_class}"{attrs} alt="{escape(alt)}" src="data:image/png;base64,{encoded}">'


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], numeric: Sequence[bool],
          bold_first: str | None = None) -> str:
    """A plain HTML table of already formatted cells; `numeric` columns are right-aligned;
    a row whose first cell equals `bold_first` is shown in bold (the total)."""
    def cls(i: int) -> str:
        return ' class="n"' if numeric[i] else ""
    head = "".join(f"<th{cls(i)}>{escape(h)}</th>" for i, h in enumerate(headers))
    body = []
    for row in rows:
        tr = ' class="total"' if bold_first is not None and row[0] == bold_first else ""
        cells = "".join(f"<td{cls(i)}>{escape(c)}</td>" for i, c in enumerate(row))
        body.append(f"<tr{tr}>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def header_section(data: RunData, lang: Lang) -> str:
    """The scenario's name and how the run was made."""
    f = data.facts
    created = str(f.get("created", "?")).replace("T", " ")
    made = term("made_by", lang).format(runs=f.get("runs", "?"), seed=f.get("seed", "?"),
                                        version=f.get("caseflow_version", "?"), created=created)
    return f"<header><h1>{escape(data.name)}</h1><p class=\"muted\">{escape(made)}</p></header>"


def targets_section(data: RunData, bars_png: bytes | None, lang: Lang) -> str:
    """Each target as a sentence with its probability and the probability's 95 % margin, a note on
    what ± means and the runs a standard error of 0.02 would take, then the bar chart of
    probabilities."""
    rows = data.target_rows()
    out = [f"<section id=\"targets\"><h2>{escape(term('targets', lang))}</h2>"]
    if not rows:
        return out[0] + f"<p>{escape(term('no_targets', lang))}</p></section>"
    out.append('<ul class="targets">')
    for t in rows:
        sentence = escape(target_sentence(t, lang, data.state_specs, error=True) + probability_note(t, lang))
        light = traffic_colour(t.probability_met)
        out.append(f'<li style="--light: {light}"><strong>{escape(t.name)}</strong>'
                   f'<br><span class="sentence">{sentence}</span>'
                   f'<br><span class="muted">{escape(spread_sentence(t, lang))}</span></li>')
    out.append("</ul>")
    precision = precision_sentence(rows, lang)
    if precision:
        out.append(f'<p class="muted precision">{escape(precision)}</p>')
    if bars_png is not None:
        out.append(f"<figure>{image(bars_png, term('probability_axis', lang), 'probabilities')}</figure>")
    return "".join(out) + "</section>"


def assumptions_section(data: RunData, lang: Lang) -> str:
    """Each assumed value: its range around the scenario's value, its reason, and the targets it
    sets, with their probabilities at the low end, the scenario's value and the high end; '' when
    the check was not run."""
    frame = data.assumptions
    if frame is None or frame.empty:
        return ""
    reasons = {str(a.get("path")): str(a.get("reason", "")) for a in data.assumption_specs}
    headers = [term(k, lang) for k in ("path", "low", "point", "high", "reason", "sets_targets")]
    rows = []
    for path, part in frame.groupby("path", sort=False):
        first = part.iloc[0]
        sets = [f"{r['target']} (" + " / ".join(probability_with_margin(r[k], math.nan, lang)
                                              for k in ("p_low", "p_point", "p_high")) + ")"
                for r in part.to_dict("records") if r["sets_it"]]
        rows.append([str(path), *(_plain(first[k], lang) for k in ("low", "point", "high")),
                     reasons.get(str(path), ""), "; ".join(sets) or term("none", lang)])
    note = term("assumptions_explained", lang).format(runs=int(frame["runs"].iloc[0]))
    return (f"<section id=\"assumptions\"><h2>{escape(term('assumptions', lang))}</h2>"
            f"<p class=\"muted\">{escape(note)}</p>"
            + table(headers, rows, [False, True, True, True, False, False]) + "</section>")


def _plain(value: float, lang: Lang) -> str:
    """An assumed value as written: no trailing zeros (22, 0,045), in the report's decimal mark."""
    text = f"{float(value):g}"
    return text.replace(".", ",") if lang == "da" else text


def fans_section(data: RunData, fans: dict[str, bytes], lang: Lang) -> str:
    """One fan chart per state, the total first."""
    out = [f"<section id=\"forecast\"><h2>{escape(term('forecast', lang))}</h2>"]
    for state in (TOTAL, *data.states):
        if state in fans:
            label = capitalised(state_label(state, lang, data.state_specs))
            out.append(f"<figure>{image(fans[state], label, 'fan', state=state)}</figure>")
    return "".join(out) + "</section>"


def yearly_section(data: RunData, lang: Lang) -> str:
    """Full-year persons by state and year: mean with the 10–90 % range."""
    out = [f"<section id=\"yearly\"><h2>{escape(term('full_year_persons_title', lang))}</h2>"]
    years = sorted(set(data.yearly["year"]))
    if not years:
        return out[0] + f"<p>{escape(term('no_years', lang))}</p></section>"
    by = data.yearly.set_index(["state", "year"])
    headers = [term("state", lang)]
    for y in years:
        headers += [f"{y} {term('mean', lang).lower()}", f"{y} 10–90 %" if lang == "da" else f"{y} 10–90%"]
    rows = []
    for state in (*data.states, TOTAL):
        row = [state_label(state, lang, data.state_specs)]
        for y in years:
            mean, p10, p90 = (persons(round(by.loc[(state, y), q]), lang) for q in ("mean", "p10", "p90"))
            row += [mean, f"{p10}–{p90}"]
        rows.append(row)
    total = state_label(TOTAL, lang, data.state_specs)
    return "".join(out) + table(headers, rows, [False] + [True] * 2 * len(years), total) + "</section>"


def costs_section(data: RunData, lang: Lang) -> str:
    """Costs by year and state in DKK million, with the co-financing rate; '' without economics."""
    if data.costs is None:
        return ""
    yearly = data.yearly
    total = state_label(TOTAL, lang, data.state_specs)
    amounts = ("gross_dkk", "refund_dkk", "net_dkk")
    if "net_dkk" in yearly.columns and len(yearly):
        headers = [term("state", lang), term("year", lang),
                   *(term(k, lang).replace(", kr.", "").replace(", DKK", "") for k in amounts),
                   "10–90 %" if lang == "da" else "10–90%", term("cofinancing_rate", lang)]
        rows = []
        for year in sorted(set(yearly["year"])):
            part = yearly[yearly["year"] == year].set_index("state")
            for state in (*data.states, TOTAL):
                r = part.loc[state]
                rate = r["cofinancing_rate"]
                if pd.isna(r["net_dkk"]):
                    continue  # a year with actual months (caseflow track): the actuals have no money
                rows.append([state_label(state, lang, data.state_specs), str(year),
                             *(millions(r[k], lang) for k in amounts),
                             f"{millions(r['net_dkk_p10'], lang)}–{millions(r['net_dkk_p90'], lang)}",
                             "" if pd.isna(rate) else percent(rate, lang)])
        title = term("costs_title", lang)
        body = table(headers, rows, [False, False, True, True, True, True, True], total)
    else:
        monthly = data.costs[data.costs["state"] == TOTAL]
        headers = [term(k, lang) for k in ("month", "gross_dkk", "net_dkk", "cofinancing_rate")]
        rows = [[month_name(r["month"], lang), millions(r["gross_dkk"], lang), millions(r["net_dkk"], lang),
                 "" if pd.isna(r["cofinancing_rate"]) else percent(r["cofinancing_rate"], lang)]
                for r in monthly.to_dict("records")]
        title = term("costs_monthly_title", lang)
        body = table(headers, rows, [False, True, True, True])
    return f"<section id=\"costs\"><h2>{escape(title)}</h2>{body}</section>"


def programmes_section(data: RunData, lang: Lang) -> str:
    """Programme use by year: mean participants and queue, referrals, starts, lapses, wait, cost."""
    if data.programmes is None or data.programmes.empty:
        return ""
    frame = data.programmes.assign(year=data.programmes["month"].str[:4])
    counts = ("referrals", "starts", "lapsed", "declined")
    headers = [term(k, lang) for k in ("programme", "year", "participants", "queued", *counts,
                                       "mean_wait_days", "programme_cost")]
    rows = []
    for (name, year), part in frame.groupby(["programme", "year"], sort=False):
        starts = part["starts"].sum()
        wait = part["wait_days"].sum() / starts if starts else float("nan")
        rows.append([str(name), str(year), number(part["participants"].mean(), lang),
                     number(part["queued"].mean(), lang), *(number(part[k].sum(), lang, 0) for k in counts),
                     "" if pd.isna(wait) else number(wait, lang), millions(part["cost_dkk"].sum(), lang)])
    body = table(headers, rows, [False, False] + [True] * 8)
    return f"<section id=\"programmes\"><h2>{escape(term('programmes_title', lang))}</h2>{body}</section>"


def teams_section(data: RunData, lang: Lang) -> str:
    """Caseworker teams by year: meetings held, late and missed shares, hours used, first meetings
    within 14 days and Dragør's fokusmål; '' without teams."""
    if data.caseworkers is None or data.caseworkers.empty:
        return ""
    frame = data.caseworkers.assign(year=data.caseworkers["month"].str[:4])
    headers = [term(k, lang) for k in ("team", "year", "meetings_held", *TEAM_SHARES)]
    rows = []
    for (name, year), part in frame.groupby(["team", "year"], sort=False):
        cells = [str(name), str(year), number(part["held"].sum(), lang, 0)]
        for num, den in TEAM_SHARES.values():
            d = part[den].sum()
            cells.append(percent(part[num].sum() / d, lang) if d else "")
        rows.append(cells)
    body = table(headers, rows, [False, False] + [True] * 7)
    return f"<section id=\"teams\"><h2>{escape(term('teams_title', lang))}</h2>{body}</section>"


def footer_section(data: RunData, lang: Lang) -> str:
    """The command that made the run, so it can be repeated."""
    command = data.facts.get("command")
    if not command:
        return ""
    label = capitalised(term("command", lang))
    return f'<footer class="muted"><p>{escape(label)}: <code>{escape(str(command))}</code></p></footer>'


def page(title: str, lang: Lang, sections: Sequence[str]) -> str:
    """A complete HTML document around the given sections."""
    return (f'<!DOCTYPE html>\n<html lang="{lang}">\n<head>\n<meta charset="utf-8">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{escape(title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
            + "\n".join(s for s in sections if s) + "\n</body>\n</html>\n")


def build_html(data: RunData, fans: dict[str, bytes], bars_png: bytes | None, lang: Lang,
               extra: Sequence[str] = ()) -> str:
    """The run's report: header, targets, the assumptions checked, `extra` sections (a tracked
    forecast's path, `sim.reports.track`), fan charts, yearly table, costs and the command."""
    return page(f"{data.name} – caseflow", lang, [
        header_section(data, lang), targets_section(data, bars_png, lang), assumptions_section(data, lang),
        *extra, fans_section(data, fans, lang),
        yearly_section(data, lang), costs_section(data, lang), programmes_section(data, lang),
        teams_section(data, lang), footer_section(data, lang)])
