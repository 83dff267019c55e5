"""Where a batch's replications run: in this process, in local worker processes, or on a
dask.distributed cluster, with the same numbers everywhere.

A batch hands an executor its `Work`: a payload built once (the prepared model, pilot included)
and shipped once to each worker, and a step that turns one task (a replication's index) into its
result. Every result depends on its task alone, never on where or in which order it ran, so any
executor gives the numbers of any other. Only a bounded window of tasks is in flight at a time
and each result is handed on as soon as it arrives, so memory stays flat however many
replications a batch has. Stopped early (Ctrl-C, SIGTERM, an error), an executor cancels what is
queued and stops its workers before it returns; a local worker whose parent dies exits too.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import multiprocessing
import os
import pickle
import signal
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from itertools import islice
from typing import Any, Generic, Protocol, TypeVar

T = TypeVar("T")
R = TypeVar("R")

WINDOW = 3
"""Chunks in flight per worker: enough to keep every worker busy while results come back."""
MAX_CHUNK = 16
"""The most tasks in one chunk: small enough that progress and interrupts stay prompt."""


@dataclass(frozen=True)
class Work(Generic[T, R]):
    """What a batch asks of an executor: `build(payload)` once per process, then `step(state,
    task)` for each task. Both are module-level functions, so they travel to workers by name."""

    payload: Any
    build: Callable[[Any], Any]
    step: Callable[[Any, T], R]
    key: str = field(default_factory=lambda: uuid.uuid4().hex)
    """Names the payload in a worker's cache: each Work is built once in each process."""


class Executor(Protocol):
    """Runs a batch's tasks and yields their results as they finish (in any order)."""

    workers: int
    """How many tasks run at once (for the chunk size and the progress estimate)."""

    def run(self, work: Work[T, R], tasks: Sequence[T]) -> Iterator[list[R]]:
        """The results of `tasks`, a chunk at a time; closing the iterator stops the work."""
        ...

    def describe(self) -> str:
        """Where the work runs, for the run record: 'this process', '2 local processes', …"""
        ...


def chunk_size(tasks: int, workers: int) -> int:
    """Tasks per chunk: about four chunks a worker, at most `MAX_CHUNK`."""
    return max(1, min(MAX_CHUNK, tasks // (workers * 4)))


def chunks(tasks: Sequence[T], size: int) -> Iterator[list[T]]:
    """`tasks` in consecutive lists of `size` (the last may be shorter)."""
    for a in range(0, len(tasks), size):
        yield list(tasks[a:a + size])


_STATE: dict[str, Any] = {}
"""A worker's built payload, by key (only the latest is kept)."""


def _state(work: Work[Any, Any]) -> Any:
    if work.key not in _STATE:
        _STATE.clear()
        _STATE[work.key] = work.build(work.payload)
    return _STATE[work.key]


def _run_chunk(step: Callable[[Any, T], R], key: str, chunk: list[T]) -> list[R]:
    state = _STATE[key]
    return [step(state, task) for task in chunk]


@dataclass
class InProcess:
    """Every task in this process, in order."""

    workers: int = 1

    def run(self, work: Work[T, R], tasks: Sequence[T]) -> Iterator[list[R]]:
        state = work.build(work.payload)
        for task in tasks:
            yield [work.step(state, task)]

    def describe(self) -> str:
        return "this process"


def _watch_parent(parent: int) -> None:
    """Exit this worker as soon as the process that started it is gone (killed, even by SIGKILL)."""
    while True:
        if os.getppid() != parent:
            os._exit(1)
        time.sleep(0.5)


def _init_local(work: Work[Any, Any], parent: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C and stops the workers
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()
    _state(work)


@dataclass
class LocalProcesses:
    """Tasks in `workers` local processes, each built once from the payload."""

    workers: int

    def run(self, work: Work[T, R], tasks: Sequence[T]) -> Iterator[list[R]]:
        todo = chunks(tasks, chunk_size(len(tasks), self.workers))
        before = set(multiprocessing.active_children())
        pool = ProcessPoolExecutor(max_workers=self.workers, initializer=_init_local,
                                   initargs=(work, os.getpid()))
        pending: set[Future[list[R]]] = set()
        finished = False
        try:
            for chunk in islice(todo, WINDOW * self.workers):
                pending.add(pool.submit(_run_chunk, work.step, work.key, chunk))
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    results = future.result()
                    for chunk in islice(todo, 1):
                        pending.add(pool.submit(_run_chunk, work.step, work.key, chunk))
                    yield results
            finished = True
        finally:
            if finished:
                pool.shutdown(wait=True)
            else:
                pool.shutdown(wait=False, cancel_futures=True)
                stop_children(before)

    def describe(self) -> str:
        return f"{self.workers} local processes"


def stop_children(keep: set[multiprocessing.process.BaseProcess]) -> None:
    """Terminate this process's child processes except `keep`, and wait for them (briefly)."""
    children = [p for p in multiprocessing.active_children() if p not in keep]
    for child in children:
        child.terminate()
    for child in children:
        child.join(timeout=5)
        if child.is_alive():
            child.kill()


def _built_chunk(work: Work[T, R], chunk: list[T]) -> list[R]:
    """A chunk run by a worker that may not have built `work` yet (it travels with each chunk)."""
    state = _state(work)
    return [work.step(state, task) for task in chunk]


_KEPT: OrderedDict[str, Any] = OrderedDict()
"""A standing worker's built payloads, by key (the few latest: a page may switch between scenarios)."""
KEPT_WORKS = 4


def _standing_chunk(key: str, blob: bytes, chunk: list[Any]) -> list[Any]:
    """A chunk run by a standing worker: the Work travels pickled (cheap to send again) and is
    unpickled and built only the first time this worker meets its key."""
    if key not in _KEPT:
        work = pickle.loads(blob)
        _KEPT[key] = (work, work.build(work.payload))
        while len(_KEPT) > KEPT_WORKS:
            _KEPT.popitem(last=False)
    _KEPT.move_to_end(key)
    work, state = _KEPT[key]
    return [work.step(state, task) for task in chunk]


def _import(modules: Sequence[str]) -> None:
    for name in modules:
        importlib.import_module(name)


def _init_standing(parent: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()


class Standing:
    """Tasks in `workers` local processes that outlive each batch, for many small batches in a
    row (an interactive page): started once (spawned, so a threaded parent is safe to start them
    from), each builds a Work the first time a task of it arrives. Tasks go one at a time with
    one more queued than there are workers, so a batch closed early (a new question) leaves at
    most one task a worker to finish; the workers stay for the next; `close()` stops them."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self._pool: ProcessPoolExecutor | None = None
        self._before: set[multiprocessing.process.BaseProcess] = set()
        self._blobs: OrderedDict[str, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def _started(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._pool is None:
                self._before = set(multiprocessing.active_children())
                self._pool = ProcessPoolExecutor(max_workers=self.workers,
                                                 mp_context=multiprocessing.get_context("spawn"),
                                                 initializer=_init_standing, initargs=(os.getpid(),))
            return self._pool

    def start(self, *modules: str) -> None:
        """Start the workers now, each importing `modules`, so that the first batch finds them
        ready (a spawned worker takes a second or two to import the numerical libraries)."""
        pool = self._started()
        for _ in range(self.workers):
            pool.submit(_import, modules)

    def _blob(self, work: Work[Any, Any]) -> bytes:
        with self._lock:
            if work.key not in self._blobs:
                self._blobs[work.key] = pickle.dumps(work)
                while len(self._blobs) > KEPT_WORKS:
                    self._blobs.popitem(last=False)
            return self._blobs[work.key]

    def run(self, work: Work[T, R], tasks: Sequence[T]) -> Iterator[list[R]]:
        pool, blob = self._started(), self._blob(work)
        todo = iter(tasks)
        pending = {pool.submit(_standing_chunk, work.key, blob, [task])
                   for task in islice(todo, self.workers + 1)}
        try:
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    results = future.result()
                    for task in islice(todo, 1):
                        pending.add(pool.submit(_standing_chunk, work.key, blob, [task]))
                    yield results
        finally:
            for future in pending:
                future.cancel()

    def close(self) -> None:
        """Stop the workers (a standing pool not closed is stopped when its process exits)."""
        with self._lock:
            if self._pool is not None:
                self._pool.shutdown(wait=False, cancel_futures=True)
                stop_children(self._before)
                self._pool = None

    def describe(self) -> str:
        return f"{self.workers} standing local processes"


@dataclass
class Dask:
    """Tasks on a dask.distributed cluster: an existing scheduler at `address`, or a LocalCluster
    of `local` worker processes started for the batch. A task whose worker is lost is run again
    elsewhere by the scheduler, with the same result, since a result depends on its task alone."""

    address: str | None = None
    local: int | None = None
    workers: int = 1

    def run(self, work: Work[T, R], tasks: Sequence[T]) -> Iterator[list[R]]:
        from distributed import Client, LocalCluster, as_completed

        cluster = (LocalCluster(n_workers=self.local, threads_per_worker=1, processes=True,
                                dashboard_address=None, silence_logs=logging.ERROR) if self.local else None)
        client = Client(cluster if cluster is not None else self.address, set_as_default=False)
        live: set[Any] = set()
        try:
            self.workers = max(1, sum(client.nthreads().values()))
            todo = chunks(tasks, chunk_size(len(tasks), self.workers))
            shipped = client.scatter(work, broadcast=True, hash=False)
            live = {client.submit(_built_chunk, shipped, chunk, pure=False)
                    for chunk in islice(todo, WINDOW * self.workers)}
            with client.as_current():
                flow = as_completed(live)
            for future in flow:
                results = future.result()
                live.discard(future)
                future.release()
                for chunk in islice(todo, 1):
                    following = client.submit(_built_chunk, shipped, chunk, pure=False)
                    live.add(following)
                    flow.add(following)
                yield results
        finally:
            with contextlib.suppress(Exception):  # a cluster already gone has nothing to cancel
                client.cancel(list(live))
            client.close()
            if cluster is not None:
                cluster.close()

    def describe(self) -> str:
        return f"a local Dask cluster of {self.local} processes" if self.local else f"Dask at {self.address}"


def executor_for(workers: int, tasks: int, given: Executor | None = None) -> Executor:
    """`given` when there is one; else this process for one worker or one task, else local
    processes (never more than tasks)."""
    if given is not None:
        return given
    if workers <= 1 or tasks <= 1:
        return InProcess()
    return LocalProcesses(min(workers, tasks))
