"""The console summaries are read from the folders `caseflow run` and `caseflow compare` write.

What the command prints is exactly what the folder's files say: printing the folder again gives
the same text, and a changed file changes it. The reports layer never imports the simulation.
"""

from __future__ import annotations

import ast
import importlib
import io
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from rich.console import Console
from typer.testing import CliRunner

from sim.cli.app import app
from sim.reports.comparedata import load_comparison
from sim.reports.console import print_differences, print_summary
from sim.reports.rundata import load_run

ROOT = Path(__file__).resolve().parents[2]
APP_MODULE = importlib.import_module("sim.cli.app")
"""The module itself (the package attribute `sim.cli.app` is the Typer app)."""
WIDTH = 160

SCENARIO = """
name: {name}
start: 2019-01-01
months: 12
seed: 5
states: {{a_dagpenge: {{}}, sygedagpenge: {{}}}}
initial: {{a_dagpenge: 120, sygedagpenge: 80}}
inflow_per_week: {{a_dagpenge: 4, sygedagpenge: 5}}
transitions:
  a_dagpenge: [{{to: job, rate_per_week: 0.04}}]
  sygedagpenge: [{{to: job, mean_weeks: {weeks}}}]
targets:
  - {{name: Sygedagpenge højst 60, states: [sygedagpenge], year: 2019, at_most: 60}}
"""

runner = CliRunner()


def _scenario(folder: Path, name: str, weeks: int) -> Path:
    path = folder / f"{name}.yaml"
    path.write_text(SCENARIO.format(name=name, weeks=weeks), encoding="utf-8")
    return path


def _printed(show: Callable[[Any, Console], None], data: Any) -> str:
    """What a console summary prints for `data`, at the test's fixed width."""
    out = io.StringIO()
    show(data, Console(file=out, width=WIDTH))
    return out.getvalue()


def _invoke(monkeypatch: pytest.MonkeyPatch, args: list[str]) -> str:
    """Run a verb with its console at the test's width; what it printed."""
    out = io.StringIO()
    monkeypatch.setattr(APP_MODULE, "console", Console(file=out, width=WIDTH))
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    return out.getvalue()


def test_run_prints_the_summary_of_the_folder_it_wrote(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                                       ) -> None:
    out = tmp_path / "run"
    printed = _invoke(monkeypatch, ["run", str(_scenario(tmp_path, "lille", 10)), "-n", "4", "-w", "1",
                                    "--out", str(out)])
    summary = _printed(print_summary, load_run(out))
    assert "Sygedagpenge højst 60" in summary and "lille, 2019: helårspersoner" in summary
    assert "seed 5" in summary and "Sygedagpenge" in summary and "sygedagpenge " not in summary  # labels
    assert printed == summary + f"\nWrote {out}/ (seed 5)\n"


def test_the_summary_shows_what_the_files_hold(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "run"
    _invoke(monkeypatch, ["run", str(_scenario(tmp_path, "lille", 10)), "-n", "3", "-w", "1",
                          "--out", str(out)])
    targets = pd.read_csv(out / "targets.csv")
    targets.loc[0, "target"] = "Renamed in the folder"
    targets.to_csv(out / "targets.csv", index=False)
    pd.DataFrame([{"quantity": "2019 total full-year persons", "sd_parameters_drawn": 2.0,
                   "sd_parameters_fixed": 1.0, "parameter_share": 0.75, "dominant": "parameter"}]
                 ).to_csv(out / "layers.csv", index=False)
    summary = _printed(print_summary, load_run(out))
    assert "Renamed in the folder" in summary and "Sygedagpenge højst 60" not in summary
    assert "Parameterusikkerhed dominerer helårspersoner i alt i 2019: 75 %" in summary
    english = _printed(lambda data, console: print_summary(data, console, "en"), load_run(out))
    assert "Parameter uncertainty dominates the 2019 total full-year persons: 75%" in english


def test_compare_prints_the_differences_of_the_folder_it_wrote(tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "pair"
    base, variant = _scenario(tmp_path, "base", 10), _scenario(tmp_path, "faster", 8)
    printed = _invoke(monkeypatch, ["compare", str(base), str(variant), "-n", "4", "-w", "1",
                                    "--out", str(out)])
    differences = _printed(print_differences, load_comparison(out))
    assert "faster − base (4 parrede kørsler, seed 5)" in differences
    assert "Sygedagpenge højst 60" in differences
    assert "Offentlig forsørgelse i alt, helårspersoner" in differences
    assert printed == differences + f"\nWrote {out}/ (seed 5)\n"


def _imports(path: Path) -> set[str]:
    """The modules a source file imports, at any depth of its code."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("path", sorted((ROOT / "sim" / "reports").glob("*.py")), ids=lambda p: p.name)
def test_reports_import_neither_the_kernel_nor_the_batch(path: Path) -> None:
    below = {name for name in _imports(path) if name.startswith("sim.")}
    assert not {n for n in below if n.split(".")[1] in ("kernel", "batch", "cli")}


def test_the_console_summary_loads_no_simulation_or_charts() -> None:
    code = "import sys, sim.reports.console; print(' '.join(sorted(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    loaded = set(done.stdout.split())
    assert not {m for m in loaded if m.startswith(("sim.kernel", "sim.batch"))}
    assert not {"matplotlib", "scipy", "statsmodels", "openpyxl"} & loaded
