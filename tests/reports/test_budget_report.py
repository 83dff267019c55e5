"""The budget first, every cost in the workbook, the console in the report's language: each table
read back as a reader sees it (the HTML cells parsed as Danish numbers, the workbook's cells and
number formats, the console's text at 80 columns) and held against the run folder's CSVs."""

from __future__ import annotations

import io
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import pytest
from rich.console import Console

import sim
from sim.batch.runfolder import write_run
from sim.reports.build import HTML, WORKBOOK, write_reports
from sim.reports.console import print_summary
from sim.reports.rundata import load_run

SCENARIO: dict[str, Any] = {
    "name": "Budgetkommune 2018",
    "start": "2018-01-01",
    "months": 24,
    "seed": 9,
    "states": {"a_dagpenge": {}, "sygedagpenge": {}, "kontanthjaelp_jobparat": {},
               "kontanthjaelp_aktivitetsparat": {}, "fleksjob": {"label": "fleksjob & løntilskud"}},
    "initial": {"a_dagpenge": 120, "sygedagpenge": 90, "kontanthjaelp_jobparat": 60,
                "kontanthjaelp_aktivitetsparat": 80, "fleksjob": 50},
    "inflow_per_week": {"a_dagpenge": 4, "sygedagpenge": 7, "kontanthjaelp_jobparat": 2,
                        "kontanthjaelp_aktivitetsparat": 1.5},
    "transitions": {
        "a_dagpenge": [{"to": "job", "rate_per_week": 0.04}],
        "sygedagpenge": [{"to": "job", "mean_weeks": 10}, {"to": "fleksjob", "at_week": 30, "share": 0.2},
                         {"to": "other", "at_week": 30, "share": "rest"}],
        "kontanthjaelp_jobparat": [{"to": "job", "rate_per_week": 0.03}],
        "kontanthjaelp_aktivitetsparat": [{"to": "job", "rate_per_week": 0.02}],
        "fleksjob": [{"to": "pension", "rate_per_week": 0.004}],
    },
    "interventions": [{"name": "Jobsøgningskursus", "states": ["kontanthjaelp_jobparat"], "from_week": 8,
                       "places": 3, "duration_weeks": 2, "effects": {"during": {"job": 0.5}}}],
    "caseworkers": [{"team": "Jobteam", "states": ["kontanthjaelp_jobparat"], "headcount": 2,
                     "hours_per_week": 20, "hours_per_meeting": 1}],
    "targets": [
        {"name": "Sygedagpenge højst 60", "states": ["sygedagpenge"], "year": 2018, "at_most": 60},
        {"name": "<b>Netto</b> højst 70 mio.", "metric": "net_cost_dkk", "states": ["total"], "year": 2018,
         "at_most": 70e6},
    ],
    "observed": [
        {"period": 2018, "state": "a_dagpenge", "measure": "budget_full_year_persons", "value": 110},
        {"period": 2018, "state": "a_dagpenge", "measure": "budget_dkk", "value": 15_000_000},
        {"period": 2018, "state": "kontanthjaelp", "measure": "budget_full_year_persons", "value": 130},
        {"period": 2018, "state": "total", "measure": "budget_dkk", "value": 80_000_000},
        {"period": 2018, "state": "total", "measure": "refund_dkk", "value": 20_000_000},
        {"period": 2018, "state": "total", "measure": "net_dkk", "value": 60_000_000},
        {"period": "2018-06", "state": "total", "measure": "net_dkk", "value": 5_000_000},
    ],
    "economics": {"base_year": 2018},
}
PLAN = {("a_dagpenge", 2018): {"persons": 110, "gross": 15e6}, ("kontanthjaelp", 2018): {"persons": 130},
        ("total", 2018): {"gross": 80e6, "refund": 20e6, "net": 60e6}}
"""The plan's figures the budget must show (a month's figure is no year's budget)."""


def make_run(folder: Path, lang: str = "da", **changes: Any) -> Path:
    scenario = sim.scenario_from_dict({**SCENARIO, **changes})
    result = sim.run(scenario, runs=6, seed=9, workers=1, store_dir=folder / "store")
    write_run(result, folder, sim.__version__, "caseflow run budget.yaml", lang=lang)
    write_reports(folder, lang)
    return folder


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_run(tmp_path_factory.mktemp("budget") / "run")


class Tables(HTMLParser):
    """Every table of a page: its class and its rows of cell texts (headers included)."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[tuple[str, list[list[str]]]] = []
        self.sections: list[str] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self.tables.append((dict(attrs).get("class") or "", []))
        elif tag == "tr" and self.tables:
            self.tables[-1][1].append([])
        elif tag in ("td", "th"):
            self._cell = []
        elif tag == "section":
            self.sections.append(dict(attrs).get("id") or "")

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None:
            self.tables[-1][1][-1].append("".join(self._cell).strip())
            self._cell = None


def page_tables(path: Path) -> Tables:
    parser = Tables()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


def danish(text: str) -> float:
    """A number as a Danish reader reads it: '2.463,5' → 2463.5, '−1,2' → -1.2, '64,8 %' → 64.8."""
    return float(text.replace(".", "").replace(",", ".").replace("−", "-").replace("%", "").strip())


def test_the_page_opens_with_the_budget_and_its_price_year(run_dir: Path) -> None:
    html = (run_dir / HTML).read_text(encoding="utf-8")
    page = page_tables(run_dir / HTML)
    assert page.sections[:2] == ["budget", "targets"] and page.sections[-1] == "charts"
    assert html.index('id="budget"') < html.index("<img")
    assert "Beløb i 2018-priser." in html
    assert page.tables[0][0] == "budget"


def test_the_budget_table_equals_yearly_csv(run_dir: Path) -> None:
    yearly = pd.read_csv(run_dir / "yearly.csv").set_index(["year", "state"])
    data = load_run(run_dir)
    _, rows = page_tables(run_dir / HTML).tables[0]
    groups, headers, body = rows[0], rows[1], rows[2:]
    assert groups == ["", "Helårspersoner", "Brutto, mio. kr.", "Refusion, mio. kr.", "Netto, mio. kr.", ""]
    assert headers == ["Ydelse", "Prognose", "10–90 %", "Budget", "Prognose", "Budget", "Prognose", "Budget",
                       "Prognose", "10–90 %", "Budget", "Medfinansiering"]
    labels = {"A-dagpenge": "a_dagpenge", "Sygedagpenge": "sygedagpenge",
              "Kontanthjælp, jobparate": "kontanthjaelp_jobparat",
              "Kontanthjælp, aktivitetsparate": "kontanthjaelp_aktivitetsparat",
              "Fleksjob & løntilskud": "fleksjob", "Offentlig forsørgelse i alt": "total",
              "Kontanthjælp (budgetlinje)": "kontanthjaelp"}
    year, seen = 0, 0
    for row in body:
        if len(row) == 1:  # the year's heading row
            year = int(row[0])
            continue
        code = labels[row[0]]
        plan = PLAN.get((code, year), {})
        if code == "kontanthjaelp":  # a budget line over the states the plan budgets together
            parts = yearly.loc[[(year, "kontanthjaelp_jobparat"), (year, "kontanthjaelp_aktivitetsparat")]]
            assert danish(row[1]) == pytest.approx(parts["payment_mean"].sum(), abs=0.5)
            assert row[2] == "" and danish(row[3]) == plan["persons"]
            assert danish(row[4]) == pytest.approx(parts["gross_dkk"].sum() / 1e6, abs=0.05)
            continue
        csv = yearly.loc[(year, code)]
        assert danish(row[1]) == pytest.approx(csv["payment_mean"], abs=0.5)  # the budget's basis
        low, high = row[2].split("–")
        assert (danish(low), danish(high)) == pytest.approx((csv["payment_p10"], csv["payment_p90"]), abs=0.5)
        for cell, column in ((4, "gross_dkk"), (6, "refund_dkk"), (8, "net_dkk")):
            assert danish(row[cell]) == pytest.approx(csv[column] / 1e6, abs=0.05), (code, column)
        low, high = row[9].split("–")
        spread = (csv["net_dkk_p10"] / 1e6, csv["net_dkk_p90"] / 1e6)
        assert (danish(low), danish(high)) == pytest.approx(spread, abs=0.05)
        assert danish(row[11]) == pytest.approx(100 * csv["cofinancing_rate"], abs=0.05)
        for cell, column in ((3, "persons"), (5, "gross"), (7, "refund"), (10, "net")):
            shown = row[cell]
            if column in plan:
                scale = 1 if column == "persons" else 1e6
                assert danish(shown) == pytest.approx(plan[column] / scale, abs=0.05), (code, column)
            else:
                assert shown == "", (code, column)
        seen += 1
    assert seen == len(yearly) == 2 * (len(data.states) + 1)


def test_the_budget_sheet_equals_yearly_csv_with_its_formats(run_dir: Path) -> None:
    wb = openpyxl.load_workbook(run_dir / WORKBOOK)
    assert wb.sheetnames == ["Budget", "Oversigt", "Måneder", "År", "Udgifter", "Indsatser",
                             "Indsatser pr. år", "Sagsbehandlere", "Scenarie"]
    ws = wb["Budget"]
    header = [c.value for c in ws[1]]
    persons = "Helårspersoner (betalingsgrundlag)"
    assert header == [
        "År", "Ydelse", "Kode", persons, f"{persons} p10", f"{persons} p90", "Helårspersoner, budget",
        "Brutto, kr. (2018-priser)", "Brutto, budget", "Refusion, kr. (2018-priser)", "Refusion, budget",
        "Netto, kr. (2018-priser)", "Netto p10", "Netto p90", "Netto, budget", "Medfinansiering",
        "Medfinansiering p10", "Medfinansiering p90"]
    yearly = pd.read_csv(run_dir / "yearly.csv").set_index(["year", "state"])
    columns = {3: "payment_mean", 4: "payment_p10", 5: "payment_p90", 7: "gross_dkk", 9: "refund_dkk",
               11: "net_dkk", 12: "net_dkk_p10", 13: "net_dkk_p90", 15: "cofinancing_rate",
               16: "cofinancing_rate_p10", 17: "cofinancing_rate_p90"}
    plans = {6: "persons", 8: "gross", 10: "refund", 14: "net"}
    formats = {0: "0", 3: "#,##0.0", 6: "#,##0.0", 7: "#,##0", 11: "#,##0", 14: "#,##0", 15: "0.0 %"}
    lines = 0
    for cells in ws.iter_rows(min_row=2):
        values = [c.value for c in cells]
        year, code = values[0], values[2]
        for i, fmt in formats.items():
            assert cells[i].number_format == fmt, (header[i], cells[i].number_format)
        for i, column in plans.items():
            assert values[i] == PLAN.get((code, year), {}).get(column), (code, column)
        if code == "kontanthjaelp":
            continue
        for i, column in columns.items():
            assert values[i] == pytest.approx(yearly.loc[(year, code), column], rel=1e-12), (code, column)
        lines += 1
    assert lines == len(yearly)
    scenario = dict(list(wb["Scenarie"].iter_rows(values_only=True))[1:])
    assert scenario["prisår"] == "Beløb i 2018-priser."
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref


def test_the_year_sheet_holds_persons_and_the_costs_sheets_every_cost(run_dir: Path) -> None:
    wb = openpyxl.load_workbook(run_dir / WORKBOOK)
    year_header = [c.value for c in wb["År"][1]]
    assert not any("kr." in str(h) or "Medfinansiering" in str(h) for h in year_header)
    programmes = pd.read_csv(run_dir / "programmes.csv")
    rows = list(wb["Indsatser"].iter_rows(min_row=2, values_only=True))
    assert len(rows) == len(programmes)
    numbers = [c for c in programmes.columns if c not in ("month", "programme")]
    for row, (_, csv) in zip(rows, programmes.iterrows(), strict=True):
        assert (f"{row[0].year:04d}-{row[0].month:02d}", row[1]) == (csv["month"], csv["programme"])
        assert list(row[2:]) == pytest.approx([csv[c] for c in numbers], rel=1e-12)
    sheet = wb["Indsatser"]
    assert sheet["A2"].number_format == "[$-406]mmm yyyy"
    cost = [c.value for c in sheet[1]].index("Udgift, kr.")
    assert sheet.cell(row=2, column=cost + 1).number_format == "#,##0"
    by_year = programmes.assign(year=programmes["month"].str[:4].astype(int)).groupby(["programme", "year"])
    yearly = list(wb["Indsatser pr. år"].iter_rows(values_only=True))
    header, body = yearly[0], yearly[1:]
    assert len(body) == by_year.ngroups
    for row in body:
        part = by_year.get_group((row[1], row[0]))
        got = dict(zip(header, row, strict=True))
        assert got["Deltagere i gns."] == pytest.approx(part["participants"].mean())
        assert got["Starter"] == pytest.approx(part["starts"].sum())
        assert got["Udgift, kr."] == pytest.approx(part["cost_dkk"].sum())
        starts = part["starts"].sum()
        wait = got["Gns. ventetid, dage"]
        assert (wait is None and starts == 0) or wait == pytest.approx(part["wait_days"].sum() / starts)
    teams = pd.read_csv(run_dir / "caseworkers.csv")
    sheet = wb["Sagsbehandlere"]
    header = [c.value for c in sheet[1]]
    for name in ("Samtaler forfaldne", "Samtaler holdt", "Forsinkede samtaler", "Ikke holdte samtaler",
                 "Uden tilbud i 12 mdr. (≥ 12 mdr. anc.)"):
        assert name in header, name
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    held = header.index("Samtaler holdt")
    assert [r[held] for r in rows] == pytest.approx(list(teams["held"]))
    late = header.index("Forsinkede")
    assert sheet.cell(row=2, column=late + 1).number_format == "0.0 %"


def test_a_price_index_is_stated_as_current_prices(tmp_path: Path) -> None:
    folder = make_run(tmp_path / "index", economics={"base_year": 2017, "price_index_per_year": 0.02},
                      interventions=[], caseworkers=[])
    html = (folder / HTML).read_text(encoding="utf-8")
    assert "Beløb i løbende priser: 2017-niveau fremskrevet med 2,0 % om året." in html
    header = [c.value for c in openpyxl.load_workbook(folder / WORKBOOK)["Budget"][1]]
    assert "Brutto, kr. (løbende priser fra 2017)" in header


def test_text_from_the_folder_is_escaped(run_dir: Path) -> None:
    html = (run_dir / HTML).read_text(encoding="utf-8")
    assert "<b>Netto</b>" not in html and "&lt;b&gt;Netto&lt;/b&gt; højst 70 mio." in html
    assert "Fleksjob &amp; løntilskud" in html


def _printed(data: Any, lang: str | None = None, width: int = 80) -> str:
    out = io.StringIO()
    print_summary(data, Console(file=out, width=width), lang)
    return out.getvalue()


def test_the_console_speaks_the_reports_language_in_80_columns(run_dir: Path) -> None:
    data = load_run(run_dir)
    text = _printed(data)
    assert max(len(line) for line in text.splitlines()) <= 80
    tokens = set(re.findall(r"[^\s│]+", text))
    yearly = pd.read_csv(run_dir / "yearly.csv")
    for r in yearly.to_dict("records"):  # every number whole, in Danish
        persons = f"{round(r['payment_mean']):,}".replace(",", ".")
        net = f"{r['net_dkk'] / 1e6:.1f}".replace(".", ",")
        share = f"{100 * r['cofinancing_rate']:.1f}".replace(".", ",")
        assert {persons, net, share} <= tokens, (r["year"], r["state"], persons, net, share)
    assert "Kontanthjælp, jobparate" in " ".join(text.split()) and "kontanthjaelp_jobparat" not in text
    assert "Budgetkommune 2018: planens budget mod prognosen" in text
    assert "helårspersoner og udgifter i mio. kr., 2018-priser" in " ".join(text.split())
    english = _printed(data, "en")
    assert max(len(line) for line in english.splitlines()) <= 80
    assert "Social assistance, job-ready" in " ".join(english.split())
    total = yearly[(yearly["state"] == "total") & (yearly["year"] == 2018)].iloc[0]
    assert f"{round(total['payment_mean']):,}" in english
    assert "the plan's budget against the forecast" in english


def test_a_narrow_console_splits_a_table_rather_than_cut_a_number(run_dir: Path) -> None:
    data = load_run(run_dir)
    text = _printed(data, width=60)
    assert max(len(line) for line in text.splitlines()) <= 60
    assert "(2/2)" in text  # the budget table's columns did not fit beside the labels: split, not cut
    tokens = set(re.findall(r"[^\s│]+", text))
    total = pd.read_csv(run_dir / "yearly.csv").query("state == 'total' and year == 2019").iloc[0]
    assert f"{total['net_dkk'] / 1e6:.1f}".replace(".", ",") in tokens
