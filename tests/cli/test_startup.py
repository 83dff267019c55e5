"""The command line starts fast: help, version and validate load none of the numerical libraries.

Each command runs in a fresh interpreter under `-X importtime`, which lists every module the
process imported, so a heavy import anywhere on the path of a quick verb shows up here.
"""

from __future__ import annotations

import importlib
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest

import sim

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = sorted(str(p) for p in (ROOT / "scenarios").glob("*.yaml"))
HEAVY = {"matplotlib", "scipy", "statsmodels"}
"""Libraries no quick verb may load."""
CONSOLE_SCRIPT = "import sys; from sim.__main__ import main; sys.argv[0] = 'caseflow'; sys.exit(main())"
"""What the installed `caseflow` script does (pyproject's `caseflow = "sim.__main__:main"`)."""


def _start(how: list[str], *args: str) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    """Run a command in a fresh interpreter; its result and the top-level packages it imported."""
    done = subprocess.run([sys.executable, "-X", "importtime", *how, *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    lines = [line for line in done.stderr.splitlines() if line.startswith("import time:")]
    names = {line.rsplit("|", 1)[-1].strip().split(".")[0] for line in lines[1:]}
    return done, names


COMMANDS = {
    "caseflow --help": (["-c", CONSOLE_SCRIPT], ["--help"]),
    "caseflow --version": (["-c", CONSOLE_SCRIPT], ["--version"]),
    "caseflow validate": (["-c", CONSOLE_SCRIPT], ["validate", *SCENARIOS]),
    "python -m sim --help": (["-m", "sim"], ["--help"]),
    "python -m sim --version": (["-m", "sim"], ["--version"]),
}


@pytest.mark.parametrize("command", list(COMMANDS))
def test_quick_verbs_import_no_numerical_library(command: str) -> None:
    how, args = COMMANDS[command]
    done, imported = _start(how, *args)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "sim" in imported and "typer" in imported, "the import listing was not read"
    assert not HEAVY & imported, f"{command} imported {sorted(HEAVY & imported)}"
    if "validate" not in command:
        assert "pandas" not in imported and "numpy" not in imported, f"{command} imported the data stack"


def test_validate_checks_every_shipped_scenario() -> None:
    how, args = COMMANDS["caseflow validate"]
    done, _ = _start(how, *args)
    assert done.stdout.splitlines() == [f"{path}: OK" for path in SCENARIOS]


@pytest.mark.parametrize("how", [["-c", CONSOLE_SCRIPT], ["-m", "sim"]])
def test_version_prints_the_package_version(how: list[str]) -> None:
    done, _ = _start(how, "--version")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"caseflow {version('caseflow')}"
    assert sim.__version__ == version("caseflow")


def test_python_m_sim_is_the_caseflow_command() -> None:
    done, _ = _start(["-m", "sim"], "--help")
    assert "Usage: caseflow" in done.stdout
    for verb in ("validate", "run", "compare", "report", "calibrate", "backtest"):
        assert verb in done.stdout


def test_importing_sim_loads_nothing_heavy() -> None:
    code = "import sys, sim; print(' '.join(sorted({m.split('.')[0] for m in sys.modules})))"
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    imported = set(done.stdout.split())
    assert not (HEAVY | {"pandas", "numpy", "pydantic", "simpy"}) & imported


HOMES = {
    "Model": "sim.kernel.model", "compile_model": "sim.features", "simulate": "sim.kernel.engine",
    "run": "sim.batch.run", "RunResult": "sim.batch.run", "compare": "sim.batch.compare",
    "load_scenario": "sim.contract.loader", "parse_scenario": "sim.contract.loader",
    "scenario_from_dict": "sim.contract.loader", "Scenario": "sim.contract.schema",
    "Problem": "sim.contract.errors", "ScenarioError": "sim.contract.errors",
    "sensitivity": "sim.batch.sensitivity", "SensitivityResult": "sim.batch.sensitivity",
    "goal_seek": "sim.batch.goalseek", "GoalSeekResult": "sim.batch.goalseek",
}


def test_public_api_names_come_from_their_homes() -> None:
    assert set(sim.__all__) == {*HOMES, "__version__"}
    assert set(sim.__all__) <= set(dir(sim))
    for name, home in HOMES.items():
        assert getattr(sim, name) is getattr(importlib.import_module(home), name), name
    with pytest.raises(AttributeError, match="no attribute 'no_such_name'"):
        _ = sim.no_such_name


def test_public_compare_pairs_two_scenarios() -> None:
    data = {"name": "base", "start": "2019-01-01", "months": 12, "states": {"sygedagpenge": {}},
            "initial": {"sygedagpenge": 50}, "inflow_per_week": {"sygedagpenge": 2},
            "transitions": {"sygedagpenge": [{"to": "job", "mean_weeks": 10}]}}
    base, variant = sim.scenario_from_dict(data), sim.scenario_from_dict({**data, "name": "variant"})
    result = sim.compare(base, variant, runs=2, seed=1)
    assert result.base.seed == result.variant.seed == 1
    assert (result.differences["difference"] == 0).all()
