"""report.html as a reader sees it: opened in headless Chromium at 1280 pixels, no table is wider
than the page, nothing scrolls sideways, and the budget table comes before the first chart.

The browser is the `browser` fixture (tests/browsers.py: found or installed by the tests).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from test_budget_report import SCENARIO, make_run
from typer.testing import CliRunner

from sim.cli.app import app
from sim.reports.build import HTML

WIDTH = 1280


def measure(browser: Any, page_file: Path) -> dict[str, Any]:
    """What a reader's 1280-pixel window shows of a page: its widths, each table's right edge, and
    where the first table and the first chart begin."""
    page = browser.new_page(viewport={"width": WIDTH, "height": 900})
    page.goto(page_file.resolve().as_uri())
    page.wait_for_load_state("load")
    found = page.evaluate("""() => {
        const box = e => e.getBoundingClientRect();
        const first = document.querySelector('img');
        const budget = document.querySelector('table.budget');
        return {
            client: document.documentElement.clientWidth,
            scroll: document.documentElement.scrollWidth,
            height: document.documentElement.scrollHeight,
            tables: Array.from(document.querySelectorAll('table')).map(t => ({
                section: t.closest('section') ? t.closest('section').id : '',
                right: box(t).right, width: t.scrollWidth})),
            budget: budget ? box(budget).top : null,
            chart: first ? box(first).top : null,
            sections: Array.from(document.querySelectorAll('section')).map(s => s.id),
        };
    }""")
    page.close()
    return dict(found)


def assert_fits(found: dict[str, Any]) -> None:
    assert found["scroll"] <= found["client"] <= WIDTH, found
    for table in found["tables"]:
        assert table["right"] <= found["client"] + 0.5, table
        assert table["width"] <= found["client"], table
    assert found["budget"] is not None and found["chart"] is not None
    assert found["budget"] < found["chart"], found
    assert found["sections"][0] == "budget"


def test_a_run_report_fits_1280_pixels_and_opens_with_the_budget(browser: Any, tmp_path: Path) -> None:
    labels = {"label": "kontanthjælp for aktivitetsparate borgere over 30 år med andre problemer end "
                       "ledighed"}
    states = {**SCENARIO["states"], "kontanthjaelp_aktivitetsparat": labels}
    folder = make_run(tmp_path / "run", states=states)
    found = measure(browser, folder / HTML)
    assert_fits(found)
    assert {"budget", "targets", "programmes", "teams", "charts"} <= set(found["sections"])
    english = make_run(tmp_path / "en", lang="en")
    assert_fits(measure(browser, english / HTML))


def test_a_comparison_report_fits_too(browser: Any, tmp_path: Path) -> None:
    base = {**SCENARIO, "interventions": [], "caseworkers": []}
    variant = {**base, "name": "Hurtigere afklaring",
               "transitions": {**base["transitions"],
                               "sygedagpenge": [{"to": "job", "mean_weeks": 8},
                                                *base["transitions"]["sygedagpenge"][1:]]}}
    files = []
    for name, data in (("base.yaml", base), ("variant.yaml", variant)):
        (tmp_path / name).write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
        files.append(str(tmp_path / name))
    out = tmp_path / "cmp"
    result = CliRunner().invoke(app, ["compare", *files, "-n", "3", "-w", "1", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert_fits(measure(browser, out / HTML))
