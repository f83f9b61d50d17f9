"""Evaluate a tagger on labelled rows, tagging them the way users score (in chunks, with polarity)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.data.rows import LabelledRow, label_matrix
from pipeline.io.files import atomic_write_text, write_table
from pipeline.tagger import Tagger, result_matrices, tag_in_chunks
from pipeline.taxonomy import Taxonomy
from pipeline.training.metrics import evaluation_figures, plot_tables, polarity_figures


@dataclass
class Evaluation:
    """A tagger's figures on labelled rows, and the matrices they came from (for the plot tables)."""

    figures: dict
    truth: np.ndarray
    predicted: np.ndarray
    scores: np.ndarray


def evaluate_tagger(tagger: Tagger, rows: list[LabelledRow], taxonomy: Taxonomy, chunk_size: int) -> Evaluation:
    """Tag the rows as users score (`chunk_size` at a time) and measure tags and polarity against their labels."""
    results = tag_in_chunks(tagger, [r.text for r in rows], chunk_size)
    predicted, scores = result_matrices(results, taxonomy.ids)
    truth = label_matrix(rows, taxonomy)
    figures = evaluation_figures(truth, predicted, [r.register for r in rows], taxonomy)
    figures["polarity"] = polarity_figures(rows, results)
    return Evaluation(figures, truth, predicted, scores)


def tagger_figures(tagger: Tagger, rows: list[LabelledRow], taxonomy: Taxonomy, chunk_size: int) -> dict:
    """The evaluation figures of a tagger on labelled rows, tagged the way users score, with polarity."""
    return evaluate_tagger(tagger, rows, taxonomy, chunk_size).figures


def write_evaluation(evaluation: Evaluation, taxonomy: Taxonomy, metrics: Path | None, plots: Path | None) -> None:
    """The figures as JSON to `metrics`, and the plot data as CSV files into `plots` (each when given)."""
    if metrics is not None:
        metrics.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(metrics, json.dumps(evaluation.figures, indent=2) + "\n")
    if plots is not None:
        tables = plot_tables(evaluation.truth, evaluation.scores, evaluation.predicted, taxonomy)
        for name, table in tables.items():
            (plots / name).parent.mkdir(parents=True, exist_ok=True)
            write_table(pd.DataFrame(table), plots / f"{name}.csv")
