"""A headless Chromium for the tests that look at a page in a real browser.

The browser is found or installed here: $CASEFLOW_CHROMIUM, a Chromium on the PATH (Debian's
`chromium` package), Playwright's own download, else `apt-get install -y chromium` (as root,
where apt-get exists) or `python -m playwright install chromium`. Without one a test is skipped,
except under CI (CI=true), where it fails: a green run must have looked.
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
