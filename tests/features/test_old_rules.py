"""Old refund rules for part of a state's initial stock (fleksjob before 2013, ledighedsydelse
assessed before 1 July 2014): a flat municipal share instead of the 2016 staircase.

The rules (DOMAIN.md): fleksjob started before 1 January 2013 keeps a 65 % refund of the wage
subsidy (municipal share 35 %) whatever the weeks on support; new entrants are on the staircase
(20 / 60 / 70 / 80 % by weeks 1–4, 5–26, 27–52, 53+). Each citizen of the initial stock draws
whether it is old-rule on a stream keyed from the replication (`OLD_RULE`, the state's key).

Expected figures are written out by hand (days from the start, DKK at 1,000 a day); the share
drawn is compared with the input within 4 binomial standard errors.
"""

from __future__ import annotations

import copy
import datetime as dt
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from helpers import Z
from typer.testing import CliRunner

import sim
from sim.cli.app import app
from sim.features.economics.costing import EconomicsFeature, EconomicsModel, costs
from sim.features.support import SupportFeature, SupportPlan
from sim.kernel.citizen import Citizen
from sim.kernel.model import Model
from sim.kernel.streams import OLD_RULE, Streams, state_key

ANNUAL = 365_000.0
START = dt.date(2021, 1, 1)
STATES = ("kontanthjaelp", "fleksjob", "ledighedsydelse")
KH, FJ, LY = range(3)
SHARE_FJ, OLD_FJ = 0.6, 0.35


def scenario_data(share: float = SHARE_FJ) -> dict[str, Any]:
    return {
        "name": "old rules", "start": START.isoformat(), "months": 12,
        "states": {s: {} for s in STATES},
        "initial": {"kontanthjaelp": 3000, "fleksjob": 20000},
        "inflow_per_week": {"ledighedsydelse": 1.0},
        "transitions": {"kontanthjaelp": [{"to": "job", "rate_per_week": 0.03}],
                        "fleksjob": [{"to": "ledighedsydelse", "rate_per_week": 0.001}],
                        "ledighedsydelse": [{"to": "fleksjob", "rate_per_week": 0.02}]},
        "economics": {
            "price_index_per_year": 0.0,
            "states": {s: {"dkk_per_full_year_person": ANNUAL} for s in STATES}
            | {"fleksjob": {"dkk_per_full_year_person": ANNUAL,
                            "old_rule": {"share": share, "municipal_share": OLD_FJ}}},
            "initial_history": {s: [[0, 10, 1.0]] for s in ("kontanthjaelp", "fleksjob")},
        },
    }


class _Stub:
    """A run whose old-rule stream gives fixed uniforms (for the hand path)."""

    def __init__(self, model: Model, uniforms: list[float]) -> None:
        self.model = model
        self.uniforms = uniforms
        self.keys: list[tuple[int, ...]] = []

    def generator(self, *key: int) -> Any:
        self.keys.append(key)
        uniforms = self.uniforms

        class _Fixed:
            def random(self, n: int) -> np.ndarray:
                assert n == len(uniforms)
                return np.asarray(uniforms)

        return _Fixed()


def opened(model: Model, run: Any) -> tuple[EconomicsModel, SupportFeature, EconomicsFeature]:
    econ, plan = model.feature("economics"), model.feature("support")
    assert isinstance(econ, EconomicsModel) and isinstance(plan, SupportPlan)
    support = SupportFeature(plan, run, 0)
    return econ, support, EconomicsFeature(econ, support, 1, run)


def test_old_rule_path_by_hand() -> None:
    model = sim.compile_model(sim.scenario_from_dict(scenario_data()))
    run = _Stub(model, [0.1, 0.9])  # of a 2-citizen fleksjob stock: the first < 0.6 is old-rule
    econ, support, feature = opened(model, run)
    assert econ.n_sub == 6  # four staircase steps, the old-rule step, the unpaid step
    feature.stock(KH, 1)  # ident 0: kontanthjælp stock, no old rule there (no draw)
    feature.stock(FJ, 2)  # idents 1, 2
    assert run.keys == [(OLD_RULE, state_key("fleksjob"))]
    assert feature.old_rule == [-1, FJ, -1]
    kh, old, new = Citizen(0, KH, 0.0), Citizen(1, FJ, 0.0), Citizen(2, FJ, 0.0)
    # the old-rule citizen: fleksjob 100 days, ledighedsydelse 100 days, fleksjob again 100 days;
    # the new-rule one: fleksjob 300 days; the kontanthjælp one: 30 days
    for c, spells in ((old, [(FJ, 0, 100), (LY, 100, 200), (FJ, 200, 300)]),
                      (new, [(FJ, 0, 300)]), (kh, [(KH, 0, 30)])):
        for state, a, b in spells:
            support.spell_closed(c, state, a, b)
    step_days = feature.close()["step_days"].sum(axis=2)
    # old-rule fleksjob: all 200 days on the old-rule step (index 4), whatever the weeks
    assert step_days[FJ, 4] == 200
    # its ledighedsydelse climbs the staircase from 100 counted days: days 100–182 at 60 %
    # (to week 26), 182–200 at 70 %
    assert step_days[LY].tolist() == [0, 82, 18, 0, 0, 0]
    # the new-rule fleksjob: 28 / 154 / 118 days on steps 1–3
    assert step_days[FJ, :4].tolist() == [28, 154, 118, 0]
    gross, net = costs(econ, feature.close()["step_days"])
    # DKK at 1,000 a day: fleksjob net = 0.35 × 200,000 (old) + 0.2 × 28,000 + 0.6 × 154,000 +
    # 0.7 × 118,000 (new) = 70,000 + 5,600 + 92,400 + 82,600 = 250,600; gross 500,000
    assert net[FJ].sum() == pytest.approx(250_600, rel=1e-13)
    assert gross[FJ].sum() == pytest.approx(500_000, rel=1e-13)
    assert net[LY].sum() == pytest.approx(0.6 * 82_000 + 0.7 * 18_000, rel=1e-13)
    assert net[KH].sum() == pytest.approx(0.2 * 28_000 + 0.6 * 2_000, rel=1e-13)


def test_share_drawn_over_many_citizens_is_the_input_share() -> None:
    model = sim.compile_model(sim.scenario_from_dict(scenario_data()))
    streams = Streams(np.random.SeedSequence(2024, spawn_key=(3,)))
    run = _Stub(model, [])
    run.generator = streams.generator  # type: ignore[method-assign]
    _, _, feature = opened(model, run)
    n = 200_000
    feature.stock(KH, 500)
    feature.stock(FJ, n)
    flags = np.asarray(feature.old_rule[500:]) == FJ
    assert len(flags) == n and not (np.asarray(feature.old_rule[:500]) >= 0).any()
    se = math.sqrt(SHARE_FJ * (1 - SHARE_FJ) / n)
    assert abs(flags.mean() - SHARE_FJ) < Z * se, (flags.mean(), se)
    # the stream is the replication's, keyed by OLD_RULE and the state
    expected = streams.generator(OLD_RULE, state_key("fleksjob")).random(n) < SHARE_FJ
    np.testing.assert_array_equal(flags, expected)


def test_in_a_replication_the_old_rule_days_are_the_share_and_no_other_draw_moves() -> None:
    with_old = sim.compile_model(sim.scenario_from_dict(scenario_data()))
    without = sim.compile_model(sim.scenario_from_dict(scenario_data(share=0.0)))
    a = sim.simulate(with_old, np.random.SeedSequence(5))
    b = sim.simulate(without, np.random.SeedSequence(5))
    # the old-rule draws are a stream of their own: every path is the same
    np.testing.assert_array_equal(a.person_days, b.person_days)
    days_a, days_b = a.features["step_days"], b.features["step_days"]
    assert days_a.shape[1] == 6 and days_b.shape[1] == 5  # the old-rule step only when used
    np.testing.assert_allclose(days_a.sum(axis=1), days_b.sum(axis=1), rtol=1e-12)
    # January: the fleksjob stock hardly leaves (0.001 a week), so its old-rule person-days are
    # the share drawn of 20,000 citizens (the kontanthjælp stock placed first takes no flag)
    january = days_a[FJ, :, 0]
    share = january[4] / january.sum()
    se = math.sqrt(SHARE_FJ * (1 - SHARE_FJ) / 20_000)
    assert abs(share - SHARE_FJ) < Z * se, (share, se)
    assert days_a[[KH, LY], 4].sum() == 0
    # the rest of the stock keeps its staircase days
    np.testing.assert_allclose(days_a[FJ, :4, 0].sum() / days_b[FJ, :4, 0].sum(), 1 - share, rtol=0.02)


def test_old_rule_step_in_staircase_csv() -> None:
    result = sim.run(sim.scenario_from_dict(scenario_data()), runs=2, seed=1, workers=1)
    assert result.staircase is not None
    steps = result.staircase.query("state == 'fleksjob'")["step"].tolist()
    assert steps == ["weeks 1–4", "weeks 5–26", "weeks 27–52", "weeks 53+", "old rule", "unpaid"]
    row = result.yearly.query("state == 'fleksjob'").iloc[0]
    # most of the year's fleksjob days are old-rule (60 %) at 35 % or far up the staircase
    assert 0.35 < row["cofinancing_rate"] < 0.8


# Validation through the CLI: one line per problem, naming the key

CLI_BASE = scenario_data()


def _validate(change: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[int, str, str]:
    monkeypatch.chdir(tmp_path)
    data = copy.deepcopy(CLI_BASE)
    change(data)
    Path("s.yaml").write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    result = CliRunner().invoke(app, ["validate", "s.yaml"])
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    return result.exit_code, result.stdout, result.stderr


def _old(data: dict[str, Any], state: str, rule: dict[str, Any]) -> None:
    data["economics"]["states"][state] = {"dkk_per_full_year_person": ANNUAL, "old_rule": rule}


CASES = [
    ("share-above-1", lambda d: _old(d, "fleksjob", {"share": 1.2, "municipal_share": 0.35}),
     "economics.states.fleksjob.old_rule.share", ["1.2 is not allowed", "≤ 1"]),
    ("negative-municipal-share", lambda d: _old(d, "fleksjob", {"share": 0.5, "municipal_share": -0.1}),
     "economics.states.fleksjob.old_rule.municipal_share", ["-0.1 is not allowed", "≥ 0"]),
    ("municipal-share-missing", lambda d: _old(d, "fleksjob", {"share": 0.5}),
     "economics.states.fleksjob.old_rule.municipal_share", ["required key is missing"]),
    ("no-initial-stock", lambda d: _old(d, "ledighedsydelse", {"share": 0.3, "municipal_share": 0.35}),
     "economics.states.ledighedsydelse.old_rule", ["has no initial stock", "initial.ledighedsydelse"]),
    ("bad-pricing", lambda d: d["economics"]["states"]["kontanthjaelp"].update(pricing="gross"),
     "economics.states.kontanthjaelp.pricing", ["'gross' is not allowed", "'refunded' or 'cofinanced'"]),
]


def test_valid_old_rule_block_is_ok(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert _validate(lambda d: None, tmp_path, monkeypatch) == (0, "s.yaml: OK\n", "")


@pytest.mark.parametrize(("change", "path", "fragments"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_old_rule_exits_1_naming_the_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, change: Any,
                                             path: str, fragments: list[str]) -> None:
    code, out, err = _validate(change, tmp_path, monkeypatch)
    assert (code, out) == (1, ""), err
    (line,) = err.splitlines()
    assert line.startswith("s.yaml:") and f": {path}: " in line, line
    for fragment in fragments:
        assert fragment in line, line
