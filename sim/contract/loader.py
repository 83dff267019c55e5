"""Load a scenario file: safe YAML, schema, cross-references; every problem in one sentence.

This is the boundary: what leaves `load_scenario` is a valid `Scenario`, trusted inside.
"""

from __future__ import annotations

import copy
from collections.abc import Collection
from pathlib import Path as FsPath
from typing import Any

import yaml
from pydantic import ValidationError

from sim.contract.crosscheck import cross_check
from sim.contract.errors import Problem, ScenarioError
from sim.contract.messages import Gaps, clean_errors, salvage, short, translate
from sim.contract.parameters import PathError, with_values
from sim.contract.schema import Scenario
from sim.contract.yamlio import DuplicateKeyError, Path, format_path, load_yaml, read_text

_MAPPING = "a scenario file is a YAML mapping (name:, start:, months:, states:, …)"


def load_scenario(path: str | FsPath, parameters: bool = True, refit: Collection[str] = ()) -> Scenario:
    """Read and validate a scenario file; raise `ScenarioError` listing every problem.

    With `parameters=False` no `parameters:` file is applied. `refit` names parameter paths
    about to be fitted again: a parameter file that sets one of them (the fit being redone), or
    that does not exist yet, is left out and the others are applied (calibration starts from
    the scenario with its other fits)."""
    text = read_text(path)  # a regular file of bounded size, UTF-8, or a ScenarioError naming it
    return parse_scenario(text, str(path), parameters, refit)


def parse_scenario(text: str, source: str = "<scenario>", parameters: bool = True,
                   refit: Collection[str] = ()) -> Scenario:
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
    return scenario_from_dict(data, source, lines, parameters, refit)


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


def scenario_from_dict(data: Any, source: str = "<scenario>", lines: dict[Path, int] | None = None,
                       parameters: bool = True, refit: Collection[str] = ()) -> Scenario:
    """Validate already-parsed scenario data (a dict as the YAML would give).

    `parameters:` is the path of a parameter file `caseflow calibrate` wrote, a list of such
    paths, or an inline mapping with `values:` (see `load_scenario` for `parameters` and `refit`)."""
    lines = lines or {}
    if data is None:
        raise ScenarioError([Problem(source, "", f"the file is empty; {_MAPPING}")])
    if not isinstance(data, dict):
        raise ScenarioError([Problem(source, "", f"{short(data)} is not a mapping of keys; {_MAPPING}")])
    first: list[tuple[Path, str]] = []  # inline parameters that do not fit, reported with the rest
    if not parameters:
        data = {k: v for k, v in data.items() if k != "parameters"}
    elif isinstance(data.get("parameters"), str | list):
        data = _with_parameter_files(data, source, lines, frozenset(refit))
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
    found = first + cross_check(scenario, Gaps()) + _undrawable(scenario)
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


PARAMETER_KEYS = ("values", "standard_errors", "covariance", "bounds", "unidentified")
"""What a scenario takes from its `parameters:` file; the rest (fit, residuals) is for people."""
SCENARIO_BLOCKS = ("transitions", "inflow_per_week")
"""Scenario-ready blocks of a spell fit, applied before its values: a fitted state's routes and
a fitted inflow's rate (`sim.fitting.spell_routes`)."""


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


def _undrawable(scenario: Scenario) -> list[tuple[Path, str]]:
    """A fit's unidentified values drawn per replication: refused (they have no standard error)."""
    fit, u = scenario.parameters, scenario.uncertainty
    if fit is None or u is None or not u.fitted or not fit.unidentified:
        return []
    own = {p.path for p in u.parameters}
    blind = [p for p in fit.unidentified if p not in own]
    if not blind:
        return []
    return [(("parameters",), f"{', '.join(blind)} {'is' if len(blind) == 1 else 'are'} unidentified in "
             f"{fit.source or 'the fit'} ({fit.unidentified[blind[0]]}), so the fit cannot draw "
             f"{'it' if len(blind) == 1 else 'them'} with uncertainty.fitted: true; give a prior "
             "(calibrate.parameters: spread) and fit again, draw it with an sd of your own under "
             "uncertainty.parameters, or set uncertainty.fitted: false")]


def _with_parameter_files(data: dict[str, Any], source: str, lines: dict[Path, int],
                          refit: frozenset[str]) -> dict[str, Any]:
    """Scenario data with the values of its `parameters:` file (or list of files) applied, in
    order, and their fits merged in its place: each path fitted by one file only, the files'
    covariances as the blocks of one block-diagonal covariance."""
    given = data["parameters"]
    names = [given] if isinstance(given, str) else list(given)
    out = copy.deepcopy(data)
    fits: list[tuple[str, dict[str, Any]]] = []
    fitted_by: dict[str, str] = {}
    for i, name in enumerate(names):
        where: Path = ("parameters",) if isinstance(given, str) else ("parameters", i)

        def refuse(message: str, where: Path = where) -> ScenarioError:
            return ScenarioError([Problem(source, format_path(where), message, _line(lines, where))])

        if not isinstance(name, str):
            raise refuse(f"{short(name)} is not a file name; `parameters:` is the path of a file written "
                         "by `caseflow calibrate`, or a list of such paths")
        fit = _read_fit(name, source, refuse, missing_ok=bool(refit))
        if fit is None or refit & set(fit["values"]):
            continue  # the fit being redone
        for path in fit["values"]:
            if path in fitted_by:
                raise refuse(f"{path} is fitted in both {fitted_by[path]!r} and {name!r}; a path is "
                             "fitted once: leave it out of one of the fits")
            fitted_by[path] = name
        try:
            out = _apply_fit(out, fit)
        except (PathError, TypeError, ValueError) as exc:
            raise refuse(f"{name!r} sets a value the scenario does not have: {exc}") from None
        fits.append((name, fit))
    if fits:
        out["parameters"] = _merged(fits)
    else:
        out.pop("parameters")
    return out


def _read_fit(name: str, source: str, refuse: Any, missing_ok: bool) -> dict[str, Any] | None:
    """A parameter file's data (None: missing, when `missing_ok`); refused unless it has `values:`."""
    found = find_relative(name, source)
    if found is None:
        if missing_ok:
            return None
        raise refuse(f"no parameter file {name!r} next to the scenario or in a folder above it; "
                     "give the path of a file written by `caseflow calibrate`")
    try:
        fit, _ = load_yaml(read_text(found, "a parameter file written by `caseflow calibrate`"))
    except ScenarioError as exc:
        raise refuse(f"{name!r} {exc.problems[0].message}") from None
    except (yaml.YAMLError, DuplicateKeyError) as exc:
        raise refuse(f"{name!r} cannot be read as YAML: {exc}") from None
    if not isinstance(fit, dict) or not isinstance(fit.get("values"), dict):
        raise refuse(f"{name!r} has no `values:` mapping of parameter paths to numbers; "
                     "it must be a file written by `caseflow calibrate`")
    return fit


def _apply_fit(data: dict[str, Any], fit: dict[str, Any]) -> dict[str, Any]:
    """Data with a fit's scenario-ready blocks, values and inflow anchors applied."""
    out = copy.deepcopy(data)
    routes = fit.get("transitions")
    if isinstance(routes, dict):
        transitions = dict(out.get("transitions") or {})
        for state, listed in routes.items():
            transitions[state] = fitted_routes(listed, transitions.get(state))
        out["transitions"] = transitions
    rates = fit.get("inflow_per_week")
    if isinstance(rates, dict):
        inflows = dict(out.get("inflow_per_week") or {})
        for state, rate in rates.items():
            own = inflows.get(state)
            inflows[state] = {**own, "rate": rate} if isinstance(own, dict) else rate
        out["inflow_per_week"] = inflows
    out = with_values(out, fit["values"])
    anchors = fit.get("anchors")
    if isinstance(anchors, dict):
        inflows = out.get("inflow_per_week") or {}
        for path, date in anchors.items():
            state = str(path).split(".")[1] if str(path).count(".") >= 1 else ""
            if state not in inflows:
                raise ValueError(f"anchors: {path!r} names no inflow of the scenario")
            own = inflows[state]
            inflows[state] = {**own, "trend_from": date} if isinstance(own, dict) else {"rate": own,
                                                                                       "trend_from": date}
    return out


def fitted_routes(fitted: Any, own: Any) -> Any:
    """A state's routes with a spell fit's in place of its own: the fit's hazards and clocks, and
    the scenario's clocks at weeks the fit does not have (clock part only)."""
    if not isinstance(fitted, list):
        return fitted  # refused by the schema with the rest
    weeks = {r.get("at_week") for r in fitted if isinstance(r, dict) and r.get("at_week") is not None}
    kept = [{k: r[k] for k in ("to", "at_week", "share") if k in r} for r in (own or [])
            if isinstance(r, dict) and r.get("at_week") is not None and r.get("at_week") not in weeks]
    return [*fitted, *kept]


def _merged(fits: list[tuple[str, dict[str, Any]]]) -> dict[str, Any]:
    """The `parameters` of several files as one: values, errors and bounds joined, the
    covariance block-diagonal."""
    if len(fits) == 1:
        name, fit = fits[0]
        return {"source": str(name), **{k: fit[k] for k in PARAMETER_KEYS if k in fit}}
    merged: dict[str, Any] = {"source": ", ".join(name for name, _ in fits)}
    for key in ("values", "standard_errors", "bounds", "unidentified"):
        merged[key] = {k: v for _, fit in fits for k, v in (fit.get(key) or {}).items()}
    if any(fit.get("covariance") for _, fit in fits):
        blocks = []
        for _, fit in fits:
            n = len(fit["values"])
            cov = fit.get("covariance")
            if not cov:
                errors = fit.get("standard_errors") or {}
                cov = [[float(errors.get(p, 0.0)) ** 2 if i == j else 0.0 for j in range(n)]
                       for i, p in enumerate(fit["values"])]
            blocks.append(cov)
        total = sum(len(b) for b in blocks)
        rows: list[list[float]] = []
        at = 0
        for b in blocks:
            for row in b:
                rows.append([0.0] * at + list(row) + [0.0] * (total - at - len(b)))
            at += len(b)
        merged["covariance"] = rows
    return merged
