"""a-dagpenge priced as the municipality pays it: its staircase share of the a-kasse's benefit.

The rule (DOMAIN.md, "Bases and rules"): since 2016 the a-kasse pays a-dagpenge and the
municipality pays 20 / 60 / 70 / 80 % of it by the citizen's cumulative weeks on public support,
with no refund. Køge's budget line "dagpenge til forsikrede ledige" (seed 003) is that payment:
94,908,608 DKK for 697 full-year persons. So for a cofinanced state gross = net = the
municipality's payment and the refund is 0, while the co-financing rate is net ÷ the benefit
paid out (the measure of Tårnby's table, seed 000: a-dagpenge 66.4 %).

Expected figures are written out by hand (days from the start, 1 week = 7 days, DKK at 1,000 a
day); the Køge figure is the budget's, typed in from seed 003.
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import numpy as np
import pytest

import sim
from sim.contract.refusion import A_DAGPENGE_MAX_2018, DKK_PER_FULL_YEAR_PERSON_2018
from sim.features.economics.costing import EconomicsModel, benefit_paid, costs
from sim.features.economics.outputs import EconomicsOutputs
from sim.features.outputs import ResolvedTarget
from sim.features.support import SupportFeature, SupportPlan
from sim.kernel.citizen import Citizen
from sim.kernel.model import Model

W = 7.0
ANNUAL = 365_000.0  # DKK per full-year person: 1,000 DKK a day in 2021 (365 days)
START = dt.date(2021, 1, 1)
STATES = ("a_dagpenge", "kontanthjaelp")
AD, KH = range(2)
JOB = len(STATES)

KOEGE = Path(__file__).resolve().parents[2] / "scenarios" / "koege-2018.yaml"
KOEGE_DAGPENGE_2018 = 94_908_608.0  # seed 003, 05.57.78 DAGPENGE TIL FORSIKREDE LEDIGE, budget 2018
KOEGE_RUNS = 40
"""About 3 s; the SE of the 2018 net a-dagpenge is then about 0.7 % of the line, well below 5 %."""


class _NoRun:
    def __init__(self, model: Model) -> None:
        self.model = model


def book(pricing: str | None = None) -> tuple[EconomicsModel, SupportFeature]:
    spec: dict[str, object] = {"dkk_per_full_year_person": ANNUAL}
    scenario = sim.scenario_from_dict({
        "name": "cofinanced book", "start": START.isoformat(), "months": 12,
        "states": {s: {} for s in STATES},
        "economics": {"price_index_per_year": 0.0, "states": {
            "a_dagpenge": spec | ({"pricing": pricing} if pricing else {}),
            "kontanthjaelp": {"dkk_per_full_year_person": ANNUAL}}},
    })
    model = sim.compile_model(scenario)
    econ = model.feature("economics")
    plan = model.feature("support")
    assert isinstance(econ, EconomicsModel) and isinstance(plan, SupportPlan)
    return econ, SupportFeature(plan, _NoRun(model), 0)  # type: ignore[arg-type]


# a-dagpenge 10 weeks → kontanthjælp 20 weeks → job, all within 2021 (210 days)
PATH = [(AD, 0.0, 70.0), (KH, 70.0, 210.0), (JOB, 210.0, 300.0)]
# by hand, DKK at 1,000 a day:
#   a-dagpenge: days 0–28 at 20 %, 28–70 at 60 %: benefit 70,000; municipality 0.2 × 28,000 +
#     0.6 × 42,000 = 5,600 + 25,200 = 30,800
#   kontanthjælp: weeks 11–26 (days 70–182) at 60 %, 27–30 (182–210) at 70 %: benefit 140,000;
#     municipality 0.6 × 112,000 + 0.7 × 28,000 = 67,200 + 19,600 = 86,800
AD_BENEFIT, AD_NET = 70_000.0, 30_800.0
KH_BENEFIT, KH_NET = 140_000.0, 86_800.0


def drive(econ: EconomicsModel, support: SupportFeature) -> np.ndarray:
    c = Citizen(0, PATH[0][0], PATH[0][1])
    for state, a, b in PATH:
        support.spell_closed(c, state, a, b)
    return econ.step_days(support)


def test_one_citizen_cofinanced_path_by_hand() -> None:
    econ, support = book()
    assert econ.cofinanced.tolist() == [True, False]  # the catalogue default for a-dagpenge
    step_days = drive(econ, support)
    gross, net = costs(econ, step_days)
    benefit = benefit_paid(econ, step_days)
    # a-dagpenge: gross is the municipality's payment, so net = gross and the refund is 0
    assert benefit[AD].sum() == pytest.approx(AD_BENEFIT, rel=1e-13)
    assert net[AD].sum() == pytest.approx(AD_NET, rel=1e-13)
    assert gross[AD].sum() == pytest.approx(AD_NET, rel=1e-13)
    np.testing.assert_array_equal(gross[AD], net[AD])
    # kontanthjælp, refunded: gross is the benefit, the refund gross − net
    assert gross[KH].sum() == pytest.approx(KH_BENEFIT, rel=1e-13)
    assert net[KH].sum() == pytest.approx(KH_NET, rel=1e-13)
    assert (gross[KH] - net[KH]).sum() == pytest.approx(KH_BENEFIT - KH_NET, rel=1e-13)
    # by month: January (31 days) is a-dagpenge days 0–28 at 20 % and 28–31 at 60 %
    assert net[AD, 0] == pytest.approx(0.2 * 28_000 + 0.6 * 3_000, rel=1e-13)
    assert benefit[AD, 0] == pytest.approx(31_000, rel=1e-13)


def test_the_cofinanced_outputs_rate_and_refund() -> None:
    """Through the economics outputs: refund 0, and the co-financing rate of a-dagpenge is its
    staircase share of the benefit (30,800 / 70,000 = 0.44), not net ÷ gross (= 1)."""
    econ, support = book()
    step_days = drive(econ, support)
    gross, net = (np.vstack([x, x.sum(axis=0)]) for x in costs(econ, step_days))
    benefit = benefit_paid(econ, step_days)
    benefit = np.vstack([benefit, benefit.sum(axis=0)])
    tables = {"yearly_gross": gross.sum(axis=1, keepdims=True), "yearly_net": net.sum(axis=1, keepdims=True),
              "yearly_benefit": benefit.sum(axis=1, keepdims=True)}

    def value(metric: str, rows: tuple[int, ...]) -> float:
        target = ResolvedTarget("t", metric, rows, 0, 0.0, True)
        return EconomicsOutputs().target_value(target, tables)

    assert value("cofinancing_rate", (AD,)) == pytest.approx(30_800 / 70_000, rel=1e-13)
    assert value("gross_cost_dkk", (AD,)) == pytest.approx(AD_NET, rel=1e-13)
    assert value("net_cost_dkk", (AD,)) == pytest.approx(AD_NET, rel=1e-13)
    # both states: (30,800 + 86,800) ÷ (70,000 + 140,000) = 117,600 / 210,000 = 0.56
    assert value("cofinancing_rate", (AD, KH)) == pytest.approx(0.56, rel=1e-13)


def test_pricing_refunded_gives_the_old_reading() -> None:
    # pricing: refunded on a-dagpenge: gross = the benefit, refund = 70,000 − 30,800
    econ, support = book("refunded")
    step_days = drive(econ, support)
    gross, net = costs(econ, step_days)
    assert gross[AD].sum() == pytest.approx(AD_BENEFIT, rel=1e-13)
    assert net[AD].sum() == pytest.approx(AD_NET, rel=1e-13)


def test_default_level_reproduces_koege_line_by_hand() -> None:
    # the derivation in sim/contract/refusion.py, redone: Køge's 2018 a-dagpenge person-weeks by
    # step, 4,349 / 13,971 / 9,013 / 9,251 → mean share 22,962.3 / 36,584
    share = (0.2 * 4349 + 0.6 * 13971 + 0.7 * 9013 + 0.8 * 9251) / (4349 + 13971 + 9013 + 9251)
    level = DKK_PER_FULL_YEAR_PERSON_2018["a_dagpenge"]
    assert 697 * share * level == pytest.approx(KOEGE_DAGPENGE_2018, rel=1e-9)
    assert level == pytest.approx(216_944, abs=1)
    assert 0.95 < level / A_DAGPENGE_MAX_2018 < 1.0
    assert A_DAGPENGE_MAX_2018 == 12 * 18_633


@pytest.fixture(scope="module")
def koege() -> sim.RunResult:
    return sim.run(sim.load_scenario(KOEGE), runs=KOEGE_RUNS, seed=11, workers=2)


def test_koege_net_dagpenge_2018_is_the_budget_line_within_5_percent(koege: sim.RunResult) -> None:
    rows, years = koege.model.n_benefit + 1, len(koege.model.calendar.full_years())
    row = list(koege.model.benefit_codes).index("a_dagpenge")
    column = list(koege.model.calendar.full_years()).index(2018)
    net = np.asarray(koege.store.arrays["yearly_net"]).reshape(rows, years, -1)[row, column]
    gross = np.asarray(koege.store.arrays["yearly_gross"]).reshape(rows, years, -1)[row, column]
    mean, se = net.mean(), net.std(ddof=1) / math.sqrt(len(net))
    assert se < 0.01 * KOEGE_DAGPENGE_2018, ("too few runs for a 5 % check", se / KOEGE_DAGPENGE_2018)
    assert abs(mean - KOEGE_DAGPENGE_2018) < 0.05 * KOEGE_DAGPENGE_2018, (mean, se)
    # cofinanced: gross is the municipality's payment, no refund
    np.testing.assert_allclose(gross, net, rtol=1e-12)
    y = koege.yearly.query("state == 'a_dagpenge' and year == 2018").iloc[0]
    assert y["refund_dkk"] == pytest.approx(0.0, abs=1e-6)
    assert y["net_dkk"] == pytest.approx(mean, rel=1e-12)
    # and the co-financing rate is the staircase share, between weeks 1–4's 20 % and 80 %
    assert 0.5 < y["cofinancing_rate"] < 0.75
