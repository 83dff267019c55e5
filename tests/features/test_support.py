"""The support book against hand-computed staircase paths, and the engine's support history
across re-entries against an independent replay of its recorded spells.

The rule (DOMAIN.md, refusionsreformen): the municipality pays 20 % of the benefit in weeks
1–4 of a citizen's cumulative time on public support, 60 % in weeks 5–26, 70 % in weeks 27–52
and 80 % from week 53; the count runs on across moves and re-entries and starts again only after
52 weeks of self-support within the last 156 weeks. The employer pays sygedagpenge's first 30
days: they cost the municipality nothing and do not count.

Every expected figure below is written out by hand (days from the start, 1 week = 7 days); the
only code used for them is the month split of an interval and the days of a year.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from helpers import month_edges

import sim
from sim.features.economics.costing import EconomicsModel, costs
from sim.features.registry import prepare_model
from sim.features.support import SupportFeature, SupportPlan
from sim.kernel.citizen import Citizen
from sim.kernel.model import Model

W = 7.0  # days per week
SHARE = (0.20, 0.60, 0.70, 0.80)  # municipal share on steps 0–3 (weeks 1–4, 5–26, 27–52, 53+)
EDGES = (0.0, 4 * W, 26 * W, 52 * W)  # cumulative support days at which each step starts
UNPAID = 4  # index of the unpaid step (after the four staircase steps)
SYG_UNPAID = 30.0  # days the employer pays
RESET, WINDOW = 52 * W, 156 * W

# ---------------------------------------------------------------------------------------------
# 1. One citizen at a time, driven through the book by hand


class SupportBook:
    """The support feature and the costing driven by hand, outside a replication."""

    def __init__(self, econ: EconomicsModel, model: Model) -> None:
        plan = model.feature("support")
        assert isinstance(plan, SupportPlan)
        self.econ = econ
        self.feature = SupportFeature(plan, _NoRun(model), 0)  # type: ignore[arg-type]

    def closed(self, c: Citizen, state: int, start: float, end: float) -> None:
        self.feature.spell_closed(c, state, start, end)

    def close(self) -> np.ndarray:
        return self.econ.step_days(self.feature)


class _NoRun:
    def __init__(self, model: Model) -> None:
        self.model = model


def economics_of(model: Model) -> EconomicsModel:
    econ = model.feature("economics")
    assert isinstance(econ, EconomicsModel)
    return econ

BOOK_START = dt.date(2021, 1, 1)
BOOK_MONTHS = 48  # 2021–2024; 2024 is a leap year, so its day rate is different
ANNUAL = 365_000.0  # DKK per full-year person: 1,000 DKK a day in a 365-day year

BOOK_STATES = ("kontanthjaelp", "sygedagpenge", "revalidering", "ledighedsydelse", "kommunal_ydelse")
KH, SYG, REVA, LY, KOM = range(5)
JOB = len(BOOK_STATES)  # the first exit: the engine numbers exits after the benefit states


def book_scenario() -> sim.Scenario:
    return sim.scenario_from_dict({
        "name": "support book", "start": BOOK_START.isoformat(), "months": BOOK_MONTHS,
        "states": {**{s: {} for s in BOOK_STATES[:-1]}, "kommunal_ydelse": {"group": "kontanthjaelp"}},
        "economics": {
            "price_index_per_year": 0.0,
            "states": {
                **{s: {"dkk_per_full_year_person": ANNUAL} for s in BOOK_STATES},
                "revalidering": {"dkk_per_full_year_person": ANNUAL, "refunded": False},
                "ledighedsydelse": {"dkk_per_full_year_person": ANNUAL, "counted": False},
            },
        },
    })


# Each path: (state, start day, end day) of consecutive spells; JOB is self-support.
# Each expected segment: (state, step, from day, to day), worked out by hand in the comments.
PATHS: dict[str, tuple[list[tuple[int, float, float]], list[tuple[int, int, float, float]], float]] = {
    # kontanthjælp 10 wk → job 20 wk → kontanthjælp 30 wk → job 60 wk → kontanthjælp 8 wk
    "re-entry-then-reset": (
        [(KH, 0, 70), (JOB, 70, 210), (KH, 210, 420), (JOB, 420, 840), (KH, 840, 896)],
        [
            (KH, 0, 0, 28), (KH, 1, 28, 70),          # weeks 1–4 at 20 %, 5–10 at 60 %
            # back after 20 weeks away (< 52): the count continues at week 11
            (KH, 1, 210, 322),                         # weeks 11–26: 16 weeks = 112 days
            (KH, 2, 322, 420),                         # weeks 27–40: 14 weeks = 98 days
            # back after 60 more weeks away: 80 weeks of self-support in the window ≥ 52 → week 1
            (KH, 0, 840, 868), (KH, 1, 868, 896),      # weeks 1–4, 5–8
        ],
        56.0,                                          # 8 weeks counted since the reset
    ),
    # kontanthjælp 10 wk → job 40 wk → kontanthjælp 110 wk → job 15 wk → kontanthjælp 5 wk:
    # 55 weeks of self-support in all, but only 46 within the 156 weeks before the last return
    "window": (
        [(KH, 0, 70), (JOB, 70, 350), (KH, 350, 1120), (JOB, 1120, 1225), (KH, 1225, 1260)],
        [
            (KH, 0, 0, 28), (KH, 1, 28, 70),
            # 40 weeks away (< 52): continues at week 11
            (KH, 1, 350, 462),                         # weeks 11–26
            (KH, 2, 462, 644),                         # weeks 27–52: 26 weeks = 182 days
            (KH, 3, 644, 1120),                        # weeks 53–120
            # window starts at day 1225 − 1092 = 133: job [133, 350) = 31 weeks + 15 weeks = 46 < 52
            (KH, 3, 1225, 1260),                       # still at 80 %
        ],
        125 * W,                                       # 10 + 110 + 5 weeks
    ),
    # exactly 52 weeks of self-support is enough
    "reset-at-52-weeks": (
        [(KH, 0, 35), (JOB, 35, 399), (KH, 399, 420)],
        [(KH, 0, 0, 28), (KH, 1, 28, 35), (KH, 0, 399, 420)],
        21.0,
    ),
    # sygedagpenge 40 wk → job 20 days → sygedagpenge 20 days → kontanthjælp 10 wk
    "sygedagpenge-employer-period": (
        [(SYG, 0, 280), (JOB, 280, 300), (SYG, 300, 320), (KH, 320, 390)],
        [
            (SYG, UNPAID, 0, 30),                      # the employer's 30 days: free, not counted
            (SYG, 0, 30, 58),                          # then weeks 1–4 …
            (SYG, 1, 58, 212),                         # … 5–26 (22 weeks = 154 days) …
            (SYG, 2, 212, 280),                        # … and 27 on: 250 days counted
            (SYG, UNPAID, 300, 320),                   # a new sickness spell: 20 days, all employer
            (KH, 2, 320, 390),                         # counted days 251–320, below 364: 70 %
        ],
        320.0,
    ),
    # kontanthjælp 10 wk → sygedagpenge 10 wk, sick while on a benefit: no employer period
    "sick-while-on-benefit": (
        [(KH, 0, 70), (SYG, 70, 140), (JOB, 140, 200)],
        [(KH, 0, 0, 28), (KH, 1, 28, 70), (SYG, 1, 70, 140)],  # weeks 11–20 at 60 %, paid from day 1
        140.0,
    ),
    # kontanthjælp 10 wk → revalidering (not refunded) 10 wk → ledighedsydelse (not counted)
    # 30 wk → kontanthjælp 30 wk
    "refunded-and-counted-flags": (
        [(KH, 0, 70), (REVA, 70, 140), (LY, 140, 350), (KH, 350, 560)],
        [
            (KH, 0, 0, 28), (KH, 1, 28, 70),
            (REVA, 1, 70, 140),                        # counts (weeks 11–20) but the municipality pays all
            (LY, 1, 140, 350),                         # at week 21's step (60 %) throughout; the count stays
            (KH, 1, 350, 392),                         # weeks 21–26
            (KH, 2, 392, 560),                         # weeks 27–50
        ],
        350.0,
    ),
    # a custom state defaults to not counted and not refunded
    "custom-state": (
        [(KOM, 0, 100), (KH, 100, 130)],
        [(KOM, 0, 0, 100), (KH, 0, 100, 128), (KH, 1, 128, 130)],
        30.0,
    ),
}
MUNICIPAL = {KH: SHARE, SYG: SHARE, REVA: (1.0,) * 4, LY: SHARE, KOM: (1.0,) * 4}


def split_by_month(a: float, b: float, edges: np.ndarray) -> np.ndarray:
    """Days of [a, b) in each month."""
    return np.clip(np.minimum(b, edges[1:]) - np.maximum(a, edges[:-1]), 0.0, None)


def day_rate(labels: list[int]) -> np.ndarray:
    """DKK per person-day in each month: ANNUAL over the days of the month's year."""
    return np.array([ANNUAL / (366.0 if y % 4 == 0 else 365.0) for y in labels])


@pytest.mark.parametrize("name", list(PATHS))
def test_one_citizen_costs_exactly_the_hand_computed_dkk(name: str) -> None:
    spells, segments, support_after = PATHS[name]
    model = sim.compile_model(book_scenario())
    econ = economics_of(model)
    assert econ is not None and model.codes[JOB] == "job"
    book = SupportBook(econ, model)
    citizen = Citizen(0, spells[0][0], spells[0][1])
    for state, a, b in spells:
        book.closed(citizen, state, a, b)
    step_days = book.close()

    edges = month_edges(BOOK_START, BOOK_MONTHS)
    years = [BOOK_START.year + k // 12 for k in range(BOOK_MONTHS)]
    rate = day_rate(years)
    expected_days = np.zeros((len(BOOK_STATES), 5, BOOK_MONTHS))
    gross = np.zeros((len(BOOK_STATES), BOOK_MONTHS))
    net = np.zeros((len(BOOK_STATES), BOOK_MONTHS))
    for state, step, a, b in segments:
        days = split_by_month(a, b, edges)
        expected_days[state, step] += days
        if step != UNPAID:
            gross[state] += days * rate
            net[state] += days * rate * MUNICIPAL[state][step]

    np.testing.assert_allclose(step_days, expected_days, rtol=0, atol=1e-9)
    got_gross, got_net = costs(econ, step_days)
    np.testing.assert_allclose(got_gross, gross, rtol=1e-13, atol=1e-9)
    np.testing.assert_allclose(got_net, net, rtol=1e-13, atol=1e-9)
    assert book.feature.days[citizen.ident] == pytest.approx(support_after, abs=1e-9)


def test_the_hand_paths_cover_the_rules() -> None:
    # the totals by step, summed by hand over the first path, as DKK at 1,000 a day (2021)
    _, segments, _ = PATHS["re-entry-then-reset"]
    by_step = defaultdict(float)
    for _, step, a, b in segments:
        by_step[step] += b - a
    assert dict(by_step) == {0: 28 + 28, 1: 42 + 112 + 28, 2: 98}
    gross = 1000 * (56 + 182 + 98)
    net = 1000 * (0.2 * 56 + 0.6 * 182 + 0.7 * 98)
    model = sim.compile_model(book_scenario())
    book = SupportBook(economics_of(model), model)
    c = Citizen(0, KH, 0.0)
    for state, a, b in PATHS["re-entry-then-reset"][0]:
        book.closed(c, state, a, b)
    g, n = costs(economics_of(model), book.close())
    assert g.sum() == pytest.approx(gross, rel=1e-13)
    assert n.sum() == pytest.approx(net, rel=1e-13)


def test_citizens_do_not_share_a_count() -> None:
    # two citizens in one book: each keeps its own count
    model = sim.compile_model(book_scenario())
    book = SupportBook(economics_of(model), model)
    a, b = Citizen(0, KH, 0.0), Citizen(1, KH, 0.0)
    book.closed(a, KH, 0, 200)
    book.closed(b, KH, 100, 120)
    days = book.close().sum(axis=2)
    assert book.feature.days[a.ident] == 200 and book.feature.days[b.ident] == 20
    assert days[KH, :4].tolist() == [28 + 20, 154, 18, 0]


def test_time_on_disability_pension_is_not_self_support() -> None:
    # DOMAIN.md: self-support (selvforsørgelse) is job or education; førtidspension is public
    # support (and covered by the staircase for those assessed from 1 July 2014). A citizen back
    # from 60 weeks on pension has not had 52 weeks of self-support: the count must not restart.
    model = sim.compile_model(book_scenario())
    pension = model.codes.index("pension")
    book = SupportBook(economics_of(model), model)
    c = Citizen(0, KH, 0.0)
    for state, a, b in [(KH, 0, 70), (pension, 70, 490), (KH, 490, 546)]:
        book.closed(c, state, a, b)
    days = book.close().sum(axis=2)
    assert days[KH, 0] == 28, "the count started again after time on førtidspension"
    assert book.feature.days[c.ident] >= 126


# ---------------------------------------------------------------------------------------------
# 6. The engine: support history across re-entries, replayed from the recorded spells

ENGINE_MONTHS = 72
ENGINE_START = dt.date(2018, 1, 1)


def reentry_scenario() -> sim.Scenario:
    return sim.scenario_from_dict({
        "name": "re-entry", "start": ENGINE_START.isoformat(), "months": ENGINE_MONTHS,
        "states": {"kontanthjaelp": {}, "sygedagpenge": {}, "fleksjob": {}},
        "inflow_per_week": {"kontanthjaelp": 2.0, "sygedagpenge": 3.0},
        "transitions": {
            "kontanthjaelp": [{"to": "job", "rate_per_week": 0.05},
                              {"to": "fleksjob", "rate_per_week": 0.005}],
            "sygedagpenge": [{"to": "job", "rate_per_week": 0.12},
                             {"to": "kontanthjaelp", "rate_per_week": 0.02}],
            "fleksjob": [{"to": "job", "rate_per_week": 0.03}],
            "job": [{"to": "kontanthjaelp", "rate_per_week": 0.008},
                    {"to": "sygedagpenge", "rate_per_week": 0.008}],
        },
        "economics": {"states": {"fleksjob": {"counted": False}}},
    })


def replay(spells: pd.DataFrame, edges: np.ndarray, codes: list[str]) -> tuple[np.ndarray, dict[str, int]]:
    """Person-days [state, step, month] from the spells, by the rule, citizen by citizen."""
    out = np.zeros((len(codes), 5, len(edges) - 1))
    seen = {"continued": 0, "reset": 0}

    def book(state: int, step: int, a: float, b: float) -> None:
        out[state, step] += split_by_month(max(a, 0.0), min(b, edges[-1]), edges)

    for _, rows in spells.groupby("id", sort=False):
        support, away = 0.0, []
        previous: Any = None
        for row in rows.itertuples():
            if previous is not None and previous.to in ("job", "education", "pension", "other"):
                away.append((previous.end_day, row.start_day))
                lo = row.start_day - WINDOW
                inside = sum(max(0.0, min(b, row.start_day) - max(a, lo)) for a, b in away)
                if inside >= RESET:
                    support, away = 0.0, []
                    seen["reset"] += 1
                else:
                    seen["continued"] += 1
            state = codes.index(row.state)
            t = row.start_day
            if row.state == "sygedagpenge":
                book(state, UNPAID, t, min(row.end_day, t + SYG_UNPAID))
                t = min(row.end_day, t + SYG_UNPAID)
            step = max(k for k, e in enumerate(EDGES) if e <= support)
            if row.state == "fleksjob":  # not counted: the current step throughout
                book(state, step, t, row.end_day)
            else:
                while t < row.end_day:
                    nxt = EDGES[step + 1] - support if step < 3 else np.inf
                    end = min(row.end_day, t + nxt)
                    book(state, step, t, end)
                    support += end - t
                    t = end
                    step += 1
            previous = row
    return out, seen


def test_engine_support_history_across_reentry_matches_a_replay_of_its_spells() -> None:
    model = sim.compile_model(reentry_scenario())
    record = sim.simulate(model, np.random.SeedSequence(606), record_spells=True)
    assert record.spells is not None and record.features["step_days"] is not None
    edges = month_edges(ENGINE_START, ENGINE_MONTHS)
    expected, seen = replay(record.spells, edges, list(model.benefit_codes))
    # the replay must see both sides of the reset rule often, or it tests nothing
    assert seen["continued"] > 30 and seen["reset"] > 30, seen
    np.testing.assert_allclose(record.features["step_days"], expected, rtol=0, atol=1e-6)
    # and the unpaid step is sygedagpenge's alone
    assert record.features["step_days"][[0, 2], UNPAID].sum() == 0
    assert record.features["step_days"][1, UNPAID].sum() > 0


def test_replay_agrees_on_a_known_path() -> None:
    # the replay itself, on the first hand path (a check of the checker)
    rows = [(0, "kontanthjaelp", a, b, to) for (s, a, b), to in zip(
        [p for p in PATHS["re-entry-then-reset"][0] if p[0] != JOB],
        ["job", "job", None], strict=True)]
    spells = pd.DataFrame(rows, columns=["id", "state", "start_day", "end_day", "to"])
    edges = month_edges(BOOK_START, BOOK_MONTHS)
    got, seen = replay(spells, edges, ["kontanthjaelp"])
    assert seen == {"continued": 1, "reset": 1}
    assert got[0].sum(axis=1).tolist() == [56, 182, 98, 0, 0]


def test_every_person_day_on_a_benefit_is_costed_once_even_with_redraws() -> None:
    """Programmes redraw exits mid-spell; the support book must still see each spell once:
    the person-days by staircase step add up to the ledger's person-days, state by state."""
    scenario = sim.scenario_from_dict({
        "name": "redraws", "start": "2018-01-01", "months": 24,
        "states": {"kontanthjaelp_jobparat": {}, "sygedagpenge": {}},
        "initial": {"kontanthjaelp_jobparat": 300, "sygedagpenge": 200},
        "inflow_per_week": {"kontanthjaelp_jobparat": 6, "sygedagpenge": 15},
        "transitions": {"kontanthjaelp_jobparat": [{"to": "job", "rate_per_week": 0.01}],
                        "sygedagpenge": [{"to": "job", "rate_per_week": 0.1}]},
        "interventions": [{"name": "kursus", "states": ["kontanthjaelp_jobparat"], "from_week": 8,
                           "places": 10, "duration_weeks": 3,
                           "effects": {"during": {"job": 0.2}, "after": {"job": 3.0}, "after_weeks": 10}}],
        "economics": {"initial_history": {s: [[0, 10, 1.0]] for s in ("kontanthjaelp_jobparat",
                                                                      "sygedagpenge")}},
    })
    model = sim.compile_model(scenario)
    record = sim.simulate(model, np.random.SeedSequence(8))
    assert record.features["step_days"] is not None and record.features["programmes"] is not None
    assert record.features["programmes"][:, 3].sum() > 50  # programme starts happened, with their redraws
    step_days = record.features["step_days"]
    np.testing.assert_allclose(step_days.sum(axis=1), record.person_days[: model.n_benefit],
                               rtol=1e-9, atol=1e-6)


# ---------------------------------------------------------------------------------------------
# 7. The count at the end, against the count as the spells close

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("name", ["taarnby-2018.yaml", "dragoer-2022-2023.yaml"])
def test_the_count_after_the_horizon_is_the_count_as_spells_close(
        name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """With no feature reading the counts during the run, the kernel gives the support count every
    spell at once after the horizon and one compiled pass counts them (`spells_closed`); told a
    feature reads them (`read_during_run`), it counts each spell as it closes (`spell_closed`).
    Both must give the same numbers bit for bit: every cost, the payment basis, the spells kept."""
    model = prepare_model(sim.load_scenario(ROOT / "scenarios" / name), 1)
    late = sim.simulate(model, np.random.SeedSequence(21), bulk=False)
    drawn = sim.simulate(model, np.random.SeedSequence(21))  # (Tårnby: citizens made at their referral)
    opened = SupportFeature.__init__

    def reading(self: SupportFeature, *args: Any) -> None:
        opened(self, *args)
        self.read_during_run()

    with monkeypatch.context() as patch:
        patch.setattr(SupportFeature, "__init__", reading)
        live = sim.simulate(model, np.random.SeedSequence(21))
    assert late.features.keys() == live.features.keys() and "step_days" in late.features
    for key, a in late.features.items():
        np.testing.assert_array_equal(a, live.features[key], err_msg=key)
        np.testing.assert_allclose(drawn.features[key], a, rtol=1e-12, atol=1e-9, err_msg=key)  # sums' order
    np.testing.assert_array_equal(late.person_days, live.person_days)


def test_a_count_read_during_the_run_must_be_said_so() -> None:
    """Reading a count the kernel gives only after the horizon is refused, not answered wrongly."""
    model = sim.compile_model(reentry_scenario())
    plan = model.feature("support")
    assert isinstance(plan, SupportPlan)
    feature = SupportFeature(plan, _NoRun(model), 0)  # type: ignore[arg-type]
    with pytest.raises(RuntimeError, match="read_during_run"):
        feature.support_days(Citizen(0, 0, 0.0), 10.0)
    feature.read_during_run()
    assert feature.support_days(Citizen(0, 0, 0.0), 10.0) == 10.0
