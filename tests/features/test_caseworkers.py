"""Caseworker teams (the `caseworkers` block) against counting, closed forms and validation.

Capacity and schedules are checked by exact counting: a team's daily hours, the every_weeks
bands and each citizen's meeting days. Meeting effects and caseworker changes are checked
against survival closed forms written here: piecewise-constant hazards for meetings, and for
changes a small Markov chain over the number of changes k (a Poisson process at the turnover
rate, the job hazard r·0.78^k) solved with `scipy.linalg.expm`. Citizens with no shared queue
are independent, so shares are binomial; every comparison allows `Z` = 4 standard errors.
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
from helpers import START, Z, refused_with_one_problem, scenario, validate_via_cli
from scipy.linalg import expm

import sim
from sim.features.caseworkers.team import DAY_END, MEASURES
from sim.features.programmes.programme import MEASURES as PROGRAMME_MEASURES
from sim.kernel.engine import Replication
from sim.kernel.records import ReplicationRecord

(DUE, HELD, LATE, MISSED, FIRST_HELD, FIRST_14, HOURS_AVAILABLE, HOURS_USED, SENIOR, NO_OFFER,
 FEW_MEETINGS) = (MEASURES.index(m) for m in (
    "due", "held", "late", "missed", "first_held", "first_within_14_days", "hours_available",
    "hours_used", "fokus_seniority_12m", "fokus_no_offer", "fokus_few_meetings"))
YEAR = 365.0


def team(**spec: Any) -> dict[str, Any]:
    """A team on a_dagpenge with ample hours (1,000 meetings a week) unless told otherwise."""
    out: dict[str, Any] = {"team": "Jobteam", "states": ["a_dagpenge"], "headcount": 10,
                           "hours_per_week": 25, "hours_per_meeting": 0.25}
    out.update(spec)
    return out


def stay_forever(months: int, initial: int, inflow: float, *teams: dict[str, Any]) -> sim.Scenario:
    """a_dagpenge with no way out: a stock spread evenly over two years' elapsed weeks, arrivals."""
    blocks: dict[str, Any] = {"states": {"a_dagpenge": {}}, "inflow_per_week": {"a_dagpenge": inflow},
                              "caseworkers": list(teams)}
    if initial:
        blocks |= {"initial": {"a_dagpenge": initial},
                   "initial_durations": {"a_dagpenge": [[0, 104, 1.0]]}}
    return scenario(months=months, **blocks)


def one_run(s: sim.Scenario, seed: int, spells: bool = False) -> tuple[ReplicationRecord, sim.Model]:
    model = sim.compile_model(s)
    return sim.simulate(model, np.random.SeedSequence(seed), record_spells=spells), model


def counts(record: ReplicationRecord) -> np.ndarray:
    """[measure, month] of the one team."""
    assert record.features["teams"] is not None
    return record.features["teams"][0]


def near(estimate: float, se: float, expected: float, what: str) -> None:
    assert se > 0, what
    assert abs(estimate - expected) <= Z * se, (
        f"{what}: {estimate:.5g} vs {expected:.5g}, {(estimate - expected) / se:+.1f} SE (SE {se:.3g})")


def hits_near(hits: int, p: np.ndarray, what: str) -> None:
    """A count of independent Bernoulli outcomes with probabilities p, within Z SE of Σ p."""
    assert len(p) > 200, what
    near(hits, math.sqrt(float((p * (1.0 - p)).sum())), float(p.sum()), what)


# ---------------------------------------------------------------------------------------------
# Capacity: ample staff hold everything on time; too few hold exactly their hours' worth


def test_with_ample_staff_every_meeting_due_is_held_on_time() -> None:
    s = stay_forever(12, 300, 10, team())
    record, model = one_run(s, seed=1)
    c = counts(record)
    assert c[LATE].sum() == 0 and c[MISSED].sum() == 0
    due, held = c[DUE].sum(), c[HELD].sum()
    assert held > 3000
    # a meeting is held at the first daily round at or after it falls due, so only those due
    # within the horizon's last day are due but not held: about a 28th of the caseload
    per_day = (300 + 10 * 52) / 28.0
    assert 0 <= due - held <= per_day + Z * math.sqrt(per_day), (due, held)
    # month by month the same, up to the meetings due late on a month's last day
    assert np.all(np.abs(c[HELD] - c[DUE]) <= per_day + Z * math.sqrt(per_day)), c[[DUE, HELD]]
    # hours used are meetings × hours per meeting; hours available are the team's weekly hours
    np.testing.assert_allclose(c[HOURS_USED], c[HELD] * 0.25)
    np.testing.assert_allclose(c[HOURS_AVAILABLE], 10 * 25 * model.calendar.days / 7.0)


def test_meetings_of_citizens_who_left_are_not_counted_as_due() -> None:
    """With ample staff a meeting that falls due is held, so held = due (up to the last day),
    exits or not. A meeting scheduled for a citizen who leaves before it falls due was never
    due; counting it makes `due` too large and `missed_share` (missed ÷ due) too small."""
    s = scenario(months=12, states={"a_dagpenge": {}}, inflow_per_week={"a_dagpenge": 20},
                 transitions={"a_dagpenge": [{"to": "job", "rate_per_week": 0.1}]}, caseworkers=[team()])
    c = counts(one_run(s, seed=2)[0])
    assert c[LATE].sum() == 0 and c[MISSED].sum() == 0
    due, held = c[DUE].sum(), c[HELD].sum()
    per_day = 20 / 0.1 / 28.0  # the caseload at equilibrium meets every 4 weeks
    assert 0 <= due - held <= per_day + Z * math.sqrt(per_day), (
        f"{due:g} meetings counted due but {held:g} held with ample staff and none late or missed")


@pytest.mark.parametrize("headcount", [10, 1], ids=["ample", "understaffed"])
def test_due_counts_every_meeting_that_falls_due_during_a_stay(headcount: int) -> None:
    """Meetings fall due at 2 weeks into a stay, then every 4 weeks from the due time, whether held,
    late or missed; so the meetings due are countable from the spells alone. A meeting that fell
    due while the citizen was there is due even if the team, behind with its backlog, had not got
    to it when the citizen left: otherwise understaffing hides itself (missed ÷ due looks better
    the longer the backlog). The one allowance: a citizen who leaves between the due time and
    the next daily round was never waiting for the team."""
    s = scenario(months=24, states={"a_dagpenge": {}}, inflow_per_week={"a_dagpenge": 20},
                 transitions={"a_dagpenge": [{"to": "job", "rate_per_week": 0.05}]},
                 caseworkers=[team(headcount=headcount, hours_per_week=20, hours_per_meeting=1)])
    record, model = one_run(s, seed=3, spells=True)
    assert record.spells is not None
    start = record.spells["start_day"].to_numpy()
    end = np.minimum(record.spells["end_day"].to_numpy(), model.calendar.horizon)
    fell_due = reached = 0
    for a, b in zip(start, end, strict=True):
        due = a + 14.0 + 28.0 * np.arange(max(0, math.ceil((b - a - 14.0) / 28.0)))
        fell_due += len(due)
        reached += int((np.ceil(due) < b).sum())
    c = counts(record)
    assert reached <= c[DUE].sum() <= fell_due, (
        f"due {c[DUE].sum():g}; meetings falling due during stays {fell_due}, of them {reached} "
        f"before the citizen's last daily round; held {c[HELD].sum():g}, missed {c[MISSED].sum():g}")


def test_first_meetings_due_at_two_weeks_are_within_14_days_with_ample_staff() -> None:
    """first_meeting_weeks: 2 puts the first meeting on day 14 of the stay; with ample staff it
    is held that day, so Dragør's '14 days' share must be 1, not 0."""
    s = stay_forever(6, 0, 20, team())
    c = counts(one_run(s, seed=3)[0])
    assert c[FIRST_HELD].sum() > 300 and c[LATE].sum() == 0
    share = c[FIRST_14].sum() / c[FIRST_HELD].sum()
    assert share == 1.0, f"first meetings within 14 days: {share:.1%} with ample staff"


@pytest.mark.parametrize(("headcount", "hours", "per_meeting"), [(7, 10, 1.0), (3, 7.4, 1.5)])
def test_too_few_staff_hold_exactly_their_capacity(headcount: float, hours: float,
                                                  per_meeting: float) -> None:
    """2,000 citizens due every 4 weeks (500 a week) against 70 or 14.8 slots a week: the queue
    never empties, so the meetings held by each day are the slots accrued, rounded down."""
    s = stay_forever(12, 2000, 0,
                     team(headcount=headcount, hours_per_week=hours, hours_per_meeting=per_meeting))
    record, model = one_run(s, seed=4)
    c = counts(record)
    per_day = headcount * hours / per_meeting / 7.0
    days = model.calendar.days
    cumulative = np.floor(per_day * np.cumsum(days) + 1e-9)
    np.testing.assert_array_equal(np.cumsum(c[HELD]), cumulative)
    assert np.all(np.abs(c[HELD] - per_day * days) < 1.0)
    np.testing.assert_allclose(c[HOURS_AVAILABLE], per_day * per_meeting * days)
    np.testing.assert_allclose(c[HOURS_USED], c[HELD] * per_meeting)
    # the backlog shows: meetings held late, and meetings given up after 4 weeks
    assert c[LATE].sum() > 0.5 * c[HELD].sum()
    assert c[MISSED].sum() > 0.5 * c[DUE].sum()


# ---------------------------------------------------------------------------------------------
# Schedule: meetings per citizen follow the every_weeks bands


@pytest.mark.parametrize(("first", "bands", "in_26", "in_52"), [
    (0.0, [[0, 6.5], [26, 13]], 4, 6),  # weeks 0, 6.5, 13, 19.5 | 26, 39
    (2.0, [[0, 6.5], [26, 13]], 4, 6),  # weeks 2, 8.5, 15, 21.5 | 28, 41
    (2.0, [[0, 4]], 6, 13),             # weeks 2, 6, …, 22 | 26, …, 50
])
def test_meetings_per_citizen_follow_the_bands(first: float, bands: list[list[float]], in_26: int,
                                               in_52: int) -> None:
    """Arrivals in January only, nobody leaves, ample staff: each citizen's meeting days (kept for
    the last year, which covers the whole stay here) counted over its first 26 and 52 weeks, less
    a day: a meeting is held at a daily round, within a day of falling due, so one due at exactly
    26 weeks belongs to the next count either way."""
    s = scenario(months=13, states={"a_dagpenge": {}},
                 inflow_per_week={"a_dagpenge": {"rate": 30, "seasonality": [1] + [0] * 11}},
                 caseworkers=[team(first_meeting_weeks=first, every_weeks=bands)])
    rep = Replication(sim.compile_model(s), np.random.SeedSequence(5), record_spells=True)
    rep.run()
    assert rep.alive is not None
    citizens = [c for c in rep.alive.values() if c.entered + 52 * 7 < rep.horizon]  # the January 2018 ones
    assert len(citizens) > 100
    found: dict[tuple[int, int], int] = {}
    for c in citizens:
        since = np.asarray(rep.feature("caseworkers").record(c).held or []) - c.entered
        assert (since > first * 7 - 1).all() and (abs(since - first * 7) < 1).any(), since / 7
        key = int((since < 26 * 7 - 1).sum()), int((since < 52 * 7 - 1).sum())
        found[key] = found.get(key, 0) + 1
    assert found == {(in_26, in_52): len(citizens)}, f"(meetings in 26 weeks, in 52 weeks): citizens {found}"


# ---------------------------------------------------------------------------------------------
# Caseworker changes: a Poisson process of changes, each multiplying the job hazard by 0.78


def survival_with_changes(r: float, turnover: float, ratio: float, t: float, k_max: int = 60) -> float:
    """E[exp(−∫_0^t r ratio^N(s) ds)] for N a Poisson process at `turnover` (all per day).

    A Markov chain on k = changes so far: k → k+1 at the turnover rate, killed (the citizen
    leaves) at rate r·ratio^k; the survival is the mass left after t. k_max is far beyond
    any count reached (P(N > 60) is negligible here)."""
    q = np.zeros((k_max + 1, k_max + 1))
    for k in range(k_max + 1):
        q[k, k] = -r * ratio**k
        if k < k_max:
            q[k, k] -= turnover
            q[k, k + 1] = turnover
    return float(expm(q * t)[0].sum())


def test_survival_with_changes_against_its_limits() -> None:
    """The chain gives exp(−rt) without changes, and a Poisson mixture check with ratio 0."""
    r, lam, t = 0.01, 0.02, 200.0
    assert survival_with_changes(r, 0.0, 0.78, t) == pytest.approx(math.exp(-r * t), rel=1e-12)
    assert survival_with_changes(r, lam, 1.0, t) == pytest.approx(math.exp(-r * t), rel=1e-12)
    # ratio 0: the job hazard is r until the first change (at rate lam), then 0
    first = math.exp(-(r + lam) * t) + lam / (r + lam) * (1.0 - math.exp(-(r + lam) * t))
    assert survival_with_changes(r, lam, 0.0, t) == pytest.approx(first, rel=1e-12)


def test_caseworker_changes_lower_the_job_hazard_by_the_closed_form() -> None:
    r_week, turnover_year = 0.04, 4.0
    s = scenario(months=30, states={"kontanthjaelp_aktivitetsparat": {}},
                 inflow_per_week={"kontanthjaelp_aktivitetsparat": 40},
                 transitions={"kontanthjaelp_aktivitetsparat": [{"to": "job", "rate_per_week": r_week}]},
                 caseworkers=[team(states=["kontanthjaelp_aktivitetsparat"], turnover_per_year=turnover_year,
                                   change_effect={"job": 0.78})])
    record, model = one_run(s, seed=6, spells=True)
    assert record.spells is not None
    r, lam = r_week / 7.0, turnover_year / YEAR
    for weeks in (26, 52):
        t = weeks * 7.0
        spells = record.spells[record.spells["start_day"] + t < model.calendar.horizon]
        still = int((spells["end_day"] - spells["start_day"] >= t).sum())
        p = survival_with_changes(r, lam, 0.78, t)
        hits_near(still, np.full(len(spells), p), f"share still in the state after {weeks} weeks")
        # and the changes matter: without them the share would be far off
        assert abs(still / len(spells) - math.exp(-r * t)) > 2 * Z * math.sqrt(p * (1 - p) / len(spells))


# ---------------------------------------------------------------------------------------------
# Meeting effects: hazard ratio 2 on job for 2 weeks after each meeting


def meeting_exit_probs(delta: float, r_job: float, r_other: float, ratio: float, first: float,
                       every: float, effect: float, t: float) -> tuple[float, float]:
    """P(job by t), P(other by t) in days, for meetings held at first + delta + every·j days into
    the stay, each giving `ratio` on job for `effect` days (every > effect: no overlap)."""
    cuts = {0.0, t}
    h = first + delta
    while h < t:
        cuts |= {h, min(h + effect, t)}
        h += every
    points = sorted(c for c in cuts if c <= t)
    alive, p_job, p_other = 1.0, 0.0, 0.0
    for a, b in itertools.pairwise(points):
        phase = (a - first - delta) % every if a >= first + delta else math.inf
        job = r_job * (ratio if phase < effect - 1e-9 else 1.0)
        total = job + r_other
        gone = alive * -math.expm1(-total * (b - a))
        p_job += gone * job / total
        p_other += gone * r_other / total
        alive -= gone
    return p_job, p_other


def test_meeting_effect_raises_job_exits_by_the_closed_form() -> None:
    """Meetings fall due at 2 weeks, then every 4, and each doubles the job hazard for 2 weeks.
    With ample staff a meeting is held (and booked) when it falls due; its effect starts at the
    end of that day, when the team's daily round runs. Given each citizen's offset to the round,
    its chances of job and of other within 26 weeks are a piecewise-exponential closed form."""
    r_job, r_other = 0.05, 0.02  # per week
    s = scenario(months=18, states={"a_dagpenge": {}}, inflow_per_week={"a_dagpenge": 40},
                 transitions={"a_dagpenge": [{"to": "job", "rate_per_week": r_job},
                                             {"to": "other", "rate_per_week": r_other}]},
                 caseworkers=[team(every_weeks=[[0, 4]], effect_per_meeting={"job": 2}, effect_weeks=2)])
    rep = Replication(sim.compile_model(s), np.random.SeedSequence(7), record_spells=True)
    record = rep.run()
    assert record.spells is not None and rep.alive is not None
    t = 26 * 7.0
    spells = record.spells[record.spells["start_day"] + t < rep.horizon]
    start = spells["start_day"].to_numpy()
    # the first meeting, where kept (a citizen's meeting days are kept for the last year)
    teams = rep.feature("caseworkers")
    held = {i: teams.record(c).held for i, c in rep.alive.items()}  # type: ignore[union-attr]
    first = [bool(m) and m[0] < e + 28.0 for m, e in zip((held[i] for i in spells["id"]),
                                                           start, strict=True)]
    seen = np.array([held[i][0] - (e + 14.0)  # type: ignore[index]
                     for i, e, f in zip(spells["id"], start, first, strict=True) if f])
    assert len(seen) > 1000
    np.testing.assert_allclose(seen, 0.0, atol=1e-9)  # held the moment it fell due
    delta = np.ceil(start + 14.0) - DAY_END - (start + 14.0)  # the effect starts at the day's round
    probs = np.array([meeting_exit_probs(d, r_job / 7, r_other / 7, 2.0, 14.0, 28.0, 14.0, t) for d in delta])
    inside = (spells["end_day"] - spells["start_day"] < t).to_numpy()
    hits_near(int((inside & (spells["to"] == "job")).sum()), probs[:, 0], "job within 26 weeks")
    hits_near(int((inside & (spells["to"] == "other")).sum()), probs[:, 1], "other within 26 weeks")
    # the effect is real: the job share is far above the one without meetings
    plain = r_job / (r_job + r_other) * -math.expm1(-(r_job + r_other) * 26)
    job_share = (inside & (spells["to"] == "job")).mean()
    assert job_share - plain > 2 * Z * math.sqrt(plain * (1 - plain) / len(spells)), (job_share, plain)


# ---------------------------------------------------------------------------------------------
# Fokusmål: no active offer, fewer than 4 meetings, among citizens with 12 months' seniority


def test_without_programmes_nobody_senior_has_had_an_offer() -> None:
    c = counts(one_run(stay_forever(12, 400, 5, team()), seed=8)[0])
    assert (c[SENIOR] > 100).all()
    np.testing.assert_array_equal(c[NO_OFFER], c[SENIOR])


def test_meetings_every_4_weeks_leave_nobody_senior_with_fewer_than_4() -> None:
    """From May on, the stock's first 4 meetings in the model have been held (the first falls due
    within 4 weeks of the start), so the share is 0 whatever the history before the start."""
    c = counts(one_run(stay_forever(18, 400, 5, team(every_weeks=[[0, 4]])), seed=9)[0])
    assert (c[SENIOR] > 100).all() and c[LATE].sum() == 0
    np.testing.assert_array_equal(c[FEW_MEETINGS, 4:], 0)


def test_the_initial_stock_has_had_its_meetings_before_the_start() -> None:
    """In January too: a citizen on the benefit for over a year at the start, whom an ample team
    has met every 4 weeks, had 13 meetings in the last 12 months, not none. With the stock's
    history empty, the first months count every senior citizen as 'fewer than 4 meetings', and a
    yearly fokusmål share from a 1 January start is far too high."""
    c = counts(one_run(stay_forever(12, 400, 5, team(every_weeks=[[0, 4]])), seed=9)[0])
    assert (c[SENIOR] > 100).all()
    shares = c[FEW_MEETINGS] / c[SENIOR]
    assert shares.max() == 0.0, f"few-meetings share by month with ample staff: {np.round(shares, 2)}"


def test_an_understaffed_team_leaves_seniors_with_fewer_than_4_meetings() -> None:
    """2,000 citizens due every 4 weeks, 70 meetings a week: most go a year with fewer than 4."""
    c = counts(one_run(stay_forever(18, 2000, 0, team(headcount=7, hours_per_week=10,
                                                      hours_per_meeting=1)), seed=10)[0])
    late = slice(12, None)
    share = c[FEW_MEETINGS, late].sum() / c[SENIOR, late].sum()
    assert c[SENIOR, late].sum() > 1000 and share > 0.3, share


# ---------------------------------------------------------------------------------------------
# Common random numbers: a team that changes no hazard changes no path

CRN: dict[str, Any] = {
    "name": "crn", "start": START.isoformat(), "months": 24,
    "states": {"a_dagpenge": {}, "kontanthjaelp_aktivitetsparat": {}, "sygedagpenge": {}},
    "initial": {"a_dagpenge": 300, "kontanthjaelp_aktivitetsparat": 200, "sygedagpenge": 150},
    "inflow_per_week": {"a_dagpenge": 12, "sygedagpenge": 20, "kontanthjaelp_aktivitetsparat": 3},
    "transitions": {
        "a_dagpenge": [{"to": "job", "rate_per_week": [[0, 0.08], [26, 0.03]]},
                       {"to": "kontanthjaelp_aktivitetsparat", "at_week": 104, "share": 0.5},
                       {"to": "other", "at_week": 104, "share": "rest"}],
        "kontanthjaelp_aktivitetsparat": [{"to": "job", "rate_per_week": 0.03},
                                          {"to": "a_dagpenge", "rate_per_week": 0.01}],
        "sygedagpenge": [{"to": "job", "rate_per_week": 0.09},
                         {"to": "kontanthjaelp_aktivitetsparat", "at_week": 22, "share": 0.3},
                         {"to": "stay", "at_week": 22, "share": "rest"}],
    },
}

NEUTRAL_TEAMS: list[dict[str, Any]] = [
    # plain, understaffed (late and missed meetings)
    team(team="Jobteam", states=["a_dagpenge"], headcount=1, hours_per_week=10, hours_per_meeting=1,
         every_weeks=[[0, 2], [26, 6]]),
    # ratio-one meeting effects and changes, which must not redraw anyone
    team(team="Aktivitet", states=["kontanthjaelp_aktivitetsparat", "sygedagpenge"],
         effect_per_meeting={"job": 1.0}, effect_weeks=4, turnover_per_year=3, change_effect={"job": 1.0}),
]

PROGRAMME: dict[str, Any] = {
    "name": "kursus", "states": ["a_dagpenge", "kontanthjaelp_aktivitetsparat"], "referral": "rate",
    "rate_per_week": 0.1, "uptake": 0.5, "places": 20, "max_wait_weeks": 4, "duration_weeks": 6,
    "effects": {"during": {"job": 0.5}, "after": {"job": 1.5}, "after_weeks": 8}}


def crn_run(data: dict[str, Any], seed: int) -> ReplicationRecord:
    model = sim.compile_model(sim.scenario_from_dict(data))
    return sim.simulate(model, np.random.SeedSequence(seed), record_spells=True)


def assert_same_paths(base: ReplicationRecord, other: ReplicationRecord) -> None:
    np.testing.assert_allclose(other.person_days, base.person_days, rtol=1e-12, atol=1e-9)
    np.testing.assert_array_equal(other.flows, base.flows)
    assert base.spells is not None and other.spells is not None
    pd.testing.assert_frame_equal(other.spells, base.spells, check_exact=False, rtol=1e-12, atol=1e-9)


@pytest.mark.parametrize("seed", [11, 12])
def test_a_team_without_effects_changes_no_path(seed: int) -> None:
    with_teams = copy.deepcopy(CRN)
    with_teams["caseworkers"] = NEUTRAL_TEAMS
    base, other = crn_run(CRN, seed), crn_run(with_teams, seed)
    assert_same_paths(base, other)
    # the teams did work: meetings held, late and missed
    assert other.features["teams"] is not None
    totals = other.features["teams"].sum(axis=2)
    assert (totals[:, HELD] > 0).all() and totals[0, LATE] > 0 and totals[0, MISSED] > 0


def test_a_team_without_effects_leaves_programme_decisions_alone() -> None:
    """With a programme that has effects, adding a team with none must not change who is referred,
    takes the programme up or starts it. The team draws its own numbers (the stock's first-meeting
    phase, the times of caseworker changes) from the citizen's programme-decision sequence, so a
    neutral team shifts every later programme decision and the paths change. The counts are the
    same exactly; the days, to the last bits of a float: without the teams more moves are booked
    ahead of the clock, so a referral's day is reached from another day (`now + (at − now)`)."""
    base = copy.deepcopy(CRN)
    base["interventions"] = [PROGRAMME]
    with_teams = copy.deepcopy(base)
    with_teams["caseworkers"] = NEUTRAL_TEAMS
    a, b = crn_run(base, 13), crn_run(with_teams, 13)
    assert a.features["programmes"] is not None and b.features["programmes"] is not None
    counts = [PROGRAMME_MEASURES.index(m) for m in ("referrals", "starts", "lapsed", "declined")]
    np.testing.assert_array_equal(b.features["programmes"][:, counts], a.features["programmes"][:, counts])
    np.testing.assert_allclose(b.features["programmes"], a.features["programmes"], rtol=1e-12, atol=1e-9)
    assert a.features["programmes"][:, counts].sum() > 100
    assert_same_paths(a, b)


# ---------------------------------------------------------------------------------------------
# Batch output: caseworkers.csv's shares are ratios of sums over replications


def test_teams_frame_shares_are_ratios_of_sums() -> None:
    s = stay_forever(12, 600, 5, team(headcount=2, hours_per_week=20, hours_per_meeting=1))
    result = sim.run(s, runs=3, seed=14, workers=1)
    frame = result.caseworkers
    assert frame is not None and len(frame) == 12 and set(frame["team"]) == {"Jobteam"}
    np.testing.assert_allclose(frame["meetings_late_share"], frame["late"] / frame["held"])
    np.testing.assert_allclose(frame["meetings_missed_share"], frame["missed"] / frame["due"])
    np.testing.assert_allclose(frame["utilisation"], frame["hours_used"] / frame["hours_available"])
    np.testing.assert_allclose(frame["fokus_no_offer_share"], 1.0)
    assert (frame["utilisation"] > 0.99).all()  # 600 due every 4 weeks against 40 slots a week


# ---------------------------------------------------------------------------------------------
# Validation through the CLI

VALID: dict[str, Any] = {
    "name": "Sagsbehandlere", "start": "2020-01-01", "months": 12,
    "states": {"a_dagpenge": {}, "kontanthjaelp_aktivitetsparat": {}},
    "initial": {"a_dagpenge": 50, "kontanthjaelp_aktivitetsparat": 40},
    "inflow_per_week": {"a_dagpenge": 3},
    "transitions": {"a_dagpenge": [{"to": "job", "rate_per_week": 0.05}],
                    "kontanthjaelp_aktivitetsparat": [{"to": "job", "rate_per_week": 0.02},
                                                      {"to": "other", "rate_per_week": 0.01}]},
    "caseworkers": [team(every_weeks=[[0, 6.5], [26, 13]], effect_per_meeting={"job": 1.2}, effect_weeks=2),
                    team(team="Aktivitet", states=["kontanthjaelp_aktivitetsparat"], turnover_per_year=1.5,
                         change_effect={"job": 0.78})],
}


def test_the_valid_teams_pass(tmp_path: Path) -> None:
    code, problems = validate_via_cli(tmp_path, VALID)
    assert code == 0 and problems == "", problems


def _unknown_state(d: dict[str, Any]) -> None:
    d["caseworkers"][1]["states"] = ["kontanthjaelp_aktivitetsparat", "kontanthjaelp_aktivitesparat"]


def _not_from_week_0(d: dict[str, Any]) -> None:
    d["caseworkers"][0]["every_weeks"] = [[2, 6.5], [26, 13]]


def _negative_headcount(d: dict[str, Any]) -> None:
    d["caseworkers"][0]["headcount"] = -3


def _no_such_route(d: dict[str, Any]) -> None:
    d["caseworkers"][1]["change_effect"] = {"education": 0.78}


@pytest.mark.parametrize(("change", "path", "words"), [
    (_unknown_state, "caseworkers[1].states[1]", "kontanthjaelp_aktivitesparat"),
    (_not_from_week_0, "caseworkers[0].every_weeks", "week 0"),
    (_negative_headcount, "caseworkers[0].headcount", "-3"),
    (_no_such_route, "caseworkers[1].change_effect.education", "route"),
])
def test_bad_teams_are_refused_with_their_key_path(tmp_path: Path, change: Any, path: str,
                                                   words: str) -> None:
    data = copy.deepcopy(VALID)
    change(data)
    refused_with_one_problem(tmp_path, data, path, words)


def test_the_initial_stock_has_had_its_caseworker_changes() -> None:
    """A citizen already e days into its stay has had Poisson(λ·e) caseworker changes: the mean
    count over the stock equals λ × mean elapsed time (SE from the Poisson variance)."""
    s = scenario(months=12, states={"kontanthjaelp_aktivitetsparat": {}},
                 initial={"kontanthjaelp_aktivitetsparat": 3000},
                 transitions={"kontanthjaelp_aktivitetsparat": [{"to": "job", "rate_per_week": 0.02}]},
                 caseworkers=[team(states=["kontanthjaelp_aktivitetsparat"], turnover_per_year=1.5,
                                   change_effect={"job": 0.78})])
    rep = Replication(sim.compile_model(s), np.random.SeedSequence(3), record_spells=True)
    rep._seed_initial_stock()
    assert rep.alive is not None
    elapsed_years = np.array([-c.entered for c in rep.alive.values()]) / 365.0
    k = np.array([rep.feature("caseworkers").teams[0].changes[i] for i in rep.alive])
    expected = 1.5 * elapsed_years
    assert abs(k.sum() - expected.sum()) < Z * math.sqrt(expected.sum())
    assert (k > 0).mean() > 0.5  # most of a stock with ~50 weeks' mean stay has had a change
