"""Where `behaviours drift` should draw its lines: the spread of its figures on batches with no drift.

    .venv/bin/python experiments/drift_thresholds.py [--draws 200] [--sizes 60 120 190]

A "no drift" batch is a slice of the held-out half of the test split (texts never trained on,
and never used to calibrate the novelty threshold), drawn without replacement at each size
(with replacement past the half's size). For each slice: the far share, the lower end of its
90% Wilson interval, and the domain classifier's AUC against as many training texts; and the
AUC of each register's test rows alone (a batch of one kind of text, with no drift). The thresholds in `configs/params.yaml`
(`drift:`) sit above the 99th percentile of these; docs/drift.md gives the figures. Results
go to `experiments/drift_thresholds.json`.
"""

from __future__ import annotations

import argparse
import json

import numpy as np

from pipeline.config import PROJECT_ROOT, load_params
from pipeline.data.split import load_split
from pipeline.encoders.cached import CachedEncoder
from pipeline.encoders.load import load_encoder
from pipeline.tagger import embed_texts
from pipeline.text import SentenceSplitter
from pipeline.taxonomy import load_taxonomy
from pipeline.training.drift import build_reference, domain_auc, nearest_cosine, wilson_interval

RESULTS = PROJECT_ROOT / "experiments" / "drift_thresholds.json"


def _one_register_aucs(training_vectors: np.ndarray, params, draws: int) -> dict:
    """The domain AUC of the test rows of one register against the training texts: a batch of one kind of text."""
    split = load_split(PROJECT_ROOT / "labelled", load_taxonomy())
    encoder = CachedEncoder(load_encoder(params.encoder), PROJECT_ROOT / ".cache" / "embeddings.sqlite3")
    vectors = embed_texts([row.text for row in split.test], SentenceSplitter(params.text), encoder).text_vectors()
    registers = np.array([row.register for row in split.test])
    return {
        register: {"texts": int((registers == register).sum()), "domain_auc_median": round(float(np.median(
            [domain_auc(vectors[registers == register], training_vectors, seed) for seed in range(draws)])), 4)}
        for register in sorted(set(registers)) if (registers == register).sum() >= 30
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=200)
    parser.add_argument("--sizes", type=int, nargs="+", default=[60, 120, 200])
    options = parser.parse_args()
    params = load_params()
    reference, _ = build_reference(
        PROJECT_ROOT / "labelled", PROJECT_ROOT / "models" / "default", params, load_taxonomy(),
        PROJECT_ROOT / ".cache" / "embeddings.sqlite3",
    )
    threshold = float(np.quantile(reference.calibration_nearest, params.drift.novelty_quantile))
    held_out = reference.held_out_vectors
    far = nearest_cosine(held_out, reference.training_vectors) < threshold
    rng = np.random.default_rng(params.drift.seed)
    results = {
        "threshold_cosine": threshold, "calibration_texts": len(reference.calibration_nearest),
        "held_out_texts": len(held_out), "held_out_far_share": float(far.mean()), "sizes": {},
    }
    for size in options.sizes:
        shares, lows, aucs = [], [], []
        for draw in range(options.draws):
            slice_ = rng.choice(len(held_out), size, replace=size > len(held_out))
            count = int(far[slice_].sum())
            shares.append(count / size)
            lows.append(wilson_interval(count, size)[0])
            aucs.append(domain_auc(held_out[slice_], reference.training_vectors, draw))
        results["sizes"][size] = {
            name: {q: round(float(np.quantile(values, q / 100)), 4) for q in (50, 95, 99)}
            | {"max": round(max(values), 4)}
            for name, values in (("far_share", shares), ("far_share_low", lows), ("domain_auc", aucs))
        }
    results["one_register"] = _one_register_aucs(reference.training_vectors, params, draws=20)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
