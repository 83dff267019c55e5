"""Targets: resolved thresholds and their per-replication values."""

from __future__ import annotations

import numpy as np

from sim.contract.catalogue import TOTAL
from sim.contract.schema import DURATION_METRIC, Target
from sim.features.outputs import ResolvedTarget
from sim.features.registry import kinds_of
from sim.kernel.model import Model
from sim.kernel.records import min_weeks_of

__all__ = ["ResolvedTarget", "base_value", "duration_sums", "resolve_targets", "target_values",
           "threshold_of"]


def base_value(target: Target, observed: dict[tuple[str, str, str], float]) -> float:
    """The observed base of a change or difference target: the base period's value, summed over
    the target's states and groups (the cross-check lets a mean duration name only one)."""
    base = target.base_period
    assert base is not None  # the cross-check refuses a month target without a base
    return sum(observed[(base, c, target.measure)] for c in (*target.states, *target.groups))


def threshold_of(target: Target, observed: dict[tuple[str, str, str], float]) -> float:
    """The target's absolute threshold: the bound itself, base × (1 + change) or base + difference."""
    if target.at_most is not None or target.at_least is not None:
        return float(target.at_most if target.at_most is not None else target.at_least)  # type: ignore[arg-type]
    base = base_value(target, observed)
    change = target.change_at_most if target.change_at_most is not None else target.change_at_least
    if change is not None:
        return base * (1.0 + change)
    difference = (target.difference_at_most if target.difference_at_most is not None
                  else target.difference_at_least)
    assert difference is not None
    return base + difference


def resolve_targets(model: Model) -> list[ResolvedTarget]:
    """Turn the scenario's targets into rows, columns and absolute thresholds."""
    scenario = model.scenario
    rows_of = {code: (i,) for i, code in enumerate(model.benefit_codes)}
    rows_of[TOTAL] = (model.n_benefit,)
    groups = {g: tuple(ix) for g, ix in model.groups().items()}
    full_years = model.calendar.full_years()
    years = list(full_years)
    labels = list(model.calendar.labels)
    observed = {(str(o.period), o.state, o.measure): o.value for o in scenario.observed}
    teams = [team.team for team in scenario.caseworkers]
    programmes = [p.name for p in scenario.interventions]
    thresholds = min_weeks_of(scenario)
    out = []
    for t in scenario.targets:
        rows: list[int] = []
        for code in t.states:
            rows.extend(rows_of[code])
        for g in t.groups:
            rows.extend(groups.get(g, ()))
        feature = (teams.index(t.team) if t.team is not None else
                   programmes.index(t.programme) if t.programme is not None else -1)
        if t.month is not None:
            m = labels.index(t.month)
            year_column, month_column, months = -1, m, slice(m, m + 1)
        else:
            assert t.year is not None
            year_column, month_column, months = years.index(t.year), -1, full_years[t.year]
        weeks = thresholds.index(float(t.min_weeks)) if t.min_weeks is not None else -1
        out.append(ResolvedTarget(t.name, t.metric, tuple(sorted(set(rows))), year_column,
                                  threshold_of(t, observed), t.upper, months, feature, month_column,
                                  t.period, weeks, t.basis, t.base if t.relative else ""))
    return out


def duration_sums(target: ResolvedTarget, durations: np.ndarray) -> np.ndarray:
    """Spells started, their days and those open at the horizon, summed over the target's rows and
    months: [measure (sim.kernel.ledger.SPELL_MEASURES), ...] from durations [row, measure, month, ...]."""
    return durations[list(target.rows), :, target.months].sum(axis=(0, 2))


def target_values(model: Model, targets: list[ResolvedTarget], tables: dict[str, np.ndarray]) -> np.ndarray:
    """Each target's value in one replication, from its yearly (or monthly) tables; NaN where it
    is undefined in that replication (no spell started, no meeting due)."""
    by_metric = {m: kind.outputs for kind in kinds_of(model) for m in kind.outputs.target_metrics}
    by_basis = {b: kind.outputs for kind in kinds_of(model) for b in kind.outputs.bases}
    out = []
    for t in targets:
        rows, year, by_month = list(t.rows), t.year_column, t.month_column >= 0
        if t.metric == "full_year_persons" and t.weeks_index >= 0:
            out.append(tables["long_monthly"][t.weeks_index, rows, t.month_column].sum() if by_month
                       else tables["long_yearly"][t.weeks_index, rows, year].sum())
        elif t.metric == "full_year_persons" and t.basis in by_basis:
            out.append(by_basis[t.basis].basis_value(t, tables))
        elif t.metric == "full_year_persons":
            out.append(tables["monthly"][rows, t.month_column].sum() if by_month
                       else tables["yearly"][rows, year].sum())
        elif t.metric == DURATION_METRIC:
            started, days, _ = duration_sums(t, tables["durations"])
            out.append(days / started / 7.0 if started > 0 else np.nan)
        else:
            out.append(by_metric[t.metric].target_value(t, tables))
    return np.array(out, dtype=float)
