"""Cross-checks of the assumptions block: each assumed value is one number of the scenario, the
scenario runs with a value inside its assumed range, no number is assumed twice, a value the fit
draws in every replication is not assumed, and the scenario is still sound at each end of each
range (`caseflow run` runs it there)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from pydantic import ValidationError

from sim.contract.checks.base import Checks
from sim.contract.messages import Gaps, clean_errors, translate
from sim.contract.parameters import PathError, get_value, scenario_data, with_values
from sim.contract.rules_spec import Assumption
from sim.contract.schema import Scenario
from sim.contract.yamlio import Path, format_path

CrossCheck = Callable[[Scenario, Gaps], list[tuple[Path, str]]]
"""The whole cross-check (`sim.contract.crosscheck.cross_check`), run again at each end."""

_MARK = -math.inf
"""A value no scenario holds (every number is finite), set to see which paths name one number."""


def check_assumptions(c: Checks, cross: CrossCheck) -> None:
    """Every assumption's path names one number, the scenario's value lies in [low, high], a
    number is assumed once, a value drawn from the fit each replication is not assumed, and
    (when nothing else is wrong) the scenario passes every check with the value at either end."""
    s = c.s
    if not s.assumptions:
        return
    sound = not c.out and c.gaps == Gaps()  # the rest is whole and sound: the ends can be checked
    data = scenario_data(s)
    resolved: list[tuple[int, str]] = []
    for i, a in enumerate(s.assumptions):
        try:
            value = get_value(data, a.path)
        except PathError as exc:
            if not _into_set_aside(c.gaps, a.path):  # else it may name an item refused already
                c.add(("assumptions", i, "path"), f"{a.path!r} does not name a number of the scenario: {exc}")
            continue
        earlier = next((j for j, other in resolved if _same_number(data, other, a.path)), None)
        if earlier is not None:
            c.add(("assumptions", i, "path"), f"{a.path!r} names the same number as assumptions[{earlier}] "
                  f"({s.assumptions[earlier].path!r}); assume each value once, with one range")
            continue
        resolved.append((i, a.path))
        if not a.low <= value <= a.high:
            side = "low" if value < a.low else "high"
            c.add(("assumptions", i, side), f"{getattr(a, side):g} leaves the scenario's value of {a.path} "
                  f"({value:g}) outside the range [{a.low:g}, {a.high:g}]; allowed: a low–high range "
                  "that holds the value the scenario runs with")
        fitted = drawn_from_fit(s, data, a.path)
        if fitted is not None:
            c.add(("assumptions", i, "path"), f"{a.path!r} is drawn from the fit in every replication "
                  f"(parameters: {fitted}, uncertainty.fitted), so its assumed ends would never be run; "
                  "assume a value the fit does not draw, or set uncertainty.fitted to false")
        elif sound:
            _check_ends(c, i, a, {k: v for k, v in data.items() if k != "assumptions"}, cross)


def _check_ends(c: Checks, i: int, a: Assumption, data: dict[str, Any], cross: CrossCheck) -> None:
    """The scenario (without its assumptions) is valid and sound with the value at each end."""
    for side in ("low", "high"):
        value = float(getattr(a, side))
        changed = with_values(data, {a.path: value})
        try:
            found = cross(Scenario.model_validate(changed), Gaps())
        except ValidationError as exc:
            found = translate(clean_errors(exc, changed))
        if found:
            where, message = found[0]
            c.add(("assumptions", i, side), f"{value:g} is not allowed: with {a.path} at {value:g} the "
                  f"scenario fails its checks ({format_path(where)}: {message}); allowed: a range whose "
                  "ends the scenario can run with")


def _into_set_aside(gaps: Gaps, path: str) -> bool:
    """Whether `path` leads into a block part of which the schema refused and set aside."""
    return path.split(".", 1)[0] in gaps.blocks


def _same_number(data: dict[str, Any], first: str, second: str) -> bool:
    """Whether two paths name one number (`inflow_per_week.x` and `inflow_per_week.x.rate`, a
    route by its destination and by its position)."""
    try:
        return get_value(with_values(data, {first: _MARK}), second) == _MARK
    except PathError:
        return False


def drawn_from_fit(s: Scenario, data: dict[str, Any], path: str) -> str | None:
    """The fit's path of the same number when each replication draws it from the fit, else None."""
    u, fit = s.uncertainty, s.parameters
    if u is None or not u.fitted or fit is None:
        return None
    return next((name for name in fit.values if _same_number(data, name, path)), None)
