"""Reports show each probability with its Monte Carlo error ("0,58 ± 0,07") and say how many runs
a standard error of ±0.02 would take; run folders from before targets.csv had the error columns
are still read."""

from __future__ import annotations

import io
import json
import math
import re
import shutil
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
from sim.reports.language import number, probability_with_margin
from sim.reports.rundata import ERROR, TargetRow, load_run
from sim.reports.texts import about, margin_95, precision_sentence, runs_needed, target_sentence

SCENARIO: dict[str, Any] = {
    "name": "Lille kommune 2018", "start": "2018-01-01", "months": 12, "seed": 3,
    "states": {"a_dagpenge": {}, "sygedagpenge": {}},
    "initial": {"a_dagpenge": 120, "sygedagpenge": 80},
    "inflow_per_week": {"a_dagpenge": 4, "sygedagpenge": 5},
    "transitions": {"a_dagpenge": [{"to": "job", "rate_per_week": 0.04}],
                    "sygedagpenge": [{"to": "job", "mean_weeks": 10}]},
    "targets": [
        {"name": "Sygedagpenge højst 53", "states": ["sygedagpenge"], "year": 2018, "at_most": 53},
        {"name": "A-dagpenge højst 500", "states": ["a_dagpenge"], "year": 2018, "at_most": 500},
    ],
}
RUNS = 60
PLUS_MINUS = {"da": re.compile(r"= \d,\d\d ± \d,\d\d"), "en": re.compile(r"= \d\.\d\d ± \d\.\d\d")}


def make_run(folder: Path, lang: str) -> Path:
    result = sim.run(sim.scenario_from_dict(SCENARIO), runs=RUNS, seed=3, workers=1,
                     store_dir=folder / "store")
    write_run(result, folder, sim.__version__, "caseflow run lille.yaml", lang=lang)
    write_reports(folder, lang)
    return folder


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_run(tmp_path_factory.mktemp("error") / "run", "da")


def test_margin_is_the_farther_wilson_bound_rounded_up() -> None:
    row = TargetRow("t", "full_year_persons", "at_most", 1.0, 0.58, 0.0, 0.0, 0.0, 0.0, (), (), 2018,
                    probability_low95=0.5142, probability_high95=0.6401, runs_for_002=609.0)
    assert margin_95(row) == 0.07  # 0.0658 below, 0.0601 above: the farther, up to two decimals
    assert probability_with_margin(0.58, 0.07, "da") == "0,58 ± 0,07"
    assert probability_with_margin(0.58, 0.07, "en") == "0.58 ± 0.07"
    assert probability_with_margin(0.58, math.nan, "da") == "0,58"
    exact = TargetRow("t", "full_year_persons", "at_most", 1.0, 0.5, 0.0, 0.0, 0.0, 0.0, (), (), 2018,
                      probability_low95=0.45, probability_high95=0.55)
    assert margin_95(exact) == 0.05  # no rounding up of a margin that is already two decimals
    assert about(2401) == 2400 and about(625) == 630 and about(49) == 49
    assert number(about(2401), "da", 0) == "2.400" and number(about(2401), "en", 0) == "2,400"


def test_runs_needed_counts_the_undefined_replications() -> None:
    """runs_for_002 counts defined replications; with 20 % undefined the runs are 1/0.8 as many."""
    def row(runs_for_002: float, undefined: float) -> TargetRow:
        return TargetRow("t", "full_year_persons", "at_most", 1.0, 0.5, 0.0, 0.0, 0.0, 0.0, (), (), 2018,
                         probability_low95=0.4, probability_high95=0.6, runs_for_002=runs_for_002,
                         undefined_share=undefined)
    assert runs_needed([row(400, 0.0), row(500, 0.2)]) == 625
    assert runs_needed([row(math.nan, 0.0)]) is None
    sentence = precision_sentence([row(400, 0.0), row(500, 0.2)], "da")
    assert "±0,02" in sentence and "ca. 630 kørsler" in sentence
    assert "about 630 runs" in precision_sentence([row(625, 0.0)], "en")
    certain = TargetRow("c", "full_year_persons", "at_most", 1.0, 1.0, 0.0, 0.0, 0.0, 0.0, (), (), 2018,
                        probability_low95=0.94, probability_high95=1.0, runs_for_002=1.0)
    assert runs_needed([certain, row(400, 0.0)]) == 400  # a probability of 1 says nothing of the runs
    assert runs_needed([certain]) is None
    assert "0 or 1" in precision_sentence([certain], "en") and "±" in precision_sentence([certain], "en")


def test_html_sentences_carry_the_margin(run_dir: Path, tmp_path: Path) -> None:
    html = (run_dir / HTML).read_text(encoding="utf-8")
    rows = load_run(run_dir).target_rows()
    for t in rows:
        assert target_sentence(t, "da", error=True) in html
    assert len(PLUS_MINUS["da"].findall(html)) == len(rows)
    assert "En standardfejl på ±0,02 kræver ca." in html and "95 %-interval (Wilson)" in html
    english = make_run(tmp_path / "en", "en")
    text = (english / HTML).read_text(encoding="utf-8")
    assert len(PLUS_MINUS["en"].findall(text)) == len(rows)
    assert "A standard error of ±0.02 would take about" in text


def test_workbook_keeps_the_number_and_shows_the_margin(run_dir: Path) -> None:
    wb = openpyxl.load_workbook(run_dir / WORKBOOK)
    targets = pd.read_csv(run_dir / "targets.csv")
    rows = load_run(run_dir).target_rows()
    for r, (t, (_, csv)) in enumerate(zip(rows, targets.iterrows(), strict=True), start=2):
        cell = wb["Oversigt"][f"E{r}"]
        assert cell.value == pytest.approx(csv["probability_met"])  # the number, not text
        assert cell.number_format == f'0.00" ± {number(margin_95(t), "da", 2)}"'
    facts = dict(list(wb["Scenarie"].iter_rows(values_only=True))[1:])
    assert "±0,02" in facts["præcision"] and facts["kørsler"] == RUNS


def test_console_shows_the_margin_within_80_columns(run_dir: Path) -> None:
    out = io.StringIO()
    print_summary(load_run(run_dir), Console(file=out, width=80))
    text = out.getvalue()
    assert re.search(r"\d,\d\d ± \d,\d\d", text)  # the run's language: Danish
    assert "En standardfejl på ±0,02 kræver ca." in " ".join(text.split())
    assert max(len(line) for line in text.splitlines()) <= 80
    out = io.StringIO()
    print_summary(load_run(run_dir), Console(file=out, width=80), "en")
    text = out.getvalue()
    assert re.search(r"\d\.\d\d ± \d\.\d\d", text)
    assert "A standard error of ±0.02 would take about" in " ".join(text.split())
    assert max(len(line) for line in text.splitlines()) <= 80


def test_an_old_folder_without_the_columns_is_still_read(run_dir: Path, tmp_path: Path) -> None:
    """Without the error columns they are computed from probability_met and run.json's runs (the
    same numbers); without runs as well, the reports show the probability alone."""
    old = tmp_path / "old"
    shutil.copytree(run_dir, old, ignore=shutil.ignore_patterns("store"))
    new = load_run(run_dir).targets
    pd.read_csv(old / "targets.csv").drop(columns=[*ERROR, "undefined_share"]).to_csv(
        old / "targets.csv", index=False)
    read = load_run(old).targets
    assert list(read.columns) == [c for c in new.columns if c != "undefined_share"]
    pd.testing.assert_frame_equal(read, new.drop(columns="undefined_share"), rtol=1e-12)
    write_reports(old, "da")
    assert PLUS_MINUS["da"].search((old / HTML).read_text(encoding="utf-8"))
    facts = json.loads((old / "run.json").read_text(encoding="utf-8"))
    del facts["runs"]
    (old / "run.json").write_text(json.dumps(facts), encoding="utf-8")
    unknown = load_run(old)
    assert unknown.targets[list(ERROR)].isna().all().all()
    write_reports(old, "da")
    html = (old / HTML).read_text(encoding="utf-8")
    assert "±" not in html
    for t in unknown.target_rows():
        assert target_sentence(t, "da", error=True) == target_sentence(t, "da") and t.name in html
    out = io.StringIO()
    print_summary(unknown, Console(file=out, width=80))
    assert "±" not in out.getvalue()
