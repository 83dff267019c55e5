"""How much common random numbers sharpen a comparison: the standard error of a difference.

A what-if on the shipped Tårnby scenario (sick-listed leave for a job 15 % faster in every
duration band, or a scenario file given with --variant) is compared with the base twice: with
one seed for both (common random numbers, as `caseflow compare` does) and with independent
seeds. Printed per target and for the total: the difference, its standard error both ways, and
the ratio. Run:

    python benchmarks/crn.py --runs 200
    python benchmarks/crn.py --runs 200 --variant scenarios/taarnby-2018-jobsoegning-x3.yaml
"""

from __future__ import annotations

import argparse
import copy
from pathlib import Path
from typing import Any

import yaml

import sim
from sim.batch.compare import compare, differences

ROOT = Path(__file__).resolve().parents[1]


def variant(data: dict[str, Any], factor: float) -> dict[str, Any]:
    """The scenario with every sygedagpenge → job rate band multiplied by `factor`."""
    out = copy.deepcopy(data)
    out["name"] = f"{data['name']}, sick-listed back to work {factor - 1:+.0%}"
    for route in out["transitions"]["sygedagpenge"]:
        if route.get("to") == "job" and "rate_per_week" in route:
            rate = route["rate_per_week"]
            route["rate_per_week"] = ([[w, r * factor] for w, r in rate] if isinstance(rate, list)
                                      else rate * factor)
    return out


def main() -> None:
    """Run the comparison both ways and print the standard errors."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--variant", type=Path, default=None,
                        help="a what-if scenario file to compare instead (e.g. the shipped ×3 course)")
    args = parser.parse_args()
    data = yaml.safe_load((ROOT / "scenarios" / "taarnby-2018.yaml").read_text(encoding="utf-8"))
    base = sim.scenario_from_dict(data)
    what_if = (sim.load_scenario(args.variant) if args.variant is not None
               else sim.scenario_from_dict(variant(data, 1.15)))
    comparison = compare(base, what_if, args.runs, args.seed, args.workers)
    paired = comparison.differences
    # independent seeds: the variant run again with another seed, its replications paired by index
    independent = sim.run(what_if, args.runs, args.seed + 1, args.workers)
    independent.seed = comparison.base.seed
    unpaired = differences(comparison.base, independent)
    rows = paired[(paired["kind"] == "target") | ((paired["kind"] == "full_year_persons")
                                                  & (paired["name"].isin(["total", "sygedagpenge"])))]
    print(f"{'':58}{'difference':>12}{'SE (CRN)':>11}{'SE (indep.)':>13}{'ratio':>7}")
    for _, r in rows.iterrows():
        u = unpaired[(unpaired["kind"] == r["kind"]) & (unpaired["name"] == r["name"])
                     & (unpaired["year"] == r["year"])].iloc[0]
        label = f"{r['kind']}: {r['name']} {r['year']}"[:57]
        print(f"{label:58}{r['difference']:>12.4g}{r['difference_se']:>11.4g}{u['difference_se']:>13.4g}"
              f"{u['difference_se'] / r['difference_se']:>7.1f}")


if __name__ == "__main__":
    main()
