"""The parameter file `caseflow calibrate` writes, with its residual table and chart.

`<name>-fit.yaml` holds the fitted `values` (what a scenario's `parameters:` applies), their
`standard_errors` and `covariance` (what the `uncertainty` block draws from), the values it
could not pin down (`unidentified`: no standard error, not drawn), each fitted inflow's
`anchors` date (its `trend_from` where the fit is applied) and, from a spell fit, the
scenario-ready `transitions` and `inflow_per_week` the values index into; for people, the
priors, the fit's quality (the error model, χ² per figure, dispersion) and the residuals.
Beside it: `<name>-fit-residuals.csv` and `<name>-fit.png` (observed against fitted).
calibration/README.md describes every key.
"""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from sim.contract.yamlio import dump_yaml


def fit_paths(out: Path) -> tuple[Path, Path, Path]:
    """The parameter file and, beside it, its residual table and chart."""
    stem = out.name[: -len(".yaml")] if out.name.endswith(".yaml") else out.stem
    return out, out.with_name(f"{stem}-residuals.csv"), out.with_name(f"{stem}.png")


def default_fit_path(scenario_path: Path) -> Path:
    """`calibration/<scenario stem>-fit.yaml` in the project the scenario lives in, else beside it."""
    for folder in (scenario_path.resolve().parent, *scenario_path.resolve().parents):
        if (folder / "calibration").is_dir():
            return folder / "calibration" / f"{scenario_path.stem}-fit.yaml"
    return scenario_path.with_name(f"{scenario_path.stem}-fit.yaml")


def _r(x: float) -> float:
    return float(f"{x:.6g}")


def write_parameter_file(out: Path, header: str, values: dict[str, float], standard_errors: dict[str, float],
                         covariance: np.ndarray | None, bounds: dict[str, tuple[float, float]],
                         about: dict[str, Any], residuals: pd.DataFrame, chart: bytes | None) -> list[Path]:
    """Write the parameter file (values first: what scenarios read), the residual CSV and the chart."""
    yaml_path, csv_path, png_path = fit_paths(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    data: dict[str, Any] = {
        "values": {k: _r(v) for k, v in values.items()},
        "standard_errors": {k: _r(v) for k, v in standard_errors.items()},
    }
    if covariance is not None:
        data["covariance"] = [[_r(x) for x in row] for row in np.asarray(covariance)]
    data["bounds"] = {k: [_r(lo), _r(hi)] for k, (lo, hi) in bounds.items()}
    data["fitted"] = dt.datetime.now().isoformat(timespec="seconds")
    data |= about
    data["residuals"] = [{k: (_r(v) if isinstance(v, float) else v) for k, v in row.items()}
                         for row in residuals.to_dict(orient="records")]
    yaml_path.write_text(header + dump_yaml(data), encoding="utf-8")
    residuals.to_csv(csv_path, index=False)
    written = [yaml_path, csv_path]
    if chart is not None:
        png_path.write_bytes(chart)
        written.append(png_path)
    return written


def residual_chart(residuals: pd.DataFrame, title: str) -> bytes:
    """Fitted (and start) values against each observed figure, as % off it, with the figure's ±2 sd."""
    labels = [f"{p} · {s}  ({o:,.0f})" for p, s, o in
              zip(residuals["period"], residuals["state"], residuals["observed"], strict=True)]
    observed = residuals["observed"].to_numpy(dtype=float)
    scale = np.where(observed != 0, np.abs(observed), 1.0) / 100.0
    y = np.arange(len(labels))[::-1]
    fig = Figure(figsize=(8, 1.4 + 0.32 * len(labels)), dpi=96)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ax.errorbar(np.zeros(len(y)), y, xerr=2 * residuals["sd"].to_numpy(dtype=float) / scale, fmt="o",
                color="#1a202c", label="observed (±2 sd)", capsize=3)
    if "before" in residuals:
        ax.plot((residuals["before"].to_numpy(dtype=float) - observed) / scale, y, "|", color="#a0aec0",
                markersize=12, label="before the fit")
    ax.plot((residuals["fitted"].to_numpy(dtype=float) - observed) / scale, y, "x", color="#c53030",
            markersize=8, label="fitted")
    ax.axvline(0.0, color="#1a202c", linewidth=0.6)
    ax.set_yticks(y, labels, fontsize=8)
    ax.set_xlabel("% off the observed figure")
    ax.set_title(title, fontsize=10)
    ax.grid(axis="x", alpha=0.3)
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.08 - 1.2 / (4 + len(labels))), ncol=3)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


def rates_chart(rates: pd.DataFrame) -> bytes:
    """Fitted exit rates per week by weeks in the state, with 95 % intervals: one panel per state."""
    states = list(dict.fromkeys(rates["state"]))
    fig = Figure(figsize=(8, 2.6 * len(states)), dpi=96)
    FigureCanvasAgg(fig)
    for k, state in enumerate(states):
        ax = fig.add_subplot(len(states), 1, k + 1)
        own = rates[rates["state"] == state]
        top = float(np.nanmax(own["from_week"])) * 1.25 + 4
        for dest, rows in own.groupby("to", sort=False):
            ends = np.where(np.isfinite(rows["to_week"]), rows["to_week"], top)
            line = ax.hlines(rows["rate_per_week"], rows["from_week"], ends, label=str(dest))
            mids = (rows["from_week"].to_numpy() + ends) / 2
            rate = rows["rate_per_week"]
            ax.errorbar(mids, rate, yerr=[rate - rows["ci_low"], rows["ci_high"] - rate],
                        fmt="none", capsize=3, color=line.get_color()[0] if len(line.get_color()) else None)
        ax.set_title(state, fontsize=10)
        ax.set_xlabel("weeks in the state")
        ax.set_ylabel("rate per week")
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()
