"""The what-if page as a Dash app: a scenario picker, a slider for each lever, each target's
probability with its error, the total's fan chart, and the variant saved as an overlay or run as
a full report.

Dash keeps the page in Python (no JavaScript of ours), serves its own scripts (the page works
with no network), and runs on Flask, so the page's files and the outputs folder come from one
server. The page polls its desk three times a second for the answer so far; it never blocks on a run.
"""

from __future__ import annotations

import math
import uuid
from pathlib import Path
from typing import Any

import flask
from dash import ALL, Dash, Input, Output, State, dcc, html, no_update
from dash.development.base_component import Component

from sim.batch.points import Values
from sim.batch.whatif import Answer, Lever
from sim.reports.language import (
    Lang,
    capitalised,
    number,
    plain,
    probability_with_margin,
    signed,
    state_label,
    term,
)
from sim.reports.texts import interval_margin, value_text
from sim.serve.desk import Desk, Reply
from sim.serve.export import ExportError
from sim.serve.figures import fan_figure

POLL_MS = 300
"""How often the page asks for the answer so far."""
OUTPUTS_ROUTE = "/outputs/"
"""Where the page serves the outputs folder's files (saved overlays, reports) from."""
STYLE = """
body { font-family: system-ui, sans-serif; margin: 1.5rem; color: #222; }
.columns { display: grid; grid-template-columns: minmax(320px, 1fr) 2fr; gap: 2rem; }
.lever { margin: 0.4rem 0 1rem; }
.lever label { display: block; font-size: 0.9rem; margin-bottom: 0.2rem; }
.lever.changed label { font-weight: 600; }
fieldset { border: 1px solid #ddd; border-radius: 6px; margin-bottom: 1rem; }
table.targets { border-collapse: collapse; width: 100%; }
table.targets td, table.targets th { border-bottom: 1px solid #eee; padding: 0.35rem 0.5rem; }
table.targets td.number { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
.refusal { color: #a00; white-space: pre-wrap; }
.status { color: #555; margin: 0.5rem 0; }
.note { color: #666; font-size: 0.85rem; }
.export { margin-top: 1rem; display: flex; gap: 0.5rem; align-items: center; flex-wrap: wrap; }
"""


def lever_label(lever: Lever, states: dict[str, Any], lang: Lang) -> str:
    """How a lever reads on the page: the state of an inflow, a programme and what of it, …"""
    if lever.kind == "inflow":
        return capitalised(state_label(lever.subject, lang, states))
    if lever.kind == "caseworkers":
        return f"{lever.subject}: {term('page_headcount', lang)}"
    if lever.kind == "programme":
        parts = lever.field.split(".")
        if parts[0] == "effects":
            what = f"{term('page_' + parts[1], lang)} {state_label(parts[2], lang, states)}"
        else:
            what = term(f"page_{lever.field}", lang)
        return f"{lever.subject}: {what}"
    return lever.path


def _step(lever: Lever) -> float:
    """A slider's step: 1 for whole numbers, else a round number giving 100–1,000 steps."""
    if lever.whole:
        return 1.0
    return float(10 ** math.floor(math.log10((lever.high - lever.low) / 100)))


def levers_panel(desk: Desk, key: str, lang: Lang) -> list[Component]:
    """A fieldset of sliders for each kind of lever, each starting at the scenario's value."""
    states = desk.scenarios[key].model_dump(mode="json")["states"]
    out: list[Component] = []
    for kind in ("inflow", "programme", "caseworkers", "assumption"):
        chosen = [x for x in desk.levers(key) if x.kind == kind]
        if not chosen:
            continue
        rows = []
        for lever in chosen:
            why = lever.reason or term(f"page_source_{lever.source}", lang)
            hint = term("page_range", lang).format(low=plain(lever.low, lang), high=plain(lever.high, lang),
                                                   value=plain(lever.value, lang), reason=why)
            about: list[Component] = []
            if kind == "assumption":
                about = [html.Div(_first_sentence(lever.reason), className="note")]
            rows.append(html.Div(className="lever", title=hint, children=[
                html.Label(lever_label(lever, states, lang)), *about,
                dcc.Slider(id={"type": "lever", "key": key, "path": lever.path}, min=lever.low,
                           max=lever.high, step=_step(lever), value=lever.value, updatemode="mouseup",
                           marks={lever.low: plain(lever.low, lang), lever.high: plain(lever.high, lang)}),
            ]))
        out.append(html.Fieldset([html.Legend(term(f"page_{kind}", lang)), *rows]))
    return out


def _first_sentence(text: str, most: int = 140) -> str:
    """The first sentence of a reason (cut at `most` characters), for a line under its lever."""
    first = text.split(". ")[0].strip()
    return first if len(first) <= most else first[: most - 1].rstrip() + "…"


def targets_table(desk: Desk, key: str, answer: Answer | None, lang: Lang) -> list[Component]:
    """Each target's probability at the variant, its interval, the scenario's, the change and the
    mean of the target's value (persons, a share, DKK) over the variant's runs."""
    head = html.Tr([html.Th(term(k, lang)) for k in ("page_target", "page_probability", "page_interval",
                                                        "page_base", "page_change", "page_mean")])
    rows: list[Component] = [head]
    for k, target in enumerate(desk.scenarios[key].targets):
        if answer is None:
            cells = ["…"] * 5
        else:
            p, low, high, mean = answer.probability[k], answer.low[k], answer.high[k], answer.value[k]
            cells = [probability_with_margin(p, interval_margin(p, low, high), lang),
                     f"{number(low, lang, 2)}–{number(high, lang, 2)}" if math.isfinite(p) else "–",
                     probability_with_margin(answer.base[k], math.nan, lang),
                     _change(answer.change[k], answer.change_se[k], lang) if answer.point else "–",
                     value_text(target.metric, mean, lang) if math.isfinite(mean) else "–"]
        rows.append(html.Tr([html.Td(target.name), *(html.Td(c, className="number") for c in cells)],
                            id={"type": "target", "index": k}))
    return rows


def _change(change: float, se: float, lang: Lang) -> str:
    if not math.isfinite(change):
        return "–"
    text = signed(change, lang, 2)
    return f"{text} ± {number(se, lang, 2)}" if math.isfinite(se) else text


def status_line(reply: Reply | None, lang: Lang) -> str:
    if reply is None or (reply.answer is None and reply.working):
        return term("page_waiting", lang)
    if reply.refusal:
        return term("page_refused", lang)
    if reply.error:
        return f"{term('page_failed', lang)}: {reply.error}"
    assert reply.answer is not None
    runs = term("page_runs", lang).format(runs=reply.answer.runs, most=reply.answer.most)
    return f"{runs}, {term('page_refining' if reply.working else 'page_final', lang)}"


def changed_line(desk: Desk, key: str, point: Values, lang: Lang) -> str:
    """What the answer is for: each lever moved, from the scenario's value to the one set."""
    if not point:
        return f"{term('page_changed', lang)}: – ({term('page_unchanged', lang)})"
    states = desk.scenarios[key].model_dump(mode="json")["states"]
    by_path = {x.path: x for x in desk.levers(key)}
    parts = []
    for path, value in point:
        lever = by_path.get(path)
        label = lever_label(lever, states, lang) if lever is not None else path
        was = f"{plain(lever.value, lang)} → " if lever is not None else ""
        parts.append(f"{label}: {was}{plain(value, lang)}")
    return f"{term('page_changed', lang)}: " + "; ".join(parts)


def _values(values: list[Any], ids: list[dict[str, str]]) -> tuple[str | None, dict[str, float]]:
    """The page's scenario key and lever values (a slider left empty keeps the scenario's value)."""
    key = ids[0]["key"] if ids else None
    return key, {i["path"]: float(v) for i, v in zip(ids, values, strict=True) if isinstance(v, int | float)}


def _link(desk: Desk, path: Path) -> str:
    return OUTPUTS_ROUTE + path.resolve().relative_to(desk.outputs.resolve()).as_posix()


def make_app(desk: Desk, lang: Lang = "da") -> Dash:
    """The page's Dash app, its callbacks bound to `desk`."""
    app = Dash(__name__, title="caseflow", update_title="", serve_locally=True)
    app.index_string = app.index_string.replace("{%css%}", "{%css%}<style>" + STYLE + "</style>")

    @app.server.route(OUTPUTS_ROUTE + "<path:name>")
    def outputs(name: str) -> flask.Response:
        return flask.send_from_directory(desk.outputs.resolve(), name)

    def layout() -> Component:
        first = next(iter(desk.files))
        options = [{"label": desk.scenarios[k].name, "value": k} for k in desk.files]
        return html.Div([
            dcc.Store(id="page", data=uuid.uuid4().hex),
            dcc.Store(id="shown", data=""),
            html.H1(term("page_title", lang)),
            html.P(term("page_intro", lang), className="note"),
            html.Label([term("page_scenario", lang),
                        dcc.Dropdown(id="scenario", options=options, value=first, clearable=False)]),
            html.Div(className="columns", children=[
                html.Div([html.H2(term("page_levers", lang)),
                          html.Button(term("page_reset", lang), id="reset"),
                          html.Div(id="levers")]),
                html.Div([
                    html.Div(id="status", className="status"),
                    html.Div(id="refusal", className="refusal", role="alert"),
                    html.Table(id="targets", className="targets"),
                    html.H3(term("page_fan_title", lang)),
                    dcc.Graph(id="fan", figure=fan_figure(None, [], lang), config={"displaylogo": False}),
                    html.P(term("page_note", lang), className="note"),
                    html.Div(className="export", children=[
                        html.Label([term("page_name", lang), " ", dcc.Input(id="variant-name", type="text",
                                                                             debounce=True, size="40")]),
                        html.Button(term("page_save", lang), id="save"),
                        html.Button(term("page_report", lang), id="report"),
                    ]),
                    html.Div(id="saved", className="status"),
                    html.Div(id="report-message", className="status"),
                    html.Div(id="report-status", className="status"),
                ]),
            ]),
            dcc.Interval(id="tick", interval=POLL_MS),
        ])

    app.layout = layout

    @app.callback(Output("levers", "children"), Output("variant-name", "value"),
                  Input("scenario", "value"), Input("reset", "n_clicks"))
    def show_levers(key: str, _reset: int | None) -> tuple[list[Component], str]:
        name = f"{desk.scenarios[key].name}, {term('page_what_if', lang)}"
        return levers_panel(desk, key, lang), name

    @app.callback(Output("refusal", "children"),
                  Input({"type": "lever", "key": ALL, "path": ALL}, "value"),
                  State({"type": "lever", "key": ALL, "path": ALL}, "id"), State("page", "data"))
    def ask(values: list[Any], ids: list[dict[str, str]], page: str) -> Any:
        key, chosen = _values(values, ids)
        if key is None:
            return no_update
        reply = desk.ask(page, key, chosen)
        return f"{term('page_refused', lang)}: {reply.refusal}" if reply.refusal else ""

    @app.callback(Output("status", "children"), Output("targets", "children"), Output("fan", "figure"),
                  Output("shown", "data"), Output("report-status", "children"),
                  Input("tick", "n_intervals"), State("page", "data"), State("shown", "data"))
    def tick(_n: int | None, page: str, shown: str) -> tuple[Any, ...]:
        report = report_status(desk, page, lang)
        reply, asked = desk.reply(page), desk.point(page)
        if reply is None or asked is None:
            return term("page_waiting", lang), no_update, no_update, shown, report
        answer = reply.answer
        stamp = f"{reply.asked}:{answer.runs if answer else 0}:{reply.working}:{reply.refusal}:{reply.error}"
        if stamp == shown:
            return no_update, no_update, no_update, shown, report
        key, point = asked
        months = desk.whatif(key).months
        status = [html.Div(status_line(reply, lang)), html.Div(changed_line(desk, key, point, lang)),
                  html.Span(stamp, id="stamp", hidden=True)]
        return (status, targets_table(desk, key, answer, lang),
                fan_figure(answer, months, lang) if answer is not None else no_update, stamp, report)

    @app.callback(Output("saved", "children"), Input("save", "n_clicks"), State("variant-name", "value"),
                  State({"type": "lever", "key": ALL, "path": ALL}, "value"),
                  State({"type": "lever", "key": ALL, "path": ALL}, "id"), prevent_initial_call=True)
    def save(_n: int | None, name: str, values: list[Any], ids: list[dict[str, str]]) -> Any:
        key, chosen = _values(values, ids)
        if key is None:
            return no_update
        try:
            path = desk.save(key, name or desk.scenarios[key].name, chosen)
        except ExportError as exc:
            return html.Span(str(exc), className="refusal")
        return [f"{term('page_saved', lang)}: ", html.A(str(path), id="saved-path", href=_link(desk, path),
                                                         download=path.name)]

    @app.callback(Output("report-message", "children"), Input("report", "n_clicks"),
                  State("variant-name", "value"), State({"type": "lever", "key": ALL, "path": ALL}, "value"),
                  State({"type": "lever", "key": ALL, "path": ALL}, "id"), State("page", "data"),
                  prevent_initial_call=True)
    def report(_n: int | None, name: str, values: list[Any], ids: list[dict[str, str]], page: str) -> Any:
        key, chosen = _values(values, ids)
        if key is None:
            return no_update
        try:
            job = desk.report(page, key, name or desk.scenarios[key].name, chosen)
        except ExportError as exc:
            return html.Span(str(exc), className="refusal")
        return [f"{term('page_saved', lang)}: ", html.A(str(job.overlay), href=_link(desk, job.overlay),
                                                         download=job.overlay.name)]

    return app


def report_status(desk: Desk, page: str, lang: Lang) -> Any:
    """The page's full report: running (with its seconds), ready (a link) or failed (why)."""
    job = desk.report_job(page)
    if job is None:
        return ""
    if not job.done:
        return term("page_report_running", lang).format(seconds=round(job.seconds()))
    if job.returncode == 0 and job.report.exists():
        return [f"{term('page_report_done', lang)}: ",
                html.A(str(job.folder), id="report-link", href=_link(desk, job.report), target="_blank")]
    return html.Span(f"{term('page_report_failed', lang)}: {job.error}", className="refusal")
