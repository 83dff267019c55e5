"""Fitting piecewise-constant competing-risks hazards from spell data (`sim.fitting.spells`).

The expected numbers come from arithmetic written out in each test (exposure and events by
hand), from the engine or a direct NumPy simulation with known rates, or from closed forms of
the Poisson likelihood. Statistical checks use 3 standard errors and fixed seeds.
"""

from __future__ import annotations

import math
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helpers import scenario

import sim
from sim.fitting.spells import SpellDataError, engine_spells, fit_spells, read_spells

Z3 = 3.0


def simulate_pwe(rng: np.random.Generator, n: int, edges: list[float], rates: dict[str, list[float]],
                 censor_weeks: float, ratio: dict[str, float] | None = None,
                 attribute_share: float = 0.5) -> pd.DataFrame:
    """`n` spells with piecewise-constant hazards (per week, bands from `edges`), censored at a
    uniform time in [0, censor_weeks). With `ratio`, a `sex` attribute: 'male' (share
    `attribute_share`) multiplies the hazard to each destination in `ratio` by its value.

    Exact: one standard exponential is spent against the cumulative hazard band by band.
    """
    dests = list(rates)
    male = rng.random(n) < attribute_share
    mult = np.ones((n, len(dests)))
    for j, d in enumerate(dests):
        mult[male, j] = (ratio or {}).get(d, 1.0)
    lam = np.array([rates[d] for d in dests]).T  # [band, dest]
    hi = [*edges[1:], math.inf]
    e = rng.exponential(size=n)
    t = np.full(n, np.inf)
    band = np.zeros(n, dtype=int)
    for b, (lo, up) in enumerate(zip(edges, hi, strict=True)):
        h = (lam[b][None, :] * mult).sum(axis=1)  # total hazard of each person in band b
        todo = np.isinf(t)
        exit_here = todo & (e < h * (up - lo))
        t[exit_here] = lo + e[exit_here] / h[exit_here]
        band[exit_here] = b
        e = np.where(todo & ~exit_here, e - h * (up - lo), e)
    h_dest = lam[band] * mult
    u = rng.random(n) * h_dest.sum(axis=1)
    dest = (u[:, None] >= np.cumsum(h_dest, axis=1)).sum(axis=1)
    c = rng.uniform(0.0, censor_weeks, n)
    moved = t < c
    return pd.DataFrame({
        "id": np.arange(n), "state": "a_dagpenge", "start": 0.0, "end": np.minimum(t, c) * 7.0,
        "to": np.where(moved, np.array(dests, dtype=object)[np.minimum(dest, len(dests) - 1)], None),
        "sex": np.where(male, "male", "female"),
    })


def rate(fit: sim.fitting.spells.SpellFit, dest: str, band: int, column: str = "rate_per_week") -> float:
    r = fit.rates
    return float(r.loc[(r["to"] == dest) & (r["band"] == band), column].iloc[0])


# ---------------------------------------------------------------------------------------------
# a) the MLE by hand


HAND = pd.DataFrame({
    "id": [1, 2, 3, 4, 5, 6],
    "state": "a_dagpenge",
    "start": [0.0, 0.0, 0.0, 0.0, 0.0, 7.0],
    "end": [14.0, 42.0, 28.0, 70.0, 63.0, 7.0],  # 2, 6, 4, 10, 9 and 0 weeks
    "to": ["job", "job", "other", "censored", "job", ""],
})


def test_mle_is_events_over_exposure_by_hand() -> None:
    """Bands [0, 4) and [4, ∞) weeks. Exposure in band 0: 2 + 4 + 4 + 4 + 4 = 18 weeks (spell 3
    ends exactly at week 4, so its move counts in band 0); in band 1: 2 + 6 + 5 = 13 weeks
    (spell 4 is censored: exposure, no event; spell 6 has zero length: nothing). Events: job
    band 0: 1 (spell 1), job band 1: 2 (spells 2 and 5), other band 0: 1 (spell 3), other band 1: 0.
    """
    fit = fit_spells(HAND, bands={"a_dagpenge": [0, 4]})
    r = fit.rates
    assert r["exposure_weeks"].tolist() == [18.0, 13.0, 18.0, 13.0]
    assert r["events"].tolist() == [1, 2, 1, 0]
    assert rate(fit, "job", 0) == pytest.approx(1 / 18)
    assert rate(fit, "job", 1) == pytest.approx(2 / 13)
    assert rate(fit, "other", 0) == pytest.approx(1 / 18)
    assert rate(fit, "other", 1) == 0.0
    assert rate(fit, "job", 1, "se") == pytest.approx(math.sqrt(2) / 13)
    # Garwood: one event gives lower bound χ²(0.025; 2)/2 = −ln(0.975); no event: lower 0,
    # upper χ²(0.975; 2)/2 = −ln(0.025)
    assert rate(fit, "job", 0, "ci_low") == pytest.approx(-math.log(0.975) / 18)
    assert rate(fit, "other", 1, "ci_low") == 0.0
    assert rate(fit, "other", 1, "ci_high") == pytest.approx(-math.log(0.025) / 13)
    # AIC = 2k − 2 Σ (d log(d/E) − d), k = bands × destinations
    ll2 = (math.log(1 / 18) - 1) + (2 * math.log(2 / 13) - 2) + (math.log(1 / 18) - 1)
    ll1 = (3 * math.log(3 / 31) - 3) + (math.log(1 / 31) - 1)
    band_row = fit.bands.iloc[0]
    assert band_row["aic"] == pytest.approx(2 * 4 - 2 * ll2)
    assert band_row["aic_one_band"] == pytest.approx(2 * 2 - 2 * ll1)
    assert band_row["edges"] == [0, 4]
    assert fit.routes() == {"a_dagpenge": [
        {"to": "job", "rate_per_week": [[0, pytest.approx(1 / 18)], [4, pytest.approx(2 / 13)]]},
        {"to": "other", "rate_per_week": [[0, pytest.approx(1 / 18)], [4, 0.0]]}]}
    se = fit.standard_errors()
    assert se["transitions.a_dagpenge.job.rate_per_week.1"] == pytest.approx(math.sqrt(2) / 13)
    assert se["transitions.a_dagpenge.other.rate_per_week.0"] == pytest.approx(1 / 18)

    one = fit_spells(HAND, bands={"a_dagpenge": [0]})
    assert one.routes()["a_dagpenge"][0] == {"to": "job", "rate_per_week": pytest.approx(3 / 31)}
    assert one.standard_errors()["transitions.a_dagpenge.job.rate_per_week"] == pytest.approx(
        math.sqrt(3) / 31)


def test_delayed_entry_by_hand_with_dates() -> None:
    """Left truncation: a spell 2018-01-01 → 2018-02-05 (5 weeks) seen from 2018-01-22 (week 3)
    is at risk 1 week in band [0, 4) and 1 week in [4, ∞), not 4 + 1. A spell whose entry is
    before its start counts from its start (2 weeks in band 0); one seen only at its end
    (entry = end) contributes nothing, not even its move."""
    df = pd.DataFrame({
        "id": [1, 2, 3], "state": "sygedagpenge",
        "start": pd.to_datetime(["2018-01-01", "2018-03-01", "2018-01-01"]),
        "end": pd.to_datetime(["2018-02-05", "2018-03-15", "2018-01-29"]),
        "entry": pd.to_datetime(["2018-01-22", "2017-12-01", "2018-01-29"]),
        "to": ["job", None, "job"],
    })
    r = fit_spells(df, bands={"sygedagpenge": [0, 4]}).rates
    assert r["exposure_weeks"].tolist() == [3.0, 1.0]
    assert r["events"].tolist() == [0, 1]
    without = fit_spells(df.drop(columns="entry"), bands={"sygedagpenge": [0, 4]}).rates
    assert without["exposure_weeks"].tolist() == [10.0, 1.0]  # 4 + 2 + 4 in band 0
    assert without["events"].tolist() == [1, 1]


def test_read_spells_csv_round_trip(tmp_path: Path) -> None:
    """A CSV with dates and the censoring spellings '' and 'censored' gives the same fit as the
    same spells in days (2018-01-01 is day 0): exposure and events are identical."""
    path = tmp_path / "spells.csv"
    path.write_text("id,state,start,end,to,sex\n"
                    "1,a_dagpenge,2018-01-01,2018-01-15,job,male\n"
                    "2,a_dagpenge,2018-01-01,2018-02-12,job,female\n"
                    "3,a_dagpenge,2018-01-01,2018-01-29,other,female\n"
                    "4,a_dagpenge,2018-01-01,2018-03-12,censored,male\n"
                    "5,a_dagpenge,2018-01-01,2018-03-05,job,female\n"
                    "6,a_dagpenge,2018-01-08,2018-01-08,,male\n", encoding="utf-8")
    df = read_spells(path)
    assert pd.api.types.is_datetime64_any_dtype(df["start"])
    assert df["to"].tolist() == ["job", "job", "other", None, "job", None]
    pd.testing.assert_frame_equal(fit_spells(df, bands={"a_dagpenge": [0, 4]}).rates,
                                  fit_spells(HAND, bands={"a_dagpenge": [0, 4]}).rates)


# ---------------------------------------------------------------------------------------------
# b) recovery from the engine

ENGINE_TRUTH = {("job", 0): 0.06, ("job", 1): 0.03, ("pension", 0): 0.01, ("pension", 1): 0.02}


def test_recovers_engine_rates_with_delayed_entry() -> None:
    """1000 initial citizens (steady-state elapsed durations) and 20 a week for 5 years, routes
    to job and pension with an edge at 13 weeks. The engine reports an initial citizen's spell
    as starting before day 0 (start_day = −elapsed) and draws its exit conditional on having
    survived that long, so its exposure counts only from day 0 (entry = 0). Then each fitted
    rate is within 3 SE of the truth. Counting the initial stock from its start instead adds
    person-weeks in which no exit could be seen, biasing band 0 down by many SE."""
    sc = scenario(months=60, states={"a_dagpenge": {}}, initial={"a_dagpenge": 1000},
                  inflow_per_week={"a_dagpenge": 20},
                  transitions={"a_dagpenge": [
                      {"to": "job", "rate_per_week": [[0, 0.06], [13, 0.03]]},
                      {"to": "pension", "rate_per_week": [[0, 0.01], [13, 0.02]]}]})
    model = sim.compile_model(sc)
    record = sim.simulate(model, np.random.SeedSequence(11), record_spells=True)
    table = record.spells
    assert table is not None
    assert list(table.columns) == ["id", "state", "start_day", "end_day", "to"]
    initial = table["id"] < 1000
    assert (table.loc[initial, "start_day"] < 0).all()  # the stock enters with elapsed time
    censored = table["to"].isna()
    assert censored.any() and (table.loc[censored, "end_day"] == model.calendar.horizon).all()

    spells = engine_spells(table)
    assert (spells["entry"] == np.maximum(table["start_day"], 0.0)).all()
    fit = fit_spells(spells, bands={"a_dagpenge": [0, 13]})
    for (dest, band), truth in ENGINE_TRUTH.items():
        got, se = rate(fit, dest, band), rate(fit, dest, band, "se")
        assert abs(got - truth) < Z3 * se, (dest, band, got, truth, se)

    naive = fit_spells(spells.drop(columns="entry"), bands={"a_dagpenge": [0, 13]})
    assert rate(naive, "job", 0) < 0.06 - 5 * rate(naive, "job", 0, "se")


# ---------------------------------------------------------------------------------------------
# c) coverage

COVER_RATES = {"job": [0.08, 0.04], "other": [0.02, 0.03]}


@pytest.mark.slow
def test_confidence_intervals_cover_the_truth() -> None:
    """Over 200 data sets of 1000 spells each, the exact 95 % Poisson interval of each rate
    covers the true rate in 90–99 % of them: a 95 % interval (Garwood is slightly conservative)
    covers about 95–96 %, and 200 trials have a binomial SD of 1.5 points."""
    rng = np.random.default_rng(2024)
    hits = np.zeros((2, 2))
    for _ in range(200):
        df = simulate_pwe(rng, 1000, [0.0, 13.0], COVER_RATES, censor_weeks=60.0)
        fit = fit_spells(df, bands={"a_dagpenge": [0, 13]})
        for j, (dest, truth) in enumerate(COVER_RATES.items()):
            for b in range(2):
                hits[j, b] += rate(fit, dest, b, "ci_low") <= truth[b] <= rate(fit, dest, b, "ci_high")
    coverage = hits / 200
    assert ((coverage >= 0.90) & (coverage <= 0.99)).all(), coverage


# ---------------------------------------------------------------------------------------------
# d) AIC


def test_aic_finds_the_true_edge() -> None:
    """Rates halve at week 13 in 20 000 spells: the log-likelihood gain of an edge there is in
    the hundreds, far above AIC's penalty of 2 per added parameter, so the chosen edges include
    13 and their AIC is below the one-band model's."""
    df = simulate_pwe(np.random.default_rng(5), 20_000, [0.0, 13.0], COVER_RATES, censor_weeks=80.0)
    row = fit_spells(df).bands.iloc[0]
    assert 13 in row["edges"]
    assert row["chosen"] == "aic"
    assert row["aic"] < row["aic_one_band"] - 100


def test_aic_keeps_one_band_when_the_hazard_is_constant() -> None:
    """Constant rates, candidate edge 13 only: the edge adds 2 parameters (one per destination)
    and twice its log-likelihood gain is χ² with 2 df, so AIC adds it with probability
    P(χ²₂ > 4) = e⁻² ≈ 0.135; one band is chosen in about 17 of 20 data sets (≥ 15 asked). No
    penalty would add the edge almost always; a penalty per band instead of per band and
    destination would keep one band with P(χ²₂ ≤ 2) = 1 − e⁻¹ ≈ 63 %, about 13 of 20."""
    rng = np.random.default_rng(7)
    ones = 0
    for _ in range(20):
        df = simulate_pwe(rng, 4000, [0.0], {"job": [0.05], "other": [0.02]}, censor_weeks=80.0)
        row = fit_spells(df, candidate_edges=(13,)).bands.iloc[0]
        ones += row["edges"] == [0]
        assert row["aic"] <= row["aic_one_band"]
    assert ones >= 15
    # and with the default candidates on one large data set (fixed seed)
    df = simulate_pwe(np.random.default_rng(8), 20_000, [0.0], {"job": [0.05], "other": [0.02]},
                      censor_weeks=80.0)
    assert fit_spells(df).bands.iloc[0]["edges"] == [0]


# ---------------------------------------------------------------------------------------------
# e) hazard ratios


def test_hazard_ratio_of_an_attribute() -> None:
    """Men's hazard to job is 1.5 times women's in both bands, the hazard to other is the same:
    the Poisson GLM's HR for sex = male is within 3 of its SEs of 1.5 for job and of 1 for
    other (SE of the HR by the delta method: HR × SE of log HR)."""
    df = simulate_pwe(np.random.default_rng(3), 20_000, [0.0, 13.0], COVER_RATES, censor_weeks=80.0,
                      ratio={"job": 1.5})
    hr = fit_spells(df, bands={"a_dagpenge": [0, 13]}, attributes=["sex"]).hazard_ratios
    assert set(hr["level"]) == {"male"} and set(hr["reference"]) == {"female"}
    for dest, truth in (("job", 1.5), ("other", 1.0)):
        row = hr[hr["to"] == dest].iloc[0]
        assert abs(row["hr"] - truth) < Z3 * row["hr"] * row["se_log_hr"], row
        # Wald interval on the log scale: log HR ± 1.96 SE
        assert row["ci_low"] == pytest.approx(row["hr"] * math.exp(-1.959964 * row["se_log_hr"]))
        assert row["ci_high"] == pytest.approx(row["hr"] * math.exp(1.959964 * row["se_log_hr"]))
    assert hr[hr["to"] == "job"].iloc[0]["p_value"] < 1e-6


def test_hazard_ratio_is_the_rate_ratio_with_one_band() -> None:
    """With one band and one binary attribute the Poisson model is saturated: its MLE of the
    HR is exactly (men's events / men's exposure) / (women's events / women's exposure)."""
    df = simulate_pwe(np.random.default_rng(4), 3000, [0.0], {"job": [0.05], "other": [0.02]},
                      censor_weeks=60.0, ratio={"job": 2.0})
    fit = fit_spells(df, bands={"a_dagpenge": [0]}, attributes=["sex"])
    weeks = df["end"] / 7
    by_sex = {s: (int((g["to"] == "job").sum()), float(weeks[g.index].sum())) for s, g in df.groupby("sex")}
    expected = (by_sex["male"][0] / by_sex["male"][1]) / (by_sex["female"][0] / by_sex["female"][1])
    row = fit.hazard_ratios[fit.hazard_ratios["to"] == "job"].iloc[0]
    assert row["hr"] == pytest.approx(expected, rel=1e-6)


# ---------------------------------------------------------------------------------------------
# f) bad input


def _csv(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "spells.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_missing_column_is_named(tmp_path: Path) -> None:
    path = _csv(tmp_path, "id,state,start,end\n1,a_dagpenge,0,7\n")
    with pytest.raises(SpellDataError, match=r"missing column 'to'"):
        read_spells(path)
    with pytest.raises(SpellDataError, match=r"missing column 'to'"):
        fit_spells(pd.DataFrame({"id": [1], "state": ["a"], "start": [0.0], "end": [7.0]}))


def test_end_before_start_names_the_row(tmp_path: Path) -> None:
    """The third data row is CSV line 4 (the header is line 1)."""
    path = _csv(tmp_path, "id,state,start,end,to\n"
                          "1,a_dagpenge,2018-01-01,2018-02-01,job\n"
                          "2,a_dagpenge,2018-01-01,2018-03-01,\n"
                          "3,a_dagpenge,2018-05-01,2018-04-01,job\n")
    with pytest.raises(SpellDataError) as err:
        read_spells(path)
    message = str(err.value)
    assert "end before start" in message and "line 4" in message and "'3'" in message
    assert "line 2" not in message and "line 3" not in message
    df = pd.DataFrame({"id": [7, 8], "state": "a", "start": [0.0, 10.0], "end": [5.0, 3.0], "to": "job"})
    with pytest.raises(SpellDataError, match=r"row 1 \(id 8"):
        fit_spells(df)


def test_bad_values_are_named(tmp_path: Path) -> None:
    path = _csv(tmp_path, "id,state,start,end,to\n"
                          "1,a_dagpenge,2018-01-01,2018-13-45,job\n"
                          "2,,2018-01-01,2018-03-01,job\n"
                          "3,a_dagpenge,2018-01-01,2018-03-01,a_dagpenge\n"
                          "4,a_dagpenge,2018-01-01,2018-03-01,jobb\n")
    with pytest.raises(SpellDataError) as err:
        read_spells(path, states=["a_dagpenge", "job"])
    message = str(err.value)
    assert "column 'end': not a date (YYYY-MM-DD) in line 2 (id '1', end '2018-13-45')" in message
    assert "column 'state': empty value in line 3" in message
    assert "move to the spell's own state in line 4" in message
    assert "unknown destination" in message and "line 5" in message and "'jobb'" in message


def test_ragged_lines_are_named(tmp_path: Path) -> None:
    """A line with a field too many or too few is refused by line number (a missing `to` must
    not pass for a censored spell); blank lines count in the numbering."""
    path = _csv(tmp_path, "id,state,start,end,to\n1,a,0,7,job\n\n2,a,0,7\n3,a,0,7,job,extra\n")
    with pytest.raises(SpellDataError, match=r"header has 5 fields but line 4 has 4; line 5 has 6"):
        read_spells(path)


# ---------------------------------------------------------------------------------------------
# speed


def test_two_hundred_thousand_spells_fit_in_seconds() -> None:
    """Vectorised: 200 000 spells, AIC over the default 32 band sets and a hazard-ratio GLM per
    destination take about a second (bound 10 s for slow machines)."""
    df = simulate_pwe(np.random.default_rng(9), 200_000, [0.0, 13.0], COVER_RATES, censor_weeks=80.0,
                      ratio={"job": 1.5})
    t0 = time.perf_counter()
    fit = fit_spells(df, attributes=["sex"])
    assert time.perf_counter() - t0 < 10.0
    assert 13 in fit.bands.iloc[0]["edges"]
