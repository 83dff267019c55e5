"""The replication store: its tiled tables read back as the [cell, replication] array that was
put in, whatever the key; one replication's values written within one tile of the file, so
storing it touches the same bytes however many replications the batch has; a run folder's
tables opened from disk as they were in the run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from helpers import scenario

import sim
from sim.batch.store import TILE, ReplicationStore, Table, open_table, tiles_of
from sim.results.metrics import Metrics

CELLS, RUNS = 5, 2 * TILE + 11
"""A table whose last tile is part-filled."""


def _stored(folder: Path, runs: int = RUNS, cells: int = CELLS) -> tuple[ReplicationStore, np.ndarray]:
    """A store holding a known [cell, replication] table (put in a shuffled order), and that table."""
    plain = np.random.default_rng(3).normal(size=(cells, runs))
    store = ReplicationStore(folder, runs, {"monthly": (cells,), "targets": (1,)}, (1, 1, 1))
    for i in np.random.default_rng(4).permutation(runs):
        store.put(int(i), Metrics({"monthly": plain[:, i]}, np.zeros((1, 1, 1))), plain[:1, i])
    store.flush()
    return store, plain


@pytest.mark.parametrize("key", [
    (slice(None), slice(None)), 2, -1, slice(1, 4), (slice(None), 0), (slice(None), -1),
    (3, TILE - 1), (slice(None), slice(TILE - 3, TILE + 2)), (slice(0, 2), slice(5, RUNS)),
    (slice(None), slice(RUNS - 4, None)), (slice(None), slice(7, 7)), (slice(None), slice(-TILE - 5, -2)),
    (4, slice(TILE, 2 * TILE)), (slice(2, 3), 2 * TILE + 10),
])
def test_a_table_reads_back_the_array_put_in(tmp_path: Path, key: Any) -> None:
    store, plain = _stored(tmp_path)
    got = store.arrays["monthly"][key]
    np.testing.assert_array_equal(got, plain[key])
    assert np.shape(got) == np.shape(plain[key])


def test_a_table_as_an_array_in_rows_and_in_chunks(tmp_path: Path) -> None:
    store, plain = _stored(tmp_path)
    table = store.arrays["monthly"]
    assert table.shape == plain.shape and len(table) == CELLS
    np.testing.assert_array_equal(np.asarray(table), plain)
    np.testing.assert_array_equal(np.stack(list(table)), plain)
    blocks = list(store.chunks("monthly", max_values=2 * RUNS))
    assert [b.shape for _, b in blocks] == [(2, RUNS), (2, RUNS), (1, RUNS)]
    np.testing.assert_array_equal(np.vstack([b for _, b in blocks]), plain)
    np.testing.assert_array_equal(np.asarray(store.arrays["targets"]), plain[:1])


def test_a_table_refuses_replications_it_cannot_read_in_one_pass(tmp_path: Path) -> None:
    table = _stored(tmp_path)[0].arrays["monthly"]
    with pytest.raises(TypeError, match="consecutive"):
        table[:, ::2]
    with pytest.raises(TypeError, match="consecutive"):
        table[:, [0, 3]]
    with pytest.raises(IndexError):
        table[:, RUNS]


@pytest.mark.parametrize("runs", [2 * TILE, 100 * TILE])
def test_one_replication_is_written_within_one_tile_of_the_file(tmp_path: Path, runs: int) -> None:
    """The bytes a replication changes span cells × TILE values at most, for 64 replications or 3,200."""
    cells = 300
    store = ReplicationStore(tmp_path, runs, {"monthly": (cells,), "targets": (0,)}, (1, 1, 1))
    i = TILE + 5
    store.put(i, Metrics({"monthly": np.arange(1.0, cells + 1)}, np.zeros((1, 1, 1))), np.zeros(0))
    store.flush()
    raw = np.frombuffer((tmp_path / "monthly.npy").read_bytes(), dtype=np.uint8)
    changed = np.flatnonzero(raw[-tiles_of(runs) * cells * TILE * 8:])
    assert changed[-1] - changed[0] < cells * TILE * 8
    assert isinstance(store.arrays["monthly"], Table)
    np.testing.assert_array_equal(store.arrays["monthly"][:, i], np.arange(1.0, cells + 1))


def test_a_run_folders_tables_open_from_disk_as_they_were(tmp_path: Path) -> None:
    s = scenario(months=12, states={"sygedagpenge": {}}, initial={"sygedagpenge": 30},
                 inflow_per_week={"sygedagpenge": 2},
                 transitions={"sygedagpenge": [{"to": "job", "mean_weeks": 10}]})
    result = sim.run(s, runs=TILE + 3, seed=2, store_dir=tmp_path)
    for name, table in result.store.arrays.items():
        np.testing.assert_array_equal(open_table(tmp_path, name)[:, :], np.asarray(table))
