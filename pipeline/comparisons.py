"""Models trained on purpose-made subsets, to ask how the product generalises.

- Leave one register out: for each register users score, train on every training
  row of the other registers and evaluate on every row of the left-out one (none of
  them seen), the closest this data gets to text written in a way nobody labelled.
- Brainstorm only: train on the brainstorm comments and the framework's
  descriptions alone (the labelled data that existed before this project) and
  evaluate on the test split, to show what the authored data adds.

Both train with the same parameters as the product model, each on a fresh
encoder (fine-tuning merges its adapter into the encoder it is given).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from pipeline.config import Params
from pipeline.data import USER_REGISTERS, LabelledRow
from pipeline.encode import Encoder
from pipeline.evaluate import tagger_report
from pipeline.tagger import Tagger
from pipeline.taxonomy import Taxonomy
from pipeline.text import SentenceSplitter
from pipeline.train import fit_model

BASELINE_REGISTERS = ("brainstorm", "framework")


def train_and_evaluate(
    train_rows: list[LabelledRow],
    eval_rows: list[LabelledRow],
    params: Params,
    taxonomy: Taxonomy,
    new_encoder: Callable[[], Encoder],
    splitter: SentenceSplitter,
) -> dict:
    """Train on one set of rows and report on another, through the tagger users score with."""
    encoder = new_encoder()
    model, _ = fit_model(train_rows, params, taxonomy, encoder, splitter)
    tagger = Tagger(model, encoder=encoder, splitter=splitter)
    return tagger_report(tagger, eval_rows, taxonomy, params.score.chunk_size)


def leave_register_out(
    train_rows: list[LabelledRow],
    all_rows: list[LabelledRow],
    params: Params,
    taxonomy: Taxonomy,
    new_encoder: Callable[[], Encoder],
    splitter: SentenceSplitter,
) -> dict[str, dict]:
    """For each user register: trained without it (training rows only), evaluated on all of its rows."""
    reports = {}
    for register in USER_REGISTERS:
        kept = [r for r in train_rows if r.register != register]
        left_out = [r for r in all_rows if r.register == register]
        reports[register] = train_and_evaluate(kept, left_out, params, taxonomy, new_encoder, splitter)
    return reports


def brainstorm_only(
    train_rows: list[LabelledRow],
    test_rows: list[LabelledRow],
    params: Params,
    taxonomy: Taxonomy,
    new_encoder: Callable[[], Encoder],
    splitter: SentenceSplitter,
) -> dict:
    """Trained on the brainstorm and framework training rows alone, evaluated on the test split.

    Some behaviours have only a handful of brainstorm rows, so cross-validation uses
    3 folds here.
    """
    baseline_rows = [r for r in train_rows if r.register in BASELINE_REGISTERS]
    baseline_params = dataclasses.replace(params, train=dataclasses.replace(params.train, cv_folds=3))
    return train_and_evaluate(baseline_rows, test_rows, baseline_params, taxonomy, new_encoder, splitter)
