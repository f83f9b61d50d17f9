"""`score --redact` (each scored chunk redacted before it reaches the disk) and `behaviours redact` (a whole export)."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pyarrow as pa

from pipeline.batch.chunks import ScoreOptions
from pipeline.io.exports import Export
from pipeline.io.files import write_chunks
from pipeline.redact.patterns import Found
from pipeline.redact.redactor import Redactor, replace
from pipeline.text import is_blank


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


def redact_export(
    export: Export, columns: list[str], output: Path, redactor: Redactor, chunk_size: int, allow_formulas: bool = False
) -> tuple[int, Counter]:
    """Write `export` to `output` with identifiers replaced in `columns`, `chunk_size` rows at a time (every cell
    as text; the output appears only when complete; formulas neutralised unless `allow_formulas`, as
    `io.files.write_chunks` says). Returns (rows, identifiers replaced per kind)."""
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

    write_chunks(redacted_tables(), schema, output, allow_formulas)
    return rows, counts
