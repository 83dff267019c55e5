"""Load a scenario file: safe YAML, schema, cross-references; every problem in one sentence.

This is the boundary: what leaves `load_scenario` is a valid `Scenario`, trusted inside.
"""

from __future__ import annotations

import copy
import datetime as dt
import difflib
import itertools
import math
import re
import types
import typing
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path as FsPath
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from sim.catalogue import CATALOGUE, EXITS, GROUPS, RESERVED, STAY, TOTAL
from sim.errors import Problem, ScenarioError
from sim.hazards import schedule_from_routes
from sim.schema import DurationBand, InflowSpec, Observed, Route, Scenario, StateSpec, Target
from sim.yamlio import DuplicateKeyError, Path, format_path, load_yaml

_CODE = re.compile(r"^[a-z][a-z0-9_]*$")
_GIVE_FILE = "give the path of a scenario YAML file"
_MAPPING = "a scenario file is a YAML mapping (name:, start:, months:, states:, …)"
_METRICS = ("full_year_persons",)


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
        raise ScenarioError([Problem(source, "", f"{_short(data)} is not a mapping of keys; {_MAPPING}")])
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        errors = _clean_errors(exc, data)
        found = _translate(errors)
        # Check the rest too, so that one run of validate lists every problem: the refused
        # items are set aside and the cross-checks skip what depends on them.
        salvaged = _salvage(data, errors)
        if salvaged is not None:
            partial, gaps = salvaged
            found += [(gaps.original(p), m) for p, m in _cross_check(partial, gaps)]
        raise ScenarioError(_problems(found, source, lines)) from None
    found = _cross_check(scenario, _Gaps())
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


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _did_you_mean(word: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    if len(choices) > 30:
        return f"; did you mean {close[0]!r}?" if close else ""
    if close:
        return f"; did you mean {close[0]!r}? Allowed: {', '.join(choices) or 'none'}"
    return f"; allowed: {', '.join(choices) or 'none'}"


# --- pydantic's errors, in the user's terms -------------------------------------------------

_MODELS: tuple[type[BaseModel], ...] = (
    Scenario, StateSpec, InflowSpec, Route, DurationBand, Target, Observed)
_FIELDS = frozenset(f for m in _MODELS for f in m.model_fields)
"""Every key the schema knows: a loc part that is neither this nor a key in the data is internal."""

_KINDS = {
    "int_parsing": "a whole number", "int_type": "a whole number", "int_from_float": "a whole number",
    "float_parsing": "a number", "float_type": "a number", "finite_number": "a finite number",
    "string_type": "text", "string_too_short": "non-empty text",
    "dict_type": "a mapping (key: value)", "model_type": "a mapping (key: value)",
    "model_attributes_type": "a mapping (key: value)",
    "tuple_type": "a list", "list_type": "a list",
    "date_type": "a date like 2018-01-01", "date_parsing": "a date like 2018-01-01",
    "date_from_datetime_parsing": "a date like 2018-01-01",
    "date_from_datetime_inexact": "a date like 2018-01-01 (no time of day)",
    "greater_than_equal": "≥ {ge}", "greater_than": "> {gt}",
    "less_than_equal": "≤ {le}", "less_than": "< {lt}",
    "literal_error": "{expected}",
}

_REQUIRED = {
    "name": "a name (text)",
    "start": "the horizon's first day, a date like 2018-01-01",
    "months": "the horizon, a whole number of months from 1 to 600",
    "states": "the benefit states modelled, e.g. {a_dagpenge: {group: dagpenge}}",
    "rate": "arrivals per week, a number ≥ 0",
    "to": "the destination: a state code, an exit, or stay",
    "from_week": "a number of weeks ≥ 0", "to_week": "a number of weeks above from_week",
    "share": "a number in [0, 1]",
    "year": "the target's calendar year",
    "period": "a year or month like 2017 or 2017-06",
    "state": "a state code, group or total",
    "value": "a number",
}


def _clean_errors(exc: ValidationError, data: Any) -> list[tuple[Path, bool, Any]]:
    """pydantic's errors as (key path, the bad key itself?, error), with its internal loc parts
    (union members, validator names) dropped: a part stays if it indexes the data or names a key."""
    out = []
    for err in exc.errors():
        path: list[str | int] = []
        node: Any = data
        is_key = False
        for part in err["loc"]:
            if part == "[key]":
                is_key = True
            elif _has(node, part):
                path.append(part)
                node = node[part]
            elif isinstance(part, str) and part in _FIELDS:
                path.append(part)
                node = None
        out.append((tuple(path), is_key, err))
    return out


def _translate(errors: list[tuple[Path, bool, Any]]) -> list[tuple[Path, str]]:
    """One sentence per problem; the alternatives of a union at one key path are joined by 'or'."""
    out: list[tuple[Path, str]] = []
    musts: dict[Path, tuple[Any, str, list[str]]] = {}  # path → (bad value, noun, allowed forms)
    for path, is_key, err in errors:
        value, kind, ctx = err.get("input"), err["type"], err.get("ctx") or {}
        if is_key:
            out.append((path[:-1], f"the key {_short(value)} is not allowed; keys here are text, "
                        "such as state codes"))
        elif kind == "extra_forbidden":
            owner = _model_at(path)
            allowed = list(owner.model_fields) if owner else []
            out.append((path, f"unknown key {str(path[-1])!r}{_did_you_mean(str(path[-1]), allowed)}"))
        elif kind == "missing":
            hint = _REQUIRED.get(str(path[-1])) if path else None
            out.append((path, "required key is missing" + (f"; give {path[-1]}: {hint}" if hint else "")))
        elif kind in _KINDS or _nonfinite(value):
            noun = str(path[-1]) if path and path[-1] in _FIELDS else "it"
            limits = {k: f"{v:g}" if isinstance(v, int | float) else v for k, v in ctx.items()}
            form = "a finite number" if _nonfinite(value) else _KINDS[kind].format(**limits)
            musts.setdefault(path, (value, noun, []))[2].append(form)
        else:  # our own validators' sentences, which usually start with the bad value
            text = err["msg"].removeprefix("Value error, ").removeprefix("Assertion failed, ")
            out.append((path, text if text.startswith(_short(value)) else
                        f"{_short(value)} is not allowed: {text}"))
    for path, (value, noun, forms) in musts.items():
        either = " or ".join(dict.fromkeys(forms))
        out.append((path, f"{_short(value)} is not allowed; {noun} must be {either}"))
    return out


def _nonfinite(value: Any) -> bool:
    return isinstance(value, float) and not math.isfinite(value)


def _model_at(path: Path) -> type[BaseModel] | None:
    """The schema model that owns the last key of `path`, for listing the allowed keys."""
    current: Any = Scenario
    for part in path[:-1]:
        current = _unwrap(current)
        if isinstance(current, type) and issubclass(current, BaseModel):
            field = current.model_fields.get(str(part))
            if field is None:
                return None
            current = field.annotation
        elif typing.get_origin(current) is dict:
            current = typing.get_args(current)[1]
        elif typing.get_origin(current) in (tuple, list):
            current = typing.get_args(current)[0]
        else:
            return None
    current = _unwrap(current)
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _unwrap(annotation: Any) -> Any:
    """Strip Annotated[…] and Optional[…] around a type."""
    while True:
        if typing.get_origin(annotation) is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif typing.get_origin(annotation) in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(annotation) if a is not type(None)]
            if len(args) != 1:
                return annotation
            annotation = args[0]
        else:
            return annotation


# --- setting refused items aside, to cross-check the rest -----------------------------------

_GONE = object()
"""A refused list item: left in place so the indices of the others stay those of the file."""


@dataclass
class _Gaps:
    """What the schema refused, so that cross-checks skip conclusions that depend on it."""

    horizon: bool = False
    routes: set[str] | None = field(default_factory=set)
    """Origins with a refused route (None: the whole transitions block)."""
    durations: set[str] | None = field(default_factory=set)
    """States whose initial_durations were refused (None: the whole block)."""
    observed: bool = False
    kept: dict[Path, list[int]] = field(default_factory=dict)
    """For each list, the file's indices of the items that were kept."""

    def original(self, path: Path) -> Path:
        """A path in the salvaged data as a path in the file."""
        for n in (1, 2):
            i = path[n] if len(path) > n else None
            if isinstance(i, int) and path[:n] in self.kept:
                return (*path[:n], self.kept[path[:n]][i], *path[n + 1:])
        return path

    def missing_routes(self, code: str) -> bool:
        return self.routes is None or code in self.routes

    def missing_durations(self, code: str) -> bool:
        return self.durations is None or code in self.durations


def _salvage(data: dict[Any, Any], errors: list[tuple[Path, bool, Any]]) -> tuple[Scenario, _Gaps] | None:
    """The scenario without the items the schema refused, or None if too much is missing."""
    data = copy.deepcopy(data)
    gaps = _Gaps()
    for _ in range(5):
        for path, is_key, err in errors:
            if not _set_aside(data, gaps.original(path), is_key, err["type"], gaps):
                return None
        compact = _compact(data, gaps)
        try:
            return Scenario.model_validate(compact), gaps
        except ValidationError as exc:  # problems hidden behind the first ones: set them aside too
            errors = _clean_errors(exc, compact)
    return None


def _compact(data: dict[Any, Any], gaps: _Gaps) -> dict[Any, Any]:
    out = dict(data)
    lists: list[tuple[Path, dict[Any, Any], Any]] = [((k,), out, k) for k in ("targets", "observed")]
    if isinstance(out.get("transitions"), dict):
        out["transitions"] = dict(out["transitions"])
        lists += [(("transitions", k), out["transitions"], k) for k in out["transitions"]]
    for path, parent, key in lists:
        items = parent.get(key)
        if isinstance(items, list):
            gaps.kept[path] = [i for i, x in enumerate(items) if x is not _GONE]
            parent[key] = [items[i] for i in gaps.kept[path]]
    return out


def _set_aside(data: dict[Any, Any], path: Path, is_key: bool, kind: str, gaps: _Gaps) -> bool:
    """Remove or neutralise the item holding a refused value; False if nothing can be checked."""
    if not path:
        return False
    if kind == "extra_forbidden":
        parent = _walk(data, path[:-1])
        if isinstance(parent, dict):
            parent.pop(path[-1], None)
        return True
    head = path[0]
    placeholders: dict[str, Any] = {"name": "?", "start": dt.date(2000, 1, 1), "months": 12}
    if head in placeholders:
        data[head] = placeholders[head]
        gaps.horizon = gaps.horizon or head != "name"
    elif head == "states":
        if len(path) == 1 or not isinstance(data.get("states"), dict):
            return False
        code = path[1]
        if is_key or not isinstance(code, str):
            data["states"].pop(code, None)
        else:
            known = CATALOGUE.get(code)
            data["states"][code] = {"group": known.group if known and known.group else GROUPS[0]}
    elif head == "transitions" and len(path) >= 3 and not is_key:
        if gaps.routes is not None:
            gaps.routes.add(str(path[1]))
        data["transitions"][path[1]][path[2]] = _GONE
    elif head in ("targets", "observed") and len(path) >= 2:
        data[head][path[1]] = _GONE
        gaps.observed = gaps.observed or head == "observed"
    elif len(path) >= 2 and isinstance(data.get(head), dict):
        data[head].pop(path[1], None)
        if head == "transitions" and gaps.routes is not None:
            gaps.routes.add(str(path[1]))
        if head == "initial_durations" and gaps.durations is not None:
            gaps.durations.add(str(path[1]))
    else:
        data.pop(head, None)
        gaps.routes = None if head == "transitions" else gaps.routes
        gaps.durations = None if head == "initial_durations" else gaps.durations
        gaps.observed = gaps.observed or head == "observed"
    return True


def _walk(data: Any, path: Path) -> Any:
    for part in path:
        if not _has(data, part):
            return None
        data = data[part]
    return data


def _has(node: Any, part: str | int) -> bool:
    """True if `part` is a key of the mapping `node` or an index of the list `node`."""
    if isinstance(node, dict):
        return part in node
    return isinstance(part, int) and isinstance(node, list | tuple) and 0 <= part < len(node)


def _cross_check(s: Scenario, gaps: _Gaps) -> list[tuple[Path, str]]:
    """Checks that span blocks: every name resolves, clocks add up, targets fit the horizon,
    the initial stock can be placed. `gaps` names what the schema refused, to be skipped."""
    out: list[tuple[Path, str]] = []
    declared = list(s.states)
    benefit_set = set(declared)
    known = declared + list(EXITS)

    def unknown(path: Path, code: str, choices: list[str]) -> None:
        if code in CATALOGUE and code not in EXITS and code not in benefit_set:
            out.append((path, f"unknown state {code!r}: it is in the benefit catalogue but not declared; "
                        f"add it under states, or use one of: {', '.join(choices)}"))
        else:
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
            out.append(((*path, "group"),
                        f"unknown group {spec.group!r}{_did_you_mean(spec.group, list(GROUPS))}"))
        elif code in CATALOGUE:
            if spec.group is not None and spec.group != CATALOGUE[code].group:
                out.append(((*path, "group"), f"{spec.group!r} is not allowed: {code} is in group "
                            f"{CATALOGUE[code].group!r} in the benefit catalogue"))
        elif spec.group is None:
            out.append(((*path, "group"),
                        f"custom state {code!r} needs a group; allowed: {', '.join(GROUPS)}"))

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
        for i, (a, b) in enumerate(itertools.pairwise(bands)):
            if b.from_week < a.to_week:
                out.append((("initial_durations", code, i + 1),
                            f"{_band(b)} starts at week {b.from_week:g}, inside the band before "
                            f"(to week {a.to_week:g}); bands must not overlap and weeks must increase"))

    sound: set[str] = set()  # origins whose routes all resolve and whose clocks add up
    for origin, routes in s.transitions.items():
        if origin not in benefit_set and origin not in EXITS:
            unknown(("transitions", origin), origin, known)
            continue
        before = len(out)
        clocks: dict[float, list[tuple[int, float | str]]] = defaultdict(list)
        for i, r in enumerate(routes):
            rp: Path = ("transitions", origin, i, "to")
            if r.to == STAY:
                if r.at_week is None:
                    out.append((rp, "'stay' is only a clock share's destination (with at_week and share)"))
                elif r.rate_per_week is not None or r.mean_weeks is not None:
                    key = "rate_per_week" if r.rate_per_week is not None else "mean_weeks"
                    out.append((("transitions", origin, i, key),
                                f"{_bands(getattr(r, key))} is not allowed: a 'to: stay' clock share "
                                f"keeps citizens in {origin} at week {r.at_week:g} and takes no rate; "
                                f"remove {key}"))
            elif r.to == origin:
                out.append((rp, f"{r.to!r} routes a state to itself; use a clock share 'to: stay' "
                            "to keep citizens"))
            elif r.to not in benefit_set and r.to not in EXITS:
                unknown(rp, r.to, known)
            elif origin in EXITS and r.to in EXITS:
                out.append((rp, f"{r.to!r} is an exit; routes out of the exit {origin!r} are re-entries "
                            "and must lead into a benefit state"))
            if r.at_week is not None and r.share is not None:
                clocks[r.at_week].append((i, r.share))
        if gaps.missing_routes(origin):
            continue  # a refused route may hold a share: sums are unknown
        for week, shares in clocks.items():
            fixed = sum(float(x) for _, x in shares if x != "rest")
            rests = [i for i, x in shares if x == "rest"]
            where: Path = ("transitions", origin, shares[-1][0], "share")
            if fixed > 1 + 1e-9:
                out.append((where, f"clock shares at week {week:g} sum to {fixed:g}; they must sum to "
                            "at most 1"))
            elif len(rests) > 1:
                out.append((where, f"more than one 'rest' share at week {week:g}; at most one route "
                            "takes the rest"))
            elif not rests and fixed < 1 - 1e-9:
                out.append((where, f"clock shares at week {week:g} sum to {fixed:g}, below 1; give one route "
                            "share: rest (to: stay keeps the citizen in the state)"))
        if len(out) == before:
            sound.add(origin)

    _check_initial_stock(s, gaps, sound, out)

    first_year, last_year = s.start.year, s.end.year - (1 if s.end.month == 1 else 0)
    full_years = [y for y in range(first_year, last_year + 1)
                  if s.start <= dt.date(y, 1, 1) and dt.date(y + 1, 1, 1) <= s.end]
    observed = {(str(o.period), o.state, o.measure): o.value for o in s.observed}
    for i, t in enumerate(s.targets):
        tp: Path = ("targets", i)
        if t.metric not in _METRICS:
            out.append(((*tp, "metric"),
                        f"unknown metric {t.metric!r}{_did_you_mean(t.metric, list(_METRICS))}"))
        for j, code in enumerate(t.states):
            if code != TOTAL and code not in benefit_set:
                unknown((*tp, "states", j), code, [*declared, TOTAL])
        for j, g in enumerate(t.groups):
            if g not in GROUPS:
                out.append(((*tp, "groups", j), f"unknown group {g!r}{_did_you_mean(g, list(GROUPS))}"))
        if t.year not in full_years and not gaps.horizon and s.start.day == 1:
            covered = (f"{full_years[0]}–{full_years[-1]}" if len(full_years) > 1
                       else str(full_years[0]) if full_years else "none")
            out.append(((*tp, "year"), f"{t.year} is outside the horizon ({s.start} + {s.months} months); "
                        f"allowed: a full calendar year inside it ({covered})"))
        if t.relative and not gaps.observed:
            base = t.base_year if t.base_year is not None else t.year - 1
            for code in (*t.states, *t.groups):
                if (str(base), code, t.metric) not in observed:
                    out.append(((*tp, "base_year"), f"no observed {t.metric} for {code!r} in {base}; "
                                "a change target needs the base year's value in the observed block"))
    for i, o in enumerate(s.observed):
        if o.state not in benefit_set and o.state not in (TOTAL, *GROUPS):
            unknown(("observed", i, "state"), o.state, [*declared, TOTAL, *GROUPS])
    return out


def _check_initial_stock(s: Scenario, gaps: _Gaps, sound: set[str], out: list[tuple[Path, str]]) -> None:
    """The initial stock's elapsed durations must be drawable: from the given bands, which must
    end where a clock empties the state, or from the steady state, which needs a finite mean stay."""
    index = {c: i for i, c in enumerate((*s.states, *EXITS))}
    for code, stock in s.initial.items():
        if (stock <= 0 or code not in s.states or code in EXITS or s.initial_durations.get(code)
                or gaps.missing_durations(code) or gaps.missing_routes(code)
                or (code in s.transitions and code not in sound)):
            continue
        routes = s.transitions.get(code, ())
        schedule = schedule_from_routes(routes, index) if routes else None
        if schedule is not None and math.isfinite(schedule.mean_stay()):
            continue
        if schedule is None:
            why = f"{code} has no routes out"
        else:
            last = schedule.segments()[-1][0] / 7.0
            why = (f"from week {last:g} in {code} its routes' total rate is 0 and no clock moves everyone on"
                   if last > 0 else f"the routes out of {code} have a total rate of 0")
        out.append((("initial", code),
                    f"{stock:g} persons start in {code} without initial_durations, but {why}, so the mean "
                    "stay is infinite and their elapsed durations cannot be drawn from the steady state; "
                    f"give initial_durations.{code} or a route out of {code} with a rate above 0"))
    for code, bands in s.initial_durations.items():
        if code not in s.states or code not in sound or gaps.missing_routes(code):
            continue
        schedule = schedule_from_routes(s.transitions[code], index)
        ends = [c.day / 7.0 for c in schedule.clocks if c.stay_share <= 0.0]
        if not ends:
            continue
        week = min(ends)
        for i, b in enumerate(bands):
            if b.to_week > week + 1e-9:
                out.append((("initial_durations", code, i),
                            f"{_band(b)} reaches past week {week:g}, where the clock (at_week {week:g}) "
                            f"moves everyone out of {code}, so nobody can have been there longer; "
                            f"allowed: bands that end by week {week:g}"))


def _band(b: DurationBand) -> str:
    return f"[{b.from_week:g}, {b.to_week:g}, {b.share:g}]"


def _bands(bands: tuple[tuple[float, float], ...] | None) -> str:
    if not bands:
        return "None"
    if len(bands) == 1:
        return f"{bands[0][1]:g}"
    return "[" + ", ".join(f"[{w:g}, {v:g}]" for w, v in bands) + "]"
