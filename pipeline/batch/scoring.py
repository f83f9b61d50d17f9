"""Scoring a whole export chunk by chunk into its partial folder, then the output file; the run's summary counts."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from pipeline.batch.chunks import ResultCache, ScoreOptions, score_chunk, validate
from pipeline.batch.partial import PartialRun, run_fingerprint
from pipeline.batch.redaction import redact_scored
from pipeline.config import Params, ScoreParams
from pipeline.io.exports import Export, open_export
from pipeline.io.files import check_excel_cells, check_fits, neutralised, write_chunks
from pipeline.model.backend import backend_model_dir
from pipeline.redact.redactor import Redactor
from pipeline.tagger import Tagger, load_tagger
from pipeline.text import is_blank


@dataclass
class ScoreSummary:
    """Counts for the closing table, added up chunk by chunk (never holding the results)."""

    results: list[tuple[str, str]]
    ids: tuple[str, ...]
    rows: int = 0
    answered: Counter = field(default_factory=Counter)
    empty: Counter = field(default_factory=Counter)
    untagged: Counter = field(default_factory=Counter)
    tagged: dict[str, Counter] = field(default_factory=dict)

    def add(self, table: pa.Table) -> None:
        self.rows += table.num_rows
        for name, prefix in self.results:
            counts = self.tagged.setdefault(name, Counter())
            statuses = table.column(prefix + "status").to_pylist()
            found = table.column(prefix + "behaviours").to_pylist()
            for status, behaviours in zip(statuses, found):
                if status == "empty":
                    self.empty[name] += 1
                elif status == "ok":
                    self.answered[name] += 1
                    if behaviours:
                        counts.update(behaviours.split(";"))
                    else:
                        self.untagged[name] += 1


@dataclass
class BatchResult:
    summary: ScoreSummary
    distinct_tagged: int  # texts that reached the tagger in this run (identical answers once)
    duplicate_ids: int  # values of the id column found on more than one row
    redacted: Counter | None = None  # --redact: identifiers replaced in the text columns, per kind


def id_hashes(values: pd.Series) -> np.ndarray:
    """Hashes of the filled values of an id column (a chunk's), for `repeated_ids`."""
    filled = values[[not is_blank(v) for v in values]]
    return pd.util.hash_pandas_object(filled.astype(str), index=False).to_numpy()


def repeated_ids(hashes: list[np.ndarray]) -> int:
    """How many values of the id column are found on more than one row, from every chunk's `id_hashes`."""
    if not hashes:
        return 0
    _, repeats = np.unique(np.concatenate(hashes), return_counts=True)
    return int((repeats > 1).sum())


@dataclass
class ScoringRun:
    """A checked `behaviours score` run, ready to score: its export, options, tagger and partial folder."""

    export: Export
    options: ScoreOptions
    model_dir: Path
    tagger: Tagger
    redactor: Redactor | None  # for --redact, and for the report's quotes
    run: PartialRun
    done: set[int]  # chunks already scored by the interrupted run being resumed


def open_scoring(
    input_file: Path,
    output: Path,
    options: ScoreOptions,
    params: Params,
    ids: tuple[str, ...],
    model_dir: Path | None,
    *,
    resume: bool,
    date_column: str | None = None,
    needs_redactor: bool = False,
    check_model: Callable[[Path], None] | None = None,
) -> ScoringRun:
    """Open the export and check it against the options (and `date_column`) and the output, find the model
    (`check_model` may refuse it before it is loaded), load the tagger, and open the output's partial folder,
    resuming it when asked; nothing is scored yet."""
    export = open_export(input_file, encoding=options.encoding, sheet=options.sheet)
    validate(export, options, ids)
    if date_column is not None:
        export.require([date_column], "--date-column")
    check_fits(output, export.rows, input_file)
    model_dir = backend_model_dir(model_dir, options.backend, params.backend)
    if check_model is not None:
        check_model(model_dir)
    tagger = load_tagger(model_dir, params, ids, options.backend)
    redactor = Redactor(params.redact) if needs_redactor else None
    run = PartialRun(output)
    done = run.open(run_fingerprint(input_file, options, model_dir), resume)
    return ScoringRun(export, options, model_dir, tagger, redactor, run, done)


def score_export(
    export: Export,
    tagger: Tagger,
    options: ScoreOptions,
    output: Path,
    run: PartialRun,
    done: set[int],
    params: ScoreParams = ScoreParams(),
    on_rows: Callable[[int], None] = lambda rows: None,
    redactor: Redactor | None = None,
) -> BatchResult:
    """Score every row of `export` into `output` (format by extension), chunk by chunk; see the module docstring.

    `run` is the opened partial folder and `done` the chunks it already holds (`PartialRun.open`).
    With `options.redact`, `redactor` redacts each chunk before it is saved (`redact_scored`).
    """
    if (options.redact is None) != (redactor is None):
        raise ValueError("options.redact and redactor go together")
    ids = tagger.behaviours
    cache = ResultCache(tagger, params.cache_size)
    hashes: list[np.ndarray] = []

    def save(index: int, frame: pd.DataFrame) -> None:
        scored = score_chunk(frame, options, cache, ids)
        counts = None
        if redactor is not None:
            scored, counts = redact_scored(scored, options, redactor)
        if output.suffix.lower() == ".xlsx":  # a cell too long for Excel is refused now, not after every row
            cells = scored if options.allow_formulas else neutralised(scored)
            check_excel_cells(cells, output, first_row=index * options.chunk_size + 1)
        if counts is not None:
            run.save_counts(index, counts)
        run.save(index, scored)

    with run.kept_only_for_resume():
        count = 0
        for index, frame in enumerate(export.chunks(options.chunk_size)):
            if options.id_column is not None:
                hashes.append(id_hashes(frame[options.id_column]))
            if index not in done:
                save(index, frame)
            on_rows(len(frame))
            count = index + 1
        if count == 0:  # no rows: the output still has its header
            save(0, pd.DataFrame(columns=list(export.columns), dtype=object))
            count = 1
        summary = ScoreSummary(options.results(), ids)
        schema = run.schema(count)
        write_chunks(run.tables(count, schema, summary.add), schema, output, options.allow_formulas)
    redacted = sum((run.counts(index) for index in range(count)), Counter()) if redactor is not None else None
    run.remove()
    return BatchResult(summary, cache.tagged, repeated_ids(hashes), redacted)
