"""A stopped batch loses nothing: Ctrl-C, SIGTERM or SIGKILL at any point leave a folder marked
incomplete with its finished replications, no worker outlives its parent, `caseflow run --resume`
completes the run to the files an unstopped run writes, byte for byte, and two runs can never
share a folder. Long runs say how far they are when no terminal watches."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import yaml

from sim import __version__
from sim.batch.runfolder import (
    FolderInUse,
    _claim,
    let_go,
    mark,
    new_run_folder,
    reclaim,
    release_run_folder,
    scenario_hash,
    start_facts,
)
from sim.contract.loader import load_scenario

COMMAND = Path(sys.executable).with_name("caseflow")
RUNS = 3000
TIMEOUT = 240

SCENARIO = {
    "name": "Genoptaget kommune 2019",
    "start": "2019-01-01",
    "months": 12,
    "seed": 8,
    "states": {"a_dagpenge": {}, "sygedagpenge": {}},
    "initial": {"a_dagpenge": 100, "sygedagpenge": 50},
    "inflow_per_week": {"a_dagpenge": 4, "sygedagpenge": 5},
    "transitions": {
        "a_dagpenge": [{"to": "job", "rate_per_week": 0.04}],
        "sygedagpenge": [{"to": "job", "mean_weeks": 10}, {"to": "a_dagpenge", "at_week": 30, "share": 0.2},
                         {"to": "other", "at_week": 30, "share": "rest"}],
    },
    "targets": [{"name": "Syg højst 60", "states": ["sygedagpenge"], "year": 2019, "at_most": 60}],
    "assumptions": [{"path": "inflow_per_week.sygedagpenge", "low": 4, "high": 6,
                     "reason": "the plan gives no inflow; a range around the 2018 level"}],
}
COMPARED = ("monthly.csv", "yearly.csv", "targets.csv", "flows.csv", "replications.csv", "assumptions.csv",
            "scenario.yaml")


def _interruptible() -> None:
    """Ctrl-C reaches the command as it would from a terminal, even when these tests run in the
    background (where a shell has the children ignore SIGINT)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def caseflow(*args: str, cwd: Path) -> subprocess.Popen[str]:
    command = [str(COMMAND)] if COMMAND.exists() else [sys.executable, "-m", "sim"]
    return subprocess.Popen([*command, *args], cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, preexec_fn=_interruptible)


def finish(process: subprocess.Popen[str]) -> tuple[int, str, str]:
    out, err = process.communicate(timeout=TIMEOUT)
    return process.returncode, out, err


@pytest.fixture(scope="module")
def whole(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An uninterrupted run in `run/`, moved aside to `whole/` so that others can use the same name."""
    root = tmp_path_factory.mktemp("resume")
    (root / "s.yaml").write_text(yaml.safe_dump(SCENARIO, allow_unicode=True), encoding="utf-8")
    code, _, err = finish(caseflow("run", "s.yaml", "-n", str(RUNS), "-w", "2", "--out", "run", cwd=root))
    assert code == 0, err
    (root / "run").rename(root / "whole")
    return root


def _done(folder: Path) -> int:
    try:
        with np.load(folder / "store" / "done.npz") as saved:
            return int(saved["done"].sum())
    except (OSError, ValueError, KeyError):
        return 0


def _children(pid: int) -> list[int]:
    """The child processes of `pid` (Linux)."""
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    status = Path(f"/proc/{pid}/status")
    return not (status.exists() and "\nState:\tZ" in status.read_text())


def _wait_until(condition: Callable[[], bool], seconds: float = 60) -> None:
    end = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.05)


def _claimed(run: Path) -> bool:
    """The folder is claimed: from its first moment running.json says all a resume needs."""
    return (run / "running.json").exists()


KILL_POINTS: dict[str, Callable[[Path], bool]] = {
    "as the folder is claimed": _claimed,
    "mid-batch": lambda run: _done(run) >= 1,
    "in the assumption check": lambda run: _done(run) == RUNS,
}


@pytest.mark.slow
@pytest.mark.parametrize("point", list(KILL_POINTS))
def test_a_run_killed_at_any_point_resumes_to_the_same_files(whole: Path, point: str) -> None:
    root = whole
    shutil.rmtree(root / "run", ignore_errors=True)
    process = caseflow("run", "s.yaml", "-n", str(RUNS), "-w", "2", "--out", "run", cwd=root)
    _wait_until(lambda: KILL_POINTS[point](root / "run") or process.poll() is not None)
    workers = _children(process.pid)
    process.kill()
    process.communicate(timeout=TIMEOUT)
    _wait_until(lambda: not any(_alive(w) for w in workers), 20)  # no orphan outlives its parent
    if not (root / "run" / "running.json").exists():
        pytest.skip(f"the run ended before the kill point {point!r} was seen")
    report = subprocess.run([str(COMMAND), "report", "run"], cwd=root, capture_output=True, text=True)
    assert report.returncode == 1 and "is incomplete" in report.stderr, report.stderr
    code, _, err = finish(caseflow("run", "--resume", "run", "-w", "2", cwd=root))
    assert code == 0, err
    assert not (root / "run" / "running.json").exists()
    for name in COMPARED:
        assert (root / "run" / name).read_bytes() == (root / "whole" / name).read_bytes(), name


@pytest.mark.parametrize("how", [signal.SIGINT, signal.SIGTERM])
def test_an_interrupt_stops_within_seconds_and_keeps_what_finished(tmp_path: Path,
                                                                    how: signal.Signals) -> None:
    (tmp_path / "s.yaml").write_text(yaml.safe_dump(SCENARIO, allow_unicode=True), encoding="utf-8")
    process = caseflow("run", "s.yaml", "-n", "100000", "-w", "2", "--out", "run", cwd=tmp_path)
    _wait_until(lambda: _done(tmp_path / "run") >= 1)
    workers = _children(process.pid)
    assert workers
    sent = time.monotonic()
    process.send_signal(how)
    code, _, err = finish(process)
    assert time.monotonic() - sent < 10
    assert code == (130 if how == signal.SIGINT else 143), err
    assert "Traceback" not in err
    assert not any(_alive(w) for w in workers)
    facts = json.loads((tmp_path / "run" / "running.json").read_text(encoding="utf-8"))
    assert facts["status"] == "interrupted"
    assert 1 <= facts["finished"] == _done(tmp_path / "run") < 100000
    assert f"{facts['finished']:,} of 100,000 replications are kept" in err
    assert "caseflow run --resume run" in err


def test_resume_refuses_what_it_cannot_complete(tmp_path: Path, whole: Path) -> None:
    (tmp_path / "s.yaml").write_text(yaml.safe_dump(SCENARIO, allow_unicode=True), encoding="utf-8")
    code, _, err = finish(caseflow("run", "--resume", str(whole / "whole"), cwd=tmp_path))
    assert (code, err.strip().splitlines()[-1]) == (1, f"error: {whole / 'whole'} is complete; there is "
                                                       "nothing to resume")
    code, _, err = finish(caseflow("run", "--resume", "s.yaml", cwd=tmp_path))
    assert code == 1 and "is not a folder" in err
    code, _, err = finish(caseflow("run", "s.yaml", "--resume", "x", cwd=tmp_path))
    assert code == 2 and "takes no SCENARIO" in err
    stopped = tmp_path / "stopped"
    shutil.copytree(whole / "whole", stopped)
    (stopped / "running.json").write_text(json.dumps({
        "status": "interrupted", "seed": 8, "runs": RUNS, "assumption_runs": 50, "lang": "da",
        "caseflow_version": "0.1.0", "scenario_sha256": "0" * 64}), encoding="utf-8")
    code, _, err = finish(caseflow("run", "--resume", "stopped", cwd=tmp_path))
    assert code == 1 and "is not the scenario the run was started with" in err


def test_a_run_killed_while_writing_its_files_resumes_to_the_same_files(whole: Path, tmp_path: Path) -> None:
    """Killed after its last replication, with half its files written: what a resume finds."""
    folder = tmp_path / "run"
    shutil.copytree(whole / "whole", folder)
    scenario = load_scenario(folder / "scenario.yaml")
    (folder / "running.json").write_text(json.dumps({
        "status": "running", "seed": 8, "runs": RUNS, "assumption_runs": 50, "lang": "da",
        "caseflow_version": __version__, "scenario_sha256": scenario_hash(scenario, 8)}), encoding="utf-8")
    for name in ("replications.csv", "targets.csv", "run.json", "report.html"):
        (folder / name).unlink()
    (folder / "monthly.csv").write_text("month,state\n", encoding="utf-8")
    code, _, err = finish(caseflow("run", "--resume", "run", "-w", "1", cwd=tmp_path))
    assert code == 0, err
    for name in COMPARED:
        assert (folder / name).read_bytes() == (whole / "whole" / name).read_bytes(), name


def test_two_runs_never_share_a_folder(tmp_path: Path) -> None:
    """The folder is claimed atomically (running.json, created only if absent): of two commands
    that both found the folder empty, the second to claim it is refused."""
    folder = new_run_folder("a", tmp_path / "out")
    with pytest.raises(FolderInUse, match="taken by another caseflow command at the same moment"):
        _claim(folder, True, False)
    release_run_folder(folder)
    assert list(folder.iterdir()) == []


@pytest.mark.slow
def test_a_run_stopped_as_it_claimed_its_folder_resumes_to_the_same_files(whole: Path,
                                                                          tmp_path: Path) -> None:
    """Killed the moment after the claim, before scenario.yaml or the store: running.json alone
    (written whole as the folder is claimed) says enough to finish the run."""
    scenario = load_scenario(whole / "whole" / "scenario.yaml")
    command = f"caseflow run s.yaml -n {RUNS} -w 2 --out run"
    folder = new_run_folder(scenario.name, tmp_path / "run",
                            facts=start_facts(scenario, 8, RUNS, __version__, command, "da", 50))
    let_go(folder)  # as a killed process lets go of it
    assert [p.name for p in folder.iterdir()] == ["running.json"]
    code, _, err = finish(caseflow("run", "--resume", "run", "-w", "2", cwd=tmp_path))
    assert code == 0, err
    assert [p.name for p in folder.iterdir() if p.name.startswith(".")] == []
    for name in COMPARED:
        assert (folder / name).read_bytes() == (whole / "whole" / name).read_bytes(), name


def test_running_json_is_replaced_whole_and_stays_locked(tmp_path: Path) -> None:
    """A rewrite of running.json puts a whole new file in its place (a kill mid-write leaves the
    old one) and the lock moves with it: the folder is still held, and says old and new facts."""
    folder = new_run_folder("a", tmp_path / "out", facts={"seed": 8})
    before = (folder / "running.json").stat().st_ino
    mark(folder, status="interrupted", finished=3)
    assert (folder / "running.json").stat().st_ino != before
    facts = json.loads((folder / "running.json").read_text(encoding="utf-8"))
    assert (facts["seed"], facts["status"], facts["finished"]) == (8, "interrupted", 3)
    assert facts["pid"] == os.getpid()
    with pytest.raises(FolderInUse, match="still running"):
        reclaim(folder)
    let_go(folder)
    assert reclaim(folder)["finished"] == 3
    release_run_folder(folder)
    assert list(folder.iterdir()) == []


def test_resume_says_a_folder_stopped_before_its_claim_landed_has_nothing_to_finish(tmp_path: Path) -> None:
    """Killed in the moment between writing running.json's draft and putting it in place."""
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / ".running-x1.json").write_text("{}", encoding="utf-8")
    code, _, err = finish(caseflow("run", "--resume", "run", cwd=tmp_path))
    assert code == 1 and "was stopped in the moment its run claimed it" in err, err


def test_resume_refuses_a_folder_a_running_command_holds(tmp_path: Path) -> None:
    (tmp_path / "s.yaml").write_text(yaml.safe_dump(SCENARIO, allow_unicode=True), encoding="utf-8")
    process = caseflow("run", "s.yaml", "-n", "100000", "-w", "1", "--out", "run", cwd=tmp_path)
    try:
        _wait_until(lambda: _done(tmp_path / "run") >= 1)
        code, _, err = finish(caseflow("run", "--resume", "run", cwd=tmp_path))
        assert code == 1 and "is being written by a caseflow command still running" in err
    finally:
        process.terminate()
        process.communicate(timeout=TIMEOUT)


def test_progress_goes_out_as_log_lines_when_no_terminal_watches(tmp_path: Path) -> None:
    (tmp_path / "s.yaml").write_text(yaml.safe_dump(SCENARIO, allow_unicode=True), encoding="utf-8")
    code, out, err = finish(caseflow("run", "s.yaml", "-n", "200", "-w", "1", "--out", "a", cwd=tmp_path))
    assert code == 0, err
    lines = [line for line in err.splitlines() if " of 300 (" in line]
    assert 10 <= len(lines) <= 25 and "left" in lines[0] and "(100 %)" in lines[-1]
    assert lines[0] in (tmp_path / "a" / "run.log").read_text(encoding="utf-8")
    code, out, err = finish(caseflow("run", "s.yaml", "-n", "200", "-w", "1", "-o", "b", "-q", cwd=tmp_path))
    assert code == 0 and err == "" and "Syg højst 60" in out
    assert " of 300 (" in (tmp_path / "b" / "run.log").read_text(encoding="utf-8")
    code, out, err = finish(caseflow("run", "s.yaml", "-n", "20", "-w", "1", "-o", "c", "-v", cwd=tmp_path))
    assert code == 0 and "replications to run on this process" in err
