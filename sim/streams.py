"""Random numbers: one stream per purpose, spawned from the batch seed, drawn in blocks.

Replication i of a batch uses `SeedSequence(seed).spawn(runs)[i]`, split again by purpose,
so results do not depend on worker count and scenarios run with one seed share numbers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

PURPOSES = ("arrivals", "sojourns", "initial")
BLOCK = 4096


def replication_seeds(seed: int, runs: int) -> list[np.random.SeedSequence]:
    """The seed sequence of each replication of a batch."""
    return np.random.SeedSequence(seed).spawn(runs)


@dataclass
class Streams:
    """The generators of one replication, one per purpose."""

    arrivals: np.random.Generator
    sojourns: np.random.Generator
    initial: np.random.Generator

    @classmethod
    def from_seed(cls, seq: np.random.SeedSequence) -> Streams:
        """Split a replication's seed into its purpose streams (without mutating `seq`)."""
        children = [
            np.random.SeedSequence(seq.entropy, spawn_key=(*seq.spawn_key, k), pool_size=seq.pool_size)
            for k in range(len(PURPOSES))
        ]
        return cls(*(np.random.Generator(np.random.PCG64(c)) for c in children))


class BlockDraws:
    """Standard exponential and uniform draws, a block at a time, served in pairs as Python floats."""

    __slots__ = ("_exp", "_rng", "_uni")

    def __init__(self, rng: np.random.Generator) -> None:
        self._rng = rng
        self._exp: list[float] = []
        self._uni: list[float] = []

    def pair(self) -> tuple[float, float]:
        """A standard exponential and a uniform draw."""
        if not self._exp:
            self._exp = self._rng.standard_exponential(BLOCK).tolist()
        if not self._uni:
            self._uni = self._rng.random(BLOCK).tolist()
        return self._exp.pop(), self._uni.pop()
