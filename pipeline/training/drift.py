"""Drift: is a batch of answers unlike what the model was trained on? (`behaviours drift`, docs/drift.md)

Four figures per batch, and a verdict from the first (and, against a previous batch, the third):

- novelty: the share of texts whose nearest training text (cosine of text vectors) is
  below a threshold calibrated on half of the test split (the cosine under which
  `drift.novelty_quantile` of those texts fall), with its 90% Wilson interval;
- distance: a domain classifier's cross-validated AUC (logistic regression on vectors,
  the batch against as many texts of the reference), beside the same AUC for slices of
  the other half of the test split against the training texts: what "no drift" gives. Shown, not
  deciding: a batch of one kind of text is told from the mixed training data with no new text in it
  (docs/drift.md);
- each behaviour's tag-rate change against the reference, with a 90% Newcombe interval;
- the phrases most over-represented against the reference (pipeline/training/phrases.py).

The training texts' vectors come from the embedding cache of labelled texts; the batch's
are computed in memory and never written anywhere.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.stats import norm

from pipeline.config import DriftParams, Params
from pipeline.data.rows import LabelledRow
from pipeline.data.split import load_split
from pipeline.encoders.cached import CachedEncoder
from pipeline.errors import InputError
from pipeline.io.exports import open_export
from pipeline.model.backend import model_encoder
from pipeline.model.folder import load_model
from pipeline.tagger import Tagger, embed_texts, tag_in_chunks
from pipeline.taxonomy import Taxonomy
from pipeline.text import EmptyAnswers
from pipeline.training.phrases import over_represented
from pipeline.training.train import extra_training_rows

LEVEL = 0.9  # every interval of the project is 90%
REFERENCE_DRAWS = 10  # test-split slices the reference AUC is measured on
AUC_FOLDS = 5
TRAINING_DATA = "training data"  # what a batch is compared with when no previous batch is given


@dataclass
class Texts:
    """Answered texts of one batch (or of the labelled data) and, per text, the behaviours tagged in it."""

    texts: list[str]
    tags: list[set[str]]
    answered: int  # answered texts in the whole file (texts and tags may be a sample of them)
    scored: bool  # tags read from `behaviours score` columns (False: tagged now)


@dataclass
class Reference:
    """What a batch is compared with, made from the labelled data and the model."""

    training_texts: list[str]
    training_vectors: np.ndarray
    calibration_nearest: np.ndarray  # half the test split: each text's nearest training cosine
    held_out_vectors: np.ndarray  # the other half: the reference AUC's "no drift" texts
    test: Texts  # the whole test split, tagged by the model


# --- statistics -------------------------------------------------------------------------


def wilson_interval(count: int, total: int, level: float = LEVEL) -> tuple[float, float]:
    """The Wilson score interval of a share `count / total`."""
    if total == 0:
        return 0.0, 1.0
    z = norm.ppf(0.5 + level / 2)
    share = count / total
    centre = (share + z * z / (2 * total)) / (1 + z * z / total)
    half = z * np.sqrt(share * (1 - share) / total + z * z / (4 * total * total)) / (1 + z * z / total)
    return max(0.0, float(centre - half)), min(1.0, float(centre + half))


def difference_interval(
    count: int, total: int, base_count: int, base_total: int, level: float = LEVEL
) -> tuple[float, float]:
    """Newcombe's hybrid score interval of `count/total - base_count/base_total` (two independent shares)."""
    share, base = count / max(total, 1), base_count / max(base_total, 1)
    low, high = wilson_interval(count, total, level)
    base_low, base_high = wilson_interval(base_count, base_total, level)
    difference = share - base
    return (
        float(difference - np.hypot(share - low, base_high - base)),
        float(difference + np.hypot(high - share, base - base_low)),
    )


def nearest_cosine(vectors: np.ndarray, reference: np.ndarray, block: int = 1024) -> np.ndarray:
    """Each (unit) vector's highest cosine to any reference vector."""
    if len(vectors) == 0:
        return np.zeros(0, dtype=np.float32)
    return np.concatenate([(vectors[i : i + block] @ reference.T).max(axis=1) for i in range(0, len(vectors), block)])


def domain_auc(batch: np.ndarray, reference: np.ndarray, seed: int) -> float:
    """Cross-validated ROC AUC of a logistic regression telling `batch` vectors from as many `reference` ones."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedKFold

    rng = np.random.default_rng(seed)
    size = min(len(batch), len(reference))
    X = np.vstack([
        batch[rng.choice(len(batch), size, replace=False)], reference[rng.choice(len(reference), size, replace=False)]
    ])
    y = np.r_[np.ones(size), np.zeros(size)]
    folds = StratifiedKFold(n_splits=min(AUC_FOLDS, size), shuffle=True, random_state=seed)
    scores = np.empty(len(y))
    for fit, held in folds.split(X, y):
        scores[held] = LogisticRegression(solver="liblinear").fit(X[fit], y[fit]).predict_proba(X[held])[:, 1]
    return float(roc_auc_score(y, scores))


def tag_rate_changes(batch: Texts, reference: Texts, ids: tuple[str, ...]) -> list[dict]:
    """Per behaviour: the batch's and the reference's tag rates, the change and its 90% interval."""
    changes = []
    for behaviour in ids:
        count = sum(behaviour in tags for tags in batch.tags)
        base = sum(behaviour in tags for tags in reference.tags)
        n, base_n = len(batch.tags), len(reference.tags)
        low, high = difference_interval(count, n, base, base_n)
        share, base_share = count / max(n, 1), base / max(base_n, 1)
        changes.append({
            "behaviour": behaviour, "batch": round(share, 4), "reference": round(base_share, 4),
            "change": round(share - base_share, 4), "interval_90": [round(low, 4), round(high, 4)],
        })
    return changes


def check_drift_params(params: DriftParams) -> None:
    """An `InputError` for `drift:` settings that cannot work, or that could print one person's phrase."""
    problems = [
        (not 0 < params.novelty_quantile < 1, "novelty_quantile must be between 0 and 1"),
        (not 0 <= params.review_novelty <= params.relabel_novelty <= 1,
         "review_novelty and relabel_novelty must be shares, review_novelty the smaller"),
        (params.min_documents < 2, "min_documents must be at least 2: a phrase of one text may identify its writer"),
        (params.min_texts < AUC_FOLDS, f"min_texts must be at least {AUC_FOLDS}"),
        (params.sample_size < params.min_texts, "sample_size must be at least min_texts"),
    ]
    for wrong, message in problems:
        if wrong:
            raise InputError(f"drift.{message} (configs/params.yaml)")


def verdict(figures: dict, params: DriftParams) -> tuple[str, str]:
    """`ok`, `review` or `relabel`, and why, in one line, from the figures (rules in docs/drift.md)."""
    novelty = figures["novelty"]
    low = novelty["interval_90"][0]
    far = (
        f"{novelty['share']:.1%} of texts are far from every training text (90% interval {low:.1%}–"
        f"{novelty['interval_90'][1]:.1%}; {novelty['expected_share']:.0%} expected)"
    )
    if low > params.relabel_novelty:
        return "relabel", f"{far}: above {params.relabel_novelty:.0%}, the model has not seen texts like these"
    if low > params.review_novelty:
        return "review", f"{far}: above {params.review_novelty:.0%}"
    if figures["against"] != TRAINING_DATA:
        moved = [c for c in figures["tag_rates"] if min(abs(x) for x in c["interval_90"]) > params.review_rate_change
                 and np.sign(c["interval_90"][0]) == np.sign(c["interval_90"][1])]
        if moved:
            largest = max(moved, key=lambda c: abs(c["change"]))
            return "review", (
                f"{len(moved)} behaviour(s) changed tag rate by more than {params.review_rate_change:.0%} "
                f"(largest: {largest['behaviour']} {largest['change']:+.0%})"
            )
    return "ok", far


# --- the reference ------------------------------------------------------------------------


def _half(text_id: str) -> str:
    """`calibration` or `held_out` for a test row, fixed by its id (half each, in expectation)."""
    return "calibration" if hashlib.sha256(f"drift\0{text_id}".encode()).digest()[0] % 2 == 0 else "held_out"


def held_out_test_rows(labelled: Path, taxonomy: Taxonomy) -> list[LabelledRow]:
    """The test rows never used to calibrate the novelty threshold: the "no drift" batches."""
    return [row for row in load_split(labelled, taxonomy).test if _half(row.id) == "held_out"]


def build_reference(
    labelled: Path, model_dir: Path, params: Params, taxonomy: Taxonomy, cache: Path
) -> tuple[Reference, Tagger]:
    """The training and test texts' vectors (through the embedding cache) and the model's tags on the test split;
    and a Tagger encoding with the model's own encoder (uncached) for the batch."""
    split = load_split(labelled, taxonomy)
    if not split.test:
        raise InputError(f"no test split in {labelled} (run `behaviours split`): drift is calibrated on it")
    model = load_model(model_dir, taxonomy.ids)
    if model.encoder.backend == "static":
        raise InputError(f"{model_dir} is a static model: drift compares the vectors of the transformer model "
                         "the static one is distilled from (give --model models/default)")
    encoder = model_encoder(model)
    cached = CachedEncoder(encoder, cache)
    cached_tagger = Tagger(model, encoder=cached, max_evidence=1, empty_values=params.score.empty_values)
    training = split.train + [row for rows in extra_training_rows(labelled, params, taxonomy).values() for row in rows]
    training_texts = list(dict.fromkeys(row.text for row in training))
    training_vectors = embed_texts(training_texts, cached_tagger.splitter, cached).text_vectors()
    test_vectors = embed_texts([row.text for row in split.test], cached_tagger.splitter, cached).text_vectors()
    halves = np.array([_half(row.id) for row in split.test])
    if min((halves == "calibration").sum(), (halves == "held_out").sum()) < AUC_FOLDS:
        raise InputError(f"the test split in {labelled} has {len(split.test)} rows; drift needs at least "
                         f"{AUC_FOLDS} in each half of it")
    results = tag_in_chunks(cached_tagger, [row.text for row in split.test], params.score.chunk_size)
    test = Texts([row.text for row in split.test], [set(r.behaviours) for r in results], len(split.test), True)
    reference = Reference(
        training_texts, training_vectors, nearest_cosine(test_vectors[halves == "calibration"], training_vectors),
        test_vectors[halves == "held_out"], test,
    )
    batch_tagger = Tagger(model, encoder=encoder, splitter=cached_tagger.splitter, max_evidence=1,
                          empty_values=params.score.empty_values)
    return reference, batch_tagger


# --- a batch ------------------------------------------------------------------------------


def _scored_prefix(columns: tuple[str, ...], column: str, single: bool) -> str | None:
    """The prefix of `column`'s `behaviours` and `status` columns in a scored file; None when it has none."""
    for prefix in (f"{column}__", *([""] if single else [])):
        if f"{prefix}behaviours" in columns and f"{prefix}status" in columns:
            return prefix
    return None


def _as_written(text: str) -> str:
    """A scored CSV's text cell as it was answered: without the apostrophe `score` puts before = + - @."""
    return text[1:] if text[:2] in ("'=", "'+", "'-", "'@") else text


def read_batch(
    path: Path, text_columns: list[str], params: Params, encoding: str | None = None, sheet: str | None = None
) -> Texts:
    """The answered texts of `text_columns` (every answer a text), with their tags when the file is scored;
    a sample of `drift.sample_size` (seed `drift.seed`) when there are more."""
    export = open_export(path, encoding, sheet)
    export.require(text_columns, "--text-column")
    prefixes = [_scored_prefix(export.columns, c, len(text_columns) == 1) for c in text_columns]
    scored = all(p is not None for p in prefixes)
    is_empty = EmptyAnswers(params.score.empty_values)
    texts, tags = [], []
    for chunk in export.chunks(params.score.chunk_size):
        for column, prefix in zip(text_columns, prefixes):
            for i, text in enumerate(chunk[column]):
                if is_empty(text) or (scored and str(chunk.at[i, f"{prefix}status"]) == "empty"):
                    continue
                texts.append(_as_written(str(text)) if scored else str(text))
                tags.append(set(str(chunk.at[i, f"{prefix}behaviours"] or "").split(";")) - {""} if scored else set())
    answered = len(texts)
    if answered < params.drift.min_texts:
        raise InputError(
            f"{path}: {answered} answered text(s) in {', '.join(text_columns)}; drift needs at least "
            f"{params.drift.min_texts} (drift.min_texts in params)"
        )
    if answered > params.drift.sample_size:
        rng = np.random.default_rng(params.drift.seed)
        keep = np.sort(rng.choice(answered, params.drift.sample_size, replace=False))
        texts, tags = [texts[i] for i in keep], [tags[i] for i in keep]
    return Texts(texts, tags, answered, scored)


def tagged(batch: Texts, tagger: Tagger, chunk_size: int) -> Texts:
    """The batch with the model's tags: as read when it was scored, else tagged now (in memory)."""
    if batch.scored:
        return batch
    results = tag_in_chunks(tagger, batch.texts, chunk_size)
    return Texts(batch.texts, [set(r.behaviours) for r in results], batch.answered, False)


def drift_figures(
    batch: Texts,
    batch_vectors: np.ndarray,
    reference: Reference,
    params: DriftParams,
    ids: tuple[str, ...],
    redact: Callable[[list[str]], list[str]],
    previous: tuple[Texts, np.ndarray] | None = None,
) -> dict:
    """Every figure of one batch against the training data (or against `previous`: texts and vectors); the verdict."""
    threshold = float(np.quantile(reference.calibration_nearest, params.novelty_quantile))
    far = int((nearest_cosine(batch_vectors, reference.training_vectors) < threshold).sum())
    low, high = wilson_interval(far, len(batch.texts))
    against_texts, against_vectors = previous if previous is not None else (reference.test, reference.training_vectors)
    phrase_reference = previous[0].texts if previous is not None else reference.training_texts
    size = min(len(batch_vectors), len(reference.held_out_vectors), len(against_vectors))
    rng = np.random.default_rng(params.seed)
    reference_aucs = [
        domain_auc(reference.held_out_vectors[rng.choice(len(reference.held_out_vectors), size, replace=False)],
                   reference.training_vectors, params.seed + k)
        for k in range(REFERENCE_DRAWS)
    ]
    sample = batch_vectors[rng.choice(len(batch_vectors), size, replace=False)]
    figures = {
        "against": TRAINING_DATA if previous is None else "previous batch",
        "texts": {"answered": batch.answered, "measured": len(batch.texts), "scored": batch.scored},
        "novelty": {
            "threshold_cosine": round(threshold, 4), "expected_share": params.novelty_quantile,
            "training_texts": len(reference.training_texts),
            "far": far, "share": round(far / len(batch.texts), 4), "interval_90": [round(low, 4), round(high, 4)],
        },
        "distance": {
            "against": "training texts" if previous is None else "previous batch",
            "domain_auc": round(domain_auc(sample, against_vectors, params.seed), 4), "texts_each": size,
            "reference_auc": round(float(np.mean(reference_aucs)), 4),
            "reference_auc_high": round(float(np.quantile(reference_aucs, 0.95)), 4),
        },
        "tag_rates": tag_rate_changes(batch, against_texts, ids),
        "phrases": over_represented(batch.texts, phrase_reference, redact, params.min_documents, params.max_phrases),
    }
    figures["verdict"], figures["reason"] = verdict(figures, params)
    return figures


def batch_vectors(batch: Texts, tagger: Tagger) -> np.ndarray:
    """The batch's text vectors, made in memory by the model's own encoder (never cached: personal data)."""
    return embed_texts(batch.texts, tagger.splitter, tagger.encoder).text_vectors()
