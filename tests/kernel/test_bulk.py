"""Every path drawn at once gives the one-by-one path's numbers bit for bit.

When no feature sees a citizen, the engine draws all paths a generation at a time
(`sim.kernel.bulk`). Its record must be the one-by-one path's exactly: the same keyed pairs, the
same floating-point steps, and the ledger's bookings in the same order (so each sum adds the
same numbers in the same order). Laws are checked elsewhere against closed forms; here the
two paths are checked against each other element for element, on scenarios that reach every
branch: bands of hazard, a band with no hazard, clocks that split, a clock share that stays,
re-entry from an exit, long paths past the cohort tiers, an initial stock from bands, inflows
that change by month, spells and long-term days for targets, economics (the support count's
spells all at once), clocks moved per citizen (the dagpenge period used up by returners, a clock
changed for spells from a date, pauses), and an empty caseload.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from helpers import FAST_PATH

import sim
from sim.kernel.bulk import Exits, chained_days
from sim.kernel.engine import Replication
from sim.kernel.hazards import STAY_HERE, Clock, ExitSchedule

ROOT = Path(__file__).resolve().parents[2]
BASE: dict[str, Any] = copy.deepcopy(FAST_PATH) | {"months": 24}
BASE["transitions"]["kontanthjaelp_jobparat"].append(  # a band of no hazard before week 8
    {"to": "jobafklaring", "rate_per_week": [[0, 0.0], [8, 0.02]]})
BASE["transitions"]["sygedagpenge"].append({"to": "other", "at_week": 40, "share": 1})  # a second clock


def variants() -> dict[str, dict[str, Any]]:
    """BASE and variants of it, each reaching a branch the others do not."""
    out = {"bands, clocks, re-entry": copy.deepcopy(BASE)}
    ping_pong = copy.deepcopy(BASE)  # about 50 moves a citizen-year: past the tiers, own streams
    ping_pong["transitions"]["kontanthjaelp_jobparat"] = [{"to": "a_dagpenge", "rate_per_week": 0.5}]
    ping_pong["transitions"]["a_dagpenge"][0] = {"to": "kontanthjaelp_jobparat", "rate_per_week": 0.5}
    out["long paths"] = ping_pong
    stocked = copy.deepcopy(BASE)
    stocked["initial_durations"] = {"a_dagpenge": [{"from_week": 0, "to_week": 26, "share": 0.6},
                                                   {"from_week": 26, "to_week": 52, "share": 0.4}]}
    seasonal = {"rate": 8, "seasonality": [1, 2, 0, 1, 1, 3, 1, 1, 0.5, 1, 1, 1], "trend_per_year": 0.2}
    stocked["inflow_per_week"] = {"a_dagpenge": seasonal, "sygedagpenge": 30}
    out["stock from bands, monthly inflows"] = stocked
    spells = copy.deepcopy(BASE)
    spells["targets"] = [
        {"name": "d", "metric": "mean_duration_weeks", "states": ["sygedagpenge"], "year": 2018,
         "at_most": 10},
        {"name": "l", "states": ["a_dagpenge"], "year": 2019, "min_weeks": 26, "at_most": 50}]
    spells["ages"] = {"sygedagpenge": [{"from_age": 20, "to_age": 40, "share": 0.5},
                                       {"from_age": 40, "to_age": 65, "share": 0.5}]}
    out["spell targets, ages"] = spells
    costed = copy.deepcopy(BASE)  # the support count takes its spells all at once
    costed["economics"] = {"states": {"a_dagpenge": {"counted": False}}}
    out["economics"] = costed
    moved = copy.deepcopy(BASE)  # clocks moved per citizen: a period used up across spells, dated rules
    moved["months"] = 36
    moved["transitions"]["job"] = [{"to": "a_dagpenge", "rate_per_week": 0.04}]  # many returners
    moved["transitions"]["kontanthjaelp_jobparat"].append({"to": "a_dagpenge", "rate_per_week": 0.02})
    moved["dagpenge_period"] = {"window_weeks": 104, "reearn_weeks": 20}
    moved["rules"] = [
        {"kind": "pause_clocks", "state": "a_dagpenge", "from": "2018-09-01", "until": "2018-12-31"},
        {"kind": "pause_clocks", "state": "sygedagpenge", "from": "2019-03-01", "until": "2019-04-30"},
        {"kind": "clock", "state": "sygedagpenge", "week": 40, "from": "2019-01-01", "at_week": 30},
        {"kind": "clock", "state": "sygedagpenge", "week": 22, "from": "2019-06-01", "at_week": "never"}]
    out["clocks moved per citizen"] = moved
    plain = json.loads(json.dumps(BASE, default=str).replace("sygedagpenge", "ledighedsydelse"))
    out["no feature at all"] = plain  # no employer period: no spell is asked for
    empty = copy.deepcopy(BASE)
    empty["initial"], empty["inflow_per_week"] = {}, {}
    out["nobody"] = empty
    return out


def same_bits(bulk: sim.ReplicationRecord, single: sim.ReplicationRecord, name: str) -> None:
    """Every number of the two records equal, bit for bit."""
    assert bulk.n_events == single.n_events and bulk.n_initial == single.n_initial
    for field in ("person_days", "stock_end", "flows", "durations", "long_term"):
        a, b = getattr(bulk, field), getattr(single, field)
        assert (a is None) == (b is None), field
        if a is not None:
            np.testing.assert_array_equal(a, b, err_msg=f"{name}: {field}")
    assert bulk.features.keys() == single.features.keys()
    for key, a in bulk.features.items():
        np.testing.assert_array_equal(a, single.features[key], err_msg=f"{name}: {key}")


def records(data: dict[str, Any], seed: int) -> tuple[sim.ReplicationRecord, sim.ReplicationRecord]:
    from sim.features import prepare_model
    model = prepare_model(sim.scenario_from_dict(data), seed=1)
    assert Replication(model, np.random.SeedSequence(seed)).bulk  # no feature: the bulk path runs
    return (sim.simulate(model, np.random.SeedSequence(seed)),
            sim.simulate(model, np.random.SeedSequence(seed), bulk=False))


@pytest.mark.parametrize("name", list(variants()))
def test_all_paths_at_once_are_the_one_by_one_paths_bit_for_bit(name: str) -> None:
    data = variants()[name]
    for seed in (1, 2):
        bulk, single = records(data, seed)
        same_bits(bulk, single, name)
        assert ("unpaid_days" in bulk.features) == (name != "no feature at all")
        if name != "nobody":
            assert bulk.n_events > 1000


def test_the_long_paths_reach_past_the_tiers_and_the_spells_are_counted() -> None:
    """The variants have teeth: the long paths use a citizen's own stream, the spell targets book."""
    bulk, _ = records(variants()["long paths"], 1)
    assert bulk.n_events / (800 + 18 * 104) > 10  # about 50 moves a citizen, 6 come from the tiers
    spells, _ = records(variants()["spell targets, ages"], 1)
    assert spells.durations is not None and spells.durations.sum() > 0
    assert spells.long_term is not None and spells.long_term.sum() > 0


def test_the_moved_clocks_have_teeth() -> None:
    """Returners come back with days used, and the dated rules move clocks: the variant's numbers
    differ from the same scenario with neither."""
    data = variants()["clocks moved per citizen"]
    moved, _ = records(data, 1)
    plain, _ = records({k: v for k, v in data.items() if k not in ("dagpenge_period", "rules")}, 1)
    assert moved.n_events != plain.n_events
    assert not np.array_equal(moved.flows, plain.flows)


@pytest.mark.parametrize("name", ["koege-2018", "dragoer-backtest-2019"])
def test_shipped_scenarios_without_programmes_draw_every_path_at_once(name: str) -> None:
    """The dagpenge period and the pauses answer for many citizens at once: no programme or team, no
    citizen by citizen, and the same numbers."""
    from sim.features import prepare_model
    model = prepare_model(sim.load_scenario(ROOT / "scenarios" / f"{name}.yaml"), seed=1)
    assert Replication(model, np.random.SeedSequence(3)).bulk and model.features
    same_bits(sim.simulate(model, np.random.SeedSequence(3)),
              sim.simulate(model, np.random.SeedSequence(3), bulk=False), name)


def test_a_feature_that_sees_citizens_keeps_the_one_by_one_path() -> None:
    """A spell table, every move an event, or told ahead of the clock refused: citizen by citizen.
    (A programme alone lets the paths be drawn up to the first referral: test_handoff.py; a team
    keeps every citizen one by one.)"""
    plain = sim.compile_model(sim.scenario_from_dict(BASE))
    assert not Replication(plain, np.random.SeedSequence(1), record_spells=True).bulk
    assert not Replication(plain, np.random.SeedSequence(1), fast_forward=False).bulk
    data = copy.deepcopy(BASE)
    data["interventions"] = [{"name": "watch", "states": ["a_dagpenge"], "from_week": 0, "to_week": 1,
                              "referral": "on_entry", "uptake": 0.0, "duration_weeks": 1}]
    from sim.features import prepare_model
    model = prepare_model(sim.scenario_from_dict(data), seed=1)
    assert Replication(model, np.random.SeedSequence(1)).bulk
    assert not Replication(model, np.random.SeedSequence(1), ahead=False).bulk


def schedules() -> list[ExitSchedule]:
    """Exit schedules of every shape `next_exit` walks: one constant rate, bands (one of no hazard),
    clocks with a share that stays, a clock alone."""
    return [
        ExitSchedule.build([(0, ((0.0, 0.3),)), (1, ((0.0, 0.1),))], []),
        ExitSchedule.build([(0, ((0.0, 0.0), (4.0, 0.2), (20.0, 0.05))), (2, ((0.0, 0.1), (10.0, 0.0)))],
                           [Clock(22 * 7.0, (1, STAY_HERE), (0.3, 1.0)), Clock(40 * 7.0, (3,), (1.0,))]),
        ExitSchedule.build([(0, ((0.0, 0.0),))], [Clock(13 * 7.0, (1, 2), (0.5, 1.0))]),
        ExitSchedule.build([(0, ((0.0, 0.0),))], []),
    ]


def moved_clocks(who: np.ndarray, state: int, entered: np.ndarray, days: np.ndarray) -> np.ndarray:
    """Clock days as a feature might move them: earlier (some to before the day of entry), gone,
    swapped in order, unchanged; chosen by the citizen's ident."""
    out = days.copy()
    kind = who % 5
    out[kind == 1] -= (entered[kind == 1] % 400.0)[:, None]
    if out.shape[1]:
        out[kind == 2, 0] = math.inf
        out[kind == 4, -1] = 0.0
    if out.shape[1] > 1:
        out[kind == 3, 1] = 5.0
    return out


@pytest.mark.parametrize("moved", [False, True], ids=["own clocks", "clocks moved"])
def test_the_walk_of_all_states_at_once_is_next_exit_element_for_element(moved: bool) -> None:
    """Every state's exits walked together give each citizen what its own schedule's `next_exit` gives
    (moved clocks: what `with_clock_days` of its row gives)."""
    table = schedules()
    exits = Exits(table, [[moved_clocks] if moved else [] for _ in table])
    rng = np.random.default_rng(11)
    n = 12_000
    state = rng.integers(0, len(table), n)
    elapsed = np.where(rng.random(n) < 0.3, 0.0, rng.uniform(0, 400, n))
    elapsed[:6] = [22 * 7.0, 13 * 7.0, 4 * 7.0, 22 * 7.0, 13 * 7.0, 40 * 7.0]  # on a clock's day, an edge
    state[:6] = [1, 2, 1, 1, 2, 1]
    e, u = rng.standard_exponential(n), rng.random(n)
    who, entered = np.arange(n), rng.uniform(-200, 700, n)
    day, dest = exits.next(state, elapsed, e, u, who, entered)
    for i in range(n):
        schedule = table[state[i]]
        if moved:
            row = tuple(moved_clocks(who[i:i + 1], int(state[i]), entered[i:i + 1],
                                     np.array([schedule.clock_days]))[0].tolist())
            schedule = schedule.with_clock_days(row) if row != schedule.clock_days else schedule
        one = schedule.next_exit(float(elapsed[i]), float(e[i]), float(u[i]))
        if one is None:
            assert day[i] == math.inf, i
        else:
            assert (day[i], dest[i]) == one, i
    for k in range(3):
        assert np.isfinite(day[state == k]).any()
    assert (dest == STAY_HERE).any() and (dest == 3).any()  # a clock's share that stays, the second clock


def test_the_steady_state_of_one_constant_rate_is_the_general_formulas_bit_for_bit() -> None:
    schedule = schedules()[0]
    u1, u2 = np.random.default_rng(3).random((2, 10_000))
    general = dataclasses.replace(schedule, constant=0.0)  # the same routes through the general walk
    np.testing.assert_array_equal(schedule.stationary_elapsed_many(u1, u2),
                                  general.stationary_elapsed_many(u1, u2))


def test_chained_days_are_where_one_timeout_after_another_lands() -> None:
    """Arrivals are scheduled each from the one before (now + (t − now)); the bulk path takes the
    days that arithmetic gives, tiny steps and long ones alike."""
    rng = np.random.default_rng(7)
    times = np.sort(np.concatenate([rng.uniform(0, 1e-3, 50), rng.uniform(0, 1.0, 200),
                                    rng.uniform(0, 700, 5000)]))
    now, expected = 0.0, []
    for t in times.tolist():
        now = now + (t - now)
        expected.append(now)
    np.testing.assert_array_equal(chained_days(times), expected)
