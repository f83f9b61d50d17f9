"""Reading `behaviours score` output for the board report: which question, which columns, which behaviours."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from pipeline.errors import InputError
from pipeline.tagger import COMBINED

REQUIRED = ("behaviours", "evidence", "status")
POLARITY_COLUMNS = ("strengths", "gaps")
COMBINED_PREFIX = f"{COMBINED}__"  # the columns of the --combined result


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
    if COMBINED_PREFIX in found:
        return COMBINED_PREFIX
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
