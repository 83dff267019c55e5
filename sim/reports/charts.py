"""Charts for the reports: fan charts of the forecast and the targets' probabilities.

Each chart is two steps: a function that picks the numbers to draw from a run (`fan_series`,
`probability_bars`), and one that draws exactly those numbers (`draw_fan`,
`draw_probabilities`). Tests check the first against the CSVs and the second against the first,
never pixels; a comparison report can draw two runs' series with the same functions.
Figures are drawn with matplotlib's Agg canvas directly, never through pyplot, so building a
report does not touch the caller's backend (a notebook keeps its own).
"""

from __future__ import annotations

import io
import textwrap
from dataclasses import dataclass, field

import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FixedLocator, FuncFormatter

from sim.contract.catalogue import TOTAL
from sim.reports.language import Lang, capitalised, month_name, number, percent, signed, state_label, term
from sim.reports.rundata import RunData, TargetRow
from sim.reports.texts import amount
from sim.reports.units import UNIT_SCALE, UNIT_TERM, difference_decimals, difference_unit

QUANTILE_COLUMNS = ("p05", "p10", "p50", "p90", "p95")
BAND_COLOUR = "#2b6cb0"
TARGET_COLOUR = "#c53030"
OVERLAY_COLOURS = {"base": "#4a5568", "variant": "#dd6b20"}
"""Colours of the base (slate) and the variant (orange) in a comparison's charts."""
NEUTRAL_COLOUR = "#718096"
TRAFFIC = (("#2f855a", 0.8), ("#d69e2e", 0.5), ("#c53030", 0.0))
"""Colour of a probability at or above each threshold: green, amber, red (as the console's)."""
DPI = 96
SMALL = (4.4, 2.15)
"""Inches of a chart in the page's grid (three a row at 1280 pixels), its legend below the axes."""
WIDE = 9.0
"""Inches of a chart that spans two columns of the grid (probabilities, differences, the path)."""


def month_index(label: str) -> int:
    """'2018-03' → months since year 0 (an x coordinate: a month spans [i, i + 1))."""
    year, month = label.split("-")
    return int(year) * 12 + int(month) - 1


def month_label(index: int) -> str:
    """The inverse of `month_index`."""
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


@dataclass(frozen=True)
class Segment:
    """A level drawn over months [first, last] (inclusive, 'YYYY-MM'), with its legend text."""

    first: str
    last: str
    value: float
    text: str


@dataclass(frozen=True)
class FanSeries:
    """Everything a fan chart of one state draws: the monthly quantiles, history and targets."""

    state: str
    title: str
    months: tuple[str, ...]
    quantiles: dict[str, np.ndarray]
    """p05, p10, p50, p90, p95 by month, as in monthly.csv."""
    observed: tuple[Segment, ...] = field(default=())
    targets: tuple[Segment, ...] = field(default=())


def _period_months(period: str) -> tuple[str, str] | None:
    """'2017' → ('2017-01', '2017-12'); '2017-06' → ('2017-06', '2017-06'); else None."""
    if period.isdigit() and len(period) == 4:
        return f"{period}-01", f"{period}-12"
    parts = period.split("-")
    if len(parts) == 2 and all(p.isdigit() for p in parts) and 1 <= int(parts[1]) <= 12:
        return f"{int(parts[0]):04d}-{int(parts[1]):02d}", f"{int(parts[0]):04d}-{int(parts[1]):02d}"
    return None


def target_segments(targets: list[TargetRow], state: str, lang: Lang) -> tuple[Segment, ...]:
    """Full-year-persons targets on exactly `state`: the threshold over the target year's months
    (not a min_weeks target: the chart shows all persons, not the long-term ones)."""
    out = []
    for t in targets:
        if (t.metric == "full_year_persons" and t.states == (state,) and not t.groups and t.year
                and t.min_weeks is None):
            bound = f"{term(t.sense, lang)} {amount(t.metric, t.threshold, lang)}"
            text = f"{term('target', lang).lower()}: {bound}"
            out.append(Segment(f"{t.year}-01", f"{t.year}-12", t.threshold, text))
    return tuple(out)


def fan_series(data: RunData, state: str, lang: Lang) -> FanSeries:
    """The numbers of `state`'s fan chart, read from the run's monthly table and scenario."""
    rows = data.monthly[data.monthly["state"] == state]
    observed = []
    for o in data.observed(state):
        span = _period_months(o.period)
        if span is not None:
            observed.append(Segment(*span, o.value, f"{term('observed', lang)} {o.period}"))
    return FanSeries(
        state=state,
        title=capitalised(state_label(state, lang, data.state_specs)),
        months=tuple(rows["month"]),
        quantiles={q: rows[q].to_numpy(dtype=float) for q in QUANTILE_COLUMNS},
        observed=tuple(observed),
        targets=target_segments(data.target_rows(), state, lang),
    )


def fan_serieses(data: RunData, lang: Lang) -> list[FanSeries]:
    """The total first, then every benefit state in the run's order."""
    return [fan_series(data, s, lang) for s in (TOTAL, *data.states)]


def _month_ticks(first: int, last: int, lang: Lang, most: int = 9) -> tuple[list[int], list[str]]:
    """Tick positions at month starts, spaced so that at most about `most` labels show."""
    span = last - first + 1
    step = next(s for s in (1, 2, 3, 6, 12, 24, 60, 120, 1200) if span / s <= most)
    start = first + (-first) % step  # quarters, whole years, even years … line up
    ticks = list(range(start, last + 2, step))
    return ticks, [month_name(month_label(t), lang) for t in ticks]


def draw_fan(series: FanSeries, lang: Lang) -> Figure:
    """A fan chart: 5–95 % and 10–90 % bands, the median, observed history and target lines.

    Month i is drawn over [i, i + 1) with its value at the month's middle; a yearly level
    (an observed year, a target year) is a flat segment over the year's twelve months.
    """
    fig = Figure(figsize=SMALL, dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    x = np.array([month_index(m) for m in series.months], dtype=float) + 0.5
    q = series.quantiles
    ax.fill_between(x, q["p05"], q["p95"], color=BAND_COLOUR, alpha=0.18, linewidth=0,
                    label=term("band_90", lang))
    ax.fill_between(x, q["p10"], q["p90"], color=BAND_COLOUR, alpha=0.32, linewidth=0,
                    label=term("band_80", lang))
    ax.plot(x, q["p50"], color=BAND_COLOUR, linewidth=1.8, label=term("median", lang), gid="median")
    spans = [int(x.min() - 0.5), int(x.max() - 0.5)] if len(x) else []
    spans += _draw_segments(ax, series)
    _finish_months_axes(ax, spans, series.title, lang)
    return fig


def _draw_segments(ax: Axes, series: FanSeries) -> list[int]:
    """Draw the observed history (black) and target levels (red, dashed); their month span."""
    spans = []
    for seg, colour, dashes in [*((s, "black", "-") for s in series.observed),
                                *((s, TARGET_COLOUR, "--") for s in series.targets)]:
        a, b = month_index(seg.first), month_index(seg.last) + 1
        spans += [a, b - 1]
        ax.plot([a, b], [seg.value, seg.value], color=colour, linestyle=dashes, linewidth=1.8, label=seg.text)
    return spans


def _finish_months_axes(ax: Axes, spans: list[int], title: str, lang: Lang) -> None:
    """Month ticks over `spans`, persons on the y axis, the title above and the legend below."""
    if spans:
        lo, hi = min(spans), max(spans)
        ax.set_xlim(lo, hi + 1)
        ticks, labels = _month_ticks(lo, hi, lang, most=5)
        ax.xaxis.set_major_locator(FixedLocator(ticks))
        ax.set_xticklabels(labels, fontsize=7)
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: number(v, lang, 0)))
    ax.tick_params(axis="y", labelsize=7)
    ax.set_title(textwrap.shorten(title, 60), fontsize=9.5, loc="left")
    ax.set_ylabel(term("full_time_persons", lang), fontsize=7)
    ax.grid(axis="y", color="#dddddd", linewidth=0.6)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    handles = len(ax.get_legend_handles_labels()[0])
    ax.figure.legend(loc="outside lower center", ncol=min(handles, 3), fontsize=6.5, frameon=False,
                     handlelength=1.5, columnspacing=1.0)


@dataclass(frozen=True)
class OverlaySeries:
    """Two runs' fan series of one state, drawn over each other (a comparison).

    Either side is None when that run lacks the state. History and target lines are the
    base's (the variant's when the base lacks the state)."""

    state: str
    title: str
    base: FanSeries | None
    variant: FanSeries | None
    base_label: str
    variant_label: str


def draw_overlay(series: OverlaySeries, lang: Lang) -> Figure:
    """Base and variant medians with their 10–90 % bands on one chart, with history and targets.

    The median lines carry the gids 'base-median' and 'variant-median', the bands
    'base-band' and 'variant-band'."""
    fig = Figure(figsize=SMALL, dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    spans: list[int] = []
    sides = (("base", series.base, series.base_label), ("variant", series.variant, series.variant_label))
    for side, fan, label in sides:
        if fan is None or not fan.months:
            continue
        x = np.array([month_index(m) for m in fan.months], dtype=float) + 0.5
        q, colour = fan.quantiles, OVERLAY_COLOURS[side]
        name = textwrap.shorten(label.split(":", 1)[0], 20)  # 'Basis', 'Variant': the page names the runs
        ax.fill_between(x, q["p10"], q["p90"], color=colour, alpha=0.22, linewidth=0,
                        label=f"{name}: {term('band_80', lang)}", gid=f"{side}-band")
        ax.plot(x, q["p50"], color=colour, linewidth=1.8, label=f"{name}: {term('median', lang)}",
                gid=f"{side}-median")
        spans += [int(x.min() - 0.5), int(x.max() - 0.5)]
    reference = series.base if series.base is not None else series.variant
    if reference is not None:
        spans += _draw_segments(ax, reference)
    _finish_months_axes(ax, spans, series.title, lang)
    return fig


@dataclass(frozen=True)
class DifferenceDots:
    """The numbers of the differences chart: per target, variant − base with its 95 % interval,
    in the stored units (persons, a share, DKK); `senses` say which direction helps."""

    names: tuple[str, ...]
    metrics: tuple[str, ...]
    senses: tuple[str, ...]
    differences: tuple[float, ...]
    low95: tuple[float, ...]
    high95: tuple[float, ...]


def difference_colour(sense: str, low: float, high: float) -> str:
    """Green when the whole interval helps meet the target, red when it hurts, else grey."""
    helps, hurts = (high < 0, low > 0) if sense == "at_most" else (low > 0, high < 0)
    return TRAFFIC[0][0] if helps else (TRAFFIC[2][0] if hurts else NEUTRAL_COLOUR)


def draw_differences(dots: DifferenceDots, lang: Lang) -> Figure:
    """Each target's difference as a dot with its 95 % interval as error bars, around zero.

    Targets are grouped into one panel per unit (persons, percentage points, DKK million), in
    their order. Target i's dot is a line with the gid 'difference-<i>', its interval a line
    collection with the gid 'interval-<i>' (both in the unit shown)."""
    units = list(dict.fromkeys(difference_unit(m) for m in dots.metrics)) or ["persons"]
    groups = [[i for i, m in enumerate(dots.metrics) if difference_unit(m) == u] for u in units]
    sizes = [max(1, len(g)) for g in groups]
    fig = Figure(figsize=(WIDE, 0.5 + 0.5 * sum(sizes) + 0.55 * len(units)), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(len(units), 1, squeeze=False, height_ratios=[s + 1 for s in sizes])[:, 0]
    for ax, unit, group in zip(axes, units, groups, strict=True):
        scale = UNIT_SCALE[unit]
        y = np.arange(len(group))[::-1]
        for yi, i in zip(y, group, strict=True):
            d, lo, hi = (v * scale for v in (dots.differences[i], dots.low95[i], dots.high95[i]))
            err = [[d - lo if np.isfinite(lo) else 0.0], [hi - d if np.isfinite(hi) else 0.0]]
            colour = difference_colour(dots.senses[i], dots.low95[i], dots.high95[i])
            bars = ax.errorbar([d], [yi], xerr=err, fmt="o", color=colour, capsize=4, markersize=6)
            bars.lines[0].set_gid(f"difference-{i}")
            bars.lines[2][0].set_gid(f"interval-{i}")
            ax.annotate(signed(d, lang, difference_decimals(hi - lo, d)), (d, yi), xytext=(0, 7),
                        textcoords="offset points", ha="center", fontsize=7)
        ax.axvline(0.0, color="#718096", linewidth=0.8)
        ax.set_yticks(y, [textwrap.fill(dots.names[i], 40) for i in group], fontsize=8)
        ax.set_ylim(-0.7, len(group) - 0.3)
        ax.xaxis.set_major_formatter(_signed_ticks(ax, lang))
        ax.tick_params(axis="x", labelsize=8)
        ax.set_xlabel(f"{term('difference_axis', lang)} ({term(UNIT_TERM[unit], lang)})", fontsize=8)
        ax.grid(axis="x", color="#dddddd", linewidth=0.6)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
    return fig


def _signed_ticks(ax: Axes, lang: Lang) -> FuncFormatter:
    """Signed tick labels with as many decimals as the tick spacing needs."""
    def label(v: float, _: int | None) -> str:
        locs = np.asarray(ax.xaxis.get_majorticklocs(), dtype=float)
        step = float(np.min(np.abs(np.diff(locs)))) if len(locs) > 1 else 1.0
        decimals = min(3, max(0, int(-np.floor(np.log10(step))))) if step > 0 else 0
        return signed(v, lang, decimals)
    return FuncFormatter(label)


@dataclass(frozen=True)
class ProbabilityBars:
    """The numbers of the targets' bar chart: one bar per target, in targets.csv order."""

    names: tuple[str, ...]
    probabilities: tuple[float, ...]


def probability_bars(data: RunData) -> ProbabilityBars:
    """Each target's name and probability of being met."""
    rows = data.target_rows()
    return ProbabilityBars(tuple(t.name for t in rows), tuple(t.probability_met for t in rows))


def traffic_colour(p: float) -> str:
    """Green from 0.8, amber from 0.5, red below; grey for an undefined probability."""
    return next((colour for colour, lo in TRAFFIC if p >= lo), NEUTRAL_COLOUR)


def draw_probabilities(bars: ProbabilityBars, lang: Lang) -> Figure:
    """Horizontal bars of each target's probability of being met, coloured like traffic lights."""
    n = max(1, len(bars.names))
    fig = Figure(figsize=(WIDE, 0.55 + 0.33 * n), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    y = np.arange(len(bars.names))[::-1]
    ax.barh(y, bars.probabilities, color=[traffic_colour(p) for p in bars.probabilities], height=0.6)
    for yi, p in zip(y, bars.probabilities, strict=True):
        ax.text(min(p, 1.0) + 0.01 if p == p else 0.01, yi, number(p, lang, 2) if p == p else "–",
                va="center", fontsize=8)
    ax.set_yticks(y, [textwrap.fill(name, 60) for name in bars.names], fontsize=8)
    ax.set_xlim(0, 1.08)
    ax.xaxis.set_major_locator(FixedLocator([0, 0.25, 0.5, 0.75, 1.0]))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: percent(v, lang, 0)))
    ax.tick_params(axis="x", labelsize=8)
    ax.set_xlabel(term("probability_axis", lang), fontsize=8)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    return fig


def png(fig: Figure) -> bytes:
    """The figure as PNG bytes."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()

