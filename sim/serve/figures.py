"""The page's fan chart: the total caseload month by month at a variant, its 50 % and 90 %
bands, and the base's median beside it."""

from __future__ import annotations

import plotly.graph_objects as go

from sim.batch.whatif import QUANTILES, Answer
from sim.reports.language import Lang, month_date, term

BAND = "rgba(31, 119, 180, {alpha})"
"""The variant's colour; the 90 % band lighter than the 50 %."""


def fan_figure(answer: Answer | None, months: list[str], lang: Lang) -> go.Figure:
    """The fan chart of `answer` (an empty chart with its axes before the first answer)."""
    figure = go.Figure()
    x = [month_date(m) for m in months]
    if answer is not None:
        q = {level: answer.fan[i] for i, level in enumerate(QUANTILES)}
        for low, high, alpha, key in ((0.05, 0.95, 0.15, "page_band_90"), (0.25, 0.75, 0.3, "page_band_50")):
            figure.add_trace(go.Scatter(x=x, y=q[low], mode="lines", line={"width": 0}, showlegend=False,
                                        hoverinfo="skip"))
            figure.add_trace(go.Scatter(x=x, y=q[high], mode="lines", line={"width": 0}, fill="tonexty",
                                        fillcolor=BAND.format(alpha=alpha), name=term(key, lang)))
        figure.add_trace(go.Scatter(x=x, y=q[0.5], mode="lines", line={"color": BAND.format(alpha=1)},
                                    name=term("page_median", lang)))
        figure.add_trace(go.Scatter(x=x, y=answer.base_fan[QUANTILES.index(0.5)], mode="lines",
                                    line={"color": "#555", "dash": "dash"},
                                    name=term("page_base_median", lang)))
    figure.update_layout(margin={"l": 60, "r": 20, "t": 30, "b": 40}, height=360,
                         yaxis_title=term("page_fan_axis", lang), legend={"orientation": "h", "y": -0.15},
                         template="plotly_white")
    return figure
