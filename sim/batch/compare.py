"""Compare two scenarios under common random numbers: paired differences per replication.

Both scenarios run with one seed, so replication i of each draws the same numbers for the same
citizens; the difference of each replication's values (variant − base) is far less noisy than
either forecast, and its standard error is that of the paired differences.

The base may also be a finished run's folder: its resolved scenario, seed and runs are read back,
its store is copied (nothing of it is run again, the summaries are computed from it as a batch
computes them) and only the variant runs, with the base's seed and runs.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sim.batch.executors import Executor
from sim.batch.run import Progress, RunResult, fresh_seed, run
from sim.batch.runfolder import STORE, scenario_hash
from sim.batch.store import DONE, StoreMismatch, finished, npy_header, table_shape
from sim.contract.calendar import Calendar
from sim.contract.catalogue import TOTAL
from sim.contract.errors import ScenarioError
from sim.contract.loader import load_scenario
from sim.contract.schema import Scenario
from sim.contract.yamlio import check_file
from sim.results.differences import DIFFERENCE_COLUMNS
from sim.results.folder import FACTS, RUNNING, SCENARIO_FILE

LOG = logging.getLogger("caseflow.batch")

DEFAULT_RUNS = 100
"""Replications of each scenario when none are asked for (and the base is not a saved run)."""


@dataclass
class Comparison:
    """Two runs on common random numbers and their paired differences."""

    base: RunResult
    variant: RunResult
    differences: pd.DataFrame


class NotComparable(ValueError):
    """Two scenarios whose comparison would be an empty table: no target and no state-year in common."""


class SavedBaseError(ValueError):
    """A run folder that cannot serve as a comparison's base, and why."""


@dataclass(frozen=True)
class SavedBase:
    """A finished run read back for reuse as a comparison's base."""

    folder: Path
    scenario: Scenario
    seed: int
    runs: int


def comparable(base: Scenario, variant: Scenario) -> None:
    """Refuse (NotComparable) two scenarios with no target and no state in a full year in common."""
    if {t.name for t in base.targets} & {t.name for t in variant.targets}:
        return
    states = [code for code in base.states if code in variant.states]
    years = sorted(_years(base) & _years(variant))
    if states and years:
        return
    names = f"{base.name!r} and {variant.name!r}"
    if not states:
        raise NotComparable(f"{names} have no target and no state in common (the base's states: "
                            f"{_few(list(base.states))}; the variant's: {_few(list(variant.states))}), so "
                            "their differences would be an empty table; compare a variant with the scenario "
                            "it changes")
    raise NotComparable(f"{names} have no target and no full calendar year in common (the base's: "
                        f"{_few([str(y) for y in sorted(_years(base))])}; the variant's: "
                        f"{_few([str(y) for y in sorted(_years(variant))])}), so their differences would be "
                        "an empty table; give them a horizon in common")


_AGAIN = "run the base again"
_WROTE = "give a folder `caseflow run` wrote"


def _whole(x: object) -> bool:
    return isinstance(x, int) and not isinstance(x, bool) and x >= 0


def _years(scenario: Scenario) -> set[int]:
    return set(Calendar.build(scenario.start.replace(day=1), scenario.months).full_years())


def _few(names: list[str]) -> str:
    return (", ".join(names[:6]) + (f" and {len(names) - 6} more" if len(names) > 6 else "")) or "none"


def saved_base(folder: Path, version: str, runs: int | None = None, seed: int | None = None) -> SavedBase:
    """A finished run folder as a comparison's base, checked: complete, made by this `version`,
    its store whole and of the run's shape, and `runs` and `seed` (when given) the run's own.
    SavedBaseError says why not; ScenarioError lists the problems of its scenario.yaml."""
    folder = Path(folder)
    if not folder.is_dir():
        raise SavedBaseError(f"{folder} is not a folder; give a finished run's folder or a scenario file")
    if (folder / RUNNING).exists():
        raise SavedBaseError(f"{folder} is incomplete (it has {RUNNING}: the run was stopped, or is still "
                             f"being written); complete it with caseflow run --resume {folder}, or give a "
                             "finished run")
    if (folder / "differences.csv").exists():
        raise SavedBaseError(f"{folder} is a comparison's folder; give the run folder of its base, "
                             f"{folder / 'base'}, or another finished run")
    facts = _facts(folder)
    for key in ("seed", "runs", "caseflow_version"):
        if key not in facts:
            raise SavedBaseError(f"{folder / FACTS} does not say the run's {key}; {_WROTE}")
    given_seed, given_runs = facts["seed"], facts["runs"]
    if not (_whole(given_seed) and _whole(given_runs)):
        raise SavedBaseError(f"{folder / FACTS} gives seed {given_seed!r} and runs {given_runs!r}, not whole "
                             f"numbers; {_WROTE}")
    own_seed, own_runs = int(str(given_seed)), int(str(given_runs))
    if facts["caseflow_version"] != version:
        raise SavedBaseError(f"{folder} was run by caseflow {facts['caseflow_version']} and this is "
                             f"{version}: its replications would not pair with the variant's; {_AGAIN}")
    if runs is not None and runs != own_runs:
        raise SavedBaseError(f"--runs {runs} differs from the {own_runs} runs of {folder}: a saved base "
                             f"pairs with a variant of its own runs; leave --runs out, or {_AGAIN}")
    if seed is not None and seed != own_seed:
        raise SavedBaseError(f"--seed {seed} differs from the seed {own_seed} of {folder}: common random "
                             f"numbers need the base's seed; leave --seed out, or {_AGAIN}")
    if not (folder / SCENARIO_FILE).exists():
        raise SavedBaseError(f"{folder} has no {SCENARIO_FILE} (the resolved scenario); give a folder "
                             "`caseflow run` wrote")
    scenario = load_scenario(folder / SCENARIO_FILE)
    recorded = facts.get("scenario_sha256")
    if scenario.seed != own_seed or (recorded is not None and scenario_hash(scenario, own_seed) != recorded):
        raise SavedBaseError(f"{folder / SCENARIO_FILE} is not the scenario {folder / FACTS} was run with: "
                             f"the scenario was edited after the run; {_AGAIN}")
    _check_store(folder / STORE, scenario, own_runs)
    return SavedBase(folder, scenario, own_seed, own_runs)


def _facts(folder: Path) -> dict[str, object]:
    """run.json's facts, or SavedBaseError: a run folder's last file, so without it the run is unfinished."""
    path = folder / FACTS
    if not path.exists():
        raise SavedBaseError(f"{folder} is not a finished run's folder (it has no {FACTS}); give the folder "
                             "of a finished `caseflow run`, or a scenario file")
    try:
        check_file(path, "a run's run.json")
        facts = json.loads(path.read_text(encoding="utf-8"))
    except ScenarioError as exc:
        raise SavedBaseError(f"{path} {exc.problems[0].message}") from None
    except (OSError, ValueError) as exc:
        raise SavedBaseError(f"{path} cannot be read as JSON ({exc}); {_WROTE}") from None
    if not isinstance(facts, dict):
        raise SavedBaseError(f"{path} is not a mapping of the run's facts; {_WROTE}")
    return facts


def _check_store(store: Path, scenario: Scenario, runs: int) -> None:
    """Refuse a saved store that is missing, holds other than regular files, lacks a finished
    replication, or whose arrays are not of this scenario's cells and these runs."""
    if not store.is_dir() or not (store / DONE).exists():
        raise SavedBaseError(f"{store} is missing (the run's per-replication arrays); a saved base needs "
                             f"them: {_AGAIN}")
    for entry in sorted(store.iterdir()):
        try:
            regular = stat.S_ISREG(os.stat(entry).st_mode)
        except OSError:
            regular = False
        if not regular:
            raise SavedBaseError(f"{entry} is not a regular file; a run's store holds its arrays only")
    done = finished(store)
    if done != runs:
        raise SavedBaseError(f"{store} holds {done} finished replications, not the run's {runs}; {_AGAIN}")
    rows = len(scenario.states) + 1
    years = len(_years(scenario))
    cells = {"monthly": rows * scenario.months, "yearly": rows * years, "targets": len(scenario.targets)}
    for name in cells:
        if not (store / f"{name}.npy").exists():
            raise SavedBaseError(f"{store} has no {name}.npy; a saved base needs the run's whole store: run "
                                 "the base again")
    for path in sorted(store.glob("*.npy")):
        header = npy_header(path)
        shape = header[0] if header is not None else None
        want = cells.get(path.stem)
        tiles, _, tile = table_shape(0, runs)
        if (shape is None or len(shape) != 3 or (shape[0], shape[2]) != (tiles, tile)
                or (want is not None and shape[1] != want)):
            expected = table_shape(want, runs) if want is not None else f"({tiles}, cells, {tile})"
            raise SavedBaseError(f"{path} holds values of shape {shape}, not the {expected} of "
                                 f"{scenario.name!r} over {runs} runs; {_AGAIN}")


def compare(base: Scenario | SavedBase | str | os.PathLike[str], variant: Scenario, runs: int | None = None,
            seed: int | None = None, workers: int | None = 1, store_dirs: tuple[Path, Path] | None = None,
            progress: Progress | None = None, executor: Executor | None = None) -> Comparison:
    """Run both scenarios with one seed and tabulate variant − base per target and state-year
    (`executor`, when given, replaces `workers`: `sim.batch.executors`). `base` may be a finished
    run's folder (or `saved_base` of it): only the variant runs, with the base's seed and runs,
    and `runs` and `seed`, when given, must be the base's. Two scenarios with nothing in common
    are refused (NotComparable); a folder that cannot serve as a base, with SavedBaseError."""
    if isinstance(base, str | os.PathLike):
        import sim

        base = saved_base(Path(base), sim.__version__, runs, seed)
    saved = base if isinstance(base, SavedBase) else None
    scenario = saved.scenario if saved is not None else base
    assert isinstance(scenario, Scenario)
    comparable(scenario, variant)
    if saved is not None:
        runs, seed = saved.runs, saved.seed
    runs = DEFAULT_RUNS if runs is None else runs
    if seed is None:
        seed = scenario.seed if scenario.seed is not None else fresh_seed()
    dirs = store_dirs or (None, None)
    if saved is not None:
        a = reuse(saved, dirs[0], workers, progress)
    else:
        a = run(scenario, runs, seed, workers, dirs[0], progress, executor=executor)
    b = run(variant, runs, seed, workers, dirs[1], progress, executor=executor)
    return Comparison(a, b, differences(a, b))


def reuse(saved: SavedBase, store_dir: Path | None, workers: int | None = 1,
          progress: Progress | None = None) -> RunResult:
    """The saved run's result, from a copy of its store in `store_dir` (a temporary folder if
    None): no replication is run again; SavedBaseError when its arrays are not this scenario's."""
    tmp = None
    if store_dir is None:
        tmp = tempfile.TemporaryDirectory(prefix="caseflow-")
        store_dir = Path(tmp.name)
    store_dir.mkdir(parents=True, exist_ok=True)
    source = saved.folder / STORE
    names = {path.stem for path in source.glob("*.npy")}
    for path in sorted(source.iterdir()):
        shutil.copyfile(path, store_dir / path.name)
    LOG.info("%s: the base's %d replications (seed %d) reused from %s", saved.scenario.name, saved.runs,
             saved.seed, saved.folder)
    try:
        result = run(saved.scenario, saved.runs, saved.seed, workers, store_dir, progress, resume=True)
    except StoreMismatch as exc:  # arrays of another scenario
        raise SavedBaseError(f"{source} does not hold this scenario's replications ({exc}); run the base "
                             "again") from None
    if set(result.store.arrays) != names:
        missing = sorted(set(result.store.arrays) - names) or sorted(names - set(result.store.arrays))
        raise SavedBaseError(f"{source} does not hold the arrays of {saved.scenario.name!r} "
                             f"({', '.join(f'{n}.npy' for n in missing)}); {_AGAIN}")
    if tmp is not None:
        result._tmp = tmp
    return result


def differences(a: RunResult, b: RunResult) -> pd.DataFrame:
    """Paired differences of two runs made with the same seed and number of runs."""
    if (a.seed, a.runs) != (b.seed, b.runs):
        raise ValueError("paired differences need two runs with the same seed and number of runs")
    rows: list[dict[str, object]] = []
    targets_a = {t.name: i for i, t in enumerate(a.targets_resolved)}
    for j, t in enumerate(b.targets_resolved):
        if t.name not in targets_a:
            continue
        i = targets_a[t.name]
        va, vb = np.asarray(a.store.arrays["targets"][i]), np.asarray(b.store.arrays["targets"][j])
        ta = a.targets_resolved[i]
        spec = a.scenario.targets[i]
        year = spec.year if spec.year is not None else int(spec.period[:4])  # a month target: its year
        rows.append(_row("target", t.name, year, va, vb)
                    | {"base_probability_met": float(ta.met(va).mean()),
                       "variant_probability_met": float(t.met(vb).mean())})
    tables = ["yearly"] + (["yearly_net"] if "yearly_net" in a.store.arrays and "yearly_net" in b.store.arrays
                           else [])
    for table in tables:
        kind = "full_year_persons" if table == "yearly" else "net_dkk"
        ya, yb = _by_state_year(a, table), _by_state_year(b, table)
        for key in ya.keys() & yb.keys():
            rows.append(_row(kind, key[0], key[1], ya[key], yb[key]))
    frame = pd.DataFrame(rows, columns=DIFFERENCE_COLUMNS)
    order = {"target": 0, "full_year_persons": 1, "net_dkk": 2}
    rank = {code: i for i, code in enumerate([*a.model.benefit_codes, TOTAL])}
    frame["_k"] = frame["kind"].map(order)
    frame["_s"] = [rank.get(str(n), -1) if k != "target" else i for i, (k, n) in
                   enumerate(zip(frame["kind"], frame["name"], strict=True))]
    return frame.sort_values(["_k", "year", "_s"], ignore_index=True).drop(columns=["_k", "_s"])


def _by_state_year(result: RunResult, table: str) -> dict[tuple[str, int], np.ndarray]:
    rows = [*result.model.benefit_codes, TOTAL]
    years = list(result.model.calendar.full_years())
    values = np.asarray(result.store.arrays[table]).reshape(len(rows), len(years), result.runs)
    return {(code, year): values[r, y] for r, code in enumerate(rows) for y, year in enumerate(years)}


def _row(kind: str, name: str, year: int, base: np.ndarray, variant: np.ndarray) -> dict[str, object]:
    diff = variant - base
    n = len(diff)
    se = float(diff.std(ddof=1) / np.sqrt(n)) if n > 1 else float("nan")
    mean = float(diff.mean())
    p05, p50, p95 = np.quantile(diff, (0.05, 0.50, 0.95))
    return {"kind": kind, "name": name, "year": year, "base_mean": float(base.mean()),
            "variant_mean": float(variant.mean()), "difference": mean, "difference_se": se,
            "difference_low95": mean - 1.96 * se, "difference_high95": mean + 1.96 * se,
            "difference_p05": p05, "difference_p50": p50, "difference_p95": p95,
            "base_probability_met": np.nan, "variant_probability_met": np.nan}
