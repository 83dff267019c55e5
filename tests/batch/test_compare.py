"""`caseflow compare`: two scenarios on common random numbers, paired differences with intervals."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

import sim
from sim.batch.compare import DIFFERENCE_COLUMNS, compare, differences
from sim.cli.app import app

BASE: dict[str, Any] = {
    "name": "Base", "start": "2018-01-01", "months": 12, "seed": 4,
    "states": {"a_dagpenge": {}, "sygedagpenge": {}, "jobafklaring": {}},
    "initial": {"a_dagpenge": 300, "sygedagpenge": 250, "jobafklaring": 40},
    "inflow_per_week": {"a_dagpenge": 7, "sygedagpenge": 22},
    "transitions": {
        "a_dagpenge": [{"to": "job", "rate_per_week": 0.025}],
        "sygedagpenge": [{"to": "job", "rate_per_week": 0.085},
                         {"to": "jobafklaring", "at_week": 22, "share": 0.4},
                         {"to": "stay", "at_week": 22, "share": "rest"}],
        "jobafklaring": [{"to": "job", "rate_per_week": 0.03}],
    },
    "targets": [{"name": "Syge højst 260", "states": ["sygedagpenge"], "year": 2018, "at_most": 260}],
}


def faster_sick(data: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(data)
    out["name"] = "Faster"
    out["transitions"]["sygedagpenge"][0]["rate_per_week"] = 0.095
    return out


def test_a_scenario_compared_with_itself_differs_by_exactly_nothing() -> None:
    scenario = sim.scenario_from_dict(BASE)
    d = compare(scenario, scenario, runs=8).differences
    assert (d["difference"] == 0).all() and (d["difference_se"] == 0).all()


def test_common_random_numbers_cut_the_standard_error() -> None:
    base, variant = sim.scenario_from_dict(BASE), sim.scenario_from_dict(faster_sick(BASE))
    paired = compare(base, variant, runs=40, seed=1)
    row = paired.differences.query("kind == 'target'").iloc[0]
    untouched = paired.differences.query("kind == 'full_year_persons' and name == 'a_dagpenge'").iloc[0]
    assert untouched["difference"] == pytest.approx(0, abs=1e-9)  # nothing reaches a-dagpenge
    assert row["difference"] < 0 and row["difference_high95"] < 0
    independent = sim.run(variant, runs=40, seed=2)
    independent.seed = paired.base.seed  # pair by replication index only
    unpaired = differences(paired.base, independent).query("kind == 'target'").iloc[0]
    assert unpaired["difference_se"] > 3 * row["difference_se"]


def test_compare_cli_writes_both_runs_and_the_differences(tmp_path: Path) -> None:
    base_file, variant_file = tmp_path / "base.yaml", tmp_path / "variant.yaml"
    base_file.write_text(yaml.safe_dump(BASE, allow_unicode=True), encoding="utf-8")
    variant_file.write_text(yaml.safe_dump(faster_sick(BASE), allow_unicode=True), encoding="utf-8")
    out = tmp_path / "cmp"
    result = CliRunner().invoke(app, ["compare", str(base_file), str(variant_file), "-n", "6", "-w", "1",
                                      "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "Syge højst" in result.output and "95 %" in result.output
    table = pd.read_csv(out / "differences.csv")
    assert list(table.columns) == DIFFERENCE_COLUMNS
    for side in ("base", "variant"):
        assert (out / side / "targets.csv").exists() and (out / side / "report.html").exists()
    base_rep = pd.read_csv(out / "base" / "replications.csv").query("state == 'total'")
    variant_rep = pd.read_csv(out / "variant" / "replications.csv").query("state == 'total'")
    paired = variant_rep["full_year_persons"].to_numpy() - base_rep["full_year_persons"].to_numpy()
    total = table.query("kind == 'full_year_persons' and name == 'total'").iloc[0]
    assert total["difference"] == pytest.approx(paired.mean())
    assert total["difference_se"] == pytest.approx(paired.std(ddof=1) / np.sqrt(6))
