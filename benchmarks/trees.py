"""Two checkouts of caseflow timed against each other in one process, replication by replication.

A change to the engine is timed against the commit before it: check that commit out into a
second folder (`git worktree add ../before HEAD~1`) and give both folders. Each tree's `sim` is
imported under its own modules and the scenario prepared once per tree; the rounds interleave
the trees as `benchmarks/engine.py` interleaves its implementations (`interleaved`: CPU time,
each tree's fastest round).

    python benchmarks/trees.py ../before . --scenario scenarios/taarnby-2018.yaml --reps 10 --rounds 8
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from engine import interleaved

Replicate = Callable[[np.random.SeedSequence], Any]


def _load(tree: Path, scenario: Path, seed: int) -> Replicate:
    """Tree's engine and prepared scenario, imported apart from any other tree's."""
    for name in [n for n in sys.modules if n == "sim" or n.startswith("sim.")]:
        del sys.modules[name]
    sys.path.insert(0, str(tree))
    try:
        sim = importlib.import_module("sim")
        if Path(str(sim.__file__)).resolve().parents[1] != tree.resolve():
            raise SystemExit(f"{tree} has no sim package of its own (found {sim.__file__})")
        features = importlib.import_module("sim.features")
        engine = importlib.import_module("sim.kernel.engine")
        model = features.prepare_model(sim.load_scenario(scenario), seed)
    finally:
        sys.path.remove(str(tree))

    def replicate(seq: np.random.SeedSequence) -> Any:
        return engine.simulate(model, seq)

    return replicate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("trees", type=Path, nargs=2, help="the two checkouts, before and after")
    parser.add_argument("--scenario", type=Path, default=Path("scenarios/taarnby-2018.yaml"),
                        help="relative to each tree, or absolute")
    parser.add_argument("--seed", type=int, default=20180101)
    parser.add_argument("--reps", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    runners = [(str(tree), _load(tree, args.scenario if args.scenario.is_absolute() else tree / args.scenario,
                                 args.seed)) for tree in args.trees]
    seeds = [np.random.SeedSequence(args.seed, spawn_key=(i,)) for i in range(args.reps)]
    results, _ = interleaved(runners, seeds, np.random.SeedSequence(args.seed, spawn_key=(args.reps,)),
                             args.rounds)
    for tree, seconds in zip(args.trees, results, strict=True):
        print(f"{tree}: {seconds * 1000:.1f} ms a replication")
    print(f"after / before: {results[1] / results[0]:.3f}")


if __name__ == "__main__":
    main()
