"""pydantic's validation errors in the user's terms, and setting refused items aside.

Setting aside what the schema refused lets the cross-checks look at the rest, so one run of
`caseflow validate` lists every problem in a file, not only the first.
"""

from __future__ import annotations

import calendar
import copy
import datetime as dt
import difflib
import math
import re
import types
import typing
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ValidationError

from sim.contract.catalogue import CATALOGUE, GROUPS
from sim.contract.fields import shown
from sim.contract.rules_spec import RULE_KINDS
from sim.contract.schema import Scenario
from sim.contract.yamlio import Path


def short(value: Any) -> str:
    """A bad value as the file writes it, cut to 60 characters."""
    return shown(value)


def did_you_mean(word: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    if len(choices) > 30:
        return f"; did you mean {close[0]!r}?" if close else ""
    if close:
        return f"; did you mean {close[0]!r}? Allowed: {', '.join(choices) or 'none'}"
    return f"; allowed: {', '.join(choices) or 'none'}"


# --- pydantic's errors, in the user's terms -------------------------------------------------

def schema_models(root: type[BaseModel] = Scenario) -> tuple[type[BaseModel], ...]:
    """Every pydantic model reachable from `root` through its fields' annotations, `root` first:
    derived from the schema, so a new block's keys are known without being listed here."""
    found: dict[type[BaseModel], None] = {}
    todo: list[type[BaseModel]] = [root]
    while todo:
        model = todo.pop(0)
        if model not in found:
            found[model] = None
            todo += [m for f in model.model_fields.values() for m in _models_in(f.annotation)]
    return tuple(found)


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    """The pydantic models named in one annotation, looking inside Annotated, Optional and other
    unions, and the item types of tuples, lists and dicts."""
    origin = typing.get_origin(annotation)
    if origin is None:
        is_model = isinstance(annotation, type) and issubclass(annotation, BaseModel)
        return [annotation] if is_model else []
    if origin is typing.Literal:
        return []
    return [m for arg in typing.get_args(annotation) for m in _models_in(arg)]


_MODELS = schema_models(Scenario)
_FIELDS = frozenset(f for m in _MODELS for f in m.model_fields)
"""Every key the schema knows: a loc part that is neither this nor a key in the data is internal."""

_KINDS = {
    "int_parsing": "a whole number", "int_type": "a whole number", "int_from_float": "a whole number",
    "int_parsing_size": "a whole number of a few digits",
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
    "bool_parsing": "true or false", "bool_type": "true or false",
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
    "year": "the target's calendar year (or month: YYYY-MM for one month)",
    "period": "a year or month like 2017 or 2017-06",
    "state": "a state code, group or total",
    "value": "a number",
    "path": "a parameter's path in this file, e.g. inflow_per_week.sygedagpenge.rate",
    "bounds": "[low, high], the range the fit may move the parameter in",
    "sd": "the standard deviation of the parameter's draw, a number > 0",
}


def clean_errors(exc: ValidationError, data: Any) -> list[tuple[Path, bool, Any]]:
    """pydantic's errors as (key path, the bad key itself?, error), with its internal loc parts
    (union members, validator names) dropped: a part stays if it indexes the data or names a key."""
    out = []
    for err in exc.errors():
        path: list[str | int] = []
        node: Any = data
        is_key = False
        tagged = False
        for part in err["loc"]:
            if part == "[key]":
                is_key = True
            elif not tagged and isinstance(node, dict) and node.get("kind") == part:
                tagged = True  # a tagged union's member (a dated rule's kind), not a key of the data
            elif _has(node, part):
                path.append(part)
                node = node[part]
            elif isinstance(part, str) and part in _FIELDS:
                path.append(part)
                node = None
        out.append((tuple(path), is_key, err))
    return out


def translate(errors: list[tuple[Path, bool, Any]]) -> list[tuple[Path, str]]:
    """One sentence per problem; the alternatives of a union at one key path are joined by 'or'."""
    out: list[tuple[Path, str]] = []
    musts: dict[Path, tuple[Any, str, list[str]]] = {}  # path → (bad value, noun, allowed forms)
    for path, is_key, err in errors:
        value, kind, ctx = err.get("input"), err["type"], err.get("ctx") or {}
        if is_key:
            out.append((path[:-1], f"the key {short(value)} is not allowed; keys here are text, "
                        "such as state codes"))
        elif kind == "extra_forbidden":
            owner = _model_at(path)
            allowed = list(owner.model_fields) if owner else []
            out.append((path, f"unknown key {str(path[-1])!r}{did_you_mean(str(path[-1]), allowed)}"))
        elif kind in ("union_tag_invalid", "union_tag_not_found"):
            given = value.get("kind") if isinstance(value, dict) else None
            what = f"kind {short(given)} is not known" if given is not None else "kind is missing"
            out.append((path, f"{what}; a rule's kind is one of {', '.join(RULE_KINDS)}"))
        elif kind in _DATES and isinstance(value, str) and path:
            noun = path[-1] if isinstance(path[-1], str) else "it"  # a key of the file (`from`)
            out.append((path, f"{short(value)} is not a date{_date_reason(value, ctx)}; {noun} must be "
                        "a date like 2018-01-01 (YYYY-MM-DD)"))
        elif kind == "missing":
            hint = _REQUIRED.get(str(path[-1])) if path else None
            out.append((path, "required key is missing" + (f"; give {path[-1]}: {hint}" if hint else "")))
        elif kind in _KINDS or _nonfinite(value):
            noun = str(path[-1]) if path and path[-1] in _FIELDS else "it"
            limits = {k: _number(v) if isinstance(v, int | float) else v for k, v in ctx.items()}
            form = "a finite number" if _nonfinite(value) else _KINDS[kind].format(**limits)
            musts.setdefault(path, (value, noun, []))[2].append(form)
        else:  # our own validators' sentences, which usually start with the bad value
            text = err["msg"].removeprefix("Value error, ").removeprefix("Assertion failed, ")
            out.append((path, text if text.startswith(short(value)) else
                        f"{short(value)} is not allowed: {text}"))
    for path, (value, noun, forms) in musts.items():
        either = " or ".join(dict.fromkeys(forms))
        out.append((path, f"{short(value)} is not allowed; {noun} must be {either}"))
    return out


_DATES = frozenset({"date_parsing", "date_from_datetime_parsing", "date_from_datetime_inexact"})
_YMD = re.compile(r"^\s*(\d{4})-(\d{1,2})-(\d{1,2})\s*$")


def _date_reason(text: str, ctx: dict[str, Any]) -> str:
    """Why text that looks like a date is not one: ': February 2018 has 28 days'."""
    found = _YMD.match(text)
    if found is None:
        return f" ({ctx['error']})" if ctx.get("error") else ""
    year, month, day = (int(g) for g in found.groups())
    if not 1 <= month <= 12:
        return f": there is no month {month}"
    days = calendar.monthrange(max(year, 1), month)[1]
    if not 1 <= day <= days:
        return f": {calendar.month_name[month]} {year} has {days} days"
    return f" ({ctx['error']})" if ctx.get("error") else ""


def _number(v: float) -> str:
    """A limit as people write it: 2,000,000 rather than 2e+06."""
    return f"{int(v):,}" if float(v).is_integer() else f"{v:g}"


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
class Gaps:
    """What the schema refused, so that cross-checks skip conclusions that depend on it."""

    horizon: bool = False
    routes: set[str] | None = field(default_factory=set)
    """Origins with a refused route (None: the whole transitions block)."""
    durations: set[str] | None = field(default_factory=set)
    """States whose initial_durations were refused (None: the whole block)."""
    observed: bool = False
    kept: dict[Path, list[int]] = field(default_factory=dict)
    """For each list, the file's indices of the items that were kept."""
    blocks: set[str] = field(default_factory=set)
    """Top-level blocks some part of which was set aside."""

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


def salvage(data: dict[Any, Any], errors: list[tuple[Path, bool, Any]]) -> tuple[Scenario, Gaps] | None:
    """The scenario without the items the schema refused, or None if too much is missing."""
    data = copy.deepcopy(data)
    gaps = Gaps()
    for _ in range(5):
        for path, is_key, err in errors:
            if not _set_aside(data, gaps.original(path), is_key, err["type"], gaps):
                return None
        compact = _compact(data, gaps)
        try:
            return Scenario.model_validate(compact), gaps
        except ValidationError as exc:  # problems hidden behind the first ones: set them aside too
            errors = clean_errors(exc, compact)
    return None


def _compact(data: dict[Any, Any], gaps: Gaps) -> dict[Any, Any]:
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


def _set_aside(data: dict[Any, Any], path: Path, is_key: bool, kind: str, gaps: Gaps) -> bool:
    """Remove or neutralise the item holding a refused value; False if nothing can be checked."""
    if not path:
        return False
    if kind == "extra_forbidden":
        parent = _walk(data, path[:-1])
        if isinstance(parent, dict):
            parent.pop(path[-1], None)
        return True
    head = path[0]
    gaps.blocks.add(str(head))
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
