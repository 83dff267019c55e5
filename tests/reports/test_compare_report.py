"""The comparison report: `caseflow compare` writes report.xlsx and report.html beside differences.csv,
showing each difference with its band, and `caseflow report DIR` rebuilds them from the folder alone."""

from __future__ import annotations

import copy
import shutil
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import numpy as np
import openpyxl
import pandas as pd
import pytest
import yaml
from matplotlib.collections import LineCollection
from typer.testing import CliRunner

from sim.batch.compare import DIFFERENCE_COLUMNS
from sim.cli.app import app
from sim.contract.catalogue import TOTAL
from sim.reports.build import CHARTS, HTML, WORKBOOK
from sim.reports.charts import draw_differences, draw_overlay
from sim.reports.comparison import (
    DIFFERENCES_CHART,
    NUMBERS,
    change_sentence,
    difference_dots,
    load_comparison,
    overlay_series,
)
from sim.reports.language import number, probability, term

runner = CliRunner()
STATES = ["a_dagpenge", "sygedagpenge", "jobafklaring"]

BASE: dict[str, Any] = {
    "name": "Basis 2018", "start": "2018-01-01", "months": 24, "seed": 3,
    "states": {code: {} for code in STATES},
    "initial": {"a_dagpenge": 150, "sygedagpenge": 120, "jobafklaring": 20},
    "inflow_per_week": {"a_dagpenge": 4, "sygedagpenge": 10},
    "transitions": {
        "a_dagpenge": [{"to": "job", "rate_per_week": 0.025}],
        "sygedagpenge": [{"to": "job", "rate_per_week": 0.085},
                         {"to": "jobafklaring", "at_week": 22, "share": 0.4},
                         {"to": "stay", "at_week": 22, "share": "rest"}],
        "jobafklaring": [{"to": "job", "rate_per_week": 0.03}],
    },
    "targets": [
        {"name": "Sygedagpenge højst 120", "states": ["sygedagpenge"], "year": 2018, "at_most": 120},
        {"name": "Medfinansiering højst 70 %", "metric": "cofinancing_rate", "states": ["total"],
         "year": 2019, "at_most": 0.70},
        {"name": "Fald på 2 %", "states": ["total"], "year": 2019, "change_at_most": -0.02},
    ],
    "observed": [{"period": 2018, "state": "total", "value": 290}],
    "economics": {"base_year": 2018},
}


def faster(data: dict[str, Any]) -> dict[str, Any]:
    """The variant: sygedagpenge end in a job a little sooner."""
    out = copy.deepcopy(data)
    out["name"] = "Hurtigere afklaring"
    out["transitions"]["sygedagpenge"][0]["rate_per_week"] = 0.1
    return out


@pytest.fixture(scope="module")
def cmp_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small comparison written by the CLI (4 paired runs, Danish reports)."""
    root = tmp_path_factory.mktemp("compare-report")
    files = []
    for name, data in (("base.yaml", BASE), ("variant.yaml", faster(BASE))):
        (root / name).write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
        files.append(str(root / name))
    out = root / "cmp"
    result = runner.invoke(app, ["compare", *files, "-n", "4", "-w", "1", "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out


class Page(HTMLParser):
    """Every <img>'s attributes and the <html> element's language."""

    def __init__(self) -> None:
        super().__init__()
        self.images: list[dict[str, str | None]] = []
        self.lang: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "img":
            self.images.append(dict(attrs))
        elif tag == "html":
            self.lang = dict(attrs).get("lang")


def parse(path: Path) -> Page:
    page = Page()
    page.feed(path.read_text(encoding="utf-8"))
    page.close()
    return page


def sheet(path: Path, name: str) -> list[tuple[Any, ...]]:
    return list(openpyxl.load_workbook(path)[name].iter_rows(values_only=True))


def workbook_values(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    return {ws.title: list(ws.values) for ws in openpyxl.load_workbook(path)}


def test_compare_writes_a_workbook_and_a_page_that_parse(cmp_dir: Path) -> None:
    sheets = openpyxl.load_workbook(cmp_dir / WORKBOOK).sheetnames
    assert sheets == ["Budget", "Oversigt", "År", "Udgifter", "Scenarier"]
    page = parse(cmp_dir / HTML)
    assert page.lang == "da"
    assert sum(img.get("class") == "differences" for img in page.images) == 1
    overlays = [str(img["data-state"]) for img in page.images if img.get("class") == "overlay"]
    assert sorted(overlays) == sorted([TOTAL, *STATES])
    assert all(str(img["src"]).startswith("data:image/png;base64,") for img in page.images)  # offline
    for name in [TOTAL, *STATES]:
        assert (cmp_dir / CHARTS / f"{name}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (cmp_dir / CHARTS / DIFFERENCES_CHART).is_file()
    for side in ("base", "variant"):  # the two run reports are still there
        assert (cmp_dir / side / HTML).is_file() and (cmp_dir / side / WORKBOOK).is_file()
    text = (cmp_dir / HTML).read_text(encoding="utf-8")
    assert "Hurtigere afklaring sammenlignet med Basis 2018" in text
    assert "transitions.sygedagpenge[0].rate_per_week" in text  # the input the variant changes
    assert 'id="budget"' in text and text.index('id="budget"') < text.index("<img")


def test_workbook_differences_equal_differences_csv(cmp_dir: Path) -> None:
    table = pd.read_csv(cmp_dir / "differences.csv")
    targets = table[table["kind"] == "target"]
    summary = sheet(cmp_dir / WORKBOOK, "Oversigt")
    assert [r[0] for r in summary[1:]] == list(targets["name"])
    got = np.array([r[5:5 + len(NUMBERS)] for r in summary[1:]], dtype=float)
    np.testing.assert_allclose(got, targets[list(NUMBERS)].to_numpy(dtype=float), rtol=1e-14)
    assert [r[2] for r in summary[1:]] == list(targets["year"])
    spread = list(NUMBERS[:9])
    for name, kind in (("År", "full_year_persons"), ("Udgifter", "net_dkk")):
        rows = sheet(cmp_dir / WORKBOOK, name)
        want = table[table["kind"] == kind]
        assert [(r[0], r[2]) for r in rows[1:]] == list(zip(want["year"], want["name"], strict=True))
        got = np.array([r[3:] for r in rows[1:]], dtype=float)
        np.testing.assert_allclose(got, want[spread].to_numpy(dtype=float), rtol=1e-14)


def test_difference_chart_draws_the_differences_and_their_intervals(cmp_dir: Path) -> None:
    table = pd.read_csv(cmp_dir / "differences.csv").query("kind == 'target'")
    dots = difference_dots(load_comparison(cmp_dir))
    assert list(dots.names) == list(table["name"])
    for column, values in (("difference", dots.differences), ("difference_low95", dots.low95),
                           ("difference_high95", dots.high95)):
        np.testing.assert_array_equal(np.array(values), table[column].to_numpy())
    assert dots.metrics == ("full_year_persons", "cofinancing_rate", "full_year_persons")
    fig = draw_differences(dots, "da")
    lines = {str(line.get_gid()): line for ax in fig.axes for line in ax.get_lines() if line.get_gid()}
    bands = {str(c.get_gid()): c for ax in fig.axes for c in ax.collections if c.get_gid()}
    shown = {"full_year_persons": 1.0, "cofinancing_rate": 100.0}  # persons, and percentage points
    for i, metric in enumerate(dots.metrics):
        scale = shown[metric]
        dot = np.asarray(lines[f"difference-{i}"].get_xdata())
        assert dot[0] == pytest.approx(dots.differences[i] * scale)
        band = bands[f"interval-{i}"]
        assert isinstance(band, LineCollection)
        (segment,) = band.get_segments()
        assert sorted(segment[:, 0]) == pytest.approx([dots.low95[i] * scale, dots.high95[i] * scale])
    assert len(fig.axes) == 2  # persons and percentage points in panels of their own


def test_overlay_chart_draws_both_runs_monthly_quantiles(cmp_dir: Path) -> None:
    data = load_comparison(cmp_dir)
    for state in ("sygedagpenge", TOTAL):
        series = overlay_series(data, state, "da")
        fig = draw_overlay(series, "da")
        drawn = {str(line.get_gid()): line.get_ydata() for line in fig.axes[0].get_lines()}
        for side, fan in (("base", series.base), ("variant", series.variant)):
            monthly = pd.read_csv(cmp_dir / side / "monthly.csv").query("state == @state")
            assert fan is not None and list(fan.months) == list(monthly["month"])
            for q in ("p10", "p50", "p90"):
                np.testing.assert_array_equal(fan.quantiles[q], monthly[q].to_numpy())
            np.testing.assert_array_equal(drawn[f"{side}-median"], monthly["p50"].to_numpy())
    syge = overlay_series(data, "sygedagpenge", "da").base
    assert syge is not None
    assert [(s.first, s.last, s.value) for s in syge.targets] == [("2018-01", "2018-12", 120)]


def test_each_target_reads_as_one_sentence(cmp_dir: Path) -> None:
    data = load_comparison(cmp_dir)
    row = pd.read_csv(cmp_dir / "differences.csv").iloc[0]
    change = data.target_changes()[0]
    sentence = change_sentence(change, "da", data.state_specs)
    p = " → ".join(probability(row[k], "da") for k in ("base_probability_met", "variant_probability_met"))
    assert sentence.startswith(f"Variant: P(højst 120 helårspersoner på sygedagpenge i 2018) {p}; forskel −")
    assert "helårspersoner (95 %-interval −" in sentence
    decimals = len(sentence.split("forskel ")[1].split(" ")[0].partition(",")[2])
    assert number(row["difference"], "da", decimals) in sentence
    english = change_sentence(change, "en", data.state_specs)
    assert english.startswith("Variant: P(at most 120 full-year persons on sickness benefit in 2018) ")
    assert "; difference −" in english and "(95% interval −" in english


def test_report_verb_rebuilds_the_comparison_from_the_folder_alone(cmp_dir: Path, tmp_path: Path) -> None:
    copy_dir = tmp_path / "cmp"
    shutil.copytree(cmp_dir, copy_dir, ignore=shutil.ignore_patterns("store"))
    for folder in (copy_dir, copy_dir / "base", copy_dir / "variant"):
        (folder / WORKBOOK).unlink()
        (folder / HTML).unlink()
        shutil.rmtree(folder / CHARTS)
    result = runner.invoke(app, ["report", str(copy_dir)])
    assert result.exit_code == 0, result.output
    assert workbook_values(copy_dir / WORKBOOK) == workbook_values(cmp_dir / WORKBOOK)
    assert (copy_dir / HTML).read_text(encoding="utf-8") == (cmp_dir / HTML).read_text(encoding="utf-8")
    assert (copy_dir / CHARTS / DIFFERENCES_CHART).is_file()
    for side in ("base", "variant"):
        assert workbook_values(copy_dir / side / WORKBOOK) == workbook_values(cmp_dir / side / WORKBOOK)
        assert (copy_dir / side / CHARTS / "total.png").is_file()
    assert list(pd.read_csv(copy_dir / "differences.csv").columns) == DIFFERENCE_COLUMNS

    english = runner.invoke(app, ["report", str(copy_dir), "--lang", "en"])
    assert english.exit_code == 0, english.output
    sheets = openpyxl.load_workbook(copy_dir / "report.en.xlsx").sheetnames
    assert sheets == ["Budget", "Summary", "Yearly", "Costs", "Scenarios"]
    english_html = "report.en.html"
    assert parse(copy_dir / english_html).lang == "en"
    assert parse(copy_dir / "base" / english_html).lang == "en"
    assert "Variant: P(at most 120 full-year persons" in (copy_dir / english_html).read_text(encoding="utf-8")
    assert (copy_dir / CHARTS / "en" / DIFFERENCES_CHART).is_file()
    # the Danish reports stay as they were
    assert (copy_dir / HTML).read_text(encoding="utf-8") == (cmp_dir / HTML).read_text(encoding="utf-8")
    assert parse(copy_dir / "base" / HTML).lang == "da"

    (copy_dir / "base" / "monthly.csv").unlink()
    broken = runner.invoke(app, ["report", str(copy_dir)])
    assert broken.exit_code == 1 and "monthly.csv is missing" in broken.output


def test_the_comparison_workbook_opens_with_the_budget_and_its_intervals(cmp_dir: Path) -> None:
    """Budget: per benefit and year both runs' persons and net DKK with the paired difference, its
    standard error and 95 % interval (differences.csv); gross and refund of both runs (yearly.csv)."""
    table = pd.read_csv(cmp_dir / "differences.csv")
    ws = openpyxl.load_workbook(cmp_dir / WORKBOOK)["Budget"]
    header = [c.value for c in ws[1]]
    rows = list(ws.iter_rows(min_row=2))
    persons = table[table["kind"] == "full_year_persons"]
    assert [(r[0].value, r[2].value) for r in rows] == list(zip(persons["year"], persons["name"],
                                                                 strict=True))
    keys = ("base_mean", "variant_mean", "difference", "difference_se", "difference_low95",
            "difference_high95")
    for kind, label in (("full_year_persons", "Helårspersoner"), ("net_dkk", "Netto (kr., 2018-priser)")):
        want = table[table["kind"] == kind].set_index(["year", "name"])
        for key in keys:
            column = header.index(f"{label}: {term_of(key)}")
            for r in rows:
                assert r[column].value == pytest.approx(want.loc[(r[0].value, r[2].value), key], rel=1e-12)
            fmt = rows[0][column].number_format
            if kind == "net_dkk":
                assert fmt == ("+#,##0;-#,##0;0" if key == "difference" else "#,##0"), (key, fmt)
            else:
                assert fmt == ("+#,##0.0;-#,##0.0;0.0" if key == "difference" else "#,##0.0"), (key, fmt)
    for side in ("base", "variant"):
        yearly = pd.read_csv(cmp_dir / side / "yearly.csv").set_index(["year", "state"])
        column = header.index(f"Brutto (kr., 2018-priser): {'Basis' if side == 'base' else 'Variant'}")
        for r in rows:
            assert r[column].value == pytest.approx(yearly.loc[(r[0].value, r[2].value), "gross_dkk"])
    page = (cmp_dir / HTML).read_text(encoding="utf-8")
    assert page.index('id="budget"') < page.index('id="differences"') < page.index("<img")
    changes = page[page.index('<section id="changes">'):]
    changes = changes[: changes.index("</section>")]
    assert "<td>[[0; 0,085]]</td><td>[[0; 0,1]]</td>" in changes and "0.085" not in changes  # Danish


def term_of(key: str) -> str:
    """The Danish heading of a differences.csv column, as the workbook writes it."""
    return term(key, "da")
