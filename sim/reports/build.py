"""Build a run folder's reports: charts/*.png, report.xlsx and report.html, from its files alone.

Both languages can live in one folder. The folder's own language (run.json's `lang`, else
Danish) writes `report.html`, `report.xlsx` and `charts/`; the other writes `report.en.html`,
`report.en.xlsx` and `charts/en/` (or `report.da.…` and `charts/da/` beside an English run), so
`caseflow report DIR --lang en` never replaces the Danish report, nor the reverse (`report_files`).

A tracked forecast's folder (with track.csv) also gets the path of its targets' probabilities:
charts/track.png, a section of the page and a sheet of the workbook (`sim.reports.track`)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from pathlib import Path

from sim.reports.charts import draw_fan, draw_probabilities, fan_serieses, png, probability_bars
from sim.reports.html import build_html
from sim.reports.language import Lang, check_lang, folder_lang
from sim.reports.rundata import load_run
from sim.reports.track import CHART as TRACK_CHART
from sim.reports.track import draw_track, read_track, track_section, track_series, track_sheet
from sim.reports.track import text as track_text
from sim.reports.workbook import write_workbook

WORKBOOK = "report.xlsx"
HTML = "report.html"
CHARTS = "charts"
TARGETS_CHART = "targets-probability.png"
"""The bar chart's file name (a hyphen, so no state code can take it)."""


@dataclass(frozen=True, slots=True)
class ReportFiles:
    """Where one language's reports go in a folder."""

    workbook: Path
    html: Path
    charts: Path
    under: tuple[str, ...] = ()
    """The charts' folder below charts/: () for the folder's own language, (lang,) for the other."""


def report_files(folder: Path, lang: Lang, own: Lang) -> ReportFiles:
    """report.html, report.xlsx and charts/ in the folder's own language (`own`: run.json's,
    `sim.reports.language.folder_lang`); report.<lang>.html, report.<lang>.xlsx and charts/<lang>/
    in the other."""
    folder = Path(folder)
    if lang == own:
        return ReportFiles(folder / WORKBOOK, folder / HTML, folder / CHARTS)
    stem = f"report.{lang}"
    return ReportFiles(folder / f"{stem}.xlsx", folder / f"{stem}.html", folder / CHARTS / lang, (lang,))


@dataclass(frozen=True)
class Reports:
    """The files a report build wrote."""

    workbook: Path
    html: Path
    charts: tuple[Path, ...]
    charts_dir: Path | None = None
    """The folder the charts went to (charts/, or charts/<lang>/ for the folder's second language)."""

    @property
    def paths(self) -> list[Path]:
        """All written files, workbook and HTML first."""
        return [self.workbook, self.html, *self.charts]


def save_charts(folder: Path, charts: dict[str, bytes | None], *under: str) -> list[Path]:
    """Write each chart drawn (None: not drawn) as folder/charts/[under/]<file name>; the paths written."""
    charts_dir = Path(folder, CHARTS, *under)
    charts_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, image in charts.items():
        if image is not None:
            path = charts_dir / name
            path.write_bytes(image)
            written.append(path)
    return written


def write_reports(folder: Path, lang: str = "da") -> Reports:
    """Read the run folder and (re)write its charts, workbook and HTML report in `lang` (file names
    by `report_files`); a folder `caseflow backtest` wrote gets the backtest's report
    (`sim.reports.scores`)."""
    from sim.reports.scores import is_backtest_folder, write_backtest_report

    if is_backtest_folder(folder):
        return write_backtest_report(folder, lang)
    language: Lang = check_lang(lang)
    data = load_run(folder)
    files = report_files(data.folder, language, folder_lang(data.facts))
    fans = {series.state: png(draw_fan(series, language)) for series in fan_serieses(data, language)}
    bars = probability_bars(data)
    bars_png = png(draw_probabilities(bars, language)) if bars.names else None
    path = read_track(data.folder)
    path_png = png(draw_track(track_series(path), language)) if path is not None else None
    written = save_charts(data.folder, {**{f"{s}.png": b for s, b in fans.items()}, TARGETS_CHART: bars_png,
                                        TRACK_CHART: path_png}, *files.under)
    sheets = [(track_text("sheet", language), partial(track_sheet, frame=path, lang=language))
              ] if path is not None else []
    workbook = write_workbook(data, files.workbook, language, sheets)
    track = track_section(path, language) if path is not None else None
    files.html.write_text(build_html(data, fans, bars_png, language, track, path_png), encoding="utf-8")
    return Reports(workbook, files.html, tuple(written), files.charts)
