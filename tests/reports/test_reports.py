"""Reports: report.xlsx and report.html written beside the CSVs, and rebuilt from the folder alone."""

from __future__ import annotations

import shutil
import time
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import numpy as np
import openpyxl
import pandas as pd
import pytest
from typer.testing import CliRunner

import sim
from sim.batch.runfolder import write_run
from sim.cli.app import app
from sim.contract.catalogue import TOTAL
from sim.reports.build import CHARTS, HTML, TARGETS_CHART, WORKBOOK, write_reports
from sim.reports.charts import draw_fan, fan_series
from sim.reports.language import month_name, number, percent, probability, state_label
from sim.reports.rundata import load_run
from sim.reports.texts import target_sentence

runner = CliRunner()

SCENARIO: dict[str, Any] = {
    "name": "Lille kommune 2018",
    "start": "2018-01-01",
    "months": 24,
    "seed": 7,
    "states": {"a_dagpenge": {}, "sygedagpenge": {"label": "sygedagpenge (egen)"}, "fleksjob": {}},
    "initial": {"a_dagpenge": 120, "sygedagpenge": 80, "fleksjob": 60},
    "inflow_per_week": {"a_dagpenge": 4, "sygedagpenge": 6},
    "transitions": {
        "a_dagpenge": [{"to": "job", "rate_per_week": 0.04}],
        "sygedagpenge": [{"to": "job", "mean_weeks": 10}, {"to": "fleksjob", "at_week": 30, "share": 0.2},
                         {"to": "other", "at_week": 30, "share": "rest"}],
        "fleksjob": [{"to": "pension", "rate_per_week": 0.004}],
    },
    "targets": [
        {"name": "Sygedagpenge højst 60", "states": ["sygedagpenge"], "year": 2018, "at_most": 60},
        {"name": "Fald på 2 %", "states": ["total"], "year": 2018, "change_at_most": -0.02},
        {"name": "Medfinansiering højst 70 %", "metric": "cofinancing_rate", "states": ["total"],
         "year": 2018, "at_most": 0.70},
    ],
    "observed": [{"period": 2017, "state": "total", "value": 255},
                 {"period": "2017-12", "state": "a_dagpenge", "value": 118}],
    "economics": {"base_year": 2018},
}


def make_run(folder: Path, lang: str = "da", **changes: Any) -> Path:
    """A small fixed-seed run written to `folder` (reports included), as `caseflow run` does."""
    scenario = sim.scenario_from_dict({**SCENARIO, **changes})
    result = sim.run(scenario, runs=6, seed=7, workers=1, store_dir=folder / "store")
    write_run(result, folder, sim.__version__, "caseflow run lille.yaml", lang=lang)
    write_reports(folder, lang)
    return folder


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_run(tmp_path_factory.mktemp("reports") / "run")


class Images(HTMLParser):
    """Collects every <img>'s attributes and the <html> element's language."""

    def __init__(self) -> None:
        super().__init__()
        self.images: list[dict[str, str | None]] = []
        self.lang: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "img":
            self.images.append(dict(attrs))
        elif tag == "html":
            self.lang = dict(attrs).get("lang")


def parse_html(path: Path) -> Images:
    parser = Images()
    parser.feed(path.read_text(encoding="utf-8"))
    parser.close()
    return parser


def sheet_rows(path: Path, sheet: str) -> list[tuple[Any, ...]]:
    return list(openpyxl.load_workbook(path)[sheet].iter_rows(values_only=True))


def as_month(value: Any) -> str:
    return f"{value.year:04d}-{value.month:02d}"


def test_a_run_writes_workbook_html_and_charts_that_parse(run_dir: Path) -> None:
    wb = openpyxl.load_workbook(run_dir / WORKBOOK)
    assert wb.sheetnames == ["Budget", "Oversigt", "Måneder", "År", "Udgifter", "Scenarie"]
    for ws in wb:
        assert ws.freeze_panes == "A2"
    states = ["a_dagpenge", "sygedagpenge", "fleksjob"]
    page = parse_html(run_dir / HTML)
    assert page.lang == "da"
    fans = [img for img in page.images if img.get("class") == "fan"]
    assert sorted(str(img["data-state"]) for img in fans) == sorted([TOTAL, *states])
    assert sum(img.get("class") == "probabilities" for img in page.images) == 1
    assert all(str(img["src"]).startswith("data:image/png;base64,") for img in page.images)  # offline
    for name in [*states, TOTAL]:
        assert (run_dir / CHARTS / f"{name}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (run_dir / CHARTS / TARGETS_CHART).is_file()
    text = (run_dir / HTML).read_text(encoding="utf-8")
    assert "P(højst 60 helårspersoner på sygedagpenge (egen) i 2018) = " in text
    assert 'id="budget"' in text and "Beløb i 2018-priser." in text
    assert text.index('id="budget"') < text.index('id="targets"') < text.index("<img")


def test_fan_chart_draws_the_quantiles_of_monthly_csv(run_dir: Path) -> None:
    monthly = pd.read_csv(run_dir / "monthly.csv")
    data = load_run(run_dir)
    for state in ("sygedagpenge", TOTAL):
        series = fan_series(data, state, "da")
        rows = monthly[monthly["state"] == state]
        assert list(series.months) == list(rows["month"])
        for q in ("p05", "p10", "p50", "p90", "p95"):
            np.testing.assert_array_equal(series.quantiles[q], rows[q].to_numpy())
        ax = draw_fan(series, "da").axes[0]
        median = next(line for line in ax.get_lines() if line.get_gid() == "median")
        np.testing.assert_array_equal(median.get_ydata(), rows["p50"].to_numpy())
        bands = [c.get_paths()[0].vertices[:, 1] for c in ax.collections]
        for band, (lo, hi) in zip(bands, (("p05", "p95"), ("p10", "p90")), strict=True):
            assert set(rows[lo]) | set(rows[hi]) <= set(band)
    targets = pd.read_csv(run_dir / "targets.csv")
    syge = fan_series(data, "sygedagpenge", "da")
    assert [(s.first, s.last, s.value) for s in syge.targets] == [("2018-01", "2018-12", 60.0)]
    total = fan_series(data, TOTAL, "da")
    assert [(s.first, s.last, s.value) for s in total.observed] == [("2017-01", "2017-12", 255.0)]
    assert total.targets[0].value == targets.loc[1, "threshold"] == pytest.approx(255 * 0.98)
    dagpenge = fan_series(data, "a_dagpenge", "da")
    assert [(s.first, s.last, s.value) for s in dagpenge.observed] == [("2017-12", "2017-12", 118.0)]
    assert dagpenge.targets == ()


def test_danish_and_english_formats() -> None:
    assert number(1234.5, "da") == "1.234,5"
    assert number(1234.5, "en") == "1,234.5"
    assert number(1234567.891, "da", 2) == "1.234.567,89"
    assert percent(0.623, "da") == "62,3 %"
    assert percent(0.623, "en") == "62.3%"
    assert probability(0.62, "da") == "0,62"
    assert month_name("2018-05", "da") == "maj 2018" and month_name("2018-03", "da") == "mar. 2018"
    assert month_name("2018-10", "en") == "Oct 2018"
    assert number(-0.5, "da") == "−0,5" and number(float("nan"), "da") == "–"
    specs = {"sygedagpenge": {"label": "sygedagpenge i Tårnby"}}
    assert state_label("sygedagpenge", "da", specs) == "sygedagpenge i Tårnby"
    assert state_label("sygedagpenge", "en", specs) == "sickness benefit"
    assert state_label("kontanthjaelp", "da") == "kontanthjælp"
    assert state_label("my_state", "en", {"my_state": {"label": "min ydelse"}}) == "min ydelse"


def test_target_sentence_reads_like_the_plan(run_dir: Path) -> None:
    rows = load_run(run_dir).target_rows()
    targets = pd.read_csv(run_dir / "targets.csv")
    p = number(targets.loc[0, "probability_met"], "da", 2)
    assert target_sentence(rows[0], "da") == f"P(højst 60 helårspersoner på sygedagpenge i 2018) = {p}"
    english = "P(at most 60 full-year persons on sickness benefit in 2018)"
    assert target_sentence(rows[0], "en").startswith(english)
    assert target_sentence(rows[2], "da").startswith("P(medfinansiering højst 70,0 % på offentlig")


def test_workbook_values_equal_the_csvs(run_dir: Path) -> None:
    book = run_dir / WORKBOOK
    summary = sheet_rows(book, "Oversigt")
    targets = pd.read_csv(run_dir / "targets.csv")
    assert len(summary) == 1 + len(targets)
    for row, (_, t) in zip(summary[1:], targets.iterrows(), strict=True):
        assert row[0] == t["target"]
        numbers = (t["threshold"], t["probability_met"], t["mean"], t["p10"], t["p50"], t["p90"])
        assert all(isinstance(v, int | float) for v in row[3:])  # numbers, not text
        assert row[3:] == pytest.approx(numbers, rel=1e-14)
    persons = ["mean", "sd", "p05", "p10", "p50", "p90", "p95"]
    for sheet, csv, period in (("Måneder", "monthly", "month"), ("År", "yearly", "year"),
                               ("Udgifter", "costs", "month")):
        rows = sheet_rows(book, sheet)
        frame = pd.read_csv(run_dir / f"{csv}.csv")
        stats = [c for c in frame.columns[2:] if sheet != "År" or c in persons or c.startswith("payment_")]
        got = pd.DataFrame(rows[1:], columns=[period, "label", "state", *stats])
        if period == "month":
            got["month"] = got["month"].map(as_month)
        got = got.drop(columns="label").sort_values([period, "state"]).reset_index(drop=True)
        want = frame[got.columns].sort_values([period, "state"]).reset_index(drop=True)
        pd.testing.assert_frame_equal(got, want, check_dtype=False, rtol=1e-14)
    wb = openpyxl.load_workbook(book)
    assert wb["Udgifter"]["I2"].number_format == "0.0 %"  # co-financing as a percentage
    assert wb["Måneder"]["D2"].number_format == "#,##0.0"  # thousands separators
    assert wb["Oversigt"].conditional_formatting  # traffic lights on P(met)
    scenario = dict(sheet_rows(book, "Scenarie")[1:])
    assert scenario["seed"] == 7 and scenario["kørsler"] == 6
    assert scenario["caseflow-version"] == sim.__version__
    assert scenario["initial.a_dagpenge"] == 120
    assert scenario["transitions.sygedagpenge[1].at_week"] == 30


def test_report_verb_rebuilds_from_the_folder_alone(run_dir: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(run_dir, copy, ignore=shutil.ignore_patterns("store", CHARTS, WORKBOOK, HTML))
    result = runner.invoke(app, ["report", str(copy)])
    assert result.exit_code == 0, result.output
    wb_before, wb_after = (openpyxl.load_workbook(d / WORKBOOK) for d in (run_dir, copy))
    assert wb_before.sheetnames == wb_after.sheetnames
    for ws in wb_before:
        assert list(ws.values) == list(wb_after[ws.title].values), ws.title
    assert (copy / HTML).read_text(encoding="utf-8") == (run_dir / HTML).read_text(encoding="utf-8")
    assert (copy / CHARTS / "total.png").is_file()


def test_report_verb_errors_and_language(run_dir: Path, tmp_path: Path) -> None:
    missing = runner.invoke(app, ["report", str(tmp_path)])
    assert missing.exit_code == 1 and "monthly.csv is missing" in missing.output
    copy = tmp_path / "en"
    shutil.copytree(run_dir, copy, ignore=shutil.ignore_patterns("store"))
    danish = (copy / HTML).read_bytes(), (copy / CHARTS / "total.png").read_bytes()
    assert runner.invoke(app, ["report", str(copy), "--lang", "en"]).exit_code == 0
    assert openpyxl.load_workbook(copy / "report.en.xlsx").sheetnames == ["Budget", "Summary", "Monthly",
                                                                          "Yearly", "Costs", "Scenario"]
    assert parse_html(copy / "report.en.html").lang == "en"
    text = (copy / "report.en.html").read_text(encoding="utf-8")
    assert "P(at most 60 full-year persons on sickness benefit in 2018) = " in text
    assert (copy / CHARTS / "en" / "total.png").is_file()
    # the Danish reports of the same folder are still there, untouched
    assert ((copy / HTML).read_bytes(), (copy / CHARTS / "total.png").read_bytes()) == danish
    assert openpyxl.load_workbook(copy / WORKBOOK).sheetnames[1] == "Oversigt"
    assert runner.invoke(app, ["report", str(copy), "--lang", "da"]).exit_code == 0
    assert (copy / HTML).read_bytes() == danish[0] and not (copy / "report.da.html").exists()
    assert runner.invoke(app, ["report", "--help"]).output.count("Example") == 1


def test_run_lang_option_is_remembered(tmp_path: Path) -> None:
    scenario = tmp_path / "lille.yaml"
    scenario.write_text(
        "name: Lille\nstart: 2019-01-01\nmonths: 12\nstates: {a_dagpenge: {}}\ninitial: {a_dagpenge: 50}\n"
        "inflow_per_week: {a_dagpenge: 2}\ntransitions: {a_dagpenge: [{to: job, rate_per_week: 0.04}]}\n",
        encoding="utf-8")
    out = tmp_path / "run"
    result = runner.invoke(app, ["run", str(scenario), "-n", "2", "-w", "1", "--lang", "en",
                                 "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert openpyxl.load_workbook(out / WORKBOOK).sheetnames[:2] == ["Budget", "Summary"]
    (out / WORKBOOK).unlink()
    assert runner.invoke(app, ["report", str(out)]).exit_code == 0  # the run's language by default
    assert openpyxl.load_workbook(out / WORKBOOK).sheetnames[1] == "Summary"
    assert runner.invoke(app, ["report", str(out), "--lang", "da"]).exit_code == 0  # beside, not over it
    assert openpyxl.load_workbook(out / "report.da.xlsx").sheetnames[1] == "Oversigt"
    assert openpyxl.load_workbook(out / WORKBOOK).sheetnames[1] == "Summary"
    assert "No targets" not in (out / HTML).read_text(encoding="utf-8")
    assert "The scenario has no targets." in (out / HTML).read_text(encoding="utf-8")


def test_reports_without_a_full_year_or_targets(tmp_path: Path) -> None:
    # a horizon inside one calendar year and no targets: no yearly rows, no targets rows
    folder = make_run(tmp_path / "short", start="2018-03-01", months=6, targets=[])
    assert pd.read_csv(folder / "yearly.csv").empty and pd.read_csv(folder / "targets.csv").empty
    text = (folder / HTML).read_text(encoding="utf-8")
    assert 'id="costs"' in text and "Udgifter pr. måned" in text
    assert "Scenariet har ingen mål." in text and "Horisonten dækker intet helt kalenderår" in text
    assert len(sheet_rows(folder / WORKBOOK, "År")) == 1  # header only
    assert sheet_rows(folder / WORKBOOK, "Oversigt")[1][0] == "Scenariet har ingen mål."
    assert not (folder / CHARTS / TARGETS_CHART).exists()


@pytest.mark.slow
def test_reports_for_24_months_and_12_states_build_in_under_5_seconds(tmp_path: Path) -> None:
    codes = ["a_dagpenge", "kontantydelse", "sygedagpenge", "jobafklaring", "kontanthjaelp_jobparat",
             "kontanthjaelp_aktivitetsparat", "uddannelseshjaelp", "revalidering", "ressourceforloeb",
             "integrationsydelse", "ledighedsydelse", "fleksjob"]
    folder = make_run(
        tmp_path / "big", targets=[{"name": f"{c} højst 50", "states": [c], "year": 2018, "at_most": 50}
                                   for c in codes], observed=[],
        states={c: {} for c in codes}, initial=dict.fromkeys(codes, 60),
        inflow_per_week=dict.fromkeys(codes, 2), transitions={c: [{"to": "job", "rate_per_week": 0.03}]
                                                             for c in codes})
    start = time.perf_counter()
    write_reports(folder)
    elapsed = time.perf_counter() - start
    assert len(list((folder / CHARTS).glob("*.png"))) == 12 + 2
    assert elapsed < 5.0, f"building the reports took {elapsed:.2f} s"
