"""Text → behaviours, scores and evidence sentences.

A text is cut into sentences (and a sentence longer than the encoder's limit into
pieces); every distinct piece is encoded once. The text's own vector is the
normalised mean of its pieces, so a text costs no more encoding than its
sentences. Each behaviour's text probability comes from the text vector, or with
`max` aggregation from the best of the text vector and any single sentence, or with
`learned` aggregation from a small model reading the text's and the best sentences'
scores and the note's length (pipeline/model/aggregator.py), and the best of its lines
(a note's paragraphs, a list's items) each read alone by the text head; a behaviour is
tagged when that probability reaches the behaviour's threshold.

A model with word features (pipeline/model/words.py) gives its head each piece's and
each text's TF-IDF words beside the vector; the head is otherwise the same. A model with
a sentence head scores each piece with it (a head trained on the sentences readers
marked) and keeps the text head for whole texts.

The head has one more output than there are behaviours: "shows any behaviour at
all". A text is tagged with a behaviour only when both that behaviour's probability
and this gate reach their thresholds.

Scores shown to people are the probabilities rescaled so that each threshold sits
at 0.5, and a behaviour's score is the lower of its own and the gate's: a score of
0.5 or more always means "tagged", whatever the behaviour, and scores only ever
rise with the probabilities. The probabilities themselves are kept beside them: with
learned aggregation they are calibrated (`behaviours evaluate` reports their expected
calibration error), so the mean over many answers estimates how many show a behaviour.

Each behaviour tagged is then read as a strength (`+`) or a gap (`-`) by the
model's polarity classifier (pipeline/model/polarity.py), from the whole text, from the
sentence that is the best evidence for it, or the mean of the two; every evidence
sentence carries its own polarity too.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy.sparse import csr_matrix

from pipeline.config import Params, ScoreParams
from pipeline.encoders.base import Encoder
from pipeline.model.aggregator import NoteAggregator, note_features
from pipeline.model.backend import backend_model_dir, model_encoder
from pipeline.model.folder import SavedModel, is_ensemble, load_ensemble_members, load_model
from pipeline.model.words import WordFeatures
from pipeline.text import EmptyAnswers, SentenceSplitter, normalise

AGGREGATIONS = ("text", "max", "noisy_or", "learned")
POLARITY_AGGREGATIONS = ("text", "sentence", "mean")
HeadInput = np.ndarray | csr_matrix  # vectors, or words and vectors side by side
COMBINED = "combined"  # `score --combined`: the question whose columns (`combined__…`) cover all the answers


@dataclass
class EmbeddedTexts:
    """Texts, their pieces and the pieces' vectors, stacked: text i owns rows offsets[i]:offsets[i+1]. Its pieces
    run line by line: `lines[i]` are its lines that hold a word, and `line_sizes[i]` how many pieces each has."""

    texts: list[str]  # normalised
    pieces: list[list[str]]
    vectors: np.ndarray
    offsets: np.ndarray
    lines: list[list[str]]
    line_sizes: list[list[int]]

    def text_vectors(self) -> np.ndarray:
        sums = np.add.reduceat(self.vectors, self.offsets[:-1], axis=0) if len(self.vectors) else self.vectors
        return _unit_length(sums)

    def piece_rows(self, group) -> np.ndarray:
        """The rows, among the pieces, of the pieces of the texts in `group`, in order."""
        return np.concatenate([np.arange(self.offsets[i], self.offsets[i + 1]) for i in group])

    def subset(self, rows: np.ndarray) -> "EmbeddedTexts":
        """The texts at `rows`, in that order, with their own pieces, vectors and lines."""
        return self.joined([[i] for i in rows])

    def joined(self, groups: list) -> "EmbeddedTexts":
        """A text per group of rows: those texts joined as paragraphs, in order, with their pieces, vectors and lines
        (a composed note; a group of one is the text itself)."""
        spans = [self.piece_rows(group) for group in groups]
        return EmbeddedTexts(
            texts=["\n\n".join(self.texts[i] for i in group) for group in groups],
            pieces=[[piece for i in group for piece in self.pieces[i]] for group in groups],
            vectors=self.vectors[np.concatenate(spans)] if spans else self.vectors[:0],
            offsets=np.cumsum([0] + [len(span) for span in spans]),
            lines=[[line for i in group for line in self.lines[i]] for group in groups],
            line_sizes=[[size for i in group for size in self.line_sizes[i]] for group in groups],
        )


def _unit_length(sums: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(sums, axis=1, keepdims=True)
    return sums / np.where(norms == 0, 1.0, norms)


def _line_pieces(texts: list[str], splitter: SentenceSplitter, encoder: Encoder) -> list[list[tuple[str, list[str]]]]:
    """Each text's lines, each with its sentences, long ones cut into pieces within the encoder's limit."""
    return [
        [(line, [piece for sentence in sentences for piece in encoder.within_limit(sentence)]) for line, sentences in text]
        for text in splitter.split_lines(texts)
    ]


def text_pieces(texts: list[str], splitter: SentenceSplitter, encoder: Encoder) -> list[list[str]]:
    """Each text's sentences, long ones cut into pieces within the encoder's limit."""
    return [[piece for _, pieces in lines for piece in pieces] for lines in _line_pieces(texts, splitter, encoder)]


def embed_texts(texts: list[str], splitter: SentenceSplitter, encoder: Encoder) -> EmbeddedTexts:
    """Split every (non-blank) text into pieces within the encoder's limit and encode each distinct piece once."""
    lines = _line_pieces(texts, splitter, encoder)
    pieces = [[piece for _, line_pieces in text_lines for piece in line_pieces] for text_lines in lines]
    unique = list(dict.fromkeys(piece for text_pieces in pieces for piece in text_pieces))
    position = {piece: i for i, piece in enumerate(unique)}
    unique_vectors = encoder.encode(unique)
    rows = [position[piece] for text_pieces in pieces for piece in text_pieces]
    offsets = np.cumsum([0] + [len(text_pieces) for text_pieces in pieces])
    return EmbeddedTexts(
        texts=[normalise(text) for text in texts],
        pieces=pieces,
        vectors=unique_vectors[rows],
        offsets=offsets,
        lines=[[line for line, _ in text_lines] for text_lines in lines],
        line_sizes=[[len(line_pieces) for _, line_pieces in text_lines] for text_lines in lines],
    )


def _head_inputs(texts: list[str], vectors: np.ndarray, words: WordFeatures | None) -> HeadInput:
    return vectors if words is None else words.join(texts, vectors)


def text_inputs(embedded: EmbeddedTexts, words: WordFeatures | None) -> HeadInput:
    """What the head reads for every text: its vector, with its words when the model has them."""
    return _head_inputs(embedded.texts, embedded.text_vectors(), words)


def piece_inputs(embedded: EmbeddedTexts, words: WordFeatures | None) -> HeadInput:
    """What the head reads for every piece (sentence): its vector, with its words when the model has them."""
    return _head_inputs([piece for pieces in embedded.pieces for piece in pieces], embedded.vectors, words)


@dataclass
class HeadScores:
    """A batch's probabilities from the heads, every output: each piece's, each text's, and each text's best
    line's, its lines read alone by the text head (a note's paragraphs and a list's items are each like a
    short answer, which is what the text head learned from)."""

    pieces: np.ndarray  # pieces × outputs, by the sentence head when the model has one
    texts: np.ndarray  # texts × outputs
    best_lines: np.ndarray  # texts × outputs: a one-line text's own (every text's when lines are not read)
    lines: np.ndarray  # texts: how many lines
    offsets: np.ndarray  # text i owns pieces offsets[i]:offsets[i+1]

    def output(self, j: slice) -> "HeadScores":
        """The same scores for the outputs `j` only."""
        return HeadScores(self.pieces[:, j], self.texts[:, j], self.best_lines[:, j], self.lines, self.offsets)


def best_line_probabilities(
    head, embedded: EmbeddedTexts, words: WordFeatures | None, text_probs: np.ndarray
) -> np.ndarray:
    """texts × outputs: the most probable of each text's lines, each read by the text head alone (`text_probs`
    for one-line texts, which are most: only texts of several lines cost anything more)."""
    best = text_probs.copy()
    several = [i for i, sizes in enumerate(embedded.line_sizes) if len(sizes) > 1]
    if not several:
        return best
    starts = np.concatenate([embedded.offsets[i] + np.cumsum([0] + embedded.line_sizes[i][:-1]) for i in several])
    ends = np.concatenate([embedded.offsets[i] + np.cumsum(embedded.line_sizes[i]) for i in several])
    vectors = _unit_length(np.stack([embedded.vectors[a:b].sum(axis=0) for a, b in zip(starts, ends)]))
    probs = head.predict_proba(_head_inputs([line for i in several for line in embedded.lines[i]], vectors, words))
    first = np.cumsum([0] + [len(embedded.line_sizes[i]) for i in several])
    best[several] = np.maximum.reduceat(probs, first[:-1], axis=0)
    return best


def head_scores(
    head,
    embedded: EmbeddedTexts,
    words: WordFeatures | None = None,
    sentence_head=None,
    sentence_words: WordFeatures | None = None,
    read_lines: bool = True,
) -> HeadScores:
    """Every piece's, text's and best line's probabilities: pieces scored by the sentence head when the model
    has one (trained on readers' sentence labels), else by the text head; texts and lines by the text head
    (without `read_lines`, each text's best line is the text itself: nothing reads lines)."""
    text_probs = head.predict_proba(text_inputs(embedded, words))
    if sentence_head is None:
        piece_probs = head.predict_proba(piece_inputs(embedded, words))
    else:
        piece_probs = sentence_head.predict_proba(piece_inputs(embedded, sentence_words))
    return HeadScores(
        pieces=piece_probs,
        texts=text_probs,
        best_lines=best_line_probabilities(head, embedded, words, text_probs) if read_lines else text_probs,
        lines=np.array([len(sizes) for sizes in embedded.line_sizes]),
        offsets=embedded.offsets,
    )


def model_scores(model: SavedModel, embedded: EmbeddedTexts) -> HeadScores:
    """`head_scores` from a saved model's heads; each text's lines are read only when its aggregation reads them."""
    aggregator = model.aggregator if model.aggregation == "learned" else None
    reads_lines = aggregator is not None and aggregator.line_discount is not None
    return head_scores(model.head, embedded, model.words, model.sentence_head, model.sentence_words, reads_lines)


def aggregate(scores: HeadScores, how: str, aggregator: NoteAggregator | None = None) -> np.ndarray:
    """Text probabilities from the text vector alone (`text`), the best of it and every piece (`max`),
    the chance that at least one piece shows the behaviour if pieces were independent (`noisy_or`),
    or the `aggregator`'s reading of all of them (`learned`, also of the best line when the aggregator reads
    lines; the last output, "any behaviour", as `max`)."""
    piece_probs, text_probs, offsets = scores.pieces, scores.texts, scores.offsets
    if how == "text":
        return text_probs
    if how == "max":
        return np.maximum(text_probs, np.maximum.reduceat(piece_probs, offsets[:-1], axis=0))
    if how == "noisy_or":
        log_none = np.add.reduceat(np.log1p(-np.clip(piece_probs, 0.0, 1.0 - 1e-6)), offsets[:-1], axis=0)
        return 1.0 - np.exp(log_none)
    if how == "learned":
        if aggregator is None:
            raise ValueError("learned aggregation needs a fitted aggregator")
        discount = aggregator.line_discount
        features = note_features(piece_probs, text_probs, offsets, scores.best_lines, scores.lines, discount)
        behaviours = aggregator.predict_proba(features)
        gate = aggregate(scores.output(slice(-1, None)), "max")
        return np.column_stack([behaviours, gate])
    raise ValueError(f"aggregation must be one of {AGGREGATIONS}, not {how!r}")


def behaviour_polarity(text_strength: float, sentence_strength: float, how: str) -> float:
    """P(strength) of one behaviour in one text, from the text's and its best evidence sentence's."""
    if how == "text":
        return text_strength
    if how == "sentence":
        return sentence_strength
    if how == "mean":
        return 0.5 * (text_strength + sentence_strength)
    raise ValueError(f"polarity aggregation must be one of {POLARITY_AGGREGATIONS}, not {how!r}")


def display_scores(probs: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """Rescale probabilities piecewise-linearly so that each threshold maps to 0.5."""
    below = 0.5 * probs / np.maximum(thresholds, 1e-6)  # a threshold of 0 passes everything
    above = 0.5 + 0.5 * (probs - thresholds) / (1.0 - thresholds)
    return np.clip(np.where(probs < thresholds, below, above), 0.0, 1.0)


@dataclass
class TagResult:
    """What the product says about one text."""

    status: str  # "ok" or "empty"
    behaviours: list[str] = field(default_factory=list)  # tagged ids, highest score first
    strengths: list[str] = field(default_factory=list)  # tagged ids shown as a strength (+)
    gaps: list[str] = field(default_factory=list)  # tagged ids shown as lacking (-)
    scores: dict[str, float] = field(default_factory=dict)  # every behaviour, 0-1, tagged at >= 0.5
    probabilities: dict[str, float] = field(default_factory=dict)  # every behaviour: P(a reader would mark it)
    polarity: dict[str, float] = field(default_factory=dict)  # tagged ids: P(strength), `+` at >= 0.5
    evidence: list[dict] = field(default_factory=list)  # {behaviour, sentence, score, polarity, polarity_score}


class Tagger:
    """A loaded model with its encoder and sentence splitter, ready to tag texts."""

    def __init__(
        self,
        model: SavedModel,
        encoder: Encoder | None = None,
        splitter: SentenceSplitter | None = None,
        max_evidence: int = 3,
        empty_values: tuple[str, ...] = ScoreParams.empty_values,
    ) -> None:
        self.model = model
        if encoder is not None and model.adapter is not None and "+adapter:" not in encoder.fingerprint:
            raise ValueError("this model was trained with an adapted encoder: let the Tagger load it (encoder=None)")
        self.encoder = encoder or model_encoder(model)
        self.splitter = splitter or SentenceSplitter(model.text)
        self.max_evidence = max_evidence
        self.is_empty = EmptyAnswers(empty_values)

    @property
    def behaviours(self) -> tuple[str, ...]:
        return self.model.behaviours

    @property
    def card(self) -> dict:
        return self.model.card

    def tag(self, texts: list[object]) -> list[TagResult]:
        """Tag a batch; missing, blank and filler answers ("n/a", "-") come back with status `empty`."""
        results = [TagResult(status="empty") for _ in texts]
        filled = [i for i, text in enumerate(texts) if not self.is_empty(text)]
        if not filled:
            return results
        embedded = embed_texts([texts[i] for i in filled], self.splitter, self.encoder)
        model = self.model
        read = model_scores(model, embedded)
        probs = aggregate(read, model.aggregation, model.aggregator)
        gate = display_scores(probs[:, -1:], np.float32(model.gate_threshold))
        scores = np.minimum(display_scores(probs[:, :-1], model.thresholds), gate)
        piece_scores = display_scores(read.pieces[:, :-1], model.thresholds)
        polarity = model.polarity
        text_strength = polarity.predict_proba(embedded.texts, embedded.text_vectors())
        piece_strength = polarity.predict_proba([p for pieces in embedded.pieces for p in pieces], embedded.vectors)
        for k, i in enumerate(filled):
            lo, hi = embedded.offsets[k], embedded.offsets[k + 1]
            results[i] = self._result(
                scores[k], probs[k, :-1], embedded.pieces[k], piece_scores[lo:hi], text_strength[k], piece_strength[lo:hi]
            )
        return results

    def _result(
        self,
        scores: np.ndarray,
        probabilities: np.ndarray,
        pieces: list[str],
        piece_scores: np.ndarray,
        text_strength: float,
        piece_strength: np.ndarray,
    ) -> TagResult:
        ids = self.model.behaviours
        tagged = [j for j in np.argsort(-scores, kind="stable") if scores[j] >= 0.5]
        evidence, polarity = [], {}
        for j in tagged:
            order = np.argsort(-piece_scores[:, j], kind="stable")
            chosen = [p for p in order if piece_scores[p, j] >= 0.5][: self.max_evidence] or [order[0]]
            strength = behaviour_polarity(text_strength, piece_strength[order[0]], self.model.polarity_aggregation)
            polarity[ids[j]] = round(float(strength), 3)
            evidence += [
                {
                    "behaviour": ids[j],
                    "sentence": pieces[p],
                    "score": round(float(piece_scores[p, j]), 3),
                    "polarity": "+" if piece_strength[p] >= 0.5 else "-",
                    "polarity_score": round(float(piece_strength[p]), 3),
                }
                for p in chosen
            ]
        return TagResult(
            status="ok",
            behaviours=[ids[j] for j in tagged],
            strengths=[b for b, p in polarity.items() if p >= 0.5],
            gaps=[b for b, p in polarity.items() if p < 0.5],
            scores={b: round(float(s), 4) for b, s in zip(ids, scores)},
            probabilities={b: round(float(p), 4) for b, p in zip(ids, probabilities)},
            polarity=polarity,
            evidence=evidence,
        )


class EnsembleTagger:
    """Several models read each text; a behaviour is tagged where the mean of their scores reaches 0.5.

    Each member's scores are already rescaled so that its own threshold (and its gate) sits at
    0.5, so the mean needs no threshold of its own: nothing is fitted on top of the members.
    A behaviour's strength or gap is the mean P(strength) of the members that tag it (at least
    one does, as the mean reaches 0.5); its evidence sentences are those of the member surest
    of it. Probabilities are the members' mean. Each member splits and encodes the text itself,
    so an ensemble costs the sum of its members (docs/decisions.md, "The ensemble").
    """

    def __init__(self, members: list[Tagger], card: dict) -> None:
        if len({member.behaviours for member in members}) != 1:
            raise ValueError("an ensemble's members must tag the same behaviours")
        self.members = members
        self.card = card

    @property
    def behaviours(self) -> tuple[str, ...]:
        return self.members[0].behaviours

    def tag(self, texts: list[object]) -> list[TagResult]:
        """Tag a batch with every member and average; empty answers are `empty` for all of them alike."""
        return [self._averaged(results) for results in zip(*(member.tag(texts) for member in self.members))]

    def _averaged(self, results: tuple[TagResult, ...]) -> TagResult:
        if results[0].status != "ok":
            return results[0]
        ids = self.behaviours
        scores = {b: float(np.mean([r.scores[b] for r in results])) for b in ids}
        tagged = [b for b in sorted(ids, key=lambda b: -scores[b]) if scores[b] >= 0.5]
        polarity = {b: round(float(np.mean([r.polarity[b] for r in results if b in r.polarity])), 3) for b in tagged}
        evidence = []
        for b in tagged:
            surest = max(results, key=lambda r: r.scores[b])
            evidence += [item for item in surest.evidence if item["behaviour"] == b]
        return TagResult(
            status="ok",
            behaviours=tagged,
            strengths=[b for b in tagged if polarity[b] >= 0.5],
            gaps=[b for b in tagged if polarity[b] < 0.5],
            scores={b: round(s, 4) for b, s in scores.items()},
            probabilities={b: round(float(np.mean([r.probabilities[b] for r in results])), 4) for b in ids},
            polarity=polarity,
            evidence=evidence,
        )


def load_tagger(
    model_dir: Path | None, params: Params, taxonomy_ids: tuple[str, ...], backend: str | None = None
) -> Tagger | EnsembleTagger:
    """The model in `model_dir` (default: the backend's) ready to tag, encoding with `backend` (default: params);
    an ensemble's members each with `backend`."""
    backend = backend or params.backend.name
    model_dir = backend_model_dir(model_dir, backend, params.backend)
    if is_ensemble(model_dir):
        folders, card = load_ensemble_members(model_dir)
        return EnsembleTagger([load_tagger(folder, params, taxonomy_ids, backend) for folder in folders], card)
    model = load_model(model_dir, taxonomy_ids)
    encoder = model_encoder(model, backend, model_dir, params.backend)
    return Tagger(
        model, encoder=encoder, max_evidence=params.score.max_evidence_per_behaviour, empty_values=params.score.empty_values
    )


def tag_in_chunks(tagger: Tagger | EnsembleTagger, texts: list[str], chunk_size: int = 512) -> list[TagResult]:
    """Tag many texts, `chunk_size` at a time (bounded memory for the encoder's batches)."""
    return [result for start in range(0, len(texts), chunk_size) for result in tagger.tag(texts[start : start + chunk_size])]


def result_matrices(results: list[TagResult], ids: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    """(tags, scores): texts × behaviours matrices of what the tagger said."""
    predicted = np.array([[b in r.behaviours for b in ids] for r in results], dtype=np.int8).reshape(-1, len(ids))
    scores = np.array([[r.scores.get(b, 0.0) for b in ids] for r in results], dtype=np.float32).reshape(-1, len(ids))
    return predicted, scores


def probability_matrix(results: list[TagResult], ids: tuple[str, ...]) -> np.ndarray:
    """Texts × behaviours: the tagger's P(a reader would mark the behaviour); 0 for empty answers."""
    return np.array([[r.probabilities.get(b, 0.0) for b in ids] for r in results], dtype=np.float32).reshape(-1, len(ids))


def result_columns(results: list[TagResult], ids: tuple[str, ...]) -> dict[str, list]:
    """The output contract of `behaviours score` (and of the MLflow model), column by column."""
    columns: dict[str, list] = {
        "behaviours": [";".join(r.behaviours) for r in results],
        "strengths": [";".join(r.strengths) for r in results],
        "gaps": [";".join(r.gaps) for r in results],
    }
    for behaviour_id in ids:
        columns[f"score_{behaviour_id}"] = [r.scores.get(behaviour_id) for r in results]
    columns["evidence"] = [json.dumps(r.evidence, ensure_ascii=False) for r in results]
    columns["status"] = [r.status for r in results]
    return columns
