"""Scoring one chunk of an export: the options of a run, identical answers tagged once, the output columns."""

from __future__ import annotations

import hashlib
from collections import Counter, OrderedDict
from dataclasses import dataclass

import pandas as pd

from pipeline.config import RedactParams
from pipeline.errors import InputError
from pipeline.io.exports import Export
from pipeline.tagger import COMBINED, Tagger, TagResult, result_columns
from pipeline.text import is_blank, normalise


@dataclass(frozen=True)
class ScoreOptions:
    """What `behaviours score` was asked to do; every field is part of a run's fingerprint."""

    text_columns: tuple[str, ...]
    combined: bool = False
    id_column: str | None = None
    group_by: tuple[str, ...] = ()
    encoding: str | None = None
    sheet: str | None = None
    chunk_size: int = 512
    max_evidence: int = 3
    backend: str = "torch"
    redact: RedactParams | None = None  # --redact, with the settings that decide what is replaced
    allow_formulas: bool = False  # --allow-formulas: CSV and xlsx cells that start like a formula are not neutralised
    empty_values: tuple[str, ...] = ()  # score.empty_values: filler answers given status `empty`

    def results(self) -> list[tuple[str, str]]:
        """(name, column prefix) of each result written: one per question, plus the combined one if asked."""
        if len(self.text_columns) == 1:
            return [(self.text_columns[0], "")]
        named = [(column, f"{column}__") for column in self.text_columns]
        return named + ([(COMBINED, f"{COMBINED}__")] if self.combined else [])


def output_columns(options: ScoreOptions, ids: tuple[str, ...]) -> list[str]:
    """The columns added to every input row, in order (the tagger's contract, prefixed per question)."""
    names = list(result_columns([], ids))
    return [prefix + name for _, prefix in options.results() for name in names]


def validate(export: Export, options: ScoreOptions, ids: tuple[str, ...]) -> None:
    """An `InputError` for a missing column, a repeated question, a lone --combined or a clash with output columns."""
    export.require(list(options.text_columns), "--text-column")
    if options.id_column is not None:
        export.require([options.id_column], "--id-column")
    export.require(list(options.group_by), "--group-by")
    repeated = [c for c, n in Counter(options.text_columns).items() if n > 1]
    if repeated:
        raise InputError(f"--text-column {repeated[0]!r} is given twice")
    if options.combined and len(options.text_columns) < 2:
        raise InputError("--combined needs two or more --text-column")
    reserved = set(output_columns(options, ids))
    clashes = [c for c in export.columns if c in reserved]
    if clashes:
        raise InputError(f"{export.path}: already has output column(s) {', '.join(clashes)} (was it scored before?)")


class ResultCache:
    """Tags texts through a tagger, each distinct normalised text once while it stays among the last `size` seen."""

    def __init__(self, tagger: Tagger, size: int) -> None:
        self.tagger = tagger
        self.size = size
        self.tagged = 0  # distinct texts sent to the tagger
        self._results: OrderedDict[bytes, TagResult] = OrderedDict()
        self._empty = tagger.tag([""])[0]

    def tag(self, texts: list[object]) -> list[TagResult]:
        """Results for `texts` in order; blank ones are `empty` without reaching the tagger."""
        keys = [None if is_blank(t) else hashlib.blake2b(normalise(t).encode(), digest_size=16).digest() for t in texts]
        found: dict[bytes, TagResult] = {}
        missing: dict[bytes, object] = {}
        for key, text in zip(keys, texts):
            if key is None or key in found or key in missing:
                continue
            if key in self._results:
                self._results.move_to_end(key)
                found[key] = self._results[key]
            else:
                missing[key] = text
        if missing:
            fresh = self.tagger.tag(list(missing.values()))
            self.tagged += len(fresh)
            for key, result in zip(missing, fresh):
                found[key] = self._results[key] = result
            while len(self._results) > self.size:
                self._results.popitem(last=False)
        return [self._empty if key is None else found[key] for key in keys]


def combine_results(results: list[TagResult], questions: tuple[str, ...], ids: tuple[str, ...]) -> TagResult:
    """One respondent over several questions, without encoding anything again.

    Each behaviour's score is its best over the questions and it is tagged at ≥ 0.5;
    its polarity is the one from the question where it scored best (strength at
    ≥ 0.5, as the tagger decides); the evidence is every question's, each item
    naming its question.
    """
    answered = [(q, r) for q, r in zip(questions, results) if r.status == "ok"]
    if not answered:
        return TagResult(status="empty")
    best = {b: max((r for _, r in answered), key=lambda r: r.scores[b]) for b in ids}
    scores = {b: best[b].scores[b] for b in ids}
    tagged = sorted((b for b in ids if scores[b] >= 0.5), key=lambda b: -scores[b])
    polarity = {b: best[b].polarity[b] for b in tagged}
    return TagResult(
        status="ok",
        behaviours=tagged,
        strengths=[b for b in tagged if polarity[b] >= 0.5],
        gaps=[b for b in tagged if polarity[b] < 0.5],
        scores=scores,
        polarity=polarity,
        evidence=[{**item, "question": q} for q, r in answered for item in r.evidence],
    )


def score_chunk(frame: pd.DataFrame, options: ScoreOptions, cache: ResultCache, ids: tuple[str, ...]) -> pd.DataFrame:
    """The input rows with every result column added; all questions of the chunk are tagged in one call."""
    frame = frame.reset_index(drop=True)
    questions = options.text_columns
    texts = [text for column in questions for text in frame[column].tolist()]
    flat = cache.tag(texts)
    by_question = {column: flat[k * len(frame) : (k + 1) * len(frame)] for k, column in enumerate(questions)}
    if options.combined:
        by_question[COMBINED] = [
            combine_results([by_question[c][i] for c in questions], questions, ids) for i in range(len(frame))
        ]
    parts = [frame]
    for name, prefix in options.results():
        columns = result_columns(by_question[name], ids)
        parts.append(pd.DataFrame({prefix + key: values for key, values in columns.items()}, index=frame.index))
    return pd.concat(parts, axis=1)
