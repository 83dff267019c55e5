"""Load a scenario file: safe YAML, schema, cross-references; every problem in one sentence.

This is the boundary: what leaves `load_scenario` is a valid `Scenario`, trusted inside.
"""

from __future__ import annotations

import difflib
import re
from collections import defaultdict
from pathlib import Path as FsPath
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from sim.catalogue import CATALOGUE, EXITS, GROUPS, RESERVED, STAY, TOTAL
from sim.errors import Problem, ScenarioError
from sim.schema import Scenario
from sim.yamlio import DuplicateKeyError, Path, format_path, load_yaml

_CODE = re.compile(r"^[a-z][a-z0-9_]*$")
_METRICS = ("full_year_persons",)


def load_scenario(path: str | FsPath) -> Scenario:
    """Read and validate a scenario file; raise `ScenarioError` listing every problem."""
    name = str(path)
    try:
        text = FsPath(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ScenarioError([Problem(name, "", "no such file")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError([Problem(name, "", f"cannot be read: {exc}")]) from None
    return parse_scenario(text, name)


def parse_scenario(text: str, source: str = "<scenario>") -> Scenario:
    """Validate scenario YAML text; `source` names it in messages."""
    try:
        data, lines = load_yaml(text)
    except DuplicateKeyError as exc:
        what = "state" if exc.path == ("states",) else "key"
        path = format_path((*exc.path, exc.key))
        raise ScenarioError([Problem(source, path, f"duplicated {what}: {exc}", exc.line)]) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc)
        raise ScenarioError(
            [Problem(source, "", f"malformed YAML: {problem}; fix the syntax", line)]
        ) from None
    return scenario_from_dict(data, source, lines)


def scenario_from_dict(data: Any, source: str = "<scenario>",
                       lines: dict[Path, int] | None = None) -> Scenario:
    """Validate already-parsed scenario data (a dict as the YAML would give)."""
    lines = lines or {}
    if not isinstance(data, dict):
        raise ScenarioError([Problem(source, "", f"{_short(data)} is not a mapping of keys; "
                                     "a scenario file is a YAML mapping (name:, start:, …)")])
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        problems = _translate(exc, data, source, lines)
        raise ScenarioError(sorted(problems, key=lambda p: p.line or 0)) from None
    problems = [Problem(source, format_path(p), m, _line(lines, p)) for p, m in _cross_check(scenario)]
    if problems:
        raise ScenarioError(sorted(problems, key=lambda p: p.line or 0))
    return scenario


def _line(lines: dict[Path, int], path: Path) -> int | None:
    while path:
        if path in lines:
            return lines[path]
        path = path[:-1]
    return None


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _did_you_mean(word: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return f"{hint} Allowed: {', '.join(choices)}" if len(choices) <= 12 else hint


def _model_at(model: type[BaseModel], loc: tuple[str | int, ...]) -> type[BaseModel] | None:
    """The schema model that owns the last key of `loc`, for listing allowed keys."""
    current: Any = model
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        if isinstance(current, type) and issubclass(current, BaseModel):
            field = current.model_fields.get(part)
            if field is None:
                return None
            current = _inner_model(field.annotation)
        # keys of dict-valued fields (state codes) are skipped
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _inner_model(annotation: Any) -> Any:
    args = getattr(annotation, "__args__", ())
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in args:
        found = _inner_model(arg)
        if found is not None:
            return found
    return None


def _translate(exc: ValidationError, data: Any, source: str, lines: dict[Path, int]) -> list[Problem]:
    problems: list[Problem] = []
    for err in exc.errors():
        loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-")))
        path: Path = tuple(loc)
        value = err.get("input")
        kind = err["type"]
        if kind == "extra_forbidden":
            owner = _model_at(Scenario, path)
            allowed = list(owner.model_fields) if owner else []
            message = f"unknown key {str(path[-1])!r}{_did_you_mean(str(path[-1]), allowed)}"
        elif kind == "missing":
            message = "required key is missing"
        else:
            text = err["msg"].removeprefix("Value error, ").removeprefix("Assertion failed, ")
            message = text if _short(value) in text else f"{_short(value)} is not allowed: {text}"
        problems.append(Problem(source, format_path(path), message, _line(lines, path)))
    return problems


def _cross_check(s: Scenario) -> list[tuple[Path, str]]:
    """Checks that span blocks: every name resolves, clocks add up, targets fit the horizon."""
    out: list[tuple[Path, str]] = []
    declared = list(s.states)
    benefit_set = set(declared)
    known = declared + list(EXITS)

    def unknown(path: Path, code: str, choices: list[str]) -> None:
        out.append((path, f"unknown state {code!r}{_did_you_mean(code, choices)}"))

    if s.start.day != 1:
        out.append((("start",), f"{s.start} is not the first of a month; reporting is by "
                    "calendar month, so the horizon starts on a month's first day"))
    for code, spec in s.states.items():
        path: Path = ("states", code)
        if code in EXITS:
            out.append((path, f"{code!r} is a built-in exit, not a benefit state; exits need no declaration"))
        elif code in RESERVED and code not in CATALOGUE:
            out.append((path, f"{code!r} is reserved; choose another code"))
        elif not _CODE.match(code):
            out.append((path, f"{code!r} is not allowed; state codes are ASCII: lower-case "
                        "letters, digits and _ (labels carry the Danish letters)"))
        elif spec.group is not None and spec.group not in GROUPS:
            out.append(((*path, "group"), f"unknown group {spec.group!r}{_did_you_mean(spec.group, list(GROUPS))}"))
        elif code in CATALOGUE:
            if spec.group is not None and spec.group != CATALOGUE[code].group:
                out.append(((*path, "group"), f"{spec.group!r} is not allowed: {code} is in group "
                            f"{CATALOGUE[code].group!r} in the benefit catalogue"))
        elif spec.group is None:
            out.append(((*path, "group"), f"custom state {code!r} needs a group; allowed: {', '.join(GROUPS)}"))

    for block in ("initial", "inflow_per_week", "initial_durations"):
        for code in getattr(s, block):
            if code in EXITS:
                out.append(((block, code), f"{code!r} is an exit state (off public support) used as an "
                            f"origin; {block} takes benefit states only: {', '.join(declared)}"))
            elif code not in benefit_set:
                unknown((block, code), code, declared)

    for code, bands in s.initial_durations.items():
        if bands and abs(sum(b.share for b in bands) - 1) > 1e-6:
            out.append((("initial_durations", code),
                        f"shares sum to {sum(b.share for b in bands):g}; they must sum to 1"))
        for i, (a, b) in enumerate(zip(bands, bands[1:], strict=False)):
            if b.from_week < a.to_week:
                out.append((("initial_durations", code, i + 1), "bands overlap; weeks must increase"))

    for origin, routes in s.transitions.items():
        if origin not in benefit_set and origin not in EXITS:
            unknown(("transitions", origin), origin, known)
            continue
        clocks: dict[float, list[tuple[int, float | str]]] = defaultdict(list)
        for i, r in enumerate(routes):
            rp: Path = ("transitions", origin, i, "to")
            if r.to == STAY:
                if r.at_week is None:
                    out.append((rp, "'stay' is only a clock share's destination (with at_week and share)"))
            elif r.to == origin:
                out.append((rp, f"{r.to!r} routes a state to itself; use a clock share 'to: stay' to keep citizens"))
            elif r.to not in benefit_set and r.to not in EXITS:
                unknown(rp, r.to, known)
            elif origin in EXITS and r.to in EXITS:
                out.append((rp, f"{r.to!r} is an exit; routes out of the exit {origin!r} are re-entries "
                            "and must lead into a benefit state"))
            if r.at_week is not None and r.share is not None:
                clocks[r.at_week].append((i, r.share))
        for week, shares in clocks.items():
            fixed = sum(x for _, x in shares if x != "rest")
            rests = [i for i, x in shares if x == "rest"]
            where: Path = ("transitions", origin, shares[-1][0], "share")
            if fixed > 1 + 1e-9:
                out.append((where, f"clock shares at week {week:g} sum to {fixed:g}; they must sum to at most 1"))
            elif len(rests) > 1:
                out.append((where, f"more than one 'rest' share at week {week:g}; at most one route takes the rest"))
            elif not rests and fixed < 1 - 1e-9:
                out.append((where, f"clock shares at week {week:g} sum to {fixed:g}, below 1; give one route "
                            "share: rest (to: stay keeps the citizen in the state)"))

    first_year, last_year = s.start.year, s.end.year - (1 if s.end.month == 1 else 0)
    full_years = [y for y in range(first_year, last_year + 1)
                  if s.start <= s.start.replace(year=y, month=1) and s.start.replace(year=y + 1, month=1) <= s.end]
    observed = {(str(o.period), o.state, o.measure): o.value for o in s.observed}
    for i, t in enumerate(s.targets):
        tp: Path = ("targets", i)
        if t.metric not in _METRICS:
            out.append(((*tp, "metric"), f"unknown metric {t.metric!r}{_did_you_mean(t.metric, list(_METRICS))}"))
        for j, code in enumerate(t.states):
            if code != TOTAL and code not in benefit_set:
                unknown((*tp, "states", j), code, [*declared, TOTAL])
        for j, g in enumerate(t.groups):
            if g not in GROUPS:
                out.append(((*tp, "groups", j), f"unknown group {g!r}{_did_you_mean(g, list(GROUPS))}"))
        if t.year not in full_years:
            covered = f"{full_years[0]}–{full_years[-1]}" if full_years else "none"
            out.append(((*tp, "year"), f"{t.year} is outside the horizon ({s.start} + {s.months} months); "
                        f"full calendar years covered: {covered}"))
        if t.relative:
            base = t.base_year if t.base_year is not None else t.year - 1
            for code in (*t.states, *t.groups):
                if (str(base), code, t.metric) not in observed:
                    out.append(((*tp, "base_year"), f"no observed {t.metric} for {code!r} in {base}; a change "
                                "target needs the base year's value in the observed block"))
    for i, o in enumerate(s.observed):
        if o.state not in benefit_set and o.state not in (TOTAL, *GROUPS):
            unknown(("observed", i, "state"), o.state, [*declared, TOTAL, *GROUPS])
    return out
