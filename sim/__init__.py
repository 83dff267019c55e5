"""caseflow: discrete-event simulation of Danish jobcentre caseloads.

The public API: `load_scenario(path)` → `Scenario`; `run(scenario, runs=…, seed=…, workers=…)`
→ `RunResult` with DataFrames `monthly`, `yearly`, `targets`, `flows`, `replications`.
"""

from importlib.metadata import PackageNotFoundError, version

from sim.batch.run import RunResult, run
from sim.contract.errors import Problem, ScenarioError
from sim.contract.loader import load_scenario, parse_scenario, scenario_from_dict
from sim.contract.schema import Scenario
from sim.kernel.engine import simulate
from sim.kernel.model import Model, compile_model

try:
    __version__ = version("caseflow")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0"

__all__ = [
    "Model", "Problem", "RunResult", "Scenario", "ScenarioError", "__version__", "compile_model",
    "load_scenario", "parse_scenario", "run", "scenario_from_dict", "simulate",
]
