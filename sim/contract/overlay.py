"""Variants as overlays: a scenario file that `extends:` another and says only what differs.

An overlay holds `extends: <file>` (its base, a path relative to the overlay's own folder), and
besides it ordinary blocks and a `set:` mapping. The base is read (a full scenario, or an
overlay itself), the overlay's blocks are merged into it, then each `set:` path is set, then
each `--set PATH=VALUE` of the command line:

- a mapping is merged key by key: a key the overlay gives is merged into the base's, the
  others stay as the base has them;
- a list of named entries is merged entry by entry, by name: routes (`transitions.<state>`) by
  `to` (and by `at_week` where a state has a rate route and a clock route to one destination),
  `interventions` and `targets` by `name`, `caseworkers` by `team`, `assumptions` and the
  `parameters` of `calibrate` and `uncertainty` by `path`, `not_evaluated` by `target`. An
  entry whose name the base lacks is added at the end; `remove: true` takes the base's out;
- any other value or list (rate bands, an intervention's states, `observed`, `rules`, the
  `parameters:` files) replaces the base's; an inflow given as a number sets its rate only
  (the base's seasonality and trend stay);
- `set:` (`PATH: VALUE`) sets one single value by its key path, as parameter paths name it
  (`transitions.a_dagpenge.job.rate_per_week.1`, `interventions.<name>.places`).

Every value keeps the file and line it was written at, so that a problem names the overlay for
what the overlay wrote and the base for the rest. Each file is read with the reader's safety
checks (a regular file, at most 5 MB, no anchors); a cycle, a missing base and a chain of more
than `MAX_EXTENDS` bases are refused. File names written in a base (`parameters:`,
`calibrate.observed`) keep naming the files next to the base.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path as FsPath
from typing import Any

import yaml

from sim.contract.errors import Problem, ScenarioError
from sim.contract.fields import shown
from sim.contract.parameters import PathError, is_number, set_path
from sim.contract.yamlio import Path, find_relative, format_path, load_yaml, parse_text, read_text

EXTENDS = "extends"
"""The key that makes a scenario file an overlay: the base's file name."""
SET = "set"
"""An overlay's `PATH: VALUE` mapping of single values to set."""
SETTING = "--set"
"""What a problem names for a value the command line's `--set` gave."""
REMOVE = "remove"
"""`remove: true` in a named entry of an overlay takes the base's entry out."""
MAX_EXTENDS = 5
"""The most bases in a row (an overlay of an overlay of … a scenario): deeper is refused, as no
variant needs it and each level is a file to read."""

Origin = tuple[str, int | None]
"""The file (or `--set`) a value was written in, and its line."""

NAMED_LISTS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("transitions", "*"), "to"),
    (("interventions",), "name"),
    (("targets",), "name"),
    (("caseworkers",), "team"),
    (("assumptions",), "path"),
    (("not_evaluated",), "target"),
    (("calibrate", "parameters"), "path"),
    (("uncertainty", "parameters"), "path"),
)
"""The lists an overlay merges entry by entry, and the key that names an entry ('*': any key)."""


@dataclass(frozen=True)
class Provenance:
    """Where each value of resolved scenario data was written, and the order the files apply."""

    origins: dict[Path, Origin]
    """File and line by key path (of the resolved data)."""
    order: tuple[str, ...]
    """The files from the first base to the overlay, then `--set` when given."""

    def where(self, path: Path, default: str) -> Origin:
        """The file and line of the value at `path`, or of the nearest block holding it."""
        while path:
            if path in self.origins:
                return self.origins[path]
            path = path[:-1]
        return default, None

    def later(self, prefix: Path, file: str) -> Origin | None:
        """Where a file applied after `file` wrote a value at or under `prefix` (None: nowhere)."""
        rank = self.order.index(file) if file in self.order else len(self.order)
        at = self.where(prefix, file)
        if self._rank(at[0]) > rank:
            return at
        n = len(prefix)
        for path, origin in self.origins.items():
            if len(path) > n and path[:n] == prefix and self._rank(origin[0]) > rank:
                return origin
        return None

    def _rank(self, file: str) -> int:
        return self.order.index(file) if file in self.order else -1


def parse_setting(text: str) -> tuple[str, Any]:
    """A command line's `PATH=VALUE` as the path and the value read as a YAML single value;
    ValueError says what is wrong."""
    path, equals, value = text.partition("=")
    path = path.strip()
    if not equals or not path:
        raise ValueError(f"{text!r} is not PATH=VALUE, e.g. inflow_per_week.sygedagpenge.rate=25")
    try:
        parsed, _ = load_yaml(value)
    except (yaml.YAMLError, ValueError) as exc:
        raise ValueError(f"{text!r}: the value {value!r} cannot be read as YAML ({exc})") from None
    if isinstance(parsed, dict | list):
        kind = "mapping" if isinstance(parsed, dict) else "list"
        raise ValueError(f"{text!r}: the value is a {kind}, not a "
                         "single value (a number, text, a date, true or false); write lists and blocks in an "
                         "overlay file")
    return path, parsed


def resolve(data: Any, lines: dict[Path, int], source: str,
            settings: Sequence[tuple[str, Any]] = ()) -> tuple[Any, Provenance]:
    """Scenario data with its bases merged in and its `set:` and `settings` applied, and where
    each value was written; `ScenarioError` names the file and line of each refusal."""
    top = FsPath(source)
    seen = (top.resolve(),) if top.is_file() else ()
    merged, origins, order = _resolve(data, lines, source, seen, (top.name,))
    if settings and isinstance(merged, dict):
        for path, value in settings:
            keys = _set(merged, path, value, SETTING, None, path)
            origins[keys] = (SETTING, None)
        order = [*order, SETTING]
    if isinstance(merged, dict):
        _rebase_observed(merged, origins, source)
    return merged, Provenance(origins, tuple(order))


def resolve_file(path: str | os.PathLike[str], settings: Sequence[tuple[str, Any]] = ()
                 ) -> tuple[Any, Provenance]:
    """A scenario file's data with its bases merged (not validated): what `load_scenario` checks."""
    data, lines = parse_text(read_text(path), str(path))
    return resolve(data, lines, str(path), settings)


def _own(lines: dict[Path, int], source: str) -> dict[Path, Origin]:
    return {path: (source, line) for path, line in lines.items()}


def _refuse(source: str, path: Path, message: str, line: int | None) -> ScenarioError:
    return ScenarioError([Problem(source, format_path(path), message, line)])


def _resolve(data: Any, lines: dict[Path, int], source: str, seen: tuple[FsPath, ...],
             chain: tuple[str, ...]) -> tuple[Any, dict[Path, Origin], list[str]]:
    """One file's data merged onto its base's (recursively), its origins and the files' order."""
    origins = _own(lines, source)
    if not isinstance(data, dict):
        return data, origins, [source]
    if EXTENDS not in data:
        if SET in data:
            raise _refuse(source, (SET,), "set: changes values of a base scenario; give the base with "
                          "extends: (a file relative to this one), or write the values in their blocks",
                          lines.get((SET,)))
        return data, origins, [source]
    name = data[EXTENDS]
    line = lines.get((EXTENDS,))
    if not isinstance(name, str) or not name.strip():
        raise _refuse(source, (EXTENDS,), f"{shown(name)} is not a file name; extends: names the base "
                      "scenario's file, relative to this file's folder", line)
    base = FsPath(name) if FsPath(name).is_absolute() else FsPath(source).parent / name
    real = base.resolve()
    if real in seen:
        raise _refuse(source, (EXTENDS,), f"{name!r} is a file of this chain again "
                      f"({' → '.join((*chain, name))}): a cycle; the last base must be a full scenario, "
                      "without extends:", line)
    if len(chain) > MAX_EXTENDS:
        raise _refuse(source, (EXTENDS,), f"{name!r} would be base number {len(chain)} in a row "
                      f"({' → '.join((*chain, name))}); an overlay may stack at most {MAX_EXTENDS} bases: "
                      "make one of them a full scenario", line)
    if not base.exists() and not base.is_symlink():
        raise _refuse(source, (EXTENDS,), f"no base scenario {name!r}: there is no {base}; extends: "
                      "names the base's file, relative to this file's folder", line)
    try:
        text = read_text(base, "a base scenario YAML file")
    except ScenarioError as exc:
        raise _refuse(source, (EXTENDS,), f"the base {name!r} {exc.problems[0].message}", line) from None
    called = os.path.normpath(base)  # what problems name it: plans/base.yaml, not variants/../plans/base.yaml
    base_data, base_lines = parse_text(text, called)
    if base_data is None or not isinstance(base_data, dict):
        what = "is empty" if base_data is None else f"is {shown(base_data)}, not a mapping of keys"
        raise _refuse(called, (), f"the file {what}; a base is a scenario file (name:, start:, …) "
                      "or an overlay of one", None)
    resolved, base_origins, order = _resolve(base_data, base_lines, called, (*seen, real), (*chain, name))
    blocks = {k: v for k, v in data.items() if k not in (EXTENDS, SET)}
    merge = _Merge(base_origins, origins, source)
    merged = merge.merge(resolved, (), blocks, (), ())
    if SET in data:
        changes = data[SET]
        if not isinstance(changes, dict):
            raise _refuse(source, (SET,), f"{shown(changes)} is not a mapping; set: maps key paths to single "
                          "values, e.g. set: {transitions.a_dagpenge.job.rate_per_week: 0.05}",
                          lines.get((SET,)))
        for path, value in changes.items():
            at = lines.get((SET, str(path)))
            keys = _set(merged, path, value, source, at, format_path((SET, str(path))))
            merge.out[keys] = (source, at)
    return merged, merge.out, [*order, source]


def _set(data: dict[str, Any], path: Any, value: Any, source: str, line: int | None, shown_as: str) -> Path:
    """Set one single value by its dotted key path, or refuse naming where it was asked (`source`
    and `line`, the path `shown_as`)."""
    def refuse(message: str) -> ScenarioError:
        return ScenarioError([Problem(source, shown_as, message, line)])

    if not isinstance(path, str):
        raise refuse(f"{shown(path)} is not a key path; give dotted keys such as "
                     "inflow_per_week.sygedagpenge.rate")
    if isinstance(value, dict | list):
        raise refuse(f"{shown(value)} is not a single value; {SET}: and {SETTING} set one value (a number, "
                     "text, a date, true or false): change a list or a block by writing it in the overlay")
    try:
        return set_path(data, path, copy.deepcopy(value))
    except PathError as exc:
        raise refuse(f"{exc}; a path names a value the scenario has") from None


def _rebase_observed(data: dict[str, Any], origins: dict[Path, Origin], target: str) -> None:
    """`calibrate.observed` written in a base, as a name that finds from `target`'s folder (where
    the commands look for it) the file it names from the base's; `parameters:` files need no
    such care: the loader looks for each next to the file that names it."""
    block = data.get("calibrate")
    if not isinstance(block, dict) or not isinstance(block.get("observed"), str):
        return
    written = origins.get(("calibrate", "observed"), (target, None))[0]
    if written == SETTING or FsPath(written).resolve().parent == FsPath(target).resolve().parent:
        return
    found = find_relative(block["observed"], written)
    if found is None:
        return  # not found from its own file either: the command that reads it says so
    try:
        block["observed"] = os.path.relpath(found.resolve(), FsPath(target).resolve().parent)
    except ValueError:  # another drive
        block["observed"] = str(found.resolve())


def _named(path: Path) -> str | None:
    """The key that names an entry of the list at `path`, when an overlay merges it by name."""
    for pattern, key in NAMED_LISTS:
        if len(pattern) == len(path) and all(p in ("*", q) for p, q in zip(pattern, path, strict=True)):
            return key
    return None


class _Merge:
    """An overlay merged onto its base, recording where each value of the result comes from."""

    def __init__(self, base: dict[Path, Origin], over: dict[Path, Origin], source: str) -> None:
        self.base = base
        self.over = over
        self.source = source
        self.out: dict[Path, Origin] = {}

    def copy(self, node: Any, origins: dict[Path, Origin], at: Path, to: Path) -> Any:
        """A copy of one file's value, its origins moved from `at` to `to`."""
        self._note(node, origins, at, to)
        return copy.deepcopy(node)

    def _note(self, node: Any, origins: dict[Path, Origin], at: Path, to: Path) -> None:
        if at in origins:
            self.out[to] = origins[at]
        if isinstance(node, dict):
            for key, value in node.items():
                self._note(value, origins, (*at, str(key)), (*to, str(key)))
        elif isinstance(node, list):
            for i, value in enumerate(node):
                self._note(value, origins, (*at, i), (*to, i))

    def merge(self, base: Any, at: Path, over: Any, over_at: Path, to: Path) -> Any:
        """The overlay's value `over` merged onto the base's `base` at key path `to`."""
        if len(to) == 2 and to[0] == "inflow_per_week":  # a number is the rate: {rate: number}
            if is_number(over) and isinstance(base, dict):
                self.over[(*over_at, "rate")] = self.over.get(over_at, (self.source, None))
                over = {"rate": over}
            elif is_number(base) and isinstance(over, dict):
                self.base[(*at, "rate")] = self.base.get(at, (self.source, None))
                base = {"rate": base}
        if isinstance(base, dict) and isinstance(over, dict):
            if over_at in self.over:
                self.out[to] = self.over[over_at]
            out: dict[Any, Any] = {}
            for key, value in base.items():
                step = str(key)
                if key in over:
                    out[key] = self.merge(value, (*at, step), over[key], (*over_at, step), (*to, step))
                else:
                    out[key] = self.copy(value, self.base, (*at, step), (*to, step))
            for key, value in over.items():
                if key not in base:
                    out[key] = self.copy(value, self.over, (*over_at, str(key)), (*to, str(key)))
            return out
        name = _named(to)
        if name is not None and isinstance(base, list) and isinstance(over, list):
            return self._entries(base, at, over, over_at, to, name)
        return self.copy(over, self.over, over_at, to)

    def _entries(self, base: list[Any], at: Path, over: list[Any], over_at: Path, to: Path,
                 name: str) -> list[Any]:
        """A list of named entries: the overlay's merged onto the base's of the same name."""
        if over_at in self.over:
            self.out[to] = self.over[over_at]
        matched: dict[int, int] = {}
        removed: set[int] = set()
        added: list[int] = []
        for j, entry in enumerate(over):
            where = (*over_at, j)
            if not isinstance(entry, dict):
                raise self._refuse(where, f"{shown(entry)} is not an entry; an overlay's entry of "
                                   f"{format_path(to)} is a mapping that gives the {name} of the base's "
                                   "entry it changes, or of one it adds")
            i = self._match(base, entry, where, to, name)
            if REMOVE in entry:
                if entry[REMOVE] is not True:
                    raise self._refuse((*where, REMOVE), f"{shown(entry[REMOVE])} is not allowed; {REMOVE}: "
                                       "true takes the base's entry out (leave it out otherwise)")
                if i is None:
                    raise self._refuse(where, f"the base has no entry of {format_path(to)} with {name} "
                                       f"{shown(entry.get(name))} to remove")
                removed.add(i)
                continue
            if i is None:
                added.append(j)
            elif i in matched or i in removed:
                raise self._refuse(where, f"the base's entry {shown(entry.get(name))} of {format_path(to)} "
                                   "is changed twice in the overlay; change it in one entry")
            else:
                matched[i] = j
        out: list[Any] = []
        for i, entry in enumerate(base):
            if i in removed:
                continue
            if i in matched:
                j = matched[i]
                out.append(self.merge(entry, (*at, i), over[j], (*over_at, j), (*to, len(out))))
            else:
                out.append(self.copy(entry, self.base, (*at, i), (*to, len(out))))
        for j in added:
            out.append(self.copy(over[j], self.over, (*over_at, j), (*to, len(out))))
        return out

    def _match(self, base: list[Any], entry: dict[str, Any], where: Path, to: Path, name: str) -> int | None:
        """The position of the base's entry an overlay's entry names (None: a new entry)."""
        if entry.get(name) is None:
            raise self._refuse(where, f"an overlay's entry of {format_path(to)} gives the {name} of the "
                               "base's entry it changes (or of the entry it adds); this one gives none")
        found = [i for i, b in enumerate(base) if isinstance(b, dict) and b.get(name) == entry[name]]
        if len(found) > 1 and name == "to":  # a rate route and a clock route to one destination
            week = entry.get("at_week")
            found = [i for i in found if base[i].get("at_week") == week] or found
            if len(found) > 1:
                weeks = ", ".join("none" if base[i].get("at_week") is None else shown(base[i]["at_week"])
                                  for i in found)
                raise self._refuse(where, f"the base has {len(found)} routes to {shown(entry[name])} "
                                   f"(at_week: {weeks}); give the at_week of the one to change (none for "
                                   "the rate route)")
        if len(found) > 1:
            raise self._refuse(where, f"the base has {len(found)} entries with {name} {shown(entry[name])}; "
                               "an overlay changes an entry by a name the base gives once")
        return found[0] if found else None

    def _refuse(self, where: Path, message: str) -> ScenarioError:
        file, line = self.over.get(where, (self.source, None))
        return ScenarioError([Problem(file, format_path(where), message, line)])
