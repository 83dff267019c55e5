"""Peak memory of a batch against its number of replications: it should not grow with them.

Each measurement runs in a fresh process: `sim.run` on a ten-year scenario of five states
(about 40 kB of results a replication), then the peak resident memory of the main process
(`ru_maxrss`) and of its worker processes. Results are stored on disk as they arrive, so 2,000
replications should need no more memory than 200.

    python benchmarks/memory.py                       # 200 and 2,000 runs, 2 workers
    python benchmarks/memory.py --runs 200 2000 10000 --workers 2
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

SCENARIO = {
    "name": "memory", "start": "2018-01-01", "months": 120, "seed": 1,
    "states": {"a_dagpenge": {}, "sygedagpenge": {}, "jobafklaring": {}, "kontanthjaelp": {},
               "ressourceforloeb": {}},
    "initial": {"a_dagpenge": 40, "sygedagpenge": 30, "jobafklaring": 10, "kontanthjaelp": 30,
                "ressourceforloeb": 10},
    "inflow_per_week": {"a_dagpenge": 2, "sygedagpenge": 2, "kontanthjaelp": 1},
    "transitions": {
        "a_dagpenge": [{"to": "job", "mean_weeks": 20}, {"to": "kontanthjaelp", "mean_weeks": 200}],
        "sygedagpenge": [{"to": "job", "mean_weeks": 12}, {"to": "jobafklaring", "at_week": 22, "share": 0.3},
                         {"to": "job", "at_week": 22, "share": "rest"}],
        "jobafklaring": [{"to": "ressourceforloeb", "mean_weeks": 40}, {"to": "job", "mean_weeks": 60}],
        "kontanthjaelp": [{"to": "job", "mean_weeks": 50}],
        "ressourceforloeb": [{"to": "job", "mean_weeks": 100}],
    },
}

CHILD = """
import json, resource, sys
import sim
scenario = sim.scenario_from_dict(json.loads(sys.argv[1]))
sim.run(scenario, runs=int(sys.argv[2]), workers=int(sys.argv[3]))
main = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(json.dumps({"main_kb": main, "worker_kb": workers}))
"""


def peak(runs: int, workers: int) -> dict[str, int]:
    """Peak resident kB of the main process and of the largest worker, for one batch of `runs`."""
    done = subprocess.run([sys.executable, "-c", CHILD, json.dumps(SCENARIO), str(runs), str(workers)],
                          capture_output=True, text=True, check=True)
    result: dict[str, int] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, nargs="+", default=[200, 2000])
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    first: dict[str, int] | None = None
    print("| runs | main process, peak MB | largest worker, peak MB | main / first |")
    print("| ---: | ---: | ---: | ---: |")
    for runs in args.runs:
        got = peak(runs, args.workers)
        first = first or got
        print(f"| {runs:,} | {got['main_kb'] / 1024:.1f} | {got['worker_kb'] / 1024:.1f} | "
              f"{got['main_kb'] / first['main_kb']:.3f} |")


if __name__ == "__main__":
    main()
