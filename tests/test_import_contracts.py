"""The package's import contracts: layers top to bottom, and no import points upward.

The contracts live in pyproject.toml under `[tool.importlinter]` and are checked by import-linter's
`lint-imports`, which reads every import, those inside functions included. The layers, top to
bottom: cli, reports, fitting, batch, results, features, kernel, contract. No contract may carry
`ignore_imports`: a broken contract is fixed in the code, not excused in the configuration.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
LAYERS = [
    "sim.cli",
    "sim.serve",
    "sim.reports",
    "sim.fitting",
    "sim.batch",
    "sim.results",
    "sim.features",
    "sim.kernel",
    "sim.contract",
]
"""Top to bottom: a module may import only from its own layer or the ones below it."""


def _config() -> dict[str, Any]:
    with (ROOT / "pyproject.toml").open("rb") as f:
        config: dict[str, Any] = tomllib.load(f)["tool"]["importlinter"]
    return config


def _keys(value: object) -> list[str]:
    """Every key in a nested TOML value."""
    if isinstance(value, dict):
        return [k for key, item in value.items() for k in [key, *_keys(item)]]
    if isinstance(value, list):
        return [k for item in value for k in _keys(item)]
    return []


def _lint_imports() -> str | None:
    """The `lint-imports` next to this interpreter (the virtualenv's), else the one on the PATH."""
    return shutil.which("lint-imports", path=str(Path(sys.executable).parent)) or shutil.which("lint-imports")


def test_import_contracts_are_kept() -> None:
    command = _lint_imports()
    if command is None:
        pytest.skip("lint-imports not found next to the interpreter or on the PATH: pip install -e '.[test]'")
    done = subprocess.run([command, "--no-cache"], cwd=ROOT, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, f"lint-imports exited {done.returncode}:\n{done.stdout}{done.stderr}"


def test_no_contract_ignores_imports() -> None:
    ignoring = [key for key in _keys(_config()) if "ignore_imports" in key]
    assert not ignoring, f"pyproject.toml's [tool.importlinter] has {ignoring}"


def test_layers_contract_names_every_layer_in_order() -> None:
    layers = [c for c in _config()["contracts"] if c["type"] == "layers"]
    assert [c["layers"] for c in layers] == [LAYERS]
