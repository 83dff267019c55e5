"""Targets: resolved thresholds and their per-replication values."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from sim.caseworkers import MEASURES as TEAM_MEASURES
from sim.catalogue import TOTAL
from sim.model import Model
from sim.programmes import COST, PARTICIPANTS, STARTS
from sim.schema import PROGRAMME_METRICS, TEAM_METRICS


@dataclass(frozen=True)
class ResolvedTarget:
    """A target with its rows of the yearly table, its year column and its numeric threshold."""

    name: str
    metric: str
    rows: tuple[int, ...]
    year_column: int
    threshold: float
    upper: bool
    months: slice = field(default_factory=lambda: slice(0, 0))
    """The target year's months, for team and programme metrics."""
    feature: int = -1
    """The team's or programme's index, for their metrics."""

    def met(self, values: np.ndarray) -> np.ndarray:
        """Whether each value meets the target (at or below an upper bound, at or above a lower)."""
        return values <= self.threshold if self.upper else values >= self.threshold

    @property
    def sense(self) -> str:
        """`at_most` or `at_least`."""
        return "at_most" if self.upper else "at_least"


def resolve_targets(model: Model) -> list[ResolvedTarget]:
    """Turn the scenario's targets into rows, columns and absolute thresholds."""
    scenario = model.scenario
    rows_of = {code: (i,) for i, code in enumerate(model.benefit_codes)}
    rows_of[TOTAL] = (model.n_benefit,)
    groups = {g: tuple(ix) for g, ix in model.groups().items()}
    years = list(model.calendar.full_years())
    observed = {(str(o.period), o.state, o.measure): o.value for o in scenario.observed}
    out = []
    for t in scenario.targets:
        rows: list[int] = []
        for code in t.states:
            rows.extend(rows_of[code])
        for g in t.groups:
            rows.extend(groups.get(g, ()))
        if t.relative:
            base_year = t.base_year if t.base_year is not None else t.year - 1
            base = sum(observed[(str(base_year), c, t.metric)] for c in (*t.states, *t.groups))
            change = t.change_at_most if t.change_at_most is not None else t.change_at_least
            assert change is not None
            threshold = base * (1.0 + change)
        else:
            bound = t.at_most if t.at_most is not None else t.at_least
            assert bound is not None
            threshold = bound
        teams = [team.team for team in scenario.caseworkers]
        programmes = [p.name for p in scenario.interventions]
        feature = (teams.index(t.team) if t.team is not None else
                   programmes.index(t.programme) if t.programme is not None else -1)
        out.append(ResolvedTarget(t.name, t.metric, tuple(sorted(set(rows))), years.index(t.year),
                                  threshold, t.upper, model.calendar.full_years()[t.year], feature))
    return out


def target_values(targets: list[ResolvedTarget], tables: dict[str, np.ndarray]) -> np.ndarray:
    """Each target's value in one replication, from its yearly tables."""
    out = []
    for t in targets:
        rows, year = list(t.rows), t.year_column
        if t.metric == "full_year_persons":
            out.append(tables["yearly"][rows, year].sum())
            continue
        if t.metric in TEAM_METRICS:
            num, den = (TEAM_MEASURES.index(m) for m in TEAM_METRICS[t.metric])
            team = tables["teams"][t.feature, :, t.months]
            total = team[den].sum()
            out.append(team[num].sum() / total if total > 0 else np.nan)
            continue
        if t.metric in PROGRAMME_METRICS:
            programme = tables["programmes"][t.feature, :, t.months]
            measure = {"programme_starts": STARTS, "programme_participants": PARTICIPANTS,
                       "programme_cost_dkk": COST}[t.metric]
            values = programme[measure]
            out.append(values.mean() if t.metric == "programme_participants" else values.sum())
            continue
        gross = tables["yearly_gross"][rows, year].sum()
        net = tables["yearly_net"][rows, year].sum()
        if t.metric == "net_cost_dkk":
            out.append(net)
        elif t.metric == "gross_cost_dkk":
            out.append(gross)
        else:
            out.append(net / gross if gross > 0 else np.nan)
    return np.array(out, dtype=float)
