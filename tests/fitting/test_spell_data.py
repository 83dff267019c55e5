"""Reading spell files is separate from fitting them (`sim.fitting.spell_data`).

Checking a spell file must stay cheap: statsmodels is slow to import, so only the fitting
loads it, and only when hazard ratios are fitted.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import sim.fitting.spell_data as spell_data
import sim.fitting.spells as spells

ROOT = Path(__file__).resolve().parents[2]

CHECK = """
import sys
from sim.fitting.spell_data import read_spells

frame = read_spells(sys.argv[1])
assert list(frame["to"]) == ["job", None, "job", None], frame
print(sorted(m for m in sys.modules if m.split(".")[0] == "statsmodels" or m == "sim.fitting.spells"))

from sim.fitting.spells import fit_spells

fit_spells(frame, bands={"a_dagpenge": [0]}, attributes=["sex"])
print("statsmodels" in sys.modules)
"""
"""Read a file and list the modules it loaded; then fit hazard ratios, which must load statsmodels
(so the first list being empty is not an artefact of how modules are looked for)."""


def test_reading_spells_does_not_import_statsmodels(tmp_path: Path) -> None:
    """In a fresh interpreter, reading and validating a spell CSV loads neither statsmodels nor
    the fitting module."""
    path = tmp_path / "spells.csv"
    path.write_text("id,state,start,end,to,sex\n1,a_dagpenge,0,14,job,f\n2,a_dagpenge,0,70,,f\n"
                    "3,a_dagpenge,0,21,job,m\n4,a_dagpenge,0,35,,m\n", encoding="utf-8")
    result = subprocess.run([sys.executable, "-c", CHECK, str(path)], capture_output=True, text=True,
                            cwd=ROOT, timeout=300, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["[]", "True"]


def test_reading_names_are_still_importable_from_spells() -> None:
    """Callers import the reading names from `sim.fitting.spells`; they are the same objects."""
    for name in ("REQUIRED", "CENSORED", "SpellDataError", "read_spells", "validate_spells",
                 "engine_spells"):
        assert getattr(spells, name) is getattr(spell_data, name)
