"""Scoring a whole export with bounded memory: chunk by chunk, kept on disk as it goes, resumable.

Each chunk of rows is tagged and written at once as one Parquet file in a partial
folder next to the output (`.<output name>.partial/`), with a manifest holding
fingerprints of the input file, the options and the model. Only when every chunk
is there are they streamed, one at a time, into the final file (written to a
temporary file and renamed), and the folder is removed. A run that is stopped
(Ctrl-C, a killed process, a full disk) leaves no output file and its finished
chunks; `resume=True` continues it without rescoring them, and refuses when the
input, options or model differ from the interrupted run's.

Identical answers are tagged once per run: within a chunk they are grouped, and
the results of the most recent distinct texts (`score.cache_size` in configs/params.yaml) are kept
across chunks, keyed by a digest of the normalised text (white space does not
make two answers different; the tagger normalises before splitting, so their
results are the same).

Memory does not grow with the number of rows: one chunk, the bounded cache, the
summary counts and, when an id column is checked for duplicates, 8 bytes per row.

With `--redact` (`ScoreOptions.redact`) each chunk is redacted as soon as it is
scored, before it is written to the partial folder, so no identifier reaches the
disk; see `redact_scored`.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
import shutil
import time
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from pipeline import __version__
from pipeline.config import RedactParams, ScoreParams
from pipeline.errors import InputError
from pipeline.io.exports import Export
from pipeline.io.files import atomic_path, atomic_write_text, write_chunks
from pipeline.redact.patterns import Found
from pipeline.redact.redactor import Redactor, replace
from pipeline.tagger import COMBINED, Tagger, TagResult, result_columns
from pipeline.text import is_blank, normalise

MANIFEST = "manifest.json"


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


# ---------------------------------------------------------------- --redact


def redact_scored(frame: pd.DataFrame, options: ScoreOptions, redactor: Redactor) -> tuple[pd.DataFrame, Counter]:
    """A scored chunk with personal identifiers replaced in its text columns and evidence sentences.

    Tagging has already happened, on the original text: redaction changes what is
    written, never what is tagged, so `--redact` gives the same behaviours, scores
    and polarity as a run without it. (Tagging the redacted text instead would feed
    the model "[NAME]" and "[PHONE]", which it never saw in training, and shift
    scores silently; identifiers carry no behaviour to lose.)

    Identifiers are found once per distinct answer, in the whole answer (a name is
    easier to recognise in context than in one sentence), and the evidence sentences
    taken from that answer get exactly those spans: each sentence is located in its
    answer (white space may differ, as the tagger normalises it) and the answer's
    spans are carried over with their offsets moved into the sentence; a span that
    crosses the sentence's edge is replaced for the part inside it. A sentence that
    cannot be located (not expected) is redacted on its own. Evidence items carry no
    character offsets, so there are none to adjust in the JSON.

    Returns the redacted frame and the identifiers found per kind in the text
    columns (every row counted; the evidence repeats them and is not counted again).
    """
    frame = frame.copy()
    columns = options.text_columns
    distinct = list(dict.fromkeys(v for c in columns for v in frame[c] if not is_blank(v)))
    found = dict(zip(distinct, redactor.find(distinct))) if distinct else {}
    counts: Counter = Counter()
    originals = {c: frame[c].tolist() for c in columns}
    for column, values in originals.items():
        for value in values:
            if isinstance(value, str) and value in found:
                counts.update(f.kind for f in found[value])
        redacted = [replace(v, found[v]) if isinstance(v, str) and v in found else v for v in values]
        frame[column] = pd.Series(redacted, index=frame.index, dtype=object)  # None stays None

    cells: dict[str, list] = {}
    alone: dict[str, list[Found] | None] = {}  # sentences not located in their answer: redacted on their own
    for name, prefix in options.results():
        parsed = []
        for row, cell in enumerate(frame[prefix + "evidence"].tolist()):
            items = json.loads(cell) if isinstance(cell, str) and cell else []
            for item in items:
                answer = originals.get(item.get("question", name), [None] * len(frame))[row]
                spans = _carried(answer, found.get(answer, []), item["sentence"]) if isinstance(answer, str) else None
                if spans is None:
                    alone[item["sentence"]] = None
                item["_spans"] = spans
            parsed.append(items)
        cells[prefix + "evidence"] = parsed
    if alone:
        alone = dict(zip(alone, redactor.find(list(alone))))
    for column, parsed in cells.items():
        for items in parsed:
            for item in items:
                spans = item.pop("_spans")
                item["sentence"] = replace(item["sentence"], alone[item["sentence"]] if spans is None else spans)
        frame[column] = [json.dumps(items, ensure_ascii=False) for items in parsed]
    return frame, counts


def _carried(answer: str, found: list[Found], sentence: str) -> list[Found] | None:
    """The answer's identifier spans moved into `sentence`, one of its sentences; None if it is not in the answer."""
    if not found:
        return []  # nothing in the whole answer, so nothing in any part of it
    words = sentence.split()
    if not words:
        return []
    match = re.search(r"\s+".join(map(re.escape, words)), answer)
    if match is None:
        return None
    position: dict[int, int] = {}  # answer offset -> sentence offset, for characters that are not white space
    at = match.start()
    for k, char in enumerate(sentence):
        if char.isspace():
            continue
        while answer[at].isspace():
            at += 1
        position[at] = k
        at += 1
    spans = []
    for f in found:
        inside = [position[i] for i in range(max(f.start, match.start()), min(f.end, match.end())) if i in position]
        if inside:
            spans.append(Found(f.kind, min(inside), max(inside) + 1))
    return spans


# ---------------------------------------------------------------- the run


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


def run_fingerprint(input_file: Path, options: ScoreOptions, model_dir: Path) -> dict[str, str]:
    """Digests of what decides a run's results: the input file's bytes, the options (and code version), the model."""
    with open(input_file, "rb") as handle:
        source = hashlib.file_digest(handle, "sha256").hexdigest()
    settings = json.dumps({"version": __version__, **dataclasses.asdict(options)}, sort_keys=True)
    model = hashlib.sha256()
    for path in sorted(p for p in Path(model_dir).iterdir() if p.is_file()):
        model.update(path.name.encode() + b"\0")
        with open(path, "rb") as handle:
            model.update(hashlib.file_digest(handle, "sha256").digest())
    return {"input file": source, "options": hashlib.sha256(settings.encode()).hexdigest(), "model": model.hexdigest()}


def partial_folder(output: Path) -> Path:
    """Where an unfinished run keeps its chunks: `.<output name>.partial/` next to the output."""
    output = Path(output)
    return output.parent / f".{output.name}.partial"


class PartialRun:
    """The partial folder of one output: a manifest and one Parquet file per finished chunk."""

    def __init__(self, output: Path) -> None:
        self.folder = partial_folder(output)

    def _chunk(self, index: int) -> Path:
        return self.folder / f"chunk-{index:06d}.parquet"

    def open(self, fingerprint: dict[str, str], resume: bool) -> set[int]:
        """Start a run, or continue the interrupted one (`resume`); the indices of chunks already finished."""
        if not self.folder.exists():
            self.folder.mkdir()
            atomic_write_text(self.folder / MANIFEST, json.dumps(fingerprint, indent=2) + "\n")
            return set()
        if not resume:
            raise InputError(
                f"{self.folder} holds an interrupted run: pass --resume to continue it, or delete the folder to start again"
            )
        try:
            manifest = json.loads((self.folder / MANIFEST).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            raise InputError(f"{self.folder}: no readable {MANIFEST}; delete the folder to start again") from None
        changed = [what for what, digest in fingerprint.items() if manifest.get(what) != digest]
        if changed:
            raise InputError(
                f"cannot resume: the {' and '.join(changed)} changed since the interrupted run; "
                f"delete {self.folder} to start again"
            )
        for stale in self.folder.glob(".*.tmp"):  # a chunk being written when the process was killed
            stale.unlink()
        return {int(p.stem.split("-")[1]) for p in self.folder.glob("chunk-*.parquet")}

    def save(self, index: int, frame: pd.DataFrame) -> None:
        with atomic_path(self._chunk(index)) as tmp:
            frame.to_parquet(tmp, index=False)

    def save_counts(self, index: int, counts: Counter) -> None:
        """Counts kept beside a chunk (identifiers redacted), written before the chunk itself."""
        atomic_write_text(self.folder / f"chunk-{index:06d}.counts.json", json.dumps(dict(counts)) + "\n")

    def counts(self, index: int) -> Counter:
        try:
            return Counter(json.loads((self.folder / f"chunk-{index:06d}.counts.json").read_text(encoding="utf-8")))
        except (OSError, ValueError):
            return Counter()

    def tables(self, count: int, schema: pa.Schema, each: Callable[[pa.Table], None]) -> Iterator[pa.Table]:
        for index in range(count):
            table = pq.read_table(self._chunk(index)).cast(schema)
            each(table)
            yield table

    def schema(self, count: int) -> pa.Schema:
        """One schema for all chunks (a column that is all missing in one chunk takes its type from the others)."""
        schemas = [pq.read_schema(self._chunk(index)).remove_metadata() for index in range(count)]
        unified = pa.unify_schemas(schemas, promote_options="permissive")
        return pa.schema([f.with_type(pa.string()) if pa.types.is_null(f.type) else f for f in unified])

    def remove(self) -> None:
        shutil.rmtree(self.folder)


class ProgressLines:
    """Plain progress for logs and pipes: a line every `interval` seconds while rows come in, and one at the end."""

    def __init__(
        self,
        total: int | None,
        write: Callable[[str], None],
        interval: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.total, self.write, self.interval, self.clock = total, write, interval, clock
        self.rows = 0
        self.start = self.last = clock()

    def add(self, rows: int) -> None:
        self.rows += rows
        now = self.clock()
        if now - self.last >= self.interval:
            self.last = now
            self.write(self._line(now))

    def finish(self) -> None:
        elapsed = max(self.clock() - self.start, 1e-9)
        self.write(f"scored {self.rows:,} rows in {elapsed:,.1f} s ({self.rows / elapsed:,.1f} rows/s)")

    def _line(self, now: float) -> str:
        rate = self.rows / max(now - self.start, 1e-9)
        if not self.total:
            return f"scored {self.rows:,} rows, {rate:,.1f} rows/s"
        left = max(self.total - self.rows, 0) / rate if rate else float("inf")
        return (
            f"scored {self.rows:,} of {self.total:,} rows ({min(self.rows / self.total, 1):.0%}), "
            f"{rate:,.1f} rows/s, about {_duration(left)} left"
        )


def _duration(seconds: float) -> str:
    if seconds == float("inf"):
        return "? min"
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def _id_hashes(values: pd.Series) -> np.ndarray:
    filled = values[[not is_blank(v) for v in values]]
    return pd.util.hash_pandas_object(filled.astype(str), index=False).to_numpy()


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
    ids = tagger.model.behaviours
    cache = ResultCache(tagger, params.cache_size)
    id_hashes: list[np.ndarray] = []

    def save(index: int, frame: pd.DataFrame) -> None:
        scored = score_chunk(frame, options, cache, ids)
        if redactor is not None:
            scored, counts = redact_scored(scored, options, redactor)
            run.save_counts(index, counts)
        run.save(index, scored)

    count = 0
    for index, frame in enumerate(export.chunks(options.chunk_size)):
        if options.id_column is not None:
            id_hashes.append(_id_hashes(frame[options.id_column]))
        if index not in done:
            save(index, frame)
        on_rows(len(frame))
        count = index + 1
    if count == 0:  # no rows: the output still has its header
        save(0, pd.DataFrame(columns=list(export.columns), dtype=object))
        count = 1
    summary = ScoreSummary(options.results(), ids)
    schema = run.schema(count)
    write_chunks(run.tables(count, schema, summary.add), schema, output)
    redacted = sum((run.counts(index) for index in range(count)), Counter()) if redactor is not None else None
    run.remove()
    duplicates = 0
    if id_hashes:
        _, repeats = np.unique(np.concatenate(id_hashes), return_counts=True)
        duplicates = int((repeats > 1).sum())
    return BatchResult(summary, cache.tagged, duplicates, redacted)


def redact_export(export: Export, columns: list[str], output: Path, redactor: Redactor, chunk_size: int) -> tuple[int, Counter]:
    """Write `export` to `output` with identifiers replaced in `columns`, `chunk_size` rows at a time (every cell
    as text; the output appears only when complete). Returns (rows, identifiers replaced per kind)."""
    schema = pa.schema([(name, pa.string()) for name in export.columns])
    counts: Counter = Counter()
    rows = 0

    def redacted_tables() -> Iterator[pa.Table]:
        nonlocal rows
        for frame in export.chunks(chunk_size):
            for column in columns:
                values = frame[column].tolist()
                filled = [i for i, value in enumerate(values) if isinstance(value, str) and value.strip()]
                for i, found in zip(filled, redactor.find([values[i] for i in filled])):
                    values[i] = replace(values[i], found)
                    counts.update(f.kind for f in found)
                frame[column] = pd.Series(values, index=frame.index, dtype=object)
            rows += len(frame)
            yield pa.Table.from_pandas(frame, schema=schema, preserve_index=False)
        if rows == 0:  # no rows: the output still has its header
            yield schema.empty_table()

    write_chunks(redacted_tables(), schema, output)
    return rows, counts
