"""Are the evidence sentences the ones readers would point at? Precision against the readers' sentence labels.

    .venv/bin/python experiments/evidence_precision.py [--model models/default]

On the new writers' development part (the sealed final part is never read), every
text is tagged by the shipped tagger the way users score. For each behaviour it tags
that the text truly shows (more than half the votes), each evidence sentence it gives
is checked against the two readers' sentence labels: right when at least one reader
tagged that behaviour on that sentence, and "agreed" when both did. Evidence pieces
that are not whole sentences (a long sentence cut at the encoder's limit) are counted
apart. Baselines on the same tags: the text's first sentence, and a sentence drawn
at random. Results go to `experiments/evidence_precision.json`.
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

from pipeline.config import PROJECT_ROOT, load_params
from pipeline.data.pool import NEW_WRITERS, assign_part, load_pool
from pipeline.tagger import load_tagger, tag_in_chunks
from pipeline.taxonomy import load_taxonomy

RESULTS = PROJECT_ROOT / "experiments" / "evidence_precision.json"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=None)
    args = parser.parse_args()
    params, taxonomy = load_params(), load_taxonomy()
    texts, problems = load_pool(PROJECT_ROOT / "labelled" / NEW_WRITERS, taxonomy)
    if problems:
        raise SystemExit(f"{len(problems)} problem(s) in the new writers' batches, first: {problems[0]}")
    development = [t for t in texts if assign_part(t.id) == "dev" and t.sentences and len(t.votes) >= 3]
    tagger = load_tagger(args.model, params, taxonomy.ids)
    results = tag_in_chunks(tagger, [t.text for t in development], params.score.chunk_size)
    rng = random.Random(13)
    counts = {"evidence": 0, "right": 0, "agreed": 0, "not_a_sentence": 0, "first_right": 0, "random_right": 0, "tags": 0}
    multi = dict.fromkeys(counts, 0)  # the same, on texts of two or more sentences only
    for text, result in zip(development, results):
        truth = text.majority_labels()
        for behaviour in result.behaviours:
            if behaviour not in truth:
                continue
            shares = text.sentence_shares(behaviour)
            tallies = [counts] + ([multi] if len(text.sentences) > 1 else [])
            for tally in tallies:
                tally["tags"] += 1
                tally["first_right"] += shares[0] > 0
                tally["random_right"] += shares[rng.randrange(len(shares))] > 0
            for item in (e for e in result.evidence if e["behaviour"] == behaviour):
                if item["sentence"] not in text.sentences:
                    for tally in tallies:
                        tally["not_a_sentence"] += 1
                    continue
                share = shares[text.sentences.index(item["sentence"])]
                for tally in tallies:
                    tally["evidence"] += 1
                    tally["right"] += share > 0
                    tally["agreed"] += share == 1.0

    def figures(tally: dict) -> dict:
        return {
            **tally,
            "precision": round(tally["right"] / tally["evidence"], 4) if tally["evidence"] else None,
            "precision_both_readers": round(tally["agreed"] / tally["evidence"], 4) if tally["evidence"] else None,
            "first_sentence_baseline": round(tally["first_right"] / tally["tags"], 4) if tally["tags"] else None,
            "random_sentence_baseline": round(tally["random_right"] / tally["tags"], 4) if tally["tags"] else None,
        }

    report = {"texts": len(development), "all": figures(counts), "notes_of_two_or_more_sentences": figures(multi)}
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))
    print(f"written {RESULTS.relative_to(PROJECT_ROOT)}")


if __name__ == "__main__":
    main()
