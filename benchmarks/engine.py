"""Benchmark the caseflow engine on the standard model against two yardsticks.

The standard model: 10 custom states s0–s9 (group kontanthjaelp), 500 persons in each at
the start, Poisson inflow of 10 per week into each, constant routes s_i → s_(i+1)%10 at
0.02/week, s_i → s_(i+3)%10 at 0.01/week and s_i → job at 0.05/week, over 24 months from
2018-01-01. Time runs in days. Every implementation returns person-days per state per
calendar month (stays split exactly at month boundaries); full-time persons are person-days
divided by the days in the month.

Three implementations run in the same process, on the same machine, one after the other:

(a) `reference_vectorised` – numpy, whole paths drawn in bulk generation by generation.
    It exploits everything this model allows (constant rates, no per-person state), so it
    is the speed limit for this model, not a general engine.
(b) `naive_simpy` – one SimPy process per citizen, a fresh rng call per draw: what a
    straightforward SimPy model costs.
(c) the caseflow engine – `sim.compile_model` once, then `sim.simulate` per replication: with
    no feature, every path drawn a generation at a time (`sim.kernel.bulk`); (g) is the same
    engine citizen by citizen (`bulk=False`), to the same numbers bit for bit.

Reported: CPU milliseconds per replication (the fastest of the interleaved rounds), events per second
(for (a) and (b): arrivals + transitions within the horizon; for (c): the engine's own
`n_events`, which may count slightly differently), and the ratios engine vs naive
(speed-up), engine vs reference (slowdown) and naive vs reference. Bare seconds depend on
the CPU, its clock and load, the Python and numpy builds; the ratios between programs
timed side by side in one process cancel most of that, so they are the figures to compare
across machines and over time.

A correctness cross-check closes the run: the mean total of full-time persons over the
replications for months 1, 12 and 24, per implementation, next to the analytical
expectation from the Kolmogorov forward equations with a source term, dn/dt = Qᵀn + λ,
integrated exactly with a matrix exponential. All must agree within noise.

A feature-heavy scenario closes the run (`--scenario`, by default Tårnby 2018: programmes on its
five biggest states, economics, the dagpenge period, dated rules): (h) as the engine runs it,
(i) with every move a programme watches and every referral a SimPy event (`ahead=False`), each
per event and against the standard model's cost per event in (c) and (g).

Run: `python benchmarks/engine.py --reps 10 --rounds 3`
"""

from __future__ import annotations

import argparse
import bisect
import datetime as dt
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import simpy
from scipy.linalg import expm

ROOT = Path(__file__).resolve().parents[1]
N_STATES = 10
INITIAL = 500
INFLOW_PER_WEEK = 10.0
ROUTES_PER_WEEK = ((1, 0.02), (3, 0.01))  # (offset to the destination state, rate per week)
EXIT_PER_WEEK = 0.05  # to `job`
START = dt.date(2018, 1, 1)
MONTHS = 24
CHECK_MONTHS = (1, 12, 24)
Z_LIMIT = 4.0  # |mean − expectation| / standard error below this counts as agreement


def month_edges(start: dt.date, months: int) -> np.ndarray:
    """Days from `start` to the first day of each month, `months + 1` edges."""
    firsts = [dt.date(start.year + (start.month - 1 + k) // 12, (start.month - 1 + k) % 12 + 1, 1)
              for k in range(months + 1)]
    return np.array([(d - start).days for d in firsts], dtype=float)


def rate_matrix() -> np.ndarray:
    """Rates per day, [from state, to state], the last column being the exit `job`."""
    rates = np.zeros((N_STATES, N_STATES + 1))
    for i in range(N_STATES):
        for offset, per_week in ROUTES_PER_WEEK:
            rates[i, (i + offset) % N_STATES] += per_week / 7
        rates[i, N_STATES] = EXIT_PER_WEEK / 7
    return rates


EDGES = month_edges(START, MONTHS)
LENGTHS = np.diff(EDGES)
HORIZON = float(EDGES[-1])
MONTH_STARTS = [START + dt.timedelta(days=int(e)) for e in EDGES[:-1]]
RATES = rate_matrix()
TOTAL_RATE = RATES.sum(axis=1)
CUM_PROB = np.cumsum(RATES / TOTAL_RATE[:, None], axis=1)
CUM_PROB[:, -1] = 1.0  # no rounding leak past the last destination
INFLOW = np.full(N_STATES, INFLOW_PER_WEEK / 7)


@dataclass
class Run:
    """One replication's output: person-days [state, month] and the events processed."""

    person_days: np.ndarray
    n_events: int


def book_stays(state: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Person-days [state, month] of stays `[a, b)` in `state`, with 0 ≤ a ≤ b ≤ horizon.

    A stay gives its month-start remainder `b − edge[mb]` minus `a − edge[ma]`, plus every
    whole month from ma to mb − 1; whole months are counted with a +1/−1 difference array.
    """
    width = MONTHS + 1  # one spare column takes stays ending exactly at the horizon
    size = N_STATES * width
    ma = np.searchsorted(EDGES, a, side="right") - 1
    mb = np.searchsorted(EDGES, b, side="right") - 1
    ia, ib = state * width + ma, state * width + mb
    part = np.bincount(ib, b - EDGES[mb], size) - np.bincount(ia, a - EDGES[ma], size)
    steps = np.bincount(ia, minlength=size) - np.bincount(ib, minlength=size)
    whole = np.cumsum(steps.reshape(N_STATES, width), axis=1)[:, :MONTHS] * LENGTHS
    return part.reshape(N_STATES, width)[:, :MONTHS] + whole


def reference_vectorised(rng: np.random.Generator) -> Run:
    """The model in bulk numpy: all persons advance one jump per generation."""
    arrivals = rng.poisson(INFLOW * HORIZON)
    state = np.concatenate([np.repeat(np.arange(N_STATES), INITIAL),
                            np.repeat(np.arange(N_STATES), arrivals)])
    t = np.concatenate([np.zeros(N_STATES * INITIAL), rng.uniform(0, HORIZON, arrivals.sum())])
    events = int(arrivals.sum())
    stays: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    while state.size:  # constant rates: a sojourn is Exp(total) whatever the time elapsed
        end = t + rng.exponential(1.0, state.size) / TOTAL_RATE[state]
        stays.append((state, t, np.minimum(end, HORIZON)))
        jumps = end < HORIZON
        state, t = state[jumps], end[jumps]
        events += state.size
        dest = (rng.random(state.size)[:, None] > CUM_PROB[state]).sum(axis=1)
        alive = dest < N_STATES
        state, t = dest[alive], t[alive]
    s, a, b = (np.concatenate(x) for x in zip(*stays, strict=True))
    return Run(book_stays(s, a, b), events)


def naive_simpy(rng: np.random.Generator) -> Run:
    """The model as a plain SimPy program: one process per citizen, scalar draws."""
    env = simpy.Environment()
    edges = EDGES.tolist()
    days = [[0.0] * MONTHS for _ in range(N_STATES)]
    mean_stay = (1 / TOTAL_RATE).tolist()
    cum = CUM_PROB.tolist()
    events = 0

    def book(s: int, a: float, b: float) -> None:
        m = bisect.bisect_right(edges, a) - 1
        while a < b:
            cut = min(b, edges[m + 1])
            days[s][m] += cut - a
            a, m = cut, m + 1

    def citizen(s: int) -> Generator[simpy.Event, Any, None]:
        nonlocal events
        while True:
            stay = rng.exponential(mean_stay[s])
            book(s, env.now, min(env.now + stay, HORIZON))
            yield env.timeout(stay)
            events += 1
            s = bisect.bisect_right(cum[s], rng.random())
            if s >= N_STATES:
                return

    def source(s: int) -> Generator[simpy.Event, Any, None]:
        nonlocal events
        while True:
            yield env.timeout(rng.exponential(1 / INFLOW[s]))
            events += 1
            env.process(citizen(s))

    for s in range(N_STATES):
        for _ in range(INITIAL):
            env.process(citizen(s))
        env.process(source(s))
    env.run(until=HORIZON)
    return Run(np.array(days), events)


def scenario_dict() -> dict[str, Any]:
    """The standard model as the scenario YAML would give it."""
    names = [f"s{i}" for i in range(N_STATES)]
    return {
        "name": "standard model (benchmark)",
        "start": START,
        "months": MONTHS,
        "states": {n: {"group": "kontanthjaelp"} for n in names},
        "initial": dict.fromkeys(names, INITIAL),
        "inflow_per_week": dict.fromkeys(names, INFLOW_PER_WEEK),
        "transitions": {
            n: [*({"to": names[(i + off) % N_STATES], "rate_per_week": r}
                  for off, r in ROUTES_PER_WEEK),
                {"to": "job", "rate_per_week": EXIT_PER_WEEK}]
            for i, n in enumerate(names)
        },
    }


def engine_runner(fast_forward: bool = True, economics: bool = False, programmes: bool = False,
                  bulk: bool = True) -> Callable[[np.random.SeedSequence], Run]:
    """Compile the standard model with caseflow; return a one-replication function.

    `fast_forward=False` runs every move as a SimPy event (the engine's plain DES mode);
    `economics=True` adds support history and the refusion staircase for every state;
    `programmes=True` adds three programmes (on s0–s2, s3–s5, s6–s8) with hazard ratio 1 on
    the exit to job and a caseworker team meeting everyone every 4 weeks, so the model's law is
    unchanged while every move is an event, referrals queue for places and meetings are held.
    """
    import sim
    from sim.features import prepare_model

    data = scenario_dict()
    if economics:
        data["economics"] = {"states": {n: {"dkk_per_full_year_person": 150_000, "counted": True,
                                            "refunded": True} for n in data["states"]}}
    if programmes:
        names = list(data["states"])
        data["interventions"] = [
            {"name": f"programme {k}", "states": names[3 * k:3 * k + 3], "from_week": 4,
             "referral": "at_week", "places": 40, "max_wait_weeks": 4, "uptake": 0.8, "duration_weeks": 3,
             "effects": {"during": {"job": 1.0}}} for k in range(3)]
        data["caseworkers"] = [{"team": "all", "states": names, "headcount": 30, "hours_per_week": 20,
                                "hours_per_meeting": 1, "every_weeks": [[0, 4]]}]
    model = prepare_model(sim.scenario_from_dict(data), seed=1)

    def run(seed: np.random.SeedSequence) -> Run:
        rec = sim.simulate(model, seed, fast_forward=fast_forward, bulk=bulk)  # benefit states, then exits
        return Run(np.asarray(rec.person_days, dtype=float)[:N_STATES], int(rec.n_events))

    return run


def analytical_full_time() -> np.ndarray:
    """Expected full-time persons [state, month]: dn/dt = Qᵀn + λ, n(0) = initial.

    The augmented system z = (∫n, n, 1) is linear and homogeneous, so expm gives the
    integral of n(t) exactly at every month edge; its differences are person-days.
    """
    n = N_STATES
    q_t = RATES[:, :n].T - np.diag(TOTAL_RATE)
    aug = np.zeros((2 * n + 1, 2 * n + 1))
    aug[:n, n:2 * n] = np.eye(n)
    aug[n:2 * n, n:2 * n] = q_t
    aug[n:2 * n, 2 * n] = INFLOW
    z0 = np.concatenate([np.zeros(n), np.full(n, float(INITIAL)), [1.0]])
    integral = np.array([expm(aug * e) @ z0 for e in EDGES])[:, :n]
    return (np.diff(integral, axis=0) / LENGTHS[:, None]).T


@dataclass
class Result:
    """Timings and monthly totals of one implementation over R replications."""

    name: str
    ms: float
    events: float
    totals: np.ndarray  # [replication, month] full-time persons, all states

    @property
    def events_per_s(self) -> float:
        """Mean events per replication over the CPU time per replication."""
        return self.events / (self.ms / 1000)


def interleaved(runners: list[tuple[str, Callable[[np.random.SeedSequence], Any]]],
                seeds: list[np.random.SeedSequence], warmup: np.random.SeedSequence,
                rounds: int) -> tuple[list[float], list[list[Any]]]:
    """CPU seconds per replication of each runner and its first round's outputs: rounds interleave
    the runners (each runs every seed once a round, after one warm-up replication), and each
    keeps its fastest round."""
    for _, run in runners:
        run(warmup)
    best = [np.inf] * len(runners)
    first: list[list[Any]] = [[] for _ in runners]
    for r in range(rounds):
        for k, (_, run) in enumerate(runners):
            t0 = time.process_time()
            outs = [run(seed) for seed in seeds]
            best[k] = min(best[k], (time.process_time() - t0) / len(seeds))
            if r == 0:
                first[k] = outs
    return best, first


def bench(runners: list[tuple[str, Callable[[np.random.SeedSequence], Run]]],
          seeds: list[np.random.SeedSequence], warmup: np.random.SeedSequence, rounds: int) -> list[Result]:
    """Timings of the standard model's runners, with their monthly totals for the cross-check."""
    best, first = interleaved(runners, seeds, warmup, rounds)
    results = []
    for (name, _), seconds, outs in zip(runners, best, first, strict=True):
        for out in outs:
            if out.person_days.shape != (N_STATES, MONTHS):
                raise ValueError(f"person_days has shape {out.person_days.shape}, "
                                 f"expected {(N_STATES, MONTHS)}")
        results.append(Result(name, 1000 * seconds, float(np.mean([o.n_events for o in outs])),
                              np.array([o.person_days.sum(axis=0) / LENGTHS for o in outs])))
    return results


def scenario_runner(path: Path, ahead: bool = True) -> Callable[[np.random.SeedSequence], int]:
    """One replication of a shipped scenario (prepared once, pilot included): its event count."""
    import sim
    from sim.features import prepare_model

    model = prepare_model(sim.load_scenario(path), seed=1)
    return lambda seed: int(sim.simulate(model, seed, ahead=ahead).n_events)


def report_per_event(results: list[Result],
                     runners: list[tuple[str, Callable[[np.random.SeedSequence], int]]],
                     yardsticks: list[tuple[str, Callable[[np.random.SeedSequence], Any]]],
                     seeds: list[np.random.SeedSequence], warmup: np.random.SeedSequence,
                     rounds: int) -> None:
    """A feature-heavy scenario's cost per event beside the standard model's: the standard model's
    `yardsticks` ((c), (g)) are timed again in the same interleaved rounds, so the ratios do not
    move with the machine's speed between this group and the first."""
    best, first = interleaved([*runners, *yardsticks], seeds, warmup, rounds)
    events_of = {r.name[:3]: r.events for r in results}
    per_event = {name[:3]: seconds * 1e6 / events_of[name[:3]]
                 for (name, _), seconds in zip(yardsticks, best[len(runners):], strict=True)}
    print(f"\n{'feature-heavy scenario':<34}{'ms/rep':>10}{'events/rep':>12}{'µs/event':>10}"
          f"{'vs (c)':>8}{'vs (g)':>8}")
    n = len(runners)
    for (name, _), seconds, outs in zip(runners, best[:n], first[:n], strict=True):
        events = float(np.mean(outs))
        us = seconds * 1e6 / events
        ratios = "".join(f"{us / per_event[k]:>7.1f}x" if k in per_event else f"{'':>8}"
                         for k in ("(c)", "(g)"))
        print(f"{name:<34}{1000 * seconds:>10.1f}{events:>12,.0f}{us:>10.2f}{ratios}")
    again = ", ".join(f"{name} {1000 * seconds:.1f} ms" for (name, _), seconds in zip(yardsticks, best[n:],
                                                                                        strict=True))
    print(f"(the standard model timed again in these rounds: {again})")


def report(results: list[Result], expected: np.ndarray) -> None:
    """Print timings, ratios and the cross-check table."""
    print(f"{'implementation':<24}{'ms/rep':>10}{'events/rep':>12}{'events/s':>12}")
    for r in results:
        print(f"{r.name:<24}{r.ms:>10.1f}{r.events:>12,.0f}{r.events_per_s:>12,.0f}")
    ms = {r.name[:3]: r.ms for r in results}
    print(f"\nnaive vs reference:            {ms['(b)'] / ms['(a)']:7.1f}x slower")
    for key, what in (("(c)", "engine"), ("(g)", "engine, citizen by citizen"),
                      ("(d)", "engine, every move an event"), ("(e)", "engine with economics"),
                      ("(f)", "engine with 3 programmes and a team")):
        if key in ms:
            print(f"{what} vs naive (speed-up):      {ms['(b)'] / ms[key]:7.1f}x")
            print(f"{what} vs reference (slowdown):  {ms[key] / ms['(a)']:7.1f}x")

    print("\ncross-check: mean full-time persons, total of s0–s9 (± standard error)")
    print(f"{'month':<10}{'expected':>10}" + "".join(f"{r.name[:3]:>20}" for r in results))
    worst = 0.0
    for m in CHECK_MONTHS:
        label = f"{m:>2} {MONTH_STARTS[m - 1]:%Y-%m}"
        cells = ""
        for r in results:
            col = r.totals[:, m - 1]
            se = col.std(ddof=1) / np.sqrt(col.size) if col.size > 1 else np.inf
            worst = max(worst, abs(col.mean() - expected[m - 1]) / se if se > 0 else 0.0)
            cells += f"{col.mean():>12.1f} ±{se:>6.1f}"
        print(f"{label:<10}{expected[m - 1]:>10.1f}{cells}")
    verdict = "agree" if worst < Z_LIMIT else "DISAGREE"
    print(f"largest |z| = {worst:.2f} → all implementations {verdict} with the expectation "
          f"(limit {Z_LIMIT:g})")



def main() -> None:
    """Parse flags, run the three implementations, print the comparison."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=10, help="replications per implementation and round")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds; each keeps its fastest")
    parser.add_argument("--seed", type=int, default=20180101, help="root seed")
    parser.add_argument("--scenario", type=Path, default=ROOT / "scenarios" / "taarnby-2018.yaml",
                        help="a feature-heavy scenario timed per event beside the standard model "
                             "(default: Tårnby 2018)")
    parser.add_argument("--no-scenario", dest="scenario", action="store_const", const=None,
                        help="time the standard model only")
    args = parser.parse_args()
    root = np.random.SeedSequence(args.seed)
    warmup, *seeds = root.spawn(args.reps + 1)
    print(f"standard model: {N_STATES} states x {INITIAL}, {MONTHS} months, "
          f"R = {args.reps} replications\n")

    def with_rng(fn: Callable[[np.random.Generator], Run]) -> Callable[..., Run]:
        return lambda ss: fn(np.random.default_rng(ss))

    runners: list[tuple[str, Callable[[np.random.SeedSequence], Run]]] = [
        ("(a) reference numpy", with_rng(reference_vectorised)), ("(b) naive SimPy", with_rng(naive_simpy))]
    try:
        runners += [("(c) caseflow engine", engine_runner()),
                    ("(g) citizen by citizen", engine_runner(bulk=False)),
                    ("(d) engine, all events", engine_runner(fast_forward=False)),
                    ("(e) engine + economics", engine_runner(economics=True)),
                    ("(f) + 3 programmes, team", engine_runner(programmes=True))]
    except Exception as exc:
        print(f"engine not available: {type(exc).__name__}: {exc}\n")
    results = bench(runners, seeds, warmup, args.rounds)
    report(results, analytical_full_time().sum(axis=0))
    if args.scenario is not None:
        heavy = [(f"(h) {args.scenario.stem}", scenario_runner(args.scenario)),
                 ("(i) the same, watched moves as events", scenario_runner(args.scenario, ahead=False))]
        yardsticks = [(name, run) for name, run in runners if name[:3] in ("(c)", "(g)")]
        report_per_event(results, heavy, yardsticks, seeds, warmup, args.rounds)


if __name__ == "__main__":
    main()
