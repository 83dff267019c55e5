"""SimPy's environment, with a place in the order of events that can be taken before the event is
put on the clock.

A citizen's move drawn while a feature has a time to come that may change the citizen's hazards
(`Run.set_effect`'s `until`) need not be on the clock until that time: the move takes its time and
its place in SimPy's order (the id the event would have had) at once, `Held`, and is put on the
clock with them once that time has come and the move still stands. Events are then processed in
exactly the order they would have been had the move gone on the clock at once, and a move drawn
again in the meantime costs no stale event.
"""

from __future__ import annotations

from heapq import heappush
from typing import Any

import simpy
from simpy.core import NORMAL


class Held:
    """A move's place on the clock, taken but not yet used: its time and event id."""

    __slots__ = ("eid", "when")

    def __init__(self, when: float, eid: int) -> None:
        self.when = when
        self.eid = eid


class Clock(simpy.Environment):
    """SimPy's environment, whose events may take their place in the order before they are scheduled.

    It extends `Environment.schedule` by the one step SimPy's scheduling is made of (an event's time,
    priority and the next id on the heap), split in two; tests hold the order it gives to SimPy's own.
    """

    def hold(self, delay: float) -> Held:
        """The time and id an event scheduled now with `delay` would get (the id is used up)."""
        return Held(self._now + delay, next(self._eid))

    def put(self, held: Held, value: Any) -> simpy.Event:
        """An event of `value`, triggered, scheduled at the time and place `held` took (not in the past)."""
        if held.when < self._now:
            raise ValueError(f"a held event of day {held.when} put on the clock at day {self._now}")
        event = HeldEvent(self, value)
        heappush(self._queue, (held.when, NORMAL, held.eid, event))
        return event


class HeldEvent(simpy.Event):
    """A triggered event put on the clock in a place taken before (`Clock.put`), as a `Timeout` is
    triggered when made."""

    def __init__(self, env: simpy.Environment, value: Any) -> None:
        super().__init__(env)
        self._ok = True
        self._value = value
