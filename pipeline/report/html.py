"""The board report as one offline HTML page: Plotly charts, each with its numbers as a table beneath it.

Charts use Plotly rather than Altair/Vega-Lite: Plotly's `to_html` inlines its
one JavaScript bundle from the installed Python package (`include_plotlyjs=True`
for the first chart, `False` after), so the page opens offline with no second
tool; the Vega route needs vl-convert's bundled JavaScript, a large native wheel,
for the same result. Every chart sits in a `figure` with a one-sentence summary
as its accessible name and the numbers as a table beneath it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import jinja2
import pandas as pd
import plotly.graph_objects as go

from pipeline.report.drift import DriftSection
from pipeline.report.summary import GroupBreakdown, ReportSummary, Trend, period_label
from pipeline.report.tables import group_note, summary_tables
from pipeline.taxonomy import Taxonomy

TEMPLATES = Path(__file__).parent / "templates"
STRENGTH_COLOUR, GAP_COLOUR, UNKNOWN_COLOUR = "#2166ac", "#b2182b", "#9e9e9e"
PLOT_CONFIG = {"displaylogo": False, "responsive": True}
FONT = {"family": "system-ui, -apple-system, 'Segoe UI', Arial, sans-serif", "size": 14, "color": "#1a1a1a"}


@dataclass(frozen=True)
class HtmlTable:
    """A small accessible table: the first column is each row's header; numeric columns align right."""

    caption: str
    columns: list[str]
    numeric: list[bool]
    rows: list[list[str]]


@dataclass(frozen=True)
class Chart:
    """One figure: its title, a one-sentence summary (its accessible name), Plotly HTML and the numbers."""

    id: str
    title: str
    summary: str
    html: str
    table: HtmlTable


def _pct(value: float) -> str:
    return "–" if pd.isna(value) else f"{value:.0%}"


def _html_table(
    frame: pd.DataFrame, caption: str, shares: Sequence[str] = (), decimals: Sequence[str] = ()
) -> HtmlTable:
    def cell(column: str, value) -> str:
        if column in shares:
            return _pct(value)
        if column in decimals:
            return "–" if pd.isna(value) else f"{value:.2f}"
        return "" if pd.isna(value) else str(value)

    rows = [[cell(c, v) for c, v in zip(frame.columns, values)] for values in frame.itertuples(index=False)]
    numeric = [pd.api.types.is_numeric_dtype(frame[c]) for c in frame.columns]
    return HtmlTable(caption, [str(c) for c in frame.columns], numeric, rows)


def _figure_html(fig: go.Figure, chart_id: str, height: int, first: bool) -> str:
    fig.update_layout(
        template="simple_white", font=FONT, height=height, margin={"l": 10, "r": 20, "t": 10, "b": 10},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.01, "x": 0},
    )
    fig.update_yaxes(automargin=True)
    fig.update_xaxes(automargin=True)
    return fig.to_html(
        full_html=False, include_plotlyjs=first, config=PLOT_CONFIG, div_id=chart_id,
        default_width="100%", default_height=f"{height}px",
    )


def _top(names: pd.Series, shares: pd.Series, n: int = 3) -> str:
    best = shares.sort_values(ascending=False).head(n)
    return ", ".join(f"{names[i]} ({_pct(shares[i])})" for i in best.index)


def _behaviour_chart(summary: ReportSummary, first: bool) -> Chart:
    b = summary.behaviours
    fig = go.Figure()
    for theme, rows in b.groupby("theme", sort=False):
        fig.add_bar(
            y=rows["behaviour"], x=rows["share"], name=theme, orientation="h", marker_color=rows["colour"].iloc[0],
            text=[_pct(v) for v in rows["share"]], textposition="outside", cliponaxis=False,
            customdata=rows["responses"], hovertemplate="%{y}: %{x:.0%} (%{customdata} responses)<extra></extra>",
        )
    fig.update_yaxes(categoryorder="array", categoryarray=list(b["behaviour"]), autorange="reversed")
    fig.update_xaxes(tickformat=".1~%", title="share of answered responses", rangemode="tozero")
    table = _html_table(
        b[["behaviour", "theme", "responses", "share", "test_f1"]].rename(
            columns={"share": "share of answered", "test_f1": "model test F1"}
        ),
        "Responses showing each behaviour",
        shares=("share of answered",), decimals=("model test F1",),
    )
    return Chart(
        "chart-behaviours", "Share of answered responses showing each behaviour",
        f"Bar chart of the 13 behaviours. Most often shown: {_top(b['behaviour'], b['share'])}.",
        _figure_html(fig, "chart-behaviours", 520, first), table,
    )


def _theme_chart(summary: ReportSummary) -> Chart:
    t = summary.themes
    fig = go.Figure(
        go.Bar(
            y=t["theme"], x=t["share"], orientation="h", marker_color=list(t["colour"]),
            text=[_pct(v) for v in t["share"]], textposition="outside", cliponaxis=False,
            customdata=t["responses"], hovertemplate="%{y}: %{x:.0%} (%{customdata} responses)<extra></extra>",
        )
    )
    fig.update_yaxes(autorange="reversed")
    fig.update_xaxes(tickformat=".1~%", title="share of answered responses", rangemode="tozero")
    table = _html_table(
        t[["theme", "responses", "share"]].rename(columns={"share": "share of answered"}),
        "Responses showing at least one behaviour of each theme", shares=("share of answered",),
    )
    return Chart(
        "chart-themes", "Share of answered responses by theme",
        f"Bar chart of the four themes: {_top(t['theme'], t['share'], 4)}.",
        _figure_html(fig, "chart-themes", 260, False), table,
    )


def _polarity_chart(summary: ReportSummary) -> Chart:
    b = summary.behaviours
    half = b["unknown_share"] / 2
    fig = go.Figure()
    hover = "%{y}: %{customdata[0]} responses (%{customdata[1]:.0%})<extra>%{fullData.name}</extra>"
    unknown_data = list(zip(b["unknown"], b["unknown_share"]))
    fig.add_bar(y=b["behaviour"], x=-half, name="polarity not known", marker_color=UNKNOWN_COLOUR,
                orientation="h", customdata=unknown_data, hovertemplate=hover, legendgroup="unknown")
    fig.add_bar(y=b["behaviour"], x=half, name="polarity not known", marker_color=UNKNOWN_COLOUR,
                orientation="h", customdata=unknown_data, hovertemplate=hover, legendgroup="unknown", showlegend=False)
    fig.add_bar(y=b["behaviour"], x=-b["gaps_share"], name="gap (lacking)", marker_color=GAP_COLOUR,
                orientation="h", customdata=list(zip(b["gaps"], b["gaps_share"])), hovertemplate=hover)
    fig.add_bar(y=b["behaviour"], x=b["strengths_share"], name="strength (shown)", marker_color=STRENGTH_COLOUR,
                orientation="h", customdata=list(zip(b["strengths"], b["strengths_share"])), hovertemplate=hover)
    extent = float((b[["gaps_share", "strengths_share"]].max(axis=1) + half).max()) or 0.1
    step = next(s for s in (0.01, 0.02, 0.05, 0.1, 0.2, 0.25, 0.5) if extent / s <= 4)
    ticks = [k * step for k in range(-math.ceil(extent / step), math.ceil(extent / step) + 1)]
    fig.update_layout(barmode="relative")
    fig.update_yaxes(categoryorder="array", categoryarray=list(b["behaviour"]), autorange="reversed")
    fig.update_xaxes(
        tickvals=ticks, ticktext=[_pct(abs(v)) for v in ticks], zeroline=True, zerolinewidth=2,
        title="← as a gap · share of answered · as a strength →",
    )
    table = _html_table(
        b[["behaviour", "strengths", "gaps", "unknown", "strengths_share", "gaps_share"]].rename(
            columns={"strengths": "as strength", "gaps": "as gap", "unknown": "polarity not known",
                     "strengths_share": "strength share", "gaps_share": "gap share"}
        ),
        "Responses showing each behaviour as a strength or as a gap",
        shares=("strength share", "gap share"),
    )
    if summary.polarity_known:
        most_gap = b["gaps_share"].idxmax()
        text = (f"Diverging bar chart: gaps to the left, strengths to the right. Most often a gap: "
                f"{b.at[most_gap, 'behaviour']} ({_pct(b.at[most_gap, 'gaps_share'])}); most often a strength: "
                f"{_top(b['behaviour'], b['strengths_share'], 1)}.")
    else:
        text = "This file has no strengths and gaps columns, so every tag is shown as polarity not known."
    return Chart("chart-polarity", "Strengths and gaps per behaviour", text,
                 _figure_html(fig, "chart-polarity", 520, False), table)


def _heatmap(g: GroupBreakdown, summary: ReportSummary, index: int, taxonomy: Taxonomy) -> Chart:
    names = [b.name for b in taxonomy.behaviours]
    shares = g.table[list(taxonomy.ids)]
    labels = [f"{label} (n={n})" for label, n in zip(g.table.index, g.table["answered"])]
    fig = go.Figure(
        go.Heatmap(
            z=shares.to_numpy(), x=names, y=labels, colorscale="Blues", zmin=0,
            zmax=max(float(shares.to_numpy().max()), 0.01), texttemplate="%{z:.0%}", xgap=1, ygap=1,
            hovertemplate="%{y}<br>%{x}: %{z:.0%}<extra></extra>", colorbar={"tickformat": ".0%", "title": "share"},
        )
    )
    fig.update_yaxes(autorange="reversed")
    fig.update_xaxes(tickangle=-40, side="bottom")
    chart_id = f"chart-group-{index}"
    stacked = shares.stack()
    top_group, top_behaviour = stacked.idxmax()
    text = (f"Heatmap of {len(labels)} {g.column} group(s) by behaviour; highest: {top_group}, "
            f"{taxonomy[top_behaviour].name} ({_pct(stacked.max())}). {group_note(g, summary.min_group_size)}.")
    table = _html_table(
        g.table.rename(columns={b.id: b.name for b in taxonomy.behaviours}).reset_index(),
        f"Share of each {g.column} group's answered responses showing each behaviour", shares=names,
    )
    return Chart(chart_id, f"Behaviours by {g.column}", text,
                 _figure_html(fig, chart_id, 300 + 34 * len(labels), False), table)


def _trend_chart(t: Trend, taxonomy: Taxonomy) -> Chart:
    # Every period from the first shown to the last: periods left out are gaps in the lines, not skipped.
    periods = pd.period_range(t.table.index[0], t.table.index[-1], freq=t.table.index[0].freq)
    full = t.table.reindex(periods)
    fig = go.Figure()
    for theme in taxonomy.themes:
        fig.add_scatter(
            x=[period_label(p) for p in periods], y=full[theme.id], name=theme.name, mode="lines+markers",
            line={"color": theme.colour, "width": 3}, connectgaps=True,
            hovertemplate="%{x}: %{y:.0%}<extra>" + theme.name + "</extra>",
        )
    fig.update_yaxes(tickformat=".1~%", title="share of answered responses", rangemode="tozero")
    fig.update_xaxes(type="category", title=t.unit)
    table = _html_table(
        t.table[["answered", *(th.id for th in taxonomy.themes)]]
        .rename(columns={th.id: th.name for th in taxonomy.themes}).rename(index=period_label).reset_index(),
        f"Share of answered responses per {t.unit} showing each theme",
        shares=[th.name for th in taxonomy.themes],
    )
    text = (f"Line chart of the four themes over {len(t.table)} {t.unit}(s) of {t.column}, "
            f"from {period_label(t.table.index[0])} to {period_label(t.table.index[-1])}"
            + (f"; {t.suppressed} {t.unit}(s) with too few responses have no point." if t.suppressed else "."))
    return Chart("chart-trend", f"Themes over time (by {t.unit})", text, _figure_html(fig, "chart-trend", 380, False),
                 table)


def render_html(
    summary: ReportSummary, taxonomy: Taxonomy, today: date | None = None, drift: DriftSection | None = None
) -> str:
    """The whole report as one self-contained HTML page (Plotly's JavaScript inlined once); with `drift`,
    a section on how like the model's training data the batch is."""
    charts = {"behaviours": _behaviour_chart(summary, first=True), "themes": _theme_chart(summary),
              "polarity": _polarity_chart(summary)}
    groups = [_heatmap(g, summary, i, taxonomy) for i, g in enumerate(summary.groups) if len(g.table)]
    has_trend = summary.trend is not None and len(summary.trend.table) > 0
    trend_chart = _trend_chart(summary.trend, taxonomy) if has_trend else None
    tables = summary_tables(summary, taxonomy)
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True, undefined=jinja2.StrictUndefined,
        trim_blocks=True, lstrip_blocks=True,
    )
    return environment.get_template("report.html.j2").render(
        s=summary,
        today=(today or date.today()).isoformat(),
        charts=charts,
        group_charts=groups,
        empty_groups=[g for g in summary.groups if not len(g.table)],
        trend_chart=trend_chart,
        taxonomy=taxonomy,
        protection=_html_table(tables["Small groups"], "What small-group protection did"),
        accuracy=_html_table(tables["Model accuracy"], "Macro-F1 on held-out labelled texts", decimals=("macro F1",)),
        group_note=group_note,
        drift=drift,
    )
