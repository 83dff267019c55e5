"""The reports show, next to each probability, the assumed values that set the target and an
assumed base ("0,58 ± 0,07 · afgøres af inflow_per_week.a_dagpenge.rate · antaget basis"), and
the assumption check's table; a run folder from before these columns shows neither."""

from __future__ import annotations

import io
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
from sim.reports.rundata import ASSUMPTIONS, load_run

JANUARY_ONLY = [1.0] + [0.0] * 11
SCENARIO: dict[str, Any] = {
    "name": "Antaget tilgang 2018", "start": "2018-01-01", "months": 2, "seed": 4,
    "states": {"a_dagpenge": {}},
    "inflow_per_week": {"a_dagpenge": {"rate": 20, "seasonality": JANUARY_ONLY}},
    "observed": [{"period": "2017-12", "state": "a_dagpenge", "value": 80.5, "source": "antaget"}],
    "targets": [
        {"name": "Mindst 90", "states": ["a_dagpenge"], "month": "2018-02", "at_least": 89.5},
        {"name": "Mindst 50", "states": ["a_dagpenge"], "month": "2018-02", "at_least": 49.5},
        {"name": "10 % over december", "states": ["a_dagpenge"], "month": "2018-02",
         "change_at_least": 0.1, "base_month": "2017-12", "base": "assumed"},
    ],
    "assumptions": [
        {"path": "inflow_per_week.a_dagpenge.rate", "low": 15, "high": 25,
         "reason": "Planen giver ingen tilgang"},
        {"path": "observed.0.value", "low": 70.5, "high": 90.5, "reason": "December er ikke opgjort"},
    ],
}
"""January arrivals only, nothing leaves: February's persons are Poisson(20 · 31/7 ≈ 89), so the
inflow's range takes "at least 90" from 0.003 to 0.98, "at least 50" stays near 1, and both the
inflow and the assumed base take "10 % over December" across 0.5 (tests/batch/test_assumptions.py)."""
RUNS = 60
LAMBDA, BASE = "inflow_per_week.a_dagpenge.rate", "observed.0.value"
BOTH = f"{LAMBDA}; {BASE}"
"""What sets the change target: near even at the point, both the inflow and the base move it."""


def make_run(folder: Path, lang: str) -> Path:
    result = sim.run(sim.scenario_from_dict(SCENARIO), runs=RUNS, seed=4, workers=1,
                     store_dir=folder / "store", assumption_runs=RUNS)
    write_run(result, folder, sim.__version__, "caseflow run antaget.yaml", lang=lang)
    write_reports(folder, lang)
    return folder


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_run(tmp_path_factory.mktemp("assumed") / "run", "da")


@pytest.fixture(scope="module")
def old_dir(run_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same run as a folder from before the check: no assumptions.csv, no base and
    set_by_assumption columns."""
    old = tmp_path_factory.mktemp("old") / "run"
    shutil.copytree(run_dir, old, ignore=shutil.ignore_patterns("store"))
    (old / ASSUMPTIONS).unlink()
    pd.read_csv(old / "targets.csv").drop(columns=["base", "set_by_assumption"]).to_csv(
        old / "targets.csv", index=False)
    write_reports(old, "da")
    return old


def test_the_rows_carry_the_new_columns(run_dir: Path) -> None:
    rows = {t.name: t for t in load_run(run_dir).target_rows()}
    assert rows["Mindst 90"].set_by_assumption == LAMBDA and rows["Mindst 90"].base_source == ""
    assert rows["Mindst 50"].set_by_assumption == ""
    assert rows["10 % over december"].set_by_assumption == BOTH
    assert rows["10 % over december"].base_source == "assumed"


def test_console_shows_them_next_to_the_probability(run_dir: Path) -> None:
    out = io.StringIO()
    print_summary(load_run(run_dir), Console(file=out, width=200))
    danish = out.getvalue()  # the run's language
    assert re.search(rf"\d,\d\d ± \d,\d\d · afgøres af {re.escape(BOTH)} · antaget basis", danish), danish
    assert "Se assumptions.csv" in danish
    out = io.StringIO()
    print_summary(load_run(run_dir), Console(file=out, width=200), "en")
    text = out.getvalue()
    assert re.search(rf"\d\.\d\d ± \d\.\d\d · set by {re.escape(LAMBDA)}", text), text
    assert re.search(rf"\d\.\d\d ± \d\.\d\d · set by {re.escape(BOTH)} · base assumed", text), text
    line = next(line for line in text.splitlines() if "Mindst 50" in line)
    assert "set by" not in line
    assert f"on the first {RUNS} runs" in " ".join(text.split()) and "assumptions.csv" in text


def test_html_sentences_and_the_assumptions_section(run_dir: Path, tmp_path: Path) -> None:
    html = (run_dir / HTML).read_text(encoding="utf-8")
    assert re.search(rf"= \d,\d\d ± \d,\d\d · afgøres af {re.escape(LAMBDA)}</td>", html)
    assert re.search(rf"= \d,\d\d ± \d,\d\d · afgøres af {re.escape(BOTH)} · antaget basis</td>", html)
    section = html[html.index('<section id="assumptions">'):]
    section = section[: section.index("</section>")]
    assert "Planen giver ingen tilgang" in section and "December er ikke opgjort" in section
    assert "Mindst 90 (" in section and "Mindst 50" not in section  # only the targets a value sets
    english = (make_run(tmp_path / "en", "en") / HTML).read_text(encoding="utf-8")
    assert f"· set by {BOTH} · base assumed" in english and 'id="assumptions"' in english


def test_workbook_has_a_note_column_and_an_assumptions_sheet(run_dir: Path) -> None:
    wb = openpyxl.load_workbook(run_dir / WORKBOOK)
    rows = list(wb["Oversigt"].iter_rows(values_only=True))
    header = list(rows[0])
    assert header[4:6] == ["Sandsynlighed for at nå målet", "Bemærkning"]
    notes = {r[0]: r[5] for r in rows[1:]}
    assert notes == {"Mindst 90": f"afgøres af {LAMBDA}", "Mindst 50": None,
                     "10 % over december": f"afgøres af {BOTH} · antaget basis"}
    sheet = list(wb["Antagelser"].iter_rows(values_only=True))
    assert len(sheet) == 1 + 3 * 2
    table = pd.read_csv(run_dir / ASSUMPTIONS)
    for row, (_, csv) in zip(sheet[1:], table.iterrows(), strict=True):
        assert row[:2] == (csv["target"], csv["path"]) and row[6:9] == pytest.approx(
            (csv["p_low"], csv["p_point"], csv["p_high"]))
        assert row[9] == ("ja" if csv["sets_it"] else "nej")


def test_an_older_folder_shows_neither(old_dir: Path) -> None:
    data = load_run(old_dir)
    assert data.assumptions is None
    assert all(t.set_by_assumption == "" and t.base_source == "" for t in data.target_rows())
    html = (old_dir / HTML).read_text(encoding="utf-8")
    assert "afgøres af" not in html and "antaget basis" not in html and 'id="assumptions"' not in html
    wb = openpyxl.load_workbook(old_dir / WORKBOOK)
    assert "Antagelser" not in wb.sheetnames
    assert "Bemærkning" not in next(wb["Oversigt"].iter_rows(values_only=True))
    out = io.StringIO()
    print_summary(data, Console(file=out, width=80))
    assert "afgøres af" not in out.getvalue() and "antaget basis" not in out.getvalue()
    assert max(len(line) for line in out.getvalue().splitlines()) <= 80
