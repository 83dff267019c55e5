"""How soon the what-if page answers, as a strategist meets it: wall-clock seconds, measured in
headless Chromium against `caseflow serve` started afresh on a scenario.

    python benchmarks/serve.py [SCENARIO] [--rounds 3] [--workers 2]

Each round starts the server, opens the page at once (the server is still preparing the
scenario: its pilot, the workers' start and the base's first runs), then moves levers one at a
time with the keyboard and waits for each first answer (8 runs of the variant on the base's
random numbers). Printed: the seconds from start to listening, from opening the page to its
first answer, and from each lever moved to its first answer. Wall-clock time is what the user
waits, so that is what is measured here (tests never assert it).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
WAIT_MS = 120_000
MOVES = ("inflow_per_week.sygedagpenge", "inflow_per_week.a_dagpenge", "observed.1.value",
         "transitions.fleksjob.4.share")
"""The levers moved, where the scenario has them (else its first four)."""


def _stamp(page: Any) -> str:
    found = page.evaluate("() => { const s = document.querySelector('#stamp'); "
                          "return s ? s.textContent : ''; }")
    return str(found)


def _answered(page: Any, after: int) -> int:
    page.wait_for_function(
        """after => { const s = document.querySelector('#stamp'); if (!s) return false;
                      const [n, runs] = s.textContent.split(':');
                      return Number(n) > after && Number(runs) > 0; }""",
        arg=after, timeout=WAIT_MS)
    return int(_stamp(page).split(":")[0])


def _settled(page: Any) -> int:
    page.wait_for_function("() => { const s = document.querySelector('#stamp'); "
                           "return s && s.textContent.split(':')[2] === 'False'; }", timeout=WAIT_MS * 5)
    return int(_stamp(page).split(":")[0])


def one_round(browser: Any, scenario: Path, workers: int) -> dict[str, Any]:
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-m", "sim", "serve", str(scenario), "--port", "0",
                                "--workers", str(workers)], cwd=ROOT, stdout=subprocess.PIPE, text=True,
                               stderr=subprocess.DEVNULL, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    assert process.stdout is not None
    line = process.stdout.readline()
    listening = time.perf_counter() - started
    url = "http://" + line.split("http://", 1)[1].split()[0]
    try:
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        opened = time.perf_counter()
        page.goto(url)
        asked = _answered(page, 0)
        first = time.perf_counter() - opened
        moves = []
        key = json.loads(page.locator("[id*='\"type\":\"lever\"']").first.get_attribute("id"))["key"]
        paths = [p for p in MOVES if page.locator(f"[id='{_lever_id(key, p)}']").count()]
        for path in paths:
            asked = _settled(page)
            thumb = page.locator(f"[id='{_lever_id(key, path)}'] [role=slider]")
            thumb.focus()
            moved = time.perf_counter()
            thumb.press("PageUp")
            asked = _answered(page, asked)
            moves.append(time.perf_counter() - moved)
        page.close()
    finally:
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=60)
    return {"listening": listening, "first": first, "moves": moves}


def _lever_id(key: str, path: str) -> str:
    return json.dumps({"key": key, "path": path, "type": "lever"}, separators=(",", ":"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenario", nargs="?", default=str(ROOT / "scenarios" / "taarnby-2018.yaml"))
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    chromium = next((p for p in ("/usr/bin/chromium", "/usr/bin/chromium-browser") if Path(p).exists()), None)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--disable-gpu"])
        rounds = [one_round(browser, Path(args.scenario), args.workers) for _ in range(args.rounds)]
        browser.close()
    moves = [m for r in rounds for m in r["moves"]]
    load = os.getloadavg()[0]
    print(f"{Path(args.scenario).name}, {args.workers} workers, {args.rounds} rounds (load {load:.1f})")
    print(f"  start → listening        {statistics.median(r['listening'] for r in rounds):5.2f} s median, "
          f"{max(r['listening'] for r in rounds):5.2f} s most")
    print(f"  page opened → 1st answer {statistics.median(r['first'] for r in rounds):5.2f} s median, "
          f"{max(r['first'] for r in rounds):5.2f} s most")
    total = [r["listening"] + r["first"] for r in rounds]
    print(f"  start → 1st answer       {statistics.median(total):5.2f} s median, {max(total):5.2f} s most")
    print(f"  lever moved → 1st answer {statistics.median(moves):5.2f} s median, {max(moves):5.2f} s most "
          f"({len(moves)} moves)")


if __name__ == "__main__":
    main()
