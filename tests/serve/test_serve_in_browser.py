"""The what-if page in headless Chromium: it loads, a slider moved by the keyboard moves a
probability, a combination the contract refuses shows its message, the variant is saved as an
overlay that loads, and its full report opens; nothing is written outside outputs/.

The server is `caseflow serve` itself, started in a folder of its own on a free port."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from smallworld import INFLOW, SHARES, TARGET_SICK, start_serve, stop_serve, write_small

import sim
from sim.contract.parameters import get_value, scenario_data

WAIT_MS = 60_000


def lever(page: Any, path: str) -> Any:
    key = json.dumps({"key": "lille", "path": path, "type": "lever"}, separators=(",", ":"))
    return page.locator(f"[id='{key}']")


def stamp(page: Any) -> str:
    found = page.evaluate("() => { const s = document.querySelector('#stamp'); "
                          "return s ? s.textContent : ''; }")
    return str(found)


def next_answer(page: Any, before: str) -> str:
    """Wait for an answer to a newer question than `before`'s (at least its first runs)."""
    asked = before.split(":")[0] if before else "0"
    page.wait_for_function(
        """asked => { const s = document.querySelector('#stamp');
                      if (!s) return false; const [n, runs] = s.textContent.split(':');
                      return Number(n) > Number(asked) && Number(runs) > 0; }""", arg=asked, timeout=WAIT_MS)
    return stamp(page)


def cell(page: Any, target: str, column: int) -> str:
    row = page.locator("#targets tr", has_text=target)
    return str(row.locator("td").nth(column).inner_text())


def probability_of(page: Any, target: str) -> str:
    return cell(page, target, 1)


def type_value(page: Any, path: str, value: str) -> None:
    box = lever(page, path).locator("input")
    box.fill(value)
    box.press("Tab")


def test_the_page_answers_refuses_and_exports(browser: Any, tmp_path: Path) -> None:
    scenario_file = write_small(tmp_path)
    before = {p for p in tmp_path.rglob("*") if p.is_file()}
    process, url = start_serve(str(scenario_file), "--port", "0", "--runs", "16", "--workers", "2",
                               cwd=tmp_path)
    try:
        assert url.startswith("http://127.0.0.1:")
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        page.goto(url)
        first = next_answer(page, "")
        base_p = probability_of(page, TARGET_SICK)
        assert base_p[0].isdigit()

        thumb = lever(page, INFLOW).locator("[role=slider]")
        thumb.focus()
        thumb.press("End")  # 10 a week: a mean caseload of 20 against at most 10
        moved = next_answer(page, first)
        assert thumb.get_attribute("aria-valuenow") == "10"
        assert probability_of(page, TARGET_SICK).startswith("0,00")
        assert probability_of(page, TARGET_SICK) != base_p
        assert 15 <= float(cell(page, TARGET_SICK, 5).replace(",", ".")) <= 25  # the year's mean: λ/μ = 20
        assert "Ændret" in page.inner_text("#status") and "5 → 10" in page.inner_text("#status")

        type_value(page, SHARES[0], "0.6")
        type_value(page, SHARES[1], "0.6")
        page.wait_for_function("() => document.querySelector('#refusal').innerText.includes('sum to 1.2')",
                               timeout=WAIT_MS)
        assert "afviser" in page.inner_text("#refusal")

        type_value(page, SHARES[0], "0.4")  # a combination the contract accepts again: 0.4 + 0.2,
        type_value(page, SHARES[1], "0.2")  # and each range's end with the other as set
        page.wait_for_function("() => document.querySelector('#refusal').innerText === ''", timeout=WAIT_MS)
        next_answer(page, moved)

        page.click("#save")
        page.wait_for_selector("#saved-path", timeout=WAIT_MS)
        saved = tmp_path / page.inner_text("#saved-path")
        assert saved.is_file() and saved.parent == tmp_path / "outputs" / "whatif"
        values = scenario_data(sim.load_scenario(saved))
        assert get_value(values, INFLOW) == 10 and get_value(values, SHARES[0]) == 0.4
        assert get_value(values, SHARES[1]) == 0.2
        download = page.request.get(url.rstrip("/") + page.get_attribute("#saved-path", "href"))
        assert download.ok and "extends:" in download.text()

        page.click("#report")
        page.wait_for_selector("#report-link", timeout=180_000)
        report = page.request.get(url.rstrip("/") + page.get_attribute("#report-link", "href"))
        assert report.ok and "Lille kommune" in report.text()
        page.close()
    finally:
        code, _out, err = stop_serve(process)
    assert code == 0, err[-3000:]
    after = {p for p in tmp_path.rglob("*") if p.is_file()}
    assert {p for p in after - before if "outputs" not in p.relative_to(tmp_path).parts} == set()
