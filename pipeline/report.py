"""A board-ready summary of `behaviours score` output: one offline HTML page and an Excel workbook.

Two halves, kept apart. `summarise` turns a scored table into small DataFrames
(shares per behaviour and theme, strengths and gaps, group × behaviour, a trend,
example quotes, the model's evaluated accuracy, what small-group protection did);
`render_html` and `write_workbook` only present them. The summary works on boolean
membership columns and group-wise means, so 100,000 rows cost a few megabytes
beyond the table itself; evidence JSON is parsed only for the few best-scoring
rows of each behaviour that quotes are drawn from.

Small groups are protected: a group with fewer than `min_group_size` answered
responses (only answered responses carry text) is merged into "other", and when
"other" is itself that small it is left out. The same rule hides small periods
of the trend, and quotes come only from responses whose every group is at least
that large. The report says how many groups were merged or left out, never which.

Charts use Plotly rather than Altair/Vega-Lite: Plotly's `to_html` inlines its
one JavaScript bundle from the installed Python package (`include_plotlyjs=True`
for the first chart, `False` after), so the page opens offline with no second
tool; the Vega route needs vl-convert's bundled JavaScript, a large native wheel,
for the same result. Every chart sits in a `figure` with a one-sentence summary
as its accessible name and the numbers as a table beneath it.
"""

from __future__ import annotations

import json
import logging
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import jinja2
import pandas as pd
import plotly.graph_objects as go

from pipeline.config import ReportParams
from pipeline.errors import InputError
from pipeline.io import atomic_path
from pipeline.taxonomy import Taxonomy

logger = logging.getLogger(__name__)

Redact = Callable[[list[str]], list[str]]

OTHER = "other"
NOT_GIVEN = "(not given)"
COMBINED = "combined__"
REQUIRED = ("behaviours", "evidence", "status")
POLARITY_COLUMNS = ("strengths", "gaps")
MAX_QUOTES = 5
MIN_QUOTES = 3
QUOTE_CHARS = 300
MIN_QUOTE_WORDS = 4  # "Not once." or "I respected that." says nothing without the answer around it
CANDIDATE_ROWS = 40  # best-scoring rows per behaviour whose evidence is parsed for quotes
MAX_MONTHS = 24  # a trend longer than this is shown by quarter
TEMPLATES = Path(__file__).parent / "templates"
STRENGTH_COLOUR, GAP_COLOUR, UNKNOWN_COLOUR = "#2166ac", "#b2182b", "#9e9e9e"
PLOT_CONFIG = {"displaylogo": False, "responsive": True}
FONT = {"family": "system-ui, -apple-system, 'Segoe UI', Arial, sans-serif", "size": 14, "color": "#1a1a1a"}


@dataclass(frozen=True)
class Headline:
    """How many responses there are, how many were answered, how many show no behaviour."""

    responses: int
    answered: int
    no_behaviour: int
    empty: int


@dataclass(frozen=True)
class GroupBreakdown:
    """One `--group-by` column: share of answered responses per (protected) group and behaviour."""

    column: str
    table: pd.DataFrame  # index: group label; columns: answered, then one share per behaviour id
    groups: int  # distinct values in the column
    merged: int  # small groups merged into "other"
    suppressed: int  # of those, left out because "other" was still too small


@dataclass(frozen=True)
class Trend:
    """Share of answered responses per period (month or quarter), small periods left out."""

    column: str
    unit: str  # "month" or "quarter"
    table: pd.DataFrame  # index: pd.Period; columns: answered, theme ids, behaviour ids (shares)
    periods: int  # periods between the first and last date that have any response
    suppressed: int  # periods with fewer than the minimum answered responses
    unparseable: int  # answered responses whose date could not be read
    missing: int  # answered responses with no date


@dataclass(frozen=True)
class Quote:
    """One redacted evidence sentence; polarity "+", "-" or "" when not known."""

    text: str
    polarity: str


@dataclass(frozen=True)
class ModelFigures:
    """The model's held-out evaluation, from its card."""

    name: str
    created: str
    texts: int
    macro_f1: float
    micro_f1: float
    f1_per_behaviour: dict[str, float]
    per_register: pd.DataFrame | None  # index: register; columns: macro_f1, texts


@dataclass(frozen=True)
class Summary:
    """Everything the report shows, as numbers; rendering adds nothing but presentation."""

    source: str
    question: str
    min_group_size: int
    headline: Headline
    polarity_known: bool
    behaviours: pd.DataFrame  # index: behaviour id
    themes: pd.DataFrame  # index: theme id
    groups: tuple[GroupBreakdown, ...]
    trend: Trend | None
    quotes: dict[str, list[Quote]]
    quote_pool: int  # answered responses quotes could be drawn from
    model: ModelFigures


# ---------------------------------------------------------------- reading the scored table


def scored_questions(columns: Sequence[str]) -> list[str]:
    """Column prefixes of the scored questions present: "" for unprefixed, else "<question>__"."""
    return [str(c)[: -len("behaviours")] for c in columns if c == "behaviours" or str(c).endswith("__behaviours")]


def resolve_prefix(columns: Sequence[str], prefix: str | None) -> str:
    """The column prefix to report on: the one asked for, else unprefixed, else `combined__`, else an error."""
    found = scored_questions(columns)
    choices = ", ".join(p[:-2] or "(unprefixed)" for p in found)
    if prefix is not None:
        wanted = prefix if prefix.endswith("__") else f"{prefix}__"
        if wanted not in found:
            raise InputError(f"no scored question {prefix!r}; choices: {choices or 'none'}")
        return wanted
    if "" in found:
        return ""
    if COMBINED in found:
        return COMBINED
    if not found:
        raise InputError("no `behaviours` column: is this the output of `behaviours score`?")
    raise InputError(f"several questions were scored; choose one with --prefix: {choices}")


def scored_subset(
    frame: pd.DataFrame, prefix: str, ids: Sequence[str], group_by: Sequence[str], date_column: str | None
) -> pd.DataFrame:
    """Only the columns the report reads, unprefixed and as clean strings (scores as numbers)."""
    wanted = [*REQUIRED, *(f"score_{i}" for i in ids)]
    missing = [prefix + c for c in wanted if prefix + c not in frame.columns]
    missing += [c for c in [*group_by, *([date_column] if date_column else [])] if c not in frame.columns]
    if missing:
        raise InputError(
            f"missing column(s) {', '.join(missing)}; columns are: {', '.join(map(str, frame.columns))}"
        )
    subset = pd.DataFrame(index=frame.index)
    for name in [*REQUIRED, *(c for c in POLARITY_COLUMNS if prefix + c in frame.columns)]:
        subset[name] = frame[prefix + name].fillna("").astype(str).str.strip()
    for i in ids:
        subset[f"score_{i}"] = pd.to_numeric(frame[f"{prefix}score_{i}"], errors="coerce").fillna(0.0)
    for column in group_by:
        subset[f"group:{column}"] = frame[column]
    if date_column:
        subset["date"] = frame[date_column]
    return subset


def membership(joined: pd.Series, ids: Sequence[str]) -> pd.DataFrame:
    """A boolean column per id: does the `;`-joined cell list it?"""
    padded = ";" + joined.fillna("").astype(str).str.replace(" ", "", regex=False) + ";"
    return pd.DataFrame({i: padded.str.contains(f";{i};", regex=False) for i in ids}, index=joined.index)


# ---------------------------------------------------------------- the summary


def behaviour_table(
    tagged: pd.DataFrame, strengths: pd.DataFrame, gaps: pd.DataFrame, taxonomy: Taxonomy, f1: dict[str, float]
) -> pd.DataFrame:
    """Per behaviour: responses showing it, share of answered, strengths / gaps / unknown polarity, test F1."""
    answered = len(tagged)
    counts = tagged.sum()
    strong = (tagged & strengths).sum()
    weak = (tagged & gaps).sum()
    unknown = (tagged & ~strengths & ~gaps).sum()
    table = pd.DataFrame(
        {
            "behaviour": [b.name for b in taxonomy.behaviours],
            "theme": [b.theme.name for b in taxonomy.behaviours],
            "colour": [b.theme.colour for b in taxonomy.behaviours],
            "responses": counts.astype(int),
            "share": counts / answered,
            "strengths": strong.astype(int),
            "gaps": weak.astype(int),
            "unknown": unknown.astype(int),
            "test_f1": [f1.get(b.id, math.nan) for b in taxonomy.behaviours],
        },
        index=pd.Index(taxonomy.ids, name="id"),
    )
    for column in ("strengths", "gaps", "unknown"):
        table[f"{column}_share"] = table[column] / answered
    return table


def theme_table(tagged: pd.DataFrame, taxonomy: Taxonomy) -> pd.DataFrame:
    """Per theme: answered responses showing at least one of its behaviours, and their share."""
    rows = {}
    for theme in taxonomy.themes:
        ids = [b.id for b in taxonomy.behaviours if b.theme.id == theme.id]
        shown = int(tagged[ids].any(axis=1).sum())
        rows[theme.id] = {"theme": theme.name, "colour": theme.colour, "responses": shown, "share": shown / len(tagged)}
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("id")


def protect_groups(values: pd.Series, min_size: int) -> tuple[pd.Series, int, int, int]:
    """Group labels with groups under `min_size` merged into "other" (missing when "other" is too small too).

    A blank value is a group of its own, "(not given)". A group already called
    "other" joins the merged ones. Returns the labels, how many distinct groups
    there were, how many were merged and how many of those were left out.
    """
    labels = values.fillna("").astype(str).str.strip().replace("", NOT_GIVEN)
    sizes = labels.value_counts()
    small = sizes.index[sizes < min_size]
    labels = labels.where(~labels.isin(small), OTHER)
    if len(small) and int((labels == OTHER).sum()) < min_size:
        return labels.where(labels != OTHER), len(sizes), len(small), len(small)
    return labels, len(sizes), len(small), 0


def group_breakdown(
    column: str, labels: pd.Series, tagged: pd.DataFrame, groups: int, merged: int, suppressed: int
) -> GroupBreakdown:
    """Share of each protected group's answered responses that show each behaviour; largest groups first."""
    shown = labels.notna()
    grouped = tagged[shown].groupby(labels[shown])
    table = grouped.mean()
    table.insert(0, "answered", grouped.size())
    order = sorted(table.index, key=lambda g: (g == OTHER, -table.at[g, "answered"], g))
    return GroupBreakdown(column, table.loc[order].rename_axis(column), groups, merged, suppressed)


def parse_dates(values: pd.Series) -> pd.Series:
    """Dates from a column of mixed text: ISO first, then day-first (UK) forms; NaT where unreadable.

    Each distinct value is parsed once, so a large file with repeated dates costs little.
    """
    if pd.api.types.is_datetime64_any_dtype(values):
        parsed = pd.to_datetime(values, utc=True)
        return parsed.dt.tz_convert(None)
    text = values.astype("string").str.strip()
    uniques = pd.Series(text.dropna().unique(), dtype="string")
    iso = pd.to_datetime(uniques, errors="coerce", format="ISO8601", utc=True)
    rest = iso.isna()
    other = pd.to_datetime(uniques[rest], errors="coerce", format="mixed", dayfirst=True, utc=True)
    parsed = iso.where(~rest, other).dt.tz_convert(None)
    parsed = parsed.where((parsed.dt.year >= 1900) & (parsed.dt.year <= 2100))
    return text.map(dict(zip(uniques, parsed))).astype("datetime64[ns]")


def trend(column: str, values: pd.Series, tagged: pd.DataFrame, taxonomy: Taxonomy, min_size: int) -> Trend:
    """Shares per month (when at most two years and most months reach `min_size`), else per quarter."""
    dates = parse_dates(values)
    blank = values.isna() | values.astype(str).str.strip().eq("")
    missing = int(blank.sum())
    unparseable = int((dates.isna() & ~blank).sum())
    known = dates.notna()
    months = dates[known].dt.to_period("M")
    unit = "quarter"
    if len(months):
        span = (months.max() - months.min()).n + 1
        if span <= MAX_MONTHS and months.value_counts().median() >= min_size:
            unit = "month"
    periods = dates[known].dt.to_period("M" if unit == "month" else "Q")
    themes = pd.DataFrame(
        {t.id: tagged[[b.id for b in taxonomy.behaviours if b.theme.id == t.id]].any(axis=1) for t in taxonomy.themes}
    )
    grouped = pd.concat([themes, tagged], axis=1)[known].groupby(periods)
    table = grouped.mean()
    table.insert(0, "answered", grouped.size())
    small = table["answered"] < min_size
    return Trend(column, unit, table[~small].rename_axis("period"), len(small), int(small.sum()), unparseable, missing)


def period_label(period: pd.Period) -> str:
    """ "Jan 2025" for a month, "2025 Q1" for a quarter."""
    return f"{period.year} Q{period.quarter}" if period.freqstr.startswith("Q") else period.strftime("%b %Y")


def select_quotes(
    subset: pd.DataFrame,
    tagged: pd.DataFrame,
    strengths: pd.DataFrame,
    gaps: pd.DataFrame,
    eligible: pd.Series,
    taxonomy: Taxonomy,
    redact: Redact,
) -> dict[str, list[Quote]]:
    """Up to five evidence sentences per behaviour, best scores first, one per response, redacted.

    Only the best-scoring eligible rows of each behaviour have their evidence parsed.
    The best strength and the best gap are both kept when there are both, so a
    behaviour's examples are not all one-sided. Every sentence goes through `redact`.
    """
    chosen: dict[str, list[tuple[str, str]]] = {}
    for behaviour in taxonomy.ids:
        rows = subset.loc[eligible & tagged[behaviour], f"score_{behaviour}"].nlargest(CANDIDATE_ROWS).index
        candidates = []
        for row in rows:
            row_polarity = _row_polarity(row, behaviour, strengths, gaps)
            best = max(_evidence(subset.at[row, "evidence"], behaviour), key=lambda e: e[0], default=None)
            if best is not None:
                candidates.append((best[0], best[1], best[2] or row_polarity))
        chosen[behaviour] = _balanced(candidates)
    flat = [text for picks in chosen.values() for text, _ in picks]
    redacted = iter(redact(flat) if flat else [])
    return {
        behaviour: [Quote(_shorten(next(redacted)), polarity) for _, polarity in picks]
        for behaviour, picks in chosen.items()
    }


def _evidence(cell: str, behaviour: str) -> list[tuple[float, str, str]]:
    """(score, sentence, polarity) of a row's evidence for one behaviour, sentences of at least
    `MIN_QUOTE_WORDS` words only; nothing from a malformed cell."""
    try:
        items = json.loads(cell) if cell else []
    except json.JSONDecodeError:
        return []
    found = []
    for item in items if isinstance(items, list) else []:
        words = len(str(item.get("sentence", "")).split()) if isinstance(item, dict) else 0
        if words >= MIN_QUOTE_WORDS and item.get("behaviour") == behaviour:
            polarity = item.get("polarity") if item.get("polarity") in ("+", "-") else ""
            found.append((float(item.get("score") or 0.0), str(item["sentence"]).strip(), polarity))
    return found


def _row_polarity(row, behaviour: str, strengths: pd.DataFrame, gaps: pd.DataFrame) -> str:
    strong, weak = bool(strengths.at[row, behaviour]), bool(gaps.at[row, behaviour])
    return "+" if strong and not weak else "-" if weak and not strong else ""


def _balanced(candidates: list[tuple[float, str, str]]) -> list[tuple[str, str]]:
    """The best strength and best gap first (when there are both), then the best of the rest; no repeats."""
    ranked, seen, picks = sorted(candidates, key=lambda c: -c[0]), set(), []
    firsts = [next((c for c in ranked if c[2] == sign), None) for sign in ("+", "-")]
    for score, sentence, polarity in [c for c in firsts if c] + ranked:
        key = " ".join(sentence.lower().split())
        if key not in seen and len(picks) < MAX_QUOTES:
            seen.add(key)
            picks.append((score, sentence, polarity))
    return [(sentence, polarity) for _, sentence, polarity in sorted(picks, key=lambda c: -c[0])]


def _shorten(text: str) -> str:
    return text if len(text) <= QUOTE_CHARS else text[: QUOTE_CHARS - 1].rsplit(" ", 1)[0] + "…"


def read_card(model_dir: Path) -> dict:
    """The model folder's card.json (an `InputError` if absent or unreadable)."""
    path = Path(model_dir) / "card.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{path}: no model card (is {model_dir} a model folder made by `behaviours train`?)") from None
    except (OSError, json.JSONDecodeError) as exc:
        raise InputError(f"{path}: cannot read the model card ({exc.__class__.__name__})") from None


def model_figures(card: dict) -> ModelFigures:
    """The test-split figures of a model card (`evaluation.test`), per register when the card has them."""
    test = card.get("evaluation", {}).get("test")
    if not isinstance(test, dict) or "macro_f1" not in test:
        raise InputError("the model card has no test-split evaluation (evaluation.test.macro_f1)")
    per_register = None
    if test.get("per_register"):
        per_register = pd.DataFrame.from_dict(test["per_register"], orient="index")[["macro_f1", "texts"]]
        per_register = per_register.rename_axis("register").sort_index()
    return ModelFigures(
        name=str(card.get("name", "")),
        created=str(card.get("created_at", ""))[:10],
        texts=int(test.get("texts", 0)),
        macro_f1=float(test["macro_f1"]),
        micro_f1=float(test.get("micro_f1", math.nan)),
        f1_per_behaviour={k: float(v) for k, v in test.get("f1_per_behaviour", {}).items()},
        per_register=per_register,
    )


def summarise(
    frame: pd.DataFrame,
    taxonomy: Taxonomy,
    card: dict,
    redact: Redact,
    *,
    group_by: Sequence[str] = (),
    date_column: str | None = None,
    min_group_size: int = ReportParams.min_group_size,
    prefix: str | None = None,
    source: str = "",
) -> Summary:
    """Every number of the report from a scored table; quotes pass through `redact` before they are kept."""
    if min_group_size < 2:
        raise InputError(f"--min-group-size must be at least 2 (got {min_group_size})")
    chosen = resolve_prefix(list(frame.columns), prefix)
    subset = scored_subset(frame, chosen, taxonomy.ids, group_by, date_column)
    polarity_known = all(c in subset.columns for c in POLARITY_COLUMNS)
    answered_mask = subset["status"].eq("ok")
    headline = Headline(
        responses=len(subset),
        answered=int(answered_mask.sum()),
        no_behaviour=int((answered_mask & subset["behaviours"].eq("")).sum()),
        empty=int(subset["status"].eq("empty").sum()),
    )
    if headline.answered == 0:
        raise InputError(f"{source or 'the file'}: no answered responses (status ok) to report on")
    answered = subset[answered_mask]
    del subset
    tagged = membership(answered["behaviours"], taxonomy.ids)
    unknown = pd.Series("", index=answered.index)  # no polarity columns: every tag's polarity is unknown
    strengths = membership(answered["strengths"] if polarity_known else unknown, taxonomy.ids)
    gaps = membership(answered["gaps"] if polarity_known else unknown, taxonomy.ids)
    model = model_figures(card)
    groups = []
    eligible = pd.Series(headline.answered >= min_group_size, index=answered.index)
    for column in dict.fromkeys(group_by):
        labels, *counts = protect_groups(answered[f"group:{column}"], min_group_size)
        groups.append(group_breakdown(column, labels, tagged, *counts))
        eligible &= labels.notna()  # quotes never come from a group that is left out
    logger.info("report: %d responses, %d answered, %d groupings", headline.responses, headline.answered, len(groups))
    return Summary(
        source=source,
        question=chosen[:-2] if chosen else "",
        min_group_size=min_group_size,
        headline=headline,
        polarity_known=polarity_known,
        behaviours=behaviour_table(tagged, strengths, gaps, taxonomy, model.f1_per_behaviour),
        themes=theme_table(tagged, taxonomy),
        groups=tuple(groups),
        trend=trend(date_column, answered["date"], tagged, taxonomy, min_group_size) if date_column else None,
        quotes=select_quotes(answered, tagged, strengths, gaps, eligible, taxonomy, redact),
        quote_pool=int(eligible.sum()),
        model=model,
    )


# ---------------------------------------------------------------- tables for people and for Excel


def protection_notes(summary: Summary) -> pd.DataFrame:
    """What small-group protection did, in counts of groups and periods (never names or people)."""
    n = summary.min_group_size
    rows = [
        {
            "applies to": f"groups by {g.column}",
            "groups": g.groups,
            "merged into other": g.merged,
            "left out": g.suppressed,
            "note": _group_note(g, n),
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


def _group_note(g: GroupBreakdown, n: int) -> str:
    if not g.merged:
        return f"every group has at least {n} answered responses"
    if g.suppressed:
        return f"{g.merged} group(s) under {n} answered responses, together still under {n}: left out"
    return f"{g.merged} group(s) under {n} answered responses merged into {OTHER!r}"


def summary_tables(summary: Summary, taxonomy: Taxonomy) -> dict[str, pd.DataFrame]:
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


def write_workbook(summary: Summary, taxonomy: Taxonomy, path: Path) -> None:
    """The summary tables as sheets of one Excel workbook, shares formatted as percentages, atomically."""
    used: set[str] = set()
    with atomic_path(path) as tmp, pd.ExcelWriter(tmp, engine="openpyxl") as writer:
        for title, table in summary_tables(summary, taxonomy).items():
            sheet = _sheet_name(title, used)
            table.to_excel(writer, sheet_name=sheet, index=False)
            worksheet = writer.sheets[sheet]
            for cells in worksheet.iter_cols(min_row=1):
                header = str(cells[0].value)
                width = max(len(header), *(len(str(c.value)) for c in cells[1:] if c.value is not None), 8)
                worksheet.column_dimensions[cells[0].column_letter].width = min(width + 2, 60)
                if _is_share(title, header):
                    for cell in cells[1:]:
                        cell.number_format = "0%"
                elif "F1" in header:
                    for cell in cells[1:]:
                        cell.number_format = "0.00"


def _is_share(title: str, header: str) -> bool:
    return "share" in header or (title.startswith(("By ", "Trend")) and header not in ("answered responses",))


def _sheet_name(title: str, used: set[str]) -> str:
    base = re.sub(r"[\[\]:*?/\\]", " ", title)[:31]
    name, n = base, 2
    while name.lower() in used:
        name = f"{base[: 31 - len(str(n)) - 1]} {n}"
        n += 1
    used.add(name.lower())
    return name


# ---------------------------------------------------------------- the HTML page


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


def _behaviour_chart(summary: Summary, first: bool) -> Chart:
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


def _theme_chart(summary: Summary) -> Chart:
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


def _polarity_chart(summary: Summary) -> Chart:
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


def _heatmap(g: GroupBreakdown, summary: Summary, index: int, taxonomy: Taxonomy) -> Chart:
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
            f"{taxonomy[top_behaviour].name} ({_pct(stacked.max())}). {_group_note(g, summary.min_group_size)}.")
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


def render_html(summary: Summary, taxonomy: Taxonomy, today: date | None = None) -> str:
    """The whole report as one self-contained HTML page (Plotly's JavaScript inlined once)."""
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
        group_note=_group_note,
    )
