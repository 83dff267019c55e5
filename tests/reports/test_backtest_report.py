"""The backtest's report from a folder with targets: brier.csv's rows as `sim.fitting.scores` writes
them, shown on the page and in the workbook, each Brier score held against (p − outcome)² worked
out here from the ensemble, the actual and the benchmarks' figures."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
from test_budget_report import page_tables

from sim.fitting.scores import BRIER_COLUMNS, score_figures, score_target, summarise
from sim.reports.build import HTML, WORKBOOK, write_reports

ORIGIN, PERIOD, STATE = "2019-01", "2019-01", "sygedagpenge"
ENSEMBLE = np.arange(100.0, 200.0)  # 100 replications: 100, 101, …, 199
ACTUAL, THRESHOLD = 140.0, 150.0  # at most 150: met
HISTORY = pd.DataFrame({"period": ["2018-10", "2018-11"], "state": [STATE, STATE], "value": [160.0, 170.0]})
"""Carried forward: 170; the trend through 160 and 170 a month apart reads 190 two months on."""


@pytest.fixture(scope="module")
def backtest_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("backtest")
    scores = score_figures(ORIGIN, [PERIOD], [STATE], np.array([ACTUAL]), ENSEMBLE[None, :], HISTORY)
    points = {name: float(scores[name].iloc[0]) for name in ("carried_forward", "trend")}
    brier = pd.DataFrame([score_target(ORIGIN, "Sygedagpenge højst 150", PERIOD, STATE, True, THRESHOLD,
                                       ACTUAL, ENSEMBLE, points)], columns=list(BRIER_COLUMNS))
    scores.to_csv(folder / "scores.csv", index=False)
    brier.to_csv(folder / "brier.csv", index=False)
    summarise(scores, brier).to_csv(folder / "summary.csv", index=False)
    (folder / "run.json").write_text(json.dumps({
        "scenario": "Backtestkommune", "runs": len(ENSEMBLE), "seed": 1, "caseflow_version": "test",
        "created": "2025-01-02T13:05:00", "command": "caseflow backtest b.yaml", "forecast_start": "origin"}),
        encoding="utf-8")
    return folder


def test_the_benchmarks_are_as_worked_out(backtest_dir: Path) -> None:
    scores = pd.read_csv(backtest_dir / "scores.csv").iloc[0]
    assert (scores["carried_forward"], scores["trend"]) == pytest.approx((170.0, 190.0))


def test_the_page_shows_each_targets_brier_scores(backtest_dir: Path) -> None:
    write_reports(backtest_dir, "da")
    page = page_tables(backtest_dir / HTML)
    section = page.sections.index("targets")
    rows = page.tables[section][1]  # one table a section: summary, targets, figures
    header, (row,) = rows[0], rows[1:]
    assert header[-1] == "Brier"
    p = float(np.mean(ENSEMBLE <= THRESHOLD))  # 0.51
    assert p == 0.51
    # met (1): the forecast's (0.51 − 1)², each benchmark's (0 − 1)² (170 and 190 miss at most 150)
    assert row[-1] == "0,24 / 1,00 / 1,00"
    assert row[6] == "0,51" and row[7:9] == ["0", "0"] and row[5] == "ja"
    summary = page.tables[0][1]
    state = next(r for r in summary[1:] if r[0] == STATE)
    assert state[-1] == "0,24 / 1,00 / 1,00"  # the state's mean over its one target


def test_the_workbook_holds_brier_csv(backtest_dir: Path) -> None:
    write_reports(backtest_dir, "da")
    reports = write_reports(backtest_dir, "en")
    assert reports.html == backtest_dir / "report.en.html"  # beside the folder's own Danish one
    assert "0.24 / 1.00 / 1.00" in reports.html.read_text(encoding="utf-8")
    ws = openpyxl.load_workbook(backtest_dir / "report.en.xlsx")["Targets"]
    header, *rows = list(ws.iter_rows(values_only=True))
    got = dict(zip(header, rows[0], strict=True))
    assert got["brier"] == pytest.approx((0.51 - 1.0) ** 2)
    assert got["carried_forward_brier"] == got["trend_brier"] == pytest.approx(1.0)
    danish = openpyxl.load_workbook(backtest_dir / WORKBOOK).sheetnames
    assert danish == ["Oversigt", "Scorer", "Mål"]


def test_the_vive_chart_draws_vive_csv_a_panel_per_period() -> None:
    """Each period's panel has VIVE's gaps as its bars and the model's where it forecast them."""
    from sim.reports.scores import draw_vive

    vive = pd.DataFrame({
        "origin": ["", "", "2020-07", "2020-07"], "period": ["2020", "2020", "2021", "2021"],
        "state": ["total", "group:dagpenge", "total", "group:dagpenge"],
        "actual_minus_vive": [70.0, 10.0, 100.0, 40.0], "actual_minus_model": [np.nan, np.nan, 60.0, -5.0]})
    fig = draw_vive(vive, "en", {})
    axes = fig.axes
    assert [ax.get_title(loc="left") for ax in axes] == ["2020", "2021"]
    for ax, period in zip(axes, ("2020", "2021"), strict=True):
        rows = vive[vive.period == period]
        heights = {gid: [p.get_height() for p in ax.patches if p.get_gid() == gid]
                   for gid in ("vive", "model")}
        assert heights["vive"] == rows["actual_minus_vive"].tolist()
        np.testing.assert_array_equal(heights["model"], rows["actual_minus_model"].to_numpy())
