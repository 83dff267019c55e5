"""One replication on SimPy's event loop: arrivals, exact hazard-driven moves, the ledger.

Each citizen has at most one pending event (a Timeout with a callback, not a generator
process); events past the horizon are never scheduled; random numbers come in blocks.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import simpy
from simpy.events import Timeout

from sim.citizen import Citizen
from sim.hazards import STAY_HERE
from sim.inflows import draw_arrivals
from sim.ledger import Ledger
from sim.model import Model
from sim.records import ReplicationRecord
from sim.streams import BlockDraws, Streams


class Replication:
    """The state of one running replication."""

    def __init__(self, model: Model, seed: np.random.SeedSequence, record_spells: bool = False) -> None:
        self.model = model
        self.streams = Streams.from_seed(seed)
        self.env = simpy.Environment()
        self.ledger = Ledger(model.calendar, model.n_states)
        self.draws = BlockDraws(self.streams.sojourns)
        self.horizon = model.calendar.horizon
        self.outside = model.n_states
        self.n_events = 0
        self.n_citizens = 0
        self.spells: list[tuple[int, int, float, float, int]] | None = [] if record_spells else None
        self.alive: dict[int, Citizen] | None = {} if record_spells else None

    def run(self) -> ReplicationRecord:
        """Simulate the horizon and return the replication's record."""
        n_initial = self._seed_initial_stock()
        times, states = draw_arrivals(self.model, self.streams.arrivals)
        if times:
            self._arrival_chain(times, states)
        self.env.run(until=self.horizon)
        person_days, stock_end, flows = self.ledger.close()
        return ReplicationRecord(person_days, stock_end, flows, n_initial, self.n_events,
                                 self._spell_table())

    def _new_citizen(self, state: int, entered: float) -> Citizen:
        c = Citizen(self.n_citizens, state, entered)
        self.n_citizens += 1
        if self.alive is not None:
            self.alive[c.ident] = c
        return c

    def _seed_initial_stock(self) -> int:
        rng = self.streams.initial
        total = 0
        for state, n in enumerate(self.model.initial):
            if n == 0:
                continue
            bands = self.model.initial_bands[state]
            if bands is not None:
                pick = rng.choice(len(bands.shares), size=n, p=bands.shares / bands.shares.sum())
                elapsed = bands.lo[pick] + rng.random(n) * (bands.hi[pick] - bands.lo[pick])
            else:
                schedule = self.model.schedules[state]
                assert schedule is not None  # the loader refuses a stock with no way out
                u = rng.random((n, 2)).tolist()
                elapsed = np.array([schedule.stationary_elapsed(a, b) for a, b in u])
            for e in elapsed.tolist():
                c = self._new_citizen(state, -e)
                self.ledger.enter(state, 0.0, 0)
                self._schedule(c, 0.0)
            total += n
        return total

    def _arrival_chain(self, times: list[float], states: list[int]) -> None:
        env, ledger, outside = self.env, self.ledger, self.outside
        position = [0]

        def arrive(_: simpy.Event) -> None:
            i = position[0]
            now = env.now
            state = states[i]
            c = self._new_citizen(state, now)
            m = ledger.month(now)
            ledger.enter(state, now, m)
            ledger.flow(outside, state, m)
            self.n_events += 1
            self._schedule(c, now)
            i += 1
            position[0] = i
            if i < len(times):
                Timeout(env, times[i] - now).callbacks.append(arrive)

        Timeout(self.env, times[0]).callbacks.append(arrive)

    def _schedule(self, c: Citizen, now: float) -> None:
        """Draw the citizen's next exit from its current state and schedule it, if in the horizon."""
        schedule = self.model.schedules[c.state]
        if schedule is None:
            c.pending = None
            return
        draws = self.draws
        nxt = schedule.next_exit(now - c.entered, draws.exp(), draws.uniform())
        if nxt is None:
            c.pending = None
            return
        at = c.entered + nxt[0]
        if at >= self.horizon:
            c.pending = None
            return
        c.next_dest = nxt[1]
        ev = Timeout(self.env, at - now, c)
        ev.callbacks.append(self._on_move)
        c.pending = ev

    def _on_move(self, ev: simpy.Event) -> None:
        c: Citizen = ev._value
        if c.pending is not ev:
            return
        self.n_events += 1
        now = self.env.now
        dest = c.next_dest
        if dest == STAY_HERE:
            self._schedule(c, now)
            return
        ledger = self.ledger
        m = ledger.month(now)
        ledger.leave(c.state, now, m)
        ledger.enter(dest, now, m)
        ledger.flow(c.state, dest, m)
        if self.spells is not None:
            self.spells.append((c.ident, c.state, c.entered, now, dest))
        c.state = dest
        c.entered = now
        self._schedule(c, now)

    def _spell_table(self) -> pd.DataFrame | None:
        if self.spells is None or self.alive is None:
            return None
        n_benefit = self.model.n_benefit
        rows = list(self.spells)
        rows += [(c.ident, c.state, c.entered, self.horizon, -1)
                 for c in self.alive.values() if c.state < n_benefit]
        codes = self.model.codes
        table = pd.DataFrame(rows, columns=["id", "state", "start_day", "end_day", "to"])
        table = table[table["state"] < n_benefit]
        table["state"] = [codes[s] for s in table["state"]]
        table["to"] = [codes[d] if d >= 0 else None for d in table["to"]]
        return table.sort_values(["id", "start_day"], ignore_index=True)


def simulate(model: Model, seed: np.random.SeedSequence, record_spells: bool = False) -> ReplicationRecord:
    """Run one replication of `model` from its seed sequence."""
    return Replication(model, seed, record_spells).run()
