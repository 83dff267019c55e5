"""What the page asks and what it is told, without web code: the scenarios on offer, each one's
prepared what-if (made once, its base runs kept), and each open page's current question, answered
in a thread of its own while the page polls.

A page asks with the lever values it shows; a new question supersedes the page's last one (its
runs stop as soon as their chunk is in), so a slider dragged through ten values costs about one
answer. All pages share one standing pool of worker processes.
"""

from __future__ import annotations

import itertools
import logging
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sim.batch.executors import Standing
from sim.batch.points import Values
from sim.batch.whatif import MOST_RUNS, Answer, Lever, WhatIf
from sim.contract.schema import Scenario
from sim.serve.export import ReportJob, report_folder, save_overlay

LOG = logging.getLogger("caseflow")


@dataclass
class Reply:
    """A page's current state: the answer so far (None until the first), a refusal, an error."""

    asked: int
    """Which question this replies to (each question a page asks has a new number)."""
    answer: Answer | None = None
    refusal: str = ""
    """The scenario contract's message when it refuses the values (nothing is run)."""
    error: str = ""
    """Something failed while running (the page says so; the server goes on)."""
    working: bool = True


@dataclass
class _Question:
    key: str
    point: Values
    reply: Reply
    stop: threading.Event = field(default_factory=threading.Event)


class Desk:
    """The scenarios a page may pick (by key: the file's stem), their what-ifs and the pages'
    questions: `offered` gives each scenario file with the scenario loaded from it (the command
    line has loaded them to refuse a bad file before anything starts). `seed` None uses each
    scenario's own seed (else 1)."""

    def __init__(self, offered: Sequence[tuple[Path, Scenario]], outputs: Path, workers: int = 2,
                 seed: int | None = None, first: int = 8, most: int = MOST_RUNS) -> None:
        self.files: dict[str, Path] = {}
        self.scenarios: dict[str, Scenario] = {}
        for path, scenario in offered:
            key = path.stem
            n = 1
            while key in self.files:
                n += 1
                key = f"{path.stem}-{n}"
            self.files[key] = path
            self.scenarios[key] = scenario
        if not self.files:
            raise ValueError("no scenario to offer: give at least one scenario file")
        self.outputs = outputs
        self.seed = seed
        self.first, self.most = first, most
        self.pool = Standing(workers)
        self.pool.start("sim.batch.whatif")  # the workers import while the first scenario is prepared
        self._whatifs: dict[str, WhatIf] = {}
        self._questions: dict[str, _Question] = {}
        self._reports: dict[str, ReportJob] = {}
        self._numbers = itertools.count(1)
        self._lock = threading.Lock()
        self._building: dict[str, threading.Lock] = {key: threading.Lock() for key in self.files}

    def seed_of(self, key: str) -> int:
        scenario = self.scenarios[key]
        return self.seed if self.seed is not None else (scenario.seed if scenario.seed is not None else 1)

    def whatif(self, key: str) -> WhatIf:
        """The scenario's what-if, prepared the first time it is asked for (its pilot run)."""
        with self._building[key]:
            if key not in self._whatifs:
                LOG.info("preparing %s", self.scenarios[key].name)
                self._whatifs[key] = WhatIf(self.scenarios[key], self.seed_of(key), self.pool,
                                            first=self.first, most=self.most)
            return self._whatifs[key]

    def levers(self, key: str) -> list[Lever]:
        return self.whatif(key).levers

    def warm(self, key: str) -> None:
        """Prepare the scenario and run its base's first answer now (the workers start with it),
        in the background, so that the first page to open it is answered at once."""
        threading.Thread(target=lambda: self.whatif(key).answer((), self.first), daemon=True).start()

    def ask(self, page: str, key: str, values: Mapping[str, float]) -> Reply:
        """Put the page's new question: the scenario `key` with `values` at its levers. The reply
        says at once whether the contract refuses the values; the runs go on in the background."""
        whatif = self.whatif(key)
        point = whatif.point(values)
        with self._lock:
            before = self._questions.get(page)
            if before is not None:
                if before.key == key and before.point == point and not before.reply.error:
                    return before.reply  # the same question again: keep its runs going
                before.stop.set()
            question = _Question(key, point, Reply(next(self._numbers)))
            self._questions[page] = question
        refusal = whatif.refusal(point)
        if refusal is not None:
            question.reply.refusal, question.reply.working = refusal, False
            return question.reply
        threading.Thread(target=self._answer, args=(whatif, question), daemon=True).start()
        return question.reply

    def _answer(self, whatif: WhatIf, question: _Question) -> None:
        reply = question.reply
        try:
            for found in whatif.answers(question.point, stop=question.stop.is_set):
                reply.answer = found
                if question.stop.is_set():
                    break
        except Exception as exc:  # the page says what failed and the server keeps serving
            LOG.exception("answering %s", question.point)
            reply.error = f"{type(exc).__name__}: {exc}"
        finally:
            reply.working = False

    def reply(self, page: str) -> Reply | None:
        """The page's current reply (None before its first question)."""
        with self._lock:
            question = self._questions.get(page)
        return None if question is None else question.reply

    def point(self, page: str) -> tuple[str, Values] | None:
        """The scenario and values of the page's current question."""
        with self._lock:
            question = self._questions.get(page)
        return None if question is None else (question.key, question.point)

    def save(self, key: str, name: str, values: Mapping[str, float]) -> Path:
        """Save the variant as an overlay under outputs/whatif/ (ExportError when it does not load)."""
        point = self.whatif(key).point(values)
        return save_overlay(self.files[key], self.outputs, name, dict(point))

    def report(self, page: str, key: str, name: str, values: Mapping[str, float]) -> ReportJob:
        """Save the variant and start its full report (`caseflow run` with the page's seed and
        most runs) in a run folder under outputs/; a page's earlier report still running is stopped."""
        overlay = self.save(key, name, values)
        with self._lock:
            earlier = self._reports.get(page)
            if earlier is not None:
                earlier.stop()
            job = ReportJob(overlay, report_folder(self.outputs, name), self.most, self.seed_of(key)).start()
            self._reports[page] = job
        return job

    def report_job(self, page: str) -> ReportJob | None:
        with self._lock:
            return self._reports.get(page)

    def close(self) -> None:
        """Stop every question, report and worker."""
        with self._lock:
            for question in self._questions.values():
                question.stop.set()
            for job in self._reports.values():
                job.stop()
        self.pool.close()
