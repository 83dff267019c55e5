"""Load a scenario file: safe YAML, schema, cross-references; every problem in one sentence.

This is the boundary: what leaves `load_scenario` is a valid `Scenario`, trusted inside.
"""

from __future__ import annotations

from pathlib import Path as FsPath
from typing import Any

import yaml
from pydantic import ValidationError

from sim.crosscheck import cross_check
from sim.errors import Problem, ScenarioError
from sim.messages import Gaps, clean_errors, salvage, short, translate
from sim.schema import Scenario
from sim.yamlio import DuplicateKeyError, Path, format_path, load_yaml

_GIVE_FILE = "give the path of a scenario YAML file"
_MAPPING = "a scenario file is a YAML mapping (name:, start:, months:, states:, …)"


def load_scenario(path: str | FsPath) -> Scenario:
    """Read and validate a scenario file; raise `ScenarioError` listing every problem."""
    name = str(path)
    try:
        text = FsPath(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ScenarioError([Problem(name, "", f"no such file; {_GIVE_FILE}")]) from None
    except IsADirectoryError:
        raise ScenarioError([Problem(name, "", f"is a folder; {_GIVE_FILE}")]) from None
    except UnicodeDecodeError as exc:
        raise ScenarioError([Problem(name, "", f"is not UTF-8 text ({exc.reason} at byte {exc.start}); "
                                     "save the scenario as UTF-8")]) from None
    except OSError as exc:
        raise ScenarioError([Problem(name, "", f"cannot be read: {exc.strerror or exc}")]) from None
    return parse_scenario(text, name)


def parse_scenario(text: str, source: str = "<scenario>") -> Scenario:
    """Validate scenario YAML text; `source` names it in messages."""
    try:
        data, lines = load_yaml(text)
    except DuplicateKeyError as exc:
        what, rule = (("state", "each state is declared once") if exc.path == ("states",)
                      else ("key", "a key may appear only once in a mapping"))
        path = format_path((*exc.path, exc.key))
        raise ScenarioError([Problem(source, path, f"duplicated {what}: {exc}; {rule}", exc.line)]) from None
    except yaml.YAMLError as exc:
        raise ScenarioError([_yaml_problem(exc, source)]) from None
    return scenario_from_dict(data, source, lines)


def _yaml_problem(exc: yaml.YAMLError, source: str) -> Problem:
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


def scenario_from_dict(data: Any, source: str = "<scenario>",
                       lines: dict[Path, int] | None = None) -> Scenario:
    """Validate already-parsed scenario data (a dict as the YAML would give)."""
    lines = lines or {}
    if data is None:
        raise ScenarioError([Problem(source, "", f"the file is empty; {_MAPPING}")])
    if not isinstance(data, dict):
        raise ScenarioError([Problem(source, "", f"{short(data)} is not a mapping of keys; {_MAPPING}")])
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        errors = clean_errors(exc, data)
        found = translate(errors)
        # Check the rest too, so that one run of validate lists every problem: the refused
        # items are set aside and the cross-checks skip what depends on them.
        salvaged = salvage(data, errors)
        if salvaged is not None:
            partial, gaps = salvaged
            found += [(gaps.original(p), m) for p, m in cross_check(partial, gaps)]
        raise ScenarioError(_problems(found, source, lines)) from None
    found = cross_check(scenario, Gaps())
    if found:
        raise ScenarioError(_problems(found, source, lines))
    return scenario


def _problems(found: list[tuple[Path, str]], source: str, lines: dict[Path, int]) -> list[Problem]:
    problems = [Problem(source, format_path(p), m, _line(lines, p)) for p, m in found]
    return sorted(dict.fromkeys(problems), key=lambda p: p.line or 0)


def _line(lines: dict[Path, int], path: Path) -> int | None:
    while path:
        if path in lines:
            return lines[path]
        path = path[:-1]
    return None
