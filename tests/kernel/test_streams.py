"""The keyed generators against numpy's own seed sequences: the same numbers for every key."""

from __future__ import annotations

import numpy as np
import pytest

from sim.kernel.streams import Streams, replication_seed


def numpy_generator(seq: np.random.SeedSequence, *key: int) -> np.random.Generator:
    child = np.random.SeedSequence(seq.entropy, spawn_key=(*seq.spawn_key, *key), pool_size=seq.pool_size)
    return np.random.Generator(np.random.PCG64(child))


ENTROPIES = [0, 1, 12345, 2**32 - 1, 2**32, 2**64 + 3, 2**128 - 1, 2**200 + 7, [5, 2**40, 0], None]


@pytest.mark.parametrize("pool_size", [4, 8])
@pytest.mark.parametrize("entropy", ENTROPIES, ids=str)
def test_every_key_gives_numpys_numbers(entropy: object, pool_size: int) -> None:
    rng = np.random.default_rng(11)
    for parent_key in range(4):
        spawn = tuple(int(x) for x in rng.integers(0, 2**32, size=parent_key))
        seq = np.random.SeedSequence(entropy, spawn_key=spawn, pool_size=pool_size)  # type: ignore[arg-type]
        streams = Streams(seq)
        for length in range(0, 7):
            key = tuple(int(x) for x in rng.integers(0, 2**32, size=length))
            ours, theirs = streams.generator(*key), numpy_generator(seq, *key)
            assert np.array_equal(ours.random(5), theirs.random(5)), (entropy, spawn, key)
            assert np.array_equal(ours.standard_exponential(3), theirs.standard_exponential(3))


def test_key_parts_beyond_one_word_and_the_edges_give_numpys_numbers() -> None:
    seq = replication_seed(2024, 17)
    streams = Streams(seq)
    for key in [(0,), (2**32 - 1,), (2**32,), (2**70, 3), (3, 2**32 + 1, 0), (0, 0, 0, 0, 0, 0, 0, 0, 0)]:
        assert np.array_equal(streams.generator(*key).random(4), numpy_generator(seq, *key).random(4)), key


def test_a_negative_key_part_is_refused_as_numpy_refuses_it() -> None:
    with pytest.raises(ValueError):
        Streams(replication_seed(1, 0)).generator(3, -1)


def test_the_batch_seeds_take_the_mixed_pool_and_other_entropies_still_give_numpys_numbers() -> None:
    assert Streams(replication_seed(0, 0))._fast and Streams(replication_seed(2**70, 9))._fast
    seq = np.random.SeedSequence(np.array([7, 8], dtype=np.uint32), spawn_key=(4,))
    streams = Streams(seq)
    assert not streams._fast  # an array entropy is left to numpy's own mixing
    assert np.array_equal(streams.generator(3, 5).random(4), numpy_generator(seq, 3, 5).random(4))
