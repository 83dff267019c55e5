"""caseflow: discrete-event simulation of Danish jobcentre caseloads.

The public API: `load_scenario(path, settings=[(PATH, VALUE), …])` → `Scenario` (an overlay's
`extends:` bases merged in); `run(scenario, runs=…, seed=…, workers=…)` → `RunResult` with
DataFrames `monthly`, `yearly`, `targets`, `flows`, `replications`; `compare(base, variant,
runs=…, seed=…)` → `Comparison`: both `RunResult`s and the DataFrame `differences`, paired on
common random numbers (`base` a Scenario, or a finished run's folder, reused as it is).

Names are imported on first use (PEP 562), so `import sim` and the command line's quick verbs
do not pay for the simulation's numerical libraries.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sim.batch.compare import compare
    from sim.batch.goalseek import GoalSeekResult, goal_seek
    from sim.batch.run import RunResult, run
    from sim.batch.sensitivity import SensitivityResult, sensitivity
    from sim.contract.errors import Problem, ScenarioError
    from sim.contract.loader import load_scenario, parse_scenario, scenario_from_dict
    from sim.contract.schema import Scenario
    from sim.features import compile_model
    from sim.kernel.engine import simulate
    from sim.kernel.model import Model

    __version__: str

_HOMES: dict[str, str] = {
    "Model": "sim.kernel.model",
    "compile_model": "sim.features",
    "simulate": "sim.kernel.engine",
    "run": "sim.batch.run",
    "RunResult": "sim.batch.run",
    "compare": "sim.batch.compare",
    "sensitivity": "sim.batch.sensitivity",
    "SensitivityResult": "sim.batch.sensitivity",
    "goal_seek": "sim.batch.goalseek",
    "GoalSeekResult": "sim.batch.goalseek",
    "load_scenario": "sim.contract.loader",
    "parse_scenario": "sim.contract.loader",
    "scenario_from_dict": "sim.contract.loader",
    "Scenario": "sim.contract.schema",
    "Problem": "sim.contract.errors",
    "ScenarioError": "sim.contract.errors",
}
"""Each public name and the module it lives in."""

__all__ = [
    "GoalSeekResult", "Model", "Problem", "RunResult", "Scenario", "ScenarioError", "SensitivityResult",
    "__version__", "compare", "compile_model", "goal_seek", "load_scenario", "parse_scenario", "run",
    "scenario_from_dict", "sensitivity", "simulate",
]


def _version() -> str:
    """The installed distribution's version; 0.0.0 when running from a bare source tree."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("caseflow")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "0.0.0"


def __getattr__(name: str) -> Any:
    """Import a public name from its home on first use and keep it on the package."""
    if name == "__version__":
        value: Any = _version()
    elif name in _HOMES:
        value = getattr(importlib.import_module(_HOMES[name]), name)
    else:
        raise AttributeError(f"module 'sim' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """The public API alongside the package's own attributes."""
    return sorted({*globals(), *__all__})
