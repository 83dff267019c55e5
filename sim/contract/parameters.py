"""Parameter paths: read and set one number of a scenario by its dotted path in the file.

`inflow_per_week.sygedagpenge.rate` (or `inflow_per_week.sygedagpenge` when the inflow is a
plain number), `initial.a_dagpenge`, `transitions.a_dagpenge.job.rate_per_week` (a route is
named by its destination, or by its position: `transitions.a_dagpenge.0`), and one band of a
banded rate: `transitions.a_dagpenge.job.rate_per_week.1` (the second band's rate).
A path always names one number, so applying a value twice gives the same scenario.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from sim.contract.calibrate_spec import DrawnParameter, ParameterSet


class PathError(ValueError):
    """A parameter path that does not name one number of the scenario."""


def _step(node: Any, part: str, done: str) -> tuple[Any, Any]:
    """The child of `node` named `part`, and the key to set it by."""
    where = f"'{done}'" if done else "the scenario"
    if isinstance(node, Mapping):
        if part in node:
            return node[part], part
        keys = ", ".join(map(str, node)) or "none"
        raise PathError(f"{where} has no key {part!r} (keys: {keys})")
    if isinstance(node, list):
        if part.isdigit():
            i = int(part)
            if i < len(node):
                return node[i], i
            raise PathError(f"{where} has {len(node)} entries; index {i} is past the end")
        for i, item in enumerate(node):
            if isinstance(item, Mapping) and part in (item.get("to"), item.get("name"), item.get("team")):
                return item, i
        raise PathError(f"{where} has no entry {part!r}: give a position (0, 1, …), a route's "
                        "destination or an entry's name")
    raise PathError(f"{where} is a single value; nothing lies below it, so {part!r} cannot follow")


def _is_pair(x: Any) -> bool:
    return isinstance(x, list) and len(x) == 2 and all(is_number(v) for v in x)


def is_number(x: Any) -> bool:
    """A number as YAML gives it (an int or a float, not true or false)."""
    return isinstance(x, int | float) and not isinstance(x, bool)


def _walk(data: Any, path: str) -> tuple[Any, Any, Any, tuple[str | int, ...]]:
    """The parent, key and node a dotted path names, and the keys that lead there."""
    parts = path.split(".")
    if not path or any(not p for p in parts):
        raise PathError(f"{path!r} is not a dotted path like inflow_per_week.sygedagpenge.rate")
    parent: Any = None
    key: Any = None
    node = data
    keys: list[str | int] = []
    for n, part in enumerate(parts):
        parent, (node, key) = node, _step(node, part, ".".join(parts[:n]))
        keys.append(key)
    return parent, key, node, tuple(keys)


def _number_in(node: Any) -> tuple[Any, Any, tuple[str | int, ...]] | None:
    """Where the one number a block stands for is held: an inflow's `rate`, a one-band rate's
    value; the container, its key and the keys below `node` (None: `node` is no such block)."""
    if isinstance(node, Mapping) and "rate" in node and is_number(node["rate"]):
        return node, "rate", ("rate",)
    if _is_pair(node):
        return node, 1, (1,)
    if isinstance(node, list) and len(node) == 1 and _is_pair(node[0]):
        return node[0], 1, (0, 1)
    return None


def _refuse_bands(node: Any, path: str) -> None:
    """PathError naming the bands to choose from, when `node` is a banded rate."""
    if isinstance(node, list) and node and all(_is_pair(x) for x in node):
        last = len(node) - 1
        raise PathError(f"'{path}' has {len(node)} duration bands; name one: {path}.0 … {path}.{last}")


def _locate(data: Any, path: str) -> tuple[Any, Any, tuple[str | int, ...]]:
    """The container holding the path's number, the key in it, and all the keys that lead there."""
    parent, key, node, keys = _walk(data, path)
    found = _number_in(node)
    if found is not None:
        container, inner, below = found
        return container, inner, (*keys, *below)
    _refuse_bands(node, path)
    if not is_number(node):
        raise PathError(f"'{path}' is not a number (it holds {str(node)[:60]})")
    return parent, key, keys


def key_path(data: Any, path: str) -> tuple[str | int, ...]:
    """The keys and list positions by which scenario data holds the number a parameter path
    names: `transitions.a_dagpenge.job.rate_per_week.1` → (transitions, a_dagpenge, 0,
    rate_per_week, 1, 1)."""
    return _locate(data, path)[2]


def set_path(data: Any, path: str, value: Any) -> tuple[str | int, ...]:
    """Set the single value a dotted path names (a parameter path, or any other key: `name`,
    `interventions.<name>.places`) to `value`, in place, and return the keys that hold it.

    A number at an inflow or a one-band rate sets its rate, as a parameter path does; PathError
    when the path names nothing, a block or a list (name one of its keys or entries)."""
    parent, key, node, keys = _walk(data, path)
    if is_number(value):
        found = _number_in(node)
        if found is not None:
            container, inner, below = found
            container[inner] = value
            return (*keys, *below)
        _refuse_bands(node, path)
    if isinstance(node, Mapping):
        names = ", ".join(map(str, node)) or "none"
        raise PathError(f"'{path}' is a block of keys ({names}), not one value; name one of them")
    if isinstance(node, list):
        raise PathError(f"'{path}' is a list of {len(node)} entries, not one value; name one: {path}.0 … "
                        f"(or a route by its destination, an entry by its name)")
    parent[key] = value
    return keys


def get_value(data: Any, path: str) -> float:
    """The number at `path` in scenario data (a dict as the YAML gives)."""
    container, key, _ = _locate(data, path)
    return float(container[key])


def set_value(data: Any, path: str, value: float) -> None:
    """Set the number at `path` in scenario data, in place."""
    container, key, _ = _locate(data, path)
    container[key] = float(value)


def plain(data: Any) -> Any:
    """Scenario data with tuples as lists, so that paths index it as they index the YAML."""
    if isinstance(data, Mapping):
        return {k: plain(v) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [plain(v) for v in data]
    return data


def with_values(data: Mapping[str, Any], values: Mapping[str, float]) -> dict[str, Any]:
    """A copy of scenario data with each path set to its value."""
    out = copy.deepcopy(plain(data))
    for path, value in values.items():
        set_value(out, path, value)
    return out


class ValueSetter:
    """`with_values` for many calls on the same data (a fit's evaluations): the data made plain once,
    and each call copies only the blocks and lists on the paths it sets; the rest is shared with
    every other result, so a result is for reading (validating), never for changing in place."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        self.base: dict[str, Any] = plain(data)
        self.keys: dict[str, tuple[str | int, ...]] = {}

    def __call__(self, values: Mapping[str, float]) -> dict[str, Any]:
        out = dict(self.base)
        copied: dict[tuple[str | int, ...], Any] = {}
        for path, value in values.items():
            keys = self.keys.get(path)
            if keys is None:
                keys = self.keys[path] = key_path(self.base, path)
            node: Any = out
            for depth in range(len(keys) - 1):
                trail = keys[: depth + 1]
                child = copied.get(trail)
                if child is None:
                    child = copied[trail] = dict(node[keys[depth]]) if isinstance(
                        node[keys[depth]], Mapping) else list(node[keys[depth]])
                    node[keys[depth]] = child
                node = child
            node[keys[-1]] = float(value)
        return out


def scenario_data(scenario: Any) -> dict[str, Any]:
    """A validated scenario back as plain data that validates to the same scenario."""
    data: dict[str, Any] = plain(scenario.model_dump(mode="json", exclude_none=True, by_alias=True))
    return data


def draw_values(fitted: ParameterSet | None, extra: tuple[DrawnParameter, ...],
                centres: Mapping[str, float], rng: np.random.Generator) -> dict[str, float]:
    """One replication's parameter values: the fit's normal (with its covariance) and the extra ones.

    An extra parameter is centred on `centres` (the scenario's value, which is the fitted one
    when the scenario loads a fit) with its own sd, in place of a fitted draw of the same path.
    Draws are cut to the parameter's bounds, or to zero and above when no bounds are given:
    every parameter a scenario may name is a rate, a count or a share.
    """
    out: dict[str, float] = {}
    if fitted is not None and fitted.values:
        names = list(fitted.values)
        mean = np.array([fitted.values[n] for n in names])
        if fitted.covariance:
            cov = np.asarray(fitted.covariance, dtype=float)
        else:
            cov = np.diag([fitted.standard_errors.get(n, 0.0) ** 2 for n in names])
        draw = mean + _root(cov) @ rng.standard_normal(len(names))
        for n, x in zip(names, draw, strict=True):
            low, high = fitted.bounds.get(n, (0.0, math.inf))
            out[n] = float(np.clip(x, low, high))
    for p in extra:
        low, high = p.bounds if p.bounds is not None else (0.0, math.inf)
        out[p.path] = float(np.clip(centres[p.path] + p.sd * rng.standard_normal(), low, high))
    return out


def _root(cov: np.ndarray) -> np.ndarray:
    """A matrix square root of a covariance that tolerates a semi-definite one."""
    vals, vecs = np.linalg.eigh((cov + cov.T) / 2)
    return np.asarray(vecs * np.sqrt(np.clip(vals, 0.0, None)))
