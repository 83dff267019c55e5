"""Are the backtest's bands and probabilities honest? The whole workflow on worlds with a known truth.

Each world is a synthetic municipality (`synthetic.worlds`, which shares no code with the engine)
simulated exactly for 36 months. Its scenario (`synthetic.scenario`) has the world's structure
with 15–20 rates, inflows and trends free under rough priors. `sim.fitting.backtest` then does
what `caseflow backtest SCENARIO --origins <month 25> --horizon 12` does: fits on months 1–24,
restarts from the observed stock at the cut, forecasts months 25–36 with the fitted values drawn
per replication, and scores every monthly and yearly figure of those months (coverage of the
50/80/90 % bands, CRPS beside the last value carried forward and a 24-month trend) and each
target "next year at most this year's level" per state and on the total (Brier).

Beside it, on the same fit and seed: the same forecast with the parameters fixed at the fitted
values (over-confident: process noise only), and the truth's own forecast (the oracle: the
world's spells running at the cut followed on fresh random numbers with the true parameters),
the best any forecast could do. Every score is averaged within a world first; the table gives
the mean over worlds and its standard error across worlds (the world is the unit of
independence: a world's figures share one fit and one history).

Run:

    python benchmarks/synthetic_study.py --worlds 20 --runs 200 --seed 1 --workers 2 \\
        --out outputs/synthetic-study --record benchmarks/SYNTHETIC.md
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import platform
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))

from synthetic.scenario import free_parameters, origin, scenario_dict
from synthetic.worlds import (
    STOCK,
    TOTAL,
    History,
    continuations,
    initial_stock,
    labels,
    observed_frame,
    random_world,
    simulate,
)

import sim
from sim.contract.parameters import scenario_data
from sim.fitting.backtest import (
    OriginBacktest,
    decided_targets,
    observed_before,
    replication_values,
    rolling_backtest,
)
from sim.fitting.observations import observations
from sim.fitting.scores import score_figures

ROOT = Path(__file__).resolve().parents[1]
FORECASTS = ("model", "fixed", "oracle")
"""The honest forecast, the same with parameters fixed at the fit, and the truth's own."""
KINDS = {"state_year": "state-years", "total_year": "total-years", "state_month": "state-months",
         "total_month": "total-months"}
HORIZONS = {"h1": (1, 1), "h2-3": (2, 3), "h4-6": (4, 6), "h7-12": (7, 12)}
"""Groups of horizons (months from the cut, 1: its own month) for the state-months' coverage."""
BANDS = (50, 80, 90)
TABLE_START, TABLE_END = "<!-- study table -->", "<!-- /study table -->"
RELIABILITY_BINS = (0.0, 0.1, 0.3, 0.7, 0.9, 1.0001)
"""Probability bins of the reliability table (the last holds p = 1)."""


@dataclass
class WorldResult:
    """One world's scores: per forecast the scored figures and the decided targets, and the fit."""

    index: int
    states: tuple[str, ...]
    scores: dict[str, pd.DataFrame]
    brier: dict[str, pd.DataFrame]
    parameters: pd.DataFrame
    """path, truth, prior, fitted, se, z."""
    dispersion: float | None
    seconds: float


def world_data(index: int, seed: int, n_states: int | None = None, rate_bands: int | None = None,
               pool_trends: bool = True) -> tuple[Any, History, pd.DataFrame, dict[str, Any]]:
    """World `index` of the study (`n_states`: so many states, else 3–5 at random): its truth, one
    history, the observed figures and the scenario (`rate_bands`, `pool_trends`: see
    `synthetic.scenario`)."""
    world = random_world(index, seed, n_states)
    history = simulate(world)
    observed = observed_frame(history)
    data = scenario_dict(world, observed, initial_stock(history), rate_bands=rate_bands,
                         pool_trends=pool_trends)
    return world, history, observed, data


def _kind(period: str, state: str) -> str:
    return ("total" if state == TOTAL else "state") + ("_year" if len(period) == 4 else "_month")


def _rescore(done: OriginBacktest, scenario: sim.Scenario, forecast: sim.Scenario, observed: pd.DataFrame,
             runs: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Scores and Brier rows of another forecast from the same origin, as the backtest scores its own."""
    result = sim.run(forecast, runs=runs, seed=seed, workers=1)
    test, _ = observations(result.model, observed, (STOCK,), done.windows.test)
    return _score(done, scenario, result.model, observed, test, replication_values(result, test))


def _score(done: OriginBacktest, scenario: sim.Scenario, model: Any, observed: pd.DataFrame, test: list[Any],
           ensembles: list[np.ndarray]) -> tuple[pd.DataFrame, pd.DataFrame]:
    history = observed_before(observed, done.windows.origin)
    scores = score_figures(done.windows.origin, [o.period for o in test], [o.state for o in test],
                           np.array([o.value for o in test]), np.vstack(ensembles),
                           history[history["measure"] == STOCK])
    return scores, decided_targets(scenario, model, scores, ensembles)


def _oracle(done: OriginBacktest, scenario: sim.Scenario, history: History, observed: pd.DataFrame,
            runs: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Scores of the truth's own forecast from the cut (`synthetic.worlds.continuations`)."""
    month = labels(history.world).index(done.windows.origin)
    futures = continuations(history, month, runs, seed)  # [run, state, month from the cut]
    days = np.diff(history.edges[month:])
    model = done.result.model
    test, _ = observations(model, observed, (STOCK,), done.windows.test)
    ensembles = []
    for o in test:
        rows = list(o.rows)
        part = futures[:, rows, o.months].sum(axis=1)
        ensembles.append((part * days[o.months]).sum(axis=1) / days[o.months].sum())
    return _score(done, scenario, model, observed, test, ensembles)


def fixed_forecast(done: OriginBacktest) -> sim.Scenario:
    """The origin's forecast with the fitted values fixed: no parameter draws, process noise only."""
    data = scenario_data(done.scenario)
    data["uncertainty"] = {**(data.get("uncertainty") or {}), "fitted": False, "split_runs": 0}
    return sim.scenario_from_dict(data, "<fixed at the fit>")


def run_world(index: int, seed: int, runs: int, out: Path | None, process_runs: int = 40,
              n_states: int | None = None, rate_bands: int | None = None,
              pool_trends: bool = True) -> WorldResult:
    """One world's backtest, its fixed-parameter twin and the oracle, scored (files into `out`)."""
    began = time.perf_counter()
    world, history, observed, data = world_data(index, seed, n_states, rate_bands, pool_trends)
    data["calibrate"]["process_runs"] = process_runs
    scenario = sim.scenario_from_dict(data, f"<synthetic world {index}>")
    cut = origin(world)
    forecast_seed = seed * 1000 + index
    backtest = rolling_backtest(scenario, observed, (cut,), runs=runs, seed=forecast_seed, horizon=12,
                                workers=1)
    (done,) = backtest.origins
    scores = {"model": done.scores}
    brier = {"model": done.brier}
    scores["fixed"], brier["fixed"] = _rescore(done, scenario, fixed_forecast(done), observed, runs,
                                               forecast_seed)
    scores["oracle"], brier["oracle"] = _oracle(done, scenario, history, observed, runs, forecast_seed)
    fit = done.fit
    rows = []
    for f in free_parameters(world, rate_bands):
        se = fit.standard_errors.get(f.path, math.nan)
        rows.append({"path": f.path, "truth": f.truth, "prior": f.prior, "fitted": fit.values[f.path],
                     "se": se, "z": (fit.values[f.path] - f.truth) / se if se > 0 else math.nan})
    parameters = pd.DataFrame(rows)
    if out is not None:
        folder = out / f"world-{index:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        observed.to_csv(folder / "observed.csv", index=False)
        (folder / "scenario.yaml").write_text(
            f"# Synthetic world {index} of seed {seed}; backtest with\n"
            f"#   caseflow backtest {folder / 'scenario.yaml'} --origins {cut} --horizon 12 --runs {runs} "
            f"--seed {forecast_seed}\n" + yaml.safe_dump(data, sort_keys=False, allow_unicode=True,
                                                        default_flow_style=None), encoding="utf-8")
        parameters.to_csv(folder / "parameters.csv", index=False)
        for name in FORECASTS:
            scores[name].to_csv(folder / f"scores-{name}.csv", index=False)
            brier[name].to_csv(folder / f"brier-{name}.csv", index=False)
    result = WorldResult(index, world.codes, scores, brier, parameters, fit.errors.dispersion,
                         time.perf_counter() - began)
    if out is not None:
        facts = {"world": index, "seed": seed, "runs": runs, "process_runs": process_runs,
                 "pool_trends": pool_trends,
                 "states": list(world.codes), "dispersion": result.dispersion, "seconds": result.seconds}
        (out / f"world-{index:02d}" / "world.json").write_text(json.dumps(facts, indent=1), encoding="utf-8")
    return result


def _same_design(folder: Path, pool_trends: bool) -> bool:
    """Whether `folder` holds a finished world fitted with the trends pooled as asked (a world
    from before pooling was written has no `pool_trends` and did not pool)."""
    facts = folder / "world.json"
    return facts.is_file() and bool(
        json.loads(facts.read_text(encoding="utf-8")).get("pool_trends")) == pool_trends


def load_world(folder: Path) -> WorldResult:
    """A world's results as `run_world` wrote them (its world.json last, so a folder with one is whole)."""
    facts = json.loads((folder / "world.json").read_text(encoding="utf-8"))
    text = {"period": str, "origin": str}
    scores = {n: pd.read_csv(folder / f"scores-{n}.csv", dtype=text) for n in FORECASTS}
    brier = {n: pd.read_csv(folder / f"brier-{n}.csv", dtype=text) for n in FORECASTS}
    return WorldResult(int(facts["world"]), tuple(facts["states"]), scores, brier,
                       pd.read_csv(folder / "parameters.csv"), facts["dispersion"], float(facts["seconds"]))


# --- aggregation over worlds ---------------------------------------------------------------------------

def world_means(results: Sequence[WorldResult]) -> pd.DataFrame:
    """One row per world, forecast and kind of figure: the mean coverage of each band and the mean
    CRPS (and relative to carried forward), over the world's figures of that kind; and per world
    and forecast the mean Brier of its targets (kind `targets`)."""
    rows: list[dict[str, Any]] = []
    for r in results:
        for name in FORECASTS:
            s = r.scores[name].copy()
            s["kind"] = [_kind(str(p), str(st)) for p, st in zip(s["period"], s["state"], strict=True)]
            for kind in KINDS:
                part = s[s["kind"] == kind]
                if not len(part):
                    continue
                row: dict[str, Any] = {"world": r.index, "forecast": name, "kind": kind, "n": len(part)}
                for b in BANDS:
                    row[f"coverage_{b}"] = float(part[f"inside_{b}"].astype(float).mean())
                row["crps"] = float(part["crps"].mean())
                row["crps_carried_forward"] = float(part["carried_forward_crps"].mean())
                row["crps_trend"] = float(part["trend_crps"].mean())
                row["crps_minus_carried_forward"] = row["crps"] - row["crps_carried_forward"]
                rows.append(row)
            months = s[s["kind"] == "state_month"]
            for group, (first, last) in HORIZONS.items():
                part = months[(months["horizon"] >= first) & (months["horizon"] <= last)]
                if len(part):
                    rows.append({"world": r.index, "forecast": name, "kind": group, "n": len(part),
                                 **{f"coverage_{b}": float(part[f"inside_{b}"].astype(float).mean())
                                    for b in BANDS}})
            b_ = r.brier[name]
            if len(b_):
                p = b_["probability"].astype(float)
                rows.append({"world": r.index, "forecast": name, "kind": "targets", "n": len(b_),
                             "brier": float(b_["brier"].mean()),
                             "brier_calibrated": float((p * (1.0 - p)).mean()),
                             "brier_excess": float((b_["brier"] - p * (1.0 - p)).mean()),
                             "brier_carried_forward": float(b_["carried_forward_brier"].mean()),
                             "brier_trend": float(b_["trend_brier"].mean()),
                             "brier_minus_carried_forward": float(
                                 (b_["brier"] - b_["carried_forward_brier"]).mean())})
    return pd.DataFrame(rows)


def _mean_se(values: pd.Series) -> tuple[float, float]:
    """Mean over worlds and its standard error (sd across worlds ÷ √worlds)."""
    x = values.dropna().to_numpy(dtype=float)
    if not len(x):
        return math.nan, math.nan
    return float(x.mean()), float(x.std(ddof=1) / math.sqrt(len(x))) if len(x) > 1 else math.nan


def _fmt(mean: float, se: float, digits: int = 3) -> str:
    if not math.isfinite(mean):
        return "–"
    return f"{mean:.{digits}f} ± {se:.{digits}f}" if math.isfinite(se) else f"{mean:.{digits}f}"


def table(means: pd.DataFrame, results: Sequence[WorldResult]) -> str:
    """The study's tables in Markdown: coverage, CRPS, Brier, and the fit's parameter z-scores."""
    worlds = len(results)
    sizes = ", ".join(f"{c} with {n}" for n, c in sorted(_count(len(r.states) for r in results)))
    out = [f"Worlds: {worlds} ({sizes} states). "
           "Mean over worlds ± standard error across worlds.", ""]
    out += ["**Coverage of the central bands** (nominal 0.50 / 0.80 / 0.90; figures per world in brackets)",
            "",
            "| figures | forecast | 50 % | 80 % | 90 % |", "| --- | --- | ---: | ---: | ---: |"]
    for kind, label in KINDS.items():
        for name in FORECASTS:
            part = means[(means["kind"] == kind) & (means["forecast"] == name)]
            if not len(part):
                continue
            cells = [_fmt(*_mean_se(part[f"coverage_{b}"]), digits=2) for b in BANDS]
            out.append(f"| {label} ({part['n'].mean():.3g}) | {name} | " + " | ".join(cells) + " |")
    out += ["", "**Coverage of the state-months by horizon** (months from the cut; 1: the cut's own month)",
            "",
            "| horizon | forecast | 50 % | 80 % | 90 % |", "| --- | --- | ---: | ---: | ---: |"]
    for group in HORIZONS:
        for name in FORECASTS:
            part = means[(means["kind"] == group) & (means["forecast"] == name)]
            if len(part):
                cells = [_fmt(*_mean_se(part[f"coverage_{b}"]), digits=2) for b in BANDS]
                out.append(f"| {group} | {name} | " + " | ".join(cells) + " |")
    out += ["", "**CRPS** (full-year persons; the difference to carried forward is paired within each world, "
            "and the ratio is of the means over worlds)", "",
            "| figures | forecast | CRPS | carried forward | trend | CRPS − carried forward | ratio |",
            "| --- | --- | ---: | ---: | ---: | ---: | ---: |"]
    for kind, label in KINDS.items():
        for name in FORECASTS:
            part = means[(means["kind"] == kind) & (means["forecast"] == name)]
            if not len(part):
                continue
            out.append(f"| {label} | {name} | {_fmt(*_mean_se(part['crps']), digits=1)} | "
                       f"{_fmt(*_mean_se(part['crps_carried_forward']), digits=1)} | "
                       f"{_fmt(*_mean_se(part['crps_trend']), digits=1)} | "
                       f"{_fmt(*_mean_se(part['crps_minus_carried_forward']), digits=1)} | "
                       f"{part['crps'].mean() / part['crps_carried_forward'].mean():.2f} |")
    out += ["", "**Brier score of the targets** (next year's full-year persons at most this year's, per "
            "state and on the total; *if calibrated*: the Brier score a forecast's own probabilities p "
            "promise, the mean of p(1 − p), and *excess*: the Brier score less that, near 0 ± its "
            "error for calibrated probabilities, the oracle's included, so the oracle's excess "
            "measures how kind the worlds' futures were; *excess − oracle's*: paired within each world)",
            "",
            "| forecast | target cases | Brier | if calibrated | excess | excess − oracle's | "
            "carried forward | trend | Brier − carried forward |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    targets = means[means["kind"] == "targets"]
    oracle = targets[targets["forecast"] == "oracle"].set_index("world")["brier_excess"]
    for name in FORECASTS:
        part = targets[targets["forecast"] == name]
        if not len(part):
            continue
        paired = part.set_index("world")["brier_excess"] - oracle
        out.append(f"| {name} | {int(part['n'].sum())} | {_fmt(*_mean_se(part['brier']))} | "
                   f"{_fmt(*_mean_se(part['brier_calibrated']))} | {_fmt(*_mean_se(part['brier_excess']))} | "
                   f"{_fmt(*_mean_se(paired)) if name != 'oracle' else '0'} | "
                   f"{_fmt(*_mean_se(part['brier_carried_forward']))} | "
                   f"{_fmt(*_mean_se(part['brier_trend']))} | "
                   f"{_fmt(*_mean_se(part['brier_minus_carried_forward']))} |")
    out += ["", "**Reliability of the target probabilities** (all target cases pooled; a world's are "
            "not independent)", "",
            "| forecast | probability | cases | mean probability | share met |",
            "| --- | --- | ---: | ---: | ---: |"]
    for name in ("model", "oracle"):
        cases = pd.concat([r.brier[name] for r in results if len(r.brier[name])], ignore_index=True)
        bins = pd.cut(cases["probability"], RELIABILITY_BINS, include_lowest=True, right=False)
        for interval, part in cases.groupby(bins, observed=True):
            label = f"{interval.left:.1f}–{min(interval.right, 1.0):.1f}"
            out.append(f"| {name} | {label} | {len(part)} | {part['probability'].mean():.2f} | "
                       f"{part['met'].mean():.2f} |")
    z = pd.concat([r.parameters.assign(world=r.index) for r in results], ignore_index=True)
    z = z[np.isfinite(z["z"])]
    per_world = z.groupby("world")["z"]
    rms = per_world.apply(lambda x: float(np.sqrt(np.mean(np.square(x)))))
    inside = per_world.apply(lambda x: float(np.mean(np.abs(x) < 1.96)))
    phi = pd.Series([r.dispersion for r in results], dtype=float)
    out += ["", "**The fits** (z = (fitted − truth) ÷ standard error, per free parameter)", "",
            "| parameters | RMS z | 95 % intervals cover | dispersion φ |", "| ---: | ---: | ---: | ---: |",
            f"| {len(z)} ({len(z) / worlds:.3g} a world) | {_fmt(*_mean_se(rms), digits=2)} | "
            f"{_fmt(*_mean_se(inside), digits=2)} | {_fmt(*_mean_se(phi), digits=2)} |"]
    return "\n".join(out)


def _count(values: Any) -> list[tuple[int, int]]:
    seen: dict[int, int] = {}
    for v in values:
        seen[v] = seen.get(v, 0) + 1
    return list(seen.items())


def record(path: Path, body: str, command: str, seed: int, runs: int, results: Sequence[WorldResult],
           seconds: float) -> None:
    """Put the measured table into the record file between its markers (a new file gets a heading)."""
    busy = sum(r.seconds for r in results) / 60
    block = "\n".join([
        TABLE_START, "",
        f"`{command}`", "",
        f"Measured {dt.date.today().isoformat()} on {platform.machine()} ({platform.python_version()}), seed "
        f"{seed}, {runs} runs a forecast, {len(results)} worlds, wall time {seconds / 60:.1f} minutes (the "
        f"worlds' own times add up to {busy:.1f} minutes, those taken from --out included).", "",
        body, "", TABLE_END])
    text = (path.read_text(encoding="utf-8") if path.exists()
            else "# Synthetic worlds: are the bands honest?\n\n")
    if TABLE_START in text and TABLE_END in text:
        head, rest = text.split(TABLE_START, 1)
        text = head + block + rest.split(TABLE_END, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    path.write_text(text, encoding="utf-8")


def main(argv: Sequence[str] | None = None) -> None:
    """Run the study and print (and optionally record) its table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worlds", type=int, default=20)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=2, help="worlds backtested at once, one process each")
    parser.add_argument("--process-runs", type=int, default=40, help="the fit's pilot replications")
    parser.add_argument("--out", type=Path, default=ROOT / "outputs" / "synthetic-study")
    parser.add_argument("--record", type=Path, default=None, help="Markdown file to put the table in")
    parser.add_argument("--no-pool", action="store_true",
                        help="give each trend its own prior (0 ± 0.15) instead of pooling the trends")
    parser.add_argument("--resume", action="store_true",
                        help="take the worlds already in --out (those with a world.json) from there")
    args = parser.parse_args(argv)
    began = time.perf_counter()
    args.out.mkdir(parents=True, exist_ok=True)
    done = {k: load_world(args.out / f"world-{k:02d}") for k in range(args.worlds)
            if args.resume and _same_design(args.out / f"world-{k:02d}", not args.no_pool)}
    with ProcessPoolExecutor(max_workers=args.workers) as pool:
        futures = {k: pool.submit(run_world, k, args.seed, args.runs, args.out, args.process_runs,
                                  pool_trends=not args.no_pool)
                   for k in range(args.worlds) if k not in done}
        results = []
        for k in range(args.worlds):
            r = done[k] if k in done else futures[k].result()
            results.append(r)
            print(f"world {r.index:2d}: {len(r.states)} states, {r.seconds:.0f} s"
                  + (" (from --out)" if k in done else ""), flush=True)
    means = world_means(results)
    means.to_csv(args.out / "world-means.csv", index=False)
    body = table(means, results)
    seconds = time.perf_counter() - began
    print(body)
    print(f"\n{args.worlds} worlds in {seconds / 60:.1f} minutes")
    (args.out / "table.md").write_text(body + "\n", encoding="utf-8")
    if args.record is not None:
        command = ("python benchmarks/synthetic_study.py " + " ".join(
            f"--{k.replace('_', '-')} {v}" for k, v in (("worlds", args.worlds), ("runs", args.runs),
                                                      ("seed", args.seed), ("workers", args.workers),
                                                      ("process_runs", args.process_runs))))
        if args.no_pool:
            command += " --no-pool"
        if done:
            command += f" --resume  # {len(done)} of the worlds from an earlier run in {args.out}"
        record(args.record, body, command, args.seed, args.runs, results, seconds)


if __name__ == "__main__":
    main()
