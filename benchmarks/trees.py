"""Two checkouts of caseflow timed against each other in one process, replication by replication.

A change to the engine is timed against the commit before it: check that commit out into a
second folder (`git worktree add ../before HEAD~1`) and give both folders. Each tree's `sim` is
imported under its own modules, the scenario prepared once per tree, and the replications
interleaved (tree A's replication i, then tree B's), so both see the same machine state; each
replication keeps its fastest round (CPU time) and the mean over replications is printed.

    python benchmarks/trees.py ../before . --scenario scenarios/taarnby-2018.yaml --reps 10 --rounds 8
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

Replicate = Callable[[int], Any]


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
        streams = importlib.import_module("sim.kernel.streams")
        model = features.prepare_model(sim.load_scenario(scenario), seed)
    finally:
        sys.path.remove(str(tree))

    def replicate(i: int) -> Any:
        return engine.simulate(model, streams.replication_seed(seed, i))

    replicate(0)  # warm: first-use imports and caches
    return replicate


def timed(runners: list[Replicate], reps: int, rounds: int) -> list[float]:
    """Mean over replications of each runner's fastest round, in CPU seconds."""
    best = [[float("inf")] * reps for _ in runners]
    for _ in range(rounds):
        for i in range(reps):
            for k, replicate in enumerate(runners):
                started = time.process_time()
                replicate(i)
                best[k][i] = min(best[k][i], time.process_time() - started)
    return [sum(b) / reps for b in best]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("trees", type=Path, nargs=2, help="the two checkouts, before and after")
    parser.add_argument("--scenario", type=Path, default=Path("scenarios/taarnby-2018.yaml"),
                        help="relative to each tree, or absolute")
    parser.add_argument("--seed", type=int, default=20180101)
    parser.add_argument("--reps", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    runners = [_load(tree, args.scenario if args.scenario.is_absolute() else tree / args.scenario, args.seed)
               for tree in args.trees]
    results = timed(runners, args.reps, args.rounds)
    for tree, seconds in zip(args.trees, results, strict=True):
        print(f"{tree}: {seconds * 1000:.1f} ms a replication")
    print(f"after / before: {results[1] / results[0]:.3f}")


if __name__ == "__main__":
    main()
