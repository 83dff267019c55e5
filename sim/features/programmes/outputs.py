"""Programmes' results: measures per programme and month, programme targets, programmes.csv."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from sim.contract.schema import PROGRAMME_METRICS
from sim.features.outputs import FeatureOutputs, ResolvedTarget, Stored, feature_frame
from sim.features.programmes.programme import COST, MEASURES, PARTICIPANTS, RECORD, STARTS
from sim.kernel.model import Model
from sim.kernel.records import ReplicationRecord

_MEASURE = {"programme_starts": STARTS, "programme_participants": PARTICIPANTS, "programme_cost_dkk": COST}


class ProgrammesOutputs(FeatureOutputs):
    """[programme, measure, month] per replication; starts, participants and cost as targets."""

    files = ("programmes",)
    target_metrics = frozenset(PROGRAMME_METRICS)

    def shapes(self, model: Model) -> dict[str, tuple[int, ...]]:
        """programmes [programme, measure, month]."""
        return {"programmes": (len(model.scenario.interventions), len(MEASURES), model.calendar.months)}

    def measure(self, model: Model, record: ReplicationRecord) -> dict[str, np.ndarray]:
        """The record's array as it is."""
        return {"programmes": record.features[RECORD]}

    def target_value(self, target: ResolvedTarget, tables: Mapping[str, np.ndarray]) -> float:
        """Starts or cost summed over the target's months, participants averaged."""
        values = tables["programmes"][target.feature, _MEASURE[target.metric], target.months]
        return float(values.mean() if target.metric == "programme_participants" else values.sum())

    def frames(self, model: Model, store: Stored) -> dict[str, pd.DataFrame]:
        """programmes.csv."""
        return {"programmes": programmes_frame(model, store)}


def programmes_frame(model: Model, store: Stored) -> pd.DataFrame:
    """programmes.csv: month, programme, the mean over replications of each measure, and
    mean_wait_days (days waited per start, from the sums)."""
    names = [p.name for p in model.scenario.interventions]
    months = model.calendar.labels
    values = np.asarray(store.arrays["programmes"]).reshape(len(names), -1, len(months), store.runs)
    return feature_frame("programme", names, MEASURES, values, months,
                         {"mean_wait_days": ("wait_days", "starts")})
