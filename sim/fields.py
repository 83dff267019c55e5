"""Number fields shared by the scenario schema's blocks."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator


def _not_bool(value: Any) -> Any:
    """Refuse YAML's true/false/yes/no where a number is expected (pydantic would read 1/0)."""
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is a yes/no value; a number is needed here")
    return value


Num = Annotated[float, BeforeValidator(_not_bool)]
"""A number (not a yes/no value)."""
Whole = Annotated[int, BeforeValidator(_not_bool)]
"""A whole number (not a yes/no value)."""
