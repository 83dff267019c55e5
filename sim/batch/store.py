"""Per-replication results kept on disk as they finish, so memory does not grow with runs and a
batch that is stopped, even killed, can be completed later.

Each table is a memory-mapped array [cell, replication] (`<table>.npy`, which numpy or a
notebook opens with `np.load(path, mmap_mode="r")`), whose pages are written out and let go of
every few replications, so a batch's memory stays flat however many it has; statistics are
computed afterwards from it in chunks of cells, in replication order, so they are identical
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

import numpy as np
from numpy.lib.format import open_memmap, read_array_header_1_0, read_array_header_2_0, read_magic

from sim.results.metrics import Metrics

DONE = "done.npz"
"""The store's record of finished replications."""
CHECKPOINT_SECONDS = 2.0
"""How often the done record is brought up to date while a batch runs."""
RELEASE_EVERY = 16
"""Replications between two releases of the arrays' pages from memory."""


def finished(folder: Path) -> int:
    """How many replications the store in `folder` has recorded as done (0 without a record)."""
    try:
        with np.load(folder / DONE) as saved:
            return int(np.count_nonzero(saved["done"]))
    except (OSError, ValueError, KeyError):
        return 0


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
        self.arrays = {name: self._array(name, (int(np.prod(shape)), runs), resume)
                       for name, shape in shapes.items()}
        self.flow_sum = np.zeros(flow_shape, dtype=np.int64)
        self.flow_sumsq = np.zeros(flow_shape, dtype=np.int64)
        self.done = np.zeros(runs, dtype=bool)
        if resume and (folder / DONE).exists():
            self._load_done()
        self._last = time.monotonic()

    def _array(self, name: str, shape: tuple[int, int], resume: bool) -> np.ndarray:
        """A `.npy` file of `shape` mapped into memory (kept if resuming, else created)."""
        path = self.folder / f"{name}.npy"
        if not (resume and path.exists()):
            open_memmap(path, mode="w+", dtype=np.float64, shape=shape).flush()
        with open(path, "rb") as handle:
            version = read_magic(handle)
            found, fortran, dtype = (read_array_header_1_0(handle) if version == (1, 0)
                                     else read_array_header_2_0(handle))
            offset = handle.tell()
        if found != shape or dtype != np.float64 or fortran:
            raise StoreMismatch(f"{path} holds {found} values, not the {shape} of this batch")
        with open(path, "r+b") as handle:
            mapped = mmap.mmap(handle.fileno(), 0)
        self._maps.append(mapped)
        return np.ndarray(shape, dtype=np.float64, buffer=mapped, offset=offset)

    def release(self) -> None:
        """Write the arrays' changed pages to the file and let go of the pages in memory, so that
        the memory a batch holds does not grow with its replications (the data stays on disk and
        in the system's cache)."""
        for mapped in self._maps:
            mapped.flush()
            if hasattr(mmap, "MADV_DONTNEED"):
                mapped.madvise(mmap.MADV_DONTNEED)
        self._puts = 0

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
        for name, values in metrics.tables.items():
            self.arrays[name][:, i] = values.ravel()
        self.arrays["targets"][:, i] = target_values
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

    def chunks(self, name: str, max_values: int = 500_000) -> Iterator[tuple[slice, np.ndarray]]:
        """Blocks of cells of one table with all replications, one at a time, each a bounded
        amount of memory (a copy: the mapped pages are let go after each block)."""
        array = self.arrays[name]
        step = max(1, max_values // max(1, self.runs))
        for a in range(0, array.shape[0], step):
            block = np.array(array[a:a + step])
            self.release()
            yield slice(a, min(a + step, array.shape[0])), block

    def flush(self) -> None:
        """Write everything to disk, the done record included."""
        self.checkpoint()
