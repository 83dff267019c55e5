"""What every cross-check shares: the scenario under check, what the schema refused, the
problems found so far, and the wording of an unknown state or a band."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from sim.contract.catalogue import CATALOGUE, EXITS
from sim.contract.messages import Gaps, did_you_mean
from sim.contract.schema import DurationBand, Scenario
from sim.contract.yamlio import Path


@dataclass
class Checks:
    """One run of the cross-checks: the scenario, its gaps (what the schema refused, to be
    skipped) and the problems, in the order found."""

    s: Scenario
    gaps: Gaps
    out: list[tuple[Path, str]] = field(default_factory=list)

    @property
    def declared(self) -> list[str]:
        """The declared benefit states, in the file's order."""
        return list(self.s.states)

    def add(self, path: Path, message: str) -> None:
        """Note one problem at `path`."""
        self.out.append((path, message))

    def unknown(self, path: Path, code: str, choices: list[str]) -> None:
        """Note an unknown state code; a catalogue code that is not declared is told so."""
        if code in CATALOGUE and code not in EXITS and code not in self.s.states:
            self.add(path, f"unknown state {code!r}: it is in the benefit catalogue but not declared; "
                     f"add it under states, or use one of: {', '.join(choices)}")
        else:
            self.add(path, f"unknown state {code!r}{did_you_mean(code, choices)}")


def check_bands(c: Checks, path: Path, bands: tuple[DurationBand, ...]) -> None:
    """Weeks bands with shares: shares sum to 1, bands do not overlap."""
    if bands and abs(sum(b.share for b in bands) - 1) > 1e-6:
        c.add(path, f"shares sum to {sum(b.share for b in bands):g}; they must sum to 1")
    for i, (a, b) in enumerate(itertools.pairwise(bands)):
        if b.from_week < a.to_week:
            c.add((*path, i + 1), f"{band_text(b)} starts at week {b.from_week:g}, inside the band before "
                  f"(to week {a.to_week:g}); bands must not overlap and weeks must increase")


def band_text(b: DurationBand) -> str:
    """A band as the file writes it: [from_week, to_week, share]."""
    return f"[{b.from_week:g}, {b.to_week:g}, {b.share:g}]"


def bands_text(bands: tuple[tuple[float, float], ...] | None) -> str:
    """Rate or mean bands as the file writes them: one number, or [[from_week, value], …]."""
    if not bands:
        return "None"
    if len(bands) == 1:
        return f"{bands[0][1]:g}"
    return "[" + ", ".join(f"[{w:g}, {v:g}]" for w, v in bands) + "]"
