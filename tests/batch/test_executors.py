"""Where the replications run changes no number: this process, local processes, a Dask
LocalCluster and a `dask scheduler` with `dask worker` processes started here give identical
stores; a Dask worker lost mid-batch has its task run again with the same result; only a bounded
window of work is in flight."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cloudpickle
import numpy as np
import pytest
from helpers import CLOCK_SPLIT, scenario

import sim
from sim.batch.executors import WINDOW, Dask, InProcess, LocalProcesses, Work, chunk_size

RUNS = 24


def _scenario() -> sim.Scenario:
    """Two states, a clock and parameter draws: every path of the batch is exercised."""
    return scenario(
        months=12, states={"sygedagpenge": {}, "jobafklaring": {}, "kontanthjaelp": {}},
        initial={"sygedagpenge": 80, "jobafklaring": 20, "kontanthjaelp": 40},
        inflow_per_week={"sygedagpenge": 6},
        transitions={"sygedagpenge": CLOCK_SPLIT, "jobafklaring": [{"to": "job", "mean_weeks": 30}],
                     "kontanthjaelp": [{"to": "job", "mean_weeks": 40}]},
        targets=[{"name": "syg højst 90", "states": ["sygedagpenge"], "year": 2018, "at_most": 90}],
        uncertainty={"parameters": [{"path": "inflow_per_week.sygedagpenge", "sd": 0.5}], "split_runs": 4},
    )


def _arrays(result: sim.RunResult) -> dict[str, np.ndarray]:
    out = {name: np.asarray(array).copy() for name, array in result.store.arrays.items()}
    out["flow_sum"] = result.store.flow_sum.copy()
    return out


@pytest.fixture(scope="module")
def reference() -> dict[str, np.ndarray]:
    return _arrays(sim.run(_scenario(), runs=RUNS, seed=11, workers=1))


def _same(result: sim.RunResult, reference: dict[str, np.ndarray]) -> None:
    got = _arrays(result)
    assert set(got) == set(reference)
    for name, values in reference.items():
        assert np.array_equal(got[name], values, equal_nan=True), name


def test_local_processes_give_the_numbers_of_one_process(reference: dict[str, np.ndarray]) -> None:
    _same(sim.run(_scenario(), runs=RUNS, seed=11, executor=LocalProcesses(2)), reference)


def test_a_dask_local_cluster_gives_the_numbers_of_one_process(reference: dict[str, np.ndarray]) -> None:
    _same(sim.run(_scenario(), runs=RUNS, seed=11, executor=Dask(local=2)), reference)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _dask_command() -> list[str]:
    """The `dask` command that dask.distributed installs beside this Python."""
    found = shutil.which("dask", path=str(Path(sys.executable).parent)) or shutil.which("dask")
    assert found, "the dask command (installed with dask.distributed) is missing"
    return [found]


@pytest.fixture
def scheduler() -> Iterator[str]:
    """A `dask scheduler` and a `dask worker` (two processes) on localhost, as a cluster would have them."""
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    commands = [["scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
                ["worker", address, "--nworkers", "2", "--nthreads", "1", "--no-dashboard"]]
    quiet = subprocess.DEVNULL
    processes = [subprocess.Popen([*_dask_command(), *args], stdout=quiet, stderr=quiet) for args in commands]
    try:
        from distributed import Client

        with Client(address, timeout=60) as client:
            client.wait_for_workers(2, timeout=60)
        yield address
    finally:
        for process in reversed(processes):
            process.terminate()
        for process in processes:
            process.wait(timeout=30)


def test_a_dask_scheduler_and_workers_started_as_processes_give_the_same_numbers(
        reference: dict[str, np.ndarray], scheduler: str) -> None:
    _same(sim.run(_scenario(), runs=RUNS, seed=11, executor=Dask(address=scheduler)), reference)


# --- a worker lost mid-batch ----------------------------------------------------------------------

def _square_or_die(folder: str, task: int) -> tuple[int, int]:
    """Task 5's first attempt kills its worker process (as a lost machine would); later ones compute."""
    mark = Path(folder) / "died-once"
    if task == 5 and not mark.exists():
        mark.write_text(str(os.getpid()))
        os._exit(1)
    return task, task * task


def test_a_dask_worker_lost_mid_batch_is_retried_with_the_same_result(tmp_path: Path) -> None:
    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    try:
        work: Work[int, tuple[int, int]] = Work(str(tmp_path), _identity, _square_or_die)
        results = [r for chunk in Dask(local=2).run(work, list(range(40))) for r in chunk]
    finally:
        cloudpickle.unregister_pickle_by_value(sys.modules[__name__])
    assert (tmp_path / "died-once").exists()  # a worker did die
    assert sorted(results) == [(i, i * i) for i in range(40)]


# --- the window -----------------------------------------------------------------------------------

class _Counting:
    """Tasks handed out, for a check of how far ahead of the results an executor reads them."""

    def __init__(self, n: int) -> None:
        self.n, self.taken = n, 0

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, index: slice) -> list[int]:
        items = list(range(self.n))[index]
        self.taken = max(self.taken, index.stop if index.stop is not None else self.n)
        return items


def _identity(payload: Any) -> Any:
    return payload


def _slow_square(_: Any, task: int) -> int:
    time.sleep(0.002)
    return task * task


def test_local_processes_keep_a_bounded_window_of_work_in_flight() -> None:
    """When the first results arrive, at most WINDOW chunks per worker have been handed out."""
    tasks = _Counting(2000)
    size = chunk_size(len(tasks), 2)
    run = LocalProcesses(2).run(Work(None, _identity, _slow_square), tasks)  # type: ignore[arg-type]
    first = next(run)
    assert len(first) == size
    assert tasks.taken <= (WINDOW * 2 + 1) * size
    rest = [r for chunk in run for r in chunk]
    assert sorted(first + rest) == [i * i for i in range(2000)]


def test_in_process_runs_tasks_in_order() -> None:
    work: Work[int, int] = Work(None, _identity, _slow_square)
    assert [r for chunk in InProcess().run(work, [3, 1, 2]) for r in chunk] == [9, 1, 4]
