"""Does the pool teach? Macro-F1 on text no model saw, as pool texts are added to the gold training rows.

    .venv/bin/python experiments/learning_curve.py [--fractions 0 0.25 0.5 1]

Training rows are the gold rows outside the fixed test split plus a share of the
fully voted pool texts (labels: the behaviours more than half the votes carry, as
`labelled/README.md` explains), drawn at random with a fixed seed; the pool's
excluded texts never enter. Two models are trained at each share, with the product's
parameters and no setting chosen on any evaluation set:

- `frozen`: the product's head (logistic regression per behaviour on frozen MiniLM,
  sentence max, thresholds and gate from 5-fold out-of-fold predictions), tagging as
  users score;
- `tfidf+minilm`: one logistic regression per behaviour over TF-IDF word 1–2-grams
  beside the MiniLM text vector, thresholds and gate chosen the same way.

Both are scored on the gold test split and the new writers' development part, with
90% bootstrap intervals (1,000 resamples of texts). The sealed final part is never
read. Results go to `experiments/learning_curve.json`. Fine-tuning the encoder
(the shipped SetFit-style model) is left out: one fit on the whole pool takes longer
than the whole curve.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import random
import time

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold

from pipeline.config import PROJECT_ROOT, load_params
from pipeline.data.pool import gold_rows, load_pool
from pipeline.data.rows import label_matrix, load_labelled
from pipeline.data.split import load_split
from pipeline.encoders.cached import cached_encoder
from pipeline.tagger import Tagger, embed_texts
from pipeline.taxonomy import load_taxonomy
from pipeline.text import SentenceSplitter
from pipeline.training.evaluate import evaluate_tagger
from pipeline.training.fit import choose_thresholds, fit_model, gated, with_any_column
from pipeline.training.metrics import bootstrap_interval, macro_f1

LABELLED = PROJECT_ROOT / "labelled"
CACHE = PROJECT_ROOT / ".cache" / "embeddings.sqlite3"
RESULTS = PROJECT_ROOT / "experiments" / "learning_curve.json"


class TfidfMiniLM:
    """Logistic regression per column over [TF-IDF 1–2-grams ⊕ MiniLM text vector]."""

    def __init__(self, C: float, seed: int) -> None:
        self.C, self.seed = C, seed

    def _features(self, texts: list[str], vectors: np.ndarray, fit: bool = False) -> sparse.csr_matrix:
        if fit:
            self.tfidf = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True, strip_accents="unicode")
            words = self.tfidf.fit_transform(texts)
        else:
            words = self.tfidf.transform(texts)
        return sparse.hstack([words, sparse.csr_matrix(vectors)]).tocsr()

    def fit(self, texts: list[str], vectors: np.ndarray, Y: np.ndarray) -> "TfidfMiniLM":
        X = self._features(texts, vectors, fit=True)
        self.columns = [
            LogisticRegression(C=self.C, max_iter=2000, random_state=self.seed).fit(X, Y[:, j]) if 0 < Y[:, j].sum() < len(Y) else None
            for j in range(Y.shape[1])
        ]
        return self

    def predict_proba(self, texts: list[str], vectors: np.ndarray) -> np.ndarray:
        X = self._features(texts, vectors)
        return np.column_stack(
            [model.predict_proba(X)[:, 1] if model is not None else np.zeros(X.shape[0]) for model in self.columns]
        )


def fit_tfidf_minilm(texts, vectors, Y, params, ids) -> tuple[TfidfMiniLM, np.ndarray, float]:
    """The model on all rows, with thresholds and gate chosen on 5-fold out-of-fold probabilities."""
    Y_any = with_any_column(Y)
    first_label = np.where(Y.any(axis=1), Y.argmax(axis=1), -1)
    folds = StratifiedKFold(n_splits=params.train.cv_folds, shuffle=True, random_state=params.train.seed)
    oof = np.zeros(Y_any.shape)
    for fit_idx, held_idx in folds.split(vectors, first_label):
        fold = TfidfMiniLM(params.train.C, params.train.seed).fit([texts[i] for i in fit_idx], vectors[fit_idx], Y_any[fit_idx])
        oof[held_idx] = fold.predict_proba([texts[i] for i in held_idx], vectors[held_idx])
    thresholds, gate = choose_thresholds(Y, oof, params, ids)
    return TfidfMiniLM(params.train.C, params.train.seed).fit(texts, vectors, Y_any), thresholds, gate


def figures(truth: np.ndarray, predicted: np.ndarray) -> dict:
    low, high = bootstrap_interval(truth, predicted)
    none = ~truth.any(axis=1)
    return {
        "macro_f1": round(macro_f1(truth, predicted), 4),
        "interval_90": [round(low, 4), round(high, 4)],
        "none_untagged": round(float((~predicted.any(axis=1))[none].mean()), 4) if none.any() else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fractions", type=float, nargs="+", default=[0.0, 0.25, 0.5, 1.0])
    args = parser.parse_args()

    base, taxonomy = load_params(), load_taxonomy()
    params = dataclasses.replace(base, finetune=dataclasses.replace(base.finetune, epochs=0))
    split = load_split(LABELLED, taxonomy)
    pool_texts, problems = load_pool(LABELLED / "pool", taxonomy)
    voted = [text for text in pool_texts if len(text.votes) >= 3]
    pool = gold_rows(voted, "labelled/pool")
    development = load_labelled([LABELLED / "newwriters" / "dev.csv"], taxonomy)
    print(f"gold training rows {len(split.train)}, pool texts with three votes {len(pool)} "
          f"(of {len(pool_texts)}; {len(problems)} batch problems), test {len(split.test)}, development {len(development)}")

    encoder = cached_encoder(params.encoder, CACHE)
    splitter = SentenceSplitter(params.text)
    sets = {"test": split.test, "development": development}
    set_vectors = {name: embed_texts([r.text for r in rows], splitter, encoder).text_vectors() for name, rows in sets.items()}
    order = list(range(len(pool)))
    random.Random(params.train.seed).shuffle(order)
    results = []
    for fraction in args.fractions:
        rows = split.train + [pool[i] for i in order[: round(fraction * len(pool))]]
        Y = label_matrix(rows, taxonomy)
        texts = [r.text for r in rows]
        started = time.perf_counter()
        model, _ = fit_model(rows, params, taxonomy, encoder, splitter)
        tagger = Tagger(model, encoder=encoder, splitter=splitter)
        frozen = {name: evaluate_tagger(tagger, set_rows, taxonomy, params.score.chunk_size) for name, set_rows in sets.items()}
        frozen_seconds = time.perf_counter() - started
        started = time.perf_counter()
        vectors = embed_texts(texts, splitter, encoder).text_vectors()
        stack, thresholds, gate = fit_tfidf_minilm(texts, vectors, Y, params, taxonomy.ids)
        stacked = {
            name: gated(stack.predict_proba([r.text for r in set_rows], set_vectors[name]), thresholds, gate)
            for name, set_rows in sets.items()
        }
        stack_seconds = time.perf_counter() - started
        step = {
            "pool_fraction": fraction,
            "training_rows": len(rows),
            "pool_rows": len(rows) - len(split.train),
            "frozen": {name: figures(e.truth, e.predicted) for name, e in frozen.items()},
            "tfidf+minilm": {name: figures(label_matrix(sets[name], taxonomy), p) for name, p in stacked.items()},
            "seconds": {"frozen": round(frozen_seconds), "tfidf+minilm": round(stack_seconds)},
        }
        results.append(step)
        print(json.dumps(step))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({"pool_texts_with_three_votes": len(pool), "steps": results}, indent=2) + "\n")
    print(f"written {RESULTS.relative_to(PROJECT_ROOT)}")


if __name__ == "__main__":
    main()
