"""Two or more trained models averaged: is the ensemble a better teacher than either alone?

    .venv/bin/python experiments/ensemble.py --model models/default --model models/mpnet

Every model is tagged on the new writers' development part (where choices are made) and on
the test split, the way users score. The ensemble's score for a behaviour is the mean of the
models' scores (each already rescaled so that its own threshold, and its gate's, sit at 0.5),
and it tags where that mean reaches 0.5: no threshold is refitted, so nothing is tuned on
these sets. A behaviour it tags is read as a strength or a gap by the mean P(strength) of the
models that tagged it. Probabilities are averaged too (for calibration). The models must have
been trained on the same rows (their cards' training-data fingerprints are compared). Results
go to `experiments/ensemble.json`.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from pipeline.config import PROJECT_ROOT, load_params
from pipeline.data.pool import DEVELOPMENT_FILE, NEW_WRITERS
from pipeline.data.rows import LabelledRow, load_labelled
from pipeline.data.split import load_split
from pipeline.tagger import TagResult, load_tagger, tag_in_chunks
from pipeline.taxonomy import load_taxonomy
from pipeline.training.evaluate import evaluate_results
from pipeline.training.metrics import headline_figures

RESULTS = PROJECT_ROOT / "experiments" / "ensemble.json"


def averaged(per_model: list[list[TagResult]], ids: tuple[str, ...]) -> list[TagResult]:
    """Each text's results from every model, averaged into one: tagged where the mean score reaches 0.5."""
    out = []
    for results in zip(*per_model):
        if results[0].status != "ok":
            out.append(results[0])
            continue
        scores = {b: float(np.mean([r.scores[b] for r in results])) for b in ids}
        tagged = sorted((b for b in ids if scores[b] >= 0.5), key=lambda b: -scores[b])
        polarity = {b: float(np.mean([r.polarity[b] for r in results if b in r.polarity])) for b in tagged}
        out.append(
            TagResult(
                status="ok",
                behaviours=tagged,
                strengths=[b for b in tagged if polarity[b] >= 0.5],
                gaps=[b for b in tagged if polarity[b] < 0.5],
                scores=scores,
                probabilities={b: float(np.mean([r.probabilities[b] for r in results])) for b in ids},
                polarity=polarity,
            )
        )
    return out


def summary(figures: dict) -> dict:
    headline = headline_figures(figures)
    return {
        key: headline[key] for key in ("macro_f1", "macro_f1_interval_90", "none_untagged", "per_register", "polarity")
    } | {"expected_calibration_error": round(figures["calibration"]["expected_calibration_error"], 4)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, action="append", required=True, help="A model folder (two or more).")
    args = parser.parse_args()
    if len(args.model) < 2:
        raise SystemExit("give two or more --model folders")
    params, taxonomy = load_params(), load_taxonomy()
    taggers = [load_tagger(folder, params, taxonomy.ids) for folder in args.model]
    fingerprints = {t.model.card["training_data"]["sha256"] for t in taggers}
    if len(fingerprints) != 1:
        raise SystemExit("the models were trained on different rows: retrain them on the same labelled/")
    labelled = PROJECT_ROOT / "labelled"
    sets: dict[str, list[LabelledRow]] = {
        "development": load_labelled([labelled / NEW_WRITERS / DEVELOPMENT_FILE], taxonomy),
        "test": load_split(labelled, taxonomy).test,
    }
    report: dict = {"models": [str(folder) for folder in args.model]}
    for name, rows in sets.items():
        texts = [r.text for r in rows]
        per_model, seconds = [], []
        for tagger in taggers:
            start = time.perf_counter()
            per_model.append(tag_in_chunks(tagger, texts, params.score.chunk_size))
            seconds.append(round(time.perf_counter() - start, 1))
        report[name] = {
            str(folder): summary(evaluate_results(results, rows, taxonomy).figures) | {"tagging_seconds": s}
            for folder, results, s in zip(args.model, per_model, seconds)
        }
        report[name]["ensemble"] = summary(evaluate_results(averaged(per_model, taxonomy.ids), rows, taxonomy).figures)
        print(name, {model: figures["macro_f1"] for model, figures in report[name].items()})
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")
    print(f"written {RESULTS.relative_to(PROJECT_ROOT)}")


if __name__ == "__main__":
    main()
