"""Backtests: at each forecast origin, fit on the data before it, forecast what follows, score it.

An origin is a month. The scenario's free parameters are fitted (`sim.fitting.calibrate`) on
the observed figures whose periods end before the origin; the forecast then starts on the
origin's first day from the observed stock of those figures (`origin_scenario`, the restart of
`sim.fitting.restart` that `sim.fitting.track.restart_scenario` gives), with the fitted values
drawn per replication from their covariance, so its bands carry parameter and process
uncertainty; and every observed stock whose period starts at or after the origin (within the
horizon) is scored against the forecast and two benchmarks (`sim.fitting.scores`). A figure
whose period straddles the origin is neither fitted nor scored, and an explicit fit window that
overlaps the test window is refused: a backtest never fits on what it scores.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from sim.batch.run import Progress, RunResult, run
from sim.contract.loader import scenario_from_dict
from sim.contract.parameters import scenario_data
from sim.contract.schema import Scenario, Target
from sim.fitting.calibrate import Fit, calibrate
from sim.fitting.observations import (
    GROUP_PREFIX,
    STOCK,
    Observation,
    observations,
    parse_period,
    period_average,
    period_months,
)
from sim.fitting.restart import restart
from sim.fitting.scores import (
    BRIER_COLUMNS,
    SCORE_COLUMNS,
    VIVE_COLUMNS,
    month_number,
    month_text,
    period_span,
    score_figures,
    score_target,
    summarise,
    vive_frame,
)
from sim.kernel.model import Model, compile_model
from sim.results.targets import threshold_of

DEFAULT_HORIZON = 12
"""Months scored after each rolling origin unless told otherwise."""


class BacktestError(ValueError):
    """A backtest that cannot run as asked: windows that overlap, an origin with nothing to fit or score."""


@dataclass(frozen=True)
class Windows:
    """What one origin fits on and what it scores: observed periods, each wholly before or after it."""

    origin: str
    """The first month forecast (`YYYY-MM`)."""
    fit: tuple[str, ...]
    test: tuple[str, ...]
    left_out: tuple[str, ...] = ()
    """Observed periods that straddle the origin or end beyond the horizon: neither fitted nor scored."""


@dataclass
class OriginBacktest:
    """One origin: the fit on the data before it, the forecast from it and its scores."""

    windows: Windows
    fit: Fit
    scenario: Scenario
    """The scenario as forecast: the fitted values and their covariance, from the origin."""
    result: RunResult
    scores: pd.DataFrame
    """One row per test figure: the columns of `sim.fitting.scores.SCORE_COLUMNS`."""
    brier: pd.DataFrame
    """One row per target the test figures decide: the columns of `sim.fitting.scores.BRIER_COLUMNS`."""
    stock: pd.DataFrame
    """restart.csv: the stock at the origin per state and the figure it came from
    (`sim.fitting.restart.RESTART_COLUMNS`)."""


@dataclass
class Backtest:
    """Every origin's backtest, their scores together and the summary over them."""

    origins: list[OriginBacktest]
    observed: pd.DataFrame = field(default_factory=pd.DataFrame)
    """The observed data the backtest was given (for VIVE's expectations of the test figures)."""

    @property
    def vive(self) -> pd.DataFrame:
        """vive.csv: the test figures VIVE also expects, its gap and the model's (`vive_frame`)."""
        return vive_frame(self.scores, self.observed) if len(self.observed) else pd.DataFrame(
            columns=list(VIVE_COLUMNS))

    @property
    def scores(self) -> pd.DataFrame:
        """scores.csv: every origin's test figures, origin by origin."""
        return pd.concat([o.scores for o in self.origins], ignore_index=True)

    @property
    def brier(self) -> pd.DataFrame:
        """brier.csv: every origin's decided targets."""
        frames = [o.brier for o in self.origins if len(o.brier)]
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=list(BRIER_COLUMNS))

    @property
    def summary(self) -> pd.DataFrame:
        """summary.csv: mean coverage and scores per state and over all (`sim.fitting.scores.summarise`)."""
        return summarise(self.scores, self.brier)


def fitted_scenario(scenario: Scenario, fit: Fit) -> Scenario:
    """The scenario with the fit's values applied (by the loader, as for a parameter file) and its
    covariance drawn per replication (no extra fixed-parameter runs: a backtest scores the bands)."""
    data = scenario_data(scenario)
    data.pop("calibrate", None)
    data["parameters"] = {"source": "backtest fit", "values": fit.values,
                          "standard_errors": fit.standard_errors,
                          "covariance": np.asarray(fit.covariance).tolist(), "bounds": fit.bounds}
    uncertainty = dict(data.get("uncertainty") or {})
    data["uncertainty"] = uncertainty | {"fitted": True, "split_runs": 0}
    return scenario_from_dict(data, "<backtest>")


def origin_scenario(scenario: Scenario, fit: Fit, history: pd.DataFrame, origin: str
                    ) -> tuple[Scenario, pd.DataFrame]:
    """The scenario an origin's forecast runs, and the stock it starts from.

    The fitted scenario restarted on the origin's first day from the observed
    stock in `history` (the figures that end before the origin), with the elapsed durations the
    model implies (`sim.fitting.restart`), each state's stock drawn per replication with the sd
    its last figure, an average over a period, leaves (`stock_noise`); the fitted initial stock
    is neither used nor drawn.
    """
    fitted = fitted_scenario(scenario, fit)
    restarted = restart(fitted, history, month_text(month_number(origin) - 1), stock_noise=True)
    return restarted.scenario, restarted.stock


def replication_values(result: RunResult, obs: list[Observation]) -> list[np.ndarray]:
    """Each replication's full-year persons for each observation (stocks only: the store keeps
    full-time persons per replication, but flows only as sums)."""
    model = result.model
    monthly = np.asarray(result.store.arrays["monthly"]).reshape(*result.store.shapes["monthly"], result.runs)
    days = model.calendar.days
    person_days = np.moveaxis(monthly[: model.n_benefit], -1, 0) * days  # [run, state, month]
    return [np.asarray(period_average(person_days, days, o)) for o in obs]


# --- windows ----------------------------------------------------------------------------------------


def _overlap(a: str, b: str) -> tuple[int, int] | None:
    (a0, a1), (b0, b1) = period_span(a), period_span(b)
    first, last = max(a0, b0), min(a1, b1)
    return (first, last) if first <= last else None


def _months(first: int, last: int) -> str:
    return month_text(first) if first == last else f"{month_text(first)}..{month_text(last)}"


def check_windows(fit_periods: tuple[str, ...], test_periods: tuple[str, ...]) -> str:
    """The origin (the test window's first month) of explicit fit and test windows; BacktestError
    if a fit window overlaps a test window or does not end before the origin."""
    for period in (*fit_periods, *test_periods):
        try:
            period_span(period)
        except ValueError:
            raise BacktestError(f"period {period!r} is not a year (2019), a month (2019-07) or a range "
                                "of months (2019-07..2020-06)") from None
    if not fit_periods or not test_periods:
        raise BacktestError("give at least one fit window (--fit) and one test window (--test)")
    origin = min(period_span(t)[0] for t in test_periods)
    for f in fit_periods:
        for t in test_periods:
            both = _overlap(f, t)
            if both is not None:
                raise BacktestError(
                    f"fit window {f} overlaps test window {t} ({_months(*both)} in both): a backtest fits "
                    f"only on data before its forecast origin, {month_text(origin)}; fit on periods that end "
                    f"by {month_text(origin - 1)}")
        if period_span(f)[1] >= origin:
            raise BacktestError(f"fit window {f} does not end before the forecast origin "
                                f"{month_text(origin)} (the first month of test window "
                                f"{', '.join(test_periods)}); fit on periods that end by "
                                f"{month_text(origin - 1)}")
    return month_text(origin)


def parse_origins(text: str) -> tuple[str, ...]:
    """'2019-01,2019-07' → ('2019-01', '2019-07'), sorted; BacktestError naming a bad month."""
    origins = [o.strip() for o in text.split(",") if o.strip()]
    for o in origins:
        if len(o) != 7 or o[4] != "-" or not (o[:4] + o[5:]).isdigit() or not 1 <= int(o[5:]) <= 12:
            raise BacktestError(f"origin {o!r} is not a month (YYYY-MM, e.g. 2019-07)")
    if not origins:
        raise BacktestError("give at least one origin month, e.g. --origins 2019-01,2019-07")
    return tuple(sorted(set(origins)))


def origin_windows(scenario: Scenario, model: Model, observed: pd.DataFrame, origin: str,
                   horizon: int | None) -> Windows:
    """What `origin` fits on (the calibrate block's figures that end before it and lie in the
    horizon) and scores (the stocks that start at or after it and end within `horizon` months)."""
    assert scenario.calibrate is not None
    spec = scenario.calibrate
    start = month_number(origin)
    fit: dict[str, None] = {}
    test: dict[str, None] = {}
    left: dict[str, None] = {}
    for period, measure in zip(observed["period"].astype(str), observed["measure"].astype(str), strict=True):
        if period_months(model, period) is None:
            continue
        first, last = period_span(period)
        if last < start:
            if measure in spec.measures and (not spec.periods or period in spec.periods):
                fit[period] = None
        elif measure != STOCK:
            continue
        elif first >= start and (horizon is None or last < start + horizon):
            test[period] = None
        else:
            left[period] = None
    return Windows(origin, tuple(fit), tuple(test), tuple(left))


def every_origins(scenario: Scenario, observed: pd.DataFrame, every: int, horizon: int | None
                  ) -> tuple[str, ...]:
    """Origins every `every` months from the scenario's start (the first `every` months after it),
    kept where there is something to fit before and something to score after."""
    if every < 1:
        raise BacktestError(f"--every {every}: give a number of months of at least 1")
    model = compile_model(scenario)
    labels = model.calendar.labels
    out = []
    for i in range(every, len(labels), every):
        w = origin_windows(scenario, model, observed, labels[i], horizon)
        if _fit_rows(scenario, model, observed, w) and _test_rows(model, observed, w):
            out.append(labels[i])
    if not out:
        raise BacktestError(f"no origin every {every} months from {labels[0]} has observed figures both "
                            "before it (to fit) and after it (to score) inside the horizon")
    return tuple(out)


def _fit_rows(scenario: Scenario, model: Model, observed: pd.DataFrame, w: Windows) -> list[Observation]:
    assert scenario.calibrate is not None
    if not w.fit:
        return []
    return observations(model, observed, scenario.calibrate.measures, w.fit, scenario.calibrate.states)[0]


def _test_rows(model: Model, observed: pd.DataFrame, w: Windows) -> list[Observation]:
    return observations(model, observed, (STOCK,), w.test)[0] if w.test else []


# --- targets the test figures decide ----------------------------------------------------------------


def _target_states(target: Target, model: Model) -> tuple[str, ...]:
    """How observed rows may name the one state, group or total a target is on; () for several."""
    if len(target.states) + len(target.groups) != 1:
        return ()
    if target.states:
        return (target.states[0],)
    group = target.groups[0]
    return (f"{GROUP_PREFIX}{group}",) if group in model.benefit_codes else (f"{GROUP_PREFIX}{group}", group)


def decided_targets(scenario: Scenario, model: Model, scores: pd.DataFrame, ensembles: list[np.ndarray]
                    ) -> pd.DataFrame:
    """The Brier rows of the scenario's targets that a scored figure decides: full-year persons on
    the Jobindsats basis (as observed data count) of one state, group or total, over a period that
    is one of the test figures'."""
    observed = {(str(o.period), o.state, o.measure): o.value for o in scenario.observed}
    rows = []
    for t in scenario.targets:
        if t.metric != STOCK or t.basis != "jobindsats" or t.min_weeks is not None:
            continue
        names = _target_states(t, model)
        hits = scores.index[(scores["period"].astype(str) == t.period) & scores["state"].isin(names)]
        if not len(hits):
            continue
        i = int(hits[0])
        row = scores.iloc[i].to_dict()
        points = {"carried_forward": float(row["carried_forward"]), "trend": float(row["trend"])}
        rows.append(score_target(str(row["origin"]), t.name, t.period, str(row["state"]), t.upper,
                                 threshold_of(t, observed), float(row["actual"]), ensembles[i], points))
    return pd.DataFrame(rows, columns=list(BRIER_COLUMNS))


# --- running -------------------------------------------------------------------------------------------


def observed_before(observed: pd.DataFrame, origin: str) -> pd.DataFrame:
    """The observed rows whose periods end before `origin`: all a forecast from it may know."""
    start = month_number(origin)
    keep = [period_span(str(p))[1] < start for p in observed["period"]]
    return observed[keep].reset_index(drop=True)


def run_origin(scenario: Scenario, observed: pd.DataFrame, windows: Windows, runs: int, seed: int | None,
               workers: int | None = 1, store_dir: Path | None = None, relative_error: float | None = None,
               progress: Progress | None = None) -> OriginBacktest:
    """Fit on `windows.fit`, forecast from `windows.origin`, score `windows.test` (see the module)."""
    assert scenario.calibrate is not None
    spec = scenario.calibrate.model_copy(update={"periods": windows.fit})
    fit = calibrate(scenario, spec, observed, relative_error)
    history = observed_before(observed, windows.origin)
    forecast, stock = origin_scenario(scenario, fit, history, windows.origin)
    result = run(forecast, runs=runs, seed=seed, workers=workers, store_dir=store_dir, progress=progress)
    test, _ = observations(result.model, observed, (STOCK,), windows.test)
    if not test:
        raise BacktestError(f"origin {windows.origin}: no observed {STOCK} for "
                            f"{', '.join(windows.test) or 'any period'} inside the forecast's horizon "
                            f"{result.model.calendar.labels[0]}..{result.model.calendar.labels[-1]}")
    ensembles = replication_values(result, test)
    stocks = history[history["measure"] == STOCK]
    scores = score_figures(windows.origin, [o.period for o in test], [o.state for o in test],
                           np.array([o.value for o in test]), np.vstack(ensembles), stocks)
    order = scores.sort_values("horizon", kind="stable").index
    scores = scores.loc[order].reset_index(drop=True)
    ensembles = [ensembles[i] for i in order]
    return OriginBacktest(windows, fit, forecast, result, scores[list(SCORE_COLUMNS)],
                          decided_targets(scenario, result.model, scores, ensembles), stock)


StoreDir = Callable[[str], Path | None]
"""Where an origin's forecast keeps its replications (None: a temporary folder)."""


def _check(scenario: Scenario) -> None:
    if scenario.calibrate is None:
        raise BacktestError("the scenario has no calibrate: block naming the parameters to fit")


def single_windows(scenario: Scenario, fit_periods: tuple[str, ...], test_period: str) -> Windows:
    """One origin's windows from explicit periods: the origin is the test window's first month;
    BacktestError if the windows overlap or the test window lies outside the horizon."""
    _check(scenario)
    origin = check_windows(tuple(fit_periods), (test_period,))
    labels = compile_model(scenario).calendar.labels
    bounds = parse_period(test_period)
    if bounds is None or bounds[0] not in labels or bounds[1] not in labels:
        raise BacktestError(f"test window {test_period} is not inside the scenario's horizon "
                            f"{labels[0]}..{labels[-1]}")
    return Windows(origin, tuple(fit_periods), (test_period,))


def rolling_windows(scenario: Scenario, observed: pd.DataFrame, origins: tuple[str, ...],
                    horizon: int | None = DEFAULT_HORIZON) -> list[Windows]:
    """Each origin's windows: every calibrate figure that ends before it, every stock that starts
    at or after it and ends within `horizon` months (None: by the horizon's end); BacktestError
    for an origin outside the horizon or with nothing to fit or to score."""
    _check(scenario)
    model = compile_model(scenario)
    labels = model.calendar.labels
    windows = []
    for origin in origins:
        if origin not in labels[1:]:
            raise BacktestError(f"origin {origin} is not a month after the scenario's start inside its "
                                f"horizon {labels[0]}..{labels[-1]}")
        w = origin_windows(scenario, model, observed, origin, horizon)
        if not _fit_rows(scenario, model, observed, w):
            raise BacktestError(f"origin {origin}: no observed figure the calibrate block fits ends "
                                f"before it (from {labels[0]})")
        if not _test_rows(model, observed, w):
            within = f"within {horizon} months" if horizon is not None else "inside the horizon"
            raise BacktestError(f"origin {origin}: no observed {STOCK} starts at or after it and "
                                f"ends {within}")
        windows.append(w)
    return windows


def run_backtest(scenario: Scenario, observed: pd.DataFrame, windows: list[Windows], runs: int,
                 seed: int | None, workers: int | None = 1, store_dir: StoreDir | None = None,
                 relative_error: float | None = None, progress: Progress | None = None) -> Backtest:
    """Run each origin's fit, forecast and scores (`run_origin`), origin by origin."""
    _check(scenario)
    done = [run_origin(scenario, observed, w, runs, seed, workers, store_dir(w.origin) if store_dir else None,
                       relative_error, progress) for w in windows]
    return Backtest(done, observed)


def backtest(scenario: Scenario, observed: pd.DataFrame, fit_periods: tuple[str, ...], test_period: str,
             runs: int, seed: int | None, workers: int | None = 1, store_dir: StoreDir | None = None,
             relative_error: float | None = None, progress: Progress | None = None) -> Backtest:
    """One origin from explicit windows: fit on `fit_periods`, forecast from the first month of
    `test_period` and score its stocks; BacktestError if the windows overlap."""
    return run_backtest(scenario, observed, [single_windows(scenario, fit_periods, test_period)], runs, seed,
                        workers, store_dir, relative_error, progress)


def rolling_backtest(scenario: Scenario, observed: pd.DataFrame, origins: tuple[str, ...], runs: int,
                     seed: int | None, horizon: int | None = DEFAULT_HORIZON, workers: int | None = 1,
                     store_dir: StoreDir | None = None, relative_error: float | None = None,
                     progress: Progress | None = None) -> Backtest:
    """A backtest at each origin (`rolling_windows`): fit on what ends before it, score what follows."""
    return run_backtest(scenario, observed, rolling_windows(scenario, observed, origins, horizon), runs, seed,
                        workers, store_dir, relative_error, progress)
