"""Caseworker teams' results: measures per team and month, meeting and fokusmål targets, caseworkers.csv."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from sim.contract.caseworker_spec import TEAM_SHARES
from sim.features.caseworkers.team import MEASURES, RECORD
from sim.features.outputs import FeatureOutputs, ResolvedTarget, Stored, feature_frame
from sim.kernel.model import Model
from sim.kernel.records import ReplicationRecord


class TeamsOutputs(FeatureOutputs):
    """[team, measure, month] per replication; the shares of TEAM_SHARES as targets."""

    files = ("caseworkers",)
    target_metrics = frozenset(TEAM_SHARES)

    def shapes(self, model: Model) -> dict[str, tuple[int, ...]]:
        """teams [team, measure, month]."""
        return {"teams": (len(model.scenario.caseworkers), len(MEASURES), model.calendar.months)}

    def measure(self, model: Model, record: ReplicationRecord) -> dict[str, np.ndarray]:
        """The record's array as it is."""
        return {"teams": record.features[RECORD]}

    def target_value(self, target: ResolvedTarget, tables: Mapping[str, np.ndarray]) -> float:
        """The share over the target's months: numerator ÷ denominator sums (undefined when 0)."""
        num, den = (MEASURES.index(m) for m in TEAM_SHARES[target.metric])
        team = tables["teams"][target.feature, :, target.months]
        total = team[den].sum()
        return float(team[num].sum() / total) if total > 0 else np.nan

    def frames(self, model: Model, store: Stored) -> dict[str, pd.DataFrame]:
        """caseworkers.csv."""
        return {"caseworkers": teams_frame(model, store)}


def teams_frame(model: Model, store: Stored) -> pd.DataFrame:
    """caseworkers.csv: month, team, the mean of each measure over replications, and the shares
    (sim.contract.caseworker_spec.TEAM_SHARES)."""
    names = [t.team for t in model.scenario.caseworkers]
    months = model.calendar.labels
    values = np.asarray(store.arrays["teams"]).reshape(len(names), -1, len(months), store.runs)
    return feature_frame("team", names, MEASURES, values, months, TEAM_SHARES)
