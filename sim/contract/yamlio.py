"""Safe YAML reading that remembers where each key stood and refuses duplicated keys.

Only plain YAML (SafeLoader: no Python tags) is read. Each value's line is kept by key path so
that error messages can point at it.
"""

from __future__ import annotations

from typing import Any

import yaml
import yaml.constructor

Path = tuple[str | int, ...]


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


_PLAIN = ("tag:yaml.org,2002:map", "tag:yaml.org,2002:seq")
"""The only tags a mapping or list may carry; others (!!python/…, !!set, !!omap) are refused."""


def load_yaml(text: str) -> tuple[Any, dict[Path, int]]:
    """Parse YAML text safely; return the data and a map from key path to 1-based line."""
    node = yaml.compose(text, Loader=yaml.SafeLoader)
    lines: dict[Path, int] = {}
    if node is None:
        return None, lines
    constructor = yaml.constructor.SafeConstructor()
    return _build(node, (), lines, constructor), lines


def _build(node: yaml.Node, path: Path, lines: dict[Path, int], c: yaml.constructor.SafeConstructor) -> Any:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode | yaml.SequenceNode) and node.tag not in _PLAIN:
        raise yaml.constructor.ConstructorError(
            None, None, f"the tag {node.tag!r} is not allowed; only plain YAML is read", node.start_mark)
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        seen: dict[Any, int] = {}
        for key_node, value_node in node.value:
            key = c.construct_object(key_node, deep=True)
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
    return c.construct_object(node, deep=True)


def dump_yaml(data: Any) -> str:
    """Write plain data as block-style YAML, keys in the given order, Danish letters kept."""
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, default_flow_style=None)
