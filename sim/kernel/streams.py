"""Random numbers: streams spawned from the batch seed, keyed by purpose, state and citizen.

Replication i of a batch uses `SeedSequence(seed).spawn(runs)[i]`. Inside it, every stream is
keyed, not drawn in processing order: arrivals per state (by a stable hash of the state code),
the initial stock per state, and each citizen's own sequence of (exponential, uniform) pairs by
the citizen's cohort (arrived into state s, or in the initial stock of s) and rank in it. So two
scenarios run with one seed share their random numbers (common random numbers): a change that
touches some citizens leaves every other citizen's path exactly as it was, and the results do
not depend on the number of workers.
"""

from __future__ import annotations

import zlib
from array import array
from typing import Any

import numba
import numpy as np
from numpy.random.bit_generator import ISeedSequence

ARRIVALS, INITIAL, ARRIVAL_PATHS, INITIAL_PATHS, OVERFLOW = 1, 2, 3, 4, 5
ARRIVAL_DECISIONS, INITIAL_DECISIONS, PROGRAMME_EFFECTS, ARRIVAL_TEAMS, INITIAL_TEAMS = 6, 7, 8, 9, 10
"""Keys of the citizens' own programme decisions (uptake, durations, referral times, ages), of
each programme's per-replication effect factor, and of the citizens' own caseworker streams
(meeting phase, caseworker changes), kept apart so a team never shifts a programme's draws."""
PARAMETER_DRAWS = 11
"""Key of a replication's draw of uncertain parameters (`sim.batch.uncertain`)."""
ARRIVAL_TRAITS, INITIAL_TRAITS = 12, 13
"""Keys of the citizens' own trait draws (age, attributes), apart from every feature's."""
OLD_RULE = 14
PRIOR_SUPPORT = 15
"""Key of the initial stock's support history before its current spell, per state."""
"""Key of the initial stock's draws of who is on a state's old refund rules (economics)."""
TIERS = 6
"""Pairs per citizen drawn cohort by cohort; a citizen needing more draws them from its own stream."""
BLOCK = 16
"""Pairs per block of a citizen's own stream."""


def replication_seeds(seed: int, runs: int) -> list[np.random.SeedSequence]:
    """The seed sequence of each replication of a batch."""
    return np.random.SeedSequence(seed).spawn(runs)


def replication_seed(seed: int, i: int) -> np.random.SeedSequence:
    """Replication i's seed sequence alone: `replication_seeds(seed, runs)[i]` for any runs > i,
    without making the others (a worker is sent the index, not the sequence)."""
    return np.random.SeedSequence(seed, spawn_key=(i,))


def state_key(code: str) -> int:
    """A stable key for a state code (or a programme's name), so streams follow the name, not
    its position in a file."""
    return zlib.crc32(code.encode("utf-8"))


WORD = 0xFFFFFFFF
"""The largest key part that is one 32-bit word of a seed sequence's entropy."""
HASH_INIT, HASH_MULT = 0x43B0D7E5, 0x931E8875
"""The constants numpy's `SeedSequence` mixes its entropy with (its INIT_A and MULT_A)."""


class Streams:
    """The keyed generators of one replication."""

    def __init__(self, seq: np.random.SeedSequence) -> None:
        self.seq = seq
        self._pool = seq.pool.astype(np.uint64)
        """The replication's mixed entropy: a child's key words are mixed on from here."""
        run, spawn = _words(seq.entropy), _words(seq.spawn_key)
        words = max(run, seq.pool_size) + spawn  # a child's run entropy is padded to the pool
        mixed = seq.pool_size * seq.pool_size + (words - seq.pool_size) * seq.pool_size
        self._hash = np.uint64(HASH_INIT * pow(HASH_MULT, mixed, WORD + 1) % (WORD + 1))
        """The mixing constant after the words mixed so far (it advances by one step a word mixed in)."""
        self._fast = run > 0 and np.array_equal(self._child(0).generate_state(4, np.uint64),
                                                self._numpy_child(0).generate_state(4, np.uint64))
        """Whether children are mixed on from the pool: checked once against numpy's own child (an
        entropy given other than as integers is counted otherwise, and is mixed by numpy alone)."""

    def _child(self, *key: int) -> _Given:
        return _Given(_child_state(self._pool, self._hash, np.array(key, dtype=np.uint64)))

    def _numpy_child(self, *key: int) -> np.random.SeedSequence:
        seq = self.seq
        return np.random.SeedSequence(seq.entropy, spawn_key=(*seq.spawn_key, *key), pool_size=seq.pool_size)

    def generator(self, *key: int) -> np.random.Generator:
        """The generator for `key`: that of `SeedSequence(entropy, spawn_key=(*spawn_key, *key))`,
        number for number, with the replication's mixed entropy kept rather than mixed again for
        each key (six times faster; a replication asks for hundreds of keys)."""
        if self._fast and all(0 <= k <= WORD for k in key):
            # numpy takes any ISeedSequence (its stubs name only SeedSequence)
            return np.random.Generator(np.random.PCG64(self._child(*key)))  # type: ignore[arg-type]
        return np.random.Generator(np.random.PCG64(self._numpy_child(*key)))

    def cohort(self, cohort: int, state: str, n: int, *purpose: int) -> CohortDraws:
        """The random numbers of the n citizens of a cohort (arrived into, or initially in, `state`),
        for the citizens' paths or, keyed further by `purpose`, a feature's own decisions."""
        return CohortDraws(self, (cohort, state_key(state), *purpose), n)


class CohortStream:
    """One purpose's pairs for every cohort of a replication: `stream(c)` is the citizen's cohort's
    `CohortDraws` (its own pairs are `pair(c.rank, k)`), made once per cohort.

    `keys` are the cohort keys for arrivals and for the initial stock; `purpose` keys them further.
    """

    __slots__ = ("_codes", "_found", "_keys", "_purpose", "_sizes", "_streams")

    def __init__(self, streams: Streams, codes: tuple[str, ...], sizes: dict[tuple[int, int], int],
                 keys: tuple[int, int], purpose: tuple[int, ...]) -> None:
        self._streams, self._codes, self._sizes = streams, codes, sizes
        self._keys, self._purpose = keys, purpose
        self._found: dict[tuple[int, int], CohortDraws] = {}

    def __call__(self, c: Any) -> CohortDraws:
        return self.of(c.cohort)

    def of(self, cohort: tuple[int, int]) -> CohortDraws:
        """The draws of the cohort (initial stock or arrivals, the state it came in through)."""
        found = self._found.get(cohort)
        if found is None:
            kind, state = cohort
            found = self._found[cohort] = self._streams.cohort(
                self._keys[kind], self._codes[state], self._sizes[cohort], *self._purpose)
        return found


class CohortDraws:
    """Each citizen's own (exponential, uniform) pairs: pair k of citizen `rank` is fixed by the key.

    The k-th pairs of the whole cohort are drawn together, when a citizen first needs one (tiers);
    past `TIERS`, a citizen's pairs come from its own stream, in blocks. For `pair` a tier is kept
    as packed doubles: most of it is never read, and a float object made for each number would
    cost more than the ones read; `tier` gives the arrays as drawn.
    """

    __slots__ = ("_drawn", "_extra", "_key", "_n", "_streams", "tiers")

    def __init__(self, streams: Streams, key: tuple[int, ...], n: int) -> None:
        self._streams = streams
        self._key = key
        self._n = n
        self._drawn: list[tuple[np.ndarray, np.ndarray]] = []
        self.tiers: list[array[float]] = []
        """The tiers drawn so far, packed: pair k of citizen `rank` is tiers[k][2 rank], [2 rank + 1]
        (the kernel's hot path reads them directly)."""
        self._extra: dict[int, array[float]] = {}

    def pair(self, rank: int, k: int) -> tuple[float, float]:
        """Citizen `rank`'s k-th (standard exponential, uniform) pair."""
        tiers = self.tiers
        if k < len(tiers):
            tier = tiers[k]
            i = rank + rank
            return tier[i], tier[i + 1]
        if k < TIERS:
            while len(tiers) <= k:
                tiers.append(_packed(*self.tier(len(tiers))))
            return tiers[k][2 * rank], tiers[k][2 * rank + 1]
        extra = self._extra.get(rank)
        j = k - TIERS
        if extra is None or 2 * j >= len(extra):
            block = _packed(*self._draw(BLOCK, OVERFLOW, rank, len(extra or ()) // (2 * BLOCK)))
            extra = self._extra[rank] = block if extra is None else extra + block
        return extra[2 * j], extra[2 * j + 1]

    @property
    def size(self) -> int:
        """Citizens in the cohort."""
        return self._n

    def tier(self, k: int) -> tuple[np.ndarray, np.ndarray]:
        """The whole cohort's k-th pairs (k < `TIERS`) by rank, exponentials and uniforms: the numbers
        `pair(rank, k)` gives, drawn once."""
        drawn = self._drawn
        while len(drawn) <= k:
            drawn.append(self._draw(self._n, len(drawn)))
        return drawn[k]

    def _draw(self, n: int, *key: int) -> tuple[np.ndarray, np.ndarray]:
        rng = self._streams.generator(*self._key, *key)
        return rng.standard_exponential(n), rng.random(n)


def _packed(e: np.ndarray, u: np.ndarray) -> array[float]:
    """Pairs as packed doubles, e and u of each in turn."""
    out = np.empty((len(e), 2))
    out[:, 0], out[:, 1] = e, u
    pairs = array("d")
    pairs.frombytes(out.tobytes())
    return pairs


def _words(entropy: Any) -> int:
    """The 32-bit words numpy's `SeedSequence` makes of an entropy or spawn key given as integers (an
    integer: its words, at least one; a sequence: its elements' words), or 0 when given otherwise."""
    if isinstance(entropy, int | np.integer) and not isinstance(entropy, bool) and entropy >= 0:
        return max(1, -(-int(entropy).bit_length() // 32))
    if isinstance(entropy, list | tuple):
        counts = [_words(x) for x in entropy]
        return sum(counts) if all(counts) else 0
    return 0


class _Given(ISeedSequence):
    """A seed sequence whose generated state is already known (`PCG64` asks for four 64-bit words)."""

    __slots__ = ("state",)

    def __init__(self, state: np.ndarray) -> None:
        self.state = state

    def generate_state(self, n_words: int, dtype: Any = np.uint32) -> np.ndarray:
        if n_words != 4 or np.dtype(dtype) != np.uint64:
            raise ValueError(f"this seed gives four 64-bit words, not {n_words} of {dtype}")
        return self.state


@numba.njit(cache=True)
def _child_state(pool: np.ndarray, hash_const: np.uint64, words: np.ndarray) -> np.ndarray:
    """`SeedSequence.generate_state(4, uint64)` of a child: the `words` of its key mixed into the parent's
    mixed `pool`, by numpy's steps (hashmix, then mix into every pool word), in 64-bit words holding
    32-bit values."""
    p = pool.copy()
    mask, shift = np.uint64(0xFFFFFFFF), np.uint64(16)
    mult_a, mult_b = np.uint64(0x931E8875), np.uint64(0x58F38DED)
    left, right = np.uint64(0xCA01F9DD), np.uint64(0x4973F715)
    h = hash_const
    for w in words:
        for d in range(p.size):
            v = (w ^ h) & mask
            h = (h * mult_a) & mask
            v = (v * h) & mask
            v ^= v >> shift
            r = (left * p[d] - right * v) & mask
            p[d] = r ^ (r >> shift)
    out = np.empty(8, np.uint64)
    h = np.uint64(0x8B51F9DD)
    for i in range(8):
        v = p[i % p.size] ^ h
        h = (h * mult_b) & mask
        v = (v * h) & mask
        out[i] = v ^ (v >> shift)
    return out[0::2] | (out[1::2] << np.uint64(32))
