"""Per-replication results kept on disk as they finish, so memory does not grow with runs and a
batch that is stopped, even killed, can be completed later.

Each table is a memory-mapped `<table>.npy` laid out in tiles of `TILE` consecutive
replications, [tile, cell, replication in tile]: one replication's values sit in one tile, so
storing it touches the same few pages whether the batch has 200 replications or 20,000, and the
changed pages are written out and let go of every few replications. `Table` shows a stored
table as [cell, replication] (`open_table` opens one from a run folder's `store/` in a notebook);
statistics are computed from it in chunks of cells, in replication order, so they are identical
whatever the order in which workers finished. Flow counts are integers and are summed exactly
as they stream in.

Which replications are done is recorded in `done.npz` (the done mask and the flow sums of those
replications), written whole to a new file and renamed over the old one every few seconds, after
the arrays' pages have been flushed: after a kill at any point, the replications it names are
on disk and the others are run again, with the same numbers, by a resumed batch.
"""

from __future__ import annotations

import mmap
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
from numpy.lib.format import open_memmap, read_array_header_1_0, read_array_header_2_0, read_magic

from sim.results.metrics import Metrics

DONE = "done.npz"
"""The store's record of finished replications."""
CHECKPOINT_SECONDS = 2.0
"""How often the done record is brought up to date while a batch runs."""
RELEASE_EVERY = 16
"""Replications between two releases of the arrays' pages from memory."""
TILE = 32
"""Replications in one tile of a stored table."""
CHUNK_VALUES = 131_072
"""Values in one block of a table read for its statistics (1 MB)."""


def finished(folder: Path) -> int:
    """How many replications the store in `folder` has recorded as done (0 without a record)."""
    try:
        with np.load(folder / DONE) as saved:
            return int(np.count_nonzero(saved["done"]))
    except (OSError, ValueError, KeyError):
        return 0


def tiles_of(runs: int) -> int:
    """Tiles a table of `runs` replications takes."""
    return -(-runs // TILE)


def table_shape(cells: int, runs: int) -> tuple[int, int, int]:
    """The shape on disk of a table of `cells` values a replication over `runs` replications."""
    return tiles_of(runs), cells, TILE


def npy_header(path: Path) -> tuple[tuple[int, ...], bool, np.dtype[Any], int] | None:
    """An .npy file's shape, Fortran order, dtype and where its data start (None when it is not
    an .npy file)."""
    try:
        with open(path, "rb") as handle:
            version = read_magic(handle)
            read = read_array_header_1_0 if version == (1, 0) else read_array_header_2_0
            shape, fortran, dtype = read(handle)
            return tuple(int(n) for n in shape), bool(fortran), dtype, handle.tell()
    except (OSError, ValueError):
        return None


class Table:
    """A stored table seen as [cell, replication]: indexing and `np.asarray` copy out the values
    asked for, reading only the tiles that hold them. Replications are taken one at a time or as
    a slice of consecutive ones."""

    def __init__(self, tiles: np.ndarray, runs: int) -> None:
        self.tiles = tiles
        """The values as laid out on disk: [tile, cell, replication in tile]."""
        self.runs = runs

    @property
    def shape(self) -> tuple[int, int]:
        """(cells, replications)."""
        return self.tiles.shape[1], self.runs

    def __len__(self) -> int:
        return int(self.tiles.shape[1])

    def __iter__(self) -> Iterator[np.ndarray]:
        for row in range(len(self)):
            yield self[row]

    def __array__(self, dtype: Any = None, /, *, copy: bool | None = None) -> np.ndarray:
        values: np.ndarray = self[:, :]
        return values if dtype is None else values.astype(dtype, copy=False)

    def __getitem__(self, key: Any) -> Any:
        rows, reps = key if isinstance(key, tuple) else (key, slice(None))
        if isinstance(reps, int | np.integer):
            rep = range(self.runs)[reps]
            value = self.tiles[rep // TILE, rows, rep % TILE]
            return value.copy() if isinstance(value, np.ndarray) else value
        if not isinstance(reps, slice) or reps.step not in (None, 1):
            raise TypeError(f"a stored table takes one replication or consecutive ones, not {reps!r}")
        start, stop, _ = reps.indices(self.runs)
        stop = max(start, stop)
        first = start // TILE
        block = np.moveaxis(self.tiles[first:tiles_of(stop), rows], 0, -2)
        flat = block.reshape(*block.shape[:-2], block.shape[-2] * TILE)
        out = flat[..., start - first * TILE:stop - first * TILE]
        return out.copy() if np.may_share_memory(out, self.tiles) else out


def open_table(store: Path, name: str) -> Table:
    """A table of a run folder's `store/`, read-only, as [cell, replication] (for a notebook:
    `open_table(Path("runs/x/store"), "monthly")[:, :]`)."""
    with np.load(store / DONE) as saved:
        runs = int(saved["done"].shape[0])
    return Table(np.load(store / f"{name}.npy", mmap_mode="r"), runs)


class StoreMismatch(ValueError):
    """A store on disk that does not hold the arrays this batch would write (another scenario or
    version wrote it)."""


class ReplicationStore:
    """Disk-backed per-replication monthly, yearly and target values for one batch."""

    def __init__(self, folder: Path, runs: int, shapes: dict[str, tuple[int, ...]],
                 flow_shape: tuple[int, ...], resume: bool = False) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        self.runs = runs
        self.shapes = shapes
        self._maps: list[mmap.mmap] = []
        self._puts = 0
        self._dirty = False
        self.arrays = {
            name: Table(self._array(name, table_shape(int(np.prod(shape)), runs), resume), runs)
            for name, shape in shapes.items()}
        self.flow_sum = np.zeros(flow_shape, dtype=np.int64)
        self.flow_sumsq = np.zeros(flow_shape, dtype=np.int64)
        self.done = np.zeros(runs, dtype=bool)
        if resume and (folder / DONE).exists():
            self._load_done()
        self._last = time.monotonic()

    def _array(self, name: str, shape: tuple[int, int, int], resume: bool) -> np.ndarray:
        """A `.npy` file of `shape` mapped into memory (kept if resuming, else created)."""
        path = self.folder / f"{name}.npy"
        if not (resume and path.exists()):
            open_memmap(path, mode="w+", dtype=np.float64, shape=shape).flush()
        header = npy_header(path)
        if header is None:
            raise StoreMismatch(f"{path} is not an array file")
        found, fortran, dtype, offset = header
        if found != shape or dtype != np.float64 or fortran:
            raise StoreMismatch(f"{path} holds {found} values, not the {shape} of this batch")
        with open(path, "r+b") as handle:
            mapped = mmap.mmap(handle.fileno(), 0)
        self._maps.append(mapped)
        return np.ndarray(shape, dtype=np.float64, buffer=mapped, offset=offset)

    def release(self) -> None:
        """Write the arrays' changed pages to the file and let go of the pages in memory, so that
        the memory a batch holds does not grow with its replications (the data stays on disk and
        in the system's cache). Pages only read since the last call need no writing."""
        for mapped in self._maps:
            if self._dirty:
                mapped.flush()
            if hasattr(mmap, "MADV_DONTNEED"):
                mapped.madvise(mmap.MADV_DONTNEED)
        self._puts = 0
        self._dirty = False

    def _load_done(self) -> None:
        with np.load(self.folder / DONE) as saved:
            if saved["done"].shape != self.done.shape or saved["flow_sum"].shape != self.flow_sum.shape:
                raise StoreMismatch(f"{self.folder / DONE} records another batch's replications")
            self.done[:] = saved["done"]
            self.flow_sum[:] = saved["flow_sum"]
            self.flow_sumsq[:] = saved["flow_sumsq"]

    def missing(self) -> list[int]:
        """The replications not yet done, in order."""
        return [int(i) for i in np.flatnonzero(~self.done)]

    def put(self, i: int, metrics: Metrics, target_values: np.ndarray) -> None:
        """Keep replication i's results; now and then record on disk which are done."""
        if self.done[i]:
            return  # already kept (a task a cluster ran twice): count its flows once
        tile, at = divmod(i, TILE)
        for name, values in metrics.tables.items():
            self.arrays[name].tiles[tile, :, at] = values.ravel()
        self.arrays["targets"].tiles[tile, :, at] = target_values
        self._dirty = True
        flows = metrics.flows.astype(np.int64)
        self.flow_sum += flows
        self.flow_sumsq += flows * flows
        self.done[i] = True
        self._puts += 1
        if time.monotonic() - self._last >= CHECKPOINT_SECONDS:
            self.checkpoint()
        elif self._puts >= RELEASE_EVERY:
            self.release()

    def checkpoint(self) -> None:
        """Flush the arrays, then record the done mask and flow sums (atomically, by renaming)."""
        self.release()
        part = self.folder / f"{DONE}.part.npz"
        np.savez(part, done=self.done, flow_sum=self.flow_sum, flow_sumsq=self.flow_sumsq)
        with open(part, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(part, self.folder / DONE)
        self._last = time.monotonic()

    def chunks(self, name: str, max_values: int = CHUNK_VALUES) -> Iterator[tuple[slice, np.ndarray]]:
        """Blocks of cells of one table with all replications, one at a time, each a bounded
        amount of memory (a copy: the mapped pages are let go after each block)."""
        array = self.arrays[name]
        step = max(1, max_values // max(1, self.runs))
        for a in range(0, array.shape[0], step):
            block = array[a:a + step]
            self.release()
            yield slice(a, min(a + step, array.shape[0])), block

    def flush(self) -> None:
        """Write everything to disk, the done record included."""
        self.checkpoint()
