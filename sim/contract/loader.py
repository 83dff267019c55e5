"""Load a scenario file: safe YAML, schema, cross-references; every problem in one sentence.

This is the boundary: what leaves `load_scenario` is a valid `Scenario`, trusted inside.
"""

from __future__ import annotations

from pathlib import Path as FsPath
from typing import Any

import yaml
from pydantic import ValidationError

from sim.contract.crosscheck import cross_check
from sim.contract.errors import Problem, ScenarioError
from sim.contract.messages import Gaps, clean_errors, salvage, short, translate
from sim.contract.parameters import PathError, with_values
from sim.contract.schema import Scenario
from sim.contract.yamlio import DuplicateKeyError, Path, format_path, load_yaml

_GIVE_FILE = "give the path of a scenario YAML file"
_MAPPING = "a scenario file is a YAML mapping (name:, start:, months:, states:, …)"


def load_scenario(path: str | FsPath, parameters: bool = True) -> Scenario:
    """Read and validate a scenario file; raise `ScenarioError` listing every problem.

    With `parameters=False` the `parameters:` file is not applied (calibration starts from the
    scenario's own values)."""
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
    return parse_scenario(text, name, parameters)


def parse_scenario(text: str, source: str = "<scenario>", parameters: bool = True) -> Scenario:
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
    return scenario_from_dict(data, source, lines, parameters)


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
                       lines: dict[Path, int] | None = None, parameters: bool = True) -> Scenario:
    """Validate already-parsed scenario data (a dict as the YAML would give)."""
    lines = lines or {}
    if data is None:
        raise ScenarioError([Problem(source, "", f"the file is empty; {_MAPPING}")])
    if not isinstance(data, dict):
        raise ScenarioError([Problem(source, "", f"{short(data)} is not a mapping of keys; {_MAPPING}")])
    first: list[tuple[Path, str]] = []  # inline parameters that do not fit, reported with the rest
    if not parameters:
        data = {k: v for k, v in data.items() if k != "parameters"}
    elif isinstance(data.get("parameters"), str):
        data = _with_parameter_file(data, source, lines)
    elif isinstance(data.get("parameters"), dict) and isinstance(data["parameters"].get("values"), dict):
        try:
            data = with_values(data, data["parameters"]["values"])
        except (PathError, TypeError, ValueError) as exc:
            first.append((("parameters", "values"), f"sets a value the scenario does not have: {exc}"))
            data = {k: v for k, v in data.items() if k != "parameters"}
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        errors = clean_errors(exc, data)
        found = first + translate(errors)
        # Check the rest too, so that one run of validate lists every problem: the refused
        # items are set aside and the cross-checks skip what depends on them.
        salvaged = salvage(data, errors)
        if salvaged is not None:
            partial, gaps = salvaged
            found += [(gaps.original(p), m) for p, m in cross_check(partial, gaps)]
        raise ScenarioError(_problems(found, source, lines)) from None
    found = first + cross_check(scenario, Gaps())
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


PARAMETER_KEYS = ("values", "standard_errors", "covariance", "bounds")
"""What a scenario takes from its `parameters:` file; the rest (fit, residuals) is for people."""


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


def _with_parameter_file(data: dict[str, Any], source: str, lines: dict[Path, int]) -> dict[str, Any]:
    """Scenario data with the values of its `parameters:` file applied, and the file's fit in its place."""
    name = data["parameters"]

    def refuse(message: str) -> ScenarioError:
        return ScenarioError([Problem(source, "parameters", message, lines.get(("parameters",)))])

    found = find_relative(name, source)
    if found is None:
        raise refuse(f"no parameter file {name!r} next to the scenario or in a folder above it; "
                     "give the path of a file written by `caseflow calibrate`")
    try:
        fit, _ = load_yaml(found.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError, DuplicateKeyError) as exc:
        raise refuse(f"{name!r} cannot be read as YAML: {exc}") from None
    if not isinstance(fit, dict) or not isinstance(fit.get("values"), dict):
        raise refuse(f"{name!r} has no `values:` mapping of parameter paths to numbers; "
                     "it must be a file written by `caseflow calibrate`")
    try:
        out = with_values(data, fit["values"])
    except (PathError, TypeError, ValueError) as exc:
        raise refuse(f"{name!r} sets a value the scenario does not have: {exc}") from None
    out["parameters"] = {"source": str(name), **{k: fit[k] for k in PARAMETER_KEYS if k in fit}}
    return out
