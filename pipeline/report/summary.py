"""A board-ready summary of `behaviours score` output: one offline HTML page and an Excel workbook.

Two halves, kept apart. `report_summary` turns a scored table into small DataFrames
(shares per behaviour and theme, strengths and gaps, group × behaviour, a trend,
example quotes, the model's evaluated accuracy, what small-group protection did);
`render_html` (report/html.py) and `write_workbook` (report/excel.py) only present them. The summary works on boolean
membership columns and group-wise means, so 100,000 rows cost a few megabytes
beyond the table itself; evidence JSON is parsed only for the few best-scoring
rows of each behaviour that quotes are drawn from.

Small groups are protected: a group with fewer than `min_group_size` answered
responses (only answered responses carry text) is merged into "other", and when
"other" is itself that small it is left out. The same rule hides small periods
of the trend, and quotes come only from responses whose every group is at least
that large. The report says how many groups were merged or left out, never which.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from pipeline.config import ReportParams
from pipeline.errors import InputError
from pipeline.report.scored import POLARITY_COLUMNS, membership, resolve_prefix, scored_subset
from pipeline.taxonomy import Taxonomy

logger = logging.getLogger(__name__)

Redact = Callable[[list[str]], list[str]]

OTHER = "other"
NOT_GIVEN = "(not given)"
MAX_QUOTES = 5
MIN_QUOTES = 3
QUOTE_CHARS = 300
MIN_QUOTE_WORDS = 4  # "Not once." or "I respected that." says nothing without the answer around it
CANDIDATE_ROWS = 40  # best-scoring rows per behaviour whose evidence is parsed for quotes
MAX_MONTHS = 24  # a trend longer than this is shown by quarter



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
class ReportSummary:
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


def report_summary(
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
) -> ReportSummary:
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
    return ReportSummary(
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
