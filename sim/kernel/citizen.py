"""The simulated citizen: the one mutable record the engine moves between states."""

from __future__ import annotations

import math
from typing import Any

from sim.kernel.streams import CohortDraws

NO_SLOTS: list[Any] = []
"""The `ext` of every citizen when no feature keeps per-citizen state (shared, never written)."""

ARRIVED, STOCK = 0, 1
"""A citizen's cohort: arrived during the horizon, or in the initial stock."""


class Citizen:
    """A person on (or returned from) public support.

    `pending` is the one scheduled transition event; a redraw replaces it and the stale event
    is ignored when it fires (or, drawn for after `hold`, a `Held` place on the clock, put there
    at `hold`). `wake` is the first day in the stay at which a feature acts on the
    citizen (`Run.wake`): before it, moves watched only by `Handler.ahead` features need no event;
    `asked` counts the stay's times asked for that no feature has yet said it is done with
    (`Run.done_with`), and at none the moves go ahead of the clock again. `acts` are the stay's acts
    (`Run.act`) the kernel is still to do as it draws the citizen's moves.
    Each feature keeps its per-citizen state in its own slot of `ext`.
    """

    __slots__ = (
        "acts",
        "asked",
        "attrs",
        "born",
        "clock_done",
        "cohort",
        "draws",
        "effect",
        "effects",
        "entered",
        "ext",
        "hold",
        "ident",
        "next_dest",
        "next_elapsed",
        "pending",
        "rank",
        "state",
        "used",
        "wake",
        "wakes",
    )

    def __init__(self, ident: int, state: int, entered: float, draws: CohortDraws | None = None,
                 rank: int = 0, cohort: tuple[int, int] = (0, 0), n_features: int = 0) -> None:
        self.ident = ident
        self.state = state
        self.entered = entered
        self.draws = draws  # the citizen's cohort's random numbers; its own are pair(rank, k)
        self.rank = rank
        self.cohort = cohort  # (initial stock or arrivals, the state index it came in through)
        self.used = 0  # pairs used so far
        self.effect: dict[int, float] | None = None  # hazard ratios by destination now in force
        self.effects: dict[object, dict[int, float]] | None = None  # … and where they come from
        self.attrs: dict[str, str] | None = None  # attribute values (the scenario's attributes)
        self.born = math.nan  # day of birth (from the scenario's ages), for eligibility by age
        self.clock_done = -1.0  # days in the state of the last clock the citizen stayed through
        self.next_dest = -1
        self.next_elapsed = 0.0  # days in the state at the pending event
        self.pending: Any = None
        self.wake = math.inf  # the earliest day a feature acts on the citizen in this stay
        self.asked = 0  # times asked for in this stay that their features are not yet done with
        self.hold = -math.inf  # the earliest day to come in this stay at which a feature may change
        # the citizen's hazards (`Run.set_effect`'s `until`): a move drawn for after it waits till then
        self.wakes: list[tuple[float, Any, Any]] | None = None  # (day, callback, value) asked for
        # during `entered`, scheduled once the citizen's next move is drawn
        self.acts: list[tuple[float, int, Any, Any]] | None = None  # (day, order asked, act, value),
        # a heap, done as the moves are drawn
        self.ext: list[Any] = [None] * n_features if n_features else NO_SLOTS  # a slot per feature
