"""The observed CSV reader refuses what would silently mislead a fit: a negative stock or count,
and a compared figure given twice; other rows (targets, budgets, money) pass as they are."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.fitting.observations import ObservedDataError, read_observed

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
