"""How a behaviour's polarity in a text is read: the whole text, its best evidence sentence, or both.

    .venv/bin/python experiments/polarity_aggregation.py

Tags the held-out test split once with the shipped model for each of
`POLARITY_AGGREGATIONS` (pipeline/tagger.py) and prints strength-or-gap accuracy and
macro-F1 on the labelled pairs whose behaviour was found, overall and on the pairs
from texts that carry both a strength and a gap (where the choice matters most).
The behaviours found are the same for every row: only polarity changes. About a
minute on 2 cores.
"""

from __future__ import annotations

import dataclasses

from pipeline.config import PROJECT_ROOT, load_params
from pipeline.data.split import load_split
from pipeline.model.folder import load_model
from pipeline.tagger import POLARITY_AGGREGATIONS, Tagger, tag_in_chunks
from pipeline.taxonomy import load_taxonomy
from pipeline.text import SentenceSplitter
from pipeline.training.metrics import polarity_figures


def main() -> None:
    params, taxonomy = load_params(), load_taxonomy()
    test = load_split(PROJECT_ROOT / "labelled", taxonomy).test
    mixed = [r for r in test if {"+", "-"} <= set(r.polarity)]
    model = load_model(PROJECT_ROOT / "models" / "default", taxonomy.ids)
    tagger = Tagger(model, splitter=SentenceSplitter(params.text))
    print(f"test texts {len(test)}, of which {len(mixed)} hold both a strength and a gap")
    print(f"{'aggregation':<12}{'accuracy':>10}{'macro-F1':>10}{'pairs found':>13}{'mixed: accuracy':>17}")
    for how in POLARITY_AGGREGATIONS:
        tagger.model = dataclasses.replace(model, polarity_aggregation=how)
        results = tag_in_chunks(tagger, [r.text for r in test], params.score.chunk_size)
        overall = polarity_figures(test, results)
        on_mixed = polarity_figures(mixed, [result for row, result in zip(test, results) if row in mixed])
        shipped = "  (shipped)" if how == model.polarity_aggregation else ""
        print(
            f"{how:<12}{overall['accuracy']:>10.3f}{overall['macro_f1']:>10.3f}{overall['found']:>13}"
            f"{on_mixed['accuracy']:>17.3f}{shipped}"
        )


if __name__ == "__main__":
    main()
