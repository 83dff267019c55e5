"""A scenario restarted from the observed caseload: the month after the last actual, the rest of its horizon.

The restart (`restart`) moves the scenario's start to the first day of the month after
`through` and shortens its months so the horizon ends where it did. What it takes:

- **The stock** of each benefit state: the actual full-time persons of the period that ends with
  `through` (the month itself when given, else the shortest such period; a state without a figure
  of its own takes its part of an aggregate's, `sim.fitting.actuals`), times the model's ratio of
  its persons on the restart day to its average over that period (the deterministic twin,
  `sim.fitting.cohort`). A month's full-time persons is an average over the month, centred in
  its middle, while the restart needs a count on its first day after it: the ratio carries the
  figure half a month on along the model's own path (up in a rising month, down in a falling
  one), which a restart from the model's own month then reproduces. Before the scenario's start
  (through = the month before it) there is no model path and the ratio is 1.
- **Its uncertainty** (with `stock_noise`): the figure is an average over its period, and the
  stock on the restart day is not observed; it differs from the estimate above by what came and
  went later in the period than its average, (1/T) ∫₀ᵀ t dN(t) for the period's T days and the
  state's moves in and out dN, whose variance is (1/T²) ∫₀ᵀ t² r(t) dt at the twin's rate r of
  moves in and out (about a third of a month's moves for a monthly figure; for a period much
  longer than a stay it is the stock's own Poisson variance, the cap). Each state's restarted
  stock is then drawn per replication with that sd (`uncertainty.parameters`), so a forecast's
  first months are not narrower than what is known of the stock.
- **The elapsed durations** of that stock: a snapshot's when given, else those the model implies
  for it and its recent inflows (`sim.fitting.elapsed`): the arrivals of the months before the
  restart still there, and what is left of the scenario's own initial stock, aged.
- **The recent leavers**: those in an exit with routes back (job, education with re-entry) on
  the restart day, as the model expects them (the actuals count persons on support only), with
  their weeks since leaving (`initial` and `initial_durations` of the exit, which the loader
  allows for an exit with routes back), so the returns after the restart are not lost. Their
  support history before leaving and their dagpenge period used are not carried: they return
  as the scenario's new entrants from that exit do.
- **Inflows** keep their meaning: each trend is anchored where the scenario anchored it
  (`trend_from`, default the scenario's start).
- **Targets** over a period wholly in the new horizon are kept; the others are decided partly or
  wholly by the actuals, which a scenario cannot hold (`sim.fitting.combine` evaluates them).
  Assumptions about dropped targets or about the initial stock are dropped, and so are fitted or
  drawn values of the initial stock (the stock is observed now). Dated rules, observed figures,
  economics (a given initial support history is taken to hold for the restarted stock; without
  one the restarted scenario's own pilot estimates it from the steady state, as for any start)
  and the rest are kept; an old-rule share of a state's initial stock shrinks to the part of the
  state's stock on the restart day that the model expects to be that initial stock still.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from sim.contract.calendar import Calendar
from sim.contract.loader import scenario_from_dict
from sim.contract.parameters import scenario_data
from sim.contract.routes import stay_profile
from sim.contract.schema import Scenario
from sim.features.payment import unpaid_days
from sim.fitting.actuals import Actuals, ActualsError, Found, month_label, months_between
from sim.fitting.cohort import Expectation, expect
from sim.fitting.elapsed import Band, SnapshotError, implied_weights, snapshot_durations, stop_day, to_bands
from sim.kernel.hazards import ExitSchedule
from sim.kernel.model import Model, compile_model

RESTART_COLUMNS = ("state", "initial", "observed", "source", "ratio", "durations")
"""restart.csv: per state, the restarted stock, the actual figure it came from (or its part of an
aggregate's), where that figure is, the model's ratio of stock to average, and where its elapsed
durations came from (snapshot, model, steady state; for an exit: the model's leavers)."""
FROZEN = ("initial.", "initial_durations.")
"""Parameter paths of the initial stock: observed in a restart, so never fitted, drawn or assumed."""


@dataclass(frozen=True)
class Restart:
    """A restarted scenario and what it was made of."""

    scenario: Scenario
    through: str
    """The last actual month used (`YYYY-MM`)."""
    observed_months: int
    """Months of the original horizon before the restart (0 when it restarts at the start)."""
    stock: pd.DataFrame
    """restart.csv: the columns of RESTART_COLUMNS."""
    expected: np.ndarray
    """The model's expected full-time persons [benefit state, month] over the months before the
    restart (the twin's), by which an aggregate's actual figure is split among its states."""


def _cut_model(model: Model, months: int) -> Model:
    """The kernel model over its first `months` months only (for the twin)."""
    calendar = Calendar.build(model.calendar.start, months)
    return dataclasses.replace(model, calendar=calendar, inflow_per_day=model.inflow_per_day[:, :months])


def check_through(scenario: Scenario, through: str | None, actuals: Actuals) -> str:
    """`through`, or the last actual month, checked against the horizon: from the month before the
    start to the month before the last (one month at least is left to forecast)."""
    labels = Calendar.build(scenario.start, scenario.months).labels
    first, last = month_label(labels[0], -1), labels[-2] if len(labels) > 1 else None
    allowed = (f"allowed: {first} … {last}" if last
               else "the horizon has one month: nothing is left to restart")
    if through is None:
        through = actuals.last_month()
        if through is None:
            raise ActualsError("the actuals have no full_year_persons figure to restart from")
    if (len(through) != 7 or through[4] != "-" or not (through[:4] + through[5:]).isdigit()
            or not 1 <= int(through[5:]) <= 12):
        raise ActualsError(f"through {through!r} is not a month like 2018-06 (YYYY-MM)")
    if last is None or through > last:
        raise ActualsError(f"through {through} leaves no month to forecast: the horizon ends in "
                           f"{labels[-1]} ({scenario.start} + {scenario.months} months); {allowed}")
    if through < first:
        raise ActualsError(f"through {through} is before the scenario's start ({scenario.start}): a "
                           f"restart begins inside the horizon; {allowed}")
    return through


def _cuts(scenario: Scenario, code: str, schedule: ExitSchedule, cut: int) -> list[float]:
    """Days in the state where its hazard, a clock, a programme window or a target changes."""
    weeks = [float(t.min_weeks) for t in scenario.targets if t.min_weeks is not None]
    for p in scenario.interventions:
        if code in p.states:
            weeks += [float(p.from_week)] + ([float(p.to_week)] if p.to_week is not None else [])
    return [*schedule.edges, *schedule.clock_days, float(cut), *(7.0 * w for w in weeks)]


def _stock(scenario: Scenario, model: Model, actuals: Actuals, through: str, twin: Expectation | None,
           k: int) -> list[tuple[float, Found | None, float]]:
    """Per benefit state: the restarted stock, the figure it came from, and the ratio applied."""
    at_cut = twin.stock_end[:, k - 1] if twin is not None else np.array(
        [float(scenario.initial.get(c, 0.0)) for c in model.codes])
    out: list[tuple[float, Found | None, float]] = []
    for s, code in enumerate(model.benefit_codes):
        found = actuals.find(s, through, at_cut[: model.n_benefit])
        if found is None:
            if at_cut[s] >= 0.5:
                raise ActualsError(
                    f"the actuals have no full_year_persons for {code} in {through} (nor for a group, an "
                    f"aggregate or total that holds it), and the model has about {at_cut[s]:,.0f} persons "
                    f"there; give {code}'s figure for {through}")
            out.append((0.0, None, 1.0))
            continue
        ratio = 1.0
        if twin is not None:
            lo = max(0, months_between(model.calendar.labels[0], found.figure.first))
            days = model.calendar.days[lo:k].sum()
            mean = twin.person_days[s, lo:k].sum() / days if days > 0 else 0.0
            ratio = float(at_cut[s] / mean) if mean > 0 and at_cut[s] > 0 else 1.0
        out.append((found.value * ratio, found, ratio))
    return out


def stock_sd(model: Model, twin: Expectation, state: int, first: int, k: int) -> float:
    """The sd of a state's stock on the restart day about its estimate from the average over months
    `first`..`k − 1` (see the module): √((1/T²) Σₘ rₘ/dₘ ((bₘ − a)³ − (aₘ − a)³)/3) with the
    twin's moves in and out rₘ of each month [aₘ, bₘ) of dₘ days, a the period's first day and T
    its days; at most the square root of the stock itself."""
    edges = np.asarray(model.calendar.edges, dtype=float)
    flows = twin.flows[..., first:k]
    moves = flows[:, state].sum(axis=0) + flows[state].sum(axis=0) - 2.0 * flows[state, state]
    lo, hi = edges[first:k] - edges[first], edges[first + 1: k + 1] - edges[first]
    total = hi[-1] if len(hi) else 0.0
    if total <= 0:
        return 0.0
    variance = float(np.sum(moves / (hi - lo) * (hi**3 - lo**3) / 3.0)) / total**2
    return math.sqrt(max(0.0, min(variance, float(twin.stock_end[state, k - 1]))))


def _arrivals(model: Model, twin: Expectation, actuals: Actuals, state: int, k: int) -> np.ndarray:
    """Arrivals per day into `state` on each day before the restart: the twin's moves into it (from
    outside and every other state), or the month's observed inflow_count where the actuals give it."""
    days = model.calendar.days[:k]
    rate = twin.flows[:, state, :k].sum(axis=0) / days
    for m in range(k):
        observed = actuals.inflows.get((model.calendar.labels[m], state))
        if observed is not None:
            rate[m] = observed / days[m]
    return np.repeat(rate, days.astype(int))


def _durations(scenario: Scenario, model: Model, actuals: Actuals, twin: Expectation | None, k: int,
               cut: int, states: list[int]) -> dict[int, tuple[tuple[Band, ...] | None, float]]:
    """Per state: the implied bands (None: leave it to the steady state) and the persons they hold."""
    out: dict[int, tuple[tuple[Band, ...] | None, float]] = {}
    for s in states:
        code = model.codes[s]
        schedule = model.schedules[s] or ExitSchedule.build([], [])
        arrivals = _arrivals(model, twin, actuals, s, k) if twin is not None else np.zeros(0)
        weights = implied_weights(schedule, cut, arrivals, float(scenario.initial.get(code, 0.0)),
                                  model.initial_bands[s])
        stop = stop_day(schedule)
        if s >= model.n_benefit and stop is not None:
            weights[math.ceil(stop):] = 0.0  # leavers past every route back never return
        out[s] = (to_bands(weights, _cuts(scenario, code, schedule, cut)), float(weights.sum()))
    return out


def _snapshot(scenario: Scenario, model: Model, snapshot: pd.DataFrame, start: dt.date, cut: int
              ) -> dict[str, tuple[Band, ...]]:
    """The snapshot's bands per state, each ending by the week a clock empties the state."""
    cuts = {c: _cuts(scenario, c, model.schedules[i] or ExitSchedule.build([], []), cut)
            for i, c in enumerate(model.benefit_codes)}
    bands = snapshot_durations(snapshot, model.benefit_codes, start, cuts)
    for code, given in bands.items():
        emptied = stay_profile(scenario.transitions.get(code, ())).emptied_week
        if emptied is not None and given[-1][1] > emptied + 1e-9:
            raise SnapshotError(f"{code}: the snapshot has persons at week {given[-1][1]:g}, past week "
                                f"{emptied:g}, where a clock moves everyone out of {code}")
    return bands


def _kept_path(path: str, kept: dict[int, int], names: set[str]) -> str | None:
    """A parameter path in the restarted scenario: targets renumbered, None when it no longer applies."""
    if path.startswith(FROZEN):
        return None
    parts = path.split(".")
    if parts[0] != "targets" or len(parts) < 2:
        return path
    if parts[1].isdigit():
        new = kept.get(int(parts[1]))
        return None if new is None else ".".join(["targets", str(new), *parts[2:]])
    return path if parts[1] in names else None


def _without_frozen(block: dict[str, Any]) -> dict[str, Any]:
    """A parameters block without the initial stock's values (and their covariance rows)."""
    names = list(block.get("values", {}))
    keep = [i for i, n in enumerate(names) if not n.startswith(FROZEN)]
    out = {k: {n: v for n, v in value.items() if not n.startswith(FROZEN)} if isinstance(value, dict)
           else value for k, value in block.items()}
    if block.get("covariance"):
        cov = np.asarray(block["covariance"], dtype=float)
        out["covariance"] = cov[np.ix_(keep, keep)].tolist()
    return out


def _edit(data: dict[str, Any], scenario: Scenario, start: dt.date, months: int) -> None:
    """Start, months, name, trend anchors, targets, assumptions and parameters of the restart."""
    data.update(name=f"{scenario.name}, from {start:%Y-%m}", start=start.isoformat(), months=months)
    for code, spec in data.get("inflow_per_week", {}).items():
        given = scenario.inflow_per_week[code].trend_from
        spec["trend_from"] = (given or scenario.start).isoformat()
    calendar = Calendar.build(start, months)
    years, labels = calendar.full_years(), calendar.labels
    kept = {i: j for j, i in enumerate(i for i, t in enumerate(scenario.targets)
                                        if (t.month in labels if t.month is not None else t.year in years))}
    data["targets"] = [t for i, t in enumerate(data.get("targets", [])) if i in kept]
    names = {t["name"] for t in data["targets"]}
    assumptions = []
    for a in data.get("assumptions", []):
        path = _kept_path(a["path"], kept, names)
        if path is not None:
            assumptions.append({**a, "path": path})
    data["assumptions"] = assumptions
    if isinstance(data.get("parameters"), dict):
        data["parameters"] = _without_frozen(data["parameters"])
    if isinstance(data.get("uncertainty"), dict):
        drawn = data["uncertainty"].get("parameters", [])
        data["uncertainty"]["parameters"] = [p for p in drawn if not p["path"].startswith(FROZEN)]


def _old_rules(data: dict[str, Any], model: Model, twin: Expectation | None, k: int,
               initial: dict[str, float]) -> None:
    """Each old-rule share times the part of the restart's stock that is the state's own initial
    stock still there (the twin with that stock alone and no inflows: those who left and came back
    are on the old rules too); none where the restart has no stock."""
    states = (data.get("economics") or {}).get("states", {})
    for code, spec in states.items():
        rule = spec.get("old_rule")
        if rule is None:
            continue
        if initial.get(code, 0.0) <= 0:
            del spec["old_rule"]
            continue
        if twin is None or rule["share"] == 0:
            continue
        s = model.codes.index(code)
        own = model.scenario.model_copy(update={"initial": {code: model.scenario.initial[code]}})
        only = tuple(n if i == s else 0 for i, n in enumerate(model.initial))
        alone = expect(dataclasses.replace(_cut_model(model, k), scenario=own, initial=only,
                                           inflow_per_day=np.zeros((model.n_states, k))))
        total = twin.stock_end[s, k - 1]
        left = alone.stock_end[s, k - 1] / total if total > 0 else 0.0
        rule["share"] = float(min(1.0, rule["share"] * left))


def restart(scenario: Scenario, actuals: pd.DataFrame, through: str | None = None,
            snapshot: pd.DataFrame | None = None, stock_noise: bool = False) -> Restart:
    """The scenario restarted the month after `through` (default: the last actual month) from the
    actual stock; see the module's text for what is taken from where. With `stock_noise`, each
    state's restarted stock is drawn per replication with the sd its period average leaves
    (`stock_sd`)."""
    model = compile_model(scenario)
    found = Actuals(actuals, model, unpaid_days(scenario))
    through = check_through(scenario, through, found)
    k = months_between(model.calendar.labels[0], through) + 1
    start = dt.date(int(through[:4]) + int(through[5:]) // 12, int(through[5:]) % 12 + 1, 1)
    cut = int(model.calendar.edges[k])
    twin = expect(_cut_model(model, k)) if k > 0 else None
    stocks = _stock(scenario, model, found, through, twin, k)
    given = _snapshot(scenario, model, snapshot, start, cut) if snapshot is not None else {}
    wanted = [s for s, (n, _, _) in enumerate(stocks) if n > 0 and model.codes[s] not in given]
    pools = [s for s in range(model.n_benefit, model.n_states) if model.schedules[s] is not None and k > 0]
    implied = _durations(scenario, model, found, twin, k, cut, wanted + pools)
    initial: dict[str, float] = {}
    durations: dict[str, list[list[float]]] = {}
    rows = []
    for s, (n, source, ratio) in enumerate(stocks):
        code = model.codes[s]
        bands, how = given.get(code), "snapshot"
        if bands is None and n > 0:
            bands, how = implied[s][0], "model" if implied[s][0] is not None else "steady state"
        initial[code] = n
        if bands is not None and n > 0:
            durations[code] = [list(b) for b in bands]
        rows.append({"state": code, "initial": n, "observed": source.value if source else 0.0,
                     "source": source.source if source else "none", "ratio": ratio,
                     "durations": how if n > 0 else ""})
    for s in pools:
        bands, persons = implied[s]
        code = model.codes[s]
        if bands is not None and persons >= 0.5:
            initial[code], durations[code] = persons, [list(b) for b in bands]
            rows.append({"state": code, "initial": persons, "observed": math.nan,
                         "source": "the model's leavers", "ratio": math.nan, "durations": "model"})
    data = scenario_data(scenario)
    data["initial"], data["initial_durations"] = initial, durations
    _edit(data, scenario, start, scenario.months - k)
    if stock_noise and twin is not None:
        drawn = []
        for s, (n, source, _) in enumerate(stocks):
            if n > 0 and source is not None:
                first = max(0, months_between(model.calendar.labels[0], source.figure.first))
                sd = stock_sd(model, twin, s, first, k)
                if sd > 0:
                    drawn.append({"path": f"initial.{model.codes[s]}", "sd": sd})
        if drawn:
            block = dict(data.get("uncertainty") or {"split_runs": 0})
            block["parameters"] = [*block.get("parameters", []), *drawn]
            data["uncertainty"] = block
    _old_rules(data, model, twin, k, initial)
    restarted = scenario_from_dict(data, f"<{scenario.name} restarted after {through}>")
    expected = (twin.person_days[: model.n_benefit] / model.calendar.days[:k] if twin is not None
                else np.zeros((model.n_benefit, 0)))
    return Restart(restarted, through, k, pd.DataFrame(rows, columns=list(RESTART_COLUMNS)), expected)
