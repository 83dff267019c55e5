"""Hazard ratios on a citizen from several sources (programmes, meetings, caseworker changes).

The ratios in force are the product, destination by destination, of every source's ratios. Each
distinct product is interned, so the engine can cache the scaled exit schedule by its identity.
"""

from __future__ import annotations

from sim.kernel.citizen import Citizen

Ratios = dict[int, float]
ALONE_KEPT = 1024
"""Ratios kept by identity (`EffectBook._alone`) at most: a programme's few are met again and again."""


def ratio_key(ratios: Ratios | None) -> tuple[tuple[int, float], ...]:
    """A source's ratios as the book interns them when they are a citizen's only source: two put the
    same ratios in force exactly when their keys are equal (empty: none in force)."""
    return tuple(sorted((d, 1.0 * r) for d, r in (ratios or {}).items() if r != 1.0))


class EffectBook:
    """Combines and interns the hazard ratios of one replication's citizens."""

    def __init__(self) -> None:
        self._interned: dict[tuple[tuple[int, float], ...], Ratios] = {}
        self._by_identity: dict[int, tuple[Ratios, Ratios | None]] = {}
        """By the identity of a source's ratios: them (kept alive, so the identity stays theirs) and
        what is in force when they are the citizen's only source (`_alone`)."""

    def set(self, c: Citizen, source: object, ratios: Ratios | None) -> bool:
        """Give `source`'s ratios to the citizen (None: withdraw them); True if what is in force changed."""
        effects = c.effects
        if not effects:
            if ratios is None:
                return False
            current = {source: ratios}
        else:
            if effects.get(source) is ratios:
                return False
            current = dict(effects)
            if ratios is None:
                current.pop(source, None)
            else:
                current[source] = ratios
        if len(current) == 1:  # one source: its own ratios
            (only,) = current.values()
            effect = self._alone(only)
        elif current:
            combined: Ratios = {}
            for part in current.values():
                for dest, r in part.items():
                    combined[dest] = combined.get(dest, 1.0) * r
            key = tuple(sorted((d, r) for d, r in combined.items() if r != 1.0))
            effect = self._interned.setdefault(key, dict(key)) if key else None
        else:
            effect = None
        changed = effect is not c.effect
        c.effect, c.effects = effect, current or None
        return changed

    def _alone(self, ratios: Ratios) -> Ratios | None:
        """What is in force when `ratios` are the citizen's only source: them interned, found by
        their identity once seen."""
        found = self._by_identity.get(id(ratios))
        if found is None:
            if len(self._by_identity) >= ALONE_KEPT:  # ratios made afresh each time (a team's) pass through
                self._by_identity.clear()
            key = ratio_key(ratios)
            found = self._by_identity[id(ratios)] = (ratios, self._interned.setdefault(key, dict(key)) if key
                                                     else None)
        return found[1]

    @staticmethod
    def clear(c: Citizen) -> None:
        """All effects end (the citizen left the state they were given in)."""
        c.effect = c.effects = None
