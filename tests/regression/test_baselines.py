"""Fixed-seed results of the shipped scenarios are locked; tests/regression/update_baseline.py moves them."""

from __future__ import annotations

import pytest
import yaml
from update_baseline import BASELINE, baseline


@pytest.mark.slow
def test_shipped_scenarios_reproduce_their_baseline() -> None:
    expected = yaml.safe_load(BASELINE.read_text(encoding="utf-8"))
    actual = baseline()
    assert actual.keys() == expected.keys(), (
        "a scenario was added or removed: run tests/regression/update_baseline.py")
    for name, results in expected.items():
        for table in ("yearly_mean", "probability_met"):
            for key, value in results[table].items():
                assert actual[name][table][key] == pytest.approx(value, rel=1e-9, abs=1e-6), (name, key)
