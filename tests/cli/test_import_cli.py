"""`caseflow import jobindsats` through the command line: it writes an observed file the project
reads, and every problem is an `error:` line naming the file and row, with exit code 1 and nothing
written.

The sub-app is mounted here on a command line of its own (as `caseflow import`), so the tests do
not depend on where the main command registers it.
"""

from __future__ import annotations

import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from openpyxl import Workbook
from typer.testing import CliRunner, Result

from sim.cli.importing import import_app, jobindsats_command
from sim.fitting.observations import read_observed

ROOT = Path(__file__).resolve().parents[2]

EXPORT = """\
Offentligt forsørgede (fuldtidspersoner)
Område: Tårnby

;;2024M01;;2024M02;
Område;Ydelsesgrupper;Antal personer;Antal fuldtidspersoner;Antal personer;Antal fuldtidspersoner
Tårnby;A-dagpenge;1.234;1.100,5;1.250;..
Tårnby;Sygedagpenge;812;700,25;-;698
Tårnby;Førtidspension;2.000;1.990;2.001;1.991
Kilde: Jobindsats.dk
"""

BENCHMARK = """\
Benchmark af beskæftigelsesindsatsens resultater
Område;Ydelsesgrupper;Periode;Forventet antal;Faktisk antal
Dragør;Ydelsesgrupper i alt;2021QMAT02;520;620
Dragør;A-dagpenge mv.;2021QMAT02;190;230
Hele landet;Ydelsesgrupper i alt;2021QMAT02;"1.000.000";"1.000.000"
"""


def command_line() -> typer.Typer:
    root = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
    root.add_typer(import_app, name="import")
    return root


def cli(*args: str) -> Result:
    result = CliRunner().invoke(command_line(), list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    return result


@pytest.fixture(autouse=True)
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run in an empty folder: short file names in messages, and stray outputs are visible."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_import_writes_an_observed_file() -> None:
    Path("export.csv").write_text(EXPORT, encoding="utf-8")
    result = cli("import", "jobindsats", "export.csv", "--out", "calibration/taarnby-jobindsats.csv")
    assert result.exit_code == 0, result.output
    frame = read_observed("calibration/taarnby-jobindsats.csv")
    assert [(r.period, r.state, r.measure, r.value) for r in frame.itertuples()] == [
        ("2024-01", "a_dagpenge", "persons_count", 1234.0),
        ("2024-01", "a_dagpenge", "full_year_persons", 1100.5),
        ("2024-02", "a_dagpenge", "persons_count", 1250.0),
        ("2024-01", "sygedagpenge", "persons_count", 812.0),
        ("2024-01", "sygedagpenge", "full_year_persons", 700.25),
        ("2024-02", "sygedagpenge", "full_year_persons", 698.0)]
    assert all(s.startswith('Jobindsats export export.csv, table "Offentligt forsørgede (fuldtidspersoner)"')
               for s in frame["source"])
    assert 'header rows 4–5, 3 rows of figures' in result.stdout
    assert "Left out: 2 missing (.., -); 4 of ydelsesgruppe Førtidspension (skip)" in result.stdout
    assert "Wrote calibration/taarnby-jobindsats.csv (6 rows)" in result.stdout
    assert result.stderr == ""


def test_a_bad_row_is_an_error_naming_row_and_value() -> None:
    Path("export.csv").write_text(EXPORT.replace("812;700,25", "812;700,2,5"), encoding="utf-8")
    result = cli("import", "jobindsats", "export.csv", "--out", "out.csv")
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "error: export.csv, row 7, column \"2024M01 / Antal fuldtidspersoner\": '700,2,5' is not a number in "
        "Danish notation (1.234,5) nor a missing figure (.., -)"]
    assert not Path("out.csv").exists()


def test_an_unknown_ydelsesgruppe_says_how_to_map_or_skip_it(tmp_path: Path) -> None:
    Path("export.csv").write_text(EXPORT.replace("Førtidspension", "Supplerende dagpenge"), encoding="utf-8")
    result = cli("import", "jobindsats", "export.csv", "--out", "out.csv")
    assert result.exit_code == 1 and not Path("out.csv").exists()
    (line,) = result.stderr.splitlines()
    assert line.startswith('error: export.csv: ydelsesgruppe "Supplerende dagpenge" (row 8) is not in the '
                           "mapping")
    assert "`Supplerende dagpenge: skip`" in line
    Path("mine.yaml").write_text("ydelsesgrupper:\n  A-dagpenge: a_dagpenge\n  Sygedagpenge: sygedagpenge\n"
                                 "  Supplerende dagpenge: skip\nmeasures:\n  Antal personer: skip\n"
                                 "  Antal fuldtidspersoner: full_year_persons\n", encoding="utf-8")
    result = cli("import", "jobindsats", "export.csv", "--mapping", "mine.yaml", "--out", "out.csv")
    assert result.exit_code == 0, result.output
    assert len(read_observed("out.csv")) == 3
    assert "mapping mine.yaml" in result.stdout


def test_an_existing_file_is_kept_unless_forced() -> None:
    Path("export.csv").write_text(EXPORT, encoding="utf-8")
    Path("out.csv").write_text("keep me\n", encoding="utf-8")
    result = cli("import", "jobindsats", "export.csv", "--out", "out.csv")
    assert result.exit_code == 1
    assert result.stderr == "error: out.csv exists; give --force to overwrite it, or another --out\n"
    assert Path("out.csv").read_text(encoding="utf-8") == "keep me\n"
    assert cli("import", "jobindsats", "export.csv", "--out", "out.csv", "--force").exit_code == 0
    assert len(read_observed("out.csv")) == 6


def test_a_missing_file_and_several_areas_are_errors() -> None:
    result = cli("import", "jobindsats", "nowhere.csv", "--out", "out.csv")
    assert (result.exit_code, result.stderr) == (1, "error: nowhere.csv: no such file; give a Jobindsats "
                                                    "export (CSV or xlsx)\n")
    Path("benchmark.csv").write_text(BENCHMARK, encoding="utf-8")
    result = cli("import", "jobindsats", "benchmark.csv", "--out", "out.csv")
    assert result.exit_code == 1
    assert "several areas (Dragør, Hele landet)" in result.stderr and "--area" in result.stderr
    assert not Path("out.csv").exists()


def _workbook(path: Path) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in (["Offentligt forsørgede – antal fuldtidspersoner"], ["Område: Tårnby"], [],
                ["Område", "Ydelsesgrupper", "2024M01", "2024M02"],
                ["Tårnby", "Sygedagpenge", 512.3, "498,5"], ["Tårnby", "Ledighedsydelse", 88, ".."]):
        sheet.append(row)
    book.save(path)


def test_the_help_examples_run() -> None:
    assert jobindsats_command.__doc__ is not None
    examples = [line.split("Example:", 1)[1].strip() for line in jobindsats_command.__doc__.splitlines()
                if "Example:" in line]
    assert len(examples) == 2
    _workbook(Path("ptv_a02.xlsx"))
    Path("benchmark.csv").write_text(BENCHMARK, encoding="utf-8")
    for example in examples:
        words = shlex.split(example)
        assert words[:3] == ["caseflow", "import", "jobindsats"]
        result = cli(*words[1:])
        assert result.exit_code == 0, result.output
        out = Path(words[words.index("--out") + 1])
        assert len(read_observed(out)) == {"ptv_a02.xlsx": 3, "benchmark.csv": 4}[words[3]], out


def test_the_sub_app_loads_no_data_library() -> None:
    """Registering `caseflow import` keeps `caseflow --help` fast: the reader loads on first use."""
    code = "import sys, sim.cli.importing; print(' '.join(sorted(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    loaded = set(done.stdout.split())
    assert "sim.cli.importing" in loaded
    assert not {"pandas", "numpy", "openpyxl", "sim.fitting"} & loaded
