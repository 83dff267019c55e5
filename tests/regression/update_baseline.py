"""Regenerate tests/regression/baseline.yaml from the shipped scenarios. Run only on purpose:

    python tests/regression/update_baseline.py

and say in the commit why the numbers moved.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

import sim

ROOT = Path(__file__).resolve().parents[2]
BASELINE = Path(__file__).with_name("baseline.yaml")
RUNS, SEED = 20, 20180101


def key_results(scenario_path: Path) -> dict[str, Any]:
    """Yearly means per state and target probabilities of a fixed-seed run."""
    result = sim.run(sim.load_scenario(scenario_path), runs=RUNS, seed=SEED, workers=1)
    yearly = {f"{int(r.year)}/{r.state}": round(float(r.mean), 6) for r in result.yearly.itertuples()}
    targets = {str(r.target): round(float(r.probability_met), 6) for r in result.targets.itertuples()}
    return {"runs": RUNS, "seed": SEED, "yearly_mean": yearly, "probability_met": targets}


def baseline() -> dict[str, Any]:
    """Key results of every shipped scenario."""
    return {p.name: key_results(p) for p in sorted((ROOT / "scenarios").glob("*.yaml"))}


if __name__ == "__main__":
    BASELINE.write_text(yaml.safe_dump(baseline(), sort_keys=True, allow_unicode=True), encoding="utf-8")
    print(f"wrote {BASELINE}")
