"""The observed CSV reader refuses what would silently mislead a fit: a negative stock or count,
a compared figure given twice, a measure or state that is no word of the vocabulary; other rows
(targets, budgets, money) pass as they are."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import scenario

from sim.features import prepare_model
from sim.fitting.observations import ObservedDataError, observations, read_observed

HEADER = "period,state,measure,value,source\n"


def write(tmp_path: Path, rows: str) -> Path:
    path = tmp_path / "obs.csv"
    path.write_text(HEADER + rows, encoding="utf-8")
    return path


def test_a_negative_stock_is_refused_with_its_row(tmp_path: Path) -> None:
    path = write(tmp_path, "2018,a_dagpenge,full_year_persons,100,x\n"
                           "2019,a_dagpenge,full_year_persons,-5,x\n")
    with pytest.raises(ObservedDataError, match=r"row 3: value -5 is negative"):
        read_observed(path)


def test_a_negative_change_or_amount_of_money_is_kept(tmp_path: Path) -> None:
    path = write(tmp_path, "2018,total,refund_dkk,-246780289,x\n2018,total,change_count,-12,x\n")
    assert list(read_observed(path)["value"]) == [-246780289.0, -12.0]


def test_a_compared_figure_given_twice_names_both_rows(tmp_path: Path) -> None:
    path = write(tmp_path, "2018,a_dagpenge,full_year_persons,100,x\n2018,total,full_year_persons,900,x\n"
                           "2018, a_dagpenge ,full_year_persons,101,y\n")
    with pytest.raises(ObservedDataError, match=r"rows 2 and 4: the same period, state and measure"):
        read_observed(path)


def test_two_targets_of_one_measure_may_share_a_period(tmp_path: Path) -> None:
    path = write(tmp_path, "2022,total,target_share,0.2,first\n2022,total,target_share,0.2,second\n")
    assert len(read_observed(path)) == 2


def test_an_unknown_measure_is_refused_with_its_row_and_the_word_meant(tmp_path: Path) -> None:
    path = write(tmp_path, "2018,a_dagpenge,full_year_persons,100,x\n2018,a_dagpenge,full_year_person,90,x\n")
    with pytest.raises(ObservedDataError, match=r"obs.csv, row 3: unknown measure 'full_year_person'; "
                                                 r"did you mean 'full_year_persons'\?"):
        read_observed(path)


def test_every_documented_measure_reads(tmp_path: Path) -> None:
    rows = ["2018,total,outflow_pension_count,3,x", "2018,total,full_year_persons_over_52_weeks,40,x",
            "2018,total,persons_count,120,x", "2018,total,inflow_from_outside_count,12,x"]
    assert len(read_observed(write(tmp_path, "\n".join(rows) + "\n"))) == 4


def test_an_unknown_state_is_refused_when_matched_to_a_model(tmp_path: Path) -> None:
    """A typo in a state is an error with its row, not a figure quietly left out of the fit; a
    catalogue state the scenario lacks, or a plan's custom group, is left out with its reason."""
    model = prepare_model(scenario(
        states={"a_dagpenge": {}}, initial={"a_dagpenge": 100},
        transitions={"a_dagpenge": [{"to": "job", "rate_per_week": 0.05}]}), 1)
    kept = write(tmp_path, "2018-03,a_dagpenge,full_year_persons,700,x\n"
                           "2018-03,arbejdsmarkedsydelse,full_year_persons,7,x\n"
                           "2018-03,jobparate_over_30,full_year_persons,100,x\n")
    found, skipped = observations(model, read_observed(kept))
    assert [o.state for o in found] == ["a_dagpenge"]
    assert list(skipped["state"]) == ["arbejdsmarkedsydelse", "jobparate_over_30"]
    typo = write(tmp_path, "2018-03,a_dagpenge,full_year_persons,700,x\n"
                           "2018-03,sygedagpeng,inflow_count,7,x\n")
    with pytest.raises(ObservedDataError, match=r"obs.csv, row 3: unknown state 'sygedagpeng'; "
                                                 r"did you mean 'sygedagpenge'\?"):
        observations(model, read_observed(typo))


def test_leading_and_trailing_spaces_are_not_part_of_a_word(tmp_path: Path) -> None:
    frame = read_observed(write(tmp_path, " 2018 , a_dagpenge , full_year_persons ,100,x\n"))
    assert list(frame.iloc[0][["period", "state", "measure"]]) == ["2018", "a_dagpenge", "full_year_persons"]


def _with_basis(tmp_path: Path, rows: str) -> Path:
    path = tmp_path / "actuals.csv"
    path.write_text("period,state,measure,value,source,basis\n" + rows, encoding="utf-8")
    return path


def test_a_figure_on_each_basis_is_two_figures_and_the_fit_takes_the_jobindsats_one(tmp_path: Path) -> None:
    """Sygedagpenge counted on every day (Jobindsats) and from the day the municipality pays are
    two figures; a fit compares the model's every-day persons, so only the first."""
    model = prepare_model(scenario(
        states={"sygedagpenge": {}}, initial={"sygedagpenge": 100},
        transitions={"sygedagpenge": [{"to": "job", "rate_per_week": 0.05}]}), 1)
    path = _with_basis(tmp_path, "2018-03,sygedagpenge,full_year_persons,100,x,\n"
                                 "2018-03,sygedagpenge,full_year_persons,80,x, Payment\n")
    frame = read_observed(path)
    assert list(frame["basis"]) == ["jobindsats", "payment"]
    found, skipped = observations(model, frame)
    assert [o.value for o in found] == [100.0]
    assert list(skipped["reason"]) == [
        "on the payment basis; the fit compares figures of every day on the benefit"]
    twice = _with_basis(tmp_path, "2018-03,sygedagpenge,full_year_persons,100,x,jobindsats\n"
                                  "2018-03,sygedagpenge,full_year_persons,99,x,\n")
    with pytest.raises(ObservedDataError, match=r"rows 2 and 3: .* twice on the jobindsats basis; keep one"):
        read_observed(twice)


def test_a_basis_that_is_no_word_is_refused_with_its_row(tmp_path: Path) -> None:
    path = _with_basis(tmp_path, "2018-03,sygedagpenge,full_year_persons,100,x,jobindsats\n"
                                 "2018-04,sygedagpenge,full_year_persons,100,x,betalt\n")
    with pytest.raises(ObservedDataError, match=r"actuals.csv, row 3: basis 'betalt' is not allowed; give "
                                                 r"jobindsats .* or payment"):
        read_observed(path)
