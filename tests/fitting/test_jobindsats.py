"""Jobindsats exports read into the long observed format (`sim.fitting.jobindsats`).

The exports are written here in the shapes jobindsats.dk gives: title lines, one or two header
rows (a period over each measure), Danish numbers ("1.234,5"), missing marks (".." and "-"),
a source note at the end; CSV with semicolons and xlsx with merged header cells. Every output
is read back by the project's own reader of observed files.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import Workbook

import sim
from sim.contract.catalogue import CATALOGUE, GROUPS
from sim.fitting.jobindsats import JobindsatsError, read_jobindsats, read_mapping, write_observed
from sim.fitting.jobindsats_terms import SHIPPED_MAPPING, danish_number, default_mapping, jobindsats_period
from sim.fitting.observations import COLUMNS, observations, read_observed
from sim.kernel.model import compile_model

WIDE = """\
Offentligt forsørgede (fuldtidspersoner)
Område: Tårnby
Enhed: Antal personer og fuldtidspersoner

;;2024M01;;2024M02;
Område;Ydelsesgrupper;Antal personer;Antal fuldtidspersoner;Antal personer;Antal fuldtidspersoner
Tårnby;A-dagpenge;1.234;1.100,5;1.250;..
;Sygedagpenge;812;700,25;-;698
Tårnby;Førtidspension;2.000;1.990;2.001;1.991
Tårnby;Kontanthjælp mv.;12.345;"1.234,0";12.300;1.200

Kilde: Jobindsats.dk
"""
"""Rows 7–10 hold figures; row 8's Område is merged with row 7's (blank); `..` and `-` are missing."""

BENCHMARK = """\
Benchmark af beskæftigelsesindsatsens resultater
Område;Ydelsesgrupper;Periode;Forventet antal;Faktisk antal;Placering på benchmarkranglisten
Dragør;Ydelsesgrupper i alt;2020QMAT02;460;530;91
Dragør;Ydelsesgrupper i alt;2020QMAT04;500;580;92
Dragør;Ydelsesgrupper i alt;2021QMAT02;520;620;95
Dragør;A-dagpenge mv.;2021QMAT02;190;230;
Dragør;Sygedagpenge mv.;2021QMAT02;200;200;
Dragør;Kontanthjælp mv.;2021QMAT02;140;190;
"""
"""VIVE's benchmark, long: a Periode column, one column per measure (seed 001's Dragør figures)."""


def write(tmp_path: Path, text: str, name: str = "export.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def values(frame: pd.DataFrame) -> dict[tuple[str, str, str], float]:
    return {(str(r.period), str(r.state), str(r.measure)): float(str(r.value))
            for r in frame.itertuples(index=False)}


def round_trip(tmp_path: Path, frame: pd.DataFrame) -> pd.DataFrame:
    """Write the rows as an observed file and read them back with the project's own reader."""
    out = tmp_path / "calibration" / "imported.csv"
    write_observed(frame, out)
    assert out.read_text(encoding="utf-8").splitlines()[0] == ",".join(COLUMNS)
    return read_observed(out)


# ---------------------------------------------------------------------------------------------
# Numbers and periods


@pytest.mark.parametrize(("cell", "number"), [
    ("1.234,5", 1234.5), ("1.234", 1234.0), ("12.345.678", 12345678.0), ("700,25", 700.25),
    ("0", 0.0), ("-12,5", -12.5), ("1 234,5", 1234.5), (1234.5, 1234.5),
    ("..", None), ("-", None), ("", None),
])
def test_danish_numbers(cell: str | float, number: float | None) -> None:
    assert danish_number(cell) == number


@pytest.mark.parametrize("cell", ["12.5", "1,234.5", "1,2,3", "12 %", "abc", "1.23"])
def test_other_notations_are_not_danish_numbers(cell: str) -> None:
    with pytest.raises(ValueError):
        danish_number(cell)


@pytest.mark.parametrize(("code", "period"), [
    ("2024M01", "2024-01"), ("2024M12", "2024-12"), ("2024Q1", "2024-01..2024-03"),
    ("2024Q4", "2024-10..2024-12"), ("2024H2", "2024-07..2024-12"), ("2024", "2024"), ("2024Y01", "2024"),
    ("2024QMAT01", "2023-04..2024-03"), ("2024QMAT02", "2023-07..2024-06"),
    ("2024QMAT03", "2023-10..2024-09"), ("2024QMAT04", "2024"),
])
def test_jobindsats_periods(code: str, period: str) -> None:
    found = jobindsats_period(code)
    assert found is not None and found[0] == period


@pytest.mark.parametrize("code", ["2024M13", "2024M00", "2024Q5", "2024QMAT05", "2024QMAT00", "2024Y02",
                                  "24M01", "januar 2024"])
def test_not_jobindsats_periods(code: str) -> None:
    assert jobindsats_period(code) is None


# ---------------------------------------------------------------------------------------------
# Exports


def test_wide_csv_with_two_header_rows(tmp_path: Path) -> None:
    result = read_jobindsats(write(tmp_path, WIDE))
    got = values(result.frame)
    assert got == {
        ("2024-01", "a_dagpenge", "persons_count"): 1234.0,
        ("2024-01", "a_dagpenge", "full_year_persons"): 1100.5,
        ("2024-02", "a_dagpenge", "persons_count"): 1250.0,
        ("2024-01", "sygedagpenge", "persons_count"): 812.0,
        ("2024-01", "sygedagpenge", "full_year_persons"): 700.25,
        ("2024-02", "sygedagpenge", "full_year_persons"): 698.0,
        ("2024-01", "group:kontanthjaelp", "persons_count"): 12345.0,
        ("2024-01", "group:kontanthjaelp", "full_year_persons"): 1234.0,
        ("2024-02", "group:kontanthjaelp", "persons_count"): 12300.0,
        ("2024-02", "group:kontanthjaelp", "full_year_persons"): 1200.0,
    }
    assert result.header_rows == (5, 6)
    assert (result.data_rows, result.missing, result.notes) == (4, 2, 1)
    assert result.skipped == {"ydelsesgruppe Førtidspension": 4}
    assert len(got) + result.missing + sum(result.skipped.values()) == 4 * 4  # 4 rows × 4 columns
    assert result.areas == ["Tårnby"] and result.table == "Offentligt forsørgede (fuldtidspersoner)"
    source = result.frame.set_index(["period", "state", "measure"]).loc[
        ("2024-01", "sygedagpenge", "full_year_persons"), "source"]
    assert source == ('Jobindsats export export.csv, table "Offentligt forsørgede (fuldtidspersoner)", '
                      'row 8: Område "Tårnby", Ydelsesgrupper "Sygedagpenge", Periode "2024M01", '
                      '"Antal fuldtidspersoner"')
    back = round_trip(tmp_path, result.frame)
    assert values(back) == got and list(back["source"]) == list(result.frame["source"])


def test_trailing_delimiters_add_no_columns(tmp_path: Path) -> None:
    text = "\n".join(line + ";;" for line in WIDE.splitlines()) + "\n"
    result = read_jobindsats(write(tmp_path, text))
    assert values(result.frame) == values(read_jobindsats(write(tmp_path, WIDE, "plain.csv")).frame)
    assert result.missing == 2


def test_written_values_are_plain_numbers(tmp_path: Path) -> None:
    result = read_jobindsats(write(tmp_path, WIDE))
    out = tmp_path / "out.csv"
    write_observed(result.frame, out)
    written = [line.split(",")[3] for line in out.read_text(encoding="utf-8").splitlines()[1:]]
    assert written == ["1234", "1100.5", "1250", "812", "700.25", "698", "12345", "1234", "12300", "1200"]


def test_long_benchmark_with_rolling_periods(tmp_path: Path) -> None:
    result = read_jobindsats(write(tmp_path, BENCHMARK))
    got = values(result.frame)
    assert got[("2019-07..2020-06", "total", "full_year_persons")] == 530
    assert got[("2020", "total", "expected_full_year_persons")] == 500
    assert got[("2020-07..2021-06", "total", "full_year_persons")] == 620
    assert got[("2020-07..2021-06", "group:dagpenge", "full_year_persons")] == 230
    assert got[("2020-07..2021-06", "group:sygedagpenge", "expected_full_year_persons")] == 200
    assert got[("2020-07..2021-06", "group:kontanthjaelp", "full_year_persons")] == 190
    assert len(got) == 12 and result.data_rows == 6
    assert result.skipped == {'measure "Placering på benchmarkranglisten"': 6}
    assert "kvartal, MAT: the 12 months to the end of quarter 2" in result.frame["source"].iloc[0]
    back = round_trip(tmp_path, result.frame)
    assert len(back) == 12


def test_the_benchmark_matches_dragoers_own_figures(tmp_path: Path) -> None:
    """The same VIVE periods, read from the export, give calibration/dragoer.csv's periods and values."""
    ours = read_observed(Path(__file__).resolve().parents[2] / "calibration" / "dragoer.csv")
    plan = {(r.period, r.state): r.value for r in ours.itertuples()
            if r.measure == "full_year_persons" and r.state in ("total", "group:dagpenge")}
    got = values(read_jobindsats(write(tmp_path, BENCHMARK)).frame)
    assert got[("2020-07..2021-06", "total", "full_year_persons")] == plan[("2020-07..2021-06", "total")]
    assert got[("2019-07..2020-06", "total", "full_year_persons")] == plan[("2019-07..2020-06", "total")]
    assert got[("2020-07..2021-06", "group:dagpenge", "full_year_persons")] == \
        plan[("2020-07..2021-06", "group:dagpenge")]


def xlsx(path: Path) -> Path:
    """A workbook as downloaded: title rows, periods merged over two measures, numbers as numbers
    and as Danish text, a merged Område cell."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Jobindsats"
    sheet.append(["Sygedagpenge mv. – antal personer og fuldtidspersoner"])
    sheet.append(["Område: Køge"])
    sheet.append([])
    sheet.append([None, None, "2017M01", None, "2017M02", None])
    sheet.merge_cells("C4:D4")
    sheet.merge_cells("E4:F4")
    sheet.append(["Område", "Ydelsesgrupper", "Antal personer", "Antal fuldtidspersoner", "Antal personer",
                  "Antal fuldtidspersoner"])
    sheet.append(["Køge", "Sygedagpenge", 1010, 781.4, "1.020", "790,6"])
    sheet.append([None, "Jobafklaringsforløb", 250, 238, "..", 240])
    sheet.merge_cells("A6:A7")
    sheet.append(["Kilde: Jobindsats.dk"])
    book.save(path)
    return path


def test_xlsx_with_merged_header_cells(tmp_path: Path) -> None:
    result = read_jobindsats(xlsx(tmp_path / "koege.xlsx"))
    got = values(result.frame)
    assert got == {
        ("2017-01", "sygedagpenge", "persons_count"): 1010,
        ("2017-01", "sygedagpenge", "full_year_persons"): 781.4,
        ("2017-02", "sygedagpenge", "persons_count"): 1020,
        ("2017-02", "sygedagpenge", "full_year_persons"): 790.6,
        ("2017-01", "jobafklaring", "persons_count"): 250,
        ("2017-01", "jobafklaring", "full_year_persons"): 238,
        ("2017-02", "jobafklaring", "full_year_persons"): 240,
    }
    assert (result.header_rows, result.data_rows, result.missing, result.notes) == ((4, 5), 2, 1, 1)
    assert result.areas == ["Køge"]
    last = result.frame["source"].iloc[-1]
    assert 'row 7: Område "Køge", Ydelsesgrupper "Jobafklaringsforløb", Periode "2017M02"' in last
    assert values(round_trip(tmp_path, result.frame)) == got


def test_measure_from_the_title(tmp_path: Path) -> None:
    text = ("Offentligt forsørgede (fuldtidspersoner)\n\n"
            "Område;Ydelsesgrupper;2024M01;2024M02;2024M03\n"
            "Tårnby;Sygedagpenge;512,3;498;..\n")
    result = read_jobindsats(write(tmp_path, text))
    assert values(result.frame) == {("2024-01", "sygedagpenge", "full_year_persons"): 512.3,
                                    ("2024-02", "sygedagpenge", "full_year_persons"): 498}
    assert result.frame["source"].iloc[0].endswith('Periode "2024M01", "fuldtidspersoner" (the title)')


def test_a_table_about_one_benefit(tmp_path: Path) -> None:
    text = "A-dagpenge\nOmråde;Periode;Antal fuldtidspersoner\nTårnby;2024;701,5\nTårnby;2024Q1;720\n"
    path = write(tmp_path, text)
    with pytest.raises(JobindsatsError, match="--ydelsesgruppe"):
        read_jobindsats(path)
    result = read_jobindsats(path, ydelsesgruppe="A-dagpenge")
    assert values(result.frame) == {("2024", "a_dagpenge", "full_year_persons"): 701.5,
                                    ("2024-01..2024-03", "a_dagpenge", "full_year_persons"): 720}


def test_a_caption_over_the_periods(tmp_path: Path) -> None:
    """A pivot table's column caption ("Periode" over the period headings) is no header label."""
    text = ("Offentligt forsørgede (fuldtidspersoner)\n"
            ";;Periode;\n"
            "Område;Ydelsesgrupper;2024M01;2024M02\n"
            "Tårnby;Fleksjob;612;615,5\n")
    result = read_jobindsats(write(tmp_path, text))
    assert values(result.frame) == {("2024-01", "fleksjob", "full_year_persons"): 612,
                                    ("2024-02", "fleksjob", "full_year_persons"): 615.5}
    assert result.header_rows == (2, 3)


def test_ydelsesgrupper_as_columns(tmp_path: Path) -> None:
    text = ("Offentligt forsørgede (fuldtidspersoner)\n"
            "Område;Periode;A-dagpenge;Sygedagpenge;Førtidspension\n"
            "Tårnby;2024M01;1.100,5;700;2.000\nTårnby;2024M02;1.090;..;2.001\n")
    result = read_jobindsats(write(tmp_path, text))
    assert values(result.frame) == {("2024-01", "a_dagpenge", "full_year_persons"): 1100.5,
                                    ("2024-01", "sygedagpenge", "full_year_persons"): 700,
                                    ("2024-02", "a_dagpenge", "full_year_persons"): 1090}
    assert (result.missing, result.skipped) == (1, {"ydelsesgruppe Førtidspension": 2})


def test_a_measure_column_and_one_value_column(tmp_path: Path) -> None:
    text = ("Område;Ydelsesgrupper;Periode;Måling;Værdi\n"
            "Tårnby;A-dagpenge;2024M01;Antal fuldtidspersoner;1.100,5\n"
            "Tårnby;A-dagpenge;2024M01;Antal personer;1.300\n"
            "Tårnby;A-dagpenge;2024M01;Antal samtaler;99\n")
    path = write(tmp_path, text)
    with pytest.raises(JobindsatsError, match=r'row 4: Måling "Antal samtaler" is not under measures:'):
        read_jobindsats(path)
    result = read_jobindsats(write(tmp_path, text.replace("Antal samtaler", "Antal forløb")))
    assert values(result.frame) == {("2024-01", "a_dagpenge", "full_year_persons"): 1100.5,
                                    ("2024-01", "a_dagpenge", "persons_count"): 1300,
                                    ("2024-01", "a_dagpenge", "spells_count"): 99}


def test_an_export_that_names_no_measure(tmp_path: Path) -> None:
    path = write(tmp_path, "Antal personer og fuldtidspersoner\nOmråde;Ydelsesgrupper;2024M01\n"
                 "Tårnby;Sygedagpenge;512\n")
    with pytest.raises(JobindsatsError, match=r"no measure: .* name none or several .* give --measure"):
        read_jobindsats(path)
    result = read_jobindsats(path, measure="full_year_persons")
    assert values(result.frame) == {("2024-01", "sygedagpenge", "full_year_persons"): 512}
    assert result.frame["source"].iloc[0].endswith("--measure full_year_persons")


def test_other_dimensions_must_be_their_total(tmp_path: Path) -> None:
    text = ("Område;Køn;Ydelsesgrupper;2024M01\n"
            "Tårnby;Køn i alt;A-dagpenge;300\n"
            "Tårnby;Kvinder;A-dagpenge;140\n")
    with pytest.raises(JobindsatsError) as caught:
        read_jobindsats(write(tmp_path, text), measure="full_year_persons")
    assert caught.value.problems == [
        f"{tmp_path / 'export.csv'}, row 3: Køn 'Kvinder' is a part of the population, and the observed "
        "format has no column for it; download the table with its total (… i alt)"]


def test_several_areas_need_one_chosen(tmp_path: Path) -> None:
    text = ("Område;Ydelsesgrupper;Periode;Antal fuldtidspersoner\n"
            "Tårnby;A-dagpenge;2024M01;700\nHele landet;A-dagpenge;2024M01;70.000\n")
    path = write(tmp_path, text)
    with pytest.raises(JobindsatsError, match=r"several areas \(Tårnby, Hele landet\).*--area"):
        read_jobindsats(path)
    result = read_jobindsats(path, area="hele landet")
    assert values(result.frame) == {("2024-01", "a_dagpenge", "full_year_persons"): 70000}
    assert result.other_areas == 1
    with pytest.raises(JobindsatsError, match="no rows for Område 'Dragør'; the export's areas: Hele landet, "
                                              "Tårnby"):
        read_jobindsats(path, area="Dragør")


def test_a_tab_separated_windows_export(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_bytes("Område\tYdelsesgrupper\tPeriode\tAntal fuldtidspersoner\r\n"
                     "Tårnby\tRessourceforløb\t2024M03\t1.012,5\r\n".encode("cp1252"))
    got = values(read_jobindsats(path).frame)
    assert got == {("2024-03", "ressourceforloeb", "full_year_persons"): 1012.5}


# ---------------------------------------------------------------------------------------------
# Errors name the row and the value


def test_a_bad_number_names_its_row_and_value(tmp_path: Path) -> None:
    path = write(tmp_path, WIDE.replace("812;700,25", "812;700.25"))
    with pytest.raises(JobindsatsError) as caught:
        read_jobindsats(path)
    assert caught.value.problems == [
        f'{path}, row 8, column "2024M01 / Antal fuldtidspersoner": \'700.25\' is not a number in Danish '
        "notation (1.234,5) nor a missing figure (.., -)"]


def test_a_bad_period_names_its_row_and_value(tmp_path: Path) -> None:
    path = write(tmp_path, BENCHMARK.replace("2020QMAT04", "2020QMAT05"))
    with pytest.raises(JobindsatsError, match=r'row 4: Periode "2020QMAT05" is not a Jobindsats period'):
        read_jobindsats(path)
    heading = write(tmp_path, WIDE.replace(";;2024M01;;2024M02;", ";;2024M01;;2024M13;"), "heading.csv")
    with pytest.raises(JobindsatsError, match=r'row 6: the heading "2024M13" is not a Jobindsats period'):
        read_jobindsats(heading)


def test_an_unknown_ydelsesgruppe_is_named_with_how_to_map_it(tmp_path: Path) -> None:
    path = write(tmp_path, WIDE.replace("Førtidspension", "Supplerende dagpenge").replace(
        "Tårnby;Kontanthjælp mv.", "Tårnby;Supplerende dagpenge"))
    with pytest.raises(JobindsatsError) as caught:
        read_jobindsats(path)
    (problem,) = caught.value.problems
    assert problem.startswith(f'{path}: ydelsesgruppe "Supplerende dagpenge" (row 9, 10) is not in the '
                              "mapping")
    assert "`Supplerende dagpenge: <code>` under ydelsesgrupper:" in problem
    assert "`Supplerende dagpenge: skip`" in problem and "--mapping" in problem


def test_an_unknown_measure_column_is_named(tmp_path: Path) -> None:
    path = write(tmp_path, "Område;Ydelsesgrupper;Periode;Antal samtaler\nTårnby;A-dagpenge;2024M01;1.234\n")
    with pytest.raises(JobindsatsError, match=r'the heading "Antal samtaler" is neither a period .* '
                                              r"`Antal samtaler: <measure>` under measures:"):
        read_jobindsats(path)


def test_two_ydelsesgrupper_on_one_state_are_refused(tmp_path: Path) -> None:
    text = ("Område;Ydelsesgrupper;Periode;Antal fuldtidspersoner\n"
            "Tårnby;Revalidering;2024M01;40\nTårnby;Forrevalidering og revalidering;2024M01;45\n")
    with pytest.raises(JobindsatsError, match=r'row 3: revalidering full_year_persons 2024-01 is given '
                                              r'twice: Ydelsesgrupper "Forrevalidering og revalidering" '
                                              r'here and "Revalidering" in row 2'):
        read_jobindsats(write(tmp_path, text))


def test_no_header_row(tmp_path: Path) -> None:
    with pytest.raises(JobindsatsError, match="no header row"):
        read_jobindsats(write(tmp_path, "Offentligt forsørgede\n1;2;3\n"))


# ---------------------------------------------------------------------------------------------
# The mapping


def test_the_shipped_mapping_is_valid_and_names_the_benefits() -> None:
    mapping = read_mapping(SHIPPED_MAPPING)
    expect = {"A-dagpenge": "a_dagpenge", "Sygedagpenge": "sygedagpenge", "Kontanthjælp": "kontanthjaelp",
              "Jobafklaringsforløb": "jobafklaring", "Ressourceforløb": "ressourceforloeb",
              "Fleksjob": "fleksjob", "Ledighedsydelse": "ledighedsydelse",
              "Uddannelseshjælp": "uddannelseshjaelp", "Revalidering": "revalidering",
              "Integrationsydelse": "integrationsydelse", "Førtidspension": "skip",
              "Dagpenge mv.": "group:dagpenge", "A-dagpenge mv.": "group:dagpenge",
              "Sygedagpenge mv.": "group:sygedagpenge", "Kontanthjælp mv.": "group:kontanthjaelp"}
    assert {name: mapping.ydelse(name) for name in expect} == expect
    for code in mapping.ydelsesgrupper.values():
        assert code in ("total", "skip") or code in CATALOGUE or code.removeprefix("group:") in GROUPS
    assert mapping.measure("Antal fuldtidspersoner") == "full_year_persons"
    assert mapping.measure("Forventet og faktisk antal fuldtidspersoner på offentlig forsørgelse: "
                           "Forventet antal") == "expected_full_year_persons"


def test_a_mapping_of_ones_own(tmp_path: Path) -> None:
    mapping = write(tmp_path, "ydelsesgrupper:\n  Supplerende dagpenge: a_dagpenge\n  Sygedagpenge: skip\n"
                    "measures:\n  Antal fuldtidspersoner: full_year_persons\n", "mine.yaml")
    text = ("Område;Ydelsesgrupper;Periode;Antal fuldtidspersoner\n"
            "Tårnby;Supplerende dagpenge;2024M01;12,5\nTårnby;Sygedagpenge;2024M01;500\n")
    result = read_jobindsats(write(tmp_path, text), mapping)
    assert values(result.frame) == {("2024-01", "a_dagpenge", "full_year_persons"): 12.5}
    assert result.skipped == {"ydelsesgruppe Sygedagpenge": 1} and result.mapping == mapping


def test_a_bad_mapping_names_its_line(tmp_path: Path) -> None:
    mapping = write(tmp_path, "ydelsesgrupper:\n  A-dagpenge: a_dagpenge\n  Sygedagpenge: group:syg\n"
                    "  a-Dagpenge: a_dagpenge\n", "bad.yaml")
    with pytest.raises(JobindsatsError) as caught:
        read_mapping(mapping)
    assert caught.value.problems[0].startswith(f"{mapping}, line 3: ydelsesgrupper.Sygedagpenge: 'group:syg' "
                                               "is not a state code")
    assert caught.value.problems[1] == (f"{mapping}, line 4: ydelsesgrupper.a-Dagpenge: named twice "
                                        "(names are matched without case or spacing)")


def test_a_projects_own_mapping_is_found_before_the_shipped_one(tmp_path: Path) -> None:
    out = tmp_path / "project" / "calibration" / "taarnby-jobindsats.csv"
    assert default_mapping(out) == SHIPPED_MAPPING
    own = tmp_path / "project" / "calibration" / "jobindsats_mapping.yaml"
    own.parent.mkdir(parents=True)
    own.write_text("ydelsesgrupper: {A-dagpenge: a_dagpenge}\n", encoding="utf-8")
    assert default_mapping(out) == own


# ---------------------------------------------------------------------------------------------
# The imported rows are what calibration compares a model with


def test_imported_rows_are_compared_with_a_model(tmp_path: Path) -> None:
    result = read_jobindsats(write(tmp_path, WIDE))
    frame = round_trip(tmp_path, result.frame)
    scenario = sim.scenario_from_dict({
        "name": "Tårnby 2024", "start": dt.date(2024, 1, 1), "months": 12,
        "states": {"a_dagpenge": {}, "sygedagpenge": {}, "kontanthjaelp": {}},
        "initial": {"a_dagpenge": 1100, "sygedagpenge": 700, "kontanthjaelp": 1200},
        "inflow_per_week": {"a_dagpenge": 40, "sygedagpenge": 60, "kontanthjaelp": 10},
        "transitions": {"a_dagpenge": [{"to": "job", "mean_weeks": 26}],
                        "sygedagpenge": [{"to": "job", "mean_weeks": 12}],
                        "kontanthjaelp": [{"to": "job", "mean_weeks": 100}]}})
    kept, skipped = observations(compile_model(scenario), frame)
    assert sorted((o.period, o.state) for o in kept) == [
        ("2024-01", "a_dagpenge"), ("2024-01", "group:kontanthjaelp"), ("2024-01", "sygedagpenge"),
        ("2024-02", "group:kontanthjaelp"), ("2024-02", "sygedagpenge")]
    assert set(skipped["measure"]) == {"persons_count"}
