"""Programmes (the `interventions` block) against queueing theory and survival closed forms.

Erlang B and C are written here from their textbook recursions, the survival shares from the
exponential distribution; the simulation only provides the counts. Every comparison allows
`Z` = 4 standard errors: over replications where citizens share a queue, over citizens where
they do not (unlimited places: each citizen is on its own numbers, so they are independent).
Times in the engine are days; scenario rates and durations are per week.
"""

from __future__ import annotations

import copy
import itertools
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from helpers import CRN_BASE, Z, refused_with_one_problem, scenario, validate_via_cli

import sim
from sim.features.programmes.programme import MEASURES
from sim.kernel.records import ReplicationRecord

PARTICIPANTS, QUEUED, REFERRALS, STARTS, LAPSED, DECLINED, WAIT = (
    MEASURES.index(m) for m in ("participants", "queued", "referrals", "starts", "lapsed", "declined",
                                "wait_days"))


# ---------------------------------------------------------------------------------------------
# Closed forms, written independently of the engine


def erlang_b(c: int, a: float) -> float:
    """Erlang's loss formula B(c, a) by the stable recursion B_k = a B_{k-1} / (k + a B_{k-1})."""
    b = 1.0
    for k in range(1, c + 1):
        b = a * b / (k + a * b)
    return b


def erlang_c(c: int, a: float) -> float:
    """P(wait > 0) in M/M/c: C = c B / (c − a (1 − B)), from Erlang B."""
    b = erlang_b(c, a)
    return c * b / (c - a * (1.0 - b))


def test_erlang_formulas_against_their_sums() -> None:
    """The recursions agree with the defining sums (a check on the test's own closed forms)."""
    c, a = 10, 8.0
    terms = [a**k / math.factorial(k) for k in range(c + 1)]
    assert erlang_b(c, a) == pytest.approx(terms[-1] / sum(terms), rel=1e-12)
    tail = terms[-1] * c / (c - a)
    assert erlang_c(c, a) == pytest.approx(tail / (sum(terms[:-1]) + tail), rel=1e-12)


def mean_se(x: np.ndarray) -> tuple[float, float]:
    """Mean and standard error over independent replications."""
    return float(x.mean()), float(x.std(ddof=1) / math.sqrt(len(x)))


def near(estimate: float, se: float, expected: float, what: str) -> None:
    assert se > 0, what
    assert abs(estimate - expected) <= Z * se, (
        f"{what}: {estimate:.5g} vs {expected:.5g}, {(estimate - expected) / se:+.1f} SE (SE {se:.3g})")


def share_near(hits: int, n: int, p: float, what: str) -> None:
    """A binomial share among n independent citizens within Z standard errors of p."""
    assert n > 200, what
    near(hits / n, math.sqrt(p * (1.0 - p) / n), p, what)


# ---------------------------------------------------------------------------------------------
# Queues: Poisson referrals into one state nobody leaves (exit rate 1e-6 per week)

QUEUE_MONTHS = 48
WARM_UP = 12
"""Months skipped before measuring: from an empty start the M/M/10 queue at ρ = 0.8 relaxes in
about 1/(μ(√c − √a)²) ≈ 9 weeks, so after a year the bias is far below the noise."""
LAMBDA = 8.0  # referrals per week
MEAN_WEEKS = 1.0  # mean duration
PLACES = 10


def queue_scenario(**programme: Any) -> sim.Scenario:
    spec: dict[str, Any] = {"name": "forløb", "states": ["a_dagpenge"], "referral": "on_entry",
                            "uptake": 1, "places": PLACES, "duration_weeks": MEAN_WEEKS,
                            "duration": "exponential"}
    spec.update(programme)
    return scenario(months=QUEUE_MONTHS, states={"a_dagpenge": {}},
                    inflow_per_week={"a_dagpenge": LAMBDA},
                    transitions={"a_dagpenge": [{"to": "job", "rate_per_week": 1e-6}]},
                    interventions=[spec])


def replicate(s: sim.Scenario, runs: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """[run, measure, month] of the one programme, and the days of each month."""
    model = sim.compile_model(s)
    out = []
    for seq in np.random.SeedSequence(seed).spawn(runs):
        programmes = sim.simulate(model, seq).features["programmes"]
        assert programmes is not None
        out.append(programmes[0])
    return np.stack(out), model.calendar.days


def window(values: np.ndarray, days: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """Per run after the warm-up: person-days of each measure (averages × days), counts, days."""
    w = slice(WARM_UP, None)
    return (values[:, :, w] * days[w]).sum(axis=2), values[:, :, w].sum(axis=2), float(days[w].sum())


@pytest.fixture(scope="module")
def mmc() -> tuple[np.ndarray, np.ndarray]:
    return replicate(queue_scenario(), runs=200, seed=20180101)


@pytest.fixture(scope="module", params=["exponential", "fixed"])
def loss(request: pytest.FixtureRequest) -> tuple[str, np.ndarray, np.ndarray]:
    values, days = replicate(queue_scenario(max_wait_weeks=0, duration=request.param), runs=60, seed=7)
    return request.param, values, days


@pytest.mark.slow
def test_mmc_wait_and_queue_length_follow_erlang_c(mmc: tuple[np.ndarray, np.ndarray]) -> None:
    values, days = mmc
    lam, mu = LAMBDA / 7.0, 1.0 / (MEAN_WEEKS * 7.0)  # per day
    a = lam / mu
    wq = erlang_c(PLACES, a) / (PLACES * mu - lam)  # days
    person_days, counts, span = window(values, days)
    near(*mean_se(counts[:, WAIT] / counts[:, STARTS]), wq, "mean wait (days)")
    near(*mean_se(person_days[:, QUEUED] / span), lam * wq, "mean queue length")
    # without a limit on the wait nobody lapses, and everybody referred takes it up
    assert values[:, LAPSED].sum() == 0 and values[:, DECLINED].sum() == 0
    # the carried load of M/M/c is the offered load a
    near(*mean_se(person_days[:, PARTICIPANTS] / span), a, "mean participants")


@pytest.mark.slow
def test_no_queue_loses_the_erlang_b_share(loss: tuple[str, np.ndarray, np.ndarray]) -> None:
    """max_wait_weeks: 0 is M/G/c/c: the lapsed share is B(c, a), for any duration law."""
    duration, values, days = loss
    _, counts, _ = window(values, days)
    a = LAMBDA * MEAN_WEEKS
    near(*mean_se(counts[:, LAPSED] / counts[:, REFERRALS]), erlang_b(PLACES, a),
         f"lapsed share ({duration} durations)")
    assert values[:, QUEUED].sum() == 0 and values[:, WAIT].sum() == 0
    np.testing.assert_array_equal(values[:, REFERRALS], values[:, STARTS] + values[:, LAPSED])


@pytest.mark.slow
def test_littles_law_on_participants(mmc: tuple[np.ndarray, np.ndarray],
                                     loss: tuple[str, np.ndarray, np.ndarray]) -> None:
    """Mean participants = starts per day × mean duration (paired per run), and for the loss
    system the carried load a (1 − B)."""
    duration, loss_values, loss_days = loss
    for label, (values, days) in (("M/M/c", mmc), (f"M/G/c/c {duration}", (loss_values, loss_days))):
        person_days, counts, span = window(values, days)
        participants = person_days[:, PARTICIPANTS] / span
        flow = counts[:, STARTS] / span * MEAN_WEEKS * 7.0
        near(*mean_se(participants - flow), 0.0, f"{label}: participants − starts/day × duration")
    person_days, _, span = window(loss_values, loss_days)
    a = LAMBDA * MEAN_WEEKS
    near(*mean_se(person_days[:, PARTICIPANTS] / span), a * (1.0 - erlang_b(PLACES, a)),
         f"carried load ({duration})")


# ---------------------------------------------------------------------------------------------
# Common random numbers: a programme that changes no hazard changes no path


NEUTRAL: list[dict[str, Any]] = [
    {"name": "queue", "states": ["a_dagpenge", "kontanthjaelp_jobparat"], "referral": "at_week",
     "from_week": 4, "places": 15, "max_wait_weeks": 6, "uptake": 0.7, "duration_weeks": 10,
     "duration": "exponential", "effects": {"during": {"job": 1}, "after": {"job": 1}, "after_weeks": 8},
     "cost_per_week_dkk": 900},
    {"name": "entry", "states": ["sygedagpenge"], "referral": "on_entry", "places": 5, "duration_weeks": 6,
     "effects": {"during": {"job": 1.0}}},
    {"name": "rate", "states": ["kontanthjaelp_jobparat"], "referral": "rate", "rate_per_week": 0.2,
     "to_week": 40, "duration_weeks": 3, "max_wait_weeks": 0, "places": 4},
]


def crn_run(data: dict[str, Any], seed: int) -> ReplicationRecord:
    model = sim.compile_model(sim.scenario_from_dict(data))
    return sim.simulate(model, np.random.SeedSequence(seed), record_spells=True)


@pytest.mark.parametrize("seed", [3, 4])
def test_a_programme_with_ratio_one_changes_no_path(seed: int) -> None:
    with_programmes = copy.deepcopy(CRN_BASE)
    with_programmes["interventions"] = NEUTRAL
    base, other = crn_run(CRN_BASE, seed), crn_run(with_programmes, seed)
    np.testing.assert_allclose(other.person_days, base.person_days, rtol=1e-12, atol=1e-9)
    np.testing.assert_array_equal(other.flows, base.flows)
    assert base.spells is not None and other.spells is not None
    pd.testing.assert_frame_equal(other.spells, base.spells, check_exact=False, rtol=1e-12, atol=1e-9)
    # the programmes did run: people were referred, queued, started and lapsed
    assert other.features["programmes"] is not None
    totals = other.features["programmes"].sum(axis=2)
    assert (totals[:, REFERRALS] > 0).all() and (totals[:, STARTS] > 0).all()
    assert totals[0, QUEUED] > 0 and totals[0, LAPSED] > 0 and totals[0, DECLINED] > 0
    assert totals[2, LAPSED] > 0


def test_a_lock_in_leaves_citizens_of_other_states_untouched() -> None:
    """A real effect in sickness touches only those who pass through sickness."""
    with_programme = copy.deepcopy(CRN_BASE)
    with_programme["interventions"] = [{"name": "syg", "states": ["sygedagpenge"], "referral": "on_entry",
                                        "duration_weeks": 8, "effects": {"during": {"job": 0.3}}}]
    base, other = crn_run(CRN_BASE, 5), crn_run(with_programme, 5)
    assert base.spells is not None and other.spells is not None
    sick = set(base.spells.loc[base.spells["state"] == "sygedagpenge", "id"])
    assert sick == set(other.spells.loc[other.spells["state"] == "sygedagpenge", "id"])
    # citizens never in sickness: the initial stock and arrivals of the other states (ids are
    # given at creation, in arrival order, which no programme changes)
    untouched_a = base.spells[~base.spells["id"].isin(sick)].reset_index(drop=True)
    untouched_b = other.spells[~other.spells["id"].isin(sick)].reset_index(drop=True)
    assert len(untouched_a) > 1000
    pd.testing.assert_frame_equal(untouched_b, untouched_a, check_exact=False, rtol=1e-12, atol=1e-9)
    assert base.person_days[2].tolist() != other.person_days[2].tolist()


# ---------------------------------------------------------------------------------------------
# Lock-in and after-effects: survival shares with unlimited places (independent citizens)

R_JOB, R_OTHER = 0.10, 0.05  # per week
D, A, B = 8.0, 4.0, 6.0  # weeks: programme, after-effect, a control window after it
DURING, AFTER = 0.5, 2.0


def competing(job: float, other: float, weeks: float) -> tuple[float, float]:
    """P(leave to job), P(leave to other) within `weeks` at constant hazards per week."""
    total = job + other
    gone = -math.expm1(-total * weeks)
    return job / total * gone, other / total * gone


def windows(spells: pd.DataFrame, horizon: float, state: str,
            cuts: list[float]) -> list[tuple[int, int, int]]:
    """Per window [cuts[k], cuts[k+1]) of weeks in `state`: (at risk, to job, to other), among
    spells whose last window ends before the horizon."""
    s = spells[(spells["state"] == state) & (spells["start_day"] + cuts[-1] * 7.0 < horizon)]
    stay = (s["end_day"] - s["start_day"]) / 7.0
    out = []
    for lo, hi in itertools.pairwise(cuts):
        at_risk = stay >= lo
        inside = at_risk & (stay < hi)
        out.append((int(at_risk.sum()), int((inside & (s["to"] == "job")).sum()),
                    int((inside & (s["to"] == "other")).sum())))
    return out


def test_lock_in_and_after_effect_scale_the_named_route() -> None:
    s = scenario(months=36, states={"a_dagpenge": {}}, inflow_per_week={"a_dagpenge": 60},
                 transitions={"a_dagpenge": [{"to": "job", "rate_per_week": R_JOB},
                                             {"to": "other", "rate_per_week": R_OTHER}]},
                 interventions=[{"name": "kursus", "states": ["a_dagpenge"], "referral": "on_entry",
                                 "duration_weeks": D,
                                 "effects": {"during": {"job": DURING}, "after": {"job": AFTER},
                                             "after_weeks": A}}])
    model = sim.compile_model(s)
    record = sim.simulate(model, np.random.SeedSequence(12), record_spells=True)
    assert record.spells is not None
    got = windows(record.spells, model.calendar.horizon, "a_dagpenge", [0, D, D + A, D + A + B])
    expected = [competing(DURING * R_JOB, R_OTHER, D), competing(AFTER * R_JOB, R_OTHER, A),
                competing(R_JOB, R_OTHER, B)]
    for (n, job, other), (p_job, p_other), what in zip(got, expected, ["during", "after", "after the after"],
                                                      strict=True):
        share_near(job, n, p_job, f"{what}: share to job")
        share_near(other, n, p_other, f"{what}: share to other")


def test_an_after_effect_ends_when_the_citizen_leaves_the_state() -> None:
    """Effects are ratios on routes out of the eligible state, for `after_weeks`: a citizen who
    moves on to kontanthjælp during the after window must have kontanthjælp's own hazards there,
    at the latest once the after window is over. We look at kontanthjælp stays of citizens who
    came from a_dagpenge during the window, from `after_weeks` into the stay (past the window
    under any reading): the shares to job and other in the next `x` weeks are those of the plain
    rates, as they are for a control group who left a_dagpenge during or after the window."""
    after_weeks, x = 1.0, 10.0
    r_kh, r_kh_other = 0.05, 0.05
    s = scenario(months=36, states={"a_dagpenge": {}, "kontanthjaelp": {}},
                 inflow_per_week={"a_dagpenge": 80},
                 transitions={"a_dagpenge": [{"to": "job", "rate_per_week": 0.02},
                                             {"to": "kontanthjaelp", "rate_per_week": 1.0}],
                              "kontanthjaelp": [{"to": "job", "rate_per_week": r_kh},
                                                {"to": "other", "rate_per_week": r_kh_other}]},
                 interventions=[{"name": "kursus", "states": ["a_dagpenge"], "referral": "on_entry",
                                 "duration_weeks": 0.5,
                                 "effects": {"after": {"job": 4}, "after_weeks": after_weeks}}])
    model = sim.compile_model(s)
    record = sim.simulate(model, np.random.SeedSequence(8), record_spells=True)
    spells = record.spells
    assert spells is not None
    first = spells[spells["state"] == "a_dagpenge"].set_index("id")
    kh = spells[spells["state"] == "kontanthjaelp"]
    came = first.loc[kh["id"]]
    ended = came["end_day"].to_numpy()
    programme_end = came["start_day"].to_numpy() + 0.5 * 7.0
    in_window = (ended >= programme_end) & (ended < programme_end + after_weeks * 7.0)
    p_job, p_other = competing(r_kh, r_kh_other, x)
    # control: those who moved on during the programme or after the window have the plain rates
    for label, group in (("control", kh[~in_window]), ("left during the after window", kh[in_window])):
        assert len(group) > 2000, label
        (n, job, other), = windows(group, model.calendar.horizon, "kontanthjaelp",
                                   [after_weeks, after_weeks + x])
        share_near(other, n, p_other, f"kontanthjælp, {label}: share to other")
        share_near(job, n, p_job, f"kontanthjælp, {label}: share to job")


# ---------------------------------------------------------------------------------------------
# Conservation of referrals


def locked_queue(max_wait: float | None, seed: int) -> tuple[ReplicationRecord, sim.Model]:
    """One place, taken by the first arrival for good (duration past the horizon, lock-in 0 on
    the only route): everyone after queues until they leave the state or lapse."""
    spec: dict[str, Any] = {"name": "en plads", "states": ["a_dagpenge"], "referral": "on_entry",
                            "places": 1, "duration_weeks": 520, "effects": {"during": {"job": 0}}}
    if max_wait is not None:
        spec["max_wait_weeks"] = max_wait
    s = scenario(months=24, states={"a_dagpenge": {}}, inflow_per_week={"a_dagpenge": 6},
                 transitions={"a_dagpenge": [{"to": "job", "rate_per_week": 0.25}]}, interventions=[spec])
    model = sim.compile_model(s)
    record = sim.simulate(model, np.random.SeedSequence(seed), record_spells=True)
    return record, model


@pytest.mark.parametrize("max_wait", [None, 3.0])
def test_leaving_the_queue_is_neither_a_start_nor_a_lapse(max_wait: float | None) -> None:
    """Exact per replication, with every outcome read off the citizens' own spells: referrals =
    starts + lapsed + left while queued + still queued at the end, and the queue's person-days
    are the queued citizens' days in the state up to leaving or lapsing."""
    record, model = locked_queue(max_wait, seed=31)
    horizon, days = model.calendar.horizon, model.calendar.days
    assert record.spells is not None and record.features["programmes"] is not None
    spells = record.spells.sort_values("start_day", ignore_index=True)
    totals = record.features["programmes"][0].sum(axis=1)
    first, rest = spells.iloc[0], spells.iloc[1:]
    assert first["end_day"] == horizon and pd.isna(first["to"])  # locked in for good
    stay = (rest["end_day"] - rest["start_day"]).to_numpy()
    left = (rest["end_day"] < horizon).to_numpy()
    patience = math.inf if max_wait is None else max_wait * 7.0
    lapsed = int((stay >= patience).sum())
    left_queue = int((left & (stay < patience)).sum())
    still = int((~left & (stay < patience)).sum())
    assert left_queue > 100 and (max_wait is None or lapsed > 100)
    assert totals[REFERRALS] == len(spells)
    assert totals[STARTS] == 1
    assert totals[LAPSED] == lapsed
    assert totals[DECLINED] == 0
    assert totals[REFERRALS] == totals[STARTS] + totals[LAPSED] + left_queue + still
    queued_days = (record.features["programmes"][0, QUEUED] * days).sum()
    np.testing.assert_allclose(queued_days, np.minimum(stay, patience).sum(), rtol=1e-9)
    participant_days = (record.features["programmes"][0, PARTICIPANTS] * days).sum()
    np.testing.assert_allclose(participant_days, horizon - first["start_day"], rtol=1e-9)
    assert totals[WAIT] == 0.0  # the one start did not wait


def test_without_a_queue_every_referral_starts_lapses_or_declines() -> None:
    """max_wait 0, nobody leaves: referrals = starts + lapsed + declined in every month of every
    run, and the declined share is 1 − uptake."""
    values, _ = replicate(queue_scenario(max_wait_weeks=0, uptake=0.6, duration="fixed", places=3),
                          runs=4, seed=5)
    np.testing.assert_array_equal(values[:, REFERRALS],
                                  values[:, STARTS] + values[:, LAPSED] + values[:, DECLINED])
    assert values[:, QUEUED].sum() == 0
    referrals, declined = int(values[:, REFERRALS].sum()), int(values[:, DECLINED].sum())
    share_near(declined, referrals, 0.4, "declined share")
    assert values[:, LAPSED].sum() > 100


# ---------------------------------------------------------------------------------------------
# Validation through the CLI

VALID: dict[str, Any] = {
    "name": "Programmer", "start": "2020-01-01", "months": 12,
    "states": {"a_dagpenge": {}, "sygedagpenge": {}},
    "initial": {"a_dagpenge": 50, "sygedagpenge": 20},
    "inflow_per_week": {"a_dagpenge": 3},
    "transitions": {"a_dagpenge": [{"to": "job", "rate_per_week": 0.05}],
                    "sygedagpenge": [{"to": "job", "rate_per_week": 0.08},
                                     {"to": "a_dagpenge", "rate_per_week": 0.01}]},
    "interventions": [{"name": "kursus", "states": ["a_dagpenge"], "duration_weeks": 6, "places": 10,
                       "effects": {"during": {"job": 0.6}}},
                      {"name": "syg", "states": ["sygedagpenge"], "referral": "on_entry",
                       "duration_weeks": 4, "effects": {"after": {"a_dagpenge": 1.5}, "after_weeks": 8}}],
}


def test_the_valid_programmes_pass(tmp_path: Path) -> None:
    code, problems = validate_via_cli(tmp_path, VALID)
    assert code == 0 and problems == "", problems


def _unknown_state(d: dict[str, Any]) -> None:
    d["interventions"][0]["states"] = ["a_dagpenge", "a_dagpegne"]


def _no_such_route(d: dict[str, Any]) -> None:
    d["interventions"][0]["effects"]["during"] = {"education": 0.5}


def _rate_without_rate(d: dict[str, Any]) -> None:
    d["interventions"][1]["referral"] = "rate"


def _same_name(d: dict[str, Any]) -> None:
    d["interventions"][1]["name"] = "kursus"


@pytest.mark.parametrize(("change", "path", "words"), [
    (_unknown_state, "interventions[0].states[1]", "a_dagpegne"),
    (_no_such_route, "interventions[0].effects.during.education", "route"),
    (_rate_without_rate, "interventions[1]", "rate_per_week"),
    (_same_name, "interventions[1].name", "kursus"),
])
def test_bad_programmes_are_refused_with_their_key_path(tmp_path: Path, change: Any, path: str,
                                                         words: str) -> None:
    data = copy.deepcopy(VALID)
    change(data)
    refused_with_one_problem(tmp_path, data, path, words)


@pytest.mark.parametrize("seed", [3, 4])
def test_a_programme_added_or_moved_leaves_the_others_draws_alone(seed: int) -> None:
    """Each programme's decisions come from its own stream, keyed by its name: a programme added
    in front of the others (all with ratio 1, so paths do not change) leaves each other
    programme's referrals, uptake, queues and starts exactly as they were."""
    base = copy.deepcopy(CRN_BASE)
    base["interventions"] = NEUTRAL[1:]
    more = copy.deepcopy(CRN_BASE)
    extra = {**NEUTRAL[0], "name": "a newcomer", "states": ["kontanthjaelp_jobparat"], "places": 3}
    more["interventions"] = [extra, *reversed(NEUTRAL[1:])]
    a, b = crn_run(base, seed).features["programmes"], crn_run(more, seed).features["programmes"]
    np.testing.assert_array_equal(b[2], a[0])  # "entry"
    np.testing.assert_array_equal(b[1], a[1])  # "rate"
    assert b[0].sum() > 0  # the newcomer did run
