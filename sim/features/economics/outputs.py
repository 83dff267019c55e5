"""Economics' results: DKK tables per replication, cost targets, costs.csv and staircase.csv."""

from __future__ import annotations

import itertools
from collections.abc import Mapping

import numpy as np
import pandas as pd

from sim.features.economics.costing import STEP_DAYS, EconomicsModel, benefit_paid, costs
from sim.features.outputs import FeatureOutputs, ResolvedTarget, Stored, order_by, state_rows
from sim.kernel.model import Model
from sim.kernel.records import ReplicationRecord
from sim.kernel.tables import by_year, with_total

COST_COLUMNS = ["gross_dkk", "refund_dkk", "net_dkk", "net_dkk_p10", "net_dkk_p90",
                "cofinancing_rate", "cofinancing_rate_p10", "cofinancing_rate_p90"]
"""Means across replications of gross DKK (the benefit paid out; for a cofinanced state the
municipality's payment), state refunds (gross − net) and net municipal cost, the net cost's
10–90 % band, and the co-financing rate (net ÷ the benefit paid out, per replication) with its band."""


def _plan(model: Model) -> EconomicsModel:
    plan = model.feature("economics")
    assert isinstance(plan, EconomicsModel)
    return plan


def cost_stats(store: Stored, period: str) -> np.ndarray:
    """[cells, COST_COLUMNS] for `period` (yearly or monthly) gross, net and benefit tables."""
    out = []
    triples = zip(store.chunks(f"{period}_gross"), store.chunks(f"{period}_net"),
                  store.chunks(f"{period}_benefit"), strict=True)
    for (_, gross), (_, net), (_, benefit) in triples:
        with np.errstate(invalid="ignore", divide="ignore"):
            rate = np.where(benefit > 0, net / benefit, np.nan)
        g, n = gross.mean(axis=1), net.mean(axis=1)
        n10, n90 = np.quantile(net, (0.1, 0.9), axis=1)
        has_rate = ~np.isnan(rate).all(axis=1)
        r = np.full((len(g), 3), np.nan)
        if has_rate.any():
            r[has_rate, 0] = np.nanmean(rate[has_rate], axis=1)
            r[has_rate, 1:] = np.nanquantile(rate[has_rate], (0.1, 0.9), axis=1).T
        out.append(np.column_stack([g, g - n, n, n10, n90, r]))
    return np.vstack(out) if out else np.zeros((0, len(COST_COLUMNS)))


class EconomicsOutputs(FeatureOutputs):
    """Gross and net DKK per month and year, person-weeks by staircase step, cost targets."""

    files = ("costs", "staircase")
    target_metrics = frozenset({"cofinancing_rate", "net_cost_dkk", "gross_cost_dkk"})

    def shapes(self, model: Model) -> dict[str, tuple[int, ...]]:
        """monthly/yearly gross, net and benefit paid out [row, period]; yearly_steps [row, step
        (staircase, old rule if any, day one if any, unpaid last), year]."""
        rows, months, years = model.n_benefit + 1, model.calendar.months, len(model.calendar.full_years())
        return {"monthly_gross": (rows, months), "monthly_net": (rows, months),
                "monthly_benefit": (rows, months),
                "yearly_gross": (rows, years), "yearly_net": (rows, years), "yearly_benefit": (rows, years),
                "yearly_steps": (rows, _plan(model).n_sub, years)}

    def measure(self, model: Model, record: ReplicationRecord) -> dict[str, np.ndarray]:
        """DKK from the person-days by step."""
        step_days = record.features[STEP_DAYS]
        plan = _plan(model)
        gross, net = (with_total(x) for x in costs(plan, step_days))
        benefit = with_total(benefit_paid(plan, step_days))
        return {"monthly_gross": gross, "monthly_net": net, "monthly_benefit": benefit,
                "yearly_gross": by_year(model, gross), "yearly_net": by_year(model, net),
                "yearly_benefit": by_year(model, benefit),
                "yearly_steps": by_year(model, with_total(step_days)) / 7.0}

    def target_value(self, target: ResolvedTarget, tables: Mapping[str, np.ndarray]) -> float:
        """Net or gross DKK, or the co-financing rate (net ÷ the benefit paid out), over the
        target's rows."""
        rows = list(target.rows)
        period = "monthly" if target.month_column >= 0 else "yearly"
        column = target.month_column if target.month_column >= 0 else target.year_column
        gross, net, benefit = (tables[f"{period}_{name}"][rows, column].sum()
                               for name in ("gross", "net", "benefit"))
        if target.metric == "net_cost_dkk":
            return float(net)
        if target.metric == "gross_cost_dkk":
            return float(gross)
        return float(net / benefit) if benefit > 0 else np.nan

    def yearly_columns(self, model: Model, store: Stored) -> tuple[list[str], np.ndarray]:
        """The cost columns of yearly.csv."""
        return COST_COLUMNS, cost_stats(store, "yearly")

    def frames(self, model: Model, store: Stored) -> dict[str, pd.DataFrame]:
        """costs.csv and staircase.csv."""
        return {"costs": costs_frame(model, store), "staircase": staircase_frame(model, store)}


def costs_frame(model: Model, store: Stored) -> pd.DataFrame:
    """costs.csv: month, state and the cost columns: DKK and co-financing by month."""
    rows = state_rows(model)
    index = pd.MultiIndex.from_product([rows, model.calendar.labels], names=["state", "month"])
    frame = pd.DataFrame(cost_stats(store, "monthly"), index=index, columns=COST_COLUMNS).reset_index()
    return frame[["month", "state", *COST_COLUMNS]].sort_values(["month", "state"], key=order_by(rows),
                                                                ignore_index=True)


def staircase_frame(model: Model, store: Stored) -> pd.DataFrame:
    """staircase.csv: year, state, step, mean person-weeks on each step of the refusion staircase
    (the steps of every staircase in force, with a dated one), with an old rule on the old-rule
    step, with a dated refund from day one on its step, and on the unpaid step."""
    rows = state_rows(model)
    years = list(model.calendar.full_years())
    plan = _plan(model)
    edges = [w / 7.0 for w in plan.step_edges]
    steps = [f"weeks {a + 1:g}–{b:g}" for a, b in itertools.pairwise(edges)] + [f"weeks {edges[-1] + 1:g}+"]
    steps += ["old rule"] * plan.has_old_rule + ["refunded from day one"] * plan.has_day_one + ["unpaid"]
    means = np.asarray(store.arrays["yearly_steps"]).mean(axis=1) if store.runs else np.zeros(0)
    index = pd.MultiIndex.from_product([rows, steps, years], names=["state", "step", "year"])
    frame = pd.DataFrame({"person_weeks": means}, index=index).reset_index()
    return frame[["year", "state", "step", "person_weeks"]].sort_values(
        ["year", "state"], key=order_by(rows), kind="stable", ignore_index=True)
