"""The report's summary as tables for people: the HTML page shows them, the workbook holds them."""

from __future__ import annotations

import pandas as pd

from pipeline.report.summary import OTHER, GroupBreakdown, ReportSummary, period_label
from pipeline.taxonomy import Taxonomy


def protection_notes(summary: ReportSummary) -> pd.DataFrame:
    """What small-group protection did, in counts of groups and periods (never names or people)."""
    n = summary.min_group_size
    rows = [
        {
            "applies to": f"groups by {g.column}",
            "groups": g.groups,
            "merged into other": g.merged,
            "left out": g.suppressed,
            "note": group_note(g, n),
        }
        for g in summary.groups
    ]
    if summary.trend is not None:
        t = summary.trend
        rows.append(
            {
                "applies to": f"{t.unit}s of {t.column}",
                "groups": t.periods,
                "merged into other": 0,
                "left out": t.suppressed,
                "note": f"{t.suppressed} {t.unit}(s) with fewer than {n} answered responses not shown; "
                f"{t.unparseable} unreadable and {t.missing} missing date(s) not counted in the trend",
            }
        )
    rows.append(
        {
            "applies to": "example quotes",
            "groups": None,
            "merged into other": None,
            "left out": summary.headline.answered - summary.quote_pool,
            "note": f"no quotes from responses in groups left out (or from a file of fewer than {n}); "
            f"{summary.quote_pool} of {summary.headline.answered} answered responses were eligible",
        }
    )
    table = pd.DataFrame(rows)
    return table.astype({c: "Int64" for c in ("groups", "merged into other", "left out")})


def group_note(g: GroupBreakdown, n: int) -> str:
    if not g.merged:
        return f"every group has at least {n} answered responses"
    if g.suppressed:
        return f"{g.merged} group(s) under {n} answered responses, together still under {n}: left out"
    return f"{g.merged} group(s) under {n} answered responses merged into {OTHER!r}"


def summary_tables(summary: ReportSummary, taxonomy: Taxonomy) -> dict[str, pd.DataFrame]:
    """The report's tables with readable headings, numbers as numbers (shares as 0-1 fractions)."""
    h = summary.headline
    names = {b.id: b.name for b in taxonomy.behaviours}
    theme_names = {t.id: t.name for t in taxonomy.themes}
    b = summary.behaviours
    tables = {
        "Responses": pd.DataFrame(
            {
                "figure": ["responses", "answered", "answered, no behaviour found", "empty answers"],
                "count": [h.responses, h.answered, h.no_behaviour, h.empty],
            }
        ),
        "Behaviours": pd.DataFrame(
            {
                "theme": b["theme"],
                "behaviour": b["behaviour"],
                "responses": b["responses"],
                "share of answered": b["share"],
                "model test F1": b["test_f1"],
            }
        ).reset_index(drop=True),
        "Themes": summary.themes[["theme", "responses"]].assign(**{"share of answered": summary.themes["share"]})
        .reset_index(drop=True),
        "Strengths and gaps": pd.DataFrame(
            {
                "behaviour": b["behaviour"],
                "as strength": b["strengths"],
                "as gap": b["gaps"],
                "polarity not known": b["unknown"],
                "strength share": b["strengths_share"],
                "gap share": b["gaps_share"],
                "unknown share": b["unknown_share"],
            }
        ).reset_index(drop=True),
    }
    for g in summary.groups:
        table = g.table.rename(columns=names).rename(columns={"answered": "answered responses"})
        tables[f"By {g.column}"] = table.reset_index()
    if summary.trend is not None:
        table = summary.trend.table.rename(columns={**theme_names, **names, "answered": "answered responses"})
        tables["Trend"] = table.rename(index=period_label).reset_index()
    tables["Small groups"] = protection_notes(summary)
    accuracy = [{"register": "all test texts", "macro F1": summary.model.macro_f1, "texts": summary.model.texts}]
    if summary.model.per_register is not None:
        accuracy += [
            {"register": reg.replace("_", " "), "macro F1": row["macro_f1"], "texts": int(row["texts"])}
            for reg, row in summary.model.per_register.iterrows()
        ]
    tables["Model accuracy"] = pd.DataFrame(accuracy)
    return tables
