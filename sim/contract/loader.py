"""Load a scenario file: safe YAML, schema, cross-references; every problem in one sentence.

This is the boundary: what leaves `load_scenario` is a valid `Scenario`, trusted inside.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from pathlib import Path as FsPath
from typing import Any

import yaml
from pydantic import ValidationError

from sim.contract.crosscheck import cross_check
from sim.contract.errors import Problem, ScenarioError
from sim.contract.messages import Gaps, clean_errors, salvage, short, translate
from sim.contract.overlay import EXTENDS, SET, Provenance, resolve
from sim.contract.parameters import PathError, key_path, with_values
from sim.contract.schema import Scenario
from sim.contract.yamlio import (
    DuplicateKeyError,
    Path,
    find_relative,
    format_path,
    load_yaml,
    parse_text,
    read_text,
)

__all__ = ["PARAMETER_KEYS", "SCENARIO_BLOCKS", "find_relative", "fitted_routes", "load_scenario",
           "parse_scenario", "scenario_from_dict"]

_MAPPING = "a scenario file is a YAML mapping (name:, start:, months:, states:, …)"


Setting = tuple[str, Any]
"""A key path and the single value to set it to (the command line's `--set PATH=VALUE`)."""


def load_scenario(path: str | FsPath, parameters: bool = True, refit: Collection[str] = (),
                  settings: Sequence[Setting] = ()) -> Scenario:
    """Read and validate a scenario file (an overlay's bases merged in: `sim.contract.overlay`);
    raise `ScenarioError` listing every problem.

    With `parameters=False` no `parameters:` file is applied. `refit` names parameter paths
    about to be fitted again: a parameter file that sets one of them (the fit being redone), or
    that does not exist yet, is left out and the others are applied (calibration starts from
    the scenario with its other fits). `settings` are set last, as `--set PATH=VALUE` does."""
    text = read_text(path)  # a regular file of bounded size, UTF-8, or a ScenarioError naming it
    return parse_scenario(text, str(path), parameters, refit, settings)


def parse_scenario(text: str, source: str = "<scenario>", parameters: bool = True,
                   refit: Collection[str] = (), settings: Sequence[Setting] = ()) -> Scenario:
    """Validate scenario YAML text; `source` names it in messages (and an overlay's base is
    found relative to it)."""
    data, lines = parse_text(text, source)
    if isinstance(data, dict) and (EXTENDS in data or SET in data or settings):
        data, provenance = resolve(data, lines, source, settings)
        return scenario_from_dict(data, source, lines, parameters, refit, provenance)
    return scenario_from_dict(data, source, lines, parameters, refit)


def scenario_from_dict(data: Any, source: str = "<scenario>", lines: dict[Path, int] | None = None,
                       parameters: bool = True, refit: Collection[str] = (),
                       provenance: Provenance | None = None) -> Scenario:
    """Validate already-parsed scenario data (a dict as the YAML would give).

    `parameters:` is the path of a parameter file `caseflow calibrate` wrote, a list of such
    paths, or an inline mapping with `values:` (see `load_scenario` for `parameters` and `refit`).
    `provenance` (an overlay's) says in which file and line each value was written; without it
    every value is `source`'s, at `lines`."""
    lines = lines or {}
    where = _Where(source, lines, provenance)
    if data is None:
        raise ScenarioError([Problem(source, "", f"the file is empty; {_MAPPING}")])
    if not isinstance(data, dict):
        raise ScenarioError([Problem(source, "", f"{short(data)} is not a mapping of keys; {_MAPPING}")])
    first: list[tuple[Path, str]] = []  # inline parameters that do not fit, reported with the rest
    if not parameters:
        data = {k: v for k, v in data.items() if k != "parameters"}
    elif isinstance(data.get("parameters"), str | list):
        data = _with_parameter_files(data, where, frozenset(refit))
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
        raise ScenarioError(where.problems(found)) from None
    found = first + cross_check(scenario, Gaps()) + _undrawable(scenario)
    if found:
        raise ScenarioError(where.problems(found))
    return scenario


class _Where:
    """The file and line a problem at a key path names: `source` at `lines`, or with an
    overlay's provenance the file that wrote the value."""

    def __init__(self, source: str, lines: dict[Path, int], provenance: Provenance | None) -> None:
        self.source = source
        self.lines = lines
        self.provenance = provenance

    def at(self, path: Path) -> tuple[str, int | None]:
        """The file and line of the value at `path` (or of the nearest block holding it)."""
        if self.provenance is None:
            return self.source, _line(self.lines, path)
        return self.provenance.where(path, self.source)

    def problem(self, path: Path, message: str) -> Problem:
        """A problem at `path`, in the file that wrote it."""
        file, line = self.at(path)
        return Problem(file, format_path(path), message, line)

    def problems(self, found: list[tuple[Path, str]]) -> list[Problem]:
        """Problems by file (the overlay's first, then its bases') and line, each once."""
        order = self.provenance.order if self.provenance is not None else (self.source,)
        rank = {file: -i for i, file in enumerate(order)}
        problems = dict.fromkeys(self.problem(p, m) for p, m in found)
        return sorted(problems, key=lambda p: (rank.get(p.file, 0), p.line or 0))


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


def _with_parameter_files(data: dict[str, Any], at: _Where, refit: frozenset[str]) -> dict[str, Any]:
    """Scenario data with the values of its `parameters:` file (or list of files) applied, in
    order, and their fits merged in its place: each path fitted by one file only, the files'
    covariances as the blocks of one block-diagonal covariance. Each file is found next to the
    scenario file that names it (an overlay's base, for a base's `parameters:`)."""
    given = data["parameters"]
    names = [given] if isinstance(given, str) else list(given)
    out = dict(data)  # each fit applied makes a copy
    fits: list[tuple[str, dict[str, Any]]] = []
    fitted_by: dict[str, str] = {}
    for i, name in enumerate(names):
        where: Path = ("parameters",) if isinstance(given, str) else ("parameters", i)

        def refuse(message: str, where: Path = where) -> ScenarioError:
            return ScenarioError([at.problem(where, message)])

        if not isinstance(name, str):
            raise refuse(f"{short(name)} is not a file name; `parameters:` is the path of a file written "
                         "by `caseflow calibrate`, or a list of such paths")
        named_in = at.at(where)[0]
        fit = _read_fit(name, named_in, refuse, missing_ok=bool(refit))
        if fit is None or refit & set(fit["values"]):
            continue  # the fit being redone
        if at.provenance is not None:
            _not_overridden(out, fit, name, named_in, at.provenance)
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


def _not_overridden(data: dict[str, Any], fit: dict[str, Any], name: str, named_in: str,
                    provenance: Provenance) -> None:
    """Refuse a value that an overlay (or `--set`) changed after the file whose fit then replaces
    it: the change would be lost without a word."""
    held: list[tuple[str, Path]] = []
    for path in fit["values"]:
        try:
            held.append((str(path), key_path(data, str(path))))
        except (PathError, TypeError):
            continue  # applying the fit names it
    for block in SCENARIO_BLOCKS:
        for state in fit.get(block) or {} if isinstance(fit.get(block), dict) else {}:
            inflow = block == "inflow_per_week" and isinstance((data.get(block) or {}).get(state), dict)
            held.append((f"{block}.{state}", (block, str(state), *(("rate",) if inflow else ()))))
    for path, keys in held:
        later = provenance.later(keys, named_in)
        if later is not None:
            message = (f"{path} is fitted by {name!r} (the parameters: of {named_in}), which is applied "
                       "after this change and would replace it; leave it out here, or replace the base's "
                       "parameters: (parameters: [] for none)")
            raise ScenarioError([Problem(later[0], format_path(keys), message, later[1])])


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
    """A copy of data with a fit's scenario-ready blocks, values and inflow anchors applied
    (`with_values` copies it; the blocks replaced before are new)."""
    out = dict(data)
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
