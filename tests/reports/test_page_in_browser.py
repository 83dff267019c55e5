"""report.html as a reader sees it: opened in headless Chromium at 1280 pixels, no table is wider
than the page, nothing scrolls sideways, and the budget table comes before the first chart.

The browser is found or installed by the test itself (`chromium`): $CASEFLOW_CHROMIUM, a Chromium
on the PATH (Debian's `chromium` package), Playwright's own download, else `apt-get install -y
chromium` (as root, where apt-get exists) or `python -m playwright install chromium`. Without
one the test is skipped, except under CI (CI=true), where it fails: a green run must have looked.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from test_budget_report import SCENARIO, make_run
from typer.testing import CliRunner

from sim.cli.app import app
from sim.reports.build import HTML

WIDTH = 1280
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
"""Headless flags for a machine whose network reaches no browser service (and that runs as root)."""
NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def _missing(why: str) -> None:
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"{why}; CI must be able to open the report in a browser")
    pytest.skip(why)


def _on_path() -> str | None:
    given = os.environ.get("CASEFLOW_CHROMIUM")
    if given and Path(given).is_file():
        return given
    return next((p for p in (shutil.which(n) for n in NAMES) if p), None)


def _install() -> str | None:
    """Install a Chromium: Debian's package as root, else Playwright's download; its path or None."""
    if shutil.which("apt-get") and hasattr(os, "geteuid") and os.geteuid() == 0:
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        for command in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "chromium"]):
            subprocess.run(command, capture_output=True, timeout=900, env=env, check=False)
        found = _on_path()
        if found:
            return found
    done = subprocess.run([sys.executable, "-m", "playwright", "install", "chromium"], capture_output=True,
                          timeout=900, check=False)
    return "" if done.returncode == 0 else None  # '': Playwright's own browser


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """A headless Chromium driven by Playwright."""
    try:
        from playwright.sync_api import Error, sync_playwright
    except ImportError:
        _missing("playwright is not installed (pip install playwright)")
    path = _on_path()
    with sync_playwright() as p:
        if path is None and Path(p.chromium.executable_path).is_file():
            path = ""
        if path is None:
            path = _install()
        if path is None:
            _missing("no Chromium found, and none could be installed")
        try:
            launched = p.chromium.launch(executable_path=path or None, args=ARGS)
        except Error as exc:
            _missing(f"Chromium did not start: {str(exc).splitlines()[0]}")
        yield launched
        launched.close()


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
