"""The one way features plug into the kernel: what a feature sees of a replication, and its hooks.

A feature (economics, programmes, caseworkers, …) is compiled once per batch into a
`FeaturePlan` and opened once per replication into a `Feature`. The engine calls the hooks and
never names a feature: it sees only this protocol. A feature keeps its per-citizen state in its
own slot of `Citizen.ext`, draws its random numbers from streams keyed by its own purpose, and
changes hazards only through `Run.set_effect`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np

if TYPE_CHECKING:
    import simpy

    from sim.kernel.citizen import Citizen
    from sim.kernel.model import Model
    from sim.kernel.streams import CohortStream

Ratios = dict[int, float]
"""Hazard ratios by destination state index."""

class SetEffect(Protocol):
    """The kernel's hook: give a source's hazard ratios to a citizen from a time on (None withdraws;
    `done`: and done with a time asked for; `until`: and a time to come back, `Run.set_effect`)."""

    def __call__(self, c: Citizen, source: object, ratios: Ratios | None, now: float,
                 done: bool = False, until: Later | None = None) -> None: ...

Wake = Callable[["Citizen", float, Callable[["simpy.Event"], None], Any], None]
"""The kernel's hook: call back at a day if the citizen is still in its stay then (`Run.wake`)."""

Act = Callable[["Citizen", float, Any], None]
"""A feature's act on one citizen at a day: (citizen, day, value), asked for with `Run.act`."""

Later = tuple[float, Act, Any]
"""(days from now, act, value): a time on the clock at which a feature may change hazards again."""

AskAct = Callable[["Citizen", float, Act, Any], None]
"""The kernel's hook: have an act done at a day if the citizen is still in its stay then (`Run.act`)."""

DoneWith = Callable[["Citizen"], None]
"""The kernel's hook: a feature is done with what it asked for in the citizen's stay (`Run.done_with`)."""

ClockMover = Callable[["Citizen", int, float, tuple[float, ...]], tuple[float, ...]]
"""A feature's `clock_days`: (citizen, state, spell start, clock days) to the clock days it gives."""

ClocksMover = Callable[[np.ndarray, int, np.ndarray, np.ndarray], np.ndarray]
"""A feature's `clock_days_many`: (idents, state, spell starts, a row of clock days each) to its rows."""


class Run(Protocol):
    """What a feature sees of the replication it runs in."""

    model: Model

    @property
    def env(self) -> simpy.Environment:
        """The replication's SimPy environment (its clock)."""

    def set_effect(self, c: Citizen, source: object, ratios: Ratios | None, now: float,
                   done: bool = False, until: Later | None = None) -> None:
        """`source`'s hazard ratios apply to the citizen from `now` (None: withdrawn). With `done`, the
        feature is also done with a time it asked for (`done_with`), said before the move is drawn
        again, so that a move it no longer holds on the clock is booked ahead at once. With `until`
        = (days, act, value), `act(c, day, value)` comes `days` later on the clock if the citizen is
        still in its stay then: a time at which the feature may change the hazards again, so a move
        drawn for after it waits off the clock until then, in its place in the order of events, and
        a change there costs no stale event."""

    def cohort_stream(self, keys: tuple[int, int], *purpose: int) -> CohortStream:
        """A feature's own pairs for every cohort: `stream(c)` is the citizen's cohort's draws
        (`pair(c.rank, k)`). `keys` are the cohort keys for arrivals and for the initial stock,
        `purpose` keys them further (e.g. a programme's name)."""

    def generator(self, *key: int) -> np.random.Generator:
        """A generator of the replication's stream keyed by `key`."""

    def wake(self, c: Citizen, at: float, callback: Callable[[simpy.Event], None], value: Any) -> None:
        """Call `callback` with an event of `value` at day `at` if the citizen is still in its
        current stay then. Asked from `entered`, the kernel schedules it only once it knows the
        citizen is still there at `at`, and keeps the citizen on the clock from `at` on; asked
        elsewhere, it is scheduled at once."""

    def act(self, c: Citizen, at: float, act: Act, value: Any) -> None:
        """Do `act(c, day, value)` at day `at` if the citizen is still in its current stay then: an act
        that reads and writes only the citizen and its feature's own records (never a queue, a
        resource or another citizen, nothing another feature reads during the run), and changes
        hazards only through `set_effect` at its day. The kernel does it ahead of the clock, in the
        citizen's own time order, while it draws the citizen's moves (where it may book them ahead,
        `Handler.ahead`), and as a time asked for on the clock elsewhere; it may ask for further acts.
        The kernel, not the act, knows whether the stay goes on: no `done_with` is said of an act."""

    def done_with(self, c: Citizen) -> None:
        """The feature is done with one time it asked for in the citizen's current stay (`wake`):
        it acted, or found nothing to do, and holds nothing of the citizen in this stay (no queue,
        no effect, no event to come). Once every time asked for in the stay is done with, the
        kernel may again book the citizen's moves ahead of the clock. Said only of the stay the
        time was asked in, at most once a time; a feature that never says it keeps the citizen on
        the clock for the rest of the stay."""

    def feature(self, key: str) -> Feature | None:
        """The replication's feature registered under `key` (opened before the one asking), if any."""


class Handler(Protocol):
    """What sees a citizen enter and leave a watched state: a feature, or a part of one."""

    ahead: bool
    """Whether its `entered` and `left` may be called ahead of the clock (`now` later than
    `env.now`): they read and write only the citizen's own records and ask for the times they
    act on it through `Run.wake`, never change hazards, and never read another citizen or the
    caseload. A move between states whose every handler is ahead, before any time asked for,
    is then booked when drawn, without a SimPy event."""

    def entered(self, c: Citizen, now: float) -> None:
        """The citizen entered the state at `now` (for the initial stock: now = 0)."""

    def left(self, c: Citizen, now: float) -> None:
        """The citizen is leaving the state at `now`."""


@runtime_checkable
class Referring(Handler, Protocol):
    """A handler (with `ahead`) whose `entered` only asks for times on the citizen (`Run.wake`,
    `Run.act`) and whose `left` does nothing in a stay before the first of them: until then a
    citizen in its states needs no object, so the kernel draws its path a generation at a time with
    everyone else's and makes the citizen only at that first day (`sim.kernel.bulk`)."""

    def first_days(self, who: np.ndarray, kind: np.ndarray, home: np.ndarray, rank: np.ndarray, state: int,
                   entered: np.ndarray, now: np.ndarray) -> np.ndarray:
        """The first day `entered` would ask for in each of these stays in `state` (inf: none),
        drawing what it would draw, for citizens not yet made: `who` their idents, `kind` and `home`
        their cohort (`Citizen.cohort`), `rank` in it; stays begun on `entered`, told at `now`.
        Asked in the citizens' own time order, once a stay; `resume` asks for the days found."""
        ...

    def resume(self, c: Citizen) -> None:
        """The citizen, made at the first day `first_days` gave in its current stay: ask for the
        times `entered` would have asked for in it, without drawing again."""
        ...


@runtime_checkable
class Acting(Referring, Protocol):
    """A referring handler whose every step in a stay is an act (`Run.act`) that it can also do for
    many citizens not yet made at once: where it is a state's one handler, the kernel draws those
    citizens' paths through the state a generation at a time, acts included (`sim.kernel.bulk`)."""

    acting: bool
    """Whether it can (it may not when a trait the kernel draws only for a made citizen decides)."""
    effects: tuple[Ratios | None, ...]
    """The ratios its acts may put in force, by index (0: none)."""

    def acts_many(self, who: np.ndarray, kind: np.ndarray, home: np.ndarray, rank: np.ndarray, state: int,
                  day: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Do each citizen's act due at `day` in its stay in `state` (the first from `first_days`),
        as it would be done on the citizen: whether the ratios in force changed, the ratios now in
        force (index into `effects`), and the day of its next act (inf: none)."""
        ...

    def left_many(self, who: np.ndarray, day: np.ndarray) -> None:
        """Citizens not yet made leave the state at `day` (`left`)."""
        ...


@runtime_checkable
class Deciding(Referring, Protocol):
    """A referring handler whose first day in a stay is a decision it can make for many citizens not
    yet made at once (a referral taken up or not): where it is a state's one handler, the kernel
    makes only the citizens whose decision needs the clock and draws the others' paths on
    (`sim.kernel.bulk`)."""

    deciding: bool
    """Whether it can (it may not when a trait the kernel draws only for a made citizen decides)."""

    def decides_many(self, who: np.ndarray, kind: np.ndarray, home: np.ndarray, rank: np.ndarray, state: int,
                     day: np.ndarray) -> np.ndarray:
        """Make each citizen's decision due at `day` in its stay in `state` (the first day from
        `first_days`), drawing what it would draw on the citizen: whether the citizen goes to the
        clock (made, its `resume` asks for what follows the decision, not for the decision again);
        with the others it is done for the stay."""
        ...


class Feature(Protocol):
    """One feature during one replication. The defaults do nothing, so a feature implements only
    the hooks it needs (subclass this protocol explicitly to inherit them)."""

    states: frozenset[int]
    """States whose every entry and exit the feature must see as it happens (`entered`, `left`)."""
    spells: bool
    """Whether the feature wants `spell_closed` for every spell that ends (a move or the horizon)."""
    spell_states: frozenset[int] | None = None
    """With `spells`: the states whose spells it wants (None: every state's), so the kernel calls it
    for no other."""
    late_spells: bool = False
    """With `spells`: whether nothing reads what the feature makes of its spells during the run, so
    the kernel may keep them as they close and give them all at once after the horizon
    (`spells_closed`, in the order `spell_closed` would have seen them) instead of a call each."""
    slot: int
    """Its index in each citizen's `ext`, given by the kernel at `FeaturePlan.open`."""
    ahead: bool = False
    """As `Handler.ahead`, for the feature as its own handler."""
    shifts: frozenset[int] = frozenset()
    """States whose clocks the feature moves per citizen (`clock_days`), e.g. a period used up
    across spells or a clock paused between two dates."""

    def stock(self, state: int, n: int) -> None:
        """The initial stock of `state`, n citizens, is about to be placed: they are the next n
        citizens created, in rank order. (Citizen idents are dense, in order of creation.)"""
        return None

    def admit(self, c: Citizen) -> None:
        """A citizen joins the replication (initial stock or arrival), before any other hook: a
        feature that keeps per-citizen state puts it in `c.ext[slot]` here (citizens get slots
        only when some feature implements `admit`). A citizen whose path was drawn a generation at
        a time is made, and admitted, only at its first referral (`Referring`): a feature that drew
        for it meanwhile gives it that state here (one that admits but watches no state keeps every
        citizen made from the start, one by one)."""
        return None

    def entered(self, c: Citizen, now: float) -> None:
        """The citizen entered one of `states` at `now` (for the initial stock: now = 0)."""
        return None

    def left(self, c: Citizen, now: float) -> None:
        """The citizen is leaving one of `states` at `now`."""
        return None

    def handlers(self, state: int) -> Sequence[Handler]:
        """Who gets `entered` and `left` for `state`, in order: the feature itself, or its parts
        (one programme, one team) so the engine calls them without a dispatch in between."""
        return (self,)

    def spell_closed(self, c: Citizen, state: int, start: float, end: float) -> None:
        """The citizen's stay in `state` over [start, end] ended (at a move or at the horizon). A spell
        hook records; it never changes the citizen's hazards (`Run.set_effect`): the kernel may call
        it while it is still drawing the citizen's moves ahead of the clock."""
        return None

    def spells_closed(self, who: np.ndarray, state: np.ndarray, start: np.ndarray, end: np.ndarray) -> None:
        """Every spell of the replication at once, as `spell_closed` would see them one by one and
        in that order (`who`: the citizen's ident). A feature with `spells` that implements this
        lets the kernel draw all paths at once when no feature watches a state (`sim.kernel.bulk`);
        with `late_spells`, the kernel calls it after the horizon instead of `spell_closed`. A feature
        that also moves clocks (`shifts`) gets them there in parts, in order: each generation's
        spells before the clocks of the next are asked (`clock_days_many`), the horizon's last; and
        `spell_closed` for the spells of citizens made later (`Referring`), after their first ones."""
        return None

    def clock_days(self, c: Citizen, state: int, entered: float,
                   days: tuple[float, ...]) -> tuple[float, ...]:
        """The days in the citizen's spell (started on `entered`) at which the state's clocks
        strike, from `days` as the scenario or the features opened before this one left them:
        one per clock of the state, in the state's order (inf: the clock is gone). Asked at each
        draw in one of `shifts`; the same answer for the same spell."""
        return days

    def clock_days_many(self, who: np.ndarray, state: int, entered: np.ndarray,
                        days: np.ndarray) -> np.ndarray:
        """`clock_days` for many citizens' spells in `state` at once: `who` their idents, `entered` each
        spell's start, `days` a row of clock days each; the rows it gives are what `clock_days` gives
        for each, bit for bit. A feature with `shifts` that implements it lets the kernel draw all
        paths at once (`sim.kernel.bulk`), asking it once a generation for the citizens in the state."""
        return days

    def close(self) -> dict[str, np.ndarray]:
        """The replication's arrays of this feature, by name."""
        return {}


class FeaturePlan(Protocol):
    """A feature compiled for a batch: opened once per replication."""

    @property
    def key(self) -> str:
        """The registry key (the scenario block it comes from)."""

    def open(self, run: Run, slot: int) -> Feature:
        """The feature for one replication, keeping its per-citizen state in `Citizen.ext[slot]`."""
