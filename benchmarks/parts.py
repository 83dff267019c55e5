"""Where a feature-heavy scenario's time goes: the scenario timed beside variants of it without its
programmes, and with each programme alone (as given, declining every referral, never referred).

Each variant is the scenario's own file with its `interventions` block changed (its `assumptions`
and `targets` left out, as some of them name the programmes), prepared once; the variants run
interleaved in one process as `benchmarks/engine.py` interleaves its implementations (CPU time,
each variant's fastest round). The differences between rows are what the parts cost.

    python benchmarks/parts.py [--scenario scenarios/taarnby-2018.yaml] [--reps 8] [--rounds 5]
"""

from __future__ import annotations

import argparse
import copy
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from engine import ROOT, interleaved


def variants(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The scenario as given and without programmes, then each programme alone in three ways."""
    base = {k: v for k, v in data.items() if k not in ("assumptions", "targets")}
    out = {"as given": base, "no programmes": {k: v for k, v in base.items() if k != "interventions"}}
    for spec in base.get("interventions", []):
        name = spec["name"]
        out[f"{name}: alone"] = base | {"interventions": [spec]}
        out[f"{name}: every referral declined"] = base | {"interventions": [spec | {"uptake": 0.0}]}
        never = {k: v for k, v in copy.deepcopy(spec).items() if k != "rate_per_week"}
        never |= {"referral": "at_week", "from_week": 10_000, "to_week": None}
        out[f"{name}: never referred"] = base | {"interventions": [never]}
    return out


def events(model: Any, seed: np.random.SeedSequence) -> int:
    """One replication of `model`: its event count."""
    import sim

    return int(sim.simulate(model, seed).n_events)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenario", type=Path, default=ROOT / "scenarios" / "taarnby-2018.yaml")
    parser.add_argument("--reps", type=int, default=8, help="replications a round")
    parser.add_argument("--rounds", type=int, default=5, help="rounds (each variant keeps its fastest)")
    args = parser.parse_args()
    import sim
    from sim.features import prepare_model

    data = yaml.safe_load(args.scenario.read_text(encoding="utf-8"))
    runners: list[tuple[str, Callable[[np.random.SeedSequence], Any]]] = []
    for name, variant in variants(data).items():
        model = prepare_model(sim.scenario_from_dict(variant), seed=1)
        runners.append((name, partial(events, model)))
    seeds = np.random.SeedSequence(20180101).spawn(args.reps + 1)
    best, first = interleaved(runners, seeds[1:], seeds[0], args.rounds)
    width = max(len(name) for name, _ in runners)
    print(f"{'variant':{width}s}  ms/rep  events/rep")
    for (name, _), seconds, outs in zip(runners, best, first, strict=True):
        print(f"{name:{width}s}  {1000 * seconds:6.1f}  {np.mean(outs):10,.0f}")


if __name__ == "__main__":
    main()
