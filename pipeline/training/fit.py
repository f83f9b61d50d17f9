"""Fit the head on labelled texts and choose each behaviour's threshold by cross-validation.

Thresholds are the ones that maximise each behaviour's F1 on out-of-fold
predictions, scored exactly as the tagger scores (same pieces, same aggregation),
so they are chosen on texts the fold's head never saw.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
from sklearn.model_selection import GroupKFold, StratifiedKFold, train_test_split

from pipeline.config import FinetuneParams, Params, TrainParams
from pipeline.data.rows import LabelledRow, label_matrix, soft_label_matrix
from pipeline.encoders.base import Encoder
from pipeline.encoders.transformer import SentenceTransformerEncoder
from pipeline.errors import InputError
from pipeline.model.aggregator import FEATURES, NoteAggregator, note_features
from pipeline.model.folder import SavedModel, load_model
from pipeline.model.heads import HEADS, LogisticHead, make_head, saved_params
from pipeline.model.polarity import PolarityClassifier, polarity_pairs
from pipeline.model.words import WordFeatures
from pipeline.tagger import (
    POLARITY_AGGREGATIONS,
    EmbeddedTexts,
    HeadScores,
    aggregate,
    embed_texts,
    head_scores,
    model_scores,
    text_inputs,
    text_pieces,
)
from pipeline.taxonomy import Taxonomy
from pipeline.text import SentenceSplitter
from pipeline.training.composed import draw_notes
from pipeline.training.finetune import contrastive_adapter, finetune
from pipeline.training.metrics import headline_figures, multilabel_metrics

log = logging.getLogger(__name__)


def data_fingerprint(rows: list[LabelledRow]) -> str:
    """SHA-256 of the training rows' content (not their file positions)."""
    content = sorted((r.id, r.text, r.labels, r.polarity, r.register) for r in rows)
    return hashlib.sha256(json.dumps(content, ensure_ascii=False).encode("utf-8")).hexdigest()


def description_vectors(taxonomy: Taxonomy, encoder: Encoder) -> np.ndarray:
    """Each behaviour's name, description and enabling indicators, encoded (the zero-shot prototypes)."""
    return encoder.encode([f"{b.name}. {b.description} {b.indicators.get('+', '')}" for b in taxonomy.behaviours])


def text_probabilities(head, embedded: EmbeddedTexts, aggregation: str, words: WordFeatures | None = None) -> np.ndarray:
    return aggregate(head_scores(head, embedded, words, read_lines=False), aggregation)


def fit_words(params: TrainParams, texts: list[str]) -> WordFeatures | None:
    """The word features the head reads beside the vectors (`train.features: words+vectors`), else None."""
    if params.features == "vectors":
        return None
    if params.features != "words+vectors":
        raise InputError(f"train.features must be 'vectors' or 'words+vectors', not {params.features!r}")
    if params.head != "logistic":
        raise InputError("train.features: words+vectors needs train.head: logistic")
    return WordFeatures(ngram_max=params.words_ngram_max, min_df=params.words_min_df).fit(texts)


@dataclass
class SentenceExamples:
    """What the sentence head learns from: every sentence of a text with readers' sentence votes, labelled
    with the behaviours at least half its readers marked there, and every one-piece text as itself, with its
    own labels. `owner` is each example's text, so cross-validation keeps a text's sentences in its fold."""

    texts: list[str]
    vectors: np.ndarray
    Y: np.ndarray  # examples × outputs, the last "any behaviour"
    owner: np.ndarray


def sentence_examples(rows: list[LabelledRow], embedded: EmbeddedTexts, Y: np.ndarray, ids: tuple[str, ...]) -> SentenceExamples:
    """The sentence head's examples among `rows` (`Y`: their labels with the "any behaviour" column)."""
    column = {behaviour: j for j, behaviour in enumerate(ids)}
    examples = []  # (sentence, its row in embedded.vectors, labels, owner)
    for i, row in enumerate(rows):
        start, pieces = embedded.offsets[i], embedded.pieces[i]
        if row.sentences:
            where = {piece: start + k for k, piece in enumerate(pieces)}
            for sentence, signs in row.sentences:
                if sentence not in where:  # cut at the encoder's limit: not a piece the tagger scores
                    continue
                y = np.zeros(Y.shape[1], dtype=Y.dtype)
                y[[column[b] for b, _ in signs]] = 1
                y[-1] = y[:-1].any()
                examples.append((sentence, where[sentence], y, i))
        elif len(pieces) == 1:
            examples.append((pieces[0], start, Y[i], i))
    texts, at, labels, owner = zip(*examples) if examples else ((), (), (), ())
    return SentenceExamples(list(texts), embedded.vectors[list(at)], np.array(labels), np.array(owner))


def fit_sentence_head(examples: SentenceExamples, chosen: np.ndarray, params: TrainParams) -> tuple[LogisticHead, WordFeatures | None]:
    """The sentence head (and its word features) fitted on the `chosen` examples (a boolean mask)."""
    texts = [examples.texts[k] for k in np.flatnonzero(chosen)]
    words = fit_words(params, texts)
    X = examples.vectors[chosen] if words is None else words.join(texts, examples.vectors[chosen])
    return LogisticHead(C=params.C, class_weight=params.class_weight).fit(X, examples.Y[chosen]), words


def fit_head(
    embedded: EmbeddedTexts, Y: np.ndarray, rows: np.ndarray, params: TrainParams, prototypes: np.ndarray | None
) -> tuple[object, WordFeatures | None]:
    """The head (and its word features) fitted on the texts at `rows`."""
    words = fit_words(params, [embedded.texts[i] for i in rows])
    X = text_inputs(embedded, words)
    return make_head(params, prototypes).fit(X[rows], Y[rows]), words


def _folds(Y: np.ndarray, params: TrainParams) -> list[tuple[np.ndarray, np.ndarray]]:
    """Cross-validation folds over texts, stratified on each text's first behaviour (or none), so every
    fold trains on every behaviour."""
    first_label = np.where(Y.any(axis=1), Y.argmax(axis=1), -1)
    folds = StratifiedKFold(n_splits=params.cv_folds, shuffle=True, random_state=params.seed)
    return list(folds.split(first_label, first_label))


@dataclass
class OutOfFoldScores:
    """Every piece's, text's and best line's probabilities from heads trained on the other folds' texts, and the
    texts' of the notes composed from each fold's texts (`train.composed_notes`): `note_fold` is the fold they
    were held out of."""

    folds: list[tuple[np.ndarray, np.ndarray]]
    scores: HeadScores
    notes: list[np.ndarray]  # each composed note's texts
    note_texts: np.ndarray  # notes × outputs
    note_fold: np.ndarray


def out_of_fold_scores(
    embedded: EmbeddedTexts,
    Y: np.ndarray,
    params: Params,
    prototypes: np.ndarray | None = None,
    sentences: SentenceExamples | None = None,
    composed_notes: int = 0,
) -> OutOfFoldScores:
    """Each piece's, text's and best line's probabilities from heads trained on the other folds' texts (pieces by
    the sentence head when `sentences` are given, else by the text head); with `composed_notes`, also the texts'
    of that many notes joined from the folds' held-out texts, each from its fold's head."""
    folds = _folds(Y, params.train)
    owner = np.repeat(np.arange(len(Y)), np.diff(embedded.offsets))
    piece_oof = np.zeros((len(embedded.vectors), Y.shape[1]), dtype=np.float32)
    text_oof = np.zeros(Y.shape, dtype=np.float32)
    line_oof = np.zeros(Y.shape, dtype=np.float32)
    rng = np.random.default_rng(params.train.seed)
    read_lines = params.train.aggregation == "learned" and params.train.line_discount is not None
    notes, note_texts, note_fold = [], [], []
    for k, (fit_idx, held_idx) in enumerate(folds):
        head, words = fit_head(embedded, Y, fit_idx, params.train, prototypes)
        sentence_head, sentence_words = (
            fit_sentence_head(sentences, np.isin(sentences.owner, fit_idx), params.train) if sentences else (None, None)
        )
        read = head_scores(head, embedded, words, sentence_head, sentence_words, read_lines)
        text_oof[held_idx] = read.texts[held_idx]
        line_oof[held_idx] = read.best_lines[held_idx]
        held_pieces = np.isin(owner, held_idx)
        piece_oof[held_pieces] = read.pieces[held_pieces]
        fold_notes = draw_notes(held_idx, Y[:, -1].astype(bool), composed_notes // len(folds), rng)
        if fold_notes:
            notes += fold_notes
            note_texts.append(head.predict_proba(text_inputs(embedded.joined(fold_notes), words)))
            note_fold += [k] * len(fold_notes)
    lines = np.array([len(sizes) for sizes in embedded.line_sizes])
    return OutOfFoldScores(
        folds, HeadScores(piece_oof, text_oof, line_oof, lines, embedded.offsets), notes,
        np.vstack(note_texts) if note_texts else np.zeros((0, Y.shape[1]), dtype=np.float32), np.array(note_fold, dtype=int),
    )


def composed_note_features(oof: OutOfFoldScores, embedded: EmbeddedTexts, line_discount: float | None) -> np.ndarray:
    """`note_features` of the composed notes: their parts' out-of-fold piece scores in order, their own text
    scores, the best of their parts' best lines and their parts' lines added up."""
    if not oof.notes:
        return np.zeros((0, oof.scores.texts.shape[1], len(FEATURES)), dtype=np.float32)
    rows = [embedded.piece_rows(note) for note in oof.notes]
    offsets = np.cumsum([0] + [len(r) for r in rows])
    best_lines = np.stack([oof.scores.best_lines[note].max(axis=0) for note in oof.notes])
    lines = np.array([oof.scores.lines[note].sum() for note in oof.notes])
    return note_features(
        oof.scores.pieces[np.concatenate(rows)], oof.note_texts, offsets, best_lines, lines, line_discount
    )


def out_of_fold_probabilities(
    embedded: EmbeddedTexts,
    Y: np.ndarray,
    params: Params,
    prototypes: np.ndarray | None = None,
    sentences: SentenceExamples | None = None,
) -> tuple[np.ndarray, NoteAggregator | None]:
    """Each text's probabilities from a head trained on the other folds, aggregated as `train.aggregation`
    says; with `learned`, also the aggregator fitted on every text's out-of-fold scores (and the composed
    notes', `train.composed_notes`).

    `Y` ends with the "any behaviour" column. The learned aggregator's own out-of-fold
    probabilities come from aggregators fitted on the other folds (their texts and notes),
    so the thresholds chosen on them are chosen on texts neither stage saw.
    """
    how = params.train.aggregation
    composed_notes = params.train.composed_notes if how == "learned" else 0
    oof = out_of_fold_scores(embedded, Y, params, prototypes, sentences, composed_notes)
    scores = oof.scores
    if how != "learned":
        return aggregate(scores, how), None
    behaviours = Y[:, :-1]
    discount = params.train.line_discount
    features = note_features(scores.pieces, scores.texts, scores.offsets, scores.best_lines, scores.lines, discount)
    note_X = composed_note_features(oof, embedded, discount)
    note_Y = np.array([behaviours[note].any(axis=0) for note in oof.notes], dtype=Y.dtype).reshape(-1, behaviours.shape[1])

    def fitted(texts: np.ndarray, notes: np.ndarray) -> NoteAggregator:
        return NoteAggregator(C=params.train.aggregation_C, line_discount=discount).fit(
            np.concatenate([features[texts], note_X[notes]]), np.concatenate([behaviours[texts], note_Y[notes]])
        )

    probs = np.zeros(behaviours.shape, dtype=np.float32)
    for k, (fit_idx, held_idx) in enumerate(oof.folds):
        probs[held_idx] = fitted(fit_idx, oof.note_fold != k).predict_proba(features[held_idx])
    gate = aggregate(scores.output(slice(-1, None)), "max")
    return np.column_stack([probs, gate]), fitted(np.arange(len(Y)), np.ones(len(oof.notes), dtype=bool))


def tune_thresholds(Y: np.ndarray, probs: np.ndarray, low: float, high: float) -> np.ndarray:
    """Per behaviour, the threshold in [low, high] with the best F1 (the middle of a tied run)."""
    grid = np.round(np.arange(low, high + 1e-9, 0.01), 2)
    thresholds = np.empty(Y.shape[1], dtype=np.float32)
    for j in range(Y.shape[1]):
        truth = Y[:, j].astype(bool)
        predicted = probs[:, j][None, :] >= grid[:, None]
        tp = (predicted & truth).sum(axis=1)
        f1 = 2 * tp / np.maximum(predicted.sum(axis=1) + truth.sum(), 1)
        best = np.flatnonzero(np.isclose(f1, f1.max()))
        thresholds[j] = grid[best[len(best) // 2]]
    return thresholds


def with_any_column(Y: np.ndarray) -> np.ndarray:
    """The label matrix plus a last column: does the text show any behaviour (the gate's target)."""
    return np.column_stack([Y, Y.any(axis=1)]).astype(Y.dtype)


def gated(probs: np.ndarray, thresholds: np.ndarray, gate_threshold: float) -> np.ndarray:
    """Tags from probabilities with a last "any behaviour" column: a behaviour needs both its threshold and the gate."""
    return (probs[:, :-1] >= thresholds) & (probs[:, -1:] >= gate_threshold)


def choose_thresholds(Y: np.ndarray, probs: np.ndarray, params: Params, ids: tuple[str, ...]) -> tuple[np.ndarray, float]:
    """Per-behaviour thresholds (best F1 each), then the strictest gate costing at most `gate_max_macro_f1_loss`.

    `probs` has a last column for "any behaviour". The gate lets a text be tagged only
    when the model is sure enough that it shows some behaviour at all: one decision
    learned from every labelled text, which leaves far fewer no-behaviour texts
    tagged than thirteen separate thresholds do (docs/decisions.md).
    """
    low, high = params.train.min_threshold, params.train.max_threshold
    thresholds = tune_thresholds(Y, probs[:, :-1], low, high)
    ungated = multilabel_metrics(Y, probs[:, :-1] >= thresholds, ids)["macro_f1"]
    gate = 0.0
    for candidate in np.round(np.arange(0.05, 0.951, 0.05), 2):
        macro = multilabel_metrics(Y, gated(probs, thresholds, candidate), ids)["macro_f1"]
        if macro >= ungated - params.train.gate_max_macro_f1_loss:
            gate = float(candidate)
    return thresholds, gate


def sentence_polarity_examples(rows: list[LabelledRow], embedded: EmbeddedTexts) -> list[tuple[int, str, np.ndarray, bool]]:
    """(row index, sentence, its vector, is strength) for every behaviour readers marked on a sentence of a row
    (`LabelledRow.sentences`); sentences that are not one of the row's encoded pieces are left out."""
    examples = []
    for i, row in enumerate(rows):
        if not row.sentences:
            continue
        start = embedded.offsets[i]
        piece_vectors = {piece: embedded.vectors[start + k] for k, piece in enumerate(embedded.pieces[i])}
        for sentence, signs in row.sentences:
            if sentence in piece_vectors:
                examples += [(i, sentence, piece_vectors[sentence], sign == "+") for _, sign in signs if sign]
    return examples


def fit_polarity(
    rows: list[LabelledRow], embedded: EmbeddedTexts, params: Params
) -> tuple[PolarityClassifier, dict]:
    """The strength-or-gap classifier on every labelled (text, behaviour) pair (and, with `polarity.sentences`,
    every (sentence, behaviour) pair readers marked), and its cross-validated accuracy on the texts' pairs
    (folds keep a text's pairs and its sentences' together)."""
    pairs = polarity_pairs([r.text for r in rows], [r.labels for r in rows], [r.polarity for r in rows])
    index = [i for i, _, _ in pairs]
    texts = [rows[i].text for i in index]
    vectors = list(embedded.text_vectors()[index])
    strength = [s for _, _, s in pairs]
    from_texts = len(pairs)
    if params.polarity.sentences:
        for i, sentence, vector, is_strength in sentence_polarity_examples(rows, embedded):
            index.append(i)
            texts.append(sentence)
            vectors.append(vector)
            strength.append(is_strength)
    index, vectors, strength = np.array(index), np.array(vectors), np.array(strength)
    settings = dict(C=params.polarity.C, ngram_max=params.polarity.ngram_max, min_df=params.polarity.min_df)
    predicted = np.zeros(len(index), dtype=bool)
    for fit_idx, held_idx in GroupKFold(n_splits=params.train.cv_folds).split(vectors, strength, groups=index):
        fold = PolarityClassifier(**settings).fit([texts[i] for i in fit_idx], vectors[fit_idx], strength[fit_idx])
        predicted[held_idx] = fold.predict_proba([texts[i] for i in held_idx], vectors[held_idx]) >= 0.5
    figures = {
        "method": f"{params.train.cv_folds}-fold cross-validation over labelled (text, behaviour) pairs, text level",
        "pairs": from_texts,
        "sentence_pairs": len(index) - from_texts,
        "accuracy": round(float(np.mean(predicted[:from_texts] == strength[:from_texts])), 4),
    }
    return PolarityClassifier(**settings).fit(texts, vectors, strength), figures


@dataclass
class FittedHead:
    head: object  # one output per behaviour, then one for "any behaviour"
    thresholds: np.ndarray
    gate_threshold: float
    figures: dict  # on texts the thresholds were chosen on, never the test split
    method: str
    adapter: dict[str, np.ndarray] | None = None
    words: WordFeatures | None = None  # read beside the vectors (train.features: words+vectors)
    aggregator: NoteAggregator | None = None  # train.aggregation: learned
    sentence_head: LogisticHead | None = None  # train.sentence_head
    sentence_words: WordFeatures | None = None


def _fit_frozen(
    rows: list[LabelledRow],
    embedded: EmbeddedTexts,
    Y: np.ndarray,
    params: Params,
    taxonomy: Taxonomy,
    prototypes: np.ndarray | None,
) -> FittedHead:
    """Heads on frozen vectors; thresholds from out-of-fold predictions over all training rows."""
    if params.train.sentence_head and params.train.head != "logistic":
        raise InputError("train.sentence_head needs train.head: logistic")
    sentences = sentence_examples(rows, embedded, with_any_column(Y), taxonomy.ids) if params.train.sentence_head else None
    oof, aggregator = out_of_fold_probabilities(embedded, with_any_column(Y), params, prototypes, sentences)
    thresholds, gate = choose_thresholds(Y, oof, params, taxonomy.ids)
    head, words = fit_head(embedded, with_any_column(Y), np.arange(len(Y)), params.train, prototypes)
    sentence_head, sentence_words = (
        fit_sentence_head(sentences, np.ones(len(sentences.texts), dtype=bool), params.train) if sentences else (None, None)
    )
    method = f"{params.train.cv_folds}-fold cross-validation on the training rows"
    figures = multilabel_metrics(Y, gated(oof, thresholds, gate), taxonomy.ids)
    return FittedHead(
        head, thresholds, gate, figures, method, words=words, aggregator=aggregator,
        sentence_head=sentence_head, sentence_words=sentence_words,
    )


def _fit_finetuned(
    rows: list[LabelledRow], Y: np.ndarray, params: Params, taxonomy: Taxonomy, encoder: Encoder, splitter: SentenceSplitter
) -> FittedHead:
    """Adapters and head trained on most training rows; epoch and thresholds chosen on the rest."""
    base = getattr(encoder, "base", encoder)  # under the embedding cache, if any
    if not isinstance(base, SentenceTransformerEncoder):
        raise InputError("fine-tuning (finetune.epochs > 0) needs encoder.backend: sentence_transformers")
    tuning = params.finetune
    if tuning.objective == "contrastive":
        return _fit_contrastive(rows, Y, params, taxonomy, encoder, splitter, base)
    if tuning.objective != "classify":
        raise InputError(f"finetune.objective must be 'classify' or 'contrastive', not {tuning.objective!r}")
    if params.train.features != "vectors" or params.train.aggregation == "learned" or params.train.sentence_head:
        raise InputError(
            "finetune.objective: classify trains its own head on vectors; use train.features: vectors, "
            "no sentence head and an aggregation other than learned"
        )
    texts = [r.text for r in rows]
    chosen = fine_tuning_rows(rows, tuning)
    first_label = np.where(Y.any(axis=1), Y.argmax(axis=1), -1)
    fit_idx, val_idx = train_test_split(
        chosen, test_size=tuning.validation_fraction, stratify=first_label[chosen], random_state=tuning.seed
    )

    def validation_macro_f1(probs: np.ndarray) -> float:
        thresholds, gate = choose_thresholds(Y[val_idx], probs, params, taxonomy.ids)
        return multilabel_metrics(Y[val_idx], gated(probs, thresholds, gate), taxonomy.ids)["macro_f1"]

    if tuning.teacher:  # only the rows fine-tuning reads need the teacher's word
        targets = np.zeros((len(rows), Y.shape[1] + 1), dtype=np.float32)
        targets[chosen] = teacher_probabilities(Path(tuning.teacher), [texts[i] for i in chosen], splitter, encoder, params, taxonomy)
    else:
        targets = soft_label_matrix(rows, taxonomy) if tuning.soft_labels else Y.astype(np.float32)
        targets = np.column_stack([targets, targets.max(axis=1)])  # "any behaviour": the best-carried behaviour's share
    pieces = text_pieces(texts, splitter, encoder)
    result = finetune(base.model, pieces, targets, fit_idx, val_idx, tuning, validation_macro_f1)
    log.info("fine-tuned: best epoch %d of %s", result.best_epoch, result.history)
    base.apply_adapter(result.adapter, tuning.scale)
    head = LogisticHead.from_arrays({"coef": result.coef, "intercept": result.intercept})
    probs = text_probabilities(head, embed_texts([texts[i] for i in val_idx], splitter, encoder), params.train.aggregation)
    thresholds, gate = choose_thresholds(Y[val_idx], probs, params, taxonomy.ids)
    figures = multilabel_metrics(Y[val_idx], gated(probs, thresholds, gate), taxonomy.ids)
    method = (
        f"{len(val_idx)} training rows held out of fine-tuning on {len(chosen)} "
        f"(best epoch {result.best_epoch} of {tuning.epochs}: {result.history})"
        + (f", targets the probabilities of the teacher {tuning.teacher}" if tuning.teacher
           else ", pool texts' targets their vote shares" if tuning.soft_labels else "")
    )
    return FittedHead(head, thresholds, gate, figures, method, adapter=result.adapter)


def teacher_probabilities(
    teacher: Path, texts: list[str], splitter: SentenceSplitter, encoder: Encoder, params: Params, taxonomy: Taxonomy
) -> np.ndarray:
    """texts × (behaviours + "any behaviour"): what the teacher model says of each text, its tagger's
    probabilities, for a student to learn (distillation). The teacher reads the vectors of `encoder` before
    fine-tuning changes it, so it must be a model on that encoder, frozen."""
    model = load_model(teacher, taxonomy.ids)
    if model.adapter is not None or model.encoder.model != params.encoder.model:
        raise InputError(f"finetune.teacher {teacher}: needs a model on the frozen {params.encoder.model}")
    embedded = embed_texts(texts, splitter, encoder)
    return aggregate(model_scores(model, embedded), model.aggregation, model.aggregator).astype(np.float32)


def fine_tuning_rows(rows: list[LabelledRow], tuning: FinetuneParams) -> np.ndarray:
    """The rows fine-tuning reads: all, or with `max_texts`, every row that is not a pool text and pool texts
    drawn (seeded) up to that many."""
    pool = np.array([row.shares is not None for row in rows])
    if not tuning.max_texts or len(rows) <= tuning.max_texts:
        return np.arange(len(rows))
    drawn = np.random.default_rng(tuning.seed).permutation(np.flatnonzero(pool))[: max(tuning.max_texts - (~pool).sum(), 0)]
    return np.sort(np.concatenate([np.flatnonzero(~pool), drawn]))


def _fit_contrastive(
    rows: list[LabelledRow],
    Y: np.ndarray,
    params: Params,
    taxonomy: Taxonomy,
    encoder: Encoder,
    splitter: SentenceSplitter,
    base: SentenceTransformerEncoder,
) -> FittedHead:
    """SetFit's two stages: adapters trained on pairs of training texts, then the configured head on
    the adapted vectors with cross-validated thresholds. The folds' texts were seen by the adapter,
    so the cross-validated figures are optimistic; the test split is not."""
    tuning = params.finetune
    texts = [r.text for r in rows]
    adapter = contrastive_adapter(base.model, text_pieces(texts, splitter, encoder), Y, tuning)
    base.apply_adapter(adapter, tuning.scale)
    fitted = _fit_frozen(rows, embed_texts(texts, splitter, encoder), Y, params, taxonomy, None)
    fitted.adapter = adapter
    fitted.method = f"{fitted.method}, after {tuning.epochs} contrastive epoch(s) on the same rows (optimistic)"
    return fitted


def fit_model(
    rows: list[LabelledRow],
    params: Params,
    taxonomy: Taxonomy,
    encoder: Encoder,
    splitter: SentenceSplitter,
) -> tuple[SavedModel, dict]:
    """Train on `rows`; return the model and the figures its thresholds were chosen on.

    With `finetune.epochs > 0` the encoder is adapted first and, from then on, `encoder`
    gives the adapted vectors (its adapter is merged in place).
    """
    Y = label_matrix(rows, taxonomy)
    too_few = [f"{b} ({n})" for b, n in zip(taxonomy.ids, Y.sum(axis=0)) if n < params.train.cv_folds]
    if too_few:
        raise InputError(
            f"too few labelled texts to train ({params.train.cv_folds} needed per behaviour): {', '.join(too_few)}"
        )
    texts = [r.text for r in rows]
    log.info("training on %d labelled texts", len(rows))
    if params.finetune.epochs > 0:
        fitted = _fit_finetuned(rows, Y, params, taxonomy, encoder, splitter)
        embedded = embed_texts(texts, splitter, encoder)  # again: the encoder is adapted now
    else:
        prototypes = description_vectors(taxonomy, encoder) if params.train.head == "zero_shot" else None
        embedded = embed_texts(texts, splitter, encoder)
        fitted = _fit_frozen(rows, embedded, Y, params, taxonomy, prototypes)
    if params.polarity.aggregation not in POLARITY_AGGREGATIONS:
        raise InputError(f"polarity.aggregation must be one of {', '.join(POLARITY_AGGREGATIONS)}")
    polarity, polarity_figures = fit_polarity(rows, embedded, params)
    head_type = next(name for name, kind in HEADS.items() if isinstance(fitted.head, kind))
    card = {
        "name": "System Leadership Behaviours tagger",
        "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "encoder": {
            "name": encoder.name,
            "dim": encoder.dim,
            "max_tokens": encoder.max_tokens,
            "fine_tuned": fitted.adapter is not None,
        },
        "head": head_type,
        "aggregation": params.train.aggregation,
        "training_data": {
            "rows": len(rows),
            "sha256": data_fingerprint(rows),
            "rows_per_register": {reg: sum(r.register == reg for r in rows) for reg in sorted({r.register for r in rows})},
            "texts_with_no_behaviour": int((Y.sum(axis=1) == 0).sum()),
        },
        "thresholds": {b: round(float(t), 4) for b, t in zip(taxonomy.ids, fitted.thresholds)},
        "gate_threshold": fitted.gate_threshold,
        "polarity_aggregation": params.polarity.aggregation,
        "evaluation": {
            "training": {"method": fitted.method, **headline_figures(fitted.figures)},
            "training_polarity": polarity_figures,
        },
        "intended_use": (
            "Suggest which System Leadership Behaviours a piece of NHS or public-sector free text "
            "gives evidence about, with the sentences that carry it, to help people read many comments."
        ),
        "out_of_scope": (
            "Judging, ranking or making decisions about individuals; text that is not about how people "
            "lead or work together; languages other than English."
        ),
        "sensitive_data": (
            "Trained on invented examples and a public 2017 brainstorm; texts scored with it are personal "
            "data and stay on the machine that scores them."
        ),
    }
    model = SavedModel(
        behaviours=taxonomy.ids,
        encoder=params.encoder,
        text=params.text,
        head_type=head_type,
        head_params=saved_params(fitted.head),
        head=fitted.head,
        aggregation=params.train.aggregation,
        thresholds=fitted.thresholds,
        gate_threshold=fitted.gate_threshold,
        card=card,
        polarity=polarity,
        polarity_aggregation=params.polarity.aggregation,
        adapter=fitted.adapter,
        adapter_scale=params.finetune.scale,
        words=fitted.words,
        aggregator=fitted.aggregator,
        sentence_head=fitted.sentence_head,
        sentence_words=fitted.sentence_words,
    )
    return model, fitted.figures
