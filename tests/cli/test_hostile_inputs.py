"""Hostile inputs through the command line, for every verb: each gets a clear answer.

Each case runs in a folder of its own and checks the exit status (1 for a refusal, 2 for an
option click refuses), the words of the message on standard error (a refusal: nothing on
standard output, one line a problem), that no traceback is printed, that nothing in the folder is
written or changed, and that it ends within `TIMEOUT` (a hang, an endless read or an unbounded
expansion fails the case instead of hanging the suite).

Every case runs in-process, through typer's `CliRunner` in the case's folder, with SIGALRM as
its time bound: a fresh interpreter costs 1-3 s of start-up and imports a case, while in one
process the imports are paid once and most cases take a few milliseconds. An uncaught exception
(what a process would print as a traceback) is then `result.exception`, and must not be. The
first case of each verb also runs the installed `caseflow` in a process of its own, as a user
does: that is what sees the real standard error, exit status and absence of a traceback, and
what `CliRunner` cannot stage (the console script's entry point, a warning printed to standard
error, the real streams' encoding).

No case needs a process of its own: pipes and devices are refused by their file type before any
read, and nothing an invocation leaves behind (log handlers, signal handlers, caches, the working
folder) changes the next one's answer.

The tests after them stage in-process what a process cannot (a read-only disk, a full disk, an
interrupt at a chosen point); a Ctrl-C during start-up ends with one line and exit 130.
"""

from __future__ import annotations

import collections
import copy
import errno
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

import sim
from sim.batch.runfolder import write_run
from sim.cli.app import app
from sim.reports.build import write_reports

TIMEOUT = 120
"""Seconds a case may take: every case ends in about 2 s on 2 cores in a process of its own (well
under 1 s in-process), so this never flakes, while an input that hangs or grows without bound is
stopped and fails."""

COMMAND = Path(sys.executable).with_name("caseflow")

SCENARIO: dict[str, Any] = {
    "name": "Fjendtlig kommune 2019",
    "start": "2019-01-01",
    "months": 12,
    "seed": 3,
    "states": {"a_dagpenge": {}, "sygedagpenge": {}},
    "initial": {"a_dagpenge": 100, "sygedagpenge": 50},
    "inflow_per_week": {"a_dagpenge": 4, "sygedagpenge": 5},
    "transitions": {
        "a_dagpenge": [{"to": "job", "rate_per_week": 0.04}],
        "sygedagpenge": [{"to": "job", "mean_weeks": 10}, {"to": "a_dagpenge", "at_week": 30, "share": 0.2},
                         {"to": "other", "at_week": 30, "share": "rest"}],
    },
    "targets": [{"name": "Syg højst 60", "states": ["sygedagpenge"], "year": 2019, "at_most": 60}],
    "observed": [{"period": 2018, "state": "total", "value": 150}],
}


def text(**changes: Any) -> str:
    """The scenario as YAML, with top-level blocks replaced."""
    data = copy.deepcopy(SCENARIO)
    data.update(changes)
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


GOOD = text()


def edited(old: str, new: str) -> str:
    assert old in GOOD, old
    return GOOD.replace(old, new)


def routes(origin: str, listed: list[dict[str, Any]]) -> str:
    return text(transitions={**SCENARIO["transitions"], origin: listed})


def alias_bomb() -> str:
    lines = ['a0: &a0 ["x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 9)]
    return "\n".join(lines) + "\n"


# --- the cases ------------------------------------------------------------------------------------

Setup = Callable[[Path], None]


@dataclass(frozen=True)
class Case:
    """One hostile command: what to put in its folder, the arguments, the exit status and the
    fragments its message must hold."""

    args: tuple[str, ...]
    setup: Setup
    code: int
    words: tuple[str, ...]
    lines: int = 1
    """Lines of a refusal: one per problem."""


def files(**contents: str | bytes) -> Setup:
    """Write each file (name → text or bytes); '__' in a name stands for '/' (a subfolder)."""
    def setup(tmp: Path) -> None:
        for name, content in contents.items():
            path = tmp / name.replace("__", "/")
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                path.write_bytes(content)
            else:
                path.write_text(content, encoding="utf-8")
    return setup


def good(**more: str | bytes) -> Setup:
    return files(**{"good.yaml": GOOD, **more})


def fifo(name: str) -> Setup:
    def setup(tmp: Path) -> None:
        os.mkfifo(tmp / name)
        good()(tmp)
    return setup


def link(name: str, target: str) -> Setup:
    def setup(tmp: Path) -> None:
        good()(tmp)
        (tmp / name).symlink_to(target)
    return setup


def sparse(name: str, size: int) -> Setup:
    def setup(tmp: Path) -> None:
        with (tmp / name).open("wb") as f:
            f.truncate(size)
    return setup


def run_copy(change: Callable[[Path], None] | None = None, name: str = "run") -> Setup:
    """A copy of the module's run folder (reports included), changed by hand."""
    def setup(tmp: Path) -> None:
        shutil.copytree(RUN_FOLDER[0], tmp / name)
        if change is not None:
            change(tmp / name)
    return setup


def comparison_copy(change: Callable[[Path], None]) -> Setup:
    def setup(tmp: Path) -> None:
        shutil.copytree(COMPARISON_FOLDER[0], tmp / "pair")
        change(tmp / "pair")
    return setup


def write(name: str, content: str | bytes) -> Callable[[Path], None]:
    def change(folder: Path) -> None:
        path = folder / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return change


def sub(name: str, pattern: str, new: str, count: int = 1) -> Callable[[Path], None]:
    def change(folder: Path) -> None:
        path = folder / name
        before = path.read_text(encoding="utf-8")
        after = re.sub(pattern, new, before, count=count, flags=re.M)
        assert after != before, (name, pattern)
        path.write_text(after, encoding="utf-8")
    return change


def lines_of(name: str, keep: Callable[[list[str]], list[str]]) -> Callable[[Path], None]:
    def change(folder: Path) -> None:
        path = folder / name
        path.write_text("\n".join(keep(path.read_text(encoding="utf-8").splitlines())) + "\n",
                        encoding="utf-8")
    return change


def remove(name: str) -> Callable[[Path], None]:
    return lambda folder: (folder / name).unlink()


def remove_tree(name: str) -> Callable[[Path], None]:
    return lambda folder: shutil.rmtree(folder / name)


def array(name: str, shape: tuple[int, ...]) -> Callable[[Path], None]:
    """Put an .npy array of zeros of `shape` in place of `name`."""
    return lambda folder: np.save(folder / name, np.zeros(shape))


def pipe(name: str) -> Callable[[Path], None]:
    return lambda folder: os.mkfifo(folder / name)


def both(*setups: Setup) -> Setup:
    """Each setup in turn, in one folder."""
    def setup(tmp: Path) -> None:
        for one in setups:
            one(tmp)
    return setup


def chain(levels: int) -> Setup:
    """good.yaml and l1.yaml … l<levels>.yaml, each an overlay of the one before."""
    bases = ["good.yaml", *(f"l{i}.yaml" for i in range(1, levels))]
    return good(**{f"l{i}.yaml": f"extends: {base}\n" for i, base in enumerate(bases, start=1)})


LONG = "a" * 300
FIVE_MB = 5_000_000
NOT_A_RUN = "run the scenario again to write a complete folder"
OUT = "give --out a new or empty folder you can write to"
FIT = ("--fit", "2019", "--test", "2020")

TINY_CLOCKS = text(transitions={"a_dagpenge": [{"to": "sygedagpenge", "at_week": 0.000001, "share": 1}],
                                "sygedagpenge": [{"to": "a_dagpenge", "at_week": 0.000001, "share": 1}]})
MANY_STATES = text(states={**SCENARIO["states"], **{f"s{i}": {"group": "dagpenge"} for i in range(10_000)}})
MANY_ROUTES = routes("a_dagpenge", [{"to": "job", "rate_per_week": 0.001} for _ in range(101)])
MANY_BANDS = routes("a_dagpenge", [{"to": "job", "rate_per_week": [[w, 0.01] for w in range(521)]}])
HAIR_OVER_1 = routes("sygedagpenge", [{"to": "job", "mean_weeks": 10},
                                      {"to": "a_dagpenge", "at_week": 30, "share": 0.5000001},
                                      {"to": "other", "at_week": 30, "share": 0.5}])
OBSERVED_TWICE = text(observed=[{"period": 2018, "state": "total", "value": 150},
                                {"period": 2018, "state": "total", "measure": "full_year_persons",
                                 "value": 140}])
BIG_STOCK = text(initial={"a_dagpenge": 1_500_000, "sygedagpenge": 1_500_000})
BIG_INFLOW = text(inflow_per_week={"a_dagpenge": 30_000, "sygedagpenge": 30_000})
NEGATIVE_COUNT = text(observed=[{"period": 2018, "state": "total", "measure": "inflow_count", "value": -3}])
ELSEWHERE = text(name="Et andet sted 2019", states={"ressourceforloeb": {}}, initial={"ressourceforloeb": 30},
                 inflow_per_week={}, transitions={"ressourceforloeb": [{"to": "job", "rate_per_week": 0.01}]},
                 targets=[], observed=[])
SAVED = "error: BASE_RUN_DIR "


def without_column(i: int) -> Callable[[list[str]], list[str]]:
    return lambda rows: [",".join(c for j, c in enumerate(r.split(",")) if j != i) for r in rows]


def probability_of_first_target(value: str) -> Callable[[list[str]], list[str]]:
    return lambda rows: [rows[0], re.sub(r",at_most,([^,]*),([^,]*),", rf",at_most,\1,{value},", rows[1])]


def base_mean_of_first_row(value: str) -> Callable[[list[str]], list[str]]:
    return lambda rows: [rows[0], re.sub(r"^(target,[^,]*,[^,]*,)[^,]*", rf"\g<1>{value}", rows[1]),
                         *rows[2:]]


def _case(args: str | tuple[str, ...], setup: Setup, code: int, *words: str, lines: int = 1) -> Case:
    return Case(tuple(args.split()) if isinstance(args, str) else args, setup, code, words, lines)


CASES: dict[str, Case] = {
    # validate: what YAML itself allows
    "validate-alias-bomb": _case("validate bomb.yaml", files(**{"bomb.yaml": alias_bomb()}), 1,
                                 "bomb.yaml:1: (top level): unsupported YAML: anchors and aliases"),
    "validate-one-alias": _case("validate a.yaml", files(**{"a.yaml": edited("a_dagpenge: 100",
                                                                             "a_dagpenge: &n 100")}),
                                1, "anchors and aliases (&name, *name) are not read"),
    "validate-deep-nesting": _case("validate deep.yaml",
                                   files(**{"deep.yaml": "name: " + "[" * 50_000 + "]" * 50_000 + "\n"}), 1,
                                   "nesting deeper than 20 levels is not read"),
    "validate-fifo": _case("validate pipe.yaml", fifo("pipe.yaml"), 1,
                           "pipe.yaml: (top level): is not a regular file (a pipe, device or socket)"),
    "validate-dev-zero": _case("validate /dev/zero", good(), 1,
                               "/dev/zero: (top level): is not a regular file"),
    "validate-huge-file": _case("validate huge.yaml", sparse("huge.yaml", 3 * FIVE_MB), 1,
                                "huge.yaml: (top level): is 15.0 MB, more than the 5 MB a YAML file"),
    "validate-binary-tag": _case("validate b.yaml", files(**{"b.yaml": GOOD + "label: !!binary aGk=\n"}), 1,
                                 "the tag '!!binary' is not allowed"),
    "validate-python-tag": _case("validate p.yaml", files(**{"p.yaml": "name: !!python/name:os.system\n"}), 1,
                                 "the tag '!!python/name:os.system' is not allowed"),
    "validate-merge-key": _case("validate m.yaml", files(**{"m.yaml": GOOD + "<<: {months: 6}\n"}), 1,
                                "merge keys (<<) are not allowed"),
    "validate-complex-key": _case("validate k.yaml", files(**{"k.yaml": "? [a, b]\n: 1\n"}), 1,
                                  "a key is a list or a mapping"),
    "validate-not-utf8": _case("validate l1.yaml", files(**{"l1.yaml": "name: Tårnby\n".encode("latin-1")}),
                               1,
                               "is not UTF-8 text (invalid continuation byte at byte 7)", "as UTF-8"),
    "validate-a-folder": _case("validate sub", files(**{"sub__x.txt": "x"}), 1,
                               "sub: (top level): is a folder"),
    "validate-missing": _case("validate nowhere.yaml", good(), 1, "no such file"),
    # validate: values
    "validate-feb-30": _case("validate d.yaml", files(**{"d.yaml": edited("'2019-01-01'", "2018-02-30")}), 1,
                             "d.yaml:2: start: '2018-02-30' is not a date: February 2018 has 28 days"),
    "validate-month-13": _case("validate d.yaml", files(**{"d.yaml": edited("'2019-01-01'", "2020-13-45")}),
                               1,
                               "start: '2020-13-45' is not a date: there is no month 13"),
    "validate-year-9999": _case("validate d.yaml", files(**{"d.yaml": edited("'2019-01-01'",
                                                                             "9999-12-01")}), 1,
                                "start: 9999-12-01 is not allowed; the horizon starts in a year from 1950"),
    "validate-1e300": _case("validate n.yaml", files(**{"n.yaml": edited("a_dagpenge: 4",
                                                                         "a_dagpenge: 1e300")}),
                            1, "a_dagpenge.rate: 1e+300 is not allowed; rate must be ≤ 50,000"),
    "validate-1e9-stock": _case("validate n.yaml", files(**{"n.yaml": edited("a_dagpenge: 100",
                                                                             "a_dagpenge: 1e9")}), 1,
                                "initial.a_dagpenge: 1000000000.0 is not allowed", "≤ 2,000,000"),
    "validate-5000-digits": _case("validate n.yaml", files(**{"n.yaml": edited("months: 12",
                                                                               "months: " + "9" * 5000)}),
                                  1, "is not a whole number; months must be a whole number from 1 to 600"),
    "validate-huge-rate": _case("validate r.yaml", files(**{"r.yaml": edited("0.04", "1.0e+6")}), 1,
                                "rate_per_week: 1000000.0 is above 7; a rate per week is at most 7"),
    "validate-tiny-mean-stay": _case("validate r.yaml", files(**{"r.yaml": edited("mean_weeks: 10",
                                                                                  "mean_weeks: 0.001")}), 1,
                                     "mean_weeks: 0.001 is below 0.1429; a mean stay is at least one day"),
    "validate-tiny-clock-cycle": _case("validate c.yaml", files(**{"c.yaml": TINY_CLOCKS}), 1,
                                       "transitions.a_dagpenge[0].at_week: 1e-06 weeks is less than a day",
                                       "transitions.sygedagpenge[0].at_week: 1e-06 weeks is less than a day",
                                       lines=2),
    "validate-10002-states": _case("validate s.yaml", files(**{"s.yaml": MANY_STATES}), 1,
                                   "10,002 states are more than the 100 allowed", "9.6 GB"),
    "validate-101-routes": _case("validate r.yaml", files(**{"r.yaml": MANY_ROUTES}), 1,
                                 "transitions.a_dagpenge: ",
                                 "101 routes are more than the 100 allowed out of one state"),
    "validate-521-bands": _case("validate r.yaml", files(**{"r.yaml": MANY_BANDS}), 1,
                                "521 bands are more than the 520 allowed"),
    "validate-shares-a-hair-over-1": _case("validate c.yaml", files(**{"c.yaml": HAIR_OVER_1}), 1,
                                           "clock shares at week 30 sum to 1.0000001, 1e-07 more than 1"),
    "validate-observed-twice": _case("validate o.yaml", files(**{"o.yaml": OBSERVED_TWICE}), 1,
                                     "observed[1]: period 2018, state total, measure full_year_persons is "
                                     "observed twice: here (140) and in observed[0] (150)"),
    "validate-negative-observed": _case("validate o.yaml", files(**{"o.yaml": NEGATIVE_COUNT}), 1,
                                        "observed[0].value: -3 is below 0", "never negative"),
    "validate-negative-stock": _case("validate i.yaml", files(**{"i.yaml": edited("a_dagpenge: 100",
                                                                                  "a_dagpenge: -100")}), 1,
                                     "initial.a_dagpenge: -100 is not allowed", "≥ 0"),
    "validate-stock-too-big": _case("validate i.yaml", files(**{"i.yaml": BIG_STOCK}), 1,
                                    "initial: ", "3,000,000 persons in all are more than the 2,000,000"),
    "validate-inflow-too-big": _case("validate i.yaml", files(**{"i.yaml": BIG_INFLOW}), 1,
                                     "inflow_per_week: ",
                                     "60,000 arrivals a week in all are more than the 50,000 allowed"),
    # run
    "run-alias-bomb": _case("run bomb.yaml --runs 2", files(**{"bomb.yaml": alias_bomb()}), 1,
                            "anchors and aliases"),
    "run-fifo": _case("run pipe.yaml --runs 2", fifo("pipe.yaml"), 1, "is not a regular file"),
    "run-out-is-a-file": _case("run good.yaml -n 2 --out taken", good(taken="keep"), 1,
                               "--out taken is a file, not a folder"),
    "run-out-not-empty": _case("run good.yaml -n 2 --out old", good(old__monthly_csv="keep"), 1,
                               "--out old exists and is not empty; a run never overwrites another"),
    "run-out-under-a-file": _case("run good.yaml -n 2 --out taken/run/x", good(taken="keep"), 1,
                                  "cannot create --out taken/run/x: taken is a file, not a folder", OUT),
    "run-out-dangling-link": _case("run good.yaml -n 2 --out gone", link("gone", "/nonexistent/caseflow"), 1,
                                   "cannot create --out gone: it exists and is not a folder", OUT),
    "run-out-in-proc": _case("run good.yaml -n 2 --out /proc/caseflow-run", good(), 1,
                             "cannot create --out /proc/caseflow-run: /proc takes no new folders", OUT),
    "run-out-name-too-long": _case(("run", "good.yaml", "-n", "2", "--out", f"x/{LONG}/y"), good(), 1,
                                   "cannot create --out x/aaaa", "(304 characters): a name in it is too long",
                                   OUT),
    "run-outputs-is-a-file": _case("run good.yaml -n 2", good(outputs="not a folder"), 1,
                                   "cannot create the run folder outputs/fjendtlig-kommune-2019-",
                                   "outputs is a file, not a folder", OUT),
    "run-runs-0": _case("run good.yaml --runs 0", good(), 2, "Invalid value for '--runs'"),
    "run-runs-a-million": _case("run good.yaml --runs 1000000", good(), 2, "Invalid value for '--runs'",
                                "100000"),
    "run-runs-text": _case("run good.yaml --runs many", good(), 2, "Invalid value for '--runs'"),
    "run-workers-0": _case("run good.yaml --workers 0", good(), 2, "Invalid value for '--workers'"),
    "run-workers-too-many": _case("run good.yaml --workers 100000", good(), 2,
                                  "Invalid value for '--workers'",
                                  "cores"),
    "run-seed-negative": _case("run good.yaml --seed -1", good(), 2, "Invalid value for '--seed'"),
    "run-lang-unknown": _case("run good.yaml --lang fr", good(), 2, "Invalid value for '--lang'"),
    "run-assumption-runs-0": _case("run good.yaml --assumption-runs 0", good(), 2,
                                   "Invalid value for '--assumption-runs'"),
    "run-no-scenario": _case("run", good(), 2,
                             "Invalid value for 'SCENARIO': missing: give a scenario file, or --resume"),
    "run-cluster-not-local": _case("run good.yaml --cluster remote:2", good(), 2,
                                   "'remote:2' is not local:N with N from 1 to"),
    "run-cluster-and-workers": _case("run good.yaml --cluster local:2 -w 2", good(), 2,
                                     "give one of --workers and --cluster"),
    "run-resume-and-runs": _case("run --resume good.yaml -n 5", good(), 2,
                                 "--resume completes a run as it was started: it takes no --runs"),
    "run-resume-a-file": _case("run --resume good.yaml", good(), 1, "good.yaml is not a folder"),
    "run-resume-not-a-run": _case("run --resume empty", files(**{"empty__x.txt": "x"}), 1,
                                  "is not the folder of a stopped run (it has no running.json)"),
    # compare
    "compare-bad-variant": _case("compare good.yaml v.yaml -n 2",
                                 good(**{"v.yaml": edited("'2019-01-01'", "2019-02-30")}), 1,
                                 "v.yaml:2: start: '2019-02-30' is not a date: February 2019 has 28 days"),
    "compare-missing-base": _case("compare nowhere.yaml good.yaml -n 2", good(), 1,
                                  "nowhere.yaml: (top level): no such file"),
    "compare-out-is-a-file": _case("compare good.yaml good.yaml -n 2 --out taken", good(taken="keep"), 1,
                                   "--out taken is a file, not a folder"),
    "compare-out-in-proc": _case("compare good.yaml good.yaml -n 2 --out /proc/x/y", good(), 1,
                                 "cannot create --out /proc/x/y: /proc takes no new folders"),
    "compare-runs-0": _case("compare good.yaml good.yaml --runs 0", good(), 2, "Invalid value for '--runs'"),
    # overlays and --set
    "validate-overlay-missing-base": _case(
        "validate v.yaml", files(**{"v.yaml": "extends: gone.yaml\n"}), 1,
        "v.yaml:1: extends: no base scenario 'gone.yaml': there is no gone.yaml"),
    "validate-overlay-cycle": _case("validate a.yaml", files(**{"a.yaml": "extends: b.yaml\n",
                                                                "b.yaml": "extends: a.yaml\n"}), 1,
                                    "b.yaml:1: extends: 'a.yaml' is a file of this chain again "
                                    "(a.yaml → b.yaml → a.yaml): a cycle"),
    "validate-overlay-too-deep": _case("validate l6.yaml", chain(6), 1,
                                       "l1.yaml:1: extends: 'good.yaml' would be base number 6 in a row",
                                       "an overlay may stack at most 5 bases"),
    "validate-overlay-base-fifo": _case(
        "validate v.yaml", both(fifo("pipe.yaml"), files(**{"v.yaml": "extends: pipe.yaml\n"})), 1,
        "v.yaml:1: extends: the base 'pipe.yaml' is not a regular file"),
    "validate-overlay-base-alias-bomb": _case(
        "validate v.yaml", files(**{"bomb.yaml": alias_bomb(), "v.yaml": "extends: bomb.yaml\n"}), 1,
        "bomb.yaml:1: (top level): unsupported YAML: anchors and aliases"),
    "validate-overlay-base-huge": _case(
        "validate v.yaml", both(sparse("huge.yaml", 3 * FIVE_MB),
                                files(**{"v.yaml": "extends: huge.yaml\n"})), 1,
        "extends: the base 'huge.yaml' is 15.0 MB, more than the 5 MB"),
    "validate-overlay-names-its-line": _case("validate v.yaml", good(**{
        "v.yaml": "extends: good.yaml\ninitial: {a_dagpenge: -5}\n"}), 1,
        "v.yaml:2: initial.a_dagpenge: -5 is not allowed"),
    "validate-overlay-set-no-path": _case("validate v.yaml", good(**{
        "v.yaml": "extends: good.yaml\nset: {transitions.a_dagpenge.jobb.rate_per_week: 1}\n"}), 1,
        "v.yaml:2: set.transitions.a_dagpenge.jobb.rate_per_week: 'transitions.a_dagpenge' has no entry "
        "'jobb'"),
    "run-set-no-path": _case("run good.yaml -n 2 --set nothing=3", good(), 1,
                             "--set: nothing: the scenario has no key 'nothing'"),
    "run-set-not-path-value": _case("run good.yaml -n 2 --set months", good(), 2, "Invalid value for '--set'",
                                    "'months' is not PATH=VALUE"),
    "run-set-a-list": _case(("run", "good.yaml", "-n", "2", "--set", "months=[1, 2]"), good(), 2,
                            "Invalid value for '--set'", "the value is a list"),
    "run-set-anchor": _case(("run", "good.yaml", "-n", "2", "--set", "months=&m 3"), good(), 2,
                            "cannot be read as YAML", "anchors and aliases"),
    "run-resume-and-set": _case("run --resume good.yaml --set months=3", good(), 2,
                                "--resume completes a run as it was started: it takes no --set"),
    "compare-set-no-path": _case("compare good.yaml good.yaml -n 2 --set initial.nobody=3", good(), 1,
                                 "--set: initial.nobody: 'initial' has no key 'nobody'"),
    "compare-nothing-in-common": _case(
        "compare good.yaml other.yaml -n 2", good(**{"other.yaml": ELSEWHERE}), 1,
        "'Fjendtlig kommune 2019' and 'Et andet sted 2019' have no target and no state in common"),
    # compare with a saved base
    "compare-saved-incomplete": _case("compare run good.yaml", both(good(), run_copy(write(
        "running.json", '{"status": "interrupted"}'))), 1,
        f"{SAVED}run is incomplete (it has running.json", "caseflow run --resume run"),
    "compare-saved-not-finished": _case(
        "compare run good.yaml", both(good(), run_copy(remove("run.json"))), 1,
        f"{SAVED}run is not a finished run's folder (it has no run.json)"),
    "compare-saved-run-json-garbled": _case("compare run good.yaml", both(good(), run_copy(write(
        "run.json", '{"seed": 1,'))), 1, f"{SAVED}run/run.json cannot be read as JSON"),
    "compare-saved-run-json-fifo": _case("compare run good.yaml", both(good(), run_copy(both(
        remove("run.json"), pipe("run.json")))), 1, f"{SAVED}run/run.json is not a regular file"),
    "compare-saved-other-version": _case("compare run good.yaml", both(good(), run_copy(sub(
        "run.json", r'"caseflow_version": "[^"]*"', '"caseflow_version": "0.0.1"'))), 1,
        f"{SAVED}run was run by caseflow 0.0.1 and this is", "would not pair"),
    "compare-saved-runs-differ": _case("compare run good.yaml --runs 5", both(good(), run_copy()), 1,
                                       f"{SAVED}--runs 5 differs from the 3 runs of run"),
    "compare-saved-seed-differ": _case("compare run good.yaml --seed 9", both(good(), run_copy()), 1,
                                       f"{SAVED}--seed 9 differs from the seed 3 of run"),
    "compare-saved-scenario-edited": _case("compare run good.yaml", both(good(), run_copy(sub(
        "scenario.yaml", r"^seed: 3$", "seed: 4"))), 1,
        f"{SAVED}run/scenario.yaml is not the scenario run/run.json was run with: the scenario was edited"),
    "compare-saved-scenario-alias": _case("compare run good.yaml", both(good(), run_copy(write(
        "scenario.yaml", alias_bomb()))), 1, "run/scenario.yaml:1: (top level): unsupported YAML: anchors"),
    "compare-saved-no-store": _case("compare run good.yaml", both(good(), run_copy(remove_tree("store"))), 1,
                                    f"{SAVED}run/store is missing"),
    "compare-saved-store-shape": _case("compare run good.yaml", both(good(), run_copy(array(
        "store/monthly.npy", (5, 3)))), 1,
        f"{SAVED}run/store/monthly.npy holds values of shape (5, 3), not the (1, 36, 32)"),
    "compare-saved-store-other-runs": _case("compare run good.yaml", both(good(), run_copy(array(
        "store/targets.npy", (2, 1, 32)))), 1,
        "targets.npy holds values of shape (2, 1, 32), not the (1, 1, 32)"),
    "compare-saved-store-fifo": _case(
        "compare run good.yaml", both(good(), run_copy(pipe("store/extra.npy"))), 1,
        f"{SAVED}run/store/extra.npy is not a regular file"),
    "compare-saved-comparison-folder": _case(
        "compare pair good.yaml", both(good(), comparison_copy(lambda _: None)), 1,
        f"{SAVED}pair is a comparison's folder; give the run folder of its base, pair/base"),
    "compare-saved-nothing-in-common": _case("compare run other.yaml", both(good(**{"other.yaml": ELSEWHERE}),
                                                                            run_copy()), 1,
                                             "have no target and no state in common"),
    # report
    "report-no-folder": _case("report nowhere", good(), 1, "nowhere is not a folder"),
    "report-a-file": _case("report good.yaml", good(), 1, "good.yaml is not a folder"),
    "report-name-too-long": _case(("report", LONG), good(), 1, "cannot be read: File name too long"),
    "report-run-json-missing": _case("report run", run_copy(remove("run.json")), 1,
                                     "run is not a complete run folder: run.json is missing"),
    "report-run-json-empty": _case("report run", run_copy(write("run.json", "")), 1,
                                   "run/run.json is empty", NOT_A_RUN),
    "report-run-json-garbled": _case("report run", run_copy(write("run.json", '{"seed": 1,')), 1,
                                     "run/run.json is not JSON"),
    "report-run-json-a-list": _case("report run", run_copy(write("run.json", "[1, 2]")), 1,
                                    "run/run.json holds list, not an object of run facts"),
    "report-run-json-runs-text": _case("report run", run_copy(sub("run.json", r'"runs": \d+',
                                                                  '"runs": "3"')), 1,
                                       "run/run.json: runs is '3'; it must be a whole number ≥ 1"),
    "report-scenario-empty": _case("report run", run_copy(write("scenario.yaml", "")), 1,
                                   "run/scenario.yaml holds nothing, not the scenario's mapping"),
    "report-scenario-garbled": _case("report run", run_copy(write("scenario.yaml", "name: [\n")), 1,
                                     "run/scenario.yaml is not the YAML a run writes"),
    "report-scenario-alias": _case("report run", run_copy(write("scenario.yaml", alias_bomb())), 1,
                                   "anchors and aliases"),
    "report-scenario-months-edited": _case("report run", run_copy(sub("scenario.yaml", r"^months: 12$",
                                                                      "months: 13")),
                                           1, "run/monthly.csv has 36 rows where the scenario has 13 months",
                                           "month 2020-01, state a_dagpenge is missing"),
    "report-scenario-states-text": _case("report run", run_copy(sub("scenario.yaml", r"^states:\n(  .*\n)+",
                                                                    "states: many\n")), 1,
                                         "states is 'many'; it must be a mapping of state codes"),
    "report-monthly-text-in-numbers": _case("report run", run_copy(sub("monthly.csv",
                                                                       r"^(2019-01,a_dagpenge,)"
                                                                       r"[0-9.e+-]+", r"\1lots")), 1,
                                            "run/monthly.csv: line 2: mean is 'lots', not a number"),
    "report-monthly-empty": _case("report run", run_copy(write("monthly.csv", "")), 1,
                                  "run/monthly.csv is empty"),
    "report-monthly-row-missing": _case("report run", run_copy(lines_of("monthly.csv", lambda x: x[:-1])), 1,
                                        "run/monthly.csv has 35 rows",
                                        "month 2019-12, state total is missing"),
    "report-monthly-row-twice": _case("report run", run_copy(lines_of("monthly.csv", lambda x: [*x, x[1]])),
                                      1,
                                      "run/monthly.csv: line 38 repeats month 2019-01, state a_dagpenge"),
    "report-monthly-column-missing": _case("report run", run_copy(lines_of("monthly.csv",
                                                                           without_column(3))), 1,
                                           "run/monthly.csv lacks the column sd"),
    "report-yearly-garbled": _case("report run", run_copy(write("yearly.csv", 'a,"b\n1,2\n')), 1,
                                   "run/yearly.csv is not a CSV table"),
    "report-targets-probability-above-1": _case("report run", run_copy(lines_of(
        "targets.csv", probability_of_first_target("7.5"))), 1,
        "run/targets.csv: line 2: probability_met is 7.5, outside [0, 1]"),
    "report-targets-not-utf8": _case("report run", run_copy(write("targets.csv", b"target\n\xff\xfe\n")), 1,
                                     "run/targets.csv is not UTF-8 text"),
    "report-targets-extra-row": _case("report run", run_copy(lines_of("targets.csv", lambda x: [*x, x[1]])),
                                      1,
                                      "run/targets.csv has 2 rows for the 1 target of scenario.yaml"),
    "report-lang-unknown": _case("report run --lang fr", run_copy(), 2, "Invalid value for '--lang'"),
    "report-comparison-differences-empty": _case("report pair", comparison_copy(write("differences.csv",
                                                                                      "")), 1,
                                                 "pair/differences.csv is empty"),
    "report-comparison-variant-broken": _case("report pair", comparison_copy(
        lambda p: write("run.json", "")(p / "variant")), 1, "pair/variant/run.json is empty"),
    "report-comparison-difference-text": _case("report pair", comparison_copy(lines_of(
        "differences.csv", base_mean_of_first_row("n/a"))), 1,
        "pair/differences.csv: line 2: base_mean is 'n/a', not a number"),
    # calibrate, backtest, import
    "calibrate-alias-bomb": _case("calibrate bomb.yaml", files(**{"bomb.yaml": alias_bomb()}), 1,
                                  "anchors and aliases"),
    "calibrate-fifo": _case("calibrate pipe.yaml", fifo("pipe.yaml"), 1, "is not a regular file"),
    "calibrate-no-block": _case("calibrate good.yaml", good(), 1, "has no calibrate: block"),
    "calibrate-bands-text": _case("calibrate --spells s.csv --bands x,y", files(**{"s.csv": "id,state\n"}), 1,
                                  "--bands 'x,y' is not a comma-separated list of weeks"),
    "calibrate-spells-missing": _case("calibrate --spells nowhere.csv", good(), 1,
                                      "nowhere.csv: no such file"),
    "calibrate-bands-decreasing": _case("calibrate --spells s.csv --bands 52,13",
                                        files(**{"s.csv": "id,state,start,end,to\n"}), 1,
                                        "band edges are weeks ≥ 0 in increasing order"),
    "calibrate-bands-negative": _case(("calibrate", "--spells", "s.csv", "--bands=-4,13"),
                                      files(**{"s.csv": "id,state,start,end,to\n"}), 1,
                                      "band edges are weeks ≥ 0 in increasing order"),
    "calibrate-spells-header-only": _case("calibrate --spells s.csv",
                                          files(**{"s.csv": "id,state,start,end,to\n"}), 1,
                                          "holds no spells (only a header)"),
    "calibrate-spells-fifo": _case("calibrate --spells pipe.csv", fifo("pipe.csv"), 1, "not a regular file"),
    "backtest-alias-bomb": _case(("backtest", "bomb.yaml", *FIT), files(**{"bomb.yaml": alias_bomb()}), 1,
                                 "anchors and aliases"),
    "backtest-no-block": _case(("backtest", "good.yaml", *FIT), good(), 1, "has no calibrate: block"),
    "backtest-fifo": _case(("backtest", "pipe.yaml", *FIT), fifo("pipe.yaml"), 1, "is not a regular file"),
    "backtest-runs-1": _case(("backtest", "good.yaml", *FIT, "--runs", "1"), good(), 2,
                             "Invalid value for '--runs'"),
    "validate-observed-measure-typo": _case("validate o.yaml", files(**{"o.yaml": text(observed=[
        {"period": 2018, "state": "total", "measure": "full_year_person", "value": 150}])}), 1,
        "observed[0].measure: unknown measure 'full_year_person'; did you mean 'full_year_persons'?"),
    "track-actuals-state-typo": _case("track good.yaml --actuals a.csv", good(**{
        "a.csv": "period,state,measure,value,source\n2019-01,a_dagpenge,full_year_persons,100,x\n"
                 "2019-01,sygedagpeng,full_year_persons,50,x\n"}), 1,
        "a.csv, row 3: unknown state 'sygedagpeng'; did you mean 'sygedagpenge'?"),
    "track-actuals-measure-typo": _case("track good.yaml --actuals a.csv", good(**{
        "a.csv": "period,state,measure,value,source\n2019-01,a_dagpenge,fullyear_persons,100,x\n"}), 1,
        "a.csv, row 2: unknown measure 'fullyear_persons'; did you mean 'full_year_persons'?"),
    "import-missing": _case("import jobindsats nowhere.csv --out obs.csv", good(), 1,
                            "nowhere.csv: no such file"),
    "import-garbled": _case("import jobindsats g.csv --out obs.csv",
                            files(**{"g.csv": b"\x00\xff\xfe junk\n"}), 1,
                            "no header row"),
    "import-out-exists": _case("import jobindsats good.yaml --out obs.csv", good(**{"obs.csv": "x"}), 1,
                               "obs.csv exists; give --force to overwrite it"),
}


# --- one run folder and one comparison to break, made once ----------------------------------------

RUN_FOLDER: list[Path] = []
COMPARISON_FOLDER: list[Path] = []


@pytest.fixture(scope="module", autouse=True)
def folders(tmp_path_factory: pytest.TempPathFactory) -> None:
    """A run folder and a comparison folder as the commands write them (reports included)."""
    root = tmp_path_factory.mktemp("hostile-sources")
    scenario = sim.parse_scenario(GOOD, "good.yaml")
    result = sim.run(scenario, runs=3, seed=3, workers=1, store_dir=root / "run" / "store")
    write_run(result, root / "run", sim.__version__, "caseflow run good.yaml --runs 3")
    write_reports(root / "run")
    (root / "good.yaml").write_text(GOOD, encoding="utf-8")
    (root / "faster.yaml").write_text(edited("mean_weeks: 10", "mean_weeks: 8"), encoding="utf-8")
    done = CliRunner().invoke(app, ["compare", str(root / "good.yaml"), str(root / "faster.yaml"), "-n", "3",
                                    "-w", "1", "--out", str(root / "pair")])
    assert done.exit_code == 0, done.output
    RUN_FOLDER[:] = [root / "run"]
    COMPARISON_FOLDER[:] = [root / "pair"]


def snapshot(folder: Path) -> dict[str, tuple[bool, int, int]]:
    """Every path under `folder` with (is a folder, size, modification time): what a case may not change."""
    out = {}
    for path in sorted(folder.rglob("*")):
        info = path.lstat()
        out[str(path.relative_to(folder))] = (path.is_dir(), info.st_size, info.st_mtime_ns)
    return out


def caseflow(args: tuple[str, ...] | list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    command = [str(COMMAND)] if COMMAND.exists() else [sys.executable, "-m", "sim"]
    return subprocess.run([*command, *args], cwd=cwd, capture_output=True, text=True, timeout=TIMEOUT,
                          env={**os.environ, "COLUMNS": "200"})


def first_of_each_verb() -> list[str]:
    """The first case of each verb, in the order of `CASES`."""
    first: dict[str, str] = {}
    for name, case in CASES.items():
        first.setdefault(case.args[0], name)
    return list(first.values())


IN_A_PROCESS = first_of_each_verb()


def test_there_are_enough_cases_for_every_verb() -> None:
    verbs = {case.args[0] for case in CASES.values()}
    assert verbs == {"validate", "run", "compare", "report", "calibrate", "backtest", "track", "import"}
    assert len(CASES) >= 60
    assert {CASES[name].args[0] for name in IN_A_PROCESS} == verbs


def assert_clear_answer(case: Case, code: int, stdout: str, stderr: str) -> None:
    """The exit status, the message's words, no traceback; a refusal says only its lines, on
    standard error."""
    said = stderr + stdout
    assert code == case.code, said
    assert "Traceback" not in said, said
    flat = " ".join(said.replace("│", " ").split())  # click frames an option error in a box
    for words in case.words:
        assert " ".join(words.split()) in flat, said
    if case.code == 1:
        assert stdout == "", said
        assert len(stderr.splitlines()) == case.lines, said


class Hung(BaseException):
    """An in-process case ran past its time bound. Not an `Exception`: neither the command's own
    handlers nor `CliRunner` take it for the command's answer, so it ends the case."""


@contextmanager
def time_bound(seconds: float) -> Iterator[None]:
    """Raise `Hung` in the block once it has run `seconds` (SIGALRM; the main thread only), and
    put back the handler and any timer that were there before."""
    def stop(_number: int, _frame: object) -> None:
        raise Hung(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, stop)
    left, interval = signal.setitimer(signal.ITIMER_REAL, seconds)
    started = time.monotonic()
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        if left:
            signal.setitimer(signal.ITIMER_REAL, max(left - (time.monotonic() - started), 0.001), interval)


@pytest.mark.parametrize("name", list(CASES))
def test_a_hostile_input_gets_a_clear_answer_and_nothing_is_written(
        name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    case = CASES[name]
    case.setup(tmp_path)
    before = snapshot(tmp_path)
    monkeypatch.chdir(tmp_path)
    started = time.monotonic()
    with time_bound(TIMEOUT):  # click >= 8.2: result.stderr is kept apart from result.stdout
        result = CliRunner().invoke(app, list(case.args), prog_name="caseflow", env={"COLUMNS": "200"})
    took = time.monotonic() - started
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        repr(result.exception), result.stderr + result.stdout)
    assert_clear_answer(case, result.exit_code, result.stdout, result.stderr)
    assert snapshot(tmp_path) == before, "the case wrote or changed files"
    assert took < TIMEOUT


@pytest.mark.parametrize("name", IN_A_PROCESS)
def test_the_installed_command_gives_a_hostile_input_a_clear_answer_in_a_process_of_its_own(
        name: str, tmp_path: Path) -> None:
    case = CASES[name]
    case.setup(tmp_path)
    before = snapshot(tmp_path)
    started = time.monotonic()
    done = caseflow(case.args, tmp_path)
    took = time.monotonic() - started
    assert_clear_answer(case, done.returncode, done.stdout, done.stderr)
    assert snapshot(tmp_path) == before, "the case wrote or changed files"
    assert took < TIMEOUT


# --- what a subprocess cannot stage: a read-only disk, a full disk, an interrupt ------------------

def _in_process(args: list[str]) -> Any:
    result = CliRunner().invoke(app, args)
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    return result


def test_a_read_only_checkout_without_out_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "good.yaml").write_text(GOOD, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    real = Path.mkdir

    def read_only(self: Path, *args: Any, **kwargs: Any) -> None:
        if self.name == "outputs" or self.parent.name == "outputs":
            raise OSError(errno.EROFS, "Read-only file system", str(self))
        real(self, *args, **kwargs)

    monkeypatch.setattr(Path, "mkdir", read_only)
    result = _in_process(["run", "good.yaml", "-n", "2", "-w", "1"])
    assert result.exit_code == 1
    assert "cannot create the run folder outputs/fjendtlig-kommune-2019-" in result.stderr
    assert "the disk is read-only; give --out a new or empty folder you can write to" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["good.yaml"]


def test_runs_beyond_what_the_disk_holds_are_refused_before_anything_is_written(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "good.yaml").write_text(GOOD, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    usage = collections.namedtuple("usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda _: usage(10**9, 10**9 - 10**5, 10**5))
    result = _in_process(["run", "good.yaml", "-n", "1000", "-w", "1"])
    assert result.exit_code == 1
    assert re.search(r"^error: --runs 1,000 needs at least 380\.0 kB on disk \(380 bytes a replication\) and "
                     r".+ has 100\.0 kB free; give --runs 263 or fewer, or --out a folder on a larger disk$",
                     result.stderr), result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["good.yaml"]


def test_reports_that_cannot_be_written_say_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import sim.reports.build as build

    shutil.copytree(RUN_FOLDER[0], tmp_path / "run")

    def denied(folder: Path, charts: Any) -> Any:
        raise PermissionError(errno.EACCES, "Permission denied", str(folder / "charts"))

    monkeypatch.setattr(build, "save_charts", denied)
    result = _in_process(["report", str(tmp_path / "run")])
    assert result.exit_code == 1
    run = tmp_path / "run"
    assert result.stderr == (f"error: cannot write in {run}/: Permission denied ({run}/charts); its reports "
                             "may be incomplete; the run's own files are as they were\n")


def test_a_long_scenario_name_gives_a_folder_name_the_disk_takes(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "long.yaml").write_text(text(name="Kommune " * 60), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    result = _in_process(["run", "long.yaml", "-n", "2", "-w", "1"])
    assert result.exit_code == 0, result.output
    (folder,) = (tmp_path / "outputs").iterdir()
    assert folder.name.startswith("kommune-kommune-") and len(folder.name) <= 80 + len("-20250101-120000")


def test_ctrl_c_during_start_up_writes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import sim.batch.runfolder as runfolder

    (tmp_path / "good.yaml").write_text(GOOD, encoding="utf-8")
    monkeypatch.chdir(tmp_path)

    def interrupted(*_: Any) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(runfolder, "check_room", interrupted)
    result = _in_process(["run", "good.yaml", "-n", "2", "-w", "1"])
    assert (result.exit_code, result.stderr) == (130, "interrupted while starting; nothing was written\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["good.yaml"]


def test_ctrl_c_before_the_first_replication_removes_the_new_folder(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    import sim.batch.run as batch

    (tmp_path / "good.yaml").write_text(GOOD, encoding="utf-8")
    (tmp_path / "empty").mkdir()
    monkeypatch.chdir(tmp_path)

    def interrupted(*_: Any) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(batch, "prepare_model", interrupted)
    for out in (["--out", "new/run"], ["--out", "empty"], []):
        result = _in_process(["run", "good.yaml", "-n", "2", "-w", "1", *out])
        assert result.exit_code == 130
        assert "interrupted before the first replication finished; nothing was written" in result.stderr
        assert sorted(p.name for p in tmp_path.iterdir()) == ["empty", "good.yaml"], out
        assert not any((tmp_path / "empty").iterdir())


@pytest.mark.parametrize("how", ["os.kill(os.getpid(), signal.SIGINT)", "raise KeyboardInterrupt"])
def test_ctrl_c_while_the_command_line_loads_prints_one_line(tmp_path: Path, how: str) -> None:
    """The interrupt arrives while sim.cli.app imports its verbs: after the imports, one line."""
    stop = ("import os, signal, sys\n"
            "class Stop:\n"
            "    def find_spec(self, name, path=None, target=None):\n"
            "        if name == 'sim.cli.importing':\n"
            f"            {how}\n"
            "sys.meta_path.insert(0, Stop())\n"
            "from sim.cli import app\n"
            "print('not reached')\n")
    done = subprocess.run([sys.executable, "-c", stop], cwd=tmp_path, capture_output=True, text=True,
                          timeout=TIMEOUT)
    assert (done.returncode, done.stdout, done.stderr) == (130, "", "interrupted while starting; nothing was "
                                                                    "written\n")


@pytest.mark.parametrize("verb", [["validate", "x.yaml"], ["report", "x"], ["import", "jobindsats", "x.csv",
                                                                         "--out", "y.csv"]])
def test_a_ctrl_c_while_the_command_line_loaded_ends_each_verb_before_it_starts(
        tmp_path: Path, verb: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """Every verb begins by checking for a Ctrl-C held back while typer built the command: one
    line, exit 130, and the verb does nothing (here: no file is read or written)."""
    from sim.cli import interrupts

    monkeypatch.setattr(interrupts, "_asked", [signal.SIGINT])
    monkeypatch.chdir(tmp_path)
    result = _in_process(verb)
    assert (result.exit_code, result.output) == (130, "interrupted while starting; nothing was written\n")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("delay", [0.2, 0.35, 0.5, 0.65, 1.0])
def test_a_real_ctrl_c_early_in_a_run_ends_cleanly(tmp_path: Path, delay: float) -> None:
    """SIGINT to the command itself: during start-up nothing is kept, during the batch the folder
    says what it holds; either way one line, exit 130, no traceback. The delays fall in the
    command line's imports, typer building the command, the verb's imports and its start-up."""
    (tmp_path / "good.yaml").write_text(GOOD, encoding="utf-8")
    command = [str(COMMAND)] if COMMAND.exists() else [sys.executable, "-m", "sim"]
    process = subprocess.Popen([*command, "run", "good.yaml", "-n", "100000", "-w", "1"], cwd=tmp_path,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    time.sleep(delay)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=TIMEOUT)
    assert process.returncode == 130, err
    assert "Traceback" not in out + err
    last = err.strip().splitlines()[-1]
    if "nothing was written" in last:
        assert sorted(p.name for p in tmp_path.iterdir()) == ["good.yaml"]
    else:
        assert "replications are kept in" in last, err
        assert "complete the run with: caseflow run --resume" in last, err
        folder = tmp_path / last.rsplit("--resume ", 1)[1]
        assert json.loads((folder / "running.json").read_text(encoding="utf-8"))["status"] == "interrupted"


# --- spreadsheet safety ----------------------------------------------------------------------------

def test_text_that_looks_like_a_formula_is_text_in_the_workbook_and_unchanged_in_the_csv(
        tmp_path: Path) -> None:
    names = ['=HYPERLINK("http://example.invalid","klik")', "+1+1", "-2+3", "@SUM(A1)"]
    targets = [{"name": n, "states": ["sygedagpenge"], "year": 2019, "at_most": 60} for n in names]
    states = {"a_dagpenge": {"label": "=1+1"}, "sygedagpenge": {}}
    (tmp_path / "f.yaml").write_text(text(name="=cmd|' /C calc'!A0", targets=targets, states=states),
                                     encoding="utf-8")
    out = tmp_path / "run"
    result = _in_process(["run", str(tmp_path / "f.yaml"), "-n", "2", "-w", "1", "--out", str(out)])
    assert result.exit_code == 0, result.output
    with zipfile.ZipFile(out / "report.xlsx") as book:
        sheets = [book.read(n).decode("utf-8") for n in book.namelist() if n.startswith("xl/worksheets/")]
    assert sheets and not any("<f>" in sheet or "<f " in sheet for sheet in sheets)
    shown = "".join(sheets)
    for name in names:
        assert name.replace("&", "&amp;").replace('"', "&quot;") in shown or name in shown, name
    csv = (out / "targets.csv").read_text(encoding="utf-8")
    assert all(name.replace('"', '""') in csv for name in names)


@pytest.mark.parametrize("out", [["--out", "new/bt"], ["--out", "empty"], []])
def test_a_backtest_that_fails_after_its_folder_is_made_leaves_nothing(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, out: list[str]) -> None:
    """A fit that fails at an origin, after the folder and a forecast's store were made, takes them away."""
    import sim.fitting.backtest as backtest
    from sim.fitting.calibrate import CalibrationError

    scenario = Path(__file__).resolve().parents[2] / "scenarios" / "dragoer-backtest-2019.yaml"
    (tmp_path / "empty").mkdir()
    monkeypatch.chdir(tmp_path)

    def failing(*args: Any, **_: Any) -> None:
        store = args[6]("2020-07")
        store.mkdir(parents=True)
        (store / "monthly.npy").write_bytes(b"partial")
        raise CalibrationError("the fit at origin 2020-07 did not converge")

    monkeypatch.setattr(backtest, "run_backtest", failing)
    windows = ["--fit", "2019-07..2020-06", "--test", "2020-07..2021-06"]
    result = _in_process(["backtest", str(scenario), *windows, "-n", "20", "-w", "1", *out])
    assert result.exit_code == 1
    assert "did not converge" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty"]
    assert not any((tmp_path / "empty").iterdir())
