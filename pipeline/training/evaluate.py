"""Evaluate a tagger on labelled rows, tagging them the way users score (in chunks, with polarity)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.data.pairs import KINDS, ContrastPair
from pipeline.data.rows import LabelledRow, label_matrix
from pipeline.io.files import atomic_write_text, write_table
from pipeline.tagger import TagResult, Tagger, probability_matrix, result_matrices, tag_in_chunks
from pipeline.taxonomy import Taxonomy
from pipeline.training.metrics import calibration_figures, evaluation_figures, plot_tables, polarity_figures, share_interval


@dataclass
class Evaluation:
    """A tagger's figures on labelled rows, and the matrices they came from (for the plot tables)."""

    figures: dict
    truth: np.ndarray
    predicted: np.ndarray
    scores: np.ndarray
    probabilities: np.ndarray


def evaluate_tagger(tagger: Tagger, rows: list[LabelledRow], taxonomy: Taxonomy, chunk_size: int) -> Evaluation:
    """Tag the rows as users score (`chunk_size` at a time) and measure tags and polarity against their labels."""
    return evaluate_results(tag_in_chunks(tagger, [r.text for r in rows], chunk_size), rows, taxonomy)


def evaluate_results(results: list[TagResult], rows: list[LabelledRow], taxonomy: Taxonomy) -> Evaluation:
    """Tags and polarity, already given for each row, measured against the rows' labels."""
    predicted, scores = result_matrices(results, taxonomy.ids)
    truth = label_matrix(rows, taxonomy)
    figures = evaluation_figures(truth, predicted, [r.register for r in rows], taxonomy)
    figures["polarity"] = polarity_figures(rows, results)
    probabilities = probability_matrix(results, taxonomy.ids)
    figures["calibration"] = calibration_figures(truth, probabilities)
    return Evaluation(figures, truth, predicted, scores, probabilities)


def tagger_figures(tagger: Tagger, rows: list[LabelledRow], taxonomy: Taxonomy, chunk_size: int) -> dict:
    """The evaluation figures of a tagger on labelled rows, tagged the way users score, with polarity."""
    return evaluate_tagger(tagger, rows, taxonomy, chunk_size).figures


def write_evaluation(evaluation: Evaluation, taxonomy: Taxonomy, metrics: Path | None, plots: Path | None) -> None:
    """The figures as JSON to `metrics`, and the plot data as CSV files into `plots` (each when given)."""
    if metrics is not None:
        metrics.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(metrics, json.dumps(evaluation.figures, indent=2) + "\n")
    if plots is not None:
        tables = plot_tables(evaluation.truth, evaluation.scores, evaluation.probabilities, evaluation.predicted, taxonomy)
        for name, table in tables.items():
            (plots / name).parent.mkdir(parents=True, exist_ok=True)
            write_table(pd.DataFrame(table), plots / f"{name}.csv")


def ranked_right(pair: ContrastPair, a: TagResult, z: TagResult) -> bool:
    """Does the tagger tell the pair's two texts apart the way its kind says?

    - presence: the behaviour scores higher in A than in Z;
    - confusable: A leans more to the behaviour, against the other one, than Z does
      (score of the behaviour minus score of the other);
    - polarity: the behaviour is tagged in both texts and P(strength) is higher in the
      text that shows it as a strength (a pair the tagger cannot read at all is wrong).
    """
    b = pair.behaviour
    if pair.kind == "presence":
        return a.scores[b] > z.scores[b]
    if pair.kind == "confusable":
        return a.scores[b] - a.scores[pair.other] > z.scores[b] - z.scores[pair.other]
    if b not in a.polarity or b not in z.polarity:
        return False
    return (a.polarity[b] > z.polarity[b]) == (pair.polarity_a == "+")


def pair_figures(tagger: Tagger, pairs: list[ContrastPair], chunk_size: int) -> dict:
    """The share of pairs ranked the right way round, overall and per kind, with 90% bootstrap intervals."""
    results = tag_in_chunks(tagger, [p.text_a for p in pairs] + [p.text_z for p in pairs], chunk_size)
    right = np.array([ranked_right(p, a, z) for p, a, z in zip(pairs, results[: len(pairs)], results[len(pairs) :])])
    kinds = np.array([p.kind for p in pairs])

    def share(flags: np.ndarray) -> dict:
        low, high = share_interval(flags) if len(flags) else (None, None)
        return {"pairs": int(len(flags)), "right": int(flags.sum()), "share": float(flags.mean()) if len(flags) else None, "interval_90": [low, high]}

    polarity = [(p, a, z) for p, a, z in zip(pairs, results[: len(pairs)], results[len(pairs) :]) if p.kind == "polarity"]
    figures = share(right) | {"per_kind": {kind: share(right[kinds == kind]) for kind in KINDS}}
    figures["per_kind"]["polarity"]["found_in_both"] = sum(p.behaviour in a.polarity and p.behaviour in z.polarity for p, a, z in polarity)
    return figures
