"""Fixtures every test folder may use: `browser` (a headless Chromium, tests/browsers.py)."""

pytest_plugins = ["browsers"]
