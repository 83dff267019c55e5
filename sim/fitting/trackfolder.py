"""A tracked forecast's run folder: the usual run folder, with the year so far and the path added.

Written by the run folder's own writer (`sim.batch.runfolder.write_run`), so flows.csv, the
features' tables, run.json and store/ are the forecast's, as `caseflow run` writes them (from the
first forecast month), monthly.csv too; the actual months before it are in monthly_observed.csv
(`OBSERVED_MONTHS`, in monthly.csv's columns: an actual month's statistics are the figure itself,
sd 0); yearly.csv, targets.csv, replications.csv and costs.csv cover the scenario's whole horizon
with the actual months joined (`sim.fitting.combine`; an actual month has no costs), and
scenario.yaml is the scenario as planned, so the reports read the folder as any run's (the two
monthly tables as one): its targets, its history and a row for every month and year of its
horizon. Besides: track.csv (`sim.fitting.track`),
restart.csv and restart.yaml (the restarted scenario: `caseflow run restart.yaml` repeats the
forecast), actuals.csv (the actuals used) and snapshot.csv (when one was given).
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pandas as pd

from sim.batch.runfolder import write_run
from sim.contract.schema import Scenario
from sim.contract.yamlio import dump_yaml
from sim.fitting.actuals import month_label
from sim.fitting.track import Track
from sim.results.folder import OBSERVED_MONTHS

TRACK, RESTART, RESTART_SCENARIO, ACTUALS, SNAPSHOT = (
    "track.csv", "restart.csv", "restart.yaml", "actuals.csv", "snapshot.csv")


def _scenario_text(scenario: Scenario, seed: int, header: str) -> str:
    resolved = scenario.model_dump(mode="json", exclude_none=True)
    resolved["seed"] = seed
    return header + dump_yaml(resolved)


def write_track(track: Track, folder: Path, version: str, command: str | None, lang: str,
                track_runs: int, snapshot: pd.DataFrame | None = None) -> list[Path]:
    """Write the tracked forecast's run folder; the paths written."""
    joined = track.combined
    features = track.result.features | ({"costs": joined.costs} if joined.costs is not None else {})
    through = track.restart.through
    actual = joined.monthly["month"].astype(str) <= through
    result = dataclasses.replace(track.result, monthly=joined.monthly[~actual].reset_index(drop=True),
                                 yearly=joined.yearly, targets=joined.targets, features=features)
    written = write_run(result, folder, version, command, lang)
    joined.monthly[actual].to_csv(folder / OBSERVED_MONTHS, index=False)
    written.append(folder / OBSERVED_MONTHS)
    track.combined.replications.to_csv(folder / "replications.csv", index=False)
    runs, seed = track.result.runs, track.seed
    again = (f"caseflow track {folder / 'scenario.yaml'} --actuals {folder / ACTUALS} --through {through} "
             f"--runs {runs} --seed {seed} --track-runs {track_runs}"
             + (f" --snapshot {folder / SNAPSHOT}" if snapshot is not None else ""))
    (folder / "scenario.yaml").write_text(_scenario_text(
        track.scenario, seed, f"# The scenario as planned, tracked by caseflow {version} against actuals "
        f"through {through}: {runs} replications, seed {seed}.\n# Repeat it: {again}\n"), encoding="utf-8")
    (folder / RESTART_SCENARIO).write_text(_scenario_text(
        track.restart.scenario, seed, f"# The scenario restarted from the actuals through {through} "
        f"(caseflow {version}).\n# Repeat the forecast: caseflow run {folder / RESTART_SCENARIO} "
        f"--runs {runs} --seed {seed}\n"), encoding="utf-8")
    extra = {TRACK: track.path, RESTART: track.restart.stock, ACTUALS: track.actuals}
    if snapshot is not None:
        extra[SNAPSHOT] = snapshot
    for name, frame in extra.items():
        frame.to_csv(folder / name, index=False)
        written.append(folder / name)
    facts = json.loads((folder / "run.json").read_text(encoding="utf-8"))
    facts["scenario"] = track.scenario.name
    facts["track"] = {"through": through, "forecast_from": month_label(through, 1),
                      "observed_months": track.restart.observed_months, "track_runs": track_runs}
    (folder / "run.json").write_text(json.dumps(facts, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return [*written, folder / RESTART_SCENARIO]
