"""The observed data in calibration/: format, codes, sources, key figures and the seeds' own sums.

The seed files live outside the repository (../shared/seeds in the workspace), so sources are
checked against the four seed file names, not the file system.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import pandas as pd
import pytest

from sim.contract.catalogue import CATALOGUE, EXITS, GROUPS, RESERVED, TOTAL
from sim.contract.observed_terms import CUSTOM_STATES, MEASURES

CALIBRATION = Path(__file__).resolve().parents[2] / "calibration"
README = CALIBRATION / "README.md"

SEEDS = (
    "000_3d92a26fc65fdf2b.txt",  # Tårnby 2018
    "001_3ddccec1d992ebc2.txt",  # Dragør 2022-2023
    "002_f7fb0ae2ec71eace.txt",  # Lyngby-Taarbæk 2020
    "003_ac4e23b05c791a71.txt",  # Køge 2018
)
MUNICIPALITIES = {
    "koege.csv": "003_ac4e23b05c791a71.txt",
    "taarnby.csv": "000_3d92a26fc65fdf2b.txt",
    "lyngby-taarbaek.csv": "002_f7fb0ae2ec71eace.txt",
    "dragoer.csv": "001_3ddccec1d992ebc2.txt",
}
HEADER = ["period", "state", "measure", "value", "source"]
DURATIONS_HEADER = ["state", "parameter", "value", "spread", "unit", "source"]

FRACTIONS = frozenset({"share", "target_share", "target_cofinancing_rate", "budget_cofinancing_rate"})
REPEATABLE = frozenset({"share", "target_share", "count", "target_count"})
"""Measures where one state may carry several figures in a period, told apart by their source."""

BENEFITS = frozenset(code for code, s in CATALOGUE.items() if s.group is not None)
STATES = BENEFITS | set(GROUPS) | {f"group:{g}" for g in GROUPS} | {TOTAL} | CUSTOM_STATES

MODELLED = (
    "a_dagpenge", "kontanthjaelp_jobparat", "kontanthjaelp_aktivitetsparat", "uddannelseshjaelp",
    "integrationsydelse", "sygedagpenge", "jobafklaring", "revalidering", "ressourceforloeb",
    "ledighedsydelse", "fleksjob",
)

_MONTH = r"\d{4}-(?:0[1-9]|1[0-2])"
PERIOD = re.compile(rf"^(?:\d{{4}}|{_MONTH}|{_MONTH}\.\.{_MONTH})$")
PLAIN_NUMBER = re.compile(r"^-?\d+(?:\.\d+)?$")
SEED_SOURCE = re.compile(r"^seeds/(?P<file>[^:\s]+): \S")


def _read(name: str) -> pd.DataFrame:
    return pd.read_csv(CALIBRATION / name, dtype=str, keep_default_na=False, encoding="utf-8")


def _frame(name: str) -> pd.DataFrame:
    df = _read(name)
    df["value"] = df["value"].astype(float)
    return df


def _value(df: pd.DataFrame, period: str, state: str, measure: str) -> float:
    hit = df[(df.period == period) & (df.state == state) & (df.measure == measure)]
    assert len(hit) == 1, f"expected one row for {period} {state} {measure}, found {len(hit)}"
    return float(hit.value.iloc[0])


@pytest.fixture(scope="module")
def frames() -> dict[str, pd.DataFrame]:
    return {name: _frame(name) for name in MUNICIPALITIES}


# -------------------------------------------------------------------------------- format

@pytest.mark.parametrize("name", sorted(MUNICIPALITIES))
def test_header_and_cells(name: str) -> None:
    df = _read(name)
    assert list(df.columns) == HEADER
    assert len(df) > 0
    for i, row in df.iterrows():
        where = f"{name} row {i}"
        assert PERIOD.match(row.period), f"{where}: bad period {row.period!r}"
        if ".." in row.period:
            start, end = row.period.split("..")
            assert start <= end, f"{where}: period range {row.period} runs backwards"
        assert row.state in STATES, f"{where}: unknown state {row.state!r}"
        assert row.measure in MEASURES, f"{where}: unknown measure {row.measure!r}"
        assert PLAIN_NUMBER.match(row.value), f"{where}: {row.value!r} is not a plain number"
        value = float(row.value)
        assert math.isfinite(value)
        if row.measure in FRACTIONS:
            assert 0 <= value <= 1, f"{where}: {row.measure} {value} is not a fraction"
        m = SEED_SOURCE.match(row.source)
        assert m and m.group("file") in SEEDS, f"{where}: source must start with seeds/<seed file>: ..."


@pytest.mark.parametrize("name", sorted(MUNICIPALITIES))
def test_cites_its_own_plan(name: str) -> None:
    """Most rows of a municipality's file come from its own plan (Dragør borrows two from Tårnby's)."""
    df = _read(name)
    own = df.source.str.startswith(f"seeds/{MUNICIPALITIES[name]}:")
    assert own.mean() > 0.9


@pytest.mark.parametrize("name", sorted(MUNICIPALITIES))
def test_levels_unique(name: str) -> None:
    df = _read(name)
    levels = df[~df.measure.isin(REPEATABLE)]
    dupes = levels[levels.duplicated(["period", "state", "measure"], keep=False)]
    assert dupes.empty, f"duplicate (period, state, measure):\n{dupes[['period', 'state', 'measure']]}"


def test_custom_codes_and_measures_are_documented() -> None:
    readme = README.read_text(encoding="utf-8")
    used_states: set[str] = set()
    used_measures: set[str] = set()
    for name in MUNICIPALITIES:
        df = _read(name)
        used_states |= set(df.state)
        used_measures |= set(df.measure)
    for code in CUSTOM_STATES:
        assert code.isascii() and re.fullmatch(r"[a-z0-9_]+", code)
        assert code not in CATALOGUE and code not in RESERVED
        assert f"`{code}`" in readme, f"custom state {code} is not in calibration/README.md"
    assert used_states & CUSTOM_STATES == CUSTOM_STATES, "a documented custom state is unused"
    for measure in MEASURES:
        assert f"`{measure}`" in readme, f"measure {measure} is not in calibration/README.md"
    assert "<scenario>-fit.yaml" in readme


# -------------------------------------------------------------------------------- key figures

KEY_FIGURES = [
    ("koege.csv", "2017-01..2017-10", "total", "full_year_persons", 4296),
    ("koege.csv", "2017-01..2017-10", "total", "national_full_year_persons", 4325),
    ("koege.csv", "2017-01..2017-10", "sygedagpenge", "full_year_persons", 781),
    ("koege.csv", "2018", "sygedagpenge", "budget_full_year_persons", 648),
    ("koege.csv", "2018", "fleksjob", "budget_full_year_persons", 752),
    ("koege.csv", "2017-01..2017-10", "integrationsydelse_oevrige", "full_year_persons", 62),
    ("koege.csv", "2018", "sygedagpenge", "budget_dkk", 134031172),
    ("koege.csv", "2018", "forsoergelsesydelser", "budget_dkk", 661517352),
    ("koege.csv", "2018", "total", "refund_dkk", -246780289),
    ("koege.csv", "2018", "total", "net_dkk", 565548660),
    ("koege.csv", "2017", "jobafklaring", "change", 0.117),
    ("taarnby.csv", "2018", "total", "target_full_year_persons", 2463),
    ("taarnby.csv", "2018", "total", "target_change", -0.026),
    ("taarnby.csv", "2018", "sygedagpenge", "target_full_year_persons", 509),
    ("taarnby.csv", "2018", "total", "target_cofinancing_rate", 0.743),
    ("taarnby.csv", "2018", "sygedagpenge", "target_cofinancing_rate", 0.617),
    ("taarnby.csv", "2018", "kontanthjaelp", "budget_cofinancing_rate", 0.764),
    ("taarnby.csv", "2018", "a_dagpenge", "budget_cofinancing_rate", 0.664),
    ("taarnby.csv", "2018", "integrationsydelse", "inflow_count", 29),
    ("lyngby-taarbaek.csv", "2019", "total", "full_year_persons", 3428),
    ("lyngby-taarbaek.csv", "2019", "sygedagpenge", "full_year_persons", 491),
    ("lyngby-taarbaek.csv", "2019", "jobparate_over_30", "full_year_persons", 101),
    ("lyngby-taarbaek.csv", "2019-09", "bruttoledige", "share", 0.025),
    ("lyngby-taarbaek.csv", "2020-12", "jobparate", "target_count", 1210),
    ("dragoer.csv", "2020-07..2021-06", "total", "full_year_persons", 620),
    ("dragoer.csv", "2020-07..2021-06", "total", "expected_full_year_persons", 520),
    ("dragoer.csv", "2019-07..2020-06", "group:kontanthjaelp", "expected_full_year_persons", 150),
    ("dragoer.csv", "2020-01..2020-12", "group:sygedagpenge", "full_year_persons", 200),
    ("dragoer.csv", "2023-12", "jobparate", "target_change_full_year_persons", -250),
    ("dragoer.csv", "2023-12", "sygedagpenge", "target_change_mean_duration_weeks", -1),
    ("dragoer.csv", "2021", "integrationsydelse", "mean_duration_weeks", 59.5),
    ("dragoer.csv", "2022-01..2023-12", "integrationsydelse", "target_mean_duration_weeks", 49.5),
    ("dragoer.csv", "2021", "integrationsydelse_kvinder", "mean_duration_weeks", 68.9),
    ("dragoer.csv", "2022-01..2023-12", "unge_under_30", "target_share", 0.074),
    ("dragoer.csv", "2018", "integrationsydelse", "inflow_count", 15),
]


@pytest.mark.parametrize(("name", "period", "state", "measure", "expected"), KEY_FIGURES)
def test_key_figure(frames: dict[str, pd.DataFrame], name: str, period: str, state: str, measure: str,
                    expected: float) -> None:
    assert _value(frames[name], period, state, measure) == pytest.approx(expected, abs=1e-9)


def test_taarnby_targets_consistent(frames: dict[str, pd.DataFrame]) -> None:
    df = frames["taarnby.csv"]
    assert {0.70, 0.53} <= set(df[(df.state == "sygedagpenge") & (df.measure == "target_share")].value)
    assert {0.05, 0.32} <= set(df[(df.state == "ressourceforloeb") & (df.measure == "target_share")].value)
    # 2,463 is a fall of 2.6 %: the 2017 level the file derives must fit both to within rounding.
    base = _value(df, "2017", "total", "full_year_persons")
    assert base * (1 + _value(df, "2018", "total", "target_change")) == pytest.approx(2463, abs=1)
    # Table 1's total is a weighted mean of its nine rows, so it lies between their extremes.
    rates = df[(df.measure == "budget_cofinancing_rate") & (df.state != TOTAL)].value
    assert len(rates) == 9
    assert rates.min() <= _value(df, "2018", TOTAL, "budget_cofinancing_rate") <= rates.max()


def test_dragoer_has_every_vive_figure(frames: dict[str, pd.DataFrame]) -> None:
    df = frames["dragoer.csv"]
    periods = ("2019-07..2020-06", "2020-01..2020-12", "2020-07..2021-06")
    for period in periods:
        for state in ("total", "group:dagpenge", "group:kontanthjaelp", "group:sygedagpenge"):
            for measure in ("full_year_persons", "expected_full_year_persons"):
                _value(df, period, state, measure)
    assert {0.9, 0.2} <= set(df[df.measure == "target_share"].value)


# -------------------------------------------------------------------------------- the seeds' sums

KOEGE_MAIN_ROWS = (
    "a_dagpenge", "kontanthjaelp", "integrationsydelse", "integrationsydelse_oevrige", "uddannelseshjaelp",
    "sygedagpenge", "revalidering", "ledighedsydelse", "jobafklaring", "ressourceforloeb", "fleksjob",
)


@pytest.mark.parametrize("measure", ["full_year_persons", "national_full_year_persons"])
def test_koege_table_adds_up(frames: dict[str, pd.DataFrame], measure: str) -> None:
    """Tabel 1's main rows (not the sub-rows) add up to "I ALT": Jobindsats rounds each row to whole
    persons, so the sum may miss the total by up to half a person per row (here it is exact)."""
    df = frames["koege.csv"]
    period = "2017-01..2017-10"
    rows = [_value(df, period, s, measure) for s in KOEGE_MAIN_ROWS]
    assert abs(sum(rows) - _value(df, period, TOTAL, measure)) <= 0.5 * len(rows)


def test_koege_subrows(frames: dict[str, pd.DataFrame]) -> None:
    """Uddannelseshjælp's Jan–Oct sub-rows add up to their row; kontanthjælp's exceed theirs by 4 in
    the seed itself (README), which a transcription error would change."""
    df = frames["koege.csv"]
    p, m = "2017-01..2017-10", "full_year_persons"
    assert (_value(df, p, "uddannelseshjaelp_uddannelsesparat", m)
            + _value(df, p, "uddannelseshjaelp_aktivitetsparat", m)) == _value(df, p, "uddannelseshjaelp", m)
    assert (_value(df, p, "kontanthjaelp_jobparat", m) + _value(df, p, "kontanthjaelp_aktivitetsparat", m)
            - _value(df, p, "kontanthjaelp", m)) == 4


def test_koege_budget_adds_up(frames: dict[str, pd.DataFrame]) -> None:
    """Budget 2018 in DKK: the eight benefit lines make "FORSØRGELSESYDELSER I ALT", and gross plus
    refunds is net, to the krone (the seed's own arithmetic)."""
    df = frames["koege.csv"]
    lines = ("sygedagpenge", "kontant_og_uddannelseshjaelp", "a_dagpenge", "revalidering", "fleksjob",
             "ledighedsydelse", "ressourceforloeb_og_jobafklaring", "egu")
    total = sum(_value(df, "2018", s, "budget_dkk") for s in lines)
    assert total == _value(df, "2018", "forsoergelsesydelser", "budget_dkk")
    gross = _value(df, "2018", TOTAL, "budget_dkk")
    assert gross + _value(df, "2018", TOTAL, "refund_dkk") == _value(df, "2018", TOTAL, "net_dkk")
    assert total + _value(df, "2018", "integrationsydelse", "budget_dkk") < gross


@pytest.mark.parametrize("measure", ["full_year_persons", "expected_full_year_persons"])
def test_dragoer_groups_add_up(frames: dict[str, pd.DataFrame], measure: str) -> None:
    """VIVE rounds each figure to tens, so each of the three groups and the total may be off by 5:
    the groups' sum may miss the total by up to 4 × 5 = 20."""
    df = frames["dragoer.csv"]
    for period in ("2019-07..2020-06", "2020-01..2020-12", "2020-07..2021-06"):
        groups = [_value(df, period, f"group:{g}", measure)
                  for g in ("dagpenge", "kontanthjaelp", "sygedagpenge")]
        total = _value(df, period, TOTAL, measure)
        assert all(v % 10 == 0 for v in [*groups, total])
        assert abs(sum(groups) - total) <= 20, f"{period} {measure}: {groups} vs {total}"


# -------------------------------------------------------------------------------- durations

def test_durations() -> None:
    df = pd.read_csv(CALIBRATION / "durations.csv", dtype=str, keep_default_na=False, encoding="utf-8")
    assert list(df.columns) == DURATIONS_HEADER
    assert not df.duplicated(["state", "parameter"]).any()
    for i, row in df.iterrows():
        where = f"durations.csv row {i}"
        assert row.state in BENEFITS, f"{where}: {row.state!r} is not a catalogue benefit"
        assert PLAIN_NUMBER.match(row.value) and PLAIN_NUMBER.match(row.spread), where
        assert math.isfinite(float(row.value)) and float(row.spread) >= 0, where
        assert row.unit, where
        m = SEED_SOURCE.match(row.source)
        assert (row.source.startswith(("ASSUMED: ", "DOMAIN.md: "))
                or (m is not None and m.group("file") in SEEDS)), f"{where}: source {row.source[:40]!r}"
    clocks = {(str(r.state), str(r.parameter)): float(str(r.value)) for r in df.itertuples()}
    for state in MODELLED:
        assert (state, "mean_weeks") in clocks, f"no mean_weeks for {state}"
        assert clocks[(state, "mean_weeks")] > 0
    assert clocks[("a_dagpenge", "exhaustion_week")] == 104
    assert clocks[("sygedagpenge", "revurdering_paid_weeks")] == 22
    assert clocks[("fleksjob", "grant_weeks")] == 260
    assert clocks[("ressourceforloeb", "forloeb_min_weeks")] == 52
    assert clocks[("ressourceforloeb", "forloeb_max_weeks")] == 260
    # A mean stay cannot exceed a hard limit on the stay.
    assert clocks[("a_dagpenge", "mean_weeks")] < clocks[("a_dagpenge", "exhaustion_week")]


def _readme_codes(heading: str) -> set[str]:
    """The first-column codes of the README table under `heading`."""
    section = re.split(r"^#{2,3} ", README.read_text(encoding="utf-8").split(heading, 1)[1],
                       flags=re.MULTILINE)[0]
    return set(re.findall(r"^\| `([^`]+)` \|", section, flags=re.MULTILINE))


def test_readme_lists_the_vocabulary() -> None:
    """The README's tables of measures and custom states are the code's vocabulary, word for word."""
    outflows = {f"outflow_{code}_count" for code in EXITS}
    assert _readme_codes("### Measures") == (MEASURES - outflows) | {"outflow_<exit>_count"}
    assert _readme_codes("### Custom state codes") == CUSTOM_STATES
