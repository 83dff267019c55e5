"""The HTML report shows programme use and caseworker teams when the scenario has them."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import yaml
from typer.testing import CliRunner

from sim.cli.app import app

SCENARIO = {
    "name": "features", "start": "2019-01-01", "months": 12, "seed": 5,
    "states": {"kontanthjaelp_jobparat": {}},
    "initial": {"kontanthjaelp_jobparat": 200}, "inflow_per_week": {"kontanthjaelp_jobparat": 4},
    "transitions": {"kontanthjaelp_jobparat": [{"to": "job", "rate_per_week": 0.02}]},
    "interventions": [{"name": "Kursus", "states": ["kontanthjaelp_jobparat"], "from_week": 8,
                       "places": 3, "duration_weeks": 2, "effects": {"during": {"job": 0.5}}}],
    "caseworkers": [{"team": "Jobteam", "states": ["kontanthjaelp_jobparat"], "headcount": 2,
                     "hours_per_week": 20, "hours_per_meeting": 1}],
}


def test_report_has_programme_and_team_tables(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(SCENARIO, allow_unicode=True), encoding="utf-8")
    out = tmp_path / "run"
    result = CliRunner().invoke(app, ["run", str(path), "-n", "3", "-w", "1", "--out", str(out),
                                      "--lang", "en"])
    assert result.exit_code == 0, result.output
    assert "Programmes" in result.output and "Caseworker teams" in result.output
    html = (out / "report.html").read_text(encoding="utf-8")
    assert '<section id="programmes">' in html and '<section id="teams">' in html
    held = pd.read_csv(out / "caseworkers.csv")["held"].sum()
    assert f"{held:,.0f}" in html  # the year's meetings held, as the team table prints it
