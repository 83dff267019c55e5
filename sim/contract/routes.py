"""What a state's routes imply for the length of a stay, read from the schema's `Route` objects.

The cross-checks need this to tell whether an initial stock can be drawn from the steady state
(a finite mean stay) and how long anyone can have been in a state; the contract answers it
itself, without compiling the routes into the kernel's hazards.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sim.contract.catalogue import STAY
from sim.contract.schema import Route


@dataclass(frozen=True, slots=True)
class StayProfile:
    """The shape of a stay in one state, as far as its mean and its longest length go."""

    finite: bool
    """The mean stay is finite: the routes' total rate in the last band is above 0, or a clock
    with no share staying moves everyone on."""
    last_change_week: float
    """The week of the last band edge or clock (0 if none): the total rate is constant from there."""
    emptied_week: float | None
    """The earliest clock week at which no share stays (nobody stays longer), or None."""


def clock_weeks(routes: Sequence[Route]) -> list[float]:
    """The weeks at which a state's forced clocks strike, in order (several routes may share one);
    the kernel orders a state's clocks the same way."""
    return sorted({float(r.at_week) for r in routes if r.at_week is not None})


def stay_shares(routes: Sequence[Route]) -> dict[float, float]:
    """The share that stays in the state at each clock week ('rest' resolved), for clock shares
    that add up to 1, as the cross-checks require before asking."""
    by_week: dict[float, list[tuple[str, float | str]]] = {}
    for r in routes:
        if r.at_week is not None and r.share is not None:
            by_week.setdefault(r.at_week, []).append((r.to, r.share))
    out: dict[float, float] = {}
    for week, clock in by_week.items():
        fixed = sum(float(x) for _, x in clock if x != "rest")
        out[week] = float(sum(max(0.0, 1.0 - fixed) if x == "rest" else float(x)
                              for to, x in clock if to == STAY))
    return out


def stay_profile(routes: Sequence[Route]) -> StayProfile:
    """Whether the mean stay is finite, where the rates stop changing and where a clock empties
    the state, for routes whose clock shares add up to 1."""
    emptied = [week for week, stay in stay_shares(routes).items() if stay <= 0.0]
    rated = [r.rates for r in routes if r.rate_per_week is not None or r.mean_weeks is not None]
    changes = [w for bands in rated for w, _ in bands]
    changes += [r.at_week for r in routes if r.at_week is not None]
    final_rate = sum(bands[-1][1] for bands in rated)
    return StayProfile(finite=final_rate > 0.0 or bool(emptied),
                       last_change_week=max(changes, default=0.0),
                       emptied_week=min(emptied, default=None))
