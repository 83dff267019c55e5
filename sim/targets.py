"""Targets: resolved thresholds and their per-replication values."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.catalogue import TOTAL
from sim.model import Model


@dataclass(frozen=True)
class ResolvedTarget:
    """A target with its rows of the yearly table, its year column and its numeric threshold."""

    name: str
    metric: str
    rows: tuple[int, ...]
    year_column: int
    threshold: float
    upper: bool

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
        out.append(ResolvedTarget(t.name, t.metric, tuple(sorted(set(rows))), years.index(t.year),
                                  threshold, t.upper))
    return out


def target_values(targets: list[ResolvedTarget], tables: dict[str, np.ndarray]) -> np.ndarray:
    """Each target's value in one replication, from its yearly tables."""
    out = []
    for t in targets:
        rows, year = list(t.rows), t.year_column
        if t.metric == "full_year_persons":
            out.append(tables["yearly"][rows, year].sum())
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
