"""`caseflow import`: outside tables into the long observed format (period, state, measure, value, source).

The reader (`sim.fitting.jobindsats`, with pandas and openpyxl) is imported inside the command,
so registering `import_app` with the command line costs nothing until an import runs.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import typer

from sim.cli.common import err, fail, say

import_app = typer.Typer(
    help="Import outside tables into the long observed format that calibrate and backtest read.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@import_app.command(name="jobindsats")
def jobindsats_command(
    file: Path = typer.Argument(..., metavar="FILE", help="A Jobindsats table export as downloaded: "
                                "CSV or xlsx."),
    out: Path = typer.Option(..., "--out", "-o", help="Observed CSV to write, e.g. "
                             "calibration/taarnby-jobindsats.csv."),
    mapping: Path | None = typer.Option(None, "--mapping", help="YAML mapping of ydelsesgrupper to states "
                                        "and of measure headings to measures (default: "
                                        "calibration/jobindsats_mapping.yaml)."),
    area: str | None = typer.Option(None, "--area", help="The Område to keep, when the export holds "
                                    "several (e.g. Tårnby and Hele landet)."),
    measure: str | None = typer.Option(None, "--measure", help="The measure, when neither the headings "
                                       "nor the title name it (e.g. full_year_persons)."),
    ydelsesgruppe: str | None = typer.Option(None, "--ydelsesgruppe", help="The benefit of a table about "
                                             "one benefit, which has no Ydelsesgrupper column "
                                             "(e.g. A-dagpenge)."),
    force: bool = typer.Option(False, "--force", help="Overwrite --out if it exists."),
) -> None:
    """Read a Jobindsats table export into an observed CSV for caseflow calibrate and backtest.

    The export is read as downloaded: title lines, one or more header rows, Område,
    Ydelsesgrupper and a column per period (or a Periode column and one per measure), Danish
    numbers (1.234,5). Periods: 2024M01 → 2024-01, 2024Q1 → 2024-01..2024-03, 2024 → 2024,
    2024QMAT02 (kvartal, MAT: the 12 months to the end of quarter 2) → 2023-07..2024-06.
    Fuldtidspersoner become full_year_persons, personer persons_count; the mapping turns each
    ydelsesgruppe into a state code, group:<g> or total, or skips it. Missing figures (.., -)
    give no row. Each row's source names the file, the table, the row and the Jobindsats names.

    Example:  caseflow import jobindsats ptv_a02.xlsx --out calibration/taarnby-jobindsats.csv

    Example:  caseflow import jobindsats benchmark.csv --area Dragør --out calibration/dragoer-vive.csv
    """
    from sim.fitting.jobindsats import JobindsatsError, default_mapping, read_jobindsats, write_observed

    if out.exists() and not force:
        raise fail(f"{out} exists; give --force to overwrite it, or another --out")
    chosen = mapping or default_mapping(out)
    if chosen is None:
        raise fail("no calibration/jobindsats_mapping.yaml found beside --out or shipped with caseflow; "
                   "give --mapping FILE")
    try:
        result = read_jobindsats(file, chosen, area=area, measure=measure, ydelsesgruppe=ydelsesgruppe)
    except JobindsatsError as exc:
        for problem in exc.problems:
            err.print(f"error: {problem}", markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(code=1) from None
    if result.frame.empty:
        raise fail(f"{file}: no figures to write ({result.missing} missing, "
                   f"{sum(result.skipped.values())} skipped by the mapping {result.mapping})")
    write_observed(result.frame, out)
    first, last = result.header_rows
    areas = f", Område {', '.join(result.areas)}" if result.areas else ""
    header = f"header row {first}" if first == last else f"header rows {first}–{last}"
    say(f'Read {file}: table "{result.table}"{areas}; {header}, {result.data_rows} rows of figures; '
        f"mapping {result.mapping}")
    counts = Counter(zip(result.frame["state"], result.frame["measure"], strict=True))
    for (state, name), n in counts.items():
        say(f"  {state} {name}: {n}")
    left = [f"{result.missing} missing (.., -)"] if result.missing else []
    left += [f"{n} of {what} (skip)" for what, n in result.skipped.items()]
    left += [f"{result.other_areas} rows of other areas"] if result.other_areas else []
    if left:
        say("Left out: " + "; ".join(left))
    say(f"Wrote {out} ({len(result.frame)} rows). Use it: caseflow calibrate SCENARIO --observed {out}, "
        "or `observed:` in the scenario's calibrate: block")
