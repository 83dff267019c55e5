"""The simulated citizen: the one mutable record the engine moves between states."""

from __future__ import annotations

import math
from typing import Any

from sim.kernel.streams import CohortDraws


class Citizen:
    """A person on (or returned from) public support.

    `pending` is the one scheduled transition event; a redraw replaces it and the stale event
    is ignored when it fires. Support history, programme and meeting history attach here as the
    economics and intervention features arrive.
    """

    __slots__ = (
        "attrs",
        "away",
        "born",
        "clock_done",
        "draws",
        "effect",
        "effects",
        "entered",
        "ident",
        "last_offer",
        "meetings",
        "next_dest",
        "next_elapsed",
        "on_support",
        "pending",
        "programme_draws",
        "programme_used",
        "programmes",
        "rank",
        "returning",
        "state",
        "support",
        "team_draws",
        "team_used",
        "used",
    )

    def __init__(self, ident: int, state: int, entered: float, draws: CohortDraws | None = None,
                 rank: int = 0) -> None:
        self.ident = ident
        self.state = state
        self.entered = entered
        self.draws = draws  # the citizen's cohort's random numbers; its own are pair(rank, k)
        self.rank = rank
        self.used = 0  # pairs used so far
        self.programme_draws: CohortDraws | None = None  # programme decisions: the citizen's own too
        self.programme_used = 0
        self.team_draws: CohortDraws | None = None  # caseworker teams' decisions: their own stream
        self.team_used = 0
        self.programmes: dict[int, tuple[str, Any, float]] | None = None  # programme → (queued or
        # participating, its SimPy request, since)
        self.effect: dict[int, float] | None = None  # hazard ratios by destination now in force
        self.effects: dict[object, dict[int, float]] | None = None  # … and where they come from
        self.meetings: list[float] | None = None  # days of the meetings held in the last year
        self.last_offer = -math.inf  # day the last programme (an active offer) started
        self.attrs: dict[str, str] | None = None  # attribute values (the scenario's attributes)
        self.born = math.nan  # day of birth (from the scenario's ages), for eligibility by age
        self.clock_done = -1.0  # days in the state of the last clock the citizen stayed through
        self.next_dest = -1
        self.next_elapsed = 0.0  # days in the state at the pending event
        self.pending: Any = None
        self.support = 0.0  # days on public support as the refusion staircase counts them
        self.away: list[tuple[float, float]] | None = None  # recent self-support periods
        self.returning = False  # back from self-support: check the reset rule
        self.on_support = False  # the last spell was on a benefit (no employer period at a move)
