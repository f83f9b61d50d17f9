"""Two or more trained models averaged: is the ensemble a better teacher than either alone?

    .venv/bin/python experiments/ensemble.py --model models/default --model models/mpnet

Every model is tagged on the new writers' development part (where choices are made) and on
the test split, the way users score, and so is their ensemble (`EnsembleTagger`, as
`models/ensemble/` ships it): a behaviour is tagged where the mean of the models' scores
reaches 0.5, so no threshold is refitted and nothing is tuned on these sets. The models must
have been trained on the same rows (their cards' training-data fingerprints are compared).
Results go to `experiments/ensemble.json`.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from pipeline.config import PROJECT_ROOT, load_params
from pipeline.data.pool import DEVELOPMENT_FILE, NEW_WRITERS
from pipeline.data.rows import LabelledRow, load_labelled
from pipeline.data.split import load_split
from pipeline.tagger import EnsembleTagger, load_tagger, tag_in_chunks
from pipeline.taxonomy import load_taxonomy
from pipeline.training.evaluate import evaluate_results
from pipeline.training.metrics import headline_figures

RESULTS = PROJECT_ROOT / "experiments" / "ensemble.json"


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
    fingerprints = {t.card["training_data"]["sha256"] for t in taggers}
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
        report[name] = {}
        for label, tagger in [*zip(map(str, args.model), taggers), ("ensemble", EnsembleTagger(taggers, card={}))]:
            start = time.perf_counter()
            results = tag_in_chunks(tagger, texts, params.score.chunk_size)
            seconds = round(time.perf_counter() - start, 1)
            report[name][label] = summary(evaluate_results(results, rows, taxonomy).figures) | {"tagging_seconds": seconds}
        print(name, {model: figures["macro_f1"] for model, figures in report[name].items()})
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")
    print(f"written {RESULTS.relative_to(PROJECT_ROOT)}")


if __name__ == "__main__":
    main()
