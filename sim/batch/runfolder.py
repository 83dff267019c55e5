"""The run folder: CSV tables, the resolved scenario and run facts, never overwriting a run."""

from __future__ import annotations

import datetime as dt
import json
import re
import unicodedata
from pathlib import Path

from sim.batch.run import RunResult
from sim.contract.yamlio import dump_yaml
from sim.results.summary import replications_frame

STORE = "store"
"""Subfolder holding the per-replication arrays."""


class RunFolderError(ValueError):
    """A run folder that cannot be used (it exists and holds files)."""


def slug(name: str) -> str:
    """An ASCII file-name form of a scenario name: 'Tårnby–Dragør 2018' → 'tarnby-dragor-2018'."""
    text = unicodedata.normalize("NFKD", name.replace("ø", "o").replace("Ø", "O").replace("æ", "ae")
                                 .replace("Æ", "Ae").replace("å", "aa").replace("Å", "Aa"))
    text = text.encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-") or "run"


def new_run_folder(name: str, out: Path | None, base: Path = Path("outputs")) -> Path:
    """Create the run folder: `out` if new or empty, else `base/<slug>-<timestamp>[-n]`."""
    if out is not None:
        if out.exists() and (not out.is_dir() or any(out.iterdir())):
            raise RunFolderError(f"{out} exists and is not empty; a run never overwrites another, "
                                 "so give a new folder with --out")
        out.mkdir(parents=True, exist_ok=True)
        return out
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    candidate = base / f"{slug(name)}-{stamp}"
    n = 1
    while True:
        try:
            candidate.mkdir(parents=True, exist_ok=False)
            return candidate
        except FileExistsError:
            n += 1
            candidate = base / f"{slug(name)}-{stamp}-{n}"


def write_run(result: RunResult, folder: Path, version: str, command: str | None = None,
              lang: str = "da") -> list[Path]:
    """Write the summary tables, per-replication table, resolved scenario and run facts; `lang`
    (da or en) is recorded as the reports' language (the reports are built from these files)."""
    written = []
    tables = {"monthly": result.monthly, "yearly": result.yearly, "targets": result.targets,
              "flows": result.flows, **result.features, "layers": result.layers,
              "assumptions": result.assumptions}
    for name, frame in tables.items():
        if frame is None:
            continue
        path = folder / f"{name}.csv"
        frame.to_csv(path, index=False)
        written.append(path)
    path = folder / "replications.csv"
    step = max(1, 200_000 // max(1, result.store.arrays["yearly"].shape[0]))
    for a in range(0, result.runs, step):
        block = replications_frame(result.model, result.store, slice(a, min(a + step, result.runs)))
        block.to_csv(path, index=False, mode="w" if a == 0 else "a", header=a == 0)
    written.append(path)
    resolved = result.scenario.model_dump(mode="json", exclude_none=True)
    resolved["seed"] = result.seed
    header = (f"# Resolved scenario of a caseflow {version} run: {result.runs} replications, seed "
              f"{result.seed}.\n# Repeat it: caseflow run {folder / 'scenario.yaml'} --runs {result.runs}\n")
    path = folder / "scenario.yaml"
    path.write_text(header + dump_yaml(resolved), encoding="utf-8")
    written.append(path)
    facts = {"scenario": result.scenario.name, "seed": result.seed, "runs": result.runs,
             "caseflow_version": version, "created": dt.datetime.now().isoformat(timespec="seconds"),
             "command": command, "lang": lang}
    path = folder / "run.json"
    path.write_text(json.dumps(facts, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    written.append(path)
    return written
