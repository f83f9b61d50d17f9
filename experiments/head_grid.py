"""The grid behind the head's settings in configs/params.yaml (docs/decisions.md).

    .venv/bin/python experiments/head_grid.py

Embeds the labelled data once, then for each (aggregation, C, class_weight) prints
the cross-validated figures on the training rows (what the choice is made on) and
the held-out test figures (shown, not chosen on). About 6 minutes on 2 cores.
"""

from __future__ import annotations

import dataclasses
import itertools

from pipeline.config import PROJECT_ROOT, load_params
from pipeline.data.rows import label_matrix
from pipeline.data.split import load_split
from pipeline.encoders.load import load_encoder
from pipeline.model.heads import make_head
from pipeline.tagger import embed_texts
from pipeline.taxonomy import load_taxonomy
from pipeline.text import SentenceSplitter
from pipeline.training.fit import (
    choose_thresholds,
    gated,
    out_of_fold_probabilities,
    text_probabilities,
    with_any_column,
)
from pipeline.training.metrics import multilabel_metrics


def main() -> None:
    params, taxonomy = load_params(), load_taxonomy()
    _, train, test = load_split(PROJECT_ROOT / "labelled", taxonomy)
    encoder, splitter = load_encoder(params.encoder), SentenceSplitter(params.text)
    train_emb = embed_texts([r.text for r in train], splitter, encoder)
    test_emb = embed_texts([r.text for r in test], splitter, encoder)
    Y_train, Y_test = label_matrix(train, taxonomy), label_matrix(test, taxonomy)
    print("aggregation  C     class_weight | CV macro-F1  CV none-untagged | test macro-F1  test none-untagged")
    for aggregation, C, class_weight in itertools.product(("text", "max"), (0.5, 1, 2, 4, 8, 16), ("balanced", None)):
        train_params = dataclasses.replace(params.train, aggregation=aggregation, C=C, class_weight=class_weight)
        p = dataclasses.replace(params, train=train_params)
        oof, _ = out_of_fold_probabilities(train_emb, with_any_column(Y_train), p)
        thresholds, gate = choose_thresholds(Y_train, oof, p, taxonomy.ids)
        cv = multilabel_metrics(Y_train, gated(oof, thresholds, gate), taxonomy.ids)
        head = make_head(p.train).fit(train_emb.text_vectors(), with_any_column(Y_train))
        test_probs = text_probabilities(head, test_emb, aggregation)
        held = multilabel_metrics(Y_test, gated(test_probs, thresholds, gate), taxonomy.ids)
        print(
            f"{aggregation:11}  {C:<5} {str(class_weight):12} | {cv['macro_f1']:11.3f}  {cv['none_untagged']:16.3f} |"
            f" {held['macro_f1']:13.3f}  {held['none_untagged']:17.3f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
