"""The run folder: CSV tables, the resolved scenario and run facts, never overwriting a run.

A folder is refused before anything is written when it cannot be used: `--out` names a file, a
folder that holds files, a place under a file, or one that cannot be created or written (read-only,
no permission, a name too long); or the disk cannot hold the replications asked for.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import hashlib
import json
import os
import re
import shutil
import tempfile
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from sim.batch.run import RunResult
from sim.contract.calendar import Calendar
from sim.contract.errors import ScenarioError
from sim.contract.loader import load_scenario
from sim.contract.schema import Scenario
from sim.contract.yamlio import dump_yaml
from sim.results.folder import FACTS, LOG_FILE, RUNNING, SCENARIO_FILE
from sim.results.summary import replications_frame

try:
    import fcntl
except ImportError:  # not POSIX: folders are claimed, but a running batch is not told from a stopped one
    fcntl = None  # type: ignore[assignment]

STORE = "store"
"""Subfolder holding the per-replication arrays."""

OUTPUTS = Path("outputs")
"""Where runs go without --out."""

MAX_SLUG = 80
"""The longest scenario name part of a folder name (a file name may have 255 bytes)."""


class RunFolderError(ValueError):
    """A run folder that cannot be used (a file, a folder holding files, not writable, no room)."""


def slug(name: str) -> str:
    """An ASCII file-name form of a scenario name: 'Tårnby–Dragør 2018' → 'tarnby-dragor-2018'."""
    text = unicodedata.normalize("NFKD", name.replace("ø", "o").replace("Ø", "O").replace("æ", "ae")
                                 .replace("Æ", "Ae").replace("å", "aa").replace("Å", "Aa"))
    text = text.encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-")[:MAX_SLUG].strip("-") or "run"


def _shown(path: Path) -> str:
    """A path as a message shows it: cut in the middle when very long."""
    text = str(path)
    return text if len(text) <= 100 else f"{text[:60]}…{text[-30:]} ({len(text)} characters)"


def _unusable(path: Path, out: bool, exc: OSError) -> RunFolderError:
    """Why a run folder cannot be created or written, in the user's terms."""
    what = f"--out {_shown(path)}" if out else f"the run folder {_shown(path)}"
    give = "give --out a new or empty folder you can write to"
    if exc.errno == errno.ENAMETOOLONG:
        return RunFolderError(f"cannot create {what}: a name in it is too long (a file name has at most "
                              f"255 bytes, a path 4,096); {give}")
    if exc.errno == errno.EEXIST:
        return RunFolderError(f"cannot create {what}: it exists and is not a folder (a link or a special "
                              f"file); {give}")
    if exc.errno == errno.ENOTDIR or isinstance(exc, NotADirectoryError):
        above = next((p for p in path.parents if p.exists() and not p.is_dir()), None)
        where = f"{above} is a file, not a folder" if above is not None else "a part of it is a file"
        return RunFolderError(f"cannot create {what}: {where}; {give}")
    if exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        reason = "the disk is read-only" if exc.errno == errno.EROFS else "permission denied"
        return RunFolderError(f"cannot create {what}: {reason}; {give}")
    if exc.errno == errno.ENOENT:
        above = next((p for p in path.parents if p.is_dir()), None)
        return RunFolderError(f"cannot create {what}: {above or 'the folder above it'} takes no new folders "
                              f"(No such file or directory); {give}")
    return RunFolderError(f"cannot create {what}: {exc.strerror or exc}; {give}")


def _existing(path: Path) -> Path:
    """The nearest folder at or above `path` that exists (where a new folder would go)."""
    for folder in (path, *path.absolute().parents):
        try:
            if folder.is_dir():
                return folder
        except OSError:
            continue
    return Path(".")


def is_folder(path: Path | None) -> bool:
    """Whether `path` names an existing folder (False for a name the system refuses)."""
    try:
        return path is not None and path.is_dir()
    except OSError:
        return False


def replication_bytes(scenario: Scenario) -> int:
    """The least a replication of `scenario` takes on disk: its monthly and yearly values and
    target values (8 bytes each) and its rows of replications.csv (20 bytes at least); the
    features' tables come on top."""
    calendar = Calendar.build(scenario.start.replace(day=1), scenario.months)
    rows, years = len(scenario.states) + 1, len(calendar.full_years())
    return 8 * (rows * scenario.months + rows * years + len(scenario.targets)) + 20 * rows * years


def check_room(per_replication: int, runs: int, out: Path | None, base: Path = OUTPUTS) -> None:
    """Refuse `runs` replications of `per_replication` bytes when the disk of the run folder has
    less room free: before anything is written, not after hours of simulation."""
    where = _existing(out if out is not None else base)
    try:
        usage = shutil.disk_usage(where)
    except OSError:
        return  # the folder's own checks give the reason
    if usage.total == 0:
        return  # not a disk (/proc, /sys): creating the folder fails with its reason
    free, need = usage.free, per_replication * runs
    if need > free:
        most = free // max(1, per_replication)
        raise RunFolderError(f"--runs {runs:,} needs at least {_size(need)} on disk "
                             f"({_size(per_replication)} a replication) and {where} has {_size(free)} free; "
                             f"give --runs {most:,} or fewer, or --out a folder on a larger disk")


def _size(n: float) -> str:
    for unit in ("bytes", "kB", "MB", "GB", "TB", "PB"):
        if n < 1000 or unit == "PB":
            return f"{n:,.0f} {unit}" if unit == "bytes" else f"{n:,.1f} {unit}"
        n /= 1000
    return f"{n:,.1f} PB"


def new_run_folder(name: str, out: Path | None, base: Path = OUTPUTS,
                   facts: Mapping[str, object] | None = None) -> Path:
    """Create the run folder: `out` if new or empty, else `base/<slug>-<timestamp>[-n]`; check
    that it can be written; claim it with a running.json that says `facts`. RunFolderError says
    why a folder cannot be used."""
    if out is not None:
        try:
            if out.is_file() or (out.exists() and not out.is_dir()):
                raise RunFolderError(f"--out {_shown(out)} is a file, not a folder; a run never overwrites "
                                     "another, so give a new or empty folder")
            if out.is_dir() and any(out.iterdir()):
                raise RunFolderError(f"--out {_shown(out)} exists and is not empty; a run never overwrites "
                                     "another, so give a new folder with --out")
            created = not out.exists()
        except OSError as exc:
            raise _unusable(out, True, exc) from None
        _make(out, True)
        _check_writable(out, True, created)
        _claim(out, True, created, facts)
        return out
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    candidate = base / f"{slug(name)}-{stamp}"
    n = 1
    while True:
        try:
            if candidate.exists():
                n += 1
                candidate = base / f"{slug(name)}-{stamp}-{n}"
                continue
        except OSError as exc:
            raise _unusable(candidate, False, exc) from None
        if _make(candidate, False):
            break
    _check_writable(candidate, False, True)
    _claim(candidate, False, True, facts)
    return candidate


_MADE: dict[Path, list[Path]] = {}
"""The folders above each run folder that making it created, for `discard_run_folder`."""


def _make(folder: Path, out: bool) -> bool:
    """Create `folder` and the folders above it that are missing; False if another process
    created it first. If it cannot be made, the folders this made are removed again."""
    made: list[Path] = []
    for above in reversed([folder, *folder.parents]):
        try:
            if above.is_dir():
                continue
            above.mkdir()
        except FileExistsError:
            if above == folder and above.is_dir():
                return False  # taken since it was looked for: try the next name
            exc: OSError = FileExistsError(errno.EEXIST, "not a folder") if above == folder else \
                NotADirectoryError(errno.ENOTDIR, "not a folder")
        except OSError as error:
            exc = error
        else:
            made.append(above)
            continue
        for done in reversed(made):
            with contextlib.suppress(OSError):
                done.rmdir()
        raise _unusable(folder, out, exc) from None
    _MADE[folder] = made[:-1] if made and made[-1] == folder else made
    return True


def _check_writable(folder: Path, out: bool, created: bool) -> None:
    """Write and remove a scratch file; if that fails, remove the folder if this run created it."""
    try:
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        if created:
            discard_run_folder(folder, keep=False)
        raise _unusable(folder, out, exc) from None


_CLAIMS: dict[Path, int] = {}
"""The open (and, on POSIX, locked) running.json of each folder this process writes."""


class FolderInUse(RunFolderError):
    """A run folder another command is writing now."""


def _claim(folder: Path, out: bool, created: bool, facts: Mapping[str, object] | None = None) -> None:
    """Create running.json in `folder`, atomically and whole: of two commands given one folder at
    once, one gets it and the other is refused, and a kill at any moment leaves either no
    running.json or one that says all of `facts`. Its lock, held while this process lives, tells a
    running command's folder from a stopped one's."""
    started = dt.datetime.now().isoformat(timespec="seconds")
    data = {"status": "running", "pid": os.getpid(), "started": started, **(facts or {})}
    try:
        _CLAIMS[folder] = _placed(folder, data, first=True)
    except FileExistsError:
        what = f"--out {_shown(folder)}" if out else f"the run folder {_shown(folder)}"
        raise FolderInUse(f"{what} was taken by another caseflow command at the same moment; a run never "
                          "shares its folder, so give another --out") from None
    except OSError as exc:
        if created:
            discard_run_folder(folder, keep=False)
        raise _unusable(folder, out, exc) from None


_DRAFT = ".running-"
"""How the drafts of running.json begin: written whole and locked, then put in its place."""


def _placed(folder: Path, facts: Mapping[str, object], first: bool) -> int:
    """Write `facts` as `folder`'s running.json, whole before it is seen: a locked draft linked into
    place (`first`: FileExistsError if a running.json is there) or renamed over the old one. The
    draft's open, locked descriptor is returned (the lock is the file's, whatever its name)."""
    text = (json.dumps(dict(facts), indent=2, ensure_ascii=False) + "\n").encode("utf-8")
    fd, draft = tempfile.mkstemp(dir=folder, prefix=_DRAFT, suffix=".json")
    try:
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        with os.fdopen(os.dup(fd), "wb") as file:
            file.write(text)
        if not first:
            os.replace(draft, folder / RUNNING)
            return fd
        try:
            os.link(draft, folder / RUNNING)
        except FileExistsError:
            raise
        except OSError:  # a file system without hard links: create-if-absent, then write
            plain = os.open(folder / RUNNING, os.O_CREAT | os.O_EXCL | os.O_RDWR, 0o644)
            os.close(fd)
            fd = plain
            if fcntl is not None:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            os.pwrite(fd, text, 0)
        os.unlink(draft)
        return fd
    except BaseException:
        with contextlib.suppress(OSError):
            os.close(fd)
        with contextlib.suppress(OSError):
            os.unlink(draft)
        raise


def mark(folder: Path, **facts: object) -> None:
    """Rewrite `folder`'s running.json with `facts` added to what it says, replacing it whole (a kill
    mid-write leaves the old one) and keeping it locked."""
    old = _CLAIMS[folder]
    known = _facts_of(old)
    _CLAIMS[folder] = _placed(folder, {**known, **facts}, first=False)
    os.close(old)


def running_facts(folder: Path) -> dict[str, object]:
    """What `folder`'s running.json says, {} when it has none or it cannot be read."""
    try:
        facts = json.loads((folder / RUNNING).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return facts if isinstance(facts, dict) else {}


def reclaim(folder: Path) -> dict[str, object]:
    """Take over a stopped run's folder to complete it: its running.json's facts. Refused when
    the folder is complete, not a run folder, or being written by a command still running."""
    path = folder / RUNNING
    if not is_folder(folder):
        raise RunFolderError(f"{_shown(folder)} is not a folder; give the folder of a stopped `caseflow run`")
    while True:
        if not path.exists():
            raise RunFolderError(_not_stopped(folder))
        try:
            fd = os.open(path, os.O_RDWR)
        except FileNotFoundError:
            continue  # replaced or released since it was looked for: look again
        except OSError as exc:
            raise _unusable(folder, True, exc) from None
        if fcntl is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                pid = running_facts(folder).get("pid")
                raise FolderInUse(f"{_shown(folder)} is being written by a caseflow command still running "
                                  f"(process {pid}); wait for it, or stop it first") from None
        try:
            current = os.stat(path).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            current = False
        if current:
            break
        os.close(fd)  # locked a running.json its command had just replaced: take the one in place
    _CLAIMS[folder] = fd
    return _facts_of(fd)


def _facts_of(fd: int) -> dict[str, object]:
    """What the running.json open as `fd` says ({} if empty or not an object)."""
    text = os.pread(fd, os.fstat(fd).st_size, 0).decode("utf-8", errors="replace")
    try:
        facts = json.loads(text) if text.strip() else {}
    except ValueError:
        return {}
    return facts if isinstance(facts, dict) else {}


def _not_stopped(folder: Path) -> str:
    """Why `folder`, which has no running.json, has nothing to resume."""
    if (folder / FACTS).exists():
        return f"{_shown(folder)} is complete; there is nothing to resume"
    if any(folder.glob(f"{_DRAFT}*")):
        return (f"{_shown(folder)} was stopped in the moment its run claimed it, before anything was "
                "computed; start the run again in a new folder")
    return f"{_shown(folder)} is not the folder of a stopped run (it has no {RUNNING})"


@dataclass(frozen=True)
class Stopped:
    """A stopped run taken over to be completed: what it was started with."""

    scenario: Scenario
    seed: int
    runs: int
    assumption_runs: int
    lang: str


def reclaim_stopped(folder: Path, version: str) -> Stopped:
    """Take over the stopped run in `folder` (`reclaim`) and check that it can be completed as it
    was started: its running.json says how, this caseflow started it, and its scenario.yaml is
    the one it was started with. RunFolderError says why not (and the folder is let go)."""
    facts = reclaim(folder)
    try:
        missing = [key for key in START_FACTS if key not in facts]
        if missing:
            raise RunFolderError(f"{folder}/{RUNNING} does not say the run's {missing[0]} (it was stopped "
                                 "before its first replication); start the run again in a new folder")
        if facts["caseflow_version"] != version:
            raise RunFolderError(f"{folder} was started by caseflow {facts['caseflow_version']} and this is "
                                 f"{version}: its replications would not match; start it again")
        seed, runs = int(str(facts["seed"])), int(str(facts["runs"]))
        kept = facts.get("scenario")
        if not (folder / SCENARIO_FILE).exists() and isinstance(kept, dict):
            _write_resolved(folder, kept, seed, runs, version)  # stopped before it was written
        try:
            scenario = load_scenario(folder / SCENARIO_FILE)
        except ScenarioError as exc:
            raise RunFolderError("\n".join(str(p) for p in exc.problems)) from None
        if scenario_hash(scenario, seed) != facts["scenario_sha256"]:
            raise RunFolderError(f"{folder}/{SCENARIO_FILE} is not the scenario the run was started with (it "
                                 "was edited); start the run again in a new folder")
    except RunFolderError:
        let_go(folder)
        raise
    return Stopped(scenario, seed, runs, int(str(facts["assumption_runs"])), str(facts["lang"]))


def let_go(folder: Path) -> None:
    """Stop holding `folder` without completing it: its running.json stays (it is still incomplete)."""
    fd = _CLAIMS.pop(folder, None)
    if fd is not None:
        os.close(fd)


def release_run_folder(folder: Path) -> None:
    """The command is done with `folder`: remove its running.json (the folder is complete)."""
    fd = _CLAIMS.pop(folder, None)
    for name in (RUNNING, f".{SCENARIO_FILE}.draft", *(p.name for p in folder.glob(f"{_DRAFT}*.json"))):
        with contextlib.suppress(FileNotFoundError):
            (folder / name).unlink()
    if fd is not None:
        os.close(fd)


def resolved(scenario: Scenario, seed: int) -> dict[str, object]:
    """The scenario as a run folder keeps it: every block written out, with the batch's seed."""
    plain: dict[str, object] = scenario.model_dump(mode="json", exclude_none=True)
    plain["seed"] = seed
    return plain


def scenario_hash(scenario: Scenario, seed: int) -> str:
    """A fingerprint of the resolved scenario: a resumed run must be the run that was stopped."""
    plain = json.dumps(resolved(scenario, seed), sort_keys=True)
    return hashlib.sha256(plain.encode("utf-8")).hexdigest()


def write_scenario(folder: Path, scenario: Scenario, seed: int, runs: int, version: str) -> Path:
    """scenario.yaml: the resolved scenario, with how to repeat the run."""
    return _write_resolved(folder, resolved(scenario, seed), seed, runs, version)


def _write_resolved(folder: Path, plain: Mapping[str, object], seed: int, runs: int, version: str) -> Path:
    """scenario.yaml from the resolved scenario `plain`, whole or not at all (a draft renamed into place)."""
    header = (f"# Resolved scenario of a caseflow {version} run: {runs} replications, seed "
              f"{seed}.\n# Repeat it: caseflow run {folder / 'scenario.yaml'} --runs {runs}\n")
    path = folder / SCENARIO_FILE
    draft = path.with_name(f".{SCENARIO_FILE}.draft")
    draft.write_text(header + dump_yaml(dict(plain)), encoding="utf-8")
    os.replace(draft, path)
    return path


START_FACTS = ("seed", "runs", "assumption_runs", "lang", "caseflow_version", "scenario_sha256")
"""What running.json says of a run from its first moment, so that a resume can finish it."""


def start_facts(scenario: Scenario, seed: int, runs: int, version: str, command: str, lang: str,
                assumption_runs: int) -> dict[str, object]:
    """What a resumed run needs to finish this one as it would have finished (`START_FACTS`, the
    command, and the resolved scenario itself, should the run stop before scenario.yaml is written):
    written into running.json as the folder is claimed."""
    return {"seed": seed, "runs": runs, "assumption_runs": assumption_runs, "lang": lang,
            "caseflow_version": version, "command": command, "scenario_sha256": scenario_hash(scenario, seed),
            "scenario": resolved(scenario, seed)}


def discard_run_folder(folder: Path, keep: bool) -> None:
    """Remove what a run wrote into `folder` before its first replication finished (its empty
    store and its running.json), and the folder too unless `keep` (it was there before the run),
    with the folders above it that making it created; never a user's file (only empty folders
    are removed)."""
    shutil.rmtree(folder / STORE, ignore_errors=True)
    for name in (SCENARIO_FILE, LOG_FILE):
        with contextlib.suppress(OSError):
            (folder / name).unlink()
    release_run_folder(folder)
    if not keep:
        for made in (folder, *reversed(_MADE.pop(folder, []))):
            with contextlib.suppress(OSError):
                made.rmdir()  # only if empty


def clear_run_folder(folder: Path, keep: bool) -> None:
    """Remove everything a failed command wrote into `folder`, which `new_run_folder` claimed new
    or empty (so all of it is the command's), and the folder too unless `keep`."""
    for child in folder.iterdir() if folder.is_dir() else ():
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child, ignore_errors=True)
        else:
            child.unlink(missing_ok=True)
    discard_run_folder(folder, keep)


def write_run(result: RunResult, folder: Path, version: str, command: str | None = None,
              lang: str = "da") -> list[Path]:
    """Write the summary tables, per-replication table, resolved scenario and run facts; `lang`
    (da or en) is recorded as the reports' language (the reports are built from these files)."""
    written = []
    tables = {"monthly": result.monthly, "yearly": result.yearly, "targets": result.targets,
              "flows": result.flows, **result.features, "layers": result.layers,
              "assumptions": result.assumptions}
    for name, frame in tables.items():
        if frame is None:
            continue
        path = folder / f"{name}.csv"
        frame.to_csv(path, index=False)
        written.append(path)
    path = folder / "replications.csv"
    step = max(1, 200_000 // max(1, result.store.arrays["yearly"].shape[0]))
    for a in range(0, result.runs, step):
        block = replications_frame(result.model, result.store, slice(a, min(a + step, result.runs)))
        block.to_csv(path, index=False, mode="w" if a == 0 else "a", header=a == 0)
    written.append(path)
    written.append(write_scenario(folder, result.scenario, result.seed, result.runs, version))
    facts = {"scenario": result.scenario.name, "seed": result.seed, "runs": result.runs,
             "caseflow_version": version, "created": dt.datetime.now().isoformat(timespec="seconds"),
             "command": command, "lang": lang, "scenario_sha256": scenario_hash(result.scenario, result.seed)}
    path = folder / FACTS
    path.write_text(json.dumps(facts, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    written.append(path)
    return written
