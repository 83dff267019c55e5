"""The code stays ruff- and mypy-clean, and the README's examples stay true."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import sim

ROOT = Path(__file__).resolve().parents[1]


def _tool(name: str) -> list[str]:
    local = Path(sys.executable).with_name(name)
    if local.exists():
        return [str(local)]
    found = shutil.which(name)
    if found is None:
        pytest.skip(f"{name} is not installed (pip install -e '.[test]')")
    return [found]


def test_ruff_is_clean() -> None:
    done = subprocess.run([*_tool("ruff"), "check", "sim", "tests", "benchmarks"], cwd=ROOT,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.slow
def test_mypy_is_clean() -> None:
    done = subprocess.run([*_tool("mypy")], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def _blocks(language: str) -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return re.findall(rf"```{language}\n(.*?)```", text, flags=re.S)


def test_readme_scenario_example_validates() -> None:
    blocks = {b.split(":", 1)[0]: b for b in _blocks("yaml")}
    example, programmes, teams = blocks["name"], blocks["interventions"], blocks["caseworkers"]
    calibration = blocks["calibrate"]
    scenario = sim.parse_scenario(example, "README.md")
    result = sim.run(scenario, runs=3, seed=1)
    assert set(result.targets["target"]) == {t.name for t in scenario.targets}
    with_features = sim.run(sim.parse_scenario(example + programmes + teams, "README.md"), runs=2, seed=1)
    assert with_features.programmes is not None and with_features.caseworkers is not None
    uncertain = sim.run(sim.parse_scenario(example + calibration, "README.md"), runs=3, seed=1)
    assert uncertain.layers is not None
    dated = sim.parse_scenario(example + blocks["rules"], "README.md")
    assert len(dated.rules) == 5 and sim.run(dated, runs=2, seed=1).staircase is not None


def test_readme_python_example_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    (example,) = _blocks("python")
    monkeypatch.chdir(ROOT)
    exec(compile(example.replace("runs=200", "runs=4"), "README.md", "exec"), {})


def test_readme_commands_name_the_shipped_scenario_and_pytest() -> None:
    commands = _blocks("bash")
    assert any("caseflow run scenarios/taarnby-2018.yaml" in c for c in commands)
    assert any(c.strip().endswith("pytest") for c in commands)
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    test_command = next(c for c in commands if c.strip().endswith("pytest")).strip().split(" && ")[-2:]
    assert " && ".join(test_command) in ci
