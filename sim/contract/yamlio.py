"""Safe YAML reading that remembers where each key stood and refuses duplicated keys.

Only plain YAML (SafeLoader: no Python tags) is read. Each value's line is kept by key path so
that error messages can point at it.

Nothing a file holds can make the reading unbounded: a file is read only if it is a regular
file of at most `MAX_BYTES`, anchors and aliases (`&name`, `*name`, which let a few hundred
bytes expand to gigabytes) are refused, and so is nesting deeper than `MAX_DEPTH`. Numbers with
an exponent but no decimal point (`1e9`, `2E-3`), which YAML 1.1 would read as text, are read as
numbers, as YAML 1.2 and every spreadsheet read them.
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path as FsPath
from typing import Any

import yaml
import yaml.constructor

from sim.contract.errors import Problem, ScenarioError

Path = tuple[str | int, ...]

MAX_BYTES = 5_000_000
"""The largest YAML file read (5 MB). The largest shipped scenario is about 53 kB, with every
observed figure of its plan; 5 MB is a hundred times that, and still parses in a few seconds."""
MAX_DEPTH = 20
"""The deepest nesting read: a scenario's deepest value (a rate band of a route,
`transitions.<state>[i].rate_per_week[j][k]`) is 7 levels down, so 20 refuses only what no
scenario needs while staying far from the interpreter's recursion limit."""

_EXPONENT = re.compile(r"^[-+]?(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9_]+)[eE][-+]?[0-9]+$")
"""A number with an exponent, with or without a decimal point and the exponent's sign."""

_SCALARS = frozenset(f"tag:yaml.org,2002:{t}" for t in ("str", "int", "float", "bool", "null", "timestamp"))
"""The only tags a single value may carry; others (!!binary, !!python/…, !custom) are refused."""
_PLAIN = ("tag:yaml.org,2002:map", "tag:yaml.org,2002:seq")
"""The only tags a mapping or list may carry; others (!!python/…, !!set, !!omap) are refused."""


def format_path(path: Path) -> str:
    """Render a key path the way users write it: `transitions.a_dagpenge[1].rate_per_week`."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


class DuplicateKeyError(ValueError):
    """A mapping that names the same key twice (YAML would silently keep the last)."""

    def __init__(self, path: Path, key: str, line: int, first_line: int) -> None:
        self.path = path
        self.key = key
        self.line = line
        self.first_line = first_line
        super().__init__(f"{key!r} appears twice (lines {first_line} and {line})")


def _refuse(problem: str, mark: yaml.Mark | None = None) -> yaml.constructor.ConstructorError:
    return yaml.constructor.ConstructorError(None, None, problem, mark)


class _Loader(yaml.SafeLoader):
    """SafeLoader that refuses anchors, aliases and deep nesting while it composes, before any
    value is built, and reads `1e9` as a number."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
            raise _refuse("anchors and aliases (&name, *name) are not read; write the value out "
                          "in each place it is used", event.start_mark)
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise _refuse(f"nesting deeper than {MAX_DEPTH} levels is not read (a scenario's "
                              "deepest value is 7 levels down)", event.start_mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


_Loader.add_implicit_resolver("tag:yaml.org,2002:float", _EXPONENT, list("-+0123456789."))


class _Dumper(yaml.SafeDumper):
    """SafeDumper that never writes anchors or aliases, so that `load_yaml` reads back what it wrote."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def check_file(path: str | os.PathLike[str], what: str = "a scenario YAML file") -> None:
    """Raise `ScenarioError` naming the file unless it is a regular file of at most `MAX_BYTES`:
    a pipe or device would block or never end, and a folder or a missing file is said so. `what`
    says what the file should be."""
    name = str(path)
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise ScenarioError([Problem(name, "", f"no such file; give the path of {what}")]) from None
    except OSError as exc:
        raise ScenarioError([Problem(name, "", f"cannot be read: {exc.strerror or exc}")]) from None
    if stat.S_ISDIR(info.st_mode):
        raise ScenarioError([Problem(name, "", f"is a folder; give the path of {what}")])
    if not stat.S_ISREG(info.st_mode):
        raise ScenarioError([Problem(name, "", "is not a regular file (a pipe, device or socket); "
                                     f"give the path of {what}")])
    if info.st_size > MAX_BYTES:
        size = f"{info.st_size / 1e6:,.1f} MB"
        raise ScenarioError([Problem(name, "", f"is {size}, more than the {MAX_BYTES / 1e6:g} MB a YAML "
                                     f"file may have; give the path of {what}")])


def read_text(path: str | os.PathLike[str], what: str = "a scenario YAML file") -> str:
    """The text of a YAML file that `check_file` accepts, or `ScenarioError` naming it (also when
    it is not UTF-8, or grows past `MAX_BYTES` while it is read)."""
    check_file(path, what)
    name = str(path)
    try:
        with open(path, "rb") as file:
            data = file.read(MAX_BYTES + 1)
    except OSError as exc:
        raise ScenarioError([Problem(name, "", f"cannot be read: {exc.strerror or exc}")]) from None
    if len(data) > MAX_BYTES:
        raise ScenarioError([Problem(name, "", f"is more than the {MAX_BYTES / 1e6:g} MB a YAML file may "
                                     f"have; give the path of {what}")])
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ScenarioError([Problem(name, "", f"is not UTF-8 text ({exc.reason} at byte {exc.start}); "
                                     "save it as UTF-8")]) from None


def load_yaml(text: str) -> tuple[Any, dict[Path, int]]:
    """Parse YAML text safely; return the data and a map from key path to 1-based line."""
    size = len(text) if 4 * len(text) <= MAX_BYTES else len(text.encode("utf-8", "surrogatepass"))
    if size > MAX_BYTES:
        raise _refuse(f"the text is {size / 1e6:,.1f} MB, more than the {MAX_BYTES / 1e6:g} MB a YAML "
                      "file may have")
    node = yaml.compose(text, Loader=_Loader)
    lines: dict[Path, int] = {}
    if node is None:
        return None, lines
    constructor = yaml.constructor.SafeConstructor()
    return _build(node, (), lines, constructor), lines


def parse_text(text: str, source: str) -> tuple[Any, dict[Path, int]]:
    """`load_yaml`, with a malformed, unsupported or duplicated-key text refused as a
    `ScenarioError` naming `source` and the line."""
    try:
        return load_yaml(text)
    except DuplicateKeyError as exc:
        what, rule = (("state", "each state is declared once") if exc.path == ("states",)
                      else ("key", "a key may appear only once in a mapping"))
        path = format_path((*exc.path, exc.key))
        raise ScenarioError([Problem(source, path, f"duplicated {what}: {exc}; {rule}", exc.line)]) from None
    except yaml.YAMLError as exc:
        raise ScenarioError([yaml_problem(exc, source)]) from None


def yaml_problem(exc: yaml.YAMLError, source: str) -> Problem:
    """A YAML error as a problem of `source`, with its line and what to do."""
    mark = getattr(exc, "problem_mark", None)
    line = mark.line + 1 if mark is not None else None
    problem = getattr(exc, "problem", None) or str(exc)
    context, cmark = getattr(exc, "context", None), getattr(exc, "context_mark", None)
    if context and cmark is not None:
        problem += f" ({context} from line {cmark.line + 1})"
    elif context:
        problem += f" ({context})"
    if isinstance(exc, yaml.constructor.ConstructorError):
        return Problem(source, "", f"unsupported YAML: {problem}", line)
    hint = "indent with spaces, not tabs" if "'\\t'" in problem else "fix the syntax"
    return Problem(source, "", f"malformed YAML: {problem}; {hint}", line)


def find_relative(name: str, source: str) -> FsPath | None:
    """A file named relative to the scenario file's folder or one of its parents (or the working folder)."""
    given = FsPath(name)
    if given.is_absolute():
        return given if given.is_file() else None
    here = FsPath(source).resolve().parent
    for folder in (here, *here.parents, FsPath.cwd()):
        if (folder / given).is_file():
            return folder / given
    return None


def _tag(tag: str) -> str:
    """A tag as the file writes it: '!!binary' for 'tag:yaml.org,2002:binary'."""
    return "!!" + tag.removeprefix("tag:yaml.org,2002:") if tag.startswith("tag:yaml.org,2002:") else tag


def _build(node: yaml.Node, path: Path, lines: dict[Path, int], c: yaml.constructor.SafeConstructor) -> Any:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode | yaml.SequenceNode) and node.tag not in _PLAIN:
        raise _refuse(f"the tag {node.tag!r} is not allowed; only plain YAML is read", node.start_mark)
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        seen: dict[Any, int] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                raise _refuse("a key is a list or a mapping; keys are single values such as state "
                              "codes", key_node.start_mark)
            key = _build_scalar(key_node, c)
            if not isinstance(key, str | int | float | bool) and key is not None:
                key = str(key)
            key_line = key_node.start_mark.line + 1
            if key in seen:
                raise DuplicateKeyError(path, str(key), key_line, seen[key])
            seen[key] = key_line
            out[key] = _build(value_node, (*path, str(key)), lines, c)
            lines[(*path, str(key))] = key_line
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_build(v, (*path, i), lines, c) for i, v in enumerate(node.value)]
    return _build_scalar(node, c)


def _build_scalar(node: yaml.Node, c: yaml.constructor.SafeConstructor) -> Any:
    """One value; a date or number YAML cannot build (2018-02-30, a 5,000-digit number) stays
    text, so that the schema names it at its key path with what is allowed."""
    if node.tag == "tag:yaml.org,2002:value":  # a lone '=': text
        return str(node.value)
    if node.tag not in _SCALARS:
        merge = node.tag == "tag:yaml.org,2002:merge"
        what = "merge keys (<<) are" if merge else f"the tag {_tag(node.tag)!r} is"
        raise _refuse(f"{what} not allowed; only plain values (text, numbers, dates, true/false) are read",
                      node.start_mark)
    try:
        return c.construct_object(node, deep=True)
    except (ValueError, OverflowError):
        return str(node.value)


def dump_yaml(data: Any) -> str:
    """Write plain data as block-style YAML, keys in the given order, Danish letters kept, no anchors."""
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, default_flow_style=None)
