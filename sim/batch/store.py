"""Per-replication results kept on disk as they finish, so memory does not grow with runs.

Each table is a memory-mapped array [cell, replication]; statistics are computed afterwards
from it in chunks of cells, in replication order, so they are identical whatever the order in
which workers finished. Flow counts are integers and are summed exactly as they stream in.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from numpy.lib.format import open_memmap

from sim.results.metrics import Metrics


class ReplicationStore:
    """Disk-backed per-replication monthly, yearly and target values for one batch."""

    def __init__(self, folder: Path, runs: int, shapes: dict[str, tuple[int, ...]],
                 flow_shape: tuple[int, ...]) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        self.runs = runs
        self.shapes = shapes
        self.arrays = {
            name: open_memmap(folder / f"{name}.npy", mode="w+", dtype=np.float64,
                              shape=(int(np.prod(shape)), runs))
            for name, shape in shapes.items()
        }
        self.flow_sum = np.zeros(flow_shape, dtype=np.int64)
        self.flow_sumsq = np.zeros(flow_shape, dtype=np.int64)
        self.done = np.zeros(runs, dtype=bool)

    def put(self, i: int, metrics: Metrics, target_values: np.ndarray) -> None:
        """Keep replication i's results."""
        for name, values in metrics.tables.items():
            self.arrays[name][:, i] = values.ravel()
        self.arrays["targets"][:, i] = target_values
        flows = metrics.flows.astype(np.int64)
        self.flow_sum += flows
        self.flow_sumsq += flows * flows
        self.done[i] = True

    def chunks(self, name: str, max_values: int = 4_000_000) -> list[tuple[slice, np.ndarray]]:
        """Blocks of cells of one table with all replications, each a bounded amount of memory."""
        array = self.arrays[name]
        step = max(1, max_values // max(1, self.runs))
        return [(slice(a, min(a + step, array.shape[0])), np.asarray(array[a:a + step]))
                for a in range(0, array.shape[0], step)]

    def flush(self) -> None:
        """Write everything to disk."""
        for array in self.arrays.values():
            array.flush()
